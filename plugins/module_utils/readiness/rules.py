# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IdFix's multi-tenant rule set, applied to directory entries as they stream in.

The rules are data (data/idfix_rules.json, transcribed from microsoft/idfix c1b74fe, IdFix 2.6.0.3);
this module is the engine that runs them with IdFix's semantics:

- Skip (Rules/MultiTenantRuleCollection.cs, Skip): cn ending in $, Settings/Constants.cs
  WellKnownExclusions (cn prefixes), conflict objects (DN contains \\0ACNF:), isCriticalSystemObject,
  users with service sAMAccountName / mailNickname prefixes, hidden MSOL users, excluded
  msExchRecipientTypeDetails, security groups without mail, distribution groups without
  proxyAddresses.
- Composed rules (Rules/ComposedRule.cs): per attribute, the first value (every value of
  proxyAddresses, Rules/MultiTentant/ProxyAddressComposedRule.cs) goes through the attribute's checks
  in order; a failing check replaces the value with its fix and the next check sees the fixed value.
  One report row per failing value: the error kinds of every failing check, the last fix as the
  suggested value, the last failing check's action (edit, complete, remove).
- Duplicates (DuplicateStore.cs, Rules/Shared/NoDuplicatesRule.cs): per attribute, case-insensitive,
  over the whole scan (every search base and partition); proxyAddresses compare with their prefix.
  Every holder of a duplicated value is reported (IdFix's documented behaviour: "All duplicate values
  will be displayed as errors").

Memory: the engine keeps nothing per object. Each object goes to the scan's value index
(readiness/index.py, SQLite): its status, its offending values and every value a duplicate rule
compares. finish() finds the duplicates there by SQL. Rows are in the index's order (the order the
objects were read, rule order, value order): a full scan writes each object's rows as it reads it and
finish() rewrites those of the objects holding a duplicated value (RuleEngine's draft); a delta re-scan
(which updates the index, keeping each changed object's place) renders every row from the index.

Deviations from IdFix 2.6.0.3 (documented in docs/readiness.md):
- msExchRecipientTypeDetails is compared as a number; IdFix compares its text with "0x1000" etc.,
  which never matches the decimal text AD returns.
- A duplicate's first holder (the first read) is reported once per value (IdFix adds it only
  when the duplicate's action is edit, and once per further duplicate).
- The duplicate action of a proxyAddresses value compares the value with its own original value
  (IdFix compares with the object's first proxyAddresses value).
- Case-insensitive means Unicode lower-case mapping (IdFix: .NET InvariantCultureIgnoreCase);
  pattern letters match ASCII letters of either case.
"""

from __future__ import annotations

import array
import collections
import hashlib
import json
import marshal
import re

from ansible_collections.ems.enable.plugins.module_utils import data_files
from ansible_collections.ems.enable.plugins.module_utils.readiness import index as vindex
from ansible_collections.ems.enable.plugins.module_utils.readiness import report

# .NET's \s: [\f\n\r\t\v\x85\p{Z}] (Unicode separators). Python's \s differs (it includes \x1c-\x1f).
NET_WHITESPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_BACKSLASH_S = re.compile(r"(?<!\\)((?:\\\\)*)\\s")

_TABLE = None


def load_table():
    """The rule table (data/idfix_rules.json)."""
    global _TABLE
    if _TABLE is None:
        _TABLE = json.loads(data_files.read_text("readiness", "idfix_rules.json"))
    return _TABLE


def compile_pattern(dotnet_pattern):
    """IdFix's .NET pattern (IgnoreCase | CultureInvariant) as a Python regex."""
    python = _BACKSLASH_S.sub(lambda m: m.group(1) + NET_WHITESPACE, dotnet_pattern)
    return re.compile(python, re.IGNORECASE | re.ASCII)


def _table_constants():
    table = load_table()
    kinds = [(k["kind"], k["bit"]) for k in table["error_kinds"]["values"]]
    return table, kinds


TABLE, _KINDS = _table_constants()
ERROR_KINDS = tuple(kind for kind, _bit in _KINDS)
KIND_MEANING = {k["kind"]: k["meaning"] for k in TABLE["error_kinds"]["values"]}
KIND_BIT = dict(_KINDS)
FORMAT, BLANK, DUPLICATE, CHARACTER, TOP_LEVEL_DOMAIN, DOMAIN_PART, LOCAL_PART, LENGTH = (
    KIND_BIT[k] for k in ("format", "blank", "duplicate", "character", "top_level_domain", "domain_part",
                          "local_part", "length"))
DEFAULT_FILTER = TABLE["default_filter"]["value"]
QUERY_ATTRIBUTES = tuple(TABLE["attributes_to_query"]["values"])
RULE_ATTRIBUTES = tuple(rule["attribute"] for rule in TABLE["rules"])
SKIP_REASONS = (
    "cn_ends_with_dollar", "well_known_exclusion", "conflict_object", "critical_system_object",
    "user_sam_account_name_prefix", "user_mail_nickname_prefix", "user_hidden_msol",
    "user_recipient_type", "security_group_without_mail", "distribution_group_without_proxy_addresses",
)

# kinds of a bit set, in IdFix's order; precomputed for every combination
_BITS_TO_KINDS = {bits: tuple(kind for kind, bit in _KINDS if bits & bit) for bits in range(256)}
_DUPLICATE_CHECKS = ("duplicate", "duplicate_sam")  # compared across the directory once the scan is complete
# the attributes a duplicate rule compares (any of a rule's step lists), e.g. for directory_remediation's holder search
DUPLICATE_ATTRIBUTES = frozenset(rule["attribute"] for rule in TABLE["rules"] if any(
    spec["check"] in _DUPLICATE_CHECKS for key, specs in rule.items() if key.endswith("steps") for spec in specs))
_ACTIONS = ("edit", "complete", "remove")


def kinds_of(bits):
    return list(_BITS_TO_KINDS[bits])


def utf16_len(value):
    """Length as .NET counts it (UTF-16 code units)."""
    if value.isascii():
        return len(value)
    return len(value) + sum(1 for char in value if ord(char) > 0xFFFF)


def utf16_cut(value, limit):
    """value.Substring(0, limit) in .NET terms; a surrogate pair cut in half is dropped."""
    if value.isascii():
        return value[:limit]
    return value.encode("utf-16-le", "surrogatepass")[:2 * limit].decode("utf-16-le", "ignore")


def _text(value):
    return value.decode("utf-8", "replace") if isinstance(value, (bytes, bytearray)) else value


def _first_rdn_value(dn):
    head = dn.split(",", 1)[0]
    return head.split("=", 1)[1] if "=" in head else head


class SpillFile:
    """Append-only record file (marshal): the pages a part of the scan read ahead of the rules (scan.PageBuffer)."""

    def __init__(self, handle):
        self.handle = handle
        self.position = 0

    def append(self, record):
        data = marshal.dumps(record)
        self.handle.write(len(data).to_bytes(4, "little"))
        self.handle.write(data)
        offset = self.position
        self.position += 4 + len(data)
        return offset

    def read(self, offset):
        handle = self.handle
        handle.seek(offset)  # flushes pending writes
        size = int.from_bytes(handle.read(4), "little")
        record = marshal.loads(handle.read(size))
        handle.seek(0, 2)
        return record


class MemorySpill:
    """In-memory stand-in for SpillFile (unit tests, small scans)."""

    def __init__(self):
        self.records = []
        self.position = 0

    def append(self, record):
        self.records.append(record)
        self.position = len(self.records)
        return self.position - 1

    def read(self, offset):
        return self.records[offset]


class IgnoreList:
    """The user's ignore list: a DN (case-insensitive) ignores that object and everything below it;
    an entry with * ? or [ ] is a shell pattern matched against the whole DN (case-insensitive)."""

    def __init__(self, entries):
        import fnmatch

        self.entries = list(entries or [])
        subtrees, patterns = [], []
        for entry in self.entries:
            text = entry.strip()
            if any(c in text for c in "*?["):
                patterns.append(fnmatch.translate(text))
            else:
                subtrees.append(re.sub(r"\s*,\s*", ",", text).lower())
        self.subtrees = tuple(subtrees)
        self.suffixes = tuple("," + s for s in subtrees)
        self.pattern = re.compile("|".join(patterns), re.IGNORECASE | re.DOTALL) if patterns else None

    def __bool__(self):
        return bool(self.entries)

    def __call__(self, dn):
        if self.subtrees:
            low = dn.lower()
            if low in self.subtrees or low.endswith(self.suffixes):
                return True
        return bool(self.pattern and self.pattern.match(dn))


class _OneObject:
    """The index of RuleEngine.check_alone: keeps the values of the one object added."""

    vals = ()

    def add(self, guid, dn, usn, changed, otype, status, vals):  # pylint: disable=unused-argument,too-many-arguments
        self.vals = vals or ()
        return 1


class RuleEngine:
    """Runs the rules over entries, one at a time; the report rows go to `sink(row)` (a dict per row) or, given
    `rows`, to `rows(head, [(attribute, value, errors, suggested value, action)])` once per object, head
    being (dn, object class, uSNChanged, whenChanged) - ReportWriter.rows.

    `tlds`: IdFix's routable TLDs with their leading dot (ad.facts.routable_tlds()).
    `index`: the scan's ValueIndex (readiness/index.py); default, one in memory.
    `draft`: the ReportWriter (report.py) of a full scan whose index is new: each object's rows are
    written as it is read, as if no value were duplicated, and finish() rewrites the rows of the few objects
    that hold a duplicated value (found once the scan is complete). Without it (a delta, tests) finish()
    renders every row from the index. Both give the same rows in the same order: the index's.
    """

    def __init__(self, tlds, sink, index=None, ignore=None, table=None, draft=None, rows=None):
        self.table = table or TABLE
        self.tlds = tlds
        self.sink = sink
        self._out = rows if rows is not None else (_dict_rows(sink) if sink is not None else None)
        self.index = index if index is not None else vindex.ValueIndex()
        self.ignore = ignore if ignore else None
        patterns = self.table["patterns"]
        self.rx = {name: compile_pattern(p["value"]) for name, p in patterns.items()}
        self._smtp = self.rx["smtp"].search
        self._well_formed = self.rx["rfc2822"].search
        skip = self.table["skip"]
        self._skip_cn_suffix = skip["cn_suffix"]
        self._skip_prefixes = tuple(p.upper() for p in skip["well_known_exclusions"])
        self._skip_cnf = re.compile(re.escape(skip["conflict_dn_marker"]) + "|\nCNF:", re.IGNORECASE)
        self._skip_sam = tuple(p.upper() for p in skip["user_sam_account_name_prefixes"])
        self._skip_nick = tuple(p.upper() for p in skip["user_mail_nickname_prefixes"])
        self._skip_msol = skip["user_hidden_display_name_prefix"].upper()
        self._skip_rtd = frozenset(skip["user_recipient_type_details"])
        self._skip_status = {reason: vindex.STATUS_SKIPPED + n for n, reason in enumerate(SKIP_REASONS)}
        # attribute names as the server spells them -> canonical spelling
        self._canon = {}
        self._canon_lower = {a.lower(): a for a in QUERY_ATTRIBUTES}
        self._canon_lower["distinguishedname"] = None
        self._attr_no = {a: n for n, a in enumerate(RULE_ATTRIBUTES)}
        self._rules = [self._compile_rule(rule) for rule in self.table["rules"]]
        self.found = 0  # entries read by this run (a delta: the changed ones)
        self.summary_counts = None
        self.draft = draft
        self.replace = []  # a draft's rewritten row ranges, for ReportWriter.commit
        self._marks = {}  # lane -> per object of the lane, in id order: its rows' offsets (CSV, JSON; a draft)
        self._reset_counts()
        # per-entry state
        self._dn = self._cn = self._otype = None
        self._entry = None
        self._vals = None

    # ---- building the rules from the table -------------------------------------------------
    def _step(self, spec):
        check = spec["check"]
        # The checks run for every value read: the commonest are one closure each, without a further call.
        if check == "length":
            limit = spec["max"]

            def length(value):
                # Rules/Shared/StringMaxLengthRule.cs (.NET length: UTF-16 code units)
                if len(value) > limit or (not value.isascii() and utf16_len(value) > limit):
                    return LENGTH, utf16_cut(value, limit), 0
                return None
            return length
        if check == "length_sam":
            limit, limit_user = spec["max"], spec["max_user"]
            return lambda value: self._length(value, limit_user if self._otype_lower == "user" else limit)
        if check == "blank":
            return self._blank
        if check == "characters":
            search, sub = self.rx[spec["pattern"]].search, self.rx[spec["pattern"]].sub

            def characters(value):
                # Rules/Shared/RegexRule.cs: remove the matches; cn when nothing is left
                if search(value):
                    return CHARACTER, sub("", value) or self._cn, 0
                return None
            return characters
        if check == "colon":
            return self._colon
        if check == "rfc2822":
            return self._rfc2822
        raise ValueError("idfix_rules.json: unknown check %r" % check)

    def _chain(self, specs):
        """A rule's checks as (the checks before its duplicate check, the duplicate check - "duplicate",
        "duplicate_sam" or None - and the checks after it)."""
        at = [n for n, spec in enumerate(specs) if spec["check"] in _DUPLICATE_CHECKS]
        if len(at) > 1:
            raise ValueError("idfix_rules.json: more than one duplicate check in a rule")
        if not at:
            return tuple(self._step(spec) for spec in specs), None, ()
        return (tuple(self._step(spec) for spec in specs[:at[0]]), specs[at[0]]["check"],
                tuple(self._step(spec) for spec in specs[at[0] + 1:]))

    def _compile_rule(self, rule):
        attr = rule["attribute"]
        steps = rule["steps"]
        base = self._chain(steps)
        blank = ((self._blank,), None, ()) if any(s["check"] == "blank" for s in steps) else None
        branches = None
        if "smtp_steps" in rule:
            branches = (
                self._chain(steps + rule["smtp_steps"]),
                self._chain(steps + rule.get("x400_steps", rule["other_steps"])),
                self._chain(steps + rule.get("x500_steps", rule["other_steps"])),
                self._chain(steps + rule["other_steps"]),
                "x400_steps" in rule,
            )
        each = rule.get("values") == "each"
        x400, x500 = self.rx["x400_prefix"].search, self.rx["x500_prefix"].search
        smtp = self._smtp
        run = self._run_chain

        def apply(entry):
            values = entry.get(attr)
            if not values:
                if blank is not None:
                    run(attr, None, blank)
                return
            if branches is None:  # single-valued rules: the first value, the attribute's checks
                run(attr, values[0].decode("utf-8", "replace"), base)
                return
            for raw in (values if each else values[:1]):
                value = raw.decode("utf-8", "replace")
                if smtp(value):
                    chain = branches[0]
                elif branches[4] and x400(value):
                    chain = branches[1]
                elif branches[4] and x500(value):
                    chain = branches[2]
                else:
                    chain = branches[3]
                run(attr, value, chain)

        return apply

    def _run_chain(self, attr, value, chain):
        """Apply one chain (see _chain) to one value and keep what the index needs of it: the value failed a
        check, or a duplicate check compares it (as it is at that check, lower-cased)."""
        before, dup, after = chain
        bits = action = 0
        current = value
        for step in before:
            result = step(current)
            if result is not None:
                failed, current, action = result
                bits |= failed
        checked = current
        post = 0  # a check after the duplicate one failed
        for step in after:
            result = step(current)
            if result is not None:
                failed, current, action = result
                bits |= failed
                post = 1
        if dup == "duplicate_sam" and "userPrincipalName" in self._entry:
            dup = None  # Rules/MultiTentant/SamAccountNameDuplicateRule.cs: only without userPrincipalName
        if dup is None:
            if bits:
                self._vals.append((len(self._vals), self._attr_no[attr], None, value, bits,
                                   None if current == value else current, action, 0, 0))
            return
        # Rules/Shared/NoDuplicatesRule.cs, DuplicateStore.cs: recorded now, decided once the scan is complete
        entry = self._entry
        dup_action = self._duplicate_action(attr, value, checked, ("mailNickname" in entry, "homeMDB" in entry))
        self._vals.append((len(self._vals), self._attr_no[attr], checked.lower(), value, bits,
                           None if current == value else current, action, post, dup_action))

    # ---- checks: each returns None (pass) or (error bits, fixed value, action index) -------------
    def _length(self, value, limit):
        # Rules/Shared/StringMaxLengthRule.cs (.NET length: UTF-16 code units)
        if len(value) > limit or (not value.isascii() and utf16_len(value) > limit):
            return LENGTH, utf16_cut(value, limit), 0
        return None

    def _blank(self, value):
        # Rules/Shared/BlankStringRule.cs; the fixer of displayName is cn (MultiTenantRuleCollection.cs)
        if not value:
            return BLANK, self._cn, 0
        return None

    @staticmethod
    def _colon(value):
        # Rules/Shared/FixProxyTargetAddressRule.cs
        colon = value.find(":")
        if colon > 0:
            suffix = value[colon + 1:]
            if ":" in suffix:
                return CHARACTER, value[:colon] + ":" + suffix.replace(":", ""), 0
        return None

    def _rfc2822(self, value):
        # Rules/Shared/RFC2822Rule.cs
        rx = self.rx
        smtp = self._smtp(value)
        address = value[value.index(":") + 1:] if smtp else value
        bits = 0
        dot = address.rfind(".")
        if dot != -1:
            tld = address[dot:].lower()
            if len(tld) > 1 and tld not in self.tlds:
                bits |= TOP_LEVEL_DOMAIN
        if not self._well_formed(address):
            if not rx["domain_part"].search(address):
                bits |= DOMAIN_PART
                at = address.rfind("@")
                if at != -1:
                    address = address[:at + 1] + rx["domain_part_fix"].sub("", address[at + 1:])
            if not rx["local_part"].search(address) or address.count("@") > 1:
                bits |= LOCAL_PART
                at = address.rfind("@")
                if at != -1:
                    address = (rx["local_part_fix"].sub("", address[:at]) + address[at:]).replace(".@", "@")
            if not rx["rfc2822"].search(address):
                bits |= FORMAT
        # else the whole pattern holds, so do its domain and local parts, with a single "@" (neither part's
        # characters include it): only the TLD can fail, and nothing is rewritten
        if not bits:
            return None
        if smtp:
            address = value[:value.index(":") + 1].strip() + address
        return bits, address, 0

    def _duplicate_action(self, attr, original, value, flags):
        """IdFix's proposed action for a duplicate (NoDuplicatesRule.cs): 0 edit, 1 complete, 2 remove."""
        has_nickname, has_home_mdb = flags
        if original != value:
            return 0
        if attr == "proxyAddresses":
            if self._smtp(value):
                if has_nickname:
                    return 1 if value[:5].lower() == "smtp:" else 0
                return 2
            return 0
        if attr in ("userPrincipalName", "mail", "sAMAccountName"):
            return 1 if has_nickname else 0
        if attr == "mailNickname":
            return 1 if has_home_mdb else 0
        return 0

    # ---- skip (Rules/MultiTenantRuleCollection.cs, Skip) ------------------------------------
    def _skip_reason(self, dn, entry, cn, otype):
        if cn.endswith(self._skip_cn_suffix):
            return "cn_ends_with_dollar"
        if cn.upper().startswith(self._skip_prefixes):
            return "well_known_exclusion"
        if ":" in dn and self._skip_cnf.search(dn):
            return "conflict_object"
        critical = entry.get("isCriticalSystemObject")
        if critical and critical[0].strip().lower() == b"true":
            return "critical_system_object"
        kind = self._otype_lower
        if kind == "user":
            sam = entry.get("sAMAccountName")
            if sam and _text(sam[0]).upper().startswith(self._skip_sam):
                return "user_sam_account_name_prefix"
            nick = entry.get("mailNickname")
            if nick and _text(nick[0]).upper().startswith(self._skip_nick):
                return "user_mail_nickname_prefix"
            display, hidden = entry.get("displayName"), entry.get("msExchHideFromAddressLists")
            if display and hidden and hidden[0].strip().lower() == b"true" \
                    and _text(display[0]).upper().startswith(self._skip_msol):
                return "user_hidden_msol"
            details = entry.get("msExchRecipientTypeDetails")
            if details:
                text = _text(details[0]).strip()
                try:
                    number = int(text, 16) if text.lower().startswith("0x") else int(text)
                except ValueError:
                    number = None
                if number in self._skip_rtd:
                    return "user_recipient_type"
        elif kind == "group":
            group_type = entry.get("groupType")
            if group_type:
                try:
                    security = int(group_type[0]) < 0
                except ValueError:
                    return None
                if security:
                    if "mail" not in entry:
                        return "security_group_without_mail"
                elif "proxyAddresses" not in entry:
                    return "distribution_group_without_proxy_addresses"
        return None

    # ---- the entry point -------------------------------------------------------------------
    def _canonical(self, name):
        canon = self._canon_lower.get(name.lower(), False)
        self._canon[name] = canon
        return canon

    def process(self, dn, raw):
        """Check one search result entry (dn, {attribute: [bytes]}) and put it in the index."""
        self.found += 1
        guid, usn, changed = _identity(raw)
        if self.ignore is not None and self.ignore(dn):
            self._added(self.index.add(guid, dn, usn, changed, None, vindex.STATUS_IGNORED, None))
            return
        entry = {}
        canon = self._canon
        for name, values in raw.items():
            key = canon.get(name)
            if key is None:
                key = self._canonical(name)
            if key:
                entry[key] = values
        cn = entry.get("cn")
        cn = cn[0].decode("utf-8", "replace") if cn else _first_rdn_value(dn)
        classes = entry.get("objectClass")
        otype = classes[-1].decode("utf-8", "replace") if classes else ""
        self._otype_lower = otype.lower()
        reason = self._skip_reason(dn, entry, cn, otype)
        if reason is not None:
            self._added(self.index.add(guid, dn, usn, changed, otype, self._skip_status[reason], None))
            return
        self._dn, self._cn, self._otype, self._entry = dn, cn, otype, entry
        self._vals = []
        for rule in self._rules:
            rule(entry)
        vals = self._vals
        self._vals = None
        oid = self.index.add(guid, dn, usn, changed, otype, vindex.STATUS_CHECKED, vals)
        self._added(oid)
        if self.draft is not None and vals:
            self._emit((dn, otype, usn, changed), self._draft_rows(v[1:] for v in vals), self._out)

    def check_alone(self, dn, raw):
        """The report rows [(attribute, value, error kinds)] of one object checked on its own: its values
        duplicated within it count, no other object's do (directory_remediation searches the directory for other
        holders). What process() and finish() of a new engine give for it, without an index: one engine checks
        any number of objects (an engine with its index costs about 1 ms to make)."""
        index, self.index = self.index, _OneObject()
        try:
            self.process(dn, raw)
            vals = self.index.vals
        finally:
            self.index = index
        holders = collections.Counter((v[1], v[2]) for v in vals if v[2] is not None)
        rows = self._object_rows([v[1:] + (v[2] is not None and holders[(v[1], v[2])] > 1,) for v in vals], set())
        return [(attr, value, _BITS_TO_KINDS[bits]) for attr, value, bits, _suggested, _action in rows]

    def _reset_counts(self):
        self._rows = self._with_errors = 0
        self._by_kind = dict.fromkeys(ERROR_KINDS, 0)
        self._by_attribute = {a: dict.fromkeys(ERROR_KINDS, 0) for a in RULE_ATTRIBUTES}

    def lane(self, number):
        """The next objects come from part `number` of a full scan (its ids and rows: ValueIndex.lane and
        ReportWriter.lane), so that the parts' pages can be checked in the order they arrive."""
        self.index.lane(number)
        if self.draft is not None:
            self.draft.lane(number)

    def _added(self, oid):
        """Record where the rows of a new object start (a draft); ids are 1, 2, ... of its lane in a new index."""
        if self.draft is not None:
            lane, at = divmod(oid - 1, vindex.LANE_IDS)
            marks = self._marks.get(lane)
            if marks is None:
                marks = self._marks[lane] = (array.array("q"), array.array("q"))
            if at != len(marks[0]):
                raise ValueError("a draft needs a new index (object id %d after %d)" % (oid, len(marks[0])))
            csv_at, json_at = self.draft.mark()
            marks[0].append(csv_at)
            marks[1].append(json_at)

    @staticmethod
    def _object_rows(vals, first_seen):
        """(attribute, value, bits, suggested, action) of the report rows of one object. vals: (attr, key, value,
        bits, suggested, action, post, dup_action, duplicated) in the object's value order; first_seen: the
        duplicated values whose first holder was reported (updated)."""
        for attr_no, key, value, bits, suggested, action, post, dup_action, duplicated in vals:
            attr = RULE_ATTRIBUTES[attr_no]
            if duplicated:
                mark = (attr_no, key)
                if mark not in first_seen:  # the first holder: its own row, then the duplicate row
                    first_seen.add(mark)
                    if bits:
                        yield attr, value, bits, suggested, action
                    yield attr, value, DUPLICATE, None, dup_action
                    continue
                yield attr, value, bits | DUPLICATE, suggested, action if post else dup_action
            elif bits:
                yield attr, value, bits, suggested, action

    @classmethod
    def _draft_rows(cls, vals):
        """An object's rows as the draft wrote them, as if none of its values were duplicated. vals: (attr, key,
        value, bits, suggested, action, post, dup_action)."""
        return cls._object_rows([v + (False,) for v in vals if v[3]], None)

    def _emit(self, head, rows, out, sign=1):
        """Count one object's rows (sign -1: take back the rows of its draft) and give them to out(head, rows)."""
        by_kind, by_attribute = self._by_kind, self._by_attribute
        done = []
        for attr, value, bits, suggested, action in rows:
            kinds = _BITS_TO_KINDS[bits]
            per_attr = by_attribute[attr]
            for kind in kinds:
                by_kind[kind] += sign
                per_attr[kind] += sign
            done.append((attr, value, kinds, suggested, _ACTIONS[action]))
        if done:
            self._rows += sign * len(done)
            self._with_errors += sign
            if out is not None:
                out(head, done)

    def finish(self):
        """The scan is complete: find the duplicates in the index and emit the report rows (a draft: rewrite
        the rows of the objects holding a duplicated value). Returns the summary (also kept for summary())."""
        index = self.index
        if self.draft is not None and self.summary_counts is not None:
            return self.summary_counts  # the draft's rows were rewritten once
        distinct = index.duplicates()
        first_seen = set()  # duplicated values whose first holder was reported
        if self.draft is None:
            self._reset_counts()
            for _oid, head, vals in index.report_objects():
                self._emit(head, self._object_rows(vals, first_seen), self._out)
        else:
            self.replace = []
            ends = self.draft.ends()
            for oid, head, vals in index.report_objects(affected=True):
                self._emit(head, self._draft_rows(v[:8] for v in vals), None, -1)  # take the draft's rows back
                data = self.draft.capture(lambda sink: self._emit(head, self._object_rows(vals, first_seen), sink))
                lane, at = divmod(oid - 1, vindex.LANE_IDS)
                marks = self._marks[lane]
                spans = [(marks[n][at], marks[n][at + 1] if at + 1 < len(marks[n]) else ends[lane][n]) for n in (0, 1)]
                self.replace.append((spans[0], spans[1], data, lane))
            if (self.replace or len(self._marks) > 1) and self.draft.keep:
                # rows returned with show_values (the draft kept the first ones checked): rendered again, in order
                kept, first_seen = [], set()
                objects = index.report_objects()
                for _oid, head, vals in objects:
                    self._emit(head, self._object_rows(vals, first_seen), _dict_rows(kept.append), 0)
                    if len(kept) >= self.draft.keep:
                        break
                objects.close()
                self.draft.kept = kept[:self.draft.keep]
        by_kind, by_attribute = self._by_kind, self._by_attribute
        statuses = index.status_counts()
        skipped = {reason: statuses.get(self._skip_status[reason], 0) for reason in SKIP_REASONS}
        self.summary_counts = {
            "objects_found": sum(statuses.values()),
            "objects_ignored": statuses.get(vindex.STATUS_IGNORED, 0),
            "objects_skipped": sum(skipped.values()),
            "objects_checked": statuses.get(vindex.STATUS_CHECKED, 0),
            "objects_with_errors": self._with_errors,
            "errors": self._rows,
            "skipped": skipped,
            "by_error": by_kind,
            "by_attribute": {a: {k: n for k, n in c.items() if n} for a, c in by_attribute.items()},
            "duplicates": {a: n["duplicate"] for a, n in by_attribute.items() if n["duplicate"]},
            "distinct_values_tracked": distinct,
        }
        return self.summary_counts

    def summary(self):
        if self.summary_counts is None:
            self.finish()
        return dict(self.summary_counts)


def _dict_rows(sink):
    """An object-level row sink (RuleEngine's rows) that gives sink(row) a dict per row."""
    def out(head, rows):
        for row in rows:
            sink(report.row_dict(head, row))
    return out


def _identity(raw):
    """objectGUID (bytes), uSNChanged (int) and whenChanged (text) of an entry, when the scan read them."""
    guid = raw.get("objectGUID")
    usn = raw.get("uSNChanged")
    changed = raw.get("whenChanged")
    if guid is None and usn is None and changed is None and raw:
        lower = {name.lower(): values for name, values in raw.items()}
        guid, usn, changed = lower.get("objectguid"), lower.get("usnchanged"), lower.get("whenchanged")
    guid = bytes(guid[0]) if guid else None
    try:
        usn = int(usn[0]) if usn else None
    except ValueError:
        usn = None
    changed = changed[0].decode("ascii", "replace") if changed else None
    return guid, usn, changed


ENGINE_VERSION = 2  # raise when the engine's reading of the table changes


def rules_fingerprint(tlds):
    """What the findings depend on besides the directory: the rule table, the TLD list, the engine."""
    return hashlib.sha256(json.dumps([ENGINE_VERSION, TABLE, sorted(tlds)], sort_keys=True).encode()).hexdigest()
