#!/usr/bin/python
# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: tls_endpoint_check
short_description: Check the TLS certificate and protocol of the federation service or RMS connector name
version_added: 0.1.0
description:
  - Connects from the controller to O(host) (or to O(address), presenting O(host) as the TLS server
    name, to check one farm node or the load balancer) and checks what the server presents.
  - "Checks, each V(pass), V(warn) or V(fail) with a message and a remedy: V(chain) (the chain
    validates against O(ca_file) or the controller's system CA store); V(san) (the Subject Alternative
    Names cover O(host) and every O(required_names) entry; a name only in the subject CN is a warning);
    V(expiry) (not yet valid or expired fails, fewer than O(warn_days) days left warns; RV(days_left) is
    returned); V(protocol) (the negotiated TLS version is at least O(minimum_tls_version)); V(eku) (the
    Server Authentication extended key usage that AD FS and WAP require)."
  - Fails when any check fails, listing all of them. When the endpoint cannot be reached the module
    fails with the cause (name resolution, refused, timeout, handshake), or only warns with
    O(fail_on_unreachable=false).
  - The certificate is read with the Python C(cryptography) library. Read-only. Runs on the controller,
    whatever the play's hosts are.
author:
  - ems.enable contributors (@ems-enable)
requirements:
  - cryptography (on the controller)
options:
  host:
    description: Service name the certificate must cover (for example C(fs.contoso.com)); also the TLS server name (SNI).
    type: str
    required: true
  port:
    description: TCP port.
    type: int
    default: 443
  address:
    description: Connect to this IP address or name instead of resolving O(host) (one AD FS node, the load balancer).
    type: str
  required_names:
    description:
      - Further names the certificate must cover, for example C(certauth.fs.contoso.com) or
        C(enterpriseregistration.contoso.com).
    type: list
    elements: str
    default: []
  ca_file:
    description:
      - PEM bundle of the CA certificates to validate the chain against. Default the controller's system
        CA store (what a publicly trusted AD FS certificate must pass).
    type: path
  warn_days:
    description: Warn when the certificate expires in fewer days than this.
    type: int
    default: 30
  minimum_tls_version:
    description: Lowest acceptable negotiated TLS version.
    type: str
    choices: ["1.0", "1.1", "1.2", "1.3"]
    default: "1.2"
  require_server_auth_eku:
    description: Fail when the certificate has an Extended Key Usage extension without Server Authentication.
    type: bool
    default: true
  fail_on_unreachable:
    description: Fail when the endpoint cannot be reached; with V(false) the module only warns (C(reachable=false)).
    type: bool
    default: true
  timeout:
    description: Seconds for the connection and the handshake.
    type: float
    default: 10.0
attributes:
  check_mode:
    support: full
    description: Read-only; check mode does the same checks.
seealso:
  - module: ems.enable.dns_check
"""

EXAMPLES = r"""
- name: Federation service certificate, as the clients see it
  ems.enable.tls_endpoint_check:
    host: fs.contoso.com
    required_names: [certauth.fs.contoso.com]

- name: Each AD FS node presents the right certificate (internal CA in a test farm)
  ems.enable.tls_endpoint_check:
    host: fs.contoso.com
    address: "{{ item }}"
    ca_file: /etc/pki/contoso-root.pem
    warn_days: 45
  loop: [10.0.1.11, 10.0.1.12]

- name: RMS connector name, only when it is already published
  ems.enable.tls_endpoint_check:
    host: rmsconnector.contoso.com
    fail_on_unreachable: false
"""

RETURN = r"""
checks:
  description: Every check.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: V(chain), V(san), V(expiry), V(protocol), V(eku) (or V(reachable) when not reachable).
      type: str
    status:
      description: V(pass), V(warn) or V(fail).
      type: str
    message:
      description: What was found, naming host, port and address.
      type: str
    remedy:
      description: What to do (null when it passed).
      type: str
  sample:
    - id: expiry
      status: fail
      message: "fs.contoso.com:443: the certificate expired on 2025-01-31T12:00:00+00:00 (12 days ago)."
      remedy: "Renew the certificate and bind the new one (AD FS: Set-AdfsSslCertificate; WAP: Set-WebApplicationProxySslCertificate)."
certificate:
  description: The certificate the server presented (null when not reachable).
  returned: always
  type: dict
  contains:
    subject:
      description: Subject (RFC 4514).
      type: str
    issuer:
      description: Issuer (RFC 4514).
      type: str
    san_dns:
      description: DNS names of the Subject Alternative Names.
      type: list
      elements: str
    not_after:
      description: End of validity (ISO 8601, UTC).
      type: str
    sha256_fingerprint:
      description: SHA-256 of the DER certificate.
      type: str
tls_version:
  description: Negotiated protocol, for example V(TLSv1.3).
  returned: always
  type: str
cipher:
  description: Negotiated cipher suite.
  returned: always
  type: str
days_left:
  description: Whole days until the certificate expires (negative when expired).
  returned: always
  type: int
reachable:
  description: Whether a TLS handshake was possible.
  returned: always
  type: bool
summary:
  description: Number of checks per status.
  returned: always
  type: dict
  sample: {pass: 5, warn: 0, fail: 0}
"""

from ansible_collections.ems.enable.plugins.module_utils.ad import modules as ad_modules
from ansible_collections.ems.enable.plugins.module_utils.network import tls_endpoint


def main():
    ad_modules.module_main(tls_endpoint.TLS_ENDPOINT_SPEC, tls_endpoint.TLS_ENDPOINT_KWARGS,
                           tls_endpoint.run_tls_endpoint_check)


if __name__ == "__main__":
    main()
