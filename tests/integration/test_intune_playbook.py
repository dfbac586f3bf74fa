"""playbooks/enable_intune.yml's tenant play as users run it (ansible-playbook, the onboarding callback)
against the Graph stand-in (tests/graph/standin.py, every request validated against the pinned CSDL
slice): check mode writes nothing, the real run creates the baseline, the attended steps are pending
until the stand-in reports what the operator did (Apple push certificate, test device), then done, and
the onboarding report shows the test device's inventory. No Samba lab needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "graph"))

import standin_fixture  # noqa: E402

CLIENT = "3f2a9c1e-7b6d-4e5f-8a9b-0c1d2e3f4a5b"
PILOT = "pilot1@emslab.onmicrosoft.com"


@pytest.fixture()
def stand(tmp_path):
    server = standin_fixture.started(tmp_path, CLIENT)
    yield server
    standin_fixture.stopped_clean(server)


def play(stand, tmp_path, *args, **extra):
    variables = dict(standin_fixture.tenant_variables(stand, CLIENT),
                     intune_break_glass_users=["breakglass1@emslab.onmicrosoft.com"],
                     intune_test_devices=[{"platform": "ios", "user": PILOT}])
    variables.update(extra)
    return standin_fixture.run_playbook(tmp_path, "enable_intune.yml", variables, *args)


def latest_report(tmp_path):
    runs = sorted((tmp_path / "reports").iterdir())
    return json.loads((runs[-1] / "report.json").read_text())


writes = standin_fixture.writes


def test_enable_intune_play_against_the_standin(stand, tmp_path):
    out = play(stand, tmp_path, "--check", "--diff")
    assert writes(stand) == [] and "osMinimumVersion" in out
    out = play(stand, tmp_path)
    created = len(writes(stand))
    assert created > 15 and len(stand.intune.compliance) == 4 and len(stand.intune.ca) == 1
    # enrollment restrictions: the baseline's two created beside the tenant's two defaults (priority 0)
    assert sorted(c["displayName"] for c in stand.intune.enrollment.values() if c["priority"]) == [
        "EMS pilot - device limit", "EMS pilot - enrollment platforms"]
    # email profiles: the only writes that went to Graph beta, and the run said so
    assert len(stand.intune.configurations) == 2
    assert {e["path"].split("/")[1] for e in writes(stand) if "deviceConfigurations" in e["path"]} == {"beta"}
    assert "Graph beta was called" in out
    assert "intune.apple_push_certificate" in out  # pending: the play ends there, not failed
    assert "intune.test_devices" not in out
    stand.intune.apple_push = {"id": "apns", "appleIdentifier": "mdm@contoso.com",
                               "expirationDateTime": "2027-12-01T00:00:00Z", "certificate": "MIIB"}
    out = play(stand, tmp_path)
    assert "intune.android_enterprise" in out and "intune.windows_automatic_enrollment" not in out
    # the operator binds Managed Google Play: the next run reads it through Graph beta and goes on
    stand.intune.android_binding.update(bindStatus="boundAndValidated", ownerUserPrincipalName="admin@contoso.com")
    out = play(stand, tmp_path)
    assert "intune.windows_automatic_enrollment" in out and "intune.test_devices" not in out
    assert "Graph beta was called" in out
    out = play(stand, tmp_path, intune_windows_automatic_enrollment_done=True)
    assert len(writes(stand)) == created  # unchanged tenant: no write
    report = latest_report(tmp_path)
    assert "intune.test_devices" in json.dumps(report) and PILOT in out
    stand.intune.enroll("PILOT1-IPHONE", "ios", PILOT, apps=["Microsoft Outlook"])
    out = play(stand, tmp_path, intune_windows_automatic_enrollment_done=True)
    assert len(writes(stand)) == created
    report = json.dumps(latest_report(tmp_path))
    assert "Intune test device PILOT1-IPHONE (ios, %s)" % PILOT in report
    assert "Microsoft Outlook" in report and "Intune MDM authority" in report


def test_enable_intune_play_skipped_without_a_tenant(tmp_path):
    (tmp_path / "hosts.yml").write_text("all:\n  hosts:\n    localhost:\n")
    env = dict(os.environ, EMS_REPORT="false", ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(tmp_path / "hosts.yml"),
                           str(ROOT / "playbooks" / "enable_intune.yml")], capture_output=True, text=True,
                          timeout=300, env=env, check=False, cwd=str(ROOT))
    assert done.returncode == 0, done.stdout[-3000:]
    assert "Intune objects skipped" in done.stdout
