# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The port table and the endpoint table (ports.yml, endpoints.yml, next to this module) and what derives from them.

One source of truth: the firewall rules of roles/network, its connectivity checks, the DNS records
ems.enable.dns_check expects and the tables in docs/network.md all come from the two data files
through the functions here. Nothing else in the collection may name a port or an endpoint
(tests/unit/plugins/module_utils/network/test_network_tables.py enforces it).

Controller-side only (the files are read next to this module). Run as a module, with the
collections path of scripts/bootstrap on PYTHONPATH, to regenerate or check the generated sections of
docs/network.md:

    PYTHONPATH=.venv/collections python -m ansible_collections.ems.enable.plugins.module_utils.network.tables --write docs/network.md
    PYTHONPATH=.venv/collections python -m ansible_collections.ems.enable.plugins.module_utils.network.tables --check docs/network.md
"""

from __future__ import annotations

import re

from ansible_collections.ems.enable.plugins.module_utils import data_files

PROTOCOLS = ("tcp", "udp")
CHECK_KINDS = ("https", "tls", "http", "none")
DIRECTIONS = ("in", "out")
DEFAULT_RULE_PREFIX = "ems.enable"
DEFAULT_RULE_GROUP = "ems.enable network"
DEFAULT_PROFILES = ("domain", "private", "public")
DOC_MARKER = "<!-- BEGIN GENERATED {name}: python -m ansible_collections.ems.enable.plugins.module_utils.network.tables --write docs/network.md -->"
DOC_END = "<!-- END GENERATED {name} -->"
DOC_SECTIONS = ("ports", "endpoints", "dns")

_CACHE = {}
_PORTS_RE = re.compile(r"^(\d{1,5})(?:-(\d{1,5}))?$")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class TableError(ValueError):
    """The data files are inconsistent (a programming error in the collection, listed in full)."""


def _read(name):
    return data_files.load_yaml("network", name)


def parse_ports(text):
    """'443' -> (443, 443); '49152-65535' -> (49152, 65535). ValueError when malformed."""
    match = _PORTS_RE.match(str(text).strip())
    if not match:
        raise ValueError("ports %r: expected N or N-M" % (text,))
    low = int(match.group(1))
    high = int(match.group(2) or low)
    if not 1 <= low <= high <= 65535:
        raise ValueError("ports %r: out of range 1-65535 or reversed" % (text,))
    return low, high


def validate_tables(ports, endpoints):
    """Every inconsistency of the two tables, as a list of strings (empty = consistent)."""
    problems = []
    components = ports.get("components") or {}
    features = ports.get("features") or {}
    managed = {key for key, value in components.items() if value.get("managed")}
    seen = set()
    for index, flow in enumerate(ports.get("flows") or []):
        where = "ports.yml flows[%d] (%s)" % (index, flow.get("id"))
        for key in ("id", "from", "to", "protocol", "ports", "service", "purpose", "when", "source"):
            if not flow.get(key):
                problems.append("%s: missing %s" % (where, key))
        if flow.get("id") in seen:
            problems.append("%s: duplicate id" % where)
        seen.add(flow.get("id"))
        if flow.get("id") and not _ID_RE.match(flow["id"]):
            problems.append("%s: id must be lower-case letters, digits and dashes" % where)
        for end in ("from", "to"):
            if flow.get(end) and flow[end] not in components:
                problems.append("%s: unknown component %s=%s" % (where, end, flow[end]))
        if flow.get("from") not in managed and flow.get("to") not in managed:
            problems.append("%s: neither end is a managed component" % where)
        if flow.get("protocol") not in PROTOCOLS:
            problems.append("%s: protocol must be one of %s" % (where, ", ".join(PROTOCOLS)))
        try:
            parse_ports(flow.get("ports"))
        except ValueError as err:
            problems.append("%s: %s" % (where, err))
        if flow.get("when") and flow["when"] != "always" and flow["when"] not in features:
            problems.append("%s: when=%s is not a feature" % (where, flow["when"]))
        if flow.get("source") and flow["source"] not in (ports.get("sources") or {}):
            problems.append("%s: unknown source %s" % (where, flow["source"]))
    for key, source in (ports.get("sources") or {}).items():
        for field in ("title", "url", "document"):
            if not source.get(field):
                problems.append("ports.yml sources.%s: missing %s" % (key, field))

    seen = set()
    cloud_flows = {(f["from"], int(parse_ports(f["ports"])[0])) for f in ports.get("flows") or []
                   if f.get("to") == "microsoft_online" and _PORTS_RE.match(str(f.get("ports", "")))}
    for index, row in enumerate(endpoints.get("endpoints") or []):
        where = "endpoints.yml endpoints[%d] (%s)" % (index, row.get("id"))
        for key in ("id", "components", "name", "port", "check", "purpose", "source"):
            if not row.get(key):
                problems.append("%s: missing %s" % (where, key))
        if row.get("id") in seen:
            problems.append("%s: duplicate id" % where)
        seen.add(row.get("id"))
        if row.get("check") not in CHECK_KINDS:
            problems.append("%s: check must be one of %s" % (where, ", ".join(CHECK_KINDS)))
        if row.get("check") != "none" and not row.get("test_host"):
            problems.append("%s: check=%s needs a test_host" % (where, row.get("check")))
        if row.get("test_host") and "*" in row["test_host"]:
            problems.append("%s: test_host must be a concrete name" % where)
        for component in row.get("components") or []:
            if component not in managed:
                problems.append("%s: %s is not a managed component" % (where, component))
            elif (component, row.get("port")) not in cloud_flows:
                problems.append("%s: no flow %s -> microsoft_online on port %s in ports.yml"
                                % (where, component, row.get("port")))
        if row.get("source") and row["source"] not in (endpoints.get("sources") or {}):
            problems.append("%s: unknown source %s" % (where, row["source"]))
    for key, record in (endpoints.get("dns_records") or {}).items():
        if record.get("source") not in (endpoints.get("sources") or {}):
            problems.append("endpoints.yml dns_records.%s: unknown source %s" % (key, record.get("source")))
    for key, source in (endpoints.get("sources") or {}).items():
        for field in ("title", "url", "document"):
            if not source.get(field):
                problems.append("endpoints.yml sources.%s: missing %s" % (key, field))
    return problems


def tables():
    """(ports, endpoints), loaded once and validated."""
    if "tables" not in _CACHE:
        ports, endpoints = _read("ports.yml"), _read("endpoints.yml")
        problems = validate_tables(ports, endpoints)
        if problems:
            raise TableError("ems.enable network tables are inconsistent: " + "; ".join(problems))
        _CACHE["tables"] = (ports, endpoints)
    return _CACHE["tables"]


def ports_table():
    return tables()[0]


def endpoints_table():
    return tables()[1]


def managed_components():
    return [key for key, value in ports_table()["components"].items() if value.get("managed")]


def feature_names():
    return list(ports_table()["features"])


def dns_record_spec(key):
    return endpoints_table()["dns_records"][key]


def source_of(row, table="ports"):
    data = ports_table() if table == "ports" else endpoints_table()
    return data["sources"][row["source"]]


def check_selection(components, features=()):
    """Input errors of a component/feature selection, as messages naming the value."""
    problems = []
    known = managed_components()
    for component in components or []:
        if component not in known:
            problems.append("component %r is not one of %s" % (component, ", ".join(known)))
    for feature in features or []:
        if feature not in feature_names():
            problems.append("feature %r is not one of %s" % (feature, ", ".join(feature_names())))
    return problems


def flows(components=None, features=(), direction=None):
    """Flows that apply with these features; with components, those that start (out) or end (in)
    at one of them (direction None = both)."""
    features = set(features or ())
    selected = []
    for flow in ports_table()["flows"]:
        if flow["when"] != "always" and flow["when"] not in features:
            continue
        if components is not None:
            inbound = flow["to"] in components and direction in (None, "in")
            outbound = flow["from"] in components and direction in (None, "out")
            if not (inbound or outbound):
                continue
        selected.append(flow)
    return selected


def _addresses(peer_addresses, component):
    value = (peer_addresses or {}).get(component)
    if not value:
        return "any"
    if isinstance(value, str):
        return value
    return ",".join(str(v) for v in value)


def _rule_description(flow, direction):
    components = ports_table()["components"]
    source = source_of(flow)
    peer = flow["from"] if direction == "in" else flow["to"]
    text = "%s %s/%s %s %s: %s Source: %s (%s)" % (
        flow["service"], flow["protocol"].upper(), flow["ports"], "from" if direction == "in" else "to",
        components[peer]["title"], flow["purpose"], source["title"], source["url"])
    return text[:1024]


def rule_name(flow_id, direction, prefix=DEFAULT_RULE_PREFIX):
    return "%s %s %s" % (prefix, direction, flow_id)


def firewall_rules(components, features=(), directions=("in",), peer_addresses=None,
                   prefix=DEFAULT_RULE_PREFIX, group=DEFAULT_RULE_GROUP, profiles=DEFAULT_PROFILES):
    """The Windows Firewall rules of a host that has these components, in the shape of
    community.windows.win_firewall_rule's options.

    Inbound: one rule per flow that ends at one of the components (local port = the flow's ports,
    remote address = peer_addresses[<from component>] or any). Outbound (only when asked: Windows
    allows outbound traffic by default): one rule per flow that starts there (remote port, remote
    address = peer_addresses[<to component>] or any). Names are stable: "<prefix> <in|out> <flow id>".
    """
    rules = []
    for direction in directions:
        if direction not in DIRECTIONS:
            raise ValueError("direction %r is not one of in, out" % (direction,))
        for flow in flows(components, features, direction):
            rule = {
                "name": rule_name(flow["id"], direction, prefix),
                "group": group,
                "description": _rule_description(flow, direction),
                "direction": direction,
                "action": "allow",
                "enabled": True,
                "protocol": flow["protocol"],
                "profiles": list(profiles),
                "flow": flow["id"],
            }
            if direction == "in":
                rule["localport"] = flow["ports"]
                rule["remoteip"] = _addresses(peer_addresses, flow["from"])
            else:
                rule["remoteport"] = flow["ports"]
                rule["remoteip"] = _addresses(peer_addresses, flow["to"])
            rules.append(rule)
    return rules


def open_inbound_rules(rules, components, features=()):
    """One line per inbound rule left at remote address any: the rule, what it opens, on which
    profiles, and the network_peer_addresses key that narrows it (issue 13: the default exposes
    e.g. the DCs' 49152-65535 to every network the host is on)."""
    peers = {flow["id"]: flow["from"] for flow in flows(components, features, "in")}
    titles = ports_table()["components"]
    lines = []
    for rule in rules:
        if rule.get("direction") != "in" or str(rule.get("remoteip", "any")).lower() != "any":
            continue
        peer = peers.get(rule.get("flow"))
        lines.append("Firewall rule %r opens %s/%s inbound to ANY remote address on profiles %s. Set "
                     "network_peer_addresses.%s to the addresses or ranges of %s." % (
                         rule["name"], rule["protocol"].upper(), rule.get("localport"), ",".join(rule["profiles"]),
                         peer, titles[peer]["title"] if peer in titles else peer))
    return lines


def connectivity_checks(components, features=(), targets=None, proxy=None):
    """What a host with these components tests: (checks, untested).

    checks: internal flows to the names in targets[<to component>] (TCP connect; a DNS query for
    UDP 53) and the endpoints of endpoints.yml with a test_host (TLS/HTTP, through the proxy when
    one is given). untested: flows and endpoints that cannot be tested from the host, with why.
    """
    targets = targets or {}
    checks, untested = [], []
    for flow in flows(components, features, "out"):
        if flow["to"] == "microsoft_online":
            continue  # tested through the endpoint rows below
        names = targets.get(flow["to"]) or []
        low, high = parse_ports(flow["ports"])
        reason = None
        if not names:
            reason = "no target names for %s (network_targets.%s)" % (flow["to"], flow["to"])
        elif low != high:
            reason = "port range %s: not tested (a connection test needs a single port)" % flow["ports"]
        elif flow["protocol"] == "udp" and low != 53:
            reason = "UDP %s: connectionless, no reliable test" % flow["ports"]
        if reason:
            untested.append({"id": flow["id"], "component": flow["from"], "to": flow["to"],
                             "protocol": flow["protocol"], "ports": flow["ports"], "reason": reason})
            continue
        for name in names:
            checks.append({
                "id": flow["id"], "component": flow["from"], "to": flow["to"], "host": name,
                "port": low, "protocol": flow["protocol"],
                "kind": "dns" if flow["protocol"] == "udp" else "tcp",
                "path": None, "expect_status": [], "issuer_contains": None, "via_proxy": False,
                "purpose": flow["purpose"], "source": source_of(flow)["url"],
            })
    for row in endpoints_table()["endpoints"]:
        if not set(row["components"]) & set(components or []):
            continue
        if row["check"] == "none":
            untested.append({"id": row["id"], "component": ",".join(row["components"]), "to": row["name"],
                             "protocol": "tcp", "ports": str(row["port"]),
                             "reason": "wildcard allow-list entry: no concrete name to test"})
            continue
        checks.append({
            "id": row["id"], "component": ",".join(sorted(set(row["components"]) & set(components))),
            "to": "microsoft_online", "host": row["test_host"], "port": row["port"], "protocol": "tcp",
            "kind": row["check"], "path": row.get("path") or "/", "expect_status": row.get("expect_status") or [],
            "issuer_contains": row.get("issuer_contains"), "via_proxy": bool(proxy),
            "purpose": row["purpose"], "source": endpoints_table()["sources"][row["source"]]["url"],
        })
    return checks, untested


def all_ports():
    """Every port string of the port table ('443', '49152-65535', ...)."""
    return sorted({flow["ports"] for flow in ports_table()["flows"]}, key=parse_ports)


def failure_table(results, columns=("host", "check", "target", "status", "message")):
    """A plain-text table of check results (dicts with those keys), widths fitted to the content."""
    rows = [[str(r.get(c) if r.get(c) is not None else "") for c in columns] for r in results]
    head = [c.upper() for c in columns]
    widths = [max([len(head[i])] + [len(row[i]) for row in rows]) for i in range(len(columns))]
    lines = ["  ".join(head[i].ljust(widths[i]) for i in range(len(columns))).rstrip(),
             "  ".join("-" * widths[i] for i in range(len(columns)))]
    lines.extend("  ".join(row[i].ljust(widths[i]) for i in range(len(columns))).rstrip() for row in rows)
    return "\n".join(lines)


# ---- docs/network.md ---------------------------------------------------------------------------

def _md(text):
    return str(text).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def render_ports_section():
    data = ports_table()
    comps = data["components"]
    lines = ["| From | To | Protocol | Port(s) | Service | When | Purpose | Source |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for flow in data["flows"]:
        source = data["sources"][flow["source"]]
        purpose = flow["purpose"] + (" " + flow["note"] if flow.get("note") else "")
        lines.append("| %s | %s | %s | %s | %s | %s | %s | [%s](%s) |" % (
            _md(comps[flow["from"]]["title"]), _md(comps[flow["to"]]["title"]), flow["protocol"].upper(),
            flow["ports"], _md(flow["service"]), "always" if flow["when"] == "always" else "`%s`" % flow["when"],
            _md(purpose), _md(source["title"]), source["url"]))
    lines.append("")
    lines.append("Features (`network_features`) that turn on the optional rows:")
    lines.append("")
    for key, text in data["features"].items():
        lines.append("- `%s`: %s" % (key, text))
    return "\n".join(lines)


def render_endpoints_section():
    data = endpoints_table()
    lines = ["| Component | Name | Port | Tested as | Purpose | Source |",
             "| --- | --- | --- | --- | --- | --- |"]
    for row in data["endpoints"]:
        source = data["sources"][row["source"]]
        tested = "not tested (wildcard)" if row["check"] == "none" else "%s `%s%s`" % (
            row["check"], row["test_host"], row.get("path") or "")
        if row.get("expect_status"):
            tested += " expects %s" % ", ".join(str(s) for s in row["expect_status"])
        if row.get("issuer_contains"):
            tested += "; issuer must contain \"%s\"" % row["issuer_contains"]
        purpose = row["purpose"] + (" " + row["note"] if row.get("note") else "")
        lines.append("| %s | `%s` | %s | %s | %s | [%s](%s) |" % (
            ", ".join(row["components"]), row["name"], row["port"], _md(tested), _md(purpose),
            _md(source["title"]), source["url"]))
    return "\n".join(lines)


def render_dns_section():
    data = endpoints_table()
    lines = ["| Record | Type | Expected value | Purpose | Source |", "| --- | --- | --- | --- | --- |"]
    for key, rec in data["dns_records"].items():
        source = data["sources"][rec["source"]]
        if rec["per"] == "upn_suffix":
            names = ["`%s.<UPN suffix>`" % rec["label"]]
            value = "CNAME to `%s`" % rec["target"]
            if rec.get("accepted_with_warning"):
                value += " (warning only: %s)" % ", ".join("`%s`" % t for t in rec["accepted_with_warning"])
        elif rec["per"] == "domain":
            names = ["`%s`" % n.replace("{domain}", "<domain>").replace("{forest}", "<forest root>")
                     for n in rec["names"]]
            value = "SRV to the domain controllers"
        else:
            names = ["`<%s>`" % rec["per"]]
            value = "A record (not a CNAME) to the given addresses"
        lines.append("| %s | %s | %s | %s | [%s](%s) |" % (
            "<br>".join(names), rec["type"], value, _md(rec["purpose"]), _md(source["title"]), source["url"]))
    return "\n".join(lines)


RENDERERS = {"ports": render_ports_section, "endpoints": render_endpoints_section, "dns": render_dns_section}


def update_document(text):
    """The document with every generated section replaced by a fresh rendering."""
    for name in DOC_SECTIONS:
        begin, end = DOC_MARKER.format(name=name), DOC_END.format(name=name)
        start = text.find(begin)
        stop = text.find(end)
        if start < 0 or stop < start:
            raise TableError("document has no generated section %r (markers %s ... %s)" % (name, begin, end))
        text = text[:start + len(begin)] + "\n" + RENDERERS[name]() + "\n" + text[stop:]
    return text


def main(argv=None):  # pragma: no cover - exercised by the unit test through update_document()
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="Generated sections of docs/network.md")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", metavar="FILE")
    group.add_argument("--check", metavar="FILE")
    args = parser.parse_args(argv)
    path = args.write or args.check
    with open(path, encoding="utf-8") as handle:
        old = handle.read()
    new = update_document(old)
    if args.check:
        if new != old:
            sys.stderr.write("%s is stale: run PYTHONPATH=.venv/collections python -m "
                             "ansible_collections.ems.enable.plugins.module_utils.network.tables --write %s\n"
                             % (path, path))
            return 1
        return 0
    if new != old:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(new)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
