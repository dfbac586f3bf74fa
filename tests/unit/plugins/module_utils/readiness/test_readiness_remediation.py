"""directory_remediation without a DC: the decisions file checks, planning, the undo LDIF."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import tracemalloc

import ldap
import pytest

from ansible_collections.ems.enable.plugins.module_utils.ad import ldap_client as lc
from ansible_collections.ems.enable.plugins.module_utils.readiness import remediation as rem
from ansible_collections.ems.enable.plugins.module_utils.readiness import report

BASE = "DC=corp,DC=example,DC=com"
ANN = "CN=Ann,OU=T," + BASE
BOB = "CN=Bob,OU=T," + BASE


def row(attribute, value, decision, new_value=None, suggested=None, dn=ANN):
    return {"dn": dn, "object_class": "user", "attribute": attribute, "value": value, "errors": ["character"],
            "suggested_value": suggested, "action": "edit", "decision": decision, "new_value": new_value}


def write_json(tmp_path, rows, **extra):
    data = {"format": report.REPORT_FORMAT, "rows": rows, "complete": True}
    data.update(extra)
    path = tmp_path / "scan.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def write_csv(tmp_path, rows):
    path = tmp_path / "scan.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(report.CSV_COLUMNS[:7] + ("decision", "new_value"))  # a report without the USN columns
        for r in rows:
            writer.writerow(r)
    return str(path)


class FakeConn:
    server = "dc1.corp.example.com"

    def __init__(self, entries):
        self.entries = entries
        self.root_dse = {"defaultNamingContext": [BASE.encode()]}
        self.conn = self
        self.writes = []

    def read_entry(self, dn, attrs=None, scope=None):
        entry = self.entries.get(dn.lower())
        return None if entry is None else {k: [v.encode() for v in vs] for k, vs in entry.items()}

    def search(self, base, flt, attrs, scope=None, page_size=1000):
        attr, value = flt[1:-1].split("=", 1)
        for dn, entry in self.entries.items():
            if any(v.lower() == value.lower() for v in entry.get(attr, [])):
                yield dn, {}

    def modify_ext_s(self, dn, mods):
        entry = self.entries[dn.lower()]
        for op, attr, values in mods:
            current = entry.setdefault(attr, [])
            for value in values:
                value = value.decode()
                if op == ldap.MOD_DELETE:
                    if value not in current:
                        raise ldap.NO_SUCH_ATTRIBUTE({"desc": "No such attribute"})
                    current.remove(value)
                else:
                    current.append(value)
            if not current:
                del entry[attr]
        self.writes.append((dn, mods))

    def close(self):
        pass


def directory():
    return {
        ANN.lower(): {"cn": ["Ann"], "objectClass": ["top", "person", "user"], "sAMAccountName": ["ann"],
                      "userPrincipalName": ["ann lee@corp.example.com"],
                      "proxyAddresses": ["SMTP:ann@contoso.com", "smtp:sp ace@contoso.com"]},
        BOB.lower(): {"cn": ["Bob"], "objectClass": ["top", "person", "user"], "sAMAccountName": ["bob"],
                      "userPrincipalName": ["bob@corp.example.com"], "mail": ["taken@contoso.com"]},
    }


@pytest.mark.parametrize("bad, field", [
    (row("userPrincipalName", "x", "fix"), "decision"),
    (row("cn", "x", "edit", "y"), "attribute"),
    (dict(row("userPrincipalName", "x", "edit", "y"), dn="not a dn"), "dn"),
    (row("userPrincipalName", "x", "edit"), "new_value"),
    (row("userPrincipalName", "x", "remove", "y"), "new_value"),
    (row("userPrincipalName", "x", "edit", " y"), "new_value"),
    (row("displayName", None, "remove"), "decision"),
])
def test_bad_rows_name_the_row_and_field(tmp_path, bad, field):
    path = write_json(tmp_path, [row("mail", "a@b.com", "skip"), bad])
    with pytest.raises(lc.LdapError) as err:
        rem.read_decisions(path)
    assert err.value.kind == "input"
    assert "row 2: field %s" % field in str(err.value)


def test_file_level_checks(tmp_path):
    (tmp_path / "x.txt").touch()
    with pytest.raises(lc.LdapError, match="give a .csv or .json"):
        rem.read_decisions(str(tmp_path / "x.txt"))
    with pytest.raises(lc.LdapError, match="is not a file"):
        rem.read_decisions(str(tmp_path / "missing.json"))
    with pytest.raises(lc.LdapError, match="not a complete scan"):
        rem.read_decisions(write_json(tmp_path, [], complete=False))
    (tmp_path / "bad.csv").write_text("dn,attribute\n", encoding="utf-8")
    with pytest.raises(lc.LdapError, match="lacks the columns"):
        rem.read_decisions(str(tmp_path / "bad.csv"))


def test_csv_undoes_the_formula_quote_and_counts_undecided(tmp_path):
    path = write_csv(tmp_path, [
        (ANN, "user", "mail", "'=x@contoso.com", "character", "x@contoso.com", "edit", "edit", ""),
        (ANN, "user", "givenName", "G", "length", "", "edit", "", ""),
    ])
    store, undecided = rem.read_decisions(path)
    rows = list(store)
    assert undecided == 1 and len(rows) == 1
    assert rows[0].values == ["=x@contoso.com", "'=x@contoso.com"] and rows[0].new_value == "x@contoso.com"
    assert rows[0].where == "line 2"


def test_plan_apply_undo_and_second_apply(tmp_path, monkeypatch):
    entries = directory()
    conn = FakeConn(entries)
    monkeypatch.setattr(lc, "connect", lambda params: conn)
    path = write_json(tmp_path, [
        row("userPrincipalName", "ann lee@corp.example.com", "edit", suggested="annlee@corp.example.com"),
        row("proxyAddresses", "smtp:sp ace@contoso.com", "remove"),
        row("mail", None, "edit", "taken@contoso.com"),  # another object holds it
        row("sAMAccountName", "bob", "edit", "bad+sam", dn=BOB),  # still fails a rule
        row("mail", "old@contoso.com", "edit", "new@contoso.com", dn=BOB),  # changed since the scan
        row("givenName", "G", "complete"),
        row("mail", "a@contoso.com", "edit", "b@contoso.com", dn="CN=Gone," + BASE),
    ])
    undo = str(tmp_path / "undo.ldif")
    params = {"server": ["dc1"], "transport": "ldaps", "auth": "simple", "username": "u", "password": "p",
              "ca_file": None, "validate_certs": True, "timeout": 5, "allow_cleartext": False, "port": None,
              "mode": "apply", "decisions_file": path, "undo_file": undo, "show_values": True}
    monkeypatch.setattr(lc, "validate_params", lambda p: [])
    assert "rows" not in rem.run_directory_remediation(dict(params, show_values=False), check_mode=True)
    check = rem.run_directory_remediation(params, check_mode=True)
    statuses = [r["status"] for r in check["rows"]]
    assert statuses == ["change", "change", "refused", "refused", "conflict", "conflict", "deleted"]
    assert "duplicate" in check["rows"][2]["reason"] and "character" in check["rows"][3]["reason"]
    assert check["changed"] and not conn.writes and not os.path.exists(undo)
    assert check["diff"] == [{"before_header": ANN, "after_header": ANN,
                              "before": "userPrincipalName: ann lee@corp.example.com\n"
                                        "proxyAddresses: smtp:sp ace@contoso.com\n",
                              "after": "userPrincipalName: annlee@corp.example.com\n"}]
    before = json.loads(json.dumps(entries))
    done = rem.run_directory_remediation(params)
    assert done["summary"]["changed"] == 2 and done["changed"]
    assert entries[ANN.lower()]["userPrincipalName"] == ["annlee@corp.example.com"]
    assert entries[ANN.lower()]["proxyAddresses"] == ["SMTP:ann@contoso.com"]
    assert stat.S_IMODE(os.stat(undo).st_mode) == 0o600
    again = rem.run_directory_remediation(params)
    assert not again["changed"] and again["summary"]["already_applied"] == 2
    undone = rem.run_directory_remediation(dict(params, mode="undo"))
    assert undone["summary"]["changed"] == 2
    after = json.loads(json.dumps(entries))
    for dn in (ANN.lower(),):
        assert {k: sorted(v) for k, v in after[dn].items()} == {k: sorted(v) for k, v in before[dn].items()}
    assert not rem.run_directory_remediation(dict(params, mode="undo"))["changed"]


def test_undo_ldif_encodes_unsafe_values_and_parses_back(tmp_path):
    r = rem.Row("row 1", "CN=M\u00fcller," + BASE, "displayName", [" lead"], "edit", "M\u00fcller", None)
    r.before, r.after = " lead", "M\u00fcller"
    text = "".join(rem.undo_ldif([r]))
    assert "displayName:: " in text and "dn:: " in text
    path = tmp_path / "u.ldif"
    path.write_text(text, encoding="utf-8")
    (back,) = list(rem.read_undo(str(path)))
    assert back.dn == r.dn and back.values == ["M\u00fcller"] and back.new_value == " lead"
    store = rem.RowStore()
    rem._UndoParser(io.BytesIO(text.encode()), store, "u.ldif").parse_change_records()
    assert len(store) == 1


def test_an_object_changed_since_the_scan_is_a_conflict_on_the_scans_dc_only(tmp_path, monkeypatch):
    """The report's uSNChanged is compared when this run writes to the DC the scan read (USNs are per DC)."""
    entries = directory()
    entries[ANN.lower()]["uSNChanged"] = ["4711"]
    entries[BOB.lower()]["uSNChanged"] = ["4000"]
    conn = FakeConn(entries)
    monkeypatch.setattr(lc, "connect", lambda params: conn)
    monkeypatch.setattr(lc, "validate_params", lambda p: [])
    rows = [dict(row("userPrincipalName", "ann lee@corp.example.com", "edit", "annlee@corp.example.com"),
                 usn_changed=4700),  # Ann changed since (another attribute): the value alone would pass
            dict(row("mail", "taken@contoso.com", "remove", dn=BOB), usn_changed=4000)]
    params = {"server": ["dc1"], "transport": "ldaps", "auth": "simple", "username": "u", "password": "p",
              "ca_file": None, "validate_certs": True, "timeout": 5, "allow_cleartext": False, "port": None,
              "mode": "apply", "undo_file": str(tmp_path / "undo.ldif"), "show_values": True}
    same_dc = write_json(tmp_path, rows, searches=[{"server": "dc1.corp.example.com"}])
    result = rem.run_directory_remediation(dict(params, decisions_file=same_dc), check_mode=True)
    assert [r["status"] for r in result["rows"]] == ["conflict", "change"]
    assert result["rows"][0]["reason"] == ("the object changed since the scan (uSNChanged 4700, now 4711); left as "
                                           "it is - scan again")
    assert result["warnings"] == []
    other_dc = write_json(tmp_path, rows, searches=[{"server": "dc2.corp.example.com"}])
    result = rem.run_directory_remediation(dict(params, decisions_file=other_dc), check_mode=True)
    assert [r["status"] for r in result["rows"]] == ["change", "change"]
    assert result["warnings"] == ["decisions_file: uSNChanged not compared (USNs are per DC): the scan read "
                                  "dc2.corp.example.com, this run writes to dc1.corp.example.com; each value is "
                                  "compared."]


@pytest.mark.parametrize("indent", [None, 1, 4])
@pytest.mark.parametrize("complete_first", [False, True])
def test_a_json_report_is_read_as_a_stream_in_any_layout(tmp_path, monkeypatch, indent, complete_first):
    """Rows as json.load reads them, whatever the layout (a reviewer's tool may re-indent the file or sort
    its keys), chunks cut anywhere (7 characters: inside strings, escapes, numbers and literals)."""
    monkeypatch.setattr(rem, "_JSON_CHUNK", 7)
    rows = [row("mail", "a%d\\u00e9\"@b.com" % n, "edit" if n % 2 else "", "n%d@contoso.com" % n,
                dn="CN=U%d,OU=T,DC=corp,DC=example,DC=com" % n) for n in range(40)]
    for n, record in enumerate(rows):
        record["usn_changed"] = 10 ** 12 + n
    data = {"format": report.REPORT_FORMAT, "rows": rows, "complete": True, "searches": [{"server": "DC1.x"}]}
    if complete_first:
        data = dict(sorted(data.items()))
    path = tmp_path / "scan.json"
    path.write_text(json.dumps(data, indent=indent), encoding="utf-8")
    meta = {}
    decided, undecided = rem.read_decisions(str(path), meta)
    decided = list(decided)
    assert undecided == 20 and [r.values for r in decided] == [[r["value"]] for r in rows if r["decision"]]
    assert [r.usn for r in decided] == [r["usn_changed"] for r in rows if r["decision"]]
    assert rem.scanned_dcs(meta) == {"dc1.x"}


@pytest.mark.parametrize("text, message", [
    ('{"format": "%s", "rows": [{"dn": 1' % report.REPORT_FORMAT, "is not valid JSON"),
    ('{"format": "%s", "rows": [{}] "complete": true}' % report.REPORT_FORMAT, "is not valid JSON"),
    ('{"format": "%s", "rows": [], "complete": true} []' % report.REPORT_FORMAT, "is not valid JSON"),
    ('{"format": "%s", "rows": 5, "complete": true}' % report.REPORT_FORMAT, "is not a directory readiness report"),
    ('{"format": "other", "rows": [], "complete": true}', "is not a directory readiness report"),
    ('{"format": "%s", "rows": [7], "complete": true}' % report.REPORT_FORMAT, "row 1: not an object"),
    ('[]', "is not valid JSON"),
])
def test_a_broken_json_report_is_one_line(tmp_path, text, message):
    path = tmp_path / "scan.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(lc.LdapError, match=message) as err:
        rem.read_decisions(str(path))
    assert err.value.kind == "input" and "\n" not in str(err.value)


def test_reading_a_large_report_holds_the_decided_rows_not_the_report(tmp_path):
    """100,000 rows (about 30 MB of JSON), 2 decided: the reader's peak Python memory stays a few MB (json.load
    of the same file takes over 100 MB)."""
    path = tmp_path / "scan.json"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write('{"format": "%s", "rows": [' % report.REPORT_FORMAT)
        for n in range(100000):
            decision = "edit" if n in (5, 99999) else ""
            record = dict(row("proxyAddresses", "smtp:user%06d@contoso.test" % n, decision, "u%d@contoso.com" % n),
                          dn="CN=User %06d,OU=Users,DC=corp,DC=example,DC=com" % n, usn_changed=n)
            handle.write((",\n  " if n else "\n  ") + json.dumps(record))
        handle.write('\n ],\n "complete": true\n}\n')
    assert os.path.getsize(path) > 25 << 20
    tracemalloc.start()
    try:
        decided, undecided = rem.read_decisions(str(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (len(decided), undecided) == (2, 99998)
    assert peak < 8 << 20, peak


def test_an_object_whose_rows_are_in_several_batches_sees_its_earlier_changes(tmp_path, monkeypatch):
    """Rows are planned in batches, only a batch's objects kept in memory: a later batch reads the object again and
    replays the changes planned for it (here: with batches of one row, the second proxyAddresses row is checked
    without the value the first removes). The same statuses and diff as one batch."""
    monkeypatch.setattr(lc, "validate_params", lambda p: [])
    seen = []
    check = rem._rule_errors

    def recording(engine, dn, entry, attribute, value, others):
        seen.append((dn, attribute, value, sorted(others)))
        return check(engine, dn, entry, attribute, value, others)

    monkeypatch.setattr(rem, "_rule_errors", recording)
    path = write_json(tmp_path, [
        row("proxyAddresses", "smtp:sp ace@contoso.com", "remove"),
        row("mail", "taken@contoso.com", "remove", dn=BOB),
        row("proxyAddresses", "SMTP:ann@contoso.com", "edit", "SMTP:ann.lee@contoso.com"),
    ])
    params = {"server": ["dc1"], "transport": "ldaps", "auth": "simple", "username": "u", "password": "p",
              "ca_file": None, "validate_certs": True, "timeout": 5, "allow_cleartext": False, "port": None,
              "mode": "apply", "decisions_file": path, "undo_file": str(tmp_path / "undo.ldif"), "show_values": True}
    results = []
    for batch in (rem.BATCH, 1):
        monkeypatch.setattr(rem, "BATCH", batch)
        del seen[:]
        monkeypatch.setattr(lc, "connect", lambda params: FakeConn(directory()))
        result = rem.run_directory_remediation(params, check_mode=True)
        results.append((result["rows"], result["diff"], list(seen)))
    assert results[0] == results[1]
    assert results[1][2][2] == (ANN, "proxyAddresses", "SMTP:ann.lee@contoso.com", [])
    assert [r["status"] for r in results[1][0]] == ["change", "change", "change"]


class LazyConn(FakeConn):
    """A stand-in DC of generated users (entries made from the DN, nothing stored), to measure the module's memory."""

    def __init__(self):
        super().__init__({})
        self.written = 0

    def read_entry(self, dn, attrs=None, scope=None):
        n = dn.split(",", 1)[0][len("CN=u"):]
        return {"cn": [b"u" + n.encode()], "objectClass": [b"top", b"person", b"user"],
                "sAMAccountName": [b"u" + n.encode()], "mail": [("u%s@contoso.local" % n).encode()],
                "proxyAddresses": [("SMTP:u%s@contoso.local" % n).encode()]}

    def search(self, base, flt, attrs, scope=None, page_size=1000):
        return iter(())

    def modify_ext_s(self, dn, mods):
        self.written += 1


def plan_peak(tmp_path, users, monkeypatch):
    tmp_path.mkdir(exist_ok=True)
    path = tmp_path / ("scan%d.json" % users)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write('{"format": "%s", "rows": [' % report.REPORT_FORMAT)
        for n in range(users):
            dn = "CN=u%07d,OU=T,%s" % (n, BASE)
            address = "u%07d@contoso.local" % n
            for attribute, value in (("mail", address), ("proxyAddresses", "SMTP:" + address)):
                record = row(attribute, value, "edit", value.replace(".local", ".com"), dn=dn)
                handle.write(("," if n or attribute != "mail" else "") + json.dumps(record))
        handle.write('], "complete": true}')
    conn = LazyConn()
    monkeypatch.setattr(lc, "connect", lambda params: conn)
    params = {"server": ["dc1"], "transport": "ldaps", "auth": "simple", "username": "u", "password": "p",
              "ca_file": None, "validate_certs": True, "timeout": 5, "allow_cleartext": False, "port": None,
              "mode": "apply", "decisions_file": str(path), "undo_file": str(tmp_path / ("undo%d.ldif" % users)),
              "show_values": True}
    tracemalloc.start()
    try:
        result = rem.run_directory_remediation(params)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result["summary"]["changed"] == 2 * users and conn.written == 2 * users
    return peak, result


def test_apply_holds_a_batch_not_the_rows(tmp_path, monkeypatch):
    """Every row decided: the Python memory of a whole apply (read, plan, undo LDIF, writes, result) does not grow
    with the rows (the plan is in the store; the result's rows and diff stop at SHOW_VALUES_LIMIT, with a count)."""
    monkeypatch.setattr(lc, "validate_params", lambda p: [])
    limit = 100  # (1000) smaller batches, caps and read chunks (1 MB), to see growth beyond them in a few seconds
    monkeypatch.setattr(rem, "BATCH", limit)
    monkeypatch.setattr(rem, "_JSON_CHUNK", 1 << 14)
    monkeypatch.setattr(report, "SHOW_VALUES_LIMIT", limit)
    plan_peak(tmp_path / "warm", 300, monkeypatch)  # caches filled once per process (patterns, TLDs)
    small = plan_peak(tmp_path, 300, monkeypatch)[0]
    large, result = plan_peak(tmp_path, 1200, monkeypatch)
    assert large < small * 1.2, (small, large)
    assert len(result["rows"]) == limit and result["rows_truncated"] and len(result["diff"]) == limit
    assert result["warnings"] == ["diff: the first %d of the 1200 objects changed; the undo LDIF holds every change "
                                  "(to review a whole diff, split the decisions file)." % limit]
    with open(tmp_path / "undo1200.ldif", encoding="utf-8") as handle:
        assert sum(line.startswith("dn: ") for line in handle) == 2400


def test_a_change_the_dc_refuses_is_reported_and_left_out_of_the_undo(tmp_path, monkeypatch):
    """The DC refuses the second write (a constraint): its row is failed with the DC's words, the run fails with
    one line, the other changes are made and the undo LDIF is rewritten with exactly those."""
    entries = directory()
    conn = FakeConn(entries)
    write = conn.modify_ext_s

    def refusing(dn, mods):
        if dn == BOB:
            raise ldap.CONSTRAINT_VIOLATION({"desc": "Constraint violation", "info": "0000202F: policy"})
        return write(dn, mods)

    conn.modify_ext_s = refusing
    monkeypatch.setattr(lc, "connect", lambda params: conn)
    monkeypatch.setattr(lc, "validate_params", lambda p: [])
    undo = tmp_path / "undo.ldif"
    path = write_json(tmp_path, [
        row("userPrincipalName", "ann lee@corp.example.com", "edit", "annlee@corp.example.com"),
        row("mail", "taken@contoso.com", "edit", "bob@contoso.com", dn=BOB),
        row("proxyAddresses", "smtp:sp ace@contoso.com", "remove"),
    ])
    params = {"server": ["dc1"], "transport": "ldaps", "auth": "simple", "username": "u", "password": "p",
              "ca_file": None, "validate_certs": True, "timeout": 5, "allow_cleartext": False, "port": None,
              "mode": "apply", "decisions_file": path, "undo_file": str(undo), "show_values": True}
    result = rem.run_directory_remediation(params)
    assert [r["status"] for r in result["rows"]] == ["changed", "failed", "changed"]
    assert result["rows"][1]["reason"] == "the DC refused the change: Constraint violation (0000202F: policy)"
    assert result["failed"] and result["msg"] == (
        "1 change refused by dc1.corp.example.com (see rows); 2 made, undo LDIF %s." % undo)
    assert [r.dn for r in rem.read_undo(str(undo))] == [ANN, ANN]


@pytest.mark.parametrize("record, field", [
    (row("proxyAddresses", "smtp:x@contoso.com", "skip", suggested="x\ud800"), "suggested_value"),
    (row("proxyAddresses", "smtp:\ud800@contoso.com", "remove"), "value"),
    (dict(row("mail", "a@b.com", "remove"), usn_changed=10 ** 20), "usn_changed"),
    (dict(row("mail", "a@b.com", "remove"), usn_changed=float("inf")), "usn_changed"),
    (dict(row("mail", "a@b.com", "remove"), usn_changed=-1), "usn_changed"),
])
def test_values_the_store_cannot_hold_are_refused_by_row_and_field(tmp_path, record, field):
    """JSON can carry lone surrogates and numbers SQLite cannot store: one line naming the row, not a traceback."""
    with pytest.raises(lc.LdapError) as err:
        rem.read_decisions(write_json(tmp_path, [record]))
    assert err.value.kind == "input" and "row 1: field %s:" % field in str(err.value)


def test_a_report_whose_searches_are_not_a_list_names_no_dc():
    assert rem.scanned_dcs({"searches": 5}) == set() and rem.scanned_dcs({}) == set()


def test_a_store_failure_while_writing_keeps_the_whole_undo_ldif(tmp_path, monkeypatch):
    """The temporary database fails (a full disk) after a write: the undo LDIF written before the first change
    (every planned change) is kept - the store may lack the change just made - and the error is one line."""
    entries = directory()
    conn = FakeConn(entries)
    monkeypatch.setattr(lc, "connect", lambda params: conn)
    monkeypatch.setattr(lc, "validate_params", lambda p: [])
    save = rem.RowStore.save

    def failing(store, rows):
        if rows and rows[0].status == "changed":
            raise rem.sqlite3.OperationalError("database or disk is full")
        return save(store, rows)

    monkeypatch.setattr(rem.RowStore, "save", failing)
    undo = tmp_path / "undo.ldif"
    path = write_json(tmp_path, [
        row("userPrincipalName", "ann lee@corp.example.com", "edit", "annlee@corp.example.com"),
        row("proxyAddresses", "smtp:sp ace@contoso.com", "remove"),
    ])
    params = {"server": ["dc1"], "transport": "ldaps", "auth": "simple", "username": "u", "password": "p",
              "ca_file": None, "validate_certs": True, "timeout": 5, "allow_cleartext": False, "port": None,
              "mode": "apply", "decisions_file": path, "undo_file": str(undo), "show_values": False}
    with pytest.raises(lc.LdapError, match="temporary database failed: database or disk is full") as err:
        rem.run_directory_remediation(params)
    assert "\n" not in str(err.value) and len(conn.writes) == 1
    assert [(r.attribute, r.values) for r in rem.read_undo(str(undo))] == [
        ("proxyAddresses", [None]), ("userPrincipalName", ["annlee@corp.example.com"])]


def test_one_object_spelled_in_two_cases_is_one_diff_object(tmp_path, monkeypatch):
    monkeypatch.setattr(lc, "validate_params", lambda p: [])
    monkeypatch.setattr(lc, "connect", lambda params: FakeConn(directory()))
    path = write_json(tmp_path, [
        row("userPrincipalName", "ann lee@corp.example.com", "edit", "annlee@corp.example.com"),
        row("proxyAddresses", "smtp:sp ace@contoso.com", "remove", dn=ANN.upper()),
    ])
    params = {"server": ["dc1"], "transport": "ldaps", "auth": "simple", "username": "u", "password": "p",
              "ca_file": None, "validate_certs": True, "timeout": 5, "allow_cleartext": False, "port": None,
              "mode": "apply", "decisions_file": path, "undo_file": str(tmp_path / "u.ldif"), "show_values": False}
    result = rem.run_directory_remediation(params, check_mode=True)
    assert [d["before_header"] for d in result["diff"]] == [ANN] and result["warnings"] == []
