# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Report files of the directory readiness scan: CSV and JSON, streamed, complete or absent.

Rows are written as the scan finds them (memory does not grow with the errors). Both files are
written under new temporary names (.<name>.<kind>.partial-XXXX, created with O_EXCL|O_NOFOLLOW by
mkstemp: a planted file or symlink is never opened) in the output directory, mode 0600 whatever the
umask (they hold personal data; 0600 never widens a umask), and renamed to their final names only when
the scan has finished; a scan that fails removes them and the previous report of the same name, so
no file with the final name ever holds a partial scan or another run's results. A full disk is one
line with the path, what was written and what is free.
"""

from __future__ import annotations

import contextlib
import csv
import json
import json.encoder
import errno
import os
import resource
import shutil
import tempfile

from ansible_collections.ems.enable.plugins.module_utils.ad.ldap_client import LdapError

CSV_COLUMNS = ("dn", "object_class", "attribute", "value", "errors", "suggested_value", "action", "usn_changed",
               "when_changed")
OPTIONAL_COLUMNS = ("usn_changed", "when_changed")  # reports of earlier versions lack them
REPORT_FORMAT = "ems.enable.directory_readiness/1"
ROWS_END = "\n ],\n"  # where the JSON report's rows end; the trailer's keys (scan_type first) follow
DEFAULT_PREFIX = "directory-readiness-"  # default report name: directory-readiness-<forest>
SHOW_VALUES_LIMIT = 1000  # rows (and diff objects) in a task result with show_values=true; the files hold all
# Spreadsheet formula injection (OWASP "CSV injection"): a cell starting with one of these is
# prefixed with ' in the CSV (the JSON keeps the exact value).
_FORMULA_CHARS = "=+-@\t\r"


def peak_rss_mb():
    """Peak resident memory of this process (VmHWM; getrusage as a fallback)."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024.0, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def check_output_dir(path):
    """Create the directory if needed and prove it is writable (a real file, not os.access: root)."""
    if not path:
        raise LdapError("output_dir: give a directory for the report files.", kind="input")
    if os.path.islink(path.rstrip(os.sep) or path):
        raise LdapError("output_dir: %s is a symbolic link." % path,
                        "Give the real directory (a link can be re-pointed between the check and the write).",
                        kind="input")
    if os.path.exists(path) and not os.path.isdir(path):
        raise LdapError("output_dir: %s exists and is not a directory." % path,
                        "Give a directory path for the CSV and JSON reports.", kind="input")
    try:
        os.makedirs(path, mode=0o750, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".directory-readiness-probe-", dir=path)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise LdapError("output_dir: cannot write report files to %s: %s." % (path, exc.strerror or exc),
                        "Give a directory the controller user can create and write, or fix its permissions.",
                        kind="input") from None


def _csv_cell(value):
    if not value:
        return ""
    if value[0] in _FORMULA_CHARS:
        return "'" + value
    return value


def row_dict(head, row):
    """One report row as the JSON report and the task result hold it: head (dn, object class, uSNChanged,
    whenChanged), row (attribute, value, errors, suggested value, action)."""
    dn, otype, usn, changed = head
    attr, value, errors, suggested, action = row
    return {"dn": dn, "object_class": otype, "attribute": attr, "value": value, "errors": list(errors),
            "suggested_value": suggested, "action": action, "usn_changed": usn, "when_changed": changed}


def _row_encoder():
    """json.dumps(row, ensure_ascii=False, separators=(",", ":")) for the rows: CPython's C encoder made once
    (JSONEncoder.encode makes it again for every call: 1.2 of 3.2 microseconds a row, 3,000,000 rows at a
    million objects); the same text, and JSONEncoder.encode where the C encoder is missing."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    encode = make(None, None, json.encoder.encode_basestring, None, ":", ",", False, False, True)

    def dumps(row):
        return "".join(encode(row, 0))

    return dumps


class _Counted:
    """A binary file written through its own buffer that knows how many bytes were written (the offset of
    the next row, with which a row range can be rewritten at commit)."""

    def __init__(self, fd):
        self.handle = os.fdopen(fd, "wb", buffering=1 << 16)
        self.position = 0

    def write(self, text):
        data = text.encode("utf-8")
        self.handle.write(data)
        self.position += len(data)


class _Capture:
    """Rows rendered into memory: the new text of one object's range (see ReportWriter.capture)."""

    def __init__(self):
        self.parts = []
        self.position = 0

    def write(self, text):
        self.parts.append(text)

    def data(self):
        return "".join(self.parts).encode("utf-8")


class ReportWriter:
    """Streams rows into <dir>/<name>.csv and <dir>/<name>.json; commit() publishes them.

    Each JSON row is written after ",\\n  "; commit() blanks the first row's comma. mark() gives the
    offsets of the next row in both files, so that commit() can replace the rows of an object written
    during the scan (a duplicate found at its end) with the ones capture() rendered.

    Lanes: rows go to lane 0 (the partial files) until lane(n) switches to lane n, a pair of unlinked
    temporary files (0600) in the same directory; commit() joins the lanes in their order. A full scan
    gives each of its parts a lane, so that it can check the parts' pages in the order they arrive and
    still write the parts' rows in the plan's order.
    """

    def __init__(self, directory, name, header):
        self.directory = directory
        self.name = name
        self.final = {"csv": os.path.join(directory, name + ".csv"),
                      "json": os.path.join(directory, name + ".json")}
        self.partial = {}
        self._files = {}
        self._lanes = []
        try:
            for kind in self.final:
                fd, self.partial[kind] = tempfile.mkstemp(prefix=".%s.%s.partial-" % (name, kind), dir=directory)
                self._files[kind] = _Counted(fd)
        except OSError as exc:
            self.abort()
            if exc.errno == errno.ENOSPC:
                raise disk_full(directory, 0) from None
            raise LdapError("output_dir: cannot create report files in %s: %s." % (directory, exc.strerror or exc),
                            kind="input") from None
        self._out = (self._files["csv"], self._files["json"])
        self._csv = csv.writer(self._files["csv"], lineterminator="\r\n")
        self._csv.writerow(CSV_COLUMNS)
        self._lanes = [self._out]
        self._lane = 0
        head = dict(header, format=REPORT_FORMAT)
        text = json.dumps(head, indent=1, ensure_ascii=False)
        self._files["json"].write(text[:-2] + ',\n "rows": [')  # reopen the object: rows come next
        self._rows_at = self._files["json"].position  # where the first row's comma is
        self._dumps = _row_encoder()
        self._errors_json = {}

        def text(value, encode=json.encoder.encode_basestring):
            return "null" if value is None else encode(value)

        self._text = text
        self.kept = []
        self.keep = 0

    def row(self, row):
        """One row given as a dict (the JSON report's keys)."""
        self.rows((row["dn"], row["object_class"], row.get("usn_changed"), row.get("when_changed")),
                  [(row["attribute"], row["value"], tuple(row["errors"]), row["suggested_value"], row["action"])])

    def rows(self, head, rows):
        """The rows of one object: head (dn, object class, uSNChanged, whenChanged), rows (attribute, value,
        errors (a tuple), suggested value, action). The object's cells are quoted once for all its rows; each
        JSON row is the text json.dumps(row_dict, ensure_ascii=False, separators=(",", ":")) gives."""
        dn, otype, usn, changed = head
        text = self._text
        csv_head = (_csv_cell(dn), _csv_cell(otype))
        csv_tail = ("" if usn is None else usn, changed or "")
        json_head = ',\n  {"dn":%s,"object_class":%s,"attribute":' % (text(dn), text(otype))
        json_tail = ',"usn_changed":%s,"when_changed":%s}' % ("null" if usn is None else int(usn), text(changed))
        errors_json = self._errors_json
        write_csv = self._csv.writerow
        parts = []
        for attr, value, errors, suggested, action in rows:
            write_csv(csv_head + (attr, _csv_cell(value), ";".join(errors), _csv_cell(suggested), action) + csv_tail)
            listed = errors_json.get(errors)
            if listed is None:
                listed = errors_json[errors] = self._dumps(list(errors))
            parts.append('%s%s,"value":%s,"errors":%s,"suggested_value":%s,"action":%s%s' % (
                json_head, text(attr), text(value), listed, text(suggested), text(action), json_tail))
        self._out[1].write("".join(parts))
        if len(self.kept) < self.keep:
            self.kept.extend(row_dict(head, row) for row in rows[:self.keep - len(self.kept)])

    def mark(self):
        """The offsets (CSV, JSON) in the current lane at which the next row starts."""
        return self._out[0].position, self._out[1].position

    def ends(self):
        """Per lane, the offsets (CSV, JSON) of its end."""
        return [(pair[0].position, pair[1].position) for pair in self._lanes]

    def lane(self, number):
        """Write the next rows to lane `number` (0, 1, ...; a new lane is a pair of unlinked temporary files)."""
        if number == self._lane:
            return
        while len(self._lanes) <= number:
            pair = []
            try:
                for kind in ("csv", "json"):
                    fd, path = tempfile.mkstemp(prefix=".%s.%s.lane-" % (self.name, kind), dir=self.directory)
                    os.unlink(path)
                    pair.append(_Counted(fd))
            except OSError as exc:
                for counted in pair:
                    counted.handle.close()
                if exc.errno == errno.ENOSPC:
                    raise disk_full(self.directory, self.size()) from None
                raise
            self._lanes.append(tuple(pair))
        self._lane = number
        self._out = self._lanes[number]
        self._csv = csv.writer(self._out[0], lineterminator="\r\n")

    def capture(self, render):
        """render(rows): the rows of one object (rows: as ReportWriter.rows), rendered into memory; returns their
        (CSV, JSON) bytes."""
        saved, kept = self._out, self.keep
        capture = (_Capture(), _Capture())
        self._out, self.keep = capture, 0
        self._csv = csv.writer(capture[0], lineterminator="\r\n")
        try:
            render(self.rows)
        finally:
            self._out, self.keep = saved, kept
            self._csv = csv.writer(saved[0], lineterminator="\r\n")
        return capture[0].data(), capture[1].data()

    def flush(self):
        """Push written rows to the partial files (progress is visible; called once per batch)."""
        for pair in self._lanes:
            for counted in pair:
                counted.handle.flush()

    def commit(self, trailer, replace=()):
        """Finish both files and rename them to their final names. replace: ((CSV start, CSV end), (JSON
        start, JSON end), (CSV bytes, JSON bytes), lane) in lane and offset order - row ranges rewritten."""
        text = json.dumps(dict(trailer, complete=True), indent=1, ensure_ascii=False)
        tail = ROWS_END + text[2:] + "\n"  # the trailer's keys follow "rows"
        for number, kind in enumerate(("csv", "json")):
            ranges = [[] for _pair in self._lanes]
            for spans in replace:
                ranges[spans[3]].append((spans[number], spans[2][number]))
            if len(self._lanes) == 1 and not ranges[0]:  # nothing to join or replace: finished in place
                if kind == "json":
                    self._files[kind].write(tail)
                handle = self._files[kind].handle
                handle.flush()
            else:
                self._join(kind, number, ranges, tail if kind == "json" else "")
                self._files[kind].handle.close()
                handle = self._files[kind].handle = open(self.partial[kind], "r+b")  # noqa: SIM115
            if kind == "json" and os.pread(handle.fileno(), 1, self._rows_at) == b",":  # the first row's separator
                os.pwrite(handle.fileno(), b" ", self._rows_at)
            os.fsync(handle.fileno())
            handle.close()
        self._files = {}
        self._close_lanes()
        for kind in ("csv", "json"):  # JSON last: its presence marks a finished scan
            os.replace(self.partial[kind], self.final[kind])
        return dict(self.final)

    def _join(self, kind, number, ranges, tail):
        """The partial file becomes the lanes' files one after another, each (start, end) range of ranges[lane]
        replaced by its bytes, then tail: lane 0's file grows in place when none of its ranges is replaced,
        else a new file is written."""
        self._files[kind].handle.flush()
        if not ranges[0]:
            with open(self.partial[kind], "r+b", buffering=0) as target:  # not "ab": copy_file_range refuses O_APPEND
                target.seek(0, os.SEEK_END)
                self._copy_lanes(kind, number, ranges, target, 1)
                target.write(tail.encode("utf-8"))
            return
        fd, path = tempfile.mkstemp(prefix=".%s.%s.partial-" % (self.name, kind), dir=self.directory)
        try:
            with os.fdopen(fd, "wb", buffering=0) as target:
                self._copy_lanes(kind, number, ranges, target, 0)
                target.write(tail.encode("utf-8"))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(path)
            raise
        os.replace(path, self.partial[kind])

    def _copy_lanes(self, kind, number, ranges, target, first):
        for lane in range(first, len(self._lanes)):
            counted = self._lanes[lane][number]
            counted.handle.flush()
            if lane == 0:
                source = open(self.partial[kind], "rb")  # noqa: SIM115
            else:  # unlinked: read through its descriptor
                source = os.fdopen(os.dup(counted.handle.fileno()), "rb")
            with source:
                position = 0
                for (start, end), data in ranges[lane]:
                    _copy(source, target, position, start - position)
                    target.write(data)
                    position = end
                _copy(source, target, position, None)

    def size(self):
        """Bytes on disk so far in the partial files."""
        total = sum(counted.position for pair in self._lanes[1:] for counted in pair)
        for path in self.partial.values():
            with contextlib.suppress(OSError):
                total += os.stat(path).st_size
        return total

    def _close_lanes(self):
        for pair in self._lanes[1:]:
            for counted in pair:
                with contextlib.suppress(OSError):
                    counted.handle.close()
        self._lanes = self._lanes[:1]

    def abort(self):
        """This run failed: its partial files and the previous report of the same name go."""
        for handle in self._files.values():
            with contextlib.suppress(OSError):
                handle.handle.close()
        self._files = {}
        self._close_lanes()
        for path in list(self.partial.values()) + list(self.final.values()):
            with contextlib.suppress(OSError):
                os.unlink(path)


def _copy(source, target, offset, count):
    """count bytes (None: to the end) of source from offset to target's current position."""
    source.seek(offset)
    if hasattr(os, "copy_file_range"):  # Linux: in the kernel, no copy through this process
        try:
            while count is None or count > 0:
                done = os.copy_file_range(source.fileno(), target.fileno(), count or (1 << 30),
                                          offset, None)
                if done == 0:
                    return
                offset += done
                if count is not None:
                    count -= done
            return
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
                raise
            source.seek(offset)
    while count is None or count > 0:
        chunk = source.read(1 << 20 if count is None else min(count, 1 << 20))
        if not chunk:
            return
        target.write(chunk)
        if count is not None:
            count -= len(chunk)


def discard_before_scan(directory, name, err):
    """The scan failed before its forest (and so the default report name) was known.

    A report named by the caller goes, as after a failed scan. Without a name the earlier reports in
    the directory are other runs' (of this forest or others): the message says so and names them, so
    nobody reads one as this run's result.
    """
    if name:
        for kind in ("csv", "json"):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(directory, name + "." + kind))
        return err
    try:
        earlier = sorted(entry for entry in os.listdir(directory)
                         if entry.startswith(DEFAULT_PREFIX) and entry.endswith(".json"))
    except OSError:
        earlier = []
    if not earlier:
        return err
    shown = ", ".join(earlier[:3]) + (" and %d more" % (len(earlier) - 3) if len(earlier) > 3 else "")
    note = " No report was written; %s in %s %s from an earlier run, not this one." % (
        shown, directory, "is" if len(earlier) == 1 else "are")
    return LdapError(err.message.rstrip() + note, err.remedy, server=err.server, kind=err.kind)


def disk_full(directory, written):
    """One line: where, how much this report had reached, what is free, what to do."""
    free = None
    with contextlib.suppress(OSError):
        free = shutil.disk_usage(directory).free
    return LdapError(
        "output_dir: no space left on the device of %s while writing the readiness report (%s written, %s "
        "free); no report was kept." % (directory, _mb(written), "unknown" if free is None else _mb(free)),
        "Free at least %s there (twice what the scan had written when the disk filled), or give an output_dir "
        "on a larger file system." % _mb(max(2 * written, 1 << 20)), kind="input")


def _mb(size):
    return "%.1f MB" % (size / 1048576.0)


def spill_file(directory):
    """An anonymous temporary file (unlinked at once) for the pages a part read ahead of the rules."""
    return tempfile.TemporaryFile(prefix=".directory-readiness-spill-", dir=directory)
