"""dc_locator: the DCs of a domain in the order Windows' DC locator tries them (DNS SRV
_ldap._tcp.dc._msdcs.<domain>, RFC 2782: lowest priority first, weighted random within a priority), and
one-line errors naming the domain and the record; sync_permissions.DomainConnections: a DC per domain."""

from __future__ import annotations

import collections
import random

import dns.exception
import dns.resolver
import pytest

from ansible_collections.ems.enable.plugins.module_utils.ad import dc_locator, sync_permissions
from ansible_collections.ems.enable.plugins.module_utils.ad import ldap_client as lc


def test_srv_name():
    assert dc_locator.srv_name("Child.Corp.Example.") == "_ldap._tcp.dc._msdcs.child.corp.example"


def test_lower_priority_always_first():
    records = [(10, 100, "b.corp.example", 389), (0, 1, "a.corp.example", 389), (20, 0, "c.corp.example", 389)]
    for seed in range(50):
        order = [r[2] for r in dc_locator.order_srv(records, random.Random(seed))]
        assert order == ["a.corp.example", "b.corp.example", "c.corp.example"]


def test_weight_decides_how_often_a_record_comes_first():
    records = [(0, 90, "heavy.corp.example", 389), (0, 10, "light.corp.example", 389)]
    rng = random.Random(1)
    firsts = collections.Counter(dc_locator.order_srv(records, rng)[0][2] for _draw in range(2000))
    assert 0.85 < firsts["heavy.corp.example"] / 2000 < 0.95
    # every record is still in the list, once
    assert sorted(r[2] for r in dc_locator.order_srv(records, rng)) == ["heavy.corp.example", "light.corp.example"]


def test_weight_zero_comes_last_within_its_priority_unless_all_are_zero():
    records = [(0, 0, "zero.corp.example", 389), (0, 50, "fifty.corp.example", 389)]
    firsts = collections.Counter(dc_locator.order_srv(records, random.Random(seed))[0][2] for seed in range(500))
    assert firsts["fifty.corp.example"] > 480  # zero wins only on a draw of exactly 0 (RFC 2782)
    both_zero = [(0, 0, "x.corp.example", 389), (0, 0, "y.corp.example", 389)]
    assert [r[2] for r in dc_locator.order_srv(both_zero, random.Random(3))] == ["x.corp.example", "y.corp.example"]


def test_a_dot_target_means_no_service():
    assert dc_locator.order_srv([(0, 0, ".", 0), (0, 0, "", 0)], random.Random(0)) == []


class FakeAnswer(list):
    pass


class Rdata:
    def __init__(self, priority, weight, target, port=389):
        self.priority, self.weight, self.port = priority, weight, port
        self.target = dns.name.from_text(target)


@pytest.fixture
def resolve(monkeypatch):
    calls = []

    def install(result):
        def fake(self, name, rdtype):
            calls.append((name, rdtype, list(self.nameservers), self.lifetime))
            if isinstance(result, Exception):
                raise result
            return FakeAnswer(result)
        monkeypatch.setattr(dns.resolver.Resolver, "resolve", fake)
        return calls
    return install


def test_locate_asks_the_dc_srv_record_of_the_domain_through_the_given_servers(resolve):
    calls = resolve([Rdata(10, 0, "dc2.child.corp.example."), Rdata(0, 0, "dc1.child.corp.example."),
                     Rdata(10, 0, "DC2.child.corp.example.")])
    hosts = dc_locator.locate("child.corp.example", ["192.0.2.53"], timeout=4, rng=random.Random(0))
    assert hosts == ["dc1.child.corp.example", "dc2.child.corp.example"]  # priority order, no duplicates
    assert calls == [("_ldap._tcp.dc._msdcs.child.corp.example", "SRV", ["192.0.2.53"], 4)]


@pytest.mark.parametrize("error,text", [
    (dns.resolver.NXDOMAIN(), "_ldap._tcp.dc._msdcs.child.corp.example does not exist in DNS server(s) 192.0.2.53"),
    (dns.resolver.NoAnswer(), "_ldap._tcp.dc._msdcs.child.corp.example has no SRV record"),
    (dns.exception.Timeout(), "timed out after 4 s"),
])
def test_locate_failures_name_the_domain_and_the_record(resolve, error, text):
    resolve(error)
    with pytest.raises(dc_locator.LocatorError) as err:
        dc_locator.locate("child.corp.example", ["192.0.2.53"], timeout=4)
    message = str(err.value)
    assert message.startswith("no domain controller of child.corp.example found: ")
    assert text in message and "\n" not in message


def test_locate_dot_target_is_an_error(resolve):
    resolve([Rdata(0, 0, ".")])
    with pytest.raises(dc_locator.LocatorError, match="says the service is not available"):
        dc_locator.locate("child.corp.example", ["192.0.2.53"])


# ---- a DC per domain ---------------------------------------------------------------------------------

class FakeConn:
    def __init__(self, server, nc):
        self.server, self.params, self.closed = server, {}, False
        self.root_dse = {"defaultNamingContext": [nc.encode()]}

    def close(self):
        self.closed = True


PARAMS = {"transport": "ldaps", "timeout": 7, "dns_servers": ["192.0.2.53"]}
EMEA_DCS = ["dc1.emea.corp.example", "dc2.emea.corp.example"]


def test_own_domain_uses_the_connected_dc_others_a_located_dc_in_order(monkeypatch):
    home = FakeConn("dc1.corp.example", "DC=corp,DC=example")
    tried = []

    def connect(params, server=None):
        tried.append(server)
        if server == "down.child.corp.example":
            raise lc.LdapError("down.child.corp.example:636: cannot connect.", "remedy", server, "connect")
        if server == "wrong.child.corp.example":
            return FakeConn(server, "DC=other,DC=example")
        return FakeConn(server, "DC=child,DC=corp,DC=example")

    monkeypatch.setattr(lc, "connect", connect)
    located = []

    def locate(domain, servers, timeout):
        located.append((domain, servers, timeout))
        return ["down.child.corp.example", "wrong.child.corp.example", "dc9.child.corp.example"]

    connections = sync_permissions.DomainConnections(home, PARAMS, locate)
    assert connections.get("dc=corp,dc=example") is home
    child = connections.get("DC=child,DC=corp,DC=example")
    assert child.server == "dc9.child.corp.example"
    assert connections.get("DC=child,DC=corp,DC=example") is child  # once per domain
    assert located == [("child.corp.example", ["192.0.2.53"], 7)]
    assert tried == ["down.child.corp.example", "wrong.child.corp.example", "dc9.child.corp.example"]
    connections.close()
    assert child.closed and not home.closed


def test_no_dc_of_a_domain_answers_is_one_line_naming_the_domain_and_each_dc(monkeypatch):
    home = FakeConn("dc1.corp.example", "DC=corp,DC=example")

    def connect(params, server=None):
        raise lc.LdapError("%s:636: timed out." % server, "remedy", server, "timeout")

    monkeypatch.setattr(lc, "connect", connect)
    connections = sync_permissions.DomainConnections(home, PARAMS, lambda *a: EMEA_DCS)
    with pytest.raises(lc.LdapError) as err:
        connections.get("DC=emea,DC=corp,DC=example")
    message = err.value.message
    assert message == ("domains: no domain controller of emea.corp.example answered (2 located through "
                       "_ldap._tcp.dc._msdcs.emea.corp.example): dc1.emea.corp.example:636: timed out; "
                       "dc2.emea.corp.example:636: timed out.")


def test_a_refused_bind_on_another_domain_stops_at_once(monkeypatch):
    home = FakeConn("dc1.corp.example", "DC=corp,DC=example")
    tried = []

    def connect(params, server=None):
        tried.append(server)
        raise lc.LdapError("%s:636: wrong user name or password." % server, "remedy", server, "auth")

    monkeypatch.setattr(lc, "connect", connect)
    connections = sync_permissions.DomainConnections(home, PARAMS, lambda *a: EMEA_DCS)
    with pytest.raises(lc.LdapError, match="^domains: emea.corp.example: dc1.emea.corp.example:636: wrong user"):
        connections.get("DC=emea,DC=corp,DC=example")
    assert tried == ["dc1.emea.corp.example"]  # no lockout by trying every DC


def test_locator_failure_names_the_domain(monkeypatch):
    home = FakeConn("dc1.corp.example", "DC=corp,DC=example")

    def locate(domain, servers, timeout):
        raise dc_locator.LocatorError("no domain controller of %s found: nothing." % domain)

    connections = sync_permissions.DomainConnections(home, PARAMS, locate)
    with pytest.raises(lc.LdapError) as err:
        connections.get("DC=emea,DC=corp,DC=example")
    assert err.value.message == ("domains: no domain controller of emea.corp.example found: nothing "
                                 "(dc1.corp.example holds dc=corp,dc=example only).")


@pytest.mark.parametrize("dn,expected", [
    ("CN=svc,OU=Service,DC=emea,DC=corp,DC=example", "DC=emea,DC=corp,DC=example"),
    ("CN=Sync\\, Connector,CN=Users,DC=corp,DC=example", "DC=corp,DC=example"),
])
def test_dn_domain(dn, expected):
    assert sync_permissions.dn_domain(dn) == expected
