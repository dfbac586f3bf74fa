# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host names the collection turns into a URL or a connection, checked before any use (with the
ports, timeouts, https URLs and CA files that go with them).

A server option holds exactly one host: a DNS name (RFC 1123 labels; international names are
turned into their IDNA form), an IPv4 address or an IPv6 address (bare or in brackets). Never a
scheme, a port, a path, user information, spaces or control characters: libldap, for one, reads a
space as a list of URLs, so ``"dc1 ldap://other:389/"`` sent a simple bind to a second, cleartext
server. One trailing dot (an absolute DNS name) is dropped, since certificates name hosts without it.
"""

from __future__ import annotations

import ipaddress
import re
import ssl
from urllib.parse import urlsplit

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_NOT_A_HOST = (
    ("://", "a URL"),
    ("/", "a path"),
    ("@", "user information"),
)


class HostNameError(ValueError):
    """A value that is not one host name; str() is one line naming the option and the remedy."""


def _fail(option, value, why, remedy="Give one DNS name or IP address, e.g. dc1.corp.example.com.", what="a host name"):
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
    err = HostNameError("%s: %s is not %s (%s). %s" % (option, shown, what, why, remedy))
    err.problem, err.why, err.remedy = "%s is not %s (%s)" % (shown, what, why), why, remedy
    raise err


def check_host(value, option="server"):
    """The host as it may be used in a URL or a connection (IDNA for international names, a bare
    IPv6 address in brackets); raises HostNameError naming ``option``."""
    if not isinstance(value, str):
        _fail(option, value, "a %s, not a string" % type(value).__name__)
    host = value.strip()
    if not host:
        _fail(option, value, "empty")
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        _fail(option, value, "it holds a control character")
    if any(char.isspace() for char in host):
        _fail(option, value, "it holds a space: one host per entry")
    for marker, what in _NOT_A_HOST:
        if marker in host:
            _fail(option, value, "it looks like %s" % what,
                  "Give the host alone; the scheme comes from transport, the port from port.")
    if host.startswith("[") and host.endswith("]"):
        try:
            return "[%s]" % ipaddress.IPv6Address(host[1:-1]).compressed
        except ValueError:
            _fail(option, value, "not an IPv6 address in brackets")
    if ":" in host:
        try:
            return "[%s]" % ipaddress.IPv6Address(host).compressed
        except ValueError:
            _fail(option, value, "a port or a malformed IPv6 address",
                  "Give the host alone and the port in the port option.")
    try:
        return str(ipaddress.IPv4Address(host))
    except ValueError:
        pass
    name = host[:-1] if host.endswith(".") else host
    labels = []
    for label in name.split("."):
        if not label:
            _fail(option, value, "an empty label (two dots in a row, or a leading dot)")
        if not label.isascii():
            try:
                label = label.encode("idna").decode("ascii")  # international names: their IDNA form
            except UnicodeError:
                _fail(option, value, "label %r cannot be written in IDNA" % label)
        if not _LABEL.match(label):
            _fail(option, value, "label %r: only letters, digits and inner hyphens, 1-63 characters" % label)
        labels.append(label)
    ascii_name = ".".join(labels)
    if len(ascii_name) > 253:
        _fail(option, value, "longer than 253 characters")
    if labels[-1].isdigit():
        _fail(option, value, "neither a DNS name nor an IPv4 address")
    return ascii_name.lower()


def check_port(value, option="port"):
    """A TCP port, 1-65535 (None: the caller's default); raises HostNameError naming ``option``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise HostNameError("%s: %r is not a TCP port. Give a number from 1 to 65535, or leave it unset "
                            "for the transport's default." % (option, value))
    return value


MAX_TIMEOUT = 3600


def check_timeout(value, option="timeout", maximum=MAX_TIMEOUT):
    """A timeout in seconds: a finite number above 0 and at most ``maximum`` (None: the caller's
    default); raises HostNameError naming ``option``. inf, nan and 1e12 reach the socket layer as
    errors (OverflowError) or as a wait without end."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= maximum:
        raise HostNameError("%s: %r is not a usable timeout. Give a number of seconds above 0 and at most %d."
                            % (option, value, maximum))
    return value


def check_https_url(value, option, example, path=True):
    """An https:// URL of one host (check_host's rule), an optional port 1-65535 and, when ``path``, a
    path; never user information, spaces, control characters, a query or a fragment, nor a second
    URL spliced in (``https://http://x/``). Returns the URL; raises HostNameError naming ``option``."""
    remedy = "Give an https:// URL such as %s." % example

    def _url_fail(why):
        _fail(option, value, why, remedy, what="a usable https:// URL")

    if not isinstance(value, str):
        _url_fail("a %s, not a string" % type(value).__name__)
    if any(ord(char) < 32 or ord(char) == 127 or char.isspace() for char in value):
        _url_fail("it holds a space or a control character")
    parts = port = None
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        _url_fail("not a URL with a valid port")
    if parts.scheme.lower() != "https":
        _url_fail("not an https:// URL")
    if "@" in parts.netloc or parts.netloc.endswith(":") or parts.query or parts.fragment or "//" in parts.path:
        _url_fail("user information, an empty port, a query, a fragment or a second URL")
    if not parts.hostname:
        _url_fail("no host")
    try:
        check_host(parts.hostname, option)
    except HostNameError as err:
        _url_fail("its host: %s" % getattr(err, "why", err))
    if port is not None and not 1 <= port <= 65535:
        _url_fail("port %d is outside 1-65535" % port)
    if not path and parts.path not in ("", "/"):
        _url_fail("a path (give the endpoint's base URL)")
    return value


def is_dns_name(value, need_dot=True, allow_underscore=False):
    """True when ``value`` is a DNS name (not an address) under check_host's rule; the one test of a
    name for the DNS, TLS and connector checks. ``need_dot``: a fully qualified name (two labels or
    more); ``allow_underscore``: service labels such as _ldap._tcp (SRV names)."""
    if not isinstance(value, str):
        return False
    try:
        host = check_host(value.replace("_", "a") if allow_underscore else value)
    except HostNameError:
        return False
    if host.startswith("["):
        return False
    try:
        ipaddress.IPv4Address(host)
        return False
    except ValueError:
        pass
    return "." in host or not need_dot


def check_range(value, option, low, high, remedy):
    """An integer option within [low, high] (None: the caller's default); raises HostNameError naming
    ``option`` and the remedy."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise HostNameError("%s: %r is out of range (%d to %d). %s" % (option, value, low, high, remedy))
    return value


def check_pem_ca_file(path, option, error):
    """The CA file must be PEM certificates that parse, found before any connection (a DER or a
    corrupt file otherwise surfaces as a TLS handshake error whose remedy points at the network).
    ``error(message, remedy, kind="input")`` is the caller's exception class."""
    remedy = "Give the PEM file (-----BEGIN CERTIFICATE-----) of the CA that issued the certificates, not DER or PKCS#12."
    try:
        with open(path, "rb") as handle:
            data = handle.read(4 * 1024 * 1024)
    except OSError as err:
        raise error("%s: %s cannot be read (%s)." % (option, path, err.strerror or err), remedy,
                    kind="input") from None
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise error("%s: %s is not a PEM CA file (no -----BEGIN CERTIFICATE----- block)." % (option, path),
                    remedy, kind="input")
    try:
        ssl.create_default_context(cadata=data.decode("ascii", "replace"))
    except (ssl.SSLError, ValueError) as err:
        raise error("%s: %s is not a PEM CA file (%s)." % (option, path, " ".join(str(err).split())[:120]),
                    remedy, kind="input") from None
