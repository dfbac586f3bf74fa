"""The SSO test of playbooks/verify.yml (tag sso) on the Samba lab: AD is the lab's corp forest (read over
LDAPS by ems.enable.sso_test), the login side and the tenant are the stand-ins (tests/graph/standin.py with
tests/graph/login_standin.py, in the lab's controller namespace). Two lab users are added for the test; their
objectGUID is read with OpenLDAP's ldapsearch (independently of the collection's code) and the stand-in tenant
holds it as onPremisesImmutableId for one user (pass) and a different value for the other (mismatch, both
values named). Every Graph request is valid against the pinned slice; the password and tokens are never shown.
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
from test_onboarding_output import all_text, run_playbook  # noqa: E402
import standin_process  # noqa: E402

BASE = "DC=corp,DC=emslab,DC=test"
ADMIN = ["-x", "-D", "administrator@CORP.EMSLAB.TEST", "-w", "EmsLab-Passw0rd"]
PASSWORD = "Sso-Lab-Passw0rd&<x>"  # the stand-in farm's password of the test users (never in any output)
OTHER_ID = "AAAAAAAAAAAAAAAAAAAAAA=="
USERS = {"pass": "sso.pass@corp.emslab.test", "mismatch": "sso.mismatch@corp.emslab.test"}


def ldap_env(lab):
    return {"LDAPTLS_CACERT": str(Path(lab.state_dir) / "corp" / "ca.pem")}


@pytest.fixture(scope="module")
def lab_users(lab):
    """The two test users in the lab's corp forest: {key: (upn, objectGUID as base64)}; removed afterwards."""
    dns = {key: "CN=%s,CN=Users,%s" % (upn.partition("@")[0], BASE) for key, upn in USERS.items()}
    ldif = "".join("dn: %s\nobjectClass: user\nsAMAccountName: %s\nuserPrincipalName: %s\n\n"
                   % (dns[key], upn.partition("@")[0].replace(".", "")[:20], upn) for key, upn in USERS.items())
    lab.run(["ldapadd", "-H", "ldaps://dc1.corp.emslab.test", *ADMIN], input=ldif, env=ldap_env(lab), check=True,
            timeout=60)
    try:
        found = {}
        for key, upn in USERS.items():
            out = lab.run(["ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-H", "ldaps://dc1.corp.emslab.test", *ADMIN,
                           "-b", BASE, "(userPrincipalName=%s)" % upn, "objectGUID"], env=ldap_env(lab), check=True,
                          timeout=60).stdout
            found[key] = (upn, re.search(r"^objectGUID:: (\S+)$", out, re.M).group(1))
        yield found
    finally:
        lab.run(["ldapdelete", "-H", "ldaps://dc1.corp.emslab.test", *ADMIN, *dns.values()], env=ldap_env(lab),
                timeout=60)


@pytest.fixture(scope="module")
def standin(lab, lab_users, tmp_path_factory):
    work = tmp_path_factory.mktemp("sso-standin")
    state = {"federated_domains": ["corp.emslab.test"],
             "adfs_users": [{"upn": upn, "password": PASSWORD, "immutable_id": guid} for upn, guid in lab_users.values()],
             "tenant_users": [
                 {"id": "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0", "userPrincipalName": lab_users["pass"][0],
                  "onPremisesImmutableId": lab_users["pass"][1], "onPremisesSyncEnabled": True},
                 {"id": "1b1c2d3e-4f50-6172-8394-a5b6c7d8e9f1", "userPrincipalName": lab_users["mismatch"][0],
                  "onPremisesImmutableId": OTHER_ID, "onPremisesSyncEnabled": True}]}
    (work / "sso.json").write_text(json.dumps(state))
    yield from standin_process.serve(lab, work, "--sso", str(work / "sso.json"))
    log = json.loads((work / "log.json").read_text())
    assert log["violations"] == [], log["violations"]


def verify_sso(lab, standin, tmp, user):
    info = standin["info"]
    inv = standin_process.tenant_inventory(tmp, info, ems_sso_test_user=user, ems_sso_test_password=PASSWORD,
                                           ems_sso_test_adfs_ca_file=info["ca_file"])
    reports = tmp / "reports"
    proc = run_playbook(["-i", str(ROOT / "inventories" / "lab"), "-i", str(inv), str(ROOT / "playbooks" / "verify.yml"),
                         "--limit", "corp.emslab.test", "--tags", "sso"],
                        env={"EMS_REPORT_DIR": str(reports), "TERM": "xterm"}, cwd=str(ROOT), timeout=600, lab=lab)
    return proc, " ".join(all_text(proc, reports).split())


def verify_rows(tmp):
    """The verify rows of the run's report.json (the SSO test's verdict is one of them)."""
    (run,) = sorted(p for p in (tmp / "reports").iterdir() if p.is_dir())
    return json.loads((run / "report.json").read_text())["verify"]


def no_secrets(text, standin):
    assert PASSWORD not in text and "EmsLab-Passw0rd" not in text
    assert "standin-user-" not in text and "saml:Assertion" not in text and "AssertionID" not in text


@pytest.mark.integration
def test_sso_passes_when_entra_holds_the_lab_users_object_guid(lab, lab_users, standin, tmp_path):
    upn, guid = lab_users["pass"]
    proc, text = verify_sso(lab, standin, tmp_path, upn)
    assert proc.returncode == 0, text[-3000:]
    assert "SSO test passed: %s signed in through AD FS (127.0.0.1); Entra ID sees UPN %s and ImmutableID %s, " \
           "as AD holds (objectGUID)" % (upn, upn, guid) in text, text[-3000:]
    assert "Verify results 1 PASS 0 WARN 0 FAIL" in text, text[-3000:]
    assert [(r["id"], r["status"]) for r in verify_rows(tmp_path)] == [("tenant.sso_test", "pass")]
    no_secrets(text, standin)


@pytest.mark.integration
def test_sso_fails_naming_both_immutable_ids(lab, lab_users, standin, tmp_path):
    upn, guid = lab_users["mismatch"]
    proc, text = verify_sso(lab, standin, tmp_path, upn)
    assert proc.returncode != 0, text[-3000:]
    assert "SSO test: ImmutableID mismatch for %s: AD %s (from objectGUID), Entra ID %s (AADSTS51004)" \
        % (upn, guid, OTHER_ID) in text, text[-3000:]
    (row,) = verify_rows(tmp_path)
    assert (row["id"], row["status"]) == ("tenant.sso_test", "fail") and "ImmutableID mismatch" in row["message"]
    assert row["remedy"] and "\n" not in row["message"]
    no_secrets(text, standin)
