# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only facts about Active Directory forests, gathered over LDAP from the controller.

Where each fact lives is MS-ADTS (section numbers in the comments) unless said otherwise.
"""

from __future__ import annotations

import datetime

from ansible_collections.ems.enable.plugins.module_utils import data_files
from ansible_collections.ems.enable.plugins.module_utils.ad import ldap_client as lc
from ansible_collections.ems.enable.plugins.module_utils.ad.levels import level_info, schema_name

# trustAttributes bits (MS-ADTS 6.1.6.7.9) and trustDirection / trustType values (6.1.6.7.12, .15).
TRUST_ATTRIBUTES = {
    0x1: "non_transitive",
    0x2: "uplevel_only",
    0x4: "quarantined_domain",
    0x8: "forest_transitive",
    0x10: "cross_organization",
    0x20: "within_forest",
    0x40: "treat_as_external",
    0x80: "uses_rc4_encryption",
    0x200: "cross_organization_no_tgt_delegation",
    0x400: "pim_trust",
    0x800: "cross_organization_enable_tgt_delegation",
}
TRUST_DIRECTIONS = {0: "disabled", 1: "inbound", 2: "outbound", 3: "bidirectional"}
TRUST_TYPES = {1: "downlevel", 2: "uplevel", 3: "mit", 4: "dce"}

# Entra Connect's default SQL Express LocalDB holds about 100,000 objects (entra-docs,
# how-to-connect-install-prerequisites.md, "SQL Server used by Microsoft Entra Connect").
LOCALDB_OBJECT_LIMIT = 100000

_TLDS = None


def routable_tlds():
    """IdFix's list of routable top-level domains (data file next to this module)."""
    global _TLDS
    if _TLDS is None:
        raw = data_files.read_bytes("ad", "idfix_tlds.txt")
        lines = raw.decode("utf-8").splitlines()
        _TLDS = frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))
    return _TLDS


def is_routable(suffix):
    """A UPN suffix can be verified in Entra ID only if its top-level domain is a public one."""
    suffix = (suffix or "").strip().lower().rstrip(".")
    if "." not in suffix:
        return False
    return "." + suffix.rsplit(".", 1)[1] in routable_tlds()


def filetime_to_iso(value):
    """Windows FILETIME (100 ns since 1601) to ISO 8601 UTC."""
    if value in (None, "", 0):
        return None
    try:
        stamp = datetime.datetime(1601, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(
            microseconds=int(value) // 10)
    except (OverflowError, ValueError):
        return None
    return stamp.isoformat().replace("+00:00", "Z")


def decode_trust(entry):
    attributes = lc.first_int(entry, "trustAttributes", 0)
    trust_type = lc.first_int(entry, "trustType", 0)
    if attributes & 0x8:
        kind = "forest"
    elif attributes & 0x20:
        kind = "within_forest"
    elif trust_type == 3:
        kind = "realm"
    else:
        kind = "external"
    return {
        "partner": lc.first(entry, "trustPartner"),
        "flat_name": lc.first(entry, "flatName"),
        "direction": TRUST_DIRECTIONS.get(lc.first_int(entry, "trustDirection", 0), "unknown"),
        "type": TRUST_TYPES.get(trust_type, "unknown"),
        "attributes": [name for bit, name in sorted(TRUST_ATTRIBUTES.items()) if attributes & bit],
        "attributes_value": attributes,
        "kind": kind,
        "leaves_forest": kind != "within_forest",
    }


def _parent_dn(dn):
    return dn.split(",", 1)[1] if "," in dn else ""


def _rdn_value(dn):
    return dn.split(",", 1)[0].split("=", 1)[1]


def collect_forest(conn, count_objects=True):
    """All facts of the forest conn's DC belongs to."""
    rd = conn.root_dse
    root_nc = lc.first(rd, "rootDomainNamingContext")
    config_nc = lc.first(rd, "configurationNamingContext")
    schema_nc = lc.first(rd, "schemaNamingContext")
    default_nc = lc.first(rd, "defaultNamingContext")
    partitions = "CN=Partitions," + config_nc
    services = "CN=Services," + config_nc

    part_entry = conn.read_entry(partitions, ["msDS-Behavior-Version", "uPNSuffixes"]) or {}
    # Forest level: msDS-Behavior-Version on CN=Partitions, absent = 0 (6.1.4.4).
    forest_level = lc.first_int(part_entry, "msDS-Behavior-Version",
                                lc.first_int(rd, "forestFunctionality", 0))
    schema_entry = conn.read_entry(schema_nc, ["objectVersion"]) or {}
    schema_version = lc.first_int(schema_entry, "objectVersion")
    head = conn.read_entry(default_nc, ["msDS-Behavior-Version"]) or {}

    domains = []
    # Domains of the forest: crossRef objects with FLAG_CR_NTDS_DOMAIN (systemFlags & 2) (6.1.1.2.1.1).
    for dn, entry in conn.search(partitions, "(&(objectClass=crossRef)(systemFlags:1.2.840.113556.1.4.803:=2))",
                                 ["nCName", "dnsRoot", "nETBIOSName"], scope=lc.ldap.SCOPE_ONELEVEL):
        nc = lc.first(entry, "nCName")
        level = None
        if nc and nc.lower() == default_nc.lower():
            level = level_info(lc.first_int(head, "msDS-Behavior-Version", lc.first_int(rd, "domainFunctionality")))
        domains.append({
            "dns_name": lc.first(entry, "dnsRoot"),
            "netbios_name": lc.first(entry, "nETBIOSName"),
            "dn": nc,
            "level": level,  # read from the queried domain only; other domains need one of their DCs
            "forest_root": bool(nc and nc.lower() == root_nc.lower()),
            "queried": bool(nc and nc.lower() == default_nc.lower()),
        })
    domains.sort(key=lambda d: (not d["forest_root"], d["dns_name"] or ""))
    domain_by_nc = {(d["dn"] or "").lower(): d["dns_name"] for d in domains}

    # DCs: nTDSDSA objects under CN=Sites; their parent is the server object (6.1.1.2.2.1.2.1.1).
    sites_dn = "CN=Sites," + config_nc
    servers = {dn.lower(): entry for dn, entry in conn.search(
        sites_dn, "(objectClass=server)", ["dNSHostName", "cn"])}
    dcs = []
    for dn, entry in conn.search(sites_dn, "(objectClass=nTDSDSA)",
                                 ["msDS-Behavior-Version", "options", "msDS-hasDomainNCs", "hasMasterNCs",
                                  "msDS-isRODC", "objectCategory"]):
        server_dn = _parent_dn(dn)
        server = servers.get(server_dn.lower(), {})
        site = _rdn_value(_parent_dn(_parent_dn(server_dn)))
        domain_ncs = lc.all_text(entry, "msDS-hasDomainNCs") or [
            nc for nc in lc.all_text(entry, "hasMasterNCs") if nc.lower() in domain_by_nc]
        read_only = (lc.first(entry, "msDS-isRODC", "FALSE").upper() == "TRUE"
                     or "ntds-dsa-ro" in (lc.first(entry, "objectCategory", "") or "").lower())
        dcs.append({
            "name": lc.first(server, "cn") or _rdn_value(server_dn),
            "dns_host_name": lc.first(server, "dNSHostName"),
            "site": site,
            "domain": domain_by_nc.get(domain_ncs[0].lower()) if domain_ncs else None,
            "level": level_info(lc.first_int(entry, "msDS-Behavior-Version", 0)),
            "global_catalog": bool(lc.first_int(entry, "options", 0) & 1),
            "read_only": read_only,
        })
    dcs.sort(key=lambda d: (d["dns_host_name"] or d["name"] or "").lower())

    trusts = [decode_trust(entry) for _dn, entry in conn.search(
        "CN=System," + default_nc, "(objectClass=trustedDomain)",
        ["trustPartner", "flatName", "trustDirection", "trustType", "trustAttributes"],
        scope=lc.ldap.SCOPE_ONELEVEL)]
    trusts.sort(key=lambda t: (t["partner"] or "").lower())

    suffixes = []
    seen = set()
    for source, names in (("domain", [d["dns_name"] for d in domains]),
                          ("alternative", lc.all_text(part_entry, "uPNSuffixes"))):
        for name in names:
            if name and name.lower() not in seen:
                seen.add(name.lower())
                suffixes.append({"suffix": name, "source": source, "routable": is_routable(name)})

    # gMSA needs a KDS root key: msKds-ProvRootKey objects under CN=Master Root Keys (MS-GKDI 3.1.1).
    kds_keys = list(conn.search("CN=Master Root Keys,CN=Group Key Distribution Service," + services,
                                "(objectClass=msKds-ProvRootKey)", ["msKds-UseStartTime"],
                                scope=lc.ldap.SCOPE_ONELEVEL))
    start_times = sorted(lc.first_int(e, "msKds-UseStartTime", 0) for _dn, e in kds_keys)
    kds = {"present": bool(kds_keys), "count": len(kds_keys),
           "usable_from": filetime_to_iso(start_times[0]) if start_times else None}

    recycle = conn.read_entry(
        "CN=Recycle Bin Feature,CN=Optional Features,CN=Directory Service,CN=Windows NT," + services,
        ["msDS-EnabledFeatureBL"])

    facts = {
        "forest": lc.dn_to_dns(root_nc),
        "forest_root_dn": root_nc,
        "queried_dc": conn.server,
        "queried_domain": lc.dn_to_dns(default_nc),
        "forest_level": level_info(forest_level),
        "domain_level": level_info(lc.first_int(rd, "domainFunctionality", 0)),
        "dc_level": level_info(lc.first_int(rd, "domainControllerFunctionality", 0)),
        "schema": {"version": schema_version, "name": schema_name(schema_version)},
        "domains": domains,
        "domain_controllers": dcs,
        "trusts": trusts,
        "upn_suffixes": suffixes,
        "kds_root_key": kds,
        "exchange": collect_exchange(conn, services, schema_nc),
        "recycle_bin": bool(recycle and recycle.get("msDS-EnabledFeatureBL")),
        "object_counts": None,
    }
    if count_objects:
        counts = {
            "users": conn.count(default_nc, "(&(objectCategory=person)(objectClass=user))"),
            "groups": conn.count(default_nc, "(objectClass=group)"),
            "contacts": conn.count(default_nc, "(objectClass=contact)"),
        }
        counts["total"] = sum(counts.values())
        counts["domain"] = facts["queried_domain"]
        counts["localdb_limit"] = LOCALDB_OBJECT_LIMIT
        facts["object_counts"] = counts
    return facts


def collect_exchange(conn, services, schema_nc):
    """Exchange organization (CN=Microsoft Exchange,CN=Services,<config>) and its servers, or None."""
    container = "CN=Microsoft Exchange," + services
    if conn.read_entry(container, ["cn"]) is None:
        return None
    orgs = list(conn.search(container, "(objectClass=msExchOrganizationContainer)", ["cn"],
                            scope=lc.ldap.SCOPE_ONELEVEL))
    if not orgs:
        return None
    org_dn, org = orgs[0]
    servers = [{"name": lc.first(e, "cn"), "version": lc.first(e, "serialNumber")}
               for _dn, e in conn.search(org_dn, "(objectClass=msExchExchangeServer)", ["cn", "serialNumber"])]
    # rangeUpper of ms-Exch-Schema-Version-Pt is the Exchange schema version (Exchange docs,
    # "Exchange Server Active Directory versions").
    version_entry = conn.read_entry("CN=ms-Exch-Schema-Version-Pt," + schema_nc, ["rangeUpper"])
    return {
        "organization": lc.first(org, "cn"),
        "schema_version": lc.first_int(version_entry, "rangeUpper"),
        "servers": sorted(servers, key=lambda s: s["name"] or ""),
    }


def gather(params, count_objects=True):
    """Facts for every forest the given DCs belong to: one entry per forest.

    Each server's rootDSE (anonymous) tells its forest; the first reachable DC of a forest is bound to
    and queried, later DCs of the same forest are spares. DCs that are down or unreachable are
    reported, and only when none answers does the whole call fail; a TLS certificate that does not
    validate fails at once (a forest must not drop out of the checks because of it).
    """
    lc.check_requirements()
    forests = {}
    order = []
    unreachable = []
    errors = []
    for server in [s.strip() for s in params["server"] if s and s.strip()]:
        try:
            root = lc.first(lc.read_root_dse(server, params), "rootDomainNamingContext")
        except lc.LdapError as err:
            if err.kind == "tls":
                # A certificate problem is configuration, not a DC that is down: skipping it could
                # silently drop a second forest from the single-forest check.
                raise
            errors.append(err)
            unreachable.append({"server": server, "error": err.message})
            continue
        key = (root or server).lower()
        if key in forests:
            forests[key]["servers"].append(server)
            continue
        conn = lc.connect(params, server=server)
        try:
            facts = collect_forest(conn, count_objects=count_objects)
        finally:
            conn.close()
        facts["servers"] = [server]
        forests[key] = facts
        order.append(key)
    if not order and len(errors) == 1:
        raise errors[0]
    if not order:
        raise lc.LdapError("No domain controller answered (%d tried): %s." % (
            len(unreachable), "; ".join(u["error"].rstrip(".") for u in unreachable)),
            "Check the DC names, that they run, and the firewall between controller and DCs.",
            kind="connect")
    return [forests[k] for k in order], unreachable
