"""The SSO test of playbooks/verify.yml (tag sso) on the Samba lab: AD is the lab's corp forest (read over
LDAPS by ems.enable.sso_test), the login side and the tenant are the stand-ins (tests/graph/standin.py with
tests/graph/login_standin.py, in the lab's controller namespace). Two lab users are added for the test; their
objectGUID is read with OpenLDAP's ldapsearch (independently of the collection's code) and the stand-in tenant
holds it as onPremisesImmutableId for one user (pass) and a different value for the other (mismatch, both
values named). Every Graph request is valid against the pinned slice; the password and tokens are never shown.

Intranet Windows authentication (method: windows): a third lab user with a real password, and the AD FS
service account svc-adfs holding the SPN HTTP/fs.corp.emslab.test (AES keys, as a gMSA has); its keytab is
exported from the DC (samba-tool domain exportkeytab) for the stand-in's acceptor, and fs.corp.emslab.test
resolves to the stand-in in the controller namespace (the intranet's DNS). The collection gets a real ticket
from the Samba KDC with the user's password; the stand-in validates it with the keytab.
"""

from __future__ import annotations

import base64
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
KRB_USER, KRB_SAM, KRB_PASSWORD = "sso.krb@corp.emslab.test", "ssokrb", "Krb-Lab-Passw0rd1"
FARM = "fs.corp.emslab.test"


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


def _unicode_pwd(password):
    return base64.b64encode(('"%s"' % password).encode("utf-16-le")).decode()


@pytest.fixture(scope="module")
def kerberos(lab, tmp_path_factory):
    """The Kerberos side of the intranet test: (user's objectGUID as base64, keytab path). A user with a password,
    the AD FS service account with HTTP/<farm> and AES keys, the keytab exported on dc1, the farm's name in the
    controller namespace's hosts file; all removed afterwards."""
    work = tmp_path_factory.mktemp("sso-kerberos")
    dns = ["CN=%s,CN=Users,%s" % (name, BASE) for name in ("sso.krb", "svc-adfs")]
    ldif = ("dn: %s\nobjectClass: user\nsAMAccountName: %s\nuserPrincipalName: %s\nunicodePwd:: %s\n"
            "userAccountControl: 512\n\n" % (dns[0], KRB_SAM, KRB_USER, _unicode_pwd(KRB_PASSWORD)) +
            "dn: %s\nobjectClass: user\nsAMAccountName: svc-adfs\nservicePrincipalName: HTTP/%s\nunicodePwd:: %s\n"
            "msDS-SupportedEncryptionTypes: 24\nuserAccountControl: 512\n\n" % (dns[1], FARM, _unicode_pwd("Svc-" + KRB_PASSWORD)))
    lab.run(["ldapadd", "-H", "ldaps://dc1.corp.emslab.test", *ADMIN], input=ldif, env=ldap_env(lab), check=True,
            timeout=60)
    hosts = Path("/etc/netns/%s/hosts" % lab.ctl_netns)
    before = hosts.read_text()
    try:
        out = lab.run(["ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-H", "ldaps://dc1.corp.emslab.test", *ADMIN,
                       "-b", BASE, "(userPrincipalName=%s)" % KRB_USER, "objectGUID"], env=ldap_env(lab), check=True,
                      timeout=60).stdout
        guid = re.search(r"^objectGUID:: (\S+)$", out, re.M).group(1)
        dc1 = lab.forest("corp").dcs[0]
        keytab = work / "adfs.keytab"
        lab.run_in(dc1.netns, ["samba-tool", "domain", "exportkeytab", str(keytab), "--principal=HTTP/%s" % FARM,
                               "-s", dc1.smb_conf], check=True, timeout=120)
        hosts.write_text(before + "127.0.0.1\t%s\n" % FARM)  # the intranet DNS name of the farm -> the stand-in
        yield guid, str(keytab)
    finally:
        hosts.write_text(before)
        lab.run(["ldapdelete", "-H", "ldaps://dc1.corp.emslab.test", *ADMIN, *dns], env=ldap_env(lab), timeout=60)


@pytest.fixture(scope="module")
def standin(lab, lab_users, kerberos, tmp_path_factory):
    work = tmp_path_factory.mktemp("sso-standin")
    krb_guid, keytab = kerberos
    state = {"federated_domains": ["corp.emslab.test"], "adfs_keytab": keytab,
             "adfs_users": [{"upn": upn, "password": PASSWORD, "immutable_id": guid} for upn, guid in lab_users.values()]
             + [{"upn": KRB_USER, "password": KRB_PASSWORD, "immutable_id": krb_guid,
                 "principal": "%s@CORP.EMSLAB.TEST" % KRB_SAM}],
             "tenant_users": [
                 {"id": "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0", "userPrincipalName": lab_users["pass"][0],
                  "onPremisesImmutableId": lab_users["pass"][1], "onPremisesSyncEnabled": True},
                 {"id": "1b1c2d3e-4f50-6172-8394-a5b6c7d8e9f1", "userPrincipalName": lab_users["mismatch"][0],
                  "onPremisesImmutableId": OTHER_ID, "onPremisesSyncEnabled": True},
                 {"id": "2b1c2d3e-4f50-6172-8394-a5b6c7d8e9f2", "userPrincipalName": KRB_USER,
                  "onPremisesImmutableId": krb_guid, "onPremisesSyncEnabled": True}]}
    (work / "sso.json").write_text(json.dumps(state))
    yield from standin_process.serve(lab, work, "--sso", str(work / "sso.json"))
    log = json.loads((work / "log.json").read_text())
    assert log["violations"] == [], log["violations"]


@pytest.fixture(scope="module")
def standin443(lab, lab_users, tmp_path_factory):
    """A second stand-in, on 127.0.0.1:443 of the lab's controller namespace (its own port space): MSAL builds the
    userrealm URL from the authority's host name without a port, so only there can MSAL's username/password flow
    reach it. The pass user, and the mismatch user's UPN under MFA (Conditional Access, AADSTS50076)."""
    work = tmp_path_factory.mktemp("sso-standin-443")
    (upn, guid), (mfa_upn, mfa_guid) = lab_users["pass"], lab_users["mismatch"]
    state = {"federated_domains": ["corp.emslab.test"], "mfa_users": [mfa_upn],
             "adfs_users": [{"upn": upn, "password": PASSWORD, "immutable_id": guid},
                            {"upn": mfa_upn, "password": PASSWORD, "immutable_id": mfa_guid}],
             "tenant_users": [
                 {"id": "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0", "userPrincipalName": upn,
                  "onPremisesImmutableId": guid, "onPremisesSyncEnabled": True},
                 {"id": "1b1c2d3e-4f50-6172-8394-a5b6c7d8e9f1", "userPrincipalName": mfa_upn,
                  "onPremisesImmutableId": mfa_guid, "onPremisesSyncEnabled": True}]}
    (work / "sso.json").write_text(json.dumps(state))
    yield from standin_process.serve(lab, work, "--sso", str(work / "sso.json"), "--port", "443")
    log = json.loads((work / "log.json").read_text())
    assert log["violations"] == [], log["violations"]


def verify_sso(lab, standin, tmp, user, **extra):
    info = standin["info"]
    inv = standin_process.tenant_inventory(tmp, info, **dict(dict(
        ems_sso_test_user=user, ems_sso_test_password=PASSWORD, ems_sso_test_adfs_ca_file=info["ca_file"]), **extra))
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


# --- intranet: Windows authentication with a real Kerberos ticket from the Samba KDC -------------------------

def verify_windows(lab, standin, tmp, password):
    port = standin["info"]["url"].rsplit(":", 1)[1]
    return verify_sso(lab, standin, tmp, KRB_USER, ems_sso_test_password=password, ems_sso_test_method="windows",
                      ems_sso_test_mex_url="https://%s:%s/adfs/services/trust/mex" % (FARM, port))


@pytest.mark.integration
def test_windows_sign_in_with_a_kerberos_ticket_from_the_lab_kdc(lab, kerberos, standin, tmp_path):
    proc, text = verify_windows(lab, standin, tmp_path, KRB_PASSWORD)
    assert proc.returncode == 0, text[-3000:]
    assert "SSO test passed: %s signed in through AD FS (%s) with Windows authentication (Kerberos); Entra ID sees " \
           "UPN %s and ImmutableID %s" % (KRB_USER, FARM, KRB_USER, kerberos[0]) in text, text[-3000:]
    (row,) = verify_rows(tmp_path)
    assert (row["id"], row["status"]) == ("tenant.sso_test", "pass")
    assert KRB_PASSWORD not in text and "standin-user-" not in text and "Negotiate " not in text


@pytest.mark.integration
def test_windows_sign_in_with_a_wrong_password_is_refused_by_the_kdc(lab, kerberos, standin, tmp_path):
    proc, text = verify_windows(lab, standin, tmp_path, "Not-" + KRB_PASSWORD)
    assert proc.returncode != 0, text[-3000:]
    assert "SSO test: the KDC refused the password of %s@CORP.EMSLAB.TEST (Kerberos: Preauthentication failed)" \
        % KRB_SAM in text, text[-3000:]
    assert KRB_PASSWORD not in text


# --- extranet: the WS-Federation forms page (method: forms) -----------------------------------------------

@pytest.mark.integration
def test_forms_sign_in_passes_and_a_wrong_password_is_one_line(lab, lab_users, standin, tmp_path):
    upn, guid = lab_users["pass"]
    proc, text = verify_sso(lab, standin, tmp_path / "ok", upn, ems_sso_test_method="forms")
    assert proc.returncode == 0, text[-3000:]
    assert "SSO test passed: %s signed in through AD FS (127.0.0.1) with the forms sign-in page (WS-Federation); " \
           "Entra ID sees UPN %s and ImmutableID %s" % (upn, upn, guid) in text, text[-3000:]
    assert [(r["id"], r["status"]) for r in verify_rows(tmp_path / "ok")] == [("tenant.sso_test", "pass")]
    no_secrets(text, standin)
    proc, text = verify_sso(lab, standin, tmp_path / "bad", upn, ems_sso_test_method="forms",
                            ems_sso_test_password="Wrong-" + PASSWORD)
    assert proc.returncode != 0 and "AD FS 127.0.0.1 refused the forms sign-in of %s" % upn in text, text[-3000:]
    no_secrets(text, standin)


# --- the MSAL username/password fallback (method: msal), end to end through MSAL -------------------------

@pytest.mark.integration
def test_msal_fallback_gets_the_token_and_warns(lab, lab_users, standin443, tmp_path):
    upn, guid = lab_users["pass"]
    assert standin443["info"]["url"] == "https://127.0.0.1"
    proc, text = verify_sso(lab, standin443, tmp_path, upn, ems_sso_test_method="msal")
    assert proc.returncode == 0, text[-3000:]
    assert "SSO test passed: %s signed in through AD FS; Entra ID sees UPN %s and ImmutableID %s" % (upn, upn, guid) \
        in text, text[-3000:]
    assert "deprecated for public clients" in text  # the task's own warning, once
    log = standin_process.current_log(standin443["dir"])["requests"]  # not the copy of up to 0.5 s ago
    paths = [entry["path"] for entry in log]
    # MSAL's own steps: home realm discovery, the MEX, WS-Trust, the SAML bearer grant, then Graph with its token
    assert any(p.startswith("/common/userrealm/") for p in paths) and any(p.endswith("/mex") for p in paths)
    assert any("usernamemixed" in p for p in paths) and any(p.startswith("/v1.0/users/") for p in paths)
    no_secrets(text, standin443)


@pytest.mark.integration
def test_msal_fallback_under_mfa_is_one_line(lab, lab_users, standin443, tmp_path):
    upn = lab_users["mismatch"][0]
    proc, text = verify_sso(lab, standin443, tmp_path, upn, ems_sso_test_method="msal")
    assert proc.returncode != 0, text[-3000:]
    assert "SSO test: Entra ID refused the sign-in of %s (AADSTS50076): multi-factor authentication is required " \
           "for this user" % upn in text, text[-3000:]
    no_secrets(text, standin443)
