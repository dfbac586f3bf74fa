# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs ems.enable.intune_objects on the controller; a device-code sign-in is shown as an attended step."""

from __future__ import annotations

import functools

from ansible_collections.ems.enable.plugins.action.tenant_info import show_device_code
from ansible_collections.ems.enable.plugins.module_utils.intune import objects
from ansible_collections.ems.enable.plugins.plugin_utils.controller_action import ControllerModuleAction


class ActionModule(ControllerModuleAction):
    ARGUMENT_SPEC = objects.INTUNE_OBJECTS_SPEC
    SPEC_KWARGS = objects.INTUNE_OBJECTS_KWARGS
    RUNNER = staticmethod(functools.partial(objects.run_intune_objects, notify=show_device_code))
