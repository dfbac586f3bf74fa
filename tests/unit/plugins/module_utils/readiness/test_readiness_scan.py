"""The streamed, threaded scan of several domains (readiness/scan.py, run).

The Samba lab cannot host a forest with several domains (Samba 4.17 has no child domains), so the
multi-domain path - one connection and one thread per domain and part feeding the rule engine
through page buffers, duplicates found across domains, one failing domain stopping the whole scan - runs
here against stand-ins that speak python-ldap's asynchronous API (search_ext, result3 one message
at a time, the paged results control). Single-domain scans are tested against Samba in
tests/integration/test_directory_readiness.py.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time

import ldap
import pytest
from ldap.controls import SimplePagedResultsControl

from ansible_collections.ems.enable.plugins.module_utils.ad import facts as ad_facts
from ansible_collections.ems.enable.plugins.module_utils.ad import ldap_client as lc
from ansible_collections.ems.enable.plugins.module_utils.readiness import index as vindex
from ansible_collections.ems.enable.plugins.module_utils.readiness import report
from ansible_collections.ems.enable.plugins.module_utils.readiness import rules as rr
from ansible_collections.ems.enable.plugins.module_utils.readiness import scan

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

    def __init__(self, entries, fail_after_pages=None, jitter=0.0):
        self.entries = entries  # entry i has uSNCreated 10 * (i + 1)
        self.fail_after_pages = fail_after_pages
        self.jitter = jitter  # up to this many seconds before each message (threads interleave at random)
        self.requests = []
        self.filters = []
        self.messages = {}
        self.lock = threading.Lock()  # one stand-in may serve the parts of a split search
        self.events = []  # ("connect", n) and ("search", filter) in the order they happened

    def connect(self):
        with self.lock:
            self.events.append(("connect", len(self.requests)))
        return Connection("127.0.0.1", self)

    def _matching(self, filterstr):
        if filterstr == rr.DEFAULT_FILTER:
            return self.entries
        match = re.fullmatch(r"\(&%s(?:\(uSNCreated>=(\d+)\))?(?:\(uSNCreated<=(\d+)\))?\)"
                             % re.escape(rr.DEFAULT_FILTER), filterstr)
        assert match and (match.group(1) or match.group(2)), filterstr
        low, high = int(match.group(1) or 0), int(match.group(2) or 10 ** 9)
        return [e for i, e in enumerate(self.entries) if low <= 10 * (i + 1) <= high]

    def search_ext(self, base, scope, filterstr, attrlist, serverctrls):
        (control,) = serverctrls
        assert scope == ldap.SCOPE_SUBTREE
        entries = self._matching(filterstr)
        start = int(control.cookie or b"0")
        with self.lock:
            self.requests.append(start)
            self.filters.append(filterstr)
            if start == 0:
                self.events.append(("search", filterstr))
            msgid = len(self.requests)
        page = entries[start:start + control.size]
        messages = [(ldap.RES_SEARCH_ENTRY, [entry], msgid, []) for entry in page]
        messages.append((ldap.RES_SEARCH_REFERENCE, [(None, ["ldaps://other.example.com/DC=other"])], msgid, []))
        following = start + control.size
        cookie = str(following).encode() if following < len(entries) else b""
        done = SimplePagedResultsControl(False, size=0, cookie=cookie)
        if self.fail_after_pages is not None and len(self.requests) > self.fail_after_pages:
            messages = [ldap.TIMEOUT({"desc": "Timed out"})]
        else:
            messages.append((ldap.RES_SEARCH_RESULT, [], msgid, [done]))
        self.messages[msgid] = messages
        return msgid

    def result3(self, msgid, all=1, timeout=None):  # pylint: disable=redefined-builtin
        assert all == 0 and timeout == PARAMS["page_timeout"]
        if self.jitter:
            time.sleep(random.uniform(0, self.jitter))
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


def plan_of(*domains, parallel=1, highest_usn=None):
    """A plan of one search per domain; parallel > 1 splits each like scan.split does (the
    parts share the domain's stand-in directory, as connections to one DC share its database)."""
    the_plan = scan.ScanPlan()
    for name, directory in domains:
        base = "DC=%s,DC=example,DC=com" % name
        task = scan.SearchTask(base, "%s.example.com" % name, Connection("127.0.0.1", directory))
        ranges = scan.usn_ranges(highest_usn or 10 * len(directory.entries), parallel)
        if ranges != [None]:
            task.parts = [scan.SearchPart(task, task.conn, ranges[0])] + [
                scan.SearchPart(task, None, r, connect=lambda d=directory: d.connect()) for r in ranges[1:]]
        the_plan.tasks.append(task)
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
    assert eng.found == 5 and eng.finish()["objects_checked"] == 5 and rows == []
    assert directory.requests == [0, 2, 4]  # page size 2, cookies followed
    assert calls  # progress after every batch


def test_several_domains_in_threads_share_the_duplicate_store():
    corp = PagedDirectory([user("corp", "u%d" % i, "u%d@example.com" % i) for i in range(7)])
    child = PagedDirectory([user("child", "c%d" % i, "c%d@example.com" % i) for i in range(6)]
                           + [user("child", "dup", "U3@example.com")])
    rows, eng = engine()
    the_plan = plan_of(("corp", corp), ("child", child))
    scan.run(the_plan, eng, PARAMS)
    eng.finish()
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


def test_usn_ranges_cover_every_value_once():
    assert scan.usn_ranges(1000, 1) == [None]
    assert scan.usn_ranges(1000, 2) == [(None, 500), (501, None)]
    assert scan.usn_ranges(1000, 3) == [(None, 333), (334, 666), (667, None)]
    assert scan.usn_ranges(2, 3) == [None]  # fewer USNs than parts: one search
    assert scan.usn_ranges(0, 4) == [None]  # no highestCommittedUSN
    part = scan.SearchPart(None, None, (334, 666))
    assert part.filter("(cn=a)") == "(&(cn=a)(uSNCreated>=334)(uSNCreated<=666))"
    assert scan.SearchPart(None, None, (None, 333)).filter("(cn=a)") == "(&(cn=a)(uSNCreated<=333))"
    assert scan.SearchPart(None, None, (667, None)).filter("(cn=a)") == "(&(cn=a)(uSNCreated>=667))"
    assert scan.SearchPart(None, None).filter("(cn=a)") == "(cn=a)"


def test_page_buffer_keeps_order_and_spills_beyond_memory_pages():
    state = scan._ScanState()
    spills = []

    def new_spill():
        spills.append(rr.MemorySpill())
        return spills[-1]

    buffer = scan.PageBuffer(state, new_spill)
    for number in range(scan.MEMORY_PAGES + 4):
        buffer.put([number])
    assert len(buffer.memory) == scan.MEMORY_PAGES and len(spills[0].records) == 4
    assert [buffer.get() for _number in range(2)] == [[0], [1]]
    buffer.put(["late"])  # the spill is not empty: the late page queues behind it, not in memory
    buffer.finish()
    pages = []
    while True:
        page = buffer.get()
        if page is None:
            break
        pages.append(page)
    assert pages == [[n] for n in range(2, scan.MEMORY_PAGES + 4)] + [["late"]]


def _mixed_entries(domain, count):
    """Users whose mail values collide across the whole list, some only once fixed (a leading period
    of mailNickname), so that which holder comes first matters to the rows."""
    entries = []
    for i in range(count):
        dn, entry = user(domain, "u%d" % i, "m%d@example.com" % (i % 7))
        entry["mailNickname"] = [(".nick%d" % (i % 5) if i % 2 else "nick%d" % (i % 5)).encode()]
        entries.append((dn, entry))
    return entries


def test_split_scans_give_the_rows_of_a_single_search_order_in_every_run():
    """Parts are checked in their order, whatever thread answers first: the same rows in every run,
    and the rows of a one-search scan of the directory in the same order."""
    entries = _mixed_entries("corp", 60)
    rows, eng = engine()
    scan.run(plan_of(("corp", PagedDirectory(entries))), eng, dict(PARAMS, page_size=4))
    eng.finish()
    assert rows and eng.found == 60
    for run in range(5):
        directory = PagedDirectory(entries, jitter=0.002)
        split_rows, split_eng = engine()
        the_plan = plan_of(("corp", directory), parallel=3)
        scan.run(the_plan, split_eng, dict(PARAMS, page_size=4))
        split_eng.finish()
        assert split_rows == rows, run
        assert len(set(directory.filters)) == 3  # three parts, each over its own uSNCreated range
        # each extra part connects after the part before it sent its first request
        kinds = [kind for kind, _detail in directory.events]
        assert kinds == ["search", "connect", "search", "connect", "search"], directory.events
        (task,) = the_plan.tasks
        assert task.objects == 60 and task.describe()["parallel"] == 3


def test_a_failing_later_part_stops_the_scan_before_the_first_part_ends():
    slow = PagedDirectory([user("corp", "u%d" % i, "u%d@example.com" % i) for i in range(400)], jitter=0.001)
    the_plan = plan_of(("corp", slow), parallel=2)
    failing = PagedDirectory(slow.entries, fail_after_pages=1)
    the_plan.tasks[0].parts[1].connect = failing.connect
    _rows, eng = engine()
    with pytest.raises(lc.LdapError) as err:
        scan.run(the_plan, eng, PARAMS)
    assert "failed after" in str(err.value) and "page_timeout=5s" in str(err.value)
    assert eng.found < 200  # the first part (200 objects) was not read to its end first


def test_a_part_that_cannot_connect_fails_the_scan_with_the_cause():
    directory = PagedDirectory([user("corp", "u%d" % i, "u%d@example.com" % i) for i in range(40)], jitter=0.001)
    the_plan = plan_of(("corp", directory), parallel=2)

    def refused():
        raise lc.LdapError("127.0.0.1:636: cannot connect: connection refused (DC down or port 636 closed).",
                           kind="connect")

    the_plan.tasks[0].parts[1].connect = refused
    _rows, eng = engine()
    with pytest.raises(lc.LdapError) as err:
        scan.run(the_plan, eng, PARAMS)
    assert str(err.value).startswith(
        "The scan of DC=corp,DC=example,DC=com on 127.0.0.1:636 failed after ")
    assert "objects: cannot connect: connection refused (DC down or port 636 closed). No report" in str(err.value)


def _report_of(tmp_path, name, the_plan, keep=0):
    """A full scan as the module runs it: rows written as read (a draft), a new index on disk; returns the
    report files' bytes, the rows kept for show_values and the lanes in the order the engine was given them."""
    writer = report.ReportWriter(str(tmp_path), name, {"tool": "test"})
    writer.keep = keep
    index = vindex.ValueIndex.create(str(tmp_path), name)
    eng = rr.RuleEngine(ad_facts.routable_tlds(), writer.row, index=index, draft=writer, rows=writer.rows)
    lanes = []
    switch = eng.lane
    eng.lane = lambda number: (lanes.append(number), switch(number))
    scan.run(the_plan, eng, dict(PARAMS, page_size=4))
    summary = eng.finish()
    index.commit()
    paths = writer.commit({"summary": summary}, eng.replace)
    with open(paths["csv"], "rb") as csv_file, open(paths["json"], "rb") as json_file:
        return csv_file.read(), json_file.read(), writer.kept, lanes


def test_parts_checked_as_their_pages_arrive_write_the_report_of_one_search(tmp_path, monkeypatch):
    """Each part is a lane: its pages are checked as they arrive, its objects keep the part's place (index ids,
    report rows), so the files are byte for byte those of one search, duplicates across parts included."""
    monkeypatch.setattr(scan, "CONNECT_DELAY", 0)  # the parts' pages arrive together
    entries = _mixed_entries("corp", 240)
    one_csv, one_json, one_kept, lanes = _report_of(tmp_path, "one", plan_of(("corp", PagedDirectory(entries))),
                                                    keep=7)
    assert lanes == [] and one_csv.count(b"\r\n") > 40 and b"duplicate" in one_csv
    assert json.loads(one_json)["rows"][:7] == one_kept
    interleaved = 0
    for run in range(6):
        the_plan = plan_of(("corp", PagedDirectory(entries, jitter=0.002)), parallel=3)
        split_csv, split_json, kept, lanes = _report_of(tmp_path, "split%d" % run, the_plan, keep=7)
        assert (split_csv, split_json) == (one_csv, one_json), run
        assert kept == one_kept
        interleaved += any(later < earlier for earlier, later in zip(lanes, lanes[1:]))
    assert interleaved  # a part's page was checked before the end of an earlier part, at least once
