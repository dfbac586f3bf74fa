"""The AD FS PowerShell modules: their Ansible.Basic spec and their .yml documentation agree.

No pwsh here, so ansible-test's validate-modules cannot compare a .ps1 spec with its doc. This test
does, for the collection's AD FS modules: option names, type, required, default, choices, elements;
and checks each module declares check mode support, uses Ansible.Basic and cites Microsoft Learn.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[4]
MODULES = ["adfs_farm", "adfs_farm_node", "web_application_proxy", "adfs_endpoint_info"]
OPTION = re.compile(r"^\s{8}(\w+) = @\{ (.*) \}\s*$", re.M)


def ps_value(text):
    text = text.strip()
    if text in ("$true", "$false"):
        return text == "$true"
    if text.startswith("@(") and text.endswith(")"):
        inner = text[2:-1].strip()
        return [ps_value(v) for v in inner.split(",")] if inner else []
    if "," in text:
        return [ps_value(v) for v in text.split(",")]
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1]
    return ast.literal_eval(text)


def ps_spec(name):
    source = (ROOT / "plugins" / "modules" / f"{name}.ps1").read_text()
    options = {}
    for option, body in OPTION.findall(source.split("supports_check_mode")[0]):
        fields = {}
        for part in body.split(";"):
            key, _sep, value = part.partition("=")
            fields[key.strip()] = ps_value(value)
        options[option] = fields
    return source, options


@pytest.mark.parametrize("name", MODULES)
def test_spec_matches_documentation(name):
    source, spec = ps_spec(name)
    doc = yaml.safe_load((ROOT / "plugins" / "modules" / f"{name}.yml").read_text())
    documented = doc["DOCUMENTATION"]["options"]
    assert doc["DOCUMENTATION"]["module"] == name
    assert set(spec) == set(documented), name
    for option, fields in spec.items():
        docs = documented[option]
        assert docs.get("type", "str") == fields.get("type", "str"), f"{name}.{option}: type"
        assert bool(docs.get("required", False)) == bool(fields.get("required", False)), f"{name}.{option}: required"
        assert docs.get("default") == fields.get("default"), f"{name}.{option}: default"
        assert docs.get("choices") == fields.get("choices"), f"{name}.{option}: choices"
        assert docs.get("elements") == fields.get("elements"), f"{name}.{option}: elements"
        assert docs.get("description"), f"{name}.{option}: description"
    for option in re.findall(r"'(\w+)'", " ".join(re.findall(r"(?:mutually_exclusive|required_one_of|required_together) = @\((.*?)\n    \)?", source, re.S))):
        assert option in spec, f"{name}: {option} in a constraint but not an option"
    yaml.safe_load(doc["EXAMPLES"])
    assert doc["RETURN"]


@pytest.mark.parametrize("name", MODULES)
def test_module_conventions(name):
    source, spec = ps_spec(name)
    assert "#AnsibleRequires -CSharpUtil Ansible.Basic" in source
    assert "supports_check_mode = $true" in source
    assert "learn.microsoft.com" in source
    secrets = [o for o, f in spec.items() if "password" in o]
    for option in secrets:
        assert spec[option].get("no_log") is True, f"{name}.{option} must be no_log"
    doc = yaml.safe_load((ROOT / "plugins" / "modules" / f"{name}.yml").read_text())["DOCUMENTATION"]
    assert doc["attributes"]["check_mode"]["support"] == "full"


def test_parser_reads_a_spec_line():
    assert ps_value("'str'") == "str"
    assert ps_value("$true") is True
    assert ps_value("@(200)") == [200]
    assert ps_value("'https', 'http'") == ["https", "http"]
    assert ps_value("80") == 80
