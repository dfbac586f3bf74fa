"""ems.enable.adfs: the verdicts of verify that are decided on the controller, and the tasks that set
the SPN HOST/<federation service name> (issue 19, findings 7 and 10).

The SPN check (tasks/verify_spn_checks.yml) runs as Ansible runs it, on localhost, fed with what
microsoft.ad.object_info returns (``objects`` with the requested ``sAMAccountName``). The tasks that
talk to Windows are checked for the parameters they pass.
"""

from __future__ import annotations

import pytest
import yaml

from connector_play import ROOT, run_role_tasks

pytestmark = pytest.mark.integration

FS = "fs.contoso.example"
TASKS = ROOT / "roles" / "adfs" / "tasks"


def spn_check(tmp_path, holders, **role_vars):
    base = {"__adfs_fs_name": FS, "adfs_directory_host": "dc1.corp.example"}
    base.update(role_vars)
    objects = [{"DistinguishedName": f"CN={h},CN=Users,DC=corp", "sAMAccountName": h} for h in holders]
    return run_role_tasks(tmp_path, "adfs", "verify_spn_checks", base, {"__adfs_verify_spn": {"objects": objects}})[0]


def test_spn_on_the_gmsa_passes(tmp_path):
    proc = spn_check(tmp_path, ["ADFSgMSA$"])
    assert proc.returncode == 0, proc.stdout


def test_spn_on_the_domain_user_passes(tmp_path):
    proc = spn_check(tmp_path, ["svc-adfs"], adfs_service_account="user", adfs_service_account_username="CORP\\svc-adfs")
    assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize("holders,expect", [
    ([], f"the SPN HOST/{FS} is held by no account; expected adfsgmsa$ only. Remedy: setspn -S HOST/{FS} adfsgmsa$"),
    (["adfsgmsa$", "ADFS1$"], f"held by adfsgmsa$, adfs1$; expected adfsgmsa$ only. Remedy: setspn -D HOST/{FS}"),
    (["olduser"], "held by olduser; expected adfsgmsa$ only"),
])
def test_spn_missing_duplicated_or_elsewhere_fails_naming_the_holders(tmp_path, holders, expect):
    proc = spn_check(tmp_path, holders)
    assert proc.returncode != 0
    assert expect in proc.stdout, proc.stdout


def _task(path, name_part):
    tasks = yaml.safe_load(path.read_text())
    found = [t for t in tasks if name_part in t.get("name", "")]
    assert len(found) == 1, name_part
    return found[0]


def test_the_gmsa_and_the_domain_user_get_the_spn():
    gmsa = _task(TASKS / "service_account.yml", "The gMSA for AD FS")["microsoft.ad.service_account"]
    assert gmsa["spn"] == {"add": ["HOST/{{ __adfs_fs_name }}"]}  # add, never set: other SPNs stay
    user = _task(TASKS / "service_account.yml", "on the domain user (adfs_service_account=user)")
    assert user["microsoft.ad.user"]["spn"] == {"add": ["HOST/{{ __adfs_fs_name }}"]}
    assert "name" not in user["microsoft.ad.user"]  # identity only: an existing account, never created
    assert user["delegate_to"] == "{{ adfs_directory_host }}"


def test_user_identity_is_the_name_after_the_domain(tmp_path):
    """The microsoft.ad.user identity renders to the sAMAccountName (DOMAIN\\ cut off), as the check expects it."""
    template = _task(TASKS / "service_account.yml", "on the domain user (adfs_service_account=user)")["microsoft.ad.user"]["identity"]
    expression = template.strip()[2:-2]
    proc, dumped = run_role_tasks(
        tmp_path, "adfs", "verify_spn_checks",
        {"__adfs_fs_name": FS, "adfs_service_account": "user"},
        {"__adfs_verify_spn": {"objects": [{"sAMAccountName": "svc-adfs"}]}, "adfs_service_account_username": "CORP\\svc-adfs"},
        dump="{{ {'identity': (" + expression + ")} | to_json }}")
    assert proc.returncode == 0, proc.stdout
    assert dumped == {"identity": "svc-adfs"}


def test_verify_reads_the_spn_and_the_load_balancer():
    verify = yaml.safe_load((TASKS / "verify.yml").read_text())
    assert any(t.get("ansible.builtin.import_tasks") == "verify_spn.yml" for t in verify)
    main = yaml.safe_load((TASKS / "main.yml").read_text())
    assert any(t.get("ansible.builtin.import_tasks") == "verify_spn.yml" for t in main)
    spn = yaml.safe_load((TASKS / "verify_spn.yml").read_text())[0]
    assert spn["microsoft.ad.object_info"]["ldap_filter"] == "(servicePrincipalName=HOST/{{ __adfs_fs_name }})"
    balanced = _task(TASKS / "verify_host.yml", "through the load balancer")["ems.enable.adfs_endpoint_info"]
    assert balanced["server_name"] == "{{ __adfs_fs_name }}"
    assert "adfs_verify_load_balancer_address" in balanced["connect_to"] and "__adfs_fs_name" in balanced["connect_to"]
