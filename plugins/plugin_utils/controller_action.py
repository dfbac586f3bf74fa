# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Base of the action plugins that run a controller-side module in the controller process.

The play's hosts may be Windows servers reached over WinRM: these modules talk LDAP/DNS from the
controller, so the action runs the module's entry point here instead of shipping it to the host
(the pattern of microsoft.ad's controller-side plugins). No delegate_to is needed.
"""

from __future__ import annotations

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
        result.update(outcome)
        if not result.get("warnings"):
            result.pop("warnings", None)
        return result
