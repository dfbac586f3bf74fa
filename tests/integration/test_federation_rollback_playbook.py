"""playbooks/federation_rollback.yml as users run it (ansible-playbook, the onboarding callback) against the
Graph stand-in (tests/graph/standin.py, every request validated against the pinned CSDL slice; the operator's
device code sign-in is the stand-in's): check mode writes nothing, an unconfirmed run is a pending attended step
that writes nothing, the confirmed run converts the domain (one PATCH), the next run changes nothing, and with
password hash sync off the run is refused with one line before any write. No Samba lab needed."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "graph"))

import standin_fixture  # noqa: E402

CLIENT = standin_fixture.CLIENT
DOMAIN = "corp.emslab.test"


@pytest.fixture()
def stand(tmp_path):
    server = standin_fixture.started(tmp_path, CLIENT)
    server.apps[CLIENT]["public"] = True  # also the operator's sign-in: device code (delegated)
    for domain in server.tenant["domains"]:
        if domain["id"] == DOMAIN:
            domain.update(isVerified=True, authenticationType="Federated")
    server.tenant["onPremisesSyncEnabled"] = True  # Entra Connect syncs; password hash sync is on (lab_tenant)
    server.federations[DOMAIN] = [{"id": str(uuid.uuid4()), "displayName": DOMAIN,
                                   "issuerUri": "http://%s/adfs/services/trust/" % DOMAIN,
                                   "passiveSignInUri": "https://fs.%s/adfs/ls/" % DOMAIN,
                                   "metadataExchangeUri": "https://fs.%s/adfs/services/trust/mex" % DOMAIN,
                                   "preferredAuthenticationProtocol": "wsFed"}]
    yield server
    standin_fixture.stopped_clean(server)


def play(stand, tmp_path, *args, expect_rc=0, **extra):
    # what a customer's group_vars hold for the unattended plays: the rollback signs in itself
    variables = dict(standin_fixture.tenant_variables(stand, CLIENT), ems_federation_domain=DOMAIN,
                     ems_tenant_auth="certificate")
    variables.update(extra)
    stdout = standin_fixture.run_playbook(tmp_path, "federation_rollback.yml", variables, *args, expect_rc=expect_rc)
    runs = sorted((tmp_path / "reports").iterdir())
    return stdout, json.loads((runs[-1] / "report.json").read_text())


writes = standin_fixture.writes


def domain_state(stand):
    return next(d for d in stand.tenant["domains"] if d["id"] == DOMAIN)["authenticationType"]


def test_check_mode_then_pending_then_converted_then_nothing_to_do(stand, tmp_path):
    out, report = play(stand, tmp_path, "--check", "--diff")
    assert writes(stand) == [] and domain_state(stand) == "Federated"
    flat = " ".join(out.split())
    assert "authenticationType" in flat and "Managed" in flat, out[-3000:]  # the diff
    assert len(report["changes"]) == 1 and "would still need confirm_rollback: true" in flat, out[-3000:]

    out, report = play(stand, tmp_path)
    assert writes(stand) == [] and domain_state(stand) == "Federated"
    assert "tenant.federation_rollback" in out and "ems_federation_rollback_confirm: true" in " ".join(out.split())
    assert [(s["id"], s["status"]) for s in report["attended_steps"]] == [("tenant.federation_rollback", "pending")]
    assert report["changes"] == []

    out, report = play(stand, tmp_path, ems_federation_rollback_confirm=True)
    assert [(w["method"], w["path"]) for w in writes(stand)] == [("PATCH", "/v1.0/domains/%s" % DOMAIN)]
    assert domain_state(stand) == "Managed" and not stand.federations.get(DOMAIN)
    assert len(report["changes"]) == 1 and report["attended_steps"] == []

    out, report = play(stand, tmp_path, ems_federation_rollback_confirm=True)
    assert len(writes(stand)) == 1 and report["changes"] == [], out[-3000:]
    for text in (out, json.dumps(report)):
        assert "standin-" not in text  # no token in the output or the report


def test_refused_in_one_line_when_password_hash_sync_is_off(stand, tmp_path):
    stand.tenant["sync"]["passwordSyncEnabled"] = False
    out, report = play(stand, tmp_path, expect_rc=2, ems_federation_rollback_confirm=True)
    assert writes(stand) == [] and domain_state(stand) == "Federated"
    line = next(line for line in out.splitlines() if "is not converted to Managed" in line)
    assert "password hash sync is off in the tenant" in " ".join(out.split()), out[-3000:]
    assert line.strip()  # the reason is on the failure line
    assert report["run"]["result"] == "failed"


def test_certificate_auth_is_refused_naming_the_delegated_read(stand, tmp_path):
    out, _report = play(stand, tmp_path, expect_rc=2, ems_federation_rollback_auth="certificate")
    assert writes(stand) == [] and "password hash sync cannot be read with auth=certificate" in " ".join(out.split())


def test_skipped_with_a_message_naming_what_is_missing(stand, tmp_path):
    out, report = play(stand, tmp_path, ems_federation_domain="")
    assert "Federation rollback skipped: set ems_federation_domain" in " ".join(out.split()), out[-3000:]
    assert stand.log == [] and report["changes"] == []
