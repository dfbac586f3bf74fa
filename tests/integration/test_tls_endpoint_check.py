"""ems.enable.tls_endpoint_check against a TLS server this test starts on 127.0.0.1.

The server is a thread in the pytest process: it presents, by the server name the client asks for
(SNI), a good certificate, an expired one, one for another name, one without the Server
Authentication EKU and one that expires soon, all issued by a test CA made here with
`cryptography`. A second server offers TLS 1.2 at most. Both stop after the module run or after
SERVER_LIFETIME seconds at the latest, whatever happens. The module runs the way users run it
(ansible-playbook, results dumped to JSON); only loopback traffic is involved, so no lab is needed.
"""

from __future__ import annotations

import datetime
import os
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from module_runner import run_module

pytestmark = pytest.mark.integration

SERVER_LIFETIME = 600  # seconds: the servers stop by themselves after this at the latest
NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


# --- certificates -------------------------------------------------------------------------------

def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject, issuer, key, issuer_key, *, start, end, sans=(), ca=False, eku=(ExtendedKeyUsageOID.SERVER_AUTH,)):
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(end)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]), critical=False)
    if not ca and eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


# SNI name -> (certificate SANs, validity start, validity end, EKUs)
LEAVES = {
    "fs.ems.test": (["fs.ems.test", "certauth.fs.ems.test"], NOW - DAY, NOW + 365 * DAY,
                    (ExtendedKeyUsageOID.SERVER_AUTH,)),
    "expired.ems.test": (["expired.ems.test"], NOW - 400 * DAY, NOW - 3 * DAY, (ExtendedKeyUsageOID.SERVER_AUTH,)),
    "wrongname.ems.test": (["other.ems.test"], NOW - DAY, NOW + 365 * DAY, (ExtendedKeyUsageOID.SERVER_AUTH,)),
    "soon.ems.test": (["soon.ems.test"], NOW - DAY, NOW + 10 * DAY + datetime.timedelta(hours=12),
                      (ExtendedKeyUsageOID.SERVER_AUTH,)),
    "clientauth.ems.test": (["clientauth.ems.test"], NOW - DAY, NOW + 365 * DAY, (ExtendedKeyUsageOID.CLIENT_AUTH,)),
}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A test CA and one leaf per LEAVES entry, written as PEM files."""
    base = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("ems.enable test CA", "ems.enable test CA", ca_key, ca_key, start=NOW - 10 * DAY,
               end=NOW + 3650 * DAY, ca=True)
    (base / "ca.pem").write_bytes(_pem(ca))
    files = {}
    for sni, (sans, start, end, eku) in LEAVES.items():
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _cert(sans[0], "ems.enable test CA", key, ca_key, start=start, end=end, sans=sans, eku=eku)
        (base / (sni + ".pem")).write_bytes(_pem(cert) + _pem(ca))
        (base / (sni + ".key")).write_bytes(_key_pem(key))
        files[sni] = (str(base / (sni + ".pem")), str(base / (sni + ".key")))
    (base / "not-pem.txt").write_text("not a certificate\n")
    return {"ca": str(base / "ca.pem"), "leaves": files, "dir": base}


# --- the server ---------------------------------------------------------------------------------

class TlsServer:
    """Accepts TLS connections on 127.0.0.1 in a thread, picks the certificate by SNI, completes the
    handshake and closes. Stops on stop() or after SERVER_LIFETIME seconds."""

    def __init__(self, leaves, max_version=None):
        self.contexts = {}
        for sni, (cert, key) in leaves.items():
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
            if max_version:
                ctx.maximum_version = max_version
            self.contexts[sni] = ctx
        default = next(iter(self.contexts.values()))
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(*next(iter(leaves.values())))
        if max_version:
            self.context.maximum_version = max_version
        self.context.sni_callback = self._pick
        self._default = default
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.deadline = time.monotonic() + SERVER_LIFETIME
        self.stopped = threading.Event()
        self.handshakes = []
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _pick(self, tls_socket, server_name, _context):
        tls_socket.context = self.contexts.get(server_name, self._default)

    def _serve(self):
        while not self.stopped.is_set() and time.monotonic() < self.deadline:
            try:
                conn, _addr = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            conn.settimeout(5)
            try:
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    self.handshakes.append(tls.version())
            except (ssl.SSLError, OSError):
                conn.close()
        self.sock.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join(timeout=5)


class LocalRunner:
    """module_runner.run_module's `lab` argument, running here (the servers listen on this loopback)."""

    def run(self, cmd, timeout=None):
        root = Path(__file__).resolve().parents[2]
        env = dict(os.environ, PATH="%s%s%s" % (root / ".venv" / "bin", os.pathsep, os.environ.get("PATH", "")),
                   ANSIBLE_CONFIG=str(root / "ansible.cfg"),
                   ANSIBLE_COLLECTIONS_PATH=str(root / ".venv" / "collections"),
                   ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false")
        return subprocess.run(cmd, env=env, text=True, capture_output=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def server(pki):
    with TlsServer(pki["leaves"]) as srv:
        yield srv


def check(tmp_path, **args):
    """One module run, in a directory of its own (no result of an earlier run can be read back)."""
    run_dir = Path(tempfile.mkdtemp(dir=tmp_path))
    _proc, (result,) = run_module(LocalRunner(), run_dir, "ems.enable.tls_endpoint_check", args)
    return result


def by_id(result, check_id):
    return [c for c in result["checks"] if c["id"] == check_id]


# --- tests --------------------------------------------------------------------------------------

def test_good_certificate_passes_every_check(server, pki, tmp_path):
    result = check(tmp_path, host="fs.ems.test", address="127.0.0.1", port=server.port, ca_file=pki["ca"],
                   required_names=["certauth.fs.ems.test"])
    assert not result.get("failed"), result
    assert result["summary"] == {"pass": 6, "warn": 0, "fail": 0}, result["checks"]
    assert {c["id"] for c in result["checks"]} == {"chain", "san", "expiry", "protocol", "eku"}
    assert result["tls_version"] in ("TLSv1.2", "TLSv1.3")
    assert 360 <= result["days_left"] <= 365
    assert result["certificate"]["san_dns"] == ["fs.ems.test", "certauth.fs.ems.test"]
    assert "ems.enable test CA" in result["certificate"]["issuer"]
    assert server.handshakes, "the module never reached the test server"


def test_expired_certificate_fails_with_date_and_remedy(server, pki, tmp_path):
    result = check(tmp_path, host="expired.ems.test", address="127.0.0.1", port=server.port, ca_file=pki["ca"])
    assert result["failed"]
    (expiry,) = by_id(result, "expiry")
    assert expiry["status"] == "fail"
    assert "expired on" in expiry["message"] and "3 days ago" in expiry["message"]
    assert "Renew the certificate" in expiry["remedy"]
    assert result["days_left"] < 0
    (chain,) = by_id(result, "chain")  # OpenSSL refuses an expired chain too
    assert chain["status"] == "fail" and "expired" in chain["message"]
    assert "expired.ems.test" in result["msg"]


def test_wrong_name_fails_naming_the_name_and_the_sans(server, pki, tmp_path):
    result = check(tmp_path, host="wrongname.ems.test", address="127.0.0.1", port=server.port, ca_file=pki["ca"])
    assert result["failed"]
    (san,) = by_id(result, "san")
    assert san["status"] == "fail"
    assert "does not cover wrongname.ems.test" in san["message"]
    assert "other.ems.test" in san["message"]
    assert "Subject Alternative Names" in san["remedy"]
    assert [c["status"] for c in by_id(result, "chain")] == ["pass"]  # only the name is wrong


def test_missing_required_name_fails(server, pki, tmp_path):
    result = check(tmp_path, host="fs.ems.test", address="127.0.0.1", port=server.port, ca_file=pki["ca"],
                   required_names=["enterpriseregistration.ems.test"])
    assert result["failed"]
    failing = [c for c in by_id(result, "san") if c["status"] == "fail"]
    assert len(failing) == 1 and "enterpriseregistration.ems.test" in failing[0]["message"]


def test_unknown_ca_fails_the_chain_against_the_system_store(server, tmp_path):
    result = check(tmp_path, host="fs.ems.test", address="127.0.0.1", port=server.port)
    assert result["failed"]
    (chain,) = by_id(result, "chain")
    assert chain["status"] == "fail"
    assert "system CA store" in chain["message"]
    assert "ca_file" in chain["remedy"]


def test_expiring_soon_warns_without_failing(server, pki, tmp_path):
    result = check(tmp_path, host="soon.ems.test", address="127.0.0.1", port=server.port, ca_file=pki["ca"],
                   warn_days=30)
    assert not result.get("failed"), result
    (expiry,) = by_id(result, "expiry")
    assert expiry["status"] == "warn" and "in 10 days" in expiry["message"]
    assert result["days_left"] == 10
    result = check(tmp_path, host="soon.ems.test", address="127.0.0.1", port=server.port, ca_file=pki["ca"],
                   warn_days=5)
    assert [c["status"] for c in by_id(result, "expiry")] == ["pass"]


def test_certificate_without_server_auth_eku_fails(server, pki, tmp_path):
    result = check(tmp_path, host="clientauth.ems.test", address="127.0.0.1", port=server.port, ca_file=pki["ca"])
    assert result["failed"]
    (eku,) = by_id(result, "eku")
    assert eku["status"] == "fail" and "Server Authentication" in eku["message"]


def test_protocol_below_minimum_fails(pki, tmp_path):
    with TlsServer(pki["leaves"], max_version=ssl.TLSVersion.TLSv1_2) as srv:
        result = check(tmp_path, host="fs.ems.test", address="127.0.0.1", port=srv.port, ca_file=pki["ca"],
                       minimum_tls_version="1.3")
        ok = check(tmp_path, host="fs.ems.test", address="127.0.0.1", port=srv.port, ca_file=pki["ca"])
    assert result["failed"] and result["tls_version"] == "TLSv1.2"
    (protocol,) = by_id(result, "protocol")
    assert protocol["status"] == "fail" and "below the minimum TLSv1.3" in protocol["message"]
    assert not ok.get("failed"), ok


def test_unreachable_endpoint_fails_with_cause_or_warns(pki, tmp_path):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    result = check(tmp_path, host="fs.ems.test", address="127.0.0.1", port=port, ca_file=pki["ca"])
    assert result["failed"]
    assert "connection refused" in result["msg"] and "fs.ems.test:%d" % port in result["msg"]
    assert "Traceback" not in result["msg"]
    result = check(tmp_path, host="fs.ems.test", address="127.0.0.1", port=port, fail_on_unreachable=False)
    assert not result.get("failed") and result["reachable"] is False
    assert [c["status"] for c in result["checks"]] == ["warn"]


@pytest.mark.parametrize("args,words", [
    ({"host": "fs"}, ["host:", "'fs'"]),
    ({"host": "fs.ems.test", "port": 70000}, ["port:", "70000"]),
    ({"host": "fs.ems.test", "port": "https"}, ["port", "int"]),
    ({"host": "fs.ems.test", "address": "not an address!"}, ["address:"]),
    ({"host": "fs.ems.test", "required_names": ["bad name"]}, ["required_names[0]"]),
    ({"host": "fs.ems.test", "warn_days": -1}, ["warn_days:"]),
    ({"host": "fs.ems.test", "timeout": 0}, ["timeout:"]),
    ({"host": "fs.ems.test", "minimum_tls_version": "1.4"}, ["minimum_tls_version", "1.4"]),
    ({"host": "fs.ems.test", "ca_file": "/nonexistent/ca.pem"}, ["ca_file:", "/nonexistent/ca.pem"]),
    ({"host": "fs.ems.test", "require_server_auth_eku": "maybe"}, ["require_server_auth_eku"]),
    ({"host": "fs.ems.test", "fail_on_unreachable": "maybe"}, ["fail_on_unreachable"]),
    ({"host": "fs.ems.test", "bogus": 1}, ["bogus"]),
    ({}, ["host"]),
])
def test_bad_input_fails_before_connecting(tmp_path, args, words):
    result = check(tmp_path, **args)
    assert result["failed"]
    for word in words:
        assert word in result["msg"], result["msg"]
    assert "checks" not in result  # nothing was connected to


def test_ca_file_that_is_not_pem_is_refused(pki, tmp_path):
    result = check(tmp_path, host="fs.ems.test", address="127.0.0.1", port=1, ca_file=str(pki["dir"] / "not-pem.txt"))
    assert result["failed"] and "is not a PEM CA file" in result["msg"]
