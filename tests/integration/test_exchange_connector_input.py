"""Bad input of the role ems.enable.intune_exchange_connector fails before any Windows host is
contacted (the package is read on the controller), and the end of support is said plainly.

Each option of roles/intune_exchange_connector/meta/argument_specs.yml has at least one bad value; the
hosts' WinRM address is a local listener that must receive no connection.
"""

from __future__ import annotations

import zipfile

import pytest

from connector_play import assert_failed_before_contact, bad_input_params, cached_runs, spec_options

GROUPS = {
    "exchange_connector": ["iec01.corp.example.invalid"],
    "two_connectors": ["iec01.corp.example.invalid", "iec02.corp.example.invalid"],
    "exchange_servers": ["ex01.corp.example.invalid"],
}
SECRET = "Ldap-Secret-77"
BOOL = "argument '%s' is of type str and we were unable to convert to bool"


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("packages")
    good, bad = folder / "Exchange_Connector_Setup.zip", folder / "no_certificate.zip"
    with zipfile.ZipFile(good, "w") as archive:
        archive.writestr("Exchange_Connector_Setup/Exchange_Connector_Setup.exe", "x")
        archive.writestr("Exchange_Connector_Setup/MicrosoftIntune.accountcert", "x")
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("Exchange_Connector_Setup/Exchange_Connector_Setup.exe", "x")
    return {"good": str(good), "bad": str(bad)}


def scenarios(packages):
    good = {"intune_exchange_connector_acknowledge_end_of_support": True,
            "intune_exchange_connector_package": packages["good"],
            "intune_exchange_connector_cas_server": "ex01.corp.example.invalid",
            "intune_exchange_connector_service_account": "CORP\\svc-intune-exc"}
    return {
        "argspec": {"intune_exchange_connector_acknowledge_end_of_support": "maybe",
                    "intune_exchange_connector_cas_server": "ex01.corp.example.invalid",
                    "intune_exchange_connector_service_account": "CORP\\svc-intune-exc",
                    "intune_exchange_connector_manage_role": "maybe",
                    "intune_exchange_connector_remove_accountcert": "maybe",
                    "intune_exchange_connector_check_connectivity": "maybe",
                    "intune_exchange_connector_ldap": "not-a-dict",
                    "intune_exchange_connector_forests": "not-a-list-of-dicts"},
        "inputs": dict(good, intune_exchange_connector_package=packages["bad"],
                       intune_exchange_connector_cas_server="ex 01",
                       intune_exchange_connector_service_account="svc-intune-exc",
                       intune_exchange_connector_role_name="R" * 41, intune_exchange_connector_work_dir="iec",
                       intune_exchange_connector_proxy="proxy:3128",
                       intune_exchange_connector_notification_account="notify",
                       intune_exchange_connector_intune_admin="CORP\\intune-admin",
                       intune_exchange_connector_exchange_server="bad name!"),
        "two_hosts": dict(good, intune_exchange_connector_group="two_connectors"),
        "no_exchange": dict(good, intune_exchange_connector_exchange_group="no_such_group"),
        "forests": dict(good, intune_exchange_connector_forests=[{"name": "corp.example.invalid"}]),
        "ldap": dict(good, intune_exchange_connector_ldap={
            "server": ["dc01.corp.example.invalid"], "transport": "ldap", "auth": "simple",
            "username": "assess@corp.example.invalid", "password": SECRET}),
        "user_only": dict(good, intune_exchange_connector_exchange_username="CORP\\exadmin"),
        "password_only": dict(good, intune_exchange_connector_exchange_password=SECRET),
        "good": good,
        "no_ack": {k: v for k, v in good.items() if k != "intune_exchange_connector_acknowledge_end_of_support"},
    }


PAIR = "intune_exchange_connector_exchange_username and intune_exchange_connector_exchange_password go together"
CASES = {
    "intune_exchange_connector_acknowledge_end_of_support": [
        ("argspec", [BOOL % "intune_exchange_connector_acknowledge_end_of_support"]),
        ("no_ack", ["Microsoft ended support for the Intune on-premises Exchange Connector on 2024-01-15",
                    "Exchange hybrid modern authentication", "Exchange Online",
                    "set intune_exchange_connector_acknowledge_end_of_support=true"])],
    "intune_exchange_connector_package": [
        ("argspec", ["missing required arguments: intune_exchange_connector_package"]),
        ("inputs", ["does not contain MicrosoftIntune.accountcert under its original name"])],
    "intune_exchange_connector_cas_server": [("inputs", ["intune_exchange_connector_cas_server 'ex 01' is not a server name"])],
    "intune_exchange_connector_service_account": [
        ("inputs", ["intune_exchange_connector_service_account 'svc-intune-exc' is not DOMAIN"])],
    "intune_exchange_connector_forests": [
        ("argspec", ["Elements value for option 'intune_exchange_connector_forests' is of type str and we were unable to convert to dict"]),
        ("forests", ["forests[0]: not a forest from ems.enable.ad_forest_info"])],
    "intune_exchange_connector_ldap": [
        ("argspec", ["argument 'intune_exchange_connector_ldap' is of type str and we were unable to convert to dict"]),
        ("ldap", ["Refusing a simple bind over cleartext LDAP"])],
    "intune_exchange_connector_group": [("two_hosts", ["2 Exchange Connector hosts", "only one connector can be installed"])],
    "intune_exchange_connector_exchange_group": [("no_exchange", ["intune_exchange_connector_exchange_server '' is not an Exchange server"])],
    "intune_exchange_connector_exchange_server": [("inputs", ["intune_exchange_connector_exchange_server 'bad name!'"])],
    "intune_exchange_connector_exchange_username": [("user_only", [PAIR])],
    "intune_exchange_connector_exchange_password": [("password_only", [PAIR])],
    "intune_exchange_connector_manage_role": [("argspec", [BOOL % "intune_exchange_connector_manage_role"])],
    "intune_exchange_connector_role_name": [("inputs", ["intune_exchange_connector_role_name '%s' must have 1 to 40" % ("R" * 41)])],
    "intune_exchange_connector_work_dir": [("inputs", ["intune_exchange_connector_work_dir 'iec' is not an absolute Windows path"])],
    "intune_exchange_connector_remove_accountcert": [("argspec", [BOOL % "intune_exchange_connector_remove_accountcert"])],
    "intune_exchange_connector_check_connectivity": [("argspec", [BOOL % "intune_exchange_connector_check_connectivity"])],
    "intune_exchange_connector_proxy": [("inputs", ["intune_exchange_connector_proxy 'proxy:3128' is not http://<proxy>:<port>"])],
    "intune_exchange_connector_notification_account": [
        ("inputs", ["intune_exchange_connector_notification_account 'notify' is not DOMAIN"])],
    "intune_exchange_connector_intune_admin": [("inputs", ["intune_exchange_connector_intune_admin 'CORP\\\\intune-admin' is not a user principal name"])],
}


@pytest.fixture(scope="module")
def runs(counter, tmp_path_factory, packages):
    return cached_runs(tmp_path_factory, counter, "intune_exchange_connector", "exchange_connector", GROUPS, scenarios(packages))


def test_every_option_has_a_bad_input_case():
    assert spec_options("intune_exchange_connector") == set(CASES)


@pytest.mark.parametrize("option,scenario,texts", bad_input_params(CASES),
                         ids=lambda v: v if isinstance(v, str) else None)
def test_bad_input_fails_before_any_host_is_contacted(runs, option, scenario, texts):
    assert_failed_before_contact(runs(scenario), option, texts)


@pytest.mark.parametrize("scenario", ["ldap", "password_only"])
def test_secrets_are_never_printed(runs, scenario):
    assert SECRET not in runs(scenario)[1]


def test_good_input_warns_about_the_end_of_support_then_contacts_the_host(runs):
    returncode, output, connections = runs("good")
    assert returncode != 0  # not a Windows host
    assert "Exchange 2010 SP3 or later was not checked" in output
    assert "Preflight | Windows version, installation type and architecture" in output
    assert connections > 0


def test_the_role_refuses_by_default_without_contacting_a_host(runs):
    """Issue 19 finding 16: without the acknowledgement nothing runs, and the replacement is named."""
    returncode, output, connections = runs("no_ack")
    assert returncode != 0 and connections == 0
    assert "Preflight | the connector's end of support is acknowledged" in output
    assert "Preflight | Windows version" not in output
