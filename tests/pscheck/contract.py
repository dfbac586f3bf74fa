"""The result contract between the PowerShell modules and the roles, checked statically.

A role registers a PowerShell module's result (``register: __aad_connect_info``) and reads keys of
it (``__aad_connect_info.scheduler.interval``). Each key read must be

* set by the module: a top-level key as ``$module.Result.<key>`` (any variable, in the module or a
  module_utils it requires with ``#AnsibleRequires -PowerShell``); a nested key as a hashtable key
  or a member assignment somewhere in those files (RC001);
* documented in the module's RETURN (the .yml doc file next to the .ps1), a nested key under its
  parent's ``contains`` (RC002).

Keys Ansible itself puts on every registered result (changed, failed, msg, results, ...) are
exempt. Findings have the same form as the PowerShell rules: path:line:col: RULE message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .rules import PARSER, Finding, walk

RULES = {
    "RC001": "a role reads a key of a PowerShell module's registered result that the module never sets",
    "RC002": "a role reads a key of a PowerShell module's result that its RETURN does not document (with contains)",
}

#: Keys Ansible (or Ansible.Basic) adds to every registered result, and loop results.
STANDARD_KEYS = {"changed", "failed", "msg", "skipped", "skip_reason", "warnings", "deprecations", "invocation",
                 "exception", "diff", "attempts", "ansible_facts", "results", "item", "ansible_loop_var",
                 "unreachable", "rc", "stdout", "stderr", "false_condition", "module_stderr", "module_stdout"}
#: Jinja2 tests/filters/methods reached with a dot that are not keys.
NOT_KEYS = {"keys", "values", "items", "get", "append", "split", "startswith", "endswith", "lower", "upper",
            "strip", "replace", "format", "count", "index", "join"}
REQUIRES = re.compile(r"^#AnsibleRequires\s+-PowerShell\s+(\S+)", re.M)


@dataclass
class Module:
    name: str
    path: Path
    top: set[str] = field(default_factory=set)
    nested: set[str] = field(default_factory=set)
    returns: dict = field(default_factory=dict)


def _result_paths(source: bytes, tree) -> tuple[set[str], set[str]]:
    """Top-level keys set through '<var>.Result.<key>', and every name that can be a nested key."""
    def text(node) -> str:
        return source[node.start_byte:node.end_byte].decode("utf-8", "replace")

    top, nested = set(), set()
    for node in walk(tree.root_node):
        if node.type == "member_access":
            names = [c for c in node.named_children if c.type == "member_name"]
            inner = node.named_children[0] if node.named_children else None
            if names and inner is not None and inner.type == "member_access":
                inner_names = [c for c in inner.named_children if c.type == "member_name"]
                if inner_names and text(inner_names[0]) == "Result":
                    top.add(text(names[0]))
            if names and node.parent is not None and node.parent.type == "unary_expression" \
                    and node.parent.parent is not None and node.parent.parent.type == "left_assignment_expression":
                nested.add(text(names[0]))
        elif node.type == "element_access":
            inner = node.named_children[0] if node.named_children else None
            key = node.named_children[1] if node.named_child_count > 1 else None
            if inner is not None and inner.type == "member_access" and key is not None \
                    and text(inner).endswith(".Result"):
                top.add(text(key).strip("'\""))
        elif node.type == "key_expression":
            nested.add(text(node).strip("'\""))
    return top, nested


def _find_util(root: Path, dotted: str) -> Path | None:
    name = dotted.split(".")[-1]
    for path in (root / "plugins").rglob(name + ".psm1"):
        return path
    return None


def load_modules(root: Path) -> dict[str, Module]:
    modules = {}
    for path in sorted((root / "plugins").rglob("*.ps1")):
        source = path.read_bytes()
        if not source.startswith(b"#!powershell"):
            continue
        module = Module(path.stem, path)
        files = [source]
        for dotted in REQUIRES.findall(source.decode("utf-8", "replace")):
            util = _find_util(root, dotted)
            if util is not None:
                files.append(util.read_bytes())
        for data in files:
            top, nested = _result_paths(data, PARSER.parse(data))
            module.top |= top
            module.nested |= nested
        doc = path.with_suffix(".yml")
        if doc.exists():
            module.returns = (yaml.safe_load(doc.read_text()) or {}).get("RETURN") or {}
        modules[module.name] = module
    return modules


def _tasks(data):
    """Every task dict of a task file, blocks included."""
    if isinstance(data, list):
        for item in data:
            yield from _tasks(item)
    elif isinstance(data, dict):
        yield data
        for key in ("block", "rescue", "always"):
            if key in data:
                yield from _tasks(data[key])


def registered(role: Path, modules: dict[str, Module]) -> dict[str, set[str]]:
    """register name -> the PowerShell modules whose results it holds, in one role."""
    found: dict[str, set[str]] = {}
    for path in sorted(role.rglob("*.yml")):
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError:
            continue
        for task in _tasks(data):
            name = task.get("register")
            if not isinstance(name, str):
                continue
            for key in task:
                short = key.split(".")[-1]
                if key.startswith("ems.enable.") and short in modules:
                    found.setdefault(name, set()).add(short)
    return found


PATH = r"((?:\.[A-Za-z_]\w*|\[\s*(?:'\w+'|\"\w+\"|\d+)\s*\])+)"
ATTRIBUTE = re.compile(r"\s*\|\s*(?:map|selectattr|rejectattr|sum)\(\s*(?:attribute\s*=\s*)?['\"](\w+)['\"]")


def _segments(path: str) -> list[str]:
    parts = re.findall(r"\.([A-Za-z_]\w*)|\[\s*(?:'(\w+)'|\"(\w+)\"|(\d+))\s*\]", path)
    out = []
    for dotted, single, double, index in parts:
        out.append("[]" if index else (dotted or single or double))
    return out


def reads(text: str, name: str):
    """(offset, key path) of every read of a registered variable in a YAML file's text."""
    for match in re.finditer(r"(?<![\w.])%s%s" % (re.escape(name), PATH), text):
        keys = _segments(match.group(1))
        attribute = ATTRIBUTE.match(text, match.end())
        if attribute:
            keys.append("[]")
            keys.append(attribute.group(1))
        yield match.start(), keys


def _entry_children(entry) -> dict | None:
    if isinstance(entry, dict) and isinstance(entry.get("contains"), dict):
        return entry["contains"]
    return None


def check_key_path(module: Module, keys: list[str]) -> tuple[str, str] | None:
    """(rule, message) when the key path breaks the contract, else None."""
    keys = list(keys)
    if keys and keys[0] == "results":  # a registered loop: results[i].<module keys>
        keys = keys[1:]
        if keys and keys[0] == "[]":
            keys = keys[1:]
    if not keys or keys[0] in STANDARD_KEYS or keys[0] == "[]":
        return None
    top = keys[0]
    if top not in module.top:
        return "RC001", "reads '%s' of %s, which the module never sets ($module.Result.%s)" % (top, module.name, top)
    entry = module.returns.get(top)
    if entry is None:
        return "RC002", "reads '%s' of %s, which its RETURN does not document" % (top, module.name)
    done = [top]
    for key in keys[1:]:
        if key == "[]":
            continue
        if key in NOT_KEYS:
            break
        if key not in module.nested:
            return "RC001", "reads '%s' of %s, which the module never sets" % (".".join(done + [key]), module.name)
        children = _entry_children(entry)
        if children is None or key not in children:
            return "RC002", "reads '%s' of %s: RETURN's %s does not document '%s' under contains" % (
                ".".join(done + [key]), module.name, ".".join(done), key)
        entry = children[key]
        done.append(key)
    return None


def check_roles(root: Path, modules: dict[str, Module] | None = None, roles: list[Path] | None = None) -> list[Finding]:
    modules = load_modules(root) if modules is None else modules
    findings = []
    for role in roles if roles is not None else sorted(p for p in (root / "roles").iterdir() if p.is_dir()):
        names = registered(role, modules)
        if not names:
            continue
        for path in sorted(role.rglob("*")):
            if path.suffix not in (".yml", ".yaml", ".j2") or not path.is_file():
                continue
            text = path.read_text()
            for name, used in names.items():
                for offset, keys in reads(text, name):
                    for module_name in sorted(used):
                        problem = check_key_path(modules[module_name], keys)
                        if problem:
                            line = text.count("\n", 0, offset) + 1
                            col = offset - (text.rfind("\n", 0, offset) + 1) + 1
                            rel = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
                            findings.append(Finding(rel, line, col, problem[0], "%s: %s" % (name, problem[1])))
    return sorted(set(findings))
