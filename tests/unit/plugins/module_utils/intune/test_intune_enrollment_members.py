"""Enrollment restrictions and assigned-group members (issue 16, the rest) against the Graph stand-in:
every request and response validated against the pinned CSDL slice (the fixture fails a test that
produced a contract violation)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[5]
sys.path.insert(0, str(ROOT / "tests" / "graph"))
sys.path.insert(0, str(Path(__file__).parent))

import csdl  # noqa: E402
import standin_fixture  # noqa: E402
from test_intune_objects import baseline, params  # noqa: E402

from ansible_collections.ems.enable.plugins.module_utils.intune import objects, tables  # noqa: E402

CLIENT = standin_fixture.CLIENT
PILOT1, PILOT2, ADMIN = ("%s@emslab.onmicrosoft.com" % n for n in ("pilot1", "pilot2", "admin"))
writes = standin_fixture.writes


def user_id(stand, upn):
    return next(u["id"] for u in stand.intune.users if u["userPrincipalName"] == upn)


def group(stand, name):
    return next(g for g in stand.intune.groups.values() if g["displayName"] == name)


def defaults(stand):
    return {c["@odata.type"].rsplit(".", 1)[-1]: c for c in stand.intune.enrollment.values() if c["priority"] == 0}


def no_writes_since(stand, before):
    return [e for e in stand.log[before:] if e["method"] != "GET" and "/oauth2/" not in e["path"]] == []


# --- enrollment restrictions -------------------------------------------------------------------------

def test_default_restrictions_are_patched_never_created_and_a_diff_shows_the_properties(stand):
    data = {"enrollment_restrictions": [
        {"name": "Default platforms", "type": "platforms", "default": True,
         "platforms": {"android": {"personalDeviceEnrollmentBlocked": True}, "windows_mobile": {"platformBlocked": True}}},
        {"name": "Default limit", "type": "limit", "default": True, "limit": 10}]}
    checked = objects.run_intune_objects(params(stand, data), check_mode=True)
    assert not checked.get("failed"), checked.get("msg")
    assert [(c["action"], c["properties"]) for c in checked["changes"]] == [
        ("update", ["androidRestriction", "windowsMobileRestriction"]), ("update", ["limit"])]
    assert json.loads(checked["diff"][1]["before"]) == {"limit": 5}
    assert json.loads(checked["diff"][1]["after"]) == {"limit": 10}
    assert writes(stand) == []
    applied = objects.run_intune_objects(params(stand, data))
    assert applied["writes"] == 2 and [e["method"] for e in writes(stand)] == ["PATCH", "PATCH"]
    found = defaults(stand)
    platforms = found["deviceEnrollmentPlatformRestrictionsConfiguration"]
    # the whole restriction is sent: the tenant's other field is kept, the data's field changed
    assert platforms["androidRestriction"] == {"platformBlocked": False, "personalDeviceEnrollmentBlocked": True}
    assert platforms["iosRestriction"] == {"platformBlocked": False, "personalDeviceEnrollmentBlocked": False}
    assert platforms["displayName"] == "All users and all devices"  # the default's name is never written
    assert found["deviceEnrollmentLimitConfiguration"]["limit"] == 10
    assert len(stand.intune.enrollment) == 2  # nothing created
    before = len(stand.log)
    again = objects.run_intune_objects(params(stand, data))
    assert again["changed"] is False and again["writes"] == 0 and no_writes_since(stand, before)


def test_restriction_changed_and_reassigned_only_where_the_data_differs(stand):
    assert not objects.run_intune_objects(params(stand)).get("failed")
    data = baseline()
    data["enrollment_restrictions"][1]["limit"] = 3
    data["enrollment_restrictions"][0]["platforms"]["ios"]["osMinimumVersion"] = "17.0"
    data["enrollment_restrictions"][0]["assign_to"] = ["EMS pilot users", "EMS pilot Intune administrators"]
    checked = objects.run_intune_objects(params(stand, data), check_mode=True)
    assert [(c["name"], c["action"], c["properties"]) for c in checked["changes"]] == [
        ("EMS pilot - enrollment platforms", "update", ["iosRestriction"]),
        ("EMS pilot - enrollment platforms", "assign", ["assignments"]),
        ("EMS pilot - device limit", "update", ["limit"])]
    applied = objects.run_intune_objects(params(stand, data))
    assert applied["writes"] == 3
    mine = {c["displayName"]: c for c in stand.intune.enrollment.values()}
    assert mine["EMS pilot - enrollment platforms"]["iosRestriction"]["osMinimumVersion"] == "17.0"
    assert len(mine["EMS pilot - enrollment platforms"]["assignments"]) == 2
    assert mine["EMS pilot - device limit"]["limit"] == 3


def test_a_restriction_named_like_the_default_is_refused_and_absent_deletes_only_the_named(stand):
    data = {"enrollment_restrictions": [{"name": "All users and all devices", "type": "limit", "limit": 4}]}
    refused = objects.run_intune_objects(params(stand, data))
    assert refused["failed"] and "enrollment_restrictions[0] (All users and all devices): name: " \
        "'All users and all devices' is the tenant's default deviceEnrollmentLimitConfiguration" in refused["msg"]
    assert writes(stand) == []
    objects.run_intune_objects(params(stand))
    data = baseline()
    data["enrollment_restrictions"][1]["state"] = "absent"
    result = objects.run_intune_objects(params(stand, data))
    assert [(c["name"], c["action"]) for c in result["changes"]] == [("EMS pilot - device limit", "delete")]
    assert sorted(c["displayName"] for c in stand.intune.enrollment.values()) == [
        "All users and all devices", "All users and all devices", "EMS pilot - enrollment platforms"]


# --- assigned group members ----------------------------------------------------------------------------

def members(stand, name):
    return sorted(u["userPrincipalName"] for u in stand.intune.users
                  if u["id"] in stand.intune.members.get(group(stand, name)["id"], []))


def test_members_added_by_upn_idempotent_and_never_removed_unless_exclusive(stand):
    data = baseline()
    data["groups"][0]["members"] = [PILOT1, PILOT2]
    planned = objects.run_intune_objects(params(stand, data), check_mode=True)
    assert [c for c in planned["changes"] if c["kind"] == "group member"] == [
        {"kind": "group member", "name": "EMS pilot users: %s" % upn, "action": "add", "properties": ["member"]}
        for upn in (PILOT1, PILOT2)]
    assert writes(stand) == []
    applied = objects.run_intune_objects(params(stand, data))
    assert not applied.get("failed"), applied.get("msg")
    assert planned["changes"] == applied["changes"]
    assert members(stand, "EMS pilot users") == [PILOT1, PILOT2]
    # someone added in the portal stays: the data does not own that member
    stand.intune.members[group(stand, "EMS pilot users")["id"]].append(user_id(stand, ADMIN))
    before = len(stand.log)
    again = objects.run_intune_objects(params(stand, data))
    assert again["changed"] is False and again["writes"] == 0 and no_writes_since(stand, before)
    assert members(stand, "EMS pilot users") == [ADMIN, PILOT1, PILOT2]
    # the data takes ownership of the whole list: the others are removed, in check mode first
    data["groups"][0].update(members=[PILOT1], members_exclusive=True)
    checked = objects.run_intune_objects(params(stand, data), check_mode=True)
    assert [(c["name"], c["action"]) for c in checked["changes"]] == [
        ("EMS pilot users: %s" % ADMIN, "remove"), ("EMS pilot users: %s" % PILOT2, "remove")]
    assert json.loads(checked["diff"][0]["before"]) == {"member": ADMIN}
    assert no_writes_since(stand, before)
    objects.run_intune_objects(params(stand, data))
    assert members(stand, "EMS pilot users") == [PILOT1]


def test_members_of_an_existing_group_are_read_and_only_the_missing_added(stand):
    gid = stand.intune.add_group("EMS pilot users")
    stand.intune.members[gid] = [user_id(stand, PILOT1)]
    data = {"groups": [{"name": "EMS pilot users", "members": [PILOT1, PILOT2, PILOT2.upper()]}]}  # listed twice
    result = objects.run_intune_objects(params(stand, data))
    assert [(c["name"], c["action"]) for c in result["changes"]] == [("EMS pilot users: %s" % PILOT2, "add")]
    assert [e["path"] for e in writes(stand)] == ["/v1.0/groups/%s/members/$ref" % gid]


# --- bad data for the new kinds: one line naming item and field, before the first write ---------------

def _restriction(change):
    data = baseline()
    change(data["enrollment_restrictions"][0])
    return data


def _members(upns):
    data = baseline()
    data["groups"][0]["members"] = upns
    return data


BAD = {
    "unknown platform in a restriction": (
        _restriction(lambda i: i["platforms"].update(blackberry={"platformBlocked": True})),
        "enrollment_restrictions[0] (EMS pilot - enrollment platforms): platforms.blackberry: 'blackberry' is not "
        "a platform of enrollment restrictions. Remedy: use one of android, ios, macos, windows, windows_mobile."),
    "unknown restriction field": (
        _restriction(lambda i: i["platforms"]["ios"].update(blocked=True)),
        "enrollment_restrictions[0] (EMS pilot - enrollment platforms): platforms.ios.blocked: is not a field of "
        "deviceEnrollmentPlatformRestriction"),
    "unknown restriction type": (
        _restriction(lambda i: i.update(type="windowsHello")),
        "enrollment_restrictions[0] (EMS pilot - enrollment platforms): type: 'windowsHello' is not an enrollment "
        "restriction type"),
    "device limit out of range": (
        _restriction(lambda i: i.update(type="limit", platforms=None, limit=16)),
        "enrollment_restrictions[0] (EMS pilot - enrollment platforms): limit: 16 is not a whole number from 1 to 15"),
    "default assigned": (
        _restriction(lambda i: i.update(default=True)),
        "enrollment_restrictions[0] (EMS pilot - enrollment platforms): assign_to: the default restriction "
        "(priority 0) applies to all users and cannot be assigned"),
    "restriction assigned to a group that does not exist": (
        _restriction(lambda i: i.update(assign_to=["EMS pilot userz"])),
        "enrollment_restrictions[0] (EMS pilot - enrollment platforms): assign_to: the group 'EMS pilot userz' "
        "does not exist"),
    "a member UPN that does not exist": (
        _members([PILOT1, "nobody@emslab.onmicrosoft.com"]),
        "groups[0] (EMS pilot users): members: the user 'nobody@emslab.onmicrosoft.com' does not exist in the tenant"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_data_of_the_new_kinds_fails_before_the_first_write(stand, case):
    data, expected = BAD[case]
    result = objects.run_intune_objects(params(stand, data))
    assert result["failed"] and result["writes"] == 0
    assert expected in result["msg"], result["msg"]
    assert "\n" not in result["msg"] and "Remedy:" in result["msg"]
    assert writes(stand) == [] and stand.intune.writes == []


def test_members_of_a_dynamic_group_refused_without_any_request(stand):
    data = baseline()
    data["groups"][3]["members"] = [PILOT1]
    result = objects.run_intune_objects(params(stand, data))
    assert result["failed"] and "groups[3] (EMS pilot iOS devices): members: a dynamic group's members come from " \
        "its rule" in result["msg"]
    assert stand.log == []


# --- the contract and the tables (they must be able to fail) ----------------------------------------------

CONTRACT = csdl.Contract()


def test_enrollment_tables_match_the_pinned_csdl():
    derived = {name for name in CONTRACT.types if CONTRACT.types[name]["kind"] == "entity"
               and name != "deviceEnrollmentConfiguration" and CONTRACT.derives(name, "deviceEnrollmentConfiguration")}
    assert derived == set(tables.ENROLLMENT_TYPES.values())
    props = CONTRACT.properties("deviceEnrollmentPlatformRestrictionsConfiguration")
    assert {p for p in props if p.endswith("Restriction")} == set(tables.ENROLLMENT_PLATFORMS.values())
    fields = CONTRACT.properties("deviceEnrollmentPlatformRestriction")
    assert set(fields) == set(tables.RESTRICTION_FIELDS)
    assert {k for k, v in fields.items() if not v["nullable"]} == set(tables.RESTRICTION_DEFAULTS)


def test_contract_enrollment_create_needs_a_concrete_type_and_refuses_priority():
    path = "/v1.0/deviceManagement/deviceEnrollmentConfigurations"
    assert CONTRACT.check_request("POST", path, {}, {"displayName": "x"})  # abstract base type
    assert CONTRACT.check_request("POST", path, {}, {"@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration",
                                                     "displayName": "x", "limit": 5}) == []
    assert CONTRACT.check_request("POST", path, {}, {"@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration",
                                                     "displayName": "x", "limit": 5, "priority": 1})
    assert CONTRACT.check_request("POST", path, {}, {"@odata.type": "#microsoft.graph.deviceEnrollmentWindowsHello",
                                                     "displayName": "x"})
    assert CONTRACT.check_request("POST", path + "/x/assign", {}, {"assignments": []})  # wrong parameter name


def test_contract_member_ref_needs_a_directory_object_url():
    path = "/v1.0/groups/g/members/$ref"
    good = {"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"}
    assert CONTRACT.check_request("POST", path, {}, good) == []
    assert CONTRACT.check_request("POST", path, {}, {"@odata.id": "pilot1@emslab.onmicrosoft.com"})
    assert CONTRACT.check_request("PATCH", path, {}, good)
    assert CONTRACT.check_request("DELETE", "/v1.0/groups/g/members/u/$ref", {}, None) == []
    assert CONTRACT.check_request("GET", "/v1.0/groups/g/members/microsoft.graph.user?$select=id,userPrincipalName") == []
    assert CONTRACT.check_request("GET", "/v1.0/groups/g/members?$select=id,userPrincipalName")
