"""Report files (complete or absent) and the input checks made before any connection."""

from __future__ import annotations

import csv
import errno
import json
import os
import stat

import pytest

from ansible_collections.ems.enable.plugins.module_utils.ad import ldap_client as lc
from ansible_collections.ems.enable.plugins.module_utils.readiness import directory_readiness as readiness
from ansible_collections.ems.enable.plugins.module_utils.readiness import report

ROW = {"dn": "CN=Ann,OU=T,DC=corp,DC=example,DC=com", "object_class": "user", "attribute": "displayName",
       "value": None, "errors": ["blank"], "suggested_value": "Ann", "action": "edit"}


def test_rows_are_hidden_until_commit_then_both_files_are_complete(tmp_path):
    writer = report.ReportWriter(str(tmp_path), "scan", {"forest": "corp.example.com"})
    writer.row(ROW)
    writer.row(dict(ROW, attribute="mail", value="=HYPERLINK(\"x\")", errors=["duplicate"], suggested_value=None,
                    action="complete"))
    writer.flush()
    names = sorted(os.listdir(tmp_path))
    assert [n.rsplit("-", 1)[0] for n in names] == [".scan.csv.partial", ".scan.json.partial"]
    paths = writer.commit({"summary": {"errors": 2}})
    assert sorted(os.listdir(tmp_path)) == ["scan.csv", "scan.json"]
    data = json.loads((tmp_path / "scan.json").read_text(encoding="utf-8"))
    assert data["complete"] is True and data["forest"] == "corp.example.com" and data["summary"] == {"errors": 2}
    assert data["format"] == "ems.enable.directory_readiness/1"
    assert data["rows"][1]["value"] == "=HYPERLINK(\"x\")"  # exact in JSON
    with open(paths["csv"], encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(report.CSV_COLUMNS)
    assert rows[1] == ["CN=Ann,OU=T,DC=corp,DC=example,DC=com", "user", "displayName", "", "blank", "Ann", "edit",
                       "", ""]
    assert rows[2][3] == "'=HYPERLINK(\"x\")"  # no formula in a spreadsheet
    for path in paths.values():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_empty_report_is_valid_json(tmp_path):
    writer = report.ReportWriter(str(tmp_path), "empty", {"forest": "x"})
    writer.commit({"summary": {}})
    assert json.loads((tmp_path / "empty.json").read_text())["rows"] == []


def test_abort_leaves_nothing_not_even_an_earlier_report_of_that_name(tmp_path):
    (tmp_path / "scan.json").write_text("an earlier, complete report\n")
    (tmp_path / "scan.csv").write_text("an earlier, complete report\n")
    (tmp_path / "other.json").write_text("another report\n")
    writer = report.ReportWriter(str(tmp_path), "scan", {})
    writer.row(ROW)
    writer.abort()
    assert os.listdir(tmp_path) == ["other.json"]  # no result of another run stays under this run's name


def test_a_planted_symlink_is_never_written_through(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "scan.json").symlink_to(victim)
    (out / "scan.csv").symlink_to(victim)
    for pid in range(os.getpid() - 2, os.getpid() + 3):  # the old predictable partial names
        for kind in ("csv", "json"):
            (out / (".scan.%s.partial-%d" % (kind, pid))).symlink_to(victim)
    writer = report.ReportWriter(str(out), "scan", {"forest": "x"})
    writer.row(ROW)
    paths = writer.commit({"summary": {}})
    assert victim.read_text() == "precious\n"
    for path in paths.values():
        assert not os.path.islink(path) and stat.S_ISREG(os.lstat(path).st_mode)


@pytest.mark.parametrize("umask", [0o077, 0o022, 0o002])
def test_report_modes_never_widen_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        writer = report.ReportWriter(str(tmp_path), "scan", {})
        paths = writer.commit({"summary": {}})
    finally:
        os.umask(old)
    for path in paths.values():
        mode = stat.S_IMODE(os.stat(path).st_mode)
        assert mode == 0o600 and not mode & umask  # personal data: owner only, whatever the umask


class _Plan:
    forest = "corp.example.com"
    global_catalog = False
    tasks = []
    attributes = ["mail"]
    missing_attributes = []
    warnings = []

    def close(self):
        pass


def _scan_with(monkeypatch, fault=None):
    monkeypatch.setattr(readiness.scan, "plan", lambda params: _Plan())

    def fake_run(the_plan, engine, params, progress=None, new_spill=None):
        spill = new_spill()
        spill.append({"mail": "a@example.com"})
        if fault is not None:
            raise fault

    def fake_delta(the_plan, engine, params, since):
        if fault is not None:
            raise fault
        return 0, 0, "tombstones"

    monkeypatch.setattr(readiness.scan, "run", fake_run)
    monkeypatch.setattr(readiness.scan, "run_delta", fake_delta)


def test_disk_full_is_one_line_with_the_path_and_the_space_and_leaves_nothing(tmp_path, monkeypatch):
    _scan_with(monkeypatch, OSError(errno.ENOSPC, "No space left on device"))
    out = tmp_path / "out"
    with pytest.raises(lc.LdapError) as err:
        readiness.run_directory_readiness(params(tmp_path, report_name="scan"))
    message = str(err.value)
    assert message.startswith("output_dir: no space left on the device of %s " % out), message
    assert "MB free" in message and "Free at least" in message and "\n" not in message
    assert os.listdir(out) == []


def test_a_failed_scan_after_a_good_one_leaves_no_report_of_that_name(tmp_path, monkeypatch):
    _scan_with(monkeypatch)
    result = readiness.run_directory_readiness(params(tmp_path, report_name="scan"))
    out = tmp_path / "out"
    assert sorted(os.listdir(out)) == ["scan.csv", "scan.index.sqlite", "scan.json"] and not result.get("failed")
    assert result["scan_type"] == "full" and result["index"] == str(out / "scan.index.sqlite")
    _scan_with(monkeypatch, lc.LdapError("The scan of DC=corp failed after 4 objects.", kind="scan"))
    with pytest.raises(lc.LdapError):
        readiness.run_directory_readiness(params(tmp_path, report_name="scan"))
    # the good run's report is not presented as this run's; its index (complete, consistent) stays
    assert os.listdir(out) == ["scan.index.sqlite"]


def _good_then_unreachable(tmp_path, monkeypatch, **names):
    _scan_with(monkeypatch)
    readiness.run_directory_readiness(params(tmp_path, **names))
    out = tmp_path / "out"
    assert len(os.listdir(out)) == 3  # the reports and the value index

    def unreachable(params):
        raise lc.LdapError("Cannot reach dc1.corp.example.com:636: connection refused.", "Check the DC.")

    monkeypatch.setattr(readiness.scan, "plan", unreachable)
    with pytest.raises(lc.LdapError) as err:
        readiness.run_directory_readiness(params(tmp_path, **names))
    return out, str(err.value)


def test_a_scan_that_cannot_start_removes_the_named_report(tmp_path, monkeypatch):
    out, message = _good_then_unreachable(tmp_path, monkeypatch, report_name="scan")
    assert os.listdir(out) == ["scan.index.sqlite"]  # state, not a report: the last good scan's, kept
    assert message == "Cannot reach dc1.corp.example.com:636: connection refused. Remedy: Check the DC."


def test_a_scan_that_cannot_start_marks_earlier_default_reports_as_not_this_runs(tmp_path, monkeypatch):
    out, message = _good_then_unreachable(tmp_path, monkeypatch)
    name = "directory-readiness-corp.example.com"
    # forest unknown: kept, but named (and the value index of that earlier run)
    assert sorted(os.listdir(out)) == [name + ".csv", name + ".index.sqlite", name + ".json"]
    assert message == (
        "Cannot reach dc1.corp.example.com:636: connection refused. No report was written; %s.json in %s is "
        "from an earlier run, not this one. Remedy: Check the DC." % (name, out)), message


def test_output_dir_is_created_and_checked(tmp_path):
    report.check_output_dir(str(tmp_path / "new" / "dir"))
    assert (tmp_path / "new" / "dir").is_dir()
    assert os.listdir(tmp_path / "new" / "dir") == []
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(lc.LdapError) as err:
        report.check_output_dir(str(blocker))
    assert str(err.value).startswith("output_dir: %s exists and is not a directory." % blocker)
    with pytest.raises(lc.LdapError) as err:
        report.check_output_dir(str(blocker / "sub"))
    assert err.value.kind == "input"
    assert str(err.value).startswith("output_dir: cannot write report files to %s/sub: Not a directory." % blocker)


def params(tmp_path, **changes):
    base = {"server": ["dc1.corp.example.com"], "port": None, "transport": "ldaps", "auth": "simple",
            "username": "u@corp.example.com", "password": "pw", "ca_file": None, "validate_certs": True,
            "timeout": 10, "allow_cleartext": False, "search_base": [], "global_catalog": False,
            "filter": readiness.rules.DEFAULT_FILTER, "page_size": 1000, "page_timeout": 120, "parallel": 2,
            "ignore": [],
            "output_dir": str(tmp_path / "out"), "report_name": None, "fail_on": [], "show_values": False,
            "scan": "auto"}
    base.update(changes)
    return base


@pytest.mark.parametrize("changes,message", [
    ({"page_size": 0}, "page_size: must be 1 or more"),
    ({"page_timeout": 0}, "page_timeout: must be a positive number of seconds."),
    ({"page_size": 2 ** 40}, "page_size: must be 1 or more and at most 100000, not 1099511627776"),
    ({"page_timeout": 86400}, "page_timeout: must be a positive number of seconds. 86400 is outside 1 to 3600."),
    ({"filter": "(cn=a)(cn=b)"}, "filter: (cn=a)(cn=b) is not a valid LDAP filter"),
    ({"parallel": 0}, "parallel: 0 is out of range: give 1 (one search per domain, as IdFix) to 16."),
    ({"parallel": 17}, "parallel: 17 is out of range"),
    ({"filter": " "}, "filter: must not be empty"),
    ({"search_base": ["not a dn"]}, "search_base: 'not a dn' is not a distinguished name."),
    ({"search_base": [""]}, "search_base: an entry is empty."),
    ({"search_base": ["OU=a,DC=x", "ou=B, OU=A,dc=X"]}, "search_base: OU=a,DC=x and ou=B,OU=A,dc=X overlap"),
    ({"ignore": ["OU=x,,="]}, "ignore: 'OU=x,,=' is not a distinguished name."),
    ({"ignore": [" "]}, "ignore: an entry is empty."),
    ({"report_name": "../x"}, "report_name: '../x': use letters, digits"),
    ({"transport": "ldap"}, "Refusing a simple bind over cleartext LDAP"),
])
def test_bad_input_is_refused_before_connecting(tmp_path, changes, message):
    with pytest.raises(lc.LdapError) as err:
        readiness.run_directory_readiness(params(tmp_path, **changes))
    assert err.value.kind == "input"
    assert str(err.value).startswith(message), str(err.value)
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_input_is_normalized(tmp_path):
    p = params(tmp_path, filter="objectClass=user", search_base=["ou=Staff, dc=corp,dc=example,dc=com"],
               ignore=["OU=Svc, DC=corp,DC=example,DC=com", "CN=svc-*"], port=3269)
    readiness._validate(p)
    assert p["filter"] == "(objectClass=user)"
    assert p["search_base"] == ["ou=Staff,dc=corp,dc=example,dc=com"]
    assert p["ignore"] == ["OU=Svc,DC=corp,DC=example,DC=com", "CN=svc-*"]
    assert p["global_catalog"] is True  # port 3269 is a global catalog


def test_spec_choices_come_from_the_rule_table():
    assert readiness.READINESS_SPEC["fail_on"]["choices"] == list(readiness.rules.ERROR_KINDS)
    assert readiness.READINESS_SPEC["filter"]["default"] == "(|(objectCategory=Person)(objectCategory=Group))"
    assert readiness.READINESS_SPEC["page_size"]["default"] == 1000


def _summary(by_error_found=None, by_attribute=None):
    by_error = dict.fromkeys(("format", "blank", "duplicate", "character", "top_level_domain", "domain_part",
                              "local_part", "length"), 0)
    by_error.update(by_error_found or {})
    return {"objects_checked": 7, "objects_skipped": 3, "objects_ignored": 1, "by_error": by_error,
            "by_attribute": by_attribute or {}}


def test_checks_one_per_error_kind_found_fail_only_for_fail_on():
    summary = _summary({"duplicate": 2, "length": 1},
                       {"mail": {"duplicate": 2}, "displayName": {"length": 1}})
    checks = readiness.readiness_checks("corp.example.com", summary, ["duplicate"], "/r/x.csv")
    assert [(c["id"], c["status"]) for c in checks] == [
        ("readiness.duplicate", "fail"), ("readiness.length", "warn")]
    assert checks[0]["message"] == (
        "Forest corp.example.com: 2 values with IdFix error duplicate - the value (as fixed by the checks before) "
        "is held by another object too (mail 2).")
    assert checks[1]["message"].startswith("Forest corp.example.com: 1 value with IdFix error length - too long")
    assert all("/r/x.csv" in c["remedy"] and c["forest"] == "corp.example.com" for c in checks)


def test_checks_pass_when_nothing_is_found():
    checks = readiness.readiness_checks("corp.example.com", _summary(), [], "/r/x.csv")
    assert checks == [{
        "id": "readiness", "requirement": "directory_readiness", "forest": "corp.example.com",
        "status": "pass", "remedy": None,
        "message": "Forest corp.example.com: 7 objects checked with IdFix's multi-tenant rules, no errors "
                   "(3 skipped, 1 ignored)."}]


@pytest.mark.parametrize("value", ["plain", "é ü 漢字", "quote \" back\\slash", "tab\tnew\nline\x01", "\U0001f600"])
def test_the_row_encoder_writes_what_json_dumps_writes(value):
    row = dict(ROW, value=value, suggested_value=None, usn_changed=12, when_changed="20261206000000.0Z")
    assert report._row_encoder()(row) == json.dumps(row, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("head", [("CN=Ann \"x\",OU=T", "user", 12, "20261206000000.0Z"), ("CN=Ünï\\,c,OU=T", None, None, None)])
def test_an_objects_rows_are_the_text_json_dumps_gives(tmp_path, head):
    writer = report.ReportWriter(str(tmp_path), "scan", {})
    rows = [("displayName", None, ("blank",), "Ann", "edit"),
            ("mail", "=x\t\u2028\U0001f600@contoso.com", ("character", "duplicate"), None, "complete"),
            ("proxyAddresses", "smtp:a\"b\\c@contoso.com", ("format",), "smtp:abc@contoso.com", "remove")]
    start = writer.mark()[1]
    writer.rows(head, rows)
    writer.flush()
    written = open(writer.partial["json"], encoding="utf-8").read()[start:]
    assert written == "".join(",\n  " + json.dumps(report.row_dict(head, row), ensure_ascii=False, separators=(",", ":"))
                              for row in rows)
    writer.abort()


def _lane_rows(writer, lane, names):
    writer.lane(lane)
    spans = []
    for name in names:
        start = writer.mark()
        row = ("mail", name + "@x.test", ("top_level_domain",), None, "edit")
        writer.rows(("CN=%s,OU=T" % name, "user", 1, None), [row])
        spans.append((start, writer.mark()))
    return spans


@pytest.mark.parametrize("replace_in", [None, 0, 1])
@pytest.mark.parametrize("lane0_rows", [True, False])
def test_lanes_are_joined_in_their_order_with_their_replaced_ranges(tmp_path, replace_in, lane0_rows):
    """Rows written to lanes 0, 1 and 2 in any order read as if written in lane order; a replaced range
    lands in its lane; lane 0 grows in place unless one of its ranges is replaced; lane files leave nothing."""
    writer = report.ReportWriter(str(tmp_path), "scan", {})
    spans = {2: _lane_rows(writer, 2, ["e", "f"]), 0: _lane_rows(writer, 0, ["a", "b"] if lane0_rows else []),
             1: _lane_rows(writer, 1, ["c", "d"])}
    assert writer.ends()[1] == spans[1][-1][1]
    expected = ["a", "b", "c", "d", "e", "f"] if lane0_rows else ["c", "d", "e", "f"]
    replace = []
    if replace_in is not None and spans[replace_in]:
        (csv_start, json_start), (csv_end, json_end) = spans[replace_in][1]
        new = writer.capture(lambda rows: rows(("CN=new,OU=T", "user", 2, None),
                                               [("mail", "new@x.test", ("duplicate",), None, "complete")]))
        replace.append(((csv_start, csv_end), (json_start, json_end), new, replace_in))
        expected[expected.index("b" if replace_in == 0 else "d")] = "new"
    paths = writer.commit({"summary": {}}, replace)
    data = json.load(open(paths["json"], encoding="utf-8"))
    assert [row["value"].split("@")[0] for row in data["rows"]] == expected
    with open(paths["csv"], encoding="utf-8", newline="") as handle:
        assert [row[3].split("@")[0] for row in list(csv.reader(handle))[1:]] == expected
    assert sorted(os.listdir(tmp_path)) == ["scan.csv", "scan.json"]


def test_lanes_of_an_aborted_scan_leave_nothing(tmp_path):
    writer = report.ReportWriter(str(tmp_path), "scan", {})
    _lane_rows(writer, 1, ["a"])
    writer.abort()
    assert os.listdir(tmp_path) == []
