"""PowerShell parse pre-check for every .ps1/.psm1 of the collection (no pwsh on these machines).

tree-sitter-pwsh parses PowerShell and catches gross syntax errors (unbalanced braces, broken
strings, stray tokens). Its grammar has a few false positives on valid code: on the official Windows
collections, 7 of 133 known-good files (e.g. a param() block followed by a statement on the same
line). A file of ours that hits one goes into FALSE_POSITIVES with the reason; the entry must keep
failing the parser, so the list cannot rot. Real validation happens on Windows (molecule/windows).
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

import pytest
# dev requirements (requirements-dev.txt): a missing parser fails the suite, it never skips it
import tree_sitter
import tree_sitter_pwsh

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(
    p for pattern in ("plugins/**/*.ps1", "plugins/**/*.psm1", "roles/**/*.ps1", "roles/**/*.psm1",
                      "molecule/**/*.ps1")
    for p in glob.glob(str(ROOT / pattern), recursive=True)
)
#: relative path -> why the parser is wrong about it (keep each entry short and specific).
FALSE_POSITIVES: dict[str, str] = {}

PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_pwsh.language()))


def syntax_errors(source: bytes) -> list[str]:
    """'line N: <text>' for every ERROR or MISSING node (1-based lines)."""
    found = []

    def walk(node):
        if node.type == "ERROR" or node.is_missing:
            text = source[node.start_byte:node.end_byte].decode("utf-8", "replace").splitlines() or [""]
            found.append("line %d: %s%s" % (node.start_point[0] + 1, "missing " if node.is_missing else "",
                                            text[0][:60]))
            return
        for child in node.children:
            walk(child)

    walk(PARSER.parse(source).root_node)
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: os.path.relpath(p, ROOT))
def test_powershell_parses(path):
    rel = os.path.relpath(path, ROOT)
    errors = syntax_errors(Path(path).read_bytes())
    if rel in FALSE_POSITIVES:
        assert errors, "%s parses now: remove it from FALSE_POSITIVES" % rel
    else:
        assert not errors, "%s: %s" % (rel, "; ".join(errors[:5]))


def test_false_positive_entries_exist():
    missing = [p for p in FALSE_POSITIVES if not (ROOT / p).exists()]
    assert not missing


def test_checker_catches_gross_errors():
    good = b"function Get-Thing {\n    param([string]$Name)\n    if ($Name) { Write-Output \"hi $Name\" }\n}\n"
    assert syntax_errors(good) == []
    assert syntax_errors(b"function Get-Thing {\n    if ($x) { Write-Output 'a'\n")
    assert syntax_errors(b"$a = @{ Name = 'x'\n$b = 'unterminated\n")


def test_checker_accepts_most_official_windows_modules():
    """The pre-check is only useful if real code passes: the bundled Windows collections."""
    collections = os.environ.get("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".venv" / "collections"))
    files = glob.glob(os.path.join(collections.split(os.pathsep)[0], "ansible_collections", "*", "windows",
                                   "plugins", "modules", "*.ps1"))
    assert len(files) >= 50, "the Windows collections are missing: run scripts/bootstrap"
    clean = sum(1 for f in files if not syntax_errors(Path(f).read_bytes()))
    assert clean / len(files) >= 0.93, (clean, len(files))
