"""The RMS connector and the servers that use it (module_utils/connectors/rms.py, through the entry point
connectors/preflight.py): the RMS registry table and the preconditions (the admin-password rule is gone).

The registry tests prove the one-table rule twice: every row renders to the literal text of the
Microsoft document it cites (unless the row says why not), and the client role's only registry task
applies exactly the rendered rows - no role file names a key of its own.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from connector_params import CONNECTOR, run_host, spec_defaults

from ansible_collections.ems.enable.plugins.module_utils.connectors import preflight, rms
from ansible_collections.ems.enable.plugins.module_utils.connectors.common import ConnectorInputError

ROOT = Path(__file__).resolve().parents[5]
ROLES = ROOT / "roles"
TENANT = "https://5c6bb73b-1038-4eec-863d-49bded473437.rms.na.aadrm.com"


# ---- the registry table -------------------------------------------------------------------------

def table():
    return yaml.safe_load((ROOT / "plugins/module_utils/connectors/rms_connector_registry.yml").read_text())


def test_table_rows_are_consistent():
    data = table()
    ids = [row["id"] for row in data["rows"]]
    assert len(ids) == len(set(ids)), "duplicate row ids"
    for row in data["rows"]:
        assert set(row["kinds"]) <= set(data["kinds"]), row["id"]
        assert row["source"] in data["sources"], row["id"]
        assert data["sources"][row["source"]]["url"].startswith("https://learn.microsoft.com/"), row["id"]
        assert row["type"] == "string", row["id"]  # the document lists Reg_SZ only
        assert row["path"].startswith("HKLM:\\SOFTWARE\\Microsoft\\"), row["id"]
        if row.get("deviates"):
            assert row.get("note"), "%s deviates from its document without a note" % row["id"]
    assert set(rms.CLIENT_KINDS) == set(data["kinds"])
    for kind in data["kinds"]:
        assert any(kind in row["kinds"] for row in data["rows"]), "kind %s has no rows" % kind


def _documented(text, protocol):
    """The document's literal text with its placeholders filled in (Markdown italics '*' dropped)."""
    text = text.replace("*", "")
    text = text.replace("https://<YourTenantURL>", TENANT)
    return text.replace("<ConnectorFQDN>", CONNECTOR)


@pytest.mark.parametrize("protocol", ["https", "http"])
@pytest.mark.parametrize("kind", rms.CLIENT_KINDS)
def test_rendered_rows_match_the_cited_document(kind, protocol):
    rows = {row["id"]: row for row in table()["rows"]}
    items = rms.registry_items(kind, CONNECTOR, protocol, TENANT)
    assert [i["id"] for i in items] == [r["id"] for r in table()["rows"] if kind in r["kinds"]]
    for item in items:
        row = rows[item["id"]]
        doc = row["documented"]
        assert item["path"].lower() == doc["path"].replace("HKEY_LOCAL_MACHINE\\", "HKLM:\\").lower(), item["id"]
        documented_name = "" if doc["value"] == "Default" else _documented(doc["value"], protocol)
        documented_data = [_documented(d, protocol) for d in doc["data"]]
        matches = item["name"] == documented_name and item["data"] in documented_data
        if row.get("deviates"):
            assert not matches, "%s is marked as deviating but matches its document" % item["id"]
        elif kind == "fci" and protocol == "https":
            # The document shows only http:// for file servers (the row's note says so).
            assert item["name"] == documented_name and item["data"].replace("https://", "http://") in documented_data
            assert row.get("note")
        else:
            assert matches, (item, doc)


def test_exchange_2016_redirection_value_name_is_the_tenant_licensing_url():
    item = {i["id"]: i for i in rms.registry_items("exchange_2019", CONNECTOR, "https", TENANT)}
    redirect = item["ex2016-msipc-licensingredirection"]
    assert redirect["name"] == TENANT + "/_wmcs/licensing"
    assert redirect["data"] == "https://rmsconnector.contoso.com/_wmcs/licensing"
    assert "client-redirection" in yaml.safe_dump(table()["sources"])


def test_exchange_and_sharepoint_need_the_tenant_url_fci_does_not():
    for kind in ("exchange_2013", "exchange_2016", "exchange_2019", "sharepoint"):
        with pytest.raises(ConnectorInputError, match="rms_connector_client_tenant_url is required"):
            rms.registry_items(kind, CONNECTOR, "https", None)
    assert rms.registry_items("fci", CONNECTOR, "https", None)


@pytest.mark.parametrize("bad", ["http://x.rms.na.aadrm.com", TENANT + "/_wmcs/licensing", "5c6b.rms.aadrm.com", " "])
def test_tenant_url_form(bad):
    with pytest.raises(ConnectorInputError, match="rms_connector_client_tenant_url"):
        rms.registry_items("sharepoint", CONNECTOR, "https", bad)


def test_tenant_url_trailing_slash_is_tolerated():
    assert rms.normalize_tenant_url(TENANT + "/") == TENANT


def _role_files(role):
    return [p for p in (ROLES / role).rglob("*") if p.is_file()]


def test_client_role_applies_exactly_the_rendered_rows():
    """The role's only registry task loops over the plan and maps every field from the item."""
    tasks = yaml.safe_load((ROLES / "rms_connector_client/tasks/configure.yml").read_text())
    regedit = [t for t in tasks if "ansible.windows.win_regedit" in t]
    assert len(regedit) == 1
    task = regedit[0]
    assert task["loop"] == "{{ __rms_connector_client_plan.registry }}"
    assert task["ansible.windows.win_regedit"] == {
        "path": "{{ item.path }}", "name": "{{ item.name }}", "data": "{{ item.data }}",
        "type": "{{ item.type }}", "state": "present"}
    preflight = yaml.safe_load((ROLES / "rms_connector_client/tasks/preflight_inventory.yml").read_text())
    plan = [t for t in preflight if t.get("register") == "__rms_connector_client_plan"]
    assert plan and plan[0]["ems.enable.connector_preflight"]["component"] == "rms_connector_client"
    # No other registry write anywhere in the role.
    for path in _role_files("rms_connector_client"):
        text = path.read_text()
        assert text.count("win_regedit:") <= (1 if path.name == "configure.yml" else 0), path


@pytest.mark.parametrize("role", ["rms_connector_client", "rms_connector", "intune_exchange_connector"])
def test_no_role_names_a_key_of_the_table(role):
    keys = {row["path"].split("\\", 3)[-1] for row in table()["rows"]}  # Microsoft\MSIPC\..., ...
    for path in _role_files(role):
        text = path.read_text()
        for key in keys:
            assert key not in text, "%s names %s: take it from the table" % (path, key)
        assert not re.search(r"MSIPC\\ServiceLocation|MSDRM\\ServiceLocation|ExchangeServer\\v15", text), path


# ---- no admin password (removed) ------------------------------------------------------------------

def test_the_admin_password_rule_and_its_options_are_gone():
    """The setup signs in interactively: no password option, no password stage, no password check."""
    assert not {"admin_password", "admin_password_found"} & set(preflight.ARGUMENT_SPEC)
    assert "password" not in preflight.STAGES
    assert preflight.ARGUMENT_SPEC["stage"]["choices"] == ["inventory", "host"]
    assert not [name for name in dir(rms) if "PASSWORD" in name.upper()]
    result = preflight.run(_rms_params())
    assert not [c for c in result["checks"] if "password" in c["id"]]
    assert result["summary"]["fail"] == 0


# ---- RMS connector inventory -----------------------------------------------------------------------

def _rms_params(**kw):
    params = spec_defaults()
    params.update(component="rms_connector", stage="inventory", connector_name=CONNECTOR,
                  connector_hosts=["rms01.contoso.com", "rms02.contoso.com"],
                  certificate_thumbprint="A" * 40, exchange_hosts=["ex01.contoso.com"])
    params.update(kw)
    return params


def _status(result, check_id):
    return [c["status"] for c in result["checks"] if c["id"] == check_id]


def test_a_good_inventory_passes_and_lists_the_accounts():
    result = preflight.run(_rms_params(sharepoint_hosts=["sp01.contoso.com"], sharepoint_accounts=["CONTOSO\\sp-farm"],
                                       fci_hosts=["fs01.contoso.com"], netbios_domain="CONTOSO"))
    assert not result.get("failed"), result.get("msg")
    accounts = [(a["account"], a["server_type"]) for a in result["authorization"]]
    assert accounts == [("Exchange Servers", "Exchange"), ("CONTOSO\\sp-farm", "SharePoint"),
                        ("CONTOSO\\FS01$", "FCI")]
    assert all(a["line"].startswith("Add %s, server type %s" % (a["account"], a["server_type"]))
               for a in result["authorization"])


def test_one_connector_server_fails_unless_fault_tolerance_is_relaxed():
    one = _rms_params(connector_hosts=["rms01.contoso.com"])
    assert _status(preflight.run(one), "rms_connector.server_count") == ["fail"]
    assert "at least 2" in preflight.run(one)["msg"]
    one["require_fault_tolerance"] = False
    assert _status(preflight.run(one), "rms_connector.server_count") == ["warn"]
    assert not preflight.run(one).get("failed")


@pytest.mark.parametrize("group,check_id", [
    ("domain_controllers", "rms_connector.not_dc"), ("exchange_hosts", "rms_connector.not_exchange"),
    ("sharepoint_hosts", "rms_connector.not_sharepoint"), ("fci_hosts", "rms_connector.not_fci")])
def test_connector_server_in_another_role_fails(group, check_id):
    params = _rms_params(**{group: ["RMS02"], "sharepoint_accounts": ["CONTOSO\\sp"]})
    result = preflight.run(params)
    assert _status(result, check_id) == ["fail"], result["checks"]
    assert "rms02.contoso.com is also" in result["msg"]


@pytest.mark.parametrize("name,expected", [("rmsconnector", "not a fully qualified"),
                                           ("rms01.contoso.com", "is the name of a connector server"),
                                           ("-bad.contoso.com", "not a fully qualified")])
def test_connector_name(name, expected):
    assert expected in preflight.run(_rms_params(connector_name=name))["msg"]


def test_https_needs_a_thumbprint_of_the_right_form():
    assert "rms_connector_certificate_thumbprint is not set" in preflight.run(_rms_params(certificate_thumbprint=None))["msg"]
    assert "not a SHA-1 thumbprint" in preflight.run(_rms_params(certificate_thumbprint="xyz"))["msg"]
    http = preflight.run(_rms_params(protocol="http", certificate_thumbprint=None))
    assert not http.get("failed") and _status(http, "rms_connector.https") == ["warn"]


def test_sharepoint_without_accounts_fails():
    result = preflight.run(_rms_params(sharepoint_hosts=["sp01.contoso.com"]))
    assert "rms_connector_sharepoint_accounts" in result["msg"]


def test_dns_record_plan_and_its_failures():
    ok = preflight.run(_rms_params(manage_dns=True, dns_servers=["dc01.contoso.com"], dns_address="10.0.0.50"))
    assert ok["dns_record"] == {"zone": "contoso.com", "name": "rmsconnector", "address": "10.0.0.50",
                                "server": "dc01.contoso.com"}
    bad = preflight.run(_rms_params(manage_dns=True, dns_servers=[], dns_address="10.0.0.300", dns_zone="fabrikam.com"))
    for text in ("DNS server group is empty", "not an IPv4 address", "is not in the zone fabrikam.com"):
        assert text in bad["msg"]


@pytest.mark.parametrize("option,value,expected", [
    ("admin_account", "rmsadmin", "rms_connector_admin_account 'rmsadmin' is not a user principal name"),
    ("work_dir", "rms", "rms_connector_work_dir 'rms' is not an absolute Windows path"),
    ("iis_features", ["Web-Windows-Auth"], "rms_connector_iis_features"),
    ("iis_features", ["Web-Server", "bad name"], "'bad name'"),
    ("proxy", "proxy:8080", "rms_connector_proxy 'proxy:8080'"),
    ("installer", "/nonexistent/RMSConnectorSetup.exe", "rms_connector_installer_src /nonexistent"),
    ("netbios_domain", "contoso.com", "rms_connector_netbios_domain 'contoso.com'"),
    ("computer_accounts", {"fs01.contoso.com": "FS01"}, "rms_connector_fci_computer_accounts entry fs01"),
    ("exchange_servers_group", " ", "rms_connector_exchange_servers_group is empty"),
])
def test_input_formats(option, value, expected):
    result = preflight.run(_rms_params(**{option: value}))
    assert result.get("failed") and expected in result["msg"], result.get("msg")


# ---- host stage ------------------------------------------------------------------------------------

GOOD_RMS_FACTS = {"distribution_version": "10.0.17763.0", "architecture": "x86_64", "os_product_type": "server",
                  "dotnet_release": 528049, "tls12": {"client_enabled": None, "client_disabled_by_default": None,
                                                      "server_enabled": 1, "server_disabled_by_default": 0}}


def test_rms_host_good():
    result = run_host("rms_connector", GOOD_RMS_FACTS)
    assert not result.get("failed"), result.get("msg")


@pytest.mark.parametrize("change,expected", [
    ({"distribution_version": "10.0.20348.0"}, "Windows Server 2022 (10.0.20348) is not supported"),
    ({"distribution_version": "6.1.7601.0"}, "Windows Server 2008 R2"),
    ({"architecture": "i386"}, "not 64-bit"),
    ({"os_product_type": "domain_controller"}, "is a domain controller"),
    ({"dotnet_release": 461310}, "older than 4.7.2"),
    ({"dotnet_release": None}, ".NET Framework 4.5 or later is not installed"),
    ({"tls12": {"client_enabled": 0}}, "TLS 1.2 is turned off in SCHANNEL (Client Enabled=0)"),
    ({"tls12": {"server_disabled_by_default": 1}}, "Server DisabledByDefault=1"),
])
def test_rms_host_failures(change, expected):
    result = run_host("rms_connector", dict(GOOD_RMS_FACTS, **change))
    assert result["failed"] and expected in result["msg"], result["msg"]


def test_rms_host_2012_r2_passes_with_an_ansible_support_warning():
    result = run_host("rms_connector", dict(GOOD_RMS_FACTS, distribution_version="6.3.9600.0"))
    assert not result.get("failed")
    assert _status(result, "ansible_support") == ["warn"]


def _cert(**kw):
    cert = {"exists": True, "thumbprint": "A" * 40, "dns_names": [CONNECTOR], "issued_to": "rms",
            "has_private_key": True, "valid_to": 4102444800.0, "intended_purposes": ["Server Authentication"]}
    cert.update(kw)
    return cert


@pytest.mark.parametrize("cert,expected", [
    (_cert(exists=False), "No certificate"),
    (_cert(dns_names=["other.contoso.com"], issued_to="other"), "cover rmsconnector.contoso.com"),
    (_cert(has_private_key=False), "no private key"),
    (_cert(valid_to=1.0), "it expired"),
    (_cert(intended_purposes=["Client Authentication"]), "lacks Server Authentication"),
])
def test_rms_host_certificate_failures(cert, expected):
    result = run_host("rms_connector", dict(GOOD_RMS_FACTS, certificate=cert))
    assert result["failed"] and expected in result["msg"], result["msg"]


@pytest.mark.parametrize("names", [[CONNECTOR.upper()], ["*.contoso.com"]])
def test_rms_host_certificate_names(names):
    result = run_host("rms_connector", dict(GOOD_RMS_FACTS, certificate=_cert(dns_names=names)))
    assert not result.get("failed"), result.get("msg")


@pytest.mark.parametrize("kind,facts,expected", [
    ("fci", {"distribution_version": "10.0.17763.0", "architecture": "x86_64"}, "is not supported"),
    ("fci", {"distribution_version": "10.0.14393.0", "architecture": "x86_64"}, None),
    ("sharepoint", {"msipc_version": "1.0.2004.0"}, None),
    ("sharepoint", {"msipc_version": "1.0.1766.0"}, "older than 1.0.2004.0"),
    ("sharepoint", {"msipc_version": None}, "is not installed"),
    ("exchange_2016", {"distribution_version": "6.1.7601.0"}, "Cryptographic Mode 2"),
    ("exchange_2019", {"distribution_version": "10.0.17763.0"}, None),
])
def test_client_host(kind, facts, expected):
    result = run_host("rms_connector_client", facts, kind=kind)
    if expected is None:
        assert not result.get("failed"), result.get("msg")
    else:
        assert result["failed"] and expected in result["msg"], result["msg"]
