"""The login side of the stand-in (tests/graph/standin.py routes to it): Entra ID's home realm discovery
(userrealm), the AD FS farm's MEX document and WS-Trust 1.3 / 2005 username/password endpoints, and
Entra ID's SAML bearer grant. Stateful: userrealm answers from the tenant's domains (Federated once
domain_federation POSTed a federationConfiguration, whose metadataExchangeUri it names); AD FS knows
the users of ``stand.adfs["users"]`` and issues their UPN and ImmutableID claims; the bearer grant
accepts only assertions this AD FS issued and maps them to the tenant user holding that ImmutableID,
as Entra ID does for a federated domain.

Message shapes and their sources (structure paraphrased, no text copied):
- userrealm JSON: the fields MSAL Python reads from it (msal/authority.py user_realm_discovery and
  msal/application.py _acquire_token_by_username_password_federated: account_type, domain_name,
  federation_protocol, federation_metadata_url, federation_active_auth_url, cloud_audience_urn).
- MEX: AzureAD/microsoft-authentication-library-for-python tests/microsoft.mex.xml (a WSDL with
  wsp:Policy elements by wsu:Id - username policies are SignedEncryptedSupportingTokens/UsernameToken/
  WssUsernameToken10 under a TransportBinding; wsdl:binding with soap12:binding transport
  http://schemas.xmlsoap.org/soap/http and soap12:operation soapAction; wsdl:service/wsdl:port with a
  wsa10:EndpointReference/Address), the parser test tests/test_mex.py expecting .../trust/13/usernamemixed.
- RSTR: OASIS WS-Trust 1.3 section 4.4 (RequestSecurityTokenResponseCollection > RequestSecurityTokenResponse
  with Lifetime, AppliesTo, RequestedSecurityToken, TokenType); MSAL tests/test_wstrust.py reads an
  rst_response.xml of that shape with a SAML 1.1 assertion (token type urn:oasis:names:tc:SAML:1.0:assertion).
- SOAP fault: MSAL tests/test_wstrust.py test_parse_error (s:Fault > s:Code > s:Value s:Sender > s:Subcode >
  s:Value, s:Reason > s:Text; there MSIS3127 RequestFailed); the wrong-password subcode
  wst:FailedAuthentication is OASIS WS-Trust 1.3 section 11 ("Authentication failed"), with AD FS's
  ID3242 reason text as commonly reported (not from a Microsoft sample: UNCONFIRMED wording).
- AADSTS codes: entra-docs identity-platform/reference-error-codes.md (51004 UserAccountNotInDirectory,
  50076 UserStrongAuthRequired, 50126 InvalidUserNameOrPassword).
- Intranet Windows authentication (issue 15, rest): AD FS's WS-Trust 1.3 Windows transport endpoint
  /adfs/services/trust/13/windowstransport (binding Trust13WindowsTransport, WindowsWSTrustBinding with
  SecurityMode.Transport: learn.microsoft.com archive/blogs/alikl "How To: Use AD FS Endpoints When Developing
  Claims Aware WCF Services Using WIF"; WIF "Built-in Bindings Overview" ee517297: WindowsWSTrustBinding
  authenticates with SPNEGO), named in the MEX by a policy with http:NegotiateAuthentication (MSAL's
  tests/microsoft.mex.xml has that port). Integrated Windows authentication is Kerberos (or NTLM) with the SPN
  of the AD FS service account (windowsserverdocs identity/ad-fs/troubleshooting/ad-fs-tshoot-iwa.md); over
  HTTP the SPNEGO token travels as "Authorization: Negotiate <base64>" after a 401 with
  "WWW-Authenticate: Negotiate" (RFC 4559 section 4). The stand-in accepts the token with the GSSAPI acceptor
  and the service's keytab (``adfs_keytab`` of the SSO state; the lab exports it for HTTP/<farm name> from the
  Samba KDC), so a ticket is validated for real; the user is the ticket's client principal (``principal`` of an
  ``adfs_users`` entry), as AD FS maps the Windows account to its claims.
- Extranet browser sign-in (WS-Federation passive, forms): GET /adfs/ls/?wa=wsignin1.0&wtrealm=...&wctx=...
  shows the sign-in page; its form posts UserName, Password and AuthMethod=FormsAuthentication (the fields
  Microsoft's MSIdentityTools module posts: PowerShell Gallery MSIdentityTools internal/New-AdfsLoginFormFields.ps1).
  Signed in, AD FS answers with a page whose form posts wa=wsignin1.0, wresult (a wst:RequestSecurityTokenResponse
  holding the token) and wctx (echoed) to the relying party (MS-MWBF 2.2.4 "wsignin1.0 Response Message";
  WS-Federation 1.2 section 13.2.3; learn.microsoft.com archive/blogs/alikl "WIF Explained - Web Browser Sign-In
  Flow"); for Entra ID that is its login.srf. A refused password shows the sign-in page again with an error text
  (the page's markup and the error wording are the stand-in's own: UNCONFIRMED against a real farm).
"""

from __future__ import annotations

import base64
import datetime
import json
import re
import secrets
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, unquote, urlsplit

S = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WST = "http://docs.oasis-open.org/ws-sx/ws-trust/200512"
WST2005 = "http://schemas.xmlsoap.org/ws/2005/02/trust"
SAML1 = "urn:oasis:names:tc:SAML:1.0:assertion"
TRUST = "/adfs/services/trust"
GRANTS = {"urn:ietf:params:oauth:grant-type:saml1_1-bearer", "urn:ietf:params:oauth:grant-type:saml2-bearer"}


def adfs_state(issuer):
    """The farm: its identifier, users (UPN -> password, ImmutableID AD FS issues), issued assertions, logins."""
    return {"issuer": issuer, "users": {}, "issued": {}, "rst": [], "mex_enabled": True, "keytab": None,
            "kerberos_rejects": [], "forms": []}


def mex_document(base):
    """A MEX (WSDL) document of the farm: a 2005 and a 1.3 usernamemixed endpoint and a Windows-auth one."""
    return """<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions name="SecurityTokenService" targetNamespace="http://tempuri.org/"
  xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap12="http://schemas.xmlsoap.org/wsdl/soap12/"
  xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy"
  xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
  xmlns:sp="http://docs.oasis-open.org/ws-sx/ws-securitypolicy/200702"
  xmlns:sp2005="http://schemas.xmlsoap.org/ws/2005/07/securitypolicy"
  xmlns:http="http://schemas.microsoft.com/ws/06/2004/policy/http"
  xmlns:wsa10="http://www.w3.org/2005/08/addressing" xmlns:tns="http://tempuri.org/">
 <wsp:Policy wsu:Id="CustomBinding_IWSTrust13Async_UserNameMixed"><wsp:ExactlyOne><wsp:All>
  <sp:TransportBinding><wsp:Policy><sp:TransportToken><wsp:Policy><sp:HttpsToken/></wsp:Policy></sp:TransportToken>
  </wsp:Policy></sp:TransportBinding>
  <sp:SignedEncryptedSupportingTokens><wsp:Policy><sp:UsernameToken
   sp:IncludeToken="http://docs.oasis-open.org/ws-sx/ws-securitypolicy/200702/IncludeToken/AlwaysToRecipient">
   <wsp:Policy><sp:WssUsernameToken10/></wsp:Policy></sp:UsernameToken></wsp:Policy></sp:SignedEncryptedSupportingTokens>
 </wsp:All></wsp:ExactlyOne></wsp:Policy>
 <wsp:Policy wsu:Id="UserNameWSTrustBinding_IWSTrustFeb2005Async_policy"><wsp:ExactlyOne><wsp:All>
  <sp2005:TransportBinding><wsp:Policy><sp2005:TransportToken><wsp:Policy><sp2005:HttpsToken RequireClientCertificate="false"/>
  </wsp:Policy></sp2005:TransportToken></wsp:Policy></sp2005:TransportBinding>
  <sp2005:SignedSupportingTokens><wsp:Policy><sp2005:UsernameToken><wsp:Policy><sp2005:WssUsernameToken10/></wsp:Policy>
  </sp2005:UsernameToken></wsp:Policy></sp2005:SignedSupportingTokens>
 </wsp:All></wsp:ExactlyOne></wsp:Policy>
 <wsp:Policy wsu:Id="CustomBinding_IWSTrust13Async_WindowsTransport"><wsp:ExactlyOne><wsp:All>
  <http:NegotiateAuthentication/>
  <sp2005:TransportBinding><wsp:Policy><sp2005:TransportToken><wsp:Policy><sp2005:HttpsToken/></wsp:Policy>
  </sp2005:TransportToken></wsp:Policy></sp2005:TransportBinding>
 </wsp:All></wsp:ExactlyOne></wsp:Policy>
 <wsdl:binding name="UserNameWSTrustBinding_IWSTrustFeb2005Async" type="tns:IWSTrustFeb2005Async">
  <wsp:PolicyReference URI="#UserNameWSTrustBinding_IWSTrustFeb2005Async_policy"/>
  <soap12:binding transport="http://schemas.xmlsoap.org/soap/http"/>
  <wsdl:operation name="TrustFeb2005IssueAsync">
   <soap12:operation soapAction="http://schemas.xmlsoap.org/ws/2005/02/trust/RST/Issue" style="document"/>
  </wsdl:operation></wsdl:binding>
 <wsdl:binding name="CustomBinding_IWSTrust13Async_WindowsTransport" type="tns:IWSTrust13Async">
  <wsp:PolicyReference URI="#CustomBinding_IWSTrust13Async_WindowsTransport"/>
  <soap12:binding transport="http://schemas.xmlsoap.org/soap/http"/>
  <wsdl:operation name="Trust13IssueAsync">
   <soap12:operation soapAction="http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue" style="document"/>
  </wsdl:operation></wsdl:binding>
 <wsdl:binding name="CustomBinding_IWSTrust13Async_UserNameMixed" type="tns:IWSTrust13Async">
  <wsp:PolicyReference URI="#CustomBinding_IWSTrust13Async_UserNameMixed"/>
  <soap12:binding transport="http://schemas.xmlsoap.org/soap/http"/>
  <wsdl:operation name="Trust13IssueAsync">
   <soap12:operation soapAction="http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue" style="document"/>
  </wsdl:operation></wsdl:binding>
 <wsdl:service name="SecurityTokenService">
  <wsdl:port name="UserNameWSTrustBinding_IWSTrustFeb2005Async" binding="tns:UserNameWSTrustBinding_IWSTrustFeb2005Async">
   <soap12:address location="{base}{trust}/2005/usernamemixed"/>
   <wsa10:EndpointReference><wsa10:Address>{base}{trust}/2005/usernamemixed</wsa10:Address></wsa10:EndpointReference>
  </wsdl:port>
  <wsdl:port name="CustomBinding_IWSTrust13Async_WindowsTransport" binding="tns:CustomBinding_IWSTrust13Async_WindowsTransport">
   <soap12:address location="{base}{trust}/13/windowstransport"/>
   <wsa10:EndpointReference><wsa10:Address>{base}{trust}/13/windowstransport</wsa10:Address></wsa10:EndpointReference>
  </wsdl:port>
  <wsdl:port name="CustomBinding_IWSTrust13Async_UserNameMixed" binding="tns:CustomBinding_IWSTrust13Async_UserNameMixed">
   <soap12:address location="{base}{trust}/13/usernamemixed"/>
   <wsa10:EndpointReference><wsa10:Address>{base}{trust}/13/usernamemixed</wsa10:Address></wsa10:EndpointReference>
  </wsdl:port>
 </wsdl:service>
</wsdl:definitions>""".replace("{base}", base).replace("{trust}", TRUST)


def fault(subcode, reason):
    """A SOAP 1.2 fault as AD FS sends it (structure of MSAL tests/test_wstrust.py test_parse_error)."""
    return ("<s:Envelope xmlns:s='%s' xmlns:a='%s'><s:Header><a:Action s:mustUnderstand='1'>"
            "http://www.w3.org/2005/08/addressing/soap/fault</a:Action></s:Header><s:Body><s:Fault><s:Code>"
            "<s:Value>s:Sender</s:Value><s:Subcode><s:Value xmlns:a='%s'>a:%s</s:Value></s:Subcode></s:Code>"
            "<s:Reason><s:Text xml:lang='en-US'>%s</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>"
            % (S, WSA, WST, subcode, reason))


def saml11_assertion(issuer, user, assertion_id, now):
    """A SAML 1.1 assertion with the claims Entra ID needs (UPN, ImmutableID; roles/adfs/vars/entra_trust.yml),
    unsigned: the stand-in's bearer grant recognises it by its AssertionID, not by a signature."""
    end = now + datetime.timedelta(hours=1)
    stamp = "%Y-%m-%dT%H:%M:%S.000Z"
    return ("<saml:Assertion MajorVersion='1' MinorVersion='1' AssertionID='%s' Issuer='%s' IssueInstant='%s' "
            "xmlns:saml='%s'><saml:Conditions NotBefore='%s' NotOnOrAfter='%s'><saml:AudienceRestrictionCondition>"
            "<saml:Audience>urn:federation:MicrosoftOnline</saml:Audience></saml:AudienceRestrictionCondition>"
            "</saml:Conditions><saml:AttributeStatement><saml:Subject><saml:NameIdentifier "
            "Format='urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified'>%s</saml:NameIdentifier></saml:Subject>"
            "<saml:Attribute AttributeName='UPN' AttributeNamespace='http://schemas.xmlsoap.org/claims'>"
            "<saml:AttributeValue>%s</saml:AttributeValue></saml:Attribute>"
            "<saml:Attribute AttributeName='ImmutableID' AttributeNamespace='http://schemas.microsoft.com/LiveID/"
            "Federation/2008/05'><saml:AttributeValue>%s</saml:AttributeValue></saml:Attribute>"
            "</saml:AttributeStatement></saml:Assertion>"
            % (assertion_id, issuer, now.strftime(stamp), SAML1, now.strftime(stamp), end.strftime(stamp),
               user["immutable_id"], user["upn"], user["immutable_id"]))


def rstr(assertion, wst, now):
    stamp = "%Y-%m-%dT%H:%M:%S.000Z"
    return ("<s:Envelope xmlns:s='%s' xmlns:a='%s'><s:Header><a:Action s:mustUnderstand='1'>%s/RSTRC/IssueFinal"
            "</a:Action></s:Header><s:Body><trust:RequestSecurityTokenResponseCollection xmlns:trust='%s'>"
            "<trust:RequestSecurityTokenResponse><trust:Lifetime><wsu:Created xmlns:wsu='http://docs.oasis-open.org/"
            "wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd'>%s</wsu:Created></trust:Lifetime>"
            "<wsp:AppliesTo xmlns:wsp='http://schemas.xmlsoap.org/ws/2004/09/policy'><wsa:EndpointReference "
            "xmlns:wsa='%s'><wsa:Address>urn:federation:MicrosoftOnline</wsa:Address></wsa:EndpointReference>"
            "</wsp:AppliesTo><trust:RequestedSecurityToken>%s</trust:RequestedSecurityToken>"
            "<trust:TokenType>%s</trust:TokenType><trust:RequestType>%s/Issue</trust:RequestType>"
            "<trust:KeyType>%s/Bearer</trust:KeyType></trust:RequestSecurityTokenResponse>"
            "</trust:RequestSecurityTokenResponseCollection></s:Body></s:Envelope>"
            % (S, WSA, wst, wst, now.strftime(stamp), WSA, assertion, SAML1, wst, wst))


def _send(handler, stand, status, text, content_type):
    data = text.encode()
    with stand.lock:
        stand.log.append({"method": handler.command, "path": handler.path, "status": status, "consistency": None})
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
    return True


def _domain(stand, upn):
    name = upn.rpartition("@")[2].lower()
    return next((d for d in stand.tenant["domains"] if d["id"].lower() == name), None)


def userrealm(handler, stand, upn):
    domain = _domain(stand, upn)
    answer = {"ver": "1.0", "login": upn, "cloud_instance_name": "microsoftonline.com",
              "cloud_audience_urn": "urn:federation:MicrosoftOnline"}
    if domain is None:
        answer.update(account_type="Unknown")
    elif domain["authenticationType"] == "Federated":
        config = (stand.federations.get(domain["id"]) or [{}])[0]
        answer.update(account_type="Federated", domain_name=domain["id"], federation_protocol="WSTrust",
                      federation_metadata_url=config.get("metadataExchangeUri") or stand.url + TRUST + "/mex",
                      federation_active_auth_url=config.get("activeSignInUri") or stand.url + TRUST + "/2005/usernamemixed",
                      federation_global_version=-1)
    else:
        answer.update(account_type="Managed", domain_name=domain["id"])
    return _send(handler, stand, 200, json.dumps(answer), "application/json")


def wstrust(handler, stand, version, raw):
    """A WS-Trust Issue request: the UsernameToken checked against the farm's users."""
    wst = WST if version == "13" else WST2005
    now = datetime.datetime.now(datetime.timezone.utc)
    try:
        root = ET.fromstring(raw)
        name = root.findtext(".//{%s}UsernameToken/{%s}Username" % (WSSE, WSSE))
        password = root.findtext(".//{%s}UsernameToken/{%s}Password" % (WSSE, WSSE))
        applies = root.findtext(".//{%s}RequestSecurityToken//{%s}Address" % (wst, WSA))
        action = root.findtext("{%s}Header/{%s}Action" % (S, WSA))
    except ET.ParseError:
        return _send(handler, stand, 500, fault("InvalidRequest", "MSIS7065: not a SOAP message."), "application/soap+xml")
    with stand.lock:
        stand.adfs["rst"].append({"version": version, "username": name, "applies_to": applies, "action": action,
                                  "content_type": handler.headers.get("Content-Type")})
    if action != wst + "/RST/Issue" or applies != "urn:federation:MicrosoftOnline":
        return _send(handler, stand, 500, fault("RequestFailed", "MSIS3127: The specified request failed."),
                     "application/soap+xml")
    user = stand.adfs["users"].get((name or "").lower())
    if user is None or user["password"] != password:
        return _send(handler, stand, 500, fault("FailedAuthentication", "ID3242: The security token could not be "
                                                "authenticated or authorized."), "application/soap+xml")
    assertion_id = "_" + str(uuid.uuid4())
    stand.adfs["issued"][assertion_id] = dict(user)
    body = rstr(saml11_assertion(stand.adfs["issuer"], user, assertion_id, now), wst, now)
    return _send(handler, stand, 200, body, "application/soap+xml; charset=utf-8")


def _negotiate(handler, stand, status, text, content_type, challenge="Negotiate"):
    data = text.encode()
    with stand.lock:
        stand.log.append({"method": handler.command, "path": handler.path, "status": status, "consistency": None})
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    if challenge:
        handler.send_header("WWW-Authenticate", challenge)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
    return True


def accept_kerberos(stand, header):
    """The client principal of an "Authorization: Negotiate <token>" header, validated with the farm's keytab
    (GSSAPI acceptor: SPNEGO or a bare Kerberos AP-REQ); None when there is no valid token."""
    import gssapi  # the acceptor side of the same library the collection uses; only this endpoint needs it

    scheme, _space, value = (header or "").partition(" ")
    if scheme.lower() != "negotiate" or not value.strip() or not stand.adfs.get("keytab"):
        return None
    try:
        token = base64.b64decode(value.strip(), validate=True)
        creds = gssapi.Credentials(usage="accept", store={"keytab": stand.adfs["keytab"]})
        context = gssapi.SecurityContext(creds=creds, usage="accept")
        context.step(token)
    except (ValueError, gssapi.exceptions.GSSError) as err:
        with stand.lock:
            stand.adfs["kerberos_rejects"].append(" ".join(str(err).split())[:300])
        return None
    return str(context.initiator_name) if context.complete else None


def windowstransport(handler, stand, raw):
    """WS-Trust 1.3 Issue at the Windows transport endpoint: 401 Negotiate until a valid Kerberos ticket comes."""
    principal = accept_kerberos(stand, handler.headers.get("Authorization"))
    if principal is None:
        return _negotiate(handler, stand, 401, "", "text/html")
    now = datetime.datetime.now(datetime.timezone.utc)
    try:
        root = ET.fromstring(raw)
        applies = root.findtext(".//{%s}RequestSecurityToken//{%s}Address" % (WST, WSA))
        action = root.findtext("{%s}Header/{%s}Action" % (S, WSA))
        has_password = root.find(".//{%s}UsernameToken" % WSSE) is not None
    except ET.ParseError:
        return _send(handler, stand, 500, fault("InvalidRequest", "MSIS7065: not a SOAP message."), "application/soap+xml")
    with stand.lock:
        stand.adfs["rst"].append({"version": "13-windows", "username": principal, "applies_to": applies,
                                  "action": action, "content_type": handler.headers.get("Content-Type"),
                                  "username_token": has_password})
    if action != WST + "/RST/Issue" or applies != "urn:federation:MicrosoftOnline":
        return _send(handler, stand, 500, fault("RequestFailed", "MSIS3127: The specified request failed."),
                     "application/soap+xml")
    user = next((u for u in stand.adfs["users"].values() if (u.get("principal") or "").lower() == principal.lower()),
                None)
    if user is None:
        return _send(handler, stand, 500, fault("FailedAuthentication", "MSIS3019: the account of the ticket has no "
                                                "claims here."), "application/soap+xml")
    assertion_id = "_" + str(uuid.uuid4())
    stand.adfs["issued"][assertion_id] = dict(user)
    body = rstr(saml11_assertion(stand.adfs["issuer"], user, assertion_id, now), WST, now)
    return _send(handler, stand, 200, body, "application/soap+xml; charset=utf-8")


def _html(text):
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;") \
        .replace("'", "&#39;")


def sign_in_page(action, error=None):
    """The forms sign-in page (the stand-in's own markup; the field names are AD FS's)."""
    return ("<!DOCTYPE html><html><head><title>Sign In</title></head><body><div id='loginArea'>"
            "<form method='post' id='loginForm' autocomplete='off' action='%s'>"
            "%s<input id='userNameInput' name='UserName' type='email' value=''/>"
            "<input id='passwordInput' name='Password' type='password'/>"
            "<input id='optionForms' type='hidden' name='AuthMethod' value='FormsAuthentication'/>"
            "<span id='submitButton' role='button'>Sign in</span></form></div></body></html>"
            % (_html(action), "<span id='errorText' role='alert'>%s</span>" % _html(error) if error else ""))


def wsfed_passive(handler, stand, raw):
    """WS-Federation passive sign-in at /adfs/ls/ with forms authentication (see the module docstring)."""
    query = parse_qs(urlsplit(handler.path).query)
    if query.get("wa") != ["wsignin1.0"] or query.get("wtrealm") != ["urn:federation:MicrosoftOnline"]:
        return _send(handler, stand, 400, "<html><body>MSIS7042: the request is not a sign-in request of a known "
                     "relying party.</body></html>", "text/html; charset=utf-8")
    action = "/adfs/ls/?" + urlsplit(handler.path).query
    if handler.command == "GET":
        return _send(handler, stand, 200, sign_in_page(action), "text/html; charset=utf-8")
    form = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()}
    with stand.lock:
        stand.adfs["forms"].append({"username": form.get("UserName"), "auth_method": form.get("AuthMethod"),
                                    "content_type": handler.headers.get("Content-Type")})
    user = stand.adfs["users"].get((form.get("UserName") or "").lower())
    if form.get("AuthMethod") != "FormsAuthentication" or user is None or user["password"] != form.get("Password"):
        return _send(handler, stand, 200, sign_in_page(action, "Incorrect user ID or password. Type the correct user "
                                                       "ID and password, and try again."), "text/html; charset=utf-8")
    now = datetime.datetime.now(datetime.timezone.utc)
    assertion_id = "_" + str(uuid.uuid4())
    stand.adfs["issued"][assertion_id] = dict(user)
    assertion = saml11_assertion(stand.adfs["issuer"], user, assertion_id, now)
    # wresult: the RequestSecurityTokenResponse alone, in the WS-Trust February 2005 namespace MS-MWBF names (wst)
    result = re.search(r"<trust:RequestSecurityTokenResponse>.*</trust:RequestSecurityTokenResponse>",
                       rstr(assertion, WST2005, now), re.S).group(0).replace(
        "<trust:RequestSecurityTokenResponse>", "<trust:RequestSecurityTokenResponse xmlns:trust='%s'>" % WST2005, 1)
    page = ("<html><head><title>Working...</title></head><body><form method='POST' name='hiddenform' action='%s'>"
            "<input type='hidden' name='wa' value='wsignin1.0' /><input type='hidden' name='wresult' value='%s' />"
            "<input type='hidden' name='wctx' value='%s' /><noscript><p>Script is disabled. Click Submit to "
            "continue.</p><input type='submit' value='Submit' /></noscript></form></body></html>"
            % (_html(stand.url + "/login.srf"), _html(result), _html((query.get("wctx") or [""])[0])))
    return _send(handler, stand, 200, page, "text/html; charset=utf-8")


def route(handler, stand, raw):
    """Serve a login-side path; False when the path is not one of them."""
    path = urlsplit(handler.path).path
    match = re.match(r"^/common/userrealm/([^/]+)$", path)
    if match and handler.command == "GET":
        if parse_qs(urlsplit(handler.path).query).get("api-version") != ["1.0"]:
            return _send(handler, stand, 400, json.dumps({"error": "api-version 1.0 expected"}), "application/json")
        return userrealm(handler, stand, unquote(match.group(1)))
    if path == TRUST + "/mex" and handler.command == "GET" and stand.adfs["mex_enabled"]:
        # the endpoints at the name the client used (the farm's name on the intranet, 127.0.0.1 in unit tests)
        host = handler.headers.get("Host")
        base = "https://%s" % host if host and re.match(r"^[A-Za-z0-9.-]+(:\d+)?$", host) else stand.url
        return _send(handler, stand, 200, mex_document(base), "application/soap+xml; charset=utf-8")
    if path == TRUST + "/13/windowstransport" and handler.command == "POST":
        return windowstransport(handler, stand, raw)
    if path == "/adfs/ls/" and handler.command in ("GET", "POST"):
        return wsfed_passive(handler, stand, raw)
    match = re.match(r"^%s/(13|2005)/usernamemixed$" % TRUST, path)
    if match and handler.command == "POST":
        return wstrust(handler, stand, match.group(1), raw)
    return False


def saml_grant(handler, stand, form):
    """The SAML bearer grant at /<tenant>/oauth2/v2.0/token: the assertion must come from the farm, and a
    tenant user must hold its ImmutableID (else AADSTS51004, as Entra ID answers an unmatched anchor)."""
    value = form.get("assertion") or ""
    try:
        # base64url without padding, RFC 7522 section 2.1 (MSAL oauth2cli encode_saml_assertion does the same);
        # '+', '/' or '=' are standard base64, which the stand-in refuses as the RFC says
        if not re.fullmatch(r"[A-Za-z0-9_-]+", value):
            raise ValueError("not base64url")
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        assertion_id = re.search(r"AssertionID='([^']+)'", text).group(1)
    except (ValueError, AttributeError):
        return handler._aad_error(400, "invalid_grant", 50008, "SAML token is invalid.")
    issued = stand.adfs["issued"].pop(assertion_id, None)  # one use
    if issued is None:
        return handler._aad_error(400, "invalid_grant", 50008, "SAML token is invalid.")
    user = next((u for u in stand.tenant.get("users", []) if u.get("onPremisesImmutableId") == issued["immutable_id"]),
                None)
    if user is None:
        return handler._aad_error(400, "invalid_grant", 51004, "The user account %s does not exist in the %s "
                                  "directory." % (issued["upn"], stand.tenant["id"]))
    if user["userPrincipalName"].lower() in stand.mfa_users:
        return handler._aad_error(400, "invalid_grant", 50076, "Due to a configuration change made by your "
                                  "administrator, or because you moved to a new location, you must use multi-factor "
                                  "authentication to access the resource.")
    token = "standin-user-" + secrets.token_urlsafe(24)
    stand.tokens[token] = {"client_id": form.get("client_id"), "roles": {"User.Read"}, "delegated": True,
                           "user": user["userPrincipalName"]}
    return handler._send(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": token,
                               "scope": form.get("scope")}, check=False)


def user_resource(stand, path, query, grant, context):
    """GET /v1.0/users/{id | userPrincipalName}: the signed-in user itself (User.Read) or any (User.Read.All)."""
    key = unquote(path[len("/v1.0/users/"):])
    user = next((u for u in stand.tenant.get("users", []) if key.lower() in (u["id"], u["userPrincipalName"].lower())),
                None)
    own = user is not None and (grant.get("user") or "").lower() == user["userPrincipalName"].lower()
    if not own and "User.Read.All" not in grant["roles"]:
        return 403, {"code": "Authorization_RequestDenied", "message": "Insufficient privileges to complete the operation."}
    if user is None:
        return 404, {"code": "Request_ResourceNotFound", "message": "Resource '%s' does not exist." % key}
    select = [p for p in (query.get("$select") or "").split(",") if p]
    answer = {k: v for k, v in user.items() if not select or k in select}
    answer["@odata.context"] = context + "users(%s)" % (",".join(select) if select else "") + "/$entity"
    return 200, answer


def apply_sso_state(stand, state):
    """The SSO scenario of a stand-in process: domains verified and federated with this farm (a federation
    configuration naming its MEX), the farm's users (upn, password, immutable_id, optional Kerberos principal),
    the keytab of its service principal HTTP/<farm name> (adfs_keytab) and the tenant's users."""
    for name in state.get("federated_domains", []):
        domain = next(d for d in stand.tenant["domains"] if d["id"] == name)
        domain.update(isVerified=True, authenticationType="Federated")
        stand.federations[name] = [{"id": str(uuid.uuid4()), "issuerUri": stand.adfs["issuer"],
                                    "metadataExchangeUri": stand.url + TRUST + "/mex",
                                    "activeSignInUri": stand.url + TRUST + "/2005/usernamemixed"}]
    for user in state.get("adfs_users", []):
        stand.adfs["users"][user["upn"].lower()] = dict(user)
    stand.adfs["keytab"] = state.get("adfs_keytab")
    stand.mfa_users.update(u.lower() for u in state.get("mfa_users", []))  # Conditional Access asks them for MFA
    stand.tenant.setdefault("users", []).extend(dict(u) for u in state.get("tenant_users", []))
