# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input checks done BEFORE any request: tenant and client ids, the client certificate, the cache file.

The certificate is a PEM file (private key, with or without the certificate; a key-only file needs
certificate_thumbprint) or a PFX/PKCS#12 file; both may be password-protected. What MSAL gets is the
PEM private key, the SHA-1 thumbprint and (when known) the public certificate - never logged.
"""

from __future__ import annotations

import binascii
import datetime
import os
import re
import stat

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - cryptography is a requirement; guarded for ansible-test's import test
    HAS_CRYPTOGRAPHY = False

from ansible_collections.ems.enable.plugins.module_utils.graph.errors import GraphError
from ansible_collections.ems.enable.plugins.module_utils.network import host_names

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DOMAIN = re.compile(r"^(?=.{4,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$")
THUMBPRINT = re.compile(r"^[0-9a-fA-F]{40}$")
MULTI_TENANT = ("common", "organizations", "consumers")
PFX_SUFFIXES = (".pfx", ".p12")
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----.*?-----END \1-----", re.S)


def input_error(option, message, remedy):
    return GraphError("%s: %s" % (option, message), remedy, kind="input")


def _text(option, value, what):
    """A name option's text: a string without control characters (a tab or newline is not trimmed away)."""
    if value is None:
        return ""
    if not isinstance(value, str) or any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise input_error(option, "%r holds a control character or is not text" % (value,), "give %s." % what)
    return value.strip()


def check_tenant_id(value):
    value = _text("tenant_id", value, "the Directory (tenant) ID (a GUID) or a verified domain")
    if value.lower() in MULTI_TENANT:
        raise input_error("tenant_id", "%r is a multi-tenant alias, not a tenant" % value,
                          "give the Directory (tenant) ID (a GUID) or a verified domain such as contoso.onmicrosoft.com.")
    if not (GUID.match(value) or DOMAIN.match(value)):
        raise input_error("tenant_id", "%r is neither a GUID nor a domain name" % value,
                          "give the Directory (tenant) ID (Entra admin center > Overview) or a verified domain.")
    return value.lower()


def check_client_id(value):
    value = _text("client_id", value, "the Application (client) ID (a GUID)")
    if not GUID.match(value):
        raise input_error("client_id", "%r is not a GUID" % value,
                          "give the Application (client) ID of the app registration (a GUID).")
    return value.lower()


_UPN = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@([A-Za-z0-9.-]+)$")


def check_upn(option, value, remedy="give a user principal name such as ann@contoso.com."):
    """A user principal name (local part, @, a DNS domain); GraphError naming ``option`` otherwise."""
    value = (value or "").strip() if isinstance(value, str) else value
    match = _UPN.match(value) if isinstance(value, str) else None
    if not match or value.startswith(".") or ".." in value.split("@")[0]:
        raise input_error(option, "%r is not a user principal name" % (value,), remedy)
    check_domain_name(option, match.group(1))
    return value


def check_https_url(option, value, example, path=True):
    """network.host_names.check_https_url as a GraphError naming ``option`` (message, then the remedy)."""
    try:
        return host_names.check_https_url(value, option, example, path=path)
    except host_names.HostNameError as err:
        raise input_error(option, err.problem, err.remedy) from None


def check_domain_name(option, value):
    value = _text(option, value, "a domain such as contoso.com").rstrip(".")
    if not DOMAIN.match(value):
        raise input_error(option, "%r is not a DNS domain name" % value, "give a domain such as contoso.com.")
    return value.lower()


def _utc(cert, attr):
    value = getattr(cert, attr + "_utc", None)
    if value is None:  # cryptography < 42
        value = getattr(cert, attr).replace(tzinfo=datetime.timezone.utc)
    return value


class Credential:
    """A validated client certificate: PEM private key, thumbprint, certificate, validity."""

    def __init__(self, key_pem, thumbprint, cert_pem=None, not_after=None, subject=None):
        self.key_pem = key_pem
        self.thumbprint = thumbprint
        self.cert_pem = cert_pem
        self.not_after = not_after
        self.subject = subject

    def __repr__(self):  # never the key
        return "Credential(thumbprint=%s, not_after=%s)" % (self.thumbprint, self.not_after)

    def msal(self):
        credential = {"private_key": self.key_pem, "thumbprint": self.thumbprint}
        if self.cert_pem:
            credential["public_certificate"] = self.cert_pem
        return credential


def _read(path):
    path = os.path.expanduser(path or "")
    if not path:
        raise input_error("certificate_path", "not given", "give the PEM or PFX file of the app's certificate.")
    if not os.path.isfile(path):
        raise input_error("certificate_path", "%s does not exist or is not a file" % path,
                          "give the path of the PEM or PFX file on the controller.")
    try:
        with open(path, "rb") as handle:
            return path, handle.read()
    except OSError as err:
        raise input_error("certificate_path", "cannot read %s: %s" % (path, err.strerror),
                          "make the file readable by the user running Ansible.") from None


def _load_pfx(path, data, password):
    try:
        key, cert, _extra = pkcs12.load_key_and_certificates(data, password.encode() if password else None)
    except (ValueError, TypeError):
        raise input_error("certificate_password", "cannot open the PFX file %s (wrong or missing password, or not "
                          "a PKCS#12 file)" % path, "give the PFX file's password in certificate_password "
                          "(from the vault).") from None
    return key, [cert] if cert is not None else []


def _load_pem(path, data, password):
    blocks = [(m.group(1).decode(), m.group(0)) for m in _PEM_BLOCK.finditer(data)]
    if not blocks:
        raise input_error("certificate_path", "%s holds no PEM block (and does not end in .pfx/.p12)" % path,
                          "give a PEM file with the private key (and certificate), or a PFX file.")
    key = None
    certs = []
    for label, block in blocks:
        if label.endswith("PRIVATE KEY"):
            try:
                key = serialization.load_pem_private_key(block, password.encode() if password else None)
            except TypeError:
                if password:
                    raise input_error("certificate_password", "given, but the private key in %s is not encrypted"
                                      % path, "leave certificate_password out for this file.") from None
                raise input_error("certificate_password", "the private key in %s is encrypted" % path,
                                  "give its password in certificate_password (from the vault).") from None
            except ValueError:
                raise input_error("certificate_password", "cannot decrypt the private key in %s (wrong password, "
                                  "or an unsupported key format)" % path,
                                  "give the key's password in certificate_password (from the vault).") from None
        elif label == "CERTIFICATE":
            try:
                certs.append(x509.load_pem_x509_certificate(block))
            except ValueError:
                raise input_error("certificate_path", "%s holds a CERTIFICATE block that is not a certificate"
                                  % path, "export the certificate again (PEM, base64).") from None
    return key, certs


def load_certificate(path, password=None, thumbprint=None, now=None):
    """Validate and load the client certificate; GraphError (kind input) naming the option otherwise."""
    if not HAS_CRYPTOGRAPHY:  # pragma: no cover
        raise input_error("certificate_path", "the Python library cryptography is missing",
                          "pip install -r requirements.txt on the controller.")
    if thumbprint is not None:
        thumbprint = re.sub(r"[\s:]", "", thumbprint)
        if not THUMBPRINT.match(thumbprint):
            raise input_error("certificate_thumbprint", "not 40 hexadecimal digits (SHA-1 thumbprint)",
                              "copy the Thumbprint of the certificate from the app registration.")
        thumbprint = thumbprint.upper()
    path, data = _read(path)
    if path.lower().endswith(PFX_SUFFIXES):
        key, certs = _load_pfx(path, data, password)
    else:
        key, certs = _load_pem(path, data, password)
    if key is None:
        raise input_error("certificate_path", "%s holds no private key (a certificate alone cannot sign in)" % path,
                          "export the certificate WITH its private key (PFX, or PEM with the key).")
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    cert = next((c for c in certs if c.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == public), None)
    if certs and cert is None:
        raise input_error("certificate_path", "the certificate in %s does not belong to its private key" % path,
                          "export the certificate and its own private key together.")
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    if cert is None:
        if not thumbprint:
            raise input_error("certificate_thumbprint", "needed: %s holds a private key but no certificate" % path,
                              "give certificate_thumbprint, or add the certificate to the PEM file.")
        return Credential(key_pem, thumbprint)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    not_before, not_after = _utc(cert, "not_valid_before"), _utc(cert, "not_valid_after")
    subject = cert.subject.rfc4514_string()
    if not_after < now:
        raise input_error("certificate_path", "the certificate %s expired on %s" % (subject, not_after.date()),
                          "create a new certificate, upload its public part to the app registration and "
                          "point certificate_path at it.")
    if not_before > now:
        raise input_error("certificate_path", "the certificate %s is valid only from %s (or the controller's "
                          "clock is behind)" % (subject, not_before.isoformat()),
                          "check the controller's clock (NTP) or wait until then.")
    actual = binascii.hexlify(cert.fingerprint(hashes.SHA1())).decode().upper()  # nosec - the thumbprint Entra shows
    if thumbprint and thumbprint != actual:
        raise input_error("certificate_thumbprint", "%s does not match the certificate in %s (%s)"
                          % (thumbprint, path, actual), "leave certificate_thumbprint out, or correct it.")
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    return Credential(key_pem, actual, cert_pem, not_after.isoformat(), subject)


def check_cache_file(path):
    """The opt-in token cache: an existing file must be a regular file readable by its owner only."""
    path = os.path.expanduser(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise input_error("token_cache", "directory %s does not exist" % directory,
                          "create it (mode 0700) or choose another path.")
    if os.path.islink(path):
        raise input_error("token_cache", "%s is a symbolic link" % path,
                          "give the real file (a link can be re-pointed between the check and the write).")
    if os.path.exists(path):
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise input_error("token_cache", "%s is not a regular file" % path, "choose a file path.")
        if info.st_mode & 0o077:
            raise input_error("token_cache", "%s is readable or writable by others (mode %04o): it holds "
                              "refresh tokens" % (path, stat.S_IMODE(info.st_mode)),
                              "chmod 600 %s (or delete it and sign in again)." % path)
    return path
