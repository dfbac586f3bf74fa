"""aad_connect's controller-side preconditions against the Samba AD lab (role entry point "assess").

The role runs the way users run it: ansible-playbook inside the lab's controller namespace, with
the sync server a WinRM host on 127.0.0.1 port 1 (nothing listens): the preconditions read the
forests over LDAPS from the controller and never contact it (unreachable=0). Standard lab:
legacy (2003), f2008 (2008), corp (2008_R2, 2 DCs), partner (2008_R2, forest trust with corp).
"""

from __future__ import annotations

import json

import pytest
import yaml

pytestmark = pytest.mark.integration


def forest_entry(forest, **extra):
    entry = {
        "name": forest.dns_domain,
        "ldap": {"server": [dc.fqdn for dc in forest.dcs], "username": forest.admin_user,
                 "password": forest.admin_password, "ca_file": forest.ca_file},
        "connector_account": {"name": "svc-aadc", "ou": "OU=Service Accounts," + forest.base_dn,
                              "password": "Connector-Pw-not-a-secret"},
    }
    entry.update(extra)
    return entry


def run_assess(lab, tmp_path, role_vars, inventory_extra=None, host_vars=None):
    """include_role tasks_from assess on one WinRM host; returns (process, preflight result or None)."""
    out = tmp_path / "preflight.json"
    sync01 = {"ansible_connection": "winrm", "ansible_host": "127.0.0.1", "ansible_port": 1,
              "ansible_winrm_scheme": "http", "ansible_user": "ems-test", "ansible_password": "ems-test-not-a-secret"}
    sync01.update(host_vars or {})
    inv = {"all": {"children": {"aad_connect": {"hosts": {"sync01": sync01}}}}}
    if inventory_extra:
        inv["all"]["children"].update(inventory_extra)
    play = [{"name": "aad_connect assess", "hosts": "aad_connect", "gather_facts": False, "tasks": [
        {"name": "aad_connect preconditions", "ansible.builtin.include_role": {
            "name": "ems.enable.aad_connect", "tasks_from": "assess"}, "vars": role_vars},
        {"name": "dump", "ansible.builtin.copy": {"content": "{{ __aad_connect_preflight | to_json }}", "dest": str(out)},
         "delegate_to": "localhost", "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"}},
    ]}]
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inv))
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    proc = lab.run(["ansible-playbook", "-i", str(tmp_path / "inventory.yml"), str(tmp_path / "play.yml")],
                   env={"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default", "ANSIBLE_NOCOLOR": "1",
                        "EMS_REPORT": "false"}, timeout=600)
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output, output
    assert "unreachable=0" in output and "UNREACHABLE" not in output, output
    return proc, (json.loads(out.read_text()) if out.exists() else None)


def check(result, rule_id, forest):
    found = [c for c in result["checks"] if c["id"] == rule_id and c["forest"] == forest]
    assert found, (rule_id, forest, result["checks"])
    return found[0]


def test_forest_at_the_minimum_level_passes_with_its_object_count(lab, tmp_path):
    f2008 = lab.forest("f2008")
    proc, result = run_assess(lab, tmp_path, {"aad_connect_forests": [forest_entry(f2008)]})
    assert proc.returncode == 0, proc.stdout
    assert check(result, "aad_connect.forest_level", f2008.dns_domain)["status"] == "pass"
    counted = check(result, "aad_connect.object_count", f2008.dns_domain)
    assert counted["status"] == "pass" and "LocalDB holds" in counted["message"]
    assert result["summary"]["fail"] == 0


def test_forest_below_the_minimum_fails_naming_forest_and_level(lab, tmp_path):
    legacy = lab.forest("legacy")
    proc, _result = run_assess(lab, tmp_path, {"aad_connect_forests": [forest_entry(legacy)]})
    assert proc.returncode != 0
    assert ("Forest %s is at functional level Windows Server 2003 (2); Windows Server 2008 (3) or above is required"
            % legacy.dns_domain) in proc.stdout
    assert "Set-ADForestMode -Identity %s -ForestMode Windows2008Forest" % legacy.dns_domain in proc.stdout


def test_the_inventory_minimum_level_is_the_default(lab, tmp_path):
    """ems_minimum_forest_level (inventory) raises the bar: f2008 fails at 2008_R2."""
    f2008 = lab.forest("f2008")
    proc, _result = run_assess(lab, tmp_path, {"aad_connect_forests": [forest_entry(f2008)]},
                               host_vars={"ems_minimum_forest_level": "2008_R2"})
    assert proc.returncode != 0
    assert "Windows Server 2008 R2 (4) or above is required" in proc.stdout
    proc, _result = run_assess(lab, tmp_path, {"aad_connect_forests": [forest_entry(f2008)],
                                               "aad_connect_minimum_forest_level": "2008"},
                               host_vars={"ems_minimum_forest_level": "2008_R2"})
    assert proc.returncode == 0, proc.stdout


def test_two_forests_are_a_supported_topology(lab, tmp_path):
    corp, partner = lab.forest("corp"), lab.forest("partner")
    proc, result = run_assess(lab, tmp_path, {"aad_connect_forests": [forest_entry(corp), forest_entry(partner)]})
    assert proc.returncode == 0, proc.stdout
    multi = check(result, "aad_connect.single_forest", corp.dns_domain)
    assert multi["status"] == "warn" and "supported Entra Connect topology" in multi["message"]
    assert {c["forest"] for c in result["checks"] if c["id"] == "aad_connect.writable_dc"} == {
        corp.dns_domain, partner.dns_domain}


def test_ldap_settings_of_another_forest_are_refused(lab, tmp_path):
    corp, partner = lab.forest("corp"), lab.forest("partner")
    entry = forest_entry(partner, name=corp.dns_domain,
                         connector_account={"name": "svc-aadc", "ou": "OU=Service Accounts," + corp.base_dn,
                                            "password": "Connector-Pw-not-a-secret"})
    proc, _result = run_assess(lab, tmp_path, {"aad_connect_forests": [entry]})
    assert proc.returncode != 0
    assert ("aad_connect_forests[0].name: %s, but its DCs (%s) belong to %s"
            % (corp.dns_domain, partner.dcs[0].fqdn, partner.dns_domain)) in proc.stdout


def test_ou_filtering_and_domains_must_be_in_the_forest(lab, tmp_path):
    f2008, corp = lab.forest("f2008"), lab.forest("corp")
    entry = forest_entry(f2008, sync_ous=["OU=Staff," + corp.base_dn, "OU=Staff," + f2008.base_dn],
                         domains=[corp.dns_domain])
    proc, _result = run_assess(lab, tmp_path, {"aad_connect_forests": [entry]})
    assert proc.returncode != 0
    assert "aad_connect_forests[0].sync_ous: OU=Staff,%s is in none of the domains of %s" % (
        corp.base_dn, f2008.dns_domain) in proc.stdout
    assert "OU=Staff,%s is in none" % f2008.base_dn not in proc.stdout
    assert "aad_connect_forests[0].domains: %s is not a domain of %s" % (corp.dns_domain, f2008.dns_domain) in proc.stdout


def test_ldap_settings_come_from_the_inventory_forest_host(lab, tmp_path):
    """No ldap option: the ems_ldap_* variables of the ad_forests host named like the forest."""
    f2008 = lab.forest("f2008")
    entry = forest_entry(f2008)
    del entry["ldap"]
    forests = {"ad_forests": {"hosts": {f2008.dns_domain: {
        "ansible_connection": "local", "ems_ldap_server": [dc.fqdn for dc in f2008.dcs],
        "ems_ldap_username": f2008.admin_user, "ems_ldap_password": f2008.admin_password,
        "ems_ldap_ca_file": f2008.ca_file}}}}
    proc, result = run_assess(lab, tmp_path, {"aad_connect_forests": [entry]}, inventory_extra=forests)
    assert proc.returncode == 0, proc.stdout
    assert result["forests"][0]["forest"] == f2008.dns_domain
    assert f2008.admin_password not in proc.stdout


# ---- above SQL Express LocalDB's ~100,000 objects -------------------------------------------------
# A forest with 100,001 generated users: the lab loads them offline before the first start (about
# 5 minutes of CPU on a 2-core machine, far longer on a busy one), then ad_forest_info counts them.
# Too slow for every run: EMS_SLOW_TESTS=1 turns it on.
BIG_USERS = 100001


@pytest.fixture(scope="module")
def big_lab():
    import os
    import sys
    import tempfile

    from conftest import STATE_PREFIX, check_lab_preflight, emslab, project_env

    if os.environ.get("EMS_SLOW_TESTS") != "1":
        pytest.skip("loads 100,001 users into a lab forest (minutes); set EMS_SLOW_TESTS=1 to run it")
    check_lab_preflight()
    state = tempfile.mkdtemp(prefix=STATE_PREFIX + "aadc-big-")
    big = emslab.Lab(state, env=project_env(), log=lambda msg: print(msg, file=sys.stderr))
    try:
        try:
            big.up([emslab.ForestSpec("big", "2008_R2", users=BIG_USERS)])
        except emslab.LabError as exc:
            pytest.fail("the big forest did not start (logs in %s): %s" % (state, exc), pytrace=False)
        yield big
    finally:
        big.down()


def big_entry(forest):
    entry = forest_entry(forest)
    entry["ldap"]["timeout"] = 300  # a paged count of 100,001 users on a busy lab DC
    return entry


def test_more_objects_than_localdb_holds_need_sql_server(big_lab, tmp_path):
    big = big_lab.forest("big")
    proc, _result = run_assess(big_lab, tmp_path, {"aad_connect_forests": [big_entry(big)]})
    assert proc.returncode != 0
    assert "aad_connect_sql_server: the forests hold" in proc.stdout
    assert "more than the ~100000 objects SQL Express LocalDB holds" in proc.stdout
    proc, result = run_assess(big_lab, tmp_path, {"aad_connect_forests": [big_entry(big)],
                                                  "aad_connect_sql_server": "sql01.big.emslab.test\\ADSYNC"})
    assert proc.returncode == 0, proc.stdout
    assert check(result, "aad_connect.object_count", big.dns_domain)["status"] == "warn"
