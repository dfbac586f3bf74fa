# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs ems.enable.adfs_certificate_info on the controller (see plugin_utils/controller_action.py).

The PFX file is read on the controller, whatever the play's hosts are: the certificate is checked
before anything is copied to a Windows host.
"""

from __future__ import annotations

from ansible_collections.ems.enable.plugins.module_utils.adfs import certificate as adfs_certificate
from ansible_collections.ems.enable.plugins.plugin_utils.controller_action import ControllerModuleAction


class ActionModule(ControllerModuleAction):
    ARGUMENT_SPEC = adfs_certificate.ARGUMENT_SPEC
    SPEC_KWARGS = adfs_certificate.KWARGS
    RUNNER = staticmethod(adfs_certificate.run_certificate_info)
