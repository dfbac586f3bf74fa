#!/usr/bin/env python
"""Ansible inventory of the molecule `windows` scenario, built from EMS_WINDOWS_* variables.

CI gives its Windows VMs through the environment (see ../README.md); every variable that is set
becomes one host, in the group of its component and in `windows`:

    EMS_WINDOWS_DC     -> dc     (groups domain_controllers, windows)
    EMS_WINDOWS_ADFS1  -> adfs1  (groups adfs, windows)
    EMS_WINDOWS_ADFS2  -> adfs2  (groups adfs, windows)
    EMS_WINDOWS_WAP    -> wap    (groups wap, windows)
    EMS_WINDOWS_SYNC   -> sync   (groups aad_connect, windows)

With none set the groups are empty: every play of the scenario then matches no host.
Connection: WinRM over HTTPS (5986) with certificate validation, NTLM or Kerberos. The password
is not read here: the inventory holds a lookup that Ansible resolves when it connects, so it
never appears in `ansible-inventory --list` output.
"""

from __future__ import annotations

import json
import os
import sys

HOSTS = {  # inventory host -> (variable, group)
    "dc": ("EMS_WINDOWS_DC", "domain_controllers"),
    "adfs1": ("EMS_WINDOWS_ADFS1", "adfs"),
    "adfs2": ("EMS_WINDOWS_ADFS2", "adfs"),
    "wap": ("EMS_WINDOWS_WAP", "wap"),
    "sync": ("EMS_WINDOWS_SYNC", "aad_connect"),
    "rms1": ("EMS_WINDOWS_RMS1", "rms_connector"),
    "rms2": ("EMS_WINDOWS_RMS2", "rms_connector"),
    "exchange": ("EMS_WINDOWS_EXCHANGE", "exchange_servers"),
    "iec": ("EMS_WINDOWS_IEC", "exchange_connector"),
}
GROUPS = ("domain_controllers", "adfs", "wap", "aad_connect", "rms_connector", "exchange_servers",
          "exchange_connector")


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, "").strip() or default


def connection_vars() -> dict:
    transport = env("EMS_WINDOWS_TRANSPORT", "ntlm").lower()
    if transport not in ("ntlm", "kerberos"):
        sys.exit(f"EMS_WINDOWS_TRANSPORT={transport!r}: use ntlm or kerberos")
    cvars = {
        "ansible_connection": "winrm",
        "ansible_port": int(env("EMS_WINDOWS_PORT", "5986")),
        "ansible_winrm_scheme": "https",
        "ansible_winrm_transport": transport,
        "ansible_winrm_server_cert_validation": "validate",
        "ansible_user": env("EMS_WINDOWS_USER"),
        "ansible_password": "{{ lookup('ansible.builtin.env', 'EMS_WINDOWS_PASSWORD') }}",
        "ansible_winrm_operation_timeout_sec": 60,
        "ansible_winrm_read_timeout_sec": 90,
    }
    if env("EMS_WINDOWS_CA_FILE"):
        cvars["ansible_winrm_ca_trust_path"] = env("EMS_WINDOWS_CA_FILE")
    return cvars


def inventory() -> dict:
    hosts = {name: env(var) for name, (var, _group) in HOSTS.items() if env(var)}
    data: dict = {
        "_meta": {"hostvars": {name: {"ansible_host": address} for name, address in hosts.items()}},
        "windows": {"children": list(GROUPS), "vars": connection_vars() if hosts else {}},
    }
    for group in GROUPS:
        data[group] = {"hosts": [name for name in hosts if HOSTS[name][1] == group]}
    return data


def main(argv: list[str]) -> int:
    if len(argv) > 1 and argv[1] == "--host":
        print("{}")
        return 0
    print(json.dumps(inventory(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
