# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ems.enable.domain_federation: a domain's internalDomainFederation (Entra side of AD FS federation).

Graph calls (../shared/TENANT.md section 3; G = Learn graph api-reference/v1.0):
- GET /domains/{id}                                  (G domain-get) - verified, initial, authenticationType
- GET /domains/{id}/federationConfiguration          (G domain-list-federationconfiguration)
- POST /domains/{id}/federationConfiguration         (G domain-post-federationconfiguration) - federates it
- PATCH /domains/{id}/federationConfiguration/{fid}  (G internaldomainfederation-update) - only the changed
  properties the module owns (the options given)
- rollback (state=managed): GET /organization (onPremisesSyncEnabled), GET /directory/onPremisesSynchronization
  (features.passwordSyncEnabled, delegated only), then PATCH /domains/{id} {"authenticationType": "Managed"}
  (E connect/migrate-from-federation-to-cloud-authentication.md: convert only once password hash sync is ready).
Permission: Domain-InternalFederation.ReadWrite.All (errors.PERMISSIONS).

Every option is checked before any request (one line naming the option). Certificates are compared
and shown by SHA-1 thumbprint, subject and expiry, never as base64 in the diff.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
import xml.etree.ElementTree as ET  # nosec - the farm's own metadata, parsed without DTDs or entities

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit  # type: ignore

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover
    HAS_CRYPTOGRAPHY = False

from ansible_collections.ems.enable.plugins.module_utils.graph import client as gc, credentials
from ansible_collections.ems.enable.plugins.module_utils.graph.errors import GraphError, PERMISSIONS

#: option -> Graph property of internalDomainFederation (CSDL: internalDomainFederation, samlOrWsFedProvider).
PROPERTIES = {
    "display_name": "displayName",
    "issuer_uri": "issuerUri",
    "passive_sign_in_uri": "passiveSignInUri",
    "active_sign_in_uri": "activeSignInUri",
    "metadata_exchange_uri": "metadataExchangeUri",
    "sign_out_uri": "signOutUri",
    "signing_certificate": "signingCertificate",
    "next_signing_certificate": "nextSigningCertificate",
    "preferred_authentication_protocol": "preferredAuthenticationProtocol",
    "federated_idp_mfa_behavior": "federatedIdpMfaBehavior",
    "prompt_login_behavior": "promptLoginBehavior",
}
CERTIFICATES = ("signingCertificate", "nextSigningCertificate")
#: URIs the sign-in service calls or sends users to: https only. issuerUri is an identifier (AD FS uses http://).
HTTPS_OPTIONS = ("passive_sign_in_uri", "active_sign_in_uri", "metadata_exchange_uri", "sign_out_uri")
#: Enum members of the CSDL (tests/graph/v1.0-slice.json: authenticationProtocol, federatedIdpMfaBehavior,
#: promptLoginBehavior); unknownFutureValue is left out on purpose.
PROTOCOLS = ["wsFed", "saml"]
MFA_BEHAVIORS = ["acceptIfMfaDoneByFederatedIdp", "enforceMfaByFederatedIdp", "rejectMfaByFederatedIdp"]
PROMPT_BEHAVIORS = ["translateToFreshPasswordAuthentication", "nativeSupport", "disabled"]
CONFIRM_STEP_ID = "tenant.first_federation"
ROLLBACK_STEP_ID = "tenant.federation_rollback"
MIGRATE_DOC = ("https://learn.microsoft.com/entra/identity/hybrid/connect/"
               "migrate-from-federation-to-cloud-authentication")

DOMAIN_FEDERATION_SPEC = dict(
    gc.GRAPH_ARGUMENT_SPEC,
    domain=dict(type="str", required=True),
    state=dict(type="str", default="federated", choices=["federated", "managed"]),
    confirm_first_federation=dict(type="bool", default=False),
    confirm_rollback=dict(type="bool", default=False),
    display_name=dict(type="str"),
    issuer_uri=dict(type="str"),
    passive_sign_in_uri=dict(type="str"),
    active_sign_in_uri=dict(type="str"),
    metadata_exchange_uri=dict(type="str"),
    sign_out_uri=dict(type="str"),
    signing_certificate=dict(type="str"),
    next_signing_certificate=dict(type="str"),
    preferred_authentication_protocol=dict(type="str", default="wsFed", choices=PROTOCOLS),
    federated_idp_mfa_behavior=dict(type="str", choices=MFA_BEHAVIORS),
    prompt_login_behavior=dict(type="str", choices=PROMPT_BEHAVIORS),
    federation_metadata=dict(type="str"),
)
DOMAIN_FEDERATION_KWARGS = dict(
    required_if=[["auth", "certificate", ["certificate_path"]]],
)

_PEM = re.compile(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)


def input_error(option, message, remedy):
    return credentials.input_error(option, message, remedy)


def check_uri(option, value, https=True):
    if https:
        return credentials.check_https_url(option, value, "https://fs.contoso.com/adfs/ls/ (from the farm's "
                                           "federation metadata)")
    value = (value or "").strip()
    parts = urlsplit(value)
    if not https and (parts.scheme not in ("http", "https", "urn") or (parts.scheme != "urn" and not parts.hostname)):
        raise input_error(option, "%r is not an absolute URI" % value,
                          "give the AD FS identifier, e.g. http://fs.contoso.com/adfs/services/trust "
                          "(Get-AdfsProperties Identifier).")
    if any(ch.isspace() for ch in value):
        raise input_error(option, "%r holds a space" % value, "give one URI.")
    return value


def load_certificate(option, value, now=None):
    """A token-signing certificate given as base64 DER (what Graph stores) or PEM; returns (base64, summary)."""
    text = (value or "").strip()
    match = _PEM.search(text)
    body = "".join((match.group(1) if match else text).split())
    try:
        der = base64.b64decode(body, validate=True)
        cert = x509.load_der_x509_certificate(der)
    except (binascii.Error, ValueError, TypeError):
        raise input_error(option, "not an X.509 certificate (base64 DER or PEM)",
                          "give the AD FS token-signing certificate's public part: "
                          "[Convert]::ToBase64String((Get-AdfsCertificate -CertificateType Token-Signing)"
                          ".Certificate.RawData), or the X509Certificate of the federation metadata.") from None
    now = now or datetime.datetime.now(datetime.timezone.utc)
    not_after = credentials._utc(cert, "not_valid_after")  # pylint: disable=protected-access
    if option == "signing_certificate" and not_after < now:
        raise input_error(option, "the certificate (%s) expired on %s" % (cert.subject.rfc4514_string(),
                                                                          not_after.date().isoformat()),
                          "renew the AD FS token-signing certificate (or take the current one from the "
                          "farm's metadata) before federating: sign-ins would fail.")
    return base64.b64encode(der).decode(), summary(cert)


def summary(cert):
    return "sha1:%s (%s, valid until %s)" % (cert.fingerprint(hashes.SHA1()).hex().upper(),  # nosec - thumbprint
                                             cert.subject.rfc4514_string(),
                                             credentials._utc(cert, "not_valid_after").date().isoformat())  # pylint: disable=protected-access


def shown(name, value):
    """A property as the diff and the result show it (certificates by thumbprint)."""
    if name in CERTIFICATES and value:
        try:
            return summary(x509.load_der_x509_certificate(base64.b64decode(value)))
        except (binascii.Error, ValueError, TypeError):
            return "<not a certificate>"
    return value


#: WS-Federation metadata (OASIS WS-Federation 1.2 section 3.1) and SAML 2.0 metadata namespaces, as AD FS
#: publishes them at /FederationMetadata/2007-06/FederationMetadata.xml (../shared/DOMAIN.md, TENANT.md section 3).
MD_NS = {"md": "urn:oasis:names:tc:SAML:2.0:metadata", "fed": "http://docs.oasis-open.org/wsfed/federation/200706",
         "ds": "http://www.w3.org/2000/09/xmldsig#", "wsa": "http://www.w3.org/2005/08/addressing",
         "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
ADFS_ACTIVE_PATH = "/adfs/services/trust/2005/usernamemixed"  # TENANT.md section 3 (domain-post-federationconfiguration)
ADFS_MEX_PATH = "/adfs/services/trust/mex"


def parse_metadata(text):
    """The farm's values from its federation metadata document: issuer (entityID), the passive endpoint, the
    derived active and MEX endpoints, and the distinct token-signing certificates (base64 DER, oldest first)."""
    if "<!DOCTYPE" in (text or "") or "<!ENTITY" in (text or ""):
        raise input_error("federation_metadata", "holds a DTD or entity declaration", "give the farm's metadata as served.")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as err:
        raise input_error("federation_metadata", "not XML (%s)" % err,
                          "give the content of https://<fs>/FederationMetadata/2007-06/FederationMetadata.xml.") from None
    if root.tag != "{%s}EntityDescriptor" % MD_NS["md"] or not root.get("entityID"):
        raise input_error("federation_metadata", "not a SAML/WS-Federation EntityDescriptor with an entityID",
                          "give the farm's FederationMetadata.xml.")
    passive = None
    for node in root.iter("{%s}PassiveRequestorEndpoint" % MD_NS["fed"]):
        address = node.find(".//wsa:Address", MD_NS)
        if address is not None and (address.text or "").strip():
            passive = address.text.strip()
            break
    certs = []
    for key in root.iter("{%s}KeyDescriptor" % MD_NS["md"]):
        if key.get("use") not in (None, "signing"):
            continue
        for node in key.iter("{%s}X509Certificate" % MD_NS["ds"]):
            value = "".join((node.text or "").split())
            if value and value not in certs:
                certs.append(value)
    values = {"issuerUri": root.get("entityID"), "passiveSignInUri": passive, "signOutUri": passive}
    if passive:
        host = urlsplit(passive).netloc
        values["activeSignInUri"] = "https://%s%s" % (host, ADFS_ACTIVE_PATH)
        values["metadataExchangeUri"] = "https://%s%s" % (host, ADFS_MEX_PATH)
    dated = []
    for value in certs:
        try:
            cert = x509.load_der_x509_certificate(base64.b64decode(value))
        except (binascii.Error, ValueError):
            raise input_error("federation_metadata", "holds a signing certificate that is not X.509",
                              "give the farm's metadata as served.") from None
        dated.append((credentials._utc(cert, "not_valid_before"), value))  # pylint: disable=protected-access
    dated.sort()
    now = datetime.datetime.now(datetime.timezone.utc)
    current = [v for start, v in dated if start <= now] or [v for _start, v in dated]
    if current:  # the oldest certificate already in force signs; a newer one is the next (rollover)
        values["signingCertificate"] = current[0]
        rest = [v for _start, v in dated if v != current[0]]
        if rest:
            values["nextSigningCertificate"] = rest[-1]
    return {k: v for k, v in values.items() if v}


def validate(params):
    """Everything the module owns, checked before any request: (domain, desired properties)."""
    domain = credentials.check_domain_name("domain", params.get("domain"))
    if domain.endswith(".onmicrosoft.com") or domain.endswith(".onmicrosoft.us") \
            or domain.endswith(".partner.onmschina.cn"):
        raise input_error("domain", "%s is the tenant's initial (Microsoft) domain, which cannot be federated"
                          % domain, "give the custom domain users sign in with (their UPN suffix).")
    desired = {}
    if params.get("state", "federated") == "managed":
        return domain, desired
    if not HAS_CRYPTOGRAPHY:  # pragma: no cover
        raise GraphError("The Python library cryptography is not installed on the controller.",
                         "pip install cryptography (requirements.txt).", kind="requirements")
    from_metadata = parse_metadata(params["federation_metadata"]) if params.get("federation_metadata") else {}
    for option, prop in PROPERTIES.items():
        value = params.get(option)
        if value == "":
            raise input_error(option, "is empty", "give a value, or leave the option out to use federation_metadata's "
                                                  "(or none).")
        if value is None and prop in from_metadata:
            value = from_metadata[prop]
        if value is None or value == "":
            continue
        if option in HTTPS_OPTIONS:
            value = check_uri(option, value)
        elif option == "issuer_uri":
            value = check_uri(option, value, https=False)
        elif prop in CERTIFICATES:
            value = load_certificate(option, value)[0]
        elif option == "display_name":
            value = value.strip()
        desired[prop] = value
    for option in ("issuer_uri", "passive_sign_in_uri", "metadata_exchange_uri", "signing_certificate"):
        if PROPERTIES[option] not in desired:
            raise input_error(option, "needed with state=federated (not given, not in federation_metadata)",
                              "give it, or federation_metadata (the farm's "
                              "/FederationMetadata/2007-06/FederationMetadata.xml).")
    return domain, desired


def first_federation_step(domain, desired):
    """The attended-step record shown when the first federation is not confirmed."""
    return {
        "id": CONFIRM_STEP_ID, "title": "Confirm the first federation of %s" % domain,
        "component": "tenant", "host": "controller", "status": "pending",
        "instructions": [
            "Federating %s changes how every user with that UPN suffix signs in: Entra ID sends them to "
            "AD FS (%s) instead of checking the password itself." % (domain, desired.get("passiveSignInUri")),
            "Check first: the relying party trust 'Microsoft Office 365 Identity Platform' exists on the "
            "farm (adfs role, entry point federation), the farm and the proxies answer from the internet, "
            "and a pilot user can sign in at the IdP-initiated page.",
            "Plan the change window: sessions and cached tokens keep working; new sign-ins go to AD FS.",
            "Then run again with confirm_first_federation: true (ems_federation_confirm: true in the "
            "playbook). Rollback: state: managed (once password hash sync is ready).",
        ],
        "values": {"Domain": domain, "Issuer": desired.get("issuerUri"),
                   "Sign-in": desired.get("passiveSignInUri")},
        "detection": "confirm_first_federation is true",
        "doc_url": "https://learn.microsoft.com/graph/api/domain-post-federationconfiguration",
    }


def rollback_step(domain, reason):
    """The attended-step record shown (and reported as pending) while the rollback is not confirmed."""
    return {
        "id": ROLLBACK_STEP_ID, "title": "Confirm the rollback of %s to Managed (cloud authentication)" % domain,
        "component": "tenant", "host": "controller", "status": "pending",
        "instructions": [
            "Converting %s to Managed changes how every user with that UPN suffix signs in: Entra ID checks the "
            "password itself (password hash sync) instead of sending them to AD FS." % domain,
            "Checked already: %s." % reason,
            "Check first: the pilot users' password hashes are synchronized (Entra Connect > Troubleshoot > "
            "password hash synchronization), and no application depends on AD FS claims for this domain.",
            "Plan the change window: the change can take an hour to reach every sign-in; users may be prompted "
            "to sign in again.",
            "Then run again with ems_federation_rollback_confirm: true (confirm_rollback: true). To federate "
            "again: playbooks/enable_core.yml --tags federation (the removed configuration is returned as "
            "previous_federation).",
        ],
        "values": {"Domain": domain, "Now": "Federated", "After": "Managed"},
        "detection": "confirm_rollback is true",
        "doc_url": MIGRATE_DOC,
    }


def _domain(client, domain):
    try:
        return client.get("/domains/%s" % domain)
    except GraphError as err:
        if err.kind == "not_found":
            raise GraphError("domain: %s is not a domain of tenant %s." % (domain, client.settings["tenant"]),
                             "add and verify it in the tenant first (Entra admin center > Custom domain names).",
                             kind="input") from None
        raise


def federate(client, domain, desired, params, check_mode):
    info = _domain(client, domain)
    if not info.get("isVerified"):
        raise GraphError("domain: %s is not verified in the tenant." % domain,
                         "add the TXT record tenant_info lists under verification_records, then verify it.",
                         kind="input")
    if info.get("isInitial"):
        raise GraphError("domain: %s is the tenant's initial domain and cannot be federated." % domain,
                         "give a custom domain.", kind="input")
    configs = client.get_all("/domains/%s/federationConfiguration" % domain)
    result = {"changed": False, "domain": domain}
    if not configs:
        body = dict(desired)
        body.setdefault("displayName", domain)
        before, after = {}, body
        if info.get("authenticationType") != "Federated" and not params.get("confirm_first_federation"):
            step = first_federation_step(domain, body)
            if not check_mode:  # pending, like the rollback: nothing changes, the report lists the step
                return {"changed": False, "pending": True, "ems_attended_step": step, "domain": domain,
                        "msg": "domain: the first federation of %s is a change users feel and is not confirmed: "
                               "attended step %s is pending (check the points shown, then run again with "
                               "confirm_first_federation: true)." % (domain, CONFIRM_STEP_ID)}
            result["warnings"] = ["check mode: the first federation of %s would still need "
                                  "confirm_first_federation: true" % domain]
        if not check_mode:
            created = client.send("POST", "/domains/%s/federationConfiguration" % domain, body=body).json()
            after = dict(body, id=created.get("id"))
        result.update(changed=True, action="created")
    else:
        current = configs[0]
        changes = {k: v for k, v in desired.items() if current.get(k) != v}
        before = {k: current.get(k) for k in desired}
        after = dict(before, **changes)
        if changes:
            if not check_mode:
                client.send("PATCH", "/domains/%s/federationConfiguration/%s" % (domain, current["id"]), body=changes)
            result.update(changed=True, action="updated", updated=sorted(changes))
        else:
            result["action"] = "none"
    result["federation"] = {k: shown(k, v) for k, v in after.items() if k != "id"}
    result["authentication_type"] = "Federated" if (result["changed"] and not check_mode) \
        else info.get("authenticationType")
    result["diff"] = {"before": {k: shown(k, v) for k, v in before.items() if k != "id"},
                      "after": {k: shown(k, v) for k, v in after.items() if k != "id"},
                      "before_header": "%s federationConfiguration" % domain,
                      "after_header": "%s federationConfiguration" % domain}
    return result


def password_hash_sync_ready(client):
    """(ready, reason): directory sync on and password hash sync on, as Graph says."""
    org = (client.get_all("/organization", params={"$select": "id,onPremisesSyncEnabled"}) or [{}])[0]
    if org.get("onPremisesSyncEnabled") is not True:
        return False, "directory synchronization is not enabled in the tenant (onPremisesSyncEnabled is %s)" \
            % org.get("onPremisesSyncEnabled")
    if client.settings["auth"] != "device_code":
        return False, ("password hash sync cannot be read with auth=certificate (GET "
                       "/directory/onPremisesSynchronization is delegated only)")
    try:
        items = client.get_all("/directory/onPremisesSynchronization")
    except GraphError as err:
        if err.kind != "permission":
            raise
        return False, "password hash sync could not be read: %s" % err.message
    features = (items[0] if items else {}).get("features") or {}
    if features.get("passwordSyncEnabled") is not True:
        return False, "password hash sync is off in the tenant (features.passwordSyncEnabled is %s)" \
            % features.get("passwordSyncEnabled")
    return True, "directory sync and password hash sync are on"


def rollback(client, domain, check_mode, confirmed=False):
    info = _domain(client, domain)
    result = {"changed": False, "domain": domain, "authentication_type": info.get("authenticationType")}
    if info.get("authenticationType") == "Managed":
        result["action"] = "none"
        return result
    ready, reason = password_hash_sync_ready(client)
    if not ready:
        return dict(result, failed=True, msg="state=managed: %s is not converted to Managed: %s, so users of the "
                    "domain could not sign in afterwards. Remedy: enable password hash sync in Entra Connect and "
                    "let a sync cycle finish, then run again with auth=device_code signed in as a Global "
                    "Administrator (%s)." % (domain, reason, MIGRATE_DOC))
    if not confirmed and not check_mode:
        step = rollback_step(domain, reason)
        return dict(result, pending=True, ems_attended_step=step,
                    msg="state=managed: the rollback of %s to Managed is a change users feel and is not confirmed: "
                        "attended step %s is pending (check the points shown, then run again with "
                        "confirm_rollback: true)." % (domain, ROLLBACK_STEP_ID))
    saved = client.get_all("/domains/%s/federationConfiguration" % domain)
    previous = {k: v for k, v in (saved[0] if saved else {}).items() if not k.startswith("@") and k != "id"}
    if check_mode and not confirmed:
        result["warnings"] = ["check mode: the rollback of %s would still need confirm_rollback: true" % domain]
    if not check_mode:
        try:
            client.send("PATCH", "/domains/%s" % domain, body={"authenticationType": "Managed"})
        except GraphError as err:
            if err.kind == "permission":
                raise GraphError("Graph refused PATCH /domains/%s (403): the application lacks %s." % (
                    domain, PERMISSIONS["domains/federationConfiguration"]),
                    "add the permission and grant admin consent.", kind="permission", status=403) from None
            raise
    result.update(changed=True, action="converted to Managed", authentication_type="Managed" if not check_mode
                  else info.get("authenticationType"), password_hash_sync=reason,
                  previous_federation=previous,
                  diff={"before": {"authenticationType": info.get("authenticationType")},
                        "after": {"authenticationType": "Managed"},
                        "before_header": "domain %s" % domain, "after_header": "domain %s" % domain})
    return result


def run_domain_federation(params, check_mode=False, notify=None):
    """Entry point (action plugin and module main)."""
    try:
        domain, desired = validate(params)
        client = gc.GraphClient(params, notify=notify)
        if params.get("state") == "managed":
            result = rollback(client, domain, check_mode, bool(params.get("confirm_rollback")))
        else:
            result = federate(client, domain, desired, params, check_mode)
    except GraphError as err:
        return {"changed": False, "failed": True, "msg": str(err)}
    result["graph_requests"] = client.requests
    return result
