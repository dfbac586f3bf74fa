"""The execution environment definition (issue 9): `ansible-builder create` produces a build context
that carries everything the collection needs in AWX / Automation Platform.

Building the image needs a container engine (not on these machines); `create` is the part that can
run here: it validates execution-environment.yml (schema v3) and writes the context. The checks read
the generated context (Containerfile, _build/), and run ansible-builder's own introspection script
over the installed collections, the way the builder stage does, to prove that
meta/execution-environment.yml hands the collection's requirements to any EE that includes it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
COLLECTIONS = ROOT / ".venv" / "collections"
WINDOWS_COLLECTIONS = {"ansible.windows", "microsoft.ad", "community.windows"}


def _tool(name: str) -> str:
    path = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if not path:
        pytest.fail(f"{name} is not installed (requirements-dev.txt; run scripts/bootstrap)")
    return path


@pytest.fixture(scope="module")
def context(tmp_path_factory) -> Path:
    """The EE definition and its inputs in a temp dir with a freshly built tarball; create -> ctx."""
    work = tmp_path_factory.mktemp("ee")
    for name in ("execution-environment.yml", "requirements.txt", "requirements.yml", "bindep.txt"):
        shutil.copy(ROOT / name, work / name)
    subprocess.run(
        [_tool("ansible-galaxy"), "collection", "build", "--force", "--output-path",
         str(work / "dist"), str(ROOT)],
        check=True, capture_output=True, text=True,
    )
    proc = subprocess.run(
        [_tool("ansible-builder"), "create", "--file", str(work / "execution-environment.yml"),
         "--context", str(work / "context"), "--output-filename", "Containerfile"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, f"ansible-builder create failed:\n{proc.stdout}\n{proc.stderr}"
    return work / "context"


def _reqs(path: Path) -> set[str]:
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[\[<>=!~; ]", line, maxsplit=1)[0].lower())
    return names


def test_definition_is_v3_and_uses_the_repository_files():
    ee = yaml.safe_load((ROOT / "execution-environment.yml").read_text(encoding="utf-8"))
    assert ee["version"] == 3
    deps = ee["dependencies"]
    assert deps["python"] == "requirements.txt"
    assert deps["system"] == "bindep.txt"
    assert deps["galaxy"] == "requirements.yml"


def test_context_has_the_python_requirements(context):
    reqs = _reqs(context / "_build" / "requirements.txt")
    assert {"pywinrm", "python-ldap", "gssapi", "dnspython"} <= reqs, reqs
    # Kerberos for WinRM: the pywinrm extra, not just the bare package.
    text = (context / "_build" / "requirements.txt").read_text(encoding="utf-8")
    assert re.search(r"^pywinrm\[kerberos\]", text, re.M), text


def test_context_has_the_windows_collections_and_the_collection_itself(context):
    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text(encoding="utf-8"))
    names = {c["name"] for c in galaxy["collections"]}
    assert WINDOWS_COLLECTIONS <= names, names
    tarballs = list((context / "_build" / "ems").glob("ems-enable-*.tar.gz"))
    assert len(tarballs) == 1, tarballs
    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    assert "ansible-galaxy collection install --no-deps" in containerfile
    assert "/build/ems/ems-enable-*.tar.gz" in containerfile


@pytest.mark.parametrize("platform,packages", [
    ("dpkg", {"libldap2-dev", "libsasl2-dev", "libsasl2-modules-gssapi-mit", "libkrb5-dev",
              "gcc", "python3-dev"}),
    ("rpm", {"openldap-devel", "cyrus-sasl-devel", "cyrus-sasl-gssapi", "krb5-devel", "gcc",
             "python3-devel", "krb5-workstation"}),
])
def test_context_has_the_ldap_and_kerberos_system_packages(context, platform, packages):
    listed = set()
    for line in (context / "_build" / "bindep.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, profiles = (line.split(" ", 1) + [""])[:2]
        plats = re.findall(r"platform:(\w+)", profiles)
        if not plats or platform in plats:
            listed.add(name)
    assert packages <= listed, packages - listed


def test_bindep_resolves_for_this_platform():
    """bindep parses the file and knows every package of this (Debian) machine's profile."""
    proc = subprocess.run([_tool("bindep"), "--file", str(ROOT / "bindep.txt"), "-l", "newline",
                           "compile"], capture_output=True, text=True, check=False)
    # rc 0: all present; rc 1: some missing (listed). Anything else is a parse error.
    assert proc.returncode in (0, 1), proc.stderr


def test_collection_meta_hands_its_requirements_to_including_ees(context):
    """ansible-builder's introspection (run in the builder stage) reads meta/execution-environment.yml."""
    meta = yaml.safe_load((ROOT / "meta" / "execution-environment.yml").read_text(encoding="utf-8"))
    assert meta["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}
    proc = subprocess.run(
        [sys.executable, str(context / "_build" / "scripts" / "introspect.py"), "introspect",
         str(COLLECTIONS)], capture_output=True, text=True, check=True,
    )
    found = yaml.safe_load(proc.stdout)
    ours_py = [r for r in found["python"] if "from collection ems.enable" in r]
    ours_sys = [r for r in found["system"] if "from collection ems.enable" in r]
    assert any(r.startswith("python-ldap") for r in ours_py), found["python"]
    assert any(r.startswith("pywinrm[kerberos]") for r in ours_py), found["python"]
    assert any(r.startswith("cyrus-sasl-gssapi") for r in ours_sys), found["system"]
