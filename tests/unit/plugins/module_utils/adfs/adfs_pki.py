"""Throw-away test certificates and PFX files for the AD FS tests, made with `cryptography`.

Nothing here is committed as a key: every test generates its own CA, certificate and PFX in a
temporary directory. Used by tests/unit/.../test_adfs_certificate.py and
tests/integration/test_adfs_preflight.py.
"""

from __future__ import annotations

import datetime
import shutil
import subprocess
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)
PASSWORD = "Pfx-Test-Passw0rd"

_KEYS = {}


def rsa_key(bits=2048, slot="default"):
    """RSA keys are slow to make: one per (bits, slot) per test session."""
    if (bits, slot) not in _KEYS:
        _KEYS[(bits, slot)] = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return _KEYS[(bits, slot)]


def make_ca():
    key = rsa_key(2048, "ca")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ems.enable test CA")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - datetime.timedelta(days=30))
            .not_valid_after(NOW + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def make_cert(cn="fs.contoso.example", sans=("fs.contoso.example",), eku=(ExtendedKeyUsageOID.SERVER_AUTH,),
              not_before=None, not_after=None, key=None, self_signed=False, ca=None):
    """A TLS certificate. sans=None: no SAN extension; eku=None: no EKU extension."""
    key = key or rsa_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    ca_key, ca_cert = (key, None) if self_signed else (ca or make_ca())
    issuer = subject if self_signed else ca_cert.subject
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before or NOW - datetime.timedelta(days=1))
               .not_valid_after(not_after or NOW + datetime.timedelta(days=365)))
    if sans is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]), critical=False)
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    return key, cert, (None if self_signed else ca_cert)


def write_pfx(path, key, cert, ca_cert=None, password=PASSWORD, legacy=False):
    """A PFX as cryptography writes it (PBES2/AES by default, legacy 3DES-SHA1 with legacy=True)."""
    if legacy:
        encryption = (serialization.PrivateFormat.PKCS12.encryption_builder()
                      .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
                      .hmac_hash(hashes.SHA1()).build(password.encode()))
    else:
        encryption = serialization.BestAvailableEncryption(password.encode())
    data = pkcs12.serialize_key_and_certificates(b"adfs", key, cert, [ca_cert] if ca_cert else None, encryption)
    Path(path).write_bytes(data)
    return Path(path)


def write_pfx_with_provider(path, key, cert, provider, password=PASSWORD):
    """A PFX whose key bag names a Windows key provider (openssl pkcs12 -CSP), or None without openssl."""
    openssl = shutil.which("openssl")
    if not openssl:
        return None
    work = Path(path).parent
    (work / "k.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
    (work / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    try:
        subprocess.run([openssl, "pkcs12", "-export", "-inkey", str(work / "k.pem"), "-in", str(work / "c.pem"),
                        "-CSP", provider, "-out", str(path), "-passout", "pass:" + password],
                       check=True, capture_output=True, timeout=60)
    finally:
        (work / "k.pem").unlink()
        (work / "c.pem").unlink()
    return Path(path)


def ec_key():
    return ec.generate_private_key(ec.SECP256R1())
