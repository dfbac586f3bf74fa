#!/usr/bin/python
# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: tenant_info
short_description: Read the Entra ID tenant's view through Microsoft Graph - domains, sync, licences
version_added: 0.2.0
description:
  - Reads, through Microsoft Graph v1.0, what the onboarding needs to know about the tenant - the
    organization (directory synchronization enabled, last sync, MDM authority), every domain (verified,
    V(Managed) or V(Federated), supported services, the DNS records Microsoft expects and, for unverified
    domains, the verification record), the subscribed SKUs with their service plans (EMS E3/E5, Intune,
    Entra ID P1 recognised by skuPartNumber and servicePlanName), and the directory synchronization
    features (password hash sync, accidental-deletion prevention).
  - The synchronization features are readable with delegated access only (no application permission
    exists); with O(auth=certificate) RV(tenant.sync) says "not read (needs delegated access ...)".
  - Read-only; check mode runs the same reads and returns the same result.
  - Bad input (tenant id, client id, certificate, cloud, URLs, cache file) fails with one line naming
    the option before any request.
  - Runs on the controller through its action plugin, whatever the play's hosts are.
author:
  - ems.enable contributors (@ems-enable)
extends_documentation_fragment:
  - ems.enable.graph
options:
  dns_records:
    description:
      - Read the DNS records of every domain (serviceConfigurationRecords, and verificationDnsRecords
        of unverified domains) - through C($batch), 20 per request.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Read-only; check mode gives the same result.
requirements:
  - msal >= 1.29 (on the controller)
seealso:
  - module: ems.enable.ad_preflight
  - name: docs/tenant.md - permissions, the stand-in, what is proven where
    description: The collection's tenant documentation.
    link: https://github.com/ems-enable/ems.enable/blob/main/docs/tenant.md
"""

EXAMPLES = r"""
- name: Read the tenant (unattended, certificate from the vault-protected PFX)
  ems.enable.tenant_info:
    tenant_id: 8d3c1f6e-2b4a-4c5d-9e8f-0a1b2c3d4e5f
    client_id: 3f2a9c1e-7b6d-4e5f-8a9b-0c1d2e3f4a5b
    certificate_path: /etc/ems/graph-app.pfx
    certificate_password: "{{ vault_graph_pfx_password }}"
  register: ems_tenant

- name: Read the sync features too (an administrator signs in with a device code)
  ems.enable.tenant_info:
    tenant_id: contoso.onmicrosoft.com
    client_id: 3f2a9c1e-7b6d-4e5f-8a9b-0c1d2e3f4a5b
    auth: device_code
    token_cache: ~/.ems/graph-token-cache.json
    cloud: global
"""

RETURN = r"""
tenant:
  description: The tenant's view.
  returned: success
  type: dict
  contains:
    tenant_id:
      description: The tenant's id (GUID).
      type: str
    cloud:
      description: The cloud read (V(global), V(usgov), V(china)).
      type: str
    auth:
      description: How the module signed in.
      type: str
    organization:
      description: C(display_name), C(on_premises_sync_enabled) (null = never synced), C(on_premises_last_sync), C(mdm_authority).
      type: dict
      sample: {display_name: Contoso, on_premises_sync_enabled: true, on_premises_last_sync: "2026-12-01T10:00:00Z",
               mdm_authority: intune}
    domains:
      description:
        - Every domain with C(name), C(verified), C(authentication_type) (V(Managed) or V(Federated)),
          C(default), C(initial), C(supported_services), C(dns_records) (what Microsoft expects in DNS,
          C(record_type), C(label), C(ttl), C(supported_service), C(optional) and the value) and
          C(verification_records) (unverified domains).
      type: list
      elements: dict
    initial_domain:
      description: The tenant's initial domain (C(<name>.onmicrosoft.com)).
      type: str
    skus:
      description:
        - Subscribed SKUs - C(sku_part_number), C(sku_id), C(product) (recognised name or null),
          C(capability_status), C(enabled), C(consumed), C(available) units, C(service_plans) (C(name), C(id), C(status)).
      type: list
      elements: dict
    licences:
      description:
        - Per capability (C(intune) = service plan INTUNE_A, C(entra_id_p1) = AAD_PREMIUM) whether an enabled
          SKU holds it, which SKUs, and the units still available.
      type: dict
      sample: {intune: {name: Microsoft Intune, service_plan: INTUNE_A, present: true, skus: [EMS], available: 22}}
    sync:
      description:
        - C(read) false with a C(reason) (unattended runs), or C(password_hash_sync), C(password_writeback),
          C(block_soft_match), C(accidental_deletion_prevention), C(accidental_deletion_threshold).
      type: dict
      sample: {read: false, reason: "not read (needs delegated access: auth=device_code, a Global Administrator)"}
graph_requests:
  description: Number of HTTP requests sent to Graph (sign-in not counted).
  returned: success
  type: int
device_code_sign_in:
  description: With O(auth=device_code) when the operator signed in - the verification URL and user code shown.
  returned: when a device-code sign-in took place
  type: dict
"""

try:
    from ansible_collections.ems.enable.plugins.module_utils.tenant import facts
except ImportError:  # pragma: no cover
    facts = None


def main():
    from ansible.module_utils.basic import AnsibleModule

    module = AnsibleModule(argument_spec=facts.TENANT_INFO_SPEC, supports_check_mode=True, **facts.TENANT_INFO_KWARGS)
    result = facts.run_tenant_info(module.params, module.check_mode)
    if result.get("failed"):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
