# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preconditions and plans of the Microsoft Rights Management (RMS) connector and of the servers that
use it (Exchange, SharePoint, File Classification Infrastructure): the roles rms_connector and
rms_connector_client.

The registry values of the servers that use the RMS connector come from ONE table,
rms_connector_registry.yml next to this module (registry_items renders it); nothing else names those keys.

Microsoft sources (MicrosoftDocs repositories; commits in the role READMEs):
  RMS   Azure-RMSDocs deploy-rms-connector.md (prerequisites), install-configure-rms-connector.md
        (install, authorization, load balancing, HTTPS, proxy, TLS 1.2),
        configure-servers-rms-connector.md, rms-connector-registry-settings.md,
        monitor-rms-connector.md.
"""

from __future__ import annotations

import ipaddress
import re
import time

from ansible_collections.ems.enable.plugins.module_utils import data_files
from ansible_collections.ems.enable.plugins.module_utils.connectors.common import (
    ACCOUNT, ConnectorInputError, add_check, dotnet_check, input_checks, input_failure, is_dns_name, os_checks,
    overlap, parse_version, short_name, windows_name)

REGISTRY_TABLE = "rms_connector_registry.yml"
CLIENT_KINDS = ("exchange_2013", "exchange_2016", "exchange_2019", "sharepoint", "fci")
PROTOCOLS = ("https", "http")

# deploy-rms-connector.md: "A minimum of two member computers on which to install the RMS connector".
RMS_MIN_SERVERS = 2
# deploy-rms-connector.md: Windows Server 2019, 2016, 2012 R2, 2012 (64-bit).
RMS_OS_MIN, RMS_OS_MAX = (6, 2, 0), (10, 0, 17763)
# configure-servers-rms-connector.md: FCI file servers on Windows Server 2016, 2012 R2, 2012.
FCI_OS_MIN, FCI_OS_MAX = (6, 2, 0), (10, 0, 14393)
# configure-servers-rms-connector.md: the MSDRM client of Windows Server 2012 and later supports RMS
# Cryptographic Mode 2, which Exchange needs with the connector.
EXCHANGE_MSDRM_OS_MIN = (6, 2, 0)
# configure-servers-rms-connector.md: SharePoint needs MSIPC 2.1 version 1.0.2004.0 or later.
SHAREPOINT_MSIPC_MIN = (1, 0, 2004, 0)

DOTNET_472_RELEASE = 461808

_THUMBPRINT = re.compile(r"^[0-9A-Fa-f]{40}$")
_TENANT_URL = re.compile(r"^https://[A-Za-z0-9.-]+$")
_NETBIOS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!@#$%^()'{}~_-]{0,14}$")
_CACHE = {}


def computer_account(host, domain=None):
    """NAME$ (the NetBIOS computer name is the first label, upper case, at most 15 characters)."""
    name = short_name(host).upper()[:15] + "$"
    return "%s\\%s" % (domain, name) if domain else name


# ---- the registry table -------------------------------------------------------------------------

def _read_table(name):
    return data_files.load_yaml("connectors", name)


def registry_table():
    if REGISTRY_TABLE not in _CACHE:
        _CACHE[REGISTRY_TABLE] = _read_table(REGISTRY_TABLE)
    return _CACHE[REGISTRY_TABLE]


def connector_url(connector_name, protocol):
    return "%s://%s" % (protocol, connector_name.lower())


TENANT_URL_REMEDY = ("run Get-AipServiceConfiguration and take LicensingIntranetDistributionPointUrl without "
                     "'/_wmcs/licensing', e.g. https://5c6bb73b-1038-4eec-863d-49bded473437.rms.na.aadrm.com.")


def normalize_tenant_url(tenant_url, kind=None):
    """The documented form: https://<host>, no path and no trailing slash. Raises ConnectorInputError."""
    if tenant_url is None or not str(tenant_url).strip():
        raise ConnectorInputError(
            "rms_connector_client_tenant_url is required for %s servers (the Azure Rights Management service "
            "URL in their registry values). Remedy: %s" % (kind or "Exchange and SharePoint", TENANT_URL_REMEDY))
    url = str(tenant_url).strip()
    if url.endswith("/"):
        url = url[:-1]
    if not _TENANT_URL.match(url):
        raise ConnectorInputError(
            "rms_connector_client_tenant_url %r is not the Azure Rights Management service URL (https://<host>, "
            "no path). Remedy: %s" % (tenant_url, TENANT_URL_REMEDY))
    return url


def registry_items(kind, connector_name, protocol, tenant_url=None):
    """The registry values for one kind of server, rendered from the table, in table order.

    Each item: {id, path, name, type, data, source, note}. name "" = the (Default) value.
    """
    table = registry_table()
    if kind not in table["kinds"]:
        raise ConnectorInputError("Unknown server kind %r; one of %s." % (kind, ", ".join(table["kinds"])))
    if table["kinds"][kind]["tenant_url"] == "required":
        tenant = normalize_tenant_url(tenant_url, kind)
    else:
        tenant = None
    values = {"connector_url": connector_url(connector_name, protocol), "tenant_url": tenant}
    items = []
    for row in table["rows"]:
        if kind not in row["kinds"]:
            continue
        items.append({
            "id": row["id"],
            "path": row["path"].format(**values),
            "name": row["name"].format(**values),
            "type": row["type"],
            "data": row["data"].format(**values),
            "source": table["sources"][row["source"]]["url"],
            "note": row.get("note"),
        })
    return items


def rms_input_checks(checks, comp, p):
    """The RMS connector's own input formats (after the shared ones, common.input_checks)."""
    if p.get("exchange_hosts") and not (p.get("exchange_servers_group") or "").strip():
        input_failure(checks, comp, "exchange_servers_group", "is empty but Exchange servers use the connector.",
                      "Give the security group of all Exchange servers (default 'Exchange Servers').")
    value = p.get("netbios_domain")
    if value and not _NETBIOS.match(value):
        input_failure(checks, comp, "netbios_domain",
                      "%r is not a NetBIOS domain name (at most 15 characters, no dots)." % value,
                      "Give the NetBIOS name of the domain, e.g. CONTOSO.")
    for host, account in (p.get("computer_accounts") or {}).items():
        if not str(account).endswith("$"):
            input_failure(checks, comp, "fci_computer_accounts",
                          "entry %s: %r is not a computer account (NAME$ or DOMAIN\\NAME$)." % (host, account),
                          "Give the computer account with its trailing $.")


# ---- RMS connector: inventory stage --------------------------------------------------------------

def rms_connector_inventory(p):
    checks = []
    comp = "rms_connector"
    input_checks(checks, comp, p)
    rms_input_checks(checks, comp, p)
    hosts = p["connector_hosts"] or []
    name = p["connector_name"] or ""

    count = len(hosts)
    if count >= RMS_MIN_SERVERS:
        add_check(checks, "rms_connector.server_count", comp, None, "pass",
                  "%d RMS connector servers: %s." % (count, ", ".join(hosts)))
    else:
        status = "fail" if p["require_fault_tolerance"] else "warn"
        add_check(checks, "rms_connector.server_count", comp, None, status,
                  "%d RMS connector server(s) in the inventory (%s); Microsoft requires at least %d for fault "
                  "tolerance and high availability." % (count, ", ".join(hosts) or "none", RMS_MIN_SERVERS),
                  "Add a second connector server to the inventory group, or (lab only) set "
                  "rms_connector_require_fault_tolerance: false.")

    for group, label, remedy in (
            ("domain_controllers", "a domain controller",
             "Install the connector on member servers; Microsoft: do not install this connector on a domain controller."),
            ("exchange_hosts", "an Exchange server that uses the connector",
             "Use a separate server: the connector cannot identify the accounts of the server it runs on "
             "(event 2001)."),
            ("sharepoint_hosts", "a SharePoint server that uses the connector",
             "Use a separate server: the connector cannot identify the accounts of the server it runs on "
             "(event 2001)."),
            ("fci_hosts", "a File Classification Infrastructure file server that uses the connector",
             "Use a separate server: the connector cannot identify the accounts of the server it runs on "
             "(event 2001).")):
        clash = overlap(hosts, p.get(group))
        check_id = "rms_connector.not_" + group.replace("_hosts", "").replace("domain_controllers", "dc")
        if clash:
            add_check(checks, check_id, comp, None, "fail",
                      "%s %s also %s." % (", ".join(clash), "is" if len(clash) == 1 else "are", label), remedy)
        else:
            add_check(checks, check_id, comp, None, "pass", "No connector server is %s." % label)

    if not is_dns_name(name):
        add_check(checks, "rms_connector.name", comp, None, "fail",
                  "rms_connector_name %r is not a fully qualified DNS name." % name,
                  "Give the load-balanced connector name, e.g. rmsconnector.contoso.com (an A record to the "
                  "load balancer in front of the connector servers).")
    elif overlap([name], hosts):
        add_check(checks, "rms_connector.name", comp, None, "fail",
                  "rms_connector_name %s is the name of a connector server." % name,
                  "Use a name of its own for the load-balanced address (Microsoft: specify the name of the "
                  "load-balanced RMS connector, not the name of a single server).")
    else:
        add_check(checks, "rms_connector.name", comp, None, "pass",
                  "Connector URL: %s (load-balanced name; %s)."
                  % (connector_url(name, p["protocol"]), p["protocol"].upper()))
    thumbprint = (p.get("certificate_thumbprint") or "").replace(" ", "")
    if p["protocol"] == "https":
        if not thumbprint:
            add_check(checks, "rms_connector.https", comp, None, "fail",
                      "rms_connector_protocol is https but rms_connector_certificate_thumbprint is not set.",
                      "Give the thumbprint of the server authentication certificate for %s that is in "
                      "LocalMachine\\My on every connector server, or set rms_connector_protocol: http." % (name or
                                                                                                            "the name"))
        elif not _THUMBPRINT.match(thumbprint):
            add_check(checks, "rms_connector.https", comp, None, "fail",
                      "rms_connector_certificate_thumbprint %r is not a SHA-1 thumbprint (40 hexadecimal digits)."
                      % p.get("certificate_thumbprint"),
                      "Copy the Thumbprint of the certificate (certlm.msc or Get-ChildItem Cert:\\LocalMachine\\My).")
        else:
            add_check(checks, "rms_connector.https", comp, None, "pass",
                      "HTTPS with certificate %s bound to the Default Web Site." % thumbprint.upper())
    if p["protocol"] == "http":
        add_check(checks, "rms_connector.https", comp, None, "warn",
                  "The connector will be used over HTTP; Microsoft recommends HTTPS (warning 2002 in the event log).",
                  "Set rms_connector_protocol: https with a server authentication certificate for %s."
                  % (name or "the name"))

    dns_record = None
    if p.get("manage_dns"):
        problems = []
        if not p.get("dns_servers"):
            problems.append("the DNS server group is empty")
        if not p.get("dns_address"):
            problems.append("rms_connector_dns_address (the load balancer's IPv4 address) is not set")
        else:
            try:
                ipaddress.IPv4Address(p["dns_address"])
            except ValueError:
                problems.append("rms_connector_dns_address %r is not an IPv4 address" % p["dns_address"])
        zone = p.get("dns_zone") or (name.split(".", 1)[1] if "." in name else "")
        if zone and not name.lower().endswith("." + zone.lower()):
            problems.append("rms_connector_name %s is not in the zone %s" % (name, zone))
        if problems:
            add_check(checks, "rms_connector.dns", comp, None, "fail",
                      "The DNS record for %s cannot be created: %s." % (name, "; ".join(problems)),
                      "Fill the dns_servers group and set rms_connector_dns_address (and rms_connector_dns_zone), "
                      "or set rms_connector_manage_dns: false and create the A record yourself.")
        else:
            dns_record = {"zone": zone, "name": name[:-(len(zone) + 1)], "address": p["dns_address"],
                          "server": p["dns_servers"][0]}
            add_check(checks, "rms_connector.dns", comp, None, "pass",
                      "A record %s -> %s will be managed on %s (zone %s)."
                      % (name, p["dns_address"], p["dns_servers"][0], zone))

    authorization = []
    if p.get("exchange_hosts"):
        authorization.append({
            "account": p["exchange_servers_group"], "server_type": "Exchange",
            "why": "the security group of all Exchange servers (%s); Microsoft: for Exchange you must "
                   "specify a security group. Its members get the super user role." % ", ".join(p["exchange_hosts"])})
    sharepoint_accounts = p.get("sharepoint_accounts") or []
    if p.get("sharepoint_hosts") and not sharepoint_accounts:
        add_check(checks, "rms_connector.sharepoint_accounts", comp, None, "fail",
                  "SharePoint servers use the connector (%s) but no SharePoint account to authorize is given."
                  % ", ".join(p["sharepoint_hosts"]),
                  "Set rms_connector_sharepoint_accounts to the account of the SharePoint Central Administration "
                  "service (farm account) and the SharePoint app pool account(s), DOMAIN\\name.")
    for account in sharepoint_accounts:
        if not ACCOUNT.match(account):
            add_check(checks, "rms_connector.sharepoint_accounts", comp, None, "fail",
                      "rms_connector_sharepoint_accounts entry %r is not DOMAIN\\name or name@domain." % account,
                      "Give each SharePoint service account as DOMAIN\\name.")
            continue
        authorization.append({
            "account": account, "server_type": "SharePoint",
            "why": "SharePoint Central Administration (farm) or app pool account of %s"
                   % (", ".join(p.get("sharepoint_hosts") or []) or "the SharePoint farm")})
    overrides = p.get("computer_accounts") or {}
    for host in p.get("fci_hosts") or []:
        account = overrides.get(host) or computer_account(host, p.get("netbios_domain"))
        authorization.append({
            "account": account, "server_type": "FCI",
            "why": "computer account of the file server %s (FCI services run as Local System)" % host})
    for entry in authorization:
        entry["line"] = "Add %s, server type %s: %s." % (entry["account"], entry["server_type"], entry["why"])
    if authorization:
        add_check(checks, "rms_connector.authorization", comp, None, "pass",
                  "%d account(s) to authorize in the connector administrator tool: %s."
                  % (len(authorization), ", ".join(a["account"] for a in authorization)))
    else:
        add_check(checks, "rms_connector.authorization", comp, None, "warn",
                  "No Exchange, SharePoint or FCI server in the inventory: nothing to authorize.",
                  "Fill the exchange_servers, sharepoint_servers or fci_servers groups.")
    return checks, {"authorization": authorization, "dns_record": dns_record}


# ---- RMS connector and its clients: host stage ---------------------------------------------------

def _tls12_check(checks, comp, host, facts):
    tls = facts.get("tls12") or {}
    disabled = []
    for side in ("client", "server"):
        if tls.get(side + "_enabled") is not None and int(tls[side + "_enabled"]) == 0:
            disabled.append("%s Enabled=0" % side.capitalize())
        if tls.get(side + "_disabled_by_default") is not None and int(tls[side + "_disabled_by_default"]) == 1:
            disabled.append("%s DisabledByDefault=1" % side.capitalize())
    if disabled:
        add_check(checks, "rms_connector.tls12", comp, host, "fail",
                  "TLS 1.2 is turned off in SCHANNEL (%s)." % ", ".join(disabled),
                  "Set HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2\\"
                  "{Client,Server} Enabled=1 and DisabledByDefault=0 (or rms_connector_disable_legacy_tls: true), "
                  "then restart.")
    else:
        add_check(checks, "rms_connector.tls12", comp, host, "pass", "TLS 1.2 is not turned off in SCHANNEL.")


def name_covered(name, names):
    """A certificate name (exact or a one-label wildcard) covers the DNS name."""
    name = name.lower()
    for pattern in names or ():
        pattern = str(pattern).lower()
        if pattern == name:
            return True
        if pattern.startswith("*.") and "." in name and name.split(".", 1)[1] == pattern[2:]:
            return True
    return False


def _certificate_checks(checks, comp, host, cert, connector_name, now):
    """The HTTPS certificate (install-configure-rms-connector.md, 'Configuring the RMS connector to use
    HTTPS'): a server authentication certificate whose subject common name or DNS alternative name is
    the connector name, on every connector server."""
    if not cert or not cert.get("exists"):
        add_check(checks, "rms_connector.certificate", comp, host, "fail",
                  "No certificate %s in LocalMachine\\My." % ((cert or {}).get("thumbprint") or ""),
                  "Import the server authentication certificate for %s (with its private key) into "
                  "LocalMachine\\My on every connector server, e.g. with ansible.windows.win_certificate_store, "
                  "and give its thumbprint in rms_connector_certificate_thumbprint." % connector_name)
        return
    problems = []
    names = list(cert.get("dns_names") or []) + [cert.get("issued_to") or ""]
    if not name_covered(connector_name, names):
        problems.append("neither its subject CN nor its DNS names (%s) cover %s"
                        % (", ".join(n for n in names if n) or "none", connector_name))
    if not cert.get("has_private_key"):
        problems.append("it has no private key")
    valid_to = cert.get("valid_to")
    if valid_to is not None and float(valid_to) <= now:
        problems.append("it expired (%s)" % (cert.get("valid_to_iso8601") or valid_to))
    purposes = cert.get("intended_purposes")
    if purposes and not any("server authentication" in str(p).lower() or p == "1.3.6.1.5.5.7.3.1" for p in purposes):
        problems.append("its enhanced key usage (%s) lacks Server Authentication" % ", ".join(map(str, purposes)))
    if problems:
        add_check(checks, "rms_connector.certificate", comp, host, "fail",
                  "Certificate %s: %s." % (cert.get("thumbprint"), "; ".join(problems)),
                  "Use a server authentication certificate for %s from a CA the Exchange and SharePoint servers "
                  "trust (Microsoft: e.g. a copy of the AD CS Web Server template)." % connector_name)
    else:
        add_check(checks, "rms_connector.certificate", comp, host, "pass",
                  "Certificate %s covers %s, has its private key and is valid."
                  % (cert.get("thumbprint"), connector_name))


def rms_connector_host(host, facts, connector_name=None, now=None):
    checks = []
    comp = "rms_connector"
    os_checks(checks, "rms_connector.os", comp, host, facts, RMS_OS_MIN, RMS_OS_MAX,
              "Windows Server 2012, 2012 R2, 2016 and 2019 (64-bit)")
    if facts.get("os_product_type") == "domain_controller":
        add_check(checks, "rms_connector.not_dc_host", comp, host, "fail", "This server is a domain controller.",
                  "Install the connector on a member server.")
    else:
        add_check(checks, "rms_connector.not_dc_host", comp, host, "pass", "Not a domain controller.")
    dotnet_check(checks, "rms_connector.dotnet", comp, host, facts, DOTNET_472_RELEASE, "4.7.2")
    _tls12_check(checks, comp, host, facts)
    if "certificate" in facts:
        _certificate_checks(checks, comp, host, facts["certificate"], connector_name or "",
                            time.time() if now is None else now)
    return checks


def rms_client_host(host, kind, facts):
    checks = []
    comp = "rms_connector_client"
    version = parse_version(facts.get("distribution_version"))
    if kind == "fci":
        os_checks(checks, "rms_connector_client.os", comp, host, facts, FCI_OS_MIN, FCI_OS_MAX,
                  "Windows Server 2012, 2012 R2 and 2016 for File Classification Infrastructure")
    elif kind.startswith("exchange") and version is not None:
        if version < EXCHANGE_MSDRM_OS_MIN:
            add_check(checks, "rms_connector_client.msdrm", comp, host, "fail",
                      "%s: its RMS client (MSDRM) may lack Cryptographic Mode 2 support." % windows_name(version),
                      "Exchange servers on Windows Server 2012 or later need no action; older ones need an updated "
                      "MSDRM client.")
        else:
            add_check(checks, "rms_connector_client.msdrm", comp, host, "pass",
                      "%s: the built-in RMS client supports Cryptographic Mode 2." % windows_name(version))
    elif kind == "sharepoint":
        msipc = parse_version(facts.get("msipc_version"), length=4)
        if msipc is None:
            add_check(checks, "rms_connector_client.msipc", comp, host, "fail",
                      "The MSIPC 2.1 client (msipc.dll under Program Files\\Active Directory Rights Management "
                      "Services Client 2.1) is not installed.",
                      "Install the latest Active Directory Rights Management Services Client 2.1 "
                      "(1.0.2004.0 or later).")
        elif msipc < SHAREPOINT_MSIPC_MIN:
            add_check(checks, "rms_connector_client.msipc", comp, host, "fail",
                      "MSIPC 2.1 client version %s is older than 1.0.2004.0." % ".".join(map(str, msipc)),
                      "Install the latest Active Directory Rights Management Services Client 2.1.")
        else:
            add_check(checks, "rms_connector_client.msipc", comp, host, "pass",
                      "MSIPC 2.1 client version %s." % ".".join(map(str, msipc)))
    return checks


# ---- RMS connector client: inventory stage -------------------------------------------------------

def rms_client_inventory(p):
    checks = []
    comp = "rms_connector_client"
    host = p.get("host")
    name = p["connector_name"] or ""
    outputs = {"registry": []}
    if not is_dns_name(name):
        add_check(checks, "rms_connector_client.connector_name", comp, host, "fail",
                  "rms_connector_client_connector_name %r is not a fully qualified DNS name." % name,
                  "Give the load-balanced RMS connector name (the same as rms_connector_name).")
    else:
        add_check(checks, "rms_connector_client.connector_name", comp, host, "pass",
                  "Connector URL: %s." % connector_url(name, p["protocol"]))
    if host and overlap([host], p.get("connector_hosts")):
        add_check(checks, "rms_connector_client.not_connector", comp, host, "fail",
                  "%s is also an RMS connector server." % host,
                  "A server that uses the connector must not run it; remove it from one of the groups.")
    kind = p["kind"]
    try:
        items = registry_items(kind, name, p["protocol"], p.get("tenant_url")) if is_dns_name(name) else []
    except ConnectorInputError as err:
        message, _sep, remedy = str(err).partition(" Remedy: ")
        add_check(checks, "rms_connector_client.tenant_url", comp, host, "fail", message, remedy)
        items = []
    else:
        if items:
            add_check(checks, "rms_connector_client.registry", comp, host, "pass",
                      "%d registry value(s) for %s from the cited table." % (len(items), kind))
    outputs["registry"] = items
    return checks, outputs
