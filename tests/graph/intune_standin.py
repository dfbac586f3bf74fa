"""The Intune and directory-object part of the Graph stand-in (issue 16), kept apart from standin.py.

State: users (seeded), groups, compliance policies (with their scheduled actions and assignments),
conditional access policies, iOS/Android app protection policies (apps, assignments), directory role
assignments, group licences, managed devices and detected apps, and the organization's MDM authority
(standin.py's tenant dict). Like the real service: GET of a compliance policy omits
scheduledActionsForRule (graph-docs-contrib issue #7391); POST answers 201 with the object; PATCH,
DELETE and actions answer 204 (assignLicense answers 202 with the group, G group-assignlicense).
Every request and response still goes through the contract (csdl.py) in standin.py.
"""

from __future__ import annotations

import copy
import datetime
import re
import uuid

#: Path regex -> application permission the stand-in demands (TENANT.md section 1, G api pages).
NEEDS = [
    (r"^/v1\.0/groups/[^/]+/assignLicense", "LicenseAssignment.ReadWrite.All"),
    (r"^/v1\.0/groups", "Group.ReadWrite.All"),
    (r"^/v1\.0/deviceManagement/deviceEnrollmentConfigurations", "DeviceManagementServiceConfig.ReadWrite.All"),
    (r"^/v1\.0/deviceManagement/(managedDevices|detectedApps)", "DeviceManagementManagedDevices.Read.All"),
    (r"^/v1\.0/deviceManagement", "DeviceManagementConfiguration.ReadWrite.All"),
    (r"^/v1\.0/deviceAppManagement", "DeviceManagementApps.ReadWrite.All"),
    (r"^/v1\.0/identity/conditionalAccess", "Policy.ReadWrite.ConditionalAccess"),
    (r"^/v1\.0/roleManagement", "RoleManagement.ReadWrite.Directory"),
    (r"^/v1\.0/organization/[^/]+/setMobileDeviceManagementAuthority", "DeviceManagementServiceConfig.ReadWrite.All"),
    # Graph beta (G beta pages): the Android Enterprise binding and configuration profiles (email profiles)
    (r"^/beta/deviceManagement/(androidManagedStoreAccountEnterpriseSettings|deviceConfigurations)",
     "DeviceManagementConfiguration.ReadWrite.All"),
    (r"^/beta/policies/mobileDeviceManagementPolicies", "Policy.Read.All"),
]
#: Paths Graph serves to delegated tokens only (G beta mobiledevicemanagementpolicies-list/-get: "Application:
#: Not supported"): an application token gets 403 however it is consented.
DELEGATED_ONLY = [r"^/beta/policies/mobileDeviceManagementPolicies"]
INTUNE_MDM_APP = "0000000a-0000-0000-c000-000000000000"  # Microsoft Intune (entra-docs groups-dynamic-membership.md)
# /users/{id} is checked where it is served (login_standin.user_resource: the user's own token, or
# User.Read.All), which the Intune app needs to find users by UPN
ROLES = {perm for _path, perm in NEEDS} | {"User.Read.All"}
WRITES = ("POST", "PATCH", "DELETE")


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def seed_users():
    names = ["admin", "breakglass1", "breakglass2", "pilot1", "pilot2", "intuneadmin"]
    return [{"id": str(uuid.uuid5(uuid.NAMESPACE_DNS, n + ".emslab")), "userPrincipalName": "%s@emslab.onmicrosoft.com" % n,
             "displayName": n} for n in names]


def default_enrollment(tenant_id):
    """The two default enrollment restrictions every Intune tenant has (priority 0, "All users and all devices")."""
    out = {}
    for suffix, odata_type, extra in (
            ("DefaultPlatformRestrictions", "deviceEnrollmentPlatformRestrictionsConfiguration",
             {key: {"platformBlocked": False, "personalDeviceEnrollmentBlocked": False} for key in
              ("androidRestriction", "iosRestriction", "macOSRestriction", "windowsRestriction",
               "windowsMobileRestriction")}),
            ("DefaultLimit", "deviceEnrollmentLimitConfiguration", {"limit": 5})):
        cid = "%s_%s" % (tenant_id, suffix)
        out[cid] = dict({"@odata.type": "#microsoft.graph." + odata_type, "id": cid,
                         "displayName": "All users and all devices", "description": "This is the default "
                         "enrollment restriction configuration applied with the lowest priority to all users "
                         "regardless of group membership.", "priority": 0, "createdDateTime": now(),
                         "lastModifiedDateTime": now(), "version": 0, "assignments": []}, **extra)
    return out


class IntuneState:
    def __init__(self, tenant):
        self.tenant = tenant
        # the tenant's one user list (GET /users/{id} is served by login_standin.user_resource)
        self.users = tenant.setdefault("users", [])
        self.users.extend(seed_users())
        self.groups = {}
        self.compliance = {}
        self.ca = {}
        self.mam = {"iosManagedAppProtections": {}, "androidManagedAppProtections": {}}
        self.role_assignments = {}
        self.devices = {}
        self.detected_apps = {}
        self.enrollment = default_enrollment(tenant["id"])
        self.members = {}  # group id -> [user id] (assigned groups' members)
        # Graph beta state (issue 16): Android Enterprise binding, MDM user scope, configuration profiles
        self.android_binding = {"id": "androidManagedStoreAccountEnterpriseSettings", "bindStatus": "notBound",
                                "lastAppSyncDateTime": "0001-01-01T00:00:00Z", "lastAppSyncStatus": "none",
                                "ownerUserPrincipalName": None, "ownerOrganizationName": None,
                                "lastModifiedDateTime": now()}
        self.mdm_policies = {INTUNE_MDM_APP: {
            "id": INTUNE_MDM_APP, "displayName": "Microsoft Intune", "description": "", "appliesTo": "none",
            "discoveryUrl": "https://enrollment.manage.microsoft.com/enrollmentserver/discovery.svc",
            "complianceUrl": "https://portal.manage.microsoft.com/?portalAction=Compliance",
            "termsOfUseUrl": "https://portal.manage.microsoft.com/TermsofUse.aspx", "isValid": True,
            "isMdmEnrollmentDuringRegistrationDisabled": False}}
        self.configurations = {}  # beta deviceConfigurations (email profiles)
        self.writes = []  # (method, path) of every accepted write
        self.apple_push = None  # set by a test: the operator uploaded the Apple MDM push certificate

    # --- helpers used by tests -------------------------------------------------------------------
    def add_group(self, name, **extra):
        gid = str(uuid.uuid4())
        self.groups[gid] = dict({"id": gid, "displayName": name, "mailEnabled": False, "mailNickname": "g",
                                 "securityEnabled": True, "groupTypes": [], "assignedLicenses": []}, **extra)
        return gid

    def enroll(self, name, platform, upn, apps=()):
        """A test device checks in (what an operator's enrollment produces)."""
        did = str(uuid.uuid4())
        os_name = {"ios": "iOS", "android": "Android", "windows": "Windows", "macos": "macOS"}[platform]
        self.devices[did] = {"id": did, "deviceName": name, "operatingSystem": os_name, "osVersion": "17.5",
                             "userPrincipalName": upn, "complianceState": "compliant", "managementAgent": "mdm",
                             "manufacturer": "Contoso", "model": "Model %s" % platform, "serialNumber": "SN" + did[:8],
                             "enrolledDateTime": now(), "lastSyncDateTime": now(), "totalStorageSpaceInBytes": 64 << 30,
                             "freeStorageSpaceInBytes": 20 << 30, "physicalMemoryInBytes": 4 << 30, "isEncrypted": True}
        for app in apps:
            aid = str(uuid.uuid5(uuid.NAMESPACE_URL, app))
            entry = self.detected_apps.setdefault(aid, {"id": aid, "displayName": app, "version": "1.0",
                                                        "sizeInByte": 1000, "deviceCount": 0, "devices": []})
            entry["deviceCount"] += 1
            entry["devices"].append(did)
        return did

    # --- the router --------------------------------------------------------------------------------
    def handle(self, method, path, query, body, page):  # noqa: C901 - one router
        """(status, answer) for a path this part serves, or None."""
        if method in WRITES:
            self.writes.append((method, path))
        if path == "/v1.0/groups":
            if method == "POST":
                gid = str(uuid.uuid4())
                group = dict(body, id=gid, createdDateTime=now(), assignedLicenses=[])
                self.groups[gid] = group
                return 201, copy.deepcopy(group)
            items = list(self.groups.values())
            m = re.match(r"^displayName eq '(.*)'$", query.get("$filter", ""))
            if m:
                items = [g for g in items if g["displayName"] == m.group(1).replace("''", "'")]
            return page(items, "groups")
        m = re.match(r"^/v1\.0/groups/([^/]+)/members(?:/microsoft\.graph\.user)?(?:/([^/]+))?(/\$ref)?$", path)
        if m:
            return self._members(m.group(1), m.group(2), method, body, page)
        m = re.match(r"^/v1\.0/groups/([^/]+)(/assignLicense)?$", path)
        if m:
            group = self.groups.get(m.group(1))
            if group is None:
                return 404, {"code": "Request_ResourceNotFound", "message": "Resource '%s' does not exist." % m.group(1)}
            if m.group(2):
                for lic in body.get("addLicenses") or []:
                    group["assignedLicenses"] = [a for a in group["assignedLicenses"] if a["skuId"] != lic["skuId"]]
                    group["assignedLicenses"].append({"skuId": lic["skuId"], "disabledPlans": lic.get("disabledPlans") or []})
                return 202, copy.deepcopy(group)
            return self._entity(self.groups, m.group(1), method, body)
        if path == "/v1.0/deviceManagement/deviceCompliancePolicies":
            if method == "POST":
                pid = str(uuid.uuid4())
                policy = dict(body, id=pid, createdDateTime=now(), lastModifiedDateTime=now(), version=1, assignments=[])
                self.compliance[pid] = policy
                return 201, self._view(policy, ())
            expand = query.get("$expand", "")
            return page([self._view(p, expand.split(",")) for p in self.compliance.values()],
                        "deviceManagement/deviceCompliancePolicies")
        m = re.match(r"^/v1\.0/deviceManagement/deviceCompliancePolicies/([^/]+)(/assign)?$", path)
        if m:
            return self._policy(self.compliance, m.group(1), method, body, m.group(2), "deviceCompliancePolicyAssignment")
        served = self._enrollment(method, path, query, body, page)
        if served is not None:
            return served
        if path.startswith("/beta/"):
            served = self._beta(method, path, query, body, page)
            if served is not None:
                return served
        if path == "/v1.0/identity/conditionalAccess/policies":
            if method == "POST":
                pid = str(uuid.uuid4())
                self.ca[pid] = dict(body, id=pid, createdDateTime=now())
                return 201, copy.deepcopy(self.ca[pid])
            return page(list(copy.deepcopy(p) for p in self.ca.values()), "identity/conditionalAccess/policies")
        m = re.match(r"^/v1\.0/identity/conditionalAccess/policies/([^/]+)$", path)
        if m:
            return self._entity(self.ca, m.group(1), method, body)
        m = re.match(r"^/v1\.0/deviceAppManagement/(iosManagedAppProtections|androidManagedAppProtections)"
                     r"(?:/([^/]+)(/assign|/targetApps)?)?$", path)
        if m:
            store = self.mam[m.group(1)]
            if not m.group(2):
                if method == "POST":
                    pid = str(uuid.uuid4())
                    store[pid] = dict(body, id=pid, createdDateTime=now(), lastModifiedDateTime=now(), version="1",
                                      assignments=[], apps=[])
                    return 201, self._view(store[pid], ())
                expand = query.get("$expand", "").split(",")
                return page([self._view(p, expand) for p in store.values()], "deviceAppManagement/" + m.group(1))
            if m.group(3) == "/targetApps":
                policy = store.get(m.group(2))
                if policy is None:
                    return 404, {"code": "ResourceNotFound", "message": "no such policy"}
                policy["apps"] = [dict(a, id=str(uuid.uuid4())) for a in body.get("apps") or []]
                return 204, None
            return self._policy(store, m.group(2), method, body, m.group(3), "targetedManagedAppPolicyAssignment")
        if path == "/v1.0/roleManagement/directory/roleAssignments":
            if method == "POST":
                aid = str(uuid.uuid4())
                self.role_assignments[aid] = dict(body, id=aid)
                return 201, dict(self.role_assignments[aid])
            items = list(self.role_assignments.values())
            m = re.match(r"^roleDefinitionId eq '(.*)'$", query.get("$filter", ""))
            if m:
                items = [a for a in items if a["roleDefinitionId"] == m.group(1)]
            return page(items, "roleManagement/directory/roleAssignments")
        m = re.match(r"^/v1\.0/roleManagement/directory/roleAssignments/([^/]+)$", path)
        if m:
            return self._entity(self.role_assignments, m.group(1), method, body)
        if path == "/v1.0/deviceManagement/applePushNotificationCertificate":
            if self.apple_push is None:
                return 404, {"code": "ResourceNotFound", "message": "No Apple push notification certificate."}
            return 200, dict(self.apple_push)
        if path == "/v1.0/deviceManagement/managedDevices":
            return page(list(copy.deepcopy(d) for d in self.devices.values()), "deviceManagement/managedDevices")
        if path == "/v1.0/deviceManagement/detectedApps":
            return page([{k: v for k, v in a.items() if k != "devices"} for a in self.detected_apps.values()],
                        "deviceManagement/detectedApps")
        m = re.match(r"^/v1\.0/deviceManagement/detectedApps/([^/]+)/managedDevices$", path)
        if m:
            app = self.detected_apps.get(m.group(1)) or {"devices": []}
            return page([copy.deepcopy(self.devices[d]) for d in app["devices"]],
                        "deviceManagement/detectedApps/managedDevices")
        m = re.match(r"^/v1\.0/organization/([^/]+)/setMobileDeviceManagementAuthority$", path)
        if m:
            self.tenant["mobileDeviceManagementAuthority"] = "intune"
            return 204, None
        if method in WRITES:
            self.writes.pop()
        return None

    def _beta(self, method, path, query, body, page):
        """The Graph beta paths (issue 16), validated against beta-slice.json by standin.py."""
        if path == "/beta/deviceManagement/androidManagedStoreAccountEnterpriseSettings":
            return 200, dict(self.android_binding)
        if path == "/beta/policies/mobileDeviceManagementPolicies":
            return page([dict(p) for p in self.mdm_policies.values()], "policies/mobileDeviceManagementPolicies")
        if path == "/beta/deviceManagement/deviceConfigurations":
            if method == "POST":
                cid = str(uuid.uuid4())
                self.configurations[cid] = dict(copy.deepcopy(body), id=cid, createdDateTime=now(),
                                                lastModifiedDateTime=now(), version=1, assignments=[])
                return 201, self._view(self.configurations[cid], ())
            expand = query.get("$expand", "").split(",")
            return page([self._view(c, expand) for c in self.configurations.values()],
                        "deviceManagement/deviceConfigurations")
        m = re.match(r"^/beta/deviceManagement/deviceConfigurations/([^/]+)(/assign)?$", path)
        if m:
            if method == "PATCH" and body.get("@odata.type") not in (
                    None, (self.configurations.get(m.group(1)) or {}).get("@odata.type")):
                return 400, {"code": "BadRequest", "message": "The @odata.type of a configuration cannot change."}
            return self._policy(self.configurations, m.group(1), method, body, m.group(2),
                                "deviceConfigurationAssignment")
        return None

    def _members(self, group_id, member_id, method, body, page):
        """GET members, POST members/$ref, DELETE members/{id}/$ref (G group-list-members, -post-members,
        -delete-members); a member added twice answers 400 like Graph ("One or more added object references
        already exist")."""
        if group_id not in self.groups:
            return 404, {"code": "Request_ResourceNotFound", "message": "Resource '%s' does not exist." % group_id}
        if "DynamicMembership" in (self.groups[group_id].get("groupTypes") or []) and method != "GET":
            return 400, {"code": "Request_BadRequest", "message": "Dynamic group members cannot be changed."}
        members = self.members.setdefault(group_id, [])
        users = {u["id"]: u for u in self.users}
        if method == "GET":
            return page([{"@odata.type": "#microsoft.graph.user", "id": uid,
                          "userPrincipalName": users[uid]["userPrincipalName"]} for uid in members], "directoryObjects")
        if method == "POST":
            uid = body["@odata.id"].rsplit("/", 1)[-1]
            if uid not in users:
                return 404, {"code": "Request_ResourceNotFound", "message": "Resource '%s' does not exist." % uid}
            if uid in members:
                return 400, {"code": "Request_BadRequest",
                             "message": "One or more added object references already exist for the following "
                                        "modified properties: 'members'."}
            members.append(uid)
            return 204, None
        if member_id not in members:
            return 404, {"code": "Request_ResourceNotFound", "message": "Resource '%s' does not exist." % member_id}
        members.remove(member_id)
        return 204, None

    def _enrollment(self, method, path, query, body, page):
        """deviceEnrollmentConfigurations: the defaults (priority 0) can be patched, not deleted or assigned."""
        if path == "/v1.0/deviceManagement/deviceEnrollmentConfigurations":
            if method == "POST":
                cid = str(uuid.uuid4())
                priority = max([c["priority"] for c in self.enrollment.values()] + [0]) + 1
                self.enrollment[cid] = dict(copy.deepcopy(body), id=cid, priority=priority, createdDateTime=now(),
                                            lastModifiedDateTime=now(), version=1, assignments=[])
                return 201, self._view(self.enrollment[cid], ())
            expand = query.get("$expand", "").split(",")
            return page([self._view(c, expand) for c in self.enrollment.values()],
                        "deviceManagement/deviceEnrollmentConfigurations")
        m = re.match(r"^/v1\.0/deviceManagement/deviceEnrollmentConfigurations/([^/]+)(/assign)?$", path)
        if not m:
            return None
        config = self.enrollment.get(m.group(1))
        if config is None:
            return 404, {"code": "ResourceNotFound", "message": "no such configuration"}
        if config["priority"] == 0 and (method == "DELETE" or m.group(2)):
            return 400, {"code": "BadRequest", "message": "The default configuration cannot be %s." % (
                "deleted" if method == "DELETE" else "assigned")}
        if method == "PATCH" and body.get("@odata.type") not in (None, config["@odata.type"]):
            return 400, {"code": "BadRequest", "message": "The @odata.type of a configuration cannot change."}
        if m.group(2):
            config["assignments"] = [dict(a, id="%s_%s" % (config["id"], (a.get("target") or {}).get("groupId")))
                                     for a in body.get("enrollmentConfigurationAssignments") or []]
            return 204, None
        return self._entity(self.enrollment, m.group(1), method, body)

    def _view(self, policy, expand):
        out = {k: copy.deepcopy(v) for k, v in policy.items()
               if k not in ("scheduledActionsForRule", "assignments", "apps") or k in expand}
        return out

    def _entity(self, store, key, method, body):
        item = store.get(key)
        if item is None:
            return 404, {"code": "ResourceNotFound", "message": "Resource '%s' does not exist." % key}
        if method == "GET":
            return 200, self._view(item, ())
        if method == "DELETE":
            del store[key]
            return 204, None
        item.update(copy.deepcopy(body))
        if "lastModifiedDateTime" in item:
            item["lastModifiedDateTime"] = now()
        return 204, None

    def _policy(self, store, key, method, body, action, assignment_type):
        if not action:
            return self._entity(store, key, method, body)
        policy = store.get(key)
        if policy is None:
            return 404, {"code": "ResourceNotFound", "message": "no such policy"}
        policy["assignments"] = [dict(a, id="%s_%s" % (key, (a.get("target") or {}).get("groupId")))
                                 for a in body.get("assignments") or []]
        del assignment_type
        return 204, None
