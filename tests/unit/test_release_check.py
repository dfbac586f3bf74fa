"""The release check refuses tarballs with dev files, tests output, reports or lab data (issue 9).

Runs `scripts/release-check --check-tarball FILE` (the tarball-contents step of `make
release-check`) on small hand-made tarballs. The full check (build + galaxy-importer) is
`make release-check` / the build stage of scripts/test.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "release-check"
REQUIRED = ["MANIFEST.json", "FILES.json", "README.md", "meta/runtime.yml",
            "meta/execution-environment.yml", "requirements.txt", "bindep.txt",
            "plugins/modules/ad_forest_info.py"]


def _tarball(path: Path, names: list[str]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name in names:
            info = tarfile.TarInfo(name)
            info.size = 2
            tar.addfile(info, io.BytesIO(b"x\n"))
    return path


def _check(tarball: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), "--check-tarball", str(tarball)],
                          capture_output=True, text=True, check=False)


def test_clean_tarball_passes(tmp_path):
    names = REQUIRED + ["roles/network/README.md", "docs/release.md"]
    proc = _check(_tarball(tmp_path / "ok.tar.gz", names))
    assert proc.returncode == 0, proc.stderr
    assert "no forbidden path" in proc.stdout


@pytest.mark.parametrize("bad", [
    ".venv/bin/python", ".cache/wheels/x.whl", ".git/HEAD", "lab-state/corp/ca.pem",
    "reports/20261123T000000Z/report.json", "dist/ems-enable-0.1.0.tar.gz",
    "bench/readiness/results.json", "tests/output/junit.xml", "plugins/__pycache__/x.cpython-311.pyc",
    "molecule/windows/.molecule/state.yml", "importer_result.json", ".ruff_cache/0.1/x",
])
def test_forbidden_path_fails_and_is_named(tmp_path, bad):
    proc = _check(_tarball(tmp_path / "bad.tar.gz", REQUIRED + [bad]))
    assert proc.returncode == 1
    assert bad in proc.stderr


def test_missing_required_file_fails(tmp_path):
    names = [n for n in REQUIRED if n != "meta/execution-environment.yml"]
    proc = _check(_tarball(tmp_path / "missing.tar.gz", names))
    assert proc.returncode == 1
    assert "meta/execution-environment.yml missing" in proc.stderr
