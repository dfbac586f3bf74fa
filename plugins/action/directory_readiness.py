# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs ems.enable.directory_readiness on the controller (see plugin_utils/controller_action.py)."""

from __future__ import annotations

from ansible_collections.ems.enable.plugins.module_utils.readiness import directory_readiness as readiness
from ansible_collections.ems.enable.plugins.plugin_utils.controller_action import ControllerModuleAction


class ActionModule(ControllerModuleAction):
    ARGUMENT_SPEC = readiness.READINESS_SPEC
    SPEC_KWARGS = readiness.READINESS_KWARGS
    RUNNER = staticmethod(readiness.run_directory_readiness)
