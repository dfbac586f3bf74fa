# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preconditions of the Intune on-premises Exchange Connector (the role intune_exchange_connector).

Microsoft sources (MicrosoftDocs repositories; commits in the role README):
  Intune memdocs intune/protect/exchange-connector-install.md (requirements, cmdlets, setup),
        intune/protect/troubleshoot-exchange-connector-common-errors.md (service WIEC).
"""

from __future__ import annotations

import os
import zipfile

from ansible_collections.ems.enable.plugins.module_utils.ad.rules import EXCHANGE_CONNECTOR_END_OF_SUPPORT
from ansible_collections.ems.enable.plugins.module_utils.connectors.common import (
    ACCOUNT, ConnectorInputError, add_check, dotnet_check, input_checks, is_dns_name, os_checks)

# exchange-connector-install.md: Windows Server 2008 SP2 64-bit, 2008 R2, 2012, 2012 R2, 2016; not Core.
EXCHANGE_CONNECTOR_OS_MIN, EXCHANGE_CONNECTOR_OS_MAX = (6, 0, 6002), (10, 0, 14393)

DOTNET_45_RELEASE = 378389

EXCHANGE_CONNECTOR_SETUP = "Exchange_Connector_Setup.exe"
EXCHANGE_CONNECTOR_CERT = "MicrosoftIntune.accountcert"


# ---- host stage (facts gathered by the role on the connector host) ------------------------------

def exchange_connector_host(host, facts):
    checks = []
    comp = "exchange_connector"
    os_checks(checks, "exchange_connector.os", comp, host, facts, EXCHANGE_CONNECTOR_OS_MIN,
              EXCHANGE_CONNECTOR_OS_MAX, "Windows Server 2008 SP2 64-bit, 2008 R2, 2012, 2012 R2 and 2016")
    if "core" in str(facts.get("os_installation_type") or "").lower():
        add_check(checks, "exchange_connector.not_core", comp, host, "fail",
                  "This is a Server Core installation (%s)." % facts.get("os_installation_type"),
                  "Use a server with the full GUI: the connector isn't supported on any Server Core installation.")
    else:
        add_check(checks, "exchange_connector.not_core", comp, host, "pass",
                  "Installation type: %s." % (facts.get("os_installation_type") or "unknown"))
    dotnet_check(checks, "exchange_connector.dotnet", comp, host, facts, DOTNET_45_RELEASE, "4.5")
    return checks


# ---- Intune Exchange Connector: inventory stage --------------------------------------------------

def package_layout(path):
    """Where the setup program and the certificate are inside the package (zip). Raises ConnectorInputError."""
    if not path or not os.path.isfile(path):
        raise ConnectorInputError("intune_exchange_connector_package %r is not a file on the controller." % path)
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
    except (zipfile.BadZipFile, OSError) as err:
        raise ConnectorInputError("intune_exchange_connector_package %s is not a readable zip file (%s)." % (path, err))
    setups = [n for n in names if n.rsplit("/", 1)[-1] == EXCHANGE_CONNECTOR_SETUP]
    certs = [n for n in names if n.rsplit("/", 1)[-1] == EXCHANGE_CONNECTOR_CERT]
    missing = [f for f, hits in ((EXCHANGE_CONNECTOR_SETUP, setups), (EXCHANGE_CONNECTOR_CERT, certs)) if not hits]
    if missing:
        raise ConnectorInputError(
            "intune_exchange_connector_package %s does not contain %s under its original name." % (path, " and ".join(missing)))
    folder = setups[0].rsplit("/", 1)[0] if "/" in setups[0] else ""
    cert = [c for c in certs if (c.rsplit("/", 1)[0] if "/" in c else "") == folder]
    if not cert:
        raise ConnectorInputError(
            "intune_exchange_connector_package %s: %s is not in the same folder as %s."
            % (path, EXCHANGE_CONNECTOR_CERT, EXCHANGE_CONNECTOR_SETUP))
    return {"folder": folder, "setup": setups[0], "certificate": cert[0]}


def exchange_connector_inventory(p):
    checks = []
    comp = "exchange_connector"
    outputs = {}
    input_checks(checks, comp, p)
    if p.get("support_warning", True):
        add_check(checks, "exchange_connector.support", comp, None, "warn",
                  "Microsoft ended support for the Intune on-premises Exchange Connector on %s and no longer offers "
                  "its download; after that date it no longer syncs with Exchange." % EXCHANGE_CONNECTOR_END_OF_SUPPORT,
                  "Prefer Exchange hybrid modern authentication (HMA) with Conditional Access; keep the connector "
                  "only where it already runs and you still have its package.")
    hosts = p.get("connector_hosts") or []
    if len(hosts) > 1:
        add_check(checks, "exchange_connector.one_per_organization", comp, None, "fail",
                  "%d Exchange Connector hosts (%s); only one connector can be installed for each Exchange "
                  "organization, a second one replaces the first." % (len(hosts), ", ".join(hosts)),
                  "Keep one host per Exchange organization in the play (one inventory or limit per organization).")
    else:
        add_check(checks, "exchange_connector.one_per_organization", comp, None, "pass",
                  "One connector host for the Exchange organization: %s." % (", ".join(hosts) or "none"))
    cas = p.get("cas_server") or ""
    if not is_dns_name(cas, need_dot=False):
        add_check(checks, "exchange_connector.cas", comp, None, "fail",
                  "intune_exchange_connector_cas_server %r is not a server name." % cas,
                  "Give the name or FQDN of an Exchange server with the Client Access role.")
    else:
        add_check(checks, "exchange_connector.cas", comp, None, "pass", "Exchange Client Access server: %s." % cas)
    account = p.get("service_account") or ""
    if not ACCOUNT.match(account):
        add_check(checks, "exchange_connector.service_account", comp, None, "fail",
                  "intune_exchange_connector_service_account %r is not DOMAIN\\name or name@domain." % account,
                  "Give the Active Directory user the connector uses (it needs an Intune license).")
    else:
        add_check(checks, "exchange_connector.service_account", comp, None, "pass",
                  "Service account: %s." % account)
    try:
        outputs["package"] = package_layout(p.get("package"))
    except ConnectorInputError as err:
        add_check(checks, "exchange_connector.package", comp, None, "fail", str(err),
                  "Give Exchange_Connector_Setup.zip as downloaded from the Intune admin center, unmodified "
                  "(Microsoft: do not rename or move the files in it).")
    else:
        add_check(checks, "exchange_connector.package", comp, None, "pass",
                  "Package holds %s and %s." % (outputs["package"]["setup"], outputs["package"]["certificate"]))
    return checks, outputs
