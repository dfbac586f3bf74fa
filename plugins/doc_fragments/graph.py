# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Microsoft Graph connection options (module_utils/graph/client.py GRAPH_ARGUMENT_SPEC).
    DOCUMENTATION = r"""
options:
  tenant_id:
    description:
      - The tenant, by its Directory (tenant) ID (a GUID) or one of its verified domains
        (for example V(contoso.onmicrosoft.com)). V(common) and V(organizations) are refused.
    type: str
    required: true
  client_id:
    description: The Application (client) ID of the app registration the collection signs in as (a GUID).
    type: str
    required: true
  auth:
    description:
      - V(certificate) signs in unattended as the application with its certificate (client credentials).
      - V(device_code) signs in as an operator (delegated) through the device code flow, for calls Graph
        allows only with delegated access (the directory synchronization settings). The task shows
        "open <url>, enter <code>" as an attended step and waits until the operator signed in
        (up to 15 minutes); with O(token_cache) the next runs sign in silently.
    type: str
    choices: [certificate, device_code]
    default: certificate
  certificate_path:
    description:
      - The app's certificate on the controller, with its private key - a PEM file (key and
        certificate; a key-only PEM needs O(certificate_thumbprint)) or a PFX/PKCS#12 file (C(.pfx), C(.p12)).
      - Checked before any request - missing file, wrong password, no private key, a certificate that
        does not belong to the key, expired or not yet valid - each one line naming the option.
      - Required with O(auth=certificate).
    type: path
  certificate_password:
    description: Password of the PEM private key or of the PFX file (from the vault). Never shown.
    type: str
  certificate_thumbprint:
    description:
      - SHA-1 thumbprint of the certificate as the app registration shows it (40 hex digits). Needed
        only for a key-only PEM file; otherwise computed and, when given, compared.
    type: str
  cloud:
    description:
      - The national cloud of the tenant; selects the sign-in authority and the Graph endpoint
        together (V(global) login.microsoftonline.com + graph.microsoft.com; V(usgov)
        login.microsoftonline.us + graph.microsoft.us; V(china) login.chinacloudapi.cn +
        microsoftgraph.chinacloudapi.cn).
    type: str
    choices: [china, global, usgov]
    default: global
  authority_url:
    description:
      - Overrides the cloud's sign-in host (https only), for a private endpoint or a test stand-in.
        Microsoft's authority validation is then skipped.
      - The base URL only, C(https://host[:port]) - no path, query, user information or spaces.
    type: str
  graph_url:
    description:
      - Overrides the cloud's Graph endpoint (https only), for a private endpoint or a test stand-in.
      - The base URL only, C(https://host[:port]) - no path, query, user information or spaces.
    type: str
  ca_file:
    description:
      - PEM bundle of the CA(s) that sign the sign-in and Graph endpoints' certificates, for a
        TLS-inspecting proxy. Default is the system's trust store.
      - Must hold PEM certificates (checked before any request).
    type: path
  token_cache:
    description:
      - Opt-in MSAL token cache file on the controller (written with mode 0600; an existing file
        readable by others is refused). It holds refresh tokens - keep it on the operator's machine.
        Without it, nothing is stored.
    type: path
  timeout:
    description: Seconds to wait for each HTTP answer, 1 to 3600.
    type: int
    default: 30
  max_retries:
    description:
      - Retries of a request Graph answers with 429 or 5xx, after its Retry-After (else 1, 2, 4 ... s),
        at most 300 seconds of waiting in all per request. 0 to 10.
    type: int
    default: 4
notes:
  - Runs on the controller (action plugin). Needs the Python library C(msal) (requirements.txt).
  - Tokens, keys and passwords never appear in results or messages.
  - Permissions per call are in docs/tenant.md; a 403 names the missing one.
"""
