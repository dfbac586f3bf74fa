"""aad_connect: the role's documentation, defaults and modules stay in step with their sources.

- (README's variable section is generated from the specs: scripts/role-docs, tests/unit/test_role_docs.py);
- defaults/main.yml holds the argument spec's defaults (and nothing else);
- the forest level choices are the level table's keys (ad_levels.LEVEL_KEYS);
- each PowerShell module's options (its $spec) are the options its .yml documentation lists
  (ansible-test's validate-modules cannot run the .ps1 files without pwsh);
- molecule's verify reads the TLS values from the role, not a copy.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ansible_collections.ems.enable.plugins.module_utils.ad.levels import LEVEL_KEYS

ROOT = Path(__file__).resolve().parents[2]
ROLE = ROOT / "roles" / "aad_connect"
SPECS = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]
OPTIONS = SPECS["main"]["options"]
MODULES = ["aad_connect_info", "aad_connect_permissions", "aad_connect_sync"]


def test_every_entry_point_takes_the_same_options():
    assert set(SPECS) == {"main", "assess", "verify"}
    for entry in ("assess", "verify"):
        assert SPECS[entry]["options"] == OPTIONS
        assert (ROLE / "tasks" / (entry + ".yml")).exists()


def test_defaults_match_the_argument_spec():
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    assert set(defaults) <= set(OPTIONS), set(defaults) - set(OPTIONS)
    for name, spec in OPTIONS.items():
        if "default" not in spec:
            assert name not in defaults, name  # no default: must stay undefined (mutually exclusive, required)
            continue
        if name == "aad_connect_minimum_forest_level":
            assert defaults[name] == "{{ ems_minimum_forest_level | default('2008') }}"
            assert spec["default"] == "2008"
        else:
            assert defaults[name] == spec["default"], name


def test_forest_level_choices_are_the_level_table():
    assert OPTIONS["aad_connect_minimum_forest_level"]["choices"] == LEVEL_KEYS


def ps_spec_options(path):
    """Top-level option names of a module's `$spec = @{ options = @{ ... } }`."""
    text = path.read_text()
    block = text.split("options = @{", 1)[1]
    names, depth = [], 1
    for line in block.splitlines()[1:]:
        if depth == 1:
            match = re.match(r"^\s+(\w+) = @\{", line)
            if match:
                names.append(match.group(1))
        depth += line.count("@{") + line.count("{") - line.count("@{") - line.count("}")
        if depth <= 0:
            break
    return names


@pytest.mark.parametrize("module", MODULES)
def test_powershell_module_options_match_its_documentation(module):
    doc = yaml.safe_load((ROOT / "plugins" / "modules" / (module + ".yml")).read_text())
    documented = doc["DOCUMENTATION"]["options"]
    assert sorted(ps_spec_options(ROOT / "plugins" / "modules" / (module + ".ps1"))) == sorted(documented)
    assert doc["DOCUMENTATION"]["module"] == module
    assert doc["DOCUMENTATION"]["attributes"]["check_mode"]["support"] == "full"
    yaml.safe_load(doc["EXAMPLES"])


def test_azure_environment_choices_agree():
    doc = yaml.safe_load((ROOT / "plugins" / "modules" / "aad_connect_info.yml").read_text())
    assert (doc["DOCUMENTATION"]["options"]["azure_environment"]["choices"]
            == OPTIONS["aad_connect_azure_environment"]["choices"])


def test_molecule_verify_reads_the_tls_values_of_the_role():
    role_values = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())["__aad_connect_tls12_values"]
    assert len(role_values) == 8
    verify = (ROOT / "molecule" / "windows" / "tests" / "test_aad_connect.py").read_text()
    assert "roles/aad_connect/vars/main.yml" in verify or "roles\" / \"aad_connect\"" in verify
