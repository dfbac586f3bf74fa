"""Cut the pinned slice of Microsoft Graph's v1.0 description that the Graph stand-in validates against.

    python tests/graph/make_slice.py <path to v1.0-Prod.csdl> <msgraph-metadata commit> [--out FILE]

Input: ``schemas/v1.0-Prod.csdl`` of github.com/microsoftgraph/msgraph-metadata (Microsoft's published
CSDL of Graph v1.0). Output (committed): ``tests/graph/v1.0-slice.json`` - the entity types, complex
types and enums that the collection's Graph calls read or write, the navigation properties and
entity sets/singletons that make up their paths, and the source (repository, path, commit, blob
sha256). Only what ROOTS, NAVIGATION and CONTAINER name, plus everything their properties need
(base types, complex types, enums, transitively), is kept: a path or property outside the slice is
an error for the validator (tests/graph/csdl.py), so adding a Graph call means adding it here and
re-running this script. The full CSDL is never committed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

NS = {"edm": "http://docs.oasis-open.org/odata/ns/edm"}
PREFIXES = ("graph.", "microsoft.graph.")

#: Entity types the collection reads or writes (tenant_info, the tenant preflight, federation).
ROOTS = [
    "organization", "domain", "domainDnsRecord", "domainDnsCnameRecord", "domainDnsMxRecord",
    "domainDnsSrvRecord", "domainDnsTxtRecord", "domainDnsUnavailableRecord", "subscribedSku",
    "directory", "onPremisesDirectorySynchronization", "internalDomainFederation",
]
#: The navigation properties the collection follows (all others are dropped from the slice).
NAVIGATION = {
    "domain": ["serviceConfigurationRecords", "verificationDnsRecords", "federationConfiguration"],
    "directory": ["onPremisesSynchronization"],
}
#: Entity sets and singletons (the first segment of a path).
CONTAINER = {"entity_sets": ["domains", "organization", "subscribedSkus"], "singletons": ["directory"]}
# --- sso_test (issue 15 item 4): GET /users/{upn}?$select=id,userPrincipalName,onPremisesImmutableId,...
ROOTS.append("user")
CONTAINER["entity_sets"].append("users")
# --- end sso_test


# --- Intune desired state (issue 16): types, navigation, entity sets and bound actions ------------
ROOTS += [
    "group", "user", "directoryObject", "deviceManagement", "deviceCompliancePolicy", "windows10CompliancePolicy",
    "iosCompliancePolicy", "androidCompliancePolicy", "androidWorkProfileCompliancePolicy", "macOSCompliancePolicy",
    "windows10MobileCompliancePolicy", "windows81CompliancePolicy", "windowsPhone81CompliancePolicy",
    "deviceCompliancePolicyAssignment", "deviceComplianceScheduledActionForRule", "deviceComplianceActionItem",
    "groupAssignmentTarget", "allLicensedUsersAssignmentTarget", "allDevicesAssignmentTarget",
    "exclusionGroupAssignmentTarget",
    "identityContainer", "conditionalAccessRoot", "conditionalAccessPolicy",
    "deviceAppManagement", "managedAppPolicy", "managedAppProtection", "targetedManagedAppProtection",
    "iosManagedAppProtection", "androidManagedAppProtection", "managedMobileApp", "iosMobileAppIdentifier",
    "androidMobileAppIdentifier", "targetedManagedAppPolicyAssignment",
    "roleManagement", "rbacApplication", "unifiedRoleAssignment",
    "managedDevice", "detectedApp", "applePushNotificationCertificate",
    # enrollment restrictions (issue 16, rest): platform restrictions and the device limit
    "deviceEnrollmentConfiguration", "deviceEnrollmentPlatformRestrictionsConfiguration",
    "deviceEnrollmentLimitConfiguration", "enrollmentConfigurationAssignment",
]
NAVIGATION.update({
    "deviceManagement": ["deviceCompliancePolicies", "managedDevices", "detectedApps", "applePushNotificationCertificate",
                         "deviceEnrollmentConfigurations"],
    "deviceEnrollmentConfiguration": ["assignments"],
    "group": ["members"],
    "deviceCompliancePolicy": ["assignments", "scheduledActionsForRule"],
    "deviceComplianceScheduledActionForRule": ["scheduledActionConfigurations"],
    "identityContainer": ["conditionalAccess"],
    "conditionalAccessRoot": ["policies"],
    "deviceAppManagement": ["iosManagedAppProtections", "androidManagedAppProtections"],
    "targetedManagedAppProtection": ["assignments"],
    "iosManagedAppProtection": ["apps"],
    "androidManagedAppProtection": ["apps"],
    "roleManagement": ["directory"],
    "rbacApplication": ["roleAssignments"],
    "detectedApp": ["managedDevices"],
})
CONTAINER["entity_sets"] += ["groups", "users"]
CONTAINER["singletons"] += ["deviceManagement", "deviceAppManagement", "identity", "roleManagement"]
#: Bound actions the collection calls: binding type -> action names (parameters come from the CSDL).
ACTIONS = {
    "deviceCompliancePolicy": ["assign"],
    "deviceEnrollmentConfiguration": ["assign"],
    "targetedManagedAppProtection": ["assign", "targetApps"],
    "group": ["assignLicense"],
    "organization": ["setMobileDeviceManagementAuthority"],
}


def bound_actions(schema):
    """{binding type: {action: {"parameters": {name: {type, collection, nullable}}, "returns": type}}}."""
    out = {}
    for node in schema.findall("edm:Action", NS):
        params = node.findall("edm:Parameter", NS)
        if node.get("IsBound") != "true" or not params:
            continue
        binding = short(params[0].get("Type"))[0]
        if node.get("Name") not in ACTIONS.get(binding, []):
            continue
        desc = {"parameters": {}, "returns": None}
        for param in params[1:]:
            type_name, collection = short(param.get("Type"))
            desc["parameters"][param.get("Name")] = {"type": type_name, "collection": collection,
                                                     "nullable": param.get("Nullable") != "false"}
        returns = node.find("edm:ReturnType", NS)
        if returns is not None:
            desc["returns"] = dict(zip(("type", "collection"), short(returns.get("Type"))))
        out.setdefault(binding, {})[node.get("Name")] = desc
    missing = [(b, a) for b, names in ACTIONS.items() for a in names if a not in out.get(b, {})]
    if missing:
        raise SystemExit("make_slice: bound actions not in the CSDL: %s" % missing)
    for binding, actions in out.items():
        for desc in actions.values():
            ROOTS.extend(p["type"] for p in desc["parameters"].values())
        ROOTS.append(binding)
    return dict(sorted(out.items()))
# --- end of issue 16's block -----------------------------------------------------------------------


def short(type_name):
    """'Collection(graph.domain)' -> ('domain', True); 'Edm.String' -> ('Edm.String', False)."""
    collection = type_name.startswith("Collection(")
    inner = type_name[len("Collection("):-1] if collection else type_name
    for prefix in PREFIXES:
        if inner.startswith(prefix):
            inner = inner[len(prefix):]
    return inner, collection


def index(schema):
    kinds = {}
    for tag, kind in (("EntityType", "entity"), ("ComplexType", "complex"), ("EnumType", "enum")):
        for node in schema.findall("edm:%s" % tag, NS):
            kinds[node.get("Name")] = (kind, node)
    return kinds


def describe(kind, node, keep_nav):
    if kind == "enum":
        return {"flags": node.get("IsFlags") == "true",
                "members": [m.get("Name") for m in node.findall("edm:Member", NS)]}
    out = {"base": short(node.get("BaseType"))[0] if node.get("BaseType") else None,
           "abstract": node.get("Abstract") == "true", "open": node.get("OpenType") == "true",
           "properties": {}}
    for prop in node.findall("edm:Property", NS):
        type_name, collection = short(prop.get("Type"))
        out["properties"][prop.get("Name")] = {"type": type_name, "collection": collection,
                                               "nullable": prop.get("Nullable") != "false"}
    if kind == "entity":
        out["navigation"] = {}
        for nav in node.findall("edm:NavigationProperty", NS):
            if nav.get("Name") in keep_nav:
                type_name, collection = short(nav.get("Type"))
                out["navigation"][nav.get("Name")] = {"type": type_name, "collection": collection,
                                                      "contains_target": nav.get("ContainsTarget") == "true"}
    return out


def make_slice(csdl_bytes, commit):
    root = ET.fromstring(csdl_bytes)
    schema = next(s for s in root.iter("{%s}Schema" % NS["edm"]) if s.get("Namespace") == "microsoft.graph")
    kinds = index(schema)
    actions = bound_actions(schema)  # adds the actions' parameter types to ROOTS
    wanted = list(ROOTS)
    out = {"entity": {}, "complex": {}, "enum": {}}
    seen = set()
    while wanted:
        name = wanted.pop()
        if name in seen or name.startswith("Edm."):
            continue
        if name not in kinds:
            raise SystemExit("make_slice: type %s is not in the CSDL" % name)
        seen.add(name)
        kind, node = kinds[name]
        desc = describe(kind, node, NAVIGATION.get(name, []))
        out[kind][name] = desc
        if kind == "enum":
            continue
        if desc["base"]:
            wanted.append(desc["base"])
        for prop in desc["properties"].values():
            wanted.append(prop["type"])
        for nav in desc.get("navigation", {}).values():
            if nav["type"] not in seen and nav["type"] not in ROOTS:
                raise SystemExit("make_slice: navigation target %s must be in ROOTS" % nav["type"])
    container = next(root.iter("{%s}EntityContainer" % NS["edm"]))
    sets = {}
    for es in container.findall("edm:EntitySet", NS):
        if es.get("Name") in CONTAINER["entity_sets"]:
            sets[es.get("Name")] = {"type": short(es.get("EntityType"))[0], "collection": True}
    for sg in container.findall("edm:Singleton", NS):
        if sg.get("Name") in CONTAINER["singletons"]:
            sets[sg.get("Name")] = {"type": short(sg.get("Type"))[0], "collection": False}
    missing = set(CONTAINER["entity_sets"] + CONTAINER["singletons"]) - set(sets)
    if missing:
        raise SystemExit("make_slice: not in the entity container: %s" % ", ".join(sorted(missing)))
    return {
        "source": {"repository": "https://github.com/microsoftgraph/msgraph-metadata",
                   "path": "schemas/v1.0-Prod.csdl", "commit": commit,
                   "sha256": hashlib.sha256(csdl_bytes).hexdigest(),
                   "made_by": "tests/graph/make_slice.py"},
        "roots": sorted(sets),
        "entity_sets": dict(sorted(sets.items())),
        "types": {kind: dict(sorted(types.items())) for kind, types in out.items()},
        "actions": actions,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("csdl", type=Path)
    parser.add_argument("commit")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("v1.0-slice.json"))
    args = parser.parse_args(argv)
    result = make_slice(args.csdl.read_bytes(), args.commit)
    args.out.write_text(json.dumps(result, indent=1, sort_keys=False) + "\n")
    counts = {kind: len(types) for kind, types in result["types"].items()}
    print("make_slice: %s (%s) -> %s: %d entity, %d complex, %d enum types" % (
        args.csdl, args.commit[:12], args.out, counts["entity"], counts["complex"], counts["enum"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
