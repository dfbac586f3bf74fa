# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight requirement set `tenant`: AD facts (ad_forest_info) cross-checked with the tenant (tenant_info).

- tenant.upn_suffix: every UPN suffix of the forest (domain DNS names and alternative suffixes) is a
  verified domain of the tenant; else WARN naming it - users on it would sign in as
  user@<tenant>.onmicrosoft.com (entra-docs how-to-connect-install-prerequisites / DOMAIN.md).
- tenant.federation_domain: the domain to federate is in the tenant, verified, and not the initial
  (onmicrosoft.com) domain, which cannot be federated (G domain-post-federationconfiguration).
- tenant.sync: with password hash sync planned, the tenant's sync features say it is on (delegated read);
  onPremisesSyncEnabled false with sync planned is a warning (first sync pending).
- tenant.licences: every capability the pilot needs (Intune, Entra ID P1) is in an enabled SKU with at
  least pilot_users units free.
"""

from __future__ import annotations

from ansible_collections.ems.enable.plugins.module_utils.ad.rules import add_check
from ansible_collections.ems.enable.plugins.module_utils.tenant.licences import CAPABILITIES

REQUIREMENT = "tenant"
PLAN_SPEC = dict(
    federation_domain=dict(type="str"),
    password_hash_sync=dict(type="bool", default=True),
    pilot_users=dict(type="int", default=0),
    licences=dict(type="list", elements="str", default=["intune", "entra_id_p1"], choices=sorted(CAPABILITIES)),
)


def _subject(tenant):
    return "tenant %s" % (tenant.get("initial_domain") or tenant.get("tenant_id") or "?")


def check_upn_suffixes(checks, forests, tenant, domains):
    for forest in forests:
        name = forest["forest"]
        for suffix in forest.get("upn_suffixes") or []:
            value = suffix["suffix"].lower()
            domain = domains.get(value)
            rule = "tenant.upn_suffix"
            if domain and domain["verified"]:
                add_check(checks, rule, REQUIREMENT, name, "pass", "Forest %s: UPN suffix %s is a verified domain of %s "
                          "(%s)." % (name, value, _subject(tenant), domain["authentication_type"]))
                continue
            state = "added to %s but not verified" % _subject(tenant) if domain else "not a domain of %s" % _subject(tenant)
            remedy = ("Add %s as a custom domain in Entra ID and verify it (TXT record), or move its users to a "
                      "verified suffix before they are synchronized." % value)
            if not suffix.get("routable", True):
                remedy = ("%s cannot be verified (not a public top-level domain): move its users to a routable, "
                          "verified suffix (Set-ADForest -UPNSuffixes, then each user's UPN)." % value)
            add_check(checks, rule, REQUIREMENT, name, "warn",
                      "Forest %s: UPN suffix %s is %s: its users would sign in as user@%s." % (
                          name, value, state, tenant.get("initial_domain") or "<tenant>.onmicrosoft.com"), remedy)


def check_federation_domain(checks, tenant, domains, plan):
    wanted = (plan.get("federation_domain") or "").lower()
    if not wanted:
        return
    subject = _subject(tenant)
    domain = domains.get(wanted)
    rule = "tenant.federation_domain"
    if domain is None:
        add_check(checks, rule, REQUIREMENT, subject, "fail", "Federation domain %s is not a domain of %s."
                  % (wanted, subject), "Add %s in Entra ID (Custom domain names) and verify it." % wanted)
    elif domain["initial"]:
        add_check(checks, rule, REQUIREMENT, subject, "fail", "Federation domain %s is the tenant's initial domain, "
                  "which cannot be federated." % wanted, "Federate a verified custom domain instead.")
    elif not domain["verified"]:
        add_check(checks, rule, REQUIREMENT, subject, "fail", "Federation domain %s is in %s but not verified."
                  % (wanted, subject), "Create the TXT record tenant_info lists under verification_records, then "
                  "verify the domain in Entra ID.")
    else:
        add_check(checks, rule, REQUIREMENT, subject, "pass", "Federation domain %s is verified in %s (now %s)."
                  % (wanted, subject, domain["authentication_type"]))


def check_sync(checks, tenant, plan):
    subject = _subject(tenant)
    org = tenant.get("organization") or {}
    sync = tenant.get("sync") or {}
    if org.get("on_premises_sync_enabled"):
        add_check(checks, "tenant.sync_enabled", REQUIREMENT, subject, "pass", "Directory synchronization is on in %s "
                  "(last sync %s)." % (subject, org.get("on_premises_last_sync") or "unknown"))
    else:
        add_check(checks, "tenant.sync_enabled", REQUIREMENT, subject, "warn", "Directory synchronization has %s "
                  "in %s." % ("never run" if org.get("on_premises_sync_enabled") is None else "been turned off",
                              subject), "Configure Entra Connect Sync (enable_core, role aad_connect); the first "
                  "sync turns it on.")
    if not plan.get("password_hash_sync", True):
        return
    if not sync.get("read"):
        add_check(checks, "tenant.password_hash_sync", REQUIREMENT, subject, "warn",
                  "Password hash sync is planned; the tenant's setting was %s." % (sync.get("reason") or "not read"),
                  "Run tenant_info with auth=device_code (a Global Administrator signs in) to check it.")
    elif sync.get("password_hash_sync"):
        add_check(checks, "tenant.password_hash_sync", REQUIREMENT, subject, "pass",
                  "Password hash sync is on in %s, as planned." % subject)
    else:
        add_check(checks, "tenant.password_hash_sync", REQUIREMENT, subject, "fail",
                  "Password hash sync is planned but off in %s." % subject,
                  "Turn it on in the Entra Connect wizard (Optional features) or "
                  "Set-ADSyncAADPasswordSyncConfiguration -Enable $true.")


def check_licences(checks, tenant, plan):
    subject = _subject(tenant)
    needed = max(plan.get("pilot_users") or 0, 0)
    summary = tenant.get("licences") or {}
    for capability in plan.get("licences") or []:
        label, service_plan, _id = CAPABILITIES[capability]
        entry = summary.get(capability) or {}
        rule = "tenant.licence.%s" % capability
        if not entry.get("present"):
            add_check(checks, rule, REQUIREMENT, subject, "fail", "No enabled SKU in %s includes %s (service plan %s)."
                      % (subject, label, service_plan), "Buy or activate EMS E3/E5 or a %s subscription." % label)
        elif entry.get("available", 0) < needed:
            add_check(checks, rule, REQUIREMENT, subject, "fail", "%s: %d unit(s) free in %s (%s), the pilot needs %d."
                      % (label, entry.get("available", 0), ", ".join(entry.get("skus") or []), subject, needed),
                      "Add licences or shrink the pilot group.")
        else:
            add_check(checks, rule, REQUIREMENT, subject, "pass", "%s: %d unit(s) free in %s (%s)%s." % (
                label, entry.get("available", 0), ", ".join(entry.get("skus") or []), subject,
                ", the pilot needs %d" % needed if needed else ""))


def check_tenant(checks, forests, options):
    """Append the tenant checks (requirement set `tenant`) for the preflight."""
    tenant = options.get("tenant")
    plan = dict((k, v["default"]) for k, v in PLAN_SPEC.items() if "default" in v)
    plan.update({k: v for k, v in (options.get("tenant_plan") or {}).items() if v is not None})
    if not tenant or tenant.get("error") or "domains" not in tenant:
        add_check(checks, "tenant.facts", REQUIREMENT, "tenant", "fail",
                  "No tenant facts to check: %s" % ((tenant or {}).get("error") or "the tenant option is empty"),
                  "Run ems.enable.tenant_info first and pass its `tenant` result (see playbooks/assess.yml).")
        return
    domains = {d["name"].lower(): d for d in tenant.get("domains") or []}
    check_upn_suffixes(checks, forests, tenant, domains)
    check_federation_domain(checks, tenant, domains, plan)
    check_sync(checks, tenant, plan)
    check_licences(checks, tenant, plan)
