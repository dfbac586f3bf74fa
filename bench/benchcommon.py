"""What the bench scripts share (bench/readiness, bench/remediation): not a test, not part of the collection."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def project_env():
    """The environment Ansible runs with in the lab's controller namespace: this tree's .venv and collection."""
    venv = ROOT / ".venv" / "bin"
    return {
        "PATH": "%s:%s" % (venv, os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")),
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".venv" / "collections"),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "EMS_REPORT": "false",
    }


def export_baseline(ref, work):
    """The collection as it is at git ref `ref` (git archive), as a collections path of its own."""
    coll = Path(work) / "baseline" / "ansible_collections" / "ems" / "enable"
    coll.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(coll)], input=archive, check=True)
    return Path(work) / "baseline"
