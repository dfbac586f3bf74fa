"""pscheck (tests/pscheck): the PowerShell rules and the result contract, and the tree has no finding.

Each rule has code it must flag and code it must not. The pre-fix versions of the 18 places of issue
19 finding 1 (commit 8e55734, kept in fixtures/pscheck/pre_fix as .txt so no PowerShell tooling
picks them up) must all be flagged by PS001.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("tree_sitter_pwsh")

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from pscheck import check_all  # noqa: E402  pylint: disable=wrong-import-position
from pscheck.contract import check_roles, load_modules  # noqa: E402  pylint: disable=wrong-import-position
from pscheck.rules import check_source, powershell_files  # noqa: E402  pylint: disable=wrong-import-position

FIXTURES = Path(__file__).parent / "fixtures" / "pscheck"


def rules_of(code: str) -> list[tuple[int, str]]:
    return [(f.line, f.rule) for f in check_source(textwrap.dedent(code))]


FLAGGED = {
    "PS001": [
        '$m.FailJson(("{0}: {1}") -f $a, $b)',
        '$m.Warn(("{0}: a " +\n    "b {1}") -f\n    $a, $b)',
        '$Module.FailJson("{0}" -f $a, $_)',
    ],
    "PS002": [
        '$x = "{0} {1} {2}" -f $a, $b',
        '$x = ("{0} " + "{1}") -f "only"',
        '$m.FailJson(("{0}: {1}") -f $a, $b)',
    ],
    "PS003": [
        '$r = @($farm.FarmNodes | ForEach-Object { [string]$_ })',
        '$x.Names | % { $_ }',
        '$value | ForEach-Object { $_ }',
        '$o.GetNames() | foreach { $_ }',
    ],
    "PS004": [
        'Set-StrictMode -Version 2.0\n$t = @(Get-WebApplicationProxySslCertificate | ForEach-Object { $_.CertificateHash })',
        'Set-StrictMode -Version 2.0\n$c = Get-WebApplicationProxySslCertificate\n$h = $c.CertificateHash',
    ],
    "PS005": [
        'if ($a -eq $null) { }',
        '$b = $x.Items -ne $null',
        'if ($a -ieq $null) { }',
    ],
    "PS006": [
        '$x = $a ?? $b',
        '$x ??= 1',
        '$x = $a ? 1 : 2',
        'Get-Thing && Write-Output ok',
        'Get-Thing || throw "no"',
        '$x = $a?.Name',
        '$items | ForEach-Object -Parallel { $_ }',
    ],
}

CLEAN = {
    "PS001": [
        '$m.FailJson(("{0}: {1}" -f $a, $b))',
        '$m.FailJson((("{0}: {1}") -f $a, $b), $_)',
        '$m.Warn(("{0}" -f $a))',
        '$x = "{0} {1}" -f $a, $b',
        '$m.Method($a, $b)',
    ],
    "PS002": [
        '$x = "{0} {1}" -f $a, $b',
        '$x = "{0} {0}" -f $a',
        '$x = "{{0}} {0}" -f $a',
        '$x = "{0} {1}" -f $values',
        '$x = "{0:N2} {1,5}" -f $a, $b',
    ],
    "PS003": [
        'Get-ChildItem | ForEach-Object { $_ }',
        'foreach ($n in @($farm.FarmNodes)) { $n }',
        '@($x) | Where-Object { $_ } | ForEach-Object { $_ }',
        '$list = @()\n$list += 1\n$list | ForEach-Object { $_ }',
        '$dns.Split(".") | ForEach-Object { "DC=$_" }',
        '$x.Names | Sort-Object',
    ],
    "PS004": [
        '$t = @(Get-WebApplicationProxySslCertificate | ForEach-Object { $_.CertificateHash })',
        'Set-StrictMode -Version 2.0\n$t = @(Get-WebApplicationProxySslCertificate | ForEach-Object {\n'
        '  if ($_.PSObject.Properties.Name -contains "CertificateHash") { $_.CertificateHash } })',
        'Set-StrictMode -Version 2.0\n$t = @(Get-ChildItem | ForEach-Object { $_.Name })',
    ],
    "PS005": [
        'if ($null -eq $a) { }',
        'if ($a -eq 1) { }',
        'if ($a -gt $b) { }',
    ],
    "PS006": [
        '$x = if ($a) { 1 } else { 2 }',
        'Get-Thing; if ($?) { Write-Output ok }',
        '$x = $a.Name',
        '$items | ForEach-Object { $_ }',
        '$x = "a ? b : c"',
        '$x = "$($a)?.txt"',
    ],
}


@pytest.mark.parametrize("rule,code", [(r, c) for r, codes in FLAGGED.items() for c in codes])
def test_rule_flags(rule, code):
    assert rule in [r for _line, r in rules_of(code)], code


@pytest.mark.parametrize("rule,code", [(r, c) for r, codes in CLEAN.items() for c in codes])
def test_rule_does_not_flag(rule, code):
    assert rule not in [r for _line, r in rules_of(code)], code


def test_allow_marker_needs_a_reason_and_a_finding():
    code = '$x.Names | % { $_ }  # pscheck: allow PS003 -- Names is a string[] set above\n'
    assert rules_of(code) == []
    assert rules_of('# pscheck: allow PS003 -- Names is a string[]\n$x.Names | % { $_ }\n') == []
    assert [r for _line, r in rules_of('$x.Names | % { $_ }  # pscheck: allow PS003\n')] == ["PS003", "PS900"]
    assert rules_of('$y = 1  # pscheck: allow PS003 -- stale\n') == [(1, "PS900")]


#: Issue 19 finding 1: (file, line) of the 18 places, as they were at commit 8e55734.
PRE_FIX_SITES = [
    ("adfs_farm.ps1", 51), ("adfs_farm.ps1", 56),
    ("adfs_farm_node.ps1", 51), ("adfs_farm_node.ps1", 63), ("adfs_farm_node.ps1", 68), ("adfs_farm_node.ps1", 72),
    ("web_application_proxy.ps1", 46), ("web_application_proxy.ps1", 51),
    ("adfs_endpoint_info.ps1", 90), ("adfs_endpoint_info.ps1", 174), ("adfs_endpoint_info.ps1", 181),
    ("adfs_endpoint_info.ps1", 228),
    ("AdfsDeployment.psm1", 74), ("AdfsDeployment.psm1", 78), ("AdfsDeployment.psm1", 282),
    ("AdfsDeployment.psm1", 288), ("AdfsDeployment.psm1", 292),
    ("ExchangeSession.psm1", 91),
]


def test_pre_fix_sites_of_finding_1_are_all_flagged():
    assert len(PRE_FIX_SITES) == 18
    flagged = set()
    for name in {name for name, _line in PRE_FIX_SITES}:
        source = (FIXTURES / "pre_fix" / (name + ".txt")).read_bytes()
        flagged |= {(name, f.line) for f in check_source(source, name) if f.rule == "PS001"}
    assert sorted(flagged) == sorted(PRE_FIX_SITES)


def test_pre_fix_snippets_of_findings_8_are_flagged():
    findings = check_source((FIXTURES / "pre_fix" / "AdfsDeployment.psm1.txt").read_bytes())
    got = {(f.line, f.rule) for f in findings}
    assert {(175, "PS003"), (215, "PS003"), (219, "PS004")} <= got


def test_files_are_found_by_walking_plugins_and_roles():
    files = {p.relative_to(ROOT).as_posix() for p in powershell_files(ROOT)}
    assert any(p.endswith("AdfsDeployment.psm1") for p in files)
    assert any(p.startswith("roles/") and p.endswith(".ps1") for p in files)
    assert all(p.startswith(("plugins/", "roles/")) for p in files)


def _fake_collection(tmp_path: Path, read: str) -> Path:
    root = tmp_path / "coll"
    (root / "plugins" / "modules").mkdir(parents=True)
    (root / "plugins" / "module_utils" / "sub").mkdir(parents=True)
    (root / "plugins" / "modules" / "thing_info.ps1").write_text(
        "#!powershell\n#AnsibleRequires -PowerShell ansible_collections.x.y.plugins.module_utils.sub.Helper\n"
        "$module.Result.sync = @{ scheduler = @{ interval = 30 } }\n$module.Result.count = 1\n")
    (root / "plugins" / "module_utils" / "sub" / "Helper.psm1").write_text(
        "Function Set-It { param($Module) $Module.Result.extra = @{ note = 'x' } }\n")
    (root / "plugins" / "modules" / "thing_info.yml").write_text(textwrap.dedent("""\
        RETURN:
          sync:
            description: d
            returned: always
            type: dict
            contains:
              scheduler:
                description: d
                type: dict
                contains:
                  interval: {description: d, type: int}
          count: {description: d, returned: always, type: int}
          extra: {description: d, returned: always, type: dict}
        """))
    tasks = root / "roles" / "thing" / "tasks"
    tasks.mkdir(parents=True)
    (tasks / "main.yml").write_text(textwrap.dedent("""\
        - name: Read
          ems.enable.thing_info:
          register: __thing
        - name: Use
          ansible.builtin.assert:
            that: %s
        """) % read)
    return root


@pytest.mark.parametrize("read,expected", [
    ("__thing.sync.scheduler.interval == 30", []),
    ("__thing.count > 0 and __thing.changed is false", []),
    ("__thing.sync.scheduler.nextrun is none", ["RC001"]),
    ("__thing.sync['scheduler']['sync_cycle_enabled']", ["RC001"]),
    ("__thing.staging_mode", ["RC001"]),
    ("__thing.extra.note == 'x'", ["RC002"]),
])
def test_result_contract(tmp_path, read, expected):
    root = _fake_collection(tmp_path, read)
    findings = check_roles(root)
    assert [f.rule for f in findings] == expected, findings
    assert all(f.path == "roles/thing/tasks/main.yml" and f.line == 6 for f in findings)


def test_result_contract_flags_a_real_role_reading_an_unset_key(tmp_path):
    """A copy of the aad_connect role that reads a scheduler key aad_connect_info never sets."""
    role = tmp_path / "roles" / "aad_connect"
    shutil.copytree(ROOT / "roles" / "aad_connect", role)
    verify = role / "tasks" / "verify_checks.yml"
    verify.write_text(verify.read_text() + textwrap.dedent("""
        - name: Verify | A key nobody sets
          ansible.builtin.assert:
            that: __aad_connect_verify.scheduler.no_such_key_anywhere
        """))
    findings = check_roles(ROOT, load_modules(ROOT), roles=[role])
    new = [f.rule for f in findings if "no_such_key_anywhere" in f.message]
    assert new == ["RC001"], findings


def test_the_tree_has_no_finding():
    findings = check_all(ROOT)
    assert not findings, "\n" + "\n".join(str(f) for f in findings)


def test_cli_prints_findings_and_fails(tmp_path):
    bad = tmp_path / "bad.ps1"
    bad.write_text('$m.FailJson(("{0}: {1}") -f $a, $b)\n')
    run = subprocess.run([str(ROOT / "scripts" / "pscheck"), str(bad)], capture_output=True, text=True, check=False)
    assert run.returncode == 1
    assert "%s:1:13: PS001 " % bad in run.stdout
    listed = subprocess.run([str(ROOT / "scripts" / "pscheck"), "--list"], capture_output=True, text=True, check=True)
    assert "PS006" in listed.stdout and "RC001" in listed.stdout
