"""ems.enable.adfs: argument specs, defaults, README and task files stay in step.

The role has three entry points (main, proxy, verify) whose shared options must be identical; the
README's variable table and defaults/main.yml must list the same variables with the same defaults;
every task file, PowerShell script and cmdlet the role uses must exist and be cited.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "adfs"
SPECS = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
README = (ROLE / "README.md").read_text()
#: Required in main/proxy, optional in verify (the served certificate is compared when a PFX is given).
VERIFY_OPTIONAL = {"adfs_certificate_pfx_path", "adfs_certificate_pfx_password"}
POWERSHELL = sorted([*ROOT.glob("plugins/modules/adfs_*.ps1"), ROOT / "plugins" / "modules" / "web_application_proxy.ps1",
                     ROOT / "plugins" / "module_utils" / "adfs" / "AdfsDeployment.psm1", *ROLE.glob("files/*.ps1")])


def all_options():
    merged = {}
    for entry, spec in SPECS.items():
        for name, option in spec["options"].items():
            merged.setdefault(name, {})[entry] = option
    return merged


def test_entry_points():
    assert set(SPECS) == {"main", "proxy", "verify", "federation"}
    for entry in SPECS:
        assert (ROLE / "tasks" / f"{entry}.yml").exists()
        assert SPECS[entry]["short_description"]


@pytest.mark.parametrize("name", sorted(all_options()))
def test_shared_options_are_identical(name):
    per_entry = all_options()[name]
    variants = {entry: opt for entry, opt in per_entry.items() if not (entry == "verify" and name in VERIFY_OPTIONAL)}
    first = next(iter(variants.values()))
    for entry, option in variants.items():
        assert option == first, f"{name} differs in entry point {entry}"


@pytest.mark.parametrize("name", sorted(all_options()))
def test_option_is_documented_and_typed(name):
    for entry, option in all_options()[name].items():
        assert option.get("type"), f"{entry}.{name}: no type"
        assert option.get("description"), f"{entry}.{name}: no description"
        assert name.startswith("adfs_"), "role variables carry the role prefix"


def test_defaults_match_the_specs():
    options = all_options()
    required = {n for n, per in options.items() if any(o.get("required") for o in per.values())}
    optional = set(options) - required
    assert set(DEFAULTS) == optional, "defaults/main.yml must define exactly the optional variables"
    for name in optional:
        for entry, option in options[name].items():
            assert option.get("default") == DEFAULTS[name], f"{entry}.{name}: spec default != defaults/main.yml"
    for name in required:
        assert name not in DEFAULTS, f"{name} is required: a default would hide a missing value"


def test_readme_lists_every_variable_with_its_entry_points():
    rows = dict(re.findall(r"^\| `(adfs_[a-z0-9_]+)` \| ([a-z, ]+) \|", README, re.M))
    options = all_options()
    assert set(rows) == set(options)
    for name, per in options.items():
        assert set(rows[name].split(", ")) == set(per), name


def test_secrets_are_no_log_and_named_in_the_readme():
    secrets = {n for n, per in all_options().items() if any(o.get("no_log") for o in per.values())}
    assert secrets == {"adfs_certificate_pfx_password", "adfs_service_account_password", "adfs_install_password",
                       "adfs_directory_password", "adfs_proxy_trust_password", "adfs_backup_password"}
    secret_section = README.split("Secrets (`no_log`", 1)[1].split("\n\n", 1)[0]
    for name in secrets:
        assert f"`{name}`" in secret_section


def test_task_files_and_scripts_exist():
    for task_file in (ROLE / "tasks").glob("*.yml"):
        text = task_file.read_text()
        for target in re.findall(r"import_tasks: ([\w.]+)", text):
            assert (ROLE / "tasks" / target).exists(), f"{task_file.name}: {target}"
        for script in re.findall(r"lookup\('ansible\.builtin\.file', '([^']+)'\)", text):
            assert (ROLE / "files" / script).exists(), f"{task_file.name}: {script}"


def test_tasks_that_handle_a_secret_are_no_log():
    # A use of the value inside a template, not a test of its length ("x | length > 0").
    secret_uses = [r"\b" + name + r"\b(?!\s*\|\s*length)" for name in (
        "adfs_certificate_pfx_password", "adfs_service_account_password", "adfs_install_password",
        "adfs_directory_password", "adfs_proxy_trust_password", "adfs_backup_password")]
    secret_uses += [r"__adfs_ldap\.password", r"\badfs_ldap\b(?!\s*\|\s*length)"]
    for task_file in (ROLE / "tasks").glob("*.yml"):
        for task in _tasks(yaml.safe_load(task_file.read_text()) or []):
            own = {k: v for k, v in task.items() if k not in ("name", "when", "vars", "block", "rescue", "always")}
            templates = " ".join(re.findall(r"\{\{.*?\}\}", yaml.safe_dump(own, width=10000), re.S))
            used = [p for p in secret_uses if re.search(p, templates)]
            if used:
                assert task.get("no_log"), f"{task_file.name}: task {task.get('name')!r} uses {used} without no_log"


def _tasks(items):
    for item in items:
        yield item
        for key in ("block", "rescue", "always"):
            yield from _tasks(item.get(key) or [])


def test_every_cmdlet_used_is_cited_in_the_readme():
    sources = README.split("## Microsoft sources", 1)[1]
    cmdlet = re.compile(r"\b(?:Get|Set|Add|Install|Uninstall|Backup|Resolve|New|Import|Test|ConvertTo)-[A-Z][A-Za-z]+\b")
    own = re.compile(r"-Ems[A-Z]")
    missing = set()
    for path in POWERSHELL:
        code = "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("#"))
        for name in cmdlet.findall(code):
            if own.search(name) or name in ("Add-CSharpType",):
                continue
            if name not in sources:
                missing.add(f"{path.name}: {name}")
    assert not missing, "cmdlets without a Microsoft source in README.md: " + ", ".join(sorted(missing))


def test_every_powershell_call_site_cites_learn():
    """A Learn link (or the role README's sources table, for the role's scripts) next to the calls."""
    for path in POWERSHELL:
        assert "learn.microsoft.com" in path.read_text(), path.name


def test_firewall_rules_are_the_network_roles_rules():
    """Same lookup, same network_* settings as roles/network: the two roles render identical rules."""
    task = yaml.safe_load((ROLE / "tasks" / "firewall.yml").read_text())[0]
    loop = task["loop"]
    assert "query('ems.enable.network_plan', 'firewall_rules'" in loop
    network_defaults = yaml.safe_load((ROOT / "roles" / "network" / "defaults" / "main.yml").read_text())
    for variable in ("network_features", "network_peer_addresses", "network_firewall_rule_prefix",
                     "network_firewall_group", "network_firewall_profiles"):
        assert variable in loop, variable
        if variable in network_defaults and not isinstance(network_defaults[variable], (list, dict)):
            assert "default('%s')" % network_defaults[variable] in loop, variable
    assert "default(%s)" % network_defaults["network_firewall_profiles"] in loop.replace('"', "'")
    for key in ("name", "group", "description", "direction", "action", "enabled", "protocol", "profiles",
                "localport", "remoteport", "remoteip"):
        assert "item.%s" % key in str(task["community.windows.win_firewall_rule"][key])


def _adfs_tasks(name):
    return yaml.safe_load((Path(__file__).resolve().parents[3] / "roles" / "adfs" / "tasks" / name).read_text())


def test_become_stays_on_with_an_install_credential():
    """Issue 19 finding 4: -Credential does not replace become (the WinRM logon has no second hop)."""
    tasks = _adfs_tasks("farm.yml")
    fact = next(t for t in tasks if "__adfs_become" in t.get("ansible.builtin.set_fact", {}))
    assert "install_username" not in fact["ansible.builtin.set_fact"]["__adfs_become"]
    assert fact["ansible.builtin.set_fact"]["__adfs_become_user"] == "{{ ansible_become_user | default('SYSTEM') }}"
    cmdlets = [t for t in tasks if {"ems.enable.adfs_farm", "ems.enable.adfs_farm_node"} & set(t)
               and not t.get("check_mode")]
    assert len(cmdlets) == 2
    for task in cmdlets:
        assert task["become"] == "{{ __adfs_become }}" and task["become_user"] == "{{ __adfs_become_user }}"


def test_rsat_module_is_installed_on_the_directory_host_by_delegation():
    """Issue 19 finding 5: adfs_directory_host is never a host of the play: the task delegates to it."""
    task = next(t for t in _adfs_tasks("install.yml") if t.get("ansible.windows.win_feature", {}).get("name") == "RSAT-AD-PowerShell")
    assert task["delegate_to"] == "{{ adfs_directory_host }}" and task["run_once"] is True
    assert not any("inventory_hostname" in str(c) for c in task["when"])
