# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ems.enable.tenant_info: the tenant's view through Graph (read-only; check mode is the same run).

Calls (TENANT.md section 2; permissions in errors.PERMISSIONS): GET /organization, GET /domains,
the DNS records of every domain through ONE $batch per 20 requests (instead of two GETs per domain),
GET /subscribedSkus, and with delegated access (auth=device_code) GET /directory/onPremisesSynchronization.
"""

from __future__ import annotations

from ansible_collections.ems.enable.plugins.module_utils.graph import client as gc
from ansible_collections.ems.enable.plugins.module_utils.graph.errors import GraphError
from ansible_collections.ems.enable.plugins.module_utils.tenant import licences

TENANT_INFO_SPEC = dict(gc.GRAPH_ARGUMENT_SPEC, dns_records=dict(type="bool", default=True))
TENANT_INFO_KWARGS = dict(required_if=[["auth", "certificate", ["certificate_path"]]])

SYNC_NOT_READ = "not read (needs delegated access: auth=device_code, a Global Administrator)"
ORG_SELECT = "id,displayName,onPremisesSyncEnabled,onPremisesLastSyncDateTime,mobileDeviceManagementAuthority," \
             "verifiedDomains"
RECORD_KEYS = {"text": "text", "canonicalName": "canonical_name", "mailExchange": "mail_exchange",
               "preference": "preference", "nameTarget": "name_target", "port": "port", "priority": "priority",
               "protocol": "protocol", "service": "service", "weight": "weight"}


def dns_record(record):
    out = {"record_type": record.get("recordType"), "label": record.get("label"), "ttl": record.get("ttl"),
           "supported_service": record.get("supportedService"), "optional": record.get("isOptional")}
    for key, name in RECORD_KEYS.items():
        if key in record:
            out[name] = record[key]
    return out


def domain_facts(domain):
    return {"name": domain["id"], "verified": bool(domain.get("isVerified")),
            "authentication_type": domain.get("authenticationType"), "default": bool(domain.get("isDefault")),
            "initial": bool(domain.get("isInitial")), "supported_services": list(domain.get("supportedServices") or []),
            "dns_records": [], "verification_records": []}


def sku_facts(sku):
    prepaid = sku.get("prepaidUnits") or {}
    part = sku.get("skuPartNumber")
    return {"sku_part_number": part, "sku_id": sku.get("skuId"), "product": licences.SKUS.get(part, (None,))[0],
            "capability_status": sku.get("capabilityStatus"), "enabled": prepaid.get("enabled", 0),
            "consumed": sku.get("consumedUnits") or 0,
            "available": (prepaid.get("enabled") or 0) - (sku.get("consumedUnits") or 0),
            "service_plans": [{"name": p.get("servicePlanName"), "id": p.get("servicePlanId"),
                               "status": p.get("provisioningStatus")} for p in sku.get("servicePlans") or []]}


def read_dns_records(client, domains):
    items = []
    for index, domain in enumerate(domains):
        items.append({"id": "%d-service" % index, "method": "GET",
                      "url": "/domains/%s/serviceConfigurationRecords" % domain["name"]})
        if not domain["verified"]:
            items.append({"id": "%d-verification" % index, "method": "GET",
                          "url": "/domains/%s/verificationDnsRecords" % domain["name"]})
    if not items:
        return
    answers = client.batch(items)
    for item in items:
        index, kind = item["id"].split("-")
        status, body = answers[item["id"]]
        if status >= 300:
            raise client.batch_error(item["id"], "GET", item["url"], status, body)
        page = body or {}
        records = [dns_record(r) for r in page.get("value") or []]
        while page.get("@odata.nextLink"):
            page = client.get(page["@odata.nextLink"])
            records.extend(dns_record(r) for r in page.get("value") or [])
        domains[int(index)]["dns_records" if kind == "service" else "verification_records"] = records


def read_sync(client):
    if client.settings["auth"] != "device_code":
        return {"read": False, "reason": SYNC_NOT_READ}
    try:
        items = client.get_all("/directory/onPremisesSynchronization")
    except GraphError as err:
        if err.kind != "permission":
            raise
        return {"read": False, "reason": "not read: %s" % err}
    if not items:
        return {"read": False, "reason": "not read: the tenant has no synchronization settings"}
    features = items[0].get("features") or {}
    prevention = (items[0].get("configuration") or {}).get("accidentalDeletionPrevention") or {}
    return {"read": True, "password_hash_sync": features.get("passwordSyncEnabled"),
            "password_writeback": features.get("passwordWritebackEnabled"),
            "block_soft_match": features.get("blockSoftMatchEnabled"),
            "accidental_deletion_prevention": prevention.get("synchronizationPreventionType"),
            "accidental_deletion_threshold": prevention.get("alertThreshold")}


def collect(client, dns_records=True):
    org = (client.get_all("/organization", params={"$select": ORG_SELECT}) or [{}])[0]
    domains = [domain_facts(d) for d in client.get_all("/domains")]
    if dns_records:
        read_dns_records(client, domains)
    skus = [sku_facts(s) for s in client.get_all("/subscribedSkus")]
    tenant = {
        "tenant_id": org.get("id") or client.settings["tenant"], "cloud": client.settings["cloud"],
        "auth": client.settings["auth"],
        "organization": {"display_name": org.get("displayName"),
                         "on_premises_sync_enabled": org.get("onPremisesSyncEnabled"),
                         "on_premises_last_sync": org.get("onPremisesLastSyncDateTime"),
                         "mdm_authority": org.get("mobileDeviceManagementAuthority")},
        "domains": domains,
        "initial_domain": next((d["name"] for d in domains if d["initial"]), None),
        "skus": skus,
        "licences": licences.summarise(skus),
        "sync": read_sync(client),
    }
    return tenant


def run_tenant_info(params, check_mode=False, notify=None):
    """Entry point (action plugin and module main): {'tenant': ..., 'graph_requests': n} or failed."""
    try:
        client = gc.GraphClient(params, notify=notify)
        tenant = collect(client, params.get("dns_records", True))
    except GraphError as err:
        return {"changed": False, "failed": True, "msg": str(err)}
    result = {"changed": False, "tenant": tenant, "graph_requests": client.requests}
    if client.device_flow:
        result["device_code_sign_in"] = {"verification_uri": client.device_flow["verification_uri"],
                                         "user_code": client.device_flow["user_code"]}
    return result
