# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs and entry points of the controller-side AD modules.

Each entry point is called in-process by the module's action plugin (so it runs on the controller
whatever the play's hosts are) and by the module's own main() (when run with connection=local).
Entry points raise ldap_client.LdapError for expected faults; callers turn it into `failed`.
"""

from __future__ import annotations

from ansible_collections.ems.enable.plugins.module_utils.ad import facts as ad_facts
from ansible_collections.ems.enable.plugins.module_utils.ad import rules as ad_rules
from ansible_collections.ems.enable.plugins.module_utils.ad import ldap_client as lc
from ansible_collections.ems.enable.plugins.module_utils.ad.levels import LEVEL_KEYS
from ansible_collections.ems.enable.plugins.module_utils.tenant import rules as tenant_rules

FOREST_INFO_SPEC = dict(
    lc.LDAP_ARGUMENT_SPEC,
    count_objects=dict(type="bool", default=True),
)
FOREST_INFO_KWARGS = {}

PREFLIGHT_SPEC = dict(
    lc.LDAP_ARGUMENT_SPEC,
    server=dict(type="list", elements="str"),
    forests=dict(type="list", elements="dict"),
    requirements=dict(type="list", elements="str", default=list(ad_rules.DEFAULT_REQUIREMENTS),
                      choices=list(ad_rules.REQUIREMENT_SETS)),
    minimum_forest_level=dict(type="str", default="2008", choices=LEVEL_KEYS),
    adfs_service_account=dict(type="str", default="gmsa", choices=["gmsa", "user"]),
    adfs_new_farm=dict(type="bool", default=True),
    count_objects=dict(type="bool", default=True),
    tenant=dict(type="dict"),
    tenant_plan=dict(type="dict", options=tenant_rules.PLAN_SPEC),
)
PREFLIGHT_KWARGS = dict(required_one_of=[["server", "forests"]], mutually_exclusive=[["server", "forests"]])


def run_forest_info(params, check_mode=False):
    """Read-only: identical in check mode."""
    warnings = lc.validate_params(params)
    forests, unreachable = ad_facts.gather(params, count_objects=params["count_objects"])
    warnings.extend("Domain controller did not answer: %s" % u["error"] for u in unreachable)
    return {"changed": False, "forests": forests, "unreachable_servers": unreachable, "warnings": warnings}


_FACT_SHAPES = (("forest", str), ("forest_level", dict), ("trusts", list))
_OPTIONAL_SHAPES = (("domains", list), ("domain_controllers", list), ("object_counts", dict))


def _validate_forest_facts(forests):
    remedy = "Pass the `forests` list that ad_forest_info returned."
    if not forests:
        raise lc.LdapError("forests: the list is empty, so no requirement could be checked.", remedy, kind="input")
    for index, forest in enumerate(forests):
        if not isinstance(forest, dict):
            raise lc.LdapError("forests[%d]: not a forest from ems.enable.ad_forest_info (%r)." % (index, forest),
                               remedy, kind="input")
        missing = [key for key, _kind in _FACT_SHAPES if forest.get(key) in (None, "")]
        if missing:
            raise lc.LdapError("forests[%d]: not a forest from ems.enable.ad_forest_info (missing %s)."
                               % (index, ", ".join(missing)), remedy, kind="input")
        for key, kind in _FACT_SHAPES + _OPTIONAL_SHAPES:
            value = forest.get(key)
            if value is not None and not isinstance(value, kind):
                raise lc.LdapError("forests[%d].%s: %r is not a %s as ad_forest_info returns it."
                                   % (index, key, value, kind.__name__), remedy, kind="input")
            if kind is list and any(not isinstance(item, dict) for item in value or []):
                raise lc.LdapError("forests[%d].%s: every entry must be a dict as ad_forest_info returns it."
                                   % (index, key), remedy, kind="input")
        if not isinstance(forest["forest_level"].get("number", 0), int):
            raise lc.LdapError("forests[%d].forest_level.number: %r is not a level number."
                               % (index, forest["forest_level"].get("number")), remedy, kind="input")


def run_preflight(params, check_mode=False):
    """Collect (or take) forest facts and evaluate every requested requirement set; never stop early."""
    warnings = []
    unreachable = []
    if not params.get("requirements"):
        raise lc.LdapError("requirements: the list is empty, so nothing would be checked.",
                           "Leave it out for the default (%s) or name the requirement sets to check."
                           % ", ".join(ad_rules.DEFAULT_REQUIREMENTS), kind="input")
    if params.get("forests") is not None:
        forests = params["forests"]
        _validate_forest_facts(forests)
    else:
        warnings = lc.validate_params(params)
        forests, unreachable = ad_facts.gather(params, count_objects=params["count_objects"])
    checks = ad_rules.evaluate(forests, params["requirements"], params, unreachable)
    summary, msg = ad_rules.summarize(checks)
    result = {"changed": False, "checks": checks, "summary": summary, "forests": forests,
              "warnings": warnings}
    if msg:
        result["failed"] = True
        result["msg"] = msg
    return result


def module_main(spec, kwargs, runner):
    """main() of the module files: the same entry point under AnsibleModule."""
    from ansible.module_utils.basic import AnsibleModule

    module = AnsibleModule(argument_spec=spec, supports_check_mode=True, **kwargs)
    try:
        result = runner(module.params, module.check_mode)
    except lc.LdapError as err:
        module.fail_json(msg=str(err))
    for warning in result.pop("warnings", []):
        module.warn(warning)
    if result.get("failed"):
        module.fail_json(**result)
    module.exit_json(**result)
