"""The onboarding report files as a set: four or none, never through a planted link, owner-only."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from ansible_collections.ems.enable.plugins.plugin_utils.onboarding import model as om
from ansible_collections.ems.enable.plugins.plugin_utils.onboarding import writers as ow

REPORTS = sorted(ow.FILE_NAMES.values())


def _model():
    recorder = om.Recorder(clock=lambda: 1_700_000_000.0)
    return recorder.finish()


@pytest.mark.parametrize("fail_at", [1, 2, 3, 4])
def test_disk_full_at_any_file_leaves_no_report_and_says_where_and_how_much(tmp_path, monkeypatch, fail_at):
    run_dir = tmp_path / "reports" / "run"
    run_dir.mkdir(parents=True)
    (run_dir / "directory-readiness-corp.csv").write_text("kept: written by a task of the run\n")
    real_fsync, calls = os.fsync, []

    def fsync(fd):
        calls.append(fd)
        if len(calls) == fail_at:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(ow.os, "fsync", fsync)
    with pytest.raises(ow.ReportWriteError) as err:
        ow.write_reports(_model(), str(run_dir))
    message = str(err.value)
    assert message.startswith("no space left on the device of %s: the reports need " % run_dir), message
    assert "KB free" in message and "\n" not in message
    assert os.listdir(run_dir) == ["directory-readiness-corp.csv"]  # none of the four, no temporary file


def test_a_failure_while_renaming_takes_back_the_files_already_placed(tmp_path, monkeypatch):
    real_replace, calls = os.replace, []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == 3:
            raise OSError(errno.EIO, "Input/output error")
        return real_replace(src, dst)

    (tmp_path / "keep.csv").write_text("x")
    monkeypatch.setattr(ow.os, "replace", replace)
    with pytest.raises(ow.ReportWriteError) as err:
        ow.write_reports(_model(), str(tmp_path))
    assert str(err.value) == "%s: Input/output error; no report file of this run was kept." % tmp_path
    assert os.listdir(tmp_path) == ["keep.csv"]


def test_an_empty_run_folder_is_removed_when_the_reports_fail(tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    run_dir.mkdir()

    def fsync(fd):
        raise OSError(errno.ENOSPC, "full (fd %d)" % fd)

    monkeypatch.setattr(ow.os, "fsync", fsync)
    with pytest.raises(ow.ReportWriteError):
        ow.write_reports(_model(), str(run_dir))
    assert not run_dir.exists()


def test_a_planted_symlink_is_replaced_never_written_through(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    for name in REPORTS:
        (run_dir / name).symlink_to(victim)
    written = ow.write_reports(_model(), str(run_dir))
    assert victim.read_text() == "precious\n"
    for path in written.values():
        assert stat.S_ISREG(os.lstat(path).st_mode)


@pytest.mark.parametrize("umask", [0o077, 0o022])
def test_report_modes_are_owner_only_whatever_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        written = ow.write_reports(_model(), str(tmp_path))
    finally:
        os.umask(old)
    assert sorted(os.path.basename(p) for p in written.values()) == REPORTS
    for path in written.values():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600  # never wider than the umask; personal data


def _run_with_completion_order(order):
    """Ten hosts, three tasks; ``order`` gives the hosts' completion order within each task, as forks
    change it (the linear strategy still finishes a task on every host before the next)."""
    hosts = ["dc%02d.corp.example.com" % i for i in range(10)]
    rec = om.Recorder(clock=lambda: 1_700_000_000.0)
    rec.play("Assess | forests", "Assess", "assess", hosts)
    for number, action in enumerate(["ems.enable.ad_preflight", "ems.enable.directory_readiness",
                                     "ansible.windows.win_package"]):
        task_id = "t%d" % number
        rec.task(task_id, "Task %d" % number, None, "assess", action)
        for index in order(range(len(hosts))):
            host = hosts[index]
            status = ["pass", "warn", "fail"][index % 3]
            rec.result(task_id, host, "changed" if number == 2 else "ok", {
                "changed": number == 2, "msg": "done on %s" % host,
                "warnings": ["%s: first" % host, "%s: second" % host],
                "checks": [{"id": "c%d" % k, "status": status, "host": host, "message": "m%d %s" % (k, host)}
                           for k in range(2)],
                "reports": {"csv": "/tmp/x/%s.csv" % host} if number == 1 else None,
                "ems_facts": {"os": "Windows Server 2022", "host": host}})
    rec.stats({h: {"ok": 2, "changed": 1} for h in hosts})
    return rec.finish()


def test_every_list_is_in_the_same_order_whatever_the_completion_order():
    forks_1 = _run_with_completion_order(list)
    forks_10 = _run_with_completion_order(lambda r: [7, 2, 9, 0, 5, 3, 8, 1, 6, 4])
    forks_rev = _run_with_completion_order(lambda r: list(reversed(r)))
    for render in (ow.to_json, ow.to_markdown, ow.to_html, ow.to_junit):
        assert render(forks_1) == render(forks_10) == render(forks_rev), render.__name__
    assert [c["host"] for c in forks_1["checks"] if c["task"] == "Task 0" and c["status"] == "fail"] == [
        "dc02.corp.example.com", "dc02.corp.example.com", "dc05.corp.example.com", "dc05.corp.example.com",
        "dc08.corp.example.com", "dc08.corp.example.com"]
