"""sync_permissions_info reads every domain on a DC of that domain (issue 19, finding 15).

Samba cannot build a child domain, so the standard lab's two forests f2008 and corp stand in for two
domains of one inventory: the module connects to f2008's DC and must read corp's root on a corp DC that
the DC locator finds in DNS (_ldap._tcp.dc._msdcs.corp..., registered by Samba itself). In a real forest one
account binds to every DC; here a reader account with the same UPN and password exists in both forests.
A fictitious child domain's SRV records (added to corp's zone, in priority order: a DC that does not
resolve, then two DCs of another domain) show the locator's order and the one-line failure.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path

import pytest

from module_runner import ca_bundle, run_module

pytestmark = pytest.mark.integration

RDC = "1131f6aa-9c07-11d1-f79f-00c04fc2dcd2"
RDC_ALL = "1131f6ad-9c07-11d1-f79f-00c04fc2dcd2"
PASSWORD = "Reader-Passw0rd-%s!"
COLLECTIONS = Path(__file__).resolve().parents[2] / ".venv" / "collections"  # scripts/bootstrap links this tree there


def samba_tool(dc, *args):
    proc = subprocess.run(["samba-tool", *args, "-H", dc.sam_ldb], capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def object_sid(dc, name):
    out = samba_tool(dc, "user", "show", name, "--attributes=objectSid")
    return next(line.split()[1] for line in out.splitlines() if line.startswith("objectSid:"))


@pytest.fixture(scope="module")
def two_domains(lab, tmp_path_factory):
    home, other = lab.forest("f2008"), lab.forest("corp")
    tag = uuid.uuid4().hex[:6]
    reader, connector = "reader-" + tag, "svc-conn-" + tag
    upn = "%s@%s" % (reader, home.dns_domain)
    for forest in (home, other):
        samba_tool(forest.dcs[0], "user", "create", reader, PASSWORD % tag)
    # corp's reader answers to the same UPN (ldbmodify on dc1; replication carries it to dc2)
    ldif = ("dn: CN=%s,CN=Users,%s\nchangetype: modify\nreplace: userPrincipalName\nuserPrincipalName: %s\n"
            % (reader, other.base_dn, upn))
    subprocess.run(["ldbmodify", "-H", other.dcs[0].sam_ldb], input=ldif, text=True, check=True,
                   capture_output=True, timeout=60)
    # the connector account lives in corp, with both rights on corp's root only
    samba_tool(other.dcs[0], "user", "create", connector, "Conn-Passw0rd-%s!" % tag)
    sid = object_sid(other.dcs[0], connector)
    # on every corp DC: the locator may pick any of them, and replication of the ACL takes its time
    for dc in other.dcs:
        for right in (RDC, RDC_ALL):
            samba_tool(dc, "dsacl", "set", "--objectdn=" + other.base_dn, "--sddl=(OA;;CR;%s;;%s)" % (right, sid))
    bundle = ca_bundle(tmp_path_factory.mktemp("ca"), home, other)
    # Samba sends dc2 a replication notice seconds after a change; a notice missed under load leaves the change
    # to dc2's periodic pull (dreplsrv:periodic_interval, 300 s by default): 180 s was too short once (CI run)
    deadline = time.monotonic() + 360
    for dc in other.dcs:  # every corp DC the locator may pick must know the reader
        while True:
            proc = lab.run(["ldapwhoami", "-x", "-H", "ldaps://" + dc.fqdn, "-D", upn, "-w", PASSWORD % tag],
                           env={"LDAPTLS_CACERT": bundle}, timeout=30)
            if "52e" not in proc.stdout + proc.stderr and "Invalid credentials" not in proc.stdout + proc.stderr:
                break
            assert time.monotonic() < deadline, "the reader did not replicate to %s" % dc.fqdn
            time.sleep(3)
    args = {"server": [dc.fqdn for dc in home.dcs], "username": upn, "password": PASSWORD % tag, "ca_file": bundle,
            "dns_servers": [other.dcs[0].ip]}
    return home, other, connector, args


def test_the_other_domain_is_read_on_one_of_its_dcs(lab, tmp_path, two_domains):
    home, other, connector, args = two_domains
    _proc, (result,) = run_module(lab, tmp_path, "ems.enable.sync_permissions_info",
                                  dict(args, account=connector, domains=[home.dns_domain, other.dns_domain]))
    by_domain = {d["domain"]: d for d in result["domains"]}
    assert by_domain[home.dns_domain]["server"] == home.dcs[0].fqdn
    assert by_domain[other.dns_domain]["server"] in [dc.fqdn for dc in other.dcs]
    # the account was found in its own domain (corp), not in the connected DC's
    assert result["account"]["dn"] == "CN=%s,CN=Users,%s" % (connector, other.base_dn)
    assert all(r["state"] == "granted" for r in by_domain[other.dns_domain]["rights"].values())
    assert all(r["state"] == "missing" for r in by_domain[home.dns_domain]["rights"].values())
    assert result["failed"]
    assert ("lacks Replicating Directory Changes on %s (missing); Replicating Directory Changes All on %s (missing)."
            % (home.dns_domain, home.dns_domain)) in result["msg"]
    assert other.dns_domain not in result["msg"]


def test_an_account_by_dn_in_the_other_domain_only(lab, tmp_path, two_domains):
    _home, other, connector, args = two_domains
    dn = "CN=%s,CN=Users,%s" % (connector, other.base_dn)
    _proc, (result,) = run_module(lab, tmp_path, "ems.enable.sync_permissions_info",
                                  dict(args, account=dn, domains=[other.dns_domain]))
    assert not result.get("failed"), result
    assert result["all_granted"] and result["account"]["sam_account_name"] == connector
    assert [v["name"] for v in result["domains"][0]["rights"]["replicating_directory_changes"]["via"]] == [connector]


@pytest.fixture(scope="module")
def child_srv(lab):
    """SRV records of a child domain that no DC holds, in corp's zone: a DC name that does not resolve
    first (priority 0), then corp's own DCs (priorities 10 and 20), which hold another domain."""
    corp = lab.forest("corp")
    child = "child-%s.%s" % (uuid.uuid4().hex[:6], corp.dns_domain)
    label = child[:-(len(corp.dns_domain) + 1)]
    targets = ["dc-gone.%s" % corp.dns_domain] + [dc.fqdn for dc in corp.dcs]
    for priority, target in zip((0, 10, 20), targets):
        lab.dns_add(corp.dns_domain, "_ldap._tcp.dc._msdcs." + label, "SRV", "%s 389 %d 100" % (target, priority))
    return child, targets


def test_the_locator_orders_the_lab_dns_records_by_priority(lab, child_srv):
    child, targets = child_srv
    corp = lab.forest("corp")
    code = ("import sys; from ansible_collections.ems.enable.plugins.module_utils.ad import dc_locator; "
            "print(','.join(dc_locator.locate(sys.argv[1], [sys.argv[2]])))")
    proc = lab.run(["python", "-c", code, child, corp.dcs[0].ip], env={"PYTHONPATH": str(COLLECTIONS)}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().split(",") == targets


def test_no_dc_of_a_domain_answers_is_one_line(lab, tmp_path, child_srv, two_domains):
    child, targets = child_srv
    _home, _other, _connector, args = two_domains
    _proc, (result,) = run_module(lab, tmp_path, "ems.enable.sync_permissions_info",
                                  dict(args, account=args["username"].split("@")[0], domains=[child]))
    assert result["failed"]
    msg = result["msg"]
    assert msg.startswith("domains: no domain controller of %s answered (3 located through "
                          "_ldap._tcp.dc._msdcs.%s): %s:636: cannot connect" % (child, child, targets[0])), msg
    assert "%s holds dc=corp" % targets[1] in msg and "\n" not in msg


def test_a_domain_without_srv_records_is_one_line(lab, tmp_path, two_domains):
    _home, other, _connector, args = two_domains
    _proc, (result,) = run_module(lab, tmp_path, "ems.enable.sync_permissions_info",
                                  dict(args, account=args["username"].split("@")[0], domains=["nowhere.example"]))
    assert result["failed"]
    assert result["msg"].startswith(
        "domains: no domain controller of nowhere.example found: _ldap._tcp.dc._msdcs.nowhere.example does not "
        "exist in DNS server(s) %s" % other.dcs[0].ip), result["msg"]
