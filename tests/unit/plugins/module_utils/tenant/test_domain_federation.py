"""ems.enable.domain_federation against the Graph stand-in (tests/graph/standin.py): every request and
response is validated against the pinned CSDL slice (tests/graph/v1.0-slice.json) and the RULES of
tests/graph/csdl.py; the fixture fails a test that sent or answered anything outside the contract."""

from __future__ import annotations

import base64
import datetime
import json
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[5]
sys.path.insert(0, str(ROOT / "tests" / "graph"))

import csdl  # noqa: E402
import standin  # noqa: E402

from ansible_collections.ems.enable.plugins.module_utils.tenant import federation  # noqa: E402

CLIENT = "3f2a9c1e-7b6d-4e5f-8a9b-0c1d2e3f4a5b"
DOMAIN = "corp.emslab.test"
FS = "fs.corp.emslab.test"
WRITES = ("POST", "PATCH", "DELETE")


def token_signing(days=365, start=-1, name="ADFS Signing - " + FS):
    """A token-signing certificate as AD FS makes it (self-signed), base64 DER."""
    now = datetime.datetime.now(datetime.timezone.utc)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now + datetime.timedelta(days=start))
            .not_valid_after(now + datetime.timedelta(days=days)).sign(key, hashes.SHA256()))
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode(), cert


SIGNING, SIGNING_CERT = token_signing()
NEXT_SIGNING = token_signing(days=730, start=300)[0]


@pytest.fixture()
def stand(tmp_path):
    tenant = standin.lab_tenant()
    for domain in tenant["domains"]:
        if domain["id"] == DOMAIN:
            domain["isVerified"] = True  # the lab tenant's custom domain, verified for these tests
    tenant["onPremisesSyncEnabled"] = True
    yield from standin.serving(tmp_path, CLIENT, tenant)


def farm(**extra):
    """The values of the farm's federation metadata (../shared/TENANT.md section 3)."""
    values = {"domain": DOMAIN, "state": "federated", "confirm_first_federation": True, "display_name": None,
              "issuer_uri": "http://%s/adfs/services/trust" % FS, "passive_sign_in_uri": "https://%s/adfs/ls/" % FS,
              "active_sign_in_uri": "https://%s/adfs/services/trust/2005/usernamemixed" % FS,
              "metadata_exchange_uri": "https://%s/adfs/services/trust/mex" % FS,
              "sign_out_uri": "https://%s/adfs/ls/" % FS, "signing_certificate": SIGNING,
              "next_signing_certificate": None, "preferred_authentication_protocol": "wsFed",
              "federated_idp_mfa_behavior": "acceptIfMfaDoneByFederatedIdp", "prompt_login_behavior": None}
    values.update(extra)
    return values


def params(stand, **extra):
    out = stand.graph_params(CLIENT, stand.app_cert)
    out.update(farm(**extra))
    return out


def writes(stand):
    return [(e["method"], e["path"]) for e in stand.log if e["method"] in WRITES and e["path"].startswith("/v1.0")]


def run(stand, check_mode=False, **extra):
    return federation.run_domain_federation(params(stand, **extra), check_mode)


def domain_state(stand):
    return next(d for d in stand.tenant["domains"] if d["id"] == DOMAIN)["authenticationType"]


# --- federate -------------------------------------------------------------------------------

def test_first_run_federates_and_second_run_changes_nothing(stand):
    first = run(stand)
    assert not first.get("failed"), first
    assert first["changed"] and first["action"] == "created" and first["authentication_type"] == "Federated"
    assert writes(stand) == [("POST", "/v1.0/domains/%s/federationConfiguration" % DOMAIN)]
    assert domain_state(stand) == "Federated"
    stored = stand.federations[DOMAIN][0]
    assert stored["issuerUri"] == "http://%s/adfs/services/trust" % FS and stored["signingCertificate"] == SIGNING
    assert stored["displayName"] == DOMAIN and stored["preferredAuthenticationProtocol"] == "wsFed"
    # the diff shows certificates by thumbprint, never as base64
    thumb = SIGNING_CERT.fingerprint(hashes.SHA1()).hex().upper()
    assert first["diff"]["before"] == {} and first["diff"]["after"]["signingCertificate"].startswith("sha1:" + thumb)
    assert SIGNING not in json.dumps(first)

    stand.log.clear()
    second = run(stand)
    assert not second.get("failed") and second["changed"] is False and second["action"] == "none", second
    assert writes(stand) == []
    assert second["diff"]["before"] == second["diff"]["after"]


def test_first_federation_needs_confirmation(stand):
    result = run(stand, confirm_first_federation=False)
    assert not result.get("failed") and result["pending"] and result["changed"] is False, result
    assert "confirm_first_federation: true" in result["msg"] and "\n" not in result["msg"]
    step = result["ems_attended_step"]
    assert step["id"] == "tenant.first_federation" and step["status"] == "pending"
    assert "https://%s/adfs/ls/" % FS in step["instructions"][0]
    assert writes(stand) == [] and domain_state(stand) == "Managed"


def test_check_mode_writes_nothing(stand):
    preview = run(stand, check_mode=True, confirm_first_federation=False)
    assert preview["changed"] and not preview.get("failed") and "confirm_first_federation" in preview["warnings"][0]
    assert preview["authentication_type"] == "Managed"
    assert writes(stand) == [] and DOMAIN not in stand.federations or stand.federations[DOMAIN] == []
    run(stand)  # federate for real
    stand.log.clear()
    drift = run(stand, check_mode=True, federated_idp_mfa_behavior="rejectMfaByFederatedIdp")
    assert drift["changed"] and drift["updated"] == ["federatedIdpMfaBehavior"]
    assert writes(stand) == []
    assert stand.federations[DOMAIN][0]["federatedIdpMfaBehavior"] == "acceptIfMfaDoneByFederatedIdp"


def test_a_difference_is_patched_with_only_the_changed_properties(stand):
    run(stand)
    stand.log.clear()
    result = run(stand, next_signing_certificate=NEXT_SIGNING, prompt_login_behavior="nativeSupport")
    assert result["changed"] and result["updated"] == ["nextSigningCertificate", "promptLoginBehavior"]
    fed_id = stand.federations[DOMAIN][0]["id"]
    assert writes(stand) == [("PATCH", "/v1.0/domains/%s/federationConfiguration/%s" % (DOMAIN, fed_id))]
    assert result["diff"]["before"]["promptLoginBehavior"] is None
    assert result["diff"]["after"]["promptLoginBehavior"] == "nativeSupport"
    # options not given are not owned: leaving prompt_login_behavior out changes nothing
    stand.log.clear()
    again = run(stand, next_signing_certificate=NEXT_SIGNING)
    assert again["changed"] is False and writes(stand) == []


def test_pem_certificate_is_the_same_certificate(stand):
    run(stand)
    stand.log.clear()
    pem = SIGNING_CERT.public_bytes(serialization.Encoding.PEM).decode()
    assert run(stand, signing_certificate=pem)["changed"] is False
    assert writes(stand) == []


def test_unverified_or_unknown_domain_is_one_line(stand):
    next(d for d in stand.tenant["domains"] if d["id"] == DOMAIN)["isVerified"] = False
    result = run(stand)
    assert result["failed"] and result["msg"].startswith("domain: %s is not verified" % DOMAIN)
    result = run(stand, domain="other.emslab.test")
    assert result["failed"] and result["msg"].startswith("domain: other.emslab.test is not a domain of tenant")
    assert writes(stand) == []


def test_missing_permission_names_it(stand):
    stand.register_app(CLIENT, x509.load_pem_x509_certificate(Path(stand.app_cert).read_bytes()),
                       roles={"Organization.Read.All", "Directory.Read.All"})
    result = run(stand)
    assert result["failed"] and "Domain-InternalFederation.ReadWrite.All" in result["msg"]


# --- bad input: one line naming the option, before any request --------------------------------

EXPIRED = token_signing(days=-1, start=-400)[0]


@pytest.mark.parametrize("option,value,expect", [
    ("domain", "corp..emslab.test", "domain: 'corp..emslab.test' is not a DNS domain name"),
    ("domain", "emslab.onmicrosoft.com", "domain: emslab.onmicrosoft.com is the tenant's initial"),
    ("domain", "", "domain: '' is not a DNS domain name"),
    ("passive_sign_in_uri", "http://%s/adfs/ls/" % FS, "passive_sign_in_uri: 'http://%s/adfs/ls/' is not a usable https:// URL (not an https" % FS),
    ("metadata_exchange_uri", "fs/adfs/services/trust/mex", "metadata_exchange_uri: 'fs/adfs/services/trust/mex' is not"),
    ("active_sign_in_uri", "https://", "active_sign_in_uri: 'https://' is not a usable https:// URL (no host)"),
    ("active_sign_in_uri", "https://https://%s/adfs/ls/" % FS, "active_sign_in_uri: 'https://https://%s/adfs/ls/' is not "
     "a usable https:// URL (user information, an empty port" % FS),
    ("sign_out_uri", "", "sign_out_uri: is empty"),
    ("issuer_uri", "fs.corp.emslab.test", "issuer_uri: 'fs.corp.emslab.test' is not an absolute URI"),
    ("signing_certificate", "not-base64!", "signing_certificate: not an X.509 certificate"),
    ("signing_certificate", base64.b64encode(b"hello").decode(), "signing_certificate: not an X.509 certificate"),
    ("signing_certificate", EXPIRED, "signing_certificate: the certificate (CN=ADFS Signing"),
    ("next_signing_certificate", "AAAA", "next_signing_certificate: not an X.509 certificate"),
    ("signing_certificate", None, "signing_certificate: needed with state=federated"),
    ("tenant_id", "common", "tenant_id: 'common' is a multi-tenant alias"),
])
def test_bad_input_is_one_line_before_any_request(stand, option, value, expect):
    result = run(stand, **{option: value})
    assert result["failed"] and result["msg"].startswith(expect), result["msg"]
    assert "Remedy:" in result["msg"] and "\n" not in result["msg"]
    assert stand.log == []


# --- rollback ---------------------------------------------------------------------------------

def test_rollback_refused_without_a_readable_password_hash_sync(stand):
    run(stand)
    stand.log.clear()
    result = run(stand, state="managed")
    assert result["failed"] and "password hash sync cannot be read with auth=certificate" in result["msg"]
    assert result["msg"].startswith("state=managed: %s is not converted to Managed" % DOMAIN)
    assert writes(stand) == [] and domain_state(stand) == "Federated"


def _operator(stand, tmp_path):
    stand.register_app(CLIENT, None, public=True)
    return dict(auth="device_code", certificate_path=None, token_cache=str(tmp_path / "cache.json"))


def test_rollback_refused_when_password_hash_sync_is_off(stand, tmp_path):
    stand.federations[DOMAIN] = [{"id": "f1", "displayName": DOMAIN, "issuerUri": "http://%s/adfs/services/trust" % FS}]
    next(d for d in stand.tenant["domains"] if d["id"] == DOMAIN)["authenticationType"] = "Federated"
    stand.tenant["sync"]["passwordSyncEnabled"] = False
    result = federation.run_domain_federation(params(stand, state="managed", **_operator(stand, tmp_path)),
                                              notify=lambda flow: None)
    assert result["failed"] and "password hash sync is off in the tenant" in result["msg"]
    assert writes(stand) == [] and domain_state(stand) == "Federated"


def test_rollback_converts_to_managed_once_and_returns_the_saved_body(stand, tmp_path):
    run(stand)
    operator = _operator(stand, tmp_path)
    stand.log.clear()
    preview = federation.run_domain_federation(params(stand, state="managed", **operator), True,
                                               notify=lambda flow: None)
    assert preview["changed"] and writes(stand) == [] and domain_state(stand) == "Federated"
    assert "would still need confirm_rollback: true" in preview["warnings"][0]
    pending = federation.run_domain_federation(params(stand, state="managed", **operator), notify=lambda flow: None)
    assert pending["pending"] and not pending.get("failed") and not pending["changed"], pending
    assert pending["ems_attended_step"]["id"] == "tenant.federation_rollback" and "\n" not in pending["msg"]
    assert "directory sync and password hash sync are on" in pending["ems_attended_step"]["instructions"][1]
    assert writes(stand) == [] and domain_state(stand) == "Federated"
    operator["confirm_rollback"] = True
    done = federation.run_domain_federation(params(stand, state="managed", **operator), notify=lambda flow: None)
    assert done["changed"] and done["authentication_type"] == "Managed", done
    assert writes(stand) == [("PATCH", "/v1.0/domains/%s" % DOMAIN)]
    assert domain_state(stand) == "Managed" and not stand.federations.get(DOMAIN)
    assert done["previous_federation"]["issuerUri"] == "http://%s/adfs/services/trust" % FS
    assert done["diff"] == {"before": {"authenticationType": "Federated"}, "after": {"authenticationType": "Managed"},
                            "before_header": "domain %s" % DOMAIN, "after_header": "domain %s" % DOMAIN}
    stand.log.clear()
    again = federation.run_domain_federation(params(stand, state="managed", **operator), notify=lambda flow: None)
    assert again["changed"] is False and writes(stand) == []


# --- the contract catches what Graph would refuse ---------------------------------------------

CONTRACT = csdl.Contract()


def test_contract_rejects_unknown_properties_and_wrong_paths_of_federation():
    body = {"displayName": "x", "issuerUri": "http://fs/adfs/services/trust", "metadataExchangeUri": "https://fs/mex",
            "passiveSignInUri": "https://fs/adfs/ls/", "preferredAuthenticationProtocol": "wsFed",
            "signingCertificate": SIGNING}
    path = "/v1.0/domains/%s/federationConfiguration" % DOMAIN
    assert CONTRACT.check_request("POST", path, body=body) == []
    assert "unknown property 'supportsMfa'" in CONTRACT.check_request("POST", path, body=dict(body, supportsMfa=True))[0]
    assert "required to create" in CONTRACT.check_request("POST", path, body={"displayName": "x"})[0]
    assert "not a member of enum" in CONTRACT.check_request(
        "PATCH", path + "/f1", body={"federatedIdpMfaBehavior": "acceptIfMfaDone"})[0]
    assert "not a navigation property" in CONTRACT.check_request("GET", path + "s")[0]
    assert "read-only" in CONTRACT.check_request("PATCH", "/v1.0/domains/%s" % DOMAIN,
                                                 body={"authenticationType": "Managed", "isVerified": True})[0]


def test_the_module_only_sends_properties_of_the_slice():
    owned = set(federation.PROPERTIES.values())
    declared = set(CONTRACT.properties("internalDomainFederation"))
    assert owned <= declared, owned - declared
    for enum, choices in (("authenticationProtocol", federation.PROTOCOLS),
                          ("federatedIdpMfaBehavior", federation.MFA_BEHAVIORS),
                          ("promptLoginBehavior", federation.PROMPT_BEHAVIORS)):
        assert set(choices) <= set(CONTRACT.types[enum]["members"])


# --- the farm's federation metadata -----------------------------------------------------------

def metadata(*certs, entity="http://%s/adfs/services/trust" % FS, passive="https://%s/adfs/ls/" % FS):
    """A federation metadata document in the shape AD FS serves (SAML 2.0 EntityDescriptor with a WS-Federation
    SecurityTokenServiceType RoleDescriptor; OASIS WS-Federation 1.2 section 3.1). Built here: no AD FS ran."""
    keys = "".join('<KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data>'
                   '<X509Certificate>%s</X509Certificate></X509Data></KeyInfo></KeyDescriptor>' % c for c in certs)
    return ('<?xml version="1.0" encoding="utf-8"?><EntityDescriptor ID="_x" entityID="%s" '
            'xmlns="urn:oasis:names:tc:SAML:2.0:metadata"><RoleDescriptor '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:fed="http://docs.oasis-open.org/wsfed/'
            'federation/200706" xsi:type="fed:SecurityTokenServiceType" protocolSupportEnumeration='
            '"http://docs.oasis-open.org/wsfed/federation/200706">%s<fed:PassiveRequestorEndpoint>'
            '<EndpointReference xmlns="http://www.w3.org/2005/08/addressing"><Address>%s</Address>'
            '</EndpointReference></fed:PassiveRequestorEndpoint></RoleDescriptor><IDPSSODescriptor '
            'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">%s</IDPSSODescriptor>'
            '</EntityDescriptor>' % (entity, keys, passive, keys))


def test_metadata_gives_the_values_and_options_win(stand):
    values = federation.parse_metadata(metadata(SIGNING, NEXT_SIGNING))
    assert values == {"issuerUri": "http://%s/adfs/services/trust" % FS, "passiveSignInUri": "https://%s/adfs/ls/" % FS,
                      "signOutUri": "https://%s/adfs/ls/" % FS,
                      "activeSignInUri": "https://%s/adfs/services/trust/2005/usernamemixed" % FS,
                      "metadataExchangeUri": "https://%s/adfs/services/trust/mex" % FS,
                      "signingCertificate": SIGNING, "nextSigningCertificate": NEXT_SIGNING}
    bare = {k: None for k in ("issuer_uri", "passive_sign_in_uri", "active_sign_in_uri", "metadata_exchange_uri",
                              "sign_out_uri", "signing_certificate")}
    result = run(stand, federation_metadata=metadata(SIGNING), **dict(bare, issuer_uri="http://%s/adfs/services/trust/"
                                                                      % DOMAIN))
    assert result["changed"] and not result.get("failed"), result
    stored = stand.federations[DOMAIN][0]
    assert stored["issuerUri"] == "http://%s/adfs/services/trust/" % DOMAIN  # the option wins over entityID
    assert stored["metadataExchangeUri"] == "https://%s/adfs/services/trust/mex" % FS and stored["signingCertificate"] == SIGNING


@pytest.mark.parametrize("document,expect", [
    ("<html>not metadata", "federation_metadata: not XML"),
    ('<EntityDescriptor xmlns="urn:x"/>', "federation_metadata: not a SAML/WS-Federation EntityDescriptor"),
    ('<!DOCTYPE x [<!ENTITY a "b">]><x/>', "federation_metadata: holds a DTD"),
])
def test_bad_metadata_is_one_line_before_any_request(stand, document, expect):
    result = run(stand, federation_metadata=document, issuer_uri=None)
    assert result["failed"] and result["msg"].startswith(expect) and stand.log == []
