# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument spec and entry point of ems.enable.connector_preflight: the preconditions and plans of the
on-premises connectors (RMS connector, servers that use it, Intune Exchange Connector).

ems.enable.connector_preflight calls run() with the inventory (stage "inventory", before any Windows
host is touched) or with facts a role gathered on one host (stage "host"). The rules are in rms.py and
exchange.py, what they share in common.py.
"""

from __future__ import annotations

from ansible_collections.ems.enable.plugins.module_utils.connectors.common import (
    ConnectorInputError, failure_message, summarize)
from ansible_collections.ems.enable.plugins.module_utils.connectors.exchange import (
    exchange_connector_host, exchange_connector_inventory)
from ansible_collections.ems.enable.plugins.module_utils.connectors.rms import (
    CLIENT_KINDS, PROTOCOLS, rms_client_host, rms_client_inventory, rms_connector_host, rms_connector_inventory)
from ansible_collections.ems.enable.plugins.module_utils.network.host_names import is_dns_name

COMPONENTS = ("rms_connector", "rms_connector_client", "exchange_connector")
STAGES = ("inventory", "host")

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
        ["component", "rms_connector_client", ["kind", "connector_name"]],
    ],
)


def validate_params(params):
    """Input errors one line each, naming the option, before any check (host, and the types a dict
    cannot declare); the connectors' own options are checked with the role variables' names."""
    if params.get("host") is not None and not is_dns_name(params["host"], need_dot=False):
        raise ConnectorInputError("host: %r is not a host name. Give one DNS name (no spaces, scheme, port or path)."
                                  % (params["host"],))
    for host, account in (params.get("computer_accounts") or {}).items():
        if not isinstance(account, str):
            raise ConnectorInputError("computer_accounts[%r]: %r is not an account name. Give NAME$ or DOMAIN\\NAME$."
                                      % (host, account))
    facts = params.get("facts") or {}
    release = facts.get("dotnet_release")
    if release is not None and (isinstance(release, bool) or not str(release).strip().isdigit()):
        raise ConnectorInputError("facts.dotnet_release: %r is not a .NET Framework Release number. Give the "
                                  "Release DWORD read from the registry (e.g. 528040), or leave it out." % (release,))
    version = facts.get("distribution_version")
    if version is not None and not isinstance(version, str):
        raise ConnectorInputError("facts.distribution_version: %r is not a version string. Give "
                                  "ansible_facts.distribution_version (e.g. 10.0.17763)." % (version,))


def run(params, check_mode=False):
    """Evaluate the requested stage; never stops early. Read-only (check mode changes nothing)."""
    del check_mode
    component, stage, host = params["component"], params["stage"], params.get("host")
    outputs = {}
    try:
        validate_params(params)
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
    except ConnectorInputError as err:
        return {"changed": False, "failed": True, "msg": str(err), "checks": [], "summary": summarize([])}
    result = {"changed": False, "checks": checks, "summary": summarize(checks)}
    result.update(outputs)
    message = failure_message(checks, component)
    if message:
        result["failed"] = True
        result["msg"] = message
    return result
