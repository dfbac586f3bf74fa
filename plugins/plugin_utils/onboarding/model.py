# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The onboarding run as data: what the screen shows and what the report keeps.

``Recorder`` turns callback events (given as plain dicts, no Ansible objects) into one report
model, ``Redactor`` masks secrets in everything that leaves the process, and ``attended_body``
lays out an attended step's instruction block for any output. The callback plugins
(plugins/callback/onboarding.py, onboarding_report.py) feed the recorder; onboarding_report.py in
this directory writes the model to Markdown, HTML, JSON and JUnit XML.

What a task result may carry (the contract for the collection's modules and roles):

- ``checks``: list of {id, status: pass|warn|fail, message, remedy, requirement?, forest?, host?}
  -> a precondition table (a verify table when the task is tagged ``verify`` or runs in the Verify
  phase). ems.enable.ad_preflight returns it; any role's precondition module should too.
- ``forests``: the forest facts of ems.enable.ad_forest_info -> the report's environment section.
- ``ems_facts``: {label: value} -> environment facts of that host (e.g. a detected product version).
- ``ems_attended_step``: the record of ems.enable.attended_step (see plugins/modules/attended_step.py).
- ``reports``: {format: path} of files the task wrote on the controller (e.g. the directory
  readiness CSV and JSON) -> the report's files section, linked relatively when they lie inside
  the run's report directory (the callback exports that directory as EMS_RUN_REPORT_DIR).
"""

from __future__ import annotations

import datetime
import time

REPORT_SCHEMA = "ems.enable/onboarding-report/1"
MASK = "********"

# severity order, worst first: a task's (or host's) overall status is the worst of its parts
STATUS_ORDER = ("failed", "unreachable", "pending", "changed", "ignored", "ok", "skipped")
RESULT_WORDS = {
    "failed": "FAILED",
    "unreachable": "UNREACHABLE",
    "pending": "PENDING",
    "changed": "CHANGED",
    "ignored": "DONE",
    "ok": "DONE",
    "skipped": "SKIPPED",
}


def worst(statuses, default="ok"):
    present = set(statuses)
    for status in STATUS_ORDER:
        if status in present:
            return status
    return default


#: precondition and verify rows, worst first: the terminal's table and the reports list FAIL, then
#: WARN, then PASS rows (stable within a verdict)
CHECK_ORDER = {"fail": 0, "warn": 1, "pass": 2}


def ordered_checks(checks):
    return sorted(checks, key=lambda c: CHECK_ORDER.get(c["status"], 1))


def check_counts(checks):
    counts = {"fail": 0, "warn": 0, "pass": 0}
    for check in checks:
        counts[check["status"]] = counts.get(check["status"], 0) + 1
    return counts


def _plural(count, word):
    return "%d %s%s" % (count, word, "" if count == 1 else "s")


def headline(overall, hosts, checks, pending):
    """The run's result in one line, the same on the terminal and at the top of the reports:
    e.g. "DONE with 2 warnings, nothing changed", "FAILED on 1 host: 1 check failed, 2 warnings".
    ``hosts``: host_summary(); ``checks``: every precondition and verify row; ``pending``: the
    number of attended steps pending."""
    counts = check_counts(checks)
    failed_hosts = sum(1 for c in hosts.values() if c["result"] in ("failed", "unreachable"))
    notes = []
    if counts["fail"]:
        notes.append(_plural(counts["fail"], "check") + " failed")
    if counts["warn"]:
        notes.append(_plural(counts["warn"], "warning"))
    if overall == "failed":
        return "FAILED on %s%s" % (_plural(failed_hosts, "host"), (": " + ", ".join(notes)) if notes else "")
    if overall == "unreachable":
        return "FAILED: %s unreachable%s" % (_plural(failed_hosts, "host"), (", " + ", ".join(notes)) if notes else "")
    warned = (" with " + _plural(counts["warn"], "warning")) if counts["warn"] else ""
    if overall == "pending":
        return "ATTENDED STEP PENDING%s: %s to do, nothing failed" % (warned, _plural(pending, "step"))
    return "DONE%s, %s" % (warned, {"changed": "with changes", "ok": "nothing changed"}.get(overall, "nothing to do"))


def report_title(model):
    """'Onboarding report: <customer or inventory> - forests a, b' (the customer is the
    inventory variable ems_customer; else the inventory's directory or file name)."""
    run = model["run"]
    who = run.get("customer")
    if not who:
        for source in run.get("inventory") or []:
            source = str(source).rstrip("/")
            base = source.rsplit("/", 1)[-1]
            if base.rsplit(".", 1)[0] in ("hosts", "inventory") and "/" in source:
                base = source.rsplit("/", 2)[-2]  # inventories/acme/hosts.yml -> acme
            who = "inventory %s" % base
            break
    forests = [f["forest"] for f in (model.get("environment") or {}).get("forests") or []]
    title = "Onboarding report: %s" % (who or "this run")
    if forests:
        title += " - forest%s %s" % ("" if len(forests) == 1 else "s", ", ".join(forests))
    return title


def utc_iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_id(ts):
    """The report directory name: a UTC timestamp that sorts and has no ':' (Windows shares)."""
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


# ------------------------------------------------------------------------------------------------
# Secrets
# ------------------------------------------------------------------------------------------------

class Redactor:
    """Masks known secret values in strings and nested data.

    Secrets are the plaintexts of vaulted values (added by the callback from the play's variables)
    and anything added explicitly. Values shorter than MIN_LENGTH are not masked (masking 'yes' or
    '443' everywhere would garble the output); templates ('{{ ... }}') are not values.
    """

    MIN_LENGTH = 4

    def __init__(self):
        self._secrets = set()
        self._ordered = []

    def __len__(self):
        return len(self._secrets)

    def add(self, value):
        if not isinstance(value, str):
            return
        value = str(value)
        candidates = {value, value.strip()}
        if "\n" in value:  # keys and certificates: mask every substantial line too
            candidates.update(line.strip() for line in value.splitlines() if len(line.strip()) >= 8)
        added = False
        for candidate in candidates:
            if len(candidate) >= self.MIN_LENGTH and "{{" not in candidate and candidate not in self._secrets:
                self._secrets.add(candidate)
                added = True
        if added:
            self._ordered = sorted(self._secrets, key=len, reverse=True)

    def text(self, text):
        if not self._ordered or not isinstance(text, str):
            return text
        for secret in self._ordered:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def data(self, obj):
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, dict):
            return {self.text(k) if isinstance(k, str) else k: self.data(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple, set, frozenset)):
            return [self.data(v) for v in obj]
        return obj


# ------------------------------------------------------------------------------------------------
# Attended steps
# ------------------------------------------------------------------------------------------------

def attended_title(step, number=None):
    head = "ATTENDED STEP" if number is None else "ATTENDED STEP %d" % number
    return "%s: %s" % (head, step.get("id", "?"))


def attended_body(step, rerun_hint=None):
    """The block's body as (text, hanging indent) lines: title, numbered instructions, values,
    how completion is detected, what to do next."""
    body = [step.get("title") or step.get("id", ""), ""]
    instructions = step.get("instructions") or []
    width = len(str(len(instructions)))
    for index, text in enumerate(instructions, 1):
        label = "%*d. " % (width, index)
        body.append((label + str(text), " " * len(label)))
    values = step.get("values") or {}
    if values:
        body.append("")
        body.append("Values from the inventory:")
        key_width = min(30, max(len(str(k)) for k in values))
        for key, value in values.items():
            label = "  %-*s  " % (key_width, key)
            body.append((label + _plain(value), " " * len(label)))
    detection = step.get("detection")
    if detection:
        body.append("")
        body.append(("Done when: " + detection, "           "))
    if step.get("doc_url"):
        body.append(("Reference: " + step["doc_url"], "           "))
    body.append("")
    body.append(rerun_hint or "Then run the same playbook again: the step is detected and the run goes on.")
    return body


def attended_plain(step, number=None, width=100):
    """The whole block as plain text (the action's msg, for any stdout callback)."""
    from ansible_collections.ems.enable.plugins.plugin_utils.onboarding import text as ot

    style = ot.Style(color=False, unicode=False)
    host = step.get("host")
    return "\n".join(ot.frame(attended_title(step, number), "host: %s" % host if host else "",
                              attended_body(step), width, style, indent=""))


def _plain(value):
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join("%s=%s" % (k, v) for k, v in value.items())
    return str(value)


# ------------------------------------------------------------------------------------------------
# Environment facts
# ------------------------------------------------------------------------------------------------

def forest_summary(forest):
    """One row of environment facts from an ad_forest_info forest entry."""
    def name(level):
        return (level or {}).get("name") if isinstance(level, dict) else level

    counts = forest.get("object_counts") or {}
    suffixes = forest.get("upn_suffixes") or []
    exchange = forest.get("exchange") or {}
    return {
        "forest": forest.get("forest"),
        "forest_level": name(forest.get("forest_level")),
        "domain_level": name(forest.get("domain_level")),
        "schema": (forest.get("schema") or {}).get("name") if isinstance(forest.get("schema"), dict)
        else forest.get("schema"),
        "domains": [d.get("dns_name") for d in forest.get("domains") or [] if isinstance(d, dict)],
        "domain_controllers": [d.get("dns_host_name") or d.get("name")
                               for d in forest.get("domain_controllers") or [] if isinstance(d, dict)],
        "trusts": ["%s (%s, %s)" % (t.get("partner"), t.get("kind") or t.get("type"), t.get("direction"))
                   for t in forest.get("trusts") or [] if isinstance(t, dict)],
        "upn_suffixes": ["%s%s" % (s.get("suffix"), "" if s.get("routable") else " (not routable)")
                         for s in suffixes if isinstance(s, dict)],
        "kds_root_key": bool((forest.get("kds_root_key") or {}).get("present")),
        "exchange": exchange.get("organization") if isinstance(exchange, dict) else None,
        "objects": counts.get("total") if isinstance(counts, dict) else None,
        "queried_dc": forest.get("queried_dc"),
    }


# ------------------------------------------------------------------------------------------------
# The recorder
# ------------------------------------------------------------------------------------------------

class Recorder:
    """Collects one ansible-playbook run. Every method takes plain data; nothing here imports Ansible.

    Events: playbook(), play(), task(), result(), stats(), finish(). ``result`` returns what the
    display needs to know about that result (checks, attended step) so the callback and the report
    agree on it.
    """

    def __init__(self, redactor=None, clock=time.time):
        self.redactor = redactor or Redactor()
        self.clock = clock
        self.started = clock()
        self.finished = None
        self.meta = {}
        self.playbooks = []
        self.phases = []
        self.checks = []
        self.changes = []
        self.attended = []
        self.warnings = []
        self.files = []
        self.environment = {"forests": [], "hosts": {}}
        self.host_stats = {}
        self.pending_hosts = {}
        self._tasks = {}
        self._phase = None
        self._role = None
        self._task = None

    # -- structure ----------------------------------------------------------------------------
    def playbook(self, path):
        self.playbooks.append(path)

    def play(self, name, phase, phase_key, hosts, check_mode=False):
        self._close_role()
        self._close_phase()
        self._phase = {
            "name": phase, "key": phase_key, "play": name, "hosts": list(hosts),
            "started": self.clock(), "duration": None, "roles": [], "check_mode": bool(check_mode),
        }
        self.phases.append(self._phase)
        self._role = None
        return self._phase

    def task(self, uuid, name, role, component, action, tags=(), handler=False, path=None):
        """Start a task; returns (role record, closed role record or None) so the caller can print
        role timing when the role changes."""
        if self._phase is None:
            self.play("(no play)", "Run", "run", [])
        closed = None
        key = (role or "", component or "")
        if self._role is None or (self._role["name"] or "", self._role["component"] or "") != key:
            closed = self._close_role()
            self._role = {"name": role, "component": component, "started": self.clock(),
                          "duration": None, "tasks": []}
            self._phase["roles"].append(self._role)
        record = {
            "uuid": uuid, "name": self.redactor.text(name), "action": action, "role": role,
            "component": component, "tags": sorted(set(tags or ())), "handler": bool(handler),
            "path": path, "started": self.clock(), "duration": None, "hosts": {},
            "phase": self._phase["name"], "_role": self._role,
        }
        self._role["tasks"].append(record)
        self._tasks[uuid] = record
        self._task = record
        return self._role, closed

    def current_task(self):
        return self._task

    # -- results --------------------------------------------------------------------------------
    def result(self, uuid, host, status, result):
        """Record one host's result of a task. ``status``: ok, changed, failed, skipped,
        unreachable, ignored. ``result``: the (censored when no_log) result dict."""
        task = self._tasks.get(uuid) or self._task
        result = self.redactor.data(result or {})
        now = self.clock()
        no_log = bool(result.get("_ansible_no_log")) or "censored" in result
        entry = {"status": status, "no_log": no_log}
        msg = _message(result, status)
        if msg:
            entry["msg"] = msg
        if isinstance(result.get("results"), list):
            entry["items"] = len(result["results"])
        out = {"checks": [], "attended": None, "entry": entry}

        if not no_log:
            out["checks"] = self._record_checks(task, host, result)
            forests = result.get("forests")
            if isinstance(forests, list) and task and task["action"] and "ad_forest_info" in task["action"]:
                for forest in forests:
                    if isinstance(forest, dict) and forest.get("forest"):
                        summary = forest_summary(forest)
                        self.environment["forests"] = [f for f in self.environment["forests"]
                                                       if f["forest"] != summary["forest"]] + [summary]
            facts = result.get("ems_facts")
            if isinstance(facts, dict):
                self.environment["hosts"].setdefault(host, {}).update(facts)
            step = result.get("ems_attended_step")
            if isinstance(step, dict) and status not in ("failed", "unreachable", "skipped"):
                out["attended"] = self._record_attended(task, host, step)
                if out["attended"]["status"] == "pending":
                    status = entry["status"] = "pending"
            for warning in _warnings(result):
                self.warnings.append({"host": host, "task": task and task["name"], "msg": warning})
            files = result.get("reports")
            if isinstance(files, dict) and status not in ("failed", "unreachable", "skipped"):
                for kind, path in sorted(files.items()):
                    if isinstance(path, str) and path:
                        self.files = [f for f in self.files if f["path"] != path]
                        self.files.append({"host": host, "task": task and task["name"], "kind": str(kind),
                                           "path": path})
        if status == "changed" and task:
            self.changes.append({"host": host, "phase": task["phase"], "component": task["component"],
                                 "role": task["role"], "task": task["name"], "msg": entry.get("msg")})
        if task:
            previous = task["hosts"].get(host)
            if previous:  # loops or handlers may report a host twice: keep the worst
                entry["status"] = worst([previous["status"], entry["status"]])
            task["hosts"][host] = entry
            task["duration"] = now - task["started"]
            task["_role"]["duration"] = now - task["_role"]["started"]
        if self._phase:
            self._phase["duration"] = now - self._phase["started"]
        out["status"] = entry["status"]
        return out

    def _record_checks(self, task, host, result):
        checks = result.get("checks")
        if not isinstance(checks, list):
            return []
        kind = "verify" if task and ("verify" in task["tags"] or (self._phase and self._phase["key"] == "verify")) \
            else "precondition"
        recorded = []
        for check in checks:
            if not isinstance(check, dict) or "status" not in check:
                continue
            status = str(check.get("status")).lower()
            row = {
                "kind": kind, "id": check.get("id") or check.get("name") or "check",
                "requirement": check.get("requirement"), "subject": check.get("forest") or check.get("host") or host,
                "status": status if status in ("pass", "warn", "fail") else "warn",
                "message": check.get("message") or "", "remedy": check.get("remedy"),
                "host": host, "task": task and task["name"], "phase": task and task["phase"],
            }
            self.checks.append(row)
            recorded.append(row)
        return recorded

    def _record_attended(self, task, host, step):
        status = "pending" if step.get("status") == "pending" else "done"
        record = {
            "id": step.get("id"), "title": step.get("title"), "component": step.get("component")
            or (task and task["component"]), "host": host, "status": status,
            "instructions": list(step.get("instructions") or []), "values": dict(step.get("values") or {}),
            "detection": step.get("detection"), "doc_url": step.get("doc_url"),
            "phase": task and task["phase"], "task": task and task["name"],
        }
        if status == "pending":
            record["number"] = len([s for s in self.attended if s["status"] == "pending"]) + 1
            self.pending_hosts.setdefault(host, []).append(record["id"])
        self.attended.append(record)
        return record

    # -- the end --------------------------------------------------------------------------------
    def stats(self, per_host):
        """``per_host``: {host: {ok, changed, failures, unreachable, skipped, rescued, ignored}}."""
        for host, counts in per_host.items():
            self.host_stats[host] = dict(counts)

    def finish(self):
        self._close_role()
        self._close_phase()
        self.finished = self.clock()
        return self.model()

    def _close_role(self):
        closed = self._role
        if closed is not None and closed["tasks"]:
            last = closed["tasks"][-1]
            end = last["started"] + (last["duration"] or 0)
            closed["duration"] = max(closed["duration"] or 0, end - closed["started"])
        self._role = None
        return closed if closed and closed["tasks"] else None

    def _close_phase(self):
        if self._phase is not None:
            self._phase["duration"] = self.clock() - self._phase["started"]

    # -- summaries ------------------------------------------------------------------------------
    def host_summary(self):
        hosts = {}
        seen = set(self.host_stats)
        for task in self._all_tasks():
            seen.update(task["hosts"])
        for host in sorted(seen):
            stats = self.host_stats.get(host, {})
            counts = {
                "ok": stats.get("ok", 0), "changed": stats.get("changed", 0),
                "failed": stats.get("failures", 0), "unreachable": stats.get("unreachable", 0),
                "skipped": stats.get("skipped", 0), "rescued": stats.get("rescued", 0),
                "ignored": stats.get("ignored", 0), "pending": len(self.pending_hosts.get(host, [])),
            }
            if not stats:  # no stats yet (report written early): count from the tasks
                for task in self._all_tasks():
                    entry = task["hosts"].get(host)
                    if entry:
                        key = {"ok": "ok", "changed": "changed", "failed": "failed", "skipped": "skipped",
                               "unreachable": "unreachable", "ignored": "ignored"}.get(entry["status"])
                        if key:
                            counts[key] += 1
            # a failing precondition or verify check about this host (its forest, for assess's
            # one-host-per-forest inventories) fails the host even when the checking task ran
            # once for all hosts on another one
            about = [c for c in self.checks if c["subject"] == host]
            counts["checks_failed"] = sum(1 for c in about if c["status"] == "fail")
            counts["checks_warned"] = sum(1 for c in about if c["status"] == "warn")
            if counts["unreachable"]:
                result = "unreachable"
            elif counts["failed"] or counts["checks_failed"]:
                result = "failed"
            elif counts["pending"]:
                result = "pending"
            elif counts["changed"]:
                result = "changed"
            elif counts["ok"] or counts["ignored"] or counts["rescued"]:
                result = "ok"
            else:
                result = "skipped"
            counts["result"] = result
            hosts[host] = counts
        return hosts

    def component_summary(self):
        components = {}
        for phase in self.phases:
            for role in phase["roles"]:
                name = role["component"] or role["name"] or phase["key"]
                comp = components.setdefault(name, {
                    "hosts": set(), "ok": 0, "changed": 0, "failed": 0, "skipped": 0, "pending": 0,
                    "unreachable": 0, "duration": 0.0, "statuses": []})
                comp["duration"] += role["duration"] or 0
                for task in role["tasks"]:
                    for host, entry in task["hosts"].items():
                        comp["hosts"].add(host)
                        status = entry["status"]
                        key = {"ignored": "ok"}.get(status, status)
                        if key in comp:
                            comp[key] += 1
                        comp["statuses"].append(status)
        out = {}
        for name, comp in components.items():
            statuses = [s for s in comp.pop("statuses") if s != "ignored"]
            comp["result"] = worst(statuses, default="skipped") if statuses else "skipped"
            if comp["result"] == "skipped" and any(s in ("ok", "changed") for s in statuses):
                comp["result"] = "ok"
            comp["hosts"] = sorted(comp["hosts"])
            out[name] = comp
        return out

    def overall(self):
        hosts = self.host_summary()
        return worst([h["result"] for h in hosts.values()], default="ok") if hosts else "ok"

    def _all_tasks(self):
        for phase in self.phases:
            for role in phase["roles"]:
                yield from role["tasks"]

    def model(self):
        """The report: plain JSON-able data, secrets masked."""
        # Every list in the same order whatever the forks: rows in play order of their task, then by
        # host (a stable sort keeps one host's rows of one task in the order the module gave them).
        position = {}
        for task in self._all_tasks():
            position.setdefault(task["name"], len(position))

        def in_order(rows):
            return sorted(rows, key=lambda r: (position.get(r.get("task"), len(position)), str(r.get("host"))))

        phases = []
        for phase in self.phases:
            roles = []
            for role in phase["roles"]:
                tasks = [{k: (dict(sorted(v.items())) if k == "hosts" else v) for k, v in task.items()
                          if not k.startswith("_") and k not in ("uuid", "quiet")}
                         for task in role["tasks"] if not _quiet(task)]
                roles.append(dict(role, tasks=tasks))
            phases.append(dict(phase, roles=roles))
        finished = self.finished or self.clock()
        pending = [s for s in self.attended if s["status"] == "pending"]
        hosts = self.host_summary()
        overall = self.overall()
        model = {
            "schema": REPORT_SCHEMA,
            "run": dict(self.meta, id=run_id(self.started), started=utc_iso(self.started),
                        finished=utc_iso(finished), duration=round(finished - self.started, 3),
                        playbooks=list(self.playbooks), result=overall,
                        headline=headline(overall, hosts, self.checks, len(pending)),
                        checks=check_counts(self.checks)),
            "environment": {"forests": sorted(self.environment["forests"], key=lambda f: f["forest"]),
                            "hosts": dict(sorted(self.environment["hosts"].items()))},
            # worst first, as on the terminal: every report format lists FAIL, WARN, then PASS rows
            "checks": ordered_checks(in_order(c for c in self.checks if c["kind"] == "precondition")),
            "verify": ordered_checks(in_order(c for c in self.checks if c["kind"] == "verify")),
            "changes": in_order(self.changes),
            "attended_steps": self.attended,
            "attended_pending": len(pending),
            "warnings": in_order(self.warnings),
            "files": in_order(self.files),
            "hosts": hosts,
            "components": self.component_summary(),
            "phases": phases,
        }
        return self.redactor.data(_rounded(model))


def _quiet(task):
    """Plumbing tasks (includes, argument validation, meta) are kept out unless something failed."""
    return bool(task.get("quiet")) and all(
        entry["status"] in ("ok", "skipped", "pending") for entry in task["hosts"].values())


def _rounded(obj):
    if isinstance(obj, float):
        return round(obj, 3)
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_rounded(v) for v in obj]
    return obj


def _message(result, status):
    if "censored" in result:
        return "output hidden (no_log)"
    if status == "skipped":
        return result.get("skip_reason") if result.get("skip_reason") not in (None, "Conditional result was False") \
            else None
    msg = result.get("msg")
    if isinstance(msg, (list, tuple)):
        msg = "\n".join(str(m) for m in msg)
    elif isinstance(msg, dict):
        msg = ", ".join("%s: %s" % (k, v) for k, v in msg.items())
    if status in ("failed", "unreachable", "ignored"):
        parts = [str(msg)] if msg else []
        for key in ("stderr", "module_stderr"):
            if result.get(key) and not msg:
                parts.append(str(result[key]).strip())
        if not parts and isinstance(result.get("results"), list):
            for item in result["results"]:
                if isinstance(item, dict) and item.get("failed") and item.get("msg"):
                    parts.append(str(item["msg"]))
        return "\n".join(parts) or None
    return str(msg) if msg not in (None, "") else None


def _warnings(result):
    out = []
    for warning in result.get("warnings") or []:
        if isinstance(warning, dict):
            warning = warning.get("msg") or warning.get("message") or str(warning)
        out.append(str(warning))
    return out
