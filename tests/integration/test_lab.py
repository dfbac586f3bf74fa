"""The Samba AD lab is real: every fact is read back from the running DCs over the network.

All commands run in the lab's controller namespace (``lab.run``), the way the collection's
modules see the lab: names from its hosts file, Kerberos from its krb5.conf, TLS validated
against the forest's CA file.
"""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from conftest import ROOT, STANDARD_LEVELS, emslab

pytestmark = pytest.mark.integration

PROBE = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5).close()
    print("open")
except ConnectionRefusedError:
    print("refused")
except OSError as exc:
    print("error", exc)
"""


def ldapsearch(lab, forest, *args, dc=None, ca_file=None, base=None, scope="sub"):
    """Simple bind over LDAPS with certificate validation; returns the CompletedProcess."""
    dc = dc or forest.dcs[0]
    env = {"LDAPTLS_CACERT": ca_file or forest.ca_file, "LDAPTLS_REQCERT": "demand"}
    cmd = ["ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-H", f"ldaps://{dc.fqdn}", "-x",
           "-D", forest.admin_user, "-w", forest.admin_password,
           "-b", forest.base_dn if base is None else base, "-s", scope, *args]
    return lab.run(cmd, env=env, timeout=60)


def values(ldif: str, attr: str) -> list[str]:
    out = []
    for line in ldif.splitlines():
        key, sep, val = line.partition(":")
        if sep and key.lower() == attr.lower():
            out.append(base64.b64decode(val[2:]).hex() if val.startswith(":") else val.strip())
    return out


def port_state(lab, host, port):
    return lab.run(["python3", "-c", PROBE, host, str(port)], timeout=30).stdout.strip()


@pytest.mark.parametrize("name", sorted(STANDARD_LEVELS))
def test_forest_level_read_back_over_ldaps(lab, name):
    forest = lab.forest(name)
    proc = ldapsearch(lab, forest, "forestFunctionality", "domainFunctionality", base="",
                      scope="base")
    assert proc.returncode == 0, proc.stderr
    assert values(proc.stdout, "forestFunctionality") == [str(STANDARD_LEVELS[name])]
    assert values(proc.stdout, "domainFunctionality") == [str(STANDARD_LEVELS[name])]
    assert forest.forest_functionality == STANDARD_LEVELS[name]


def test_ldaps_rejects_a_foreign_ca(lab):
    """Certificate validation is on: corp's DC does not validate against partner's CA."""
    corp, partner = lab.forest("corp"), lab.forest("partner")
    proc = ldapsearch(lab, corp, "dnsHostName", base="", scope="base", ca_file=partner.ca_file)
    assert proc.returncode != 0
    assert "dnsHostName" not in proc.stdout


def test_corp_has_schema_2019(lab):
    corp = lab.forest("corp")
    schema_dn = f"CN=Schema,CN=Configuration,{corp.base_dn}"
    proc = ldapsearch(lab, corp, "objectVersion", base=schema_dn, scope="base")
    assert proc.returncode == 0, proc.stderr
    (version,) = values(proc.stdout, "objectVersion")
    assert int(version) >= 85
    assert int(version) == corp.schema_object_version
    # an attribute that only the Windows Server 2016+ schema has (Windows Hello for Business)
    proc = ldapsearch(lab, corp, "lDAPDisplayName", base=schema_dn, scope="one")
    assert proc.returncode == 0, proc.stderr
    names = set(values(proc.stdout, "lDAPDisplayName"))
    assert "msDS-KeyCredentialLink" in names


@pytest.mark.parametrize("side, other", [("corp", "partner"), ("partner", "corp")])
def test_forest_trust_on_both_sides(lab, side, other):
    forest = lab.forest(side)
    proc = ldapsearch(lab, forest, "(objectClass=trustedDomain)", "trustPartner",
                      "trustAttributes", "trustDirection", "trustType",
                      base=f"CN=System,{forest.base_dn}", scope="one")
    assert proc.returncode == 0, proc.stderr
    assert values(proc.stdout, "trustPartner") == [lab.forest(other).dns_domain]
    assert values(proc.stdout, "trustAttributes") == ["8"]  # FOREST_TRANSITIVE
    assert values(proc.stdout, "trustDirection") == ["3"]  # both
    assert values(proc.stdout, "trustType") == ["2"]  # uplevel (AD)


def test_second_dc_answers_for_the_same_domain(lab):
    corp = lab.forest("corp")
    dc1, dc2 = corp.dcs
    root = ldapsearch(lab, corp, "dnsHostName", "defaultNamingContext", "serverName",
                      dc=dc2, base="", scope="base")
    assert root.returncode == 0, root.stderr
    assert values(root.stdout, "dnsHostName") == [dc2.fqdn]
    assert values(root.stdout, "defaultNamingContext") == [corp.base_dn]
    sids = [values(ldapsearch(lab, corp, "objectSid", dc=dc, scope="base").stdout, "objectSid")
            for dc in (dc1, dc2)]
    assert sids[0] and sids[0] == sids[1]
    dcs = ldapsearch(lab, corp, "(&(objectClass=computer)(primaryGroupID=516))", "dNSHostName",
                     dc=dc2)
    assert sorted(values(dcs.stdout, "dNSHostName")) == sorted([dc1.fqdn, dc2.fqdn])


def test_kerberos_ldap_on_389(lab, tmp_path):
    corp, partner = lab.forest("corp"), lab.forest("partner")
    env = {"KRB5CCNAME": f"FILE:{tmp_path}/ccache"}
    kinit = lab.run(["kinit", corp.admin_user], input=corp.admin_password + "\n", env=env,
                    timeout=60)
    assert kinit.returncode == 0, kinit.stderr
    search = lab.run(["ldapsearch", "-LLL", "-Y", "GSSAPI", "-H", f"ldap://{corp.dcs[0].fqdn}",
                      "-b", "", "-s", "base", "defaultNamingContext"], env=env, timeout=60)
    assert search.returncode == 0, search.stderr
    assert f"SASL username: {corp.admin_user}" in search.stderr
    assert "SASL data security layer installed" in search.stderr
    assert values(search.stdout, "defaultNamingContext") == [corp.base_dn]
    # the forest trust also works for Kerberos: corp's administrator reads partner
    cross = lab.run(["ldapsearch", "-LLL", "-Q", "-Y", "GSSAPI", "-H",
                     f"ldap://{partner.dcs[0].fqdn}", "-b", "", "-s", "base",
                     "defaultNamingContext"], env=env, timeout=60)
    assert cross.returncode == 0, cross.stderr
    assert values(cross.stdout, "defaultNamingContext") == [partner.base_dn]


def test_dns_record_added_resolves(lab):
    corp = lab.forest("corp")
    name = "t" + uuid.uuid4().hex[:8]
    ip = lab.data["subnet"].rsplit(".", 1)[0] + ".250"
    lab.dns_add(corp.dns_domain, name, "A", ip)
    lab.dns_add(corp.dns_domain, f"_{name}._tcp", "SRV", f"{corp.dcs[0].fqdn} 443 0 100")
    dig = lab.run(["dig", "+short", f"@{corp.dcs[0].fqdn}", f"{name}.{corp.dns_domain}", "A"],
                  timeout=30)
    assert dig.stdout.split() == [ip]
    srv = lab.run(["dig", "+short", f"@{corp.dcs[0].fqdn}", f"_{name}._tcp.{corp.dns_domain}",
                   "SRV"], timeout=30)
    assert srv.stdout.split() == ["0", "100", "443", corp.dcs[0].fqdn + "."]
    unknown = lab.run(["dig", "+short", f"@{corp.dcs[0].fqdn}", f"no{name}.{corp.dns_domain}"],
                      timeout=30)
    assert unknown.stdout.strip() == ""


def test_controller_namespace_resolves_every_dc(lab):
    for forest in lab.forests:
        for dc in forest.dcs:
            proc = lab.run(["getent", "hosts", dc.fqdn], timeout=30)
            assert proc.stdout.split()[:2] == [dc.ip, dc.fqdn]
    # Kerberos reads the lab's own krb5.conf (KRB5_CONFIG), never a host file
    krb5_config = lab.run(["sh", "-c", 'echo "$KRB5_CONFIG"']).stdout.strip()
    assert krb5_config == str(lab.krb5_conf)
    krb5 = lab.run(["cat", krb5_config]).stdout
    for forest in lab.forests:
        assert f"{forest.realm} = {{" in krb5


def test_offline_user_load(lab):
    """load_users stops the DC, adds generated users with ldbadd, starts it again."""
    partner = lab.forest("partner")
    lab.load_users("partner", count=40, password_count=2)
    proc = ldapsearch(lab, partner, "(objectClass=user)", "sAMAccountName", "userAccountControl",
                      "userPrincipalName", base=f"OU=EmsLabUsers,{partner.base_dn}")
    assert proc.returncode == 0, proc.stderr
    assert len(values(proc.stdout, "sAMAccountName")) == 40
    assert values(proc.stdout, "userAccountControl").count("512") == 2
    # a user that got the lab password can bind; a disabled one cannot
    env = {"LDAPTLS_CACERT": partner.ca_file, "LDAPTLS_REQCERT": "demand"}
    for upn, ok in ((f"emsuser000001@{partner.dns_domain}", True),
                    (f"emsuser000003@{partner.dns_domain}", False)):
        bind = lab.run(["ldapsearch", "-LLL", "-x", "-H", f"ldaps://{partner.dcs[0].fqdn}",
                        "-D", upn, "-w", emslab.LAB_PASSWORD, "-b", "", "-s", "base",
                        "dnsHostName"], env=env, timeout=60)
        assert (bind.returncode == 0) is ok, (upn, bind.stdout, bind.stderr)
        if not ok:
            assert "Invalid credentials (49)" in bind.stderr


def test_inventory_points_at_the_lab(lab):
    listed = lab.run(["ansible-inventory", "-i", "inventories/lab", "--list"],
                     cwd=str(ROOT), timeout=120)
    assert listed.returncode == 0, listed.stderr
    for forest in lab.forests:
        assert forest.dns_domain in listed.stdout
    corp = lab.forest("corp")
    msg = "{{ ems_ldap_ca_file }} {{ ems_ldap_server | join(',') }} {{ ems_ldap_username }}"
    shown = lab.run(["ansible", "-i", "inventories/lab", corp.dns_domain, "-m",
                     "ansible.builtin.debug", "-a", json.dumps({"msg": msg})],
                    cwd=str(ROOT), timeout=120)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert f"{corp.ca_file} {','.join(dc.fqdn for dc in corp.dcs)} {corp.admin_user}" \
        in shown.stdout


def test_stop_dc_refuses_ldaps_and_start_dc_brings_it_back(lab):
    """Last on purpose: the lab's first corp DC goes down and comes back."""
    corp = lab.forest("corp")
    dc1, dc2 = corp.dcs
    assert port_state(lab, dc1.ip, 636) == "open"
    lab.stop_dc(dc1.fqdn)
    try:
        assert port_state(lab, dc1.ip, 636) == "refused"
        status = {d["fqdn"]: d["running"] for f in lab.status()["forests"] for d in f["dcs"]}
        assert status == {**status, dc1.fqdn: False, dc2.fqdn: True}
        # the other DC still serves the domain (what LDAP failover relies on)
        proc = ldapsearch(lab, corp, "dnsHostName", dc=dc2, base="", scope="base")
        assert values(proc.stdout, "dnsHostName") == [dc2.fqdn]
    finally:
        lab.start_dc(dc1.fqdn)
    assert port_state(lab, dc1.ip, 636) == "open"
    proc = ldapsearch(lab, corp, "dnsHostName", base="", scope="base")
    assert proc.returncode == 0, proc.stderr
    assert values(proc.stdout, "dnsHostName") == [dc1.fqdn]
