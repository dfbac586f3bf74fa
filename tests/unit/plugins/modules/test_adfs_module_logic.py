"""The AD FS modules' decisions of issue 19 (findings 2 and 3), read from their syntax tree.

No pwsh here: these tests pin the structure the fixes rely on, so a later edit that drops one fails.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("tree_sitter_pwsh")

ROOT = Path(__file__).resolve().parents[4]


def source(name: str) -> str:
    found = sorted(p for p in (ROOT / "plugins").rglob(name))
    assert found, name
    return found[0].read_text()


def function_body(text: str, name: str) -> str:
    start = text.index("Function %s {" % name)
    end = text.find("\nFunction ", start + 1)
    return text[start:end if end > 0 else len(text)]


@pytest.mark.parametrize("module,role", [("adfs_farm.ps1", "FederationServer"),
                                         ("adfs_farm_node.ps1", "FederationServer"),
                                         ("web_application_proxy.ps1", "Proxy")])
def test_state_after_a_change_is_read_without_losing_reboot_required(module, role):
    """Finding 2: after the deployment cmdlet, the state is read through Get-EmsStateAfterChange."""
    text = source(module)
    tail = text[text.index("Assert-EmsDeploymentResult -Module"):]
    assert "Get-EmsStateAfterChange -Module $module -Role %s" % role in tail
    assert "= Get-EmsAdfsServerState" not in tail and "= Get-EmsProxyState" not in tail
    if role == "FederationServer":
        assert tail.index("reboot_required = $true") < tail.index("Get-EmsStateAfterChange")


def test_state_after_change_turns_a_failed_read_into_a_warning():
    body = function_body(source("AdfsDeployment.psm1"), "Get-EmsStateAfterChange")
    assert re.search(r"try \{.*Get-EmsAdfsServerState.*\}\s*catch \{.*\$Module\.Warn\(", body, re.S)
    assert "FailJson" not in body and not re.search(r"^\s*throw\b", body, re.M)


def test_server_state_waits_for_the_delayed_start_service_first():
    text = source("AdfsDeployment.psm1")
    body = function_body(text, "Get-EmsAdfsServerState")
    assert body.index("$null = Wait-EmsAdfsService") < body.index("Get-AdfsProperties -ErrorAction Stop")
    wait = function_body(text, "Wait-EmsAdfsService")
    assert "WaitForStatus('Running', [TimeSpan]::FromSeconds($TimeoutSeconds))" in wait
    assert not re.search(r"^\s*throw\b", wait, re.M)


def test_primary_role_refusal_applies_to_wid_farms_only():
    """Finding 3: Role PrimaryComputer refuses a rerun only on a WID farm."""
    text = source("adfs_farm_node.ps1")
    conditions = re.findall(r"if \((.*sync_role -eq 'PrimaryComputer'.*)\) \{", text)
    assert conditions == ["$state.sync_role -eq 'PrimaryComputer' -and $state.configuration_database -eq 'wid'"]
    kind = function_body(source("AdfsDeployment.psm1"), "ConvertTo-EmsDatabaseKind")
    pattern = re.search(r"-match '([^']+)'", kind).group(1)
    assert re.search(pattern, r"Data Source=np:\\.\pipe\MICROSOFT##WID\tsql\query;Initial Catalog=AdfsConfigurationV4")
    assert not re.search(pattern, "Data Source=sql01.corp.example.com;Initial Catalog=AdfsConfigurationV4")
