#!/usr/bin/python
# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ad_forest_info
short_description: Read facts about Active Directory forests over LDAP from the controller
version_added: 0.1.0
description:
  - Reads, per forest, what the Enable phase depends on - functional levels, schema version, domains,
    domain controllers and their sites, trusts, UPN suffixes, KDS root key, Exchange organization,
    Recycle Bin, and object counts - from one domain controller of each forest named in O(server).
  - Read-only. Runs on the controller, whatever the play's hosts are.
author:
  - ems.enable contributors (@ems-enable)
extends_documentation_fragment:
  - ems.enable.ldap
options:
  count_objects:
    description:
      - Count the users, groups and contacts of the queried domain (a paged search returning no
        attributes), to compare with Entra Connect's SQL Express LocalDB limit of about 100,000 objects.
      - Turn off to save time on very large directories.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Read-only; check mode returns the same facts.
seealso:
  - module: ems.enable.ad_preflight
"""

EXAMPLES = r"""
- name: Facts of the forest of these DCs (the second DC is used when the first is down)
  ems.enable.ad_forest_info:
    server: [dc1.corp.example.com, dc2.corp.example.com]
    username: svc-assess@corp.example.com
    password: "{{ vault_assess_password }}"
    ca_file: /etc/pki/corp-ca.pem
  register: ad

- name: Kerberos on port 389 with signing and sealing (DC requires LDAP signing, no LDAPS certificate)
  ems.enable.ad_forest_info:
    server: [dc1.corp.example.com]
    transport: ldap
    auth: kerberos
    username: svc-assess@CORP.EXAMPLE.COM
    password: "{{ vault_assess_password }}"

- name: Show the forest level
  ansible.builtin.debug:
    msg: "{{ ad.forests[0].forest }} is at {{ ad.forests[0].forest_level.name }}"
"""

RETURN = r"""
forests:
  description: One entry per forest the given DCs belong to, in the order first met.
  returned: success
  type: list
  elements: dict
  contains:
    forest:
      description: DNS name of the forest root domain.
      type: str
      sample: corp.example.com
    forest_root_dn:
      description: Distinguished name of the forest root domain.
      type: str
      sample: DC=corp,DC=example,DC=com
    queried_dc:
      description: The DC the facts were read from.
      type: str
    queried_domain:
      description: DNS name of the domain of O(server)'s DC (domain level, trusts and counts are its own).
      type: str
    servers:
      description: The entries of O(server) that belong to this forest.
      type: list
      elements: str
    forest_level:
      description: Forest functional level (msDS-Behavior-Version of CN=Partitions; MS-ADTS 6.1.4.4).
      type: dict
      sample: {number: 3, key: "2008", name: Windows Server 2008}
    domain_level:
      description: Functional level of the queried domain.
      type: dict
    dc_level:
      description: Functional level of the queried DC.
      type: dict
    schema:
      description: Schema objectVersion and the release it belongs to.
      type: dict
      sample: {version: 88, name: Windows Server 2019/2022}
    domains:
      description: Domains of the forest (crossRef objects); level only for the queried domain.
      type: list
      elements: dict
      sample: [{dns_name: corp.example.com, netbios_name: CORP, dn: "DC=corp,DC=example,DC=com",
                level: {number: 3, key: "2008", name: Windows Server 2008}, forest_root: true, queried: true}]
    domain_controllers:
      description: DCs of the forest with site, domain, level, global catalog and read-only flags.
      type: list
      elements: dict
      sample: [{name: DC1, dns_host_name: dc1.corp.example.com, site: Default-First-Site-Name,
                domain: corp.example.com, level: {number: 4}, global_catalog: true, read_only: false}]
    trusts:
      description:
        - Trusts of the queried domain (trustedDomain objects). C(kind) is V(forest), V(external),
          V(within_forest) or V(realm); C(leaves_forest) is true unless C(kind) is V(within_forest).
      type: list
      elements: dict
      sample: [{partner: partner.example.net, flat_name: PARTNER, direction: bidirectional, type: uplevel,
                attributes: [forest_transitive], attributes_value: 8, kind: forest, leaves_forest: true}]
    upn_suffixes:
      description: Domain DNS names and alternative UPN suffixes; V(routable) is false for suffixes whose
        top-level domain is not public (IdFix's list), which Entra ID cannot verify.
      type: list
      elements: dict
      sample: [{suffix: corp.local, source: domain, routable: false}]
    kds_root_key:
      description: Whether a KDS root key exists (needed for gMSAs) and since when it is usable.
      type: dict
      sample: {present: true, count: 1, usable_from: "2026-01-01T00:00:00Z"}
    exchange:
      description: Exchange organization, schema version and servers; null when there is none.
      type: dict
    recycle_bin:
      description: Whether the AD Recycle Bin optional feature is enabled.
      type: bool
    object_counts:
      description: Users, groups and contacts of the queried domain; null when O(count_objects=false).
      type: dict
      sample: {users: 1250, groups: 310, contacts: 12, total: 1572, domain: corp.example.com,
               localdb_limit: 100000}
unreachable_servers:
  description: Entries of O(server) that did not answer, with the reason (also given as warnings).
  returned: always
  type: list
  elements: dict
  sample: [{server: dc1.corp.example.com, error: "dc1.corp.example.com:636: cannot connect: connection refused"}]
"""

from ansible_collections.ems.enable.plugins.module_utils.ad import modules as ad_modules


def main():
    ad_modules.module_main(ad_modules.FOREST_INFO_SPEC, ad_modules.FOREST_INFO_KWARGS,
                           ad_modules.run_forest_info)


if __name__ == "__main__":
    main()
