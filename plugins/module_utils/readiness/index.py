# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The value index of a readiness scan: one SQLite file (stdlib sqlite3) next to the report.

It holds what the rules made of every object the scan read - its objectGUID, DN, uSNChanged and
whenChanged, whether it was checked, ignored or skipped (and why), each offending value with its
error bits, and every value a duplicate rule compares (attribute, lower-cased value) - plus the state
a delta re-scan starts from (meta: the DC, its invocationId and highestCommittedUSN per search, a
fingerprint of the rules and options). Nothing of it is kept in memory: duplicates are found by SQL
(GROUP BY over an index) once the scan is complete, so memory stays flat whatever the directory's size.

The report rows are in the order the scan read the objects (the index's object ids: a full scan's parts
each take ids from a range of their own, see lane()), then IdFix's rule order, then the value's order in
its attribute; a delta re-scan keeps each changed object's id (its place
in the report) and adds new objects at the end. The first holder of a duplicated value (the one reported
once more with the duplicate error alone) is the first in that order, as in IdFix (the first read).

The file is built under a new temporary name (mkstemp: O_EXCL, mode 0600) and renamed to its final
name by commit(); a delta works on a copy of the previous index read through O_NOFOLLOW, so a failed
run leaves the previous index as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import stat
import tempfile

INDEX_FORMAT = 1
_SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    # status: 0 checked, 1 ignored, 2 + n skipped for rules.SKIP_REASONS[n]
    "CREATE TABLE objects (id INTEGER PRIMARY KEY, guid BLOB, dn TEXT NOT NULL, usn INTEGER, changed TEXT,"
    " otype TEXT, status INTEGER NOT NULL)",
    # one row per value that failed a check (key NULL) or that a duplicate rule compares (key = the value
    # compared, lower-cased); bits without the duplicate bit; post: a check after the duplicate one failed
    # (clustered by object: written in that order, and a delta removes an object's values in one range)
    "CREATE TABLE vals (obj INTEGER NOT NULL, pos INTEGER NOT NULL, attr INTEGER NOT NULL, key TEXT, value TEXT,"
    " bits INTEGER NOT NULL, suggested TEXT, action INTEGER NOT NULL, post INTEGER NOT NULL,"
    " dup_action INTEGER NOT NULL, PRIMARY KEY (obj, pos)) WITHOUT ROWID",
    # OUs and containers of the scanned subtrees: a rename or move changes the DNs below them
    "CREATE TABLE containers (guid BLOB PRIMARY KEY, dn TEXT NOT NULL) WITHOUT ROWID",
)
# kept up while the scan writes (objects_guid stays small), so that the work left for the end of the scan,
# when nothing overlaps it, is the big index of the compared values. (Indexes of format 1 may also hold
# vals_err, an index of the values with errors that the report no longer reads.)
_EARLY_INDEXES = (
    "CREATE UNIQUE INDEX IF NOT EXISTS objects_guid ON objects(guid)",
)
_INDEXES = _EARLY_INDEXES + (
    "CREATE INDEX IF NOT EXISTS vals_key ON vals(attr, key) WHERE key IS NOT NULL",
)
STATUS_CHECKED, STATUS_IGNORED, STATUS_SKIPPED = 0, 1, 2
BATCH = 2000  # objects per executemany
LANE_IDS = 1 << 40  # object ids per lane (lane n: n * LANE_IDS + 1, ...); see ValueIndex.lane
COMMIT_PAGES = 20  # checkpoints (pages of the scan) per commit: a commit per page cost ~1 s per 100,000 objects
CACHE_KB = 32768  # SQLite page cache (the sorter spills to temporary files beyond it)


class IndexUnusable(Exception):
    """The previous index cannot be used (absent, unreadable, another format)."""


def fingerprint(data):
    """A stable digest of the rules and options a scan's results depend on."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _private_temp(directory, name):
    fd, path = tempfile.mkstemp(prefix=".%s.index.partial-" % name, dir=directory)  # O_EXCL, 0600
    return fd, path


def _copy_nofollow(source, fd):
    """Copy the previous index into the new temporary file; never through a symbolic link."""
    src = os.open(source, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        if not stat.S_ISREG(os.fstat(src).st_mode):
            raise IndexUnusable("%s is not a regular file" % source)
        while True:
            chunk = os.read(src, 1 << 20)
            if not chunk:
                break
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view):]
    finally:
        os.close(src)


def open_db(path, cache_kb=CACHE_KB):
    """A SQLite connection to a file a failed run discards whole - the scan's index (built under a temporary
    name), directory_remediation's store ("": SQLite's own temporary file): no journal, no sync, sorts in
    temporary files, a page cache of at most cache_kb."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA temp_store=FILE")
    db.execute("PRAGMA cache_size=-%d" % cache_kb)
    return db


class ValueIndex:
    """The index of one scan. path=None: in memory (rule checks of one entry, unit tests).

    ValueIndex.create(directory, name) starts a new index for a full scan; ValueIndex.load(directory,
    name) starts from a copy of the previous one (a delta) and raises IndexUnusable when it is unusable.
    """

    def __init__(self, path=None, final=None, fresh=True):
        self.path = path
        self.final = final
        self.db = db = open_db(path or ":memory:")
        if fresh:
            for statement in _SCHEMA + _EARLY_INDEXES:
                db.execute(statement)
            self._indexed = False
        else:
            self._indexed = True
        self._next_id = (db.execute("SELECT MAX(id) FROM objects").fetchone()[0] or 0) + 1
        self._objects = []
        self._vals = []
        self._pages = 0
        self._reuse = {}  # objectGUID -> id of objects a delta removed: read again, they keep their place
        self._fresh = fresh
        self._lane = 0
        self._lane_next = {}  # lane -> its next id, while another lane is current
        db.execute("BEGIN")

    # ---- opening ----------------------------------------------------------------------------
    @classmethod
    def file_name(cls, directory, name):
        return os.path.join(directory, name + ".index.sqlite")

    @classmethod
    def create(cls, directory, name):
        fd, path = _private_temp(directory, name)
        os.close(fd)
        try:
            return cls(path, cls.file_name(directory, name))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(path)
            raise

    @classmethod
    def load(cls, directory, name):
        """A copy of the previous index, ready for a delta; IndexUnusable when there is none usable."""
        final = cls.file_name(directory, name)
        if not os.path.lexists(final):
            raise IndexUnusable("no index of a previous scan (%s)" % final)
        fd, path = _private_temp(directory, name)
        index = None
        try:
            try:
                _copy_nofollow(final, fd)
            finally:
                os.close(fd)
            index = cls(path, final, fresh=False)
            meta = index.meta()
            if meta.get("format") != str(INDEX_FORMAT):
                raise IndexUnusable("index format %s, not %d" % (meta.get("format"), INDEX_FORMAT))
            check = index.db.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise IndexUnusable("SQLite quick_check: %s" % check)
            return index
        except (OSError, sqlite3.Error, IndexUnusable, ValueError) as exc:
            if index is not None:
                index.discard()
            with contextlib.suppress(OSError):
                os.unlink(path)
            if isinstance(exc, IndexUnusable):
                raise
            raise IndexUnusable("%s: %s" % (final, getattr(exc, "strerror", None) or exc)) from None

    # ---- meta -------------------------------------------------------------------------------
    def meta(self):
        return dict(self.db.execute("SELECT key, value FROM meta").fetchall())

    def set_meta(self, values):
        self.db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                            [(k, v if isinstance(v, str) else json.dumps(v, sort_keys=True)) for k, v in values.items()])

    # ---- writing ----------------------------------------------------------------------------
    def add(self, guid, dn, usn, changed, otype, status, vals):
        """One object read by the scan; vals: (pos, attr, key, value, bits, suggested, action, post, dup_action).
        Returns its id."""
        oid = self._reuse.pop(guid, None) if self._reuse else None
        if oid is None:
            oid = self._next_id
            self._next_id += 1
        self._objects.append((oid, guid, dn, usn, changed, otype, status))
        if vals:
            self._vals.extend((oid,) + v for v in vals)
        if len(self._objects) >= BATCH:
            self.flush()
        return oid

    def lane(self, number):
        """Objects added from now on take their ids from lane `number`'s range: a full scan checks the pages of
        its parts (lanes) in the order they arrive, and each part's objects keep the place of that part in
        the index's (and so the report's) order - the plan's order, whatever order they were checked in."""
        if number == self._lane:
            return
        if not self._fresh or not 0 <= number < 1 << 20:
            raise ValueError("lanes are for the parts of a full scan, in a new index (lane %d)" % number)
        self._lane_next[self._lane] = self._next_id
        self._lane = number
        self._next_id = self._lane_next.pop(number, number * LANE_IDS + 1)

    def flush(self):
        if self._objects:
            self.db.executemany("INSERT INTO objects VALUES (?, ?, ?, ?, ?, ?, ?)", self._objects)
            self._objects = []
        if self._vals:
            self.db.executemany("INSERT INTO vals VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", self._vals)
            self._vals = []

    def checkpoint(self):
        """Hand what the scan has read so far to SQLite (memory stays flat: beyond its page cache, SQLite
        writes to the temporary file) and commit every COMMIT_PAGES calls (progress is visible)."""
        self.flush()
        self._pages += 1
        if self.path is not None and self._pages % COMMIT_PAGES == 0:
            self.db.execute("COMMIT")
            self.db.execute("BEGIN")

    def remove(self, guids):
        """Objects that changed (read again), were deleted or left the scan: their rows and values go.
        Returns how many were in the index."""
        self.flush()
        removed = 0
        for guid in guids:
            row = self.db.execute("SELECT id FROM objects WHERE guid = ?", (guid,)).fetchone()
            if row is None:
                continue
            self.db.execute("DELETE FROM vals WHERE obj = ?", row)
            self.db.execute("DELETE FROM objects WHERE id = ?", row)
            self._reuse[guid] = row[0]
            removed += 1
        return removed

    def begin_seen(self):
        """A temporary table of the objectGUIDs a pass over the directory found; returns its add function."""
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS seen (guid BLOB PRIMARY KEY) WITHOUT ROWID")

        def add(guids):
            self.db.executemany("INSERT OR IGNORE INTO temp.seen VALUES (?)", [(g,) for g in guids if g])

        return add

    def remove_unseen(self):
        """Objects of the index the pass did not find (deleted, moved out, no longer matching the filter) go.
        Returns how many."""
        gone = "SELECT id FROM objects WHERE guid IS NOT NULL AND guid NOT IN (SELECT guid FROM temp.seen)"
        self.db.execute("DELETE FROM vals WHERE obj IN (%s)" % gone)
        count = self.db.execute("DELETE FROM objects WHERE id IN (%s)" % gone).rowcount
        self.db.execute("DROP TABLE temp.seen")
        return count

    def known(self, guid):
        return self.db.execute("SELECT 1 FROM objects WHERE guid = ?", (guid,)).fetchone() is not None

    def set_containers(self, pairs):
        self.db.executemany("INSERT OR REPLACE INTO containers VALUES (?, ?)", pairs)

    def container_dn(self, guid):
        row = self.db.execute("SELECT dn FROM containers WHERE guid = ?", (guid,)).fetchone()
        return row[0] if row else None

    def ensure_indexes(self):
        self.flush()
        if not self._indexed:
            for statement in _INDEXES:
                self.db.execute(statement)
            self._indexed = True

    # ---- reading ----------------------------------------------------------------------------
    def status_counts(self):
        return dict(self.db.execute("SELECT status, COUNT(*) FROM objects GROUP BY status").fetchall())

    def duplicates(self):
        """Find the duplicated values (a temporary table); returns the number of distinct values compared."""
        self.ensure_indexes()
        db = self.db
        db.execute("DROP TABLE IF EXISTS temp.dups")
        db.execute("CREATE TEMP TABLE dups (attr INTEGER, key TEXT, n INTEGER, PRIMARY KEY (attr, key)) WITHOUT ROWID")
        db.execute("INSERT INTO temp.dups SELECT attr, key, COUNT(*) FROM vals WHERE key IS NOT NULL"
                   " GROUP BY attr, key HAVING COUNT(*) > 1")
        total = db.execute("SELECT COUNT(*) FROM vals WHERE key IS NOT NULL").fetchone()[0]
        extra = db.execute("SELECT COALESCE(SUM(n - 1), 0) FROM temp.dups").fetchone()[0]
        return total - extra

    _ROWS = ("SELECT v.obj, o.dn, o.otype, o.usn, o.changed, v.attr, v.key, v.value, v.bits, v.suggested, v.action,"
             " v.post, v.dup_action, d.n IS NOT NULL FROM vals v JOIN objects o ON o.id = v.obj"
             " LEFT JOIN temp.dups d ON d.attr = v.attr AND d.key = v.key WHERE %s ORDER BY v.obj, v.pos")

    def report_objects(self, affected=False):
        """(object id, (dn, object class, uSNChanged, whenChanged), [(attr, key, value, bits, suggested, action,
        post, dup_action, duplicated)]) of every object with report rows, in id order - a walk of the values'
        primary key, no sort. affected: only the objects holding a duplicated value. Call duplicates() first."""
        if affected:
            self.db.execute("DROP TABLE IF EXISTS temp.affected")
            self.db.execute("CREATE TEMP TABLE affected (obj INTEGER PRIMARY KEY)")
            self.db.execute("INSERT OR IGNORE INTO temp.affected SELECT v.obj FROM temp.dups d"
                            " JOIN vals v ON v.attr = d.attr AND v.key = d.key")
            where = "v.obj IN (SELECT obj FROM temp.affected)"
        else:
            where = "v.bits != 0 OR d.n IS NOT NULL"
        cursor = self.db.execute(self._ROWS % where)
        try:
            current, head, vals = None, None, []
            for row in cursor:
                if row[0] != current:
                    if vals:
                        yield current, head, vals
                    current, head, vals = row[0], row[1:5], []
                vals.append(row[5:])
            if vals:
                yield current, head, vals
        finally:
            cursor.close()

    # ---- the end ----------------------------------------------------------------------------
    def commit(self):
        """Write the index out and rename it to its final name (an in-memory index: nothing)."""
        self.ensure_indexes()
        self.db.execute("COMMIT")
        if self.path is None:
            return None
        self.db.close()
        # no fsync: an index a crash left incomplete fails the next run's check (a full scan, a warning)
        os.replace(self.path, self.final)
        self.path = None
        return self.final

    def discard(self):
        """This run failed or did not need the copy: its temporary file goes; the previous index stays."""
        with contextlib.suppress(sqlite3.Error):
            self.db.close()
        if self.path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            self.path = None
