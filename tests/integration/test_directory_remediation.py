"""ems.enable.directory_remediation against a Samba AD forest seeded with IdFix defects.

Seeded defects (tests/lab/readiness_defects.py) -> scan -> a decisions file with every action ->
check mode (nothing written, the diff lists every touched value) -> apply -> a second apply changes
nothing -> the rescan no longer reports the changed rows and still reports the completed ones -> the
undo LDIF applied with ldapmodify gives a dump of the seeded objects' IdFix attributes identical to
the one taken before the apply. Between scan and apply, someone else changes one value and deletes one
object: both are reported and left alone. A reviewer value that still breaks a rule, and one that
another object holds, are refused. Bad decisions fail before any connection.
"""

from __future__ import annotations

import io
import json
import os
import stat
import sys

import ldif
import pytest

from conftest import ROOT, seeded_readiness_lab
from module_runner import conn_args, run_module

sys.path.insert(0, str(ROOT / "tests" / "lab"))
import readiness_defects as seed  # noqa: E402

pytestmark = pytest.mark.integration

FOREST = "remedy"
RULE_ATTRIBUTES = ["displayName", "givenName", "mail", "mailNickname", "proxyAddresses", "sAMAccountName",
                   "targetAddress", "userPrincipalName"]
REVIEWED = {"mail": "fixed{n}@contoso.com", "mailNickname": "fixed{n}", "proxyAddresses": "smtp:fixed{n}@contoso.com",
            "targetAddress": "SMTP:fixed{n}@contoso.com", "userPrincipalName": "fixed{n}@contoso.com",
            "sAMAccountName": "fixed{n}", "displayName": "Fixed {n}", "givenName": "Fixed{n}"}


@pytest.fixture(scope="module")
def rlab():
    with seeded_readiness_lab(FOREST, "remedy") as lab:
        yield lab


@pytest.fixture(scope="module")
def forest(rlab):
    return rlab.forest(FOREST)


def ldap_tool(rlab, forest, tool, *args, text=None):
    cmd = [tool, "-H", "ldaps://%s" % forest.dcs[0].fqdn, "-x", "-D", forest.admin_user, "-w", forest.admin_password,
           "-o", "ldif-wrap=no"] + list(args)
    proc = rlab.run(cmd, env={"LDAPTLS_CACERT": forest.ca_file}, input=text, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def dump(rlab, forest):
    """The IdFix attributes of every seeded object, values sorted (multi-valued order is the DC's)."""
    text = ldap_tool(rlab, forest, "ldapsearch", "-LLL", "-b", "OU=%s,%s" % (seed.OU, forest.base_dn),
                     "(|(objectCategory=Person)(objectCategory=Group))", *RULE_ATTRIBUTES)
    records = ldif.LDIFRecordList(io.BytesIO(text.encode("utf-8")))
    records.parse()
    return {dn.lower(): {a: sorted(v) for a, v in entry.items()} for dn, entry in records.all_records}


def raw_attributes(base_dn):
    """Values the seed wrote offline (Samba, like 2012 R2+ DCs, refuses them over LDAP): not restorable by
    ldapmodify, so the test skips their rows."""
    return {(seed.object_dn(o, base_dn).lower(), a) for o in seed.SEED for a in o["raw"]}


def decide(rows, base_dn):
    raw = raw_attributes(base_dn)
    decided = []
    for n, row in enumerate(rows):
        row = dict(row)
        cn = row["dn"].split(",", 1)[0][3:]
        if (row["dn"].lower(), row["attribute"]) in raw or (
                "duplicate" in row["errors"] and row["attribute"] in ("userPrincipalName", "sAMAccountName")):
            row["decision"] = "skip"  # Samba refuses to write these back (the undo could not be applied)
        elif cn == "Long Given":
            row["decision"] = "edit"  # deleted before the apply
        elif cn == "Dot Nick":
            row["decision"] = "edit"  # changed by someone else before the apply
        elif cn == "Upn Tld":
            row.update(decision="edit", new_value="tld user@contoso.com")  # still breaks a rule
        elif cn == "Proxy Tld":
            row.update(decision="edit", new_value="smtp:clean1@contoso.com")  # Clean User holds it
        elif row["action"] in ("complete", "remove"):
            row["decision"] = row["action"]
        elif row["suggested_value"]:
            row["decision"] = "edit"
        else:
            row.update(decision="edit", new_value=REVIEWED[row["attribute"]].format(n=n))
        decided.append(row)
    return decided


def scan(rlab, forest, tmp):
    tmp.mkdir(exist_ok=True)
    out = tmp / "out"
    args = conn_args(forest, output_dir=str(out), ignore=seed.ignore_list(forest.base_dn))
    proc, (result,) = run_module(rlab, tmp, "ems.enable.directory_readiness", args)
    assert not result.get("failed"), result
    with open(result["reports"]["json"], encoding="utf-8") as handle:
        return json.load(handle)


def remediate(rlab, forest, tmp, check=False, **args):
    args.setdefault("show_values", True)  # the rows (with DNs) only on request
    proc, (result,) = run_module(rlab, tmp, "ems.enable.directory_remediation", conn_args(forest, **args),
                                 check=check)
    return result


def test_scan_decide_check_apply_rescan_undo(rlab, forest, tmp_path):
    report = scan(rlab, forest, tmp_path)
    report["rows"] = decide(report["rows"], forest.base_dn)
    assert {r["decision"] for r in report["rows"]} == {"edit", "remove", "complete", "skip"}
    decisions = tmp_path / "reviewed.json"
    decisions.write_text(json.dumps(report), encoding="utf-8")
    undo = tmp_path / "undo.ldif"

    # someone else, between scan and apply
    dot_nick = "CN=Dot Nick,OU=Sales,OU=%s,%s" % (seed.OU, forest.base_dn)
    ldap_tool(rlab, forest, "ldapmodify", text="dn: %s\nchangetype: modify\nreplace: mailNickname\n"
              "mailNickname: .othernick\n-\n" % dot_nick)
    ldap_tool(rlab, forest, "ldapdelete", "CN=Long Given,OU=Sales,OU=%s,%s" % (seed.OU, forest.base_dn))
    # another attribute of an object with a decided row: its value is as scanned, its uSNChanged is not
    proxy_space = "CN=Proxy Space,OU=Sales,OU=%s,%s" % (seed.OU, forest.base_dn)
    ldap_tool(rlab, forest, "ldapmodify", text="dn: %s\nchangetype: modify\nreplace: description\n"
              "description: touched by someone else\n-\n" % proxy_space)
    before = dump(rlab, forest)

    check = remediate(rlab, forest, tmp_path, check=True, decisions_file=str(decisions), undo_file=str(undo))
    assert not check.get("failed"), check
    assert check["changed"] and not undo.exists() and dump(rlab, forest) == before
    by_cn = {r["dn"].split(",", 1)[0][3:]: r for r in check["rows"]}
    assert by_cn["Dot Nick"]["status"] == "conflict"
    assert by_cn["Long Given"]["status"] == "deleted"
    assert by_cn["Proxy Space"]["status"] == "conflict", by_cn["Proxy Space"]
    assert by_cn["Proxy Space"]["reason"].startswith("the object changed since the scan (uSNChanged ")
    assert "rows" not in remediate(rlab, forest, tmp_path, check=True, decisions_file=str(decisions),
                                   undo_file=str(undo), show_values=False)
    assert by_cn["Upn Tld"]["status"] == "refused" and "character" in by_cn["Upn Tld"]["reason"]
    assert by_cn["Proxy Tld"]["status"] == "refused" and "duplicate" in by_cn["Proxy Tld"]["reason"]
    assert by_cn["Upn Long"]["status"] == "refused"  # IdFix's own suggestion still fails (format, domain part)
    would = [r for r in check["rows"] if r["status"] == "change"]
    assert len(would) >= 25, check["summary"]
    diff_lines = sum(len(d["before"].splitlines()) + len(d["after"].splitlines()) for d in check["diff"])
    wrote = [r for r in report["rows"] if r["decision"] in ("edit", "remove")]
    touched = {(r["dn"], r["attribute"]) for r in would}
    assert {(d["before_header"]) for d in check["diff"]} == {dn for dn, _a in touched}
    assert diff_lines >= len(would)
    assert check["summary"]["completed"] == sum(r["decision"] == "complete" for r in report["rows"])

    applied = remediate(rlab, forest, tmp_path, decisions_file=str(decisions), undo_file=str(undo))
    assert not applied.get("failed"), applied
    assert applied["summary"]["changed"] == len(would)
    assert [r["status"] for r in applied["rows"]] == [
        "changed" if r["status"] == "change" else r["status"] for r in check["rows"]]
    assert stat.S_IMODE(os.stat(undo).st_mode) == 0o600
    after = dump(rlab, forest)
    assert after[dot_nick.lower()]["mailNickname"] == [b".othernick"]  # left untouched
    assert after != before

    again = remediate(rlab, forest, tmp_path, decisions_file=str(decisions), undo_file=str(undo))
    assert not again["changed"] and again["summary"]["already_applied"] == len(would), again["summary"]

    rescan = scan(rlab, forest, tmp_path / "rescan")
    still = {(r["dn"].lower(), r["attribute"], r["value"]) for r in rescan["rows"]}
    changed_rows = [r for r, o in zip(report["rows"], applied["rows"]) if o["status"] == "changed"]
    assert changed_rows and not [r for r in changed_rows if (r["dn"].lower(), r["attribute"], r["value"]) in still]
    completed = [r for r in report["rows"] if r["decision"] == "complete"]
    # completed values stay as they are (the rescan reports them again only while they still fail:
    # here their duplicates' other holders were fixed)
    now = dump(rlab, forest)
    assert completed and all(r["value"].encode() in now[r["dn"].lower()][r["attribute"]] for r in completed)
    assert len(wrote) > len(changed_rows)  # the conflict, the deleted object and the refused rows

    ldap_tool(rlab, forest, "ldapmodify", "-f", str(undo))
    assert dump(rlab, forest) == before


def test_undo_mode_restores_and_is_idempotent(rlab, forest, tmp_path):
    report = scan(rlab, forest, tmp_path)
    rows = [r for r in decide(report["rows"], forest.base_dn) if r["decision"] in ("edit", "remove")][:5]
    report["rows"] = rows
    decisions = tmp_path / "reviewed.json"
    decisions.write_text(json.dumps(report), encoding="utf-8")
    undo = tmp_path / "undo.ldif"
    before = dump(rlab, forest)
    applied = remediate(rlab, forest, tmp_path, decisions_file=str(decisions), undo_file=str(undo))
    assert applied["summary"]["changed"] >= 3, applied
    assert dump(rlab, forest) != before
    undone = remediate(rlab, forest, tmp_path, mode="undo", undo_file=str(undo))
    assert undone["summary"]["changed"] == applied["summary"]["changed"], undone
    assert dump(rlab, forest) == before
    assert not remediate(rlab, forest, tmp_path, mode="undo", undo_file=str(undo))["changed"]


@pytest.mark.parametrize("rows, message", [
    ([{"dn": "CN=x,DC=y", "attribute": "mail", "value": "a@b.com", "decision": "fix"}], "row 1: field decision"),
    ([{"dn": "CN=x,DC=y", "attribute": "mail", "value": "a@b.com", "decision": "edit"}], "row 1: field new_value"),
    ([{"dn": "nonsense", "attribute": "mail", "value": "a@b.com", "decision": "remove"}], "row 1: field dn"),
])
def test_bad_decisions_fail_before_any_connection(rlab, tmp_path, rows, message):
    decisions = tmp_path / "bad.json"
    decisions.write_text(json.dumps({"format": "ems.enable.directory_readiness/1", "rows": rows, "complete": True}))
    # an unreachable name: a connection attempt would fail with another message
    result = remediate(rlab, type("F", (), {"dcs": [type("D", (), {"fqdn": "dc9.nowhere.invalid"})()],
                                            "admin_user": "u", "admin_password": "p", "ca_file": None})(),
                       tmp_path, decisions_file=str(decisions), undo_file=str(tmp_path / "undo.ldif"))
    assert result.get("failed") and message in result["msg"], result
    assert not (tmp_path / "undo.ldif").exists()
