#!/usr/bin/python
# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: sso_test
short_description: Sign a test user in through AD FS to Entra ID and compare the UPN and ImmutableID Entra ID sees with AD
version_added: 0.2.0
description:
  - Reads the test user from AD over LDAP (its C(userPrincipalName) and the ImmutableID by the source-anchor rule
    of the claim rules - base64 of C(ms-DS-ConsistencyGuid) when set, else of C(objectGUID)).
  - Asks Entra ID's home realm discovery (C(/common/userrealm/<upn>?api-version=1.0)) whether the user's domain
    is Federated and where its AD FS is; a Managed domain fails with "still Managed".
  - Signs the user in at AD FS with WS-Trust 1.3 (usernamemixed, the endpoint the farm's MEX document names,
    the extranet path through WAP; WS-Trust 2005 when the farm offers no 1.3 endpoint), then exchanges the SAML
    assertion for a token of Entra ID for the user (SAML bearer grant) and reads the user's
    C(userPrincipalName), C(onPremisesImmutableId) and C(onPremisesSyncEnabled) from Microsoft Graph with it.
  - Passes when Entra ID's UPN and ImmutableID equal AD's. Every failure is one line - wrong password (the AD FS
    fault), ImmutableID mismatch (both values), domain still Managed, user not found (AD or Entra ID), MFA
    required, network or TLS faults.
  - O(method=msal) uses MSAL's username/password flow instead (the same steps inside MSAL). MSAL warns that it
    is deprecated for public clients and it fails for users under MFA or Conditional Access; the task warns too.
  - The password, the assertion and the tokens never appear in the result or the output. Read-only; check
    mode runs the same test (a sign-in changes nothing the collection manages).
  - The app certificate options are optional here - when given (O(certificate_path)), the app's Graph client
    (application permission C(User.Read.All)) reads the user to name Entra ID's ImmutableID when Entra ID refused
    the assertion (AADSTS51004). The user's sign-in uses O(client_id) as a public client (the app registration
    must allow public client flows and have the delegated permission C(User.Read)).
  - O(method=windows) is the intranet path - integrated Windows authentication. The controller gets a Kerberos
    ticket for the user (C(sAMAccountName@REALM), the realm from the user's DN) from the domain's KDC with
    O(user_password) (krb5.conf names the realm's KDCs; the ticket stays in the process's memory), and sends it
    with HTTP Negotiate (SPNEGO) to the farm's WS-Trust 1.3 Windows transport endpoint
    (C(/adfs/services/trust/13/windowstransport), from the MEX document), whose SPN C(HTTP/<farm name>) must be
    on the AD FS service account. The assertion is then exchanged as with V(wstrust). A wrong password is refused
    by the KDC, a missing SPN is named.
  - O(method=forms) is the browser's extranet path through WAP - WS-Federation passive sign-in with the forms
    page. C(GET <passive>?wa=wsignin1.0&wtrealm=urn:federation:MicrosoftOnline&wctx=...) shows the sign-in page;
    its form is posted with C(UserName), C(Password) and C(AuthMethod=FormsAuthentication); AD FS answers with the
    form a browser posts to Entra ID (C(wa), C(wresult) holding the assertion, C(wctx)). A browser would post it to
    Entra ID's sign-in page for a session; the task exchanges its assertion for a token instead (SAML bearer grant)
    to read the user from Graph. The sign-in page coming back is a refused password.
  - Runs on the controller through its action plugin.
author:
  - ems.enable contributors (@ems-enable)
extends_documentation_fragment:
  - ems.enable.graph
options:
  user_principal_name:
    description: The test user's UPN (a user synchronized by Entra Connect, in a federated domain, without MFA).
    type: str
    required: true
  user_password:
    description: The test user's password (from the vault). Never shown or returned.
    type: str
    required: true
  method:
    description:
      - V(wstrust) signs in at AD FS with WS-Trust (the collection's own client) and exchanges the assertion.
      - V(windows) signs in with integrated Windows authentication (Kerberos, the intranet path; see above).
      - V(forms) signs in at the WS-Federation forms page (the browser's extranet path through WAP; see above).
      - V(msal) uses MSAL's C(acquire_token_by_username_password) - deprecated by MSAL for public clients,
        fails under MFA; a fallback for labs.
    type: str
    choices: [wstrust, windows, forms, msal]
    default: wstrust
  mex_url:
    description:
      - The farm's MEX URL (V(https://<fs>/adfs/services/trust/mex)); by default the one home realm discovery
        names (what Entra ID has in the domain's federation). Give the WAP name to test the extranet path explicitly.
    type: str
  passive_sign_in_url:
    description:
      - The WS-Federation sign-in endpoint for O(method=forms) (V(https://<fs or WAP name>/adfs/ls/)); by default
        C(/adfs/ls/) on the host of the MEX URL.
    type: str
  adfs_ca_file:
    description: PEM bundle of the CA of the AD FS / WAP TLS certificate; the system trust store by default.
    type: path
  search_base:
    description: Where to look for the user in AD; the domain's default naming context by default.
    type: str
  ldap:
    description: How to read AD (the options of the LDAP modules, e.g. ems.enable.ad_forest_info).
    type: dict
    required: true
    suboptions:
      server:
        description: Domain controllers (FQDN as in their TLS certificate), tried in order.
        type: list
        elements: str
        required: true
      port:
        description: TCP port; 636 for V(ldaps), 389 otherwise.
        type: int
      transport:
        description: V(ldaps), V(starttls), or V(ldap) (only with Kerberos sealing, or O(ldap.allow_cleartext) in a lab).
        type: str
        choices: [ldaps, starttls, ldap]
        default: ldaps
      auth:
        description: V(simple) bind with username and password, or V(kerberos) (SASL GSSAPI).
        type: str
        choices: [simple, kerberos]
        default: simple
      username:
        description: Bind user (UPN or C(DOMAIN\\user)); a normal domain user is enough.
        type: str
      password:
        description: Password of the bind user (from the vault). Never shown.
        type: str
      ca_file:
        description: PEM file of the CA of the DCs' LDAPS certificates.
        type: path
      validate_certs:
        description: Validate the DC's certificate; turn off only in labs.
        type: bool
        default: true
      timeout:
        description: Seconds per connection and operation.
        type: int
        default: 10
      allow_cleartext:
        description: Allow a simple bind over plain LDAP (isolated labs only).
        type: bool
        default: false
requirements:
  - msal and requests on the controller (requirements.txt); python-ldap for the AD side; gssapi and a krb5.conf
    with the user's realm for O(method=windows)
notes:
  - Proven only against the suite's stand-ins (userrealm, MEX, WS-Trust, the SAML bearer grant and Graph
    validated against Microsoft's pinned CSDL); see docs/tenant.md "What is proven where".
"""

EXAMPLES = r"""
- name: SSO test - the pilot user signs in through AD FS and Entra ID sees AD's UPN and ImmutableID
  ems.enable.sso_test:
    tenant_id: 8d3c1f6e-2b4a-4c5d-9e8f-0a1b2c3d4e5f
    client_id: 3f2a9c1e-7b6d-4e5f-8a9b-0c1d2e3f4a5b
    certificate_path: /etc/ems/graph-app.pem
    user_principal_name: sso.test@contoso.com
    user_password: "{{ vault_ems_sso_test_password }}"
    ldap:
      server: [dc1.contoso.com]
      username: reader@contoso.com
      password: "{{ vault_ad_reader_password }}"
"""

RETURN = r"""
passed:
  description: Whether the user signed in and Entra ID's UPN and ImmutableID equal AD's.
  returned: always
  type: bool
reason:
  description:
    - Why the test failed - V(input), V(ldap), V(user_not_found), V(managed), V(unknown_domain), V(wrong_password),
      V(adfs_fault), V(adfs_endpoint), V(immutable_id), V(upn), V(mfa_required), V(locked), V(disabled),
      V(password_expired), V(network), V(tls), V(dns), V(protocol) or an Entra ID sign-in fault kind.
  returned: on failure
  type: str
method:
  description: The sign-in method used.
  returned: always
  type: str
ad:
  description: The AD user - C(dn), C(userPrincipalName), C(immutable_id), C(anchor_attribute).
  returned: when the user was read from AD
  type: dict
federation:
  description: Home realm discovery's answer - C(account_type), C(federation_metadata_url), C(federation_active_auth_url).
  returned: when the domain is Federated
  type: dict
adfs_endpoint:
  description: The WS-Trust endpoint signed in at (from the MEX document).
  returned: with method=wstrust after the sign-in at AD FS
  type: str
checks:
  description:
    - The test's verdict as one verify row of the onboarding report (C(id) V(tenant.sso_test), C(status) V(pass) or
      V(fail), C(message) the one-line result or reason, C(remedy) on failure) - shown in the terminal's "Verify
      results" table and in report.md, report.html, report.json and junit.xml.
  returned: always, except when Ansible's argument validation refused the options
  type: list
  elements: dict
entra:
  description: The user as Entra ID sees it - C(id), C(userPrincipalName), C(onPremisesImmutableId), C(onPremisesSyncEnabled).
  returned: when read
  type: dict
"""

try:
    from ansible_collections.ems.enable.plugins.module_utils.ad.modules import module_main
    from ansible_collections.ems.enable.plugins.module_utils.tenant import sso
except ImportError:  # pragma: no cover
    module_main = sso = None


def main():
    module_main(sso.SSO_TEST_SPEC, sso.SSO_TEST_KWARGS, sso.run_sso_test)


if __name__ == "__main__":
    main()
