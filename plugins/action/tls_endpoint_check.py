# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs ems.enable.tls_endpoint_check on the controller (see plugin_utils/controller_action.py)."""

from __future__ import annotations

from ansible_collections.ems.enable.plugins.module_utils.network import tls_endpoint
from ansible_collections.ems.enable.plugins.plugin_utils.controller_action import ControllerModuleAction


class ActionModule(ControllerModuleAction):
    ARGUMENT_SPEC = tls_endpoint.TLS_ENDPOINT_SPEC
    SPEC_KWARGS = tls_endpoint.TLS_ENDPOINT_KWARGS
    RUNNER = staticmethod(tls_endpoint.run_tls_endpoint_check)
