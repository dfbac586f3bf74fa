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
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.ems.enable.plugins.module_utils.ad.ldap_client import LdapError, cleartext_warnings
from ansible_collections.ems.enable.plugins.module_utils.network.host_names import HostNameError

display = Display()


def _bad_char(text):
    for char in text:
        if char == "\x00":
            return "a NUL character"
        if "\ud800" <= char <= "\udfff":
            return "bytes that are not UTF-8"
    return None


def _walk(value, where):
    if isinstance(value, str):
        why = _bad_char(value)
        return (where, why) if why else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, (list, tuple)) else ()
    for key, item in items:
        found = _walk(key, where) if isinstance(key, str) else None
        found = found or _walk(item, "%s[%r]" % (where, key) if isinstance(key, str) else "%s[%d]" % (where, key))
        if found:
            return found
    return None


def unusable_text(params, spec):
    """One line naming the first option whose text (at any depth) holds a NUL or a non-UTF-8 byte:
    no DC, file name or LDAP library takes them, and they would reach C code or a file as is."""
    for name in sorted(spec):
        found = _walk(params.get(name), name)
        if found:
            where, why = found
            hidden = " The value is not shown (no_log)." if spec[name].get("no_log") else ""
            return ("%s: the value holds %s. Give plain text (check the variable's source: a file read "
                    "as bytes, a copy and paste).%s" % (where, why, hidden))
    return None


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
            return dict(result, failed=True, msg=self._naming_the_option(" ".join(str(err.message).split())))
        except (ArithmeticError, TypeError, ValueError) as err:  # ansible's own type checks: int(inf), int(nan)
            return dict(result, failed=True, msg=self._unconvertible(err))
        bad = unusable_text(params, self.ARGUMENT_SPEC)
        if bad:
            return dict(result, failed=True, msg=bad)
        try:
            outcome = type(self).RUNNER(params, bool(self._task.check_mode))
        except (LdapError, HostNameError) as err:
            display.vvv("ems.enable %s: %s" % (self._task.action, err))
            warnings = cleartext_warnings(params) if isinstance(err, LdapError) and err.kind != "input" else []
            return dict(result, failed=True, msg=str(err), **({"warnings": warnings} if warnings else {}))
        except Exception as err:  # pylint: disable=broad-except  # the one place no input reaches a raw traceback
            display.vvv("ems.enable %s: unexpected error\n%s" % (self._task.action, traceback.format_exc()))
            return dict(result, failed=True, msg=self._unexpected(err, params))
        result.update(outcome)
        if not result.get("warnings"):
            result.pop("warnings", None)
        return result

    def _culprit(self):
        """The option whose value fails validation alone (ansible's messages do not always name it)."""
        args = self._task.args or {}
        for name in sorted(self.ARGUMENT_SPEC):
            if name not in args:
                continue
            try:
                if ArgumentSpecValidator({name: self.ARGUMENT_SPEC[name]}).validate({name: args[name]}).error_messages:
                    return name
            except (ArithmeticError, TypeError, ValueError):
                return name
        return None

    def _naming_the_option(self, msg):
        if any(name in msg for name in self.ARGUMENT_SPEC):
            return msg
        name = self._culprit()
        return "%s: %s" % (name, msg) if name else msg

    def _unconvertible(self, err):
        """ansible's type conversion raised (int(inf), int(nan)): one line naming the option."""
        name = self._culprit()
        if name is None:
            return self._unexpected(err, {})
        return ("%s: %r cannot be used as a %s (%s). Give a finite value of that type."
                % (name, self._task.args[name], self.ARGUMENT_SPEC[name].get("type", "str"),
                   " ".join(str(err).split())[:120]))

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
