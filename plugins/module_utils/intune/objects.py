# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ems.enable.intune_objects: the Intune enablement objects as data, compared with the tenant.

Order of a run: the data's own checks (data.py, no request), every read and reference (planner.py),
every fault found so far reported as one line per fault, and only then the writes. Check mode stops
after planning: the same changes and diff are reported, nothing is written.
"""

from __future__ import annotations

from ansible_collections.ems.enable.plugins.module_utils.graph import client as gc
from ansible_collections.ems.enable.plugins.module_utils.graph.errors import GraphError
from ansible_collections.ems.enable.plugins.module_utils.intune import data as idata
from ansible_collections.ems.enable.plugins.module_utils.intune.devices import BETA_WARNING
from ansible_collections.ems.enable.plugins.module_utils.intune.planner import Planner

INTUNE_OBJECTS_SPEC = idata.INTUNE_OBJECTS_SPEC
INTUNE_OBJECTS_KWARGS = idata.INTUNE_OBJECTS_KWARGS


def module_main(spec, kwargs, runner):
    """The ``main()`` of a module run on a host instead of through its action plugin."""
    from ansible.module_utils.basic import AnsibleModule

    module = AnsibleModule(argument_spec=spec, supports_check_mode=True, **kwargs)
    result = runner(module.params, module.check_mode)
    if result.get("failed"):
        module.fail_json(**result)
    module.exit_json(**result)


def run_intune_objects(params, check_mode=False, notify=None):
    """Entry point (action plugin and module main)."""
    try:
        idata.check(params)
    except idata.DataError as err:
        return {"changed": False, "failed": True, "msg": str(err), "writes": 0}
    client = planner = None
    try:
        client = gc.GraphClient(params, notify=notify)
        planner = Planner(client, params)
        changes = planner.plan()
        if planner.faults:
            return {"changed": False, "failed": True, "msg": "; ".join(planner.faults), "writes": 0,
                    "graph_requests": client.requests}
        summary = [c.summary() for c in changes]
        diff = [c.diff() for c in changes]
        writes = 0 if check_mode else planner.apply()
    except GraphError as err:
        writes = planner.writes if planner else 0
        return {"changed": bool(writes), "failed": True, "writes": writes,
                "msg": str(err) if not writes else "%s (after %d of the planned writes)" % (err, writes),
                "graph_requests": client.requests if client else 0}
    result = {"changed": bool(changes), "changes": summary, "diff": diff, "writes": writes,
              "graph_requests": client.requests, "throttled_seconds": client.waited,
              "graph_beta_calls": list(client.beta_calls)}
    if client.beta_calls:  # said on every run that used it: Microsoft does not support beta in production
        result["warnings"] = [BETA_WARNING % ", ".join(sorted(set(client.beta_calls)))]
    result.update(planner.report)
    authority = planner.report.get("mdm_authority") or {}
    result["ems_facts"] = {"Intune MDM authority": "%s%s" % (authority.get("value"), " (set by this run)" if
                                                             authority.get("set_by_this_run") else "")}
    return result
