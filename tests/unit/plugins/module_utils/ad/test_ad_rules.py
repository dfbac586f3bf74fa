"""Rule engine of ad_preflight over forest facts shaped as ad_forest_info returns them.

The facts come from real forests in tests/integration; here the rules' edge cases are pinned down
with small hand-made facts (levels, trusts, counts) that the Samba lab cannot produce (2012+ DCs,
Exchange organizations, RODCs).
"""

from __future__ import annotations

import copy

import pytest

from ansible_collections.ems.enable.plugins.module_utils.ad import rules as ad_rules
from ansible_collections.ems.enable.plugins.module_utils.ad.levels import level_info

BASE = {
    "forest": "corp.example.com",
    "forest_level": level_info(4),
    "schema": {"version": 88, "name": "Windows Server 2019/2022"},
    "domains": [{"dns_name": "corp.example.com", "netbios_name": "CORP"}],
    "domain_controllers": [{"name": "DC1", "read_only": False, "level": level_info(7)}],
    "trusts": [],
    "upn_suffixes": [{"suffix": "corp.example.com", "source": "domain", "routable": True}],
    "kds_root_key": {"present": True, "count": 1, "usable_from": "2020-01-01T00:00:00Z"},
    "exchange": None,
    "object_counts": {"users": 10, "groups": 5, "contacts": 0, "total": 15, "domain": "corp.example.com"},
}
OPTIONS = {"minimum_forest_level": "2008", "adfs_service_account": "gmsa", "adfs_new_farm": True}


def forest(**changes):
    facts = copy.deepcopy(BASE)
    facts.update(changes)
    return facts


def by_id(checks, rule_id):
    return [c for c in checks if c["id"] == rule_id]


def test_level_below_minimum_names_forest_level_and_requirement():
    checks = ad_rules.evaluate([forest(forest="legacy.example.com", forest_level=level_info(2))],
                               ["minimum_forest_level"], OPTIONS)
    (check,) = checks
    assert check["status"] == "fail"
    assert "legacy.example.com" in check["message"]
    assert "Windows Server 2003 (2)" in check["message"]
    assert "Windows Server 2008 (3) or above" in check["message"]
    assert "Windows2008Forest" in check["remedy"]


@pytest.mark.parametrize("level,minimum,status", [
    (3, "2008", "pass"), (4, "2008", "pass"), (3, "2008_R2", "fail"), (10, "2016", "pass"), (0, "2003", "fail"),
])
def test_level_boundaries(level, minimum, status):
    checks = ad_rules.evaluate([forest(forest_level=level_info(level))], ["minimum_forest_level"],
                               dict(OPTIONS, minimum_forest_level=minimum))
    assert [c["status"] for c in checks] == [status]


def test_forest_trust_fails_single_forest_and_adfs_but_warns_aad_connect():
    trust = {"partner": "partner.example.net", "direction": "bidirectional", "kind": "forest",
             "leaves_forest": True}
    checks = ad_rules.evaluate([forest(trusts=[trust])], ["single_forest", "adfs", "aad_connect"], OPTIONS)
    single = by_id(checks, "single_forest")
    assert [c["status"] for c in single] == ["fail"] and "partner.example.net" in single[0]["message"]
    adfs = by_id(checks, "adfs.single_forest")
    assert [c["status"] for c in adfs] == ["fail"] and "partner.example.net" in adfs[0]["message"]
    sync = by_id(checks, "aad_connect.single_forest")
    assert [c["status"] for c in sync] == ["warn"] and "supported" in sync[0]["message"]


def test_trust_within_forest_is_not_a_second_forest():
    trust = {"partner": "child.corp.example.com", "direction": "bidirectional", "kind": "within_forest",
             "leaves_forest": False}
    checks = ad_rules.evaluate([forest(trusts=[trust])], ["single_forest"], OPTIONS)
    assert [c["status"] for c in checks] == ["pass"]


def test_two_forests_in_inventory_fail_single_forest_for_each():
    checks = ad_rules.evaluate([forest(), forest(forest="other.example.org")], ["single_forest"], OPTIONS)
    assert [c["status"] for c in checks] == ["fail", "fail"]
    assert "other.example.org" in checks[0]["message"] and "corp.example.com" in checks[1]["message"]


def test_mit_realm_trust_is_a_warning():
    trust = {"partner": "UNIX.EXAMPLE", "direction": "inbound", "kind": "realm", "leaves_forest": True}
    checks = ad_rules.evaluate([forest(trusts=[trust])], ["single_forest"], OPTIONS)
    assert [c["status"] for c in checks] == ["warn"]


def test_adfs_schema_kds_and_gmsa_dc():
    old = forest(schema={"version": 47, "name": "Windows Server 2008 R2"},
                 kds_root_key={"present": False, "count": 0, "usable_from": None},
                 domain_controllers=[{"name": "DC1", "read_only": False, "level": level_info(4)}])
    checks = ad_rules.evaluate([old], ["adfs"], OPTIONS)
    assert by_id(checks, "adfs.schema")[0]["status"] == "fail"
    assert by_id(checks, "adfs.kds_root_key")[0]["status"] == "fail"
    assert by_id(checks, "adfs.gmsa_dc")[0]["status"] == "fail"
    user_account = ad_rules.evaluate([old], ["adfs"], dict(OPTIONS, adfs_service_account="user"))
    assert not by_id(user_account, "adfs.kds_root_key") and not by_id(user_account, "adfs.gmsa_dc")
    existing_farm = ad_rules.evaluate([old], ["adfs"], dict(OPTIONS, adfs_new_farm=False))
    assert not by_id(existing_farm, "adfs.schema")


def test_kds_key_not_yet_usable_warns():
    future = forest(kds_root_key={"present": True, "count": 1, "usable_from": "2999-01-01T00:00:00Z"})
    checks = ad_rules.evaluate([future], ["adfs"], OPTIONS, now="2026-11-22T00:00:00Z")
    assert by_id(checks, "adfs.kds_root_key")[0]["status"] == "warn"


def test_aad_connect_localdb_limit_rodc_dotted_netbios_and_upn():
    big = forest(object_counts={"users": 120000, "groups": 1, "contacts": 0, "total": 120001, "domain": "corp"},
                 domain_controllers=[{"name": "RODC", "read_only": True, "level": level_info(7)}],
                 domains=[{"dns_name": "corp.example.com", "netbios_name": "CORP.NET"}],
                 upn_suffixes=[{"suffix": "corp.local", "source": "domain", "routable": False}])
    checks = ad_rules.evaluate([big], ["aad_connect"], OPTIONS)
    assert by_id(checks, "aad_connect.object_count")[0]["status"] == "warn"
    assert by_id(checks, "aad_connect.writable_dc")[0]["status"] == "fail"
    assert by_id(checks, "aad_connect.netbios_name")[0]["status"] == "fail"
    upn = by_id(checks, "aad_connect.upn_suffix")[0]
    assert upn["status"] == "warn" and "onmicrosoft.com" in upn["message"]


def test_exchange_connector_warns_end_of_support_and_needs_exchange():
    none = ad_rules.evaluate([forest()], ["exchange_connector"], OPTIONS)
    assert by_id(none, "exchange_connector.support")[0]["status"] == "warn"
    assert "2024-01-15" in by_id(none, "exchange_connector.support")[0]["message"]
    assert by_id(none, "exchange_connector.exchange")[0]["status"] == "fail"
    old = forest(exchange={"organization": "Org", "schema_version": 14732, "servers": []})
    checks = ad_rules.evaluate([old], ["exchange_connector"], OPTIONS)
    assert by_id(checks, "exchange_connector.exchange_version")[0]["status"] == "fail"
    ok = forest(exchange={"organization": "Org", "schema_version": 17003, "servers": []})
    assert not by_id(ad_rules.evaluate([ok], ["exchange_connector"], OPTIONS), "exchange_connector.exchange_version")


def test_rms_connector_without_exchange_warns():
    checks = ad_rules.evaluate([forest()], ["rms_connector"], OPTIONS)
    assert by_id(checks, "rms_connector.exchange")[0]["status"] == "warn"


def test_summary_lists_every_failure_and_warnings_never_fail():
    facts = [forest(forest_level=level_info(2)), forest(forest="b.example.org", forest_level=level_info(2))]
    checks = ad_rules.evaluate(facts, ["minimum_forest_level", "single_forest"], OPTIONS)
    summary, msg = ad_rules.summarize(checks)
    assert summary == {"pass": 0, "warn": 0, "fail": 4}
    assert msg.startswith("4 of 4 preflight checks failed")
    assert msg.count("[minimum_forest_level]") == 2 and msg.count("[single_forest]") == 2
    warn_only = ad_rules.evaluate([forest()], ["exchange_connector"], OPTIONS)
    warn_only = [c for c in warn_only if c["status"] != "fail"]
    assert ad_rules.summarize(warn_only)[1] is None
