# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: onboarding
type: stdout
short_description: Screen-share output of the onboarding playbooks, and the onboarding report
version_added: 0.1.0
description:
  - Made for a customer's ops team running the playbooks while engineers watch on a screen share.
    Per phase (play) and role, one line per task with its status and time; precondition checks as a
    compact PASS / WARN / FAIL table with the remedy; attended steps as a framed, numbered
    instruction block; the time of each role; a final summary per host and per component (done,
    changed, attended step pending, failed) and the overall result.
  - Lines fit in O(width) columns (100 by default; less when the terminal is narrower). Colors are
    bold and the basic ANSI colors only, with the status also written as a word. No color when
    C(NO_COLOR) is set, C(TERM=dumb), C(ANSIBLE_NOCOLOR) is set or the output is not a terminal
    (CI logs), unless O(color=always) or C(ANSIBLE_FORCE_COLOR).
  - With C(-v) and more, every host's result is shown under its task line as the default callback
    would show it (with the same secret masking), and C(-vvv) adds task paths and exceptions.
  - No secret is printed or written. Results of C(no_log) tasks arrive censored and only their status
    is shown. Vaulted values (inline C(!vault) values and whole vault-encrypted variable files found in
    the inventories' and the playbook's C(group_vars)/C(host_vars), in C(vars_files), and, on
    ansible-core 2.19+, any value loaded from an encrypted file) are replaced by C(********) in every
    line and every report file, wherever they appear (values shorter than 4 characters are not masked).
  - Every run writes the onboarding report into O(report_dir)/<UTC timestamp>/ (C(report.md),
    C(report.html) self-contained, C(report.json), C(junit.xml)) with the run facts, environment
    facts, each precondition and its verdict, what changed where, attended steps pending with their
    instructions, verify results and every task per host.
  - "How modules feed it: a result with C(checks) (a list of {id, status: pass|warn|fail, message,
    remedy}) is a precondition table (a verify table in the Verify phase or for tasks tagged
    C(verify)); C(forests) from M(ems.enable.ad_forest_info) and C(ems_facts) (a dict) are
    environment facts; C(ems_attended_step) comes from M(ems.enable.attended_step)."
  - The phase of a play is its C(ems_phase) variable, else the part of its name before C( | ), else
    the playbook's file name. A task's component is its role (for the attended_step role, the role
    that included it), else the phase.
author:
  - ems.enable contributors (@ems-enable)
requirements:
  - set as the stdout callback (C(stdout_callback = ems.enable.onboarding) in ansible.cfg, or
    C(ANSIBLE_STDOUT_CALLBACK=ems.enable.onboarding))
seealso:
  - plugin: ems.enable.onboarding_report
    plugin_type: callback
  - module: ems.enable.attended_step
extends_documentation_fragment:
  - ems.enable.onboarding_report
options:
  report:
    description: Write the onboarding report at the end of the run.
    type: bool
    default: true
    env:
      - name: EMS_REPORT
    ini:
      - section: ems_onboarding
        key: report
  width:
    description:
      - Widest line, in columns. On a terminal narrower than this, the terminal's width (at least 60).
    type: int
    default: 100
    env:
      - name: EMS_OUTPUT_WIDTH
    ini:
      - section: ems_onboarding
        key: width
  color:
    description:
      - V(auto) colors a terminal unless C(NO_COLOR), C(TERM=dumb) or C(ANSIBLE_NOCOLOR) say otherwise;
        V(always) colors even a pipe (C(NO_COLOR) still wins); V(never) never colors.
    type: str
    choices: [auto, always, never]
    default: auto
    env:
      - name: EMS_OUTPUT_COLOR
    ini:
      - section: ems_onboarding
        key: color
  charset:
    description:
      - Frames and tables with box-drawing characters (V(unicode)) or V(ascii). V(auto) is unicode on
        a UTF-8 stream unless C(TERM=dumb).
    type: str
    choices: [auto, unicode, ascii]
    default: auto
    env:
      - name: EMS_OUTPUT_CHARSET
    ini:
      - section: ems_onboarding
        key: charset
  show_skipped:
    description: Show tasks that every host skipped (one line each).
    type: bool
    default: true
    env:
      - name: EMS_OUTPUT_SHOW_SKIPPED
    ini:
      - section: ems_onboarding
        key: show_skipped
"""

import datetime
import os
import shutil
import sys
import threading

from ansible import context
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.callback import CallbackBase

from ansible_collections.ems.enable.plugins.plugin_utils.onboarding import model as om
from ansible_collections.ems.enable.plugins.plugin_utils.onboarding import text as ot
from ansible_collections.ems.enable.plugins.plugin_utils.onboarding.events import OnboardingEvents

LABELS = {
    "ok": "OK", "changed": "CHANGED", "failed": "FAILED", "skipped": "SKIPPED", "unreachable": "UNREACH",
    "ignored": "IGNORED", "pending": "PENDING",
}
SHORT_RESULT = dict(om.RESULT_WORDS, unreachable="UNREACH")
DEBUG_ACTIONS = frozenset(("debug", "ansible.builtin.debug", "ansible.legacy.debug"))
STATUS_W = 8       # 'CHANGED ' etc.
TIME_W = 7         # '12m 07s'
HOSTS_W = 24
INDENT = "  "
DETAIL = " " * (len(INDENT) + STATUS_W)
MAX_FAILURE_LINES = 8
STILL_RUNNING_FIRST = 15   # seconds before a long task says it is still running ...
STILL_RUNNING_EVERY = 60   # ... and then how often


class CallbackModule(OnboardingEvents, CallbackBase):
    """The screen-share output (see DOCUMENTATION)."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "ems.enable.onboarding"

    def __init__(self, display=None, options=None):
        super().__init__(display=display, options=options)
        self._ev_init()
        self.style = ot.Style(color=False, unicode=False)
        self.width = 100
        self._buffer = []
        self._cur = None
        self._shown_role = None
        self._shown_phase = None
        self._header_done = False
        self._summary_done = False
        self._lock = threading.RLock()
        self._timer = None

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        stream = sys.stdout
        self.style = ot.Style(color=ot.color_wanted(stream, self.get_option("color")),
                              unicode=ot.unicode_wanted(stream, self.get_option("charset")))
        width = int(self.get_option("width") or 100)
        try:
            if stream.isatty():
                width = min(width, shutil.get_terminal_size((width, 24)).columns)
        except (AttributeError, ValueError):
            pass
        self.width = max(60, width)

    # -- output -----------------------------------------------------------------------------
    def _out(self, text=""):
        """Print one or more lines, secrets masked."""
        for line in self.recorder.redactor.text(to_text(text)).split("\n"):
            self._display.display(line)

    def _wrapped(self, text, indent=DETAIL, first=None, color=None):
        first = indent if first is None else first
        lines = ot.wrap(self.recorder.redactor.text(to_text(text)), self.width, indent=first, subsequent=indent)
        for line in lines:
            self._out(self.style.paint(line, color) if color else line)

    @property
    def _verbosity(self):
        return self._display.verbosity

    # -- playbook and plays -----------------------------------------------------------------
    def v2_playbook_on_start(self, playbook):
        self._ev_playbook(playbook)
        self._ev_reserve_report_dir(self.get_option("report") and self.get_option("report_formats"),
                                    self.get_option("report_dir"))
        if self._header_done:
            self._finish_phase()
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        bits = [self.style.bold("ems.enable onboarding"), self.recorder.playbooks[-1], stamp]
        args = context.CLIARGS or {}
        if args.get("check"):
            bits.append(self.style.paint("CHECK MODE: nothing is changed", "yellow"))
        line = "  ".join(bits)
        if ot.visible_width(line) > self.width:
            self._out(self.style.bold("ems.enable onboarding"))
            self._wrapped("  ".join(bits[1:]), indent="  ", first="  ")
        else:
            self._out(line)
        self._header_done = True

    def v2_playbook_on_play_start(self, play):
        self._finish_phase()
        phase = self._ev_play_start(play)
        self._shown_phase = phase
        self._out("")
        title = phase["name"].upper()
        play_name = phase["play"]
        if " | " in play_name and play_name.split(" | ", 1)[0].strip().lower() == phase["name"].lower():
            play_name = play_name.split(" | ", 1)[1]
        if play_name and play_name.lower() != phase["name"].lower():
            title += ": " + play_name
        count = len(phase["hosts"])
        title += "  (%d host%s)" % (count, "" if count == 1 else "s")
        self._out(ot.rule(title, self.width, self.style, color="cyan"))
        if phase["hosts"]:
            hosts = phase["hosts"]
            shown = ", ".join(hosts[:12]) + (" and %d more" % (len(hosts) - 12) if len(hosts) > 12 else "")
            self._wrapped("hosts: " + shown, indent=INDENT + "       ", first=INDENT)

    def _finish_phase(self):
        self._flush_task()
        self._close_role_display()
        phase = self._shown_phase
        if phase is not None:
            took = ot.duration(self.recorder.clock() - phase["started"])
            self._out(INDENT + self.style.bold("%s finished in %s" % (phase["name"], took)))
            self._shown_phase = None

    def v2_playbook_on_no_hosts_matched(self):
        self._out(INDENT + self.style.paint("No hosts matched: nothing to do in this play.", "yellow"))

    def v2_playbook_on_no_hosts_remaining(self):
        self._flush_task()
        self._out(INDENT + self.style.paint("No hosts remaining in this play.", "red"))

    # -- tasks ------------------------------------------------------------------------------
    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._task_start(task, handler=True)

    def v2_playbook_on_cleanup_task_start(self, task):
        self._task_start(task)

    def _task_start(self, task, handler=False):
        self._flush_task()
        record, role_record, closed = self._ev_task_start(task, handler=handler)
        if role_record is not self._shown_role:
            self._close_role_display()
            if role_record["name"]:
                self._out("")
                label = "ROLE %s" % role_record["name"]
                if role_record["component"] and role_record["component"] != role_record["name"]:
                    label += "  (component %s)" % role_record["component"]
                self._out(INDENT + self.style.bold(label))
            self._shown_role = role_record
        self._cur = record
        self._buffer = []
        self._arm_timer(record, STILL_RUNNING_FIRST)
        if self._verbosity >= 3 and record.get("path"):
            self._out(DETAIL + "task path: %s" % record["path"])

    def _arm_timer(self, record, delay):
        """A long task (an AD FS farm install takes minutes) says it is still running, so the
        screen never looks stuck."""
        self._cancel_timer()
        timer = threading.Timer(delay, self._still_running, args=(record,))
        timer.daemon = True
        self._timer = timer
        timer.start()

    def _cancel_timer(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _still_running(self, record):
        with self._lock:
            if self._cur is not record:
                return
            took = ot.duration(self.recorder.clock() - record["started"])
            total = len(self._shown_phase["hosts"]) if self._shown_phase else 0
            done = len(record["hosts"])
            name = ot.truncate(record["name"] or record["action"], 50, self.style.g("ellipsis"))
            text = "%s still running after %s: %s" % (self.style.g("ellipsis"), took, name)
            if total > 1:
                text += " (%d of %d hosts done)" % (done, total)
            self._wrapped(text, indent=DETAIL + "  ", first=INDENT + " " * STATUS_W)
            self._arm_timer(record, STILL_RUNNING_EVERY)

    def _close_role_display(self):
        role = self._shown_role
        self._shown_role = None
        if role is None or not role["name"] or not role["tasks"]:
            return
        took = ot.duration(role["duration"] or 0)
        self._out(INDENT + self.style.g("bl") + self.style.g("h") + " role %s: %s" % (role["name"], took))

    # -- results ----------------------------------------------------------------------------
    def _collect(self, kind, result):
        task = result.task if hasattr(result, "task") else result._task
        if task._uuid not in self.recorder._tasks:  # a result without a start event (implicit task)
            self._task_start(task)
        elif self._cur is None or self._cur["uuid"] != task._uuid:  # strategy free: tasks interleave
            self._flush_task()
            self._cur = self.recorder._tasks[task._uuid]
        recorded = self._ev_result(kind, result)
        host = (result.host if hasattr(result, "host") else result._host).get_name()
        data = result.result if hasattr(result, "result") else result._result
        self._buffer.append((host, recorded, data))

    def v2_runner_on_ok(self, result):
        self._collect("ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._collect("failed", result)

    def v2_runner_on_skipped(self, result):
        self._collect("skipped", result)

    def v2_runner_on_unreachable(self, result):
        self._collect("unreachable", result)

    def v2_runner_on_async_failed(self, result):
        self._collect("failed", result)

    def v2_runner_item_on_ok(self, result):
        self._item(result, "ok")

    def v2_runner_item_on_failed(self, result):
        self._item(result, "failed")

    def v2_runner_item_on_skipped(self, result):
        self._item(result, "skipped")

    def _item(self, result, kind):
        if self._verbosity < 2:
            return
        data = result.result if hasattr(result, "result") else result._result
        host = (result.host if hasattr(result, "host") else result._host).get_name()
        label = data.get("_ansible_item_label", data.get("item"))
        if data.get("_ansible_no_log") or "censored" in data:
            label = "(censored: no_log)"
        self._wrapped("%s (item=%s): %s" % (host, label, kind), indent=DETAIL + "  ")

    def v2_runner_retry(self, result):
        data = result.result if hasattr(result, "result") else result._result
        host = (result.host if hasattr(result, "host") else result._host).get_name()
        task = result.task if hasattr(result, "task") else result._task
        self._wrapped("%s: retrying %s (%s of %s attempts left)"
                      % (host, to_text(task.get_name()), data.get("retries", 0) - data.get("attempts", 0),
                         data.get("retries", 0)), indent=DETAIL, first=INDENT + " " * (STATUS_W + 1))

    def v2_on_file_diff(self, result):
        if not (context.CLIARGS or {}).get("diff"):
            return
        data = result.result if hasattr(result, "result") else result._result
        if data.get("_ansible_no_log") or "censored" in data:
            return
        diff = data.get("diff")
        if diff and data.get("changed"):
            text = self._get_diff(diff)
            if text:
                self._out(self.recorder.redactor.text(text))

    # -- drawing a task ---------------------------------------------------------------------
    def _flush_task(self):
        with self._lock:
            self._cancel_timer()
            self._draw_task()

    def _draw_task(self):
        record, buffer = self._cur, self._buffer
        self._cur, self._buffer = None, []
        if record is None:
            return
        hosts = record["hosts"]
        statuses = [entry["status"] for entry in hosts.values()]
        if not statuses:
            return
        quiet = record.get("quiet") and all(s in ("ok", "skipped") for s in statuses)
        all_skipped = all(s == "skipped" for s in statuses)
        if quiet or (all_skipped and not self.get_option("show_skipped")):
            return
        status = "skipped" if all_skipped else om.worst([s for s in statuses if s != "skipped"])
        self._task_line(record, status, statuses)
        if self._verbosity >= 1:
            self._verbose_results(buffer)
            return
        multi = len(self._shown_phase["hosts"]) > 1 if self._shown_phase else len(hosts) > 1
        if record["action"] in DEBUG_ACTIONS:
            for host, _recorded, data in buffer:
                self._debug_lines(host if multi else None, data)
        for host, recorded, data in buffer:
            entry = recorded["entry"]
            if entry["status"] in ("failed", "unreachable", "ignored") and entry.get("msg"):
                color = "yellow" if entry["status"] == "ignored" else "red"
                self._failure(host, entry["msg"], color)
            if recorded["checks"]:
                self._checks_table(recorded["checks"])
            if recorded["attended"]:
                self._attended(recorded["attended"])
            for warning in _result_warnings(data):
                self._wrapped("%s: %s" % (host, warning), indent=DETAIL + "  ",
                              first=DETAIL + self.style.paint("WARNING", "yellow") + " ")
        changed = sorted(h for h, e in hosts.items() if e["status"] == "changed")
        if changed and len(hosts) > 1 and len(changed) < len(hosts):
            self._wrapped("changed on: " + ", ".join(changed), indent=DETAIL + "  ", first=DETAIL)

    def _failure(self, host, msg, color):
        """A failure message under its task, at most MAX_FAILURE_LINES lines (the rest is in the
        report and at -v)."""
        lines = ot.wrap(self.recorder.redactor.text(to_text(msg)), self.width, indent=DETAIL + "%s: " % host,
                        subsequent=DETAIL + "  ")
        if len(lines) > MAX_FAILURE_LINES:
            hidden = len(lines) - (MAX_FAILURE_LINES - 1)
            lines = lines[:MAX_FAILURE_LINES - 1] + [
                DETAIL + "  %s %d more lines in the report (or run with -v)" % (self.style.g("ellipsis"), hidden)]
        for line in lines:
            self._out(self.style.paint(line, color))

    def _task_line(self, record, status, statuses):
        label = self.style.status(LABELS[status].ljust(STATUS_W - 1), status)
        hosts_text = _hosts_text(record["hosts"], statuses)
        hosts_w = min(HOSTS_W, max(7, ot.visible_width(hosts_text)))
        name_w = self.width - len(INDENT) - STATUS_W - hosts_w - 2 - TIME_W
        name = record["name"] or record["action"]
        if record["handler"]:
            name = "handler: " + name
        name_lines = ot.wrap(name, name_w)
        host_lines = ot.wrap(hosts_text, hosts_w)
        took = ot.duration(record["duration"])
        for index in range(max(len(name_lines), len(host_lines))):
            left = name_lines[index] if index < len(name_lines) else ""
            mid = host_lines[index] if index < len(host_lines) else ""
            lead = INDENT + (label + " " if index == 0 else " " * STATUS_W)
            tail = ot.pad(took, TIME_W, "right") if index == 0 else ""
            self._out((lead + ot.pad(left, name_w) + " " + ot.pad(mid, hosts_w) + " " + tail).rstrip())

    def _debug_lines(self, host, data):
        if data.get("_ansible_no_log") or "censored" in data:
            return
        messages = []
        items = data.get("results") if isinstance(data.get("results"), list) else [data]
        for item in items:
            if not isinstance(item, dict) or item.get("skipped"):
                continue
            if "msg" in item:
                messages.append(item["msg"])
            else:
                for key, value in item.items():
                    if not key.startswith("_") and key not in ("changed", "failed", "item", "ansible_loop_var"):
                        messages.append({key: value})
        for message in messages:
            for line in _as_lines(message):
                named = host and not line.startswith(host)  # 'corp: corp: ...' says it twice
                first = DETAIL + ("%s: " % host if named else "")
                self._wrapped(line, indent=DETAIL + "  ", first=first)

    def _checks_table(self, checks):
        """FAIL and WARN rows in full (finding and remedy), worst first; PASS rows on one line each."""
        counts = om.check_counts(checks)
        summary = "  ".join(self.style.status("%d %s" % (counts[k], k.upper()), k) for k in ("pass", "warn", "fail"))
        kind = "Verify results" if checks[0]["kind"] == "verify" else "Preconditions"
        self._out(DETAIL + self.style.bold(kind) + "  " + summary)
        ordered = om.ordered_checks(checks)
        id_w = min(30, max(max(ot.visible_width(c["id"]) for c in checks),
                           max(ot.visible_width(c["subject"] or "") for c in checks), 12))
        finding_w = self.width - len(INDENT) - 4 - id_w - 10
        rows = []
        for check in ordered:
            subject = check["subject"] or ""
            if check["status"] == "pass":
                finding = ot.truncate(" ".join(check["message"].split()) or subject, finding_w,
                                      self.style.g("ellipsis"))
                rows.append([(check["status"].upper(), check["status"]), check["id"], finding])
                continue
            finding = check["message"] or ""
            if check.get("remedy"):
                finding += "\n%s %s" % (self.style.g("arrow"), check["remedy"])
            rows.append([(check["status"].upper(), check["status"]),
                         check["id"] + ("\n" + subject if subject else ""), finding])
        columns = [
            {"title": "", "min": 4, "max": 4},
            {"title": "Check", "min": id_w, "max": id_w},
            {"title": "Finding and remedy", "min": 30, "weight": 1},
        ]
        for line in ot.table(rows, columns, self.width, self.style, indent=INDENT):
            self._out(line)

    def _attended(self, step):
        if step["status"] != "pending":
            text = "attended step %s on %s: done (%s)" % (step["id"], step["host"], step.get("detection") or "detected")
            self._wrapped(text, indent=DETAIL + "  ", first=DETAIL, color="green")
            return
        self._out("")
        hint = ("Then run the same playbook again (--limit %s is enough): the step is detected and the "
                "run goes on." % step["host"])
        lines = ot.frame(om.attended_title(step, step.get("number")), "host: %s" % step["host"],
                         om.attended_body(step, rerun_hint=hint), self.width, self.style, indent=INDENT)
        for line in lines:
            self._out(line)
        self._out("")

    def _verbose_results(self, buffer):
        for host, recorded, data in buffer:
            status = recorded["status"]
            dumped = self._dump_results(data, indent=4 if self._verbosity > 2 else None)
            self._out(DETAIL + self.style.status("%s: [%s] => " % (status, host), status) + dumped)
            if recorded["checks"]:
                self._checks_table(recorded["checks"])
            if recorded["attended"]:
                self._attended(recorded["attended"])
            if self._verbosity >= 3 and data.get("exception") and not data.get("_ansible_no_log"):
                self._out(to_text(data.get("exception")))

    # -- the end ----------------------------------------------------------------------------
    def v2_playbook_on_stats(self, stats):
        self._finish_phase()
        self._ev_stats(stats)
        written = self._ev_write_reports(self.get_option("report"), self.get_option("report_dir"),
                                         self.get_option("report_formats"))
        self._summary(written)

    def _summary(self, written):
        if self._summary_done:
            return
        self._summary_done = True
        rec = self.recorder
        self._out("")
        self._out(ot.rule("SUMMARY", self.width, self.style, color="cyan"))
        hosts = rec.host_summary()
        if hosts:
            rows = [[h, (SHORT_RESULT[c["result"]], c["result"]), c["ok"],
                     (c["changed"], "changed" if c["changed"] else None),
                     (c["failed"], "failed" if c["failed"] else None),
                     (c["unreachable"], "unreachable" if c["unreachable"] else None),
                     (c["pending"], "pending" if c["pending"] else None), _checks_cell(c)]
                    for h, c in hosts.items()]
            columns = [{"title": "Host", "min": 10, "max": 45, "weight": 1}, {"title": "Result", "min": 7},
                       {"title": "ok", "align": "right"}, {"title": "changed", "align": "right"},
                       {"title": "failed", "align": "right"}, {"title": "unreach", "align": "right"},
                       {"title": "pending", "align": "right"}, {"title": "checks", "min": 6}]
            for line in ot.table(_stringify(rows), columns, self.width, self.style, indent=INDENT):
                self._out(line)
        components = rec.component_summary()
        if components:
            rows = [[n, (SHORT_RESULT[c["result"]], c["result"]), len(c["hosts"]), c["ok"],
                     (c["changed"], "changed" if c["changed"] else None),
                     (c["failed"], "failed" if c["failed"] else None),
                     (c["pending"], "pending" if c["pending"] else None), ot.duration(c["duration"])]
                    for n, c in components.items()]
            columns = [{"title": "Component", "min": 10, "max": 40, "weight": 1}, {"title": "Result", "min": 7},
                       {"title": "hosts", "align": "right"}, {"title": "ok", "align": "right"},
                       {"title": "changed", "align": "right"}, {"title": "failed", "align": "right"},
                       {"title": "pending", "align": "right"}, {"title": "time", "align": "right"}]
            for line in ot.table(_stringify(rows), columns, self.width, self.style, indent=INDENT):
                self._out(line)
        pending = [s for s in rec.attended if s["status"] == "pending"]
        if pending:
            self._out(INDENT + self.style.paint("Attended steps pending (%d): do them, then run again" % len(pending),
                                                "magenta"))
            for step in pending:
                self._wrapped("%d. %s on %s: %s" % (step["number"], step["id"], step["host"], step.get("title") or ""),
                              indent=INDENT + "     ", first=INDENT + "  ")
        if written:
            main = written.get("html") or next(iter(written.values()))
            others = ", ".join(os.path.basename(p) for f, p in written.items() if p != main)
            self._wrapped("Report: %s%s" % (_rel(main), (" (also %s)" % others) if others else ""),
                          indent=INDENT + "        ", first=INDENT)
        overall = rec.overall()
        text = om.headline(overall, hosts, rec.checks, len(pending))
        took = ot.duration(rec.clock() - rec.started)
        self._out(INDENT + self.style.status("RESULT: " + text, overall) + "   (%s)" % took)


def _checks_cell(counts):
    if counts.get("checks_failed"):
        return ("%d FAIL" % counts["checks_failed"], "fail")
    if counts.get("checks_warned"):
        return ("%d WARN" % counts["checks_warned"], "warn")
    return "-"


def _result_warnings(data):
    out = []
    for warning in (data.get("warnings") or []):
        if isinstance(warning, dict):
            warning = warning.get("msg") or warning.get("message") or str(warning)
        out.append(to_text(warning))
    for deprecation in (data.get("deprecations") or []):
        if isinstance(deprecation, dict):
            deprecation = deprecation.get("msg") or str(deprecation)
        out.append("deprecated: %s" % to_text(deprecation))
    return out


def _hosts_text(hosts, statuses):
    if len(hosts) == 1:
        return next(iter(hosts))
    counts = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    if len(counts) == 1:
        return "%d hosts" % len(hosts)
    order = [s for s in om.STATUS_ORDER if s in counts]
    return ", ".join("%d %s" % (counts[s], s) for s in order)


def _as_lines(message):
    if isinstance(message, (list, tuple)):
        return [to_text(m) for m in message]
    if isinstance(message, dict):
        return ["%s: %s" % (k, v) for k, v in message.items()]
    return to_text(message).split("\n")


def _stringify(rows):
    out = []
    for row in rows:
        out.append([(to_text(c[0]), c[1]) if isinstance(c, tuple) else to_text(c) for c in row])
    return out


def _rel(path):
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return rel if not rel.startswith("..") else path
