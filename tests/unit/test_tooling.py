"""The test tooling itself: CI runs the same command as people do, and the stages stay wired up."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
STAGES = ["lint", "sanity", "units", "integration", "molecule", "build", "install", "docs", "changelog"]


@pytest.mark.parametrize("suite_rc, fresh_rc", [(0, 0), (1, 0), (0, 1), (1, 1)])
def test_ci_runs_the_suite_then_the_fresh_machine_check_and_fails_if_either_fails(tmp_path, suite_rc, fresh_rc):
    """.ci/run in a copy whose scripts/test and scripts/fresh-check are stand-ins with set exit codes."""
    (tmp_path / ".ci").mkdir()
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / ".ci" / "run", tmp_path / ".ci" / "run")
    for name, rc in (("test", suite_rc), ("fresh-check", fresh_rc)):
        stub = tmp_path / "scripts" / name
        stub.write_text('#!/bin/sh\necho "%s $*" >> "$(dirname "$0")/../calls"\nexit %d\n' % (name, rc))
        stub.chmod(0o755)
    proc = subprocess.run(["bash", str(tmp_path / ".ci" / "run")], capture_output=True, text=True, timeout=30,
                          check=False)
    assert (tmp_path / "calls").read_text().splitlines() == ["test ", "fresh-check --short"]
    assert proc.returncode == (0 if suite_rc == fresh_rc == 0 else 1)
    failed = (suite_rc != 0) + (fresh_rc != 0)
    assert proc.stdout.splitlines()[-1] == "%d passed, %d failed" % (2 - failed, failed)


def test_readme_setup_block_is_the_two_commands_fresh_check_and_ci_run():
    out = subprocess.run([str(ROOT / "scripts" / "readme-block"), "setup"], check=True, capture_output=True,
                         text=True, timeout=30).stdout.splitlines()
    assert out == ["./scripts/lab-assess", "./scripts/test"]
    assert "./scripts/test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_customer_block_installs_ansible_the_requirements_and_the_tarball_offline():
    out = subprocess.run([str(ROOT / "scripts" / "readme-block"), "customer-install"], check=True,
                         capture_output=True, text=True, timeout=30).stdout
    assert "pip install 'ansible==" in out
    assert "pip install -r requirements.txt" in out
    assert re.search(r"ansible-galaxy collection install --offline .*ems-enable-\*\.tar\.gz", out)
    for package in ("libldap2-dev", "libsasl2-dev", "libkrb5-dev"):  # python-ldap and gssapi compile
        assert package in out
    cfg = subprocess.run([str(ROOT / "scripts" / "readme-block"), "customer-ansible-cfg", "ini"], check=True,
                         capture_output=True, text=True, timeout=30).stdout
    assert "stdout_callback = ems.enable.onboarding" in cfg
    assert "report_dir = " in cfg


def test_readme_block_fails_for_a_missing_block():
    proc = subprocess.run([str(ROOT / "scripts" / "readme-block"), "no-such-marker"], check=False,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1 and "no ```bash block" in proc.stderr


def _pins():
    pins = {}
    for line in (ROOT / "requirements-dev.lock").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line)
        if m:
            pins[canonicalize_name(m.group(1))] = m.group(2)
    return pins


def test_lock_pins_every_requirement_within_its_range():
    """requirements-dev.lock (scripts/lock) is in step with requirements.txt and requirements-dev.txt."""
    pins = _pins()
    checked = 0
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if not line or line.startswith("-r"):
                continue
            req = Requirement(line)
            key = canonicalize_name(req.name)
            assert key in pins, "%s (%s) is not in requirements-dev.lock: run scripts/lock" % (req.name, name)
            assert req.specifier.contains(pins[key], prereleases=True), (
                "%s==%s in requirements-dev.lock is outside %s of %s: run scripts/lock" % (
                    req.name, pins[key], req.specifier, name))
            checked += 1
    assert checked >= 15


def test_cryptography_stays_below_the_release_that_makes_ansible_warn():
    # cryptography 51 deprecates DSA; ansible-core 2.19 imports it and prints a 221-column warning
    assert int(_pins()["cryptography"].split(".")[0]) < 51


def test_scripts_test_lists_the_stages_in_order():
    out = subprocess.run(
        ["bash", str(ROOT / "scripts" / "test"), "--list"],
        check=True, capture_output=True, text=True, timeout=30,
    ).stdout.split()
    assert out == STAGES


def test_scripts_test_refuses_an_unknown_stage():
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "test"), "no-such-stage"],
        check=False, capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode == 2
    assert "unknown stage" in proc.stderr


def test_every_stage_has_a_function():
    text = (ROOT / "scripts" / "test").read_text(encoding="utf-8")
    for stage in STAGES:
        assert re.search(rf"^stage_{stage}\(\) {{", text, re.M), stage


def test_scripts_are_executable():
    for path in ("scripts/test", "scripts/bootstrap", ".ci/run", "scripts/fresh-check", "scripts/lock",
                 "scripts/readme-block", "scripts/lab-assess"):
        assert os.access(ROOT / path, os.X_OK), path


def test_molecule_scenarios_do_not_reach_for_galaxy():
    # prerun would install galaxy.yml dependencies from Galaxy, which CI cannot reach
    for scenario in ("lab", "windows"):
        config = yaml.safe_load((ROOT / "molecule" / scenario / "molecule.yml").read_text(encoding="utf-8"))
        assert config.get("prerun") is False, scenario
        assert config.get("dependency", {}).get("enabled", True) is False, scenario


TENANT_ENV = ("EMS_TENANT_ID", "EMS_TENANT_CLIENT_ID", "EMS_TENANT_CERT", "EMS_FEDERATION_DOMAIN", "EMS_SSO_TEST_USER",
              "EMS_SSO_TEST_PASSWORD", "EMS_ADFS_FS_NAME", "EMS_WINDOWS_DC", "EMS_WINDOWS_ADFS1")


def _playbook(*args):
    env = {k: v for k, v in os.environ.items() if k not in TENANT_ENV}
    return subprocess.run(["ansible-playbook", "-i", "localhost,", *args], capture_output=True, text=True,
                          timeout=120, check=False, cwd=str(ROOT), env=env)


def test_molecule_windows_federation_steps_are_wired_and_skip_cleanly_without_a_tenant():
    """converge.yml imports converge_federation.yml (so `molecule syntax -s windows` checks it); verify_federation.yml,
    run by tests/test_federation.py, passes --syntax-check; without the tenant variables both runs stay green and
    name every missing variable in one SKIPPED line."""
    converge = yaml.safe_load((ROOT / "molecule" / "windows" / "converge.yml").read_text(encoding="utf-8"))
    assert "converge_federation.yml" in [p.get("ansible.builtin.import_playbook") for p in converge]
    assert _playbook("--syntax-check", "molecule/windows/verify_federation.yml").returncode == 0
    for playbook, words in (("converge_federation.yml", "SKIPPED molecule windows federation:"),
                            ("verify_federation.yml", "SKIPPED molecule windows SSO test:")):
        done = _playbook("molecule/windows/" + playbook)
        text = " ".join(done.stdout.split())
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
        assert words in text and "EMS_TENANT_ID" in text and "EMS_TENANT_CERT" in text, text[-2000:]
    verify_test = (ROOT / "molecule" / "windows" / "tests" / "test_federation.py").read_text(encoding="utf-8")
    assert "skipif" in verify_test and "EMS_SSO_TEST_PASSWORD" in verify_test
