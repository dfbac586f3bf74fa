"""Property-based bad-input harness (issue 13): every controller-side module, every option, from its spec.

For each action plugin of plugins/action/ that runs a controller-side module, Hypothesis draws one
option and a malformed value for it (wrong types, NUL and lone-surrogate strings, hosts with spaces,
schemes, ports or paths, numbers out of range including inf/nan/1e12, empty required lists, wrong
element types, bad patterns, symlinked or non-PEM files) and puts it on top of a valid baseline. The
action must then fail with one line naming the option, no traceback, no file written (each run is in
an empty working directory that is compared before and after) and no connection attempted (every way
out of the process is replaced by a recorder that refuses).

Inputs per run: MAX_EXAMPLES (150) per module x 14 modules = 2,100 bad inputs (about 15 s on 2 cores), plus one
baseline run per module that proves the baseline passes validation (it reaches the refused connection, or
succeeds when the module makes none), so a failure above is the bad value's and not the baseline's.
The Graph modules' baselines use a generated app certificate; a Graph request is refused like any
connection (requests resolves the host through socket.getaddrinfo first).

EMS_BAD_INPUT_SURVEY=1 turns the assertions into a count (printed at the end) to measure a tree;
EMS_BAD_INPUT_RANDOM=1 draws new inputs on each run (the suite's runs are derandomized: repeatable).
"""

from __future__ import annotations

import importlib
import math
import os
import socket
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

MAX_EXAMPLES = 150
SURVEY = os.environ.get("EMS_BAD_INPUT_SURVEY") == "1"
RANDOM = os.environ.get("EMS_BAD_INPUT_RANDOM") == "1"
SURVEY_COUNTS = {}
UNHANDLED = "failed on an input or condition it does not handle"

HOST = "dc1.corp.example.com"
LDAP_BASE = {"server": [HOST], "username": "svc@corp.example.com", "password": "pw", "timeout": 5}


class ConnectionAttempt(Exception):
    """Raised by the recorders: a connection was attempted."""


# ---- bad values by kind ---------------------------------------------------------------------------

def _poisoned(base):
    """A string holding a NUL or a lone surrogate (what a non-UTF-8 byte becomes in Python)."""
    return st.tuples(st.sampled_from([base, "", "x"]), st.sampled_from(["\x00", "\udcff", "\ud800", "\udc80"]),
                     st.text(alphabet="abc.-", max_size=6)).map("".join)


BAD_HOST_SUFFIXES = [" ldap://10.251.1.1:3890/", " other.example.com", ":389", ":636:636", "/path", "\t",
                     "..", "@x", "\n"]
BAD_HOST = st.one_of(
    st.builds(lambda s: HOST + s, st.sampled_from(BAD_HOST_SUFFIXES)),
    st.builds(lambda s: s + HOST, st.sampled_from(["ldap://", "ldaps://", "https://", "user@", "dc1..", " x "])),
    st.sampled_from(["dc1..corp.example.com", "-dc1.example.com", "a" * 64 + ".example.com", "999.1.1.1.1",
                     "[::1", "exa mple.com", "http://fs.example.com/"]),
    _poisoned(HOST),
)
WRONG_INT = st.sampled_from(["abc", "1e3x", [1], {"a": 1}, 1.5, "inf", "nan"])
WRONG_FLOAT = st.sampled_from(["abc", [1.0], {"a": 1}, "1,5"])
WRONG_BOOL = st.sampled_from(["maybe", 2, -1, [True], {"a": 1}, "yes please"])
WRONG_LIST = st.sampled_from([{"a": 1}, object.__name__ and {"k": [1]}])
WRONG_DICT = st.sampled_from(["not a dict", 5, [1, 2], 1.5])


def ints_outside(low, high):
    parts = [st.sampled_from(sorted({low - 1, 0 if low > 0 else low - 2, -1 if low > -1 else low - 3}))]
    parts.append(st.integers(max_value=low - 1, min_value=low - 2 ** 41))
    if high is not None:
        parts.append(st.integers(min_value=high + 1, max_value=high + 2 ** 41))
        parts.append(st.sampled_from([high + 1, 2 ** 40, 10 ** 12]))
    return st.one_of(*parts)


def timeouts_outside(high):
    return st.one_of(st.sampled_from([0, 0.0, -1, -0.5, math.inf, -math.inf, math.nan, 1e12, "inf", "nan", high * 10]),
                     st.floats(max_value=0.0), st.floats(min_value=high + 1, allow_nan=False))


def bad_string_for(spec):
    return _poisoned("x")


def by_type(name, spec):
    """Malformed values every option of this type must refuse, from the spec alone."""
    kind = spec.get("type", "str")
    if kind in ("str", "path"):
        return _poisoned("x")
    if kind == "int":
        return WRONG_INT
    if kind == "float":
        return WRONG_FLOAT
    if kind == "bool":
        return WRONG_BOOL
    if kind == "dict":
        return WRONG_DICT
    if kind == "list":
        element = spec.get("elements", "str")
        if element == "dict":
            return st.one_of(WRONG_LIST, st.sampled_from([[1], ["not a dict"], [[1]]]))
        if element == "str":
            return st.one_of(WRONG_LIST, st.lists(_poisoned("x"), min_size=1, max_size=2))
        return WRONG_LIST
    raise AssertionError("no bad values for %s (type %s)" % (name, kind))


# ---- modules: baseline and what each option must refuse beyond its type ----------------------------

def _host_list(min_size=1):
    return st.lists(BAD_HOST, min_size=min_size, max_size=2).map(lambda bad: [HOST] + bad)


LDAP_EXTRA = {
    "server": st.one_of(_host_list(), st.just([])),
    "port": ints_outside(1, 65535),
    "timeout": st.one_of(ints_outside(1, 3600), st.sampled_from([math.inf, math.nan, 1e12])),
}


def _files(tmp_path):
    """Files some options name: a directory symlink, a non-PEM file, a corrupt PEM block, a PFX."""
    real = tmp_path / "real-out"
    real.mkdir()
    link = tmp_path / "link-out"
    link.symlink_to(real)
    not_pem = tmp_path / "ca.der"
    not_pem.write_bytes(b"\x30\x82\x01\x0a" + b"\x00" * 32)
    corrupt = tmp_path / "corrupt.pem"
    corrupt.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all !!\n-----END CERTIFICATE-----\n")
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    return {"symlink_dir": str(link), "not_pem": str(not_pem), "corrupt_pem": str(corrupt), "a_file": str(a_file),
            "out": str(real)}


GUID_A = "3f2a9c1e-7b6d-4e5f-8a9b-0c1d2e3f4a5b"
GUID_B = "0d5f1e2a-9c8b-4a7d-b6e5-f4c3d2b1a098"
BAD_URL = st.one_of(
    st.sampled_from(["http://fs.corp.example.com/adfs/ls/", "https://", "fs.corp.example.com/adfs/ls/", "",
                     "https://fs.corp.example.com/adfs/ls/ x", "ftp://fs.corp.example.com/"]),
    # a bad host inside a URL (a port or a path after a host makes a valid URL: not drawn here)
    st.builds(lambda h: "https://%s/adfs/ls/" % h, BAD_HOST.filter(lambda h: not h.endswith((":389", "/path")))),
)


def modules(files):
    bad_ca = st.sampled_from([files["not_pem"], files["corrupt_pem"], "/nonexistent/ca.pem"])
    ldap_extra = dict(LDAP_EXTRA, ca_file=bad_ca)
    graph_base = {"tenant_id": GUID_A, "client_id": GUID_B, "certificate_path": files["app_pem"]}
    graph_extra = {
        "tenant_id": st.one_of(BAD_HOST, st.sampled_from(["", "common", "organizations", "not a tenant", GUID_A[:-1]])),
        "client_id": st.sampled_from(["", "app", GUID_B + "0", GUID_B.replace("-", " ")]),
        "certificate_path": st.sampled_from([files["not_pem"], files["corrupt_pem"], files["a_file"], files["out"],
                                             "/nonexistent/app.pem", files["cert_only"]]),
        "certificate_thumbprint": st.sampled_from(["", "abc", "Z" * 40, "0" * 41]),
        "authority_url": BAD_URL,
        "graph_url": BAD_URL,
        "ca_file": st.sampled_from([files["not_pem"], files["corrupt_pem"], "/nonexistent/ca.pem", files["out"]]),
        "token_cache": st.sampled_from([files["out"], files["symlink_dir"], "/nonexistent/dir/cache.json",
                                        files["open_cache"]]),
        "timeout": st.one_of(ints_outside(1, 3600)),
        "max_retries": st.one_of(ints_outside(0, 10)),
    }
    return {
        "ad_forest_info": ({**LDAP_BASE}, ldap_extra),
        "ad_preflight": ({**LDAP_BASE}, dict(
            ldap_extra,
            forests=st.sampled_from([[], [None], [{}], [{"forest": None, "forest_level": 4, "trusts": []}],
                                     [{"forest": "corp.example.com", "forest_level": "x", "trusts": []}],
                                     [{"forest": "corp.example.com", "forest_level": 4, "trusts": 5}],
                                     [{"forest": 7, "forest_level": 4, "trusts": [], "domains": 3}],
                                     [1], ["corp.example.com"]]),
            requirements=st.sampled_from([[], ["nope"], "nope", [1]]),
        )),
        "sync_permissions_info": ({**LDAP_BASE, "account": "svc-sync"}, dict(
            ldap_extra, account=st.one_of(_poisoned("svc"), st.sampled_from(["", "  "])),
            domains=st.lists(BAD_HOST, min_size=1, max_size=2),
        )),
        "directory_readiness": ({**LDAP_BASE, "output_dir": files["out"]}, dict(
            ldap_extra,
            ignore=st.sampled_from([["["], ["OU=a,DC=x", "[z-a]"], ["a[b"], [""]]),
            filter=st.sampled_from(["(", "(cn=*", "cn=*)(", "(&(cn=a)", "((cn=a)"]),
            page_size=ints_outside(1, 100000),
            page_timeout=ints_outside(1, 3600),
            parallel=ints_outside(1, 16),
            output_dir=st.sampled_from([files["symlink_dir"], files["a_file"], files["symlink_dir"] + "/",
                                        files["a_file"] + "/sub"]),
            report_name=st.sampled_from(["../x", "a/b", "", ".hidden", "x" * 200]),
            search_base=st.sampled_from([["not a dn"], [""], ["OU=a,DC=x", "=="]]),
        )),
        "dns_check": ({"resolvers": ["192.0.2.53"], "domains": ["corp.example.com"]}, {
            "resolvers": st.one_of(st.just([]), st.lists(BAD_HOST, min_size=1, max_size=2),
                                   st.sampled_from([["dc1.corp.example.com"], ["192.0.2.53 192.0.2.54"]])),
            "port": ints_outside(1, 65535),
            "timeout": timeouts_outside(300),
            "federation_service_name": BAD_HOST,
            "rms_connector_name": BAD_HOST,
            "forest": BAD_HOST,
            "domains": st.lists(BAD_HOST, min_size=1, max_size=2),
            "upn_suffixes": st.lists(BAD_HOST, min_size=1, max_size=2),
            "domain_controllers": st.lists(BAD_HOST, min_size=1, max_size=2),
            "federation_service_addresses": st.sampled_from([["not an ip"], ["10.0.0.1 10.0.0.2"], ["10.0.0.1/24"]]),
            "rms_connector_addresses": st.sampled_from([["not an ip"], ["::1::2"]]),
            "records": st.one_of(
                st.builds(lambda h: [{"name": h, "type": "A", "values": ["10.0.0.1"]}], BAD_HOST),
                st.sampled_from([[{"name": "x.example.com", "type": "TXT"}], [{"type": "A"}],
                                 [{"name": "x.example.com", "type": "A", "values": ["nope"]}]])),
        }),
        "tls_endpoint_check": ({"host": "fs.corp.example.com"}, {
            "host": BAD_HOST,
            "address": BAD_HOST,
            "required_names": st.lists(BAD_HOST, min_size=1, max_size=2),
            "port": ints_outside(1, 65535),
            "timeout": timeouts_outside(300),
            "warn_days": ints_outside(0, 3650),
            "ca_file": bad_ca,
            "minimum_tls_version": st.sampled_from(["1.0x", "ssl3", ""]),
        }),
        "adfs_certificate_info": ({"path": files["pfx"], "password": "pfx-pass",
                                   "federation_service_name": "fs.corp.example.com"}, {
            "federation_service_name": BAD_HOST,
            "device_registration_upn_suffixes": st.lists(BAD_HOST, min_size=1, max_size=2),
            "min_days_valid": ints_outside(0, 3650),
            "min_rsa_key_size": ints_outside(1024, 16384),
        }),
        "connector_preflight": ({"component": "exchange_connector", "stage": "host", "host": "exc1.corp.example.com",
                                 "facts": {"distribution_version": "10.0.14393", "architecture": "x86_64",
                                           "os_installation_type": "Server", "dotnet_release": 528040}}, {
            "component": st.sampled_from(["nope", "", 1]),
            "stage": st.sampled_from(["nope", ""]),
            "computer_accounts": st.sampled_from([{"fci1": 1}, {"fci1": None}, {"fci1": [1]}, "x", 3]),
            "facts": st.sampled_from([{"distribution_version": "10.0.14393", "dotnet_release": "abc"},
                                      {"distribution_version": "10.0.14393", "dotnet_release": [1]},
                                      {"distribution_version": "10.0.14393", "dotnet_release": 1.5},
                                      {"distribution_version": ["10"], "dotnet_release": 528040},
                                      {"distribution_version": {"a": 1}, "dotnet_release": 528040}]),
            "host": BAD_HOST,
        }),
        "directory_remediation": ({**LDAP_BASE, "decisions_file": files["decisions"],
                                   "undo_file": files["out"] + "/undo.ldif"}, dict(
            ldap_extra,
            mode=st.sampled_from(["nope", "", "UNDO "]),
            decisions_file=st.sampled_from([files["a_file"], files["not_pem"], files["symlink_dir"],
                                            "/nonexistent/decisions.json", files["out"]]),
            undo_file=st.sampled_from([files["symlink_dir"], files["out"], "/nonexistent/dir/undo.ldif",
                                       files["a_file"] + "/undo.ldif"]),
        )),
        "tenant_info": (dict(graph_base), graph_extra),
        "domain_federation": ({**graph_base, "domain": "corp.example.com",
                               "issuer_uri": "http://fs.corp.example.com/adfs/services/trust",
                               "passive_sign_in_uri": "https://fs.corp.example.com/adfs/ls/",
                               "metadata_exchange_uri": "https://fs.corp.example.com/adfs/services/trust/mex",
                               "signing_certificate": files["app_cert_pem"]}, dict(
            graph_extra,
            domain=st.one_of(BAD_HOST, st.sampled_from(["", "corp", "x.onmicrosoft.com/"])),
            issuer_uri=st.sampled_from(["", "not a uri", "http://fs.corp.example.com/adfs/services/trust x"]),
            passive_sign_in_uri=BAD_URL, active_sign_in_uri=BAD_URL, metadata_exchange_uri=BAD_URL,
            sign_out_uri=BAD_URL,
            signing_certificate=st.sampled_from(["", "not base64 !!", "-----BEGIN CERTIFICATE-----\nxx\n"]),
            next_signing_certificate=st.sampled_from(["not base64 !!", "-----BEGIN CERTIFICATE-----\nxx\n"]),
            federation_metadata=st.sampled_from(["<not xml", "<x/>", "<!DOCTYPE x><x/>", "not xml at all"]),
        )),
        "sso_test": ({**graph_base, "user_principal_name": "ann@corp.example.com", "user_password": "pw",
                      "ldap": {**LDAP_BASE}}, dict(
            graph_extra,
            user_principal_name=st.sampled_from(["", "ann", "ann@", "@corp.example.com", "ann@corp..example.com",
                                                 "ann smith@corp.example.com"]),
            user_password=st.sampled_from([""]),
            mex_url=BAD_URL,
            adfs_ca_file=bad_ca,
            search_base=st.sampled_from(["not a dn", "=="]),
            ldap=st.builds(lambda option, value: dict(LDAP_BASE, **{option: value}),
                           st.sampled_from(["server"]), _host_list()),
        )),
        "intune_objects": (dict(graph_base), dict(
            graph_extra,
            groups=st.sampled_from([[{"name": "g", "type": "nope"}], [{"type": "assigned"}], [{"name": ""}],
                                    [{"name": "g", "typo": 1}], [{"name": "g", "platform": "nope"}]]),
            compliance_policies=st.sampled_from([[{"name": "c", "platform": "nope"}], [{"platform": "ios"}],
                                                 [{"name": "c", "odata_type": "#microsoft.graph.nope"}]]),
            conditional_access_policies=st.sampled_from([[{"name": "ca"}], [{"name": "ca", "include_users": "x"}]]),
            app_protection_policies=st.sampled_from([[{"name": "m", "platform": "nope"}], [{"platform": "ios"}]]),
            role_assignments=st.sampled_from([[{"role": "Intune Administrator"}], [{"users": ["a@b.c"]}],
                                              [{"role_template_id": "not-a-guid", "users": ["a@b.c"]}]]),
            licensing=st.sampled_from([[{"group": "g"}], [{"sku": "EMS"}], [{"group": "g", "sku": ""}]]),
            break_glass_users=st.sampled_from([["not an upn"], [""]]),
        )),
        "intune_devices_info": (dict(graph_base), dict(
            graph_extra,
            test_devices=st.sampled_from([[{"platform": "nope", "user": "a@b.c"}], [{"user": "a@b.c"}],
                                          [{"platform": "iOS", "user": "a@b.c"}] * 3,
                                          [{"platform": "iOS", "user": ""}]]),
        )),
    }


# ---- the run --------------------------------------------------------------------------------------

def _action(name, args):
    module = importlib.import_module("ansible_collections.ems.enable.plugins.action.%s" % name)
    task = mock.MagicMock()
    task.action = "ems.enable.%s" % name
    task.args = args
    task.async_val = 0
    task.check_mode = False
    task.environment = None
    return module.ActionModule(task, mock.MagicMock(), mock.MagicMock(), loader=None, templar=None,
                               shared_loader_obj=None)


@pytest.fixture(name="attempts")
def _attempts(monkeypatch):
    """Every way out of the process records the attempt and refuses."""
    for name in MODULE_NAMES:  # imported (ansible's own import-time probes) before the sockets are replaced
        importlib.import_module("ansible_collections.ems.enable.plugins.action.%s" % name)
    seen = []

    def refuse(what):
        def _refuse(*args, **kwargs):
            seen.append((what, args[:2]))
            raise ConnectionAttempt("%s refused by the test" % what)
        return _refuse

    monkeypatch.setattr(socket, "create_connection", refuse("socket.create_connection"))
    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
    monkeypatch.setattr(socket.socket, "sendto", refuse("socket.sendto"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("socket.getaddrinfo"))
    monkeypatch.setattr(socket, "gethostbyname", refuse("socket.gethostbyname"))
    import ldap
    monkeypatch.setattr(ldap, "initialize", refuse("ldap.initialize"))
    import dns.query
    import dns.resolver
    for fn in ("udp", "tcp", "https", "tls", "udp_with_fallback"):
        if hasattr(dns.query, fn):
            monkeypatch.setattr(dns.query, fn, refuse("dns.query.%s" % fn))
    monkeypatch.setattr(dns.resolver.Resolver, "resolve", refuse("dns.resolver.resolve"))
    return seen


def _tree(path):
    found = []
    for root, dirs, names in os.walk(path):
        found.extend(os.path.join(root, n) for n in dirs + names)
    return sorted(found)


def _run(name, args, attempts, watch):
    before = {w: _tree(w) for w in watch}
    del attempts[:]
    try:
        result = _action(name, args).run(task_vars={})
    except Exception as err:  # pylint: disable=broad-except  # a raw exception out of the action is a finding
        result = {"failed": True, "msg": "Traceback: raw %s out of the action: %s" % (type(err).__name__, err)}
    written = {w: sorted(set(_tree(w)) - set(before[w])) for w in watch}
    return result, list(attempts), {w: n for w, n in written.items() if n}


def classify(name, option, value, result, attempts, written):
    """None when the bad input was refused as it should be, else what went wrong."""
    msg = str(result.get("msg", ""))
    if not result.get("failed"):
        return "silent accept (not failed)"
    if attempts:
        return "connection attempted before the refusal: %s (msg %s)" % (attempts[0][0], msg[:160])
    if UNHANDLED in msg or "Traceback" in msg or result.get("exception"):
        return "traceback (%s)" % msg[:200]
    if written:
        return "files written: %s" % written
    if "\n" in msg:
        return "message not one line: %r" % msg[:300]
    if option not in msg:
        return "message does not name %s: %s" % (option, msg[:200])
    return None


@pytest.fixture(name="files", scope="module")
def _files_fixture(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad-input-files")
    files = _files(tmp)
    files["pfx"] = _pfx(tmp)
    files.update(_app_certificate(tmp))
    files["decisions"] = _decisions(tmp)
    return files


def _app_certificate(tmp):
    """The app registration's certificate (key and certificate in one PEM), a certificate without its key,
    and a token cache others can read."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ems-enable-app")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(9).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365)).sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    app = tmp / "app.pem"
    app.write_bytes(key_pem + cert_pem)
    cert_only = tmp / "cert-only.pem"
    cert_only.write_bytes(cert_pem)
    cache = tmp / "open-cache.json"
    cache.write_text("{}")
    cache.chmod(0o644)
    return {"app_pem": str(app), "cert_only": str(cert_only), "open_cache": str(cache),
            "app_cert_pem": cert_pem.decode("ascii")}


def _decisions(tmp):
    """A finished readiness report with one decided row: what directory_remediation reads."""
    import json
    from ansible_collections.ems.enable.plugins.module_utils.readiness import report
    row = {"dn": "CN=Ann,OU=T,DC=corp,DC=example,DC=com", "object_class": "user", "attribute": "mail",
           "value": "ann smith@corp.example.com", "errors": ["character"],
           "suggested_value": "annsmith@corp.example.com", "action": "edit", "decision": "edit", "new_value": None}
    path = tmp / "decisions.json"
    path.write_text(json.dumps({"format": report.REPORT_FORMAT, "rows": [row], "complete": True}))
    return str(path)


def _pfx(tmp):
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fs.corp.example.com")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("fs.corp.example.com")]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(key, hashes.SHA256()))
    path = tmp / "fs.pfx"
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"fs", key, cert, None, BestAvailableEncryption(b"pfx-pass")))
    return str(path)


MODULE_NAMES = ["ad_forest_info", "ad_preflight", "sync_permissions_info", "directory_readiness", "dns_check",
                "tls_endpoint_check", "adfs_certificate_info", "connector_preflight", "directory_remediation",
                "tenant_info", "domain_federation", "sso_test", "intune_objects", "intune_devices_info"]


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_the_baseline_passes_validation(name, files, attempts, tmp_path, monkeypatch):
    """Without this, a baseline refused for its own reason would make every bad input 'refused'."""
    monkeypatch.chdir(tmp_path)
    baseline, _extra = modules(files)[name]
    result, tried, _written = _run(name, dict(baseline), attempts, [str(tmp_path)])
    if tried:
        return  # validation passed: the module went for the (refused) connection
    assert not result.get("failed"), result.get("msg")


def _strategy(name, files):
    module = importlib.import_module("ansible_collections.ems.enable.plugins.action.%s" % name)
    baseline, extra = modules(files)[name]
    options = sorted(module.ActionModule.ARGUMENT_SPEC)

    def for_option(option):
        spec = module.ActionModule.ARGUMENT_SPEC[option]
        parts = [by_type(option, spec)]
        if option in extra:
            parts.append(extra[option])
        if spec.get("type") == "dict" and spec.get("options") and isinstance(baseline.get(option), dict):
            parts.append(_suboption(baseline[option], spec["options"], files))
        return st.tuples(st.just(option), st.one_of(*parts))

    return baseline, st.sampled_from(options).flatmap(for_option)


def _suboption(base, options, files):
    """A bad value for one option of a nested mapping (sso_test's ldap: the LDAP options), drawn like a
    top-level option; the message must name the mapping."""
    bad_ca = st.sampled_from([files["not_pem"], files["corrupt_pem"], "/nonexistent/ca.pem"])
    known = dict(LDAP_EXTRA, ca_file=bad_ca)

    def bad(sub):
        parts = [by_type(sub, options[sub])]
        if sub in known:
            parts.append(known[sub])
        return st.one_of(*parts).map(lambda value: dict(base, **{sub: value}))

    return st.sampled_from(sorted(options)).flatmap(bad)


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_a_bad_value_fails_naming_the_option(name, files, attempts, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    baseline, strategy = _strategy(name, files)
    watch = [str(tmp_path), files["out"], os.path.dirname(files["out"])]

    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=not RANDOM, database=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def check(case):
        option, value = case
        args = dict(baseline)
        args[option] = value
        result, tried, written = _run(name, args, attempts, watch)
        problem = classify(name, option, value, result, tried, written)
        if SURVEY:
            key = "ok" if problem is None else problem.split(" ", 1)[0]
            SURVEY_COUNTS.setdefault(name, {}).setdefault(key, []).append((option, value, problem))
            return
        assert problem is None, "%s %s=%r: %s" % (name, option, value, problem)

    check()  # pylint: disable=no-value-for-parameter


def teardown_module():
    if SURVEY:
        for name, counts in sorted(SURVEY_COUNTS.items()):
            print("\nSURVEY %s: %s" % (name, {k: len(v) for k, v in sorted(counts.items())}))
            for key, cases in sorted(counts.items()):
                if key != "ok":
                    for option, value, problem in cases[:40]:
                        print("   %s %s=%r: %s" % (key, option, value, (problem or "")[:160]))


# The inputs of the probe and those this harness found, always tried (Hypothesis draws the
# others): each must be refused like any bad input.
KNOWN = [
    ("ad_forest_info", "server", ["dc1..corp.emslab.test"]),
    ("ad_forest_info", "server", ["nonexistent.invalid ldap://10.251.1.1:3890/"]),
    ("ad_forest_info", "port", 0), ("ad_forest_info", "port", 2 ** 40), ("ad_forest_info", "port", 66172),
    ("ad_forest_info", "username", "svc\x00@corp"), ("ad_forest_info", "password", "pw\udcff"),
    ("ad_forest_info", "timeout", "inf"), ("ad_forest_info", "ca_file", "corrupt_pem"),
    ("ad_forest_info", "ca_file", "not_pem"),
    ("ad_preflight", "forests", []), ("ad_preflight", "forests", [{"forest": None, "forest_level": {}, "trusts": []}]),
    ("ad_preflight", "requirements", []),
    ("sync_permissions_info", "account", "svc\x00"), ("sync_permissions_info", "domains", ["corp.example.com/x"]),
    ("directory_readiness", "ignore", ["["]), ("directory_readiness", "ignore", ["[z-a]"]),
    ("directory_readiness", "filter", "cn=*)("), ("directory_readiness", "filter", "(cn=*"),
    ("directory_readiness", "output_dir", "symlink_dir"), ("directory_readiness", "page_size", 2 ** 40),
    ("dns_check", "timeout", math.inf), ("dns_check", "timeout", 1e12), ("dns_check", "timeout", math.nan),
    ("dns_check", "forest", "corp.example.com\t"), ("dns_check", "resolvers", []),
    ("tls_endpoint_check", "timeout", math.inf), ("tls_endpoint_check", "timeout", 1e12),
    ("tls_endpoint_check", "host", "fs.corp.example.com\t"), ("tls_endpoint_check", "address", "10.0.0.1\n"),
    ("tls_endpoint_check", "ca_file", "corrupt_pem"),
    ("adfs_certificate_info", "min_rsa_key_size", 0), ("adfs_certificate_info", "min_days_valid", -1),
    ("adfs_certificate_info", "path", "fs\x00.pfx"),
    ("connector_preflight", "computer_accounts", {"fci1": 1}),
    ("connector_preflight", "facts", {"distribution_version": "10.0.14393", "dotnet_release": "abc"}),
    ("connector_preflight", "host", "exa mple.com"),
    ("directory_remediation", "undo_file", "symlink_dir"), ("directory_remediation", "undo_file", "out"),
    ("tenant_info", "tenant_id", "dc1.corp.example.com\t"), ("tenant_info", "timeout", 3601),
    ("tenant_info", "max_retries", 11), ("tenant_info", "ca_file", "corrupt_pem"),
    ("tenant_info", "graph_url", "https://ldap://dc1.corp.example.com/"), ("tenant_info", "graph_url", ""),
    ("tenant_info", "authority_url", "https://exa mple.com/"), ("tenant_info", "token_cache", "open_cache"),
    ("tenant_info", "certificate_path", "cert_only"),
    ("domain_federation", "passive_sign_in_uri", "https://ldaps://dc1.corp.example.com/adfs/ls/"),
    ("domain_federation", "sign_out_uri", ""), ("domain_federation", "federation_metadata", "<!DOCTYPE x><x/>"),
    ("sso_test", "search_base", "not a dn"), ("sso_test", "adfs_ca_file", "not_pem"),
    ("sso_test", "mex_url", "https://dc1..corp.example.com/adfs/services/trust/mex"),
    ("intune_objects", "break_glass_users", ["not an upn"]), ("intune_objects", "groups", [{"name": ""}]),
    ("intune_devices_info", "test_devices", [{"platform": "iOS", "user": "a@b.c"}] * 3),
]


@pytest.mark.parametrize("name,option,value", KNOWN, ids=["%s-%s-%d" % (k[0], k[1], i) for i, k in enumerate(KNOWN)])
def test_the_known_bad_inputs_are_refused(name, option, value, files, attempts, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    baseline, _extra = modules(files)[name]
    args = dict(baseline, **{option: files.get(value, value) if isinstance(value, str) else value})
    result, tried, written = _run(name, args, attempts, [str(tmp_path), files["out"]])
    problem = classify(name, option, value, result, tried, written)
    assert problem is None, "%s %s=%r: %s" % (name, option, value, problem)
