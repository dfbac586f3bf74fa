"""assess on the Samba lab with a stand-in tenant (tests/graph/standin.py, validated against the pinned
CSDL slice): the preflight's requirement set `tenant` cross-checks the forest's UPN suffixes with the
tenant's domains and reports the unverified lab suffix as a WARN naming it, in the terminal and in
the report; every Graph request of the run is valid against the slice; no token leaks.

The stand-in runs inside the lab's controller network namespace (where ansible-playbook runs), as a
process: ready.json says where it listens, log.json (kept current) lists requests and violations.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
from test_onboarding_output import report_dirs, run_playbook, all_text  # noqa: E402
import standin_process  # noqa: E402


@pytest.fixture(scope="module")
def standin(lab, tmp_path_factory):
    yield from standin_process.serve(lab, tmp_path_factory.mktemp("standin"))


@pytest.fixture(scope="module")
def tenant_assess(lab, standin, tmp_path_factory):
    info = standin["info"]
    tmp = tmp_path_factory.mktemp("tenant-assess")
    inv = standin_process.tenant_inventory(tmp, info, ems_tenant_password_hash_sync=True)
    reports = tmp / "reports"
    proc = run_playbook(["-i", str(ROOT / "inventories" / "lab"), "-i", str(inv), str(ROOT / "playbooks" / "assess.yml"),
                         "--limit", "corp.emslab.test", "--skip-tags", "directory_readiness"],
                        env={"EMS_REPORT_DIR": str(reports), "TERM": "xterm"}, cwd=str(ROOT), timeout=600, lab=lab)
    (report,) = report_dirs(reports)
    return proc, report


@pytest.mark.integration
def test_terminal_warns_naming_the_unverified_lab_suffix(tenant_assess):
    proc, _report = tenant_assess
    out = proc.stdout
    assert "Read the tenant through Microsoft Graph" in out, out + proc.stderr
    rows = [line for line in out.splitlines() if "tenant.upn_suffix" in line]
    assert rows and all("WARN" in line for line in rows), out
    table = [line.split("\u2502") for line in out.splitlines() if line.startswith("  \u2502 ")]
    flat = " ".join(" ".join(cells[3].strip() for cells in table if len(cells) > 3).split())
    assert "UPN suffix corp.emslab.test is added to tenant emslab.onmicrosoft.com but not verified" in flat, out
    assert "user@emslab.onmicrosoft.com" in flat
    # the other tenant checks ran against the stand-in's data
    assert re.search(r"PASS\s*\u2502\s*tenant\.licence\.intune", out), out


@pytest.mark.integration
def test_report_holds_the_warning(tenant_assess):
    _proc, report = tenant_assess
    model = json.loads((report / "report.json").read_text())
    upn = [c for c in model["checks"] if c["id"] == "tenant.upn_suffix"]
    assert [c["status"] for c in upn] == ["warn"], upn
    assert upn[0]["subject"] == "corp.emslab.test" and "corp.emslab.test" in upn[0]["message"]
    md = (report / "report.md").read_text()
    assert "| WARN | tenant.upn_suffix | corp.emslab.test |" in md, md


@pytest.mark.integration
def test_every_graph_request_was_valid_and_no_token_leaked(tenant_assess, standin):
    proc, report = tenant_assess
    assert "standin-" not in all_text(proc, report)  # the stand-in's access tokens start so
    assert "PRIVATE KEY" not in all_text(proc, report)
    log = standin_process.current_log(Path(standin["info"]["ca_file"]).parent)
    assert log["violations"] == [], log["violations"]
    paths = [entry["path"] for entry in log["requests"]]
    assert any(p.startswith("/v1.0/$batch") for p in paths), paths
    assert any(p.startswith("/v1.0/domains") for p in paths) and any(p.startswith("/v1.0/organization") for p in paths)
