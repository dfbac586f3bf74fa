"""ems.enable.intune_objects against the Graph stand-in (tests/graph/standin.py + intune_standin.py):
every request and response is validated against the pinned CSDL slice, and the fixture fails a test
that produced any contract violation. The shipped baseline is roles/intune/defaults/main.yml."""

from __future__ import annotations

import copy
import functools
import json
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[5]
sys.path.insert(0, str(ROOT / "tests" / "graph"))

import csdl  # noqa: E402
import standin  # noqa: E402
import standin_fixture  # noqa: E402

from ansible_collections.ems.enable.plugins.module_utils.graph import client as gc  # noqa: E402
from ansible_collections.ems.enable.plugins.module_utils.intune import objects, tables  # noqa: E402
from ansible_collections.ems.enable.plugins.module_utils.intune import data as idata  # noqa: E402

CLIENT = "3f2a9c1e-7b6d-4e5f-8a9b-0c1d2e3f4a5b"
BREAK_GLASS = "breakglass1@emslab.onmicrosoft.com"
KINDS = {"groups": "intune_groups", "compliance_policies": "intune_compliance_policies",
         "conditional_access_policies": "intune_conditional_access_policies",
         "app_protection_policies": "intune_app_protection_policies",
         "role_assignments": "intune_role_assignments", "licensing": "intune_licensing",
         "enrollment_restrictions": "intune_enrollment_restrictions", "email_profiles": "intune_email_profiles"}


def baseline():
    defaults = yaml.safe_load((ROOT / "roles" / "intune" / "defaults" / "main.yml").read_text())
    return {kind: copy.deepcopy(defaults[var]) for kind, var in KINDS.items()}


def params(stand, data=None, **extra):
    out = stand.graph_params(CLIENT, stand.app_cert)
    out.update({"groups": [], "compliance_policies": [], "conditional_access_policies": [],
                "conditional_access_enforce": False, "break_glass_users": [BREAK_GLASS], "break_glass_groups": [],
                "app_protection_policies": [], "role_assignments": [], "licensing": [], "enrollment_restrictions": [],
                "email_profiles": [], "mdm_authority": "report"})
    out.update(baseline() if data is None else data)
    out.update(extra)
    return out


writes = standin_fixture.writes


# --- acceptance: the shipped baseline --------------------------------------------------------------

def test_baseline_check_mode_then_apply_then_no_write(stand):
    data = baseline()
    planned = objects.run_intune_objects(params(stand), check_mode=True)
    assert not planned.get("failed"), planned.get("msg")
    assert planned["changed"] and planned["writes"] == 0
    assert writes(stand) == [] and stand.intune.writes == []
    applied = objects.run_intune_objects(params(stand), check_mode=False)
    assert not applied.get("failed"), applied.get("msg")
    # check mode reported exactly the changes the real run made
    assert planned["changes"] == applied["changes"]
    assert applied["writes"] == len(applied["changes"]) == len(writes(stand))
    state = stand.intune
    assert sorted(g["displayName"] for g in state.groups.values()) == sorted(g["name"] for g in data["groups"])
    ios = next(g for g in state.groups.values() if g["displayName"] == "EMS pilot iOS devices")
    assert ios["membershipRule"] == ('(device.deviceOSType -eq "iPhone") -or (device.deviceOSType -eq "iPad") '
                                     '-or (device.deviceOSType -eq "iOS")')
    assert ios["groupTypes"] == ["DynamicMembership"] and ios["membershipRuleProcessingState"] == "On"
    pilot = next(g for g in state.groups.values() if g["displayName"] == "EMS pilot users")
    assert pilot["assignedLicenses"] == [{"skuId": "efccb6f7-5641-4e0e-bd10-b4976e1bf68e", "disabledPlans": []}]
    assert sorted(p["@odata.type"] for p in state.compliance.values()) == [
        "#microsoft.graph.androidCompliancePolicy", "#microsoft.graph.iosCompliancePolicy",
        "#microsoft.graph.macOSCompliancePolicy", "#microsoft.graph.windows10CompliancePolicy"]
    for policy in state.compliance.values():
        assert [a["target"]["groupId"] for a in policy["assignments"]] == [pilot["id"]]
        actions = policy["scheduledActionsForRule"]
        assert len(actions) == 1 and [c["actionType"] for c in actions[0]["scheduledActionConfigurations"]] == ["block"]
    [ca] = state.ca.values()
    assert ca["state"] == "enabledForReportingButNotEnforced"
    assert ca["conditions"]["users"]["includeGroups"] == [pilot["id"]]
    assert ca["conditions"]["users"]["excludeUsers"] == [next(u["id"] for u in state.users
                                                              if u["userPrincipalName"] == BREAK_GLASS)]
    for collection, key in (("iosManagedAppProtections", "bundleId"), ("androidManagedAppProtections", "packageId")):
        [policy] = state.mam[collection].values()
        assert len(policy["apps"]) == 3 and all(key in a["mobileAppIdentifier"] for a in policy["apps"])
        assert [a["target"]["groupId"] for a in policy["assignments"]] == [pilot["id"]]
    admins = next(g for g in state.groups.values() if g["displayName"] == "EMS pilot Intune administrators")
    assert admins.get("isAssignableToRole") is True
    assert [(a["roleDefinitionId"], a["principalId"]) for a in state.role_assignments.values()] == [
        (tables.ROLE_TEMPLATES["Intune Administrator"], admins["id"])]
    # enrollment restrictions: the two of the data created and assigned; the tenant's defaults untouched
    mine = {c["displayName"]: c for c in state.enrollment.values() if c["priority"] != 0}
    assert sorted(mine) == ["EMS pilot - device limit", "EMS pilot - enrollment platforms"]
    platforms = mine["EMS pilot - enrollment platforms"]
    assert platforms["@odata.type"] == "#microsoft.graph.deviceEnrollmentPlatformRestrictionsConfiguration"
    assert platforms["iosRestriction"] == {"platformBlocked": False, "personalDeviceEnrollmentBlocked": False,
                                           "osMinimumVersion": "16.0"}
    assert platforms["windowsMobileRestriction"] == {"platformBlocked": True, "personalDeviceEnrollmentBlocked": False}
    assert mine["EMS pilot - device limit"]["limit"] == 5
    for config in mine.values():
        assert [a["target"]["groupId"] for a in config["assignments"]] == [pilot["id"]]
    assert all(c["version"] == 0 for c in state.enrollment.values() if c["priority"] == 0)
    # email profiles: created and assigned through Graph beta, and only they went to beta
    assert sorted(c["@odata.type"] for c in state.configurations.values()) == [
        "#microsoft.graph.androidWorkProfileGmailEasConfiguration", "#microsoft.graph.iosEasEmailProfileConfiguration"]
    for config in state.configurations.values():
        assert [a["target"]["groupId"] for a in config["assignments"]] == [pilot["id"]]
    beta = [e for e in stand.log if e["path"].startswith("/beta/")]
    assert beta and all("/deviceManagement/deviceConfigurations" in e["path"] for e in beta)
    assert all(c.get("graph", "").startswith("beta") == (c["kind"] == "email profile") for c in applied["changes"])
    assert applied["warnings"][0].startswith("Graph beta was called (Microsoft does not support beta APIs")
    # the second run: nothing to change, no write at all
    before = len(stand.log)
    again = objects.run_intune_objects(params(stand), check_mode=False)
    assert not again.get("failed"), again.get("msg")
    assert again["changed"] is False and again["changes"] == [] and again["writes"] == 0
    assert [e for e in stand.log[before:] if e["method"] != "GET" and "/oauth2/" not in e["path"]] == []
    assert again["mdm_authority"] == {"value": "intune", "set_by_this_run": False}


def test_diff_shows_only_changed_properties_and_patch_sends_only_them(stand):
    assert not objects.run_intune_objects(params(stand)).get("failed")
    data = baseline()
    data["compliance_policies"][1]["settings"]["osMinimumVersion"] = "17.0"
    before = len(stand.log)
    checked = objects.run_intune_objects(params(stand, data), check_mode=True)
    assert checked["changes"] == [{"kind": "compliance policy", "name": "EMS pilot - iOS compliance",
                                   "action": "update", "properties": ["osMinimumVersion"]}]
    [diff] = checked["diff"]
    assert json.loads(diff["before"]) == {"osMinimumVersion": "16.0"}
    assert json.loads(diff["after"]) == {"osMinimumVersion": "17.0"}
    assert [e for e in stand.log[before:] if e["method"] != "GET" and "/oauth2/" not in e["path"]] == []
    applied = objects.run_intune_objects(params(stand, data))
    assert applied["writes"] == 1
    [policy] = [p for p in stand.intune.compliance.values() if p["displayName"] == "EMS pilot - iOS compliance"]
    assert policy["osMinimumVersion"] == "17.0" and policy["passcodeRequired"] is True


def test_objects_not_in_the_data_are_never_touched_absent_deletes_only_the_named(stand):
    foreign_group = stand.intune.add_group("Finance")
    objects.run_intune_objects(params(stand))
    foreign_role = {"id": "foreign", "roleDefinitionId": tables.ROLE_TEMPLATES["Intune Administrator"],
                    "principalId": stand.intune.users[0]["id"], "directoryScopeId": "/"}
    stand.intune.role_assignments["foreign"] = foreign_role
    data = baseline()
    data["compliance_policies"][3]["state"] = "absent"
    result = objects.run_intune_objects(params(stand, data))
    assert [c["action"] for c in result["changes"]] == ["delete"]
    assert "EMS pilot - macOS compliance" not in [p["displayName"] for p in stand.intune.compliance.values()]
    assert len(stand.intune.compliance) == 3
    assert foreign_group in stand.intune.groups and "foreign" in stand.intune.role_assignments


def test_conditional_access_is_switched_on_only_by_the_variable(stand):
    objects.run_intune_objects(params(stand))
    result = objects.run_intune_objects(params(stand, conditional_access_enforce=True))
    assert [(c["kind"], c["properties"]) for c in result["changes"]] == [("conditional access policy", ["state"])]
    assert [p["state"] for p in stand.intune.ca.values()] == ["enabled"]


def test_writes_honour_retry_after(stand, monkeypatch):
    waits = []
    monkeypatch.setattr(objects.gc, "GraphClient", functools.partial(gc.GraphClient, sleep=waits.append))
    stand.faults.append({"path": r"^/v1\.0/groups$", "status": 429, "retry_after": 7, "times": 1, "method": "POST"})
    data = {"groups": [{"name": "EMS pilot users"}]}
    result = objects.run_intune_objects(params(stand, data))
    assert not result.get("failed"), result.get("msg")
    assert waits == [7.0] and result["throttled_seconds"] == 7.0 and result["writes"] == 1


def test_mdm_authority_read_reported_and_set_only_when_unset(stand):
    stand.tenant["mobileDeviceManagementAuthority"] = "unknown"
    reported = objects.run_intune_objects(params(stand, {}))
    assert reported["mdm_authority"] == {"value": "unknown", "set_by_this_run": False} and reported["writes"] == 0
    result = objects.run_intune_objects(params(stand, {}, mdm_authority="intune"))
    assert result["writes"] == 1 and stand.tenant["mobileDeviceManagementAuthority"] == "intune"
    again = objects.run_intune_objects(params(stand, {}, mdm_authority="intune"))
    assert again["writes"] == 0 and again["mdm_authority"] == {"value": "intune", "set_by_this_run": False}


# --- bad data: one line naming the item and the field, before the first write ----------------------

def _bad(kind, index, change):
    data = baseline()
    change(data[kind][index])
    return data


BAD = {
    "unknown platform": (_bad("compliance_policies", 1, lambda i: i.update(platform="blackberry")),
                         "compliance_policies[1] (EMS pilot - iOS compliance): platform: 'blackberry'"),
    "unknown group platform": (_bad("groups", 3, lambda i: i.update(platform="symbian")),
                               "groups[3] (EMS pilot iOS devices): platform: 'symbian'"),
    "unknown @odata.type": (_bad("compliance_policies", 0, lambda i: i.update(odata_type="#microsoft.graph.windows11CompliancePolicy")),
                            "compliance_policies[0] (EMS pilot - Windows compliance): odata_type: "
                            "'#microsoft.graph.windows11CompliancePolicy' is not a compliance policy type"),
    "no break-glass": (None, "conditional_access_policies[0] (EMS pilot - Office 365 requires a compliant device): "
                             "exclude_users: no break-glass account or group is excluded"),
    "group that does not exist": (_bad("app_protection_policies", 0, lambda i: i.update(assign_to=["EMS pilot userz"])),
                                  "app_protection_policies[0] (EMS pilot - iOS app protection): assign_to: the group "
                                  "'EMS pilot userz' does not exist"),
    "user that does not exist": (_bad("role_assignments", 0, lambda i: i.update(users=["nobody@emslab.onmicrosoft.com"])),
                                 "role_assignments[0] (Intune Administrator): users: the user "
                                 "'nobody@emslab.onmicrosoft.com' does not exist"),
    "SKU the tenant lacks": (_bad("licensing", 0, lambda i: i.update(sku="EMSPREMIUM")),
                             "licensing[0] (EMS pilot users): sku: the tenant has no subscribed SKU 'EMSPREMIUM' (it has: EMS)"),
    "unknown service plan": (_bad("licensing", 0, lambda i: i.update(disabled_plans=["YAMMER"])),
                             "licensing[0] (EMS pilot users): disabled_plans: 'YAMMER' is not a service plan of EMS"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_data_fails_before_the_first_write_naming_item_and_field(stand, case):
    data, expected = BAD[case]
    extra = {"break_glass_users": []} if data is None else {}
    result = objects.run_intune_objects(params(stand, data, **extra))
    assert result["failed"] and result["writes"] == 0
    assert expected in result["msg"], result["msg"]
    assert "\n" not in result["msg"] and "Remedy:" in result["msg"]
    assert writes(stand) == [] and stand.intune.writes == []


def test_no_free_seats_refused_before_any_write(stand):
    stand.tenant["skus"][0]["consumed"] = 25
    result = objects.run_intune_objects(params(stand))
    assert result["failed"] and "licensing[0] (EMS pilot users): sku: EMS has 0 free seat(s)" in result["msg"]
    assert writes(stand) == []


def test_data_faults_are_found_without_any_request(stand):
    data = baseline()
    data["groups"][2]["colour"] = "blue"
    result = objects.run_intune_objects(params(stand, data))
    assert result["failed"] and "groups[2] (EMS pilot Windows devices): colour: is not a field of groups" in result["msg"]
    assert stand.log == []


# --- the rules and tables the CSDL cannot express, checked (they must be able to fail) ----------------

CONTRACT = csdl.Contract()
POLICY = {"@odata.type": "#microsoft.graph.iosCompliancePolicy", "displayName": "x", "passcodeRequired": True}


@pytest.mark.parametrize("actions,ok", [([["block"]], True), ([], False), ([["block", "block"]], False),
                                        ([["notification"]], False), ([["block"], ["block"]], False)])
def test_contract_compliance_policy_needs_one_single_block_action(actions, ok):
    body = dict(POLICY, scheduledActionsForRule=[
        {"ruleName": "PasswordRequired", "scheduledActionConfigurations": [{"actionType": a} for a in rule]}
        for rule in actions])
    errors = CONTRACT.check_request("POST", "/v1.0/deviceManagement/deviceCompliancePolicies", {}, body)
    assert (errors == []) is ok, errors


def test_contract_rejects_unknown_odata_type_and_dynamic_group_without_rule():
    body = dict(POLICY, **{"@odata.type": "#microsoft.graph.windows11CompliancePolicy"})
    assert CONTRACT.check_request("POST", "/v1.0/deviceManagement/deviceCompliancePolicies", {}, body)
    group = {"displayName": "g", "mailEnabled": False, "mailNickname": "g", "securityEnabled": True,
             "groupTypes": ["DynamicMembership"]}
    assert any("dynamic group" in e for e in CONTRACT.check_request("POST", "/v1.0/groups", {}, group))
    assert CONTRACT.check_request("GET", "/v1.0/groups/x/assignLicense", {}, None)
    assert CONTRACT.check_request("POST", "/v1.0/groups/x/assignLicense", {}, {"addLicenses": [{"skuId": "nope"}]})


def test_tables_match_the_pinned_csdl():
    def derived(base):
        return {name for name in CONTRACT.types if name != base and CONTRACT.types[name]["kind"] == "entity"
                and CONTRACT.derives(name, base)}
    assert derived("deviceCompliancePolicy") == set(tables.COMPLIANCE_TYPES)
    assert derived("targetedManagedAppProtection") == set(tables.APP_PROTECTION_TYPES.values())
    for platform in tables.PLATFORMS.values():
        assert platform["compliance"] in tables.COMPLIANCE_TYPES
    assert set(idata.APP_GROUP_TYPES) == set(CONTRACT.types["targetedManagedAppGroupType"]["members"])


# --- test devices and their inventory (the attended step's detection) --------------------------------

def test_test_devices_not_found_until_the_standin_reports_them_then_inventory(stand):
    from ansible_collections.ems.enable.plugins.module_utils.intune import devices
    wanted = [{"platform": "ios", "user": "pilot1@emslab.onmicrosoft.com"},
              {"platform": "android", "user": "pilot2@emslab.onmicrosoft.com"}]
    before = devices.run_intune_devices_info(params(stand, {}, test_devices=wanted))
    assert not before.get("failed"), before.get("msg")
    assert before["all_found"] is False
    assert before["missing"] == ["pilot1@emslab.onmicrosoft.com (ios)", "pilot2@emslab.onmicrosoft.com (android)"]
    stand.intune.enroll("PILOT1-IPHONE", "ios", "pilot1@emslab.onmicrosoft.com",
                        apps=["Microsoft Outlook", "Microsoft Teams"])
    stand.intune.enroll("OTHER-IPHONE", "ios", "admin@emslab.onmicrosoft.com", apps=["Games"])
    half = devices.run_intune_devices_info(params(stand, {}, test_devices=wanted))
    assert half["all_found"] is False and half["missing"] == ["pilot2@emslab.onmicrosoft.com (android)"]
    stand.intune.enroll("PILOT2-PIXEL", "android", "pilot2@emslab.onmicrosoft.com", apps=["Microsoft Outlook"])
    done = devices.run_intune_devices_info(params(stand, {}, test_devices=wanted))
    assert done["all_found"] is True and done["missing"] == []
    [iphone] = done["test_devices"][0]["devices"]
    assert iphone["deviceName"] == "PILOT1-IPHONE" and iphone["serialNumber"].startswith("SN")
    assert sorted(a["name"] for a in iphone["apps"]) == ["Microsoft Outlook", "Microsoft Teams"]
    label = "Intune test device PILOT1-IPHONE (ios, pilot1@emslab.onmicrosoft.com)"
    assert "Model ios" in done["ems_facts"][label] and "compliant" in done["ems_facts"][label]
    assert done["ems_facts"][label + " apps"].startswith("Microsoft Outlook")
    assert not any("OTHER-IPHONE" in k for k in done["ems_facts"])
    assert writes(stand) == []


def test_more_than_two_test_devices_per_platform_refused(stand):
    from ansible_collections.ems.enable.plugins.module_utils.intune import devices
    wanted = [{"platform": "ios", "user": "u%d@emslab.onmicrosoft.com" % i} for i in range(3)]
    result = devices.run_intune_devices_info(params(stand, {}, test_devices=wanted))
    assert result["failed"] and "test_devices[2]" in result["msg"] and stand.log == []


def test_apple_push_certificate_read_for_its_attended_step(stand):
    from ansible_collections.ems.enable.plugins.module_utils.intune import devices
    missing = devices.run_intune_devices_info(params(stand, {}, apple_push_certificate=True))
    assert missing["apple_push_certificate"] == {"present": False, "apple_id": None, "expires": None}
    stand.intune.apple_push = {"id": "apns", "appleIdentifier": "mdm@contoso.com", "topicIdentifier": "com.apple.mgmt.x",
                               "expirationDateTime": "2027-12-01T00:00:00Z", "certificate": "MIIB"}
    found = devices.run_intune_devices_info(params(stand, {}, apple_push_certificate=True))
    assert found["apple_push_certificate"] == {"present": True, "apple_id": "mdm@contoso.com",
                                               "expires": "2027-12-01T00:00:00Z"}
    assert found["ems_facts"]["Apple MDM push certificate"] == "Apple ID mdm@contoso.com, expires 2027-12-01T00:00:00Z"


def test_403_names_the_intune_permission(stand):
    path, cert, _key = standin.make_app_certificate(stand.workdir, "noconfig")
    stand.register_app(CLIENT, cert, roles=standin.APP_ROLES_ALL - {"DeviceManagementConfiguration.ReadWrite.All"})
    result = objects.run_intune_objects(dict(params(stand, {"compliance_policies": baseline()["compliance_policies"],
                                                            "groups": [{"name": "EMS pilot users"}]}),
                                             certificate_path=path))
    assert result["failed"] and "DeviceManagementConfiguration.ReadWrite.All" in result["msg"]
    assert writes(stand) == []
