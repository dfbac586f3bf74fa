"""A started Graph stand-in with one registered app (the tests' usual set-up; issue 16)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import standin

CLIENT = "3f2a9c1e-7b6d-4e5f-8a9b-0c1d2e3f4a5b"


def started(workdir, client_id=CLIENT):
    """A running StandIn with ``client_id`` registered; ``app_cert`` is the app's certificate file."""
    server = standin.StandIn(workdir).start()
    path, cert, _key = standin.make_app_certificate(workdir)
    server.register_app(client_id, cert)
    server.app_cert = path
    return server


def stopped_clean(server):
    """Stop the stand-in and fail when any request or response broke the contract."""
    server.stop()
    assert server.violations == [], json.dumps(server.violations, indent=1)


def writes(server):
    """The write requests Graph received (not sign-in, not the $batch envelope)."""
    return [e for e in server.log if e["method"] in ("POST", "PATCH", "DELETE") and "/oauth2/" not in e["path"]
            and not e["path"].startswith("/v1.0/$batch")]


ROOT = Path(__file__).resolve().parents[2]


def tenant_variables(server, client_id=CLIENT):
    """The inventory variables that point the collection's tenant options at this stand-in."""
    return {"ems_tenant_id": server.tenant["id"], "ems_tenant_client_id": client_id,
            "ems_tenant_certificate_path": server.app_cert, "ems_tenant_authority_url": server.url,
            "ems_tenant_graph_url": server.url, "ems_tenant_ca_file": server.ca_file}


def run_playbook(tmp_path, playbook, variables, *args, expect_rc=0):
    """ansible-playbook playbooks/<playbook> on localhost with these extra variables, as users run it (the
    onboarding callback, reports under tmp_path/reports); asserts the exit code and returns stdout."""
    tmp_path = Path(tmp_path)
    (tmp_path / "vars.yml").write_text(json.dumps(variables))
    (tmp_path / "hosts.yml").write_text("all:\n  hosts:\n    localhost:\n")
    env = dict(os.environ, EMS_REPORT_DIR=str(tmp_path / "reports"), EMS_OUTPUT_COLOR="never",
               ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    cmd = [str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(tmp_path / "hosts.yml"),
           str(ROOT / "playbooks" / playbook), "-e", "@%s" % (tmp_path / "vars.yml"), *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, check=False, cwd=str(ROOT))
    assert done.returncode == expect_rc, done.stdout[-4000:] + done.stderr[-2000:]
    return done.stdout
