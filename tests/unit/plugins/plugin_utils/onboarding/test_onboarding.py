"""Unit tests of the onboarding output and report (plugin_utils/onboarding/, the attended-step helpers).

The whole callback is exercised through ansible-playbook in tests/integration/test_onboarding_output.py;
here the pieces are tested with plain data: layout limits, color rules, masking, the recorder's
verdicts and the four report formats.
"""

from __future__ import annotations

import io
import json
import os
import re
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.ems.enable.plugins.module_utils import attended_step as ast_utils
from ansible_collections.ems.enable.plugins.plugin_utils.onboarding import model as om
from ansible_collections.ems.enable.plugins.plugin_utils.onboarding import text as ot
from ansible_collections.ems.enable.plugins.plugin_utils.onboarding import writers as ow
from ansible_collections.ems.enable.plugins.plugin_utils.onboarding.events import phase_of

ESC = "\x1b"
LONG = ("Forest legacy.emslab.test is at functional level Windows Server 2003 (2); Windows Server 2008 (3) "
        "or above is required. CN=Partitions,CN=Configuration,DC=legacy,DC=emslab,DC=test "
        "https://learn.microsoft.com/en-us/entra/identity/hybrid/connect/how-to-connect-install-prerequisites")


class TTY(io.StringIO):
    encoding = "utf-8"

    def isatty(self):
        return True


# -- layout ------------------------------------------------------------------------------------

@pytest.mark.parametrize("width", [20, 37, 60, 100])
@pytest.mark.parametrize("text", [LONG, "x" * 250, "a\nb\n\nc", "", "  indented   spaces kept", "日本語のテキスト" * 9])
def test_wrap_never_exceeds_width(text, width):
    lines = ot.wrap(text, width, indent="    ", subsequent="      ")
    assert lines
    assert all(ot.visible_width(line) <= width for line in lines), lines
    # nothing is lost: the words come back in order
    assert "".join("".join(lines).split()) == "".join(("    " + text).split())


@pytest.mark.parametrize("width", [40, 58, 70])
def test_wrap_breaks_long_paths_between_their_parts(width):
    path = "/src/reports/20261206T030433Z/directory-readiness/directory-readiness-corp.emslab.test.csv."
    lines = ot.wrap("each value is in " + path, width)
    assert all(ot.visible_width(line) <= width for line in lines)
    assert "".join(line.strip() for line in lines).endswith(path)
    pieces = [line for line in lines if "/" in line or "readiness" in line]
    for line in pieces[:-1]:  # every cut inside the path is right after a separator
        assert line.rstrip()[-1] in "/-_.", lines
    # a path whose last part fits on a line is never split inside that part
    assert any(line.strip().endswith("directory-readiness-corp.emslab.test.csv.") for line in lines) or width < 42


def test_wrap_keeps_inner_spaces_and_newlines():
    assert ot.wrap("Tenant    contoso", 40) == ["Tenant    contoso"]
    assert ot.wrap("a\n\nb", 40) == ["a", "", "b"]


@pytest.mark.parametrize("unicode", [True, False])
@pytest.mark.parametrize("width", [60, 100])
def test_table_and_frame_fit(width, unicode):
    style = ot.Style(color=True, unicode=unicode)
    rows = [[("FAIL", "fail"), "aad_connect.upn_suffix\nlegacy.emslab.test", LONG + "\n-> " + LONG],
            None, [("PASS", "pass"), "x", "short"]]
    columns = [{"title": "", "min": 4, "max": 4}, {"title": "Check", "min": 14, "max": 30, "weight": 1},
               {"title": "Finding and remedy", "min": 30, "weight": 3}]
    lines = ot.table(rows, columns, width, style)
    assert all(ot.visible_width(line) == width for line in lines), [ot.visible_width(x) for x in lines]
    step = {"id": "aad_connect.initial_configuration", "title": "Configure it", "host": "sync01.corp.example.com",
            "instructions": [LONG] * 11, "values": {"Tenant": "contoso.onmicrosoft.com", "x" * 50: LONG},
            "detection": "the ADSync service has a connector", "doc_url": "https://example.invalid/" + "p" * 120}
    frame = ot.frame(om.attended_title(step, 12), "host: " + step["host"], om.attended_body(step), width, style)
    assert all(ot.visible_width(line) == width for line in frame), [ot.visible_width(x) for x in frame]
    plain = "\n".join(ot.ANSI_RE.sub("", line) for line in frame)
    assert "11. " + LONG[:20] in plain and " 1. " in plain  # numbered, aligned
    assert "Done when: the ADSync service has a connector" in plain


def test_visible_width_ignores_ansi_and_counts_wide_chars():
    assert ot.visible_width("\x1b[1;31mFAIL\x1b[0m") == 4
    assert ot.visible_width("日本") == 4


def test_duration():
    assert ot.duration(0.42) == "0.4s"
    assert ot.duration(42) == "42s"
    assert ot.duration(187) == "3m 07s"
    assert ot.duration(3725) == "1h 02m"


# -- colors ------------------------------------------------------------------------------------

@pytest.mark.parametrize("env,setting,expected", [
    ({}, "auto", True),
    ({"NO_COLOR": "1"}, "auto", False),
    ({"NO_COLOR": "1"}, "always", False),          # NO_COLOR always wins
    ({"NO_COLOR": ""}, "auto", True),              # empty NO_COLOR is unset (no-color.org)
    ({"TERM": "dumb"}, "auto", False),
    ({"TERM": "dumb"}, "always", True),
    ({"ANSIBLE_NOCOLOR": "true"}, "auto", False),
    ({}, "never", False),
])
def test_color_rules_on_a_terminal(env, setting, expected):
    assert ot.color_wanted(TTY(), setting, environ=env) is expected


def test_no_color_on_a_pipe_unless_forced():
    assert ot.color_wanted(io.StringIO(), "auto", environ={}) is False
    assert ot.color_wanted(io.StringIO(), "auto", environ={"ANSIBLE_FORCE_COLOR": "1"}) is True
    assert ot.color_wanted(io.StringIO(), "always", environ={}) is True


def test_projector_palette_is_bold_basic_colors_only():
    style = ot.Style(color=True)
    painted = [style.status(word) for word in ("ok", "changed", "failed", "skipped", "pending", "warn", "pass")]
    codes = set(re.findall(r"\x1b\[([0-9;]*)m", "".join(painted)))
    assert codes - {"0"} <= {"1;31", "1;32", "1;33", "1;34", "1;35", "1;36"}  # no dim (2), no grey (90)
    assert ESC not in ot.Style(color=False).status("failed")


def test_ascii_glyphs_for_dumb_terminals():
    assert ot.unicode_wanted(TTY(), "auto", environ={"TERM": "dumb"}) is False
    assert ot.unicode_wanted(TTY(), "auto", environ={"TERM": "xterm"}) is True
    lines = ot.table([["a", "b"]], [{"title": "x"}, {"title": "y"}], 40, ot.Style(unicode=False))
    assert all(line.isascii() for line in lines)


# -- secrets -----------------------------------------------------------------------------------

def test_redactor_masks_everywhere_longest_first():
    red = om.Redactor()
    red.add("S3cret-Value")
    red.add("S3cret")
    red.add("abc")                 # too short to mask
    red.add("{{ vault_x }}")       # a template, not a value
    red.add("-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END KEY-----")
    data = {"msg": "pw=S3cret-Value and S3cret", "list": ["abc", {"k S3cret": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"}]}
    out = red.data(data)
    text = json.dumps(out)
    assert "S3cret" not in text and "MIIEvQ" not in text
    assert out["msg"] == "pw=******** and ********"
    assert out["list"][0] == "abc"


def test_recorder_masks_results_and_model():
    rec = om.Recorder()
    rec.redactor.add("Hunter2-Secret")
    rec.play("Assess | x", "Assess", "assess", ["h1"])
    rec.task("u1", "Show Hunter2-Secret", None, "assess", "ansible.builtin.debug")
    rec.result("u1", "h1", "failed", {"msg": "bad password Hunter2-Secret"})
    model = rec.finish()
    assert "Hunter2-Secret" not in json.dumps(model)
    for fmt in ("md", "html", "junit", "json"):
        assert "Hunter2-Secret" not in {"md": ow.to_markdown, "html": ow.to_html, "junit": ow.to_junit,
                                        "json": ow.to_json}[fmt](model)


def test_no_log_result_keeps_only_its_status():
    rec = om.Recorder()
    rec.play("p", "Enable core", "enable_core", ["h1"])
    rec.task("u1", "Set secret", None, "enable_core", "ansible.builtin.set_fact")
    censored = {"censored": "the output has been hidden", "_ansible_no_log": True,
                "checks": [{"id": "x", "status": "fail", "message": "leak"}]}
    out = rec.result("u1", "h1", "ok", censored)
    assert out["checks"] == [] and out["entry"]["msg"] == "output hidden (no_log)"


# -- the recorder's verdicts -------------------------------------------------------------------

def _checks(*statuses):
    return [{"id": "rule%d" % i, "requirement": "aad_connect", "forest": "corp.example", "status": s,
             "message": "message %d" % i, "remedy": None if s == "pass" else "remedy %d" % i}
            for i, s in enumerate(statuses)]


def _sample_run():
    rec = om.Recorder()
    rec.meta = {"check_mode": False, "inventory": ["inventories/example"]}
    rec.playbook("playbooks/site.yml")
    rec.play("Assess | forests", "Assess", "assess", ["corp.example"])
    rec.task("t1", "Check the preconditions", None, "assess", "ems.enable.ad_preflight")
    rec.result("t1", "corp.example", "ok", {"checks": _checks("pass", "warn", "fail"), "summary": {}})
    rec.play("Enable core | sync", "Enable core", "enable_core", ["sync01", "adfs01"])
    rec.task("t2", "Install the MSI", "aad_connect", "aad_connect", "ansible.windows.win_package")
    rec.result("t2", "sync01", "changed", {"changed": True, "msg": "installed"})
    rec.task("t3", "Attended step aad_connect.initial_configuration", "aad_connect", "aad_connect",
             "ems.enable.attended_step")
    rec.result("t3", "sync01", "ok", {"changed": False, "pending": True, "ems_attended_step": {
        "id": "aad_connect.initial_configuration", "title": "Run the wizard", "component": "aad_connect",
        "host": "sync01", "status": "pending", "instructions": ["Open it", "Click <Next> & go | on"],
        "values": {"Tenant": "contoso"}, "detection": "connectors exist"}})
    rec.task("t4", "Install AD FS", "adfs", "adfs", "ansible.windows.win_feature")
    rec.result("t4", "adfs01", "failed", {"failed": True, "msg": "feature \x1b[31mfailed\x1b[0m\x07"})
    rec.task("t5", "Verify the probe", "adfs", "adfs", "ansible.builtin.uri", tags=["verify"])
    rec.result("t5", "adfs01", "ok", {"checks": _checks("pass")})
    rec.stats({"corp.example": {"ok": 1}, "sync01": {"ok": 2, "changed": 1}, "adfs01": {"ok": 1, "failures": 1}})
    return rec


def test_recorder_verdicts():
    rec = _sample_run()
    hosts = rec.host_summary()
    assert hosts["sync01"]["result"] == "pending" and hosts["sync01"]["pending"] == 1
    assert hosts["adfs01"]["result"] == "failed"
    # the checking task itself was ok, but a failing check about the host fails the host
    assert hosts["corp.example"]["result"] == "failed"
    assert (hosts["corp.example"]["checks_failed"], hosts["corp.example"]["checks_warned"]) == (1, 1)
    comps = rec.component_summary()
    assert comps["aad_connect"]["result"] == "pending" and comps["aad_connect"]["changed"] == 1
    assert comps["adfs"]["result"] == "failed"
    assert comps["assess"]["result"] == "ok"
    assert rec.overall() == "failed"
    model = rec.finish()
    # recorded pass, warn, fail: the report lists them worst first, as the terminal does
    assert [c["status"] for c in model["checks"]] == ["fail", "warn", "pass"]
    assert [c["kind"] for c in model["verify"]] == ["verify"]
    assert model["changes"] == [{"host": "sync01", "phase": "Enable core", "component": "aad_connect",
                                 "role": "aad_connect", "task": "Install the MSI", "msg": "installed"}]
    assert model["attended_pending"] == 1 and model["attended_steps"][0]["number"] == 1


def test_pending_only_run_is_not_failed():
    rec = om.Recorder()
    rec.play("p", "Enable core", "enable_core", ["sync01"])
    rec.task("t", "Attended step x", "aad_connect", "aad_connect", "ems.enable.attended_step")
    rec.result("t", "sync01", "ok", {"ems_attended_step": {"id": "x", "status": "pending", "instructions": ["a"]}})
    rec.stats({"sync01": {"ok": 3}})
    assert rec.overall() == "pending"


def test_quiet_plumbing_tasks_stay_out_of_the_report():
    rec = om.Recorder()
    rec.play("p", "Enable core", "enable_core", ["h"])
    rec.task("t", "include", None, "x", "ansible.builtin.include_role")
    rec.current_task()["quiet"] = True
    rec.result("t", "h", "ok", {})
    rec.task("t2", "real", None, "x", "ansible.builtin.command")
    rec.result("t2", "h", "ok", {})
    names = [t["name"] for p in rec.finish()["phases"] for r in p["roles"] for t in r["tasks"]]
    assert names == ["real"]


@pytest.mark.parametrize("name,path,phase_vars,expected", [
    ("Assess | Active Directory forests", "playbooks/assess.yml", {}, ("Assess", "assess")),
    ("Some play", "playbooks/enable_core.yml", {}, ("Enable core", "enable_core")),
    ("Whatever | x", "p.yml", {"ems_phase": "Verify"}, ("Verify", "verify")),
    ("Whatever | x", "p.yml", {"ems_phase": "{{ templated }}"}, ("Whatever", "whatever")),
])
def test_phase_of(name, path, phase_vars, expected):
    assert phase_of(name, path, phase_vars) == expected


# -- report formats ----------------------------------------------------------------------------

def test_report_formats(tmp_path):
    model = _sample_run().finish()
    directory = ow.report_directory(str(tmp_path), model["run"]["id"])
    again = ow.report_directory(str(tmp_path), model["run"]["id"])
    assert again.endswith("-2")
    written = ow.write_reports(model, directory)
    assert sorted(written) == ["html", "json", "junit", "md"]

    data = json.loads(open(written["json"], encoding="utf-8").read())
    assert data["schema"] == om.REPORT_SCHEMA and data["run"]["result"] == "failed"

    root = ET.parse(written["junit"]).getroot()
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root}
    assert suites["preconditions"].get("tests") == "3" and suites["preconditions"].get("failures") == "1"
    assert suites["attended steps"].get("skipped") == "1"
    assert int(root.get("failures")) == 2  # the failing check and the failed task
    assert "\x1b" not in open(written["junit"], encoding="utf-8").read()

    html = open(written["html"], encoding="utf-8").read()
    assert html.count("<table") >= 6
    assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", html)  # self-contained
    assert "<script" not in html and "@import" not in html
    assert "Click &lt;Next&gt; &amp; go | on" in html  # escaped

    md = open(written["md"], encoding="utf-8").read()
    assert "## Attended steps pending" in md and "2. Click &lt;Next&gt; & go \\| on" in md
    assert "| FAIL | rule2 | corp.example | message 2 | remedy 2 |" in md


def _verdict_positions(text, pattern):
    """Verdict words in order of appearance (pattern has one group: PASS, WARN or FAIL)."""
    return [m.group(1).upper() for m in re.finditer(pattern, text)]


def _worst_first(verdicts):
    rank = {"FAIL": 0, "WARN": 1, "PASS": 2}
    return [rank[v] for v in verdicts] == sorted(rank[v] for v in verdicts)


def _mixed_run(tmp_path, readiness_inside=True):
    """Checks recorded pass-first over two tasks, a file inside the run folder and one outside."""
    rec = om.Recorder()
    rec.meta = {"inventory": ["inventories/acme/hosts.yml"], "customer": "Contoso Ltd"}
    rec.play("Assess | forests", "Assess", "assess", ["corp.example"])
    rec.task("f", "Facts", None, "assess", "ems.enable.ad_forest_info")
    rec.result("f", "corp.example", "ok", {"forests": [{"forest": "corp.example"}, {"forest": "partner.example"}]})
    rec.task("t1", "Preconditions", None, "assess", "ems.enable.ad_preflight")
    rec.result("t1", "corp.example", "ok", {"checks": _checks("pass", "pass", "warn")})
    rec.task("t2", "Readiness", "directory_readiness", "assess", "ems.enable.directory_readiness")
    base = tmp_path / "reports"
    run_dir = ow.report_directory(str(base), om.run_id(rec.started))
    inside = "%s/directory-readiness/directory-readiness-corp.example.csv" % run_dir
    outside = str(tmp_path / "elsewhere" / "directory-readiness-corp.example.json")
    rec.result("t2", "corp.example", "ok", {"checks": _checks("pass", "warn", "fail"),
                                            "reports": {"csv": inside if readiness_inside else outside,
                                                        "json": outside}})
    rec.stats({"corp.example": {"ok": 3}})
    model = rec.finish()
    return model, run_dir, ow.write_reports(model, run_dir)


def test_every_report_lists_fail_and_warn_rows_before_pass_rows(tmp_path):
    model, _run_dir, written = _mixed_run(tmp_path)
    assert _worst_first([c["status"].upper() for c in model["checks"]])
    data = json.loads(open(written["json"], encoding="utf-8").read())
    statuses = [c["status"].upper() for c in data["checks"]]
    assert statuses[:2] == ["FAIL", "WARN"] and _worst_first(statuses), statuses
    md = open(written["md"], encoding="utf-8").read()
    md_rows = _verdict_positions(md.split("## Preconditions", 1)[1].split("## Verify", 1)[0],
                                 r"(?m)^\| (PASS|WARN|FAIL) \|")
    assert len(md_rows) == 6 and _worst_first(md_rows), md_rows
    html = open(written["html"], encoding="utf-8").read()
    section = html.split('id="preconditions"', 1)[1].split('id="verify"', 1)[0]
    html_rows = _verdict_positions(section, r'class="badge s-(pass|warn|fail)"')
    assert len(html_rows) == 6 and _worst_first(html_rows), html_rows


def test_a_report_that_lists_pass_first_is_caught(tmp_path):
    """The ordering check above can fail: a model written in recorded order is refused."""
    model, run_dir, _written = _mixed_run(tmp_path)
    unordered = dict(model, checks=sorted(model["checks"], key=lambda c: c["status"] != "pass"))
    md = ow.to_markdown(unordered)
    rows = _verdict_positions(md.split("## Preconditions", 1)[1].split("## Verify", 1)[0],
                              r"(?m)^\| (PASS|WARN|FAIL) \|")
    assert not _worst_first(rows)


def test_reports_link_files_relatively_and_never_outside_their_folder(tmp_path):
    _model, run_dir, written = _mixed_run(tmp_path)
    for fmt in ("md", "html"):
        text = open(written[fmt], encoding="utf-8").read()
        links = re.findall(r'href="([^"]*)"', text) if fmt == "html" else re.findall(r"\]\(([^)]*)\)", text)
        assert links == ["directory-readiness/directory-readiness-corp.example.csv"], (fmt, links)
        for link in links:
            assert not link.startswith(("/", "..")) and "://" not in link
            target = os.path.normpath(os.path.join(run_dir, link))
            assert target.startswith(run_dir + os.sep)
        # the file outside the folder is named, as text, not linked
        assert "elsewhere" in text
    data = json.loads(open(written["json"], encoding="utf-8").read())
    assert [f.get("href") for f in data["files"]] == ["directory-readiness/directory-readiness-corp.example.csv", None]


def test_a_symlink_or_dotdot_path_out_of_the_folder_gets_no_link(tmp_path):
    run_dir = tmp_path / "run"
    (tmp_path / "outside").mkdir()
    run_dir.mkdir()
    (run_dir / "escape").symlink_to(tmp_path / "outside")
    for path in (str(run_dir / "escape" / "x.csv"), str(run_dir / ".." / "outside" / "x.csv")):
        assert "href" not in ow._with_href({"path": path, "kind": "csv", "host": "h"}, str(run_dir))
    inside = ow._with_href({"path": str(run_dir / "a b.csv"), "kind": "csv", "host": "h"}, str(run_dir))
    assert inside["href"] == "a b.csv"


def test_report_title_and_headline_name_the_customer_forests_and_counts(tmp_path):
    model, _run_dir, written = _mixed_run(tmp_path)
    title = "Onboarding report: Contoso Ltd - forests corp.example, partner.example"
    assert om.report_title(model) == title
    assert model["run"]["headline"] == "FAILED on 1 host: 1 check failed, 2 warnings"
    md = open(written["md"], encoding="utf-8").read()
    assert md.startswith("# " + title + "\n\n**FAILED on 1 host: 1 check failed, 2 warnings**")
    assert "| Checks | 1 FAIL, 2 WARN, 3 PASS |" in md
    html = open(written["html"], encoding="utf-8").read()
    assert "<title>%s</title>" % title in html and "<h1>%s</h1>" % title in html
    # without ems_customer: the inventory's name
    model["run"].pop("customer")
    assert om.report_title(model).startswith("Onboarding report: inventory acme - forests")


@pytest.mark.parametrize("overall, fail, warn, pending, expected", [
    ("ok", 0, 2, 0, "DONE with 2 warnings, nothing changed"),
    ("ok", 0, 0, 0, "DONE, nothing changed"),
    ("changed", 0, 1, 0, "DONE with 1 warning, with changes"),
    ("pending", 0, 0, 2, "ATTENDED STEP PENDING: 2 steps to do, nothing failed"),
    ("failed", 2, 0, 0, "FAILED on 1 host: 2 checks failed"),
])
def test_headline(overall, fail, warn, pending, expected):
    hosts = {"h": {"result": overall}}
    checks = [{"status": "fail"}] * fail + [{"status": "warn"}] * warn + [{"status": "pass"}]
    assert om.headline(overall, hosts, checks, pending) == expected


# -- attended-step detection helpers -------------------------------------------------------------

def test_lookup_dotted_paths():
    data = {"stat": {"exists": True}, "services": [{"state": "running"}], "output": []}
    assert ast_utils.lookup(data, "stat.exists") == (True, True)
    assert ast_utils.lookup(data, "services.0.state") == (True, "running")
    assert ast_utils.lookup(data, "services.-1.state") == (True, "running")
    assert ast_utils.lookup(data, "services.1.state") == (False, None)
    assert ast_utils.lookup(data, "output.0.Configured") == (False, None)
    assert ast_utils.lookup(data, "nope") == (False, None)


@pytest.mark.parametrize("found,value,equals,expected", [
    (True, True, None, True),
    (True, [], None, False),
    (True, "Running", "running", True),
    (True, "True", True, True),
    (True, 0, 0, True),
    (True, "stopped", "running", False),
    (False, None, None, False),
])
def test_holds(found, value, equals, expected):
    assert ast_utils.holds(found, value, {"equals": equals}) is expected


def test_step_ids():
    assert ast_utils.STEP_ID.match("aad_connect.initial_configuration")
    assert not ast_utils.STEP_ID.match("AAD Connect")
