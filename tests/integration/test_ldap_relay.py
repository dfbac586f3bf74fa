"""The bind password never crosses a relay in cleartext, whatever the server string (issue 13).

A TCP relay listens in the lab's controller namespace (the controller address, port 3890) in front of
a DC's port 389 and records every byte the client sends. ad_forest_info then runs with server strings
that once made libldap send a simple bind to a second, cleartext server ("name ldap://relay:3890/"),
and with schemes, ports, paths and control characters, in every transport (allow_cleartext false and
true). Every one must fail naming the server option, and the relay must not see the password. A
control run that really binds in cleartext through the relay proves the relay sees a password when
one is sent (so the test can fail).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import yaml

pytestmark = pytest.mark.integration

RELAY_PORT = 3890
RELAY = textwrap.dedent("""
    import socket, sys, threading
    listen, port, target, tport, log = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
    lock = threading.Lock()
    def pump(src, dst, record):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if record:
                    with lock, open(log, "ab") as out:
                        out.write(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
    server = socket.create_server((listen, port), reuse_port=True)
    while True:
        client, _ = server.accept()
        with lock, open(log + ".connections", "a") as out:
            out.write("connection\\n")
        upstream = socket.create_connection((target, tport))
        threading.Thread(target=pump, args=(client, upstream, True), daemon=True).start()
        threading.Thread(target=pump, args=(upstream, client, False), daemon=True).start()
""")


@pytest.fixture(name="relay")
def _relay(lab, tmp_path):
    forest = lab.forest("corp")
    dc = forest.dcs[0]
    listen = lab.data["ctl_ip"]
    script = tmp_path / "relay.py"
    script.write_text(RELAY)
    log = tmp_path / "relay.bytes"
    proc = subprocess.Popen(["ip", "netns", "exec", lab.ctl_netns, sys.executable, str(script), listen,
                             str(RELAY_PORT), dc.ip, "389", str(log)])
    try:
        assert lab.wait_port(listen, RELAY_PORT, timeout=30), "the relay did not start"
        time.sleep(0.5)
        for probe in (log, tmp_path / "relay.bytes.connections"):  # wait_port's own connection
            if probe.exists():
                probe.unlink()
        yield {"address": listen, "log": log, "forest": forest, "dc": dc}
    finally:
        os.kill(proc.pid, signal.SIGTERM)  # the relay we started, by its id
        proc.wait(timeout=10)


def _seen(relay):
    return relay["log"].read_bytes() if relay["log"].exists() else b""


def _run(lab, tmp_path, cases, forest):
    out = tmp_path / "results.json"
    play = [{
        "hosts": "localhost", "gather_facts": False,
        "tasks": [
            {"name": "ad_forest_info with a server string", "register": "r", "ignore_errors": True,
             "loop": cases, "loop_control": {"label": "{{ item.transport }}"},
             "ems.enable.ad_forest_info": {
                 "server": ["{{ item.server }}"], "port": "{{ item.port | default(omit) }}",
                 "transport": "{{ item.transport }}", "allow_cleartext": "{{ item.allow_cleartext }}",
                 "validate_certs": False, "username": forest.admin_user, "password": forest.admin_password,
                 "count_objects": False, "timeout": 5}},
            {"name": "dump", "ansible.builtin.copy": {"content": "{{ r.results | to_json }}", "dest": str(out)}},
        ]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play, sort_keys=False))
    (tmp_path / "hosts").write_text("localhost ansible_connection=local ansible_python_interpreter=%s\n"
                                    % sys.executable)
    proc = lab.run(["ansible-playbook", "-i", str(tmp_path / "hosts"), str(tmp_path / "play.yml")], timeout=600)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert out.exists(), proc.stdout + proc.stderr
    return json.loads(out.read_text())


def test_no_server_string_sends_the_password_through_the_relay(lab, tmp_path, relay):
    relay_at, dc = relay["address"], relay["dc"]
    servers = [
        "nonexistent.invalid ldap://%s:%d/" % (relay_at, RELAY_PORT),
        "%s ldap://%s:%d/" % (dc.fqdn, relay_at, RELAY_PORT),
        "ldap://%s:%d" % (relay_at, RELAY_PORT),
        "ldaps://%s:%d/" % (relay_at, RELAY_PORT),
        "%s:%d" % (relay_at, RELAY_PORT),
        "%s/ldap://%s:%d" % (dc.fqdn, relay_at, RELAY_PORT),
        "%s\tldap://%s:%d/" % (dc.fqdn, relay_at, RELAY_PORT),
        "%s\nldap://%s:%d/" % (dc.fqdn, relay_at, RELAY_PORT),
        "user@%s:%d" % (relay_at, RELAY_PORT),
    ]
    cases = [{"server": server, "transport": transport, "allow_cleartext": allow}
             for server in servers for transport in ("ldaps", "starttls", "ldap") for allow in (False, True)]
    results = _run(lab, tmp_path, cases, relay["forest"])
    assert len(results) == len(cases) == 54
    for case, result in zip(cases, results):
        assert result.get("failed"), (case, result)
        assert result["msg"].startswith("server: "), (case, result["msg"])
        assert "\n" not in result["msg"] and relay["forest"].admin_password not in result["msg"]
    assert relay["forest"].admin_password.encode() not in _seen(relay)
    assert not (tmp_path / "relay.bytes.connections").exists(), "a bad server string reached the relay"

    # the control: a real cleartext bind through the relay (allowed, valid server and port) is seen
    cleartext = {"server": relay_at, "port": RELAY_PORT, "transport": "ldap", "allow_cleartext": True}
    control = _run(lab, tmp_path, [cleartext], relay["forest"])
    assert (tmp_path / "relay.bytes.connections").exists(), control
    deadline = time.monotonic() + 10
    while relay["forest"].admin_password.encode() not in _seen(relay) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert relay["forest"].admin_password.encode() in _seen(relay), "the relay's detection does not work"
