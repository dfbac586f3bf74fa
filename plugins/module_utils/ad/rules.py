# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight rules: forest facts (facts.collect_forest) evaluated against named requirement sets.

Every check is {id, requirement, forest, status: pass|warn|fail, message, remedy}. Rules never stop
at the first failure: the caller gets all of them. Sources of each requirement are in the comments.
"""

from __future__ import annotations

import datetime

from ansible_collections.ems.enable.plugins.module_utils.ad.facts import LOCALDB_OBJECT_LIMIT
from ansible_collections.ems.enable.plugins.module_utils.ad.levels import (
    FUNCTIONAL_LEVELS,
    LEVEL_BY_KEY,
    level_name,
)

REQUIREMENT_SETS = ("minimum_forest_level", "single_forest", "aad_connect", "adfs", "rms_connector",
                    "exchange_connector", "tenant")
DEFAULT_REQUIREMENTS = ["minimum_forest_level", "single_forest"]

# New AD FS farms on Windows Server 2016 and later need the 2016 schema additions (objectVersion 85;
# windowsserverdocs identity/ad-fs/overview/ad-fs-requirements.md, "Active Directory requirements").
ADFS_MIN_SCHEMA = 85
# gMSAs need a DC running Windows Server 2012 or later (level 5) and a KDS root key
# (windowsserverdocs security/group-managed-service-accounts/group-managed-service-accounts-overview.md).
GMSA_MIN_DC_LEVEL = 5
# Exchange 2010 SP3 schema (rangeUpper of ms-Exch-Schema-Version-Pt 14734): the oldest Exchange the
# Intune Exchange Connector supports (memdocs intune/protect/exchange-connector-install.md).
EXCHANGE_2010_SP3_SCHEMA = 14734
EXCHANGE_CONNECTOR_END_OF_SUPPORT = "2024-01-15"


def add_check(checks, rule_id, requirement, forest, status, message, remedy=None):
    """Append one check of a forest (the shape every AD precondition and readiness check has)."""
    checks.append({"id": rule_id, "requirement": requirement, "forest": forest, "status": status,
                   "message": message, "remedy": remedy if status != "pass" else None})


def forest_mode_name(key):
    """The -ForestMode value of Set-ADForestMode for a level key ('2008_R2' -> Windows2008R2Forest)."""
    return "Windows%sForest" % key.replace("_", "")


def check_forest_level(checks, requirement, forest, minimum_key):
    required = LEVEL_BY_KEY[minimum_key]
    level = (forest.get("forest_level") or {}).get("number", 0)
    name = forest["forest"]
    rule_id = "minimum_forest_level" if requirement == "minimum_forest_level" else requirement + ".forest_level"
    message = "Forest %s is at functional level %s (%d); %s (%d) or above is required." % (
        name, level_name(level), level, level_name(required), required)
    remedy = "Retire DCs older than %s, raise each domain (Set-ADDomainMode), then the forest: " \
        "Set-ADForestMode -Identity %s -ForestMode %s." % (level_name(required), name, forest_mode_name(minimum_key))
    add_check(checks, rule_id, requirement, name, "pass" if level >= required else "fail", message, remedy)


def _second_forests(forests):
    """[(forest name, what brings in a second forest)] for the whole inventory."""
    found = []
    if len(forests) > 1:
        names = ", ".join(f["forest"] for f in forests)
        for forest in forests:
            others = [f["forest"] for f in forests if f is not forest]
            found.append((forest["forest"], "the inventory also names DCs of forest %s (forests: %s)"
                          % (", ".join(others), names), "fail"))
    for forest in forests:
        for trust in forest.get("trusts") or []:
            if not trust.get("leaves_forest"):
                continue
            status = "warn" if trust["kind"] == "realm" else "fail"
            found.append((forest["forest"], "it has a%s %s trust (%s) with %s" % (
                "n" if trust["kind"][0] in "ae" else "", trust["kind"], trust["direction"], trust["partner"]),
                status))
    return found


def check_single_forest(checks, requirement, forests, multi_forest_status="fail"):
    rule_id = "single_forest" if requirement == "single_forest" else requirement + ".single_forest"
    found = _second_forests(forests)
    for forest in forests:
        mine = [(what, status) for name, what, status in found if name == forest["forest"]]
        if not mine:
            add_check(checks, rule_id, requirement, forest["forest"], "pass",
                      "Forest %s: no other forest in the inventory and no trust that leaves the forest."
                      % forest["forest"])
            continue
        for what, status in mine:
            if status == "fail":
                status = multi_forest_status
            if requirement == "aad_connect":
                message = ("Forest %s: %s. Multi-forest synchronization is a supported Entra Connect "
                           "topology: one sync server for all forests, custom (not express) settings."
                           % (forest["forest"], what))
                remedy = "Add a connector for every forest in the wizard; plan matching across forests."
            else:
                message = "Forest %s: %s; %s covers a single forest only." % (
                    forest["forest"], what, "AD FS" if requirement == "adfs" else "this onboarding")
                remedy = ("Run the federation for one forest only: leave the other forest out of the "
                          "inventory, or plan a multi-forest AD FS design outside this collection.")
            add_check(checks, rule_id, requirement, forest["forest"], status, message, remedy)


def check_aad_connect(checks, forests, options):
    check_single_forest(checks, "aad_connect", forests, multi_forest_status="warn")
    for forest in forests:
        name = forest["forest"]
        check_forest_level(checks, "aad_connect", forest, options["minimum_forest_level"])
        writable = [dc for dc in forest.get("domain_controllers") or [] if not dc.get("read_only")]
        if writable:
            add_check(checks, "aad_connect.writable_dc", "aad_connect", name, "pass",
                      "Forest %s has %d writable DC(s)." % (name, len(writable)))
        else:
            add_check(checks, "aad_connect.writable_dc", "aad_connect", name, "fail",
                      "Forest %s: no writable domain controller found; Entra Connect does not work with "
                      "read-only DCs." % name, "Make a writable DC reachable from the sync server.")
        dotted = [d["netbios_name"] for d in forest.get("domains") or [] if "." in (d.get("netbios_name") or "")]
        if dotted:
            add_check(checks, "aad_connect.netbios_name", "aad_connect", name, "fail",
                      "Forest %s: NetBIOS domain name(s) with a dot: %s; Entra Connect does not support them."
                      % (name, ", ".join(dotted)), "Rename the domain (NetBIOS name without '.') before syncing.")
        else:
            add_check(checks, "aad_connect.netbios_name", "aad_connect", name, "pass",
                      "Forest %s: NetBIOS domain names have no dot." % name)
        counts = forest.get("object_counts")
        if counts:
            if counts["total"] > LOCALDB_OBJECT_LIMIT:
                add_check(checks, "aad_connect.object_count", "aad_connect", name, "warn",
                          "Forest %s: %d users, groups and contacts in %s: above the ~%d objects SQL Express "
                          "LocalDB holds." % (name, counts["total"], counts["domain"], LOCALDB_OBJECT_LIMIT),
                          "Install Entra Connect with a full SQL Server (aad_connect role: SQL settings).")
            else:
                add_check(checks, "aad_connect.object_count", "aad_connect", name, "pass",
                          "Forest %s: %d users, groups and contacts in %s (LocalDB holds ~%d)."
                          % (name, counts["total"], counts["domain"], LOCALDB_OBJECT_LIMIT))
        private = [s["suffix"] for s in forest.get("upn_suffixes") or [] if not s.get("routable")]
        routable = [s["suffix"] for s in forest.get("upn_suffixes") or [] if s.get("routable")]
        if private and not routable:
            add_check(checks, "aad_connect.upn_suffix", "aad_connect", name, "warn",
                      "Forest %s: no routable UPN suffix (only %s): users would sign in as "
                      "user@<tenant>.onmicrosoft.com." % (name, ", ".join(private)),
                      "Add a routable UPN suffix you own (Set-ADForest -UPNSuffixes @{Add='contoso.com'}), "
                      "verify it in Entra ID and move users to it.")
        elif private:
            add_check(checks, "aad_connect.upn_suffix", "aad_connect", name, "warn",
                      "Forest %s: non-routable UPN suffix(es) %s cannot be verified in Entra ID; routable: %s."
                      % (name, ", ".join(private), ", ".join(routable)),
                      "Move users on the non-routable suffixes to a routable one before syncing.")
        else:
            add_check(checks, "aad_connect.upn_suffix", "aad_connect", name, "pass",
                      "Forest %s: every UPN suffix is routable (%s)." % (name, ", ".join(routable)))


def check_adfs(checks, forests, options, now):
    check_single_forest(checks, "adfs", forests)
    for forest in forests:
        name = forest["forest"]
        check_forest_level(checks, "adfs", forest, options["minimum_forest_level"])
        if options["adfs_new_farm"]:
            version = (forest.get("schema") or {}).get("version") or 0
            status = "pass" if version >= ADFS_MIN_SCHEMA else "fail"
            add_check(checks, "adfs.schema", "adfs", name, status,
                      "Forest %s: schema objectVersion %d (%s); a new AD FS farm on Windows Server 2016 or "
                      "later needs %d or above." % (name, version, forest["schema"]["name"], ADFS_MIN_SCHEMA),
                      "Extend the schema with adprep /forestprep from Windows Server 2016 or later media.")
        if options["adfs_service_account"] != "gmsa":
            continue
        kds = forest.get("kds_root_key") or {}
        if not kds.get("present"):
            add_check(checks, "adfs.kds_root_key", "adfs", name, "fail",
                      "Forest %s: no KDS root key; the AD FS gMSA cannot be created." % name,
                      "Add-KdsRootKey -EffectiveImmediately on a DC, then wait ~10 hours for replication "
                      "(or set adfs_service_account=user).")
        else:
            usable = kds.get("usable_from")
            if usable and usable > now:
                add_check(checks, "adfs.kds_root_key", "adfs", name, "warn",
                          "Forest %s: the KDS root key is usable only from %s." % (name, usable),
                          "Wait until then before the AD FS role creates the gMSA.")
            else:
                add_check(checks, "adfs.kds_root_key", "adfs", name, "pass",
                          "Forest %s: a KDS root key is present (usable since %s)." % (name, usable))
        new_dcs = [dc for dc in forest.get("domain_controllers") or []
                   if (dc.get("level") or {}).get("number", 0) >= GMSA_MIN_DC_LEVEL]
        if new_dcs:
            add_check(checks, "adfs.gmsa_dc", "adfs", name, "pass",
                      "Forest %s: %d DC(s) on Windows Server 2012 or later can serve gMSA passwords."
                      % (name, len(new_dcs)))
        else:
            add_check(checks, "adfs.gmsa_dc", "adfs", name, "fail",
                      "Forest %s: no DC runs Windows Server 2012 or later; a gMSA needs one." % name,
                      "Add a Windows Server 2012+ DC, or set adfs_service_account=user.")


def check_exchange(checks, requirement, forest, missing_status, missing_text):
    name = forest["forest"]
    exchange = forest.get("exchange")
    if not exchange:
        add_check(checks, requirement + ".exchange", requirement, name, missing_status,
                  "Forest %s: no Exchange organization found; %s" % (name, missing_text),
                  "Point the inventory at the forest that holds the Exchange organization.")
        return None
    add_check(checks, requirement + ".exchange", requirement, name, "pass",
              "Forest %s: Exchange organization %s (schema %s, %d server(s))." % (
                  name, exchange["organization"], exchange.get("schema_version"), len(exchange.get("servers") or [])))
    return exchange


def check_rms_connector(checks, forests, options):
    for forest in forests:
        check_forest_level(checks, "rms_connector", forest, options["minimum_forest_level"])
        check_exchange(checks, "rms_connector", forest, "warn",
                       "the RMS connector will serve SharePoint and file classification servers only.")


def check_exchange_connector(checks, forests, options):
    for forest in forests:
        name = forest["forest"]
        add_check(checks, "exchange_connector.support", "exchange_connector", name, "warn",
                  "Microsoft ended support for the Intune on-premises Exchange Connector on %s and no longer "
                  "offers its download." % EXCHANGE_CONNECTOR_END_OF_SUPPORT,
                  "Prefer Exchange hybrid modern authentication with Conditional Access; keep the connector only "
                  "where it already runs.")
        exchange = check_exchange(checks, "exchange_connector", forest, "fail",
                                  "the Exchange Connector needs Exchange 2010 SP3 or later on premises.")
        if exchange and (exchange.get("schema_version") or 0) < EXCHANGE_2010_SP3_SCHEMA:
            add_check(checks, "exchange_connector.exchange_version", "exchange_connector", name, "fail",
                      "Forest %s: Exchange schema version %s is older than Exchange 2010 SP3 (%d)."
                      % (name, exchange.get("schema_version"), EXCHANGE_2010_SP3_SCHEMA),
                      "Upgrade Exchange to 2010 SP3 or later.")


def evaluate(forests, requirements, options, unreachable=(), now=None):
    """All checks for the requested requirement sets, in a stable order."""
    now = now or datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
    checks = []
    for item in unreachable:
        add_check(checks, "servers_reachable", "connection", None, "warn",
                  "Domain controller did not answer: %s" % item["error"],
                  "Check that the DC runs and that the controller reaches it (other DCs were used).")
    for requirement in requirements:
        if requirement == "minimum_forest_level":
            for forest in forests:
                check_forest_level(checks, requirement, forest, options["minimum_forest_level"])
        elif requirement == "single_forest":
            check_single_forest(checks, requirement, forests)
        elif requirement == "aad_connect":
            check_aad_connect(checks, forests, options)
        elif requirement == "adfs":
            check_adfs(checks, forests, options, now)
        elif requirement == "rms_connector":
            check_rms_connector(checks, forests, options)
        elif requirement == "exchange_connector":
            check_exchange_connector(checks, forests, options)
        elif requirement == "tenant":
            # the tenant's rules live with the Graph code (module_utils/tenant/rules.py)
            from ansible_collections.ems.enable.plugins.module_utils.tenant import rules as tenant_rules
            tenant_rules.check_tenant(checks, forests, options)
    return checks


def summarize(checks):
    summary = {"pass": 0, "warn": 0, "fail": 0}
    for check in checks:
        summary[check["status"]] += 1
    failing = [c for c in checks if c["status"] == "fail"]
    msg = None
    if failing:
        msg = "%d of %d preflight checks failed: %s" % (len(failing), len(checks), " | ".join(
            "[%s] %s Remedy: %s" % (c["id"], c["message"], c["remedy"]) for c in failing))
    return summary, msg


__all__ = ["REQUIREMENT_SETS", "DEFAULT_REQUIREMENTS", "evaluate", "summarize", "FUNCTIONAL_LEVELS"]
