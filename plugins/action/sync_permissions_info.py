# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs ems.enable.sync_permissions_info on the controller (see plugin_utils/controller_action.py)."""

from __future__ import annotations

from ansible_collections.ems.enable.plugins.module_utils.ad import sync_permissions
from ansible_collections.ems.enable.plugins.plugin_utils.controller_action import ControllerModuleAction


class ActionModule(ControllerModuleAction):
    ARGUMENT_SPEC = sync_permissions.SPEC
    SPEC_KWARGS = sync_permissions.KWARGS
    RUNNER = staticmethod(sync_permissions.run_sync_permissions_info)
