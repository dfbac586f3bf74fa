"""pytest setup for the integration tests: one real Samba AD lab per session.

The session-scoped ``lab`` fixture starts STANDARD_LAB (tests/lab/emslab.py) once, in a fresh
state dir under /tmp, and always removes it again: at the end of the session, when a test fails,
on Ctrl-C and on SIGTERM (turned into KeyboardInterrupt so pytest runs its finalizers). A lab
left behind by a run that was killed hard (SIGKILL) is removed by the next run. Without root or
without Samba the lab tests are skipped with the reason, except where the lab is required
(``CI=true`` or ``EMS_REQUIRE_LAB=1``, which scripts/test sets): there they fail, so a green run
always means the lab ran.

``lab.run(cmd)`` runs a command in the lab's controller namespace (lab DNS, hosts, Kerberos)
with the project environment (scripts/env: .venv/bin first on PATH, ANSIBLE_CONFIG,
ANSIBLE_COLLECTIONS_PATH) plus EMSLAB_STATE, and returns a CompletedProcess (returncode,
stdout, stderr as text). ``lab_run`` is the same as a fixture; ``project_env()`` gives the
variables.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "lab"))

import emslab  # noqa: E402  (tests/lab is not a package)
from connector_play import ConnectionCounter  # noqa: E402
import readiness_defects  # noqa: E402

#: The suite's standard lab: legacy (2003), f2008 (2008), corp (2008_R2, 2 DCs, schema 2019,
#: objectVersion 88), partner (2008_R2), forest trust corp <-> partner. See emslab.STANDARD_LAB.
STANDARD_LAB = emslab.STANDARD_LAB
#: Expected forestFunctionality per forest of the standard lab.
STANDARD_LEVELS = {f.name: emslab.LEVELS[f.level] for f in STANDARD_LAB.forests}

STATE_PREFIX = "emslab-pytest-"


def pytest_configure(config):
    config.addinivalue_line("markers", "integration: needs the Samba AD lab (root)")


def project_env() -> dict:
    """What `source scripts/env` sets, for commands run inside the lab."""
    venv_bin = ROOT / ".venv" / "bin"
    path = os.environ.get("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    if not path.startswith(str(venv_bin) + os.pathsep):
        path = f"{venv_bin}{os.pathsep}{path}"
    return {
        "EMS_ROOT": str(ROOT),
        "PATH": path,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".venv" / "collections"),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        # Runs of the test suite write their onboarding reports outside the working tree.
        "EMS_REPORT_DIR": os.environ.get("EMS_REPORT_DIR") or os.path.join(tempfile.gettempdir(), "ems-test-reports"),
    }


def _remove_orphaned_labs() -> None:
    """Labs of earlier pytest runs whose process is gone (killed hard): remove them. Labs of
    runs still alive (other people's sessions) are left alone."""
    for lab_json in Path(tempfile.gettempdir()).glob(STATE_PREFIX + "*/lab.json"):
        try:
            owner = int(json.loads(lab_json.read_text()).get("owner_pid", 0))
        except (OSError, ValueError):
            continue
        if owner and emslab._pid_alive(owner):
            continue
        emslab.Lab(lab_json.parent, log=lambda msg: None).down()


def lab_required() -> bool:
    """True in CI and under scripts/test: a lab that cannot start is a failure, not a skip."""
    return (os.environ.get("CI", "").lower() in ("1", "true", "yes")
            or os.environ.get("EMS_REQUIRE_LAB") == "1")


def check_lab_preflight() -> None:
    """Skip the calling fixture's tests when the lab cannot run here (no root, no Samba), or fail
    them where the lab is required (lab_required())."""
    problems = emslab.preflight()
    if not problems:
        return
    message = "Samba AD lab unavailable: " + "; ".join(problems)
    if lab_required():
        pytest.fail(message + " (the lab is required here: CI or EMS_REQUIRE_LAB=1)", pytrace=False)
    pytest.skip(message)


@contextlib.contextmanager
def seeded_readiness_lab(forest, tag, users=0, dcs=1):
    """A lab of its own with one forest seeded with IdFix defects (tests/lab/readiness_defects.py),
    always removed: the directory readiness and remediation tests."""
    check_lab_preflight()
    state = tempfile.mkdtemp(prefix=STATE_PREFIX + tag + "-")
    the_lab = emslab.Lab(state, env=project_env(), log=lambda msg: print(msg, file=sys.stderr))
    try:
        try:
            the_lab.up([emslab.ForestSpec(forest, "2008_R2", schema="2012_R2", users=users, dcs=dcs)])
            readiness_defects.seed(the_lab, forest, os.path.join(state, "seed"))
        except (emslab.LabError, RuntimeError) as exc:
            pytest.fail("the seeded forest did not start (logs in %s): %s" % (state, exc), pytrace=False)
        yield the_lab
    finally:
        the_lab.down()


@pytest.fixture(scope="session")
def lab():
    check_lab_preflight()
    _remove_orphaned_labs()
    state = tempfile.mkdtemp(prefix=STATE_PREFIX)
    the_lab = emslab.Lab(state, env=project_env(), log=lambda msg: print(msg, file=sys.stderr))

    done = False

    def teardown():
        nonlocal done
        if not done:
            done = True
            the_lab.down()

    def on_signal(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGHUP)}
    atexit.register(teardown)  # last resort, e.g. an exception outside pytest's control
    try:
        try:
            the_lab.up(**STANDARD_LAB.kwargs())
        except emslab.LabError as exc:
            done = True  # up() already removed namespaces and processes; keep the logs
            pytest.fail(f"the Samba AD lab did not start (logs in {state}): {exc}",
                        pytrace=False)
        print("\n" + the_lab.table(), file=sys.stderr)
        yield the_lab
    finally:
        teardown()
        atexit.unregister(teardown)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@pytest.fixture(scope="session")
def lab_run(lab):
    """``lab_run(cmd, **kw)``: lab.run with the project environment (CompletedProcess)."""
    def run(cmd, **kw):
        return lab.run(cmd, **kw)
    return run


@pytest.fixture(scope="module")
def counter():
    """A local TCP listener that counts connections: the WinRM address of the roles' test hosts
    (connector_play.ConnectionCounter); runs that fail before contacting a host leave it at 0."""
    listener = ConnectionCounter()
    yield listener
    listener.close()
