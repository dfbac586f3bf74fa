"""Cut the pinned slice of Microsoft Graph BETA that the stand-in validates the collection's few beta calls against.

    python tests/graph/make_beta_slice.py <msgraph-metadata git dir> <commit> [--sdk-types FILE] [--out FILE]

Why not the beta CSDL: ``schemas/beta-Prod.csdl`` of microsoftgraph/msgraph-metadata is over 8 MB; the
snapshot this was built from (commit f54f11b, the commit of the v1.0 slice) holds every file under 4 MiB
only, so the beta CSDL of that commit could not be read here. What the commit does hold is Microsoft's
generated beta type mappings, ``schemas/type-mappings/beta-{entity,complex,enum}-types.json``: for every
beta type its own property and navigation names, and for every enum its members. What the mappings lack,
the property types and base types, were first typed from the Learn beta resource pages (named next to each
type below); they are now CHECKED against Microsoft's generated beta SDK models, which Kiota generates from
the same beta metadata: tests/graph/beta-sdk-types.json, written by make_beta_sdk_types.py from
microsoftgraph/msgraph-beta-sdk-python at the commit it records. This script:

- takes the types below (BETA), each with its base type and the types of the properties the collection
  reads or writes;
- checks against the pinned mappings that every type exists, that every property and navigation named
  here is one the mapping lists for that type or its base types, and that no property of the type's own
  mapping list is also one of its base's;
- checks against the recorded SDK models (sdk_faults) every base type, every property's and navigation's
  type and collection-ness, every enum's members and the assign action's parameter and result: a mismatch
  fails, naming type and property;
- copies the enum members from the mapping (the values a request or response may carry);
- writes the same shape as v1.0-slice.json (tests/graph/csdl.py reads both), with the source files'
  blob hashes and the SDK commit.

So the beta slice validates paths, property names, enum values and property types of these calls: names and
enum members from the type mappings at f54f11b, base and property types confirmed by the SDK models at the
recorded commit. Still weaker than the v1.0 CSDL slice: the SDK reads Int32 and Int64 alike
(``get_int_value``) and says nothing of nullability or abstractness (those stay Learn's), and the SDK commit
is not the metadata commit (docs/intune.md).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path

MAPPINGS = {kind: "schemas/type-mappings/beta-%s-types.json" % kind for kind in ("entity", "complex", "enum")}
SDK_TYPES = Path(__file__).with_name("beta-sdk-types.json")
S, B, D, I32 = "Edm.String", "Edm.Boolean", "Edm.DateTimeOffset", "Edm.Int32"
#: The word the generated SDK's reader gives each primitive (get_str_value -> str ...): Int32 and Int64 alike.
SDK_WORD = {S: "str", B: "bool", D: "datetime", I32: "int", "Edm.Int64": "int", "Edm.Guid": "UUID",
            "Edm.Double": "float", "Edm.Date": "date", "Edm.Duration": "timedelta", "Edm.Binary": "bytes"}


def prop(type_name, nullable=True, collection=False):
    return {"type": type_name, "collection": collection, "nullable": nullable}


#: The beta types the collection uses: kind, base, abstract, properties {name: prop()}, navigation.
BETA = {
    "entity": {"kind": "entity", "base": None, "properties": {"id": prop(S, False)}},
    # G beta resources/intune-shared-devicemanagement (singleton deviceManagement)
    "deviceManagement": {"kind": "entity", "base": "entity", "properties": {}, "navigation": {
        "androidManagedStoreAccountEnterpriseSettings": ("androidManagedStoreAccountEnterpriseSettings", False),
        "deviceConfigurations": ("deviceConfiguration", True)}},
    # G beta resources/intune-androidforwork-androidmanagedstoreaccountenterprisesettings
    "androidManagedStoreAccountEnterpriseSettings": {"kind": "entity", "base": "entity", "properties": {
        "bindStatus": prop("androidManagedStoreAccountBindStatus", False),
        "lastAppSyncDateTime": prop(D, False),
        "lastAppSyncStatus": prop("androidManagedStoreAccountAppSyncStatus", False),
        "ownerUserPrincipalName": prop(S), "ownerOrganizationName": prop(S),
        "lastModifiedDateTime": prop(D, False)}},
    # G beta resources/policyroot (singleton policies), resources/mobiledevicemanagementpolicy,
    # resources/mobilitymanagementpolicy
    "policyRoot": {"kind": "entity", "base": "entity", "properties": {}, "navigation": {
        "mobileDeviceManagementPolicies": ("mobileDeviceManagementPolicy", True)}},
    "mobilityManagementPolicy": {"kind": "entity", "base": "entity", "properties": {
        "appliesTo": prop("policyScope"), "complianceUrl": prop(S), "description": prop(S),
        "discoveryUrl": prop(S), "displayName": prop(S), "isValid": prop(B), "termsOfUseUrl": prop(S)}},
    "mobileDeviceManagementPolicy": {"kind": "entity", "base": "mobilityManagementPolicy", "properties": {
        "isMdmEnrollmentDuringRegistrationDisabled": prop(B)}},
    # G beta resources/intune-deviceconfig-deviceconfiguration, -deviceconfigurationassignment
    "deviceConfiguration": {"kind": "entity", "base": "entity", "abstract": True, "properties": {
        "createdDateTime": prop(D, False), "description": prop(S), "displayName": prop(S, False),
        "lastModifiedDateTime": prop(D, False), "version": prop(I32, False),
        "roleScopeTagIds": prop(S, True, True), "supportsScopeTags": prop(B, False)},
        "navigation": {"assignments": ("deviceConfigurationAssignment", True)}},
    "deviceConfigurationAssignment": {"kind": "entity", "base": "entity", "properties": {
        "target": prop("deviceAndAppManagementAssignmentTarget")}},
    "deviceAndAppManagementAssignmentTarget": {"kind": "complex", "base": None, "abstract": True, "properties": {}},
    "groupAssignmentTarget": {"kind": "complex", "base": "deviceAndAppManagementAssignmentTarget",
                              "properties": {"groupId": prop(S)}},
    # G beta resources/intune-deviceconfig-easemailprofileconfigurationbase, -ioseasemailprofileconfiguration
    "easEmailProfileConfigurationBase": {
        "kind": "entity", "base": "deviceConfiguration", "abstract": True, "properties": {
            "customDomainName": prop(S), "userDomainNameSource": prop("domainNameSource", False),
            "usernameAADSource": prop("usernameSource"), "usernameSource": prop("userEmailSource", False)}},
    "iosEasEmailProfileConfiguration": {"kind": "entity", "base": "easEmailProfileConfigurationBase", "properties": {
        "accountName": prop(S, False), "authenticationMethod": prop("easAuthenticationMethod", False),
        "blockMovingMessagesToOtherEmailAccounts": prop(B, False), "blockSendingEmailFromThirdPartyApps": prop(B, False),
        "blockSyncingRecentlyUsedEmailAddresses": prop(B, False), "durationOfEmailToSync": prop("emailSyncDuration", False),
        "emailAddressSource": prop("userEmailSource", False), "hostName": prop(S, False), "requireSmime": prop(B, False),
        "requireSsl": prop(B, False), "useOAuth": prop(B, False)}},
    # G beta resources/intune-deviceconfig-androidworkprofileeasemailprofilebase, -androidworkprofilegmaileasconfiguration
    "androidWorkProfileEasEmailProfileBase": {
        "kind": "entity", "base": "deviceConfiguration", "abstract": True, "properties": {
            "authenticationMethod": prop("easAuthenticationMethod", False),
            "durationOfEmailToSync": prop("emailSyncDuration", False),
            "emailAddressSource": prop("userEmailSource", False), "hostName": prop(S, False),
            "requireSsl": prop(B, False), "usernameSource": prop("androidUsernameSource", False)}},
    "androidWorkProfileGmailEasConfiguration": {"kind": "entity", "base": "androidWorkProfileEasEmailProfileBase",
                                                "properties": {}},
}
ENUMS = ["androidManagedStoreAccountBindStatus", "androidManagedStoreAccountAppSyncStatus", "policyScope",
         "domainNameSource", "usernameSource", "userEmailSource", "easAuthenticationMethod", "emailSyncDuration",
         "androidUsernameSource"]
CONTAINER = {"deviceManagement": ("deviceManagement", False), "policies": ("policyRoot", False)}
#: deviceConfiguration's assign: the type mappings list no actions; the signature is v1.0's at the same commit
#: (schemas/v1.0-Prod.csdl: assign(assignments: Collection(deviceConfigurationAssignment)) returns the same
#: collection) and G beta intune-deviceconfig-deviceconfiguration-assign gives the same body and response.
ACTIONS = {"deviceConfiguration": {"assign": {
    "parameters": {"assignments": {"type": "deviceConfigurationAssignment", "collection": True, "nullable": True}},
    "returns": {"type": "deviceConfigurationAssignment", "collection": True}}}}


def git_show(git_dir, commit, path):
    return subprocess.run(["git", "--git-dir", str(git_dir), "show", "%s:%s" % (commit, path)],
                          check=True, capture_output=True).stdout


def sdk_faults(types, actions, sdk):
    """What of a slice's ``types`` and ``actions`` (beta-slice.json's shape) the recorded SDK models contradict.

    ``sdk`` is beta-sdk-types.json. For each entity and complex type: the SDK model's base class, and for each
    property and navigation the reader's kind (primitive/enum/object), type and collection-ness (looked up on
    the model or its recorded ancestors); each enum's members; each action's parameters and result.
    """
    faults = []
    where = "msgraph-beta-sdk-python@%s" % sdk["source"]["commit"][:12]
    enums = set(types.get("enum", {}))

    def camel(cls):
        return cls[0].lower() + cls[1:] if cls else None

    def expected(type_name, collection):
        slice_says = "Collection(%s)" % type_name if collection else type_name
        if type_name.startswith("Edm."):
            return {"kind": "primitive", "type": SDK_WORD.get(type_name, type_name), "collection": collection,
                    "slice": slice_says}
        return {"kind": "enum" if type_name in enums else "object", "type": type_name[0].upper() + type_name[1:],
                "collection": collection, "slice": slice_says}

    def sdk_field(name, key):
        while name in sdk["types"]:
            record = sdk["types"][name]
            if key in record["properties"]:
                return record["properties"][key]
            name = camel(record["base"])
        return None

    def compare(what, want, got):
        if got is None:
            faults.append("%s: the SDK models (%s) have no such property" % (what, where))
        elif (got["kind"], got["type"], got["collection"]) != (want["kind"], want["type"], want["collection"]):
            faults.append("%s: the slice says %s (%s), the SDK models (%s) say %s" % (
                what, want["slice"], show(want), where, show(got)))

    def show(d):
        return "%s%s %s" % ("Collection of " if d["collection"] else "", d["kind"], d["type"])

    for kind in ("entity", "complex"):
        for name, desc in sorted(types.get(kind, {}).items()):
            record = sdk["types"].get(name)
            if record is None:
                faults.append("%s: not in the recorded SDK types (%s)" % (name, where))
                continue
            if camel(record["base"]) != desc["base"]:
                faults.append("%s: base %s, the SDK models (%s) say %s" % (
                    name, desc["base"], where, camel(record["base"])))
            for key, p in desc["properties"].items():
                compare("%s.%s" % (name, key), expected(p["type"], p["collection"]), sdk_field(name, key))
            for key, n in desc.get("navigation", {}).items():
                compare("%s.%s (navigation)" % (name, key), expected(n["type"], n["collection"]), sdk_field(name, key))
    for name, desc in sorted(types.get("enum", {}).items()):
        record = sdk["enums"].get(name)
        if record is None or sorted(record["members"]) != sorted(desc["members"]):
            faults.append("enum %s: members %s, the SDK models (%s) say %s" % (
                name, sorted(desc["members"]), where, record and sorted(record["members"])))
    for owner, acts in sorted(actions.items()):
        for action, sig in sorted(acts.items()):
            record = sdk["actions"].get(owner, {}).get(action)
            if record is None:
                faults.append("%s.%s: action not in the recorded SDK types (%s)" % (owner, action, where))
                continue
            for key, p in sig["parameters"].items():
                compare("%s.%s(%s)" % (owner, action, key), expected(p["type"], p["collection"]),
                        record["parameters"].get(key))
            compare("%s.%s returns" % (owner, action), expected(sig["returns"]["type"], sig["returns"]["collection"]),
                    record["returns"])
    return faults


def make_slice(blobs, commit, sdk=None, sdk_bytes=None):
    """The slice from the mappings' ``blobs``; ``sdk`` (beta-sdk-types.json, read from SDK_TYPES when None)
    must confirm every base, property type and enum (else SystemExit naming each mismatch)."""
    if sdk is None:
        sdk_bytes = SDK_TYPES.read_bytes()
        sdk = json.loads(sdk_bytes)
    maps = {kind: json.loads(data)["microsoft.graph"] for kind, data in blobs.items()}
    faults = []

    def listed(name, kind, key):
        """Names the mapping lists for ``name`` and its base types (as BETA names them)."""
        out = set()
        while name:
            out |= set((maps[kind].get(name) or {}).get(key) or [])
            name = BETA[name]["base"]
        return out

    types = {"entity": {}, "complex": {}, "enum": {}}
    for name, desc in BETA.items():
        kind = desc["kind"]
        if name not in maps[kind]:
            faults.append("%s is not a beta %s type at %s" % (name, kind, commit))
            continue
        props, navs = listed(name, kind, "properties"), listed(name, kind, "navigationProperties")
        for key in desc["properties"]:
            if key not in props and key != "id":
                faults.append("%s.%s is not a property of beta %s" % (name, key, name))
        for key in desc.get("navigation", {}):
            if key not in navs:
                faults.append("%s.%s is not a navigation property of beta %s" % (name, key, name))
        own = set(maps[kind][name].get("properties") or [])
        inherited = own & listed(desc["base"], kind, "properties") if desc["base"] else set()
        if inherited:
            faults.append("%s: base %s already has %s" % (name, desc["base"], sorted(inherited)))
        types[kind][name] = {"base": desc["base"], "abstract": bool(desc.get("abstract")), "open": False,
                             "properties": desc["properties"],
                             "navigation": {k: {"type": t, "collection": c, "contains_target": True}
                                            for k, (t, c) in desc.get("navigation", {}).items()}}
    for name in ENUMS:
        if name not in maps["enum"]:
            faults.append("enum %s is not in the beta mappings" % name)
            continue
        types["enum"][name] = {"flags": False, "members": sorted(maps["enum"][name])}
    used = {p["type"] for d in BETA.values() for p in d["properties"].values() if not p["type"].startswith("Edm.")}
    missing = used - set(BETA) - set(ENUMS)
    if missing:
        faults.append("types used but not described: %s" % sorted(missing))
    faults += sdk_faults(types, ACTIONS, sdk)
    if faults:
        raise SystemExit("make_beta_slice: " + "; ".join(faults))
    sdk_bytes = sdk_bytes if sdk_bytes is not None else (json.dumps(sdk, indent=1) + "\n").encode()
    return {
        "source": {"repository": "https://github.com/microsoftgraph/msgraph-metadata", "version": "beta",
                   "paths": sorted(MAPPINGS.values()), "commit": commit,
                   "sha256": {path: hashlib.sha256(blobs[kind]).hexdigest() for kind, path in MAPPINGS.items()},
                   "made_by": "tests/graph/make_beta_slice.py",
                   "sdk_types": {"path": "tests/graph/beta-sdk-types.json",
                                 "repository": sdk["source"]["repository"], "commit": sdk["source"]["commit"],
                                 "sha256": hashlib.sha256(sdk_bytes).hexdigest()},
                   "note": "names and enum members from Microsoft's beta type mappings at this commit; base and "
                           "property types (first typed from the Learn beta pages) confirmed by Microsoft's "
                           "generated beta SDK models (msgraph-beta-sdk-python at sdk_types.commit, recorded in "
                           "beta-sdk-types.json), which do not tell Int32 from Int64 nor give nullability or "
                           "abstractness; the beta CSDL of this commit was not readable here"},
        "roots": sorted(CONTAINER),
        "entity_sets": {k: {"type": t, "collection": c} for k, (t, c) in sorted(CONTAINER.items())},
        "types": {kind: dict(sorted(v.items())) for kind, v in types.items()},
        "actions": ACTIONS,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("git_dir", type=Path)
    parser.add_argument("commit")
    parser.add_argument("--sdk-types", type=Path, default=SDK_TYPES)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("beta-slice.json"))
    args = parser.parse_args(argv)
    blobs = {kind: git_show(args.git_dir, args.commit, path) for kind, path in MAPPINGS.items()}
    sdk_bytes = args.sdk_types.read_bytes()
    result = make_slice(blobs, args.commit, json.loads(sdk_bytes), sdk_bytes)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print("make_beta_slice: %s -> %s: %s" % (args.commit[:12], args.out, {k: len(v) for k, v in result["types"].items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
