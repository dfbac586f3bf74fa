# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Expected Graph and sign-in faults as one line each, with the remedy; secrets redacted.

AADSTS codes: entra-docs identity-platform/reference-error-codes.md. Least-privileged permissions per
operation: ../shared/TENANT.md section 1 (Learn graph api/* pages), repeated in docs/tenant.md.
"""

from __future__ import annotations

import re

CONSENT_URL = "Entra admin center > App registrations > <app> > API permissions > Grant admin consent"

#: Operation (the first segments of a path) -> least-privileged application permission.
PERMISSIONS = {
    "organization": "Organization.Read.All",
    "subscribedSkus": "Organization.Read.All",
    "domains": "Directory.Read.All (Domain.Read.All is listed on newer pages)",
    "domains/federationConfiguration": "Domain-InternalFederation.ReadWrite.All",
    "directory/onPremisesSynchronization": "OnPremDirectorySynchronization.Read.All (delegated, signed in as "
                                           "a Global Administrator; no application permission exists)",
}

# --- Intune desired state (issue 16): TENANT.md section 1 and the Graph api pages of each call ----------
PERMISSIONS.update({
    "groups": "Group.ReadWrite.All",
    # still UNCONFIRMED (checked 2026-12-06, docs/intune.md section 6): the v1.0 page's permission table is an
    # include no stored copy holds; the page names only the delegated roles
    "groups/assignLicense": "LicenseAssignment.ReadWrite.All (UNCONFIRMED; the Graph page lists delegated roles)",
    "users": "User.Read.All",
    "deviceManagement": "DeviceManagementConfiguration.ReadWrite.All",
    "deviceManagement/managedDevices": "DeviceManagementManagedDevices.Read.All",
    "deviceManagement/detectedApps": "DeviceManagementManagedDevices.Read.All",
    "deviceAppManagement": "DeviceManagementApps.ReadWrite.All",
    "identity": "Policy.ReadWrite.ConditionalAccess",
    "roleManagement": "RoleManagement.ReadWrite.Directory",
    "organization/setMobileDeviceManagementAuthority": "DeviceManagementServiceConfig.ReadWrite.All",
    # enrollment restrictions (G intune-onboarding-deviceenrollmentlimitconfiguration-update: application
    # DeviceManagementServiceConfig.ReadWrite.All, DeviceManagementConfiguration.ReadWrite.All)
    "deviceManagement/deviceEnrollmentConfigurations": "DeviceManagementServiceConfig.ReadWrite.All",
    # Graph beta (G beta mobiledevicemanagementpolicies-list: delegated Policy.Read.All, application not supported)
    "policies/mobileDeviceManagementPolicies": "Policy.Read.All (delegated only: an administrator signs in with "
                                               "auth device_code; Graph has no application permission for it)",
})
# --- end of issue 16's block -------------------------------------------------------------------------

#: AADSTS code -> (kind, what it means, remedy). {tenant}, {client_id}, {cloud} are filled in.
AADSTS = {
    65001: ("consent", "the application {client_id} has no admin consent in tenant {tenant}",
            "grant admin consent for its API permissions (" + CONSENT_URL + "), then run again."),
    90002: ("tenant", "tenant {tenant} was not found in the {cloud} cloud",
            "check tenant_id (the Directory (tenant) ID or a verified domain of the tenant) and cloud."),
    700016: ("client", "application {client_id} was not found in tenant {tenant}",
             "check client_id (the Application (client) ID of the app registration) and tenant_id."),
    700027: ("certificate", "the tenant does not accept the client certificate (its assertion failed "
                            "signature validation)",
             "upload the certificate's public part to the app registration (Certificates & secrets) and "
             "check certificate_thumbprint."),
    700024: ("clock", "the sign-in service says the client assertion is not within its valid time range "
                      "(the controller's clock is off)",
             "synchronise the controller's clock (NTP: timedatectl set-ntp true) and run again."),
    500011: ("cloud", "Microsoft Graph is not known in tenant {tenant}'s cloud",
             "check cloud (global, usgov, china): the tenant may live in another national cloud."),
    7000112: ("client", "application {client_id} is disabled in tenant {tenant}",
              "enable the enterprise application (Properties > Enabled for users to sign in)."),
    53003: ("conditional_access", "Conditional Access blocked the sign-in",
            "exclude the automation's app or account from the blocking policy, or run from an allowed location."),
    70019: ("device_code", "the device code expired before the sign-in was completed",
            "run again and complete the sign-in within the time shown."),
    70020: ("device_code", "the device code expired before the sign-in was completed",
            "run again and complete the sign-in within the time shown."),
}

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)(bearer\s+)\S+")
_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S)
_FORM = re.compile(r"(?i)\b(client_assertion|client_secret|access_token|refresh_token|id_token|password|"
                   r"device_code|code)=[^&\s]+")
_JSON = re.compile(r'(?i)"(access_token|refresh_token|id_token|client_secret|client_assertion|device_code)"'
                   r'\s*:\s*"[^"]*"')


def redact(text):
    """Text with tokens, assertions, secrets and private keys replaced (for any message or log)."""
    text = "" if text is None else str(text)
    text = _PEM.sub("<private key redacted>", text)
    text = _JWT.sub("<token redacted>", text)
    text = _BEARER.sub(r"\1<redacted>", text)
    text = _FORM.sub(lambda m: "%s=<redacted>" % m.group(1), text)
    text = _JSON.sub(lambda m: '"%s": "<redacted>"' % m.group(1), text)
    return " ".join(text.split())


class GraphError(Exception):
    """An expected fault: one line (what, then 'Remedy: ...'); kind names the class of fault."""

    def __init__(self, message, remedy=None, kind="graph", status=None, code=None):
        super().__init__(message)
        self.message = redact(message)
        self.remedy = redact(remedy) if remedy else None
        self.kind = kind
        self.status = status
        self.code = code

    def __str__(self):
        if self.remedy:
            return "%s Remedy: %s" % (self.message.rstrip(". ") + ".", self.remedy)
        return self.message


def aadsts_codes(result):
    """The AADSTS codes of an MSAL error result ({'error_codes': [...]} or 'AADSTSnnn' in the text)."""
    codes = [int(c) for c in (result.get("error_codes") or []) if str(c).isdigit()]
    codes += [int(c) for c in re.findall(r"AADSTS(\d+)", str(result.get("error_description") or ""))]
    return list(dict.fromkeys(codes))


def sign_in_error(result, tenant, client_id, cloud):
    """GraphError for an MSAL error result (token endpoint answer)."""
    for code in aadsts_codes(result):
        if code in AADSTS:
            kind, what, remedy = AADSTS[code]
            values = {"tenant": tenant, "client_id": client_id, "cloud": cloud}
            return GraphError("Sign-in to tenant %s failed (AADSTS%d): %s." % (tenant, code, what.format(**values)),
                              remedy.format(**values), kind=kind, code=code)
    error = result.get("error") or "unknown_error"
    description = str(result.get("error_description") or "").split("\n", maxsplit=1)[0][:300]
    return GraphError("Sign-in to tenant %s failed: %s: %s" % (tenant, error, description),
                      "check tenant_id, client_id, the certificate and the app registration's permissions.",
                      kind="sign_in")


def permission_for(path):
    """The permission of PERMISSIONS that a Graph path needs ('/domains/x/federationConfiguration')."""
    parts = [p for p in path.split("?")[0].strip("/").split("/") if p]
    if parts and parts[0] in ("v1.0", "beta"):
        parts = parts[1:]
    if not parts:
        return None
    if parts[0] == "domains" and "federationConfiguration" in parts:
        return PERMISSIONS["domains/federationConfiguration"]
    if parts[0] == "directory" and len(parts) > 1:
        return PERMISSIONS.get("directory/" + parts[1])
    for key in ("%s/%s" % (parts[0], parts[-1]), "%s/%s" % (parts[0], parts[1] if len(parts) > 1 else "")):
        if key in PERMISSIONS:  # issue 16: an action or a sub-collection with its own permission
            return PERMISSIONS[key]
    return PERMISSIONS.get(parts[0])
