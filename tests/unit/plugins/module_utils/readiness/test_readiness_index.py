"""The value index of the readiness scan (readiness/index.py, SQLite) and the delta decisions built on it.

The lab test (tests/integration/test_directory_delta.py) runs deltas against Samba; here the index's own
behaviour: duplicates across the whole index after objects are replaced or removed, the pass over
objectGUIDs, the copy a delta starts from (never through a link, never a corrupt file), and the state
checks that force a full scan.
"""

from __future__ import annotations

import csv
import json
import os
import stat

import pytest

from ansible_collections.ems.enable.plugins.module_utils.ad import facts as ad_facts
from ansible_collections.ems.enable.plugins.module_utils.readiness import directory_readiness as dr
from ansible_collections.ems.enable.plugins.module_utils.readiness import index as vindex
from ansible_collections.ems.enable.plugins.module_utils.readiness import rules as rr

TLDS = ad_facts.routable_tlds()


def user(cn, guid, mail, usn=1):
    return ("CN=%s,OU=T,DC=corp" % cn, {
        "cn": [cn.encode()], "objectClass": [b"top", b"person", b"user"], "displayName": [cn.encode()],
        "userPrincipalName": [("%s@contoso.com" % cn.lower()).encode()], "sAMAccountName": [cn.lower().encode()],
        "mail": [mail.encode()], "objectGUID": [guid], "uSNChanged": [str(usn).encode()],
        "whenChanged": [b"20261206000000.0Z"]})


def scan(index, *entries):
    rows = []
    engine = rr.RuleEngine(TLDS, rows.append, index=index)
    for dn, raw in entries:
        if index.known(raw["objectGUID"][0]):
            index.remove([raw["objectGUID"][0]])
        engine.process(dn, raw)
    summary = engine.finish()
    return [(r["dn"].split(",")[0], r["attribute"], r["errors"], r["usn_changed"]) for r in rows], summary


G = [bytes([n]) * 16 for n in range(10)]


def test_duplicates_follow_replaced_and_removed_objects():
    index = vindex.ValueIndex()
    rows, summary = scan(index, user("A", G[1], "x@contoso.com"), user("B", G[2], "y@contoso.com"))
    assert rows == [] and summary["objects_checked"] == 2
    # B changes to A's mail: a duplicate with an object not read again
    rows, _summary = scan(index, user("B", G[2], "X@contoso.com", usn=7))
    assert rows == [("CN=A", "mail", ["duplicate"], 1), ("CN=B", "mail", ["duplicate"], 7)]
    # A is deleted: the duplicate goes with it
    assert index.remove([G[1], G[9]]) == 1
    rows, summary = scan(index)
    assert rows == [] and summary["objects_found"] == 1 and summary["distinct_values_tracked"] == 2  # B: mail, UPN


def test_the_guid_pass_removes_what_it_did_not_find():
    index = vindex.ValueIndex()
    scan(index, user("A", G[1], "x@contoso.com"), user("B", G[2], "x@contoso.com"), user("C", G[3], "z@contoso.com"))
    seen = index.begin_seen()
    seen([G[1], G[3], None])
    assert index.remove_unseen() == 1
    rows, summary = scan(index)
    assert rows == [] and summary["objects_found"] == 2


def test_commit_is_private_and_atomic_and_a_delta_starts_from_a_copy(tmp_path):
    index = vindex.ValueIndex.create(str(tmp_path), "scan")
    scan(index, user("A", G[1], "x@contoso.com"))
    index.set_meta({"format": str(vindex.INDEX_FORMAT), "searches": [{"usn": 5}]})
    assert [n.rsplit("-", 1)[0] for n in os.listdir(tmp_path)] == [".scan.index.partial"]
    path = index.commit()
    assert os.listdir(tmp_path) == ["scan.index.sqlite"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    before = open(path, "rb").read()
    delta = vindex.ValueIndex.load(str(tmp_path), "scan")
    assert json.loads(delta.meta()["searches"]) == [{"usn": 5}]
    scan(delta, user("B", G[2], "x@contoso.com"))
    delta.discard()  # a failed delta: the last index is as it was
    assert os.listdir(tmp_path) == ["scan.index.sqlite"] and open(path, "rb").read() == before


def test_an_unusable_index_is_refused_with_the_reason(tmp_path):
    with pytest.raises(vindex.IndexUnusable, match="^no index of a previous scan"):
        vindex.ValueIndex.load(str(tmp_path), "scan")
    final = tmp_path / "scan.index.sqlite"
    final.write_bytes(b"not a database\n" * 300)
    with pytest.raises(vindex.IndexUnusable, match="file is not a database"):
        vindex.ValueIndex.load(str(tmp_path), "scan")
    final.unlink()
    (tmp_path / "elsewhere").write_bytes(b"")
    final.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(vindex.IndexUnusable, match="Too many levels of symbolic links"):
        vindex.ValueIndex.load(str(tmp_path), "scan")
    final.unlink()
    other = vindex.ValueIndex.create(str(tmp_path), "scan")
    other.set_meta({"format": "0"})
    other.commit()
    with pytest.raises(vindex.IndexUnusable, match="index format 0, not 1"):
        vindex.ValueIndex.load(str(tmp_path), "scan")
    assert sorted(os.listdir(tmp_path)) == ["elsewhere", "scan.index.sqlite"]  # no partial file left


STATE = {"base": "DC=corp", "nc": "DC=corp", "server": "dc1.corp", "invocation_id": "aa", "usn": 100}
OPTIONS = {"rules": "r1", "filter": "(x=1)", "search_base": ["DC=corp"], "global_catalog": False, "ignore": [],
           "attributes": ["cn"]}


@pytest.mark.parametrize("options, state, reason", [
    (OPTIONS, STATE, None),
    (OPTIONS, dict(STATE, usn=250), None),
    (dict(OPTIONS, rules="r2"), STATE, "the rule set changed since the last scan"),
    (dict(OPTIONS, filter="(x=2)", ignore=["CN=a"]), STATE, "filter, ignore changed since the last scan"),
    (OPTIONS, dict(STATE, server="DC2.corp"),
     "DC=corp is read from DC DC2.corp, the last scan read it from dc1.corp (USNs are per DC)"),
    (OPTIONS, dict(STATE, server="DC1.CORP"), None),
    (OPTIONS, dict(STATE, invocation_id="bb"),
     "the invocationId of DC dc1.corp changed since the last scan (restored from a backup)"),
    (OPTIONS, dict(STATE, usn=99), "the highestCommittedUSN of DC dc1.corp is below the last scan's"),
])
def test_what_forces_a_full_scan(options, state, reason):
    meta = {"options": json.dumps(OPTIONS), "searches": json.dumps([STATE])}
    assert dr.delta_reason(meta, options, [state]) == reason


def test_a_missing_state_forces_a_full_scan():
    assert dr.delta_reason({}, OPTIONS, [STATE]) == "the index of the last scan holds no scan state"
    meta = {"options": json.dumps(OPTIONS), "searches": json.dumps([STATE, STATE])}
    assert dr.delta_reason(meta, OPTIONS, [STATE]) == "the searches changed since the last scan"


def test_a_renamed_container_forces_a_full_scan_and_new_ones_are_kept():
    index = vindex.ValueIndex()
    index.set_containers([(G[1], "OU=Staff,DC=corp")])
    assert dr._container_reason(index, [(G[1], "ou=staff,dc=corp", 3)]) == []  # another attribute changed
    assert dr._container_reason(index, [(G[1], "OU=People,DC=corp", 3)]) == (
        "OU=People,DC=corp was renamed or moved since the last scan (the DNs below it changed)")
    assert dr._container_reason(index, [(G[2], "OU=New,DC=corp", 120)]) == [(G[2], "OU=New,DC=corp", 120)]


def _mixed_directory():
    """Objects whose draft rows change at the end and objects whose rows do not, in one scan: a first
    holder with and without its own errors, a holder with no draft row at all, the first and the last
    object of the scan holding duplicates, ignored and skipped objects between them."""
    def one(cn, n, mail, **more):
        dn, raw = user(cn, bytes([n]) * 16, mail, usn=n)
        raw.update({k: [v.encode()] for k, v in more.items()})
        return dn, raw
    return [
        one("First", 1, "shared@contoso.com"),  # first holder, no error of its own: no draft row
        one("Bad", 2, "bad@contoso.lab"),  # an error, no duplicate: its draft rows stay
        one("Ignored", 3, "shared@contoso.com"),
        one("Skip$", 4, "skip@contoso.com"),
        one("Tld", 5, "dup@contoso.lab", displayName=" "),  # a first holder with its own error
        one("Clean", 6, "clean@contoso.com"),
        one("Second", 7, "SHARED@contoso.com"),
        one("Third", 8, "Dup@Contoso.lab"),
        one("Last", 9, "shared@CONTOSO.com", givenName="x" * 70),
    ]


@pytest.mark.parametrize("keep", [0, 3, 1000])
def test_a_draft_written_during_the_scan_gives_the_rows_rendered_from_the_index(tmp_path, keep):
    """A full scan writes each object's rows as it reads it and rewrites at commit the rows of the objects
    holding a duplicated value: the files, the rows returned with show_values and the summary equal what
    the index renders when the scan is complete (a delta's way)."""
    from ansible_collections.ems.enable.plugins.module_utils.readiness import report
    ignore = rr.IgnoreList(["CN=Ignored,OU=T,DC=corp"])
    expected = []
    engine = rr.RuleEngine(TLDS, expected.append, index=vindex.ValueIndex(), ignore=ignore)
    for dn, raw in _mixed_directory():
        engine.process(dn, raw)
    want = engine.finish()
    assert want["duplicates"] == {"mail": 5} and want["objects_ignored"] == 1 and want["objects_skipped"] == 1
    writer = report.ReportWriter(str(tmp_path), "scan", {"forest": "corp"})
    writer.keep = keep
    draft = rr.RuleEngine(TLDS, writer.row, index=vindex.ValueIndex(), ignore=ignore, draft=writer)
    for dn, raw in _mixed_directory():
        draft.process(dn, raw)
    got = draft.finish()
    assert draft.finish() is got  # once: a second call does not take the draft's rows back again
    assert len(draft.replace) == 5  # First, Tld, Second, Third, Last
    paths = writer.commit({"summary": got}, draft.replace)
    assert got == want
    data = json.loads(open(paths["json"], encoding="utf-8").read())
    assert data["rows"] == expected
    with open(paths["csv"], encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    assert [(r[0], r[2], r[4]) for r in table[1:]] == [
        (r["dn"], r["attribute"], ";".join(r["errors"])) for r in expected]
    assert writer.kept == expected[:keep]


def test_a_draft_needs_a_new_index():
    index = vindex.ValueIndex()
    scan(index, user("A", G[1], "x@contoso.com"))

    class Writer:
        def mark(self):
            return 0, 0

    engine = rr.RuleEngine(TLDS, None, index=index, draft=Writer())
    with pytest.raises(ValueError, match="a draft needs a new index"):
        engine.process(*user("B", G[2], "y@contoso.com"))


def test_lanes_give_each_part_its_place_and_a_delta_adds_after_them(tmp_path):
    """Objects added in lanes 1, 0, 1 take ids from their lane's range: the index's order (the report's) is
    lane 0's objects, then lane 1's, whatever order they came in. A delta adds new objects after all lanes and
    cannot take lanes."""
    index = vindex.ValueIndex.create(str(tmp_path), "scan")
    engine = rr.RuleEngine(TLDS, None, index=index)
    for lane, (cn, guid) in [(1, ("C", G[3])), (0, ("A", G[1])), (1, ("D", G[4])), (0, ("B", G[2]))]:
        engine.lane(lane)
        engine.process(*user(cn, guid, "same@contoso.com"))
    engine.finish()
    assert [(oid, head[0].split(",")[0]) for oid, head, _vals in index.report_objects()] == [
        (1, "CN=A"), (2, "CN=B"), (vindex.LANE_IDS + 1, "CN=C"), (vindex.LANE_IDS + 2, "CN=D")]
    index.set_meta({"format": str(vindex.INDEX_FORMAT)})
    index.commit()
    delta = vindex.ValueIndex.load(str(tmp_path), "scan")
    assert delta.add(G[5], "CN=E,OU=T,DC=corp", 9, None, "user", vindex.STATUS_CHECKED, None) == vindex.LANE_IDS + 3
    with pytest.raises(ValueError, match="lanes are for the parts of a full scan"):
        delta.lane(1)
    delta.discard()
