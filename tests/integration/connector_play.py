"""Run a role of ems.enable the way users do (ansible-playbook) against Windows-looking hosts whose
WinRM address is a local TCP listener that only counts connections: a run that fails "before any
Windows host is contacted" must leave the count at 0.

Used by tests/integration/test_rms_*.py, test_exchange_connector_*.py and test_aad_connect_input.py
(the module-scoped `counter` fixture of conftest.py is a ConnectionCounter). No Samba lab needed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


class ConnectionCounter:
    """A TCP listener on 127.0.0.1 that accepts, counts and closes every connection."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.count = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while True:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            with self._lock:
                self.count += 1
            conn.close()

    def close(self):
        self.sock.close()


def project_env(extra=None):
    venv_bin = ROOT / ".venv" / "bin"
    env = dict(os.environ)
    env.update({
        "PATH": "%s%s%s" % (venv_bin, os.pathsep, env.get("PATH", "/usr/bin:/bin")),
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".venv" / "collections"),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
        "ANSIBLE_DEPRECATION_WARNINGS": "false",
        "ANSIBLE_NOCOLOR": "1",
        "NO_COLOR": "1",
        "EMS_REPORT": "false",
        "ANSIBLE_TIMEOUT": "5",
    })
    env.update(extra or {})
    return env


def inventory(groups, port):
    """groups: {group: [hosts]} -> an inventory where every host is a WinRM host on the counter."""
    children = {name: {"hosts": {h: None for h in hosts}} for name, hosts in groups.items()}
    return {"all": {"children": {"windows": {
        "vars": {
            "ansible_connection": "winrm",
            "ansible_host": "127.0.0.1",
            "ansible_port": port,
            "ansible_winrm_scheme": "http",
            "ansible_winrm_transport": "ntlm",
            "ansible_user": "ems-test",
            "ansible_password": "ems-test-not-a-secret",
            "ansible_winrm_operation_timeout_sec": 3,
            "ansible_winrm_read_timeout_sec": 5,
        },
        "children": children}}}}


def run_role(tmp_path, counter, role, hosts, groups, role_vars, verbose=False):
    """ansible-playbook with one play: `hosts`, gather_facts false, the role with role_vars.

    Returns (returncode, output text, connections the hosts' addresses received)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory(groups, counter.port)))
    play = [{"name": "test " + role, "hosts": hosts, "gather_facts": False,
             "roles": [{"role": "ems.enable." + role}]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    (tmp_path / "vars.json").write_text(json.dumps(role_vars))
    before = counter.count
    cmd = ["ansible-playbook", "-i", str(tmp_path / "inventory.yml"), str(tmp_path / "play.yml"),
           "-e", "@" + str(tmp_path / "vars.json")]
    if verbose:
        cmd.append("-" + "v" * int(verbose))
    proc = subprocess.run(cmd, cwd=str(tmp_path), env=project_env(), capture_output=True, text=True,
                          timeout=300, check=False)
    return proc.returncode, proc.stdout + proc.stderr, counter.count - before


def cached_runs(tmp_path_factory, counter, role, hosts, groups, scenarios):
    """runs(name) -> run_role's (returncode, output, connections) for scenarios[name], run once."""
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = run_role(tmp_path_factory.mktemp(name), counter, role, hosts, groups, scenarios[name])
        return cache[name]
    return get


def spec_options(role, entry_point="main"):
    """The option names of a role's entry point (meta/argument_specs.yml)."""
    spec = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    return set(spec["argument_specs"][entry_point]["options"])


def bad_input_params(cases):
    """{option: [(scenario, [texts])]} -> (option, scenario, texts) parameters of the bad-input test."""
    return [(option, scenario, texts) for option, option_cases in cases.items() for scenario, texts in option_cases]


def assert_failed_before_contact(run, option, texts):
    """The run failed, its output names every text, and no Windows host was contacted."""
    returncode, output, connections = run
    assert returncode != 0, output
    for text in texts:
        assert text in output, "%s: %r not in the output:\n%s" % (option, text, output[-3000:])
    assert connections == 0, "a Windows host was contacted:\n" + output[-3000:]
    assert "UNREACHABLE" not in output, output[-3000:]


def task_results(output, task_fragment):
    """{host: result dict} of the task whose name contains task_fragment (needs -v output)."""
    results = {}
    lines = output.splitlines()
    inside = False
    for line in lines:
        if line.startswith("TASK ["):
            inside = task_fragment in line
            continue
        if inside and " => {" in line and line.split(":", 1)[0] in ("ok", "changed", "failed", "fatal"):
            host = line[line.index("[") + 1:line.index("]")]
            results[host] = json.loads(line[line.index(" => ") + 4:])
    return results


def run_role_tasks(tmp_path, role, tasks_from, role_vars, facts, dump="{{ {} | to_json }}"):
    """include_role tasks_from on localhost with `facts` set first (what a Windows module reported);
    returns (process, the JSON that `dump` renders after the role's tasks, or None when they failed).

    For the parts of a role that only decide on the controller (verdicts of verify, computed values)."""
    out = tmp_path / "out.json"
    play = [{"name": f"{role} logic", "hosts": "localhost", "gather_facts": False,
             "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
             "tasks": [
                 {"name": "what the server reported", "ansible.builtin.set_fact": facts},
                 {"name": "role tasks", "ansible.builtin.include_role": {"name": f"ems.enable.{role}",
                                                                         "tasks_from": tasks_from},
                  "vars": role_vars},
                 {"name": "dump", "ansible.builtin.copy": {"dest": str(out), "content": dump}},
             ]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    proc = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", str(tmp_path / "play.yml")],
                          cwd=str(tmp_path), env=project_env(), capture_output=True, text=True, timeout=300,
                          check=False)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    return proc, (json.loads(out.read_text()) if out.exists() else None)
