"""Bad input of the role ems.enable.rms_connector_client fails before any Windows host is contacted,
and the registry values the role would write are exactly the cited table's rows.

Each option of roles/rms_connector_client/meta/argument_specs.yml has at least one bad value; the
hosts' WinRM address is a local listener that must receive no connection.
"""

from __future__ import annotations

import pytest
import yaml

from connector_play import (
    ROOT,
    assert_failed_before_contact,
    bad_input_params,
    cached_runs,
    run_role,
    spec_options,
    task_results,
)

GROUPS = {
    "rms_connector": ["rms01.corp.example.invalid", "rms02.corp.example.invalid"],
    "exchange_servers": ["ex01.corp.example.invalid"],
}
TENANT = "https://5c6bb73b-1038-4eec-863d-49bded473437.rms.na.aadrm.com"
GOOD = {
    "rms_connector_client_kind": "exchange_2019",
    "rms_connector_client_connector_name": "rmsconnector.corp.example.invalid",
    "rms_connector_client_tenant_url": TENANT,
    "rms_connector_client_irm_test_sender": "adams@corp.example.invalid",
}
SECRET = "Exch-Admin-Secret-42"
BOOL = "argument '%s' is of type str and we were unable to convert to bool"

SCENARIOS = {
    "argspec": {"rms_connector_client_kind": "exchange_2010", "rms_connector_client_tenant_url": TENANT,
                "rms_connector_client_protocol": "ftp", "rms_connector_client_set_irm": "maybe",
                "rms_connector_client_previously_adrms": "maybe", "rms_connector_client_allow_reboot": "maybe",
                "rms_connector_client_verify": "maybe", "rms_connector_client_verify_retries": "many",
                "rms_connector_client_verify_delay": "a minute"},
    "irm_sender": dict(GOOD, rms_connector_client_irm_test_sender="adams at contoso"),
    "names": dict(GOOD, rms_connector_client_connector_name="rmsconnector",
                  rms_connector_client_connector_group="exchange_servers"),
    "tenant_form": dict(GOOD, rms_connector_client_tenant_url=TENANT + "/_wmcs/licensing"),
    "tenant_missing": {k: v for k, v in GOOD.items() if k != "rms_connector_client_tenant_url"},
    "user_only": dict(GOOD, rms_connector_client_exchange_username="CORP\\exadmin"),
    "password_only": dict(GOOD, rms_connector_client_exchange_password=SECRET),
}
PAIR = "rms_connector_client_exchange_username and rms_connector_client_exchange_password go together"
CASES = {
    "rms_connector_client_kind": [("argspec", ["value of rms_connector_client_kind must be one of: exchange_2013"])],
    "rms_connector_client_connector_name": [
        ("argspec", ["missing required arguments: rms_connector_client_connector_name"]),
        ("names", ["rms_connector_client_connector_name 'rmsconnector' is not a fully qualified DNS name"])],
    "rms_connector_client_protocol": [("argspec", ["value of rms_connector_client_protocol must be one of: https, http"])],
    "rms_connector_client_tenant_url": [
        ("tenant_form", ["rms_connector_client_tenant_url '%s/_wmcs/licensing' is not the Azure Rights Management "
                         "service URL" % TENANT]),
        ("tenant_missing", ["rms_connector_client_tenant_url is required for exchange_2019 servers"])],
    "rms_connector_client_connector_group": [("names", ["ex01.corp.example.invalid is also an RMS connector server"])],
    "rms_connector_client_set_irm": [("argspec", [BOOL % "rms_connector_client_set_irm"])],
    "rms_connector_client_verify_retries": [
        ("argspec", ["argument 'rms_connector_client_verify_retries' is of type str and we were unable to convert to int"])],
    "rms_connector_client_verify_delay": [
        ("argspec", ["argument 'rms_connector_client_verify_delay' is of type str and we were unable to convert to int"])],
    "rms_connector_client_irm_test_sender": [
        ("irm_sender", ['rms_connector_client_irm_test_sender "adams at contoso" is not an SMTP address'])],
    "rms_connector_client_exchange_username": [("user_only", [PAIR])],
    "rms_connector_client_exchange_password": [("password_only", [PAIR])],
    "rms_connector_client_previously_adrms": [("argspec", [BOOL % "rms_connector_client_previously_adrms"])],
    "rms_connector_client_allow_reboot": [("argspec", [BOOL % "rms_connector_client_allow_reboot"])],
    "rms_connector_client_verify": [("argspec", [BOOL % "rms_connector_client_verify"])],
}


@pytest.fixture(scope="module")
def runs(counter, tmp_path_factory):
    return cached_runs(tmp_path_factory, counter, "rms_connector_client", "exchange_servers", GROUPS, SCENARIOS)


def test_every_option_has_a_bad_input_case():
    assert spec_options("rms_connector_client") == set(CASES)


@pytest.mark.parametrize("option,scenario,texts", bad_input_params(CASES),
                         ids=lambda v: v if isinstance(v, str) else None)
def test_bad_input_fails_before_any_host_is_contacted(runs, option, scenario, texts):
    assert_failed_before_contact(runs(scenario), option, texts)


def test_the_exchange_password_is_never_printed(runs):
    assert SECRET not in runs("password_only")[1]


# ---- the registry values the role applies come from the one cited table --------------------------

def expected_rows(kind, connector_url, tenant):
    """The table rendered here, independently of the collection's code."""
    table = yaml.safe_load((ROOT / "plugins/module_utils/connectors/rms_connector_registry.yml").read_text())
    values = {"connector_url": connector_url, "tenant_url": tenant}
    return [{"id": r["id"], "path": r["path"].format(**values), "name": r["name"].format(**values),
             "data": r["data"].format(**values), "type": r["type"]}
            for r in table["rows"] if kind in r["kinds"]]


KINDS = {"ex13.corp.example.invalid": "exchange_2013", "ex16.corp.example.invalid": "exchange_2016",
         "ex19.corp.example.invalid": "exchange_2019", "sp01.corp.example.invalid": "sharepoint",
         "fs01.corp.example.invalid": "fci"}


@pytest.mark.parametrize("protocol", ["https", "http"])
def test_registry_values_the_role_applies_come_from_the_table(counter, tmp_path, protocol):
    groups = {"rms_connector": GROUPS["rms_connector"], "rms_clients": list(KINDS)}
    # One play over five hosts of five kinds; each host gets its kind as a host variable.
    inventory_vars = {h: {"rms_connector_client_kind": k} for h, k in KINDS.items()}
    role_vars = {"rms_connector_client_connector_name": "RMSConnector.corp.example.invalid",
                 "rms_connector_client_protocol": protocol, "rms_connector_client_tenant_url": TENANT + "/"}
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "host_vars").mkdir()
    for host, host_vars in inventory_vars.items():
        (tmp_path / "host_vars" / (host + ".yml")).write_text(yaml.safe_dump(host_vars))
    returncode, output, _connections = run_role(tmp_path, counter, "rms_connector_client", "rms_clients", groups,
                                                role_vars, verbose=True)
    assert returncode != 0  # the hosts are not Windows: the plan is made, then the host tasks fail
    plans = task_results(output, "inputs and registry values from the cited table")
    assert set(plans) == set(KINDS), output[-3000:]
    for host, kind in KINDS.items():
        applied = [{k: item[k] for k in ("id", "path", "name", "data", "type")} for item in plans[host]["registry"]]
        expected = expected_rows(kind, "%s://rmsconnector.corp.example.invalid" % protocol, TENANT)
        assert applied == expected, (host, kind)
        assert expected, kind
