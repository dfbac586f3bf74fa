"""aad_connect: every option's bad input fails before any Windows host is contacted.

The role runs the way users run it (ansible-playbook, role in a play) against Windows hosts whose
WinRM address is a local listener that counts connections (connector_play.ConnectionCounter): it
must stay at 0. One inventory host per case, each with its own variables (host_vars), so one run
checks them all; the tree callback keeps each host's last result (its failure). The LDAP server of
the base configuration is 127.0.0.1 on a closed port: nothing leaves the machine even if a check
let bad input through. No Samba lab needed.
"""

from __future__ import annotations

import copy
import json
import socket
import subprocess
from pathlib import Path

import pytest
import yaml

from connector_play import project_env

pytestmark = pytest.mark.integration

DROP = object()


def closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


LDAP_PORT = closed_port()
FOREST = {
    "name": "corp.example.com",
    "ldap": {"server": ["127.0.0.1"], "port": LDAP_PORT, "transport": "ldap", "allow_cleartext": True,
             "username": "svc-read@corp.example.com", "password": "ldap-Pw-not-a-secret"},
    "connector_account": {"name": "svc-aadc", "ou": "OU=Service Accounts,DC=corp,DC=example,DC=com",
                          "password": "Connector-Pw-not-a-secret"},
}
BASE = {"aad_connect_msi_path": r"\\files\share\AzureADConnect.msi", "aad_connect_forests": [FOREST]}


def forest(**changes):
    """The base forest with changes; a key path 'a.b' reaches into a sub-dict, DROP removes."""
    f = copy.deepcopy(FOREST)
    for path, value in changes.items():
        keys = path.split("__")
        target = f
        for key in keys[:-1]:
            target = target[key]
        if value is DROP:
            target.pop(keys[-1], None)
        else:
            target[keys[-1]] = value
    return f


# (case id, variables replacing the base ones, text the failure message must contain)
CASES = [
    ("forests_missing", {"aad_connect_forests": DROP}, "missing required arguments: aad_connect_forests"),
    ("forests_type", {"aad_connect_forests": "corp.example.com"},
     "Elements value for option 'aad_connect_forests' is of type str"),
    ("forests_empty", {"aad_connect_forests": []}, "aad_connect_forests: empty"),
    ("forests_twice", {"aad_connect_forests": [FOREST, FOREST]}, "listed twice"),
    ("forest_name_missing", {"aad_connect_forests": [forest(name=DROP)]}, "missing required arguments: name found in aad_connect_forests"),
    ("forest_name_bad", {"aad_connect_forests": [forest(name="corp example")]}, "].name: corp example is not a DNS name"),
    ("forest_name_type", {"aad_connect_forests": [forest(name=["corp.example.com"])]}, "].name: must be text"),
    ("ldap_type", {"aad_connect_forests": [forest(ldap="dc1")]}, "argument 'ldap' is of type str found in 'aad_connect_forests'"),
    ("ldap_server_missing", {"aad_connect_forests": [forest(ldap__server=DROP)]},
     "missing required arguments: server found in aad_connect_forests -> ldap"),
    ("ldap_server_item", {"aad_connect_forests": [forest(ldap__server=[{"dc": 1}])]}, ".ldap.server[0]: must be text"),
    ("ldap_port", {"aad_connect_forests": [forest(ldap__port="ldaps")]},
     "argument 'port' is of type str found in 'aad_connect_forests -> ldap'"),
    ("ldap_transport", {"aad_connect_forests": [forest(ldap__transport="tls")]},
     "value of transport must be one of: ldaps, starttls, ldap, got: tls found in aad_connect_forests -> ldap"),
    ("ldap_auth", {"aad_connect_forests": [forest(ldap__auth="ntlm")]},
     "value of auth must be one of: simple, kerberos, got: ntlm found in aad_connect_forests -> ldap"),
    ("ldap_username", {"aad_connect_forests": [forest(ldap__username=["u"])]}, ".ldap.username: must be text"),
    ("ldap_password", {"aad_connect_forests": [forest(ldap__password={"p": 1})]}, ".ldap.password: must be text"),
    ("ldap_ca_file", {"aad_connect_forests": [forest(ldap__ca_file="/nonexistent/ca.pem")]},
     ".ldap.ca_file: /nonexistent/ca.pem is not a file on the controller"),
    ("ldap_validate_certs", {"aad_connect_forests": [forest(ldap__validate_certs="maybe")]},
     "argument 'validate_certs' is of type str found in 'aad_connect_forests -> ldap'"),
    ("ldap_timeout", {"aad_connect_forests": [forest(ldap__timeout="soon")]},
     "argument 'timeout' is of type str found in 'aad_connect_forests -> ldap'"),
    ("ldap_allow_cleartext", {"aad_connect_forests": [forest(ldap__allow_cleartext="maybe")]},
     "argument 'allow_cleartext' is of type str found in 'aad_connect_forests -> ldap'"),
    ("ldap_none", {"aad_connect_forests": [forest(ldap=DROP)]}, ".ldap: no LDAP settings for corp.example.com"),
    ("ldap_host_unknown", {"aad_connect_forests": [forest(ldap=DROP, ldap_host="nowhere")]},
     ".ldap_host: nowhere is not in the inventory"),
    ("admin_type", {"aad_connect_forests": [forest(admin="CORP\\ea")]},
     "argument 'admin' is of type str found in 'aad_connect_forests'"),
    ("admin_username_missing", {"aad_connect_forests": [forest(admin={"password": "x"})]},
     "missing required arguments: username found in aad_connect_forests -> admin"),
    ("admin_username_domain", {"aad_connect_forests": [forest(admin={"username": "ea", "password": "x"})]},
     ".admin.username: ea has no domain"),
    ("admin_password_missing", {"aad_connect_forests": [forest(admin={"username": "CORP\\ea"})]},
     "missing required arguments: password found in aad_connect_forests -> admin"),
    ("admin_password_type", {"aad_connect_forests": [forest(admin={"username": "CORP\\ea", "password": ["x"]})]},
     ".admin.password: must be text"),
    ("domain_server_bad", {"aad_connect_forests": [forest(domain_server="dc 1")]}, ".domain_server: dc 1 is not a DNS name"),
    ("connector_missing", {"aad_connect_forests": [forest(connector_account=DROP)]},
     "missing required arguments: connector_account found in aad_connect_forests"),
    ("connector_name_missing", {"aad_connect_forests": [forest(connector_account__name=DROP)]},
     "missing required arguments: name found in aad_connect_forests -> connector_account"),
    ("connector_name_long", {"aad_connect_forests": [forest(connector_account__name="a" * 21)]},
     "is not a valid sAMAccountName"),
    ("connector_name_chars", {"aad_connect_forests": [forest(connector_account__name="svc@aadc")]},
     "is not a valid sAMAccountName"),
    ("connector_domain_bad", {"aad_connect_forests": [forest(connector_account__domain="corp example")]},
     ".connector_account.domain: corp example is not a DNS name"),
    ("connector_domain_forest", {"aad_connect_forests": [forest(connector_account__domain="fabrikam.example.org")]},
     "is not in forest corp.example.com"),
    ("connector_ou_bad", {"aad_connect_forests": [forest(connector_account__ou="Service Accounts")]},
     ".connector_account.ou: Service Accounts is not a distinguished name"),
    ("connector_ou_domain", {"aad_connect_forests": [forest(connector_account__ou="OU=Svc,DC=fabrikam,DC=org")]},
     "is not a distinguished name in corp.example.com"),
    ("connector_password_missing", {"aad_connect_forests": [forest(connector_account__password=DROP)]},
     "create is True but all of the following are missing: password found in aad_connect_forests -> connector_account"),
    ("connector_password_empty", {"aad_connect_forests": [forest(connector_account__password="")]},
     ".connector_account.password: empty"),
    ("connector_create", {"aad_connect_forests": [forest(connector_account__create="maybe")]},
     "argument 'create' is of type str found in 'aad_connect_forests -> connector_account'"),
    ("connector_upn", {"aad_connect_forests": [forest(connector_account__upn="svc-aadc")]},
     ".connector_account.upn: svc-aadc is not a UPN"),
    ("connector_description", {"aad_connect_forests": [forest(connector_account__description="x" * 1025)]},
     ".connector_account.description: longer than 1024 characters"),
    ("domains_bad", {"aad_connect_forests": [forest(domains=["corp example"])]}, ".domains: corp example is not a DNS name"),
    ("domains_item", {"aad_connect_forests": [forest(domains=[{"d": 1}])]}, ".domains[0]: must be text"),
    ("sync_ous_bad", {"aad_connect_forests": [forest(sync_ous=["Staff"])]}, ".sync_ous: Staff is not a distinguished name"),
    ("permissions_host", {"aad_connect_forests": [forest(permissions_host="nowhere")]},
     ".permissions_host: nowhere is not in the inventory"),
    ("msi_neither", {"aad_connect_msi_path": DROP}, "aad_connect_msi_src / aad_connect_msi_path: neither is set"),
    ("msi_both", {"aad_connect_msi_src": "@MSI@"}, "are both set"),
    ("msi_src_missing", {"aad_connect_msi_path": DROP, "aad_connect_msi_src": "/nonexistent/AzureADConnect.msi"},
     "aad_connect_msi_src: /nonexistent/AzureADConnect.msi is not a file on the controller"),
    ("msi_src_not_msi", {"aad_connect_msi_path": DROP, "aad_connect_msi_src": "@EXE@"}, "is not an .msi file"),
    ("msi_path_not_msi", {"aad_connect_msi_path": r"\\files\share\setup.exe"},
     "aad_connect_msi_path: \\\\files\\share\\setup.exe is not an .msi file"),
    ("msi_share_type", {"aad_connect_msi_share_credentials": "CORP\\reader"},
     "argument 'aad_connect_msi_share_credentials' is of type str"),
    ("msi_share_password", {"aad_connect_msi_share_credentials": {"username": "CORP\\reader"}},
     "missing required arguments: password found in aad_connect_msi_share_credentials"),
    ("msi_share_username", {"aad_connect_msi_share_credentials": {"username": ["x"], "password": "p"}},
     "aad_connect_msi_share_credentials.username: must be text"),
    ("msi_product_id", {"aad_connect_msi_product_id": "1234"}, "aad_connect_msi_product_id: 1234 is not a product code"),
    ("msi_version", {"aad_connect_msi_version": "latest"}, "aad_connect_msi_version: latest is not a version"),
    ("msi_remote_dir", {"aad_connect_msi_remote_dir": "temp\\aadc"}, "aad_connect_msi_remote_dir: temp\\aadc is not an absolute"),
    ("minimum_forest_level", {"aad_connect_minimum_forest_level": "2009"},
     "value of aad_connect_minimum_forest_level must be one of: 2000, 2003_interim, 2003, 2008"),
    ("count_objects", {"aad_connect_count_objects": "maybe"}, "argument 'aad_connect_count_objects' is of type str"),
    ("sql_server", {"aad_connect_sql_server": "np:\\\\sql\\pipe\\sql\\query"}, "is not a SQL Server instance"),
    ("sql_database_empty", {"aad_connect_sql_server": "sql01\\ADSYNC", "aad_connect_sql_database": ""},
     "aad_connect_sql_database: empty"),
    ("sql_database_chars", {"aad_connect_sql_server": "sql01", "aad_connect_sql_database": "AD Sync;"},
     "aad_connect_sql_database: AD Sync; is not a database name"),
    ("tenant", {"aad_connect_tenant": "contoso"}, "aad_connect_tenant: contoso is not a domain name"),
    ("hybrid_admin", {"aad_connect_hybrid_admin": "admin"}, "aad_connect_hybrid_admin: admin is not a UPN"),
    ("verified_domains", {"aad_connect_verified_domains": ["contoso com"]},
     "aad_connect_verified_domains: contoso com is not a domain name"),
    ("verified_domains_item", {"aad_connect_verified_domains": [{"d": 1}]}, "aad_connect_verified_domains[0]: must be text"),
    ("upn_attribute", {"aad_connect_user_principal_name_attribute": "user principal name"},
     "aad_connect_user_principal_name_attribute: user principal name is not an attribute name"),
    ("source_anchor", {"aad_connect_source_anchor": "mail"},
     "value of aad_connect_source_anchor must be one of: ms-DS-ConsistencyGuid, objectGUID, got: mail"),
    ("settings_json", {"aad_connect_settings_json": "C:\\settings.xml"}, "aad_connect_settings_json: C:\\settings.xml is not a .json"),
    ("staging_mode", {"aad_connect_staging_mode": "maybe"}, "argument 'aad_connect_staging_mode' is of type str"),
    ("leave_staging_mode", {"aad_connect_leave_staging_mode": "maybe"},
     "argument 'aad_connect_leave_staging_mode' is of type str"),
    ("sync_interval_type", {"aad_connect_sync_interval": "soon"}, "argument 'aad_connect_sync_interval' is of type str"),
    ("sync_interval_range", {"aad_connect_sync_interval": 10}, "aad_connect_sync_interval: 10 minutes is out of range"),
    ("adsync_admin", {"aad_connect_adsync_admin": "two words"}, "aad_connect_adsync_admin: two words is not an account name"),
    ("adsync_admins_manage", {"aad_connect_adsync_admins_manage": "maybe"},
     "argument 'aad_connect_adsync_admins_manage' is of type str"),
    ("scheduler_enabled", {"aad_connect_scheduler_enabled": "maybe"},
     "argument 'aad_connect_scheduler_enabled' is of type str"),
    ("deletion_threshold_type", {"aad_connect_deletion_threshold": "many"},
     "argument 'aad_connect_deletion_threshold' is of type str"),
    ("deletion_threshold_zero", {"aad_connect_deletion_threshold": 0}, "aad_connect_deletion_threshold: 0"),
    ("start_sync_cycle", {"aad_connect_start_sync_cycle": "full"},
     "value of aad_connect_start_sync_cycle must be one of: none, delta, initial, got: full"),
    ("reboot_allowed", {"aad_connect_reboot_allowed": "maybe"}, "argument 'aad_connect_reboot_allowed' is of type str"),
    ("reboot_timeout_type", {"aad_connect_reboot_timeout": "long"}, "argument 'aad_connect_reboot_timeout' is of type str"),
    ("reboot_timeout_short", {"aad_connect_reboot_timeout": 5}, "aad_connect_reboot_timeout: 5 seconds is too short"),
    ("verify_cloud", {"aad_connect_verify_cloud_connectivity": "sometimes"},
     "value of aad_connect_verify_cloud_connectivity must be one of: auto, always, never, got: sometimes"),
    ("azure_environment", {"aad_connect_azure_environment": "Mars"},
     "value of aad_connect_azure_environment must be one of: Worldwide"),
]
# Staging mode rules look at every host of the play: their own runs.
STAGING_CASES = [
    ("leave_without_switch", {"aad_connect_staging_mode": False},
     "aad_connect_staging_mode: false without aad_connect_leave_staging_mode: true"),
]
TWO_ACTIVE = {"aad_connect_staging_mode": False, "aad_connect_leave_staging_mode": True}
#: Options of meta/argument_specs.yml each case is about (the test below checks none is forgotten).
SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "roles/aad_connect/meta/argument_specs.yml").read_text())


def host_vars(overrides, files):
    data = copy.deepcopy(BASE)
    for key, value in overrides.items():
        if value is DROP:
            data.pop(key, None)
        elif value in ("@MSI@", "@EXE@"):
            data[key] = files[value]
        else:
            data[key] = value
    return data


def run_cases(tmp_path, cases, counter, files):
    """One ansible-playbook run, one host per case. Returns (output, {case: last result})."""
    inv = {"all": {"children": {"aad_connect": {
        "hosts": {case: None for case, _o, _e in cases},
        "vars": {"ansible_connection": "winrm", "ansible_host": "127.0.0.1", "ansible_port": counter.port,
                 "ansible_winrm_scheme": "http", "ansible_winrm_transport": "ntlm", "ansible_user": "ems-test",
                 "ansible_password": "ems-test-not-a-secret", "ansible_winrm_operation_timeout_sec": 3,
                 "ansible_winrm_read_timeout_sec": 5}}}}}
    (tmp_path / "host_vars").mkdir(parents=True, exist_ok=True)
    for case, overrides, _expect in cases:
        (tmp_path / "host_vars" / (case + ".yml")).write_text(yaml.safe_dump(host_vars(overrides, files)))
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inv))
    (tmp_path / "play.yml").write_text(yaml.safe_dump([{
        "name": "aad_connect bad input", "hosts": "aad_connect", "gather_facts": False,
        "roles": [{"role": "ems.enable.aad_connect"}]}]))
    tree = tmp_path / "tree"
    env = project_env({"ANSIBLE_CALLBACKS_ENABLED": "ansible.builtin.tree", "ANSIBLE_CALLBACK_TREE_DIR": str(tree),
                       "ANSIBLE_FORKS": "20"})
    proc = subprocess.run(["ansible-playbook", "-i", str(tmp_path / "inventory.yml"), str(tmp_path / "play.yml")],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=600, check=False)
    output = proc.stdout + proc.stderr
    results = {}
    for case, _o, _e in cases:
        path = tree / case
        results[case] = json.loads(path.read_text()) if path.exists() else None
    return output, results


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("msi")
    (d / "AzureADConnect.msi").write_bytes(b"not really an MSI")
    (d / "setup.exe").write_bytes(b"not an MSI")
    return {"@MSI@": str(d / "AzureADConnect.msi"), "@EXE@": str(d / "setup.exe")}


@pytest.fixture(scope="module")
def bad_input_run(tmp_path_factory, counter, files):
    tmp = tmp_path_factory.mktemp("aadc-input")
    before = counter.count
    output, results = run_cases(tmp, CASES + [("valid", {}, None)], counter, files)
    return output, results, counter.count - before


@pytest.mark.parametrize("case,overrides,expect", CASES, ids=[c[0] for c in CASES])
def test_bad_input_fails_naming_the_option(bad_input_run, case, overrides, expect):
    output, results, _connections = bad_input_run
    result = results[case]
    assert result is not None, output[-3000:]
    assert "fatal: [%s]: FAILED!" % case in output
    assert expect in result["msg"], result["msg"]
    assert "Remedy" in result["msg"] or "argument_errors" in result, result
    assert "not-a-secret" not in result["msg"]


def test_no_windows_host_was_contacted(bad_input_run):
    output, _results, connections = bad_input_run
    assert connections == 0, output[-3000:]
    assert "UNREACHABLE" not in output
    assert "unreachable=1" not in output
    assert "not-a-secret" not in output  # passwords of the inputs never shown, even in failures


def test_valid_input_passes_validation_and_stops_at_ldap_on_the_controller(bad_input_run):
    """The control host: the inputs pass; the first failure is the forest read over LDAP (127.0.0.1,
    closed port) on the controller, still before any task on the Windows host."""
    output, results, connections = bad_input_run
    result = results["valid"]
    assert "failed: [valid] (item=corp.example.com)" in output
    assert "127.0.0.1:%d" % LDAP_PORT in result["results"][0]["msg"], result
    assert connections == 0


def test_every_option_has_a_bad_input_case():
    options = SPEC["argument_specs"]["main"]["options"]
    covered = {"aad_connect_forests", "aad_connect_msi_src", "aad_connect_msi_path"}
    for _case, overrides, _expect in CASES + STAGING_CASES:
        covered.update(overrides)
    missing = sorted(set(options) - covered)
    assert not missing, "options without a bad-input case: %s" % missing
    forest_options = options["aad_connect_forests"]["options"]
    nested = {"name", "ldap", "ldap_host", "admin", "domain_server", "connector_account", "domains", "sync_ous",
              "permissions_host"}
    assert set(forest_options) == nested, sorted(forest_options)
    ids = " ".join(c[0] for c in CASES)
    for sub in forest_options["ldap"]["options"]:
        assert "ldap_" + sub in ids, sub
    for sub in forest_options["connector_account"]["options"]:
        assert "connector_" + sub in ids, sub


def test_staging_mode_rules(tmp_path, counter, files):
    before = counter.count
    cases = STAGING_CASES + [("active1", TWO_ACTIVE, None), ("active2", TWO_ACTIVE, None)]
    output, results = run_cases(tmp_path, cases, counter, files)
    assert STAGING_CASES[0][2] in results["leave_without_switch"]["msg"]
    for host in ("active1", "active2"):
        msg = results[host]["msg"]
        assert "only one server may export to a tenant" in msg, msg
        assert "active1" in msg and "active2" in msg
    assert counter.count == before, output[-3000:]
