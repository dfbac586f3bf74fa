# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of roles/network's report (documented in network_report_rows.yml and network_failure_table.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.ems.enable.plugins.module_utils.network import tables as nt


def _dicts(value, name):
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise AnsibleFilterError("%s: expects a list of dicts." % name)
    return value


def network_report_rows(items, kind, host="controller"):
    """Rows {host, check, target, status, message} of the results that did not pass."""
    rows = []
    for item in _dicts(items, "network_report_rows"):
        if kind == "dns":
            entries = [(item, "dns " + str(item.get("type")), item.get("name"))]
        elif kind == "tls":
            target = "%s:%s" % (item.get("host"), item.get("port"))
            entries = [(c, "tls " + str(c.get("id")), target) for c in item.get("checks") or []]
        elif kind == "connectivity":
            entries = [(item, item.get("check"), item.get("target"))]
        else:
            raise AnsibleFilterError("network_report_rows: kind must be dns, tls or connectivity, not %r." % (kind,))
        for entry, check, target in entries:
            if entry.get("status") == "pass":
                continue
            message = entry.get("message") or ""
            if entry.get("remedy"):
                message += " Fix: " + entry["remedy"]
            rows.append({"host": host, "check": check, "target": target, "status": entry.get("status"),
                         "message": message})
    return rows


def network_failure_table(results, columns=("host", "check", "target", "status", "message")):
    return nt.failure_table(_dicts(results, "network_failure_table"), tuple(columns))


class FilterModule:
    def filters(self):
        return {"network_failure_table": network_failure_table, "network_report_rows": network_report_rows}
