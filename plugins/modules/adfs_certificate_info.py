#!/usr/bin/python
# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: adfs_certificate_info
short_description: Check the AD FS / Web Application Proxy TLS certificate (PFX) on the controller
version_added: 0.1.0
description:
  - Opens a PFX file on the controller with its password and checks it against the AD FS certificate
    requirements, before anything is copied to a Windows host. Returns every check with its verdict,
    message and remedy, and fails listing ALL failing checks; warnings never fail.
  - "Checks: the file opens with the password; it holds the private key of the certificate; the SAN
    (or, without a SAN, the subject CN) covers the federation service name, C(certauth.<name>) when
    O(certificate_authentication) is on and C(enterpriseregistration.<suffix>) for each of
    O(device_registration_upn_suffixes); the certificate is valid now (a warning under
    O(min_days_valid) days); the Server Authentication EKU; an RSA key of O(min_rsa_key_size) bits or
    more; the key provider the PFX names is a legacy CSP, not a CNG key storage provider; a
    self-signed certificate is a warning."
  - "What cannot be seen in a PFX: the KeySpec a key gets when the PFX names no provider (Windows
    decides at import), and whether the hosts trust the chain. The ems.enable.adfs role reads both on
    every host after the import."
  - Read-only. Runs on the controller, whatever the play's hosts are (action plugin); no delegate_to.
  - "Sources: U(https://learn.microsoft.com/windows-server/identity/ad-fs/overview/ad-fs-requirements)
    (Certificate requirements) and
    U(https://learn.microsoft.com/windows-server/identity/ad-fs/technical-reference/ad-fs-and-keyspec-property)."
author:
  - ems.enable contributors (@ems-enable)
requirements:
  - cryptography (Python, on the controller)
options:
  path:
    description: Path of the PFX (PKCS#12) file on the controller.
    type: path
    required: true
  password:
    description: Password of the PFX file. Keep it in a vault.
    type: str
    required: true
  federation_service_name:
    description: The federation service name (for example C(fs.contoso.com)) the certificate must cover.
    type: str
    required: true
  certificate_authentication:
    description: User certificate authentication on port 443 is planned; the SAN must then hold C(certauth.<federation service name>).
    type: bool
    default: false
  device_registration_upn_suffixes:
    description: UPN suffixes used for device registration; the SAN must hold C(enterpriseregistration.<suffix>) for each.
    type: list
    elements: str
    default: []
  min_days_valid:
    description: Fewer days of validity left than this is a warning.
    type: int
    default: 30
  min_rsa_key_size:
    description: Smallest acceptable RSA key, in bits.
    type: int
    default: 2048
  import_on_windows_server_2016:
    description:
      - Warn when the PFX is protected with PBES2/AES or a SHA-2 MAC (the OpenSSL 3 default), which
        Windows Server 2016 does not import. Turn off when every AD FS and WAP host runs 2019 or later.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Read-only; check mode gives the same verdicts.
notes:
  - The password is never returned. The certificate's public facts (thumbprint, names, dates) are.
seealso:
  - module: ems.enable.adfs_farm
  - module: ems.enable.web_application_proxy
"""

EXAMPLES = r"""
- name: Check the AD FS certificate before the farm is built
  ems.enable.adfs_certificate_info:
    path: files/fs.contoso.com.pfx
    password: "{{ vault_adfs_certificate_pfx_password }}"
    federation_service_name: fs.contoso.com
    device_registration_upn_suffixes: [contoso.com]
  register: adfs_cert
  no_log: true

- name: Use the thumbprint for the Windows tasks
  ansible.builtin.debug:
    msg: "{{ adfs_cert.certificate.thumbprint }} valid until {{ adfs_cert.certificate.not_after }}"
"""

RETURN = r"""
checks:
  description: Every check, in evaluation order.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Check id, for example V(adfs_certificate.name), V(adfs_certificate.validity).
      type: str
    status:
      description: V(pass), V(warn) or V(fail).
      type: str
    message:
      description: What was found, naming the file, the certificate and the values.
      type: str
    remedy:
      description: What to do (null when the check passed).
      type: str
  sample:
    - id: adfs_certificate.name
      status: fail
      message: "Certificate CN=www.contoso.com does not cover fs.contoso.com (the federation service name): its SAN
        holds www.contoso.com."
      remedy: "Request a certificate whose SAN lists fs.contoso.com (a wildcard covers one label only)."
summary:
  description: Number of checks per status.
  returned: always
  type: dict
  sample: {pass: 9, warn: 1, fail: 0}
certificate:
  description: Public facts of the certificate (null when the PFX could not be opened).
  returned: always
  type: dict
  contains:
    thumbprint:
      description: SHA-1 thumbprint in upper case, as Windows shows it (Cert:\LocalMachine\My\<thumbprint>).
      type: str
      sample: 8169C52B4EC6E77EB2AE17F028FE5DA4E35C0BED
    subject:
      description: Subject (RFC 4514).
      type: str
    issuer:
      description: Issuer (RFC 4514).
      type: str
    self_signed:
      description: Subject and issuer are the same.
      type: bool
    not_before:
      description: Start of validity (UTC, ISO 8601).
      type: str
    not_after:
      description: End of validity (UTC, ISO 8601).
      type: str
    days_remaining:
      description: Whole days of validity left (0 when expired).
      type: int
    dns_names:
      description: DNS names of the SAN.
      type: list
      elements: str
    extended_key_usages:
      description: EKU OIDs.
      type: list
      elements: str
    key:
      description: Key algorithm and size.
      type: dict
pfx:
  description: What the PFX shows without its password (containers, key bags with the provider named, MAC digest).
  returned: when the file is a PFX
  type: dict
required_names:
  description: The DNS names the certificate had to cover.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.ems.enable.plugins.module_utils.adfs import certificate as adfs_certificate
from ansible_collections.ems.enable.plugins.module_utils.ad import modules as ad_modules


def main():
    ad_modules.module_main(adfs_certificate.ARGUMENT_SPEC, adfs_certificate.KWARGS,
                           adfs_certificate.run_certificate_info)


if __name__ == "__main__":
    main()
