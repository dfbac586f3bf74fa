"""ems.enable.adfs stops on bad input before any Windows host is contacted.

Each test runs the role the way users do (ansible-playbook, the farm play and the proxy play) against
Windows-looking inventory hosts (ansible_connection=winrm) whose address is loopback on a closed port
(127.0.0.x:1): were the role to connect, the run would show `ESTABLISH WINRM CONNECTION` (-vvv) and
an UNREACHABLE host, and nothing would leave the machine. The certificates are generated here with
`cryptography` (tests/unit/plugins/module_utils/adfs/adfs_pki.py); no key is committed.

The positive control (good input, AD preflight off) shows the first WinRM attempt comes right after
the controller-side checks, so the "no connection" assertions can fail. The last tests read the
Samba lab over LDAP (ems.enable.ad_preflight, requirement set adfs) and stop there, still before
WinRM.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "unit" / "plugins" / "module_utils" / "adfs"))

from adfs_pki import NOW, PASSWORD, make_ca, make_cert, write_pfx  # noqa: E402
from conftest import project_env  # noqa: E402

FS = "fs.contoso.example"
CONNECT = "ESTABLISH WINRM CONNECTION"


def inventory(farm=("adfs1", "adfs2"), proxies=("wap1", "wap2"), addresses=None, extra_groups=None):
    """Windows-looking hosts on loopback, port 1 (closed): a connection attempt fails locally."""
    addresses = addresses or {}
    hosts = list(dict.fromkeys([*farm, *proxies]))
    address = {h: addresses.get(h, "127.0.0.%d" % (i + 1)) for i, h in enumerate(hosts)}
    groups = {
        "adfs": {"hosts": {f"{h}.corp.example.invalid": {"ansible_host": address[h]} for h in farm}},
        "wap": {"hosts": {f"{h}.dmz.example.invalid" if h.startswith("wap") else f"{h}.corp.example.invalid":
                          {"ansible_host": address[h]} for h in proxies}},
        "domain_controllers": {"hosts": {"dc1.corp.example.invalid": {"ansible_host": "127.0.0.99"}}},
    }
    groups.update(extra_groups or {})
    return {"all": {
        "vars": {"ansible_connection": "winrm", "ansible_port": 1, "ansible_winrm_scheme": "http",
                 "ansible_winrm_transport": "ntlm", "ansible_user": "adm", "ansible_password": "not-a-secret",
                 "ansible_become_method": "runas", "ansible_become_user": "CORP\\adm",
                 "ansible_become_password": "not-a-secret",
                 "ansible_winrm_operation_timeout_sec": 5, "ansible_winrm_read_timeout_sec": 10},
        "children": {"windows": {"children": groups}},
    }}


PLAYBOOK = [
    {"name": "Farm", "hosts": "adfs", "gather_facts": False, "roles": [{"role": "ems.enable.adfs"}]},
    {"name": "Proxy", "hosts": "wap", "gather_facts": False, "tasks": [
        {"name": "Proxy role", "ansible.builtin.import_role": {"name": "ems.enable.adfs", "tasks_from": "proxy"}}]},
]


@pytest.fixture(scope="module")
def ca():
    return make_ca()


@pytest.fixture(scope="module")
def pfx_dir(tmp_path_factory, ca):
    """good, san_missing, expired PFX files, each with PASSWORD."""
    where = tmp_path_factory.mktemp("pfx")
    key, cert, ca_cert = make_cert(sans=(FS,), ca=ca)
    write_pfx(where / "good.pfx", key, cert, ca_cert, legacy=True)
    key, cert, ca_cert = make_cert(cn=FS, sans=("www.contoso.example",), ca=ca)
    write_pfx(where / "san_missing.pfx", key, cert, ca_cert, legacy=True)
    key, cert, ca_cert = make_cert(sans=(FS,), not_before=NOW - datetime.timedelta(days=400),
                                   not_after=NOW - datetime.timedelta(days=3), ca=ca)
    write_pfx(where / "expired.pfx", key, cert, ca_cert, legacy=True)
    return where


def base_vars(pfx_dir, **changes):
    values = {
        "adfs_federation_service_name": FS,
        "adfs_certificate_pfx_path": str(pfx_dir / "good.pfx"),
        "adfs_certificate_pfx_password": PASSWORD,
        "adfs_proxy_trust_username": "CORP\\adm-adfs",
        "adfs_proxy_trust_password": "Trust-Passw0rd",
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def run_role(tmp_path, variables, inv=None, runner=None, playbook=None):
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inv or inventory(), sort_keys=False))
    (tmp_path / "play.yml").write_text(yaml.safe_dump(playbook or PLAYBOOK, sort_keys=False))
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    cmd = ["ansible-playbook", "-vvv", "-i", str(tmp_path / "hosts.yml"), str(tmp_path / "play.yml"),
           "-e", "@" + str(tmp_path / "vars.json")]
    env = dict(project_env(), EMS_REPORT="false", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default",
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_DEPRECATION_WARNINGS="false")
    if runner is not None:
        proc = runner(cmd, env=env, timeout=600)
    else:
        proc = subprocess.run(cmd, env=dict(os.environ, **env), capture_output=True, text=True, timeout=600,
                              cwd=ROOT, check=False)
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out, out[-4000:]
    return proc, out


def assert_stopped_before_windows(proc, out, *fragments):
    assert proc.returncode != 0, out[-3000:]
    assert CONNECT not in out, "a WinRM connection was attempted:\n" + out[-3000:]
    assert "UNREACHABLE" not in out, out[-3000:]
    for fragment in fragments:
        assert fragment in out, f"{fragment!r} not in the output:\n" + out[-4000:]


def test_wrong_pfx_password(tmp_path, pfx_dir):
    proc, out = run_role(tmp_path, base_vars(pfx_dir, adfs_certificate_pfx_password="Wrong-Passw0rd"))
    assert_stopped_before_windows(proc, out, "no Windows host was contacted",
                                  "[adfs_certificate.pfx_password]", "adfs_certificate_pfx_password")
    assert "Wrong-Passw0rd" not in out


def test_san_missing_the_federation_service_name(tmp_path, pfx_dir):
    proc, out = run_role(tmp_path, base_vars(pfx_dir, adfs_certificate_pfx_path=str(pfx_dir / "san_missing.pfx")))
    assert_stopped_before_windows(proc, out, "[adfs_certificate.name]", f"does not cover {FS}",
                                  "www.contoso.example")


def test_expired_certificate(tmp_path, pfx_dir):
    proc, out = run_role(tmp_path, base_vars(pfx_dir, adfs_certificate_pfx_path=str(pfx_dir / "expired.pfx")))
    assert_stopped_before_windows(proc, out, "[adfs_certificate.validity]", "expired on")


def test_adfs_and_wap_on_the_same_host_by_name(tmp_path, pfx_dir):
    inv = inventory(farm=("adfs1", "adfs2"), proxies=("wap1", "adfs2"))
    proc, out = run_role(tmp_path, base_vars(pfx_dir), inv=inv)
    assert_stopped_before_windows(proc, out, "AD FS and Web Application Proxy on the same host",
                                  "adfs2.corp.example.invalid")


def test_adfs_and_wap_on_the_same_host_by_address(tmp_path, pfx_dir):
    inv = inventory(addresses={"adfs2": "127.0.0.42", "wap2": "127.0.0.42"})
    proc, out = run_role(tmp_path, base_vars(pfx_dir), inv=inv)
    assert_stopped_before_windows(proc, out, "AD FS and Web Application Proxy on the same host",
                                  "wap2.dmz.example.invalid = 127.0.0.42")


def test_one_farm_node_while_fault_tolerance_is_required(tmp_path, pfx_dir):
    proc, out = run_role(tmp_path, base_vars(pfx_dir), inv=inventory(farm=("adfs1",)))
    assert_stopped_before_windows(proc, out, "adfs_require_fault_tolerance is true but adfs_farm_hosts has 1",
                                  "set adfs_require_fault_tolerance=false (lab only)")


def test_one_proxy_while_fault_tolerance_is_required(tmp_path, pfx_dir):
    proc, out = run_role(tmp_path, base_vars(pfx_dir), inv=inventory(proxies=("wap1",)))
    assert_stopped_before_windows(proc, out, "adfs_proxy_hosts has 1 Web")


def test_missing_required_option_fails_in_the_argument_spec(tmp_path, pfx_dir):
    proc, out = run_role(tmp_path, base_vars(pfx_dir, adfs_federation_service_name=None))
    assert_stopped_before_windows(proc, out, "missing required arguments: adfs_federation_service_name",
                                  "argument_spec_name\": \"main\"")


def test_proxy_without_trust_credential_fails_in_the_argument_spec(tmp_path, pfx_dir):
    playbook = [PLAYBOOK[1]]
    proc, out = run_role(tmp_path, base_vars(pfx_dir, adfs_proxy_trust_username=None, adfs_proxy_trust_password=None),
                         playbook=playbook)
    assert_stopped_before_windows(proc, out, "missing required arguments: adfs_proxy_trust_password, "
                                             "adfs_proxy_trust_username")


def test_wrong_type_fails_in_the_argument_spec(tmp_path, pfx_dir):
    proc, out = run_role(tmp_path, base_vars(pfx_dir, adfs_require_fault_tolerance="sometimes"))
    assert_stopped_before_windows(proc, out, "adfs_require_fault_tolerance")


def test_incomplete_options_are_listed_together(tmp_path, pfx_dir):
    proc, out = run_role(tmp_path, base_vars(pfx_dir, adfs_service_account="user", adfs_kds_root_key_lab_backdate=True,
                                             adfs_dns_record=True, adfs_dns_zone="other.example",
                                             adfs_federation_service_name="not a name"))
    assert_stopped_before_windows(proc, out, "adfs_service_account=user needs adfs_service_account_username",
                                  "adfs_kds_root_key_lab_backdate=true needs adfs_kds_root_key_create=true",
                                  "adfs_dns_record=true needs adfs_dns_zone",
                                  "adfs_federation_service_name 'not a name' is not a DNS name")


def test_no_become_user_and_no_install_credential(tmp_path, pfx_dir):
    inv = inventory()
    del inv["all"]["vars"]["ansible_become_user"]
    proc, out = run_role(tmp_path, base_vars(pfx_dir), inv=inv)
    assert_stopped_before_windows(proc, out, "set ansible_become_user and ansible_become_password",
                                  "adfs_install_username")


def test_every_violation_is_listed_not_only_the_first(tmp_path, pfx_dir):
    inv = inventory(farm=("adfs1",), proxies=("adfs1",))
    proc, out = run_role(tmp_path, base_vars(pfx_dir, adfs_certificate_pfx_path=str(pfx_dir / "expired.pfx")), inv=inv)
    assert_stopped_before_windows(proc, out, "AD FS and Web Application Proxy on the same host",
                                  "adfs_farm_hosts has 1 AD FS server", "adfs_proxy_hosts has 1 Web",
                                  "[adfs_certificate.validity]")
    stop = [line for line in out.splitlines() if "preconditions failed on the controller" in line]
    assert stop and all(f in stop[0] for f in ("same host", "adfs_farm_hosts has 1", "expired on"))


def test_proxy_entry_point_checks_the_certificate_too(tmp_path, pfx_dir):
    proc, out = run_role(tmp_path, base_vars(pfx_dir, adfs_certificate_pfx_path=str(pfx_dir / "san_missing.pfx")),
                         playbook=[PLAYBOOK[1]])
    assert_stopped_before_windows(proc, out, "[adfs_certificate.name]")


def test_positive_control_first_connection_comes_after_the_controller_checks(tmp_path, pfx_dir):
    """Good input, AD preflight off: the role gets past every controller check and only then tries
    WinRM (loopback, closed port), so the tests above would see a connection attempt."""
    proc, out = run_role(tmp_path, base_vars(pfx_dir, adfs_ad_preflight=False))
    assert proc.returncode != 0
    assert "Inputs, topology and certificate are fine" in out
    assert CONNECT in out
    first_connect = out.index(CONNECT)
    assert out.rindex("Preflight hosts | Read the facts", 0, first_connect) > out.index("Inputs, topology and certificate")
    assert "127.0.0." in out[first_connect:first_connect + 200]


# ---- against the Samba AD lab (root): the AD preflight stops the role, still before WinRM ---------


def lab_ldap(forest):
    return {"server": [dc.fqdn for dc in forest.dcs], "username": forest.admin_user,
            "password": forest.admin_password, "ca_file": forest.ca_file}


def test_lab_forest_fails_the_adfs_requirement_set_before_any_windows_host(lab, tmp_path, pfx_dir):
    """corp: a forest trust to partner (not a single forest), Samba DCs at 2008 R2 level (no gMSA-capable
    DC), no KDS root key. The role lists all three and stops; no WinRM connection."""
    corp = lab.forest("corp")
    proc, out = run_role(tmp_path, base_vars(pfx_dir, adfs_ldap=lab_ldap(corp)), runner=lab.run)
    assert_stopped_before_windows(proc, out, "Active Directory preconditions failed (no Windows host was contacted)",
                                  "forest trust", "no KDS root key", "Windows Server 2012")
    assert corp.admin_password not in out


def test_lab_kds_create_flag_turns_the_missing_key_into_a_plan(lab, tmp_path, pfx_dir):
    """With adfs_kds_root_key_create the missing KDS root key is no longer a failure (the role would
    create it on the DC); the other failures remain."""
    corp = lab.forest("corp")
    proc, out = run_role(tmp_path, base_vars(pfx_dir, adfs_ldap=lab_ldap(corp), adfs_kds_root_key_create=True),
                         runner=lab.run)
    assert_stopped_before_windows(proc, out, "forest trust", "Windows Server 2012")
    stop = [line for line in out.splitlines() if "Active Directory preconditions failed" in line]
    assert stop and "no KDS root key" not in stop[0]
