# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Does the Entra Connect AD DS Connector account hold the password hash sync rights?

Entra Connect's wizard never checks that the connector account holds "Replicating Directory
Changes" and "Replicating Directory Changes All" on each domain root (entra-docs,
reference-connect-accounts-permissions.md); missing rights show up only as sync errors later.
This reads each domain root's DACL over LDAP and evaluates it for the account and its groups.

A domain root's DACL is in the domain naming context, which only the DCs of that domain hold (a global
catalog has a partial, read-only copy without security descriptors to rely on; a DC of another domain
answers with a referral). So each domain other than the connected DC's own is read through a DC of that
domain, found with the DC locator (dc_locator.py: DNS SRV _ldap._tcp.dc._msdcs.<domain>) and bound with
the same connection options and safety rules (ldap_client.connect).

Formats: SECURITY_DESCRIPTOR, ACL, ACE, SID in MS-DTYP 2.4.2-2.4.6; access mask bits in MS-ADTS
5.1.3.2; the SD flags control in MS-ADTS 3.1.1.3.4.1.11. This is a small hand-written parser of
the DACL only; a maintained library (e.g. winacl) could replace it if it becomes a dependency anyway.
"""

from __future__ import annotations

import re
import struct
import uuid

from ansible_collections.ems.enable.plugins.module_utils.ad import dc_locator
from ansible_collections.ems.enable.plugins.module_utils.ad import ldap_client as lc
from ansible_collections.ems.enable.plugins.module_utils.network.host_names import is_dns_name

# The extended rights password hash sync needs (rightsGuid of the controlAccessRight objects).
REQUIRED_RIGHTS = {
    "replicating_directory_changes": ("1131f6aa-9c07-11d1-f79f-00c04fc2dcd2", "Replicating Directory Changes"),
    "replicating_directory_changes_all": ("1131f6ad-9c07-11d1-f79f-00c04fc2dcd2",
                                          "Replicating Directory Changes All"),
}

ADS_RIGHT_DS_CONTROL_ACCESS = 0x100  # MS-ADTS 5.1.3.2 "RIGHT_DS_CONTROL_ACCESS"
GENERIC_ALL = 0x10000000
ACE_ALLOWED, ACE_DENIED, ACE_ALLOWED_OBJECT, ACE_DENIED_OBJECT = 0x0, 0x1, 0x5, 0x6
INHERIT_ONLY_ACE = 0x08
ACE_OBJECT_TYPE_PRESENT, ACE_INHERITED_OBJECT_TYPE_PRESENT = 0x1, 0x2
SD_FLAGS_OID = "1.2.840.113556.1.4.801"
SD_FLAGS_DACL = bytes.fromhex("3003020104")  # SEQUENCE { INTEGER 4 } = DACL_SECURITY_INFORMATION
# Principals every authenticated account belongs to without them appearing in tokenGroups.
IMPLICIT_SIDS = {"S-1-1-0": "Everyone", "S-1-5-11": "Authenticated Users"}


def sid_to_str(raw):
    """Binary SID (MS-DTYP 2.4.2.2) to S-1-5-21-... text."""
    revision, count = raw[0], raw[1]
    authority = int.from_bytes(raw[2:8], "big")
    subs = struct.unpack("<%dI" % count, raw[8:8 + 4 * count])
    return "S-%d-%d%s" % (revision, authority, "".join("-%d" % s for s in subs))


def _sid_length(raw, offset):
    return 8 + 4 * raw[offset + 1]


def parse_dacl(sd):
    """ACEs of a self-relative security descriptor's DACL: [{type, flags, mask, object_type, sid}]."""
    if len(sd) < 20:
        raise ValueError("security descriptor too short")
    dacl_offset = struct.unpack_from("<I", sd, 16)[0]
    if not dacl_offset:
        return []
    _rev, _sbz, _size, count, _sbz2 = struct.unpack_from("<BBHHH", sd, dacl_offset)
    aces = []
    pos = dacl_offset + 8
    for _ace_number in range(count):
        ace_type, ace_flags, ace_size = struct.unpack_from("<BBH", sd, pos)
        body = pos + 4
        ace = {"type": ace_type, "flags": ace_flags, "mask": None, "object_type": None, "sid": None}
        if ace_type in (ACE_ALLOWED, ACE_DENIED):
            ace["mask"] = struct.unpack_from("<I", sd, body)[0]
            ace["sid"] = sid_to_str(sd[body + 4:body + 4 + _sid_length(sd, body + 4)])
        elif ace_type in (ACE_ALLOWED_OBJECT, ACE_DENIED_OBJECT):
            ace["mask"], obj_flags = struct.unpack_from("<II", sd, body)
            cursor = body + 8
            if obj_flags & ACE_OBJECT_TYPE_PRESENT:
                ace["object_type"] = str(uuid.UUID(bytes_le=bytes(sd[cursor:cursor + 16])))
                cursor += 16
            if obj_flags & ACE_INHERITED_OBJECT_TYPE_PRESENT:
                cursor += 16
            ace["sid"] = sid_to_str(sd[cursor:cursor + _sid_length(sd, cursor)])
        aces.append(ace)
        pos += ace_size
    return aces


def evaluate_right(aces, sids, right_guid):
    """('granted'|'denied'|'missing', [SIDs that grant or deny]) for an extended right on the object."""
    allowed, denied = [], []
    for ace in aces:
        if ace["flags"] & INHERIT_ONLY_ACE or ace["sid"] not in sids or ace["mask"] is None:
            continue
        covers = bool(ace["mask"] & GENERIC_ALL) or (
            bool(ace["mask"] & ADS_RIGHT_DS_CONTROL_ACCESS)
            and (ace["object_type"] is None or ace["object_type"] == right_guid))
        if not covers:
            continue
        if ace["type"] in (ACE_DENIED, ACE_DENIED_OBJECT):
            denied.append(ace["sid"])
        elif ace["type"] in (ACE_ALLOWED, ACE_ALLOWED_OBJECT):
            allowed.append(ace["sid"])
    if denied:  # an explicit deny that applies wins over any allow (canonical order puts it first)
        return "denied", sorted(set(denied))
    return ("granted", sorted(set(allowed))) if allowed else ("missing", [])


def _escape_filter_bytes(raw):
    return "".join("\\%02x" % b for b in raw)


_DN_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]*=[^,]*(?:\\.[^,]*)*,")


def parse_account(account):
    """('dn'|'upn'|'sam', value) for an account given as DN, UPN, DOMAIN\\name or sAMAccountName.

    A distinguished name is recognised before anything else: its escaped characters (``\\,``) are
    not a DOMAIN\\name separator.
    """
    if _DN_RE.match(account):
        return "dn", account
    name = account.split("\\", 1)[1] if "\\" in account else account
    return ("upn" if "@" in name else "sam"), name


def _lookup_account(conn, kind, name, base):
    """(dn, entry) of the account in the domain of `conn` (under `base`), or None."""
    if kind == "dn":
        entry = conn.read_entry(name, ["objectSid", "sAMAccountName"])
        return (name, entry) if entry else None
    attr = "userPrincipalName" if kind == "upn" else "sAMAccountName"
    escaped = lc.ldap.filter.escape_filter_chars(name)
    found = list(conn.search(base, "(&(objectClass=user)(%s=%s))" % (attr, escaped), ["objectSid", "sAMAccountName"]))
    return found[0] if found else None


def _account_entry(conn, dn, entry):
    """The account's DN, SID and token group SIDs, read on a DC of its own domain (`conn`)."""
    sid = sid_to_str(entry["objectSid"][0])
    token = conn.read_entry(dn, ["tokenGroups"]) or {}
    groups = [sid_to_str(raw) for raw in token.get("tokenGroups", [])]
    return {"dn": dn, "sid": sid, "sam_account_name": lc.first(entry, "sAMAccountName"), "group_sids": groups}


def _account_not_found(account, where, server):
    return lc.LdapError("account: %s not found in %s (looked up from %s)." % (account, where, server),
                        "Give the connector account's sAMAccountName, UPN or DN.", server, "input")


def find_account(conn, account, base):
    """The account's DN, SID and token group SIDs. account: sAMAccountName, UPN, DOMAIN\\name or DN."""
    kind, name = parse_account(account)
    found = _lookup_account(conn, kind, name, base)
    if not found:
        raise _account_not_found(account, base, conn.server)
    return _account_entry(conn, *found)


def netbios_domain_dn(conn, account):
    """The root DN of the domain named by DOMAIN in DOMAIN\\name (its crossRef in CN=Partitions), or None."""
    if "\\" not in account or _DN_RE.match(account):
        return None
    prefix = account.split("\\", 1)[0]
    if "." in prefix:  # corp.example.com\name: a DNS name
        return domain_dn(prefix)
    config = lc.first(conn.root_dse, "configurationNamingContext")
    if not config:
        return None
    escaped = lc.ldap.filter.escape_filter_chars(prefix)
    for _dn, entry in conn.search("CN=Partitions," + config, "(&(objectClass=crossRef)(nETBIOSName=%s))" % escaped,
                                  ["nCName"], scope=lc.ldap.SCOPE_ONELEVEL):
        return lc.first(entry, "nCName")
    return None


def dn_domain(dn):
    """DC=... suffix of a DN: the root DN of the domain an object's DN names."""
    parts = lc.ldap.dn.explode_dn(dn)
    tail = []
    for part in reversed(parts):
        if not part.lower().startswith("dc="):
            break
        tail.insert(0, part)
    return ",".join(tail)


class DomainConnections:
    """A bound connection per domain: the DC connected to for its own domain, for every other domain a DC
    of that domain found with the DC locator, bound with the same options (ldap_client.connect)."""

    def __init__(self, conn, params, locate=None):
        self.conn = conn
        self.params = params
        self.locate = locate or dc_locator.locate
        self.home = (lc.first(conn.root_dse, "defaultNamingContext") or "").lower()
        self.others = {}

    def get(self, dn):
        key = dn.lower()
        if key == self.home:
            return self.conn
        if key in self.others:
            return self.others[key]
        domain = lc.dn_to_dns(dn)
        servers = self.params.get("dns_servers")
        try:
            hosts = self.locate(domain, servers, self.params.get("timeout") or 10)
        except dc_locator.LocatorError as err:
            raise lc.LdapError("domains: %s (%s holds %s only)." % (str(err).rstrip("."), self.conn.server, self.home),
                               "Check that the controller resolves the domain's SRV records (or give dns_servers), "
                               "or leave the domain out.", self.conn.server, "connect") from None
        tried = []
        for host in hosts:
            try:
                conn = lc.connect(self.params, server=host)
            except lc.LdapError as err:
                if err.kind in ("auth", "input"):  # a refused bind stops at once (account lockout)
                    raise lc.LdapError("domains: %s: %s" % (domain, err.message), err.remedy, host, err.kind) from None
                tried.append(err.message.rstrip("."))  # it starts with host:port
                continue
            holds = (lc.first(conn.root_dse, "defaultNamingContext") or "").lower()
            if holds != key:
                conn.close()
                tried.append("%s holds %s, not %s" % (host, holds, dn))
                continue
            self.others[key] = conn
            return conn
        raise lc.LdapError("domains: no domain controller of %s answered (%d located through %s): %s." % (
            domain, len(hosts), dc_locator.srv_name(domain), "; ".join(tried)),
            "Check that these DCs are reachable from the controller over %s, or leave the domain out."
            % self.params.get("transport"), hosts[0] if hosts else None, "connect")

    def close(self):
        for conn in self.others.values():
            conn.close()


def sid_names(conn, base, sids):
    """Friendly names for SIDs that live in the domain; well-known ones from the table."""
    names = dict(IMPLICIT_SIDS)
    wanted = [s for s in sids if s not in names]
    for sid in wanted:
        for _dn, entry in conn.search(base, "(objectSid=%s)" % sid, ["sAMAccountName"]):
            names[sid] = lc.first(entry, "sAMAccountName")
    return names


def read_domain_dacl(conn, dn):
    ctrl = lc.ldap.controls.LDAPControl(SD_FLAGS_OID, True, encodedControlValue=SD_FLAGS_DACL)
    try:
        res = conn.conn.search_ext_s(dn, lc.ldap.SCOPE_BASE, "(objectClass=*)", ["nTSecurityDescriptor"],
                                     serverctrls=[ctrl])
    except lc.ldap.NO_SUCH_OBJECT:
        raise lc.LdapError("domains: %s does not exist on %s." % (dn, conn.server),
                           "Name the domain by its DNS name or its root DN.", conn.server, "input") from None
    except lc.ldap.LDAPError as exc:
        conn.fail(exc)
    for _dn, entry in res:
        if entry and entry.get("nTSecurityDescriptor"):
            return parse_dacl(entry["nTSecurityDescriptor"][0])
    raise lc.LdapError("%s: the security descriptor of %s is not readable by %s." % (
        conn.server, dn, conn.params.get("username")),
        "Bind with an account that can read the domain root's permissions (Authenticated Users can, by "
        "default).", conn.server, "ldap")


def domain_dn(name):
    return name if "=" in name else ",".join("DC=%s" % part for part in name.split("."))


def locate_account(connections, account, targets):
    """The account, looked up on a DC of its own domain: the domain its DN or DOMAIN\\ prefix names,
    else the connected DC's domain, then each domain checked."""
    conn = connections.conn
    kind, name = parse_account(account)
    named = dn_domain(name) if kind == "dn" else netbios_domain_dn(conn, account)
    order = [named] if named else []
    order += [d for d in [connections.home] + list(targets) if d.lower() not in [o.lower() for o in order]]
    for dn in order:
        domain_conn = connections.get(dn)
        found = _lookup_account(domain_conn, kind, name, dn if kind != "dn" else None)
        if found:
            return _account_entry(domain_conn, *found)
        if named:  # its domain is known: not looked for elsewhere
            break
    raise _account_not_found(account, ", ".join(order[:1] if named else order), conn.server)


def check(conn, account, domains, params=None, locate=None):
    """Per domain and right: granted / denied / missing, and through which principals. Each domain is read
    on a DC of that domain (DomainConnections)."""
    connections = DomainConnections(conn, params or conn.params, locate)
    try:
        default_nc = lc.first(conn.root_dse, "defaultNamingContext")
        targets = [domain_dn(d) for d in domains] if domains else [default_nc]
        who = locate_account(connections, account, targets)
        sids = {who["sid"]: "account"}
        sids.update({sid: "group" for sid in who["group_sids"]})
        sids.update({sid: "implicit" for sid in IMPLICIT_SIDS})
        results = []
        for dn in targets:
            domain_conn = connections.get(dn)
            aces = read_domain_dacl(domain_conn, dn)
            rights = {}
            for key, (guid, label) in REQUIRED_RIGHTS.items():
                state, via = evaluate_right(aces, sids, guid)
                rights[key] = {"name": label, "guid": guid, "state": state, "granted": state == "granted",
                               "via": via}
            results.append({"domain": lc.dn_to_dns(dn), "dn": dn, "server": domain_conn.server, "rights": rights})
        names = {}
        for result in results:  # a SID is named by its domain: the domain read, else the connected DC's
            for dn in (result["dn"], default_nc):
                wanted = sorted({s for v in result["rights"].values() for s in v["via"]} - set(names))
                if wanted:
                    names.update(sid_names(connections.get(dn), dn, wanted))
    finally:
        connections.close()
    for result in results:
        for right in result["rights"].values():
            right["via"] = [{"sid": s, "name": names.get(s), "kind": sids.get(s)} for s in right["via"]]
    return who, results


# Well-known administrator groups: the connector account must not be in them
# (reference-connect-accounts-permissions.md: "a normal user account ... not an administrator").
ADMIN_RIDS = {"512": "Domain Admins", "519": "Enterprise Admins", "518": "Schema Admins"}
BUILTIN_ADMINISTRATORS = "S-1-5-32-544"

SPEC = dict(
    lc.LDAP_ARGUMENT_SPEC,
    account=dict(type="str", required=True),
    domains=dict(type="list", elements="str"),
    fail_on_missing=dict(type="bool", default=True),
    dns_servers=dict(type="list", elements="str"),
)
KWARGS = {}


def _validate(params):
    """The module's own options, before any connection: one line naming the option."""
    if not (params.get("account") or "").strip():
        raise lc.LdapError("account: empty.", "Give the AD DS Connector account (sAMAccountName, UPN or DN).",
                           kind="input")
    for index, name in enumerate(params.get("domains") or []):
        if "=" in name:
            lc.check_dn(name, "domains[%d]" % index)
        elif not is_dns_name(name):
            raise lc.LdapError("domains[%d]: %r is neither a DNS domain name nor a DN." % (index, name),
                               "Give corp.example.com or DC=corp,DC=example,DC=com.", kind="input")


def run_sync_permissions_info(params, check_mode=False):
    """Read-only: the same in check mode."""
    warnings = lc.validate_params(params)
    _validate(params)
    conn = lc.connect(params)
    try:
        who, results = check(conn, params["account"], params.get("domains"), params)
    finally:
        conn.close()
    admin_groups = [ADMIN_RIDS[sid.rsplit("-", 1)[1]] for sid in who["group_sids"]
                    if sid.startswith("S-1-5-21-") and sid.rsplit("-", 1)[1] in ADMIN_RIDS]
    if BUILTIN_ADMINISTRATORS in who["group_sids"]:
        admin_groups.append("Administrators")
    if admin_groups:
        warnings.append("account %s is a member of %s: Microsoft asks for a normal user as the AD DS "
                        "Connector account." % (who["sam_account_name"], ", ".join(sorted(admin_groups))))
    missing = [(r["domain"], right) for r in results for right in r["rights"].values() if not right["granted"]]
    result = {
        "changed": False,
        "account": {"dn": who["dn"], "sid": who["sid"], "sam_account_name": who["sam_account_name"],
                    "administrator_groups": sorted(admin_groups)},
        "domains": results,
        "all_granted": not missing,
        "warnings": warnings,
    }
    if missing and params["fail_on_missing"]:
        account = who["sam_account_name"]
        lacking = "; ".join("%s on %s (%s)" % (right["name"], domain, right["state"]) for domain, right in missing)
        result["failed"] = True
        result["msg"] = (
            "Connector account %s lacks %s. Remedy: Set-ADSyncPasswordHashSyncPermissions "
            "-ADConnectorAccountName %s -ADConnectorAccountDomain <domain> (AdSyncConfig.psm1 of Entra "
            "Connect), or the aad_connect role, on each domain named." % (account, lacking, account))
    return result
