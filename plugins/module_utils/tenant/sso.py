# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ems.enable.sso_test: a test user signs in through AD FS to Entra ID; Entra's UPN and ImmutableID are
compared with AD's (read over LDAP).

Steps (../shared/TENANT.md section 4; MSAL Python msal/application.py, mex.py, wstrust_request.py and
wstrust_response.py are the reference for the sequence, not copied):
1. AD over LDAP: the user by userPrincipalName, its ImmutableID by the source-anchor rule (anchor.py).
2. Home realm discovery: GET <authority>/common/userrealm/<upn>?api-version=1.0 -> account_type
   (Federated | Managed | Unknown), federation_metadata_url (the farm's MEX), federation_active_auth_url,
   cloud_audience_urn (msal/authority.py user_realm_discovery).
3. method=wstrust (default): GET the MEX document, choose the WS-Trust 1.3 (else 2005) username/password
   endpoint (a binding over https whose policy has a UsernameToken over transport security); POST a
   RequestSecurityToken with a UsernameToken for AppliesTo urn:federation:MicrosoftOnline, KeyType Bearer
   (OASIS WS-Trust 1.3 sections 3.1, 4.1); the RequestSecurityTokenResponse holds a SAML 1.1 or 2.0
   assertion, a fault (wst:FailedAuthentication, WS-Trust 1.3 section 11) is a refused sign-in.
   Then the SAML bearer grant at <authority>/<tenant>/oauth2/v2.0/token (grant_type
   urn:ietf:params:oauth:grant-type:saml1_1-bearer or saml2-bearer, assertion = base64url of the assertion,
   RFC 7522 section 2.1).
   method=msal: MSAL's acquire_token_by_username_password does the same steps; deprecated for public
   clients (MSAL PR #855) and never works under MFA - a fallback, with a warning.
4. Graph: GET /users/<upn>?$select=userPrincipalName,onPremisesImmutableId,onPremisesSyncEnabled with the
   user's own token (delegated User.Read). When Entra ID refuses the assertion because no user holds its
   ImmutableID (AADSTS51004), the app's Graph client (when certificate_path is given; User.Read.All)
   reads the same, to name both values.
Every fault is one line; the password, the assertion and the tokens are never in a result (errors.redact).
"""

from __future__ import annotations

import base64
import datetime
import html.parser
import re
import uuid
import warnings
import xml.etree.ElementTree as ET  # nosec - documents parsed without DTDs or entities (refused first)

try:
    from urllib.parse import quote, urljoin, urlsplit
except ImportError:  # pragma: no cover
    from urllib import quote  # type: ignore
    from urlparse import urljoin, urlsplit  # type: ignore

try:
    import msal
    import requests
except ImportError:  # pragma: no cover - reported by gc.check_requirements()
    pass

from ansible_collections.ems.enable.plugins.module_utils.ad import ldap_client as lc
from ansible_collections.ems.enable.plugins.module_utils.graph import client as gc, credentials
from ansible_collections.ems.enable.plugins.module_utils.graph.errors import AADSTS, GraphError, aadsts_codes, redact
from ansible_collections.ems.enable.plugins.module_utils.tenant import anchor

SSO_TEST_SPEC = dict(
    gc.GRAPH_ARGUMENT_SPEC,
    user_principal_name=dict(type="str", required=True),
    user_password=dict(type="str", required=True, no_log=True),
    method=dict(type="str", default="wstrust", choices=["wstrust", "windows", "forms", "msal"]),
    mex_url=dict(type="str"),
    passive_sign_in_url=dict(type="str"),
    adfs_ca_file=dict(type="path"),
    search_base=dict(type="str"),
    ldap=dict(type="dict", required=True, options=lc.LDAP_ARGUMENT_SPEC),
)
SSO_TEST_KWARGS = {}

CHECK_ID = "tenant.sso_test"  # the verify row's id in the onboarding report
SELECT = "id,userPrincipalName,onPremisesImmutableId,onPremisesSyncEnabled"  # id: the contract keeps it in every answer
AUDIENCE = "urn:federation:MicrosoftOnline"  # the Entra ID relying party trust (roles/adfs/vars/entra_trust.yml)
MSAL_WARNING = ("method=msal uses MSAL's username/password flow: MSAL warns that it is deprecated for public "
                "clients, and it fails for users under MFA or Conditional Access - use it in a lab only.")
NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "wsa": "http://www.w3.org/2005/08/addressing",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsp": "http://schemas.xmlsoap.org/ws/2004/09/policy",
    "wst": "http://docs.oasis-open.org/ws-sx/ws-trust/200512",
    "wst2005": "http://schemas.xmlsoap.org/ws/2005/02/trust",
    "sp": "http://docs.oasis-open.org/ws-sx/ws-securitypolicy/200702",
    "sp2005": "http://schemas.xmlsoap.org/ws/2005/07/securitypolicy",
    "wsdl": "http://schemas.xmlsoap.org/wsdl/",
    "soap12": "http://schemas.xmlsoap.org/wsdl/soap12/",
    "http": "http://schemas.microsoft.com/ws/06/2004/policy/http",  # NegotiateAuthentication (MEX of AD FS)
}
#: SPNEGO (RFC 4178) - the mechanism of HTTP Negotiate (RFC 4559), what browsers and AD FS use for WIA
SPNEGO_OID = "1.3.6.1.5.5.2"
#: soapAction of Issue per WS-Trust version, preferred first (WS-Trust 1.3 section 4.1; the 2005 draft).
ACTIONS = {"13": NS["wst"] + "/RST/Issue", "2005": NS["wst2005"] + "/RST/Issue"}
SAML_GRANTS = {"urn:oasis:names:tc:SAML:1.0:assertion": "urn:ietf:params:oauth:grant-type:saml1_1-bearer",
               "urn:oasis:names:tc:SAML:2.0:assertion": "urn:ietf:params:oauth:grant-type:saml2-bearer"}
#: AADSTS codes of a user's sign-in (entra-docs identity-platform/reference-error-codes.md) -> (kind, line).
USER_AADSTS = {
    50126: ("wrong_password", "the user name or password is wrong"),
    50034: ("user_not_found", "the user does not exist in the tenant"),
    51004: ("immutable_id", "no user of the tenant holds the ImmutableID that AD FS issued"),
    50076: ("mfa_required", "multi-factor authentication is required for this user"),
    50079: ("mfa_required", "the user must register for multi-factor authentication"),
    50074: ("mfa_required", "strong authentication (MFA) is required"),
    50158: ("mfa_required", "an external security challenge (MFA) is required"),
    50053: ("locked", "the account is locked"),
    50057: ("disabled", "the account is disabled"),
    50055: ("password_expired", "the password has expired"),
}
REMEDIES = {
    "wrong_password": "check the test user's password in the vault (ems_sso_test_password).",
    "user_not_found": "check that Entra Connect synchronizes the user (its OU is in scope) and run a sync cycle.",
    "immutable_id": "the user in Entra ID is not matched to this AD user: check the source anchor of Entra "
                    "Connect and the ImmutableID claim rules (roles/adfs/vars/entra_trust.yml).",
    "mfa_required": "use a test user excluded from MFA / Conditional Access for this check, or test in a browser "
                    "(https://myapps.microsoft.com).",
    "locked": "unlock the account in AD (and wait for the AD FS extranet lockout window) and run again.",
    "disabled": "enable the test user in AD and let Entra Connect synchronize it.",
    "password_expired": "set a new password for the test user and update the vault.",
}


class SsoError(GraphError):
    """A failed SSO test: ``kind`` is the reason (wrong_password, immutable_id, managed, ...)."""


def _fail(kind, message, remedy=None):
    return SsoError(message, remedy or REMEDIES.get(kind), kind=kind)


# --- input ------------------------------------------------------------------------------------
def check_upn(value):
    return credentials.check_upn("user_principal_name", value, "give the test user's UPN, e.g. sso.test@contoso.com.")


_EXAMPLE_PATHS = {"mex_url": "/adfs/services/trust/mex", "passive_sign_in_url": "/adfs/ls/"}


def check_https(option, value):
    return credentials.check_https_url(option, value, "https://fs.contoso.com%s (the federation service or WAP "
                                       "name)" % _EXAMPLE_PATHS.get(option, "/adfs/ls/"))


def validate(params):
    """Every input check, before any connection; returns (upn, settings, warnings)."""
    upn = check_upn(params.get("user_principal_name"))
    if not params.get("user_password"):
        raise credentials.input_error("user_password", "is empty", "give the test user's password from the vault.")
    if params.get("mex_url") is not None:
        check_https("mex_url", params["mex_url"])
    if params.get("passive_sign_in_url") is not None:
        check_https("passive_sign_in_url", params["passive_sign_in_url"])
    if params.get("adfs_ca_file") is not None:
        gc.check_ca_file("adfs_ca_file", params["adfs_ca_file"])
    if params.get("search_base") is not None:
        try:
            lc.check_dn(params["search_base"], "search_base")
        except lc.LdapError as err:
            raise GraphError(str(err), kind="input") from None
    app = bool(params.get("certificate_path")) or params.get("auth") == "device_code"
    settings, _credential = gc.validate(params if app else dict(params, auth="device_code"))
    settings["app"] = app
    ldap_params = dict(params.get("ldap") or {})
    try:
        warnings = lc.validate_params(ldap_params)
    except lc.LdapError as err:
        raise credentials.input_error("ldap", str(err), None) from None
    return upn, settings, ldap_params, warnings


# --- AD -------------------------------------------------------------------------------------
def read_ad_user(ldap_params, upn, search_base=None):
    """{dn, userPrincipalName, immutable_id, anchor_attribute} of the AD user with this UPN."""
    conn = lc.connect(ldap_params)
    try:
        base = search_base or lc.first(conn.root_dse, "defaultNamingContext")
        flt = "(&(objectCategory=person)(objectClass=user)(userPrincipalName=%s))" % lc.ldap.filter.escape_filter_chars(upn)
        found = list(conn.search(base, flt, ["userPrincipalName", "sAMAccountName"] + list(anchor.ATTRIBUTES)))
    finally:
        conn.close()
    if not found:
        raise _fail("user_not_found", "SSO test: user %s was not found in AD (under %s)." % (upn, base),
                    "check user_principal_name (the AD user's userPrincipalName) and search_base.")
    dn, entry = found[0]
    immutable_id, attribute = anchor.immutable_id(entry)
    return {"dn": dn, "userPrincipalName": lc.first(entry, "userPrincipalName"), "immutable_id": immutable_id,
            "anchor_attribute": attribute, "kerberos_principal": kerberos_principal(dn, lc.first(entry, "sAMAccountName"))}


def kerberos_principal(dn, sam_account_name):
    """sAMAccountName@REALM of an AD user: the realm is the user's domain (the DC= parts of its DN) in upper case,
    the name a Windows logon (DOMAIN\\user) gets its ticket for."""
    parts = [rdn.split("=", 1)[1] for rdn in re.split(r"(?<!\\),", dn or "") if rdn.strip().lower().startswith("dc=")]
    if not parts or not sam_account_name:
        return None
    return "%s@%s" % (sam_account_name, ".".join(parts).upper())


# --- login side -------------------------------------------------------------------------------
def _xml(text, what):
    if "<!DOCTYPE" in (text or "") or "<!ENTITY" in (text or ""):
        raise _fail("protocol", "%s holds a DTD or entity declaration; refused." % what, "check the endpoint.")
    try:
        return ET.fromstring(text)
    except ET.ParseError as err:
        raise _fail("protocol", "%s is not XML (%s)." % (what, err), "check the endpoint (a proxy page?).") from None


def home_realm(session, authority, upn):
    """The userrealm answer for the UPN (api-version 1.0)."""
    url = "%s/common/userrealm/%s" % (authority, quote(upn))
    try:
        response = session.get(url, params={"api-version": "1.0"}, headers={"Accept": "application/json"})
        realm = response.json()
    except requests.exceptions.RequestException as err:
        raise gc.network_error(err, url) from None
    except ValueError:
        raise _fail("protocol", "Home realm discovery (%s) did not answer JSON (HTTP %d)."
                    % (urlsplit(url).hostname, response.status_code), "check authority_url and cloud.") from None
    kind = realm.get("account_type")
    domain = upn.split("@")[1]
    if kind == "Managed":
        raise _fail("managed", "SSO test: domain %s is still Managed in Entra ID (home realm discovery), so the "
                    "sign-in would not reach AD FS." % domain,
                    "federate it first (ems.enable.domain_federation, enable_core tag federation).")
    if kind != "Federated":
        raise _fail("unknown_domain", "SSO test: Entra ID does not know domain %s (home realm discovery answered "
                    "account_type %s)." % (domain, kind),
                    "add and verify the domain in the tenant, and check user_principal_name.")
    return realm


def parse_mex(text, windows=False):
    """The username/password WS-Trust endpoint of a MEX document: {address, action, version}; with windows=True
    the Windows transport one instead (a policy with http:NegotiateAuthentication over a transport binding:
    Kerberos in the HTTP Authorization header, /adfs/services/trust/13/windowstransport on AD FS)."""
    root = _xml(text, "The MEX document")
    policies = set()
    for policy in root.iter("{%s}Policy" % NS["wsp"]):
        pid = policy.get("{%s}Id" % NS["wsu"])
        for sp in ("sp", "sp2005"):
            if not pid or policy.find(".//{%s}TransportBinding" % NS[sp]) is None:
                continue
            negotiate = policy.find(".//{%s}NegotiateAuthentication" % NS["http"]) is not None
            username = policy.find(".//{%s}UsernameToken" % NS[sp]) is not None
            if (windows and negotiate) or (not windows and username):
                policies.add("#" + pid)
    bindings = {}
    for binding in root.findall("wsdl:binding", NS):
        transport = binding.find("soap12:binding", NS)
        operation = binding.find("wsdl:operation/soap12:operation", NS)
        refs = [r.get("URI") for r in binding.findall("wsp:PolicyReference", NS)]
        if transport is None or operation is None or transport.get("transport") != "http://schemas.xmlsoap.org/soap/http":
            continue
        if any(ref in policies for ref in refs):
            bindings[binding.get("name")] = operation.get("soapAction")
    endpoints = []
    for port in root.findall("wsdl:service/wsdl:port", NS):
        action = bindings.get((port.get("binding") or "").split(":")[-1])
        address = port.find("{%s}EndpointReference/{%s}Address" % (NS["wsa"], NS["wsa"]))
        if action in ACTIONS.values() and address is not None and (address.text or "").strip().lower().startswith("https://"):
            version = "13" if action == ACTIONS["13"] else "2005"
            endpoints.append({"address": address.text.strip(), "action": action, "version": version})
    endpoints.sort(key=lambda e: e["version"] != "13")
    if not endpoints and windows:
        raise _fail("adfs_endpoint", "The AD FS MEX document names no WS-Trust Windows transport endpoint over https.",
                    "enable /adfs/services/trust/13/windowstransport on the farm (Enable-AdfsEndpoint) for the "
                    "intranet test, or use method=wstrust.")
    if not endpoints:
        raise _fail("adfs_endpoint", "The AD FS MEX document names no WS-Trust username/password endpoint over https.",
                    "enable the endpoint /adfs/services/trust/13/usernamemixed (Set-AdfsEndpoint -Proxy $true "
                    "-Enable for the extranet) or give method=msal.")
    return endpoints[0]


def build_rst(upn, password, endpoint, now=None):
    """The WS-Trust Issue request (SOAP 1.2) with a UsernameToken for Entra ID's relying party trust."""
    for prefix in ("s", "wsa", "wsu", "wsse", "wsp"):
        ET.register_namespace(prefix, NS[prefix])
    wst = NS["wst"] if endpoint["version"] == "13" else NS["wst2005"]
    ET.register_namespace("wst", wst)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    env = ET.Element("{%s}Envelope" % NS["s"])
    header = ET.SubElement(env, "{%s}Header" % NS["s"])
    ET.SubElement(header, "{%s}Action" % NS["wsa"], {"{%s}mustUnderstand" % NS["s"]: "1"}).text = endpoint["action"]
    ET.SubElement(header, "{%s}MessageID" % NS["wsa"]).text = "urn:uuid:%s" % uuid.uuid4()
    reply = ET.SubElement(header, "{%s}ReplyTo" % NS["wsa"])
    ET.SubElement(reply, "{%s}Address" % NS["wsa"]).text = "http://www.w3.org/2005/08/addressing/anonymous"
    ET.SubElement(header, "{%s}To" % NS["wsa"], {"{%s}mustUnderstand" % NS["s"]: "1"}).text = endpoint["address"]
    security = ET.SubElement(header, "{%s}Security" % NS["wsse"], {"{%s}mustUnderstand" % NS["s"]: "1"})
    stamp = ET.SubElement(security, "{%s}Timestamp" % NS["wsu"], {"{%s}Id" % NS["wsu"]: "_0"})
    ET.SubElement(stamp, "{%s}Created" % NS["wsu"]).text = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    ET.SubElement(stamp, "{%s}Expires" % NS["wsu"]).text = (now + datetime.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    if password is not None:  # Windows transport: the user is the Kerberos ticket's, no UsernameToken
        token = ET.SubElement(security, "{%s}UsernameToken" % NS["wsse"], {"{%s}Id" % NS["wsu"]: "uuid-%s" % uuid.uuid4()})
        ET.SubElement(token, "{%s}Username" % NS["wsse"]).text = upn
        ET.SubElement(token, "{%s}Password" % NS["wsse"]).text = password  # escaped by ElementTree
    body = ET.SubElement(env, "{%s}Body" % NS["s"])
    rst = ET.SubElement(body, "{%s}RequestSecurityToken" % wst)
    applies = ET.SubElement(rst, "{%s}AppliesTo" % NS["wsp"])
    ET.SubElement(ET.SubElement(applies, "{%s}EndpointReference" % NS["wsa"]), "{%s}Address" % NS["wsa"]).text = AUDIENCE
    if endpoint["version"] == "13":
        ET.SubElement(rst, "{%s}KeyType" % wst).text = NS["wst"] + "/Bearer"
        ET.SubElement(rst, "{%s}RequestType" % wst).text = NS["wst"] + "/Issue"
    else:
        ET.SubElement(rst, "{%s}KeyType" % wst).text = "http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey"
        ET.SubElement(rst, "{%s}RequestType" % wst).text = NS["wst2005"] + "/Issue"
    return ET.tostring(env, encoding="utf-8")


_TOKEN = re.compile(r"<(?:[\w-]+:)?RequestedSecurityToken[^>]*>(.*?)</(?:[\w-]+:)?RequestedSecurityToken>", re.S)


def parse_rstr(text, host):
    """(assertion text as sent, token type) of a RequestSecurityTokenResponse; a SOAP fault is a refused sign-in."""
    root = _xml(text, "The AD FS answer")
    fault = root.find("s:Body/s:Fault", NS)
    if fault is not None:
        values = [v.text.strip() for v in fault.iter("{%s}Value" % NS["s"]) if v.text]
        reason = " ".join((fault.findtext("s:Reason/s:Text", "", NS) or "").split())
        code = values[-1] if values else "fault"
        kind = "wrong_password" if code.endswith("FailedAuthentication") else "adfs_fault"
        raise _fail(kind, "SSO test: AD FS %s refused the sign-in (%s: %s)." % (host, code, redact(reason)[:200]),
                    REMEDIES["wrong_password"] + " Also check that the account is enabled and not locked out "
                    "(AD FS extranet lockout)." if kind == "wrong_password" else
                    "check the AD FS event log (AD FS/Admin) for the request and the relying party trust "
                    "'Microsoft Office 365 Identity Platform'.")
    token_type = None
    for tag in ("wst", "wst2005"):
        node = root.find(".//{%s}TokenType" % NS[tag])
        if node is not None and node.text:
            token_type = node.text.strip()
    match = _TOKEN.search(text)
    if not match or token_type not in SAML_GRANTS:
        raise _fail("protocol", "SSO test: AD FS %s answered without a SAML assertion (token type %s)." % (host, token_type),
                    "check the relying party trust 'Microsoft Office 365 Identity Platform' on the farm.")
    return match.group(1).strip(), token_type


def user_sign_in_error(result, upn, tenant, client_id, cloud):
    codes = aadsts_codes(result)
    for code in codes:
        if code in USER_AADSTS:
            kind, what = USER_AADSTS[code]
            return _fail(kind, "SSO test: Entra ID refused the sign-in of %s (AADSTS%d): %s." % (upn, code, what))
    for code in codes:
        if code in AADSTS:
            kind, what, remedy = AADSTS[code]
            values = {"tenant": tenant, "client_id": client_id, "cloud": cloud}
            return SsoError("SSO test: Entra ID refused the sign-in of %s (AADSTS%d): %s." % (upn, code, what.format(**values)),
                            remedy.format(**values), kind=kind, code=code)
    description = str(result.get("error_description") or "").split("\n", maxsplit=1)[0][:200]
    return _fail("sign_in", "SSO test: Entra ID refused the sign-in of %s: %s: %s" % (
        upn, result.get("error") or "unknown_error", description),
        "check client_id (a public client app registration that allows public client flows) and tenant_id.")


def wstrust_sign_in(session, adfs_session, settings, upn, password, realm, mex_url):
    """Token (dict) for the user through MEX + WS-Trust + the SAML bearer grant; plus the endpoint used."""
    endpoint = _mex_endpoint(adfs_session, realm, upn, mex_url)
    host = urlsplit(endpoint["address"]).hostname
    try:
        answer = adfs_session.post(endpoint["address"], data=build_rst(upn, password, endpoint),
                                   headers={"Content-Type": "application/soap+xml; charset=utf-8",
                                            "SOAPAction": endpoint["action"]})
    except requests.exceptions.RequestException as err:
        raise gc.network_error(err, endpoint["address"]) from None
    # AD FS answers a wrong password with a SOAP fault and HTTP 500 (msal/wstrust_request.py notes it too)
    assertion, token_type = parse_rstr(answer.text, host)
    return saml_bearer_grant(session, settings, assertion, token_type), endpoint


def _mex_endpoint(adfs_session, realm, upn, mex_url, windows=False):
    mex_url = mex_url or realm.get("federation_metadata_url")
    if not mex_url:
        raise _fail("adfs_endpoint", "Home realm discovery names no MEX URL for %s." % upn,
                    "give mex_url (https://<fs>/adfs/services/trust/mex).")
    check_https("mex_url", mex_url)
    try:
        mex = adfs_session.get(mex_url)
    except requests.exceptions.RequestException as err:
        raise gc.network_error(err, mex_url) from None
    if mex.status_code >= 400:
        raise _fail("adfs_endpoint", "AD FS MEX %s answered HTTP %d." % (mex_url, mex.status_code),
                    "check that the MEX endpoint is enabled (and published through WAP for the extranet).")
    return parse_mex(mex.text, windows=windows)


def kerberos_token(principal, password, host):
    """The first SPNEGO token (a Kerberos AP-REQ for HTTP/<host>) of the user: a TGT from the KDC for principal
    with its password (krb5.conf names the realm's KDCs), kept in this process's memory only, then the service
    ticket for the AD FS host (setspn HTTP/<host> on the AD FS service account)."""
    try:
        import gssapi
        import gssapi.raw
    except ImportError as exc:  # pragma: no cover - gssapi is in requirements.txt
        raise _fail("requirements", "method=windows needs the Python library gssapi (%s)." % exc,
                    "pip install -r requirements.txt.") from None
    try:
        name = gssapi.Name(principal, gssapi.NameType.kerberos_principal)
        spnego = gssapi.OID.from_int_seq(SPNEGO_OID)
        creds = gssapi.raw.acquire_cred_with_password(name, password.encode("utf-8"), usage="initiate",
                                                      mechs=[spnego]).creds
        target = gssapi.Name("HTTP@%s" % host, gssapi.NameType.hostbased_service)
        context = gssapi.SecurityContext(name=target, creds=creds, usage="initiate", mech=spnego)
        return context.step()
    except gssapi.exceptions.GSSError as exc:
        text = " ".join(str(exc).split())
        minor = re.search(r"Minor \(\d+\): (.*?)\s*$", text)
        detail = (minor.group(1) if minor else text).rstrip(".")
        lowered = detail.lower()
        if "preauthentication failed" in lowered or "password incorrect" in lowered:
            raise _fail("wrong_password", "SSO test: the KDC refused the password of %s (Kerberos: %s)."
                        % (principal, detail)) from None
        if "server not found" in lowered or "s_principal_unknown" in lowered:
            raise _fail("kerberos", "SSO test: the KDC knows no service principal HTTP/%s (Kerberos: %s)."
                        % (host, detail), "register it on the AD FS service account (setspn -S HTTP/%s "
                        "<account>) - the SPN integrated Windows authentication needs." % host) from None
        if "client not found" in lowered:
            raise _fail("user_not_found", "SSO test: the KDC does not know %s (Kerberos: %s)." % (principal, detail)) \
                from None
        if "revoked" in lowered or "locked" in lowered:
            raise _fail("locked", "SSO test: the KDC refused %s: the account is disabled or locked (Kerberos: %s)."
                        % (principal, detail)) from None
        if "skew" in lowered:
            raise _fail("kerberos", "SSO test: Kerberos clock skew with the KDC (%s)." % detail,
                        "synchronise the controller's clock with the domain (NTP).") from None
        raise _fail("kerberos", "SSO test: no Kerberos ticket for %s to HTTP/%s (%s)." % (principal, host, detail),
                    "check krb5.conf on the controller (the realm's KDCs), the DNS name of the farm and the "
                    "clock.") from None


def windows_sign_in(session, adfs_session, settings, principal, password, realm, upn, mex_url):
    """Token (dict) through the farm's Windows transport endpoint (intranet WIA, Kerberos over HTTP Negotiate) and
    the SAML bearer grant; plus the endpoint used. The RST carries no UsernameToken: the user is the ticket's."""
    if not principal:
        raise _fail("ldap", "SSO test: AD gave no sAMAccountName for %s, so no Kerberos principal." % upn,
                    "check the user in AD.")
    endpoint = _mex_endpoint(adfs_session, realm, upn, mex_url, windows=True)
    host = urlsplit(endpoint["address"]).hostname
    body = build_rst(upn, None, endpoint)
    headers = {"Content-Type": "application/soap+xml; charset=utf-8", "SOAPAction": endpoint["action"]}
    try:
        answer = adfs_session.post(endpoint["address"], data=body, headers=headers)
        offered = answer.headers.get("WWW-Authenticate", "") if answer.status_code == 401 else ""
        if answer.status_code == 401:
            if "negotiate" not in offered.lower():
                raise _fail("adfs_endpoint", "AD FS %s answered 401 without offering Negotiate (%s)."
                            % (host, offered or "no WWW-Authenticate"),
                            "enable Windows authentication on the farm (Set-AdfsGlobalAuthenticationPolicy "
                            "-PrimaryIntranetAuthenticationProvider WindowsAuthentication).")
            token = kerberos_token(principal, password, host)
            answer = adfs_session.post(endpoint["address"], data=body, headers=dict(
                headers, Authorization="Negotiate " + base64.b64encode(token).decode("ascii")))
    except requests.exceptions.RequestException as err:
        raise gc.network_error(err, endpoint["address"]) from None
    if answer.status_code == 401:
        raise _fail("kerberos", "SSO test: AD FS %s refused the Kerberos ticket of %s (HTTP 401)." % (host, principal),
                    "check that HTTP/%s is registered on the AD FS service account only (setspn -Q HTTP/%s) and "
                    "that the farm's clock is right." % (host, host))
    assertion, token_type = parse_rstr(answer.text, host)
    return saml_bearer_grant(session, settings, assertion, token_type), endpoint


class _Forms(html.parser.HTMLParser):
    """The forms of an HTML page ({action, inputs: {name: value}}) and the text of its error element (AD FS's
    sign-in page shows a refused password in #errorText). Attribute values come unescaped."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self.error, self._in_error = [], "", False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action") or "", "inputs": {}})
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["inputs"][attrs["name"]] = attrs.get("value") or ""
        self._in_error = self._in_error or attrs.get("id") == "errorText"

    def handle_endtag(self, tag):
        if tag == "span":
            self._in_error = False

    def handle_data(self, data):
        if self._in_error:
            self.error += data


def _forms(text):
    parser = _Forms()
    parser.feed(text or "")
    return parser


def forms_sign_in(session, adfs_session, settings, upn, password, realm, passive_url, mex_url):
    """Token (dict) through the farm's WS-Federation passive endpoint with forms authentication (the browser's
    extranet sign-in through WAP) and the SAML bearer grant; plus the endpoint used.

    GET <passive>?wa=wsignin1.0&wtrealm=urn:federation:MicrosoftOnline&wctx=<ours> shows the sign-in page; its form
    posts UserName, Password, AuthMethod=FormsAuthentication; signed in, AD FS answers with the form a browser posts
    to Entra ID (wa, wresult = a RequestSecurityTokenResponse holding the assertion, wctx echoed; MS-MWBF 2.2.4).
    A browser would post wresult to Entra ID's sign-in page for a session; here its assertion is exchanged at the
    token endpoint (SAML bearer grant), to read the user from Graph with the user's own token."""
    if not passive_url:
        base = mex_url or realm.get("federation_metadata_url") or realm.get("federation_active_auth_url")
        if not base:
            raise _fail("adfs_endpoint", "Home realm discovery names no AD FS for %s." % upn,
                        "give passive_sign_in_url (https://<fs or WAP name>/adfs/ls/).")
        passive_url = "https://%s/adfs/ls/" % urlsplit(base).netloc
    check_https("passive_sign_in_url", passive_url)
    host = urlsplit(passive_url).hostname
    context = uuid.uuid4().hex
    query = {"wa": "wsignin1.0", "wtrealm": AUDIENCE, "wctx": context}
    try:
        page = adfs_session.get(passive_url, params=query)
        if page.status_code >= 400:
            raise _fail("adfs_endpoint", "AD FS %s answered HTTP %d to the sign-in request." % (host, page.status_code),
                        "check passive_sign_in_url (the farm's /adfs/ls/, published through WAP for the extranet).")
        login = next((f for f in _forms(page.text).forms if "Password" in f["inputs"]), None)
        if login is None:
            raise _fail("adfs_endpoint", "AD FS %s showed no forms sign-in page (no form with a Password field)." % host,
                        "enable forms authentication for the extranet (Set-AdfsGlobalAuthenticationPolicy "
                        "-PrimaryExtranetAuthenticationProvider FormsAuthentication).")
        action = urljoin(page.url or passive_url, login["action"] or passive_url)
        if urlsplit(action).scheme != "https":
            raise _fail("protocol", "The AD FS sign-in form posts to %s, not over https." % urlsplit(action).hostname,
                        "check the farm's sign-in page customisation.")
        answer = adfs_session.post(action, data={"UserName": upn, "Password": password,
                                                 "AuthMethod": "FormsAuthentication"})
    except requests.exceptions.RequestException as err:
        raise gc.network_error(err, passive_url) from None
    parsed = _forms(answer.text)
    posted = next((f for f in parsed.forms if "wresult" in f["inputs"]), None)
    if posted is None:
        if answer.status_code < 400 and any("Password" in f["inputs"] for f in parsed.forms):
            shown = " ".join(parsed.error.split())[:200] or "no error text"
            raise _fail("wrong_password", "SSO test: AD FS %s refused the forms sign-in of %s (the sign-in page came "
                        "back: %s)." % (host, upn, redact(shown)),
                        REMEDIES["wrong_password"] + " Also check that the account is enabled and not locked out "
                        "(AD FS extranet lockout).")
        raise _fail("protocol", "SSO test: AD FS %s answered the forms sign-in with HTTP %d and no token form."
                    % (host, answer.status_code), "check the AD FS event log (AD FS/Admin) for the request.")
    fields = posted["inputs"]
    if fields.get("wa") != "wsignin1.0" or fields.get("wctx", context) != context:
        raise _fail("protocol", "SSO test: AD FS %s answered with a token form for another request (wa %s, wctx not "
                    "ours)." % (host, fields.get("wa")), "check the farm's sign-in page customisation.")
    assertion, token_type = parse_rstr(fields["wresult"], host)
    return saml_bearer_grant(session, settings, assertion, token_type), {"address": passive_url}


def saml_bearer_grant(session, settings, assertion, token_type):
    """Entra ID's token for the user in exchange for the assertion AD FS issued (SAML 1.1 or 2.0 bearer grant)."""
    url = "%s/%s/oauth2/v2.0/token" % (settings["authority"], settings["tenant"])
    form = {"grant_type": SAML_GRANTS[token_type], "client_id": settings["client_id"],
            # base64url without padding (RFC 7522 section 2.1; MSAL's encode_saml_assertion does the same)
            "assertion": base64.urlsafe_b64encode(assertion.encode("utf-8")).rstrip(b"=").decode("ascii"),
            "scope": "%s/User.Read openid profile" % settings["graph"]}
    try:
        return session.post(url, data=form, headers={"Accept": "application/json"}).json()
    except requests.exceptions.RequestException as err:
        raise gc.network_error(err, url) from None
    except ValueError:
        raise _fail("protocol", "The token endpoint did not answer JSON.", "check authority_url and cloud.") from None


def msal_sign_in(session, settings, upn, password):
    kwargs = {"authority": "%s/%s" % (settings["authority"], settings["tenant"]), "http_client": session}
    if settings["custom_endpoints"]:
        kwargs["instance_discovery"] = False
    try:
        app = msal.PublicClientApplication(settings["client_id"], **kwargs)
        with warnings.catch_warnings():  # MSAL's DeprecationWarning: the task warns once itself (MSAL_WARNING)
            warnings.simplefilter("ignore", DeprecationWarning)
            return app.acquire_token_by_username_password(upn, password, scopes=["%s/User.Read" % settings["graph"]])
    except requests.exceptions.RequestException as err:
        raise gc.network_error(err, settings["authority"]) from None
    except (ValueError, RuntimeError) as err:
        raise _fail("sign_in", "SSO test: MSAL's username/password flow failed: %s" % redact(err)[:200],
                    "check client_id and tenant_id, or use method=wstrust.") from None


class _TokenGraph(gc.GraphClient):
    """The Graph client with a token it was given (the test user's): no sign-in of its own."""

    def __init__(self, params, access_token):
        super().__init__(dict(params, auth="device_code", certificate_path=None))
        self._token = access_token


def read_entra_user(client, upn):
    try:
        return client.get("users/%s" % quote(upn), params={"$select": SELECT})
    except GraphError as err:
        if err.status == 404:
            raise _fail("user_not_found", "SSO test: user %s was not found in Entra ID." % upn) from None
        raise


def compare(upn, ad_user, entra):
    """One line per difference; [] when Entra ID sees what AD holds."""
    problems = []
    if (entra.get("userPrincipalName") or "").lower() != (ad_user["userPrincipalName"] or "").lower():
        problems.append("UPN differs: AD %s, Entra ID %s" % (ad_user["userPrincipalName"], entra.get("userPrincipalName")))
    if entra.get("onPremisesImmutableId") != ad_user["immutable_id"]:
        problems.append("ImmutableID differs: AD %s (from %s), Entra ID %s" % (
            ad_user["immutable_id"], ad_user["anchor_attribute"], entra.get("onPremisesImmutableId")))
    return problems


def run_sso_test(params, check_mode=False, notify=None):
    """Entry point (action plugin and module main). Read-only: the same in check mode (a sign-in changes nothing)."""
    del check_mode
    result = {"changed": False, "passed": False, "user_principal_name": params.get("user_principal_name"),
              "method": params.get("method") or "wstrust", "warnings": []}
    try:
        gc.check_requirements()
        upn, settings, ldap_params, warnings = validate(params)
        result["warnings"].extend(warnings)
        session = gc._Session(settings["verify"], settings["timeout"])  # pylint: disable=protected-access
        adfs_session = gc._Session(params.get("adfs_ca_file") or True, settings["timeout"])  # pylint: disable=protected-access
        ad_user = read_ad_user(ldap_params, upn, params.get("search_base"))
        result["ad"] = ad_user
        realm = home_realm(session, settings["authority"], upn)
        result["federation"] = {"account_type": realm.get("account_type"),
                                "federation_metadata_url": realm.get("federation_metadata_url"),
                                "federation_active_auth_url": realm.get("federation_active_auth_url")}
        if result["method"] == "msal":
            result["warnings"].append(MSAL_WARNING)
            token = msal_sign_in(session, settings, upn, params["user_password"])
        elif result["method"] == "forms":
            token, endpoint = forms_sign_in(session, adfs_session, settings, upn, params["user_password"], realm,
                                            params.get("passive_sign_in_url"), params.get("mex_url"))
            result["adfs_endpoint"] = endpoint["address"]
        elif result["method"] == "windows":
            token, endpoint = windows_sign_in(session, adfs_session, settings, ad_user.get("kerberos_principal"),
                                              params["user_password"], realm, upn, params.get("mex_url"))
            result["adfs_endpoint"] = endpoint["address"]
        else:
            token, endpoint = wstrust_sign_in(session, adfs_session, settings, upn, params["user_password"], realm,
                                              params.get("mex_url"))
            result["adfs_endpoint"] = endpoint["address"]
        if "access_token" not in (token or {}):
            err = user_sign_in_error(token or {}, upn, settings["tenant"], settings["client_id"], settings["cloud"])
            if err.kind == "immutable_id" and settings["app"]:
                entra = read_entra_user(gc.GraphClient(params, notify=notify), upn)
                result["entra"] = entra
                raise _fail("immutable_id", "SSO test: ImmutableID mismatch for %s: AD %s (from %s), Entra ID %s "
                            "(AADSTS51004)." % (upn, ad_user["immutable_id"], ad_user["anchor_attribute"],
                                                entra.get("onPremisesImmutableId")))
            if err.kind == "immutable_id":
                raise _fail("immutable_id", "SSO test: ImmutableID mismatch for %s: AD FS issued %s (from %s), and no "
                            "user of the tenant holds it (AADSTS51004)." % (upn, ad_user["immutable_id"],
                                                                            ad_user["anchor_attribute"]))
            raise err
        entra = read_entra_user(_TokenGraph(params, token["access_token"]), upn)
        result["entra"] = entra
        problems = compare(upn, ad_user, entra)
        if problems:
            kind = "immutable_id" if any(p.startswith("ImmutableID") for p in problems) else "upn"
            raise _fail(kind, "SSO test: %s signed in, but %s." % (upn, "; ".join(problems)))
    except lc.LdapError as err:
        message = "SSO test: reading the user from AD failed: %s" % err
        result.update(failed=True, msg=message, reason="ldap", checks=[verify_check("fail", message)])
        return result
    except GraphError as err:
        result.update(failed=True, msg=str(err), reason=err.kind,
                      checks=[verify_check("fail", err.message, err.remedy)])
        return result
    result["passed"] = True
    where = " (%s)" % urlsplit(result["adfs_endpoint"]).hostname if result.get("adfs_endpoint") else ""
    how = {"windows": " with Windows authentication (Kerberos)",
           "forms": " with the forms sign-in page (WS-Federation)"}.get(result["method"], "")
    result["msg"] = ("SSO test passed: %s signed in through AD FS%s%s; Entra ID sees UPN %s and ImmutableID %s, as "
                     "AD holds (%s)." % (upn, where, how, entra.get("userPrincipalName"),
                                         entra.get("onPremisesImmutableId"), ad_user["anchor_attribute"]))
    result["checks"] = [verify_check("pass", result["msg"])]
    return result


def verify_check(status, message, remedy=None):
    """The test's verdict as a verify row of the onboarding report (plugin_utils/onboarding/model.py): PASS with
    the one-line result, or FAIL with the one-line reason and its remedy."""
    return {"id": CHECK_ID, "status": status, "message": message, "remedy": remedy if status != "pass" else None}
