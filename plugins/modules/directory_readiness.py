#!/usr/bin/python
# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: directory_readiness
short_description: Scan an Active Directory forest with IdFix's rules before directory synchronization
version_added: 0.1.0
description:
  - Applies Microsoft IdFix's multi-tenant rule set (IdFix 2.6.0.3, microsoft/idfix) over LDAP from the
    controller to every user, contact and group of one forest, and reports the values Entra ID would
    reject or merge wrongly, with IdFix's suggested fix where it has one.
  - "Rules per attribute: C(displayName) length 255 and blank (suggests cn); C(givenName) length 63;
    C(mail) length 256 and duplicate; C(mailNickname) length 64, no leading period, duplicate;
    C(proxyAddresses) each value length 256, no second colon, duplicate (compared with the prefix), invalid
    characters by prefix (smtp, X400, X500, other), RFC 2822 for smtp; C(sAMAccountName) length 20 for
    users (256 otherwise), invalid characters, duplicate when the object has no C(userPrincipalName);
    C(targetAddress) like one proxy address with length 255; C(userPrincipalName) length 113, invalid
    characters, RFC 2822 (top-level domain from IdFix's list, domain part, local part, format), duplicate."
  - "Error kinds: V(format), V(blank), V(duplicate), V(character), V(top_level_domain), V(domain_part),
    V(local_part), V(length). Duplicates are case-insensitive, per attribute, across the whole scan (every
    domain or search base)."
  - "Skipped like IdFix: cn ending in C($), IdFix's well-known exclusions (cn starting with Admini, CAS_{,
    DiscoverySearchMailbox, FederatedEmail, Guest, HTTPConnector, krbtgt, iusr_, iwam, msol, support_,
    SystemMailbox, WWIOadmini, HealthMailbox, Exchange Online-ApplicationAccount), conflict objects
    (C(\\0ACNF:) in the DN), critical system objects, service users (sAMAccountName CAS_, SUPPORT_, MSOL_;
    mailNickname CAS_, SystemMailbox; hidden MSOL display names), excluded recipient types, security groups
    without mail and distribution groups without proxyAddresses. O(ignore) skips more."
  - The offending values go to a CSV and a JSON file in O(output_dir) (written under temporary names and
    renamed when the scan is complete). The task result holds counts only, unless O(show_values=true).
  - Streams the directory and keeps every DC busy with asynchronous paged searches, O(parallel) per domain
    (each over a range of uSNCreated, on a connection of its own). What the rules find and every value the
    duplicate rules compare go to a value index (SQLite) next to the report; duplicates are found there once
    the scan is complete, so memory does not grow with the directory.
  - "Re-scans read only what changed (O(scan=auto)): the index keeps, per search, the DC's dnsHostName, its
    invocationId and highestCommittedUSN (read before the search); the next scan of the same DC reads the
    objects whose uSNChanged is higher, removes the deleted ones and those moved out of the scanned subtrees,
    and reports what a full scan would report, duplicates across the whole directory included."
  - Read-only in the directory. Runs on the controller, whatever the play's hosts are.
author:
  - ems.enable contributors (@ems-enable)
extends_documentation_fragment:
  - ems.enable.ldap
options:
  search_base:
    description:
      - DNs of the subtrees to scan, each in a domain of the forest (the DC for it is found in the
        forest's configuration when it is not in O(server)). Subtrees must not overlap.
      - Default, every domain of the forest (or the whole forest with O(global_catalog=true)).
    type: list
    elements: str
    default: []
  global_catalog:
    description:
      - Scan the whole forest with one search on the global catalog port (3269 over LDAPS, 3268 otherwise),
        as IdFix does by default. Attributes outside the global catalog's partial attribute set are reported
        in a warning, as IdFix does.
      - Also turned on by O(port=3268) or O(port=3269).
    type: bool
    default: false
  filter:
    description:
      - LDAP filter of the objects to check. IdFix's default selects every person (users, contacts) and group.
    type: str
    default: (|(objectCategory=Person)(objectCategory=Group))
  page_size:
    description: Entries per page of the paged search (AD sends at most MaxPageSize, 1000 by default).
    type: int
    default: 1000
  page_timeout:
    description:
      - Seconds to wait for the DC's next message of a page before the scan fails (the first page of a large
        domain takes longest).
      - A Samba DC answers the first page only after evaluating the filter over the whole partition; at
        1,000,000 objects that took 30 s to over 120 s, so raise this for very large Samba domains.
    type: int
    default: 120
  parallel:
    description:
      - Searches per domain (or search base) read at once, each over an equal range of C(uSNCreated), an
        indexed attribute, and on a connection of its own. A DC answers one search on one core; two or more
        let a DC with several cores answer faster. V(1) reads each domain in one search, as IdFix does.
      - The report does not depend on it - the parts' pages are checked as they arrive and each part's rows
        take that part's place in the report; pages that arrive faster than they are checked wait in a
        temporary file in O(output_dir).
    type: int
    default: 2
  ignore:
    description:
      - Objects not to check. A DN ignores that object and every object below it; an entry with C(*), C(?) or
        C([...]) is a shell pattern matched, case-insensitively, against the whole DN (for example
        C(CN=svc-*)).
      - Ignored objects are counted in RV(summary.objects_ignored).
    type: list
    elements: str
    default: []
  output_dir:
    description:
      - Directory on the controller for the reports C(<report_name>.csv) and C(<report_name>.json), created if
        needed. The files hold personal data (DNs and attribute values) and are created with mode 0600.
      - It is checked before the scan; a scan that fails leaves no report with the final name.
    type: path
    required: true
  report_name:
    description: Base name of the report files. Default C(directory-readiness-<forest DNS name>).
    type: str
  fail_on:
    description:
      - Error kinds that fail the task when found (after the reports are written). Default, none - report only.
    type: list
    elements: str
    choices: [format, blank, duplicate, character, top_level_domain, domain_part, local_part, length]
    default: []
  show_values:
    description:
      - Also return the offending rows (DN, attribute, value, suggested value) in the task result, at most
        1000. They are personal data; by default the result holds counts only.
    type: bool
    default: false
  scan:
    description:
      - V(auto) reads only the objects changed since the last scan (a delta) when the value index of that scan,
        C(<report_name>.index.sqlite) in O(output_dir), allows it, else the whole directory (RV(scan_reason)
        says why). A full scan is needed when there is no index, when the DC of a search is another one than
        the last scan's (USNs are per DC) or was restored (its invocationId changed), when the rules or the
        options (O(filter), O(search_base), O(ignore), O(global_catalog), the attributes read) changed, or when
        an OU or container in the scanned subtrees was renamed or moved. An unreadable index gives a full scan
        and a warning.
      - V(full) always reads the whole directory (and rebuilds the index).
      - V(delta) fails, in one line with the reason, when no delta is possible.
      - Deleted objects leave the index through their tombstones (the show-deleted control) when the account is
        in BUILTIN\\Administrators, the only group AD lets list deleted objects by default; for any other
        account the delta reads the objectGUID of every selected object instead, with a warning.
    type: str
    choices: [auto, full, delta]
    default: auto
attributes:
  check_mode:
    support: full
    description: Read-only in the directory; check mode scans and writes the same reports and value index.
notes:
  - Differences from IdFix 2.6.0.3, all documented in the collection's docs/readiness.md, -
    msExchRecipientTypeDetails is compared as a number (IdFix compares text that never matches);
    the first holder of a duplicated value is reported once per value; case-insensitive comparison
    uses Unicode lower case.
  - A DC that stops during the scan fails the task, naming the DC and the search; no report is published, and the
    index of the last good scan stays.
  - Report rows are in the order each search read the objects, its parts one after another (then IdFix's rule
    order); the first holder of a duplicated value is the first in that order, as in IdFix (the first read).
    A delta re-scan keeps each changed object's place.
seealso:
  - module: ems.enable.ad_forest_info
  - name: IdFix (microsoft/idfix)
    description: The rule set applied here; IdFix is announced as deprecated on 2026-06-30.
    link: https://github.com/microsoft/idfix
"""

EXAMPLES = r"""
- name: Scan every domain of the forest, reports into ./reports
  ems.enable.directory_readiness:
    server: [dc1.corp.example.com, dc2.corp.example.com]
    username: svc-assess@corp.example.com
    password: "{{ vault_assess_password }}"
    ca_file: /etc/pki/corp-ca.pem
    output_dir: "{{ playbook_dir }}/reports"
  register: readiness

- name: Counts per error kind
  ansible.builtin.debug:
    var: readiness.summary.by_error

- name: Two OUs only, without service accounts; fail on duplicates and bad UPN formats
  ems.enable.directory_readiness:
    server: [dc1.corp.example.com]
    username: svc-assess@corp.example.com
    password: "{{ vault_assess_password }}"
    search_base:
      - OU=Staff,DC=corp,DC=example,DC=com
      - OU=Partners,DC=corp,DC=example,DC=com
    ignore:
      - OU=Service Accounts,OU=Staff,DC=corp,DC=example,DC=com
      - CN=svc-*
    output_dir: /srv/assess/reports
    fail_on: [duplicate, format, top_level_domain]

- name: Whole forest through the global catalog, as IdFix does by default
  ems.enable.directory_readiness:
    server: [gc1.corp.example.com]
    username: svc-assess@corp.example.com
    password: "{{ vault_assess_password }}"
    global_catalog: true
    output_dir: /srv/assess/reports
"""

RETURN = r"""
forest:
  description: DNS name of the forest scanned.
  returned: success
  type: str
  sample: corp.example.com
global_catalog:
  description: Whether the scan went through the global catalog.
  returned: success
  type: bool
searches:
  description: One entry per search (domain or search base) with the DC that answered it.
  returned: success
  type: list
  elements: dict
  sample:
    - {base: "DC=corp,DC=example,DC=com", domain: corp.example.com, server: dc1.corp.example.com, port: 636,
       objects: 12450, seconds: 3.1, parallel: 2}
attributes:
  description: Attributes read (IdFix's list, less those absent from the schema).
  returned: success
  type: list
  elements: str
missing_attributes:
  description: IdFix attributes the forest's schema does not have (for example the Exchange ones without Exchange).
  returned: success
  type: list
  elements: str
summary:
  description: Counts; no personal data.
  returned: success
  type: dict
  contains:
    objects_found:
      description: Entries the searches returned.
      type: int
    objects_ignored:
      description: Entries matched by O(ignore).
      type: int
    objects_skipped:
      description: Entries skipped by IdFix's rules (see RV(summary.skipped)).
      type: int
    objects_checked:
      description: Entries the rules were applied to.
      type: int
    objects_with_errors:
      description: Checked entries with at least one error.
      type: int
    errors:
      description: Report rows (one per offending value; the first holder of a duplicated value adds one).
      type: int
    skipped:
      description: Skipped entries per IdFix skip reason.
      type: dict
    by_error:
      description: Rows per error kind.
      type: dict
      sample: {format: 0, blank: 2, duplicate: 6, character: 3, top_level_domain: 1, domain_part: 0,
               local_part: 0, length: 1}
    by_attribute:
      description: Rows per attribute and error kind (kinds with no rows left out).
      type: dict
      sample: {userPrincipalName: {character: 1, top_level_domain: 1}, mail: {duplicate: 2}}
    duplicates:
      description: Duplicate rows per attribute.
      type: dict
    distinct_values_tracked:
      description: Distinct values compared for duplicates (in the value index, not in memory).
      type: int
scan_type:
  description: V(full) or V(delta) (only the objects changed since the last scan were read).
  returned: success
  type: str
  sample: delta
scan_reason:
  description: Why a full scan was needed, or what the delta started from.
  returned: success
  type: str
  sample: DC=corp,DC=example,DC=com is read from DC dc2.corp.example.com, the last scan read it from
    dc1.corp.example.com (USNs are per DC)
objects_read:
  description: Objects the searches of this run returned (a delta - the changed ones).
  returned: success
  type: int
objects_removed:
  description: Objects a delta removed from the index (deleted, or moved out of the scanned subtrees).
  returned: success
  type: int
deletions_found_by:
  description:
    - How a delta found deleted objects - V(tombstones) or V(enumeration) (every objectGUID read; the account
      is not an administrator). Null for a full scan.
  returned: success
  type: str
performance:
  description: Scan time, objects per second, CPU seconds and peak resident memory (MB) of the process.
  returned: success
  type: dict
  sample: {seconds: 25.3, objects_per_second: 3952.6, cpu_seconds: 6.1, peak_rss_mb: 88.4}
reports:
  description: Paths of the report files.
  returned: success
  type: dict
  contains:
    csv:
      description: "CSV, one row per offending value - dn, object_class, attribute, value, errors (;-separated),
        suggested_value, action (IdFix's edit, complete or remove), usn_changed and when_changed (the object's,
        for the concurrency check of ems.enable.directory_remediation). Cells starting with = + - @ get a
        leading ' ."
      type: str
    json:
      description: The same rows plus the scan's settings, summary and performance; C(complete) is true.
      type: str
index:
  description:
    - Path of the value index (SQLite, mode 0600, next to the reports) the next scan starts from - every object's
      findings and compared values, and the state of each search's DC. It holds personal data, as the reports do.
  returned: success
  type: str
checks:
  description:
    - The scan as precondition checks, the form the C(ems.enable.onboarding) output draws as its PASS / WARN /
      FAIL table - one per error kind found (V(fail) when the kind is in O(fail_on), else V(warn)), or a
      single V(pass). Counts only, no personal data.
  returned: success
  type: list
  elements: dict
  sample:
    - {id: readiness.top_level_domain, requirement: directory_readiness, forest: corp.example.com,
       status: warn, message: "Forest corp.example.com: 3 values with IdFix error top_level_domain - the domain's
       TLD is not routable (userPrincipalName 3).", remedy: "Correct them on premises before the first
       synchronization; each object, value and IdFix's suggested value is in /srv/assess/reports/x.csv."}
rows:
  description: With O(show_values=true), the first 1000 report rows.
  returned: when show_values
  type: list
  elements: dict
  sample:
    - {dn: "CN=Ann Lee,OU=Staff,DC=corp,DC=example,DC=com", object_class: user, attribute: userPrincipalName,
       value: "ann lee@corp.local", errors: [character, top_level_domain], suggested_value: "annlee@corp.local",
       action: edit, usn_changed: 41377, when_changed: "20261206061200.0Z"}
rows_truncated:
  description: Whether RV(rows) holds fewer rows than the report.
  returned: when show_values
  type: bool
"""

from ansible_collections.ems.enable.plugins.module_utils.readiness import directory_readiness as readiness
from ansible_collections.ems.enable.plugins.module_utils.ad import modules as ad_modules


def main():
    ad_modules.module_main(readiness.READINESS_SPEC, readiness.READINESS_KWARGS, readiness.run_directory_readiness)


if __name__ == "__main__":
    main()
