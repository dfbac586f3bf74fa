"""The controller-side action base: no input reaches a raw traceback, secrets stay masked."""

from __future__ import annotations

from unittest import mock

import pytest

from ansible_collections.ems.enable.plugins.module_utils.ad.ldap_client import LdapError
from ansible_collections.ems.enable.plugins.plugin_utils.controller_action import ControllerModuleAction

SECRET = "S3cret-Passw0rd"
SPEC = {"server": {"type": "str", "required": True}, "password": {"type": "str", "no_log": True}}


def _action(runner, args):
    class Action(ControllerModuleAction):
        ARGUMENT_SPEC = SPEC
        RUNNER = staticmethod(runner)

    task = mock.MagicMock()
    task.action = "ems.enable.example"
    task.args = args
    task.async_val = 0
    task.check_mode = False
    task.environment = None
    return Action(task, mock.MagicMock(), mock.MagicMock(), loader=None, templar=None, shared_loader_obj=None)


def _raise(exc):
    def runner(params, check_mode):
        raise exc
    return runner


@pytest.mark.parametrize("exc", [ValueError("embedded null byte in %s" % SECRET), UnicodeError("label empty"),
                                 KeyError("forest"), TypeError("'int' object is not iterable")])
def test_an_unexpected_exception_is_one_line_naming_the_module_and_cause(exc):
    result = _action(_raise(exc), {"server": "dc1", "password": SECRET}).run(task_vars={})
    assert result["failed"] is True
    msg = result["msg"]
    assert "\n" not in msg and "Traceback" not in msg
    assert msg.startswith("ems.enable.example failed") and type(exc).__name__ in msg and "-vvv" in msg
    assert SECRET not in msg


def test_expected_faults_keep_their_own_message():
    result = _action(_raise(LdapError("dc1: connection refused.", "Open port 636.")), {"server": "dc1"}).run(
        task_vars={})
    assert result["failed"] is True and result["msg"] == "dc1: connection refused. Remedy: Open port 636."


def test_a_good_run_returns_the_runner_result():
    result = _action(lambda params, check_mode: {"changed": False, "server": params["server"]},
                     {"server": "dc1"}).run(task_vars={})
    assert result["server"] == "dc1" and not result.get("failed")


def test_the_cleartext_warning_stays_when_the_bind_then_fails():
    args = {"server": "dc1", "password": SECRET, "transport": "ldap", "auth": "simple", "allow_cleartext": True}

    class Action(ControllerModuleAction):
        ARGUMENT_SPEC = dict(SPEC, transport={"type": "str"}, auth={"type": "str"}, allow_cleartext={"type": "bool"})
        RUNNER = staticmethod(_raise(LdapError("dc1:389: invalid credentials (52e).", "Check the password.")))

    task = mock.MagicMock(action="ems.enable.example", args=args, async_val=0, check_mode=False, environment=None)
    result = Action(task, mock.MagicMock(), mock.MagicMock(), loader=None, templar=None,
                    shared_loader_obj=None).run(task_vars={})
    assert result["failed"] and result["msg"].startswith("dc1:389: invalid credentials")
    assert result["warnings"] == ["allow_cleartext=true: the password crosses the network in cleartext."]
