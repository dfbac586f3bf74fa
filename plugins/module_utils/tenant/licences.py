# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The licences the onboarding recognises, by skuPartNumber and servicePlanName (ids for reference).

Source: entra-docs identity/users/licensing-service-plan-reference.md (2025-10-29) - "Product names
and service plan identifiers for licensing"; EMS rows cross-checked in Partner Center samples
(../shared/TENANT.md section 2). A capability is present when an enabled SKU holds its service plan.
"""

from __future__ import annotations

#: skuPartNumber -> (product name, skuId)
SKUS = {
    "EMS": ("Enterprise Mobility + Security E3", "efccb6f7-5641-4e0e-bd10-b4976e1bf68e"),
    "EMSPREMIUM": ("Enterprise Mobility + Security E5", "b05e124f-c7cc-45a0-a6aa-8cf78c946968"),
    "AAD_PREMIUM": ("Microsoft Entra ID P1", "078d2b04-f1bd-4111-bbd4-b4b1b354cef4"),
}

#: capability -> (what it is, servicePlanName, servicePlanId)
CAPABILITIES = {
    "intune": ("Microsoft Intune", "INTUNE_A", "c1ec4a95-1f05-45b3-a911-aa3fa01094f5"),
    "entra_id_p1": ("Microsoft Entra ID P1", "AAD_PREMIUM", "41781fb2-bc02-4b7c-bd55-b576c07bb09d"),
}
CAPABILITY_NAMES = sorted(CAPABILITIES)


def summarise(skus):
    """{capability: {present, skus, available}} from tenant_info's skus (enabled units minus consumed)."""
    out = {}
    for capability, (label, plan, _plan_id) in CAPABILITIES.items():
        holders = [s for s in skus if s["capability_status"] == "Enabled"
                   and any(p["name"] == plan and p["status"] not in ("Disabled",) for p in s["service_plans"])]
        out[capability] = {"name": label, "service_plan": plan, "present": bool(holders),
                           "skus": [s["sku_part_number"] for s in holders],
                           "available": sum(max(s["available"], 0) for s in holders)}
    return out
