"""The Intune unit tests' Graph stand-in (tests/graph/standin.py, every request and response validated
against the pinned slices): started per test, and the test fails when anything broke the contract."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[5] / "tests" / "graph"))

import standin_fixture  # noqa: E402


@pytest.fixture()
def stand(tmp_path):
    server = standin_fixture.started(tmp_path, standin_fixture.CLIENT)
    yield server
    standin_fixture.stopped_clean(server)
