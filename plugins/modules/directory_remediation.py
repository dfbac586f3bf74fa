#!/usr/bin/python
# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: directory_remediation
short_description: Apply the reviewed fixes of a directory readiness report to Active Directory, with an undo LDIF
version_added: 0.1.0
description:
  - Reads the CSV or JSON report of M(ems.enable.directory_readiness) to which a reviewer added a C(decision) per
    row - IdFix's actions V(edit) (C(new_value), or the row's C(suggested_value) when C(new_value) is empty),
    V(remove) (delete the value), V(complete) (accept it as is; nothing is written) or V(skip). Rows without a
    decision are not applied. The file is checked before any connection; a fault names the row and the field.
  - Every change is checked again before it is written - IdFix's rules on the object as it would be (a value
    that still fails is refused with the errors), and an LDAP search for another holder of the new value
    (mail, mailNickname, proxyAddresses, sAMAccountName, targetAddress, userPrincipalName; per attribute,
    case-insensitive) or another row of the file that writes it (refused as a duplicate).
  - Optimistic concurrency - a row is written only when the attribute still holds the scanned value (for
    proxyAddresses, the value is still there) and, on the DC the scan read, the object's uSNChanged is still the
    scanned one (see the notes), and each
    write deletes that exact value and adds the new one in one request, so a value changed in between is
    left as it is and reported as a conflict. An object deleted since the scan is reported.
  - Before the first change, the undo LDIF O(undo_file) is written atomically (mode 0600) - applying it with
    C(ldapmodify -f) or with O(mode=undo) restores every touched value exactly.
  - Check mode (with C(--diff)) shows each object's before and after values and writes nothing. A second
    apply of the same file changes nothing. Never part of the read-only assess; runs on the controller.
  - Memory does not grow with the decided rows - they and their plan are kept in a private temporary SQLite
    database (deleted when the run ends), handled 1000 rows at a time in the file's order; the diff shows the
    first 1000 objects (a warning gives the count; the undo LDIF holds every change).
author:
  - ems.enable contributors (@ems-enable)
extends_documentation_fragment:
  - ems.enable.ldap
options:
  mode:
    description:
      - V(apply) applies O(decisions_file) and writes O(undo_file) first; V(undo) applies O(undo_file) (records
        already restored are left alone, a value changed since the apply is a conflict).
    type: str
    choices: [apply, undo]
    default: apply
  decisions_file:
    description:
      - The report (C(.csv) or C(.json)) with the columns C(decision) and C(new_value) added (C(docs/readiness.md),
        section Remediation). Required with O(mode=apply).
    type: path
  undo_file:
    description:
      - The undo LDIF. With O(mode=apply) it is written before the first change and must not exist yet when
        there is something to change (each apply keeps its own undo); with O(mode=undo) it is read.
    type: path
    required: true
  show_values:
    description:
      - Return RV(rows), the outcome of each decided row with its DN (the first 1000 rows; RV(rows_truncated) says
        when there are more). DNs are personal data; by default the result holds counts only (RV(summary)).
    type: bool
    default: false
notes:
  - "Concurrency: a row is written only when the object still holds the scanned value and - when the report
    carries the object's C(usn_changed) and this run writes to the DC the scan read - the object's uSNChanged is
    still the scanned one (an object changed since the scan in any attribute is a conflict). USNs are per DC:
    against another DC only the values are compared, with a warning."
  - Duplicates are searched in the default naming context of the DC the module binds to (the domain); in a
    forest of several domains, apply each domain's rows against a DC of that domain.
seealso:
  - module: ems.enable.directory_readiness
"""

EXAMPLES = r"""
- name: Review, apply and (if need be) undo the fixes of one domain
  module_defaults:
    group/ems.enable.ldap:
      server: [dc1.corp.example.com]
      username: remediation@corp.example.com
      password: "{{ vault_remediation_password }}"
  block:
    - name: Show what the reviewed decisions would change (nothing is written)
      ems.enable.directory_remediation:
        decisions_file: /srv/assess/directory-readiness-corp.example.com.reviewed.csv
        undo_file: /srv/assess/undo-2026-12-06.ldif
      check_mode: true
      diff: true

    - name: Apply them (the undo LDIF is written first)
      ems.enable.directory_remediation:
        decisions_file: /srv/assess/directory-readiness-corp.example.com.reviewed.csv
        undo_file: /srv/assess/undo-2026-12-06.ldif

    - name: Undo them
      ems.enable.directory_remediation:
        mode: undo
        undo_file: /srv/assess/undo-2026-12-06.ldif
      when: directory_remediation_undo | default(false)
"""

RETURN = r"""
summary:
  description: Rows by outcome.
  returned: success
  type: dict
  sample: {changed: 12, would_change: 0, already_applied: 0, completed: 3, skipped: 2, conflict: 1, deleted: 0,
           refused: 1, failed: 0, undecided: 40, rows: 59}
rows:
  description:
    - One outcome per decided row - C(where) (C(line N) of the CSV, C(row N) of the JSON, C(record N) of the
      undo LDIF), C(dn), C(attribute), C(decision), C(status) (V(change) in check mode, V(changed),
      V(already_applied), V(completed), V(skipped), V(conflict), V(deleted), V(refused), V(failed)) and C(reason).
  returned: when O(show_values=true)
  type: list
  elements: dict
rows_truncated:
  description: Whether more rows were decided than RV(rows) lists (1000).
  returned: when O(show_values=true)
  type: bool
performance:
  description: Wall and CPU seconds of the run and the peak resident memory of the module's process.
  returned: success
  type: dict
  sample: {seconds: 4.2, cpu_seconds: 1.9, peak_rss_mb: 41.3}
undo_file:
  description: The undo LDIF written by this apply.
  returned: when something changed
  type: str
server:
  description: The DC that was written to.
  returned: success
  type: str
mode:
  description: V(apply) or V(undo).
  returned: success
  type: str
"""

from ansible_collections.ems.enable.plugins.module_utils.readiness import remediation
from ansible_collections.ems.enable.plugins.module_utils.ad import modules as ad_modules


def main():
    ad_modules.module_main(remediation.REMEDIATION_SPEC, remediation.REMEDIATION_KWARGS,
                           remediation.run_directory_remediation)


if __name__ == "__main__":
    main()
