# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs ems.enable.sso_test on the controller (LDAP to AD, HTTPS to Entra ID, AD FS/WAP and Graph)."""

from __future__ import annotations

import functools

from ansible_collections.ems.enable.plugins.action.tenant_info import show_device_code
from ansible_collections.ems.enable.plugins.module_utils.tenant import sso
from ansible_collections.ems.enable.plugins.plugin_utils.controller_action import ControllerModuleAction


class ActionModule(ControllerModuleAction):
    ARGUMENT_SPEC = sso.SSO_TEST_SPEC
    SPEC_KWARGS = sso.SSO_TEST_KWARGS
    RUNNER = staticmethod(functools.partial(sso.run_sso_test, notify=show_device_code))
