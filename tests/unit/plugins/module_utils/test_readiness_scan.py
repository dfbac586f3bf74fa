"""The streamed, threaded scan of several domains (readiness_scan.run).

The Samba lab cannot host a forest with several domains (Samba 4.17 has no child domains), so the
multi-domain path - one connection and one thread per domain feeding the rule engine through a
bounded queue, duplicates found across domains, one failing domain stopping the whole scan - runs
here against stand-ins that speak python-ldap's asynchronous API (search_ext, result3 one message
at a time, the paged results control). Single-domain scans are tested against Samba in
tests/integration/test_directory_readiness.py.
"""

from __future__ import annotations

import ldap
import pytest
from ldap.controls import SimplePagedResultsControl

from ansible_collections.ems.enable.plugins.module_utils import ad_facts
from ansible_collections.ems.enable.plugins.module_utils import ldap_client as lc
from ansible_collections.ems.enable.plugins.module_utils import readiness_rules as rr
from ansible_collections.ems.enable.plugins.module_utils import readiness_scan as scan

USER = [b"top", b"person", b"organizationalPerson", b"user"]
PARAMS = {"filter": rr.DEFAULT_FILTER, "page_size": 2, "page_timeout": 5, "timeout": 5, "transport": "ldaps",
          "auth": "simple", "username": "u", "validate_certs": True}


def user(domain, name, mail):
    dn = "CN=%s,CN=Users,DC=%s,DC=example,DC=com" % (name, domain)
    return dn, {"cn": [name.encode()], "objectClass": USER, "displayName": [name.encode()],
                "userPrincipalName": [("%s@%s.example.com" % (name, domain)).encode()],
                "mail": [mail.encode()]}


class PagedDirectory:
    """python-ldap's LDAPObject as far as the scan uses it: paged search_ext and result3 (all=0)."""

    def __init__(self, entries, fail_after_pages=None):
        self.entries = entries
        self.fail_after_pages = fail_after_pages
        self.requests = []
        self.messages = {}

    def search_ext(self, base, scope, filterstr, attrlist, serverctrls):
        (control,) = serverctrls
        assert scope == ldap.SCOPE_SUBTREE and filterstr == rr.DEFAULT_FILTER
        start = int(control.cookie or b"0")
        self.requests.append(start)
        msgid = len(self.requests)
        page = self.entries[start:start + control.size]
        messages = [(ldap.RES_SEARCH_ENTRY, [entry], msgid, []) for entry in page]
        messages.append((ldap.RES_SEARCH_REFERENCE, [(None, ["ldaps://other.example.com/DC=other"])], msgid, []))
        following = start + control.size
        cookie = str(following).encode() if following < len(self.entries) else b""
        done = SimplePagedResultsControl(False, size=0, cookie=cookie)
        if self.fail_after_pages is not None and len(self.requests) > self.fail_after_pages:
            messages = [ldap.TIMEOUT({"desc": "Timed out"})]
        else:
            messages.append((ldap.RES_SEARCH_RESULT, [], msgid, [done]))
        self.messages[msgid] = messages
        return msgid

    def result3(self, msgid, all=1, timeout=None):  # pylint: disable=redefined-builtin
        assert all == 0 and timeout == PARAMS["page_timeout"]
        message = self.messages[msgid].pop(0)
        if isinstance(message, Exception):
            raise message
        return message


class Connection:
    def __init__(self, server, directory):
        self.server = server
        self.port = 636
        self.conn = directory
        self.closed = False

    def close(self):
        self.closed = True


def plan_of(*domains):
    the_plan = scan.ScanPlan()
    for name, directory in domains:
        base = "DC=%s,DC=example,DC=com" % name
        the_plan.tasks.append(scan.SearchTask(base, "%s.example.com" % name, Connection("127.0.0.1", directory)))
    return the_plan


def engine():
    rows = []
    return rows, rr.RuleEngine(ad_facts.routable_tlds(), rows.append)


def test_one_domain_is_read_page_by_page():
    entries = [user("corp", "u%d" % i, "u%d@corp.example.com" % i) for i in range(5)]
    directory = PagedDirectory(entries)
    rows, eng = engine()
    calls = []
    scan.run(plan_of(("corp", directory)), eng, PARAMS, progress=lambda: calls.append(1))
    assert eng.found == 5 and eng.checked == 5 and rows == []
    assert directory.requests == [0, 2, 4]  # page size 2, cookies followed
    assert calls  # progress after every batch


def test_several_domains_in_threads_share_the_duplicate_store():
    corp = PagedDirectory([user("corp", "u%d" % i, "u%d@example.com" % i) for i in range(7)])
    child = PagedDirectory([user("child", "c%d" % i, "c%d@example.com" % i) for i in range(6)]
                           + [user("child", "dup", "U3@example.com")])
    rows, eng = engine()
    the_plan = plan_of(("corp", corp), ("child", child))
    scan.run(the_plan, eng, PARAMS)
    assert eng.found == 14
    assert [(t.base, t.objects) for t in the_plan.tasks] == [("DC=corp,DC=example,DC=com", 7),
                                                             ("DC=child,DC=example,DC=com", 7)]
    assert sorted((r["dn"], r["attribute"], r["errors"][0]) for r in rows) == [
        ("CN=dup,CN=Users,DC=child,DC=example,DC=com", "mail", "duplicate"),
        ("CN=u3,CN=Users,DC=corp,DC=example,DC=com", "mail", "duplicate"),
    ]


@pytest.mark.parametrize("domains", [1, 3])
def test_a_failing_search_stops_the_scan_with_the_dc_and_the_count(domains):
    failing = PagedDirectory([user("bad", "b%d" % i, "b%d@example.com" % i) for i in range(10)], fail_after_pages=2)
    others = [("ok%d" % i, PagedDirectory([user("ok%d" % i, "o%d" % j, "o%d.%d@x.com" % (i, j))
                                           for j in range(200)])) for i in range(domains - 1)]
    _rows, eng = engine()
    with pytest.raises(lc.LdapError) as err:
        scan.run(plan_of(("bad", failing), *others), eng, PARAMS)
    assert str(err.value) == (
        "The scan of DC=bad,DC=example,DC=com on 127.0.0.1:636 failed after 4 objects: no answer within "
        "page_timeout=5s. No report was written (a partial scan is not a result). Remedy: Check that the domain "
        "controller runs and is reachable, then run the scan again.")
    assert err.value.kind == "scan"


def test_subtree_test_of_search_bases():
    assert scan._is_under("OU=a,DC=x", "DC=x") and scan._is_under("dc=X", "DC=x")
    assert not scan._is_under("DC=xy", "DC=x") and scan._is_under("anything", "")
