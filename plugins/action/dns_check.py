# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs ems.enable.dns_check on the controller (see plugin_utils/controller_action.py)."""

from __future__ import annotations

from ansible_collections.ems.enable.plugins.module_utils.network import dns_check
from ansible_collections.ems.enable.plugins.plugin_utils.controller_action import ControllerModuleAction


class ActionModule(ControllerModuleAction):
    ARGUMENT_SPEC = dns_check.DNS_CHECK_SPEC
    SPEC_KWARGS = dns_check.DNS_CHECK_KWARGS
    RUNNER = staticmethod(dns_check.run_dns_check)
