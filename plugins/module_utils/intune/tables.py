# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one table of platforms, policy types and role templates the Intune data refers to.

Sources (../shared/TENANT.md section 5): the @odata.type names are the types derived from
deviceCompliancePolicy and targetedManagedAppProtection in Microsoft Graph v1.0 (msgraph-metadata
schemas/v1.0-Prod.csdl, commit f54f11b; a unit test checks this table against the pinned slice);
deviceOSType values of dynamic device groups: entra-docs docs/identity/users/groups-dynamic-membership.md,
"Rules for devices" (stored at commit 05db475: deviceOSType is "any string value"; its examples are
"iPad", "iOS", "AndroidEnterprise", "AndroidForWork", "Windows"). "iPhone" is not in that example but is
what iPhones report in the rules of most published baselines, so the iOS rule names all three. "MacMDM"
for macOS is STILL UNCONFIRMED: no Microsoft page found names a macOS value (checked 2026-12-06: the
page above, Learn search, the Graph docs index); only community baselines use it (docs/intune.md
section 6) - check it on the first real tenant with a Mac (Entra device's operatingSystem). Role
template ids: entra-docs identity/role-based-access-control/permissions-reference.md.
"""

from __future__ import annotations

#: platform -> compliance @odata.type (v1.0), deviceOSType values of its dynamic device group,
#: app protection collection (MAM; iOS and Android only) and the app id key of managedMobileApp.
PLATFORMS = {
    "windows": {"compliance": "windows10CompliancePolicy", "device_os_types": ["Windows"]},
    "ios": {"compliance": "iosCompliancePolicy", "device_os_types": ["iPhone", "iPad", "iOS"],
            "mam": "iosManagedAppProtections", "app_identifier": ("iosMobileAppIdentifier", "bundleId")},
    "android": {"compliance": "androidCompliancePolicy", "device_os_types": ["Android"],
                "mam": "androidManagedAppProtections", "app_identifier": ("androidMobileAppIdentifier", "packageId")},
    "android_work_profile": {"compliance": "androidWorkProfileCompliancePolicy",
                             "device_os_types": ["AndroidForWork"]},
    "macos": {"compliance": "macOSCompliancePolicy", "device_os_types": ["MacMDM"]},
}

#: Every compliance policy type Graph v1.0 knows (derived from deviceCompliancePolicy in the CSDL).
COMPLIANCE_TYPES = frozenset([
    "androidCompliancePolicy", "androidWorkProfileCompliancePolicy", "iosCompliancePolicy", "macOSCompliancePolicy",
    "windows10CompliancePolicy", "windows10MobileCompliancePolicy", "windows81CompliancePolicy",
    "windowsPhone81CompliancePolicy",
])

#: App protection types Graph v1.0 knows (derived from targetedManagedAppProtection), by platform.
APP_PROTECTION_TYPES = {"ios": "iosManagedAppProtection", "android": "androidManagedAppProtection"}

#: Built-in directory role name -> role template id (permissions-reference.md).
ROLE_TEMPLATES = {
    "Intune Administrator": "3a2c62db-5318-420d-8d74-23affee5d9d5",
    "Cloud Device Administrator": "7698a772-787b-4ac8-901f-60d6b08affd2",
    "Conditional Access Administrator": "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9",
    "Hybrid Identity Administrator": "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2",
    "Domain Name Administrator": "8329153b-31d0-4727-b945-745eb3bc5f31",
    "License Administrator": "4d6ac14f-3453-41d0-bef9-a3e0c569773a",
}

#: Enrollment restrictions (Graph v1.0 deviceEnrollmentConfiguration types; a unit test checks them against
#: the pinned slice): the data's type -> @odata.type, and platform -> the restriction property of
#: deviceEnrollmentPlatformRestrictionsConfiguration (each a deviceEnrollmentPlatformRestriction).
ENROLLMENT_TYPES = {"platforms": "deviceEnrollmentPlatformRestrictionsConfiguration",
                    "limit": "deviceEnrollmentLimitConfiguration"}
ENROLLMENT_PLATFORMS = {"android": "androidRestriction", "ios": "iosRestriction", "macos": "macOSRestriction",
                        "windows": "windowsRestriction", "windows_mobile": "windowsMobileRestriction"}
#: The properties of deviceEnrollmentPlatformRestriction; the two booleans are Nullable="false" (sent on create).
RESTRICTION_FIELDS = ("platformBlocked", "personalDeviceEnrollmentBlocked", "osMinimumVersion", "osMaximumVersion")
RESTRICTION_DEFAULTS = {"platformBlocked": False, "personalDeviceEnrollmentBlocked": False}
#: Device limit per user: 1 to 15. Graph's limit is a plain Int32; 15 is the admin center's maximum (memdocs
#: intune/enrollment/enrollment-restrictions-set.md, not re-read on 2026-12-06: only a secondary note found then
#: says "You can allow a user to enroll up to 15 devices") - docs/intune.md section 6.
DEVICE_LIMIT_RANGE = (1, 15)

#: Email (Exchange ActiveSync) profiles: Graph BETA only (not in the v1.0 CSDL of msgraph-metadata f54f11b; in its
#: beta type mappings). platform -> the deviceConfiguration type (a unit test checks them against beta-slice.json).
EMAIL_PROFILE_TYPES = {"ios": "iosEasEmailProfileConfiguration",
                       "android_work_profile": "androidWorkProfileGmailEasConfiguration"}

#: The scheduled action every compliance policy is created with (Graph: "one and only one block
#: scheduled action"; graph-docs-contrib issues #7391, #5561; Microsoft365DSC creates the same).
BLOCK_RULE_NAME = "PasswordRequired"

#: CA policy states: report-only unless the data switches enforcement on explicitly.
CA_REPORT_ONLY = "enabledForReportingButNotEnforced"
CA_ENFORCED = "enabled"


def device_rule(platform):
    """The membershipRule of a platform's dynamic device group."""
    types = PLATFORMS[platform]["device_os_types"]
    return " -or ".join('(device.deviceOSType -eq "%s")' % t for t in types)
