"""Input validation of the LDAP connection options: refused before any connection is attempted."""

from __future__ import annotations

import pytest

from ansible_collections.ems.enable.plugins.module_utils.ad import facts as ad_facts
from ansible_collections.ems.enable.plugins.module_utils.ad import ldap_client as lc


def params(**changes):
    base = {"server": ["dc1.corp.example.com"], "port": None, "transport": "ldaps", "auth": "simple",
            "username": "u@corp.example.com", "password": "pw", "ca_file": None, "validate_certs": True,
            "timeout": 10, "allow_cleartext": False}
    base.update(changes)
    return base


@pytest.mark.parametrize("changes,words", [
    ({"transport": "ldap"}, ["cleartext", "allow_cleartext"]),
    ({"password": None}, ["auth=simple needs username and password"]),
    ({"server": [" "]}, ["server:"]),
    ({"ca_file": "/nonexistent/ca.pem"}, ["ca_file:", "/nonexistent/ca.pem"]),
    ({"auth": "kerberos", "username": None}, ["password was given without username"]),
    ({"timeout": 0}, ["timeout:"]),
    # one host per entry: a second URL in the server value once sent the bind in cleartext
    ({"server": ["nonexistent.invalid ldap://10.251.1.1:3890/"]}, ["server:", "space"]),
    ({"server": ["ldap://dc1.corp.example.com"]}, ["server:", "URL", "transport"]),
    ({"server": ["dc1.corp.example.com:636"]}, ["server:", "port option"]),
    ({"server": ["dc1.corp.example.com/x"]}, ["server:", "path"]),
    ({"server": ["dc1..corp.example.com"]}, ["server:", "empty label"]),
    ({"server": ["dc1.corp\x00.example.com"]}, ["server:", "control character"]),
    ({"server": ["-dc1.corp.example.com"]}, ["server:", "label"]),
    ({"server": ["a" * 64 + ".example.com"]}, ["server:", "label"]),
    ({"server": ["[::1"]}, ["server:"]),
    ({"server": ["1.2.3.999"]}, ["server:"]),
    ({"server": [636]}, ["server:", "int"]),
    ({"port": 0}, ["port:", "1 to 65535"]),
    ({"port": 66172}, ["port:", "1 to 65535"]),
    ({"port": 2 ** 40}, ["port:", "1 to 65535"]),
])
def test_bad_input_is_refused_with_option_name(changes, words):
    with pytest.raises(lc.LdapError) as err:
        lc.validate_params(params(**changes))
    assert err.value.kind == "input"
    for word in words:
        assert word in str(err.value)


@pytest.mark.parametrize("given, used", [
    ("DC1.Corp.Example.com", "dc1.corp.example.com"),
    ("dc1.corp.example.com.", "dc1.corp.example.com"),  # absolute name: certificates name it without the dot
    ("10.0.0.5", "10.0.0.5"),
    ("::1", "[::1]"),
    ("[fe80::1]", "[fe80::1]"),
    ("bücher.example", "xn--bcher-kva.example"),
])
def test_servers_are_normalized_hosts(given, used):
    p = params(server=[given, "  "])
    lc.validate_params(p)
    assert p["server"] == [used]


def test_ldap_urls_are_built_from_parts():
    import ldapurl  # python-ldap: a runtime requirement, in the suite's venv
    for host in ("dc1.corp.example.com", "[::1]", "10.0.0.5"):
        url = ldapurl.LDAPUrl(urlscheme="ldaps", hostport="%s:%d" % (host, 636)).initializeUrl()
        assert url == "ldaps://%s:636" % host


def test_cleartext_allowed_only_explicitly_and_warned():
    warnings = lc.validate_params(params(transport="ldap", allow_cleartext=True))
    assert any("cleartext" in w for w in warnings)


def test_kerberos_on_plain_ldap_needs_no_cleartext_permission():
    assert lc.validate_params(params(transport="ldap", auth="kerberos")) == []


def test_routable_suffixes_use_idfix_tld_list():
    assert ad_facts.is_routable("contoso.com")
    assert not ad_facts.is_routable("corp.local")
    assert not ad_facts.is_routable("corp.emslab.test")
    assert not ad_facts.is_routable("localhost")


def test_trust_decoding():
    entry = {"trustPartner": [b"partner.example"], "flatName": [b"PARTNER"], "trustDirection": [b"3"],
             "trustType": [b"2"], "trustAttributes": [b"8"]}
    trust = ad_facts.decode_trust(entry)
    assert trust["kind"] == "forest" and trust["leaves_forest"] and trust["direction"] == "bidirectional"
    entry["trustAttributes"] = [b"32"]
    assert ad_facts.decode_trust(entry)["kind"] == "within_forest"
    entry["trustAttributes"] = [b"4"]
    assert ad_facts.decode_trust(entry)["attributes"] == ["quarantined_domain"]
    assert ad_facts.decode_trust(entry)["kind"] == "external"
