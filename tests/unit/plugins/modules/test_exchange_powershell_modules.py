"""The Exchange PowerShell modules (exchange_management_role, exchange_irm_configuration): their
Ansible.Basic spec - including the session options of module_utils/connectors/ExchangeSession.psm1 they merge in -
agrees with their .yml documentation, and every Exchange cmdlet they call is cited (Learn link in a
comment next to the call, or in the module's header).

No pwsh here, so ansible-test's validate-modules cannot compare a .ps1 spec with its doc.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[4]
MODULES = ["exchange_management_role", "exchange_irm_configuration"]
OPTION = re.compile(r"^\s{8}(\w+) = @\{ (.*) \}\s*$", re.M)
SESSION = ROOT / "plugins/module_utils/connectors/ExchangeSession.psm1"


def ps_value(text):
    text = text.strip()
    if text in ("$true", "$false"):
        return text == "$true"
    values = [v.strip().strip("'") for v in text.split(",")]
    return values if len(values) > 1 else values[0]


def options(source):
    found = {}
    for option, body in OPTION.findall(source):
        fields = {}
        for part in body.split(";"):
            key, _sep, value = part.partition("=")
            fields[key.strip()] = ps_value(value)
        found[option] = fields
    return found


def ps_spec(name):
    source = (ROOT / "plugins" / "modules" / f"{name}.ps1").read_text()
    spec = options(source.split("supports_check_mode")[0])
    if "Get-EmsExchangeSessionSpec" in source:
        spec.update(options(SESSION.read_text().split("Function Connect-EmsExchangeSession")[0]))
    return source, spec


@pytest.mark.parametrize("name", MODULES)
def test_spec_matches_documentation(name):
    source, spec = ps_spec(name)
    doc = yaml.safe_load((ROOT / "plugins" / "modules" / f"{name}.yml").read_text())["DOCUMENTATION"]
    assert doc["module"] == name
    assert set(spec) == set(doc["options"]), name
    for option, fields in spec.items():
        docs = doc["options"][option]
        assert docs.get("type", "str") == fields.get("type", "str"), f"{name}.{option}: type"
        assert bool(docs.get("required", False)) == bool(fields.get("required", False)), f"{name}.{option}: required"
        assert docs.get("default") == fields.get("default"), f"{name}.{option}: default"
        choices = fields.get("choices")
        assert docs.get("choices") == (choices if choices is None or isinstance(choices, list) else [choices])
        if fields.get("no_log"):
            assert "password" in option
    assert "supports_check_mode = $true" in source
    assert "#AnsibleRequires -CSharpUtil Ansible.Basic" in source
    assert doc["attributes"]["check_mode"]["support"] == "full"


@pytest.mark.parametrize("name", MODULES + ["ExchangeSession"])
def test_every_cmdlet_call_is_cited(name):
    path = SESSION if name == "ExchangeSession" else ROOT / "plugins" / "modules" / f"{name}.ps1"
    lines = path.read_text().splitlines()
    cmdlet = re.compile(r"\b((?:Get|Set|New|Add|Remove|Import)-(?:ManagementRole\w*|IRMConfiguration|PSSession|Module))\b")
    for number, line in enumerate(lines):
        if line.lstrip().startswith("#"):
            continue
        for match in cmdlet.findall(line):
            if match in ("Get-ManagementRole",) and "Get-ManagementRole -ErrorAction Stop" in line:
                continue  # listing all roles: cited with the other Get-ManagementRole call
            if match == "Import-Module" and "Import-Module" not in line.split("#")[0]:
                continue
            context = "\n".join(lines[max(0, number - 4):number])
            header = "\n".join(lines[:40])
            assert match.lower() in context.lower() or match.lower() in header.lower(), (name, number + 1, match)
            assert "learn.microsoft.com" in context or match in header, (name, number + 1, match)


def test_exchange_session_checks_the_host_and_builds_the_uri_from_parts():
    """Issue 13: exchange_server is one host (Uri.CheckHostName: Dns, IPv4 or IPv6), refused with a line naming
    the option otherwise, and the connection URI comes from UriBuilder, never from splicing the value into a
    string (a value with a path or a second URL would otherwise reach New-PSSession)."""
    source = SESSION.read_text(encoding="utf-8")
    code = "\n".join(line.split("#", 1)[0] for line in source.splitlines())  # comments out
    assert not re.search(r'"https?://\$', code), "the URI is spliced from a string"
    check = code.index("[System.Uri]::CheckHostName($server)")
    refuse = code.index("exchange_server: '{0}' is not a host name")
    build = code.index("System.UriBuilder")
    session = code.index("ConnectionUri = $uri")
    assert check < refuse < build < session  # checked and refused before the URI exists or is used
    for kind in ("Dns", "IPv4", "IPv6"):
        assert "[System.UriHostNameType]::%s" % kind in code
