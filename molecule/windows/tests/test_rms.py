"""Verify of the RMS connector roles in the `windows` scenario (testinfra, ansible backend).

Read-only checks through the same WinRM connection as the playbooks:
- connector servers: the connector is installed (web.config of its web service) and
  /_wmcs/certification/servercertification.asmx answers on the server;
- Exchange servers: every registry value of plugins/module_utils/connectors/rms_connector_registry.yml for
  the server's kind is present with the rendered data.
A connector host whose install is still an attended step pending is skipped, saying so.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import testinfra.utils.ansible_runner
import yaml

INVENTORY = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
ROOT = Path(__file__).resolve().parents[3]
TABLE = ROOT / "plugins/module_utils/connectors/rms_connector_registry.yml"


def _hosts(group):
    try:
        return testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY).get_hosts(group)
    except RuntimeError:  # no inventory at all
        return []


CONNECTORS = _hosts("rms_connector")
EXCHANGE = _hosts("exchange_servers") if CONNECTORS else []
testinfra_hosts = [f"ansible://{name}?force_ansible=True" for name in CONNECTORS + EXCHANGE]
pytestmark = pytest.mark.skipif(
    not CONNECTORS, reason="no RMS connector host given (EMS_WINDOWS_RMS1 unset), see molecule/windows/README.md")

WEB_CONFIG = r"%ProgramFiles%\Microsoft Rights Management connector\Web Service\web.config"


def _groups(host):
    return host.ansible.get_variables()["group_names"]


def test_connector_installed_and_answering(host):
    if "rms_connector" not in _groups(host):
        pytest.skip("not a connector server")
    stat = host.ansible("ansible.windows.win_stat", json.dumps({"path": WEB_CONFIG}), check=False)["stat"]
    if not stat["exists"]:
        pytest.skip("attended step rms_connector.install still pending on this host")
    protocol = os.environ.get("EMS_RMS_PROTOCOL", "https") or "https"
    args = {"url": f"{protocol}://localhost/_wmcs/certification/servercertification.asmx",
            "use_default_credential": True, "validate_certs": False, "return_content": True}
    answer = host.ansible("ansible.windows.win_uri", json.dumps(args), check=False, become=True,
                          become_user="SYSTEM", become_method="runas")
    assert answer["status_code"] == 200 and "ServerCertificationWebService" in answer["content"]


def test_exchange_registry_values_from_the_table(host):
    if "exchange_servers" not in _groups(host):
        pytest.skip("not an Exchange server")
    kind = os.environ.get("EMS_RMS_EXCHANGE_KIND", "exchange_2016") or "exchange_2016"
    protocol = os.environ.get("EMS_RMS_PROTOCOL", "https") or "https"
    values = {"connector_url": "%s://%s" % (protocol, os.environ["EMS_RMS_CONNECTOR_NAME"].lower()),
              "tenant_url": os.environ["EMS_RMS_TENANT_URL"].rstrip("/")}
    for row in yaml.safe_load(TABLE.read_text())["rows"]:
        if kind not in row["kinds"]:
            continue
        name = row["name"].format(**values)
        result = host.ansible("ansible.windows.win_reg_stat", json.dumps({"path": row["path"], "name": name}),
                              check=False)
        assert result.get("exists"), row["id"]
        assert result.get("value") == row["data"].format(**values), row["id"]
