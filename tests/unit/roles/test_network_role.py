"""roles/network without Windows: syntax, argument validation before any host is contacted, README.

The plays target fake Windows hosts (WinRM to 127.0.0.1 port 1, where nothing listens): a host that
is contacted shows up as unreachable. Bad input must fail at the argument validation (or the
role's own cross-option check in plan.yml, also controller-only) with the option named and no host
unreachable; good input gets through the plan and fails only at the first task on the host.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "network"

INVENTORY = """
all:
  vars:
    ansible_connection: winrm
    ansible_host: 127.0.0.1
    ansible_port: 1
    ansible_user: nobody
    ansible_password: not-a-secret
    ansible_winrm_transport: ntlm
  children:
    aad_connect:
      hosts:
        sync1.contoso.test:
    adfs:
      hosts:
        adfs1.contoso.test:
    others:
      hosts:
        file1.contoso.test:
"""


def run_play(tmp_path, role_vars, hosts="aad_connect:adfs", extra=()):
    play = [{"name": "network role under test", "hosts": hosts, "gather_facts": False,
             "roles": [dict({"role": "ems.enable.network"}, **role_vars)]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play, sort_keys=False))
    (tmp_path / "hosts.yml").write_text(INVENTORY)
    env = dict(os.environ)
    env.update(ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".venv" / "collections"),
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", EMS_REPORT="false", ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_HOME=str(tmp_path / "home"))
    env["PATH"] = "%s%s%s" % (ROOT / ".venv" / "bin", os.pathsep, env.get("PATH", ""))
    proc = subprocess.run(["ansible-playbook", "-i", str(tmp_path / "hosts.yml"), str(tmp_path / "play.yml"), *extra],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    return proc, proc.stdout + proc.stderr


def recap(output):
    return {m.group(1): {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
            for m in re.finditer(r"^(\S+)\s+:\s+(ok=.*)$", output, re.M)}


def test_syntax_check(tmp_path):
    proc, output = run_play(tmp_path, {}, extra=("--syntax-check",))
    assert proc.returncode == 0, output


@pytest.mark.parametrize("role_vars,words", [
    ({"network_features": ["bogus_feature"]}, ["network_features", "bogus_feature"]),
    ({"network_components": ["adfs", "sharepoint"]}, ["network_components", "sharepoint"]),
    ({"network_firewall_profiles": ["work"]}, ["network_firewall_profiles", "work"]),
    ({"network_check_timeout": "soon"}, ["network_check_timeout"]),
    ({"network_targets": ["dc1.contoso.test"]}, ["network_targets"]),
    ({"network_peer_addresses": "any"}, ["network_peer_addresses"]),
    ({"network_firewall": "sometimes"}, ["network_firewall"]),
    ({"network_ad_domains": {"contoso.com": True}}, ["network_ad_domains"]),
    ({"network_tls_warn_days": "a month"}, ["network_tls_warn_days"]),
    ({"network_dns_create_records": True, "network_dns_resolvers": ["10.0.0.10"]},
     ["network_dns_create_records needs network_dns_server"]),
    ({"network_federation_service_addresses": ["10.0.1.50"]},
     ["network_federation_service_addresses / network_rms_connector_addresses need"]),
])
def test_bad_input_fails_before_any_host_is_contacted(tmp_path, role_vars, words):
    proc, output = run_play(tmp_path, role_vars)
    assert proc.returncode != 0, output
    for word in words:
        assert word in output, output
    counts = recap(output)
    assert set(counts) == {"sync1.contoso.test", "adfs1.contoso.test"}, output
    for host, numbers in counts.items():
        assert numbers["unreachable"] == 0 and numbers["failed"] == 1, (host, output)
    assert "wsman" not in output  # WinRM was never tried


def test_host_without_component_is_refused_by_name(tmp_path):
    proc, output = run_play(tmp_path, {}, hosts="others")
    assert proc.returncode != 0
    assert "ems.enable.network on file1.contoso.test: network_components" in output
    assert recap(output)["file1.contoso.test"]["unreachable"] == 0


def test_good_input_reaches_the_hosts_only_after_the_plan(tmp_path):
    proc, output = run_play(tmp_path, {"network_targets": {"domain_controller": ["dc1.contoso.test"]},
                                       "network_firewall_outbound": True})
    assert proc.returncode != 0
    counts = recap(output)
    for host in ("sync1.contoso.test", "adfs1.contoso.test"):
        assert counts[host]["unreachable"] == 1, output
        assert counts[host]["failed"] == 0, output
    # the first task that contacts a host is the firewall rule task
    first_unreachable = output.index("UNREACHABLE")
    assert output.rfind("TASK [ems.enable.network : Windows Firewall rules of this host's components]", 0,
                        first_unreachable) > output.rfind("Rules and checks of this host", 0, first_unreachable)


def test_readme_lists_exactly_the_argument_spec_options():
    spec = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    readme = (ROLE / "README.md").read_text()
    listed = re.findall(r"^\| `(network_\w+)` \|", readme, re.M)
    assert listed == list(spec), "README variable table and meta/argument_specs.yml differ"
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    assert set(defaults) == set(spec)
    for name, option in spec.items():
        assert defaults[name] == option["default"], name
    assert "## Limitations" in readme and "Nothing of this role has run on real Windows" in readme
