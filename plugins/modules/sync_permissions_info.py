#!/usr/bin/python
# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: sync_permissions_info
short_description: Check that the Entra Connect connector account can sync password hashes
version_added: 0.1.0
description:
  - Reads each domain root's DACL over LDAP and reports whether the AD DS Connector account holds,
    directly or through its groups, C(Replicating Directory Changes)
    (1131f6aa-9c07-11d1-f79f-00c04fc2dcd2) and C(Replicating Directory Changes All)
    (1131f6ad-9c07-11d1-f79f-00c04fc2dcd2), which password hash synchronization needs.
  - Entra Connect's wizard does not check these rights; when they are missing, password hashes
    simply do not sync. Used by the aad_connect role before and after it grants them.
  - Each domain root is read on a DC of that domain (only its DCs hold the domain naming context; another
    domain's DC answers with a referral) - the DC connected to for its own domain, for every other domain a
    DC found as Windows' DC locator finds one, through the DNS SRV records C(_ldap._tcp.dc._msdcs.<domain>)
    in RFC 2782 order (priority, then weight), bound with the same connection options. When no DC of a
    domain answers, the module fails in one line naming the domain and each DC tried.
  - The account is looked up on a DC of its own domain - the one its DN or C(DOMAIN\\) prefix names, else
    the connected DC's domain and then each domain checked - so that its groups (C(tokenGroups)) are those
    of its domain.
  - An explicit deny that applies to the account wins over any allow. Inherit-only entries are ignored.
  - Warns when the account is an administrator (Microsoft asks for a normal user).
  - Read-only. Runs on the controller, whatever the play's hosts are.
author:
  - ems.enable contributors (@ems-enable)
extends_documentation_fragment:
  - ems.enable.ldap
options:
  account:
    description:
      - The connector account, as sAMAccountName, C(DOMAIN\\name), UPN or distinguished name.
    type: str
    required: true
  domains:
    description:
      - Domains to check, by DNS name or root DN. Default - the domain of the DC connected to.
      - Every domain whose users are synchronized needs both rights.
    type: list
    elements: str
  dns_servers:
    description:
      - DNS servers (IP addresses) that resolve the domains' SRV records, for domains other than the connected
        DC's. Default - the controller's resolver configuration.
    type: list
    elements: str
  fail_on_missing:
    description: Fail when a right is missing or denied on any domain, naming the domain and the right.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Read-only; check mode gives the same result.
seealso:
  - module: ems.enable.ad_forest_info
"""

EXAMPLES = r"""
- name: Connector account can sync password hashes in both domains
  ems.enable.sync_permissions_info:
    server: [dc1.corp.example.com]
    username: svc-assess@corp.example.com
    password: "{{ vault_assess_password }}"
    account: svc-aadc-connector
    domains: [corp.example.com, emea.corp.example.com]  # emea: read on a DC that the DC locator finds
"""

RETURN = r"""
account:
  description: The account found, its SID and the administrator groups it belongs to (should be none).
  returned: success
  type: dict
  sample: {dn: "CN=svc-aadc,OU=Service,DC=corp,DC=example,DC=com", sid: S-1-5-21-1-2-3-1105,
           sam_account_name: svc-aadc, administrator_groups: []}
domains:
  description: Per domain, each required right with its state (V(granted), V(missing), V(denied)) and the
    principals whose entries grant or deny it, and the DC it was read on (C(server)).
  returned: success
  type: list
  elements: dict
  sample:
    - domain: corp.example.com
      dn: DC=corp,DC=example,DC=com
      server: dc1.corp.example.com
      rights:
        replicating_directory_changes:
          name: Replicating Directory Changes
          guid: 1131f6aa-9c07-11d1-f79f-00c04fc2dcd2
          state: granted
          granted: true
          via: [{sid: S-1-5-21-1-2-3-1106, name: aadc-sync-rights, kind: group}]
        replicating_directory_changes_all:
          name: Replicating Directory Changes All
          guid: 1131f6ad-9c07-11d1-f79f-00c04fc2dcd2
          state: missing
          granted: false
          via: []
all_granted:
  description: Every right is granted on every domain checked.
  returned: success
  type: bool
"""

from ansible_collections.ems.enable.plugins.module_utils.ad import modules as ad_modules
from ansible_collections.ems.enable.plugins.module_utils.ad import sync_permissions


def main():
    ad_modules.module_main(sync_permissions.SPEC, sync_permissions.KWARGS,
                           sync_permissions.run_sync_permissions_info)


if __name__ == "__main__":
    main()
