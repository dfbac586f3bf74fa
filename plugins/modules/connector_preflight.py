#!/usr/bin/python
# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: connector_preflight
short_description: Preconditions of the RMS connector, the servers that use it and the Intune Exchange Connector
version_added: 0.1.0
description:
  - Evaluates the preconditions Microsoft documents for the on-premises connectors and returns every
    check with its verdict, message and remedy (the onboarding callback shows them as a table). Fails
    when any check fails, listing ALL failing checks; warnings never fail.
  - "O(stage=inventory) works on the inventory only and runs before any Windows host is contacted:
    V(rms_connector) - at least two connector servers (a warning instead when
    O(require_fault_tolerance=false)), none of them a domain controller or an Exchange, SharePoint or
    FCI server that uses it, a fully qualified load-balanced name, the DNS record inputs, and the accounts to authorize (RV(authorization));
    V(rms_connector_client) - the connector name, the server is not a connector server, and the
    registry values for its kind rendered from the cited table (RV(registry));
    V(exchange_connector) - the end-of-support warning, one connector per Exchange organization,
    the CAS name, the service account, and the package (a zip holding C(Exchange_Connector_Setup.exe)
    and C(MicrosoftIntune.accountcert) under their original names, read on the controller)."
  - "O(stage=host) evaluates O(facts) a role gathered on one host: Windows version and 64-bit, domain
    controller, .NET Framework Release, TLS 1.2 in SCHANNEL (RMS connector: Windows Server 2012 to
    2019, .NET 4.7.2); FCI Windows version, Exchange MSDRM client, SharePoint MSIPC 2.1 version
    (servers that use the connector); Windows Server 2008 SP2 to 2016, not Server Core, .NET 4.5
    (Exchange Connector)."
  - Read-only. Runs on the controller, whatever the play's hosts are.
author:
  - ems.enable contributors (@ems-enable)
options:
  component:
    description: The component whose preconditions are evaluated.
    type: str
    required: true
    choices: [rms_connector, rms_connector_client, exchange_connector]
  stage:
    description:
      - V(inventory) (before contacting hosts) or V(host) (with O(facts) of O(host)).
    type: str
    default: inventory
    choices: [inventory, host]
  host:
    description: Inventory name of the host the checks are about (required with O(stage=host)).
    type: str
  facts:
    description:
      - "Facts of O(host) (O(stage=host)): C(distribution_version) (for example C(10.0.17763.0)),
        C(architecture) (C(x86_64)), C(os_product_type) (C(server), C(domain_controller)),
        C(os_installation_type) (C(Server), C(Server Core)), C(dotnet_release) (the Release DWORD of
        HKLM\\SOFTWARE\\Microsoft\\NET Framework Setup\\NDP\\v4\\Full, or null), C(tls12) (a dict with
        C(client_enabled), C(client_disabled_by_default), C(server_enabled),
        C(server_disabled_by_default), each an integer or null) and C(msipc_version) (file version of
        msipc.dll, SharePoint servers)."
    type: dict
  connector_hosts:
    description: Inventory names of the RMS connector servers (or of the Exchange Connector host).
    type: list
    elements: str
    default: []
  connector_name:
    description: The load-balanced RMS connector name (FQDN), for example C(rmsconnector.contoso.com).
    type: str
  protocol:
    description: How the servers reach the connector.
    type: str
    default: https
    choices: [https, http]
  require_fault_tolerance:
    description: Fewer than two connector servers is an error (V(true)) or a warning (V(false), labs).
    type: bool
    default: true
  domain_controllers:
    description: Inventory names of the domain controllers.
    type: list
    elements: str
    default: []
  exchange_hosts:
    description: Inventory names of the Exchange servers that use the connector.
    type: list
    elements: str
    default: []
  sharepoint_hosts:
    description: Inventory names of the SharePoint servers that use the connector.
    type: list
    elements: str
    default: []
  fci_hosts:
    description: Inventory names of the FCI file servers that use the connector.
    type: list
    elements: str
    default: []
  exchange_servers_group:
    description: Name of the security group of all Exchange servers, authorized for Exchange.
    type: str
    default: Exchange Servers
  sharepoint_accounts:
    description: SharePoint Central Administration (farm) and app pool accounts to authorize (DOMAIN\name).
    type: list
    elements: str
    default: []
  computer_accounts:
    description: Computer account per FCI host when it is not the first DNS label (host -> C(DOMAIN\NAME$)).
    type: dict
    default: {}
  netbios_domain:
    description: NetBIOS domain name put in front of computed FCI computer accounts.
    type: str
  manage_dns:
    description: The DNS A record of the connector name will be managed (checks O(dns_servers), O(dns_address)).
    type: bool
    default: false
  dns_servers:
    description: Inventory names of the DNS servers.
    type: list
    elements: str
    default: []
  dns_address:
    description: IPv4 address of the load balancer in front of the connector servers.
    type: str
  dns_zone:
    description: DNS zone of the record; default is the connector name without its first label.
    type: str
  kind:
    description: Kind of server that uses the connector (O(component=rms_connector_client)).
    type: str
    choices: [exchange_2013, exchange_2016, exchange_2019, sharepoint, fci]
  tenant_url:
    description:
      - Azure Rights Management service URL (LicensingIntranetDistributionPointUrl of
        Get-AipServiceConfiguration without C(/_wmcs/licensing)). Needed for Exchange and SharePoint.
    type: str
  cas_server:
    description: Exchange Client Access server the Exchange Connector uses.
    type: str
  service_account:
    description: Active Directory user of the Exchange Connector (DOMAIN\name or UPN).
    type: str
  package:
    description: Path on the controller of the Exchange Connector package (Exchange_Connector_Setup.zip).
    type: path
  certificate_thumbprint:
    description:
      - Thumbprint of the connector's HTTPS certificate (O(component=rms_connector), needed with
        O(protocol=https)); checked for form here, on each host with O(stage=host) facts.
    type: str
  admin_account:
    description: Account that signs in to the RMS connector setup (a UPN; format check only).
    type: str
  intune_admin:
    description: Account that signs in to Intune in the Exchange Connector setup (a UPN; format check only).
    type: str
  notification_account:
    description: Mailbox account for Exchange Connector notifications (DOMAIN\name or UPN; format check only).
    type: str
  work_dir:
    description: Folder on the Windows host the role uses (must be an absolute Windows path).
    type: str
  iis_features:
    description: Windows features to install on the connector servers (feature names, Web-Server included).
    type: list
    elements: str
  proxy:
    description: Web proxy URL (C(http://<proxy>:<port>)).
    type: str
  installer:
    description: Path on the controller of RMSConnectorSetup.exe (must exist).
    type: path
  role_name:
    description: Base name of the Exchange Connector's custom management role (1 to 40 characters).
    type: str
  manage_role:
    description: The Exchange management role will be managed (then O(exchange_server) must be a server name).
    type: bool
    default: false
  exchange_server:
    description: Exchange server the management role is made on.
    type: str
  support_warning:
    description:
      - With O(component=exchange_connector), warn that Microsoft ended support. Turn it off only when
        M(ems.enable.ad_preflight) (requirement set V(exchange_connector)) gives the same warning in the run.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Read-only; check mode gives the same verdicts.
seealso:
  - module: ems.enable.ad_preflight
  - module: ems.enable.attended_step
"""

EXAMPLES = r"""
- name: RMS connector preconditions from the inventory (before any host is contacted)
  ems.enable.connector_preflight:
    component: rms_connector
    connector_hosts: "{{ groups['rms_connector'] }}"
    connector_name: rmsconnector.contoso.com
    domain_controllers: "{{ groups['domain_controllers'] | default([]) }}"
    exchange_hosts: "{{ groups['exchange_servers'] | default([]) }}"
    sharepoint_hosts: "{{ groups['sharepoint_servers'] | default([]) }}"
    sharepoint_accounts: ['CONTOSO\sp-farm', 'CONTOSO\sp-apppool']
  run_once: true

- name: Registry values of an Exchange 2019 server
  ems.enable.connector_preflight:
    component: rms_connector_client
    host: "{{ inventory_hostname }}"
    kind: exchange_2019
    connector_name: rmsconnector.contoso.com
    tenant_url: https://5c6bb73b-1038-4eec-863d-49bded473437.rms.na.aadrm.com
  register: plan
"""

RETURN = r"""
checks:
  description: Every check, in evaluation order.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Check id, for example V(rms_connector.server_count).
      type: str
    component:
      description: The component.
      type: str
    host:
      description: Host the check is about (null for inventory-wide checks).
      type: str
    status:
      description: V(pass), V(warn) or V(fail).
      type: str
    message:
      description: What was found.
      type: str
    remedy:
      description: What to do (null when the check passed).
      type: str
summary:
  description: Number of checks per status.
  returned: always
  type: dict
  sample: {pass: 7, warn: 1, fail: 0}
authorization:
  description: Accounts to authorize in the RMS connector administrator tool (O(component=rms_connector), inventory stage).
  returned: when component is rms_connector and stage is inventory
  type: list
  elements: dict
  sample:
    - {account: Exchange Servers, server_type: Exchange, why: "the security group of all Exchange servers"}
registry:
  description:
    - Registry values for the server (O(component=rms_connector_client), inventory stage), rendered from
      plugins/module_utils/connectors/rms_connector_registry.yml; C(name) "" is the (Default) value.
  returned: when component is rms_connector_client and stage is inventory
  type: list
  elements: dict
  sample:
    - id: ex2016-msipc-enterprisecertification
      path: HKLM:\SOFTWARE\Microsoft\MSIPC\ServiceLocation\EnterpriseCertification
      name: ""
      type: string
      data: https://rmsconnector.contoso.com/_wmcs/certification
      source: https://learn.microsoft.com/azure/information-protection/rms-connector-registry-settings
      note: null
package:
  description: Where the setup program and certificate are in the Exchange Connector package (paths in the zip).
  returned: when component is exchange_connector, stage is inventory and the package is valid
  type: dict
  sample: {folder: "", setup: Exchange_Connector_Setup.exe, certificate: MicrosoftIntune.accountcert}
"""

from ansible_collections.ems.enable.plugins.module_utils.ad import modules as ad_modules
from ansible_collections.ems.enable.plugins.module_utils.connectors import preflight


def main():
    ad_modules.module_main(preflight.ARGUMENT_SPEC, preflight.SPEC_KWARGS, preflight.run)


if __name__ == "__main__":
    main()
