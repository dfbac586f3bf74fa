#!/usr/bin/python
# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: intune_objects
short_description: Keep the Intune enablement objects as data and bring the tenant to them over Microsoft Graph
version_added: 0.2.0
description:
  - Desired state for the Intune part of the Enable phase, through Microsoft Graph v1.0 - groups (assigned, and
    dynamic device groups per platform with deviceOSType rules), group-based licensing, directory role
    assignments, compliance policies per platform, app protection (MAM) policies for iOS and Android with
    their target apps, conditional access policies, enrollment restrictions (platform restrictions and device
    limits), the members of assigned groups, and the MDM authority.
  - Objects are matched by displayName (and C(@odata.type) for compliance and app protection policies); only
    the properties the data sets are compared (as Microsoft365DSC does), read-only properties are stripped
    from what Graph returns (as IntuneCD does). A missing object is created (POST), a differing one patched
    with the differing properties only (PATCH), assignments are re-posted to C(assign) when the set of
    groups differs. Objects the data does not name are never changed or deleted; C(state=absent) on an item
    (and the same field of the other kinds) deletes only the object the data names.
  - Every check of the data, every read and every reference (group names, UPNs, SKUs, free seats) comes
    first; any fault fails the task with one line per fault naming the item and the field, before the
    first write. Writes go one at a time in order (groups first), and the Graph client waits C(Retry-After)
    on 429 (Intune allows 200 writes per 20 seconds per tenant).
  - Compliance policies are created with the one block action Graph requires (C(scheduledActionsForRule)).
    Conditional access policies are created report-only (V(enabledForReportingButNotEnforced)) unless
    O(conditional_access_enforce=true), and a policy that excludes no break-glass account or group is refused.
  - Check mode reads, plans and reports the same changes and diff, and writes nothing. An unchanged tenant
    gets no write at all.
  - Runs on the controller through its action plugin, whatever the play's hosts are.
author:
  - ems.enable contributors (@ems-enable)
extends_documentation_fragment:
  - ems.enable.graph
options:
  groups:
    description:
      - Groups, each C(name), C(description), C(type) (V(assigned) default or V(dynamic)), C(platform) (a dynamic
        device group of V(windows), V(ios), V(android), V(android_work_profile), V(macos) - its deviceOSType rule
        is built for you) or C(membership_rule), C(role_assignable) (only at creation; needed for a group
        that holds a directory role), C(state).
      - C(members) (assigned groups only) - UPNs of users that must be members (each must exist in the tenant,
        synced or cloud); missing ones are added (POST C(members/$ref)). Members the list does not name are
        kept unless C(members_exclusive=true), which removes every other user (never devices or groups).
    type: list
    elements: dict
    default: []
  compliance_policies:
    description:
      - Compliance policies, each C(name), C(platform) or C(odata_type) (a deviceCompliancePolicy type of
        Graph v1.0), C(settings) (Graph properties of that type), C(description), C(grace_period_hours) of the
        block action (default 0), C(assign_to) (group names), C(state).
    type: list
    elements: dict
    default: []
  conditional_access_policies:
    description:
      - Conditional access policies, each C(name), C(include_groups) (names) and/or C(include_users) (UPNs or
        V(All)), C(exclude_users) (UPNs) and C(exclude_groups) (names) - the break-glass exclusions,
        C(applications) (default V(Office365)), C(client_app_types) (default V(all)), C(platforms),
        C(grant_controls) (default require a compliant device), C(session_controls), C(description), C(state).
    type: list
    elements: dict
    default: []
  conditional_access_enforce:
    description: Switch the conditional access policies on (V(enabled)); V(false) keeps them report-only.
    type: bool
    default: false
  break_glass_users:
    description: UPNs of the emergency-access accounts every conditional access policy excludes.
    type: list
    elements: str
    default: []
  break_glass_groups:
    description: Names of groups every conditional access policy excludes.
    type: list
    elements: str
    default: []
  app_protection_policies:
    description:
      - App protection policies, each C(name), C(platform) (V(ios) or V(android)), C(apps) (bundle ids or package
        names), C(app_group_type) (default V(selectedPublicApps)), C(settings) (Graph properties), C(description),
        C(assign_to) (group names), C(state).
    type: list
    elements: dict
    default: []
  role_assignments:
    description:
      - Directory role assignments, each C(role) (a built-in role name the collection knows) or C(role_template_id),
        C(users) (UPNs) and/or C(groups) (role-assignable group names), C(state). Only the pairs the data names
        are created or (with C(state=absent)) removed.
    type: list
    elements: dict
    default: []
  licensing:
    description:
      - Group-based licensing, each C(group), C(sku) (skuPartNumber, e.g. V(EMS)), C(disabled_plans)
        (servicePlanName), C(min_free_seats) (default 1). Refused, with the reason, when the tenant lacks the SKU
        or the free seats.
    type: list
    elements: dict
    default: []
  enrollment_restrictions:
    description:
      - Enrollment restrictions (Graph v1.0 C(deviceManagement/deviceEnrollmentConfigurations)), each C(name),
        C(type) (V(platforms) - a platform restriction, V(limit) - a device limit), C(description), C(platforms)
        (a mapping of V(android), V(ios), V(macos), V(windows), V(windows_mobile) to the Graph fields
        C(platformBlocked), C(personalDeviceEnrollmentBlocked), C(osMinimumVersion), C(osMaximumVersion)),
        C(limit) (1 to 15), C(assign_to) (group names), C(state).
      - C(default=true) names the tenant's default restriction of that type (priority 0, "All users and all
        devices"), which Graph lets one patch but not create, delete or assign. Matched by displayName and
        C(@odata.type); only the fields the data sets are compared, a restriction is written whole.
    type: list
    elements: dict
    default: []
  email_profiles:
    description:
      - Exchange ActiveSync email profiles, each C(name), C(platform) (V(ios) - C(iosEasEmailProfileConfiguration),
        V(android_work_profile) - C(androidWorkProfileGmailEasConfiguration)) or C(odata_type), C(settings) (Graph
        properties of that type; C(hostName) required), C(description), C(assign_to) (group names), C(state).
      - These types exist only in Microsoft Graph B(beta), which Microsoft does not support for production use -
        this kind alone is read and written through C(/beta/deviceManagement/deviceConfigurations); its changes
        say so, and the result's C(graph_beta_calls) and a warning list every beta call. Leave the list empty to
        keep the module on v1.0.
    type: list
    elements: dict
    default: []
  mdm_authority:
    description:
      - V(report) reads the organization's MDM authority and returns it; V(intune) also sets it to Intune when
        it is V(unknown) (setMobileDeviceManagementAuthority; Intune is the default on tenants since 2019).
    type: str
    default: report
    choices: [report, intune]
attributes:
  check_mode:
    support: full
    description: Reads and plans; reports the same changes and diff; writes nothing.
  diff_mode:
    support: full
    description: One diff per change, with the changed properties only.
requirements:
  - msal >= 1.29 (on the controller)
seealso:
  - module: ems.enable.tenant_info
  - module: ems.enable.intune_devices_info
  - name: docs/intune.md
    description: The Intune part of the Enable phase, permissions, what is proven where.
    link: https://github.com/ems-enable/ems.enable/blob/main/docs/intune.md
"""

EXAMPLES = r"""
- name: Bring the tenant to the pilot baseline
  ems.enable.intune_objects:
    tenant_id: 8d3c1f6e-2b4a-4c5d-9e8f-0a1b2c3d4e5f
    client_id: 3f2a9c1e-7b6d-4e5f-8a9b-0c1d2e3f4a5b
    certificate_path: /etc/ems/graph-app.pfx
    certificate_password: "{{ vault_graph_pfx_password }}"
    break_glass_users: [breakglass1@contoso.onmicrosoft.com]
    groups:
      - name: EMS pilot users
      - {name: EMS pilot iOS devices, type: dynamic, platform: ios}
    compliance_policies:
      - name: EMS pilot - iOS compliance
        platform: ios
        settings: {passcodeRequired: true, osMinimumVersion: "16.0"}
        assign_to: [EMS pilot users]
    conditional_access_policies:
      - name: EMS pilot - Office 365 requires a compliant device
        include_groups: [EMS pilot users]
"""

RETURN = r"""
changes:
  description:
    - The planned (check mode) or made changes, in order - C(kind), C(name), C(action), C(properties), and
      C(graph) for a change made through Graph beta (email profiles).
  returned: success
  type: list
  elements: dict
  sample: [{kind: compliance policy, name: EMS pilot - iOS compliance, action: update, properties: [osMinimumVersion]}]
writes:
  description: Number of write requests sent (0 in check mode and on an unchanged tenant).
  returned: always
  type: int
graph_requests:
  description: Number of HTTP requests sent to Graph (sign-in not counted).
  returned: when the tenant was contacted
  type: int
graph_beta_calls:
  description: Every call this run made to Microsoft Graph beta (C(METHOD /beta/path)); empty when none.
  returned: success
  type: list
  elements: str
throttled_seconds:
  description: Seconds spent waiting on Retry-After or back-off.
  returned: success
  type: float
mdm_authority:
  description: The organization's MDM authority (C(value)) and whether this run set it (C(set_by_this_run)).
  returned: success
  type: dict
  sample: {value: intune, set_by_this_run: false}
"""

try:
    from ansible_collections.ems.enable.plugins.module_utils.intune import objects
except ImportError:  # pragma: no cover
    objects = None


def main():
    objects.module_main(objects.INTUNE_OBJECTS_SPEC, objects.INTUNE_OBJECTS_KWARGS, objects.run_intune_objects)


if __name__ == "__main__":
    main()
