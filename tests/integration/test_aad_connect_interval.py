"""aad_connect: one aad_connect_sync_interval across the play's sync servers (issue 19, finding 17).

The scheduler is tenant-wide, so two inventory values would switch it on every run. The role's own
task file runs on two local hosts whose inventory gives each its own value.
"""

from __future__ import annotations

import subprocess

import pytest
import yaml

from connector_play import project_env

pytestmark = pytest.mark.integration


def run(tmp_path, intervals):
    hosts = {}
    for i, value in enumerate(intervals):
        hosts[f"sync{i}"] = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
        if value is not None:
            hosts[f"sync{i}"]["aad_connect_sync_interval"] = value
    inventory = {"all": {"hosts": hosts}}
    play = [{"name": "interval", "hosts": "all", "gather_facts": False, "tasks": [
        {"name": "role tasks", "ansible.builtin.include_role": {"name": "ems.enable.aad_connect",
                                                                "tasks_from": "validate_scheduler"}}]}]
    (tmp_path / "inv.yml").write_text(yaml.safe_dump(inventory))
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    return subprocess.run(["ansible-playbook", "-i", str(tmp_path / "inv.yml"), str(tmp_path / "play.yml")],
                          cwd=str(tmp_path), env=project_env(), capture_output=True, text=True, timeout=300, check=False)


def test_different_values_fail_naming_each_host(tmp_path):
    proc = run(tmp_path, [30, 60])
    assert proc.returncode != 0
    assert "aad_connect_sync_interval differs between the sync servers of this play: sync0=30, sync1=60" in proc.stdout, proc.stdout


@pytest.mark.parametrize("intervals", [[60, 60], [None, 30], [None]])
def test_one_value_passes(tmp_path, intervals):
    proc = run(tmp_path, intervals)
    assert proc.returncode == 0, proc.stdout
