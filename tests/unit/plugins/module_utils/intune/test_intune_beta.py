"""The collection's few Graph beta calls (issue 16): email profiles (written), the Android Enterprise binding and
the Windows automatic-enrollment scope (read), against the stand-in that validates every /beta request and
response against tests/graph/beta-slice.json (make_beta_slice.py) and every other one against the v1.0 slice."""

from __future__ import annotations

import copy
import hashlib
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[5]
sys.path.insert(0, str(ROOT / "tests" / "graph"))
sys.path.insert(0, str(Path(__file__).parent))

import csdl  # noqa: E402
import make_beta_slice  # noqa: E402
import standin_fixture  # noqa: E402
from test_intune_objects import baseline, params  # noqa: E402

from ansible_collections.ems.enable.plugins.module_utils.graph import client as gc  # noqa: E402
from ansible_collections.ems.enable.plugins.module_utils.graph.errors import GraphError  # noqa: E402
from ansible_collections.ems.enable.plugins.module_utils.intune import devices, objects, tables  # noqa: E402

CLIENT = standin_fixture.CLIENT
writes = standin_fixture.writes


def beta_paths(stand):
    return [e["path"].split("?")[0] for e in stand.log if e["path"].startswith("/beta/")]


def email_only():
    data = baseline()
    return {"groups": data["groups"][:1], "email_profiles": data["email_profiles"]}


# --- email profiles: the only beta writes ----------------------------------------------------------------

def test_email_profiles_created_patched_through_beta_and_idempotent(stand):
    planned = objects.run_intune_objects(params(stand, email_only()), check_mode=True)
    assert not planned.get("failed"), planned.get("msg")
    assert writes(stand) == [] and planned["writes"] == 0
    assert [(c["name"], c["action"], c.get("graph", "")[:4]) for c in planned["changes"]] == [
        ("EMS pilot users", "create", ""),
        ("EMS pilot - iOS Exchange Online mail", "create", "beta"), ("EMS pilot - iOS Exchange Online mail", "assign", "beta"),
        ("EMS pilot - Android work profile Gmail", "create", "beta"),
        ("EMS pilot - Android work profile Gmail", "assign", "beta")]
    applied = objects.run_intune_objects(params(stand, email_only()))
    assert planned["changes"] == applied["changes"] and applied["writes"] == 5
    assert [e["path"].split("/")[1] for e in writes(stand)] == ["v1.0", "beta", "beta", "beta", "beta"]
    assert "not supported by Microsoft" in applied["changes"][1]["graph"]
    assert any("GET /beta/deviceManagement/deviceConfigurations" in c for c in applied["graph_beta_calls"])
    # a changed setting: one PATCH to beta, carrying the type and only the changed property
    data = email_only()
    data["email_profiles"][0]["settings"]["durationOfEmailToSync"] = "twoWeeks"
    checked = objects.run_intune_objects(params(stand, data), check_mode=True)
    assert [(c["action"], c["properties"]) for c in checked["changes"]] == [("update", ["durationOfEmailToSync"])]
    assert json.loads(checked["diff"][0]["before"]) == {"durationOfEmailToSync": "oneMonth"}
    before = len(writes(stand))
    objects.run_intune_objects(params(stand, data))
    [patch] = writes(stand)[before:]
    assert patch["method"] == "PATCH" and patch["path"].startswith("/beta/deviceManagement/deviceConfigurations/")
    again = objects.run_intune_objects(params(stand, data))
    assert again["writes"] == 0 and again["changed"] is False and len(writes(stand)) == before + 1


def test_without_email_profiles_nothing_goes_to_beta(stand):
    data = baseline()
    data["email_profiles"] = []
    result = objects.run_intune_objects(params(stand, data))
    assert not result.get("failed"), result.get("msg")
    assert beta_paths(stand) == [] and result["graph_beta_calls"] == [] and "warnings" not in result


def _profile(change):
    data = email_only()
    change(data["email_profiles"][0])
    return data


BAD = {
    "unknown @odata.type": (_profile(lambda i: i.update(odata_type="#microsoft.graph.iosEasEmailProfile")),
                            "email_profiles[0] (EMS pilot - iOS Exchange Online mail): odata_type: "
                            "'#microsoft.graph.iosEasEmailProfile' is not an email profile type"),
    "unknown platform": (_profile(lambda i: i.update(platform="windows")),
                         "email_profiles[0] (EMS pilot - iOS Exchange Online mail): platform: 'windows' is not a "
                         "platform with email profiles"),
    "no host": (_profile(lambda i: i["settings"].pop("hostName")),
                "email_profiles[0] (EMS pilot - iOS Exchange Online mail): settings.hostName: missing"),
    "group that does not exist": (_profile(lambda i: i.update(assign_to=["EMS pilot userz"])),
                                  "email_profiles[0] (EMS pilot - iOS Exchange Online mail): assign_to: the group "
                                  "'EMS pilot userz' does not exist"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_email_profiles_fail_before_the_first_write(stand, case):
    data, expected = BAD[case]
    result = objects.run_intune_objects(params(stand, data))
    assert result["failed"] and result["writes"] == 0 and expected in result["msg"], result["msg"]
    assert "\n" not in result["msg"] and "Remedy:" in result["msg"] and writes(stand) == []


# --- the beta reads of the attended steps -----------------------------------------------------------------

def test_android_enterprise_binding_read_through_beta(stand):
    before = devices.run_intune_devices_info(params(stand, {}, android_enterprise=True))
    assert before["android_enterprise"] == {"bound": False, "status": "notBound", "owner": None, "organization": None,
                                            "last_app_sync": "none"}
    assert beta_paths(stand) == ["/beta/deviceManagement/androidManagedStoreAccountEnterpriseSettings"]
    assert before["warnings"] == [devices.BETA_WARNING % "GET /beta/deviceManagement/"
                                  "androidManagedStoreAccountEnterpriseSettings"]
    stand.intune.android_binding.update(bindStatus="boundAndValidated", ownerUserPrincipalName="admin@contoso.com",
                                        ownerOrganizationName="Contoso", lastAppSyncStatus="success")
    after = devices.run_intune_devices_info(params(stand, {}, android_enterprise=True))
    assert after["android_enterprise"]["bound"] is True
    assert after["ems_facts"]["Android Enterprise binding (Graph beta)"] == "boundAndValidated by admin@contoso.com " \
        "(Contoso)"
    plain = devices.run_intune_devices_info(params(stand, {}))
    assert "android_enterprise" not in plain and plain["graph_beta_calls"] == [] and "warnings" not in plain


def test_windows_enrollment_scope_is_not_read_with_an_application_token(stand):
    result = devices.run_intune_devices_info(params(stand, {}, windows_enrollment=True))
    assert result["windows_enrollment"] == {"read": False, "enabled": False, "scope": None,
                                            "reason": devices.NOT_READABLE_WITH_APP}
    assert beta_paths(stand) == []
    # what Graph answers an application token (the stand-in follows the Graph page: application not supported)
    client = gc.GraphClient(params(stand, {}))
    with pytest.raises(GraphError) as err:
        client.get_all(devices.MDM_POLICIES, version="beta")
    assert err.value.status == 403


def test_windows_enrollment_scope_read_for_a_signed_in_administrator(stand, tmp_path):
    stand.register_app(CLIENT, None, public=True)
    signed_in = dict(auth="device_code", certificate_path=None, token_cache=str(tmp_path / "cache.json"))
    shown = []
    result = devices.run_intune_devices_info(dict(params(stand, {}, windows_enrollment=True), **signed_in),
                                             notify=shown.append)
    assert not result.get("failed"), result.get("msg")
    assert shown and result["windows_enrollment"] == {"read": True, "enabled": False, "scope": "none", "reason": None}
    stand.intune.mdm_policies[devices.INTUNE_MDM_APP]["appliesTo"] = "selected"
    result = devices.run_intune_devices_info(dict(params(stand, {}, windows_enrollment=True), **signed_in))
    assert result["windows_enrollment"]["enabled"] is True
    assert beta_paths(stand) == ["/beta/policies/mobileDeviceManagementPolicies"] * 2


# --- the beta slice, its maker and the tables (each can fail) ---------------------------------------------

BETA = csdl.Contract(csdl.BETA_SLICE)
V1 = csdl.Contract()


def test_email_profile_table_matches_the_beta_slice_and_v1_has_no_such_type():
    concrete = {name for name, desc in BETA.types.items() if desc["kind"] == "entity" and not desc.get("abstract")
                and name != "deviceConfiguration" and BETA.derives(name, "deviceConfiguration")}
    assert concrete == set(tables.EMAIL_PROFILE_TYPES.values())
    body = {"@odata.type": "#microsoft.graph.iosEasEmailProfileConfiguration", "displayName": "x",
            "hostName": "outlook.office365.com", "durationOfEmailToSync": "oneMonth"}
    assert BETA.check_request("POST", "/beta/deviceManagement/deviceConfigurations", {}, body) == []
    assert BETA.check_request("POST", "/beta/deviceManagement/deviceConfigurations", {},
                              dict(body, durationOfEmailToSync="oneYear"))
    assert BETA.check_request("POST", "/beta/deviceManagement/deviceConfigurations", {}, dict(body, version=2))
    assert BETA.check_request("POST", "/v1.0/deviceManagement/deviceConfigurations", {}, body)  # not the beta slice
    assert "iosEasEmailProfileConfiguration" not in V1.types


def test_beta_slice_maker_refuses_names_the_pinned_mappings_do_not_have():
    entity = {"microsoft.graph": {name: {"properties": [], "navigationProperties": []}
                                  for name, desc in make_beta_slice.BETA.items() if desc["kind"] == "entity"}}
    complex_ = {"microsoft.graph": {name: {"properties": []} for name, desc in make_beta_slice.BETA.items()
                                    if desc["kind"] == "complex"}}
    enums = {"microsoft.graph": {name: ["a"] for name in make_beta_slice.ENUMS}}
    blobs = {"entity": json.dumps(entity).encode(), "complex": json.dumps(complex_).encode(),
             "enum": json.dumps(enums).encode()}
    with pytest.raises(SystemExit) as err:
        make_beta_slice.make_slice(blobs, "0" * 40)
    assert "iosEasEmailProfileConfiguration.hostName is not a property of beta" in str(err.value)


def test_the_committed_beta_slice_names_its_pinned_source():
    source = BETA.source
    assert source["commit"] == V1.source["commit"] == "f54f11b60956ea7b185ca0447b2b80805836ec7b"
    assert source["version"] == "beta" and len(source["sha256"]) == 3


# --- the beta slice's types against Microsoft's generated beta SDK models (beta-sdk-types.json) ----------

SDK_TYPES = json.loads(make_beta_slice.SDK_TYPES.read_text())


def mappings_for_beta(enum_members):
    """Type-mapping blobs that list exactly what BETA names (each type's own names), enums as given."""
    beta = make_beta_slice.BETA
    entity = {name: {"properties": sorted(d["properties"]), "navigationProperties": sorted(d.get("navigation", {}))}
              for name, d in beta.items() if d["kind"] == "entity"}
    complex_ = {name: {"properties": sorted(d["properties"])} for name, d in beta.items() if d["kind"] == "complex"}
    return {"entity": json.dumps({"microsoft.graph": entity}).encode(),
            "complex": json.dumps({"microsoft.graph": complex_}).encode(),
            "enum": json.dumps({"microsoft.graph": enum_members}).encode()}


def test_the_committed_beta_slice_types_agree_with_the_recorded_sdk_models():
    source = BETA.source
    assert source["sdk_types"]["commit"] == SDK_TYPES["source"]["commit"]
    assert source["sdk_types"]["sha256"] == hashlib.sha256(make_beta_slice.SDK_TYPES.read_bytes()).hexdigest()
    assert make_beta_slice.sdk_faults(BETA.slice["types"], BETA.slice["actions"], SDK_TYPES) == []
    # every type, property, navigation and enum of the slice has its SDK record (nothing passes unchecked)
    for kind in ("entity", "complex"):
        for name, desc in BETA.slice["types"][kind].items():
            assert name in SDK_TYPES["types"], name
    assert set(BETA.slice["types"]["enum"]) == set(SDK_TYPES["enums"])
    sdk_names = {(n, k) for n, t in SDK_TYPES["types"].items() for k in t["properties"]}
    assert {(n, k) for kind in ("entity", "complex") for n, d in BETA.slice["types"][kind].items()
            for k in list(d["properties"]) + list(d["navigation"])} <= sdk_names


def test_beta_slice_maker_reproduces_the_committed_types_and_refuses_what_the_sdk_contradicts():
    enum_members = {name: rec["members"] for name, rec in SDK_TYPES["enums"].items()}
    made = make_beta_slice.make_slice(mappings_for_beta(enum_members), BETA.source["commit"], SDK_TYPES)
    assert made["types"] == BETA.slice["types"] and made["actions"] == BETA.slice["actions"]

    wrong = copy.deepcopy(SDK_TYPES)
    wrong["types"]["iosEasEmailProfileConfiguration"]["properties"]["hostName"]["type"] = "bool"
    wrong["types"]["deviceConfiguration"]["properties"]["roleScopeTagIds"]["collection"] = False
    wrong["types"]["mobileDeviceManagementPolicy"]["base"] = "Entity"
    wrong["enums"]["policyScope"]["members"].remove("selected")
    with pytest.raises(SystemExit) as err:
        make_beta_slice.make_slice(mappings_for_beta(enum_members), BETA.source["commit"], wrong)
    message = str(err.value)
    assert "iosEasEmailProfileConfiguration.hostName: the slice says Edm.String" in message
    assert "deviceConfiguration.roleScopeTagIds: the slice says Collection(Edm.String)" in message
    assert "mobileDeviceManagementPolicy: base mobilityManagementPolicy, the SDK models" in message
    assert "enum policyScope" in message


def test_sdk_check_fails_on_a_slice_type_changed_by_hand():
    types = copy.deepcopy(BETA.slice["types"])
    types["entity"]["androidWorkProfileEasEmailProfileBase"]["properties"]["usernameSource"]["type"] = "userEmailSource"
    types["entity"]["deviceConfiguration"]["properties"]["version"]["type"] = "Edm.String"
    faults = make_beta_slice.sdk_faults(types, BETA.slice["actions"], SDK_TYPES)
    assert len(faults) == 2
    assert faults[0].startswith("androidWorkProfileEasEmailProfileBase.usernameSource: the slice says userEmailSource "
                                "(enum UserEmailSource), the SDK models (msgraph-beta-sdk-python@3cbc17770cab) say "
                                "enum AndroidUsernameSource")
    assert faults[1].startswith("deviceConfiguration.version: the slice says Edm.String (primitive str)")
