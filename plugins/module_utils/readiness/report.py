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
import errno
import os
import shutil
import tempfile

from ansible_collections.ems.enable.plugins.module_utils.ad.ldap_client import LdapError

CSV_COLUMNS = ("dn", "object_class", "attribute", "value", "errors", "suggested_value", "action", "usn_changed",
               "when_changed")
OPTIONAL_COLUMNS = ("usn_changed", "when_changed")  # reports of earlier versions lack them
REPORT_FORMAT = "ems.enable.directory_readiness/1"
DEFAULT_PREFIX = "directory-readiness-"  # default report name: directory-readiness-<forest>
# Spreadsheet formula injection (OWASP "CSV injection"): a cell starting with one of these is
# prefixed with ' in the CSV (the JSON keeps the exact value).
_FORMULA_CHARS = "=+-@\t\r"


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


class ReportWriter:
    """Streams rows into <dir>/<name>.csv and <dir>/<name>.json; commit() publishes them."""

    def __init__(self, directory, name, header):
        self.directory = directory
        self.name = name
        self.final = {"csv": os.path.join(directory, name + ".csv"),
                      "json": os.path.join(directory, name + ".json")}
        self.partial = {}
        self._files = {}
        try:
            for kind in self.final:
                fd, self.partial[kind] = tempfile.mkstemp(prefix=".%s.%s.partial-" % (name, kind), dir=directory)
                self._files[kind] = os.fdopen(fd, "w", encoding="utf-8", newline="", buffering=1 << 16)
        except OSError as exc:
            self.abort()
            if exc.errno == errno.ENOSPC:
                raise disk_full(directory, 0) from None
            raise LdapError("output_dir: cannot create report files in %s: %s." % (directory, exc.strerror or exc),
                            kind="input") from None
        self._csv = csv.writer(self._files["csv"], lineterminator="\r\n")
        self._csv.writerow(CSV_COLUMNS)
        self._json = self._files["json"]
        head = dict(header, format=REPORT_FORMAT)
        text = json.dumps(head, indent=1, ensure_ascii=False)
        self._json.write(text[:-2] + ',\n "rows": [')  # reopen the object: rows come next
        self._first = True
        self._dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        self.kept = []
        self.keep = 0

    def row(self, row):
        self._csv.writerow((_csv_cell(row["dn"]), _csv_cell(row["object_class"]), row["attribute"],
                            _csv_cell(row["value"]), ";".join(row["errors"]), _csv_cell(row["suggested_value"]),
                            row["action"], "" if row.get("usn_changed") is None else row["usn_changed"],
                            row.get("when_changed") or ""))
        self._json.write(("\n  " if self._first else ",\n  ") + self._dumps(row))
        self._first = False
        if len(self.kept) < self.keep:
            self.kept.append(row)

    def flush(self):
        """Push written rows to the partial files (progress is visible; called once per batch)."""
        for handle in self._files.values():
            handle.flush()

    def commit(self, trailer):
        """Finish both files and rename them to their final names."""
        text = json.dumps(dict(trailer, complete=True), indent=1, ensure_ascii=False)
        self._json.write("\n ],\n" + text[2:])  # the trailer's keys follow "rows"
        self._json.write("\n")
        for handle in self._files.values():
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
        self._files = {}
        for kind in ("csv", "json"):  # JSON last: its presence marks a finished scan
            os.replace(self.partial[kind], self.final[kind])
        return dict(self.final)

    def size(self):
        """Bytes on disk so far in the partial files."""
        total = 0
        for path in self.partial.values():
            with contextlib.suppress(OSError):
                total += os.stat(path).st_size
        return total

    def abort(self):
        """This run failed: its partial files and the previous report of the same name go."""
        for handle in self._files.values():
            with contextlib.suppress(OSError):
                handle.close()
        self._files = {}
        for path in list(self.partial.values()) + list(self.final.values()):
            with contextlib.suppress(OSError):
                os.unlink(path)


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
    """An anonymous temporary file (unlinked at once) for the duplicate holders."""
    return tempfile.TemporaryFile(prefix=".directory-readiness-spill-", dir=directory)
