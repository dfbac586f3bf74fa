"""Role READMEs cannot drift from meta/argument_specs.yml (issue 9): scripts/role-docs --check.

Every role's README carries the section generated from its argument specs between
<!-- BEGIN ARGUMENT SPECS --> and <!-- END ARGUMENT SPECS -->. Fix a failure with
`scripts/role-docs <role>` (after changing the specs, never by editing the section).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "role-docs"
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "meta").is_dir())


def _check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--check", *args],
                          capture_output=True, text=True, check=False)


def test_every_role_has_argument_specs():
    missing = [r for r in ROLES if not (ROOT / "roles" / r / "meta" / "argument_specs.yml").is_file()]
    assert not missing, f"roles without meta/argument_specs.yml: {missing}"


@pytest.mark.parametrize("role", ROLES)
def test_readme_matches_argument_specs(role):
    proc = _check(role)
    assert proc.returncode == 0, proc.stderr
    readme = (ROOT / "roles" / role / "README.md").read_text(encoding="utf-8")
    assert readme.count("<!-- BEGIN ARGUMENT SPECS -->") == 1
    assert readme.count("<!-- END ARGUMENT SPECS -->") == 1
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    for entry, spec in specs["argument_specs"].items():
        assert f"Entry point `{entry}`" in readme
        for option in (spec or {}).get("options") or {}:
            assert f"| `{option}` |" in readme, f"{role}: {option} not in the README table"


def _copy_role(tmp_path: Path, role: str) -> Path:
    roles = tmp_path / "roles"
    shutil.copytree(ROOT / "roles" / role / "meta", roles / role / "meta")
    shutil.copy(ROOT / "roles" / role / "README.md", roles / role / "README.md")
    return roles


def test_check_fails_and_names_the_role_when_specs_change(tmp_path):
    role = "network"
    roles = _copy_role(tmp_path, role)
    path = roles / role / "meta" / "argument_specs.yml"
    specs = yaml.safe_load(path.read_text(encoding="utf-8"))
    specs["argument_specs"]["main"]["options"]["network_new_option"] = {
        "description": "An option added to the specs only.", "type": "bool", "default": False}
    path.write_text(yaml.safe_dump(specs), encoding="utf-8")
    proc = _check("--roles-dir", str(roles))
    assert proc.returncode == 1
    assert f"roles/{role}/README.md" in proc.stderr
    # The writer repairs it; the check passes afterwards.
    subprocess.run([sys.executable, str(SCRIPT), "--roles-dir", str(roles)], check=True,
                   capture_output=True)
    assert _check("--roles-dir", str(roles)).returncode == 0
    assert "| `network_new_option` | bool |" in (roles / role / "README.md").read_text()


def test_check_fails_when_the_section_is_edited_by_hand(tmp_path):
    role = "rms_connector_client"
    roles = _copy_role(tmp_path, role)
    readme = roles / role / "README.md"
    text = readme.read_text(encoding="utf-8")
    readme.write_text(text.replace("| `rms_connector_client_kind` |", "| `rms_connector_client_typ` |"),
                      encoding="utf-8")
    proc = _check("--roles-dir", str(roles))
    assert proc.returncode == 1 and role in proc.stderr
