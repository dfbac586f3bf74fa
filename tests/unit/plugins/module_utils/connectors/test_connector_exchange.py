"""The Intune on-premises Exchange Connector (module_utils/connectors/exchange.py, through the entry point
connectors/preflight.py): host and inventory preconditions, the package, the Exchange cmdlets and the
network flows the role takes from the network tables.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
import yaml
from connector_params import run_host, spec_defaults

from ansible_collections.ems.enable.plugins.module_utils.connectors import preflight

ROOT = Path(__file__).resolve().parents[5]
ROLES = ROOT / "roles"


# ---- host stage ------------------------------------------------------------------------------------

@pytest.mark.parametrize("facts,expected", [
    ({"distribution_version": "6.0.6002.0", "architecture": "x86_64", "os_installation_type": "Server",
      "dotnet_release": 378389}, None),
    ({"distribution_version": "10.0.14393.0", "architecture": "x86_64", "os_installation_type": "Server Core",
      "dotnet_release": 394802}, "Server Core installation"),
    ({"distribution_version": "10.0.17763.0", "architecture": "x86_64", "os_installation_type": "Server",
      "dotnet_release": 528049}, "Windows Server 2019 (10.0.17763) is not supported"),
    ({"distribution_version": "6.0.6001.0", "architecture": "x86_64", "os_installation_type": "Server",
      "dotnet_release": 378389}, "is not supported"),
    ({"distribution_version": "6.3.9600.0", "architecture": "x86_64", "os_installation_type": "Server",
      "dotnet_release": 0}, "older than 4.5"),
])
def test_exchange_connector_host(facts, expected):
    result = run_host("exchange_connector", facts)
    if expected is None:
        assert not result.get("failed"), result.get("msg")
    else:
        assert result["failed"] and expected in result["msg"], result["msg"]


# ---- Intune Exchange Connector ------------------------------------------------------------------

def _zip(tmp_path, names, name="Exchange_Connector_Setup.zip"):
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as archive:
        for entry in names:
            archive.writestr(entry, "x")
    return str(path)


def _iec(tmp_path, **kw):
    params = spec_defaults()
    params.update(component="exchange_connector", connector_hosts=["iec01"], cas_server="ex01.contoso.com",
                  service_account="CONTOSO\\svc-iec",
                  package=_zip(tmp_path, ["Exchange_Connector_Setup/Exchange_Connector_Setup.exe",
                                          "Exchange_Connector_Setup/MicrosoftIntune.accountcert"]))
    params.update(kw)
    return preflight.run(params)


def test_exchange_connector_inventory_warns_about_the_end_of_support(tmp_path):
    result = _iec(tmp_path)
    assert not result.get("failed"), result.get("msg")
    support = next(c for c in result["checks"] if c["id"] == "exchange_connector.support")
    assert support["status"] == "warn" and "2024-01-15" in support["message"]
    assert "hybrid modern authentication" in support["remedy"]
    assert result["package"] == {"folder": "Exchange_Connector_Setup",
                                 "setup": "Exchange_Connector_Setup/Exchange_Connector_Setup.exe",
                                 "certificate": "Exchange_Connector_Setup/MicrosoftIntune.accountcert"}
    assert not any(c["id"] == "exchange_connector.support" for c in _iec(tmp_path, support_warning=False)["checks"])


@pytest.mark.parametrize("entries,expected", [
    (["Exchange_Connector_Setup.exe"], "does not contain MicrosoftIntune.accountcert"),
    (["a/Exchange_Connector_Setup.exe", "b/MicrosoftIntune.accountcert"], "is not in the same folder"),
    (["setup.exe", "MicrosoftIntune.accountcert"], "does not contain Exchange_Connector_Setup.exe"),
])
def test_exchange_connector_package(tmp_path, entries, expected):
    result = _iec(tmp_path, package=_zip(tmp_path, entries, "p.zip"))
    assert result["failed"] and expected in result["msg"], result["msg"]


def test_exchange_connector_package_not_a_zip(tmp_path):
    path = tmp_path / "p.zip"
    path.write_text("not a zip")
    assert "not a readable zip file" in _iec(tmp_path, package=str(path))["msg"]
    assert "is not a file on the controller" in _iec(tmp_path, package=str(tmp_path / "missing.zip"))["msg"]


@pytest.mark.parametrize("kw,expected", [
    ({"connector_hosts": ["iec01", "iec02"]}, "only one connector can be installed"),
    ({"cas_server": "ex 01"}, "intune_exchange_connector_cas_server 'ex 01'"),
    ({"service_account": "svc-iec"}, "intune_exchange_connector_service_account 'svc-iec'"),
    ({"role_name": "x" * 41}, "intune_exchange_connector_role_name"),
    ({"manage_role": True, "exchange_server": ""}, "intune_exchange_connector_exchange_server ''"),
    ({"notification_account": "notify"}, "intune_exchange_connector_notification_account 'notify'"),
    ({"intune_admin": "CONTOSO\\admin"}, "intune_exchange_connector_intune_admin"),
])
def test_exchange_connector_inputs(tmp_path, kw, expected):
    result = _iec(tmp_path, **kw)
    assert result["failed"] and expected in result["msg"], result["msg"]


MICROSOFT_CMDLET_REQUIREMENTS = """
- `Get-ActiveSyncOrganizationSettings`, `Set-ActiveSyncOrganizationSettings`
- `Get-CasMailbox`, `Set-CasMailbox`
- `Get-ActiveSyncMailboxPolicy`, `Set-ActiveSyncMailboxPolicy`, `New-ActiveSyncMailboxPolicy`, `Remove-ActiveSyncMailboxPolicy`
- `Get-ActiveSyncDeviceAccessRule`, `Set-ActiveSyncDeviceAccessRule`, `New-ActiveSyncDeviceAccessRule`, `Remove-ActiveSyncDeviceAccessRule`
- `Get-ActiveSyncDeviceStatistics`
- `Get-ActiveSyncDevice`
- `Get-ExchangeServer`
- `Get-ActiveSyncDeviceClass`
- `Get-Recipient`
- `Clear-ActiveSyncDevice`, `Remove-ActiveSyncDevice`
- `Set-ADServerSettings`
- `Get-Command`
"""  # memdocs intune/protect/exchange-connector-install.md, "Exchange cmdlet requirements" (verbatim)


def test_exchange_connector_cmdlets_are_exactly_microsofts_list():
    documented = re.findall(r"`([A-Za-z]+-[A-Za-z]+)`", MICROSOFT_CMDLET_REQUIREMENTS)
    role_vars = yaml.safe_load((ROLES / "intune_exchange_connector/vars/main.yml").read_text())
    assert role_vars["__intune_exchange_connector_cmdlets"] == documented
    tasks = (ROLES / "intune_exchange_connector/tasks/exchange_role.yml").read_text()
    assert 'cmdlets: "{{ __intune_exchange_connector_cmdlets }}"' in tasks


def test_exchange_connector_connectivity_comes_from_the_network_tables():
    """connectivity.yml hands the network role the component and the CAS; the port and endpoint
    tables then give the CAS on 443 and the Intune service on 443 (memdocs: 'Network')."""
    from ansible_collections.ems.enable.plugins.module_utils.network import tables as network_tables

    tasks = yaml.safe_load((ROLES / "intune_exchange_connector/tasks/connectivity.yml").read_text())
    include = tasks[0]
    assert include["ansible.builtin.include_role"]["name"] == "ems.enable.network"
    role_vars = include["vars"]
    assert role_vars["network_firewall"] is False
    targets = {k: ["ex01.contoso.com"] for k in role_vars["network_targets"]}
    checks, untested = network_tables.connectivity_checks(role_vars["network_components"], [], targets)
    found = {(c["host"], c["port"]) for c in checks}
    assert ("ex01.contoso.com", 443) in found
    assert ("manage.microsoft.com", 443) in found
    assert any(u["to"] == "*.manage.microsoft.com" for u in untested)
