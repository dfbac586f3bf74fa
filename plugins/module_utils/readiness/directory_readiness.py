# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument spec and entry point of ems.enable.directory_readiness (IdFix's rules over LDAP).

Pieces (this package): rules (the rule engine over idfix_rules.json), scan (planning and the
streamed paged searches), report (CSV and JSON written under temporary names).
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import json
import re
import time

from ansible_collections.ems.enable.plugins.module_utils.ad import facts as ad_facts
from ansible_collections.ems.enable.plugins.module_utils.ad import rules as ad_rules
from ansible_collections.ems.enable.plugins.module_utils.ad import ldap_client as lc
from ansible_collections.ems.enable.plugins.module_utils.readiness import index as vindex
from ansible_collections.ems.enable.plugins.module_utils.readiness import report
from ansible_collections.ems.enable.plugins.module_utils.readiness import rules
from ansible_collections.ems.enable.plugins.module_utils.readiness import scan

DEFAULT_PAGE_SIZE = 1000  # IdFix's page size (Rules/RuleCollection.cs); AD's MaxPageSize default
DEFAULT_PARALLEL = 2  # parts per search (uSNCreated ranges) read at once; 1 = one search, as IdFix

READINESS_SPEC = dict(
    lc.LDAP_ARGUMENT_SPEC,
    search_base=dict(type="list", elements="str", default=[]),
    global_catalog=dict(type="bool", default=False),
    filter=dict(type="str", default=rules.DEFAULT_FILTER),
    page_size=dict(type="int", default=DEFAULT_PAGE_SIZE),
    page_timeout=dict(type="int", default=120),
    parallel=dict(type="int", default=DEFAULT_PARALLEL),
    ignore=dict(type="list", elements="str", default=[]),
    output_dir=dict(type="path", required=True),
    report_name=dict(type="str"),
    fail_on=dict(type="list", elements="str", default=[], choices=list(rules.ERROR_KINDS)),
    show_values=dict(type="bool", default=False),
    scan=dict(type="str", default="auto", choices=["auto", "full", "delta"]),
)
READINESS_KWARGS = {}

MAX_PAGE_SIZE = 100000
MAX_TIMEOUT = 3600
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def _validate(params):
    """Input errors found before any connection (LDAP options, bases, ignore list, files)."""
    warnings = lc.validate_params(params)
    if not 1 <= params["page_size"] <= MAX_PAGE_SIZE:
        raise lc.LdapError("page_size: must be 1 or more and at most %d, not %r (AD returns at most MaxPageSize, "
                           "default 1000, per page)." % (MAX_PAGE_SIZE, params["page_size"]), kind="input")
    if not 1 <= params["parallel"] <= scan.MAX_PARALLEL:
        raise lc.LdapError("parallel: %d is out of range: give 1 (one search per domain, as IdFix) to %d." % (
            params["parallel"], scan.MAX_PARALLEL), kind="input")
    if not 1 <= params["page_timeout"] <= MAX_TIMEOUT:
        raise lc.LdapError("page_timeout: must be a positive number of seconds. %r is outside 1 to %d."
                           % (params["page_timeout"], MAX_TIMEOUT), "The default is 120.", kind="input")
    flt = (params.get("filter") or "").strip()
    if not flt:
        raise lc.LdapError("filter: must not be empty (IdFix's default is %s)." % rules.DEFAULT_FILTER, kind="input")
    if not flt.startswith("("):
        flt = "(%s)" % flt  # RFC 4515 allows the outer parentheses to be left out only in tools; add them
    _check_filter(flt)
    params["filter"] = flt
    bases = []
    for base in params.get("search_base") or []:
        base = (base or "").strip()
        if not base:
            raise lc.LdapError("search_base: an entry is empty.", "Give DNs such as OU=Staff,DC=corp,DC=example,DC=com.",
                               kind="input")
        bases.append(_dn(base, "search_base"))
    scan.check_overlap(bases)
    params["search_base"] = bases
    entries = []
    for entry in params.get("ignore") or []:
        text = (entry or "").strip()
        if not text:
            raise lc.LdapError("ignore: an entry is empty.", kind="input")
        entries.append(_pattern(text) if any(c in text for c in "*?[]") else _dn(text, "ignore"))
    params["ignore"] = entries
    name = params.get("report_name")
    if name is not None and not _NAME_RE.match(name):
        raise lc.LdapError("report_name: %r: use letters, digits, dot, dash and underscore (no path)." % name,
                           kind="input")
    if params.get("port") in scan.GC_PORTS.values():
        params["global_catalog"] = True  # port 3268/3269 is a global catalog: scan it as one
    report.check_output_dir(params["output_dir"])
    return warnings


def _check_filter(flt):
    """Balanced parentheses (RFC 4515; a backslash escapes): libldap would refuse it only after binding."""
    depth, escaped, closed_early = 0, False, False
    for index, char in enumerate(flt):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            closed_early = closed_early or (depth <= 0 and index < len(flt) - 1)  # one filter, not several
    if depth != 0 or escaped or closed_early or "()" in flt:
        raise lc.LdapError("filter: %s is not a valid LDAP filter." % flt,
                           "Balance its parentheses around one filter (RFC 4515), e.g. the default %s."
                           % rules.DEFAULT_FILTER, kind="input")


def _pattern(text):
    """A shell pattern of the ignore list, compiled now: an unclosed [ would otherwise match itself."""
    if text.count("[") != text.count("]") or re.search(r"\[[^\]]*\[", text):
        raise lc.LdapError("ignore: %r is not a valid pattern (unbalanced [ ])." % text,
                           "Use * and ? as wildcards and [abc] for one of a set; a DN alone ignores its subtree.",
                           kind="input")
    ranges = [pair for group in re.findall(r"\[!?([^\]]*)\]", text) for pair in re.findall(r"(.)-(.)", group)]
    for low, high in ranges:
        if low > high:
            raise lc.LdapError("ignore: %r is not a valid pattern (range %s-%s is reversed and matches nothing)."
                               % (text, low, high), "Write ranges low to high, e.g. [a-z].", kind="input")
    try:
        re.compile(fnmatch.translate(text))
    except re.error as err:
        raise lc.LdapError("ignore: %r is not a valid pattern (%s)." % (text, err),
                           "Use * and ? as wildcards and [abc] for one of a set.", kind="input") from None
    return text


def _dn(text, option):
    return lc.check_dn(text, option)


def _options(params, the_plan):
    """What the findings depend on besides the directory, one entry per item (a change names it)."""
    return {
        "rules": rules.rules_fingerprint(ad_facts.routable_tlds()),
        "filter": params["filter"],
        "search_base": [t.base for t in the_plan.tasks],
        "global_catalog": the_plan.global_catalog,
        "ignore": params["ignore"],
        "attributes": the_plan.attributes,
    }


def delta_reason(meta, options, states):
    """Why the last scan's index cannot be brought up to date by a delta (None: it can)."""
    try:
        old_options = json.loads(meta["options"])
        old_states = json.loads(meta["searches"])
    except (KeyError, ValueError, TypeError):
        return "the index of the last scan holds no scan state"
    if len(old_states) != len(states):
        return "the searches changed since the last scan"
    for old, new in zip(old_states, states):  # the DC first: another DC's schema may differ too
        where = new["base"] or "the global catalog"
        if (old.get("server") or "").lower() != (new["server"] or "").lower():
            return "%s is read from DC %s, the last scan read it from %s (USNs are per DC)" % (
                where, new["server"], old.get("server"))
        if not new["invocation_id"]:
            return "the invocationId of DC %s could not be read (dsServiceName in its rootDSE)" % new["server"]
        if old.get("invocation_id") != new["invocation_id"]:
            return "the invocationId of DC %s changed since the last scan (restored from a backup)" % new["server"]
        if new["usn"] is None or old.get("usn") is None or new["usn"] < old["usn"]:
            return "the highestCommittedUSN of DC %s is below the last scan's" % new["server"]
    changed = [key for key in sorted(options) if old_options.get(key) != options[key]]
    if changed:
        return "%s changed since the last scan" % ", ".join(
            "the rule set" if key == "rules" else key for key in changed)
    return None


def _container_reason(index, changed):
    """A renamed or moved OU or container changes the DNs below it without changing those objects."""
    fresh = []
    for guid, dn, created in changed:
        stored = index.container_dn(guid)
        if stored is not None and stored.lower() != dn.lower():
            return "%s was renamed or moved since the last scan (the DNs below it changed)" % dn
        if stored is None:
            fresh.append((guid, dn, created))
    return fresh


def _choose_scan(params, name, options, states, warnings):
    """(index, "full"|"delta", reason). A delta starts from a copy of the last index."""
    if params["scan"] == "full":
        return None, "full", "scan=full"
    try:
        index = vindex.ValueIndex.load(params["output_dir"], name)
    except vindex.IndexUnusable as err:
        reason = str(err)
        if not reason.startswith("no index"):
            warnings.append("scan: the index of the last scan is unusable (%s); a full scan rebuilds it." % reason)
            reason = "the index of the last scan is unusable"
        return None, "full", reason
    reason = delta_reason(index.meta(), options, states)
    if reason:
        index.discard()
        return None, "full", reason
    return index, "delta", "the index of the last scan is up to date with %s; only objects changed since then are " \
        "read" % ", ".join("%s at USN %s" % (old["server"], old["usn"]) for old in json.loads(index.meta()["searches"]))


def run_directory_readiness(params, check_mode=False):
    """Read-only scan of one forest; identical in check mode (the report files and the index are written in
    both)."""
    params = dict(params)
    warnings = _validate(params)
    started = time.time()
    clock = time.monotonic()
    cpu = time.process_time()
    try:
        the_plan = scan.plan(params)
    except lc.LdapError as err:
        raise report.discard_before_scan(params["output_dir"], params.get("report_name"), err) from None
    writer = None
    index = None
    try:
        warnings.extend(the_plan.warnings)
        name = params.get("report_name") or report.DEFAULT_PREFIX + the_plan.forest
        states = scan.dc_states(the_plan)
        options = _options(params, the_plan)
        index, scan_type, reason = _choose_scan(params, name, options, states, warnings)
        if index is not None:
            since = [json.loads(index.meta()["searches"])[i]["usn"] for i in range(len(states))]
            fresh = _container_reason(index, scan.containers(the_plan, above=since))
            if isinstance(fresh, str):
                index.discard()
                index, scan_type, reason = None, "full", fresh
            else:
                unknown = [dn for _guid, dn, created in fresh if created is not None and created <= min(since)]
                if unknown:
                    index.discard()
                    index, scan_type, reason = None, "full", (
                        "%s was moved into the scanned subtrees since the last scan" % unknown[0])
                else:
                    index.set_containers([(guid, dn) for guid, dn, _created in fresh])
        if index is None and params["scan"] == "delta":
            raise lc.LdapError("scan: delta is not possible: %s." % reason,
                               "Run with scan=auto (a full scan when a delta is not possible) or scan=full.",
                               kind="input")
        header = {
            "tool": "ems.enable.directory_readiness",
            "rules": rules.TABLE["source"],
            "forest": the_plan.forest,
            "global_catalog": the_plan.global_catalog,
            "filter": params["filter"],
            "search_bases": [t.base for t in the_plan.tasks],
            "ignore": params["ignore"],
            "attributes": the_plan.attributes,
            "scan_type": scan_type,
            "scan_reason": reason,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        }
        writer = report.ReportWriter(params["output_dir"], name, header)
        writer.keep = report.SHOW_VALUES_LIMIT if params["show_values"] else 0
        removed, deletions = 0, None
        with contextlib.ExitStack() as spills:
            def new_spill():
                return rules.SpillFile(spills.enter_context(report.spill_file(params["output_dir"])))

            if index is None:
                index = vindex.ValueIndex.create(params["output_dir"], name)
                index.set_containers([(guid, dn) for guid, dn, _created in scan.containers(the_plan) if guid])
            engine = rules.RuleEngine(ad_facts.routable_tlds(), writer.row, index=index,
                                      ignore=rules.IgnoreList(params["ignore"]),
                                      draft=writer if scan_type == "full" else None, rows=writer.rows)
            if scan_type == "delta":
                read, removed, deletions = scan.run_delta(the_plan, engine, params, since)
                if deletions == "enumeration":
                    warnings.append(
                        "scan: this account is not in BUILTIN\\Administrators, the only group AD lets list deleted "
                        "objects by default; the delta found deletions by reading the objectGUID of every object "
                        "instead (a lighter full pass). An administrator's delta reads only the tombstones.")
            else:
                def progress():
                    index.checkpoint()
                    writer.flush()

                scan.run(the_plan, engine, params, progress=progress, new_spill=new_spill)
                read = engine.found
            summary = engine.finish()
        index.set_meta({"format": str(vindex.INDEX_FORMAT), "options": options, "searches": states,
                        "scan_type": scan_type,
                        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        elapsed = time.monotonic() - clock
        searches = [t.describe() for t in the_plan.tasks]
        performance = {
            "seconds": round(elapsed, 2),
            "objects_per_second": round(read / elapsed, 1) if elapsed > 0 else None,
            "cpu_seconds": round(time.process_time() - cpu, 2),
            "peak_rss_mb": report.peak_rss_mb(),
        }
        scan_info = {"scan_type": scan_type, "scan_reason": reason, "objects_read": read, "objects_removed": removed,
                     "deletions_found_by": deletions}
        trailer = dict(scan_info, finished=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), searches=searches,
                       summary=summary, performance=performance)
        index_path = index.commit()
        index = None
        paths = writer.commit(trailer, engine.replace)
    except OSError as err:
        written = writer.size() if writer is not None else 0
        if writer is not None:
            writer.abort()
        if index is not None:
            index.discard()
        if err.errno == errno.ENOSPC:
            raise report.disk_full(params["output_dir"], written) from None
        raise
    except BaseException:
        if writer is not None:
            writer.abort()
        if index is not None:
            index.discard()
        raise
    finally:
        the_plan.close()
    result = {
        "changed": False,
        "forest": the_plan.forest,
        "global_catalog": the_plan.global_catalog,
        "searches": searches,
        "attributes": the_plan.attributes,
        "missing_attributes": the_plan.missing_attributes,
        "summary": summary,
        "performance": performance,
        "reports": paths,
        "index": index_path,
        "warnings": warnings,
    }
    result.update(scan_info)
    if params["show_values"]:
        result["rows"] = writer.kept
        result["rows_truncated"] = summary["errors"] > len(writer.kept)
    result["checks"] = readiness_checks(the_plan.forest, summary, params["fail_on"], paths["csv"])
    failing = {kind: summary["by_error"][kind] for kind in params["fail_on"] if summary["by_error"][kind]}
    if failing:
        result["failed"] = True
        result["msg"] = (
            "Directory readiness of forest %s: %s (fail_on). %d of %d checked objects have errors; see %s." % (
                the_plan.forest, ", ".join("%d %s" % (n, k) for k, n in failing.items()),
                summary["objects_with_errors"], summary["objects_checked"], paths["csv"]))
    return result


def readiness_checks(forest, summary, fail_on, csv_path):
    """The scan as precondition checks (the onboarding output's table): one per error kind found -
    fail when the kind is in fail_on, else warn - or one pass. Counts only, no personal data."""
    checks = []
    for kind in rules.ERROR_KINDS:
        count = summary["by_error"][kind]
        if not count:
            continue
        where = ", ".join("%s %d" % (attribute, kinds[kind]) for attribute, kinds in summary["by_attribute"].items()
                          if kinds.get(kind))
        ad_rules.add_check(
            checks, "readiness.%s" % kind, "directory_readiness", forest, "fail" if kind in fail_on else "warn",
            "Forest %s: %d value%s with IdFix error %s - %s (%s)." % (
                forest, count, "" if count == 1 else "s", kind, rules.KIND_MEANING[kind], where),
            "Correct them on premises before the first synchronization; each object, value and IdFix's "
            "suggested value is in %s." % csv_path)
    if not checks:
        ad_rules.add_check(
            checks, "readiness", "directory_readiness", forest, "pass",
            "Forest %s: %d objects checked with IdFix's multi-tenant rules, no errors (%d skipped, %d ignored)." % (
                forest, summary["objects_checked"], summary["objects_skipped"], summary["objects_ignored"]))
    return checks
