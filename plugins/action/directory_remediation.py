# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs ems.enable.directory_remediation on the controller (see plugin_utils/controller_action.py)."""

from __future__ import annotations

from ansible_collections.ems.enable.plugins.module_utils.readiness import remediation
from ansible_collections.ems.enable.plugins.plugin_utils.controller_action import ControllerModuleAction


class ActionModule(ControllerModuleAction):
    ARGUMENT_SPEC = remediation.REMEDIATION_SPEC
    SPEC_KWARGS = remediation.REMEDIATION_KWARGS
    RUNNER = staticmethod(remediation.run_directory_remediation)
