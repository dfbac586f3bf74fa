"""Verify of the `windows` scenario (testinfra, ansible backend).

Molecule runs this with --connection=ansible and --ansible-inventory=<its inventory directory>,
where inventory/ems_windows.py provides the hosts. Every check goes through `host.ansible(...)`,
i.e. the same WinRM connection (HTTPS, certificate validation, NTLM or Kerberos) the playbooks use;
testinfra's own command runner (`host.run`) is not used: it does not speak PowerShell over Ansible.

TODO(roles): each role adds tests/test_<role>.py here with the state it must leave (services,
certificates, farm membership ...), read with info modules only (check=True is fine for them).
"""

from __future__ import annotations

import os

import pytest
import testinfra.utils.ansible_runner

INVENTORY = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
try:
    HOSTS = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY).get_hosts("windows")
except RuntimeError:  # testinfra: "No inventory was parsed ..." when the inventory has no host at all
    HOSTS = []

# Without hosts every test is reported as skipped, with the reason (a whole-module skip would
# make pytest exit 5, "no tests collected", which molecule counts as a failure).
pytestmark = pytest.mark.skipif(
    not HOSTS, reason="no Windows host given (EMS_WINDOWS_* unset), see molecule/windows/README.md"
)

# force_ansible: testinfra has no native backend for a winrm connection; run modules through Ansible.
testinfra_hosts = [f"ansible://{name}?force_ansible=True" for name in HOSTS]


def facts(host, *subsets):
    result = host.ansible("ansible.windows.setup", f"gather_subset=!all,!min,{','.join(subsets)}", check=False)
    return result["ansible_facts"]


def test_winrm_round_trip(host):
    assert host.ansible("ansible.windows.win_ping", check=False)["ping"] == "pong"


def test_windows_server_2016_or_later(host):
    f = facts(host, "distribution")
    assert f["ansible_os_product_type"] in ("server", "domain_controller")
    major, minor, build = (int(x) for x in f["ansible_distribution_version"].split(".")[:3])
    assert (major, minor, build) >= (10, 0, 14393), f["ansible_distribution_version"]


def test_domain_role(host):
    groups = host.ansible.get_variables()["group_names"]
    f = facts(host, "windows_domain")
    if "domain_controllers" in groups:
        assert f["ansible_windows_domain_role"] in ("Primary domain controller", "Backup domain controller")
    if {"adfs", "aad_connect"} & set(groups):
        assert f["ansible_windows_domain_member"] is True
