# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ems.enable.intune_devices_info: the pilot's test devices as Intune sees them, with their inventory.

Reads (Graph v1.0, read-only; TENANT.md section 5): ``GET deviceManagement/managedDevices`` (hardware:
manufacturer, model, serial number, OS and version, storage, memory, encryption, compliance, last
sync) and the detected software: v1.0 has no per-device ``detectedApps`` (beta only), so
``GET deviceManagement/detectedApps`` and, through ``$batch`` (20 per request), each app's
``managedDevices``, keeping the apps of the test devices. A test device (platform + user) is found when
a managed device of that platform is enrolled by that user; the role's attended step
(``intune.test_devices``) stays pending until every listed device is found.
"""

from __future__ import annotations

from ansible_collections.ems.enable.plugins.module_utils.graph import client as gc
from ansible_collections.ems.enable.plugins.module_utils.graph import clouds
from ansible_collections.ems.enable.plugins.module_utils.graph.errors import GraphError

#: platform -> operatingSystem values of managedDevice (Intune reports iOS for iPhone and iPad).
OPERATING_SYSTEMS = {"ios": ("iOS", "iPadOS"), "android": ("Android",), "windows": ("Windows",),
                     "macos": ("macOS", "Mac OS X")}
MAX_PER_PLATFORM = 2
DEVICE_SELECT = ("id,deviceName,operatingSystem,osVersion,userPrincipalName,complianceState,managementAgent,"
                 "manufacturer,model,serialNumber,enrolledDateTime,lastSyncDateTime,totalStorageSpaceInBytes,"
                 "freeStorageSpaceInBytes,physicalMemoryInBytes,isEncrypted")

INTUNE_DEVICES_SPEC = dict(
    gc.GRAPH_ARGUMENT_SPEC,
    test_devices=dict(type="list", elements="dict", default=[], options=dict(
        platform=dict(type="str", required=True, choices=sorted(OPERATING_SYSTEMS)),
        user=dict(type="str", required=True),
    )),
    inventory=dict(type="bool", default=True),
    apple_push_certificate=dict(type="bool", default=False),
    android_enterprise=dict(type="bool", default=False),
    windows_enrollment=dict(type="bool", default=False),
)
#: Graph beta reads (not supported by Microsoft for production; the only beta calls of this module):
#: G beta intune-androidforwork-androidmanagedstoreaccountenterprisesettings-get (the binding; bound or
#: boundAndValidated = done) and mobiledevicemanagementpolicies-list (Windows automatic enrollment, the
#: MDM user scope of the Microsoft Intune policy: all or selected = done; "Application: Not supported",
#: so it is read only when an administrator signs in with auth=device_code).
ANDROID_BINDING = "deviceManagement/androidManagedStoreAccountEnterpriseSettings"
ANDROID_SELECT = "id,bindStatus,ownerUserPrincipalName,ownerOrganizationName,lastAppSyncStatus,lastAppSyncDateTime"
ANDROID_BOUND = ("bound", "boundAndValidated")
MDM_POLICIES = "policies/mobileDeviceManagementPolicies"
INTUNE_MDM_APP = "0000000a-0000-0000-c000-000000000000"  # Microsoft Intune's app id (entra-docs groups-dynamic-membership.md)
MDM_SCOPES_DONE = ("all", "selected")
NOT_READABLE_WITH_APP = ("Graph reads the MDM user scope only for a signed-in administrator (beta "
                         "mobileDeviceManagementPolicies: application permissions not supported)")
BETA_WARNING = ("Graph beta was called (Microsoft does not support beta APIs in production; they may change): %s")
INTUNE_DEVICES_KWARGS = dict(required_if=[["auth", "certificate", ["certificate_path"]]])


def check(test_devices):
    per_platform = {}
    for index, device in enumerate(test_devices):
        per_platform[device["platform"]] = per_platform.get(device["platform"], 0) + 1
        if per_platform[device["platform"]] > MAX_PER_PLATFORM:
            raise GraphError("test_devices[%d] (%s): platform: more than %d test devices of %s." % (
                index, device["user"], MAX_PER_PLATFORM, device["platform"]),
                "list at most two test devices per platform.", kind="input")


def gigabytes(value):
    return "%.0f GB" % (value / float(1 << 30)) if isinstance(value, int) and value > 0 else "?"


def hardware(device):
    return {key: device.get(key) for key in ("deviceName", "operatingSystem", "osVersion", "manufacturer", "model",
                                             "serialNumber", "complianceState", "lastSyncDateTime", "isEncrypted",
                                             "totalStorageSpaceInBytes", "freeStorageSpaceInBytes",
                                             "physicalMemoryInBytes", "userPrincipalName")}


def read_apps(client, device_ids):
    """{device id: [{name, version, publisher}]} of the detected apps on those devices."""
    apps = client.get_all("deviceManagement/detectedApps")
    if not apps or not device_ids:
        return {}
    items = [{"id": str(i), "method": "GET", "url": "/deviceManagement/detectedApps/%s/managedDevices?$select=id"
              % app["id"]} for i, app in enumerate(apps)]
    answers = client.batch(items)
    out = {}
    for item in items:
        status, body = answers[item["id"]]
        if status >= 300:
            raise client.batch_error(item["id"], "GET", item["url"], status, body)
        app = apps[int(item["id"])]
        page = body or {}
        devices = [d["id"] for d in page.get("value") or []]
        while page.get("@odata.nextLink"):
            page = client.get(page["@odata.nextLink"])
            devices.extend(d["id"] for d in page.get("value") or [])
        for device_id in devices:
            if device_id in device_ids:
                out.setdefault(device_id, []).append({"name": app.get("displayName"), "version": app.get("version"),
                                                      "publisher": app.get("publisher")})
    return out


def read_apple_push(client):
    """{present, apple_id, expires} of deviceManagement/applePushNotificationCertificate (404: none yet)."""
    try:
        cert = client.get("deviceManagement/applePushNotificationCertificate")
    except GraphError as err:
        if err.status != 404:
            raise
        return {"present": False, "apple_id": None, "expires": None}
    return {"present": bool(cert.get("certificate") or cert.get("expirationDateTime")),
            "apple_id": cert.get("appleIdentifier"), "expires": cert.get("expirationDateTime")}


def read_android_binding(client):
    """{bound, status, owner, organization, last_app_sync} of the Managed Google Play binding (Graph beta)."""
    found = client.get(ANDROID_BINDING, params={"$select": ANDROID_SELECT}, version=clouds.BETA_VERSION)
    return {"bound": found.get("bindStatus") in ANDROID_BOUND, "status": found.get("bindStatus"),
            "owner": found.get("ownerUserPrincipalName"), "organization": found.get("ownerOrganizationName"),
            "last_app_sync": found.get("lastAppSyncStatus")}


def read_windows_enrollment(client, auth):
    """{read, enabled, scope, reason}: the MDM user scope of Windows automatic enrollment (Graph beta, delegated)."""
    if auth != "device_code":
        return {"read": False, "enabled": False, "scope": None, "reason": NOT_READABLE_WITH_APP}
    policies = client.get_all(MDM_POLICIES, version=clouds.BETA_VERSION)
    intune = next((p for p in policies if p.get("id") == INTUNE_MDM_APP), None)
    if intune is None:
        return {"read": True, "enabled": False, "scope": None,
                "reason": "Microsoft Intune is not among the tenant's MDM applications (Mobility (MDM and WIP))"}
    return {"read": True, "enabled": intune.get("appliesTo") in MDM_SCOPES_DONE, "scope": intune.get("appliesTo"),
            "reason": None}


def facts_of(entry):
    """The onboarding report's environment facts (ems_facts) for one found test device."""
    out = {}
    for device in entry["devices"]:
        label = "Intune test device %s (%s, %s)" % (device["deviceName"], entry["platform"], entry["user"])
        out[label] = "%s %s, serial %s, %s %s, %s, storage %s (%s free), memory %s, encrypted %s, last sync %s" % (
            device.get("manufacturer"), device.get("model"), device.get("serialNumber"), device.get("operatingSystem"),
            device.get("osVersion"), device.get("complianceState"), gigabytes(device.get("totalStorageSpaceInBytes")),
            gigabytes(device.get("freeStorageSpaceInBytes")), gigabytes(device.get("physicalMemoryInBytes")),
            device.get("isEncrypted"), device.get("lastSyncDateTime"))
        out[label + " apps"] = ", ".join("%s %s" % (a["name"], a["version"] or "") for a in device.get("apps") or []) \
            or "none detected yet"
    return out


def run_intune_devices_info(params, check_mode=False, notify=None):
    """Entry point: {test_devices: [...], all_found, missing, ems_facts}. Read-only, same in check mode."""
    del check_mode
    try:
        check(params.get("test_devices") or [])
        client = gc.GraphClient(params, notify=notify)
        managed = client.get_all("deviceManagement/managedDevices", params={"$select": DEVICE_SELECT})
        entries = []
        for wanted in params.get("test_devices") or []:
            systems = OPERATING_SYSTEMS[wanted["platform"]]
            found = [hardware(d) for d in managed if d.get("operatingSystem") in systems
                     and (d.get("userPrincipalName") or "").casefold() == wanted["user"].casefold()]
            entries.append({"platform": wanted["platform"], "user": wanted["user"], "found": bool(found),
                            "devices": found, "ids": [d["id"] for d in managed if d.get("operatingSystem") in systems
                                                      and (d.get("userPrincipalName") or "").casefold()
                                                      == wanted["user"].casefold()]})
        if params.get("inventory", True):
            ids = {i for e in entries for i in e["ids"]}
            apps = read_apps(client, ids) if ids else {}
            for entry in entries:
                for device, device_id in zip(entry["devices"], entry["ids"]):
                    device["apps"] = apps.get(device_id, [])
        apple = read_apple_push(client) if params.get("apple_push_certificate") else None
        android = read_android_binding(client) if params.get("android_enterprise") else None
        windows = read_windows_enrollment(client, params.get("auth")) if params.get("windows_enrollment") else None
    except GraphError as err:
        return {"changed": False, "failed": True, "msg": str(err)}
    facts = {}
    for entry in entries:
        entry.pop("ids")
        facts.update(facts_of(entry))
    missing = ["%s (%s)" % (e["user"], e["platform"]) for e in entries if not e["found"]]
    result = {"changed": False, "test_devices": entries, "all_found": not missing, "missing": missing,
              "ems_facts": facts, "graph_requests": client.requests}
    if apple is not None:
        result["apple_push_certificate"] = apple
        facts["Apple MDM push certificate"] = ("Apple ID %s, expires %s" % (apple["apple_id"], apple["expires"])
                                               if apple["present"] else "not uploaded")
    if android is not None:
        result["android_enterprise"] = android
        facts["Android Enterprise binding (Graph beta)"] = ("%s by %s (%s)" % (
            android["status"], android["owner"], android["organization"]) if android["bound"] else android["status"])
    if windows is not None:
        result["windows_enrollment"] = windows
        facts["Windows automatic enrollment, MDM user scope (Graph beta)"] = (
            windows["scope"] if windows["read"] and windows["scope"] else windows["reason"])
    result["graph_beta_calls"] = list(client.beta_calls)
    if client.beta_calls:
        result["warnings"] = [BETA_WARNING % ", ".join(sorted(set(client.beta_calls)))]
    return result
