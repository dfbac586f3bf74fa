"""Disk full for real (issue 13): the onboarding reports written into a small tmpfs at several fill
levels give either the whole set of report files or none, and one line naming the folder and the space.

Mounting a tmpfs needs root, like the rest of this directory (the Samba lab); where the lab is required
(scripts/test, CI) a missing root fails instead of skipping (conftest.lab_required()).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import ROOT, lab_required

sys.path.insert(0, str(ROOT / ".venv" / "collections"))  # the working tree as ems.enable (scripts/bootstrap)
from ansible_collections.ems.enable.plugins.plugin_utils.onboarding import model as om  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.ems.enable.plugins.plugin_utils.onboarding import writers as ow  # noqa: E402  pylint: disable=wrong-import-position

REPORTS = sorted(ow.FILE_NAMES.values())


def _big_model():
    """A run whose four reports take about 150 KB together (many long warnings)."""
    recorder = om.Recorder(clock=lambda: 1_700_000_000.0)
    recorder.play("Assess | forests", "Assess", "assess", ["corp.example"])
    recorder.task("t1", "Read", None, "assess", "ansible.builtin.command")
    recorder.result("t1", "corp.example", "ok", {"warnings": ["warning %04d %s" % (i, "x" * 100) for i in range(300)]})
    return recorder.finish()


@pytest.fixture()
def small_disk(tmp_path):
    if os.geteuid() != 0:
        if lab_required():
            pytest.fail("mounting a tmpfs needs root (required here: CI or EMS_REQUIRE_LAB=1)", pytrace=False)
        pytest.skip("mounting a tmpfs needs root")
    mounts = []

    def mount(size_kb):
        point = tmp_path / ("disk-%d" % size_kb)
        point.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dk" % size_kb, "tmpfs", str(point)], check=True)
        mounts.append(point)
        return point

    yield mount
    for point in mounts:
        subprocess.run(["umount", str(point)], check=False)


@pytest.mark.parametrize("size_kb", [4, 16, 40, 80, 120])
def test_a_full_disk_leaves_all_reports_or_none_and_one_line(small_disk, size_kb):
    model = _big_model()
    texts = (ow.to_markdown(model), ow.to_html(model), ow.to_json(model), ow.to_junit(model))
    needed = sum(len(text) for text in texts)
    assert needed > 120 * 1024  # none of the sizes holds the set: every level ends in the error
    disk = small_disk(size_kb)
    run_dir = disk / "reports" / "20231114T221320Z"
    run_dir.mkdir(parents=True)
    (run_dir / "directory-readiness").mkdir()  # a task of the run wrote here first: it stays
    with pytest.raises(ow.ReportWriteError) as err:
        ow.write_reports(model, str(run_dir))
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("no space left on the device of %s: the reports need " % run_dir), message
    assert "KB free" in message
    left = sorted(p.name for p in run_dir.iterdir())
    assert left == ["directory-readiness"], left  # no report file, no temporary file
