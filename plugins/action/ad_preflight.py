# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs ems.enable.ad_preflight on the controller (see plugin_utils/controller_action.py)."""

from __future__ import annotations

from ansible_collections.ems.enable.plugins.module_utils.ad import modules as ad_modules
from ansible_collections.ems.enable.plugins.plugin_utils.controller_action import ControllerModuleAction


class ActionModule(ControllerModuleAction):
    ARGUMENT_SPEC = ad_modules.PREFLIGHT_SPEC
    SPEC_KWARGS = ad_modules.PREFLIGHT_KWARGS
    RUNNER = staticmethod(ad_modules.run_preflight)
