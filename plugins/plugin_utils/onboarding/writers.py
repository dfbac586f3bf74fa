# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writes the onboarding report model (model.Recorder.model()) to files.

report.md (Markdown), report.html (one self-contained file: inline CSS, no script, no external
asset; prints well), report.json (the model itself) and junit.xml (preconditions, verify results,
attended steps and every task per host as test cases, for CI dashboards).
"""

from __future__ import annotations

import contextlib
import errno
import html
import json
import os
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET

from ansible_collections.ems.enable.plugins.plugin_utils.onboarding import model as om

FORMATS = ("md", "html", "json", "junit")
FILE_NAMES = {"md": "report.md", "html": "report.html", "json": "report.json", "junit": "junit.xml"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\x1b\[[0-9;]*[A-Za-z]")

RESULT_LABELS = {
    "failed": "FAILED", "unreachable": "UNREACHABLE", "pending": "ATTENDED STEP PENDING",
    "changed": "CHANGED", "ok": "DONE", "skipped": "SKIPPED", "ignored": "DONE",
}


def clean(text):
    """Text without ANSI sequences and XML-invalid control characters."""
    return _CONTROL.sub("", "" if text is None else str(text))


def report_directory(base, run_id):
    """A new directory base/run_id (base/run_id-2, -3... when it exists already)."""
    path = os.path.join(base, run_id)
    suffix = 1
    while os.path.exists(path):
        suffix += 1
        path = os.path.join(base, "%s-%d" % (run_id, suffix))
    os.makedirs(path)
    return path


class ReportWriteError(OSError):
    """The report set could not be written; str() is one line with the folder, the cause and the remedy."""

    def __str__(self):
        return str(self.strerror)


def write_reports(model, directory, formats=FORMATS):
    """Write the requested formats into ``directory``; returns {format: path}. Files of the run that
    lie inside ``directory`` (model["files"]) get ``href``, their path relative to it: the reports
    link them so, and never link outside their folder.

    All formats are rendered first, written to new temporary files (mkstemp: O_EXCL|O_NOFOLLOW,
    mode 0600 whatever the umask: the reports name DCs, users and accounts) and renamed into place as
    a set at the end. On any failure no report file of this run remains (temporary or renamed), and a
    report folder left empty is removed: a run has its four files or none."""
    writers = {"md": to_markdown, "html": to_html, "json": to_json, "junit": to_junit}
    model = dict(model, files=[_with_href(f, directory) for f in model.get("files") or []])
    texts = {fmt: writers[fmt](model).encode("utf-8") for fmt in formats if fmt in writers}
    temps, placed = {}, []
    try:
        for fmt, data in texts.items():
            handle, temps[fmt] = tempfile.mkstemp(dir=directory, prefix=".tmp-%s-" % FILE_NAMES[fmt])
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
        for fmt in texts:
            final = os.path.join(directory, FILE_NAMES[fmt])
            os.replace(temps[fmt], final)
            del temps[fmt]
            placed.append(final)
    except OSError as err:
        for path in list(temps.values()) + placed:
            with contextlib.suppress(OSError):
                os.unlink(path)
        with contextlib.suppress(OSError):
            os.rmdir(directory)  # only when empty: the run's other files (readiness CSV) stay
        raise _write_error(directory, err, sum(len(d) for d in texts.values())) from None
    return {fmt: os.path.join(directory, FILE_NAMES[fmt]) for fmt in texts}


def _write_error(directory, err, needed):
    if err.errno == errno.ENOSPC:
        free = None
        with contextlib.suppress(OSError):
            free = shutil.disk_usage(directory).free
        return ReportWriteError(err.errno, "no space left on the device of %s: the reports need %d KB, %s free; "
                                "no report file of this run was kept. Free that space or set the report "
                                "directory on a larger file system." % (
                                    directory, (needed + 1023) // 1024,
                                    "unknown" if free is None else "%d KB" % (free // 1024)))
    return ReportWriteError(err.errno, "%s: %s; no report file of this run was kept." % (
        directory, " ".join(str(err.strerror or err).split())))


def _with_href(entry, directory):
    entry = dict(entry)
    entry.pop("href", None)
    base = os.path.realpath(directory)
    path = os.path.realpath(os.path.join(base, entry["path"]))
    if path.startswith(base + os.sep):
        entry["href"] = os.path.relpath(path, base).replace(os.sep, "/")
    return entry


def _fmt_duration(seconds):
    if seconds is None:
        return ""
    if seconds < 60:
        return "%.1fs" % seconds
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return "%dm %02ds" % (minutes, secs)
    hours, minutes = divmod(minutes, 60)
    return "%dh %02dm" % (hours, minutes)


def _join(value):
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) if value else "-"
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _run_facts(model):
    run = model["run"]
    counts = run.get("checks") or {}
    facts = [
        ("Result", run.get("headline") or RESULT_LABELS.get(run.get("result"), str(run.get("result")).upper())),
        ("Checks", "%d FAIL, %d WARN, %d PASS" % (counts.get("fail", 0), counts.get("warn", 0), counts.get("pass", 0))),
        ("Run", run.get("id")),
        ("Playbooks", _join(run.get("playbooks"))),
        ("Started", run.get("started")),
        ("Finished", run.get("finished")),
        ("Duration", _fmt_duration(run.get("duration"))),
    ]
    for key, label in (("customer", "Customer"), ("check_mode", "Check mode"), ("inventory", "Inventory"),
                       ("limit", "Limit"),
                       ("tags", "Tags"), ("controller", "Controller"), ("user", "Run by"),
                       ("ansible_version", "ansible-core"), ("collection_version", "ems.enable")):
        if run.get(key) not in (None, "", []):
            facts.append((label, _join(run.get(key))))
    return facts


def _task_host_text(task):
    parts = []
    for host, entry in sorted(task["hosts"].items()):
        parts.append("%s: %s" % (host, entry["status"]))
    return ", ".join(parts) or "-"


# ------------------------------------------------------------------------------------------------
# JSON
# ------------------------------------------------------------------------------------------------

def to_json(model):
    return json.dumps(model, indent=2, sort_keys=False, ensure_ascii=False, default=str) + "\n"


# ------------------------------------------------------------------------------------------------
# Markdown
# ------------------------------------------------------------------------------------------------

def _md(text):
    text = clean(text).replace("\r", "")
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\n", "<br>")


def _md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _column in header) + "|"]
    for row in rows:
        out.append("| " + " | ".join(_md(c) for c in row) + " |")
    return out


def _files_rows(model):
    """(kind, host, task, href or None, path) of every file the run wrote for the report."""
    return [(f["kind"], f["host"], f.get("task") or "", f.get("href"), f["path"]) for f in model.get("files") or []]


def to_markdown(model):
    run = model["run"]
    out = ["# %s" % _md(om.report_title(model)), "",
           "**%s**" % _md(run.get("headline") or RESULT_LABELS.get(run.get("result"), "")), ""]
    out += _md_table(["", ""], list(_run_facts(model)))
    out.append("")

    out += ["## Summary", "", "### Hosts", ""]
    out += _md_table(["host", "result", "ok", "changed", "failed", "unreachable", "skipped", "pending",
                      "checks failed", "checks warned"],
                     [(h, RESULT_LABELS.get(c["result"], c["result"]), c["ok"], c["changed"], c["failed"],
                       c["unreachable"], c["skipped"], c["pending"], c.get("checks_failed", 0),
                       c.get("checks_warned", 0)) for h, c in model["hosts"].items()])
    out += ["", "### Components", ""]
    out += _md_table(["component", "result", "hosts", "ok", "changed", "failed", "pending", "time"],
                     [(n, RESULT_LABELS.get(c["result"], c["result"]), _join(c["hosts"]), c["ok"], c["changed"],
                       c["failed"], c["pending"], _fmt_duration(c["duration"]))
                      for n, c in model["components"].items()])
    out.append("")

    pending = [s for s in model["attended_steps"] if s["status"] == "pending"]
    out += ["## Attended steps pending", ""]
    if not pending:
        out += ["None.", ""]
    for step in pending:
        out += ["### %d. %s on %s" % (step.get("number") or 0, _md(step["id"]), _md(step["host"])), "",
                "**%s** (component %s)" % (_md(step.get("title")), _md(step.get("component"))), ""]
        for index, text in enumerate(step.get("instructions") or [], 1):
            out.append("%d. %s" % (index, _md(text)))
        out.append("")
        if step.get("values"):
            out += _md_table(["value", "from the inventory"], list(step["values"].items()))
            out.append("")
        if step.get("detection"):
            out += ["Done when: %s" % _md(step["detection"]), ""]
    done = [s for s in model["attended_steps"] if s["status"] != "pending"]
    if done:
        out += ["Attended steps found done: " + ", ".join("%s on %s" % (_md(s["id"]), _md(s["host"])) for s in done), ""]

    out += ["## Environment", ""]
    forests = model["environment"].get("forests") or []
    if forests:
        out += _md_table(["forest", "forest level", "schema", "domains", "DCs", "trusts", "UPN suffixes",
                          "objects"],
                         [(f["forest"], f["forest_level"], f["schema"], _join(f["domains"]),
                           _join(f["domain_controllers"]), _join(f["trusts"]), _join(f["upn_suffixes"]),
                           _join(f["objects"])) for f in forests])
        out.append("")
    for host, facts in sorted((model["environment"].get("hosts") or {}).items()):
        out += ["**%s**" % _md(host), ""]
        out += _md_table(["fact", "value"], [(k, _join(v)) for k, v in facts.items()])
        out.append("")
    if not forests and not model["environment"].get("hosts"):
        out += ["No environment facts were gathered in this run.", ""]

    for title, checks in (("Preconditions", model["checks"]), ("Verify results", model["verify"])):
        out += ["## %s" % title, ""]
        if checks:
            out += _md_table(["verdict", "check", "subject", "message", "remedy"],
                             [(c["status"].upper(), c["id"], c["subject"], c["message"], c.get("remedy") or "")
                              for c in checks])
        else:
            out.append("None in this run.")
        out.append("")

    files = _files_rows(model)
    if files:
        out += ["## Files of this run", ""]
        out += ["| file | host | task |", "|---|---|---|"]
        for kind, host, task, href, path in files:
            name = "[%s](%s)" % (_md(href), href.replace(" ", "%20").replace(")", "%29")) if href else _md(path)
            out.append("| %s (%s) | %s | %s |" % (name, _md(kind), _md(host), _md(task)))
        out.append("")

    out += ["## What changed where", ""]
    if model["changes"]:
        out += _md_table(["host", "component", "task", "detail"],
                         [(c["host"], c["component"] or "-", c["task"], c.get("msg") or "") for c in model["changes"]])
    else:
        out.append("Nothing changed.")
    out.append("")

    if model["warnings"]:
        out += ["## Warnings", ""]
        out += _md_table(["host", "task", "warning"], [(w["host"], w["task"] or "", w["msg"]) for w in model["warnings"]])
        out.append("")

    out += ["## Tasks", ""]
    for phase in model["phases"]:
        out += ["### %s: %s (%s)" % (_md(phase["name"]), _md(phase["play"]), _fmt_duration(phase["duration"])), ""]
        rows = []
        for role in phase["roles"]:
            for task in role["tasks"]:
                rows.append((role["name"] or "-", task["name"], _task_host_text(task), _fmt_duration(task["duration"])))
        out += _md_table(["role", "task", "hosts", "time"], rows) if rows else ["No tasks ran."]
        out.append("")
    return "\n".join(out)


# ------------------------------------------------------------------------------------------------
# HTML (self-contained)
# ------------------------------------------------------------------------------------------------

_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;margin:2rem auto;
max-width:72rem;padding:0 1rem;color:#111;background:#fff;line-height:1.4}
h1{font-size:1.7rem;margin-bottom:.2rem}h2{border-bottom:2px solid #222;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:.6rem 0 1rem;font-size:.92rem}
th,td{border:1px solid #999;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#e8e8e8}td.num{text-align:right}
table.facts{width:auto}table.facts th{background:none;border:none;padding-right:1.5rem}
table.facts td{border:none}
.badge{display:inline-block;font-weight:bold;padding:.05rem .45rem;border-radius:.25rem;color:#fff;
font-size:.85rem;white-space:nowrap}
.s-pass,.s-ok,.s-done{background:#1a7f37}.s-warn,.s-changed,.s-ignored,.s-rescued{background:#9a6700}
.s-fail,.s-failed,.s-unreachable{background:#c62828}.s-pending{background:#7b1fa2}.s-skipped{background:#0b6e8a}
.step{border:3px double #7b1fa2;padding:.4rem 1rem;margin:1rem 0;page-break-inside:avoid}
.step h3{margin:.4rem 0}.step ol li{margin:.2rem 0}
.headline{font-size:1.15rem;font-weight:bold;margin:.2rem 0 .8rem}.muted{color:#333}code{font-family:"DejaVu Sans Mono",Consolas,monospace;font-size:.9em}
@media print{body{margin:0;max-width:none}.badge{border:1px solid #000;color:#000;background:none}}
"""


def _h(text):
    return html.escape(clean(text)).replace("\n", "<br>")


def _badge(status, label=None):
    status = str(status or "").lower()
    return '<span class="badge s-%s">%s</span>' % (html.escape(status), _h(label or status.upper()))


def _html_table(header, rows, numeric=()):
    out = ["<table><thead><tr>" + "".join("<th>%s</th>" % _h(h) for h in header) + "</tr></thead><tbody>"]
    for row in rows:
        cells = []
        for index, cell in enumerate(row):
            if isinstance(cell, tuple) and cell and cell[0] == "__html__":
                cells.append("<td>%s</td>" % cell[1])
            else:
                cls = ' class="num"' if index in numeric else ""
                cells.append("<td%s>%s</td>" % (cls, _h(cell)))
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _raw(markup):
    return ("__html__", markup)


def to_html(model):
    run = model["run"]
    result = run.get("result")
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>%s</title>" % _h(om.report_title(model)), "<style>%s</style>" % _CSS, "</head><body>",
        "<h1>%s</h1>" % _h(om.report_title(model)),
        '<p class="headline">%s %s</p>' % (_badge(result, RESULT_LABELS.get(result)), _h(run.get("headline") or "")),
        '<table class="facts">' + "".join("<tr><th>%s</th><td>%s</td></tr>" % (_h(k), _h(v))
                                          for k, v in _run_facts(model)) + "</table>",
        "<h2>Summary</h2><h3>Hosts</h3>",
        _html_table(["host", "result", "ok", "changed", "failed", "unreachable", "skipped", "pending",
                     "checks failed", "checks warned"],
                    [(h, _raw(_badge(c["result"], RESULT_LABELS.get(c["result"]))), c["ok"], c["changed"],
                      c["failed"], c["unreachable"], c["skipped"], c["pending"], c.get("checks_failed", 0),
                      c.get("checks_warned", 0)) for h, c in model["hosts"].items()],
                    numeric=(2, 3, 4, 5, 6, 7, 8, 9)),
        "<h3>Components</h3>",
        _html_table(["component", "result", "hosts", "ok", "changed", "failed", "pending", "time"],
                    [(n, _raw(_badge(c["result"], RESULT_LABELS.get(c["result"]))), _join(c["hosts"]), c["ok"],
                      c["changed"], c["failed"], c["pending"], _fmt_duration(c["duration"]))
                     for n, c in model["components"].items()], numeric=(3, 4, 5, 6, 7)),
    ]

    parts.append("<h2>Attended steps pending</h2>")
    pending = [s for s in model["attended_steps"] if s["status"] == "pending"]
    if not pending:
        parts.append("<p>None.</p>")
    for step in pending:
        block = ['<div class="step" id="step-%s">' % _h(step.get("number")),
                 "<h3>%s %d. %s on %s</h3>" % (_badge("pending", "PENDING"), step.get("number") or 0,
                                               _h(step["id"]), _h(step["host"])),
                 "<p><strong>%s</strong> <span class=\"muted\">(component %s)</span></p>"
                 % (_h(step.get("title")), _h(step.get("component"))),
                 "<ol>" + "".join("<li>%s</li>" % _h(i) for i in step.get("instructions") or []) + "</ol>"]
        if step.get("values"):
            block.append(_html_table(["value", "from the inventory"], [(k, _join(v)) for k, v in step["values"].items()]))
        if step.get("detection"):
            block.append("<p>Done when: %s</p>" % _h(step["detection"]))
        if step.get("doc_url"):
            block.append("<p>Reference: %s</p>" % _h(step["doc_url"]))
        block.append("</div>")
        parts.extend(block)
    done = [s for s in model["attended_steps"] if s["status"] != "pending"]
    if done:
        parts.append("<p>Attended steps found done: %s</p>"
                     % _h(", ".join("%s on %s" % (s["id"], s["host"]) for s in done)))

    parts.append("<h2>Environment</h2>")
    forests = model["environment"].get("forests") or []
    if forests:
        parts.append(_html_table(
            ["forest", "forest level", "schema", "domains", "DCs", "trusts", "UPN suffixes", "KDS key", "objects"],
            [(f["forest"], f["forest_level"], f["schema"], _join(f["domains"]), _join(f["domain_controllers"]),
              _join(f["trusts"]), _join(f["upn_suffixes"]), _join(f["kds_root_key"]), _join(f["objects"]))
             for f in forests]))
    for host, facts in sorted((model["environment"].get("hosts") or {}).items()):
        parts.append("<h3>%s</h3>" % _h(host))
        parts.append(_html_table(["fact", "value"], [(k, _join(v)) for k, v in facts.items()]))
    if not forests and not model["environment"].get("hosts"):
        parts.append("<p>No environment facts were gathered in this run.</p>")

    for title, checks, anchor in (("Preconditions", model["checks"], "preconditions"),
                                  ("Verify results", model["verify"], "verify")):
        parts.append('<h2 id="%s">%s</h2>' % (anchor, title))
        if checks:
            parts.append(_html_table(
                ["verdict", "check", "subject", "message", "remedy"],
                [(_raw(_badge(c["status"])), c["id"], c["subject"], c["message"], c.get("remedy") or "")
                 for c in checks]))
        else:
            parts.append("<p>None in this run.</p>")

    files = _files_rows(model)
    if files:
        parts.append('<h2 id="files">Files of this run</h2>')
        parts.append(_html_table(
            ["file", "host", "task"],
            [(_raw('<a href="%s">%s</a>' % (html.escape(href, quote=True), _h(href)) if href else _h(path)), host, task)
             for _kind, host, task, href, path in files]))

    parts.append("<h2>What changed where</h2>")
    if model["changes"]:
        parts.append(_html_table(["host", "component", "task", "detail"],
                                 [(c["host"], c["component"] or "-", c["task"], c.get("msg") or "")
                                  for c in model["changes"]]))
    else:
        parts.append("<p>Nothing changed.</p>")

    if model["warnings"]:
        parts.append("<h2>Warnings</h2>")
        parts.append(_html_table(["host", "task", "warning"],
                                 [(w["host"], w["task"] or "", w["msg"]) for w in model["warnings"]]))

    parts.append("<h2>Tasks</h2>")
    for phase in model["phases"]:
        parts.append("<h3>%s: %s <span class=\"muted\">(%s)</span></h3>"
                     % (_h(phase["name"]), _h(phase["play"]), _h(_fmt_duration(phase["duration"]))))
        rows = []
        for role in phase["roles"]:
            for task in role["tasks"]:
                badges = " ".join("%s&nbsp;%s" % (_h(host), _badge(entry["status"]))
                                  for host, entry in sorted(task["hosts"].items()))
                rows.append((role["name"] or "-", task["name"], _raw(badges or "-"), _fmt_duration(task["duration"])))
        parts.append(_html_table(["role", "task", "hosts", "time"], rows) if rows else "<p>No tasks ran.</p>")
    parts.append("<p class=\"muted\">Written by the ems.enable onboarding callback (report schema %s).</p>"
                 % _h(model["schema"]))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# ------------------------------------------------------------------------------------------------
# JUnit XML
# ------------------------------------------------------------------------------------------------

class _Suite:
    """A <testsuite> element and its counters."""

    def __init__(self, parent, name):
        self.element = ET.SubElement(parent, "testsuite", name=clean(name))
        self.counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}


def _suite(parent, name, suites):
    suite = _Suite(parent, name)
    suites.append(suite)
    return suite


def _case(suite, classname, name, time_s=None):
    case = ET.SubElement(suite.element, "testcase", classname=clean(classname), name=clean(name))
    if time_s is not None:
        case.set("time", "%.3f" % time_s)
        suite.counts["time"] += time_s
    suite.counts["tests"] += 1
    return case


def _child(suite, case, tag, message, text=None):
    key = {"failure": "failures", "error": "errors", "skipped": "skipped"}[tag]
    suite.counts[key] += 1
    element = ET.SubElement(case, tag, message=clean(message)[:1000])
    if tag != "skipped":
        element.set("type", tag)
    if text:
        element.text = clean(text)
    return element


def to_junit(model):
    root = ET.Element("testsuites", name="ems.enable onboarding %s" % model["run"]["id"])
    suites = []
    for title, checks in (("preconditions", model["checks"]), ("verify", model["verify"])):
        suite = _suite(root, title, suites)
        for check in checks:
            case = _case(suite, "%s.%s" % (title, check.get("requirement") or check.get("phase") or "checks"),
                         "%s [%s]" % (check["id"], check["subject"]))
            detail = check["message"] + ("\nRemedy: %s" % check["remedy"] if check.get("remedy") else "")
            if check["status"] == "fail":
                _child(suite, case, "failure", check["message"], detail)
            elif check["status"] == "warn":
                ET.SubElement(case, "system-out").text = clean("WARN: " + detail)
    suite = _suite(root, "attended steps", suites)
    for step in model["attended_steps"]:
        case = _case(suite, "attended.%s" % (step.get("component") or "steps"), "%s [%s]" % (step["id"], step["host"]))
        if step["status"] == "pending":
            _child(suite, case, "skipped", "attended step pending: %s" % (step.get("title") or step["id"]))
            ET.SubElement(case, "system-out").text = clean(
                "\n".join("%d. %s" % (i, t) for i, t in enumerate(step.get("instructions") or [], 1)))
    for phase in model["phases"]:
        suite = _suite(root, "%s: %s" % (phase["name"], phase["play"]), suites)
        for role in phase["roles"]:
            classname = "%s.%s" % (phase["key"], role["name"] or role["component"] or "play")
            for task in role["tasks"]:
                for host, entry in sorted(task["hosts"].items()):
                    case = _case(suite, classname, "%s [%s]" % (task["name"], host), task["duration"])
                    status = entry["status"]
                    msg = entry.get("msg") or status
                    if status == "failed":
                        _child(suite, case, "failure", msg.split("\n")[0], msg)
                    elif status == "unreachable":
                        _child(suite, case, "error", msg.split("\n")[0], msg)
                    elif status == "skipped":
                        _child(suite, case, "skipped", entry.get("msg") or "skipped")
                    elif status == "pending":
                        _child(suite, case, "skipped", "attended step pending")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
    for suite in suites:
        for key, value in suite.counts.items():
            suite.element.set(key, "%.3f" % value if key == "time" else str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, "%.3f" % value if key == "time" else str(value))
    if hasattr(ET, "indent"):  # Python 3.9+
        ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
