"""aad_connect's controller-side decisions, run by Ansible with the values a sync server reports.

No Windows host runs here, so the parts of the role that only decide (the wizard's instructions
computed from the inventory, the verdicts of verify) are run as Ansible runs them - the role's
own task files on localhost - fed with what ems.enable.aad_connect_info returns on a server
(its documented RETURN shape). What they tell the operator is checked word for word where it
matters: the wizard page, the choice, the value.
"""

from __future__ import annotations

import copy
import json
import subprocess

import pytest
import yaml

from connector_play import ROOT, project_env, run_role_tasks

pytestmark = pytest.mark.integration

SECRET = "Connector-Pw-not-a-secret"
FOREST = {
    "name": "corp.example.com",
    "ldap": {"server": ["dc1.corp.example.com"], "password": "ldap-pw-not-a-secret"},
    "connector_account": {"name": "svc-aadc", "ou": "OU=Service Accounts,DC=corp,DC=example,DC=com",
                          "password": SECRET},
    "sync_ous": ["OU=Staff,DC=corp,DC=example,DC=com", "OU=Groups,DC=corp,DC=example,DC=com"],
}
FACTS = {"corp.example.com": {"forest": "corp.example.com", "upn_suffixes": [
    {"suffix": "corp.example.com", "routable": True}, {"suffix": "contoso.com", "routable": True},
    {"suffix": "corp.local", "routable": False}]}}
INFO = {"product": {"installed": True, "install_dir": "C:\\Program Files\\Microsoft Azure Active Directory Connect",
                    "version": "2.5.79.0"}, "configured": False, "state": {"deletion_threshold": None}}

HEALTHY = {
    "product": {"installed": True, "version": "2.5.79.0"},
    "sync_engine": {"installed": True, "service_state": "running", "module": True},
    "configured": True,
    "connectors": [{"name": "corp.example.com", "kind": "ad"}, {"name": "contoso.onmicrosoft.com - AAD", "kind": "entra"}],
    "scheduler": {"allowed_interval_minutes": 30, "customized_interval_minutes": None, "effective_interval_minutes": 30,
                  "sync_cycle_enabled": True, "staging_mode_enabled": True, "scheduler_suspended": False},
    "staging_mode": True,
    "password_hash_sync": [{"connector": "corp.example.com", "target": "contoso.onmicrosoft.com - AAD", "enabled": True}],
    "tenant_password_hash_sync": {"read": True, "enabled": True, "connector": "contoso.onmicrosoft.com - AAD",
                                  "message": None},
    "run_results": [
        {"connector": "contoso.onmicrosoft.com - AAD", "run_profile": "Export", "result": "success", "start": "t2"},
        {"connector": "corp.example.com", "run_profile": "Delta Synchronization", "result": "success", "start": "t2"},
        {"connector": "corp.example.com", "run_profile": "Delta Import", "result": "completed-sync-errors", "start": "t1"},
    ],
    "cloud_connectivity": {"tested": True, "result": True, "message": "True"},
}


DUMP = ("{{ {'steps': __aad_connect_wizard_steps | default(none), "
        "'values': __aad_connect_wizard_values | default(none)} | to_json }}")


def run_tasks(tmp_path, tasks_from, role_vars, facts):
    """include_role tasks_from on localhost with facts set first; returns (process, dumped vars)."""
    return run_role_tasks(tmp_path, "aad_connect", tasks_from, role_vars, facts, dump=DUMP)


def wizard(tmp_path, **role_vars):
    base = {"aad_connect_forests": [FOREST], "aad_connect_tenant": "contoso.onmicrosoft.com",
            "aad_connect_hybrid_admin": "hia@contoso.onmicrosoft.com", "aad_connect_verified_domains": ["contoso.com"]}
    base.update(role_vars)
    proc, dumped = run_tasks(tmp_path, "wizard_steps", base, {"__aad_connect_info": INFO, "__aad_connect_facts": FACTS})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dumped["steps"], dumped["values"]


def step(steps, page):
    found = [s for s in steps if s.startswith(page)]
    assert len(found) == 1, (page, steps)
    return found[0]


def test_wizard_custom_installation_choices(tmp_path):
    steps, values = wizard(tmp_path)
    assert "C:\\Program Files\\Microsoft Azure Active Directory Connect\\AzureADConnect.exe" in steps[0]
    assert step(steps, "Express Settings page") == "Express Settings page: select Customize."
    assert "leave every box cleared (SQL Server Express LocalDB" in step(steps, "Install required components")
    assert step(steps, "User sign-in").startswith("User sign-in: select Password Hash Synchronization")
    assert "sign in as hia@contoso.onmicrosoft.com" in step(steps, "Connect to Microsoft Entra ID")
    directory = step(steps, "Connect your directories")
    assert "FOREST corp.example.com" in directory and "USERNAME corp.example.com\\svc-aadc" in directory
    assert "aad_connect_forests[0].connector_account.password" in directory
    upn = step(steps, "Microsoft Entra sign-in configuration")
    assert "USER PRINCIPAL NAME = userPrincipalName" in upn
    assert "contoso.com (Verified)" in upn
    assert "corp.example.com (expect Not Added/Not Verified" in upn
    assert "corp.local (not routable" in upn
    ous = step(steps, "Domain and OU filtering")
    assert "tick exactly these OUs (clear all others): OU=Staff,DC=corp,DC=example,DC=com; OU=Groups" in ous
    assert '"Let Azure manage the source anchor"' in step(steps, "Identifying users")
    ready = step(steps, "Ready to configure")
    assert 'tick "Enable staging mode"' in ready and 'tick "Start the synchronization process' in ready
    assert values["Staging mode"] == "ON" and values["User sign-in"] == "Password Hash Synchronization"
    assert SECRET not in json.dumps([steps, values]) and "ldap-pw-not-a-secret" not in json.dumps([steps, values])


def test_wizard_with_sql_server_no_staging_and_object_guid(tmp_path):
    forest = copy.deepcopy(FOREST)
    forest["sync_ous"] = []
    steps, values = wizard(tmp_path, aad_connect_forests=[forest], aad_connect_sql_server="sql01\\ADSYNC",
                           aad_connect_staging_mode=False, aad_connect_leave_staging_mode=True,
                           aad_connect_source_anchor="objectGUID", aad_connect_scheduler_enabled=False)
    assert 'tick "Use an existing SQL Server": server and instance sql01\\ADSYNC, database ADSync' in step(
        steps, "Install required components")
    assert step(steps, "Domain and OU filtering") == 'Domain and OU filtering: select "Sync all domains and OUs".'
    assert '"Choose a specific attribute": objectGUID' in step(steps, "Identifying users")
    ready = step(steps, "Ready to configure")
    assert 'clear "Enable staging mode" (this server becomes the one that exports' in ready
    assert 'clear "Start the synchronization process' in ready
    assert values["SQL Server"] == "sql01\\ADSYNC / database ADSync"


def test_wizard_import_of_a_settings_json(tmp_path):
    steps, values = wizard(tmp_path, aad_connect_settings_json="C:\\setup\\Applied-SynchronizationPolicy-1.json")
    assert 'tick "Import synchronization settings" and browse to C:\\setup\\Applied-SynchronizationPolicy-1.json' in step(
        steps, "Install required components")
    assert "Domain and OU filtering" not in " ".join(steps)  # imported, not chosen page by page
    assert 'select "Use existing AD account", user corp.example.com\\svc-aadc' in step(steps, "Connect your directories")
    assert values["Settings to import"].endswith("Applied-SynchronizationPolicy-1.json")


def verify(tmp_path, state, **role_vars):
    base = {"aad_connect_forests": [FOREST]}
    base.update(role_vars)
    return run_tasks(tmp_path, "verify_checks", base, {"__aad_connect_verify": state})


def test_verify_healthy_server_passes_and_reads_only_the_latest_run_per_connector(tmp_path):
    proc, _dumped = verify(tmp_path, HEALTHY)
    assert proc.returncode == 0, proc.stdout
    assert "last runs without errors" in proc.stdout


@pytest.mark.parametrize("change,role_vars,expect", [
    ({"sync_engine": {"installed": True, "service_state": "stopped", "module": True}}, {},
     "the ADSync service is stopped. Remedy: Start-Service ADSync"),
    ({"configured": False, "connectors": [], "scheduler": None}, {},
     "no connector: the initial configuration (attended step aad_connect.initial_configuration) is pending"),
    ({"sync_engine": {"installed": False, "service_state": None, "module": False}}, {},
     "the ADSync service does not exist: the initial configuration"),
    ({"staging_mode": False, "scheduler": dict(HEALTHY["scheduler"], staging_mode_enabled=False)}, {},
     "staging mode is off, aad_connect_staging_mode says on"),
    ({}, {"aad_connect_sync_interval": 60}, "the sync cycle runs every 30 minutes, not 60"),
    ({"scheduler": dict(HEALTHY["scheduler"], sync_cycle_enabled=False)}, {},
     "scheduler SyncCycleEnabled is False, aad_connect_scheduler_enabled is True"),
    ({"password_hash_sync": [{"connector": "corp.example.com", "enabled": False}]}, {},
     "password hash sync is off for connector corp.example.com"),
    ({"tenant_password_hash_sync": {"read": True, "enabled": False, "connector": "contoso.onmicrosoft.com - AAD",
                                    "message": None}}, {},
     'the tenant has password hash sync off (Get-ADSyncAADCompanyFeature -ConnectorName "contoso.onmicrosoft.com - AAD"'),
    ({"run_results": [{"connector": "corp.example.com", "run_profile": "Export", "result": "stopped-deletion-threshold-exceeded",
                       "start": "t3"}] + HEALTHY["run_results"]}, {},
     "last run of corp.example.com (Export, t3) ended stopped-deletion-threshold-exceeded"),
    ({"cloud_connectivity": {"tested": True, "result": False, "message": "proxy 407"}},
     {"aad_connect_verify_cloud_connectivity": "always"}, "Test-AdSyncAzureServiceConnectivity failed: proxy 407"),
    ({"product": {"installed": False, "version": None}}, {}, "Entra Connect is not installed"),
])
def test_verify_names_what_is_wrong(tmp_path, change, role_vars, expect):
    state = copy.deepcopy(HEALTHY)
    state.update(change)
    proc, _dumped = verify(tmp_path, state, **role_vars)
    assert proc.returncode != 0
    assert expect in proc.stdout, proc.stdout


def test_verify_without_internet_only_warns_in_auto_mode(tmp_path):
    state = copy.deepcopy(HEALTHY)
    state["cloud_connectivity"] = {"tested": True, "result": False, "message": "no route to host"}
    proc, _dumped = verify(tmp_path, state)
    assert proc.returncode == 0, proc.stdout
    assert "Test-AdSyncAzureServiceConnectivity -AzureEnvironment Worldwide did not succeed: no route to host" in proc.stdout


def test_verify_warns_when_the_tenant_feature_was_not_read(tmp_path):
    state = copy.deepcopy(HEALTHY)
    state["tenant_password_hash_sync"] = {"read": False, "enabled": None, "connector": "contoso.onmicrosoft.com - AAD",
                                          "message": "no route to host"}
    proc, _dumped = verify(tmp_path, state)
    assert proc.returncode == 0, proc.stdout
    assert "the tenant's password hash sync feature (Get-ADSyncAADCompanyFeature, PasswordHashSync) was not read: no route" in proc.stdout


def test_verify_warns_about_a_forest_without_its_connector(tmp_path):
    other = copy.deepcopy(FOREST)
    other["name"] = "fabrikam.example.com"
    proc, _dumped = verify(tmp_path, HEALTHY, aad_connect_forests=[FOREST, other])
    assert proc.returncode == 0, proc.stdout
    assert "no AD connector named after fabrikam.example.com" in proc.stdout


def test_accounts_assert_names_a_connector_account_that_failed(tmp_path):
    """Issue 19 finding 12: the role's own loop task keywords (register, error handling, no_log) with a
    stand-in module that fails for one forest, then the role's own assert: it must fail naming it."""
    tasks = yaml.safe_load((ROOT / "roles" / "aad_connect" / "tasks" / "accounts.yml").read_text())
    loop_task = next(t for t in tasks if t.get("register") == "__aad_connect_accounts")
    check = next(t for t in tasks if t.get("name") == "Accounts | every connector account is in place")
    stand_in = {k: v for k, v in loop_task.items() if k in (
        "name", "register", "failed_when", "ignore_errors", "no_log", "loop_control")}
    stand_in["loop"] = ["good.example.com", "bad.example.com"]
    stand_in["ansible.builtin.assert"] = {"that": "__name != 'bad.example.com'", "fail_msg": "OU not found"}
    play = [{"name": "accounts logic", "hosts": "localhost", "gather_facts": False,
             "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"}, "tasks": [stand_in, check]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    proc = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", str(tmp_path / "play.yml")],
                          cwd=str(tmp_path), env=project_env(), capture_output=True, text=True, timeout=300,
                          check=False)
    out = " ".join(proc.stdout.split())
    assert proc.returncode == 2, out
    assert "bad.example.com: OU not found" in out
    assert "good.example.com:" not in out


@pytest.mark.parametrize("added,ok", [([], True), (["CORP\\adm"], False)])
def test_adsync_admins_membership_is_checked_naming_group_and_account(tmp_path, added, ok):
    proc, _dumped = run_role_tasks(tmp_path, "aad_connect", "adsync_admins_check", {"aad_connect_adsync_admin": "CORP\\adm"},
                                   {"__aad_connect_adsync_admins": {"changed": bool(added), "added": added}})
    assert (proc.returncode == 0) is ok, proc.stdout
    if not ok:
        assert "CORP\\adm is not a member of the local group ADSyncAdmins" in proc.stdout, proc.stdout


def test_adsync_admins_verify_only_reads_and_configure_adds_first():
    tasks = ROOT / "roles" / "aad_connect" / "tasks"
    (add,) = [t for t in yaml.safe_load((tasks / "adsync_admins_add.yml").read_text()) if "ansible.windows.win_group_membership" in t]
    (read,) = [t for t in yaml.safe_load((tasks / "adsync_admins.yml").read_text()) if "ansible.windows.win_group_membership" in t]
    assert add["ansible.windows.win_group_membership"]["name"] == read["ansible.windows.win_group_membership"]["name"] == "ADSyncAdmins"
    assert read["check_mode"] is True and read["changed_when"] is False
    verify = yaml.safe_load((tasks / "verify.yml").read_text())
    assert verify[1]["ansible.builtin.include_tasks"] == "adsync_admins.yml"
    configure = yaml.safe_load((tasks / "configure.yml").read_text())
    assert [t["ansible.builtin.include_tasks"] for t in configure[:2]] == ["adsync_admins_add.yml", "adsync_admins.yml"]
    assert configure[0]["when"] == "aad_connect_adsync_admins_manage | bool"  # before the first ADSync cmdlet
