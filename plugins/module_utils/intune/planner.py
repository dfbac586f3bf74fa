# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the tenant, resolve the data's references, plan the writes, then (not in check mode) send them.

Order: every read first; every reference (group names, UPNs, SKUs) resolved, and every fault the
tenant reveals (a group that does not exist, a SKU the tenant lacks, no free seats) collected, BEFORE
the first write. Then the writes, in order (groups first: later objects name them), one at a time;
the Graph client sleeps Retry-After on 429 (Intune: 200 writes per 20 s per tenant). An object the
data does not name is never touched; ``state: absent`` deletes only the object the data names.

Calls (TENANT.md section 5, Graph v1.0): groups, users, deviceManagement/deviceCompliancePolicies
(+ assign), identity/conditionalAccess/policies, deviceAppManagement/{ios,android}ManagedAppProtections
(+ targetApps, assign), roleManagement/directory/roleAssignments, subscribedSkus, groups/{id}/assignLicense,
organization (+ setMobileDeviceManagementAuthority), deviceManagement/deviceEnrollmentConfigurations (+ assign),
groups/{id}/members (+ /$ref).
"""

from __future__ import annotations

from ansible_collections.ems.enable.plugins.module_utils.graph import clouds
from ansible_collections.ems.enable.plugins.module_utils.intune import data as idata
from ansible_collections.ems.enable.plugins.module_utils.intune import tables
from ansible_collections.ems.enable.plugins.module_utils.intune.state import (
    Change, NewObject, differences, resolve, shown)

GROUP_SELECT = "id,displayName,description,groupTypes,membershipRule,membershipRuleProcessingState," \
               "securityEnabled,mailEnabled,isAssignableToRole,assignedLicenses"
COMPLIANCE_PATH = "deviceManagement/deviceCompliancePolicies"
CA_PATH = "identity/conditionalAccess/policies"
ROLE_PATH = "roleManagement/directory/roleAssignments"
ENROLLMENT_PATH = "deviceManagement/deviceEnrollmentConfigurations"
CONFIGURATION_PATH = "deviceManagement/deviceConfigurations"  # email profiles: Graph beta only
GROUP_TARGET = "#microsoft.graph.groupAssignmentTarget"


def quote(value):
    return "'%s'" % value.replace("'", "''")


def mail_nickname(name):
    nick = "".join(c for c in name if c.isalnum() or c in "-_.")[:56]
    return nick or "emsgroup"


def odata(name):
    return "#microsoft.graph.%s" % name


def present(item):
    return item.get("state", "present") == "present"


def _whole_restriction(key, new, current_value):
    """A platform restriction is one complex value: sent whole (the tenant's fields, else the defaults, plus the
    data's)."""
    if key.endswith("Restriction"):
        return dict(current_value or tables.RESTRICTION_DEFAULTS, **new)
    return new


class Planner:
    def __init__(self, client, params):
        self.client = client
        self.params = params
        self.faults = []
        self.changes = []
        self.groups = {}  # casefold name -> Graph group (dict) or NewObject
        self.group_names = {}  # id -> name (for diffs)
        self.users = {}  # casefold UPN -> id
        self.report = {}
        self.writes = 0
        self.version = None  # while planning a beta-only kind: clouds.BETA_VERSION (stamped on its changes)

    # --- references ---------------------------------------------------------------------------
    def fault(self, where, field, what, remedy):
        self.faults.append("%s: %s: %s. Remedy: %s" % (where, field, what, remedy))

    def read_group(self, name):
        key = name.casefold()
        if key not in self.groups:
            found = self.client.get_all("groups", params={"$filter": "displayName eq %s" % quote(name),
                                                          "$select": GROUP_SELECT})
            self.groups[key] = found
            for group in found:
                self.group_names[group["id"]] = group.get("displayName")
        return self.groups[key]

    def group_ref(self, name, where, field):
        """The id of the group ``name`` (or its NewObject when the data creates it); a fault otherwise."""
        found = self.groups.get(name.casefold())
        if isinstance(found, NewObject):
            return found
        found = self.read_group(name)
        if isinstance(found, NewObject):
            return found
        if len(found) == 1:
            return found[0]["id"]
        if not found:
            self.fault(where, field, "the group %r does not exist in the tenant and the data does not create it"
                       % name, "create it (groups) or correct the name.")
        else:
            self.fault(where, field, "%d groups are named %r" % (len(found), name),
                       "rename the duplicates, or name a unique group.")
        return None

    def user_ref(self, upn, where, field):
        key = upn.casefold()
        if key not in self.users:
            try:
                self.users[key] = self.client.get("users/%s" % upn, params={"$select": "id,userPrincipalName"})["id"]
            except Exception as err:  # pylint: disable=broad-except  # GraphError 404 -> a fault of the data
                if getattr(err, "status", None) != 404:
                    raise
                self.users[key] = None
        if self.users[key] is None:
            self.fault(where, field, "the user %r does not exist in the tenant" % upn,
                       "correct the UPN (synced or cloud users must exist before this runs).")
        return self.users[key]

    def names_of(self, ids):
        return sorted(shown(self.group_names.get(i, i)) for i in ids)

    def add(self, change):
        change.version = self.version
        self.changes.append(change)
        return change

    def match(self, where, existing, name, what, type_name=None):
        """The one object named ``name`` (and of ``type_name``) in ``existing``, None, or a fault for duplicates."""
        matches = [o for o in existing if o.get("displayName") == name
                   and (type_name is None or idata.odata_name(o.get("@odata.type")) == type_name)]
        if len(matches) > 1:
            self.fault(where, "name", "%d %s are named %r" % (len(matches), what, name),
                       "rename the duplicates: objects are matched by displayName%s." % (
                           " and @odata.type" if type_name else ""))
            return None, True
        return (matches[0] if matches else None), False

    def absent(self, kind, item, current, collection):
        """True when the data says ``state: absent``; plans the DELETE of the named object if it exists."""
        if present(item):
            return False
        if current:
            self.add(Change(kind, item["name"], "delete", "DELETE", "%s/%s" % (collection, current["id"]),
                            changed={"displayName": (item["name"], None)}))
        return True

    @staticmethod
    def desired_policy(item):
        desired = dict(item.get("settings") or {}, displayName=item["name"])
        if item.get("description") is not None:
            desired["description"] = item["description"]
        return desired

    # --- groups -------------------------------------------------------------------------------
    def plan_groups(self):
        for index, item in enumerate(self.params["groups"]):
            where = idata.label("groups", index, item)
            current, duplicate = self.match(where, self.read_group(item["name"]), item["name"], "groups")
            if duplicate or self.absent("group", item, current, "groups"):
                continue
            dynamic = item.get("type", "assigned") == "dynamic"
            desired = {"displayName": item["name"], "securityEnabled": True, "mailEnabled": False,
                       "groupTypes": ["DynamicMembership"] if dynamic else []}
            if item.get("description") is not None:
                desired["description"] = item["description"]
            if dynamic:
                desired["membershipRule"] = item.get("membership_rule") or tables.device_rule(item["platform"])
                desired["membershipRuleProcessingState"] = "On"
            if current is None:
                new = NewObject("group", item["name"])
                body = dict(desired, mailNickname=mail_nickname(item["name"]))
                if item.get("role_assignable"):
                    body["isAssignableToRole"] = True
                self.groups[item["name"].casefold()] = new
                self.add(Change("group", item["name"], "create", "POST", "groups", body,
                                {k: (None, v) for k, v in desired.items()}, creates=new))
                self.plan_members(item, where, new, [])
                continue
            changed = differences(desired, current)
            if changed:
                self.add(Change("group", item["name"], "update", "PATCH", "groups/%s" % current["id"],
                                {k: new for k, (_old, new) in changed.items()}, changed))
            if item.get("members") is not None or item.get("members_exclusive"):
                # the users among the members (a type cast: G group-list-members); devices and groups
                # in the group are never touched
                members = self.client.get_all("groups/%s/members/microsoft.graph.user" % current["id"],
                                              params={"$select": "id,userPrincipalName"})
                self.plan_members(item, where, current["id"], members)

    def plan_members(self, item, where, group, current):
        """Assigned group members by UPN: add the missing ones; remove others only with members_exclusive."""
        upns, seen = [], set()
        for upn in item.get("members") or []:  # each UPN once (UPNs compare without case)
            if upn.casefold() not in seen:
                seen.add(upn.casefold())
                upns.append(upn)
        wanted = [(upn, self.user_ref(upn, where, "members")) for upn in upns]
        have = {m["id"]: m.get("userPrincipalName") or m["id"] for m in current}
        for upn, user_id in wanted:
            if user_id is not None and user_id not in have:
                self.add(Change("group member", "%s: %s" % (item["name"], upn), "add", "POST",
                                self.group_action(group, "members/$ref"),
                                {"@odata.id": "%s/directoryObjects/%s" % (self.client.base, user_id)},
                                {"member": (None, upn)}))
        if item.get("members_exclusive"):
            keep = {user_id for _upn, user_id in wanted}
            for member_id, name in sorted(have.items(), key=lambda kv: str(kv[1])):
                if member_id not in keep:
                    self.add(Change("group member", "%s: %s" % (item["name"], name), "remove", "DELETE",
                                    self.group_action(group, "members/%s/$ref" % member_id),
                                    changed={"member": (name, None)}))

    # --- compliance policies --------------------------------------------------------------------
    def plan_compliance(self):
        items = self.params["compliance_policies"]
        if not items:
            return
        existing = self.client.get_all(COMPLIANCE_PATH, params={"$expand": "assignments"})
        for index, item in enumerate(items):
            where = idata.label("compliance_policies", index, item)
            type_name = idata.odata_name(item.get("odata_type")) or tables.PLATFORMS[item["platform"]]["compliance"]
            current, duplicate = self.match(where, existing, item["name"], "%s policies" % type_name, type_name)
            if duplicate or self.absent("compliance policy", item, current, COMPLIANCE_PATH):
                continue
            self.plan_policy("compliance policy", item, current, self.desired_policy(item), type_name, COMPLIANCE_PATH,
                             self.targets(item, where),
                             create_extra={"scheduledActionsForRule": [{
                                 "ruleName": tables.BLOCK_RULE_NAME, "scheduledActionConfigurations": [{
                                     "actionType": "block", "gracePeriodHours": item.get("grace_period_hours", 0),
                                     "notificationTemplateId": "", "notificationMessageCCList": []}]}]})

    def targets(self, item, where):
        if item.get("assign_to") is None:
            return None
        refs = [self.group_ref(name, where, "assign_to") for name in item["assign_to"]]
        return [r for r in refs if r is not None]

    def plan_policy(self, kind, item, current, desired, type_name, collection, targets, create_extra=None,
                    complete=None, assign_key="assignments"):
        """Create or patch a typed policy, then its assignments (POST .../assign with the whole set under
        ``assign_key``). ``complete(key, new, current_value)``: the value sent for a property (default: the
        data's), e.g. a complex value sent whole."""
        policy = None
        complete = complete or (lambda _key, new, _current: new)
        if current is None:
            policy = NewObject(kind, item["name"])
            body = {k: complete(k, v, None) for k, v in dict(desired, **(create_extra or {})).items()}
            body["@odata.type"] = odata(type_name)
            self.add(Change(kind, item["name"], "create", "POST", collection, body,
                            {k: (None, v) for k, v in desired.items()}, creates=policy))
            current_targets = []
        else:
            policy = current["id"]
            changed = differences(desired, current)
            if changed:
                body = {k: complete(k, new, current.get(k)) for k, (_old, new) in changed.items()}
                body["@odata.type"] = odata(type_name)
                self.add(Change(kind, item["name"], "update", "PATCH", "%s/%s" % (collection, policy), body, changed))
            current_targets = [(a.get("target") or {}).get("groupId") for a in current.get("assignments") or []
                               if (a.get("target") or {}).get("@odata.type") == GROUP_TARGET]
        if targets is not None and not (all(isinstance(t, str) for t in targets)
                                        and sorted(set(targets)) == sorted(set(current_targets))):
            body = {assign_key: [{"target": {"@odata.type": GROUP_TARGET, "groupId": t}} for t in targets]}
            self.add(Change(kind, item["name"], "assign", "POST", self.action_path(collection, policy, "assign"),
                            body, {"assignments": (self.names_of(current_targets), self.names_of(targets))}))
        return policy

    @staticmethod
    def action_path(collection, policy, action):
        return lambda: "%s/%s/%s" % (collection, resolve(policy), action)

    # --- app protection (MAM) ----------------------------------------------------------------------
    def plan_app_protection(self):
        items = self.params["app_protection_policies"]
        existing = {}
        for index, item in enumerate(items):
            where = idata.label("app_protection_policies", index, item)
            platform = tables.PLATFORMS[item["platform"]]
            collection = "deviceAppManagement/%s" % platform["mam"]
            if collection not in existing:
                existing[collection] = self.client.get_all(collection, params={"$expand": "apps,assignments"})
            current, duplicate = self.match(where, existing[collection], item["name"], "app protection policies")
            if duplicate or self.absent("app protection policy", item, current, collection):
                continue
            type_name = tables.APP_PROTECTION_TYPES[item["platform"]]
            policy = self.plan_policy("app protection policy", item, current, self.desired_policy(item), type_name,
                                      collection, self.targets(item, where))
            identifier, key = platform["app_identifier"]
            wanted = sorted(set(item.get("apps") or []))
            have = sorted(set(((a.get("mobileAppIdentifier") or {}).get(key)) for a in (current or {}).get("apps") or []))
            if item.get("apps") is not None and wanted != have:
                body = {"apps": [{"mobileAppIdentifier": {"@odata.type": odata(identifier), key: app}} for app in wanted],
                        "appGroupType": item.get("app_group_type", "selectedPublicApps")}
                self.add(Change("app protection policy", item["name"], "target apps", "POST",
                                self.action_path(collection, policy, "targetApps"), body, {"apps": (have, wanted)}))

    # --- conditional access --------------------------------------------------------------------
    def plan_conditional_access(self):
        items = self.params["conditional_access_policies"]
        if not items:
            return
        existing = self.client.get_all(CA_PATH)
        state = tables.CA_ENFORCED if self.params["conditional_access_enforce"] else tables.CA_REPORT_ONLY
        for index, item in enumerate(items):
            where = idata.label("conditional_access_policies", index, item)
            current, duplicate = self.match(where, existing, item["name"], "conditional access policies")
            if duplicate or self.absent("conditional access policy", item, current, CA_PATH):
                continue
            users = {
                "includeUsers": [u if u in idata.CA_SPECIAL_USERS else self.user_ref(u, where, "include_users")
                                 for u in item.get("include_users") or []] or (["None"] if not item.get(
                                     "include_groups") else []),
                "includeGroups": [self.group_ref(g, where, "include_groups") for g in item.get("include_groups") or []],
                "excludeUsers": [self.user_ref(u, where, "exclude_users") for u in
                                 list(item.get("exclude_users") or []) + list(self.params["break_glass_users"])],
                "excludeGroups": [self.group_ref(g, where, "exclude_groups") for g in
                                  list(item.get("exclude_groups") or []) + list(self.params["break_glass_groups"])],
            }
            users = {k: sorted(set(v), key=repr) for k, v in users.items()}
            conditions = {"users": users, "applications": {"includeApplications": item.get("applications") or ["Office365"]},
                          "clientAppTypes": item.get("client_app_types") or ["all"]}
            if item.get("platforms"):
                conditions["platforms"] = item["platforms"]
            desired = {"displayName": item["name"], "state": state, "conditions": conditions,
                       "grantControls": item.get("grant_controls") or {"operator": "OR",
                                                                       "builtInControls": ["compliantDevice"]}}
            if item.get("session_controls"):
                desired["sessionControls"] = item["session_controls"]
            if current is None:
                self.add(Change("conditional access policy", item["name"], "create", "POST", CA_PATH, desired,
                                {k: (None, v) for k, v in desired.items()}))
                continue
            changed = differences(desired, current)
            if changed:
                self.add(Change("conditional access policy", item["name"], "update", "PATCH",
                                "%s/%s" % (CA_PATH, current["id"]), {k: v for k, (_o, v) in changed.items()}, changed))

    # --- directory roles -------------------------------------------------------------------------
    def plan_roles(self):
        for index, item in enumerate(self.params["role_assignments"]):
            where = idata.label("role_assignments", index, item)
            template = item.get("role_template_id") or tables.ROLE_TEMPLATES[item["role"]]
            role = item.get("role") or template
            current = self.client.get_all(ROLE_PATH, params={"$filter": "roleDefinitionId eq %s" % quote(template)})
            principals = [(u, self.user_ref(u, where, "users")) for u in item.get("users") or []]
            principals += [(g, self.group_ref(g, where, "groups")) for g in item.get("groups") or []]
            for name, ref in principals:
                if ref is None:
                    continue
                mine = [a for a in current if a.get("principalId") == ref and a.get("directoryScopeId", "/") == "/"]
                if present(item) and not mine:
                    self.add(Change("role assignment", "%s: %s" % (role, name), "create", "POST", ROLE_PATH,
                                    {"roleDefinitionId": template, "principalId": ref, "directoryScopeId": "/"},
                                    {"principal": (None, name)}))
                elif not present(item):
                    for assignment in mine:
                        self.add(Change("role assignment", "%s: %s" % (role, name), "delete", "DELETE",
                                        "%s/%s" % (ROLE_PATH, assignment["id"]), changed={"principal": (name, None)}))

    # --- group-based licensing ---------------------------------------------------------------------
    def plan_licensing(self):
        items = self.params["licensing"]
        if not items:
            return
        skus = self.client.get_all("subscribedSkus")
        for index, item in enumerate(items):
            where = idata.label("licensing", index, item)
            sku = next((s for s in skus if s.get("skuPartNumber", "").casefold() == item["sku"].casefold()), None)
            ref = self.group_ref(item["group"], where, "group")
            if sku is None:
                self.fault(where, "sku", "the tenant has no subscribed SKU %r (it has: %s)" % (
                    item["sku"], ", ".join(sorted(s.get("skuPartNumber", "?") for s in skus)) or "none"),
                    "buy or name a SKU the tenant has (EMS, EMSPREMIUM, INTUNE_A, ...).")
                continue
            plans = {p.get("servicePlanName", "").casefold(): p.get("servicePlanId") for p in sku.get("servicePlans") or []}
            disabled = []
            for plan in item.get("disabled_plans") or []:
                if plan.casefold() not in plans:
                    self.fault(where, "disabled_plans", "%r is not a service plan of %s" % (plan, item["sku"]),
                               "use the servicePlanName of one of its plans (%s)." % ", ".join(
                                   sorted(p.get("servicePlanName", "?") for p in sku.get("servicePlans") or [])))
                else:
                    disabled.append(plans[plan.casefold()])
            if ref is None:
                continue
            group = self.groups.get(item["group"].casefold())
            assigned = [] if isinstance(group, NewObject) else (group[0].get("assignedLicenses") or [])
            have = next((a for a in assigned if a.get("skuId") == sku["skuId"]), None)
            if have is not None and sorted(have.get("disabledPlans") or []) == sorted(disabled):
                continue
            free = ((sku.get("prepaidUnits") or {}).get("enabled") or 0) - (sku.get("consumedUnits") or 0)
            if have is None and free < item.get("min_free_seats", 1):
                self.fault(where, "sku", "%s has %d free seat(s), fewer than min_free_seats %d" % (
                    item["sku"], free, item.get("min_free_seats", 1)), "buy seats or free some, then run again.")
                continue
            self.add(Change("group licence", "%s: %s" % (item["group"], item["sku"]), "assign licence", "POST",
                            self.group_action(ref, "assignLicense"),
                            {"addLicenses": [{"skuId": sku["skuId"], "disabledPlans": sorted(disabled)}],
                             "removeLicenses": []},
                            {"disabledPlans": (sorted(have.get("disabledPlans") or []) if have else None,
                                               sorted(item.get("disabled_plans") or []))}))

    @staticmethod
    def group_action(ref, action):
        return lambda: "groups/%s/%s" % (resolve(ref), action)

    # --- enrollment restrictions -------------------------------------------------------------------
    def plan_enrollment(self):
        """Platform restrictions and device limits (v1.0 deviceEnrollmentConfigurations).

        Matched by displayName + @odata.type; ``default: true`` matches the tenant's default of that type
        (priority 0), which Graph lets one patch but not create, delete or assign.
        """
        items = self.params.get("enrollment_restrictions") or []
        if not items:
            return
        existing = self.client.get_all(ENROLLMENT_PATH, params={"$expand": "assignments"})
        for index, item in enumerate(items):
            where = idata.label("enrollment_restrictions", index, item)
            type_name = tables.ENROLLMENT_TYPES[item["type"]]
            if item.get("default"):
                defaults = [o for o in existing if o.get("priority") == 0
                            and idata.odata_name(o.get("@odata.type")) == type_name]
                if len(defaults) != 1:
                    self.fault(where, "default", "the tenant has %d default %s (priority 0), not one" % (
                        len(defaults), type_name), "run against a tenant with Intune set up, or remove default.")
                    continue
                current = defaults[0]
            else:
                current, duplicate = self.match(where, existing, item["name"], "%s objects" % type_name, type_name)
                if duplicate:
                    continue
                if current is not None and current.get("priority") == 0:
                    self.fault(where, "name", "%r is the tenant's default %s (priority 0)" % (item["name"], type_name),
                               "set default: true (it can only be patched), or give your restriction another name.")
                    continue
                if self.absent("enrollment restriction", item, current, ENROLLMENT_PATH):
                    continue
            desired = {} if item.get("default") else {"displayName": item["name"]}
            if item.get("description") is not None:
                desired["description"] = item["description"]
            if item["type"] == "limit":
                desired["limit"] = item["limit"]
            for platform, rule in (item.get("platforms") or {}).items():
                desired[tables.ENROLLMENT_PLATFORMS[platform]] = dict(rule)
            self.plan_policy("enrollment restriction", item, current, desired, type_name, ENROLLMENT_PATH,
                             self.targets(item, where), complete=_whole_restriction,
                             assign_key="enrollmentConfigurationAssignments")

    # --- email profiles (Graph beta) -------------------------------------------------------------------
    def plan_email_profiles(self):
        """iOS and Android Enterprise work profile EAS email profiles: beta deviceConfigurations only.

        The one kind this module writes through Graph beta (Microsoft: beta is not supported in production);
        every read and write of it goes to /beta, every other call stays on v1.0.
        """
        items = self.params.get("email_profiles") or []
        if not items:
            return
        self.version = clouds.BETA_VERSION
        try:
            existing = self.client.get_all(CONFIGURATION_PATH, params={"$expand": "assignments"}, version=self.version)
            for index, item in enumerate(items):
                where = idata.label("email_profiles", index, item)
                type_name = idata.odata_name(item.get("odata_type")) or tables.EMAIL_PROFILE_TYPES[item["platform"]]
                current, duplicate = self.match(where, existing, item["name"], "%s profiles" % type_name, type_name)
                if duplicate or self.absent("email profile", item, current, CONFIGURATION_PATH):
                    continue
                self.plan_policy("email profile", item, current, self.desired_policy(item), type_name,
                                 CONFIGURATION_PATH, self.targets(item, where))
        finally:
            self.version = None

    # --- MDM authority -----------------------------------------------------------------------------
    def plan_mdm_authority(self):
        org = (self.client.get_all("organization", params={"$select": "id,mobileDeviceManagementAuthority"})
               or [{}])[0]
        value = org.get("mobileDeviceManagementAuthority")
        self.report["mdm_authority"] = {"value": value, "set_by_this_run": False}
        if self.params["mdm_authority"] == "intune" and value == "unknown":
            self.report["mdm_authority"]["set_by_this_run"] = True
            self.add(Change("mdm authority", "organization", "set", "POST",
                            "organization/%s/setMobileDeviceManagementAuthority" % org["id"], None,
                            {"mobileDeviceManagementAuthority": (value, "intune")}))

    # --- the run -----------------------------------------------------------------------------------
    def plan(self):
        self.plan_groups()
        self.plan_licensing()
        self.plan_roles()
        self.plan_compliance()
        self.plan_app_protection()
        self.plan_conditional_access()
        self.plan_enrollment()
        self.plan_email_profiles()
        self.plan_mdm_authority()
        deletes = [c for c in self.changes if c.action == "delete" and c.kind == "group"]
        self.changes = [c for c in self.changes if c not in deletes] + deletes  # groups go last
        return self.changes

    def apply(self):
        for change in self.changes:
            body = resolve(change.body) if change.body is not None else None
            response = self.client.send(change.method, change.url(), body=body, version=change.version)
            self.writes += 1
            if change.creates is not None:
                change.creates.id = response.json()["id"]
                if change.kind == "group":
                    self.group_names[change.creates.id] = change.name
        return self.writes
