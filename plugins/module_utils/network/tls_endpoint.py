# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ems.enable.tls_endpoint_check: the TLS side of the federation service and RMS connector names.

Connects from the controller to host:port (or to a given address while checking the host's name),
reads the certificate the server presents and checks, each with pass|warn|fail, a message and a
remedy:
  chain     the chain validates (OpenSSL) against ca_file or the controller's system store;
  san       the certificate's Subject Alternative Names cover the host name and every required_names
            entry (RFC 6125 matching: one wildcard in the left-most label); a name only in the subject
            CN is a warning (AD FS accepts it, modern clients ignore the CN);
  expiry    not yet valid / expired -> fail, fewer than warn_days days left -> warn (days_left returned);
  protocol  the negotiated TLS version is at least minimum_tls_version;
  eku       the certificate allows Server Authentication (AD FS and WAP require that EKU).
The certificate is parsed with `cryptography`. Read-only: check mode does the same.
"""

from __future__ import annotations

import datetime
import hashlib
import socket
import ssl

try:
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by check_requirements()
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = str(exc)

from ansible_collections.ems.enable.plugins.module_utils.network.host_names import check_pem_ca_file
from ansible_collections.ems.enable.plugins.module_utils.network.dns_check import MAX_TIMEOUT, NetworkCheckError
from ansible_collections.ems.enable.plugins.module_utils.network.host_names import (
    HostNameError, check_host, check_port, check_timeout, is_dns_name)

TLS_VERSIONS = {"1.0": "TLSv1", "1.1": "TLSv1.1", "1.2": "TLSv1.2", "1.3": "TLSv1.3"}
_VERSION_RANK = {"TLSv1": 10, "TLSv1.1": 11, "TLSv1.2": 12, "TLSv1.3": 13}

TLS_ENDPOINT_SPEC = dict(
    host=dict(type="str", required=True),
    port=dict(type="int", default=443),
    address=dict(type="str"),
    required_names=dict(type="list", elements="str", default=[]),
    ca_file=dict(type="path"),
    warn_days=dict(type="int", default=30),
    minimum_tls_version=dict(type="str", default="1.2", choices=list(TLS_VERSIONS)),
    require_server_auth_eku=dict(type="bool", default=True),
    fail_on_unreachable=dict(type="bool", default=True),
    timeout=dict(type="float", default=10.0),
)
TLS_ENDPOINT_KWARGS = {}


def check_requirements():
    if not HAS_CRYPTOGRAPHY:
        raise NetworkCheckError(
            "The Python library cryptography is not installed on the controller (%s)." % CRYPTOGRAPHY_IMPORT_ERROR,
            "pip install cryptography (see the collection's requirements.txt).", kind="requirements")


def validate_params(params):
    def bad(message, remedy):
        raise NetworkCheckError(message, remedy, kind="input")

    if not is_dns_name(params.get("host")):  # the value as given: control characters are refused, not stripped
        bad("host: %r is not a fully qualified DNS name." % params.get("host"),
            "Give the service name the certificate must cover, e.g. fs.contoso.com (use address= to connect to one node).")
    try:
        check_port(params.get("port"), "port")
        check_timeout(params.get("timeout"), "timeout", MAX_TIMEOUT)
    except HostNameError as err:
        bad(str(err), "AD FS and the RMS connector use port 443; the default timeout is 10.")
    if params.get("address"):
        try:
            check_host(params["address"], "address")
        except HostNameError:
            bad("address: %r is neither an IP address nor a DNS name." % params["address"],
                "Give the address of the node or load balancer to connect to, or leave it out.")
    for index, name in enumerate(params.get("required_names") or []):
        if not is_dns_name((name or "").replace("*.", "x.", 1)):
            bad("required_names[%d]: %r is not a DNS name." % (index, name),
                "Give names such as certauth.fs.contoso.com or enterpriseregistration.contoso.com.")
    if params.get("warn_days") is None or not 0 <= params["warn_days"] <= 3650:
        bad("warn_days: %r is out of range (0 to 3650 days)." % params.get("warn_days"), "The default is 30.")
    if params.get("timeout") is None:
        bad("timeout: give a number of seconds.", "The default is 10.")
    if params.get("ca_file"):
        check_pem_ca_file(params["ca_file"], "ca_file", NetworkCheckError)


def _context(verify, ca_file):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False  # the name is checked against the SAN below, with a clearer message
    if verify:
        ctx.verify_mode = ssl.CERT_REQUIRED
        if ca_file:
            ctx = ssl.create_default_context(cafile=ca_file)
            ctx.check_hostname = False
    else:
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _handshake(connect_to, port, server_name, timeout, ctx):
    with socket.create_connection((connect_to, port), timeout=timeout) as raw:
        with ctx.wrap_socket(raw, server_hostname=server_name) as tls:
            return tls.getpeercert(binary_form=True), tls.version(), (tls.cipher() or (None,))[0]


def name_matches(name, pattern):
    """RFC 6125 host name matching: exact, or one wildcard that is the whole left-most label."""
    name, pattern = name.lower().rstrip("."), pattern.lower().rstrip(".")
    if name == pattern:
        return True
    if not pattern.startswith("*.") or "*" in pattern[2:]:
        return False
    rest = pattern[2:]
    head, _dot, tail = name.partition(".")
    return bool(head) and tail == rest and rest.count(".") >= 1


def _utc(cert, attr):
    value = getattr(cert, attr + "_utc", None)
    if value is None:  # cryptography < 42
        value = getattr(cert, attr).replace(tzinfo=datetime.timezone.utc)
    return value


def describe(der):
    cert = x509.load_der_x509_certificate(der)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = san.get_values_for_type(x509.DNSName)
        ip_names = [str(v) for v in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        dns_names, ip_names = [], []
    try:
        eku = [oid.dotted_string for oid in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value]
    except x509.ExtensionNotFound:
        eku = None
    cns = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    return {
        "subject": cert.subject.rfc4514_string(),
        "subject_cn": cns[0] if cns else None,
        "issuer": cert.issuer.rfc4514_string(),
        "san_dns": dns_names,
        "san_ip": ip_names,
        "not_before": _utc(cert, "not_valid_before").isoformat(),
        "not_after": _utc(cert, "not_valid_after").isoformat(),
        "serial": format(cert.serial_number, "x"),
        "sha256_fingerprint": hashlib.sha256(der).hexdigest(),
        "extended_key_usage": eku,
        "self_signed": cert.issuer == cert.subject,
    }


def _check(checks, check_id, status, message, remedy=None):
    checks.append({"id": check_id, "status": status, "message": message, "remedy": remedy if status != "pass" else None})


def run_tls_endpoint_check(params, check_mode=False, now=None):
    """Entry point (action plugin and module main). Read-only."""
    del check_mode
    validate_params(params)
    check_requirements()
    host = params["host"].strip().rstrip(".")
    port = params["port"]
    connect_to = (params.get("address") or host).strip()
    where = "%s:%d" % (host, port) + (" (at %s)" % connect_to if connect_to != host else "")
    timeout = float(params["timeout"])
    result = {"changed": False, "host": host, "port": port, "address": connect_to, "checks": [],
              "certificate": None, "tls_version": None, "cipher": None, "days_left": None, "reachable": False}

    try:
        der, version, cipher = _handshake(connect_to, port, host, timeout, _context(False, None))
    except (socket.gaierror, socket.herror) as err:
        reason, remedy = "the name %s does not resolve (%s)" % (connect_to, err.strerror or err), \
            "Check the DNS record (ems.enable.dns_check) or give address= to connect to a node."
    except socket.timeout:
        reason, remedy = "no answer within %ss" % timeout, "Check that the server listens and the firewall allows TCP %d." % port
    except ConnectionRefusedError:
        reason, remedy = "connection refused", "Check that the service listens on TCP %d (AD FS service, IIS binding)." % port
    except ssl.SSLError as err:
        reason, remedy = "TLS handshake failed (%s)" % (err.reason or err), \
            "Check the TLS binding of the service (certificate bound to the name, TLS 1.2 enabled)."
    except OSError as err:
        reason, remedy = "cannot connect (%s)" % (err.strerror or err), "Check routing and firewalls from the controller."
    else:
        reason = remedy = None
    if reason:
        message = "TLS check of %s: %s." % (where, reason)
        if params["fail_on_unreachable"]:
            raise NetworkCheckError(message, remedy, server=where, kind="connection")
        _check(result["checks"], "reachable", "warn", message, remedy)
        result["summary"] = {"pass": 0, "warn": 1, "fail": 0}
        result["warnings"] = [message]
        result["msg"] = message + " Not checked further (fail_on_unreachable=false)."
        return result

    result.update(reachable=True, tls_version=version, cipher=cipher)
    info = describe(der)
    result["certificate"] = info
    checks = result["checks"]

    # chain
    try:
        _handshake(connect_to, port, host, timeout, _context(True, params.get("ca_file")))
    except ssl.SSLCertVerificationError as err:
        store = params.get("ca_file") or "the controller's system CA store"
        _check(checks, "chain", "fail", "%s: the certificate chain does not validate against %s: %s (issuer %s)."
               % (where, store, err.verify_message or err, info["issuer"]),
               "Install a certificate from a CA the clients trust (publicly trusted for AD FS), with its intermediate "
               "CA certificates, or give ca_file= with the issuing CA bundle.")
    except (ssl.SSLError, OSError) as err:
        _check(checks, "chain", "fail", "%s: the validating handshake failed: %s." % (where, err),
               "Retry; check the TLS configuration of the server.")
    else:
        _check(checks, "chain", "pass", "%s: chain validates against %s (issuer %s)." % (
            where, params.get("ca_file") or "the system CA store", info["issuer"]))

    # SAN
    wanted = [host] + [n.strip().rstrip(".") for n in params.get("required_names") or []]
    for name in wanted:
        if any(name_matches(name, pattern) for pattern in info["san_dns"]):
            _check(checks, "san", "pass", "%s: %s is in the Subject Alternative Names." % (where, name))
        elif info["subject_cn"] and name_matches(name, info["subject_cn"]) and not info["san_dns"]:
            _check(checks, "san", "warn", "%s: %s is only in the subject CN; the certificate has no Subject "
                   "Alternative Names (modern clients ignore the CN)." % (where, name),
                   "Reissue the certificate with %s in the Subject Alternative Names." % name)
        else:
            _check(checks, "san", "fail", "%s: the certificate does not cover %s (SAN: %s; subject CN: %s)." % (
                where, name, ", ".join(info["san_dns"]) or "none", info["subject_cn"] or "none"),
                "Reissue the certificate with %s in the Subject Alternative Names (AD FS: the federation service "
                "name, certauth.<name> for certificate authentication, enterpriseregistration.<UPN suffix>)." % name)

    # expiry
    now = now or datetime.datetime.now(datetime.timezone.utc)
    not_before = datetime.datetime.fromisoformat(info["not_before"])
    not_after = datetime.datetime.fromisoformat(info["not_after"])
    days_left = int((not_after - now).total_seconds() / 86400)  # whole days, towards zero
    result["days_left"] = days_left
    renew = "Renew the certificate and bind the new one (AD FS: Set-AdfsSslCertificate; WAP: Set-WebApplicationProxySslCertificate)."
    if now < not_before:
        _check(checks, "expiry", "fail", "%s: the certificate is not valid before %s." % (where, info["not_before"]),
               "Check the server's and the CA's clocks, or wait until the certificate is valid.")
    elif now > not_after:
        _check(checks, "expiry", "fail", "%s: the certificate expired on %s (%d days ago)." % (
            where, info["not_after"], -days_left), renew)
    elif days_left < params["warn_days"]:
        _check(checks, "expiry", "warn", "%s: the certificate expires on %s, in %d days (warning below %d)." % (
            where, info["not_after"], days_left, params["warn_days"]), renew)
    else:
        _check(checks, "expiry", "pass", "%s: valid until %s (%d days left)." % (where, info["not_after"], days_left))

    # protocol
    minimum = TLS_VERSIONS[params["minimum_tls_version"]]
    if _VERSION_RANK.get(version, 0) < _VERSION_RANK[minimum]:
        _check(checks, "protocol", "fail", "%s: negotiated %s, below the minimum %s." % (where, version, minimum),
               "Enable TLS 1.2 (and 1.3 where supported) on the server (SCHANNEL registry settings), then restart it.")
    else:
        _check(checks, "protocol", "pass", "%s: negotiated %s (%s)." % (where, version, cipher))

    # EKU
    if params["require_server_auth_eku"]:
        eku = info["extended_key_usage"]
        server_auth = ExtendedKeyUsageOID.SERVER_AUTH.dotted_string
        if eku is None:
            _check(checks, "eku", "pass", "%s: no Extended Key Usage extension (any usage allowed)." % where)
        elif server_auth in eku:
            _check(checks, "eku", "pass", "%s: Server Authentication EKU present." % where)
        else:
            _check(checks, "eku", "fail", "%s: the certificate lacks the Server Authentication EKU (%s)." % (
                where, server_auth), "Reissue it from a template with Server Authentication (AD FS and WAP require it).")

    summary = {"pass": 0, "warn": 0, "fail": 0}
    for item in checks:
        summary[item["status"]] += 1
    result["summary"] = summary
    result["warnings"] = [c["message"] for c in checks if c["status"] == "warn"]
    failures = [c for c in checks if c["status"] == "fail"]
    if failures:
        result["failed"] = True
        result["msg"] = "TLS check of %s: %d of %d checks fail. %s" % (
            where, len(failures), len(checks), " | ".join("%s Fix: %s" % (c["message"], c["remedy"]) for c in failures))
    else:
        result["msg"] = "TLS check of %s: certificate and protocol are right (%s, %d days left)." % (
            where, version, days_left)
    return result
