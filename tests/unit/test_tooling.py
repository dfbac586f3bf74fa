"""The test tooling itself: CI runs the same command as people do, and the stages stay wired up."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
STAGES = ["lint", "sanity", "units", "integration", "molecule", "build", "docs", "changelog"]


def test_ci_runs_scripts_test_and_keeps_its_exit_code():
    text = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert any(re.search(r"^exec \./scripts/test\b", line) for line in commands), commands
    assert "set -uo pipefail" in text


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
    for path in ("scripts/test", "scripts/bootstrap", ".ci/run"):
        assert os.access(ROOT / path, os.X_OK), path


def test_molecule_scenarios_do_not_reach_for_galaxy():
    # prerun would install galaxy.yml dependencies from Galaxy, which CI cannot reach
    for scenario in ("lab", "windows"):
        config = yaml.safe_load((ROOT / "molecule" / scenario / "molecule.yml").read_text(encoding="utf-8"))
        assert config.get("prerun") is False, scenario
        assert config.get("dependency", {}).get("enabled", True) is False, scenario
