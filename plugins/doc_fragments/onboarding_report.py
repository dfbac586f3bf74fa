# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The report options shared by the callbacks ems.enable.onboarding and ems.enable.onboarding_report.
    DOCUMENTATION = r"""
options:
  report_dir:
    description:
      - Directory that receives one sub-directory per run, named after the run's start time in UTC
        (for example C(reports/20260510T101500Z)). Relative paths are relative to the directory of the
        ansible.cfg that sets them, else to the current directory.
    type: path
    default: reports
    env:
      - name: EMS_REPORT_DIR
    ini:
      - section: ems_onboarding
        key: report_dir
  report_formats:
    description: Report files to write.
    type: list
    elements: str
    choices: [md, html, json, junit]
    default: [md, html, json, junit]
    env:
      - name: EMS_REPORT_FORMATS
    ini:
      - section: ems_onboarding
        key: report_formats
"""
