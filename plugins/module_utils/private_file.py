# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One way to write a small file that holds secrets or personal data (an undo LDIF, a token cache).

The text goes to a new file next to the target (mkstemp: O_EXCL|O_NOFOLLOW, mode 0600, so a planted
file or symbolic link is never opened), is synced, and is renamed over the target: the target is
either the old file or the whole new one, never half-written, and never readable by others.
"""

from __future__ import annotations

import contextlib
import os
import tempfile


def write_atomically(path, text):
    """text: a str, or an iterable of str parts written in turn (a large file is never held whole)."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".partial-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)
            if isinstance(text, str):
                handle.write(text)
            else:
                handle.writelines(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
