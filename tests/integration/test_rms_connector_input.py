"""Bad input of the role ems.enable.rms_connector fails before any Windows host is contacted.

Each option of roles/rms_connector/meta/argument_specs.yml has at least one bad value here. Bad values
are grouped into a few ansible-playbook runs (the argument validation and connector_preflight list
every fault at once); each option is its own test on the cached run. The hosts' WinRM address is a
local listener: every test also asserts that it received no connection.
"""

from __future__ import annotations

import pytest

from connector_play import assert_failed_before_contact, bad_input_params, cached_runs, run_role, spec_options

GROUPS = {
    "rms_connector": ["rms01.corp.example.invalid", "rms02.corp.example.invalid"],
    "one_connector": ["rms01.corp.example.invalid"],
    "domain_controllers": ["dc01.corp.example.invalid"],
    "exchange_servers": ["ex01.corp.example.invalid"],
    "sharepoint_servers": ["sp01.corp.example.invalid"],
    "fci_servers": ["fs01.corp.example.invalid"],
    "dns_servers": ["dc01.corp.example.invalid"],
}
GOOD = {
    "rms_connector_name": "rmsconnector.corp.example.invalid",
    "rms_connector_certificate_thumbprint": "A" * 40,
    "rms_connector_sharepoint_accounts": ["CORP\\sp-farm", "CORP\\sp-apppool"],
}
# The removed rms_connector_admin_password: an old inventory that still sets it (with the characters the
# removed rule refused) gets a warning and goes on; its value is never printed.
OLD_PASSWORD = "Pw&[x]\"y'z-2024"

SCENARIOS = {
    # The argument validation: wrong types and choices, a missing required option.
    "argspec": dict({k: v for k, v in GOOD.items() if k != "rms_connector_name"},
                    rms_connector_protocol="ftp", rms_connector_cloud="Azure",
                    rms_connector_require_fault_tolerance="maybe", rms_connector_disable_legacy_tls="maybe",
                    rms_connector_allow_reboot="maybe", rms_connector_manage_dns="maybe",
                    rms_connector_verify_through_name="maybe", rms_connector_fci_computer_accounts="not-a-dict",
                    rms_connector_verify_retries="many", rms_connector_verify_delay="a minute",
                    rms_connector_iis_features={"Web-Server": 1}, rms_connector_sharepoint_accounts={"a": 1}),
    # connector_preflight: every semantic fault of the inputs at once.
    "inputs": dict(GOOD, rms_connector_name="rmsconnector", rms_connector_certificate_thumbprint="xyz",
                   rms_connector_admin_account="rmsadmin",
                   rms_connector_exchange_servers_group=" ",
                   rms_connector_sharepoint_accounts=["not an account"],
                   rms_connector_fci_computer_accounts={"fs01.corp.example.invalid": "FS01"},
                   rms_connector_netbios_domain="corp.example.invalid",
                   rms_connector_installer_src="/nonexistent/RMSConnectorSetup.exe", rms_connector_work_dir="rms",
                   rms_connector_iis_features=["Web-Windows-Auth"], rms_connector_proxy="proxy:8080",
                   rms_connector_manage_dns=True, rms_connector_dns_group="no_such_group",
                   rms_connector_dns_address="10.0.0.300", rms_connector_dns_zone="fabrikam.invalid"),
    # Connector servers that are also DCs / Exchange / SharePoint / FCI servers.
    "overlap": dict(GOOD, rms_connector_domain_controllers_group="rms_connector",
                    rms_connector_exchange_group="rms_connector", rms_connector_sharepoint_group="rms_connector",
                    rms_connector_fci_group="rms_connector"),
    "no_group": dict(GOOD, rms_connector_group="no_such_group"),
    "one_server": dict(GOOD, rms_connector_group="one_connector"),
    "https_without_certificate": {k: v for k, v in GOOD.items() if k != "rms_connector_certificate_thumbprint"},
}

BOOL = "argument '%s' is of type str and we were unable to convert to bool"

# option -> (scenario, texts the output must contain)
CASES = {
    "rms_connector_name": [("argspec", ["missing required arguments: rms_connector_name"]),
                           ("inputs", ["rms_connector_name 'rmsconnector' is not a fully qualified DNS name"])],
    "rms_connector_protocol": [("argspec", ["value of rms_connector_protocol must be one of: https, http, got: ftp"])],
    "rms_connector_certificate_thumbprint": [
        ("inputs", ["rms_connector_certificate_thumbprint 'xyz' is not a SHA-1 thumbprint"]),
        ("https_without_certificate", ["rms_connector_protocol is https but rms_connector_certificate_thumbprint is not set"])],
    "rms_connector_require_fault_tolerance": [
        ("argspec", [BOOL % "rms_connector_require_fault_tolerance"]),
        ("one_server", ["1 RMS connector server(s)", "at least 2", "rms_connector_require_fault_tolerance: false"])],
    "rms_connector_cloud": [("argspec", ["value of rms_connector_cloud must be one of: AzureCloud"])],
    "rms_connector_admin_account": [("inputs", ["rms_connector_admin_account 'rmsadmin' is not a user principal name"])],
    "rms_connector_group": [("no_group", ["0 RMS connector server(s) in the inventory (none)"])],
    "rms_connector_domain_controllers_group": [("overlap", ["are also a domain controller"])],
    "rms_connector_exchange_group": [("overlap", ["are also an Exchange server that uses the connector"])],
    "rms_connector_sharepoint_group": [("overlap", ["are also a SharePoint server that uses the connector"])],
    "rms_connector_fci_group": [("overlap", ["are also a File Classification Infrastructure file server"])],
    "rms_connector_dns_group": [("inputs", ["the DNS server group is empty"])],
    "rms_connector_exchange_servers_group": [("inputs", ["rms_connector_exchange_servers_group is empty"])],
    "rms_connector_sharepoint_accounts": [
        ("argspec", ["argument 'rms_connector_sharepoint_accounts' is of type dict and we were unable to convert to list"]),
        ("inputs", ["entry 'not an account' is not DOMAIN"])],
    "rms_connector_fci_computer_accounts": [
        ("argspec", ["argument 'rms_connector_fci_computer_accounts' is of type str and we were unable to convert to dict"]),
        ("inputs", ["rms_connector_fci_computer_accounts entry fs01"])],
    "rms_connector_netbios_domain": [("inputs", ["rms_connector_netbios_domain 'corp.example.invalid'"])],
    "rms_connector_installer_src": [("inputs", ["rms_connector_installer_src /nonexistent/RMSConnectorSetup.exe "
                                                "is not a file on the controller"])],
    "rms_connector_work_dir": [("inputs", ["rms_connector_work_dir 'rms' is not an absolute Windows path"])],
    "rms_connector_iis_features": [("argspec", ["argument 'rms_connector_iis_features' is of type dict and we were unable to convert to list"]),
                                   ("inputs", ["rms_connector_iis_features must name Windows features and include Web-Server"])],
    "rms_connector_proxy": [("inputs", ["rms_connector_proxy 'proxy:8080' is not http://<proxy>:<port>"])],
    "rms_connector_disable_legacy_tls": [("argspec", [BOOL % "rms_connector_disable_legacy_tls"])],
    "rms_connector_allow_reboot": [("argspec", [BOOL % "rms_connector_allow_reboot"])],
    "rms_connector_manage_dns": [("argspec", [BOOL % "rms_connector_manage_dns"])],
    "rms_connector_dns_address": [("inputs", ["rms_connector_dns_address '10.0.0.300' is not an IPv4 address"])],
    "rms_connector_dns_zone": [("inputs", ["is not in the zone fabrikam.invalid"])],
    "rms_connector_verify_through_name": [("argspec", [BOOL % "rms_connector_verify_through_name"])],
    "rms_connector_verify_retries": [
        ("argspec", ["argument 'rms_connector_verify_retries' is of type str and we were unable to convert to int"])],
    "rms_connector_verify_delay": [
        ("argspec", ["argument 'rms_connector_verify_delay' is of type str and we were unable to convert to int"])],
}


@pytest.fixture(scope="module")
def runs(counter, tmp_path_factory):
    return cached_runs(tmp_path_factory, counter, "rms_connector", "rms_connector", GROUPS, SCENARIOS)


def test_every_option_has_a_bad_input_case():
    assert spec_options("rms_connector") == set(CASES)


@pytest.mark.parametrize("option,scenario,texts", bad_input_params(CASES),
                         ids=lambda v: v if isinstance(v, str) else None)
def test_bad_input_fails_before_any_host_is_contacted(runs, option, scenario, texts):
    assert_failed_before_contact(runs(scenario), option, texts)


def test_the_removed_admin_password_warns_and_the_run_goes_on(counter, tmp_path):
    """An inventory from before the removal: no failure, a warning naming the variable, never its value
    (not even with -vvv), and the run reaches the hosts."""
    old_inventory = dict(GOOD, rms_connector_admin_password=OLD_PASSWORD)
    returncode, output, connections = run_role(tmp_path, counter, "rms_connector", "rms_connector", GROUPS,
                                               old_inventory, verbose=3)
    assert returncode != 0  # the hosts are not Windows: the first host task cannot connect
    assert "WARNING rms_connector_admin_password is set but ems.enable.rms_connector no longer reads it" in output
    assert "RMS connector inventory preconditions hold" in output
    assert "contains &" not in output and "That user name and password" not in output
    assert "Pw&" not in output
    assert connections > 0


def test_without_the_old_password_no_warning(runs):
    _rc, output, _connections = runs("inputs")
    assert "WARNING rms_connector_admin_password" not in output


def test_good_input_passes_the_controller_stage_and_only_then_contacts_the_hosts(counter, tmp_path):
    returncode, output, connections = run_role(tmp_path, counter, "rms_connector", "rms_connector", GROUPS, GOOD)
    assert returncode != 0  # the hosts are not Windows: the first host task cannot connect
    assert "RMS connector inventory preconditions hold" in output or "ok: [rms01.corp.example.invalid]" in output
    assert "Preflight | Windows version" in output
    assert connections > 0
