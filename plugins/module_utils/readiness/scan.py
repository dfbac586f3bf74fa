# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan and run the directory readiness searches over LDAP at the speed of the DCs.

Plan: one search per domain naming context of the forest (each on a DC of that domain), or per
given search base (on a DC of the domain that holds it), or one global catalog search. Every base is
checked (exists, inside the forest, not nested in another) and the filter is tried before the scan.
Each search is split into `parallel` parts over ranges of uSNCreated (indexed, and in the global
catalog: MS-ADA3 2.355), each on a connection of its own, so that a DC with several cores serves
them at once: a DC's LDAP server answers one search on one core.

Run: one fetch thread and one connection per part. Each fetch thread keeps its DC busy with
python-ldap's asynchronous paged search: result3 takes the messages one at a time as they arrive
(waiting without the GIL, decoding in C), and the request for the next page is sent the moment the
page's cookie is in, before the page is handed over. The pages go to the part's PageBuffer, which
never makes the fetch thread wait: a few pages in memory, the rest in an unlinked temporary file.
The main thread applies the rules (rules.RuleEngine) to the pages as they arrive, from the part with
the most pages waiting, so that it never waits for one part while another's pages pile up. Each
part is a lane of the engine: its objects take index ids and report rows of the part's own (see
RuleEngine.lane), so the report keeps the plan's order - the first part of the first search, then the
next - and does not depend on which DC or part answered first; memory stays bounded. A failed search (DC
stopped, timeout) stops the scan with the DC's name and the cause.
"""

from __future__ import annotations

import collections
import sys
import threading
import time

from ansible_collections.ems.enable.plugins.module_utils.ad import ldap_client as lc
from ansible_collections.ems.enable.plugins.module_utils.readiness.rules import (
    DEFAULT_FILTER,
    QUERY_ATTRIBUTES,
    MemorySpill,
)

try:
    import ldap
    import ldap.dn
    import ldap.filter
    from ldap.controls import SimplePagedResultsControl
except ImportError:  # pragma: no cover - ldap_client.check_requirements() reports it
    ldap = None

GC_PORTS = {"ldaps": 3269, "starttls": 3268, "ldap": 3268}
# read besides IdFix's attributes: the index's key, and what remediation compares (issue 17)
IDENTITY_ATTRIBUTES = ("objectGUID", "uSNChanged", "whenChanged")
CONTAINER_FILTER = "(|(objectClass=organizationalUnit)(objectClass=container))"
SHOW_DELETED_OID = "1.2.840.113556.1.4.417"  # LDAP_SERVER_SHOW_DELETED_OID (MS-ADTS 3.1.1.3.4.1.14)
MEMORY_PAGES = 3  # pages of a part kept in memory; later ones wait in its temporary file
MAX_PARALLEL = 16
CONNECT_DELAY = 0.05  # seconds between a part's first request and the next part's connection


class SearchPart:
    """One range of uSNCreated of a search, on a connection of its own.

    The first part uses the search's planned connection; the others connect in their fetch thread,
    once the part before has sent its first request (see _fetch): a DC that hands connections to
    worker processes (Samba's prefork) then gives each part a worker of its own.
    """

    def __init__(self, task, conn, usn_range=None, connect=None):
        self.task = task
        self.conn = conn
        self.connect = connect  # makes the connection of a part other than the first
        self.usn_range = usn_range  # (lowest or None, highest or None); None: the whole search
        self.seconds = 0.0
        self.fetched = 0  # entries received (the main thread may not have checked them yet)
        self.sent = threading.Event()  # the first request is out

    def filter(self, flt):
        if not self.usn_range:
            return flt
        low, high = self.usn_range
        return "(&%s%s%s)" % (flt, "(uSNCreated>=%d)" % low if low is not None else "",
                              "(uSNCreated<=%d)" % high if high is not None else "")


class SearchTask:
    def __init__(self, base, domain, conn, nc=None):
        self.base = base
        self.domain = domain
        self.conn = conn
        self.nc = base if nc is None else nc  # the naming context that holds the base ("" on the GC)
        self.parts = [SearchPart(self, conn)]
        self.objects = 0

    @property
    def seconds(self):
        return max(part.seconds for part in self.parts)

    def describe(self):
        return {"base": self.base, "domain": self.domain, "server": self.conn.server, "port": self.conn.port,
                "objects": self.objects, "seconds": round(self.seconds, 2), "parallel": len(self.parts)}


def usn_ranges(highest, parts):
    """`parts` ranges of uSNCreated of equal width up to the DC's highestCommittedUSN; the first is
    open below, the last open above (an object created during the scan is still read)."""
    if parts < 2 or not highest or highest < parts:
        return [None]
    width = highest // parts
    bounds = [width * i for i in range(1, parts)]
    ranges = [(None, bounds[0])]
    ranges += [(bounds[i] + 1, bounds[i + 1]) for i in range(len(bounds) - 1)]
    ranges.append((bounds[-1] + 1, None))
    return ranges


def split(task, parallel, params):
    """Split a planned search into `parallel` parts over uSNCreated; the extra parts connect to the same
    DC when the scan runs."""
    highest = lc.first(task.conn.root_dse, "highestCommittedUSN")
    ranges = usn_ranges(int(highest) if highest and highest.isdigit() else 0, parallel)
    if ranges == [None]:
        return
    server = task.conn.server

    def connect():
        return lc.connect(params, server=server)

    task.parts = [SearchPart(task, task.conn, ranges[0])]
    task.parts += [SearchPart(task, None, usn_range, connect) for usn_range in ranges[1:]]


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
            for part in task.parts:
                if part.conn is not None:
                    part.conn.close()


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
                task = SearchTask(base, result.forest, conn, "")
                result.tasks.append(task)
                _check_base(conn, base, flt)
                split(task, params.get("parallel", 1), gc_params)
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
            task = SearchTask(base, owner["dns_name"], conn, owner["dn"])
            result.tasks.append(task)
            _check_base(conn, base, flt)
            split(task, params.get("parallel", 1), params)
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


class PageBuffer:
    """The pages of one part in arrival order. put() never waits: the first MEMORY_PAGES pages stay in
    memory, later ones go to a spill (an unlinked temporary file) until the main thread reads them."""

    def __init__(self, state, new_spill):
        self.state = state  # the scan's shared condition and first failure
        self.new_spill = new_spill
        self.memory = collections.deque()
        self.spill = None
        self.on_disk = collections.deque()  # offsets of pages in the spill, oldest first
        self.done = False

    def put(self, page):
        with self.state.cond:
            if not self.on_disk and len(self.memory) < MEMORY_PAGES:
                self.memory.append(page)
            else:
                if self.spill is None:
                    self.spill = self.new_spill()
                self.on_disk.append(self.spill.append(page))
            self.state.cond.notify_all()

    def finish(self):
        with self.state.cond:
            self.done = True
            self.state.cond.notify_all()

    def waiting(self):
        return len(self.memory) + len(self.on_disk)

    def take(self):
        """The oldest page (the caller holds the condition and saw waiting() > 0)."""
        if self.memory:
            return self.memory.popleft()
        return self.spill.read(self.on_disk.popleft())

    def get(self):
        """The next page; None when the part is complete. Raises ScanFailed when any part failed."""
        return next_page(self.state, [self])[1]


def next_page(state, buffers):
    """(lane, page): the next page of the part (buffers[lane]) that has the most pages waiting - its memory
    fills first, so checking it keeps pages out of the spill - the first such part on a tie; (None, None) when
    every part is complete. Waits for a page. Raises ScanFailed when any part failed."""
    with state.cond:
        while True:
            if state.failure is not None:
                raise state.failure
            lane, most = None, 0
            for number, buffer in enumerate(buffers):
                count = buffer.waiting()
                if count > most:
                    lane, most = number, count
            if lane is not None:
                return lane, buffers[lane].take()
            if all(buffer.done for buffer in buffers):
                return None, None
            state.cond.wait()


class _ScanState:
    def __init__(self):
        self.cond = threading.Condition()
        self.failure = None
        self.stop = threading.Event()

    def fail(self, task, exc):
        with self.cond:
            if self.failure is None:
                self.failure = ScanFailed(task, exc)
            self.stop.set()
            self.cond.notify_all()


def _fetch(part, previous, flt, attrs, page_size, page_timeout, buffer, state):
    """Run one paged search in this (fetch) thread, putting each page into `buffer`.

    A part other than the first connects once the part before it (`previous`) has sent its first
    request: the DC is then busy answering it, and a DC that hands connections to idle worker
    processes (Samba's prefork) gives this part another worker, that is another core.
    Messages are taken one at a time as they arrive (result3 waits without the GIL; python-ldap
    decodes each entry in C), so the page's last message - the cookie - is read the moment it comes
    and the request for the next page goes out at once: the DC never waits for the client to decode
    or check a page. The fetch thread does nothing else; the main thread checks the pages.
    """
    base = part.task.base
    control = SimplePagedResultsControl(True, size=page_size, cookie="")
    paged_type = SimplePagedResultsControl.controlType
    entry_type = ldap.RES_SEARCH_ENTRY
    try:
        if part.conn is None:
            while not previous.sent.wait(0.1):
                if state.stop.is_set():
                    return
            time.sleep(CONNECT_DELAY)
            part.conn = part.connect()
        started = time.monotonic()
        conn = part.conn.conn
        result3 = conn.result3
        msgid = conn.search_ext(base, ldap.SCOPE_SUBTREE, flt, attrs, serverctrls=[control])
        part.sent.set()
        page = []
        append = page.extend
        while not state.stop.is_set():
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
                msgid = conn.search_ext(base, ldap.SCOPE_SUBTREE, flt, attrs, serverctrls=[control])
            part.fetched += len(page)
            buffer.put(page)
            page = []
            append = page.extend
            if not cookie:
                break
        part.seconds = time.monotonic() - started
        buffer.finish()
    except Exception as exc:  # ldap.LDAPError or lc.LdapError mostly; surfaced by the main thread
        state.fail(part.task, exc)
    finally:
        part.sent.set()  # never leave the next part waiting


def describe_failure(task, exc, params):
    """One line: which search failed, where, after how many objects, and why."""
    conn = task.conn
    if isinstance(exc, lc.LdapError):
        cause = exc.message.rstrip(".")
    elif isinstance(exc, ldap.TIMEOUT):
        cause = "no answer within page_timeout=%ss" % params.get("page_timeout")
    elif isinstance(exc, ldap.LDAPError):
        cause = lc.describe_ldap_exception(exc, conn.server, conn.port, params).message.rstrip(".")
    else:
        cause = "%s: %s" % (exc.__class__.__name__, exc)
    where = "%s:%s: " % (conn.server, conn.port)
    if cause.startswith(where):
        cause = cause[len(where):]
    return lc.LdapError(
        "The scan of %s on %s:%s failed after %d objects: %s. No report was written (a partial scan is not a "
        "result)." % (task.base or "the global catalog", conn.server, conn.port,
                      sum(part.fetched for part in task.parts), cause),
        "Check that the domain controller runs and is reachable, then run the scan again.",
        conn.server, "scan")


def run(scan_plan, engine, params, progress=None, new_spill=MemorySpill):
    """Stream every search of the plan through the engine. Raises LdapError when a search fails.

    Every part of every search runs in a fetch thread of its own (one connection each); this thread
    checks the pages as they arrive and calls progress() after every page. Each part is a lane of the
    engine (RuleEngine.lane): its objects take the part's place in the report, the plan's order.
    new_spill() makes the store of the pages a part holds beyond MEMORY_PAGES (SpillFile over an
    unlinked temporary file in the module; MemorySpill in tests).
    """
    progress = progress or (lambda: None)
    flt = params["filter"]
    attrs = (scan_plan.attributes or ["cn"]) + list(IDENTITY_ATTRIBUTES)
    state = _ScanState()
    process = engine.process
    work = []
    for task in scan_plan.tasks:
        previous = None
        for part in task.parts:
            buffer = PageBuffer(state, new_spill)
            thread = threading.Thread(
                target=_fetch, name="readiness-%s" % task.base, daemon=True,
                args=(part, previous, part.filter(flt), attrs, params["page_size"], params["page_timeout"], buffer,
                      state))
            work.append((task, buffer, thread))
            previous = part
    previous_interval = sys.getswitchinterval()
    # A fetch thread waiting for the GIL to store a page (and send the next request) gets it sooner.
    sys.setswitchinterval(0.0005)
    try:
        for _task, _buffer, thread in work:
            thread.start()
        buffers = [buffer for _task, buffer, _thread in work]
        current = 0
        while True:
            lane, page = next_page(state, buffers)
            if page is None:
                break
            if lane != current:
                engine.lane(lane)
                current = lane
            count = 0
            for dn, entry in page:
                if dn is not None:  # None: a continuation reference (another partition)
                    process(dn, entry)
                    count += 1
            work[lane][0].objects += count
            progress()
    except ScanFailed as failed:
        raise describe_failure(failed.task, failed.exc, params) from None
    finally:
        state.stop.set()
        sys.setswitchinterval(previous_interval)


# ---- delta re-scans (issue 17) ------------------------------------------------------------------

def dc_states(scan_plan):
    """Per search: the DC's dnsHostName, its invocationId (NTDS Settings, dsServiceName in the rootDSE)
    and highestCommittedUSN. The rootDSE was read when the connection was made, before any search: an
    object changed during the scan has a higher uSNChanged and is read again by the next delta."""
    states = []
    for task in scan_plan.tasks:
        root = task.conn.root_dse
        usn = lc.first(root, "highestCommittedUSN") or ""
        service = lc.first(root, "dsServiceName")
        invocation = None
        if service:
            settings = task.conn.read_entry(service, ["invocationId"])
            values = (settings or {}).get("invocationId") or (settings or {}).get("invocationID")
            if values:
                invocation = values[0].hex()
        states.append({"base": task.base, "nc": task.nc, "server": lc.first(root, "dnsHostName") or task.conn.server,
                       "invocation_id": invocation, "usn": int(usn) if usn.isdigit() else None})
    return states


def _paged(conn, base, flt, attrs, controls=()):
    """Paged subtree search with extra controls (show deleted); yields (dn, entry)."""
    return conn.search(base, flt, attrs, controls=controls)


def _guid(entry):
    values = entry.get("objectGUID")
    return bytes(values[0]) if values else None


def containers(scan_plan, above=None):
    """(objectGUID, DN, uSNCreated) of the OUs and containers under each base; `above`: per search, only
    those changed since that USN."""
    found = []
    for number, task in enumerate(scan_plan.tasks):
        flt = CONTAINER_FILTER
        if above is not None:
            flt = "(&%s(uSNChanged>=%d))" % (flt, above[number] + 1)
        for dn, entry in _paged(task.conn, task.base, flt, ["objectGUID", "uSNCreated"]):
            created = lc.first(entry, "uSNCreated") or ""
            found.append((_guid(entry), dn, int(created) if created.isdigit() else None))
    return found


# BUILTIN\Administrators (S-1-5-32-544) as a binary SID: AD's Deleted Objects containers grant listing
# to it and SYSTEM only, so for any other account a show-deleted search silently returns no tombstones
ADMINISTRATORS_SID = bytes([1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 32, 2, 0, 0])


def _tombstones_visible(conn):
    """Whether the bound account is in BUILTIN\\Administrators (the rootDSE's tokenGroups: the SIDs of
    this connection's security context); only then are tombstones trusted to be complete."""
    try:
        res = conn.conn.search_ext_s("", ldap.SCOPE_BASE, "(objectClass=*)", ["tokenGroups"])
    except ldap.LDAPError:
        return False
    for dn, entry in res:
        if dn is not None:
            values = entry.get("tokenGroups") or entry.get("tokengroups") or []
            return ADMINISTRATORS_SID in [bytes(v) for v in values]
    return False


def run_delta(scan_plan, engine, params, since):
    """Read what changed since the last scan (since: per search, that scan's highestCommittedUSN) into the
    engine's index. Each search reads its naming context (uSNChanged is indexed), so an object moved out
    of a search base is seen too: objects under another search's base are left to that search, objects
    under no base leave the index. Deleted objects leave the index: read as tombstones (show-deleted
    control, uSNChanged above the last scan's) when the account is an administrator, else found by a pass that
    reads only the objectGUID of every object the filter selects (those no longer there are removed).
    Returns (objects read, objects removed from the index, how deletions were found)."""
    index = engine.index
    flt = params["filter"]
    attrs = (scan_plan.attributes or ["cn"]) + list(IDENTITY_ATTRIBUTES)
    bases = [task.base for task in scan_plan.tasks]
    read = removed = 0
    deleted_control = ldap.controls.LDAPControl(SHOW_DELETED_OID, True, None)
    done_nc = set()
    enumerate_all = False
    for number, task in enumerate(scan_plan.tasks):
        usn = since[number] + 1
        started = time.monotonic()
        key = (task.conn.server.lower(), task.nc.lower())
        if key not in done_nc:
            done_nc.add(key)
            if _tombstones_visible(task.conn):
                gone = [_guid(entry) for _dn, entry in _paged(
                    task.conn, task.nc, "(&(isDeleted=TRUE)(uSNChanged>=%d))" % usn, ["objectGUID"],
                    [deleted_control])]
                removed += index.remove([g for g in gone if g])
            else:
                enumerate_all = True
        try:
            for dn, entry in _paged(task.conn, task.nc, "(&%s(uSNChanged>=%d))" % (flt, usn), attrs):
                read += 1
                task.objects += 1
                guid = _guid(entry)
                if _is_under(dn, task.base):
                    if guid:
                        index.remove([guid])  # its old rows and values go; process() adds the new ones
                    engine.process(dn, entry)
                elif not any(_is_under(dn, base) for base in bases):
                    removed += index.remove([guid]) if guid else 0  # moved out of the scanned subtrees
        except lc.LdapError as err:
            raise describe_failure(task, err, params) from None
        task.parts = [SearchPart(task, task.conn)]
        task.parts[0].seconds = time.monotonic() - started
        task.parts[0].fetched = task.objects
    if not enumerate_all:
        return read, removed, "tombstones"
    index.flush()
    seen = index.begin_seen()
    for task in scan_plan.tasks:
        try:
            seen([_guid(entry) for _dn, entry in _paged(task.conn, task.base, flt, ["objectGUID"])])
        except lc.LdapError as err:
            raise describe_failure(task, err, params) from None
    return read, removed + index.remove_unseen(), "enumeration"
