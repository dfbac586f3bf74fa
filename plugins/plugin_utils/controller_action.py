# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Base of the action plugins that run a controller-side module in the controller process.

The play's hosts may be Windows servers reached over WinRM: these modules talk LDAP/DNS from the
controller, so the action runs the module's entry point here instead of shipping it to the host
(the pattern of microsoft.ad's controller-side plugins). No delegate_to is needed.
"""

from __future__ import annotations

import traceback

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.ems.enable.plugins.module_utils.ad.ldap_client import LdapError

display = Display()


class ControllerModuleAction(ActionBase):
    """Subclasses set ARGUMENT_SPEC, SPEC_KWARGS and RUNNER (a function(params, check_mode))."""

    ARGUMENT_SPEC = {}
    SPEC_KWARGS = {}
    RUNNER = None
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = True
        self._supports_async = False
        result = super().run(tmp, task_vars)
        del tmp
        try:
            _validation, params = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC,
                                                              **self.SPEC_KWARGS)
        except AnsibleActionFail as err:
            return dict(result, failed=True, msg=err.message)
        try:
            outcome = type(self).RUNNER(params, bool(self._task.check_mode))
        except LdapError as err:
            display.vvv("ems.enable %s: %s" % (self._task.action, err))
            return dict(result, failed=True, msg=str(err))
        except Exception as err:  # pylint: disable=broad-except  # the one place no input reaches a raw traceback
            display.vvv("ems.enable %s: unexpected error\n%s" % (self._task.action, traceback.format_exc()))
            return dict(result, failed=True, msg=self._unexpected(err, params))
        result.update(outcome)
        if not result.get("warnings"):
            result.pop("warnings", None)
        return result

    def _unexpected(self, err, params):
        """One line for an exception the module did not expect: the module, the cause (secrets of
        no_log options masked), the remedy; the traceback only at -vvv."""
        cause = " ".join(("%s: %s" % (type(err).__name__, err)).split())[:300]
        for name, spec in self.ARGUMENT_SPEC.items():
            value = params.get(name)
            if spec.get("no_log") and isinstance(value, str) and value:
                cause = cause.replace(value, "********")
        return ("%s failed on an input or condition it does not handle (%s). Check the task's options "
                "(values, types, files they name); run with -vvv for the traceback and report it if the "
                "input was valid." % (self._task.action, cause))
