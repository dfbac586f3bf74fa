"""Run ems.enable modules the way users do, inside the lab's controller namespace."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml


def conn_args(forest, **extra):
    args = {
        "server": [dc.fqdn for dc in forest.dcs],
        "username": forest.admin_user,
        "password": forest.admin_password,
        "ca_file": forest.ca_file,
    }
    args.update(extra)
    return args


def run_module(lab, tmp_path, module, args, *, check=False, hosts="localhost", inventory=None, twice=False):
    """Run one ems.enable module in a playbook; return (process, [result of each run])."""
    out = tmp_path / "result.json"
    if out.exists():
        out.unlink()
    task = {
        "name": "module under test",
        module: args,
        "register": "r",
        "ignore_errors": True,
    }
    play = {
        "hosts": hosts,
        "gather_facts": False,
        "tasks": [task] * (2 if twice else 1) + [{
            "name": "dump",
            "ansible.builtin.copy": {"content": "{{ __results | to_json }}", "dest": str(out)},
            "vars": {"__results": "{{ [r] }}"},
            "delegate_to": "localhost",
            "run_once": True,
            "check_mode": False,
        }],
    }
    if twice:
        play["tasks"][0] = dict(task, register="first")
        play["tasks"][2]["vars"]["__results"] = "{{ [first, r] }}"
    (tmp_path / "play.yml").write_text(yaml.safe_dump([play], sort_keys=False))
    inv = inventory or "localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable
    (tmp_path / "hosts").write_text(inv)
    cmd = ["ansible-playbook", "-i", str(tmp_path / "hosts"), str(tmp_path / "play.yml")]
    if check:
        cmd.append("--check")
    proc = lab.run(cmd, timeout=300)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert out.exists(), proc.stdout + proc.stderr
    return proc, json.loads(out.read_text())


def checks_of(result, rule_id, forest=None):
    return [c for c in result["checks"] if c["id"] == rule_id and (forest is None or c["forest"] == forest)]


def ca_bundle(tmp_path, *forests):
    """One PEM file with the CAs of several lab forests (as an enterprise CA bundle would be)."""
    path = tmp_path / "ca-bundle.pem"
    path.write_text("".join(open(f.ca_file).read() for f in forests))
    return str(path)


SHARED_UPN = "ems-assess@emslab.test"
SHARED_PASSWORD = "Assess-Passw0rd-1"


def shared_account(*forests):
    """A normal user with the same UPN and password in several forests (created offline-safe on each
    first DC's sam.ldb), so one set of credentials reads every forest, as a customer's assessment
    account would. Idempotent. Returns (username, password)."""
    for forest in forests:
        dc = forest.dcs[0]
        show = subprocess.run(["samba-tool", "user", "show", "ems-assess", "-H", dc.sam_ldb],
                              capture_output=True, text=True, timeout=120, check=False)
        if show.returncode != 0:
            subprocess.run(["samba-tool", "user", "create", "ems-assess", SHARED_PASSWORD, "-H", dc.sam_ldb],
                           check=True, capture_output=True, text=True, timeout=120)
        ldif = ("dn: CN=ems-assess,CN=Users,%s\nchangetype: modify\nreplace: userPrincipalName\n"
                "userPrincipalName: %s\n" % (forest.base_dn, SHARED_UPN))
        subprocess.run(["ldbmodify", "-H", dc.sam_ldb], input=ldif, check=True, capture_output=True, text=True,
                       timeout=120)
    return SHARED_UPN, SHARED_PASSWORD
