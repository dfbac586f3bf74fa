# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preconditions and plans of the on-premises connectors: the Microsoft Rights Management (RMS)
connector, the servers that use it, and the Intune on-premises Exchange Connector.

Controller-side and pure (no host is contacted): ems.enable.connector_preflight calls run() with the
inventory (stage "inventory", before any Windows host is touched) or with facts a role gathered on
one host (stage "host"). Every check is {id, component, host, status: pass|warn|fail, message,
remedy}; rules never stop at the first failure.

The registry values of the servers that use the RMS connector come from ONE table,
data/rms_connector_registry.yml (registry_items renders it); nothing else names those keys.

Microsoft sources (MicrosoftDocs repositories; commits in the role READMEs):
  RMS   Azure-RMSDocs deploy-rms-connector.md (prerequisites), install-configure-rms-connector.md
        (install, authorization, load balancing, HTTPS, proxy, TLS 1.2),
        configure-servers-rms-connector.md, rms-connector-registry-settings.md,
        monitor-rms-connector.md.
  Intune memdocs intune/protect/exchange-connector-install.md (requirements, cmdlets, setup),
        intune/protect/troubleshoot-exchange-connector-common-errors.md (service WIEC).
  .NET  dotnet/docs docs/framework/migration-guide/how-to-determine-which-versions-are-installed.md
        (Release DWORD: 4.5 = 378389, 4.7.2 = 461808 or more).
"""

from __future__ import annotations

import ipaddress
import os
import re
import time
import zipfile

from ansible_collections.ems.enable.plugins.module_utils.ad.rules import EXCHANGE_CONNECTOR_END_OF_SUPPORT

from ansible_collections.ems.enable.plugins.module_utils import data_files

PACKAGE = "ansible_collections.ems.enable.plugins.module_utils"
REGISTRY_TABLE = "rms_connector_registry.yml"

COMPONENTS = ("rms_connector", "rms_connector_client", "exchange_connector")
STAGES = ("inventory", "host", "password")
CLIENT_KINDS = ("exchange_2013", "exchange_2016", "exchange_2019", "sharepoint", "fci")
PROTOCOLS = ("https", "http")

# install-configure-rms-connector.md before commit 5ca24a7 (2020-08-04; last version ec308a5):
# "You cannot use a password that has any of the following characters: Ampersand (&); left angle
# bracket ([); right angle bracket (]); straight quotation ("); and apostrophe ('). If your password
# has any of these characters, authentication fails for the RMS connector setup and you see the error
# message That user name and password combination is not correct".
FORBIDDEN_PASSWORD_CHARS = ("&", "[", "]", '"', "'")
FORBIDDEN_PASSWORD_NAMES = {"&": "ampersand", "[": "left bracket", "]": "right bracket",
                            '"': "straight quotation mark", "'": "apostrophe"}

# deploy-rms-connector.md: "A minimum of two member computers on which to install the RMS connector".
RMS_MIN_SERVERS = 2

# Windows versions as (major, minor, build). The build tells 2016/2019/2022 apart (all 10.0).
WINDOWS_NAMES = (
    ((6, 0, 6002), "Windows Server 2008 SP2"),
    ((6, 1, 0), "Windows Server 2008 R2"),
    ((6, 2, 0), "Windows Server 2012"),
    ((6, 3, 0), "Windows Server 2012 R2"),
    ((10, 0, 14393), "Windows Server 2016"),
    ((10, 0, 17763), "Windows Server 2019"),
    ((10, 0, 20348), "Windows Server 2022"),
    ((10, 0, 26100), "Windows Server 2025"),
)
# deploy-rms-connector.md: Windows Server 2019, 2016, 2012 R2, 2012 (64-bit).
RMS_OS_MIN, RMS_OS_MAX = (6, 2, 0), (10, 0, 17763)
# exchange-connector-install.md: Windows Server 2008 SP2 64-bit, 2008 R2, 2012, 2012 R2, 2016; not Core.
EXCHANGE_CONNECTOR_OS_MIN, EXCHANGE_CONNECTOR_OS_MAX = (6, 0, 6002), (10, 0, 14393)
# configure-servers-rms-connector.md: FCI file servers on Windows Server 2016, 2012 R2, 2012.
FCI_OS_MIN, FCI_OS_MAX = (6, 2, 0), (10, 0, 14393)
# configure-servers-rms-connector.md: the MSDRM client of Windows Server 2012 and later supports RMS
# Cryptographic Mode 2, which Exchange needs with the connector.
EXCHANGE_MSDRM_OS_MIN = (6, 2, 0)
# configure-servers-rms-connector.md: SharePoint needs MSIPC 2.1 version 1.0.2004.0 or later.
SHAREPOINT_MSIPC_MIN = (1, 0, 2004, 0)
# Ansible's Windows FAQ: ansible-core 2.16 and later support Windows Server 2016 and later only.
ANSIBLE_OS_MIN = (10, 0, 14393)

DOTNET_472_RELEASE = 461808
DOTNET_45_RELEASE = 378389

EXCHANGE_CONNECTOR_SETUP = "Exchange_Connector_Setup.exe"
EXCHANGE_CONNECTOR_CERT = "MicrosoftIntune.accountcert"

_DNS_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_THUMBPRINT = re.compile(r"^[0-9A-Fa-f]{40}$")
_TENANT_URL = re.compile(r"^https://[A-Za-z0-9.-]+$")
_ACCOUNT = re.compile(r"^[^\\/@\s]+\\[^\\/@\s]+$|^[^\\/@\s]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_CACHE = {}


class ConnectorInputError(ValueError):
    """Bad input the caller must fix (option name and remedy in the message)."""


# ---- small helpers ------------------------------------------------------------------------------

def _check(checks, check_id, component, host, status, message, remedy=None):
    checks.append({"id": check_id, "component": component, "host": host, "status": status,
                   "message": message, "remedy": remedy if status != "pass" else None})


def is_dns_name(name, need_dot=True):
    if not isinstance(name, str) or not name or len(name) > 253 or name.endswith("."):
        return False
    labels = name.split(".")
    if need_dot and len(labels) < 2:
        return False
    return all(_DNS_LABEL.match(label) for label in labels)


def short_name(host):
    """First DNS label, lower case: how the checks compare inventory hosts (FQDN or not)."""
    return str(host).split(".", 1)[0].lower()


def overlap(hosts_a, hosts_b):
    """Hosts of A that are also in B (compared by their first DNS label), in A's order."""
    names_b = {short_name(h) for h in hosts_b or ()}
    return [h for h in hosts_a or () if short_name(h) in names_b]


def computer_account(host, domain=None):
    """NAME$ (the NetBIOS computer name is the first label, upper case, at most 15 characters)."""
    name = short_name(host).upper()[:15] + "$"
    return "%s\\%s" % (domain, name) if domain else name


def parse_version(text, length=3):
    """'10.0.17763.0' -> (10, 0, 17763); None when unreadable."""
    if text is None:
        return None
    parts = re.findall(r"\d+", str(text))
    if len(parts) < 2:
        return None
    numbers = [int(p) for p in parts[:length]]
    return tuple(numbers + [0] * (length - len(numbers)))


def windows_name(version):
    name = "Windows %s" % ".".join(str(p) for p in version)
    for floor, label in WINDOWS_NAMES:
        if version >= floor and version[:2] == floor[:2]:
            name = label
    return name


def summarize(checks):
    summary = {"pass": 0, "warn": 0, "fail": 0}
    for check in checks:
        summary[check["status"]] += 1
    return summary


def failure_message(checks, component):
    failed = [c for c in checks if c["status"] == "fail"]
    if not failed:
        return None
    lines = ["%s: %d precondition(s) failed:" % (component, len(failed))]
    for check in failed:
        where = "%s: " % check["host"] if check.get("host") else ""
        lines.append("- [%s] %s%s Remedy: %s" % (check["id"], where, check["message"], check["remedy"]))
    return "\n".join(lines)


# ---- the admin password rule (RMS connector setup) ----------------------------------------------

def forbidden_password_chars(password):
    """The forbidden characters the password contains, in the documented order."""
    return [c for c in FORBIDDEN_PASSWORD_CHARS if c in (password or "")]


def password_rule_message(found):
    named = ", ".join("%s (%s)" % (c, FORBIDDEN_PASSWORD_NAMES[c]) for c in found)
    return ("rms_connector_admin_password contains %s. The RMS connector setup rejects a password that "
            "contains any of these characters: & [ ] \" '. Sign-in then fails with 'That user name and password "
            "combination is not correct', although the account signs in elsewhere (Microsoft, Installing and "
            "configuring the RMS connector, 'Entering credentials')." % named)


PASSWORD_RULE_REMEDY = ("Use another Global Administrator or ConnectorAdministrator account, or reset this "
                        "account's password to one without & [ ] \" '.")


# ---- the registry table -------------------------------------------------------------------------

def _read_table(name):
    return data_files.load_yaml("data", name)


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


# ---- inputs shared by the roles (format checks, named after the role options) -------------------

ROLE_PREFIX = {"rms_connector": "rms_connector_", "rms_connector_client": "rms_connector_client_",
               "exchange_connector": "intune_exchange_connector_"}
_UPN = re.compile(r"^[^@\s\\/]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_WINDOWS_PATH = re.compile(r"^[A-Za-z]:\\[^<>\"|?*]*$")
_FEATURE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")
_PROXY = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?/?$")
_NETBIOS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!@#$%^()'{}~_-]{0,14}$")


def _input_checks(checks, comp, p):
    """Format checks of optional inputs; each failure names the role option and the remedy."""
    prefix = ROLE_PREFIX[comp]

    def bad(option, message, remedy):
        _check(checks, "%s.input.%s" % (comp, option), comp, None, "fail", "%s%s %s" % (prefix, option, message),
               remedy)

    for option, key in (("admin_account", "admin_account"), ("intune_admin", "intune_admin")):
        value = p.get(key)
        if value and not _UPN.match(value):
            bad(option, "%r is not a user principal name (name@domain)." % value,
                "Give the Microsoft Entra account as name@domain, e.g. rmsadmin@contoso.onmicrosoft.com.")
    value = p.get("notification_account")
    if value and not _ACCOUNT.match(value):
        bad("notification_account", "%r is not DOMAIN\\name or name@domain." % value,
            "Give the mailbox user for notifications as DOMAIN\\name or name@domain.")
    value = p.get("work_dir")
    if value is not None and not _WINDOWS_PATH.match(value):
        bad("work_dir", "%r is not an absolute Windows path." % value,
            "Give a folder such as C:\\ProgramData\\ems.enable\\<component>.")
    features = p.get("iis_features")
    if features is not None:
        wrong = [f for f in features if not _FEATURE.match(str(f))]
        if wrong or "Web-Server" not in features:
            bad("iis_features", "must name Windows features and include Web-Server (IIS); got %s.%s"
                % (", ".join(map(str, features)) or "nothing",
                   "" if not wrong else " Not feature names: %s." % ", ".join(map(repr, wrong))),
                "Keep the default [Web-Server, Web-Windows-Auth, Web-Asp-Net45] or add to it (Get-WindowsFeature names).")
    value = p.get("proxy")
    if value and not _PROXY.match(value):
        bad("proxy", "%r is not http://<proxy>:<port>." % value,
            "Give the proxy as a URL, e.g. http://proxy.contoso.com:8080 (Microsoft's ProxyAddress form).")
    value = p.get("installer")
    if value is not None:
        if not os.path.isfile(value):
            bad("installer_src", "%s is not a file on the controller." % value,
                "Download RMSConnectorSetup.exe from the Microsoft Download Center (id 40839) to the controller "
                "and give its path, or leave the option out.")
        elif not value.lower().endswith(".exe"):
            bad("installer_src", "%s is not RMSConnectorSetup.exe." % value,
                "Give the path of RMSConnectorSetup.exe.")
    value = p.get("role_name")
    if value is not None and (not value.strip() or len(value) > 40):
        bad("role_name", "%r must have 1 to 40 characters (each role is '<name> - <parent role>', at most 64)."
            % value, "Use a shorter name, e.g. 'Intune Exchange Connector'.")
    if p.get("manage_role"):
        value = p.get("exchange_server") or ""
        if not is_dns_name(value, need_dot=False):
            bad("exchange_server", "%r is not an Exchange server: the management role needs one (the first host "
                "of the Exchange server group, or this option)." % value,
                "Fill the exchange_servers group or set intune_exchange_connector_exchange_server to the FQDN of an "
                "Exchange server, or set intune_exchange_connector_manage_role: false.")
    if comp == "rms_connector":
        if p.get("exchange_hosts") and not (p.get("exchange_servers_group") or "").strip():
            bad("exchange_servers_group", "is empty but Exchange servers use the connector.",
                "Give the security group of all Exchange servers (default 'Exchange Servers').")
        value = p.get("netbios_domain")
        if value and not _NETBIOS.match(value):
            bad("netbios_domain", "%r is not a NetBIOS domain name (at most 15 characters, no dots)." % value,
                "Give the NetBIOS name of the domain, e.g. CONTOSO.")
        for host, account in (p.get("computer_accounts") or {}).items():
            if not str(account).endswith("$"):
                bad("fci_computer_accounts", "entry %s: %r is not a computer account (NAME$ or DOMAIN\\NAME$)."
                    % (host, account), "Give the computer account with its trailing $.")


# ---- RMS connector: inventory stage --------------------------------------------------------------

def rms_connector_inventory(p):
    checks = []
    comp = "rms_connector"
    _input_checks(checks, comp, p)
    hosts = p["connector_hosts"] or []
    name = p["connector_name"] or ""

    count = len(hosts)
    if count >= RMS_MIN_SERVERS:
        _check(checks, "rms_connector.server_count", comp, None, "pass",
               "%d RMS connector servers: %s." % (count, ", ".join(hosts)))
    else:
        status = "fail" if p["require_fault_tolerance"] else "warn"
        _check(checks, "rms_connector.server_count", comp, None, status,
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
            _check(checks, check_id, comp, None, "fail",
                   "%s %s also %s." % (", ".join(clash), "is" if len(clash) == 1 else "are", label), remedy)
        else:
            _check(checks, check_id, comp, None, "pass", "No connector server is %s." % label)

    if not is_dns_name(name):
        _check(checks, "rms_connector.name", comp, None, "fail",
               "rms_connector_name %r is not a fully qualified DNS name." % name,
               "Give the load-balanced connector name, e.g. rmsconnector.contoso.com (an A record to the "
               "load balancer in front of the connector servers).")
    elif overlap([name], hosts):
        _check(checks, "rms_connector.name", comp, None, "fail",
               "rms_connector_name %s is the name of a connector server." % name,
               "Use a name of its own for the load-balanced address (Microsoft: specify the name of the "
               "load-balanced RMS connector, not the name of a single server).")
    else:
        _check(checks, "rms_connector.name", comp, None, "pass",
               "Connector URL: %s (load-balanced name; %s)."
               % (connector_url(name, p["protocol"]), p["protocol"].upper()))
    thumbprint = (p.get("certificate_thumbprint") or "").replace(" ", "")
    if p["protocol"] == "https":
        if not thumbprint:
            _check(checks, "rms_connector.https", comp, None, "fail",
                   "rms_connector_protocol is https but rms_connector_certificate_thumbprint is not set.",
                   "Give the thumbprint of the server authentication certificate for %s that is in "
                   "LocalMachine\\My on every connector server, or set rms_connector_protocol: http." % (name or
                                                                                                         "the name"))
        elif not _THUMBPRINT.match(thumbprint):
            _check(checks, "rms_connector.https", comp, None, "fail",
                   "rms_connector_certificate_thumbprint %r is not a SHA-1 thumbprint (40 hexadecimal digits)."
                   % p.get("certificate_thumbprint"),
                   "Copy the Thumbprint of the certificate (certlm.msc or Get-ChildItem Cert:\\LocalMachine\\My).")
        else:
            _check(checks, "rms_connector.https", comp, None, "pass",
                   "HTTPS with certificate %s bound to the Default Web Site." % thumbprint.upper())
    if p["protocol"] == "http":
        _check(checks, "rms_connector.https", comp, None, "warn",
               "The connector will be used over HTTP; Microsoft recommends HTTPS (warning 2002 in the event log).",
               "Set rms_connector_protocol: https with a server authentication certificate for %s."
               % (name or "the name"))

    if p.get("admin_password") is not None:
        found = forbidden_password_chars(p["admin_password"])
    else:  # the verdict of an earlier stage=password run (the role keeps the password in a no_log task)
        found = [c for c in FORBIDDEN_PASSWORD_CHARS if c in (p.get("admin_password_found") or [])]
    if p.get("admin_password") is None and p.get("admin_password_found") is None:
        _check(checks, "rms_connector.admin_password", comp, None, "pass",
               "No admin password given: the operator signs in in the setup wizard.")
    elif found:
        _check(checks, "rms_connector.admin_password", comp, None, "fail", password_rule_message(found),
               PASSWORD_RULE_REMEDY)
    else:
        _check(checks, "rms_connector.admin_password", comp, None, "pass",
               "The admin password has none of the characters & [ ] \" ' that the connector setup rejects.")

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
            _check(checks, "rms_connector.dns", comp, None, "fail",
                   "The DNS record for %s cannot be created: %s." % (name, "; ".join(problems)),
                   "Fill the dns_servers group and set rms_connector_dns_address (and rms_connector_dns_zone), "
                   "or set rms_connector_manage_dns: false and create the A record yourself.")
        else:
            dns_record = {"zone": zone, "name": name[:-(len(zone) + 1)], "address": p["dns_address"],
                          "server": p["dns_servers"][0]}
            _check(checks, "rms_connector.dns", comp, None, "pass",
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
        _check(checks, "rms_connector.sharepoint_accounts", comp, None, "fail",
               "SharePoint servers use the connector (%s) but no SharePoint account to authorize is given."
               % ", ".join(p["sharepoint_hosts"]),
               "Set rms_connector_sharepoint_accounts to the account of the SharePoint Central Administration "
               "service (farm account) and the SharePoint app pool account(s), DOMAIN\\name.")
    for account in sharepoint_accounts:
        if not _ACCOUNT.match(account):
            _check(checks, "rms_connector.sharepoint_accounts", comp, None, "fail",
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
        _check(checks, "rms_connector.authorization", comp, None, "pass",
               "%d account(s) to authorize in the connector administrator tool: %s."
               % (len(authorization), ", ".join(a["account"] for a in authorization)))
    else:
        _check(checks, "rms_connector.authorization", comp, None, "warn",
               "No Exchange, SharePoint or FCI server in the inventory: nothing to authorize.",
               "Fill the exchange_servers, sharepoint_servers or fci_servers groups.")
    return checks, {"authorization": authorization, "dns_record": dns_record}


# ---- host stage (facts gathered by a role on one host) ------------------------------------------

def _os_checks(checks, check_id, comp, host, facts, lowest, highest, supported_text):
    version = parse_version(facts.get("distribution_version"))
    if version is None:
        _check(checks, check_id, comp, host, "fail", "The Windows version could not be read.",
               "Gather facts with ansible.builtin.setup (subset distribution).")
        return None
    name = windows_name(version)
    if not lowest <= version <= highest:
        _check(checks, check_id, comp, host, "fail",
               "%s (%s) is not supported; Microsoft supports %s." % (name, ".".join(map(str, version)), supported_text),
               "Use a server with one of the supported Windows Server versions.")
    else:
        _check(checks, check_id, comp, host, "pass", "%s (%s)." % (name, ".".join(map(str, version))))
    if facts.get("architecture") not in (None, "x86_64"):
        _check(checks, check_id + "_64bit", comp, host, "fail",
               "The operating system is %s, not 64-bit." % facts.get("architecture"),
               "Use a 64-bit Windows Server.")
    if version < ANSIBLE_OS_MIN:
        _check(checks, "ansible_support", comp, host, "warn",
               "%s is older than the Windows versions ansible-core 2.16+ supports (Windows Server 2016 and later)."
               % name, "Expect to run into unsupported behaviour of the Windows modules; prefer Windows Server 2016+.")
    return version


def _dotnet_check(checks, check_id, comp, host, facts, minimum, label):
    release = facts.get("dotnet_release")
    if release is None:
        _check(checks, check_id, comp, host, "fail", ".NET Framework 4.5 or later is not installed.",
               "Install .NET Framework %s or later." % label)
    elif int(release) < minimum:
        _check(checks, check_id, comp, host, "fail",
               ".NET Framework Release %s is older than %s (Release %d)." % (release, label, minimum),
               "Install .NET Framework %s or later and restart." % label)
    else:
        _check(checks, check_id, comp, host, "pass", ".NET Framework Release %s (%s or later)." % (release, label))


def _tls12_check(checks, comp, host, facts):
    tls = facts.get("tls12") or {}
    disabled = []
    for side in ("client", "server"):
        if tls.get(side + "_enabled") is not None and int(tls[side + "_enabled"]) == 0:
            disabled.append("%s Enabled=0" % side.capitalize())
        if tls.get(side + "_disabled_by_default") is not None and int(tls[side + "_disabled_by_default"]) == 1:
            disabled.append("%s DisabledByDefault=1" % side.capitalize())
    if disabled:
        _check(checks, "rms_connector.tls12", comp, host, "fail",
               "TLS 1.2 is turned off in SCHANNEL (%s)." % ", ".join(disabled),
               "Set HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2\\"
               "{Client,Server} Enabled=1 and DisabledByDefault=0 (or rms_connector_disable_legacy_tls: true), "
               "then restart.")
    else:
        _check(checks, "rms_connector.tls12", comp, host, "pass", "TLS 1.2 is not turned off in SCHANNEL.")


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
        _check(checks, "rms_connector.certificate", comp, host, "fail",
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
        _check(checks, "rms_connector.certificate", comp, host, "fail",
               "Certificate %s: %s." % (cert.get("thumbprint"), "; ".join(problems)),
               "Use a server authentication certificate for %s from a CA the Exchange and SharePoint servers "
               "trust (Microsoft: e.g. a copy of the AD CS Web Server template)." % connector_name)
    else:
        _check(checks, "rms_connector.certificate", comp, host, "pass",
               "Certificate %s covers %s, has its private key and is valid." % (cert.get("thumbprint"), connector_name))


def rms_connector_host(host, facts, connector_name=None, now=None):
    checks = []
    comp = "rms_connector"
    _os_checks(checks, "rms_connector.os", comp, host, facts, RMS_OS_MIN, RMS_OS_MAX,
               "Windows Server 2012, 2012 R2, 2016 and 2019 (64-bit)")
    if facts.get("os_product_type") == "domain_controller":
        _check(checks, "rms_connector.not_dc_host", comp, host, "fail", "This server is a domain controller.",
               "Install the connector on a member server.")
    else:
        _check(checks, "rms_connector.not_dc_host", comp, host, "pass", "Not a domain controller.")
    _dotnet_check(checks, "rms_connector.dotnet", comp, host, facts, DOTNET_472_RELEASE, "4.7.2")
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
        _os_checks(checks, "rms_connector_client.os", comp, host, facts, FCI_OS_MIN, FCI_OS_MAX,
                   "Windows Server 2012, 2012 R2 and 2016 for File Classification Infrastructure")
    elif kind.startswith("exchange") and version is not None:
        if version < EXCHANGE_MSDRM_OS_MIN:
            _check(checks, "rms_connector_client.msdrm", comp, host, "fail",
                   "%s: its RMS client (MSDRM) may lack Cryptographic Mode 2 support." % windows_name(version),
                   "Exchange servers on Windows Server 2012 or later need no action; older ones need an updated "
                   "MSDRM client.")
        else:
            _check(checks, "rms_connector_client.msdrm", comp, host, "pass",
                   "%s: the built-in RMS client supports Cryptographic Mode 2." % windows_name(version))
    elif kind == "sharepoint":
        msipc = parse_version(facts.get("msipc_version"), length=4)
        if msipc is None:
            _check(checks, "rms_connector_client.msipc", comp, host, "fail",
                   "The MSIPC 2.1 client (msipc.dll under Program Files\\Active Directory Rights Management "
                   "Services Client 2.1) is not installed.",
                   "Install the latest Active Directory Rights Management Services Client 2.1 (1.0.2004.0 or later).")
        elif msipc < SHAREPOINT_MSIPC_MIN:
            _check(checks, "rms_connector_client.msipc", comp, host, "fail",
                   "MSIPC 2.1 client version %s is older than 1.0.2004.0." % ".".join(map(str, msipc)),
                   "Install the latest Active Directory Rights Management Services Client 2.1.")
        else:
            _check(checks, "rms_connector_client.msipc", comp, host, "pass",
                   "MSIPC 2.1 client version %s." % ".".join(map(str, msipc)))
    return checks


def exchange_connector_host(host, facts):
    checks = []
    comp = "exchange_connector"
    _os_checks(checks, "exchange_connector.os", comp, host, facts, EXCHANGE_CONNECTOR_OS_MIN,
               EXCHANGE_CONNECTOR_OS_MAX, "Windows Server 2008 SP2 64-bit, 2008 R2, 2012, 2012 R2 and 2016")
    if "core" in str(facts.get("os_installation_type") or "").lower():
        _check(checks, "exchange_connector.not_core", comp, host, "fail",
               "This is a Server Core installation (%s)." % facts.get("os_installation_type"),
               "Use a server with the full GUI: the connector isn't supported on any Server Core installation.")
    else:
        _check(checks, "exchange_connector.not_core", comp, host, "pass",
               "Installation type: %s." % (facts.get("os_installation_type") or "unknown"))
    _dotnet_check(checks, "exchange_connector.dotnet", comp, host, facts, DOTNET_45_RELEASE, "4.5")
    return checks


# ---- RMS connector client: inventory stage -------------------------------------------------------

def rms_client_inventory(p):
    checks = []
    comp = "rms_connector_client"
    host = p.get("host")
    name = p["connector_name"] or ""
    outputs = {"registry": []}
    if not is_dns_name(name):
        _check(checks, "rms_connector_client.connector_name", comp, host, "fail",
               "rms_connector_client_connector_name %r is not a fully qualified DNS name." % name,
               "Give the load-balanced RMS connector name (the same as rms_connector_name).")
    else:
        _check(checks, "rms_connector_client.connector_name", comp, host, "pass",
               "Connector URL: %s." % connector_url(name, p["protocol"]))
    if host and overlap([host], p.get("connector_hosts")):
        _check(checks, "rms_connector_client.not_connector", comp, host, "fail",
               "%s is also an RMS connector server." % host,
               "A server that uses the connector must not run it; remove it from one of the groups.")
    kind = p["kind"]
    try:
        items = registry_items(kind, name, p["protocol"], p.get("tenant_url")) if is_dns_name(name) else []
    except ConnectorInputError as err:
        message, _sep, remedy = str(err).partition(" Remedy: ")
        _check(checks, "rms_connector_client.tenant_url", comp, host, "fail", message, remedy)
        items = []
    else:
        if items:
            _check(checks, "rms_connector_client.registry", comp, host, "pass",
                   "%d registry value(s) for %s from the cited table." % (len(items), kind))
    outputs["registry"] = items
    return checks, outputs


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
    _input_checks(checks, comp, p)
    if p.get("support_warning", True):
        _check(checks, "exchange_connector.support", comp, None, "warn",
               "Microsoft ended support for the Intune on-premises Exchange Connector on %s and no longer offers "
               "its download; after that date it no longer syncs with Exchange." % EXCHANGE_CONNECTOR_END_OF_SUPPORT,
               "Prefer Exchange hybrid modern authentication (HMA) with Conditional Access; keep the connector "
               "only where it already runs and you still have its package.")
    hosts = p.get("connector_hosts") or []
    if len(hosts) > 1:
        _check(checks, "exchange_connector.one_per_organization", comp, None, "fail",
               "%d Exchange Connector hosts (%s); only one connector can be installed for each Exchange "
               "organization, a second one replaces the first." % (len(hosts), ", ".join(hosts)),
               "Keep one host per Exchange organization in the play (one inventory or limit per organization).")
    else:
        _check(checks, "exchange_connector.one_per_organization", comp, None, "pass",
               "One connector host for the Exchange organization: %s." % (", ".join(hosts) or "none"))
    cas = p.get("cas_server") or ""
    if not is_dns_name(cas, need_dot=False):
        _check(checks, "exchange_connector.cas", comp, None, "fail",
               "intune_exchange_connector_cas_server %r is not a server name." % cas,
               "Give the name or FQDN of an Exchange server with the Client Access role.")
    else:
        _check(checks, "exchange_connector.cas", comp, None, "pass", "Exchange Client Access server: %s." % cas)
    account = p.get("service_account") or ""
    if not _ACCOUNT.match(account):
        _check(checks, "exchange_connector.service_account", comp, None, "fail",
               "intune_exchange_connector_service_account %r is not DOMAIN\\name or name@domain." % account,
               "Give the Active Directory user the connector uses (it needs an Intune license).")
    else:
        _check(checks, "exchange_connector.service_account", comp, None, "pass",
               "Service account: %s." % account)
    try:
        outputs["package"] = package_layout(p.get("package"))
    except ConnectorInputError as err:
        _check(checks, "exchange_connector.package", comp, None, "fail", str(err),
               "Give Exchange_Connector_Setup.zip as downloaded from the Intune admin center, unmodified "
               "(Microsoft: do not rename or move the files in it).")
    else:
        _check(checks, "exchange_connector.package", comp, None, "pass",
               "Package holds %s and %s." % (outputs["package"]["setup"], outputs["package"]["certificate"]))
    return checks, outputs


# ---- entry point ---------------------------------------------------------------------------------

ARGUMENT_SPEC = dict(
    component=dict(type="str", required=True, choices=list(COMPONENTS)),
    stage=dict(type="str", default="inventory", choices=list(STAGES)),
    host=dict(type="str"),
    facts=dict(type="dict"),
    connector_hosts=dict(type="list", elements="str", default=[]),
    connector_name=dict(type="str"),
    protocol=dict(type="str", default="https", choices=list(PROTOCOLS)),
    require_fault_tolerance=dict(type="bool", default=True),
    domain_controllers=dict(type="list", elements="str", default=[]),
    exchange_hosts=dict(type="list", elements="str", default=[]),
    sharepoint_hosts=dict(type="list", elements="str", default=[]),
    fci_hosts=dict(type="list", elements="str", default=[]),
    admin_password=dict(type="str", no_log=True),
    admin_password_found=dict(type="list", elements="str", no_log=False),  # which characters, not the password
    exchange_servers_group=dict(type="str", default="Exchange Servers"),
    sharepoint_accounts=dict(type="list", elements="str", default=[]),
    computer_accounts=dict(type="dict", default={}),
    netbios_domain=dict(type="str"),
    manage_dns=dict(type="bool", default=False),
    dns_servers=dict(type="list", elements="str", default=[]),
    dns_address=dict(type="str"),
    dns_zone=dict(type="str"),
    kind=dict(type="str", choices=list(CLIENT_KINDS)),
    tenant_url=dict(type="str"),
    cas_server=dict(type="str"),
    service_account=dict(type="str"),
    package=dict(type="path"),
    certificate_thumbprint=dict(type="str"),
    admin_account=dict(type="str"),
    intune_admin=dict(type="str"),
    notification_account=dict(type="str"),
    work_dir=dict(type="str"),
    iis_features=dict(type="list", elements="str"),
    proxy=dict(type="str"),
    installer=dict(type="path"),
    role_name=dict(type="str"),
    manage_role=dict(type="bool", default=False),
    exchange_server=dict(type="str"),
    support_warning=dict(type="bool", default=True),
)
SPEC_KWARGS = dict(
    required_if=[
        ["stage", "host", ["host", "facts"]],
        ["stage", "password", ["admin_password"]],
        ["component", "rms_connector_client", ["kind", "connector_name"]],
    ],
)


def run(params, check_mode=False):
    """Evaluate the requested stage; never stops early. Read-only (check mode changes nothing)."""
    del check_mode
    component, stage, host = params["component"], params["stage"], params.get("host")
    outputs = {}
    if stage == "password":
        # Only which forbidden characters the password holds (not secret); no check, never fails.
        return {"changed": False, "found": forbidden_password_chars(params["admin_password"]), "checks": [],
                "summary": summarize([])}
    try:
        if stage == "host":
            facts = params.get("facts") or {}
            if component == "rms_connector":
                checks = rms_connector_host(host, facts, params.get("connector_name"))
            elif component == "rms_connector_client":
                checks = rms_client_host(host, params.get("kind") or "", facts)
            else:
                checks = exchange_connector_host(host, facts)
        elif component == "rms_connector":
            checks, outputs = rms_connector_inventory(params)
        elif component == "rms_connector_client":
            checks, outputs = rms_client_inventory(params)
        else:
            checks, outputs = exchange_connector_inventory(params)
    except ConnectorInputError as err:  # pragma: no cover - every input error is a check above
        return {"changed": False, "failed": True, "msg": str(err), "checks": [], "summary": summarize([])}
    result = {"changed": False, "checks": checks, "summary": summarize(checks)}
    result.update(outputs)
    message = failure_message(checks, component)
    if message:
        result["failed"] = True
        result["msg"] = message
    return result
