# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ems.enable.dns_check: the DNS records the Enable phase's components need, asked of given resolvers.

Records (what and why in endpoints.yml, dns_records):
  - the federation service name: an A record (a CNAME breaks Windows Integrated authentication);
  - EnterpriseEnrollment.<suffix> CNAME -> EnterpriseEnrollment-s.manage.microsoft.com and
    EnterpriseRegistration.<suffix> CNAME -> EnterpriseRegistration.windows.net per routable UPN suffix;
  - the RMS connector name: an A record to the connector load balancer;
  - the DC locator SRV records of each domain (and _gc of the forest root).
Each resolver is asked directly (dnspython, no recursion through the controller's own resolver, no
CNAME chasing), so what is seen is exactly what that DNS server holds. Every record gets a status
pass|warn|fail, a message naming the record and what was found, and a remedy (the PowerShell
DnsServer command to run, or the `fix` dict roles/network passes to ansible.windows.win_dns_record).
Read-only: check mode gives the same answers.
"""

from __future__ import annotations

import ipaddress

try:
    import dns.exception
    import dns.flags
    import dns.message
    import dns.name
    import dns.query
    import dns.rcode
    import dns.rdatatype
    import dns.resolver

    HAS_DNSPYTHON = True
    DNSPYTHON_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by check_requirements()
    HAS_DNSPYTHON = False
    DNSPYTHON_IMPORT_ERROR = str(exc)

from ansible_collections.ems.enable.plugins.module_utils.ad import facts as ad_facts
from ansible_collections.ems.enable.plugins.module_utils.network import tables as nt
from ansible_collections.ems.enable.plugins.module_utils.ad.ldap_client import LdapError
from ansible_collections.ems.enable.plugins.module_utils.network.host_names import (
    HostNameError, check_port, check_timeout, is_dns_name)

RECORD_TYPES = ("A", "CNAME", "SRV")

DNS_CHECK_SPEC = dict(
    resolvers=dict(type="list", elements="str", required=True),
    port=dict(type="int", default=53),
    timeout=dict(type="float", default=5.0),
    federation_service_name=dict(type="str"),
    federation_service_addresses=dict(type="list", elements="str", default=[]),
    upn_suffixes=dict(type="list", elements="str", default=[]),
    enrollment_records=dict(type="bool", default=True),
    registration_records=dict(type="bool", default=True),
    rms_connector_name=dict(type="str"),
    rms_connector_addresses=dict(type="list", elements="str", default=[]),
    domains=dict(type="list", elements="str", default=[]),
    forest=dict(type="str"),
    domain_controllers=dict(type="list", elements="str", default=[]),
    records=dict(type="list", elements="dict", default=[], options=dict(
        name=dict(type="str", required=True),
        type=dict(type="str", required=True, choices=list(RECORD_TYPES)),
        values=dict(type="list", elements="str", default=[]),
    )),
)
DNS_CHECK_KWARGS = {}
MAX_TIMEOUT = 300  # seconds per query; a longer wait is a hung check, not a slow DNS server


class NetworkCheckError(LdapError):
    """An expected fault of a network check (bad input, no resolver answering): one line + remedy.

    A subclass of the collection's LdapError so the shared controller action and module_main turn
    it into `failed` with the message, never a traceback."""


def check_requirements():
    if not HAS_DNSPYTHON:
        raise NetworkCheckError(
            "The Python library dnspython is not installed on the controller (%s)." % DNSPYTHON_IMPORT_ERROR,
            "pip install dnspython (see the collection's requirements.txt).", kind="requirements")


def clean(name):
    """The name as given, without spaces and the root dot (kept for messages)."""
    return (name or "").strip().rstrip(".")


def normalize(name):
    """The name for comparisons (DNS names are case-insensitive)."""
    return clean(name).lower()


def _is_ipv4(text):
    try:
        return isinstance(ipaddress.ip_address(str(text).strip()), ipaddress.IPv4Address)
    except ValueError:
        return False


def validate_params(params):
    """Input errors, raised before any query, naming the option and the value."""
    def bad(message, remedy):
        raise NetworkCheckError(message, remedy, kind="input")

    resolvers = params.get("resolvers") or []
    if not resolvers:
        bad("resolvers: give at least one DNS server IP address.", "For AD-integrated DNS: the DCs' addresses.")
    for index, value in enumerate(resolvers):
        try:
            ipaddress.ip_address(str(value).strip())
        except ValueError:
            bad("resolvers[%d]: %r is not an IP address." % (index, value),
                "Give the DNS servers by address (the check asks each one directly, without the controller's resolver).")
    try:
        check_port(params.get("port"), "port")
        check_timeout(params.get("timeout"), "timeout", MAX_TIMEOUT)
    except HostNameError as err:
        bad(str(err), "The defaults are port 53 and timeout 5.")
    if params.get("timeout") is None:
        bad("timeout: give a number of seconds.", "The default is 5.")
    for option in ("federation_service_name", "rms_connector_name", "forest"):
        value = params.get(option)
        if value is not None and not is_dns_name(value):
            bad("%s: %r is not a fully qualified DNS name." % (option, value), "Give the full name, e.g. fs.contoso.com.")
    for option in ("upn_suffixes", "domains", "domain_controllers"):
        for index, value in enumerate(params.get(option) or []):
            if not is_dns_name(value):
                bad("%s[%d]: %r is not a fully qualified DNS name." % (option, index, value),
                    "Give DNS names such as contoso.com.")
    for option, name_option in (("federation_service_addresses", "federation_service_name"),
                                ("rms_connector_addresses", "rms_connector_name")):
        for index, value in enumerate(params.get(option) or []):
            if not _is_ipv4(value):
                bad("%s[%d]: %r is not an IPv4 address." % (option, index, value),
                    "Give the load balancer's IPv4 address(es) the A record must hold.")
        if params.get(option) and not params.get(name_option):
            bad("%s was given without %s." % (option, name_option), "Give %s too." % name_option)
    if params.get("domain_controllers") and not params.get("domains"):
        bad("domain_controllers was given without domains.", "List the AD DNS domains whose SRV records to check.")
    for index, record in enumerate(params.get("records") or []):
        rtype = record.get("type")
        if not is_dns_name(record.get("name"), allow_underscore=(rtype == "SRV")):
            bad("records[%d].name: %r is not a fully qualified DNS name." % (index, record.get("name")),
                "Give the full owner name of the record.")
        for value in record.get("values") or []:
            if rtype == "A" and not _is_ipv4(value):
                bad("records[%d].values: %r is not an IPv4 address (type A)." % (index, value), "Give IPv4 addresses.")
            if rtype in ("CNAME", "SRV") and not is_dns_name(value):
                bad("records[%d].values: %r is not a DNS name (type %s)." % (index, value, rtype),
                    "Give the target host names.")
    wanted = (params.get("federation_service_name") or params.get("rms_connector_name") or params.get("domains")
              or params.get("records")
              or (params.get("upn_suffixes") and (params.get("enrollment_records") or params.get("registration_records"))))
    if not wanted:
        bad("Nothing to check: give federation_service_name, upn_suffixes, rms_connector_name, domains or records.",
            "Name at least one service whose DNS records should be checked.")


def build_expectations(params):
    """The records to check, from the options and endpoints.yml (dns_records)."""
    expectations, skipped = [], []

    def add(name, rtype, values, component, spec, accepted_with_warning=(), why=None):
        source = nt.endpoints_table()["sources"][spec["source"]]
        expectations.append({
            "name": clean(name), "type": rtype, "values": [clean(v) for v in values],
            "accepted_with_warning": [clean(v) for v in accepted_with_warning],
            "component": component, "purpose": why or spec["purpose"], "source": source["url"],
        })

    if params.get("federation_service_name"):
        add(params["federation_service_name"], "A", params.get("federation_service_addresses") or [], "adfs",
            nt.dns_record_spec("federation_service"))
    if params.get("rms_connector_name"):
        add(params["rms_connector_name"], "A", params.get("rms_connector_addresses") or [], "rms_connector",
            nt.dns_record_spec("rms_connector"))
    for suffix in params.get("upn_suffixes") or []:
        suffix = normalize(suffix)
        if not ad_facts.is_routable(suffix):
            skipped.append({"name": suffix, "reason": "UPN suffix %s is not routable (its top-level domain is not "
                            "public): it cannot be verified in Entra ID, so no enrollment CNAMEs are needed." % suffix})
            continue
        for key, enabled in (("enterprise_enrollment", params.get("enrollment_records")),
                             ("enterprise_registration", params.get("registration_records"))):
            if not enabled:
                continue
            spec = nt.dns_record_spec(key)
            add("%s.%s" % (spec["label"], suffix), "CNAME", [spec["target"]], "intune", spec,
                spec.get("accepted_with_warning") or [])
    domains = [normalize(d) for d in params.get("domains") or []]
    forest = normalize(params.get("forest")) or (domains[0] if domains else None)
    spec = nt.dns_record_spec("dc_locator")
    seen = set()
    for domain in domains:
        for pattern in spec["names"]:
            name = pattern.format(domain=domain, forest=forest)
            if name in seen:
                continue
            seen.add(name)
            add(name, "SRV", params.get("domain_controllers") or [], "domain_controller", spec)
    for record in params.get("records") or []:
        expectations.append({"name": clean(record["name"]), "type": record["type"],
                             "values": [clean(v) for v in record.get("values") or []],
                             "accepted_with_warning": [], "component": "custom",
                             "purpose": "Record listed in the records option.", "source": None})
    return expectations, skipped


# ---- querying ----------------------------------------------------------------------------------

class ResolverTimeout(Exception):
    pass


def _query(resolver, port, timeout, name, rtype):
    """One direct query; returns (rcode text, {type: [values]} for records owned by name)."""
    query = dns.message.make_query(name + ".", getattr(dns.rdatatype, rtype))
    query.flags |= dns.flags.RD
    try:
        response, _tcp = dns.query.udp_with_fallback(query, resolver, timeout=timeout, port=port)
    except dns.exception.Timeout as err:
        raise ResolverTimeout("no answer within %ss" % timeout) from err
    except OSError as err:
        raise ResolverTimeout(str(err) or err.__class__.__name__) from err
    found = {}
    owner = dns.name.from_text(name + ".")
    for rrset in response.answer:
        if rrset.name != owner:
            continue  # further links of a chain: not this name's own record
        kind = dns.rdatatype.to_text(rrset.rdtype)
        values = found.setdefault(kind, [])
        for rdata in rrset:
            if kind == "A":
                values.append(rdata.address)
            elif kind == "CNAME":
                values.append(clean(rdata.target.to_text()))
            elif kind == "SRV":
                values.append("%s:%d" % (clean(rdata.target.to_text()), rdata.port))
            else:
                values.append(rdata.to_text())
    return dns.rcode.to_text(response.rcode()), found


def observe(resolver, port, timeout, expectation):
    """What the resolver holds for the expected name: {rcode, found: {type: values}}."""
    name, rtype = expectation["name"], expectation["type"]
    rcode, found = _query(resolver, port, timeout, name, rtype)
    if rcode == "NOERROR" and not found:
        # The name exists without the wanted type (an A query shows a CNAME by itself): look for
        # what it holds instead, to report a wrong type rather than a missing record.
        for other in [t for t in ("CNAME", "A") if t != rtype and rtype != "A"]:
            found.update(_query(resolver, port, timeout, name, other)[1])
    return {"rcode": rcode, "found": found}


def find_zone(resolver, port, timeout, name):
    """The zone that holds name on that server (SOA walk), or None."""
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = [resolver]
    res.port = port
    res.timeout = timeout
    res.lifetime = timeout * 2
    try:
        return normalize(dns.resolver.zone_for_name(name, resolver=res).to_text())
    except (dns.exception.DNSException, OSError):
        return None


# ---- verdicts ----------------------------------------------------------------------------------

def _relative(name, zone):
    """The owner name relative to its zone, as win_dns_record and the DnsServer cmdlets want it."""
    if zone and normalize(name).endswith("." + zone):
        return name[:-(len(zone) + 1)]
    if zone and normalize(name) == zone:
        return "@"
    return name


def _fix(expectation, zone):
    """What to create so the record is right (for ansible.windows.win_dns_record), or None."""
    if not zone or expectation["type"] == "SRV" or not expectation["values"]:
        return None
    return {"zone": zone, "name": _relative(expectation["name"], zone), "type": expectation["type"],
            "value": expectation["values"] if expectation["type"] == "A" else expectation["values"][:1]}


def _create_command(expectation, zone):
    name, rtype, values = expectation["name"], expectation["type"], expectation["values"]
    zone_text = zone or "<the zone that holds %s>" % name
    rel = _relative(name, zone) if zone else name
    if rtype == "SRV":
        return ("The DCs register these themselves: on each DC of the domain check that its DNS client points at "
                "AD DNS, then run `nltest /dsregdns` (or restart the Netlogon service) and `dcdiag /test:dns`.")
    if rtype == "A":
        address = ", ".join(values) if values else "<load balancer IPv4 address>"
        return ("Add-DnsServerResourceRecordA -ZoneName %s -Name %s -IPv4Address %s"
                % (zone_text, rel, address))
    target = values[0] if values else "<target>"
    return "Add-DnsServerResourceRecordCName -ZoneName %s -Name %s -HostNameAlias %s" % (zone_text, rel, target)


def _remove_command(expectation, zone, rtype):
    rel = _relative(expectation["name"], zone) if zone else expectation["name"]
    return "Remove-DnsServerResourceRecord -ZoneName %s -Name %s -RRType %s -Force" % (
        zone or "<the zone that holds %s>" % expectation["name"], rel, {"CNAME": "CName"}.get(rtype, rtype))


def evaluate(expectation, observation, resolver, zone):
    """(status, message, remedy) for one record at one resolver."""
    name, rtype, wanted = expectation["name"], expectation["type"], expectation["values"]
    rcode, found = observation["rcode"], observation["found"]
    why = expectation["purpose"]
    create = _create_command(expectation, zone)
    # A CNAME whose target does not exist comes back as NXDOMAIN with the CNAME in the answer
    # (RFC 6604: the code is about the end of the chain), so what was found decides first.
    if not found:
        if rcode in ("NXDOMAIN", "NOERROR"):
            what = "does not exist" if rcode == "NXDOMAIN" else "has no %s record" % rtype
            return "fail", "%s (%s) %s at resolver %s. %s" % (name, rtype, what, resolver, why), create
        return "fail", "%s (%s): resolver %s answered %s." % (name, rtype, resolver, rcode), (
            "Check that %s serves the zone of %s (REFUSED/SERVFAIL: not authoritative and no forwarder)."
            % (resolver, name))
    if rtype not in found:
        other = "CNAME" if "CNAME" in found else sorted(found)[0]
        shown = ", ".join(found[other])
        if rtype == "A" and other == "CNAME":
            message = ("%s is a CNAME to %s at resolver %s, but an A record is required: %s"
                       % (name, shown, resolver, why))
        else:
            message = "%s is %s %s record (%s) at resolver %s, but %s %s record is required. %s" % (
                name, _article(other), other, shown, resolver, _article(rtype), rtype, why)
        return "fail", message, "Replace it: %s; then %s" % (_remove_command(expectation, zone, other), create)
    values = found[rtype]
    if rtype == "SRV":
        targets = {normalize(v.split(":")[0]) for v in values}
        missing = [dc for dc in wanted if normalize(dc) not in targets]
        if missing:
            return "fail", "%s (SRV) at resolver %s lists %s but not %s." % (
                name, resolver, ", ".join(sorted(targets)), ", ".join(missing)), (
                "On %s: check its DNS client settings, then `nltest /dsregdns` and `dcdiag /test:dns`." % ", ".join(missing))
        return "pass", "%s (SRV) at resolver %s: %s." % (name, resolver, ", ".join(sorted(values))), None
    if rtype == "CNAME":
        target = values[0]
        if wanted and normalize(target) not in {normalize(w) for w in wanted}:
            if normalize(target) in {normalize(a) for a in expectation["accepted_with_warning"]}:
                return "warn", ("%s is a CNAME to %s at resolver %s: this works, but %s is preferred (users do "
                                "not have to confirm a message)." % (name, target, resolver, wanted[0])), (
                    "Point it at %s: %s; then %s" % (wanted[0], _remove_command(expectation, zone, "CNAME"), create))
            return "fail", "%s is a CNAME to %s at resolver %s, but it must point to %s. %s" % (
                name, target, resolver, " or ".join(wanted), why), (
                "Correct the target: %s; then %s" % (_remove_command(expectation, zone, "CNAME"), create))
        return "pass", "%s is a CNAME to %s at resolver %s." % (name, target, resolver), None
    # A
    if wanted and set(values) != set(wanted):
        return "fail", "%s has A %s at resolver %s, but it must hold %s. %s" % (
            name, ", ".join(sorted(values)), resolver, ", ".join(wanted), why), (
            "Correct the address: %s; then %s" % (_remove_command(expectation, zone, "A"), create))
    return "pass", "%s has A %s at resolver %s." % (name, ", ".join(sorted(values)), resolver), None


def _article(rtype):
    return "an" if rtype[:1] in ("A", "S") else "a"


_RANK = {"pass": 0, "warn": 1, "fail": 2}


def run_dns_check(params, check_mode=False):
    """Entry point (action plugin and module main). Read-only: identical in check mode."""
    del check_mode
    validate_params(params)
    check_requirements()
    expectations, skipped = build_expectations(params)
    port, timeout = params["port"], float(params["timeout"])
    resolvers = [str(r).strip() for r in params["resolvers"]]

    answering, silent = [], []
    for resolver in resolvers:
        try:
            _query(resolver, port, timeout, expectations[0]["name"], expectations[0]["type"])
            answering.append(resolver)
        except ResolverTimeout as err:
            silent.append({"resolver": resolver, "error": str(err)})
    if not answering:
        raise NetworkCheckError(
            "DNS check: no resolver answered (%s)." % "; ".join("%s: %s" % (s["resolver"], s["error"]) for s in silent),
            "Check that the DNS servers are up and reachable from the controller on port %d (UDP and TCP)." % port,
            server=",".join(resolvers), kind="timeout")

    zones = {}
    records = []
    for expectation in expectations:
        entry = dict(expectation, status="pass", message=None, remedy=None, zone=None, fix=None, resolvers={})
        worst = None
        for resolver in answering:
            try:
                observation = observe(resolver, port, timeout, expectation)
            except ResolverTimeout as err:
                status, message, remedy = "fail", "%s (%s): resolver %s stopped answering (%s)." % (
                    expectation["name"], expectation["type"], resolver, err), "Check the DNS server %s." % resolver
                observation = {"rcode": "TIMEOUT", "found": {}}
                zone = None
            else:
                key = (resolver, normalize(expectation["name"]))
                if key not in zones:
                    zones[key] = find_zone(resolver, port, timeout, expectation["name"])
                zone = zones[key]
                status, message, remedy = evaluate(expectation, observation, resolver, zone)
            entry["resolvers"][resolver] = {"status": status, "rcode": observation["rcode"],
                                            "found": observation["found"], "message": message}
            entry["zone"] = entry["zone"] or zone
            if worst is None or _RANK[status] > _RANK[worst[0]]:
                worst = (status, message, remedy)
        entry["status"], entry["message"], entry["remedy"] = worst
        if entry["status"] != "pass":
            entry["fix"] = _fix(expectation, entry["zone"])
            if entry["fix"]:
                wrong = {t for seen in entry["resolvers"].values() for t in seen["found"]} - {expectation["type"]}
                entry["fix"]["remove_type"] = sorted(wrong)[0] if wrong else None
        records.append(entry)
    for item in silent:
        records.append({"name": item["resolver"], "type": "resolver", "values": [], "accepted_with_warning": [],
                        "component": "dns", "purpose": "Every given resolver must answer.", "source": None,
                        "status": "fail", "zone": None, "fix": None, "resolvers": {},
                        "message": "Resolver %s did not answer: %s." % (item["resolver"], item["error"]),
                        "remedy": "Check that DNS server %s is up and reachable on port %d." % (item["resolver"], port)})

    summary = {"pass": 0, "warn": 0, "fail": 0}
    for entry in records:
        summary[entry["status"]] += 1
    result = {"changed": False, "records": records, "skipped": skipped, "summary": summary,
              "resolvers": resolvers, "warnings": [s["reason"] for s in skipped]}
    result["warnings"].extend(e["message"] for e in records if e["status"] == "warn")
    failures = [e for e in records if e["status"] == "fail"]
    if failures:
        result["failed"] = True
        result["msg"] = "DNS check against %s: %d of %d records fail. %s" % (
            ", ".join(resolvers), len(failures), len(records),
            " | ".join("%s Fix: %s" % (e["message"], e["remedy"]) for e in failures))
    else:
        result["msg"] = "DNS check against %s: all %d records are right%s." % (
            ", ".join(resolvers), len(records), " (%d warnings)" % summary["warn"] if summary["warn"] else "")
    return result
