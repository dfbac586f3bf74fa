# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the connector preconditions share: the check record, names and versions of hosts, the Windows
and .NET version checks, the format checks of the roles' inputs, and the summary.

Controller-side and pure (no host is contacted). Every check is {id, component, host,
status: pass|warn|fail, message, remedy}; rules never stop at the first failure. The connectors'
own rules are in rms.py (RMS connector and the servers that use it) and exchange.py (Intune
on-premises Exchange Connector); preflight.py is the entry point of ems.enable.connector_preflight.

Microsoft sources: .NET: dotnet/docs docs/framework/migration-guide/
how-to-determine-which-versions-are-installed.md (Release DWORD: 4.5 = 378389, 4.7.2 = 461808 or more);
Windows versions as each connector's prerequisites name them (rms.py, exchange.py).
"""

from __future__ import annotations

import os
import re

from ansible_collections.ems.enable.plugins.module_utils.network.host_names import is_dns_name  # noqa: F401 (shared rule)

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
# Ansible's Windows FAQ: ansible-core 2.16 and later support Windows Server 2016 and later only.
ANSIBLE_OS_MIN = (10, 0, 14393)

ACCOUNT = re.compile(r"^[^\\/@\s]+\\[^\\/@\s]+$|^[^\\/@\s]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


class ConnectorInputError(ValueError):
    """Bad input the caller must fix (option name and remedy in the message)."""


# ---- small helpers ------------------------------------------------------------------------------

def add_check(checks, check_id, component, host, status, message, remedy=None):
    """Append one check of a connector (the shape every connector precondition has)."""
    checks.append({"id": check_id, "component": component, "host": host, "status": status,
                   "message": message, "remedy": remedy if status != "pass" else None})


def short_name(host):
    """First DNS label, lower case: how the checks compare inventory hosts (FQDN or not)."""
    return str(host).split(".", 1)[0].lower()


def overlap(hosts_a, hosts_b):
    """Hosts of A that are also in B (compared by their first DNS label), in A's order."""
    names_b = {short_name(h) for h in hosts_b or ()}
    return [h for h in hosts_a or () if short_name(h) in names_b]


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


# ---- inputs shared by the roles (format checks, named after the role options) -------------------

ROLE_PREFIX = {"rms_connector": "rms_connector_", "rms_connector_client": "rms_connector_client_",
               "exchange_connector": "intune_exchange_connector_"}
_UPN = re.compile(r"^[^@\s\\/]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_WINDOWS_PATH = re.compile(r"^[A-Za-z]:\\[^<>\"|?*]*$")
_FEATURE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")
_PROXY = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?/?$")


def input_failure(checks, comp, option, message, remedy):
    """A failed format check of the role option <prefix><option>."""
    add_check(checks, "%s.input.%s" % (comp, option), comp, None, "fail",
              "%s%s %s" % (ROLE_PREFIX[comp], option, message), remedy)


def input_checks(checks, comp, p):
    """Format checks of optional inputs; each failure names the role option and the remedy."""

    def bad(option, message, remedy):
        input_failure(checks, comp, option, message, remedy)

    for option, key in (("admin_account", "admin_account"), ("intune_admin", "intune_admin")):
        value = p.get(key)
        if value and not _UPN.match(value):
            bad(option, "%r is not a user principal name (name@domain)." % value,
                "Give the Microsoft Entra account as name@domain, e.g. rmsadmin@contoso.onmicrosoft.com.")
    value = p.get("notification_account")
    if value and not ACCOUNT.match(value):
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


# ---- host stage (facts gathered by a role on one host) ------------------------------------------

def os_checks(checks, check_id, comp, host, facts, lowest, highest, supported_text):
    version = parse_version(facts.get("distribution_version"))
    if version is None:
        add_check(checks, check_id, comp, host, "fail", "The Windows version could not be read.",
                  "Gather facts with ansible.builtin.setup (subset distribution).")
        return None
    name = windows_name(version)
    if not lowest <= version <= highest:
        add_check(checks, check_id, comp, host, "fail",
                  "%s (%s) is not supported; Microsoft supports %s."
                  % (name, ".".join(map(str, version)), supported_text),
                  "Use a server with one of the supported Windows Server versions.")
    else:
        add_check(checks, check_id, comp, host, "pass", "%s (%s)." % (name, ".".join(map(str, version))))
    if facts.get("architecture") not in (None, "x86_64"):
        add_check(checks, check_id + "_64bit", comp, host, "fail",
                  "The operating system is %s, not 64-bit." % facts.get("architecture"),
                  "Use a 64-bit Windows Server.")
    if version < ANSIBLE_OS_MIN:
        add_check(checks, "ansible_support", comp, host, "warn",
                  "%s is older than the Windows versions ansible-core 2.16+ supports (Windows Server 2016 and later)."
                  % name, "Expect to run into unsupported behaviour of the Windows modules; prefer Windows Server 2016+.")
    return version


def dotnet_check(checks, check_id, comp, host, facts, minimum, label):
    release = facts.get("dotnet_release")
    if release is None:
        add_check(checks, check_id, comp, host, "fail", ".NET Framework 4.5 or later is not installed.",
                  "Install .NET Framework %s or later." % label)
    elif int(release) < minimum:
        add_check(checks, check_id, comp, host, "fail",
                  ".NET Framework Release %s is older than %s (Release %d)." % (release, label, minimum),
                  "Install .NET Framework %s or later and restart." % label)
    else:
        add_check(checks, check_id, comp, host, "pass", ".NET Framework Release %s (%s or later)." % (release, label))
