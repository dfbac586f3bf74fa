"""ems.enable.dns_check against the Samba lab's DNS (the standard lab's corp forest).

Samba's internal DNS serves the lab zones; the test adds two zones with routable names
(example.com: right records, example.org: wrong ones) and a few records in corp's own zone, then
runs the module the way users do (ansible-playbook in the lab's controller namespace) with the
first corp DC as the resolver: right records pass; a CNAME where an A record is required, a wrong
target, a wrong address and a missing record each fail with a message naming the record and the fix.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from module_runner import run_module

pytestmark = pytest.mark.integration

FS_ADDRESS = "10.99.0.50"      # only stored in the lab DNS; nothing connects to it
RMS_ADDRESS = "10.99.0.60"
ENROLL = "EnterpriseEnrollment-s.manage.microsoft.com"
REGISTER = "EnterpriseRegistration.windows.net"


@pytest.fixture(scope="module")
def dns_lab(lab):
    corp = lab.forest("corp")
    dc1 = corp.dcs[0]
    for zone in ("example.com", "example.org"):
        proc = lab.run(["samba-tool", "dns", "zonecreate", dc1.fqdn, zone, "--username=" + corp.admin_user,
                        "--password=" + corp.admin_password, "--use-kerberos=off"],
                       env={"KRB5CCNAME": "MEMORY:"}, timeout=120)
        assert proc.returncode == 0 or "ALREADY_EXISTS" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    records = [
        (corp.dns_domain, "fs", "A", FS_ADDRESS),
        (corp.dns_domain, "fscname", "CNAME", "adfs-lb." + corp.dns_domain),
        (corp.dns_domain, "rmsconnector", "A", RMS_ADDRESS),
        ("example.com", "EnterpriseEnrollment", "CNAME", ENROLL),
        ("example.com", "EnterpriseRegistration", "CNAME", REGISTER),
        ("example.org", "EnterpriseEnrollment", "CNAME", "enroll.example.org"),  # wrong target
        # example.org has no EnterpriseRegistration record: missing
    ]
    for zone, name, rtype, value in records:
        lab.dns_add(zone, name, rtype, value, server=dc1.fqdn)
    return {"corp": corp, "dc1": dc1, "resolver": dc1.ip}


def dns_check(lab, tmp_path, check=False, **args):
    """One module run, in a directory of its own (no result of an earlier run can be read back)."""
    _proc, (result,) = run_module(lab, Path(tempfile.mkdtemp(dir=tmp_path)), "ems.enable.dns_check", args,
                                  check=check)
    return result


def record(result, name):
    (entry,) = [r for r in result["records"] if r["name"].lower() == name.lower()]
    return entry


def test_correct_records_pass(lab, dns_lab, tmp_path):
    corp = dns_lab["corp"]
    result = dns_check(lab, tmp_path, resolvers=[dns_lab["resolver"]],
                       federation_service_name="fs." + corp.dns_domain, federation_service_addresses=[FS_ADDRESS],
                       rms_connector_name="rmsconnector." + corp.dns_domain, rms_connector_addresses=[RMS_ADDRESS],
                       upn_suffixes=["example.com", corp.dns_domain], domains=[corp.dns_domain],
                       domain_controllers=[dns_lab["dc1"].fqdn])
    assert not result.get("failed"), result["msg"]
    assert result["summary"] == {"pass": 9, "warn": 0, "fail": 0}, [r["message"] for r in result["records"]]
    assert record(result, "EnterpriseEnrollment.example.com")["resolvers"][dns_lab["resolver"]]["found"] == {
        "CNAME": [ENROLL]}
    assert record(result, "fs." + corp.dns_domain)["zone"] == corp.dns_domain
    srv = record(result, "_ldap._tcp.dc._msdcs." + corp.dns_domain)
    assert srv["status"] == "pass" and dns_lab["dc1"].fqdn in srv["message"]
    # the lab's own suffix ends in .test: not routable, skipped with a warning
    assert [s["name"] for s in result["skipped"]] == [corp.dns_domain]
    assert "all 9 records are right" in result["msg"]


def test_cname_where_an_a_record_is_required_fails(lab, dns_lab, tmp_path):
    name = "fscname." + dns_lab["corp"].dns_domain
    result = dns_check(lab, tmp_path, resolvers=[dns_lab["resolver"]], federation_service_name=name,
                       federation_service_addresses=[FS_ADDRESS])
    assert result["failed"]
    entry = record(result, name)
    assert entry["status"] == "fail"
    assert entry["message"].startswith("%s is a CNAME to adfs-lb.%s" % (name, dns_lab["corp"].dns_domain))
    assert "an A record is required" in entry["message"]
    assert entry["remedy"] == (
        "Replace it: Remove-DnsServerResourceRecord -ZoneName {zone} -Name fscname -RRType CName -Force; then "
        "Add-DnsServerResourceRecordA -ZoneName {zone} -Name fscname -IPv4Address {ip}".format(
            zone=dns_lab["corp"].dns_domain, ip=FS_ADDRESS))
    assert entry["fix"] == {"zone": dns_lab["corp"].dns_domain, "name": "fscname", "type": "A", "value": [FS_ADDRESS],
                            "remove_type": "CNAME"}
    assert name in result["msg"] and "Fix: Replace it" in result["msg"]


def test_wrong_target_and_missing_record_fail_with_the_fix(lab, dns_lab, tmp_path):
    result = dns_check(lab, tmp_path, resolvers=[dns_lab["resolver"]], upn_suffixes=["example.org"])
    assert result["failed"]
    assert result["summary"] == {"pass": 0, "warn": 0, "fail": 2}
    wrong = record(result, "EnterpriseEnrollment.example.org")
    assert "is a CNAME to enroll.example.org" in wrong["message"]
    assert "must point to %s" % ENROLL in wrong["message"]
    assert wrong["remedy"].endswith(
        "Add-DnsServerResourceRecordCName -ZoneName example.org -Name EnterpriseEnrollment -HostNameAlias %s" % ENROLL)
    missing = record(result, "EnterpriseRegistration.example.org")
    assert missing["message"].startswith("EnterpriseRegistration.example.org (CNAME) does not exist at resolver")
    assert missing["remedy"] == (
        "Add-DnsServerResourceRecordCName -ZoneName example.org -Name EnterpriseRegistration -HostNameAlias %s"
        % REGISTER)
    assert missing["fix"] == {"zone": "example.org", "name": "EnterpriseRegistration", "type": "CNAME",
                              "value": [REGISTER], "remove_type": None}
    assert wrong["fix"]["remove_type"] is None  # same type: win_dns_record replaces the target
    assert "2 of 2 records fail" in result["msg"]
    assert "EnterpriseEnrollment.example.org" in result["msg"] and "EnterpriseRegistration.example.org" in result["msg"]


def test_wrong_address_and_missing_dc_fail(lab, dns_lab, tmp_path):
    corp = dns_lab["corp"]
    result = dns_check(lab, tmp_path, resolvers=[dns_lab["resolver"]],
                       rms_connector_name="rmsconnector." + corp.dns_domain, rms_connector_addresses=["10.99.0.61"],
                       domains=[corp.dns_domain], domain_controllers=["dc9." + corp.dns_domain])
    assert result["failed"]
    rms = record(result, "rmsconnector." + corp.dns_domain)
    assert "has A %s" % RMS_ADDRESS in rms["message"] and "must hold 10.99.0.61" in rms["message"]
    srv = record(result, "_kerberos._tcp." + corp.dns_domain)
    assert srv["status"] == "fail" and "not dc9.%s" % corp.dns_domain in srv["message"]
    assert "nltest /dsregdns" in srv["remedy"]


def test_older_enrollment_target_is_a_warning(lab, dns_lab, tmp_path):
    lab.dns_add("example.com", "EnterpriseEnrollment.legacy", "CNAME", "manage.microsoft.com",
                server=dns_lab["dc1"].fqdn)
    result = dns_check(lab, tmp_path, resolvers=[dns_lab["resolver"]], upn_suffixes=["legacy.example.com"],
                       registration_records=False)
    assert not result.get("failed"), result["msg"]
    entry = record(result, "EnterpriseEnrollment.legacy.example.com")
    assert entry["status"] == "warn" and "preferred" in entry["message"]


def test_silent_resolver_fails_and_is_named(lab, dns_lab, tmp_path):
    silent = dns_lab["resolver"].rsplit(".", 1)[0] + ".250"  # in the lab subnet, no host has it
    result = dns_check(lab, tmp_path, resolvers=[dns_lab["resolver"], silent], upn_suffixes=["example.com"],
                       timeout=1)
    assert result["failed"]
    entry = record(result, silent)
    assert entry["type"] == "resolver" and "did not answer" in entry["message"]
    result = dns_check(lab, tmp_path, resolvers=[silent], upn_suffixes=["example.com"], timeout=1)
    assert result["failed"] and "no resolver answered" in result["msg"] and silent in result["msg"]
    assert "records" not in result


def test_check_mode_gives_the_same_verdicts(lab, dns_lab, tmp_path):
    args = {"resolvers": [dns_lab["resolver"]], "upn_suffixes": ["example.org"]}
    normal = dns_check(lab, tmp_path, **args)
    checked = dns_check(lab, tmp_path, check=True, **args)
    assert [r["status"] for r in checked["records"]] == [r["status"] for r in normal["records"]]
    assert checked["changed"] is False and normal["changed"] is False


@pytest.mark.parametrize("args,words", [
    ({"resolvers": ["dc1.corp"], "upn_suffixes": ["example.com"]}, ["resolvers[0]", "'dc1.corp'", "not an IP"]),
    ({"resolvers": [], "upn_suffixes": ["example.com"]}, ["resolvers:"]),
    ({"resolvers": ["10.0.0.1"]}, ["Nothing to check"]),
    ({"resolvers": ["10.0.0.1"], "federation_service_name": "fs"}, ["federation_service_name:", "'fs'"]),
    ({"resolvers": ["10.0.0.1"], "upn_suffixes": ["bad suffix"]}, ["upn_suffixes[0]"]),
    ({"resolvers": ["10.0.0.1"], "federation_service_name": "fs.example.com",
      "federation_service_addresses": ["10.0.0.300"]}, ["federation_service_addresses[0]"]),
    ({"resolvers": ["10.0.0.1"], "domains": ["example.com"], "port": 0}, ["port:"]),
    ({"resolvers": ["10.0.0.1"], "domains": ["example.com"], "timeout": -1}, ["timeout:"]),
    ({"resolvers": ["10.0.0.1"], "records": [{"name": "x.example.com", "type": "MX"}]}, ["type", "MX"]),
    ({"resolvers": ["10.0.0.1"], "upn_suffixes": ["example.com"], "surprise": True}, ["surprise"]),
])
def test_bad_input_fails_before_any_query(lab, tmp_path, args, words):
    result = dns_check(lab, tmp_path, **args)
    assert result["failed"]
    for word in words:
        assert word in result["msg"], result["msg"]
    assert "records" not in result
