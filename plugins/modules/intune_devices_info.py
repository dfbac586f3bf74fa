#!/usr/bin/python
# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: intune_devices_info
short_description: The pilot's test devices as Intune sees them, with hardware and detected software
version_added: 0.2.0
description:
  - Reads C(deviceManagement/managedDevices) through Microsoft Graph v1.0 and finds, for each test device
    listed (platform and the user who enrolls it), the managed devices of that platform enrolled by that user.
  - With O(inventory), adds each found device's detected software. Graph v1.0 has no per-device list (beta
    only), so the module reads C(deviceManagement/detectedApps) and each app's C(managedDevices) through
    C($batch), 20 per request.
  - Returns C(ems_facts) (one entry per device and one for its apps), which the onboarding report shows
    under the host's environment facts, and C(all_found) for the role's attended step
    C(intune.test_devices) (pending until every listed device is seen).
  - Read-only; check mode gives the same result. At most two test devices per platform.
author:
  - ems.enable contributors (@ems-enable)
extends_documentation_fragment:
  - ems.enable.graph
options:
  test_devices:
    description: The test devices, at most two per platform.
    type: list
    elements: dict
    default: []
    suboptions:
      platform:
        description: The device's platform.
        type: str
        required: true
        choices: [android, ios, macos, windows]
      user:
        description: UPN of the user who enrolls the device.
        type: str
        required: true
  inventory:
    description: Read the detected software of the found devices.
    type: bool
    default: true
  apple_push_certificate:
    description:
      - Also read the Apple MDM push certificate (C(deviceManagement/applePushNotificationCertificate)) for the
        attended step C(intune.apple_push_certificate).
    type: bool
    default: false
  android_enterprise:
    description:
      - Also read the Android Enterprise (Managed Google Play) binding for the attended step
        C(intune.android_enterprise) - through Microsoft Graph B(beta)
        (C(deviceManagement/androidManagedStoreAccountEnterpriseSettings)), which Microsoft does not support
        for production use; the result's C(graph_beta_calls) and a warning list every beta call.
    type: bool
    default: false
  windows_enrollment:
    description:
      - Also read the MDM user scope of Windows automatic enrollment (the Microsoft Intune entry of Graph
        B(beta) C(policies/mobileDeviceManagementPolicies)) for the attended step
        C(intune.windows_automatic_enrollment). Graph serves it to a signed-in administrator only (no application
        permission exists), so it is read with O(auth=device_code) and reported as not readable otherwise.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Read-only; check mode gives the same result.
requirements:
  - msal >= 1.29 (on the controller)
seealso:
  - module: ems.enable.intune_objects
"""

EXAMPLES = r"""
- name: Are the test devices enrolled?
  ems.enable.intune_devices_info:
    tenant_id: 8d3c1f6e-2b4a-4c5d-9e8f-0a1b2c3d4e5f
    client_id: 3f2a9c1e-7b6d-4e5f-8a9b-0c1d2e3f4a5b
    certificate_path: /etc/ems/graph-app.pfx
    test_devices:
      - {platform: ios, user: pilot1@contoso.com}
  register: ems_intune_devices
"""

RETURN = r"""
test_devices:
  description:
    - Per listed device C(platform), C(user), C(found) and C(devices) (deviceName, operatingSystem, osVersion,
      manufacturer, model, serialNumber, complianceState, lastSyncDateTime, isEncrypted, storage and memory in
      bytes, C(apps) with name, version and publisher).
  returned: success
  type: list
  elements: dict
all_found:
  description: Every listed test device was found.
  returned: success
  type: bool
missing:
  description: The listed test devices not found, as C(user (platform)).
  returned: success
  type: list
  elements: str
ems_facts:
  description: The found devices' hardware and software for the onboarding report (label -> text).
  returned: success
  type: dict
apple_push_certificate:
  description: With O(apple_push_certificate) - C(present), C(apple_id), C(expires).
  returned: when asked
  type: dict
  sample: {present: true, apple_id: mdm@contoso.com, expires: "2027-12-01T00:00:00Z"}
android_enterprise:
  description: With O(android_enterprise) - C(bound) (bindStatus bound or boundAndValidated), C(status), C(owner),
    C(organization), C(last_app_sync). Read through Graph beta.
  returned: when asked
  type: dict
  sample: {bound: true, status: boundAndValidated, owner: admin@contoso.com, organization: Contoso,
           last_app_sync: success}
windows_enrollment:
  description:
    - With O(windows_enrollment) - C(read) (false without a signed-in administrator), C(enabled) (MDM user scope
      V(all) or V(selected)), C(scope), C(reason) when not read. Read through Graph beta.
  returned: when asked
  type: dict
  sample: {read: true, enabled: true, scope: selected, reason: null}
graph_beta_calls:
  description: Every call this run made to Microsoft Graph beta (C(METHOD /beta/path)); empty when none.
  returned: success
  type: list
  elements: str
graph_requests:
  description: Number of HTTP requests sent to Graph (sign-in not counted).
  returned: success
  type: int
"""

try:
    from ansible_collections.ems.enable.plugins.module_utils.intune import devices, objects
except ImportError:  # pragma: no cover
    devices = objects = None


def main():
    objects.module_main(devices.INTUNE_DEVICES_SPEC, devices.INTUNE_DEVICES_KWARGS, devices.run_intune_devices_info)


if __name__ == "__main__":
    main()
