"""Every role's `verify` entry point changes nothing: a rerun of playbooks/verify.yml reports changed=0.

Walks the task files reachable from each role's tasks/verify.yml (import_tasks / include_tasks) and
checks each task either uses a read-only module or says `changed_when: false` (the AD FS SSO test
toggles the sign-on page for the test and restores it in an `always` task: issue 19 finding 9).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
VERIFY_ROLES = sorted(p.parent.parent.name for p in (ROOT / "roles").glob("*/tasks/verify.yml"))

#: Modules that never change anything (read-only by design).
READ_ONLY = {
    "ansible.builtin.assert", "ansible.builtin.debug", "ansible.builtin.set_fact", "ansible.builtin.fail",
    "ansible.builtin.meta", "ansible.builtin.import_tasks", "ansible.builtin.include_tasks",
    "ansible.builtin.include_role", "ansible.builtin.import_role", "ansible.builtin.include_vars",
    "ansible.windows.win_service_info", "ansible.windows.win_stat", "ansible.windows.win_uri",
    "ansible.windows.win_feature_info", "ansible.windows.win_reg_stat", "community.windows.win_dns_record_info",
    "microsoft.ad.object_info",
    "ems.enable.adfs_endpoint_info", "ems.enable.aad_connect_info", "ems.enable.sync_permissions_info",
    "ems.enable.tls_endpoint_check", "ems.enable.dns_check", "ems.enable.ad_preflight", "ems.enable.adfs_certificate_info",
    "ems.enable.connector_preflight", "ems.enable.ad_forest_info", "ems.enable.sso_test",
}
KEYWORDS = {"name", "when", "register", "tags", "vars", "loop", "loop_control", "until", "retries", "delay",
            "delegate_to", "run_once", "changed_when", "failed_when", "no_log", "become", "become_user",
            "become_method", "check_mode", "block", "rescue", "always", "ignore_errors", "environment",
            "args", "notify", "listen", "throttle", "any_errors_fatal", "module_defaults", "collections",
            "diff", "ignore_unreachable", "timeout", "delegate_facts", "with_items", "async", "poll"}


def tasks_of(path: Path, seen: set[Path]):
    if path in seen or not path.exists():
        return
    seen.add(path)
    for task in _flatten(yaml.safe_load(path.read_text()) or []):
        yield path, task
        for key in ("ansible.builtin.import_tasks", "ansible.builtin.include_tasks"):
            target = task.get(key)
            if isinstance(target, dict):
                target = target.get("file")
            if isinstance(target, str) and "{{" not in target:
                yield from tasks_of(path.parent / target, seen)


def _flatten(tasks):
    for task in tasks:
        if not isinstance(task, dict):
            continue
        if "block" in task:
            for key in ("block", "rescue", "always"):
                yield from _flatten(task.get(key) or [])
        else:
            yield task


def action(task: dict) -> str:
    keys = [k for k in task if k not in KEYWORDS]
    assert len(keys) == 1, task
    return keys[0]


@pytest.mark.parametrize("role", VERIFY_ROLES)
def test_verify_entry_point_changes_nothing(role):
    writers = []
    for path, task in tasks_of(ROOT / "roles" / role / "tasks" / "verify.yml", set()):
        module = action(task)
        if module in READ_ONLY or task.get("changed_when") is False:
            continue
        writers.append("%s: %s (%s)" % (path.relative_to(ROOT), task.get("name"), module))
    assert not writers, "tasks of the verify entry point that may change something:\n" + "\n".join(writers)


def test_every_component_role_has_a_verify_entry_point():
    assert {"adfs", "aad_connect", "intune_exchange_connector", "rms_connector", "rms_connector_client"} <= set(VERIFY_ROLES)


def test_sso_toggle_is_restored_in_always():
    tasks = yaml.safe_load((ROOT / "roles" / "adfs" / "tasks" / "verify_sso.yml").read_text())
    block = next(t for t in tasks if "block" in t)
    restore = block["always"][0]
    assert restore["ansible.windows.win_powershell"]["parameters"] == {"Enabled": False}
    assert restore["when"] == "__adfs_sso_was_off | bool"
