# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan and run the directory readiness searches over LDAP at the speed of the DCs.

Plan: one search per domain naming context of the forest (each on a DC of that domain), or per
given search base (on a DC of the domain that holds it), or one global catalog search. Every base is
checked (exists, inside the forest, not nested in another) and the filter is tried before the scan.

Run: one fetch thread and one connection per search. Each fetch thread keeps its DC busy with
python-ldap's asynchronous paged search: result3 takes the messages one at a time as they arrive
(waiting without the GIL, decoding in C), and the request for the next page is sent the moment the
page's cookie is in, before the page is handed over. The main thread applies the rules (readiness_rules.RuleEngine) to
the pages from a bounded queue - a few pages in memory at most - while the DC produces the next
ones: the client's work overlaps the DC's instead of adding to it. A failed search (DC stopped,
timeout) stops the scan with the DC's name and the cause.
"""

from __future__ import annotations

import contextlib
import queue
import sys
import threading
import time

from ansible_collections.ems.enable.plugins.module_utils import ldap_client as lc
from ansible_collections.ems.enable.plugins.module_utils.readiness_rules import DEFAULT_FILTER, QUERY_ATTRIBUTES

try:
    import ldap
    import ldap.dn
    import ldap.filter
    from ldap.controls import SimplePagedResultsControl
except ImportError:  # pragma: no cover - ldap_client.check_requirements() reports it
    ldap = None

GC_PORTS = {"ldaps": 3269, "starttls": 3268, "ldap": 3268}
_QUEUE_PAGES = 3  # pages waiting per search at most (bounded memory)


class SearchTask:
    def __init__(self, base, domain, conn):
        self.base = base
        self.domain = domain
        self.conn = conn
        self.objects = 0
        self.seconds = 0.0

    def describe(self):
        return {"base": self.base, "domain": self.domain, "server": self.conn.server, "port": self.conn.port,
                "objects": self.objects, "seconds": round(self.seconds, 2)}


def _is_under(dn, parent):
    """dn equals parent or lies below it (case-insensitive, DN string suffix)."""
    dn, parent = dn.lower(), parent.lower()
    return parent == "" or dn == parent or dn.endswith("," + parent)


def _input_error(message, remedy=None):
    return lc.LdapError(message, remedy, kind="input")


def check_overlap(bases):
    """Refuse search bases of which one contains another (objects would be read twice)."""
    for i, base in enumerate(bases):
        for other in bases[i + 1:]:
            if _is_under(base, other) or _is_under(other, base):
                raise _input_error("search_base: %s and %s overlap (one contains the other)." % (base, other),
                                   "Give each subtree once.")


class ScanPlan:
    def __init__(self):
        self.forest = None
        self.forest_root = None
        self.domains = []
        self.tasks = []
        self.attributes = list(QUERY_ATTRIBUTES)
        self.missing_attributes = []
        self.warnings = []
        self.global_catalog = False

    def close(self):
        for task in self.tasks:
            task.conn.close()


def _schema_attributes(conn, schema_nc):
    """Which of the queried attributes exist in the schema, and whether they are in the GC's partial set."""
    wanted = {a.lower(): a for a in QUERY_ATTRIBUTES}
    flt = "(|%s)" % "".join("(lDAPDisplayName=%s)" % a for a in QUERY_ATTRIBUTES)
    found = {}
    for _dn, entry in conn.search(schema_nc, flt, ["lDAPDisplayName", "isMemberOfPartialAttributeSet"],
                                  scope=ldap.SCOPE_ONELEVEL):
        name = (lc.first(entry, "lDAPDisplayName") or "").lower()
        if name in wanted:
            found[wanted[name]] = (lc.first(entry, "isMemberOfPartialAttributeSet") or "").upper() == "TRUE"
    return found


def _domains(conn, config_nc):
    partitions = "CN=Partitions," + config_nc
    domains = []
    for _dn, entry in conn.search(partitions, "(&(objectClass=crossRef)(systemFlags:1.2.840.113556.1.4.803:=2))",
                                  ["nCName", "dnsRoot"], scope=ldap.SCOPE_ONELEVEL):
        nc = lc.first(entry, "nCName")
        if nc:
            domains.append({"dn": nc, "dns_name": lc.first(entry, "dnsRoot") or lc.dn_to_dns(nc)})
    return domains


def _domain_dcs(conn, config_nc, domain_nc):
    """dNSHostName of the DCs that hold a domain (nTDSDSA objects under CN=Sites)."""
    sites = "CN=Sites," + config_nc
    names = []
    escaped = ldap.filter.escape_filter_chars(domain_nc)
    for dn, _entry in conn.search(sites, "(&(objectClass=nTDSDSA)(|(msDS-hasDomainNCs=%s)(hasMasterNCs=%s)))"
                                  % (escaped, escaped), ["1.1"]):
        server = conn.read_entry(dn.split(",", 1)[1], ["dNSHostName"])
        host = lc.first(server, "dNSHostName")
        if host:
            names.append(host)
    return sorted(names, key=str.lower)


def _connect_domain(params, first, config_nc, domain):
    """A bound connection to a DC of `domain`: one of the given servers that holds it, else its DCs."""
    candidates = []
    for server in params["server"]:
        server = server.strip()
        if server and server.lower() != first.server.lower():
            candidates.append(server)
    candidates += _domain_dcs(first, config_nc, domain["dn"])
    errors = []
    seen = set()
    for server in candidates:
        if server.lower() in seen:
            continue
        seen.add(server.lower())
        try:
            root = lc.read_root_dse(server, params)
        except lc.LdapError as err:
            errors.append(err.message.rstrip("."))
            continue
        if (lc.first(root, "defaultNamingContext") or "").lower() != domain["dn"].lower():
            continue
        try:
            return lc.connect(params, server=server)
        except lc.LdapError as err:
            if err.kind == "auth":
                raise
            errors.append(err.message.rstrip("."))
    raise lc.LdapError(
        "No domain controller of domain %s answered (%s)." % (
            domain["dns_name"], "; ".join(errors) if errors else "none of the given servers holds it"),
        "Add a DC of %s to server, or limit search_base to the domains you can reach." % domain["dns_name"],
        first.server, "connect")


def _check_base(conn, base, flt):
    """The base exists on this DC and the filter is accepted (a base-scope search, before the scan)."""
    where = "%s:%s" % (conn.server, conn.port)
    try:
        conn.conn.search_ext_s(base, ldap.SCOPE_BASE, flt, ["1.1"])
    except ldap.FILTER_ERROR:
        raise _input_error("filter: %s is not a valid LDAP filter." % flt,
                           "Write an RFC 4515 filter, e.g. the default %s." % DEFAULT_FILTER) from None
    except ldap.NO_SUCH_OBJECT:
        raise _input_error("search_base: %s does not exist (%s)." % (base, where),
                           "Give the DN of an existing domain, OU or container.") from None
    except ldap.INVALID_DN_SYNTAX:
        raise _input_error("search_base: %s is not a valid DN (%s)." % (base, where)) from None
    except ldap.LDAPError as exc:
        detail = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
        if isinstance(exc, (ldap.PROTOCOL_ERROR, ldap.OPERATIONS_ERROR, ldap.UNWILLING_TO_PERFORM,
                            ldap.INAPPROPRIATE_MATCHING, ldap.UNDEFINED_TYPE)):
            raise _input_error("filter or search_base refused by %s: %s." % (
                where, (detail.get("info") or detail.get("desc") or str(exc)).strip()),
                "Check the filter syntax and the search_base DN.") from None
        conn.fail(exc)


def plan(params):
    """Connect, discover the forest and build the searches. Raises LdapError on bad input."""
    flt = params["filter"]
    first = lc.connect(params)
    result = ScanPlan()
    try:
        rd = first.root_dse
        root_nc = lc.first(rd, "rootDomainNamingContext")
        config_nc = lc.first(rd, "configurationNamingContext")
        schema_nc = lc.first(rd, "schemaNamingContext")
        default_nc = lc.first(rd, "defaultNamingContext")
        if not (root_nc and config_nc and default_nc):
            raise lc.LdapError("%s:%s is not an Active Directory domain controller (rootDSE has no naming contexts)."
                               % (first.server, first.port), kind="input")
        result.forest = lc.dn_to_dns(root_nc)
        result.forest_root = root_nc
        result.domains = _domains(first, config_nc) or [{"dn": default_nc, "dns_name": lc.dn_to_dns(default_nc)}]
        schema = _schema_attributes(first, schema_nc)
        result.attributes = [a for a in QUERY_ATTRIBUTES if a in schema]
        result.missing_attributes = [a for a in QUERY_ATTRIBUTES if a not in schema]
        bases = list(params.get("search_base") or [])
        if params.get("global_catalog"):
            result.global_catalog = True
            outside = [a for a in result.attributes if not schema[a]]
            if outside:
                result.warnings.append(
                    "global_catalog: %s not replicated to the global catalog (isMemberOfPartialAttributeSet): "
                    "the rules and skip checks that read them may see no values. Scan each domain "
                    "(global_catalog=false) to check them."
                    % ", ".join(outside))
            gc_port = params.get("port") if params.get("port") in GC_PORTS.values() else GC_PORTS[params["transport"]]
            gc_params = dict(params, port=gc_port)
            first_server = first.server
            for base in bases or [""]:
                conn = lc.connect(gc_params, server=first_server)
                result.tasks.append(SearchTask(base, result.forest, conn))
                _check_base(conn, base, flt)
            return result
        by_nc = {d["dn"].lower(): d for d in result.domains}
        plan_bases = []
        for base in bases or [d["dn"] for d in result.domains]:
            owners = [d for d in result.domains if _is_under(base, d["dn"])]
            if not owners:
                raise _input_error(
                    "search_base: %s is not in any domain of forest %s (domains: %s)." % (
                        base, result.forest, ", ".join(d["dn"] for d in result.domains)),
                    "Give DNs below a domain naming context of this forest, or scan the other forest with its "
                    "own DCs.")
            owner = max(owners, key=lambda d: len(d["dn"]))
            plan_bases.append((base, owner))
        used_first = False
        for base, owner in plan_bases:
            if owner["dn"].lower() == default_nc.lower() and not used_first:
                conn, used_first = first, True
            elif owner["dn"].lower() == default_nc.lower():
                conn = lc.connect(params, server=first.server)
            else:
                conn = _connect_domain(params, first, config_nc, by_nc[owner["dn"].lower()])
            result.tasks.append(SearchTask(base, owner["dns_name"], conn))
            _check_base(conn, base, flt)
        if not used_first:
            first.close()
        return result
    except BaseException:
        result.close()
        first.close()
        raise


class ScanFailed(Exception):
    def __init__(self, task, exc):
        super().__init__(str(exc))
        self.task = task
        self.exc = exc


def _fetch(task, flt, attrs, page_size, page_timeout, out, stop):
    """Run one paged search in this (fetch) thread, putting each page on `out`.

    Messages are taken one at a time as they arrive (result3 waits without the GIL; python-ldap
    decodes each entry in C), so the page's last message - the cookie - is read the moment it comes
    and the request for the next page goes out at once: the DC never waits for the client to decode
    or check a page. The fetch thread does nothing else; the main thread checks the queued pages.
    """
    conn = task.conn.conn
    control = SimplePagedResultsControl(True, size=page_size, cookie="")
    started = time.monotonic()
    paged_type = SimplePagedResultsControl.controlType
    entry_type = ldap.RES_SEARCH_ENTRY
    result3 = conn.result3
    try:
        msgid = conn.search_ext(task.base, ldap.SCOPE_SUBTREE, flt, attrs, serverctrls=[control])
        page = []
        append = page.extend
        while not stop.is_set():
            rtype, rdata, _msgid, rctrls = result3(msgid, all=0, timeout=page_timeout)
            if rtype == entry_type:
                append(rdata)
                continue
            if rtype != ldap.RES_SEARCH_RESULT:
                continue  # a continuation reference (another partition)
            cookie = None
            for ctrl in rctrls or ():
                if ctrl.controlType == paged_type:
                    cookie = ctrl.cookie
            if cookie:
                control.cookie = cookie
                msgid = conn.search_ext(task.base, ldap.SCOPE_SUBTREE, flt, attrs, serverctrls=[control])
            out.put(("entries", task, page))
            page = []
            append = page.extend
            if not cookie:
                break
        task.seconds = time.monotonic() - started
        out.put(("done", task, None))
    except Exception as exc:  # ldap.LDAPError mostly; surfaced by the main thread
        out.put(("error", task, exc))


def describe_failure(task, exc, params):
    """One line: which search failed, where, after how many objects, and why."""
    conn = task.conn
    if isinstance(exc, ldap.TIMEOUT):
        cause = "no answer within page_timeout=%ss" % params.get("page_timeout")
    elif isinstance(exc, ldap.LDAPError):
        err = lc.describe_ldap_exception(exc, conn.server, conn.port, params)
        cause = err.message.rstrip(".")
        where = "%s:%s: " % (conn.server, conn.port)
        if cause.startswith(where):
            cause = cause[len(where):]
    else:
        cause = "%s: %s" % (exc.__class__.__name__, exc)
    return lc.LdapError(
        "The scan of %s on %s:%s failed after %d objects: %s. No report was written (a partial scan is not a "
        "result)." % (task.base or "the global catalog", conn.server, conn.port, task.objects, cause),
        "Check that the domain controller runs and is reachable, then run the scan again.",
        conn.server, "scan")


def run(scan_plan, engine, params, progress=None):
    """Stream every search of the plan through the engine. Raises LdapError when a search fails.

    Every search runs in a fetch thread of its own (one connection each); this thread checks the
    entries of the pages they queue (a bounded queue: a few pages in memory at most) and calls
    progress() after every page.
    """
    progress = progress or (lambda: None)
    flt = params["filter"]
    attrs = scan_plan.attributes or ["cn"]
    stop = threading.Event()
    process = engine.process
    out = queue.Queue(maxsize=_QUEUE_PAGES * len(scan_plan.tasks))
    threads = []
    for task in scan_plan.tasks:
        thread = threading.Thread(target=_fetch, name="readiness-%s" % task.base,
                                  args=(task, flt, attrs, params["page_size"], params["page_timeout"], out, stop),
                                  daemon=True)
        threads.append(thread)
    previous_interval = sys.getswitchinterval()
    # A fetch thread waiting for the GIL to queue a page (and send the next request) gets it sooner.
    sys.setswitchinterval(0.0005)
    try:
        for thread in threads:
            thread.start()
        active = len(threads)
        while active:
            kind, task, payload = out.get()
            if kind == "entries":
                count = 0
                for dn, entry in payload:
                    if dn is not None:  # None: a continuation reference (another partition)
                        process(dn, entry)
                        count += 1
                task.objects += count
                progress()
            elif kind == "done":
                active -= 1
            else:
                raise ScanFailed(task, payload)
    except ScanFailed as failed:
        stop.set()
        _drain(out, threads)
        raise describe_failure(failed.task, failed.exc, params) from None
    except BaseException:
        stop.set()
        _drain(out, threads)
        raise
    finally:
        sys.setswitchinterval(previous_interval)


def _drain(out, threads, grace=5.0):
    """Let the fetch threads see `stop` (they may be blocked on a full queue)."""
    deadline = time.monotonic() + grace
    while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
        with contextlib.suppress(queue.Empty):
            while True:
                out.get_nowait()
        time.sleep(0.01)
