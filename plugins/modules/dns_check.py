#!/usr/bin/python
# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dns_check
short_description: Check the DNS records the Enable phase's services need, against given DNS servers
version_added: 0.1.0
description:
  - Asks each DNS server in O(resolvers) directly (no recursion through the controller's own resolver,
    no following of CNAME chains), so the answer is exactly what that server holds.
  - "Records: the federation service name must be an A record (a CNAME breaks Windows Integrated
    authentication), optionally holding O(federation_service_addresses); per routable UPN suffix
    C(EnterpriseEnrollment.<suffix>) must be a CNAME to C(EnterpriseEnrollment-s.manage.microsoft.com)
    (the older targets C(EnterpriseEnrollment.manage.microsoft.com) and C(manage.microsoft.com) are a
    warning) and C(EnterpriseRegistration.<suffix>) a CNAME to C(EnterpriseRegistration.windows.net);
    the RMS connector name must be an A record; each domain in O(domains) must have the DC locator SRV
    records (C(_ldap._tcp), C(_kerberos._tcp), C(_ldap._tcp.dc._msdcs), C(_kerberos._tcp.dc._msdcs) and
    C(_gc._tcp) of the forest root), listing every DC of O(domain_controllers)."
  - The expected targets and the Microsoft documents they come from are in the collection's endpoint
    table (C(plugins/module_utils/network/endpoints.yml)); docs/network.md shows them.
  - Every record is reported as V(pass), V(warn) or V(fail) with a message naming the record, the
    resolver and what was found (missing, wrong type, wrong target), and a remedy (the DnsServer
    PowerShell command to run). Fails when any record fails, listing all of them.
  - UPN suffixes that are not routable (for example C(.local)) are skipped with a warning.
  - Read-only. Runs on the controller, whatever the play's hosts are.
author:
  - ems.enable contributors (@ems-enable)
requirements:
  - dnspython (on the controller)
options:
  resolvers:
    description:
      - IP addresses of the DNS servers to ask (for AD-integrated DNS, the DCs). Each is checked; a
        record fails when it is wrong on any of them (replication or split-brain DNS shows up this way).
    type: list
    elements: str
    required: true
  port:
    description: DNS port of the servers.
    type: int
    default: 53
  timeout:
    description: Seconds to wait for each answer.
    type: float
    default: 5.0
  federation_service_name:
    description: The AD FS federation service name (for example C(fs.contoso.com)); must be an A record.
    type: str
  federation_service_addresses:
    description: IPv4 addresses the federation service A record must hold (the internal AD FS load balancer).
    type: list
    elements: str
    default: []
  upn_suffixes:
    description:
      - UPN suffixes of the users (for example from M(ems.enable.ad_forest_info)); the enrollment and
        registration CNAMEs are checked for each routable one.
    type: list
    elements: str
    default: []
  enrollment_records:
    description: Check C(EnterpriseEnrollment.<suffix>) for each routable UPN suffix.
    type: bool
    default: true
  registration_records:
    description: Check C(EnterpriseRegistration.<suffix>) for each routable UPN suffix.
    type: bool
    default: true
  rms_connector_name:
    description: The RMS connector URL name (for example C(rmsconnector.contoso.com)); must be an A record.
    type: str
  rms_connector_addresses:
    description: IPv4 addresses the RMS connector A record must hold (its load balancer).
    type: list
    elements: str
    default: []
  domains:
    description: AD DNS domain names whose DC locator SRV records are checked.
    type: list
    elements: str
    default: []
  forest:
    description: Forest root domain (for C(_gc._tcp)). Default the first of O(domains).
    type: str
  domain_controllers:
    description: DC host names that every SRV record of O(domains) must list.
    type: list
    elements: str
    default: []
  records:
    description: Further records to check.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Fully qualified owner name.
        type: str
        required: true
      type:
        description: Record type the name must have.
        type: str
        required: true
        choices: [A, CNAME, SRV]
      values:
        description: Expected addresses (A) or targets (CNAME, SRV); empty means any.
        type: list
        elements: str
        default: []
attributes:
  check_mode:
    support: full
    description: Read-only; check mode gives the same answers.
seealso:
  - module: ems.enable.tls_endpoint_check
  - module: ems.enable.ad_forest_info
"""

EXAMPLES = r"""
- name: DNS records of AD FS, Intune enrollment and the DCs, asked of both DCs
  ems.enable.dns_check:
    resolvers: [10.0.0.10, 10.0.0.11]
    federation_service_name: fs.contoso.com
    federation_service_addresses: [10.0.1.50]
    upn_suffixes: [contoso.com, contoso.local]
    rms_connector_name: rmsconnector.contoso.com
    domains: [contoso.com]
    domain_controllers: [dc1.contoso.com, dc2.contoso.com]

- name: Only the enrollment CNAMEs, reported without failing the play
  ems.enable.dns_check:
    resolvers: [10.0.0.10]
    upn_suffixes: "{{ ad.forests[0].upn_suffixes }}"
    registration_records: false
  register: dns
  ignore_errors: true
"""

RETURN = r"""
records:
  description: Every record checked, in order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Owner name.
      type: str
    type:
      description: Required record type (V(resolver) for a DNS server that did not answer).
      type: str
    values:
      description: Expected addresses or targets (empty means any).
      type: list
      elements: str
    component:
      description: Component that needs the record (V(adfs), V(intune), V(rms_connector), V(domain_controller), V(custom)).
      type: str
    status:
      description: V(pass), V(warn) or V(fail) (the worst over the resolvers).
      type: str
    message:
      description: What was found, naming the record and the resolver.
      type: str
    remedy:
      description: What to run to fix it (null when it passed).
      type: str
    zone:
      description: Zone that holds the name on the resolver (null when not found).
      type: str
    fix:
      description:
        - The record to create so the check passes, for ansible.windows.win_dns_record (zone, name relative
          to the zone, type, value, and remove_type, the type of a wrong-type record to delete first);
          null when it cannot be computed (SRV records, A without expected addresses).
      type: dict
    resolvers:
      description: Per resolver, the status, the response code and the records found for the name.
      type: dict
  sample:
    - name: fs.contoso.com
      type: A
      values: [10.0.1.50]
      component: adfs
      status: fail
      message: "fs.contoso.com is a CNAME to adfs-lb.contoso.com at resolver 10.0.0.10, but an A record is required: ..."
      remedy: "Replace it: Remove-DnsServerResourceRecord -ZoneName contoso.com -Name fs -RRType CName -Force; then
        Add-DnsServerResourceRecordA -ZoneName contoso.com -Name fs -IPv4Address 10.0.1.50"
      zone: contoso.com
      fix: {zone: contoso.com, name: fs, type: A, value: [10.0.1.50], remove_type: CNAME}
skipped:
  description: UPN suffixes that were not checked, with the reason.
  returned: always
  type: list
  elements: dict
summary:
  description: Number of records per status.
  returned: always
  type: dict
  sample: {pass: 7, warn: 1, fail: 1}
resolvers:
  description: The resolvers asked.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.ems.enable.plugins.module_utils.ad import modules as ad_modules
from ansible_collections.ems.enable.plugins.module_utils.network import dns_check


def main():
    ad_modules.module_main(dns_check.DNS_CHECK_SPEC, dns_check.DNS_CHECK_KWARGS, dns_check.run_dns_check)


if __name__ == "__main__":
    main()
