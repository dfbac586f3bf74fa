#!/usr/bin/python
# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ad_preflight
short_description: Check Active Directory forests against the Enable phase's requirements
version_added: 0.1.0
description:
  - Evaluates forest facts (from M(ems.enable.ad_forest_info), or read here with the LDAP options)
    against named requirement sets and returns every check with its verdict, message and remedy.
  - Fails when any check fails, listing ALL failing checks; warnings never fail.
  - Read-only. Runs on the controller, whatever the play's hosts are.
  - "Requirement sets: V(minimum_forest_level) (O(minimum_forest_level) or above);
    V(single_forest) (fails on a second forest in the inventory, and on any forest or external trust
    that leaves the forest, naming it); V(aad_connect) (level, writable DC, NetBIOS names without dots,
    object count against LocalDB, routable UPN suffixes; more than one forest is a warning: multi-forest
    sync is supported); V(adfs) (single forest mandatory, schema objectVersion 85 or above for a new
    farm, KDS root key and a Windows Server 2012+ DC for a gMSA); V(rms_connector) (level, Exchange
    organization present or a warning); V(exchange_connector) (warns that support ended on 2024-01-15,
    needs Exchange 2010 SP3 or later); V(tenant) (needs O(tenant): every UPN suffix is a verified domain
    of the tenant, else a warning naming it; the federation domain is verified and not the initial
    domain; sync and password hash sync as planned; licences for the pilot - see docs/tenant.md)."
author:
  - ems.enable contributors (@ems-enable)
extends_documentation_fragment:
  - ems.enable.ldap
options:
  server:
    description:
      - Domain controllers to read the facts from (see M(ems.enable.ad_forest_info)). Give O(server) or
        O(forests), not both.
    type: list
    elements: str
    required: false
  forests:
    description:
      - Forest facts returned by M(ems.enable.ad_forest_info) (its RV(ems.enable.ad_forest_info#module:forests)),
        for instance of several forests read with different credentials. Give O(server) or O(forests).
    type: list
    elements: dict
  requirements:
    description: Requirement sets to evaluate.
    type: list
    elements: str
    choices: [minimum_forest_level, single_forest, aad_connect, adfs, rms_connector, exchange_connector, tenant]
    default: [minimum_forest_level, single_forest]
  minimum_forest_level:
    description:
      - Lowest acceptable forest functional level. The onboarding asks for Windows Server 2008 or above.
    type: str
    choices: ["2000", "2003_interim", "2003", "2008", "2008_R2", "2012", "2012_R2", "2016", "2025"]
    default: "2008"
  adfs_service_account:
    description: AD FS service account kind; V(gmsa) adds the KDS root key and Windows Server 2012 DC checks.
    type: str
    choices: [gmsa, user]
    default: gmsa
  adfs_new_farm:
    description: A new AD FS farm is planned (needs schema objectVersion 85 or above).
    type: bool
    default: true
  count_objects:
    description: With O(server), count users, groups and contacts (see M(ems.enable.ad_forest_info)).
    type: bool
    default: true
  tenant:
    description:
      - The tenant's view, as M(ems.enable.tenant_info) returns it (its RV(ems.enable.tenant_info#module:tenant)),
        for the requirement set V(tenant). A dict with only C(error) (the message of a failed
        tenant_info) gives one failing check with that message.
    type: dict
  tenant_plan:
    description: What the onboarding plans for the tenant, checked by the requirement set V(tenant).
    type: dict
    suboptions:
      federation_domain:
        description: Domain to federate with AD FS; must be verified and not the initial domain.
        type: str
      password_hash_sync:
        description: Password hash sync is planned (checked against the tenant when it could be read).
        type: bool
        default: true
      pilot_users:
        description: Users in the pilot; each needed licence must have this many units free.
        type: int
        default: 0
      licences:
        description: Capabilities the pilot needs (V(intune) = service plan INTUNE_A, V(entra_id_p1) = AAD_PREMIUM).
        type: list
        elements: str
        choices: [entra_id_p1, intune]
        default: [intune, entra_id_p1]
attributes:
  check_mode:
    support: full
    description: Read-only; check mode gives the same verdicts.
seealso:
  - module: ems.enable.ad_forest_info
  - module: ems.enable.tenant_info
"""

EXAMPLES = r"""
- name: Onboarding minimum and single forest, reading the forest here
  ems.enable.ad_preflight:
    server: [dc1.corp.example.com, dc2.corp.example.com]
    username: svc-assess@corp.example.com
    password: "{{ vault_assess_password }}"
    requirements: [minimum_forest_level, single_forest, aad_connect, adfs]

- name: Several forests read before, each with its own credentials
  ems.enable.ad_preflight:
    forests: "{{ groups['ad_forests'] | map('extract', hostvars, ['ad', 'forests']) | flatten }}"
    requirements: [single_forest]
    minimum_forest_level: 2008_R2
"""

RETURN = r"""
checks:
  description: Every check, in evaluation order.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Rule id, for example V(minimum_forest_level), V(adfs.schema), V(aad_connect.object_count).
      type: str
    requirement:
      description: The requirement set the check belongs to.
      type: str
    forest:
      description: Forest the check is about (null for connection warnings).
      type: str
    status:
      description: V(pass), V(warn) or V(fail).
      type: str
    message:
      description: What was found, naming the forest and the values.
      type: str
    remedy:
      description: What to do (null when the check passed).
      type: str
  sample:
    - id: minimum_forest_level
      requirement: minimum_forest_level
      forest: legacy.example.com
      status: fail
      message: "Forest legacy.example.com is at functional level Windows Server 2003 (2); Windows Server 2008
        (3) or above is required."
      remedy: "Retire DCs older than Windows Server 2008, raise each domain (Set-ADDomainMode), then the forest:
        Set-ADForestMode -Identity legacy.example.com -ForestMode Windows2008Forest."
summary:
  description: Number of checks per status.
  returned: always
  type: dict
  sample: {pass: 5, warn: 1, fail: 0}
forests:
  description: The forest facts that were evaluated (as M(ems.enable.ad_forest_info) returns them).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.ems.enable.plugins.module_utils.ad import modules as ad_modules


def main():
    ad_modules.module_main(ad_modules.PREFLIGHT_SPEC, ad_modules.PREFLIGHT_KWARGS, ad_modules.run_preflight)


if __name__ == "__main__":
    main()
