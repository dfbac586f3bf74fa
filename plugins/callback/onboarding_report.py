# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: onboarding_report
type: notification
short_description: Write the onboarding report when another stdout callback draws the screen
version_added: 0.1.0
description:
  - Writes the same report files as the stdout callback P(ems.enable.onboarding#callback) (Markdown,
    self-contained HTML, JSON, JUnit XML in O(report_dir)/<UTC timestamp>/), for runs whose screen
    output comes from another callback, for example AWX / Automation Controller or C(ansible-navigator).
  - Does nothing when the stdout callback is ems.enable.onboarding, which writes the report itself.
  - Masks secrets exactly as ems.enable.onboarding does (vaulted values, C(no_log) results).
author:
  - ems.enable contributors (@ems-enable)
requirements:
  - enabled in C(callbacks_enabled) (ansible.cfg) or C(ANSIBLE_CALLBACKS_ENABLED)
seealso:
  - plugin: ems.enable.onboarding
    plugin_type: callback
extends_documentation_fragment:
  - ems.enable.onboarding_report
"""

from ansible import constants as C
from ansible.plugins.callback import CallbackBase

from ansible_collections.ems.enable.plugins.plugin_utils.onboarding.events import OnboardingEvents

STDOUT_NAMES = ("ems.enable.onboarding",)


class CallbackModule(OnboardingEvents, CallbackBase):
    """Report files only (see DOCUMENTATION)."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "ems.enable.onboarding_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None, options=None):
        super().__init__(display=display, options=options)
        self._ev_init()
        if C.DEFAULT_STDOUT_CALLBACK in STDOUT_NAMES:
            self.disabled = True  # the stdout callback writes the same report

    def v2_playbook_on_start(self, playbook):
        self._ev_playbook(playbook)
        self._ev_reserve_report_dir(bool(self.get_option("report_formats")), self.get_option("report_dir"))

    def v2_playbook_on_play_start(self, play):
        self._ev_play_start(play)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._ev_task_start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._ev_task_start(task, handler=True)

    def v2_runner_on_ok(self, result):
        self._ev_result("ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._ev_result("failed", result)

    def v2_runner_on_skipped(self, result):
        self._ev_result("skipped", result)

    def v2_runner_on_unreachable(self, result):
        self._ev_result("unreachable", result)

    def v2_runner_on_async_failed(self, result):
        self._ev_result("failed", result)

    def v2_playbook_on_stats(self, stats):
        self._ev_stats(stats)
        written = self._ev_write_reports(True, self.get_option("report_dir"), self.get_option("report_formats"))
        if written:
            self._display.display("ems.enable onboarding report: %s" % ", ".join(sorted(written.values())))
