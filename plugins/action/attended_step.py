# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ems.enable.attended_step: detect whether a wizard-only step was done; if not, describe it.

Documented in plugins/modules/attended_step.py. Roles call it through the role
ems.enable.attended_step, which also ends the host's play while the step is pending.
"""

from __future__ import annotations

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.ems.enable.plugins.module_utils.attended_step import (
    ARGUMENT_SPEC, SPEC_KWARGS, STEP_ID, describe, holds, lookup)
from ansible_collections.ems.enable.plugins.plugin_utils.onboarding import model as om


display = Display()
OWN_CALLBACKS = ("ems.enable.onboarding",)


class ActionModule(ActionBase):
    """See plugins/modules/attended_step.py."""

    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = True
        self._supports_async = False
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        try:
            _validation, params = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC, **SPEC_KWARGS)
        except AnsibleActionFail as err:
            return dict(result, failed=True, msg="ems.enable.attended_step: %s" % err.message)
        host = to_text(task_vars.get("inventory_hostname", "localhost"))
        step_id = params["id"]
        if not STEP_ID.match(step_id):
            return dict(result, failed=True,
                        msg="ems.enable.attended_step: id %r is not a step id; use lower-case letters, digits, "
                            "'_', '.' and '-', e.g. aad_connect.initial_configuration." % step_id)
        if not params["instructions"]:
            return dict(result, failed=True, msg="ems.enable.attended_step %s: instructions is empty; give the "
                                                 "operator at least one step to follow." % step_id)

        detect = params.get("detect")
        detection = params.get("detection") or (describe(detect) if detect else None)
        note = None
        if detect:
            outcome = self._detect(detect, task_vars)
            if outcome.get("failed") or outcome.get("unreachable"):
                msg = outcome.get("msg") or "no message"
                fail = dict(result, failed=True,
                            msg="ems.enable.attended_step %s on %s: the detection check %s failed: %s. Fix the "
                                "check (module, args) or the host, then run again."
                                % (step_id, host, detect["module"], msg))
                if outcome.get("unreachable"):
                    fail["unreachable"] = True
                return fail
            if outcome.get("skipped"):
                done, note = False, "not detected: %s skipped (%s)" % (
                    detect["module"], outcome.get("msg") or "check mode unsupported")
            else:
                found, value = lookup(outcome, detect["key"])
                done = holds(found, value, detect)
                if not found:
                    note = "%s returned no %s" % (detect["module"], detect["key"])
        else:
            done = bool(params["done"])

        step = {
            "id": step_id,
            "title": params["title"],
            "component": params.get("component") or None,
            "host": host,
            "status": "done" if done else "pending",
            "instructions": [to_text(i) for i in params["instructions"]],
            "values": {to_text(k): v for k, v in (params.get("values") or {}).items()},
            "detection": detection,
            "doc_url": params.get("doc_url"),
        }
        if note:
            step["detection_note"] = note
        result.update(changed=False, pending=not done, ems_attended_step=step)
        if done:
            result["msg"] = "Attended step %s on %s is done (%s)." % (step_id, host, detection or "detected")
        else:
            block = om.attended_plain(step)
            result["msg"] = "Attended step %s on %s is pending.\n%s" % (step_id, host, block)
            if C.DEFAULT_STDOUT_CALLBACK not in OWN_CALLBACKS:
                # other stdout callbacks show an ok result without its msg: show the block here
                display.display(block)
        return result

    def _detect(self, detect, task_vars):
        try:
            return self._execute_module(module_name=detect["module"], module_args=dict(detect.get("args") or {}),
                                        task_vars=task_vars)
        finally:
            shell = getattr(self._connection, "_shell", None)
            if shell is not None and getattr(shell, "tmpdir", None):
                self._remove_tmp_path(shell.tmpdir)
