# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs ems.enable.domain_federation on the controller; an unconfirmed first federation is shown as
the attended-step block (what will happen, what to check, how to confirm)."""

from __future__ import annotations

from ansible import constants as C
from ansible.utils.display import Display

from ansible_collections.ems.enable.plugins.action.attended_step import OWN_CALLBACKS
from ansible_collections.ems.enable.plugins.action.tenant_info import show_device_code
from ansible_collections.ems.enable.plugins.module_utils.tenant import federation
from ansible_collections.ems.enable.plugins.plugin_utils.onboarding import model as om
from ansible_collections.ems.enable.plugins.plugin_utils.controller_action import ControllerModuleAction

display = Display()


def run(params, check_mode):
    result = federation.run_domain_federation(params, check_mode, notify=show_device_code)
    # a pending step (first federation, rollback) is shown and reported by the onboarding callback like every
    # attended step, and here only under another stdout callback (or when a result carrying one failed)
    if result.get("ems_attended_step") and (result.get("failed") or C.DEFAULT_STDOUT_CALLBACK not in OWN_CALLBACKS):
        display.display(om.attended_plain(result["ems_attended_step"]))
    return result


class ActionModule(ControllerModuleAction):
    ARGUMENT_SPEC = federation.DOMAIN_FEDERATION_SPEC
    SPEC_KWARGS = federation.DOMAIN_FEDERATION_KWARGS
    RUNNER = staticmethod(run)
