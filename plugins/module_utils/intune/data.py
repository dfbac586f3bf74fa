# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Intune data's options and the checks that need no tenant (run before any request).

Each fault is one line naming the item (``<kind>[<index>] (<name>)``) and the field, with the remedy;
all faults are collected, so one run lists every one of them.
"""

from __future__ import annotations

import re

from ansible_collections.ems.enable.plugins.module_utils.graph import client as gc, credentials
from ansible_collections.ems.enable.plugins.module_utils.graph.errors import GraphError
from ansible_collections.ems.enable.plugins.module_utils.intune import tables

KINDS = ("groups", "compliance_policies", "conditional_access_policies", "app_protection_policies",
         "role_assignments", "licensing", "enrollment_restrictions", "email_profiles")

INTUNE_OBJECTS_SPEC = dict(
    gc.GRAPH_ARGUMENT_SPEC,
    groups=dict(type="list", elements="dict", default=[]),
    compliance_policies=dict(type="list", elements="dict", default=[]),
    conditional_access_policies=dict(type="list", elements="dict", default=[]),
    conditional_access_enforce=dict(type="bool", default=False),
    break_glass_users=dict(type="list", elements="str", default=[]),
    break_glass_groups=dict(type="list", elements="str", default=[]),
    app_protection_policies=dict(type="list", elements="dict", default=[]),
    role_assignments=dict(type="list", elements="dict", default=[]),
    licensing=dict(type="list", elements="dict", default=[]),
    enrollment_restrictions=dict(type="list", elements="dict", default=[]),
    email_profiles=dict(type="list", elements="dict", default=[]),
    mdm_authority=dict(type="str", default="report", choices=["report", "intune"]),
)
INTUNE_OBJECTS_KWARGS = dict(required_if=[["auth", "certificate", ["certificate_path"]]])

#: The keys each kind's items may carry (anything else is a typo and refused).
FIELDS = {
    "groups": {"name", "description", "type", "platform", "membership_rule", "role_assignable", "members",
               "members_exclusive", "state"},
    "compliance_policies": {"name", "platform", "odata_type", "description", "settings", "grace_period_hours",
                            "assign_to", "state"},
    "conditional_access_policies": {"name", "description", "include_users", "include_groups", "exclude_users",
                                    "exclude_groups", "applications", "client_app_types", "platforms",
                                    "grant_controls", "session_controls", "state"},
    "app_protection_policies": {"name", "platform", "description", "apps", "app_group_type", "settings",
                                "assign_to", "state"},
    "role_assignments": {"role", "role_template_id", "users", "groups", "state"},
    "licensing": {"group", "sku", "disabled_plans", "min_free_seats"},
    "enrollment_restrictions": {"name", "type", "default", "description", "platforms", "limit", "assign_to", "state"},
    "email_profiles": {"name", "platform", "odata_type", "description", "settings", "assign_to", "state"},
}
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
ODATA = re.compile(r"^#?(microsoft\.graph\.)?([A-Za-z0-9]+)$")
APP_GROUP_TYPES = ("selectedPublicApps", "allCoreMicrosoftApps", "allMicrosoftApps", "allApps")
CA_SPECIAL_USERS = ("All", "None", "GuestsOrExternalUsers")


class DataError(Exception):
    pass


def label(kind, index, item):
    name = item.get("name") or item.get("role") or item.get("role_template_id") or item.get("group") \
        if isinstance(item, dict) else None
    return "%s[%d]%s" % (kind, index, " (%s)" % name if name else "")


def odata_name(value):
    """'#microsoft.graph.iosCompliancePolicy' / 'iosCompliancePolicy' -> 'iosCompliancePolicy' (or None)."""
    match = ODATA.match(str(value or ""))
    return match.group(2) if match else None


def _list_of_str(item, field):
    value = item.get(field)
    return value is None or (isinstance(value, list) and all(isinstance(v, str) and v for v in value))


def check_item(kind, index, item, params):  # noqa: C901 - one table of field rules per kind
    """Faults of one item (list of one-line strings)."""
    where = label(kind, index, item)
    if not isinstance(item, dict):
        return ["%s: must be a mapping of fields." % where]
    faults = []

    def fault(field, what, remedy):
        faults.append("%s: %s: %s. Remedy: %s" % (where, field, what, remedy))

    unknown = sorted(set(item) - FIELDS[kind])
    if unknown:
        fault(unknown[0], "is not a field of %s" % kind, "use %s." % ", ".join(sorted(FIELDS[kind])))
    if kind not in ("role_assignments", "licensing") and not (isinstance(item.get("name"), str)
                                                              and item["name"].strip()):
        fault("name", "missing or empty (objects are matched by displayName)", "give the object's display name.")
    if item.get("state", "present") not in ("present", "absent"):
        fault("state", "%r is not present or absent" % item.get("state"), "use present (default) or absent.")
    for field in ("members", "assign_to", "include_users", "include_groups", "exclude_users", "exclude_groups", "apps",
                  "users", "groups", "disabled_plans", "applications", "client_app_types"):
        if field in FIELDS[kind] and not _list_of_str(item, field):
            fault(field, "must be a list of names", "give a YAML list of strings.")
    for field in ("settings", "grant_controls", "session_controls", "platforms"):
        if item.get(field) is not None and not isinstance(item.get(field), dict):
            fault(field, "must be a mapping of Graph properties", "give a YAML mapping.")
    platform = item.get("platform")
    if kind == "groups":
        gtype = item.get("type", "assigned")
        if gtype not in ("assigned", "dynamic"):
            fault("type", "%r is not assigned or dynamic" % gtype, "use assigned (default) or dynamic.")
        if platform is not None and platform not in tables.PLATFORMS:
            fault("platform", "%r is not a known platform" % platform, "use one of %s."
                  % ", ".join(tables.PLATFORMS))
        if gtype == "dynamic" and not (platform or item.get("membership_rule")):
            fault("membership_rule", "a dynamic group needs a membership_rule or a platform",
                  "give platform (a device group per platform) or membership_rule.")
        if gtype == "assigned" and (platform or item.get("membership_rule")):
            fault("type", "platform and membership_rule need type: dynamic", "set type: dynamic.")
        if gtype == "dynamic" and (item.get("members") or item.get("members_exclusive")):
            fault("members", "a dynamic group's members come from its rule", "remove members, or use type: assigned.")
        if not isinstance(item.get("members_exclusive", False), bool):
            fault("members_exclusive", "%r is not true or false" % item.get("members_exclusive"),
                  "use false (default: members not listed are kept) or true (they are removed).")
    if kind == "compliance_policies":
        odata = item.get("odata_type")
        if odata is not None and odata_name(odata) not in tables.COMPLIANCE_TYPES:
            fault("odata_type", "%r is not a compliance policy type Graph v1.0 knows" % odata,
                  "use one of %s." % ", ".join(sorted(tables.COMPLIANCE_TYPES)))
        elif odata is None and platform not in tables.PLATFORMS:
            fault("platform", "%r is not a known platform" % platform, "use one of %s (or give odata_type)."
                  % ", ".join(tables.PLATFORMS))
        if "@odata.type" in (item.get("settings") or {}):
            fault("settings.@odata.type", "the type is set by platform or odata_type", "remove it from settings.")
        grace = item.get("grace_period_hours", 0)
        if not isinstance(grace, int) or isinstance(grace, bool) or grace < 0:
            fault("grace_period_hours", "%r is not a whole number of hours >= 0" % grace, "give e.g. 0 or 24.")
    if kind == "app_protection_policies":
        if platform not in tables.APP_PROTECTION_TYPES:
            fault("platform", "%r is not a platform with app protection policies" % platform,
                  "use ios or android.")
        if item.get("app_group_type", "selectedPublicApps") not in APP_GROUP_TYPES:
            fault("app_group_type", "%r is not a targetedManagedAppGroupType" % item.get("app_group_type"),
                  "use one of %s." % ", ".join(APP_GROUP_TYPES))
        if "@odata.type" in (item.get("settings") or {}):
            fault("settings.@odata.type", "the type is set by platform", "remove it from settings.")
    if kind == "conditional_access_policies" and item.get("state", "present") == "present":
        excluded = list(item.get("exclude_users") or []) + list(item.get("exclude_groups") or []) \
            + list(params.get("break_glass_users") or []) + list(params.get("break_glass_groups") or [])
        if not excluded:
            fault("exclude_users", "no break-glass account or group is excluded, so the policy could lock out "
                  "every administrator", "name the break-glass accounts (exclude_users / break_glass_users) or "
                  "their group (exclude_groups / break_glass_groups).")
        if not (item.get("include_users") or item.get("include_groups")):
            fault("include_users", "the policy names no users or groups to apply to",
                  "give include_groups (the pilot group) or include_users.")
    if kind == "role_assignments":
        role, template = item.get("role"), item.get("role_template_id")
        if template is not None and not GUID.match(str(template)):
            fault("role_template_id", "%r is not a GUID" % template, "give the role template id.")
        elif template is None and role not in tables.ROLE_TEMPLATES:
            fault("role", "%r is not a role the collection knows by name" % role,
                  "use one of %s, or give role_template_id." % ", ".join(tables.ROLE_TEMPLATES))
        if not (item.get("users") or item.get("groups")):
            fault("users", "no principal named", "give users (UPNs) or groups (names).")
    if kind == "enrollment_restrictions":
        _enrollment_faults(item, fault)
    if kind == "email_profiles":
        odata = item.get("odata_type")
        known = sorted(tables.EMAIL_PROFILE_TYPES.values())
        if odata is not None and odata_name(odata) not in known:
            fault("odata_type", "%r is not an email profile type the collection knows (Graph beta)" % odata,
                  "use one of %s." % ", ".join(known))
        elif odata is None and platform not in tables.EMAIL_PROFILE_TYPES:
            fault("platform", "%r is not a platform with email profiles" % platform,
                  "use %s (or give odata_type)." % ", ".join(sorted(tables.EMAIL_PROFILE_TYPES)))
        settings = item.get("settings") or {}
        if "@odata.type" in settings:
            fault("settings.@odata.type", "the type is set by platform or odata_type", "remove it from settings.")
        if item.get("state", "present") == "present" and isinstance(settings, dict) and not settings.get("hostName"):
            fault("settings.hostName", "missing (the Exchange ActiveSync host)", "give e.g. outlook.office365.com.")
    if kind == "licensing":
        if not isinstance(item.get("group"), str) or not item.get("group"):
            fault("group", "missing", "name the group to license.")
        if not isinstance(item.get("sku"), str) or not item.get("sku"):
            fault("sku", "missing", "give the SKU's part number, e.g. EMS, EMSPREMIUM, INTUNE_A.")
        seats = item.get("min_free_seats", 1)
        if not isinstance(seats, int) or isinstance(seats, bool) or seats < 0:
            fault("min_free_seats", "%r is not a whole number >= 0" % seats, "give e.g. 1.")
    return faults


def _enrollment_faults(item, fault):
    """Enrollment restrictions: type, platforms (known names, known restriction fields), limit, default."""
    etype = item.get("type")
    if etype not in tables.ENROLLMENT_TYPES:
        fault("type", "%r is not an enrollment restriction type" % etype,
              "use platforms (platform restrictions) or limit (device limit).")
        return
    if not isinstance(item.get("default", False), bool):
        fault("default", "%r is not true or false" % item.get("default"),
              "use true for the tenant's default restriction (priority 0), false otherwise.")
    if item.get("default") and item.get("assign_to"):
        fault("assign_to", "the default restriction (priority 0) applies to all users and cannot be assigned",
              "remove assign_to, or name a restriction of your own.")
    if item.get("default") and item.get("state", "present") == "absent":
        fault("state", "the default restriction (priority 0) cannot be deleted", "remove state: absent.")
    platforms = item.get("platforms")
    if etype == "platforms":
        if item.get("limit") is not None:
            fault("limit", "a platform restriction has no device limit", "use a second item with type: limit.")
        if item.get("state", "present") == "present" and not isinstance(platforms, dict):
            fault("platforms", "must be a mapping platform -> restriction",
                  "give e.g. {ios: {platformBlocked: false, personalDeviceEnrollmentBlocked: true}}.")
            return
        for platform, rule in sorted((platforms or {}).items(), key=lambda kv: str(kv[0])):
            where = "platforms.%s" % platform
            if platform not in tables.ENROLLMENT_PLATFORMS:
                fault(where, "%r is not a platform of enrollment restrictions" % platform,
                      "use one of %s." % ", ".join(sorted(tables.ENROLLMENT_PLATFORMS)))
                continue
            if not isinstance(rule, dict):
                fault(where, "must be a mapping of restriction fields", "give %s." % ", ".join(tables.RESTRICTION_FIELDS))
                continue
            unknown = sorted(set(rule) - set(tables.RESTRICTION_FIELDS))
            if unknown:
                fault("%s.%s" % (where, unknown[0]), "is not a field of deviceEnrollmentPlatformRestriction",
                      "use %s." % ", ".join(tables.RESTRICTION_FIELDS))
            for key in ("platformBlocked", "personalDeviceEnrollmentBlocked"):
                if key in rule and not isinstance(rule[key], bool):
                    fault("%s.%s" % (where, key), "%r is not true or false" % rule[key], "use true or false.")
            for key in ("osMinimumVersion", "osMaximumVersion"):
                if rule.get(key) is not None and not isinstance(rule[key], str):
                    fault("%s.%s" % (where, key), "%r is not a version string" % rule[key], 'quote it, e.g. "16.0".')
    else:
        if platforms is not None:
            fault("platforms", "a device limit has no platforms", "use a second item with type: platforms.")
        low, high = tables.DEVICE_LIMIT_RANGE
        limit = item.get("limit")
        if item.get("state", "present") == "present" and (
                not isinstance(limit, int) or isinstance(limit, bool) or not low <= limit <= high):
            fault("limit", "%r is not a whole number from %d to %d" % (limit, low, high),
                  "give the devices a user may enroll, e.g. 5.")


def check(params):
    """Every fault of the data (no request is sent); raises DataError with one line per fault."""
    faults = []
    for index, upn in enumerate(params.get("break_glass_users") or []):
        try:
            credentials.check_upn("break_glass_users[%d]" % index, upn,
                                  "name each break-glass account by its UPN, e.g. breakglass1@contoso.onmicrosoft.com.")
        except GraphError as err:
            faults.append(str(err))
    for kind in KINDS:
        names = {}
        for index, item in enumerate(params.get(kind) or []):
            faults.extend(check_item(kind, index, item, params))
            if isinstance(item, dict) and item.get("name"):
                key = (item["name"].casefold(), item.get("platform"),
                       item.get("type") if kind == "enrollment_restrictions" else None)
                if key in names:
                    faults.append("%s: name: %r is given twice (items %d and %d). Remedy: give each object "
                                  "once." % (label(kind, index, item), item["name"], names[key], index))
                names.setdefault(key, index)
    if faults:
        raise DataError("; ".join(faults))
