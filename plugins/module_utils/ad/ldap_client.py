# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side LDAP connection to Active Directory domain controllers.

Library choice: python-ldap (OpenLDAP's libldap and Cyrus SASL, the library community.general's LDAP
modules use), because it gives
  - TLS (LDAPS or StartTLS) with certificate and host-name validation by OpenSSL/GnuTLS;
  - Kerberos (SASL GSSAPI) with a negotiated signing and sealing layer on port 389, which is what a
    DC that requires LDAP signing and has no LDAPS certificate accepts (ldap3 2.9.1 binds with
    GSSAPI but has no security layer, and its NTLM bind fails against Samba);
  - paged and asynchronous searches decoded in C, so a directory scan is limited by the DC, not by
    BER decoding in Python (sansldap + pyspnego, microsoft.ad's design, is pure Python).
What it lacks: NTLM with signing/sealing (Cyrus SASL's NTLM has no security layer, so the `ntlm`
choice is not offered) and channel binding tokens for SASL over TLS (so Kerberos is used on port
389 with sealing; simple binds go over TLS).
"""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
import uuid

from ansible_collections.ems.enable.plugins.module_utils.network import host_names
from ansible_collections.ems.enable.plugins.module_utils.network.host_names import (
    HostNameError, check_host, check_port, check_timeout)

try:
    import ldap
    import ldap.dn
    import ldap.filter
    import ldap.sasl
    import ldapurl
    from ldap.controls import SimplePagedResultsControl

    HAS_LDAP = True
    LDAP_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by check_requirements()
    HAS_LDAP = False
    LDAP_IMPORT_ERROR = str(exc)

DEFAULT_PORTS = {"ldaps": 636, "starttls": 389, "ldap": 389}

# Shared argument spec of every controller-side AD module (documented in doc_fragments/ldap.py).
LDAP_ARGUMENT_SPEC = dict(
    server=dict(type="list", elements="str", required=True),
    port=dict(type="int"),
    transport=dict(type="str", default="ldaps", choices=["ldaps", "starttls", "ldap"]),
    auth=dict(type="str", default="simple", choices=["simple", "kerberos"]),
    username=dict(type="str"),
    password=dict(type="str", no_log=True),
    ca_file=dict(type="path"),
    validate_certs=dict(type="bool", default=True),
    timeout=dict(type="int", default=10),
    allow_cleartext=dict(type="bool", default=False),
)
LDAP_REQUIRED_TOGETHER = []
LDAP_OPTION_NAMES = tuple(LDAP_ARGUMENT_SPEC)

# Active Directory's bind failure sub-codes ("AcceptSecurityContext error, data 52e").
AD_BIND_SUBCODES = {
    "525": "the user does not exist",
    "52e": "wrong user name or password",
    "530": "logon not permitted at this time",
    "531": "logon not permitted from this workstation",
    "532": "the password has expired",
    "533": "the account is disabled",
    "701": "the account has expired",
    "773": "the password must be changed before first logon",
    "775": "the account is locked out",
}


class LdapError(Exception):
    """An expected fault: one line naming the server and the cause, plus a remedy."""

    def __init__(self, message, remedy=None, server=None, kind="ldap"):
        super().__init__(message)
        self.message = message
        self.remedy = remedy
        self.server = server
        self.kind = kind

    def __str__(self):
        return self.message if not self.remedy else "%s Remedy: %s" % (self.message, self.remedy)


def check_requirements():
    if not HAS_LDAP:
        raise LdapError(
            "The Python library python-ldap is not installed on the controller (%s)." % LDAP_IMPORT_ERROR,
            "pip install python-ldap (needs libldap2-dev and libsasl2-dev to build; see requirements.txt).",
            kind="requirements",
        )


def check_pem_ca_file(path, option="ca_file", error=LdapError):
    """network.host_names.check_pem_ca_file with this package's error (the one rule for CA files)."""
    host_names.check_pem_ca_file(path, option, error)


def cleartext_warnings(params):
    """The warning a cleartext simple bind always gets, also when the bind then fails."""
    if params.get("transport") == "ldap" and params.get("auth") == "simple" and params.get("allow_cleartext"):
        return ["allow_cleartext=true: the password crosses the network in cleartext."]
    return []


def check_dn(text, option):
    """A distinguished name that python-ldap parses; raises LdapError naming ``option``."""
    check_requirements()
    try:
        return ldap.dn.dn2str(ldap.dn.str2dn(text))
    except (ldap.DECODING_ERROR, TypeError, ValueError):
        raise LdapError("%s: %r is not a distinguished name." % (option, text),
                        "Write it as in AD, for example OU=Staff,DC=corp,DC=example,DC=com.", kind="input") from None


def validate_params(params):
    """Input errors, found before any connection is made. Returns a list of warnings."""
    warnings = []
    try:
        # one host per entry (a space, scheme, port or path would reach libldap as more URLs)
        servers = [check_host(s, "server") for s in params.get("server") or []
                   if not (isinstance(s, str) and not s.strip())]
        check_port(params.get("port"), "port")
        check_timeout(params.get("timeout"), "timeout")
    except HostNameError as err:
        raise LdapError(str(err), kind="input") from None
    if not servers:
        raise LdapError("server: give at least one domain controller name.", kind="input")
    params["server"] = servers
    transport, auth = params["transport"], params["auth"]
    if auth == "simple":
        if not params.get("username") or params.get("password") is None:
            raise LdapError(
                "auth=simple needs username and password.",
                "Set username (user@domain or DOMAIN\\user) and password (from a vault), or use auth=kerberos.",
                kind="input",
            )
        if transport == "ldap" and not params.get("allow_cleartext"):
            raise LdapError(
                "Refusing a simple bind over cleartext LDAP (transport=ldap): the password would cross the "
                "network readable.",
                "Use transport=ldaps or starttls, or auth=kerberos (signed and sealed); allow_cleartext=true is "
                "for isolated labs only.",
                kind="input",
            )
    elif params.get("password") is not None and not params.get("username"):
        raise LdapError("auth=kerberos: password was given without username.", "Set username (user@REALM).",
                        kind="input")
    if params.get("ca_file"):
        check_pem_ca_file(params["ca_file"])
    if transport != "ldap" and not params.get("validate_certs", True):
        warnings.append("validate_certs=false: the DC's TLS certificate is not checked; use it in labs only.")
    warnings.extend(cleartext_warnings(params))
    return warnings


def _ad_bind_detail(info):
    match = re.search(r"data ([0-9a-f]{3})", info or "")
    return AD_BIND_SUBCODES.get(match.group(1)) if match else None


def describe_ldap_exception(exc, server, port, params):
    """Turn a python-ldap exception into an LdapError with one line and a remedy."""
    detail = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    info = (detail.get("info") or "").strip()
    desc = (detail.get("desc") or exc.__class__.__name__).strip()
    where = "%s:%s" % (server, port)
    if isinstance(exc, ldap.INVALID_CREDENTIALS):
        why = _ad_bind_detail(info) or "invalid credentials"
        return LdapError("%s: bind as %s refused: %s." % (where, params.get("username"), why),
                         "Check username and password (vault) and that the account is enabled and not locked.",
                         server, "auth")
    if isinstance(exc, ldap.STRONG_AUTH_REQUIRED):
        return LdapError("%s: the DC requires LDAP signing or TLS (strong authentication required)." % where,
                         "Use transport=ldaps or starttls, or auth=kerberos on port 389 (signed and sealed).",
                         server, "auth")
    if isinstance(exc, ldap.TIMEOUT):
        return LdapError("%s: no answer within %ss (timeout)." % (where, params.get("timeout")),
                         "Check that the DC is up and the port is open from the controller; raise timeout.",
                         server, "timeout")
    if isinstance(exc, (ldap.SERVER_DOWN, ldap.CONNECT_ERROR)):
        # libldap often says only "Can't contact LDAP server (unknown error code)": find the cause.
        kind, cause = probe(server, port, params)
        if kind == "tls":
            return LdapError("%s: TLS certificate not trusted: %s." % (where, cause.rstrip(".")),
                             "Give ca_file with the CA that issued the DC's certificate, and connect by the name "
                             "in the certificate (validate_certs=false only in a lab).", server, "tls")
        if kind == "timeout":
            return LdapError("%s: no answer within %ss (timeout)." % (where, params.get("timeout")),
                             "Check that the DC is up and the port is open from the controller; raise timeout.",
                             server, "timeout")
        return LdapError("%s: cannot connect: %s." % (where, cause or info or desc),
                         "Check the DC name, that it is running, and the firewall between controller and DC.",
                         server, "connect")
    if isinstance(exc, (ldap.LOCAL_ERROR, ldap.AUTH_UNKNOWN)) and params.get("auth") == "kerberos":
        return LdapError("%s: Kerberos bind failed: %s." % (where, info or desc),
                         "Check the Kerberos ticket or credentials (kinit), krb5.conf for the realm, clock skew, "
                         "and that the DC is addressed by its FQDN.", server, "auth")
    return LdapError("%s: %s%s." % (where, desc, (": " + info) if info else ""), None, server, "ldap")


# An LDAP ExtendedRequest for StartTLS (RFC 4511 4.14.1), message id 1: the probe sends it itself.
_STARTTLS_REQUEST = bytes.fromhex("301d02010177188016") + b"1.3.6.1.4.1.1466.20037"


def probe(server, port, params):
    """Why a connection failed: ('resolve'|'connect'|'timeout'|'tls'|None, text). Read-only."""
    timeout = params.get("timeout") or 10
    server = server[1:-1] if server.startswith("[") else server  # an IPv6 address as URLs write it
    try:
        sock = socket.create_connection((server, port), timeout=timeout)
    except socket.gaierror as exc:
        return "resolve", "the name does not resolve (%s)" % exc.strerror
    except socket.timeout:
        return "timeout", "no answer within %ss" % timeout
    except ConnectionRefusedError:
        return "connect", "connection refused (DC down or port %s closed)" % port
    except OSError as exc:
        return "connect", exc.strerror or str(exc)
    with sock:
        if params.get("transport") not in ("ldaps", "starttls"):
            return None, None
        try:
            if params["transport"] == "starttls":
                sock.sendall(_STARTTLS_REQUEST)
                sock.recv(4096)
            context = ssl.create_default_context(cafile=params.get("ca_file") or None)
            if not params.get("validate_certs", True):
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            with context.wrap_socket(sock, server_hostname=server):
                return None, None
        except ssl.SSLCertVerificationError as exc:
            return "tls", exc.verify_message or str(exc)
        except (ssl.SSLError, OSError) as exc:
            return "connect", "TLS handshake failed (%s)" % (getattr(exc, "reason", None) or exc)


@contextlib.contextmanager
def _kerberos_credentials(username, password):
    """Get a TGT for username/password into a private in-memory ccache for this process only."""
    if not username or password is None:
        yield  # use the caller's existing ticket (kinit / KRB5CCNAME)
        return
    try:
        import gssapi
        import gssapi.raw
    except ImportError as exc:
        raise LdapError("auth=kerberos with a password needs the Python library gssapi (%s)." % exc,
                        "pip install gssapi, or kinit before the run and omit password.", kind="requirements")
    ccache = ("MEMORY:ems-enable-%s" % uuid.uuid4().hex).encode()
    try:
        name = gssapi.Name(username, gssapi.NameType.kerberos_principal)
        acquired = gssapi.raw.acquire_cred_with_password(name, password.encode(), usage="initiate")
        gssapi.raw.store_cred_into({b"ccache": ccache}, acquired.creds, usage="initiate", overwrite=True)
    except gssapi.exceptions.GSSError as exc:
        message = " ".join(str(exc).split())
        minor = re.search(r"Minor \(\d+\): (.*)$", message)
        message = (minor.group(1) if minor else message).rstrip(".")
        if "preauthentication failed" in message.lower():
            message = "wrong password (%s)" % message
        raise LdapError("Kerberos: could not get a ticket for %s: %s." % (username, message),
                        "Check the password, the realm in krb5.conf (KDC reachable) and the clock.",
                        kind="auth")
    previous = gssapi.raw.krb5_ccache_name(ccache)
    try:
        yield
    finally:
        gssapi.raw.krb5_ccache_name(previous)


class LdapConnection:
    """A bound connection to one DC, with the rootDSE already read."""

    def __init__(self, conn, server, port, params, tried):
        self.conn = conn
        self.server = server
        self.port = port
        self.params = params
        self.tried = tried  # [(server, error message)] of servers that failed before this one
        self.root_dse = self.read_entry("", ["*", "+"], scope=ldap.SCOPE_BASE) or {}

    def close(self):
        with contextlib.suppress(Exception):
            self.conn.unbind_s()

    def fail(self, exc):
        raise describe_ldap_exception(exc, self.server, self.port, self.params) from None

    def read_entry(self, dn, attrs=None, scope=None):
        """Base read of one entry; None when it does not exist."""
        try:
            res = self.conn.search_ext_s(dn, scope if scope is not None else ldap.SCOPE_BASE,
                                         "(objectClass=*)", attrs or ["*"])
        except ldap.NO_SUCH_OBJECT:
            return None
        except ldap.LDAPError as exc:
            self.fail(exc)
        for entry_dn, entry in res:
            if entry_dn is not None:
                return entry
        return None

    def search(self, base, filterstr, attrs, scope=None, page_size=1000, controls=()):
        """Paged subtree search; yields (dn, {attr: [bytes]}). Referrals are skipped. ``controls``: more
        server controls (e.g. show deleted) sent with every page."""
        scope = ldap.SCOPE_SUBTREE if scope is None else scope
        control = SimplePagedResultsControl(True, size=page_size, cookie="")
        while True:
            try:
                msgid = self.conn.search_ext(base, scope, filterstr, attrs, serverctrls=[control] + list(controls))
                _rtype, rdata, _rmsgid, rctrls = self.conn.result3(msgid)
            except ldap.NO_SUCH_OBJECT:
                return
            except ldap.LDAPError as exc:
                self.fail(exc)
            for dn, entry in rdata:
                if dn is not None:
                    yield dn, entry
            cookie = None
            for ctrl in rctrls or ():
                if ctrl.controlType == SimplePagedResultsControl.controlType:
                    cookie = ctrl.cookie
            if not cookie:
                return
            control.cookie = cookie

    def count(self, base, filterstr, page_size=1000):
        return sum(1 for _entry in self.search(base, filterstr, ["1.1"], page_size=page_size))


def _initialize(server, port, params):
    """A connection object with timeouts and TLS settings; StartTLS done when asked. No bind yet."""
    transport = params["transport"]
    scheme = "ldaps" if transport == "ldaps" else "ldap"
    # the URL from its parts (python-ldap's ldapurl), never by splicing strings: one host, one port
    url = ldapurl.LDAPUrl(urlscheme=scheme, hostport="%s:%d" % (check_host(server), check_port(port))).initializeUrl()
    conn = ldap.initialize(url, bytes_mode=False)
    conn.set_option(ldap.OPT_PROTOCOL_VERSION, 3)
    conn.set_option(ldap.OPT_REFERRALS, 0)
    conn.set_option(ldap.OPT_NETWORK_TIMEOUT, params["timeout"])
    conn.set_option(ldap.OPT_TIMEOUT, params["timeout"])
    if transport in ("ldaps", "starttls"):
        conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT,
                        ldap.OPT_X_TLS_DEMAND if params["validate_certs"] else ldap.OPT_X_TLS_NEVER)
        if params.get("ca_file"):
            conn.set_option(ldap.OPT_X_TLS_CACERTFILE, params["ca_file"])
        conn.set_option(ldap.OPT_X_TLS_PROTOCOL_MIN, 0x303)  # TLS 1.2 or newer
        conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
    if transport == "starttls":
        conn.start_tls_s()
    return conn


def _open_one(server, port, params):
    conn = _initialize(server, port, params)
    transport = params["transport"]
    if params["auth"] == "simple":
        conn.simple_bind_s(params["username"], params["password"])
    else:
        conn.set_option(ldap.OPT_X_SASL_NOCANON, 1)  # the SPN is ldap/<server as given>
        if transport == "ldap":
            conn.set_option(ldap.OPT_X_SASL_SSF_MIN, 56)  # insist on sealing: signing + encryption
        else:
            conn.set_option(ldap.OPT_X_SASL_SSF_MAX, 0)  # AD refuses a second layer inside TLS
        with _kerberos_credentials(params.get("username"), params.get("password")):
            conn.sasl_interactive_bind_s("", ldap.sasl.gssapi())
    return conn


def connect(params, server=None):
    """Bind to the first DC of params['server'] that answers (or to `server` alone).

    Connection faults (down, timeout, unreachable, TLS) move on to the next DC; a refused bind stops at
    once, so that one bad password is not tried against every DC (account lockout).
    """
    check_requirements()
    try:
        servers = [check_host(name, "server") for name in ([server] if server else params["server"])
                   if not (isinstance(name, str) and not name.strip())]
    except HostNameError as err:
        raise LdapError(str(err), kind="input") from None
    port = params.get("port") or DEFAULT_PORTS[params["transport"]]
    tried = []
    for name in servers:
        try:
            conn = _open_one(name, port, params)
        except ldap.LDAPError as exc:
            err = describe_ldap_exception(exc, name, port, params)
            if err.kind == "auth":
                raise err from None
            tried.append((name, err))
            continue
        return LdapConnection(conn, name, port, params, tried)
    if len(tried) == 1:
        raise tried[0][1]
    raise LdapError("No domain controller answered (%d tried): %s." % (
        len(tried), "; ".join(e.message.rstrip(".") for _n, e in tried)),
        tried[-1][1].remedy, servers[0], "connect")


def read_root_dse(server, params):
    """Anonymous rootDSE read of one DC over the configured transport (no bind)."""
    check_requirements()
    port = params.get("port") or DEFAULT_PORTS[params["transport"]]
    anon = dict(params, auth="simple", username="", password="")
    try:
        conn = _initialize(server, port, params)
        res = conn.search_ext_s("", ldap.SCOPE_BASE, "(objectClass=*)", ["rootDomainNamingContext"])
        conn.unbind_s()
    except ldap.LDAPError as exc:
        raise describe_ldap_exception(exc, server, port, anon) from None
    for _dn, entry in res:
        return entry
    return {}


def first(entry, attr, default=None):
    """First value of an attribute as text."""
    values = entry.get(attr) if entry else None
    if not values:
        return default
    value = values[0]
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def all_text(entry, attr):
    return [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in (entry or {}).get(attr, [])]


def first_int(entry, attr, default=None):
    value = first(entry, attr)
    return int(value) if value not in (None, "") else default


def dn_to_dns(dn):
    """DC=corp,DC=example,DC=com -> corp.example.com"""
    return ".".join(part.split("=", 1)[1] for part in ldap.dn.explode_dn(dn) if part.lower().startswith("dc="))
