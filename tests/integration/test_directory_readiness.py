"""ems.enable.directory_readiness against a Samba AD forest seeded with known IdFix defects.

The forest (tests/lab/readiness_defects.py) is this module's own: one domain with the Exchange
attribute stand-ins, ~70 seeded objects (one per rule and error kind, duplicates across OUs, objects
IdFix skips, objects the ignore list skips) and 2,000 generated users (ignored by the scans; they
give the mid-scan stop test a scan long enough to stop a DC in). The module runs as users run it:
ansible-playbook in the lab's controller namespace. The report is compared whole with the rows
written by hand next to each seeded object.
"""

from __future__ import annotations

import csv
import glob
import json
import os
import stat
import subprocess
import sys
import time

import pytest
import yaml

from conftest import ROOT, seeded_readiness_lab
from module_runner import conn_args

sys.path.insert(0, str(ROOT / "tests" / "lab"))
import readiness_defects as seed  # noqa: E402

pytestmark = pytest.mark.integration

FOREST = "readiness"
GENERATED_USERS = 2000
MODULE = "ems.enable.directory_readiness"
ERROR_KINDS = ["format", "blank", "duplicate", "character", "top_level_domain", "domain_part", "local_part",
               "length"]
RULE_ATTRIBUTES = ["displayName", "givenName", "mail", "mailNickname", "proxyAddresses", "sAMAccountName",
                   "targetAddress", "userPrincipalName"]
QUERY_ATTRIBUTES = ["cn", "displayName", "givenName", "groupType", "homeMDB", "isCriticalSystemObject", "mail",
                    "mailNickname", "msExchHideFromAddressLists", "msExchRecipientTypeDetails", "objectClass",
                    "proxyAddresses", "sAMAccountName", "targetAddress", "userPrincipalName"]
#: What a freshly provisioned Samba 4.17 domain (level 2008_R2, schema 2012_R2, as provisioned above)
#: holds under the default filter: Administrator, Guest, krbtgt and the built-in groups. Every one is
#: skipped (none is checked, none gives a row).
BUILTIN_OBJECTS = 41
#: The onboarding callback's run report is not what these tests look at.
NO_RUN_REPORT = {"EMS_REPORT": "false"}
BUILTIN_SKIPPED = {"critical_system_object": 34, "well_known_exclusion": 5, "security_group_without_mail": 2}


@pytest.fixture(scope="module")
def rlab():
    """The seeded forest, started for this module and always removed."""
    with seeded_readiness_lab(FOREST, "readiness", GENERATED_USERS) as lab:
        yield lab


@pytest.fixture(scope="module")
def forest(rlab):
    return rlab.forest(FOREST)


def scan_args(forest, out, **extra):
    args = conn_args(forest, output_dir=str(out), ignore=seed.ignore_list(forest.base_dn))
    args.update(extra)
    return args


def row_key(row):
    return (row["dn"], row["attribute"], row["value"] or "", tuple(row["errors"]))


def sorted_rows(rows):
    """Rows without the object's uSNChanged and whenChanged (asserted present), sorted."""
    stripped = []
    for row in rows:
        row = dict(row)
        if "usn_changed" in row:
            assert isinstance(row.pop("usn_changed"), int) and row.pop("when_changed").endswith("Z"), row
        stripped.append(row)
    return sorted(stripped, key=row_key)


def expected_summary(base_dn):
    counts = seed.expected_counts()
    rows = seed.expected_rows(base_dn)
    skipped = dict.fromkeys(["cn_ends_with_dollar", "well_known_exclusion", "conflict_object",
                             "critical_system_object", "user_sam_account_name_prefix", "user_mail_nickname_prefix",
                             "user_hidden_msol", "user_recipient_type", "security_group_without_mail",
                             "distribution_group_without_proxy_addresses"], 0)
    for reason, number in list(counts["skipped"].items()) + list(BUILTIN_SKIPPED.items()):
        skipped[reason] += number
    by_attribute = {a: {} for a in RULE_ATTRIBUTES}
    for row in rows:
        for kind in row["errors"]:
            by_attribute[row["attribute"]][kind] = by_attribute[row["attribute"]].get(kind, 0) + 1
    return {
        "objects_found": counts["objects"] + GENERATED_USERS + BUILTIN_OBJECTS,
        "objects_ignored": counts["ignored"] + GENERATED_USERS,
        "objects_skipped": sum(skipped.values()),
        "objects_checked": counts["checked"],
        "objects_with_errors": counts["with_errors"],
        "errors": len(rows),
        "skipped": skipped,
        "by_error": {k: sum(k in r["errors"] for r in rows) for k in ERROR_KINDS},
        "by_attribute": {a: dict(sorted(c.items())) for a, c in by_attribute.items()},
        "duplicates": {a: c["duplicate"] for a, c in by_attribute.items() if c.get("duplicate")},
    }


def without_tracked(summary):
    summary = dict(summary)
    tracked = summary.pop("distinct_values_tracked")
    assert tracked > 0
    summary["by_attribute"] = {a: dict(sorted(c.items())) for a, c in summary["by_attribute"].items()}
    return summary


def read_json_report(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def read_csv_rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))

    def cell(text):
        if text == "":
            return None
        return text[1:] if text.startswith("'") and text[1:2] in ("=", "+", "-", "@", "\t", "\r") else text

    return [{"dn": cell(r["dn"]), "object_class": r["object_class"], "attribute": r["attribute"],
             "value": cell(r["value"]), "errors": r["errors"].split(";"), "suggested_value": cell(r["suggested_value"]),
             "action": r["action"]} for r in rows]


def write_play(tmp_path, tasks, check=False):
    """A playbook running the module once per args dict (ignore_errors), then dumping the results.
    check: True for every task, or a list with one bool per task."""
    out = tmp_path / "results.json"
    checks = check if isinstance(check, list) else [check] * len(tasks)
    play_tasks = []
    for index, args in enumerate(tasks):
        task = {"name": "case %d" % index, MODULE: args, "register": "r%d" % index, "ignore_errors": True}
        if checks[index]:
            task["check_mode"] = True
        play_tasks.append(task)
    play_tasks.append({"name": "dump", "ansible.builtin.copy": {
        "content": "{{ [%s] | to_json }}" % ", ".join("r%d" % i for i in range(len(tasks))), "dest": str(out)}})
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": play_tasks}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play, sort_keys=False))
    (tmp_path / "hosts").write_text("localhost ansible_connection=local ansible_python_interpreter=%s\n"
                                    % (ROOT / ".venv" / "bin" / "python"))
    return ["ansible-playbook", "-i", str(tmp_path / "hosts"), str(tmp_path / "play.yml")], out


def run_tasks(lab, tmp_path, tasks, check=False):
    """Run write_play's playbook in the lab; returns (process, [results])."""
    cmd, out = write_play(tmp_path, tasks, check)
    proc = lab.run(cmd, timeout=600, env=NO_RUN_REPORT)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert out.exists(), proc.stdout + proc.stderr
    return proc, json.loads(out.read_text())


def run_module(lab, tmp_path, args, check=False):
    proc, (result,) = run_tasks(lab, tmp_path, [args], check)
    return proc, result


# --- the seeded forest, reported exactly ---------------------------------------------------------


@pytest.fixture(scope="module")
def full_scan(rlab, forest, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("full")
    out = tmp / "reports"
    proc, result = run_module(rlab, tmp, scan_args(forest, out))
    return proc, result, out


def test_seeded_defects_are_reported_exactly(forest, full_scan):
    _proc, result, out = full_scan
    assert not result.get("failed"), result
    report = read_json_report(out / ("directory-readiness-%s.json" % forest.dns_domain))
    expected = seed.expected_rows(forest.base_dn)
    assert sorted_rows(report["rows"]) == sorted_rows(expected)
    assert without_tracked(result["summary"]) == expected_summary(forest.base_dn)
    assert report["summary"] == result["summary"]
    assert result["changed"] is False
    assert result["forest"] == forest.dns_domain
    assert result["global_catalog"] is False
    assert result["attributes"] == QUERY_ATTRIBUTES
    assert result["missing_attributes"] == []
    assert [{k: s[k] for k in ("base", "domain", "server", "port", "objects")} for s in result["searches"]] == [
        {"base": forest.base_dn, "domain": forest.dns_domain, "server": forest.dcs[0].fqdn, "port": 636,
         "objects": result["summary"]["objects_found"]}]
    assert [s["parallel"] for s in result["searches"]] == [2]  # the default: two uSNCreated ranges at once
    assert set(result["performance"]) == {"seconds", "objects_per_second", "cpu_seconds", "peak_rss_mb"}
    assert result["reports"] == {"csv": str(out / ("directory-readiness-%s.csv" % forest.dns_domain)),
                                 "json": str(out / ("directory-readiness-%s.json" % forest.dns_domain))}
    assert result["index"] == str(out / ("directory-readiness-%s.index.sqlite" % forest.dns_domain))
    assert (result["scan_type"], result["scan_reason"]) == ("full", "no index of a previous scan (%s)" % result[
        "index"])
    assert result["objects_read"] == result["summary"]["objects_found"]
    assert "rows" not in result
    kinds = [k for k in ERROR_KINDS if any(k in row["errors"] for row in expected)]
    assert [(c["id"], c["status"]) for c in result["checks"]] == [("readiness.%s" % k, "warn") for k in kinds]
    assert all(result["reports"]["csv"] in c["remedy"] for c in result["checks"])


def test_report_files_are_complete_private_and_agree(forest, full_scan):
    _proc, result, out = full_scan
    report = read_json_report(result["reports"]["json"])
    assert report["complete"] is True
    assert report["format"] == "ems.enable.directory_readiness/1"
    assert report["forest"] == forest.dns_domain
    assert report["filter"] == "(|(objectCategory=Person)(objectCategory=Group))"
    assert report["ignore"] == seed.ignore_list(forest.base_dn)
    assert sorted_rows(read_csv_rows(result["reports"]["csv"])) == sorted_rows(report["rows"])
    for path in result["reports"].values():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(result["index"]).st_mode) == 0o600
    assert sorted(os.listdir(out)) == sorted(os.path.basename(p) for p in list(result["reports"].values()) + [
        result["index"]])


def test_task_output_holds_counts_not_values(forest, full_scan):
    proc, result, _out = full_scan
    shown = json.dumps(result) + proc.stdout + proc.stderr
    for row in seed.expected_rows(forest.base_dn):
        assert row["dn"] not in shown
        if row["value"]:
            assert row["value"] not in shown


# --- options -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def option_scans(rlab, forest, tmp_path_factory):
    """Four scans in one playbook (one Ansible start-up): check mode, values + fail_on, two search
    bases, the global catalog. Returns {name: result}."""
    tmp = tmp_path_factory.mktemp("options")
    sales, finance = seed.ou_dn("Sales", forest.base_dn), seed.ou_dn("Finance", forest.base_dn)
    cases = {
        "check": (scan_args(forest, tmp / "check"), True),
        "values": (scan_args(forest, tmp / "values", show_values=True, fail_on=["duplicate", "top_level_domain"]),
                   False),
        "bases": (scan_args(forest, tmp / "bases", search_base=[sales, finance], ignore=["CN=ignore-me-*"]), False),
        "gc": (scan_args(forest, tmp / "gc", port=3269), False),
        "one_search": (scan_args(forest, tmp / "one_search", parallel=1), False),
    }
    _proc, results = run_tasks(rlab, tmp, [a for a, _c in cases.values()], check=[c for _a, c in cases.values()])
    return dict(zip(cases, results))


def test_check_mode_gives_the_same_result(full_scan, option_scans):
    _proc, full, _out = full_scan
    result = option_scans["check"]
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["summary"] == full["summary"]
    assert sorted_rows(read_json_report(result["reports"]["json"])["rows"]) == sorted_rows(
        read_json_report(full["reports"]["json"])["rows"])


def test_one_search_gives_the_same_report_rows_in_the_same_order(full_scan, option_scans):
    _proc, full, _out = full_scan
    result = option_scans["one_search"]
    assert not result.get("failed"), result
    assert [s["parallel"] for s in result["searches"]] == [1]
    assert result["summary"] == full["summary"]
    assert read_json_report(result["reports"]["json"])["rows"] == read_json_report(full["reports"]["json"])["rows"]


def test_values_on_request_and_fail_on(forest, option_scans):
    result = option_scans["values"]
    expected = seed.expected_rows(forest.base_dn)
    assert result["failed"] is True
    assert result["msg"] == (
        "Directory readiness of forest %s: 12 duplicate, 4 top_level_domain (fail_on). 46 of 53 checked objects "
        "have errors; see %s." % (forest.dns_domain, result["reports"]["csv"]))
    assert sorted_rows(result["rows"]) == sorted_rows(expected)
    assert result["rows_truncated"] is False
    assert os.path.exists(result["reports"]["json"])  # fail_on fails after the report is written
    assert {c["id"]: c["status"] for c in result["checks"] if c["status"] == "fail"} == {
        "readiness.duplicate": "fail", "readiness.top_level_domain": "fail"}


def test_search_bases_scan_only_their_subtrees(forest, option_scans):
    result = option_scans["bases"]
    sales, finance = seed.ou_dn("Sales", forest.base_dn), seed.ou_dn("Finance", forest.base_dn)
    assert not result.get("failed"), result
    expected = [r for r in seed.expected_rows(forest.base_dn) if r["dn"].endswith((sales, finance))]
    assert expected == seed.expected_rows(forest.base_dn)  # every defect lives in Sales or Finance
    assert sorted_rows(read_json_report(result["reports"]["json"])["rows"]) == sorted_rows(expected)
    in_ou = [o for o in seed.SEED if o["ou"] in ("Sales", "Finance")]
    assert [(s["base"], s["objects"]) for s in result["searches"]] == [
        (sales, sum(o["ou"] == "Sales" for o in in_ou)), (finance, sum(o["ou"] == "Finance" for o in in_ou))]
    assert result["summary"]["objects_ignored"] == 1
    assert result["summary"]["objects_skipped"] == 0


def test_global_catalog_scan(forest, full_scan, option_scans):
    _proc, full, _out = full_scan
    result = option_scans["gc"]
    assert not result.get("failed"), result
    assert result["global_catalog"] is True
    assert [(s["base"], s["port"]) for s in result["searches"]] == [("", 3269)]
    # Samba's schema keeps isCriticalSystemObject and proxyAddresses out of the partial attribute set:
    # the module warns like IdFix. Samba's GC of a one-domain forest still returns them.
    assert [w for w in result["warnings"] if w.startswith(
        "global_catalog: isCriticalSystemObject, proxyAddresses not replicated to the global catalog")]
    assert result["summary"] == full["summary"]
    assert sorted_rows(read_json_report(result["reports"]["json"])["rows"]) == sorted_rows(
        seed.expected_rows(forest.base_dn))


# --- the role ------------------------------------------------------------------------------------


def test_role_prints_counts_and_fails_on_request(rlab, forest, tmp_path):
    """The role as playbooks/assess.yml runs it: ems_ldap_* inventory variables, counts in the output."""
    out = tmp_path / "reports"
    inventory = {"all": {"children": {"ad_forests": {"hosts": {forest.dns_domain: {
        "ansible_connection": "local", "ansible_python_interpreter": str(ROOT / ".venv" / "bin" / "python"),
        "ems_ldap_server": [dc.fqdn for dc in forest.dcs], "ems_ldap_username": forest.admin_user,
        "ems_ldap_password": forest.admin_password, "ems_ldap_ca_file": forest.ca_file}}}}}}
    play = [{"hosts": "ad_forests", "gather_facts": False, "tasks": [{
        "name": "readiness", "ansible.builtin.include_role": {"name": "ems.enable.directory_readiness"},
        "vars": {"directory_readiness_output_dir": str(out),
                 "directory_readiness_ignore": seed.ignore_list(forest.base_dn),
                 "directory_readiness_fail_on": ["duplicate"]}}]}]
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play, sort_keys=False))
    proc = rlab.run(["ansible-playbook", "-i", str(tmp_path / "hosts.yml"), str(tmp_path / "play.yml")],
                    env=dict(NO_RUN_REPORT, ANSIBLE_STDOUT_CALLBACK="default"), timeout=600)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output  # the host failed: duplicates found (fail_on)
    summary = expected_summary(forest.base_dn)
    assert "%s: %d objects read, %d checked, %d skipped by IdFix's rules, %d ignored; %d errors on %d objects" % (
        forest.dns_domain, summary["objects_found"], summary["objects_checked"], summary["objects_skipped"],
        summary["objects_ignored"], summary["errors"], summary["objects_with_errors"]) in output, output
    assert "Errors by kind: format 3, blank 3, duplicate 12, character 15, top_level_domain 4, domain_part 3, " \
           "local_part 3, length 9" in output, output
    assert "Directory readiness of forest %s: 12 duplicate (fail_on)." % forest.dns_domain in output, output
    for row in seed.expected_rows(forest.base_dn):  # counts only, no values
        assert row["dn"] not in output
    assert sorted(os.listdir(out)) == ["directory-readiness-%s.csv" % forest.dns_domain,
                                       "directory-readiness-%s.index.sqlite" % forest.dns_domain,
                                       "directory-readiness-%s.json" % forest.dns_domain]


# --- bad input: clear errors before any scan ---------------------------------------------------


def test_bad_input_fails_before_scanning(rlab, forest, tmp_path):
    out = tmp_path / "reports"
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    other = "DC=elsewhere,DC=example,DC=com"
    sales = seed.ou_dn("Sales", forest.base_dn)
    cases = [
        ({"search_base": ["not a dn"]}, "search_base: 'not a dn' is not a distinguished name."),
        ({"search_base": ["OU=Nowhere," + forest.base_dn]},
         "search_base: OU=Nowhere,%s does not exist (%s:636)." % (forest.base_dn, forest.dcs[0].fqdn)),
        ({"search_base": [other]},
         "search_base: %s is not in any domain of forest %s (domains: %s)." % (
             other, forest.dns_domain, forest.base_dn)),
        ({"search_base": [sales, "CN=Long Sam," + sales]},
         "search_base: %s and CN=Long Sam,%s overlap" % (sales, sales)),
        ({"filter": "(objectClass=user"}, "filter: (objectClass=user is not a valid LDAP filter."),
        ({"output_dir": str(blocker / "reports")}, "output_dir: cannot write report files to %s/reports: "
                                                   "Not a directory." % blocker),
        ({"page_size": 0}, "page_size: must be 1 or more"),
        ({"parallel": 17}, "parallel: 17 is out of range: give 1 (one search per domain, as IdFix) to 16."),
    ]
    _proc, results = run_tasks(rlab, tmp_path, [scan_args(forest, out, **case) for case, _msg in cases])
    for (case, message), result in zip(cases, results):
        assert result.get("failed") is True, (case, result)
        assert result["msg"].startswith(message), (case, result["msg"])
        assert "summary" not in result
    assert not out.exists() or os.listdir(out) == []


# --- a DC stopped in the middle of the scan ----------------------------------------------------


def _partial_has_rows(out):
    """The scan is under way: its partial index (written after every page) holds a few hundred objects."""
    for path in glob.glob(str(out / ".directory-readiness-*.index.partial-*")):
        if os.path.getsize(path) >= 64 * 1024:
            return True
    return False


def test_dc_stopped_mid_scan_fails_clearly_and_publishes_no_report(rlab, forest, tmp_path):
    dc = forest.dcs[0]
    out = tmp_path / "reports"
    cmd, result_file = write_play(tmp_path, [scan_args(forest, out, page_size=2, page_timeout=30)])
    proc = subprocess.Popen(["ip", "netns", "exec", rlab.ctl_netns] + cmd, env=rlab.env(NO_RUN_REPORT),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # Stop the DC once the partial index holds a few hundred objects: the scan is then under way
        # (~2,100 objects read 2 per page: seconds).
        deadline = time.monotonic() + 120
        while not _partial_has_rows(out):
            assert proc.poll() is None, "the scan ended before it could be interrupted: " + proc.stdout.read()
            assert time.monotonic() < deadline, "the scan did not start"
            time.sleep(0.02)
        rlab.stop_dc(dc.fqdn)
        output = proc.communicate(timeout=300)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
        rlab.start_dc(dc.fqdn)
    assert "Traceback" not in output, output
    (result,) = json.loads(result_file.read_text())
    assert result["failed"] is True
    msg = result["msg"]
    assert msg.startswith("The scan of %s on %s:636 failed after " % (forest.base_dn, dc.fqdn)), msg
    objects = int(msg.split("failed after ", 1)[1].split(" ", 1)[0])
    assert 0 < objects < GENERATED_USERS + len(seed.SEED) + BUILTIN_OBJECTS, msg
    assert "No report was written (a partial scan is not a result)." in msg, msg
    assert "Remedy: Check that the domain controller runs" in msg, msg
    assert os.listdir(out) == [], os.listdir(out)  # no final report, no partial file left
