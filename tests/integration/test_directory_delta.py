"""Delta re-scans of ems.enable.directory_readiness (issue 17, item 2) in a Samba AD forest of two DCs.

The forest holds the seeded IdFix defects (tests/lab/readiness_defects.py) and 10,000 generated users
(OU=EmsLabUsers; nothing is ignored here, so all of them are checked). After a full scan, 10 objects
change over LDAP on dc1: 7 generated users get a userPrincipalName with a space, 1 generated user takes the mail of
an unchanged generated user (a new duplicate with an object the delta does not read), 1 seeded user
("Mail Dup B") gets a unique mail (its duplicate with the unchanged "Mail Dup A" goes), and the seeded
contact "Nick Dup B" is deleted (its duplicate with "Nick Dup A" goes, and its values leave the index).
The delta re-scan reads exactly the 9 changed objects, removes the deleted one, and its report equals
a full scan's, row for row. Reading another DC, a corrupt index and scan=delta without a usable index
are the other cases.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import stat
import sys
import time

import pytest

from conftest import ROOT, seeded_readiness_lab
from module_runner import conn_args

sys.path.insert(0, str(ROOT / "tests" / "lab"))
import readiness_defects as seed  # noqa: E402
from test_directory_readiness import read_json_report, run_module, run_tasks  # noqa: E402

pytestmark = pytest.mark.integration

FOREST = "delta"
GENERATED_USERS = 10000
CHANGED_USERS = 7


@pytest.fixture(scope="module")
def dlab():
    with seeded_readiness_lab(FOREST, "delta", GENERATED_USERS, dcs=2) as lab:
        yield lab


@pytest.fixture(scope="module")
def forest(dlab):
    return dlab.forest(FOREST)


def args(forest, out, **extra):
    result = conn_args(forest, output_dir=str(out), report_name="scan")
    result.update(extra)
    return result


def ldap_tool(lab, forest, tool, *arguments, text=None, dc=0):
    cmd = [tool, "-H", "ldaps://%s" % forest.dcs[dc].fqdn, "-x", "-D", forest.admin_user, "-w",
           forest.admin_password, "-o", "ldif-wrap=no"] + list(arguments)
    proc = lab.run(cmd, env={"LDAPTLS_CACERT": forest.ca_file}, input=text, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def generated(i, forest):
    return "CN=emsuser%06d,OU=EmsLabUsers,%s" % (i, forest.base_dn)


def report_of(result):
    report = read_json_report(result["reports"]["json"])
    return report["rows"], report["summary"]


@pytest.fixture(scope="module")
def delta_run(dlab, forest, tmp_path_factory):
    """Full scan, 10 changes on dc1, then the delta (scan=auto) and a full scan (scan=full) of the result."""
    tmp = tmp_path_factory.mktemp("delta")
    (tmp / "first").mkdir()
    (tmp / "second").mkdir()
    _proc, first = run_module(dlab, tmp / "first", args(forest, tmp / "reports"))
    first["report_rows"] = report_of(first)[0]  # the delta replaces the report file
    changes = []
    for i in range(1, CHANGED_USERS + 1):
        changes.append("dn: %s\nchangetype: modify\nreplace: userPrincipalName\nuserPrincipalName: user %d@contoso.com\n"
                       % (generated(i, forest), i))
    taken = "emsuser000100@%s" % forest.dns_domain  # user 100 keeps it, unchanged
    changes.append("dn: %s\nchangetype: modify\nreplace: mail\nmail: %s\n" % (generated(50, forest), taken.upper()))
    mail_b = seed.object_dn(next(o for o in seed.SEED if o["cn"] == "Mail Dup B"), forest.base_dn)
    changes.append("dn: %s\nchangetype: modify\nreplace: mail\nmail: unique.b@contoso.com\n" % mail_b)
    nick_b = seed.object_dn(next(o for o in seed.SEED if o["cn"] == "Nick Dup B"), forest.base_dn)
    changes.append("dn: %s\nchangetype: delete\n" % nick_b)
    ldap_tool(dlab, forest, "ldapmodify", text="\n".join(changes))
    _proc, (delta, full) = run_tasks(dlab, tmp / "second", [
        args(forest, tmp / "reports"), args(forest, tmp / "full", scan="full")])
    return first, delta, full, nick_b


def test_the_first_scan_is_full_and_writes_a_private_index(delta_run):
    first, _delta, _full, _nick_b = delta_run
    assert not first.get("failed"), first
    assert first["scan_type"] == "full"
    assert first["scan_reason"].startswith("no index of a previous scan")
    assert first["objects_read"] == first["summary"]["objects_found"] > GENERATED_USERS
    assert stat.S_IMODE(os.stat(first["index"]).st_mode) == 0o600


def test_delta_reads_only_the_changed_objects_and_equals_a_full_scan(forest, delta_run):
    first, delta, full, _nick_b = delta_run
    assert not delta.get("failed"), delta
    assert not full.get("failed"), full
    assert (delta["scan_type"], full["scan_type"]) == ("delta", "full")
    assert delta["scan_reason"].startswith("the index of the last scan is up to date with %s at USN "
                                           % forest.dcs[0].fqdn), delta["scan_reason"]
    assert full["scan_reason"] == "scan=full"
    assert delta["objects_read"] == CHANGED_USERS + 2  # 9 modified; the deleted one comes as a tombstone
    assert delta["objects_removed"] == 1
    assert delta["deletions_found_by"] == "tombstones"  # the administrator may list deleted objects
    assert [s["objects"] for s in delta["searches"]] == [CHANGED_USERS + 2]
    delta_rows, delta_summary = report_of(delta)
    full_rows, full_summary = report_of(full)
    # the same rows, uSNChanged and whenChanged included; the order is the one each index read them in
    assert sorted(map(json.dumps, delta_rows)) == sorted(map(json.dumps, full_rows))
    assert delta_summary == full_summary == delta["summary"]
    assert delta["summary"]["objects_found"] == first["summary"]["objects_found"] - 1
    first_rows = first["report_rows"]

    def rows_of(rows, dn, attribute):
        return [(r["value"], r["errors"]) for r in rows if r["dn"] == dn and r["attribute"] == attribute]

    for i in range(1, CHANGED_USERS + 1):
        assert rows_of(first_rows, generated(i, forest), "userPrincipalName") == [
            ("emsuser%06d@%s" % (i, forest.dns_domain), ["top_level_domain"])]
        assert rows_of(delta_rows, generated(i, forest), "userPrincipalName") == [
            ("user %d@contoso.com" % i, ["character"])]
    # the new duplicate: the changed user 50 and the unchanged user 100, which the delta did not read
    taken = "emsuser000100@%s" % forest.dns_domain
    assert rows_of(first_rows, generated(100, forest), "mail") == []
    assert rows_of(delta_rows, generated(50, forest), "mail") == [(taken.upper(), ["duplicate"])]
    assert rows_of(delta_rows, generated(100, forest), "mail") == [(taken, ["duplicate"])]
    # the duplicates that went: Mail Dup A and Nick Dup A no longer hold a duplicated value
    for cn, attribute in (("Mail Dup A", "mail"), ("Nick Dup A", "mailNickname")):
        dn = seed.object_dn(next(o for o in seed.SEED if o["cn"] == cn), forest.base_dn)
        assert rows_of(first_rows, dn, attribute), cn
        assert rows_of(delta_rows, dn, attribute) == [], cn
    assert delta["summary"]["duplicates"]["mail"] == first["summary"]["duplicates"]["mail"]  # -2 +2


def test_a_deleted_object_leaves_the_index(delta_run):
    _first, delta, _full, nick_b = delta_run
    db = sqlite3.connect("file:%s?mode=ro" % delta["index"], uri=True)
    try:
        assert db.execute("SELECT COUNT(*) FROM objects WHERE dn = ?", (nick_b,)).fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM vals WHERE key = 'dupnick'").fetchone()[0] == 1  # Nick Dup A's
    finally:
        db.close()


def wait_replicated(lab, forest, gone_dn, dc=1, timeout=180):
    """Wait until DC number `dc` has the last change made on dc1 (the deletion of gone_dn): the seed and
    the changes reach dc2 by replication, and a container replicated between two scans of dc2 would rightly
    make the second one full (a renamed or moved container)."""
    deadline = time.monotonic() + timeout
    while True:
        proc = lab.run(["ldapsearch", "-H", "ldaps://%s" % forest.dcs[dc].fqdn, "-x", "-D", forest.admin_user,
                        "-w", forest.admin_password, "-b", gone_dn, "-s", "base", "1.1"],
                       env={"LDAPTLS_CACERT": forest.ca_file}, timeout=60)
        if proc.returncode == 32:  # noSuchObject: the deletion has replicated
            return
        assert time.monotonic() < deadline, "%s did not replicate to %s: %s" % (
            gone_dn, forest.dcs[dc].fqdn, proc.stdout + proc.stderr)
        time.sleep(1)


def test_another_dc_a_corrupt_index_and_delta_on_request(dlab, forest, delta_run, tmp_path):
    """Another DC's USNs mean nothing here: a full scan, with the reason. A corrupt index: a full scan
    with a warning. scan=delta when no delta is possible: one line with the reason and the remedy."""
    out = tmp_path / "reports"
    dc1, dc2 = forest.dcs[0].fqdn, forest.dcs[1].fqdn
    wait_replicated(dlab, forest, delta_run[3])
    _proc, results = run_tasks(dlab, tmp_path, [
        args(forest, out, server=[dc1]),
        args(forest, out, server=[dc2]),
        args(forest, out, server=[dc2]),
        args(forest, out, server=[dc1], scan="delta"),
    ])
    first, other_dc, same_dc, refused = results
    assert not [r for r in results[:3] if r.get("failed")], results
    assert (first["scan_type"], other_dc["scan_type"], same_dc["scan_type"]) == ("full", "full", "delta"), [
        r.get("scan_reason") or r.get("msg") for r in results]
    assert other_dc["scan_reason"] == "%s is read from DC %s, the last scan read it from %s (USNs are per DC)" % (
        forest.base_dn, dc2, dc1)
    assert same_dc["objects_read"] == 0
    assert refused["failed"] is True
    assert refused["msg"] == (
        "scan: delta is not possible: %s is read from DC %s, the last scan read it from %s (USNs are per DC). "
        "Remedy: Run with scan=auto (a full scan when a delta is not possible) or scan=full." % (
            forest.base_dn, dc1, dc2)), refused["msg"]
    index = out / "scan.index.sqlite"
    index.write_bytes(b"not a database\n" * 100)
    _proc, (corrupt, again) = run_tasks(dlab, tmp_path, [args(forest, out, server=[dc1])] * 2)
    assert corrupt["scan_type"] == "full" and corrupt["scan_reason"] == "the index of the last scan is unusable"
    assert [w for w in corrupt["warnings"] if w.startswith(
        "scan: the index of the last scan is unusable (") and w.endswith("); a full scan rebuilds it.")], corrupt
    assert again["scan_type"] == "delta" and again["objects_read"] == 0
    assert json.dumps(corrupt).count(forest.admin_password) == 0


def test_an_account_that_cannot_list_deleted_objects_finds_deletions_by_enumeration(dlab, forest, tmp_path):
    """AD lets only Administrators list the Deleted Objects container (Samba likewise: the reader may read
    the container but gets none of its tombstones): for another account a show-deleted search returns no
    tombstones, silently. The delta then reads the objectGUID of every object the filter selects and
    removes from the index those no longer there, with a warning."""
    password = "Reader-Pass-2026!"
    reader = "CN=delta-reader,CN=Users,%s" % forest.base_dn
    encoded = base64.b64encode(('"%s"' % password).encode("utf-16-le")).decode()
    ldap_tool(dlab, forest, "ldapadd", text=(
        "dn: %s\nobjectClass: user\nsAMAccountName: delta-reader\nuserPrincipalName: delta-reader@%s\n"
        "unicodePwd:: %s\nuserAccountControl: 512\n" % (reader, forest.dns_domain, encoded)))
    out = tmp_path / "reports"
    dc1 = forest.dcs[0].fqdn
    (tmp_path / "a").mkdir()
    _proc, first = run_module(dlab, tmp_path / "a", args(forest, out, server=[dc1]))
    assert not first.get("failed"), first
    gone = generated(200, forest)
    ldap_tool(dlab, forest, "ldapdelete", gone)
    (tmp_path / "b").mkdir()
    _proc, delta = run_module(dlab, tmp_path / "b", args(
        forest, out, server=[dc1], username="delta-reader@%s" % forest.dns_domain, password=password))
    assert not delta.get("failed"), delta
    assert (delta["scan_type"], delta["deletions_found_by"], delta["objects_removed"]) == (
        "delta", "enumeration", 1), delta
    assert [w for w in delta["warnings"] if w.startswith("scan: this account is not in BUILTIN\\Administrators")]
    rows, _summary = report_of(delta)
    assert gone not in {r["dn"] for r in rows}
    assert delta["summary"]["objects_found"] == first["summary"]["objects_found"] - 1
    assert password not in json.dumps(delta)
