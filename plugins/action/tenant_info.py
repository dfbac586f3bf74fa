# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs ems.enable.tenant_info on the controller; shows a device-code sign-in as an attended step."""

from __future__ import annotations

import functools

from ansible.utils.display import Display

from ansible_collections.ems.enable.plugins.module_utils.tenant import facts
from ansible_collections.ems.enable.plugins.plugin_utils.onboarding import model as om
from ansible_collections.ems.enable.plugins.plugin_utils.controller_action import ControllerModuleAction

display = Display()


def device_code_step(flow):
    """The attended-step block of a device-code sign-in (no device code, only what the operator types)."""
    return {
        "id": "tenant.device_code_sign_in", "title": "Sign in to Microsoft Graph for the tenant checks",
        "component": "tenant", "host": "controller", "status": "pending",
        "instructions": ["Open %s in a browser (any device)." % flow["verification_uri"],
                         "Enter the code %s." % flow["user_code"],
                         "Sign in as a Global Administrator of the tenant and accept.",
                         "Come back here: the run continues by itself."],
        "values": {"Code": flow["user_code"], "Expires in": "%s s" % flow.get("expires_in")},
        "detection": "the sign-in completes (the task waits)",
        "doc_url": "https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code",
    }


def show_device_code(flow):
    display.display(om.attended_plain(device_code_step(flow)))


class ActionModule(ControllerModuleAction):
    ARGUMENT_SPEC = facts.TENANT_INFO_SPEC
    SPEC_KWARGS = facts.TENANT_INFO_KWARGS
    RUNNER = staticmethod(functools.partial(facts.run_tenant_info, notify=show_device_code))
