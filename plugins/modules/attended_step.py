#!/usr/bin/python
# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: attended_step
short_description: Detect whether a wizard-only step was done, or describe it for the operator
version_added: 0.1.0
description:
  - "Microsoft supports some steps only through a wizard (Entra Connect's initial configuration, the
    RMS connector's install and server authorization, the Exchange Connector setup). A role automates
    everything around such a step and calls this action at the step: it checks whether the step was
    done (the detection check), and when it was not, returns the step as C(pending) with its numbered
    instructions, rendered from inventory values, for the operator."
  - "Detection, one of two ways: O(detect) runs a module on the host (through the task's connection,
    so WinRM for Windows hosts; the module's own action plugin, if any, is not used) and looks at one
    key of its result; or O(done) takes a boolean the role computed before (for instance from a
    registered task and a Jinja expression)."
  - Never changes anything (C(changed) is always false). In check mode the detection module runs in
    check mode; a module without check mode support is skipped, and the step counts as pending.
  - "Roles should not call this action directly but include the role C(ems.enable.attended_step),
    which calls it and then ends the host's play while the step is pending (C(meta end_host) - the
    host is not failed, the run's return code stays 0). The stdout callback P(ems.enable.onboarding#callback)
    shows a pending step as a framed, numbered block and counts the host as C(PENDING) in its summary,
    and the onboarding report lists it under 'Attended steps pending' with its instructions."
  - Runs in its action plugin, on the controller; only the detection module runs on the host.
  - Never put a secret in O(instructions) or O(values); name the vault entry instead. Vaulted values
    are masked by the onboarding callback, but other callbacks would print them.
author:
  - ems.enable contributors (@ems-enable)
options:
  id:
    description:
      - Stable step id, C(<component>.<step>), lower-case letters, digits, C(_), C(.) and C(-).
        The report and CI (JUnit) identify the step by it across runs.
    type: str
    required: true
  title:
    description: One line saying what the operator does, for example C(Configure Entra Connect Sync in its wizard).
    type: str
    required: true
  instructions:
    description:
      - The numbered steps, in order, one list item per step; they are numbered for you. Render the
        values from the inventory with Jinja (the task's arguments are templated as usual).
    type: list
    elements: str
    required: true
  component:
    description: Component the step belongs to (the role including ems.enable.attended_step sets it).
    type: str
  values:
    description:
      - The values the operator types or picks in the wizard, computed from the inventory, shown as a
        table under the instructions (label -> value). Order is kept.
    type: dict
    default: {}
  done:
    description: The role's own detection result (true = the step was done). Give O(done) or O(detect).
    type: bool
  detect:
    description: A detection check run on the host. Give O(done) or O(detect).
    type: dict
    suboptions:
      module:
        description:
          - Module to run on the host, by FQCN, for example C(ansible.windows.win_service_info),
            C(ansible.windows.win_reg_stat), C(ansible.windows.win_powershell), C(ansible.builtin.stat).
        type: str
        required: true
      args:
        description: The module's arguments.
        type: dict
        default: {}
      key:
        description:
          - Dotted path into the module's result whose value decides, for example C(stat.exists),
            C(exists), C(services.0.state), C(output.0.Configured). List indexes are numbers. A path that
            is missing counts as not done.
        type: str
        required: true
      equals:
        description:
          - The value that means done (compared as is, then as case-insensitive text). Without it, any
            truthy value means done.
        type: raw
  detection:
    description:
      - How completion is detected, in words, shown as "Done when ..." in the block and the report.
        Default with O(detect) is C(<module> reports <key> [= <equals>]).
    type: str
  doc_url:
    description: Microsoft documentation of the wizard step, shown with the instructions.
    type: str
attributes:
  check_mode:
    support: full
    description: Never changes anything; the detection module runs in check mode.
seealso:
  - plugin: ems.enable.onboarding
    plugin_type: callback
"""

EXAMPLES = r"""
# In a role's tasks: the usual way, through the role, which ends the host's play while pending.
- name: Entra Connect initial configuration (wizard only)
  ansible.builtin.include_role:
    name: ems.enable.attended_step
  vars:
    attended_step_id: aad_connect.initial_configuration
    attended_step_title: Configure Entra Connect Sync in its installation wizard
    attended_step_instructions:
      - "Sign in to {{ inventory_hostname }} as {{ aad_connect_install_account }} and start Azure AD Connect."
      - "Choose Customize, then Password Hash Synchronization."
      - "Add the directory {{ aad_connect_forest }} with the connector account {{ aad_connect_connector_account }}."
    attended_step_values:
      Tenant: "{{ aad_connect_tenant }}"
      Connector account: "{{ aad_connect_connector_account }}"
    attended_step_detect:
      module: ansible.windows.win_powershell
      args:
        script: |
          Import-Module ADSync
          $Ansible.Result = @{ Configured = [bool](Get-ADSyncConnector) }
          $Ansible.Changed = $false
      key: result.Configured
    attended_step_detection: the ADSync service has at least one connector

# The action itself, with a detection result computed before.
- name: Read the connector's registry key
  ansible.windows.win_reg_stat:
    path: HKLM:\SOFTWARE\Microsoft\AADRM\Connector
  register: __rms_connector_key

- name: RMS connector server authorization
  ems.enable.attended_step:
    id: rms_connector.authorize_servers
    title: Authorize the Exchange and SharePoint servers in the RMS connector administrator tool
    instructions:
      - "Open the Microsoft RMS connector administrator tool on {{ inventory_hostname }}."
      - "Add {{ rms_connector_exchange_group }} under Exchange servers."
    done: "{{ __rms_connector_key.exists }}"
    detection: the connector's registry key exists
  register: __rms_step

- name: Stop here until it is done
  ansible.builtin.meta: end_host
  when: __rms_step.pending
"""

RETURN = r"""
pending:
  description: True when the step was not done (the role ends the host's play then).
  returned: success
  type: bool
  sample: true
ems_attended_step:
  description: The step as the onboarding callback and report record it.
  returned: success
  type: dict
  contains:
    id:
      description: The step id.
      type: str
    title:
      description: The title.
      type: str
    component:
      description: The component.
      type: str
    host:
      description: The inventory host the step is on.
      type: str
    status:
      description: V(pending) or V(done).
      type: str
    instructions:
      description: The rendered instructions.
      type: list
      elements: str
    values:
      description: The rendered values.
      type: dict
    detection:
      description: How completion is detected, in words.
      type: str
    detection_note:
      description: Why the detection could not decide (key missing, module skipped in check mode).
      type: str
      returned: when it could not decide
    doc_url:
      description: The documentation link.
      type: str
  sample:
    id: aad_connect.initial_configuration
    title: Configure Entra Connect Sync in its installation wizard
    component: aad_connect
    host: sync01.corp.example.com
    status: pending
    instructions: ["Sign in to sync01.corp.example.com as CORP\\adm-sync and start Azure AD Connect."]
    values: {Tenant: contoso.onmicrosoft.com}
    detection: the ADSync service has at least one connector
    doc_url: null
msg:
  description: One line when done; when pending, the instruction block as plain text (for any callback).
  returned: success
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ems.enable.plugins.module_utils.attended_step import ARGUMENT_SPEC, SPEC_KWARGS


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, **SPEC_KWARGS)
    module.fail_json(msg="ems.enable.attended_step runs in its action plugin on the controller; this file only "
                         "documents it. Call it as ems.enable.attended_step (not with ansible.legacy or a copied module).")


if __name__ == "__main__":
    main()
