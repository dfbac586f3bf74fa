"""The port and endpoint tables are the one source of every port, rule, check and documented port.

- the tables are consistent and every row names a Microsoft document;
- the ports the issue and Microsoft's documents give for each component are in the table;
- the firewall rules the role would create (rendered by the role itself, through ansible-playbook)
  are exactly the table's flows, and the firewall task takes every value from that list;
- no role file and no document names a port that is not in the table;
- docs/network.md's generated sections are what the tables render now.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from ansible_collections.ems.enable.plugins.filter import network_report
from ansible_collections.ems.enable.plugins.module_utils.network import tables as nt

ROOT = Path(__file__).resolve().parents[5]
DATA = ROOT / "plugins" / "module_utils" / "network"
ROLE = ROOT / "roles" / "network"
MANAGED = ["aad_connect", "adfs", "wap", "rms_connector", "exchange_connector", "domain_controller"]

#: Numbers in port context that are not ports of the table, each with the reason it may appear.
NOT_TABLE_PORTS = {
    "3128": "the proxy port of the examples (http://proxy.contoso.com:3128), a customer setting",
    "200": "HTTP status code",
    "403": "HTTP status code",
    "407": "HTTP status code",
}


def raw_tables():
    return yaml.safe_load((DATA / "ports.yml").read_text()), yaml.safe_load((DATA / "endpoints.yml").read_text())


# --- the tables themselves ----------------------------------------------------------------------

def test_tables_are_consistent():
    ports, endpoints = raw_tables()
    assert nt.validate_tables(ports, endpoints) == []
    assert nt.tables()[0]["flows"]


@pytest.mark.parametrize("mutate,words", [
    (lambda p, e: p["flows"].append(dict(p["flows"][0])), ["duplicate id"]),
    (lambda p, e: p["flows"][0].update(ports="65536"), ["out of range"]),
    (lambda p, e: p["flows"][0].update(ports="80-"), ["expected N or N-M"]),
    (lambda p, e: p["flows"][0].update(protocol="sctp"), ["protocol must be"]),
    (lambda p, e: p["flows"][0].update(source="blog"), ["unknown source blog"]),
    (lambda p, e: p["flows"][0].update(when="sometimes"), ["when=sometimes is not a feature"]),
    (lambda p, e: p["flows"][0].update(to="clients", **{"from": "load_balancer"}), ["neither end is a managed"]),
    (lambda p, e: p["flows"][0].pop("purpose"), ["missing purpose"]),
    (lambda p, e: p["sources"]["entra-connect-ports"].pop("url"), ["sources.entra-connect-ports: missing url"]),
    (lambda p, e: e["endpoints"][0].pop("test_host"), ["needs a test_host"]),
    (lambda p, e: e["endpoints"][0].update(port=8443), ["no flow aad_connect -> microsoft_online on port 8443"]),
    (lambda p, e: e["endpoints"][0].update(components=["clients"]), ["not a managed component"]),
    (lambda p, e: e["endpoints"][0].update(test_host="*.microsoftonline.com"), ["concrete name"]),
    (lambda p, e: e["dns_records"]["rms_connector"].update(source="forum"), ["unknown source forum"]),
])
def test_inconsistent_tables_are_reported(mutate, words):
    ports, endpoints = (copy.deepcopy(t) for t in raw_tables())
    mutate(ports, endpoints)
    problems = " ".join(nt.validate_tables(ports, endpoints))
    for word in words:
        assert word in problems, problems


def test_every_row_names_a_microsoft_document():
    ports, endpoints = raw_tables()
    for table in (ports, endpoints):
        for key, source in table["sources"].items():
            assert source["url"].startswith("https://learn.microsoft.com/"), key
            assert source["document"].startswith(("MicrosoftDocs/", "MS-")), key
    used = {f["source"] for f in ports["flows"]}
    assert used == set(ports["sources"]), "unused or missing sources in ports.yml"


def _ports(flows):
    return {(f["protocol"], f["ports"]) for f in flows}


def test_documented_ports_of_each_component_are_in_the_table():
    """Ports from Microsoft's documents (and the issue's list), per component."""
    always = [f for f in nt.ports_table()["flows"] if f["when"] == "always"]
    sync_to_dc = [f for f in always if f["from"] == "aad_connect" and f["to"] == "domain_controller"]
    assert {p for _proto, p in _ports(sync_to_dc)} == {"53", "88", "135", "389", "445", "636", "3268", "49152-65535"}
    assert ("udp", "53") in _ports(sync_to_dc) and ("udp", "88") in _ports(sync_to_dc)
    sync_to_cloud = [f for f in always if f["from"] == "aad_connect" and f["to"] == "microsoft_online"]
    assert _ports(sync_to_cloud) == {("tcp", "443"), ("tcp", "80")}
    assert ("tcp", "443") in _ports(f for f in always if f["to"] == "adfs" and f["from"] == "wap")
    assert ("tcp", "80") in _ports(f for f in always if f["to"] == "adfs" and f["from"] == "adfs")  # WID sync
    assert ("tcp", "80") in _ports(f for f in always if f["to"] == "adfs" and f["from"] == "load_balancer")
    assert ("tcp", "443") in _ports(f for f in always if f["to"] == "wap" and f["from"] == "clients")
    certauth = [f for f in nt.flows(["wap"], ["adfs_certificate_auth"], "in") if f["ports"] == "49443"]
    assert certauth and certauth[0]["source"] == "adfs-requirements"
    rms = nt.flows(["rms_connector"], ["rms_connector_http"], "in")
    assert {p for _proto, p in _ports(rms)} == {"80", "443"}
    exchange = nt.flows(["exchange_connector"], (), "out")
    assert ("exchange_cas", "443") in {(f["to"], f["ports"]) for f in exchange}
    assert ("microsoft_online", "443") in {(f["to"], f["ports"]) for f in exchange}
    intune = [r for r in nt.endpoints_table()["endpoints"] if r["components"] == ["exchange_connector"]]
    assert "*.manage.microsoft.com" in {r["name"] for r in intune}


# --- derived views ------------------------------------------------------------------------------

def expected_rules(components, features, directions, peers):
    """An independent rendering from the raw YAML: what the role must create."""
    ports, _endpoints = raw_tables()
    rules = set()
    for flow in ports["flows"]:
        if flow["when"] != "always" and flow["when"] not in features:
            continue
        for direction in directions:
            local, peer = ("to", "from") if direction == "in" else ("from", "to")
            if flow[local] in components:
                remote = peers.get(flow[peer])
                rules.add(("ems.enable %s %s" % (direction, flow["id"]), direction, flow["protocol"], flow["ports"],
                           ",".join(remote) if remote else "any"))
    return rules


def actual_rules(rendered):
    return {(r["name"], r["direction"], r["protocol"], r.get("localport") or r.get("remoteport"), r["remoteip"])
            for r in rendered}


def test_firewall_rules_function_matches_the_table():
    for component in MANAGED:
        got = nt.firewall_rules([component], nt.feature_names(), ("in", "out"), {"load_balancer": ["10.0.1.0/24"]})
        assert actual_rules(got) == expected_rules([component], nt.feature_names(), ("in", "out"),
                                                   {"load_balancer": ["10.0.1.0/24"]})
        for rule in got:
            flow = next(f for f in nt.ports_table()["flows"] if f["id"] == rule["flow"])
            assert nt.source_of(flow)["url"] in rule["description"]
            assert ("localport" in rule) == (rule["direction"] == "in")


PLAN_PLAY = """
- name: Render the network role's plan
  hosts: planned
  gather_facts: false
  tasks:
    - name: The role's own plan tasks
      ansible.builtin.include_role:
        name: ems.enable.network
        tasks_from: plan.yml
    - name: Dump what the role would apply
      ansible.builtin.copy:
        content: "{{ {'rules': __network_firewall_rules, 'checks': __network_checks, 'untested': __network_untested} | to_json }}"
        dest: "{{ dump_dir }}/{{ inventory_hostname }}.json"
        mode: "0644"
"""


def ansible_env(tmp_path):
    env = dict(os.environ)
    env.update(ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".venv" / "collections"),
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", EMS_REPORT="false",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_HOME=str(tmp_path / "home"))
    env["PATH"] = "%s%s%s" % (ROOT / ".venv" / "bin", os.pathsep, env.get("PATH", ""))
    return env


CASES = {
    "sync": {"network_components": ["aad_connect"], "network_targets": {"domain_controller": ["dc1.example.test"]},
             "network_firewall_outbound": True},
    "adfs-all-features": {"network_components": ["adfs"], "network_features": nt.feature_names(),
                          "network_peer_addresses": {"wap": ["10.0.2.11", "10.0.2.12"]}},
    "wap-by-group": {},
    "everything-out": {"network_components": MANAGED, "network_firewall_outbound": True,
                       "network_features": ["rms_connector_http"]},
}


def test_role_renders_exactly_the_tables_rules(tmp_path):
    """Run the role's plan.yml (as the role runs it) for several hosts and compare with the table."""
    (tmp_path / "play.yml").write_text(PLAN_PLAY)
    inventory = {"all": {"children": {
        "planned": {"hosts": {name: dict(vars_, ansible_connection="local",
                                         ansible_python_interpreter="{{ ansible_playbook_python }}")
                              for name, vars_ in CASES.items()}},
        "wap": {"hosts": {"wap-by-group": None}},
        "adfs": {"hosts": {"adfs-all-features": None}},
    }, "vars": {"dump_dir": str(tmp_path)}}}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    proc = subprocess.run(["ansible-playbook", "-i", str(tmp_path / "hosts.yml"), str(tmp_path / "play.yml")],
                          cwd=tmp_path, env=ansible_env(tmp_path), capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name, vars_ in CASES.items():
        plan = json.loads((tmp_path / (name + ".json")).read_text())
        components = vars_.get("network_components") or ["wap"]
        directions = ("in", "out") if vars_.get("network_firewall_outbound") else ("in",)
        expected = expected_rules(components, vars_.get("network_features", []), directions,
                                  vars_.get("network_peer_addresses", {}))
        assert expected, name
        assert actual_rules(plan["rules"]) == expected, name
        assert all(r["group"] == "ems.enable network" and r["action"] == "allow" for r in plan["rules"])
    sync = json.loads((tmp_path / "sync.json").read_text())
    tested = {(c["host"], c["port"], c["kind"]) for c in sync["checks"] if c["to"] == "domain_controller"}
    assert tested == {("dc1.example.test", p, "tcp") for p in (53, 88, 135, 389, 445, 636, 3268)} | {
        ("dc1.example.test", 53, "dns")}
    assert {u["id"] for u in sync["untested"]} >= {"aad-connect-dc-rpc-dynamic", "aad-connect-dc-ldap-udp"}
    # targets come from the inventory groups too: the WAP tests the AD FS hosts of adfs
    wap = json.loads((tmp_path / "wap-by-group.json").read_text())
    assert {(c["id"], c["host"], c["port"]) for c in wap["checks"]} == {
        ("wap-adfs-https", "adfs-all-features", 443), ("wap-adfs-sync", "adfs-all-features", 80)}


def test_firewall_task_takes_every_value_from_the_plan():
    tasks = yaml.safe_load((ROLE / "tasks" / "firewall.yml").read_text())
    (rule_task,) = [t for t in tasks if "community.windows.win_firewall_rule" in t]
    assert rule_task["loop"] == "{{ __network_firewall_rules }}"
    for option, value in rule_task["community.windows.win_firewall_rule"].items():
        if option == "state":
            assert value == "present"
            continue
        assert re.fullmatch(r"\{\{ item\.%s( \| default\(omit\))? \}\}" % option, str(value)), (option, value)


def test_connectivity_checks_cover_internal_flows_and_endpoints():
    checks, untested = nt.connectivity_checks(["aad_connect"], (), {"domain_controller": ["dc1"]}, proxy="http://p:3128")
    internal = [c for c in checks if c["to"] == "domain_controller"]
    cloud = [c for c in checks if c["to"] == "microsoft_online"]
    assert internal and not any(c["via_proxy"] for c in internal)
    assert cloud and all(c["via_proxy"] for c in cloud)
    assert {c["host"] for c in cloud} == {r["test_host"] for r in nt.endpoints_table()["endpoints"]
                                          if "aad_connect" in r["components"] and r["check"] != "none"}
    assert [c for c in cloud if c["id"] == "entra-adminwebservice"][0]["expect_status"] == [200]
    assert {u["id"] for u in untested if u["reason"].startswith("wildcard")} == {
        r["id"] for r in nt.endpoints_table()["endpoints"] if "aad_connect" in r["components"] and r["check"] == "none"}
    _checks, untested = nt.connectivity_checks(["exchange_connector"], (), {})
    assert any("network_targets.exchange_cas" in u["reason"] for u in untested)


# --- no port outside the table ------------------------------------------------------------------

PORT_CONTEXT = re.compile(r"(?i)\b(ports?|tcp|udp|https?|ldaps?|dns|rpc|smb|winrm)\b|:\d{2,5}\b")
NUMBER = re.compile(r"(?<![\w.:/-])(\d{2,5}(?:-\d{2,5})?)(?![\w.-]*\d\.)(?![\w-])(?!\s*(?:s|seconds?|days?)\b)")
#: Names with numbers that are not ports, removed before scanning.
NOT_PORTS = re.compile(r"(?i)\b(?:office|microsoft) 365\b|\bendpoint set \d+")


def port_mentions(path):
    """(line number, number) for each 2-5 digit number on a line that talks about ports."""
    found = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = NOT_PORTS.sub("", line)
        if not PORT_CONTEXT.search(line):
            continue
        for match in re.finditer(r":(\d{2,5})\b", line):  # URL ports
            found.append((lineno, match.group(1)))
        for match in NUMBER.finditer(line):
            found.append((lineno, match.group(1)))
    return found


def documents():
    files = [ROOT / "docs" / "network.md"]
    files += sorted(p for p in ROLE.rglob("*") if p.is_file() and p.suffix in (".yml", ".md", ".ps1", ".j2"))
    return files


def test_no_role_file_or_document_names_a_port_outside_the_table():
    table_ports = set(nt.all_ports())
    offenders = []
    for path in documents():
        for lineno, number in port_mentions(path):
            if number in table_ports or number in NOT_TABLE_PORTS:
                continue
            if int(number.split("-")[0]) > 65535:
                continue
            offenders.append("%s:%d: %s" % (path.relative_to(ROOT), lineno, number))
    assert not offenders, "ports that are not in ports.yml: " + ", ".join(offenders)


def test_the_port_scanner_finds_ports():
    sample = ROOT / "docs" / "network.md"
    numbers = {n for _l, n in port_mentions(sample)}
    assert {"49152-65535", "3268", "49443", "3128"} <= numbers


def test_generated_sections_of_docs_are_fresh():
    text = (ROOT / "docs" / "network.md").read_text(encoding="utf-8")
    assert nt.update_document(text) == text, (
        "docs/network.md is stale: run PYTHONPATH=.venv/collections python -m "
        "ansible_collections.ems.enable.plugins.module_utils.network.tables --write docs/network.md")
    for flow in nt.ports_table()["flows"]:
        assert "| %s | %s |" % (flow["protocol"].upper(), flow["ports"]) in text


def test_update_document_needs_the_markers():
    with pytest.raises(nt.TableError, match="no generated section 'ports'"):
        nt.update_document("# no markers here\n")


# --- report helpers -----------------------------------------------------------------------------

def test_failure_table_is_aligned_and_keeps_every_row():
    rows = [{"host": "sync1", "check": "aad-connect-dc-gc", "target": "dc1:3268", "status": "fail", "message": "x"},
            {"host": "controller", "check": "dns A", "target": "fs.example.com", "status": "warn", "message": "y"}]
    lines = nt.failure_table(rows).splitlines()
    assert lines[0].split() == ["HOST", "CHECK", "TARGET", "STATUS", "MESSAGE"]
    assert len(lines) == 4
    assert lines[2].index("dc1:3268") == lines[3].index("fs.example.com") == lines[0].index("TARGET")


def test_report_rows_keep_only_what_did_not_pass():
    dns = [{"name": "fs.example.com", "type": "A", "status": "fail", "message": "m", "remedy": "r"},
           {"name": "ok.example.com", "type": "A", "status": "pass", "message": "fine", "remedy": None}]
    assert network_report.network_report_rows(dns, "dns") == [
        {"host": "controller", "check": "dns A", "target": "fs.example.com", "status": "fail", "message": "m Fix: r"}]
    tls = [{"host": "fs.example.com", "port": 443, "checks": [
        {"id": "expiry", "status": "warn", "message": "soon", "remedy": "renew"},
        {"id": "chain", "status": "pass", "message": "ok", "remedy": None}]}]
    assert [r["check"] for r in network_report.network_report_rows(tls, "tls")] == ["tls expiry"]
    conn = [{"check": "c1", "target": "dc1:88", "status": "fail", "message": "refused", "remedy": None}]
    assert network_report.network_report_rows(conn, "connectivity", "sync1")[0]["host"] == "sync1"
    with pytest.raises(Exception, match="kind must be"):
        network_report.network_report_rows(conn, "other")


def test_every_inbound_rule_left_open_to_any_address_is_named():
    rules = nt.firewall_rules(["domain_controller"])
    lines = nt.open_inbound_rules(rules, ["domain_controller"])
    assert len(lines) == len(rules) > 0
    high = [line for line in lines if "49152-65535" in line]
    assert high and all("ANY remote address" in line and "network_peer_addresses." in line for line in lines)
    # peers given for every component that reaches the DCs: nothing left open, nothing said
    peers = {flow["from"]: ["10.0.0.0/24"] for flow in nt.flows(["domain_controller"], (), "in")}
    narrowed = nt.firewall_rules(["domain_controller"], peer_addresses=peers)
    assert nt.open_inbound_rules(narrowed, ["domain_controller"]) == []
    # one peer of AD FS narrowed (the WAP): its rules are no longer named, the others' still are
    partly = nt.firewall_rules(["adfs"], peer_addresses={"wap": ["10.0.2.10"]})
    left = nt.open_inbound_rules(partly, ["adfs"])
    assert left and all("network_peer_addresses.wap " not in line for line in left)
    assert len(left) < len(nt.open_inbound_rules(nt.firewall_rules(["adfs"]), ["adfs"]))
