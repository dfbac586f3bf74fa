"""The operator experience, end to end: ansible-playbook with the project's ansible.cfg, whose
stdout callback is ems.enable.onboarding.

- assess against the Samba lab (all four forests): the PASS / WARN / FAIL table, the four report
  files (JSON and JUnit parsed, the HTML rendered in headless Chromium), every output line within
  100 columns, and the vaulted LDAP password nowhere;
- the attended-step mechanism on localhost: the framed block, the host ends PENDING with rc 0, and
  the next run detects the step and goes on;
- secrets: a vaulted value (inline and whole-file) and a no_log task's values never appear in
  stdout, stderr or any report file, at any verbosity;
- every playbook passes --syntax-check with inventories/example.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import project_env  # noqa: E402

WIDTH = 100
VAULT_PASSWORD = "integration-vault-pass"
LAB_PASSWORD = "EmsLab-Passw0rd"  # emslab.LAB_PASSWORD, vaulted by the assess test
# INI inventories cannot hold '{{ ansible_playbook_python }}' (spaces): name the venv's python.
LOCAL = "localhost ansible_connection=local ansible_python_interpreter=%s" % (ROOT / ".venv" / "bin" / "python")


def run_playbook(args, *, env=None, cwd=None, timeout=300, lab=None):
    """ansible-playbook as a user runs it (project ansible.cfg, .venv first on PATH)."""
    full_env = dict(os.environ)
    full_env.update(project_env())
    for name in ("NO_COLOR", "ANSIBLE_FORCE_COLOR", "ANSIBLE_NOCOLOR", "EMS_OUTPUT_COLOR", "ANSIBLE_STDOUT_CALLBACK"):
        full_env.pop(name, None)
    full_env.update(env or {})
    cmd = ["ansible-playbook", *args]
    if lab is not None:
        return lab.run(cmd, env={k: v for k, v in full_env.items() if k.startswith(("ANSIBLE", "EMS", "NO_COLOR", "TERM"))},
                       timeout=timeout, cwd=cwd)
    return subprocess.run(cmd, env=full_env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


def report_dirs(base):
    """The run directories (<UTC timestamp>) of a report_dir; assess also writes directory-readiness/ there."""
    if not Path(base).exists():
        return []
    return sorted(p for p in Path(base).iterdir() if p.is_dir() and re.fullmatch(r"\d{8}T\d{6}Z", p.name))


def all_text(proc, report_base):
    """stdout, stderr and every file under the report directory, as one text."""
    parts = [proc.stdout, proc.stderr]
    for path in sorted(Path(report_base).rglob("*")):
        if path.is_file():
            parts.append(path.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(parts)


def encrypt_file(path, tmp_path):
    secret_file = tmp_path / "vault-pass"
    secret_file.write_text(VAULT_PASSWORD + "\n")
    subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-vault"), "encrypt", "--vault-password-file",
                    str(secret_file), str(path)], check=True, capture_output=True, env={**os.environ, **project_env()})
    assert path.read_text().startswith("$ANSIBLE_VAULT;")
    return secret_file


def encrypt_string(value, name, tmp_path):
    secret_file = tmp_path / "vault-pass"
    secret_file.write_text(VAULT_PASSWORD + "\n")
    out = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-vault"), "encrypt_string", "--vault-password-file",
                          str(secret_file), value, "--name", name], check=True, capture_output=True, text=True,
                         env={**os.environ, **project_env()}).stdout
    return out


# --- PNG without Pillow (Chromium writes 8-bit RGB or RGBA, not interlaced) ----------------------

def png_pixels(path):
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, color_type, _c, _f, interlace = header
    assert depth == 8 and interlace == 0 and color_type in (2, 6), header
    channels = 3 if color_type == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, prev, offset = [], bytearray(stride), 0
    for _row in range(height):
        kind, line = raw[offset], bytearray(raw[offset + 1:offset + 1 + stride])
        offset += 1 + stride
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = prev[i]
            upleft = prev[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 0xFF
            elif kind == 4:
                p = left + up - upleft
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upleft)
                pred = left if pa <= pb and pa <= pc else (up if pb <= pc else upleft)
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows


def non_white_pixels(path):
    try:
        from PIL import Image  # pylint: disable=import-outside-toplevel
    except ImportError:
        Image = None
    if Image is not None:
        with Image.open(path) as img:
            rgb = img.convert("RGB")
            return sum(1 for px in rgb.getdata() if px != (255, 255, 255)), rgb.size[0] * rgb.size[1]
    width, height, channels, rows = png_pixels(path)
    count = 0
    for row in rows:
        for x in range(0, width * channels, channels):
            if row[x:x + 3] != b"\xff\xff\xff":
                count += 1
    return count, width * height


def chromium(args, tmp_path, timeout=120):
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if not binary:
        pytest.fail("chromium is missing: run scripts/bootstrap (it installs Debian's chromium package)")
    profile = tmp_path / ("chromium-profile-%d" % len(list(tmp_path.glob("chromium-profile-*"))))
    profile.mkdir()
    cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--user-data-dir=%s" % profile, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def check_html_renders(html_file, tmp_path, expect_headings):
    shot = tmp_path / "report.png"
    proc = chromium(["--window-size=1280,1600", "--screenshot=%s" % shot, html_file.as_uri()], tmp_path)
    assert shot.exists(), proc.stderr[-2000:]
    painted, total = non_white_pixels(shot)
    assert painted > total * 0.01, "the screenshot is (almost) blank: %d of %d pixels painted" % (painted, total)
    dom = chromium(["--dump-dom", html_file.as_uri()], tmp_path).stdout
    assert dom.count("<table") >= 4, dom[:2000]
    assert dom.count("<td") >= 10
    for heading in expect_headings:
        assert heading in dom, heading
    return dom


# --- syntax ----------------------------------------------------------------------------------

PLAYBOOKS = sorted(p.name for p in (ROOT / "playbooks").glob("*.yml"))


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_syntax_check_with_the_example_inventory(playbook):
    proc = run_playbook(["-i", str(ROOT / "inventories" / "example"), "--syntax-check",
                         str(ROOT / "playbooks" / playbook)], cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_phase_playbook_exists_with_a_header():
    for name in ("assess", "enable_core", "enable_intune", "enable_rms", "verify", "site"):
        text = (ROOT / "playbooks" / ("%s.yml" % name)).read_text()
        assert text.startswith("---\n# "), name
        assert "Touches" in text or "touches" in text.split("\n- ")[0], name


#: the modules a play of verify.yml may run itself, besides a role's verify entry point (read-only)
VERIFY_PLAY_MODULES = {"ansible.builtin.debug", "ems.enable.sso_test"}


def test_verify_playbook_has_no_placeholder_left():
    """Every play of verify.yml runs a role's read-only verify entry point (issue 19 finding 18), or only
    read-only checks of the collection (the SSO test)."""
    plays = yaml.safe_load((ROOT / "playbooks" / "verify.yml").read_text())
    text = (ROOT / "playbooks" / "verify.yml").read_text()
    assert "not implemented yet" not in text
    for play in plays[1:]:
        imports = [t["ansible.builtin.import_role"] for t in play["tasks"] if "ansible.builtin.import_role" in t]
        if imports:
            assert [i.get("tasks_from") for i in imports] == ["verify"], play["name"]
            continue
        modules = {key for task in play["tasks"] for key in task if key.startswith(("ansible.", "ems."))}
        assert modules and modules <= VERIFY_PLAY_MODULES, (play["name"], modules)


# --- attended steps ----------------------------------------------------------------------------

ATTENDED_ROLE = """\
- name: Prepare what comes before the wizard
  ansible.builtin.debug:
    msg: prepared
- name: The wizard
  ansible.builtin.include_role:
    name: ems.enable.attended_step
  vars:
    attended_step_id: demo_component.wizard
    attended_step_title: Run the demo wizard
    attended_step_instructions:
      - "Sign in to {{ inventory_hostname }} and start the demo wizard."
      - "Enter the tenant {{ demo_tenant }}, choose Customize, then finish."
      - "Create {{ demo_marker }} when the wizard is done."
    attended_step_values:
      Tenant: "{{ demo_tenant }}"
    attended_step_detect:
      module: ansible.builtin.stat
      args:
        path: "{{ demo_marker }}"
      key: stat.exists
    attended_step_detection: "{{ demo_marker }} exists"
- name: Continue after the wizard
  ansible.builtin.debug:
    msg: the role went on after the wizard
"""


@pytest.fixture
def attended_project(tmp_path):
    (tmp_path / "roles" / "demo_component" / "tasks").mkdir(parents=True)
    (tmp_path / "roles" / "demo_component" / "tasks" / "main.yml").write_text(ATTENDED_ROLE)
    marker = tmp_path / "wizard-done"
    (tmp_path / "hosts").write_text(
        "[sync]\nsync01 %s\n[sync:vars]\ndemo_marker=%s\ndemo_tenant=contoso.onmicrosoft.com\n"
        % (LOCAL.split(" ", 1)[1], marker))
    (tmp_path / "site.yml").write_text(textwrap.dedent("""\
        - name: Enable core | Demo component
          hosts: sync
          gather_facts: false
          roles:
            - demo_component
        - name: Verify | Later play of the same run
          hosts: sync
          gather_facts: false
          tasks:
            - name: Show the pending steps of this host
              ansible.builtin.debug:
                msg: "pending steps: {{ attended_step_pending | default([]) | join(',') or 'none' }}"
        """))
    env = {"EMS_REPORT_DIR": str(tmp_path / "reports"), "ANSIBLE_ROLES_PATH": str(tmp_path / "roles")}
    return tmp_path, marker, env


def test_attended_step_pending_then_detected(attended_project):
    project, marker, env = attended_project
    first = run_playbook(["-i", "hosts", "site.yml"], env=env, cwd=project)
    out = first.stdout
    assert first.returncode == 0, out + first.stderr  # pending is not a failure
    # the framed, numbered block with values rendered from the inventory
    assert "ATTENDED STEP 1: demo_component.wizard" in out
    assert "1. Sign in to sync01 and start the demo wizard." in out
    assert "2. Enter the tenant contoso.onmicrosoft.com, choose Customize, then finish." in out
    assert "Done when: %s exists" % marker in out
    assert re.search(r"PENDING\s+Attended step demo_component.wizard", out)
    # the host's play ended there; the next play still sees the step as pending
    assert "the role went on after the wizard" not in out
    assert "pending steps: demo_component.wizard" in out
    # the recap shows it distinctly
    assert re.search(r"sync01\s+.\s+PENDING", out), out
    assert "RESULT: ATTENDED STEP PENDING: 1 step to do, nothing failed" in out
    assert all(len(line) <= WIDTH for line in out.splitlines())

    (report,) = report_dirs(project / "reports")
    model = json.loads((report / "report.json").read_text())
    assert model["run"]["result"] == "pending"
    (step,) = model["attended_steps"]
    assert step["status"] == "pending" and step["host"] == "sync01" and step["component"] == "demo_component"
    assert step["instructions"][1] == "Enter the tenant contoso.onmicrosoft.com, choose Customize, then finish."
    assert step["values"] == {"Tenant": "contoso.onmicrosoft.com"}
    assert model["hosts"]["sync01"]["result"] == "pending"
    junit = ET.parse(report / "junit.xml").getroot()
    (case,) = [c for c in junit.iter("testcase") if c.get("name") == "demo_component.wizard [sync01]"]
    assert case.find("skipped") is not None
    assert "Run the demo wizard" in (report / "report.md").read_text()

    marker.write_text("done\n")
    second = run_playbook(["-i", "hosts", "site.yml"], env=env, cwd=project)
    out = second.stdout
    assert second.returncode == 0, out + second.stderr
    assert "ATTENDED STEP" not in out
    assert "attended step demo_component.wizard on sync01: done (%s exists)" % marker in " ".join(out.split())
    assert "the role went on after the wizard" in out
    assert "pending steps: none" in out
    assert "RESULT: DONE" in out
    latest = report_dirs(project / "reports")[-1]
    model = json.loads((latest / "report.json").read_text())
    assert model["run"]["result"] == "ok"
    assert [s["status"] for s in model["attended_steps"]] == ["done"]


def test_attended_step_with_another_stdout_callback(attended_project):
    """The mechanism does not depend on the onboarding callback (the action prints the block), and
    the notification callback ems.enable.onboarding_report writes the same report."""
    project, _marker, env = attended_project
    env = dict(env, ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_CALLBACKS_ENABLED="ems.enable.onboarding_report")
    proc = run_playbook(["-i", "hosts", "site.yml"], env=env, cwd=project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "the role went on after the wizard" not in proc.stdout
    assert "ATTENDED STEP: demo_component.wizard" in proc.stdout
    assert "failed=0" in proc.stdout
    (report,) = report_dirs(project / "reports")
    assert sorted(p.name for p in report.iterdir()) == ["junit.xml", "report.html", "report.json", "report.md"]
    model = json.loads((report / "report.json").read_text())
    assert model["run"]["result"] == "pending" and model["attended_steps"][0]["status"] == "pending"


def test_report_callback_stays_silent_under_the_onboarding_callback(attended_project):
    project, _marker, env = attended_project
    proc = run_playbook(["-i", "hosts", "site.yml"], env=dict(env, ANSIBLE_CALLBACKS_ENABLED="ems.enable.onboarding_report"),
                        cwd=project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(report_dirs(project / "reports")) == 1  # one report, not two


def test_attended_step_bad_input_fails_clearly(tmp_path):
    (tmp_path / "play.yml").write_text(textwrap.dedent("""\
        - name: Bad attended steps
          hosts: all
          gather_facts: false
          tasks:
            - name: Neither done nor detect
              ems.enable.attended_step:
                id: demo.step
                title: A step
                instructions: [do it]
              ignore_errors: true
            - name: A bad id
              ems.enable.attended_step:
                id: Demo Step
                title: A step
                instructions: [do it]
                done: false
              ignore_errors: true
            - name: A detection module that fails
              ems.enable.attended_step:
                id: demo.step
                title: A step
                instructions: [do it]
                detect:
                  module: ansible.builtin.command
                  args: {argv: [/nonexistent/probe]}
                  key: rc
        """))
    (tmp_path / "hosts").write_text(LOCAL + "\n")
    proc = run_playbook(["-i", "hosts", "play.yml"], env={"EMS_REPORT_DIR": str(tmp_path / "r")}, cwd=tmp_path)
    assert proc.returncode == 2
    text = " ".join(proc.stdout.split())
    assert "one of the following is required: done, detect" in text
    assert "id 'Demo Step' is not a step id" in text
    assert "the detection check ansible.builtin.command failed" in text


# --- secrets -----------------------------------------------------------------------------------

INLINE_SECRET = "Inline-Vaulted-7f3a9c"
FILE_SECRET = "WholeFile-Vaulted-2b8e41"
NOLOG_SECRET = "NoLog-Token-5d1c77"
NOLOG_ITEM = "NoLog-Item-9e0f12"

SECRETS_PLAY = """\
- name: Enable core | Secrets must not show
  hosts: all
  gather_facts: false
  tasks:
    - name: A debug that would print the inline vaulted value
      ansible.builtin.debug:
        msg: "the password is {{ vault_inline_secret }}"
    - name: A debug of the whole-file vaulted variable
      ansible.builtin.debug:
        var: vault_file_secret
    - name: A failure whose message carries a vaulted value
      ansible.builtin.fail:
        msg: "could not log on with {{ vault_file_secret }}"
      ignore_errors: true
    - name: A no_log task with a secret argument
      ansible.builtin.command:
        argv: [echo, "%(nolog)s"]
      changed_when: false
      no_log: true
    - name: A no_log loop
      ansible.builtin.set_fact:
        token: "{{ item }}"
      loop: ["%(item)s"]
      no_log: true
    - name: A no_log failure
      ansible.builtin.fail:
        msg: "failed with %(nolog)s"
      no_log: true
      ignore_errors: true
    - name: An attended step whose values hold a vaulted value (never do this)
      ansible.builtin.include_role:
        name: ems.enable.attended_step
      vars:
        attended_step_id: demo.secret_step
        attended_step_title: A step
        attended_step_instructions: ["Type {{ vault_file_secret }} into the box"]
        attended_step_values: {Password: "{{ vault_inline_secret }}"}
        attended_step_done: false
""" % {"nolog": NOLOG_SECRET, "item": NOLOG_ITEM}


@pytest.fixture
def secrets_project(tmp_path):
    inv = tmp_path / "inv"
    (inv / "group_vars" / "all").mkdir(parents=True)
    (inv / "hosts").write_text(LOCAL + "\n")
    vault_file = inv / "group_vars" / "all" / "vault.yml"
    vault_file.write_text("vault_file_secret: %s\n" % FILE_SECRET)
    password_file = encrypt_file(vault_file, tmp_path)
    (inv / "group_vars" / "all" / "inline.yml").write_text(encrypt_string(INLINE_SECRET, "vault_inline_secret", tmp_path))
    (tmp_path / "play.yml").write_text(SECRETS_PLAY)
    return tmp_path, password_file


@pytest.mark.parametrize("verbosity", ["", "-v", "-vvv"])
def test_vaulted_and_no_log_values_never_shown(secrets_project, verbosity):
    project, password_file = secrets_project
    reports = project / ("reports" + verbosity)
    args = ["-i", "inv", "play.yml", "--vault-password-file", str(password_file)] + ([verbosity] if verbosity else [])
    proc = run_playbook(args, env={"EMS_REPORT_DIR": str(reports)}, cwd=project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = all_text(proc, reports)
    assert len(list(reports.rglob("*.*"))) == 4
    for secret in (INLINE_SECRET, FILE_SECRET, NOLOG_SECRET, NOLOG_ITEM):
        assert secret not in text, "%s leaked (verbosity %r)" % (secret, verbosity)
    # the tasks did try to show them: masked, not absent
    assert "the password is ********" in proc.stdout
    assert "could not log on with ********" in proc.stdout
    model = json.loads(next(reports.rglob("report.json")).read_text())
    assert model["attended_steps"][0]["values"] == {"Password": "********"}


# --- assess against the lab --------------------------------------------------------------------

@pytest.fixture(scope="module")
def assess_run(lab, tmp_path_factory):
    """assess over the whole standard lab (four forests), the LDAP password from a vaulted file."""
    tmp = tmp_path_factory.mktemp("assess")
    inv = tmp / "vaulted"
    (inv / "group_vars" / "ad_forests").mkdir(parents=True)
    (inv / "hosts.yml").write_text("all:\n  children:\n    ad_forests: {}\n")
    vault_file = inv / "group_vars" / "ad_forests" / "vault.yml"
    vault_file.write_text("ems_ldap_password: %s\n" % LAB_PASSWORD)
    password_file = encrypt_file(vault_file, tmp)
    reports = tmp / "reports"
    proc = run_playbook(["-i", str(ROOT / "inventories" / "lab"), "-i", str(inv), str(ROOT / "playbooks" / "assess.yml"),
                         "--vault-password-file", str(password_file)],
                        env={"EMS_REPORT_DIR": str(reports), "TERM": "xterm"}, cwd=str(ROOT), timeout=600, lab=lab)
    (report,) = report_dirs(reports)
    return proc, report, tmp


@pytest.mark.integration
def test_assess_shows_the_table(assess_run):
    proc, _report, _tmp = assess_run
    out = proc.stdout
    assert proc.returncode == 2, out + proc.stderr  # the legacy forest (2003) and the trust fail assess
    assert "ASSESS: Active Directory forests  (4 hosts)" in out
    assert re.search(r"Preconditions\s+\d+ PASS\s+\d+ WARN\s+\d+ FAIL", out)
    table = [line for line in out.splitlines() if line.startswith("  \u2502 ")]
    assert any(line.startswith("  \u2502 FAIL \u2502 minimum_forest_level") for line in table), out
    assert any("\u2502 PASS \u2502" in line for line in table)
    assert any("\u2502 WARN \u2502" in line for line in table)
    assert "legacy.emslab.test is at functional level Windows Server 2003" in " ".join(out.split())
    assert re.search(r"FAILED\s+Stop when a precondition fails", out)
    assert "RESULT: FAILED" in out


@pytest.mark.integration
def test_assess_output_fits_in_100_columns(assess_run):
    proc, _report, _tmp = assess_run
    lines = (proc.stdout + proc.stderr).splitlines()
    assert len(lines) > 40
    too_wide = [(len(line), line) for line in lines if len(line) > WIDTH]
    assert not too_wide, too_wide
    assert "\x1b" not in proc.stdout  # not a terminal: no color codes in the log


@pytest.mark.integration
def test_assess_writes_the_four_reports(assess_run):
    proc, report, tmp = assess_run
    assert sorted(p.name for p in report.iterdir()) == [
        "directory-readiness", "junit.xml", "report.html", "report.json", "report.md"]
    assert str(report.name) in proc.stdout  # the summary says where the report is

    model = json.loads((report / "report.json").read_text())
    assert model["schema"] == "ems.enable/onboarding-report/1"
    assert model["run"]["result"] == "failed" and model["run"]["playbooks"][-1].endswith("assess.yml")
    forests = {f["forest"]: f for f in model["environment"]["forests"]}
    assert sorted(forests) == ["corp.emslab.test", "f2008.emslab.test", "legacy.emslab.test", "partner.emslab.test"]
    assert forests["legacy.emslab.test"]["forest_level"] == "Windows Server 2003"
    assert forests["corp.emslab.test"]["trusts"] and len(forests["corp.emslab.test"]["domain_controllers"]) == 2
    checks = {(c["id"], c["subject"]): c for c in model["checks"]}
    legacy = checks[("minimum_forest_level", "legacy.emslab.test")]
    assert legacy["status"] == "fail" and legacy["remedy"]
    assert checks[("minimum_forest_level", "corp.emslab.test")]["status"] == "pass"
    assert {c["status"] for c in model["checks"]} == {"pass", "warn", "fail"}
    assert model["hosts"]["legacy.emslab.test"]["result"] == "failed"
    assert model["changes"] == []
    # the directory readiness step: rows for every forest - one PASS, or a WARN per error kind found
    # (other tests of the session add users to the shared lab) - its CSV and JSON beside the run's
    # report directory
    for forest in forests:
        rows = [c for (check_id, subject), c in checks.items()
                if subject == forest and (check_id == "readiness" or check_id.startswith("readiness."))]
        assert rows and {c["status"] for c in rows} <= {"pass", "warn"}, (forest, rows)
        assert len(rows) == 1 or all(c["status"] == "warn" for c in rows), rows
    # ... inside the run's own folder, linked relatively from the reports, nothing linked outside it
    readiness = report / "directory-readiness"
    expected = sorted("directory-readiness-%s.%s" % (f, ext) for f in forests for ext in ("csv", "json"))
    # next to them the value index each scan keeps for the next one (state, not a report: not linked)
    assert sorted(p.name for p in readiness.iterdir()) == sorted(
        expected + ["directory-readiness-%s.index.sqlite" % f for f in forests])
    assert not (tmp / "reports" / "directory-readiness").exists()
    assert sorted(f["href"] for f in model["files"]) == ["directory-readiness/" + name for name in expected]
    html_links = re.findall(r'href="([^"]*)"', (report / "report.html").read_text())
    md_links = re.findall(r"\]\(([^)]*)\)", (report / "report.md").read_text())
    for links in (html_links, md_links):
        assert sorted(links) == ["directory-readiness/" + name for name in expected]
        for link in links:
            assert (report / link).resolve().is_file() and report.resolve() in (report / link).resolve().parents
    # title, headline and counts at the top; FAIL and WARN rows before PASS rows
    assert model["run"]["customer"] == "EMS lab (Samba AD)"
    top = (report / "report.md").read_text().split("\n", 3)
    assert top[0] == "# Onboarding report: EMS lab (Samba AD) - forests " + ", ".join(
        f["forest"] for f in model["environment"]["forests"])
    assert top[2].startswith("**FAILED on ") and "check" in top[2] and "warning" in top[2]
    assert ("RESULT: " + model["run"]["headline"]) in proc.stdout
    rank = {"fail": 0, "warn": 1, "pass": 2}
    assert [rank[c["status"]] for c in model["checks"]] == sorted(rank[c["status"]] for c in model["checks"])

    junit = ET.parse(report / "junit.xml").getroot()
    suites = {s.get("name"): s for s in junit.findall("testsuite")}
    pre = suites["preconditions"]
    assert int(pre.get("tests")) == len(model["checks"])
    assert int(pre.get("failures")) == sum(1 for c in model["checks"] if c["status"] == "fail") > 0
    failing = [c for c in pre.findall("testcase") if c.find("failure") is not None]
    assert "minimum_forest_level [legacy.emslab.test]" in [c.get("name") for c in failing]
    assert int(junit.get("failures")) >= int(pre.get("failures"))

    md = (report / "report.md").read_text()
    assert "## Preconditions" in md and "| FAIL | minimum_forest_level | legacy.emslab.test |" in md

    headings = ["Preconditions", "Environment", "Summary", "legacy.emslab.test"]
    dom = check_html_renders(report / "report.html", tmp, headings)
    assert dom.count("s-fail") >= 1


@pytest.mark.integration
def test_assess_never_shows_the_vaulted_ldap_password(assess_run):
    proc, report, _tmp = assess_run
    assert LAB_PASSWORD not in all_text(proc, report)


# --- order (issue 13) ----------------------------------------------------------------------------

ORDER_PLAY = """\
- name: Enable core | Order of the report whatever the forks
  hosts: all
  gather_facts: false
  tasks:
    - name: A change that finishes in a different order on each host
      ansible.builtin.command:
        argv: [sleep, "{{ (0.05 * (groups['all'] | length - groups['all'].index(inventory_hostname))) | round(2) }}"]
      changed_when: true
    - name: A message per host
      ansible.builtin.debug:
        msg: "{{ inventory_hostname }}"
"""


def _without_times(value):
    if isinstance(value, dict):
        return {k: _without_times(v) for k, v in value.items()
                if k not in ("started", "finished", "duration", "id", "report_dir")}
    if isinstance(value, list):
        return [_without_times(v) for v in value]
    return value


def test_report_json_is_the_same_with_forks_1_and_10(tmp_path):
    """Every list of report.json is in a stable order: a run with forks 1 and one with forks 10 (hosts
    finishing in the opposite order) give the same report apart from times."""
    hosts = ["order%02d ansible_connection=local ansible_python_interpreter=%s" % (i, sys.executable)
             for i in range(10)]
    (tmp_path / "hosts").write_text("[all]\n" + "\n".join(hosts) + "\n")
    (tmp_path / "play.yml").write_text(ORDER_PLAY)
    reports = []
    for forks in ("1", "10"):
        base = tmp_path / ("r" + forks)
        proc = run_playbook(["-i", "hosts", "--forks", forks, "play.yml"], env={"EMS_REPORT_DIR": str(base)},
                            cwd=tmp_path)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        (run,) = report_dirs(base)
        reports.append(json.loads((run / "report.json").read_text()))
    one, ten = (_without_times(r) for r in reports)
    assert len(one["changes"]) == 10 and [c["host"] for c in one["changes"]] == sorted(c["host"] for c in one["changes"])
    assert one == ten
