"""ad_forest_info and ad_preflight against real Samba AD forests (the standard lab).

Every test runs the modules as users do: ansible-playbook inside the lab's controller namespace,
where the DC names, DNS and Kerberos realms resolve. Results are dumped to JSON by the playbook.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from module_runner import ca_bundle, checks_of, conn_args, run_module, shared_account

pytestmark = pytest.mark.integration

LEVEL_NUMBERS = {"2000": 0, "2003": 2, "2008": 3, "2008_R2": 4}


# --- facts --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["legacy", "f2008", "corp", "partner"])
def test_forest_info_reads_levels_back(lab, tmp_path, name):
    forest = lab.forest(name)
    _proc, (result,) = run_module(lab, tmp_path, "ems.enable.ad_forest_info", conn_args(forest))
    assert not result.get("failed"), result
    (facts,) = result["forests"]
    assert facts["forest"] == forest.dns_domain
    assert facts["forest_level"]["number"] == LEVEL_NUMBERS[forest.level]
    assert facts["forest_level"]["number"] == forest.forest_functionality
    assert facts["domains"][0]["netbios_name"] == forest.netbios
    assert facts["schema"]["version"] == forest.schema_object_version
    assert sorted(dc["dns_host_name"] for dc in facts["domain_controllers"]) == sorted(
        dc.fqdn for dc in forest.dcs)
    assert all(dc["site"] == "Default-First-Site-Name" for dc in facts["domain_controllers"])
    assert facts["upn_suffixes"] == [{"suffix": forest.dns_domain, "source": "domain", "routable": False}]
    assert facts["object_counts"]["users"] >= 2  # Administrator, krbtgt, Guest
    assert facts["object_counts"]["groups"] > 10


def test_forest_info_decodes_the_forest_trust(lab, tmp_path):
    _proc, (result,) = run_module(lab, tmp_path, "ems.enable.ad_forest_info", conn_args(lab.forest("corp")))
    (facts,) = result["forests"]
    assert facts["schema"]["version"] >= 85
    assert facts["trusts"] == [{
        "partner": lab.forest("partner").dns_domain,
        "flat_name": lab.forest("partner").netbios,
        "direction": "bidirectional",
        "type": "uplevel",
        "attributes": ["forest_transitive"],
        "attributes_value": 8,
        "kind": "forest",
        "leaves_forest": True,
    }]


def test_forest_info_returns_one_entry_per_forest(lab, tmp_path):
    legacy, f2008 = lab.forest("legacy"), lab.forest("f2008")
    username, password = shared_account(legacy, f2008)
    args = conn_args(legacy, server=[legacy.dcs[0].fqdn, f2008.dcs[0].fqdn], username=username,
                     password=password, ca_file=ca_bundle(tmp_path, legacy, f2008))
    _proc, (result,) = run_module(lab, tmp_path, "ems.enable.ad_forest_info", args)
    assert [f["forest"] for f in result["forests"]] == [legacy.dns_domain, f2008.dns_domain]
    assert [f["forest_level"]["key"] for f in result["forests"]] == ["2003", "2008"]


# --- preflight verdicts ---------------------------------------------------------------------------


def test_level_2003_fails_with_forest_level_and_requirement(lab, tmp_path):
    legacy = lab.forest("legacy")
    proc, (result,) = run_module(lab, tmp_path, "ems.enable.ad_preflight",
                                 conn_args(legacy, requirements=["minimum_forest_level"]))
    assert result["failed"] and proc.returncode == 0  # ignore_errors in the test play
    (check,) = checks_of(result, "minimum_forest_level")
    assert check["status"] == "fail"
    assert legacy.dns_domain in check["message"]
    assert "Windows Server 2003 (2)" in check["message"]
    assert "Windows Server 2008 (3) or above is required" in check["message"]
    assert check["remedy"] and "Set-ADForestMode" in check["remedy"]
    assert legacy.dns_domain in result["msg"] and "1 of 1 preflight checks failed" in result["msg"]


@pytest.mark.parametrize("name,minimum,status", [
    ("f2008", "2008", "pass"), ("corp", "2008", "pass"), ("f2008", "2008_R2", "fail"), ("corp", "2008_R2", "pass"),
])
def test_minimum_level_boundaries(lab, tmp_path, name, minimum, status):
    args = conn_args(lab.forest(name), requirements=["minimum_forest_level"], minimum_forest_level=minimum)
    _proc, (result,) = run_module(lab, tmp_path, "ems.enable.ad_preflight", args)
    assert [c["status"] for c in result["checks"]] == [status]
    assert bool(result.get("failed")) is (status == "fail")


def test_forest_trust_fails_single_forest_and_adfs_warns_aad_connect(lab, tmp_path):
    corp, partner = lab.forest("corp"), lab.forest("partner")
    args = conn_args(corp, requirements=["single_forest", "adfs", "aad_connect"], adfs_service_account="user")
    _proc, (result,) = run_module(lab, tmp_path, "ems.enable.ad_preflight", args)
    assert result["failed"]
    for rule in ("single_forest", "adfs.single_forest"):
        (check,) = checks_of(result, rule)
        assert check["status"] == "fail" and partner.dns_domain in check["message"], check
        assert "forest trust" in check["message"]
    (sync,) = checks_of(result, "aad_connect.single_forest")
    assert sync["status"] == "warn" and partner.dns_domain in sync["message"]
    assert "supported" in sync["message"]
    failing = {c["id"] for c in result["checks"] if c["status"] == "fail"}
    assert failing == {"single_forest", "adfs.single_forest"}  # schema 88 passes, aad_connect only warns
    assert result["summary"]["fail"] == 2 and "2 of" in result["msg"]


def test_two_unrelated_forests_fail_single_forest(lab, tmp_path):
    legacy, f2008 = lab.forest("legacy"), lab.forest("f2008")
    username, password = shared_account(legacy, f2008)
    args = conn_args(legacy, server=[legacy.dcs[0].fqdn, f2008.dcs[0].fqdn], requirements=["single_forest"],
                     username=username, password=password, ca_file=ca_bundle(tmp_path, legacy, f2008))
    _proc, (result,) = run_module(lab, tmp_path, "ems.enable.ad_preflight", args)
    statuses = {c["forest"]: c["status"] for c in result["checks"]}
    assert statuses == {legacy.dns_domain: "fail", f2008.dns_domain: "fail"}
    assert f2008.dns_domain in checks_of(result, "single_forest", legacy.dns_domain)[0]["message"]


def test_all_failures_listed_not_only_the_first(lab, tmp_path):
    legacy, f2008 = lab.forest("legacy"), lab.forest("f2008")
    username, password = shared_account(legacy, f2008)
    args = conn_args(legacy, server=[legacy.dcs[0].fqdn, f2008.dcs[0].fqdn],
                     requirements=["minimum_forest_level", "single_forest"], minimum_forest_level="2008_R2",
                     username=username, password=password, ca_file=ca_bundle(tmp_path, legacy, f2008))
    _proc, (result,) = run_module(lab, tmp_path, "ems.enable.ad_preflight", args)
    assert result["summary"] == {"pass": 0, "warn": 0, "fail": 4}
    assert result["msg"].startswith("4 of 4 preflight checks failed")


def test_adfs_gmsa_needs_kds_key_and_2012_dc(lab, tmp_path):
    _proc, (result,) = run_module(lab, tmp_path, "ems.enable.ad_preflight",
                                  conn_args(lab.forest("f2008"), requirements=["adfs"]))
    assert checks_of(result, "adfs.kds_root_key")[0]["status"] == "fail"
    assert checks_of(result, "adfs.gmsa_dc")[0]["status"] == "fail"  # Samba 4.17 DCs are 2008 R2 level
    assert checks_of(result, "adfs.schema")[0]["status"] == "fail"   # objectVersion 47 < 85


# --- connection faults: one clear line each ---------------------------------------------------------


def test_wrong_password(lab, tmp_path):
    corp = lab.forest("corp")
    _proc, (result,) = run_module(lab, tmp_path, "ems.enable.ad_forest_info", conn_args(corp, password="wrong"))
    assert result["failed"]
    assert result["msg"].startswith("%s:636: bind as %s refused: wrong user name or password." % (
        corp.dcs[0].fqdn, corp.admin_user))
    assert "wrong" not in result["msg"].replace("wrong user name", "")  # the password is not echoed


def test_untrusted_ca(lab, tmp_path):
    corp = lab.forest("corp")
    args = conn_args(corp, server=[corp.dcs[0].fqdn], ca_file=lab.forest("partner").ca_file)
    _proc, (result,) = run_module(lab, tmp_path, "ems.enable.ad_forest_info", args)
    assert result["failed"]
    assert result["msg"].startswith("%s:636: TLS certificate not trusted:" % corp.dcs[0].fqdn), result["msg"]
    assert "ca_file" in result["msg"]


def test_cleartext_simple_bind_refused_before_connecting(lab, tmp_path):
    corp = lab.forest("corp")
    _proc, (result,) = run_module(lab, tmp_path, "ems.enable.ad_forest_info",
                                  conn_args(corp, transport="ldap", server=["nowhere.invalid"]))
    assert result["failed"]
    assert result["msg"].startswith("Refusing a simple bind over cleartext LDAP (transport=ldap)")
    assert "allow_cleartext" in result["msg"]


def test_kerberos_bind_with_signing_and_sealing_on_389(lab, tmp_path):
    corp = lab.forest("corp")
    args = conn_args(corp, transport="ldap", auth="kerberos", username="administrator@" + corp.realm,
                     count_objects=False)
    args.pop("ca_file")
    _proc, (result,) = run_module(lab, tmp_path, "ems.enable.ad_forest_info", args)
    assert not result.get("failed"), result
    assert result["forests"][0]["forest"] == corp.dns_domain


def test_kerberos_wrong_password(lab, tmp_path):
    corp = lab.forest("corp")
    args = conn_args(corp, transport="ldap", auth="kerberos", username="administrator@" + corp.realm,
                     password="wrong")
    _proc, (result,) = run_module(lab, tmp_path, "ems.enable.ad_forest_info", args)
    assert result["failed"]
    assert "Kerberos: could not get a ticket for administrator@%s: wrong password" % corp.realm in result["msg"]


def test_stopped_dc_fails_over_then_fails_clearly(lab, tmp_path):
    corp = lab.forest("corp")
    first, second = corp.dcs[0].fqdn, corp.dcs[1].fqdn
    lab.stop_dc(first)
    try:
        _proc, (result,) = run_module(lab, tmp_path, "ems.enable.ad_forest_info",
                                      conn_args(corp, count_objects=False))
        assert not result.get("failed"), result
        assert result["forests"][0]["queried_dc"] == second
        assert result["unreachable_servers"][0]["server"] == first
        assert "connection refused" in result["unreachable_servers"][0]["error"]
        assert any(first in w for w in result.get("warnings", []))

        _proc, (alone,) = run_module(lab, tmp_path, "ems.enable.ad_forest_info",
                                     conn_args(corp, server=[first]))
        assert alone["failed"]
        assert alone["msg"].startswith("%s:636: cannot connect: connection refused" % first), alone["msg"]
    finally:
        lab.start_dc(first)


# --- Ansible behaviour ------------------------------------------------------------------------------


def test_check_mode_and_second_run_report_no_change(lab, tmp_path):
    args = conn_args(lab.forest("f2008"), requirements=["minimum_forest_level", "single_forest"])
    _proc, results = run_module(lab, tmp_path, "ems.enable.ad_preflight", args, twice=True)
    assert [r["changed"] for r in results] == [False, False]
    assert results[0]["checks"] == results[1]["checks"]
    _proc, (checked,) = run_module(lab, tmp_path, "ems.enable.ad_preflight", args, check=True)
    assert checked["changed"] is False and checked["checks"] == results[0]["checks"]
    _proc, (info,) = run_module(lab, tmp_path, "ems.enable.ad_forest_info", conn_args(lab.forest("f2008")),
                                check=True)
    assert info["changed"] is False and info["forests"][0]["forest"] == lab.forest("f2008").dns_domain


def test_runs_on_the_controller_for_windows_hosts_without_delegate_to(lab, tmp_path):
    """The play's host is a WinRM host that does not exist: the module never contacts it."""
    inventory = textwrap.dedent("""\
        [windows]
        win-sync-01 ansible_host=win-sync-01.invalid ansible_connection=winrm ansible_port=5986
        [windows:vars]
        ansible_user=nobody
        ansible_password=unused
        """)
    args = conn_args(lab.forest("f2008"), requirements=["minimum_forest_level"])
    proc, (result,) = run_module(lab, tmp_path, "ems.enable.ad_preflight", args, hosts="windows",
                                 inventory=inventory)
    assert not result.get("failed"), result
    assert result["checks"][0]["status"] == "pass"
    assert "unreachable" not in result
    assert proc.returncode == 0, proc.stdout


def test_second_forest_with_untrusted_certificate_is_not_dropped(lab, tmp_path):
    """A DC of another forest whose certificate does not validate fails the call: it must not
    silently vanish from the single-forest check."""
    legacy, f2008 = lab.forest("legacy"), lab.forest("f2008")
    args = conn_args(legacy, server=[legacy.dcs[0].fqdn, f2008.dcs[0].fqdn], requirements=["single_forest"])
    _proc, (result,) = run_module(lab, tmp_path, "ems.enable.ad_preflight", args)
    assert result["failed"]
    assert result["msg"].startswith("%s:636: TLS certificate not trusted" % f2008.dcs[0].fqdn), result["msg"]


def test_bad_option_is_named(lab, tmp_path):
    args = conn_args(lab.forest("f2008"), requirements=["minimum_forest_level"], minimum_forest_level="2009")
    _proc, (result,) = run_module(lab, tmp_path, "ems.enable.ad_preflight", args)
    assert result["failed"] and "minimum_forest_level" in result["msg"] and "2008_R2" in result["msg"]


def test_password_never_in_output(lab, tmp_path):
    corp = lab.forest("corp")
    proc, (result,) = run_module(lab, tmp_path, "ems.enable.ad_forest_info", conn_args(corp), )
    assert corp.admin_password not in proc.stdout + proc.stderr
    assert corp.admin_password not in json.dumps(result)
