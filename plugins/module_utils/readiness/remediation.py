# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apply reviewed fixes of a directory readiness report (ems.enable.directory_remediation), with undo.

Flow (every step before the first write can fail without changing anything):
1. read and check the decisions file (the scan's CSV or JSON with `decision` and `new_value` added per
   row) as a stream into a RowStore (a private temporary SQLite database): one error line naming the row
   and the field, before any connection;
2. connect with the scans' options and safety rules (ldap_client.connect: TLS or sealed Kerberos; DC
   failover happens here, never after the first write: all writes go through this one connection);
3. read every object named by a decided row and plan each row, BATCH rows at a time in the file's order
   (only a batch's objects are in memory; the plan is saved to the store): deleted since the scan, conflict (the
   value is no longer the scanned one), already applied (a second run), refused (the new value fails
   IdFix's rules again - rules.RuleEngine on the object as it would be - or is held by another object,
   found by an LDAP search on the attribute, or by another row of the file), or a change;
4. write the undo LDIF atomically (temporary file, mode 0600, rename; streamed from the store, last change
   first) before the first change;
5. apply the changes, one modify per row, each row's outcome saved as it is known; a refused write is
   reported for its row, and the undo LDIF is rewritten (atomically) with the changes that were made.
The result holds counts, and at most report.SHOW_VALUES_LIMIT rows and diff objects: memory is bounded
whatever the number of decided rows.

Concurrency: a row is written only when the attribute still holds exactly the scanned value (for
proxyAddresses, the value is still one of the object's values) and - when the report carries the
object's uSNChanged (reports since issue 17) and this run writes to the DC the scan read (USNs are per
DC) - the object's uSNChanged is still the scanned one: an object changed since the scan in any
attribute is a conflict, left as it is (scan again). The modify itself is conditional (single-valued
attributes: delete of the scanned value + add of the new one in one request, so a value changed in
between makes the DC refuse the request instead of overwriting it).
"""

from __future__ import annotations

import base64
import csv
import json
import os
import re
import sqlite3
import time

from ansible_collections.ems.enable.plugins.module_utils.ad import facts as ad_facts
from ansible_collections.ems.enable.plugins.module_utils.ad import ldap_client as lc
from ansible_collections.ems.enable.plugins.module_utils.readiness import index as vindex
from ansible_collections.ems.enable.plugins.module_utils.readiness import report
from ansible_collections.ems.enable.plugins.module_utils.readiness import rules
from ansible_collections.ems.enable.plugins.module_utils.private_file import write_atomically

try:
    import ldap
    import ldap.dn
    import ldap.filter
    import ldif
except ImportError:  # pragma: no cover - ldap_client.check_requirements() reports it
    ldap = None

DECISIONS = ("edit", "remove", "complete", "skip")
MULTI_VALUED = frozenset({"proxyAddresses"})
REMEDIATION_SPEC = dict(
    lc.LDAP_ARGUMENT_SPEC,
    mode=dict(type="str", default="apply", choices=["apply", "undo"]),
    decisions_file=dict(type="path"),
    undo_file=dict(type="path", required=True),
    show_values=dict(type="bool", default=False),
)
REMEDIATION_KWARGS = {"required_if": [("mode", "apply", ("decisions_file",))]}
_FORMULA = report._FORMULA_CHARS  # pylint: disable=protected-access  # the CSV's own escaping


def _input(message, remedy=None):
    return lc.LdapError(message, remedy, kind="input")


# ---- the decisions file -----------------------------------------------------------------------

class Row:
    """One decided row of the report (a view of one record of the RowStore)."""

    __slots__ = ("id", "where", "dn", "attribute", "values", "decision", "new_value", "suggested", "status", "reason",
                 "before", "after", "usn")

    def __init__(self, where, dn, attribute, values, decision, new_value, suggested, usn=None):
        self.id = None  # the row's place in the RowStore (the file's order)
        self.where = where  # "row 12" (JSON) or "line 12" (CSV)
        self.dn = dn
        self.attribute = attribute
        self.values = values  # candidate scanned values (CSV: with and without the formula quote); [None] absent
        self.decision = decision
        self.new_value = new_value
        self.suggested = suggested
        self.status = None
        self.reason = None
        self.before = self.after = None
        self.usn = usn  # the object's uSNChanged when it was scanned (None: not in the report)

    def outcome(self):
        out = {"where": self.where, "dn": self.dn, "attribute": self.attribute, "decision": self.decision,
               "status": self.status}
        if self.reason:
            out["reason"] = self.reason
        return out


BATCH = 1000  # rows planned, written and saved together
_STORE_CACHE_KB = 8192


class RowStore:
    """The decided rows of one run and their plan, in a private temporary SQLite database (stdlib sqlite3; the
    empty name makes SQLite create its own temporary file, mode 0600, unlinked as it is opened and gone with the
    run), so memory does not grow with the rows: a million objects' report has 3,000,000 rows. Rows are handled
    in batches of BATCH in the file's order; a batch's statuses are saved before the next is read. The keys
    table holds the values a row claims (one change per value, one holder per new value)."""

    _COLUMNS = "id, wh, dn, attribute, vals, decision, new_value, suggested, usn, status, reason, before, after"

    def __init__(self):
        db = self.db = vindex.open_db("", _STORE_CACHE_KB)
        db.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, wh TEXT, dn TEXT, dnkey TEXT, attribute TEXT, "
                   "vals TEXT, decision TEXT, new_value TEXT, suggested TEXT, usn INTEGER, status TEXT, reason TEXT, "
                   "before TEXT, after TEXT)")
        # the changes planned for an object, replayed when its rows are not in one batch (see plan)
        db.execute("CREATE INDEX changes ON rows (dnkey, id) WHERE status = 'change'")
        db.execute("CREATE TABLE keys (key TEXT PRIMARY KEY, wh TEXT) WITHOUT ROWID")
        db.execute("BEGIN")
        self.count = 0
        self._pending = []

    def __len__(self):
        return self.count

    def __iter__(self):
        return self.rows()

    def add(self, row):
        self.count += 1
        self._pending.append((self.count, row.where, row.dn, row.dn.lower(), row.attribute, json.dumps(row.values),
                              row.decision, row.new_value, row.suggested, row.usn))
        if len(self._pending) >= BATCH:
            self.flush()

    def flush(self):
        if not self._pending:
            return
        self.db.executemany("INSERT INTO rows (id, wh, dn, dnkey, attribute, vals, decision, new_value, suggested, "
                            "usn) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", self._pending)
        self._pending = []

    def _query(self, sql, args=()):
        self.flush()  # rows added and not yet inserted
        return self.db.execute(sql, args)

    def holder(self, key):
        """The row that claimed key first (its "row 12"), or None."""
        found = self._query("SELECT wh FROM keys WHERE key = ?", (key,)).fetchone()
        return found and found[0]

    def claim(self, key, where):
        self.db.execute("INSERT INTO keys VALUES (?, ?)", (key, where))

    @staticmethod
    def _row(record):
        row = Row(record[1], record[2], record[3], json.loads(record[4]), record[5], record[6], record[7], record[8])
        row.id, row.status, row.reason, row.before, row.after = record[0], record[9], record[10], record[11], \
            record[12]
        return row

    def batches(self, statuses=(), reverse=False):
        """Lists of at most BATCH rows (with these statuses), in the file's order or the reverse."""
        where = " AND status IN (%s)" % ", ".join("?" * len(statuses)) if statuses else ""
        sql = "SELECT %s FROM rows WHERE id %s ?%s ORDER BY id %s LIMIT %d" % (
            self._COLUMNS, "<" if reverse else ">", where, "DESC" if reverse else "ASC", BATCH)
        last = self.count + 1 if reverse else 0
        while True:
            records = self._query(sql, (last,) + tuple(statuses)).fetchall()
            if not records:
                return
            yield [self._row(record) for record in records]
            last = records[-1][0]

    def rows(self, statuses=(), reverse=False):
        for batch in self.batches(statuses, reverse):
            yield from batch

    def save(self, rows):
        self.flush()
        self.db.executemany("UPDATE rows SET status = ?, reason = ?, before = ?, after = ? WHERE id = ?",
                            [(r.status, r.reason, r.before, r.after, r.id) for r in rows])

    def planned(self, dn, before_id):
        """(attribute, before, after) of the changes planned for the object dn by rows before before_id."""
        return self._query("SELECT attribute, before, after FROM rows WHERE dnkey = ? AND status = 'change' AND "
                           "id < ? ORDER BY id", (dn.lower(), before_id)).fetchall()

    def has_usn(self):
        """Whether a row carries the object's uSNChanged (reports since issue 17 do)."""
        return self._query("SELECT 1 FROM rows WHERE usn IS NOT NULL LIMIT 1").fetchone() is not None

    def counts(self):
        return dict(self._query("SELECT status, COUNT(*) FROM rows GROUP BY status").fetchall())

    def objects(self, statuses):
        return self._query("SELECT COUNT(DISTINCT dnkey) FROM rows WHERE status IN (%s)" % ", ".join(
            "?" * len(statuses)), tuple(statuses)).fetchone()[0]

    def close(self):
        self.db.close()


def _csv_unquote(text):
    """The CSV quotes a cell starting with a formula character with a leading ': undo it."""
    if text and text[0] == "'" and text[1:2] and text[1] in _FORMULA:
        return text[1:]
    return text


def _csv_rows(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in report.CSV_COLUMNS + ("decision",)
                   if c not in (reader.fieldnames or []) and c not in report.OPTIONAL_COLUMNS]
        if missing:
            raise _input("decisions_file: %s: the CSV lacks the column%s %s (the scan's columns plus decision "
                         "and new_value)." % (path, "s" if len(missing) > 1 else "", ", ".join(missing)))
        for record in reader:
            raw = record.get("value") or ""
            values = [None] if raw == "" else list(dict.fromkeys([_csv_unquote(raw), raw]))
            yield ("line %d" % reader.line_num, record.get("dn") and _csv_unquote(record["dn"]), record.get("attribute"),
                   values, record.get("decision"), _csv_unquote(record.get("new_value") or "") or None,
                   _csv_unquote(record.get("suggested_value") or "") or None, record.get("usn_changed") or None)


_JSON_CHUNK = 1 << 20
_JSON_VALUE_MAX = 64 << 20  # one row (or top-level value) larger than this is not a readiness report's
_JSON_SPACE = re.compile(r"[ \t\n\r]*")


class _JsonStream:
    """A JSON document read in chunks: values are decoded one at a time (json's raw_decode), so a report of
    a million objects (0.9 GB) is never held whole. Hand-written because the standard library has no
    streaming JSON parser; ijson (PyPI) would replace it, at the cost of one more controller requirement."""

    def __init__(self, handle):
        self.handle = handle
        self.buffer = ""
        self.at = 0
        self.base = 0  # characters of the file before the buffer (positions in errors are the file's)
        self.eof = False
        self.decoder = json.JSONDecoder()

    def _more(self):
        if self.eof:
            return False
        chunk = self.handle.read(_JSON_CHUNK)
        self.base += self.at
        self.buffer = self.buffer[self.at:] + chunk
        self.at = 0
        self.eof = not chunk
        return bool(chunk)

    def char(self):
        """The next character that is not white space ("" at the end), not consumed."""
        while True:
            self.at = _JSON_SPACE.match(self.buffer, self.at).end()
            if self.at < len(self.buffer) or not self._more():
                return self.buffer[self.at:self.at + 1]

    def expect(self, chars):
        got = self.char()
        if not got or got not in chars:
            raise ValueError("expected %s at character %d, found %r" % (
                " or ".join(repr(c) for c in chars), self.base + self.at, got or "the end"))
        self.at += 1
        return got

    def value(self):
        self.char()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.at)
                if end < len(self.buffer) or self.eof:  # a number or literal at the end may go on
                    self.at = end
                    return value
            except json.JSONDecodeError as exc:
                if self.eof:
                    raise ValueError("%s at character %d" % (exc.msg, self.base + exc.pos)) from None
            if len(self.buffer) - self.at > _JSON_VALUE_MAX:
                raise ValueError("a value larger than %d MB" % (_JSON_VALUE_MAX >> 20))
            self._more()


def _json_items(handle):
    """("key", name, value) for each top-level key of a JSON object but rows, ("row", record) for each
    element of its rows array, in the file's order."""
    stream = _JsonStream(handle)
    stream.expect("{")
    if stream.char() == "}":
        stream.at += 1
        return
    while True:
        name = stream.value()
        if not isinstance(name, str):
            raise ValueError("a key is not a string")
        stream.expect(":")
        if name == "rows" and stream.char() == "[":
            stream.at += 1
            if stream.char() == "]":
                stream.at += 1
            else:
                while True:
                    yield "row", stream.value()
                    if stream.expect(",]") == "]":
                        break
            yield "key", name, []
        else:
            yield "key", name, stream.value()
        if stream.expect(",}") == "}":
            break
    if stream.char():
        raise ValueError("data after the end of the object")


def _json_rows(path, meta):
    """The rows of a JSON report, streamed; meta: filled with its other top-level keys (searches: the DCs
    read). The file-level checks come with its last key ("complete" is written after the rows)."""
    try:
        with open(path, encoding="utf-8") as handle:
            index = 0
            for item in _json_items(handle):
                if item[0] == "key":
                    meta[item[1]] = item[2]
                    if item[1] == "rows" and meta.get("format", report.REPORT_FORMAT) != report.REPORT_FORMAT:
                        break
                    continue
                index += 1
                record = item[1]
                if not isinstance(record, dict):
                    raise _input("decisions_file: row %d: not an object." % index)
                for field in ("dn", "attribute", "value", "decision", "new_value", "suggested_value"):
                    if record.get(field) is not None and not isinstance(record[field], str):
                        raise _input("decisions_file: row %d: field %s: must be a string." % (index, field))
                yield ("row %d" % index, record.get("dn"), record.get("attribute"), [record.get("value") or None],
                       record.get("decision"), record.get("new_value") or None, record.get("suggested_value") or None,
                       record.get("usn_changed"))
    except ValueError as exc:
        raise _input("decisions_file: %s is not valid JSON: %s." % (path, exc)) from None
    if meta.get("format") != report.REPORT_FORMAT or not isinstance(meta.get("rows"), list):
        raise _input("decisions_file: %s is not a directory readiness report (format %s with rows)." % (
            path, report.REPORT_FORMAT))
    if meta.get("complete") is not True:
        raise _input("decisions_file: %s is not a complete scan (no \"complete\": true)." % path)


def scanned_dcs(meta):
    """The DCs a JSON report's scan read (its searches, from _json_rows' meta); empty for a CSV."""
    searches = meta.get("searches")
    if not isinstance(searches, list):
        return set()
    return {str(s.get("server") or "").lower() for s in searches if isinstance(s, dict)} - {""}


def read_decisions(path, meta=None):
    """The checked rows of the decisions file, in a RowStore (rows without a decision are counted, not kept), and
    that count. Read as a stream: memory grows neither with the report nor with the decided rows. meta: filled
    with a JSON report's top-level keys other than rows."""
    if not path or not os.path.isfile(path):
        raise _input("decisions_file: %s is not a file." % path,
                     "Give the CSV or JSON report of ems.enable.directory_readiness with a decision per row.")
    lower = path.lower()
    if not lower.endswith((".csv", ".json")):
        raise _input("decisions_file: %s: give a .csv or .json report." % path)
    lc.check_requirements()
    records = _csv_rows(path) if lower.endswith(".csv") else _json_rows(path, {} if meta is None else meta)
    store = RowStore()
    try:
        undecided = _checked_rows(records, store)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        store.close()
        raise _input("decisions_file: cannot read %s: %s." % (path, exc)) from None
    except BaseException:
        store.close()
        raise
    return store, undecided


def _encodable(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _checked_rows(records, store):
    undecided = 0
    for where, dn, attribute, values, decision, new_value, suggested, usn in records:
        decision = (decision or "").strip().lower()
        if not decision:
            undecided += 1
            continue
        for field, texts in (("dn", [dn]), ("value", values), ("new_value", [new_value]),
                             ("suggested_value", [suggested])):
            if any(text is not None and not _encodable(text) for text in texts):
                raise _input("decisions_file: %s: field %s: not valid Unicode (a lone surrogate escape such as "
                             "\\ud800)." % (where, field))
        if decision not in DECISIONS:
            raise _input("decisions_file: %s: field decision: %r is not one of %s (or empty: not decided)." % (
                where, decision, ", ".join(DECISIONS)))
        if attribute not in rules.RULE_ATTRIBUTES:
            raise _input("decisions_file: %s: field attribute: %r is not one of IdFix's attributes (%s)." % (
                where, attribute, ", ".join(rules.RULE_ATTRIBUTES)))
        try:
            dn = ldap.dn.dn2str(ldap.dn.str2dn(dn or ""))
        except (ldap.DECODING_ERROR, TypeError, ValueError):
            dn = ""
        if not dn:
            raise _input("decisions_file: %s: field dn: %r is not a distinguished name." % (where, dn))
        if decision == "edit":
            new_value = new_value or suggested
            if not new_value:
                raise _input("decisions_file: %s: field new_value: an edit needs a value (the row has no "
                             "suggested_value)." % where)
            if new_value != new_value.strip() or any(ord(c) < 32 for c in new_value):
                raise _input("decisions_file: %s: field new_value: leading or trailing whitespace or control "
                             "characters." % where)
        elif new_value and decision != "skip":
            raise _input("decisions_file: %s: field new_value: only an edit takes a value (decision is %s)." % (
                where, decision))
        if usn is not None:
            try:
                usn = int(usn)
                if not 0 <= usn < 1 << 63:
                    raise ValueError(usn)
            except (TypeError, ValueError, OverflowError):
                raise _input("decisions_file: %s: field usn_changed: %r is not a uSNChanged (a number from 0 to "
                             "2^63-1, as the scan wrote it)." % (where, usn)) from None
        if decision == "remove" and values == [None]:
            raise _input("decisions_file: %s: field decision: remove, but the row has no value." % where)
        if decision not in ("skip", "complete"):
            value_key = (values[0] or "").lower() if attribute in MULTI_VALUED else ""
            key = "\0".join(("row", dn.lower(), attribute, value_key))
            earlier = store.holder(key)
            if earlier:
                raise _input("decisions_file: %s: field decision: %s changes the same value as %s." % (
                    where, dn, earlier))
            store.claim(key, where)
        store.add(Row(where, dn, attribute, values, decision, new_value if decision == "edit" else None,
                      suggested, usn))
    return undecided


# ---- planning -----------------------------------------------------------------------------------

def _texts(entry, attribute):
    for name, values in (entry or {}).items():
        if name.lower() == attribute.lower():
            return [v.decode("utf-8", "replace") for v in values]
    return []


def _raw_entry(entry):
    canon = {a.lower(): a for a in rules.QUERY_ATTRIBUTES}
    return {canon[k.lower()]: v for k, v in entry.items() if k.lower() in canon}


def _rule_errors(engine, dn, entry, attribute, value, others):
    """The errors IdFix's rules find for `attribute` = value on this object (others: its other values)."""
    raw = _raw_entry(entry)
    values = ([] if value is None else [value]) + list(others)
    if values:
        raw[attribute] = [v.encode("utf-8") for v in values]
    else:
        raw.pop(attribute, None)
    return sorted({kind for attr, text, kinds in engine.check_alone(dn, raw) if attr == attribute and text == value
                   for kind in kinds})


def _holders(conn, bases, attribute, value, dn):
    flt = "(%s=%s)" % (attribute, ldap.filter.escape_filter_chars(value))
    found = []
    for base in bases:
        for holder, _entry in conn.search(base, flt, ["1.1"]):
            if holder.lower() != dn.lower():
                found.append(holder)
    return found


def _with_change(entry, attribute, before, after):
    """The entry as it is once a planned change (before -> after) of attribute is made."""
    if attribute in MULTI_VALUED:
        values = [v for v in _texts(entry, attribute) if v != before] + ([after] if after is not None else [])
    else:
        values = [after] if after is not None else []
    entry = {k: v for k, v in entry.items() if k.lower() != attribute.lower()}
    if values:
        entry[attribute] = [v.encode("utf-8") for v in values]
    return entry


def _entry_now(conn, store, row, attrs):
    """The object of row as the rows planned before it leave it: read, then their changes replayed (only an
    object whose rows are in more than one batch has any)."""
    entry = conn.read_entry(row.dn, attrs)
    if entry is not None:
        for attribute, before, after in store.planned(row.dn, row.id):
            entry = _with_change(entry, attribute, before, after)
    return entry


def plan(conn, store, compare_usn=False):
    """Set each row's status: change, complete, skip, already_applied, conflict, deleted, refused - batch by
    batch, each saved to the store; the objects of one batch are kept in memory, and nothing else.
    compare_usn: the scan read this DC, the rows' uSNChanged can be compared with the object's."""
    tlds = ad_facts.routable_tlds()
    bases = lc.all_text(conn.root_dse, "defaultNamingContext")
    attrs = list(rules.QUERY_ATTRIBUTES) + ["uSNChanged"]
    engine = rules.RuleEngine(tlds, None)
    for batch in store.batches():
        entries = {}
        for row in batch:
            _plan_row(conn, store, row, entries, attrs, engine, bases, compare_usn)
        store.save(batch)


def _plan_row(conn, store, row, entries, attrs, engine, bases, compare_usn):
    # pylint: disable=too-many-arguments,too-many-return-statements
    if row.decision == "skip":
        row.status = "skipped"
        return
    key = row.dn.lower()
    if key not in entries:
        entries[key] = _entry_now(conn, store, row, attrs)
    entry = entries[key]
    if entry is None:
        row.status, row.reason = "deleted", "the object no longer exists (deleted or moved since the scan)"
        return
    current = _texts(entry, row.attribute)
    multi = row.attribute in MULTI_VALUED
    target = row.new_value if row.decision == "edit" else None
    if multi:
        present = [v for v in row.values if v in current]
        scanned = present[0] if present else row.values[0]
        if not present:
            done = (row.decision == "remove" or target in current) and row.decision != "complete"
        else:
            done = False
    else:
        now = current[0] if current else None
        present = [v for v in row.values if v == now]
        scanned = present[0] if present else row.values[0]
        done = not present and row.decision != "complete" and now == target
    if done:
        row.status = "already_applied"
        return
    if not present:
        row.status = "conflict"
        row.reason = "the value changed since the scan (now %s); left as it is" % (
            "absent" if not current else "different")
        return
    if row.decision == "complete":
        row.status, row.reason = "completed", "accepted as is (the scan reports it again, as IdFix does)"
        return
    now_usn = lc.first(entry, "uSNChanged")
    if compare_usn and row.usn is not None and now_usn is not None and now_usn != str(row.usn):
        row.status = "conflict"
        row.reason = ("the object changed since the scan (uSNChanged %s, now %s); left as it is - scan again"
                      % (row.usn, now_usn))
        return
    others = [v for v in current if v != scanned] if multi else []
    errors = _rule_errors(engine, row.dn, entry, row.attribute, target, others)
    if errors:
        row.status = "refused"
        row.reason = "the %s value still fails IdFix's rules: %s" % (
            "new" if target is not None else "remaining", ", ".join(errors))
        return
    if target is not None and row.attribute in rules.DUPLICATE_ATTRIBUTES:
        claim = "\0".join(("new", row.attribute, target.lower()))
        earlier = store.holder(claim)
        if earlier:
            row.status, row.reason = "refused", "the new value duplicates the new value of %s" % earlier
            return
        holders = _holders(conn, bases, row.attribute, target, row.dn)
        if holders:
            row.status = "refused"
            row.reason = "the new value would be a duplicate: %s holds it" % holders[0]
            return
        store.claim(claim, row.where)
    row.status = "change"
    row.before = scanned
    row.after = target
    entries[key] = _with_change(entry, row.attribute, scanned, target)  # later rows of the object see it


def swap(attribute, remove, add):
    """One conditional modify: delete the exact value `remove`, add `add` (either may be None).

    Apply: swap(before, after) - the DC refuses it when the scanned value has changed meanwhile.
    Undo: swap(after, before) - restores exactly what the apply found."""
    mods = []
    if remove is not None:
        mods.append((ldap.MOD_DELETE, attribute, [remove.encode("utf-8")]))
    if add is not None:
        mods.append((ldap.MOD_ADD, attribute, [add.encode("utf-8")]))
    return mods


# ---- the undo LDIF --------------------------------------------------------------------------------

def _ldif_line(name, value):
    text = value.decode("utf-8") if isinstance(value, bytes) else value
    safe = (text.isascii() and text == text.strip() and not text.startswith((":", "<"))
            and not any(ord(c) < 32 or ord(c) == 127 for c in text))
    if safe:
        return "%s: %s\n" % (name, text)
    return "%s:: %s\n" % (name, base64.b64encode(text.encode("utf-8")).decode("ascii"))


def undo_ldif(rows):
    """LDIF (RFC 2849) change records that undo the rows, in parts (a str each); rows: last change first."""
    yield ("version: 1\n# ems.enable.directory_remediation undo: apply with ldapmodify -f this file,\n"
           "# or with the module's mode=undo. Restores every touched value exactly.\n")
    for row in rows:
        text = "\n" + _ldif_line("dn", row.dn) + "changetype: modify\n"
        ops = []
        for op, attr, values in swap(row.attribute, row.after, row.before):
            name = "delete" if op == ldap.MOD_DELETE else "add"
            ops.append("%s: %s\n%s-\n" % (name, attr, "".join(_ldif_line(attr, v) for v in values)))
        yield text + "".join(ops)


class _UndoParser(ldif.LDIFParser if ldap else object):
    """Each record of an undo LDIF into the store, as a row (its values: the value the apply wrote; its
    new_value: the value to restore)."""

    def __init__(self, handle, store, path):
        super().__init__(handle)
        self.store = store
        self.path = path

    def handle_modify(self, dn, modops, controls=None):  # pylint: disable=unused-argument
        number = len(self.store) + 1
        before = after = attribute = None
        for op, attr, values in modops:
            if op not in (ldap.MOD_DELETE, ldap.MOD_ADD) or len(values or []) != 1 or attr not in rules.RULE_ATTRIBUTES \
                    or attribute not in (None, attr):
                raise _input("undo_file: %s: record %d (%s) is not an undo record of this module." % (
                    self.path, number, dn))
            attribute = attr
            if op == ldap.MOD_DELETE:
                after = values[0].decode("utf-8")  # undo deletes the value the apply wrote
            else:
                before = values[0].decode("utf-8")
        self.store.add(Row("record %d" % number, dn, attribute, [after], "undo", before, None))


def read_undo(path):
    """The records of an undo LDIF, in a RowStore (read as a stream)."""
    if not path or not os.path.isfile(path):
        raise _input("undo_file: %s is not a file." % path, "Give the undo LDIF written by an apply.")
    lc.check_requirements()
    store = RowStore()
    try:
        with open(path, "rb") as handle:
            _UndoParser(handle, store, path).parse_change_records()
    except (OSError, ValueError) as exc:
        store.close()
        raise _input("undo_file: %s is not a valid undo LDIF: %s." % (path, exc)) from None
    except BaseException:
        store.close()
        raise
    return store


# ---- running --------------------------------------------------------------------------------------

def _diff(store, limit):
    """Before and after per object, in the file's order: the first `limit` objects (and how many there are)."""
    by_dn = {}  # the DN in lower case (as the store counts objects) -> (the DN as first written, before, after)
    for row in store.rows(("change", "changed")):
        key = row.dn.lower()
        if key not in by_dn and len(by_dn) >= limit:
            continue
        _dn, before, after = by_dn.setdefault(key, (row.dn, [], []))
        if row.before is not None:
            before.append("%s: %s" % (row.attribute, row.before))
        if row.after is not None:
            after.append("%s: %s" % (row.attribute, row.after))
    diff = [{"before_header": dn, "after_header": dn, "before": "\n".join(b) + "\n", "after": "\n".join(a) + "\n"}
            for dn, b, a in by_dn.values()]
    return diff, (store.objects(("change", "changed")) if len(by_dn) >= limit else len(by_dn))


def _write(conn, row, mods):
    try:
        conn.conn.modify_ext_s(row.dn, mods)
    except ldap.NO_SUCH_OBJECT:
        row.status, row.reason = "deleted", "the object was deleted while the run was writing"
        return False
    except ldap.NO_SUCH_ATTRIBUTE:
        row.status, row.reason = "conflict", "the value changed while the run was writing; left as it is"
        return False
    except (ldap.CONSTRAINT_VIOLATION, ldap.TYPE_OR_VALUE_EXISTS, ldap.UNWILLING_TO_PERFORM,
            ldap.INSUFFICIENT_ACCESS, ldap.OBJECT_CLASS_VIOLATION, ldap.INVALID_SYNTAX) as exc:
        info = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
        row.status = "failed"
        row.reason = "the DC refused the change: %s" % " ".join(str(info.get("desc", exc)).split()) + (
            " (%s)" % " ".join(str(info["info"]).split()) if info.get("info") else "")
        return False
    except ldap.LDAPError as exc:
        conn.fail(exc)
    row.status = "changed"
    return True


def _summary(store, undecided):
    counts = dict.fromkeys(("changed", "would_change", "already_applied", "completed", "skipped", "conflict",
                            "deleted", "refused", "failed"), 0)
    for status, count in store.counts().items():
        counts["would_change" if status == "change" else status] += count
    counts["undecided"] = undecided
    counts["rows"] = len(store) + undecided
    return counts


def _apply(conn, store, undo_path, apply):
    """Write the planned changes in the file's order, each row's outcome saved as it is known; apply: the undo
    LDIF is written (atomically) before the first change, and again, from the rows changed, when not all were."""
    todo = store.counts().get("change", 0)
    if apply:
        write_atomically(undo_path, undo_ldif(store.rows(("change",), reverse=True)))
    done, saved = 0, True
    try:
        for batch in store.batches(("change",)):
            for row in batch:
                done += _write(conn, row, swap(row.attribute, row.before, row.after))
                try:
                    store.save([row])
                except sqlite3.Error:
                    saved = False  # the store may lack this change: keep the undo LDIF of every planned one
                    raise
    finally:  # also when the connection is lost: the undo LDIF holds exactly what was changed
        if apply and saved and done != todo:
            write_atomically(undo_path, undo_ldif(store.rows(("changed",), reverse=True)))


def run_directory_remediation(params, check_mode=False):
    """Apply (or undo) reviewed fixes; check mode plans and writes nothing."""
    params = dict(params)
    started, cpu = time.monotonic(), time.process_time()
    warnings = lc.validate_params(params)
    undo_path = params["undo_file"]
    scanned_on = None
    apply = params["mode"] == "apply"
    if apply:
        parent = os.path.dirname(os.path.abspath(undo_path))
        if not os.path.isdir(parent) or not os.access(parent, os.W_OK):
            raise _input("undo_file: the directory %s does not exist or is not writable." % parent)
        if os.path.islink(undo_path) or (os.path.exists(undo_path) and not os.path.isfile(undo_path)):
            raise _input("undo_file: %s is a symbolic link or not a regular file." % undo_path,
                         "Give a new file name for the undo LDIF of this apply.")
    try:
        if apply:
            meta = {}
            store, undecided = read_decisions(params["decisions_file"], meta)
            scanned_on = scanned_dcs(meta)
        else:
            store, undecided = read_undo(undo_path), 0
        try:
            result = _run(params, check_mode, store, undecided, scanned_on, warnings)
        finally:
            store.close()
    except sqlite3.Error as exc:  # the store's temporary file: a full or unwritable temporary directory
        raise lc.LdapError(
            "the run's temporary database failed: %s." % exc,
            "Free space in the temporary directory (TMPDIR, else /var/tmp) and run again: changes already made are "
            "already_applied, and the undo LDIF holds them (a record of a change not made is left alone by "
            "mode=undo).") from None
    result["performance"] = {"seconds": round(time.monotonic() - started, 2),
                             "cpu_seconds": round(time.process_time() - cpu, 2), "peak_rss_mb": report.peak_rss_mb()}
    return result


def _run(params, check_mode, store, undecided, scanned_on, warnings):
    # pylint: disable=too-many-arguments
    undo_path = params["undo_file"]
    apply = params["mode"] == "apply"
    conn = lc.connect(params)
    try:
        if apply:
            here = {conn.server.lower(), (lc.first(conn.root_dse, "dnsHostName") or "").lower()}
            compare_usn = bool(scanned_on) and bool(here & scanned_on)
            if not compare_usn and store.has_usn():
                warnings.append(
                    "decisions_file: uSNChanged not compared (USNs are per DC): %s; each value is compared." % (
                        "the report does not name the DC it read (a CSV)" if not scanned_on else
                        "the scan read %s, this run writes to %s" % (", ".join(sorted(scanned_on)), conn.server)))
            plan(conn, store, compare_usn)
        else:
            _plan_undo(conn, store)
        todo = store.counts().get("change", 0)
        if todo and apply and os.path.exists(undo_path) and not check_mode:
            raise _input("undo_file: %s already exists (the undo of an earlier apply): give a new file name." %
                         undo_path, "Keep every undo LDIF; each apply writes its own.")
        if todo and not check_mode:
            _apply(conn, store, undo_path, apply)
    finally:
        conn.close()
    summary = _summary(store, undecided)
    limit = report.SHOW_VALUES_LIMIT
    diff, objects = _diff(store, limit)
    if objects > len(diff):
        warnings.append("diff: the first %d of the %d objects %s; the undo LDIF holds every change (to review a "
                        "whole diff, split the decisions file)." % (
                            len(diff), objects, "changed" if summary["changed"] else "that would change"))
    result = {
        "changed": bool(summary["changed"] or summary["would_change"]),
        "mode": params["mode"],
        "server": conn.server,
        "summary": summary,
        "diff": diff,
        "warnings": warnings,
    }
    if params.get("show_values"):  # DNs are personal data: only on request, as directory_readiness's rows
        result["rows"] = []
        for row in store.rows():
            if len(result["rows"]) == limit:
                break
            result["rows"].append(row.outcome())
        result["rows_truncated"] = len(store) > len(result["rows"])
    if apply and summary["changed"]:
        result["undo_file"] = undo_path
    if summary["failed"]:
        result["failed"] = True
        result["msg"] = "%s change%s refused by %s (%s); %s made, undo LDIF %s." % (
            summary["failed"], "" if summary["failed"] == 1 else "s", conn.server,
            ("see rows" + (" (the first %d)" % limit if result.get("rows_truncated") else "")) if params.get(
                "show_values") else "show_values=true lists the rows", summary["changed"],
            undo_path)
    return result


def _plan_undo(conn, store):
    """Undo records: restore unless already restored; a value changed since the apply is a conflict."""
    for batch in store.batches():
        for row in batch:
            _plan_undo_row(conn, row)
        store.save(batch)


def _plan_undo_row(conn, row):
    entry = conn.read_entry(row.dn, [row.attribute])
    if entry is None:
        row.status, row.reason = "deleted", "the object no longer exists"
        return
    current = _texts(entry, row.attribute)
    written, restore = row.values[0], row.new_value
    if row.attribute in MULTI_VALUED:
        restored = (written is None or written not in current) and (restore is None or restore in current)
        applied = (written is None or written in current) and (restore is None or restore not in current)
    else:
        now = current[0] if current else None
        restored, applied = now == restore, now == written
    row.before, row.after = written, restore
    if restored:
        row.status = "already_applied"
    elif applied:
        row.status = "change"
    else:
        row.status, row.reason = "conflict", "the value changed since the apply; left as it is"
