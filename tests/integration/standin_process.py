"""The Graph/login stand-in (tests/graph/standin.py) as a process in the lab's controller namespace, and the
inventory variables that point the collection's tenant options at it (shared by the tenant integration tests)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def current_log(work, timeout=10):
    """The stand-in's log.json as written after this call (it is rewritten every 0.5 s while the stand-in
    runs): every request made before the call is in it. Returns {"requests", "violations"}."""
    path = Path(work) / "log.json"
    since = time.time()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_mtime > since:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the stand-in did not rewrite %s within %d s" % (path, timeout))
    return json.loads(path.read_text())


def serve(lab, work, *extra):
    """A generator (a fixture's body): starts standin.py --dir WORK [extra] and yields {"info": ready.json, "dir"};
    stops it with SIGTERM afterwards (log.json then holds every request and violation)."""
    proc = subprocess.Popen(["ip", "netns", "exec", lab.ctl_netns, str(ROOT / ".venv" / "bin" / "python"),
                             str(ROOT / "tests" / "graph" / "standin.py"), "--dir", str(work), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready = Path(work) / "ready.json"
    for _attempt in range(100):
        if ready.exists() or proc.poll() is not None:
            break
        time.sleep(0.1)
    assert ready.exists(), proc.communicate(timeout=5)
    yield {"info": json.loads(ready.read_text()), "dir": Path(work)}
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


def tenant_inventory(tmp, info, **extra):
    """An inventory directory (ad_forests group_vars) with the ems_tenant_* variables of the stand-in, plus extra."""
    inv = Path(tmp) / "inv"
    (inv / "group_vars").mkdir(parents=True)
    (inv / "hosts.yml").write_text("all:\n  children:\n    ad_forests: {}\n")
    (inv / "group_vars" / "ad_forests.yml").write_text(json.dumps(dict({
        "ems_tenant_id": info["tenant_id"], "ems_tenant_client_id": info["client_id"],
        "ems_tenant_certificate_path": info["certificate_path"], "ems_tenant_authority_url": info["url"],
        "ems_tenant_graph_url": info["url"], "ems_tenant_ca_file": info["ca_file"]}, **extra)))
    return inv
