"""Validate Graph requests and responses against the pinned CSDL slice (v1.0-slice.json).

The slice (tests/graph/make_slice.py) is Microsoft's own description, cut down: entity, complex and
enum types with their properties and types, the navigation properties and entity sets that make up
paths. ``Contract.check_request`` / ``check_response`` return a list of violations (empty = valid):
an unknown path segment, method, query option or property, a wrong type, a null where the CSDL says
Nullable="false", an enum value that is not a member.

What the CSDL cannot say is in RULES below, each with its source: the properties a request must
carry, the read-only ones it must not, the methods Graph offers on each path, ConsistencyLevel for
advanced queries, and the $batch envelope. Open types (organization) are validated as closed: the
collection reads declared properties only.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

SLICE = Path(__file__).with_name("v1.0-slice.json")
BETA_SLICE = Path(__file__).with_name("beta-slice.json")  # the few beta calls (issue 16; make_beta_slice.py)

GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ANNOTATIONS = ("@odata.type", "@odata.id", "@odata.etag", "@odata.context")

#: Rules the CSDL does not express. Sources: G = Learn graph api-reference/v1.0 pages.
RULES = {
    # Methods per path kind (G domain-list, domain-get, domain-update, domain-list-serviceconfigurationrecords,
    # domain-list-verificationdnsrecords, organization-list, subscribedsku-list,
    # onpremisesdirectorysynchronization-get, domain-post-federationconfiguration,
    # internaldomainfederation-update/-delete).
    "methods": {
        "domains": {"collection": ["GET"], "entity": ["GET", "PATCH"]},
        "domains/serviceConfigurationRecords": {"collection": ["GET"], "entity": ["GET"]},
        "domains/verificationDnsRecords": {"collection": ["GET"], "entity": ["GET"]},
        "domains/federationConfiguration": {"collection": ["GET", "POST"], "entity": ["GET", "PATCH", "DELETE"]},
        "organization": {"collection": ["GET"], "entity": ["GET", "PATCH"]},
        "subscribedSkus": {"collection": ["GET"], "entity": ["GET"]},
        "directory/onPremisesSynchronization": {"collection": ["GET"], "entity": ["GET", "PATCH"]},
        "directory": {"entity": []},
        "users": {"collection": ["GET"], "entity": ["GET"]},  # G user-get (sso_test)
    },
    # Properties a create request must carry (G domain-post-federationconfiguration, "Request body":
    # required properties).
    "required_on_create": {
        "internalDomainFederation": ["displayName", "issuerUri", "metadataExchangeUri", "passiveSignInUri",
                                     "preferredAuthenticationProtocol", "signingCertificate"],
    },
    # Properties a request body must not carry (keys and server-maintained values; G resources/domain,
    # resources/internaldomainfederation, resources/subscribedsku: "Read-only").
    "read_only": {
        "entity": ["id"],
        "domain": ["isInitial", "isRoot", "isVerified", "isAdminManaged", "availabilityStatus", "state",
                   "manufacturer", "model"],
        "internalDomainFederation": ["signingCertificateUpdateStatus"],
    },
    # Properties every response object has (keys; G resources/domain "id ... Key, not nullable",
    # resources/subscribedsku, resources/organization).
    "required_in_response": {"entity": ["id"], "subscribedSku": ["skuId", "skuPartNumber"]},
    # Query options the collection uses and Graph supports on these paths (G query-parameters).
    "query_options": ["$select", "$top", "$filter", "$count", "$skiptoken", "$expand", "$orderby"],
    # $count=true, and ne / not / endsWith in $filter, on directory objects need ConsistencyLevel:
    # eventual (G aad-advanced-queries).
    "advanced_query_types": ["directoryObject"],
    # $batch: at most 20 requests, unique ids, relative URLs (G json-batching).
    "batch_limit": 20,
}

# --- Intune desired state (issue 16): methods, required and read-only properties, runtime rules ---------
# Methods: G group-list/-post-groups/-get/-update/-delete, user-get, intune-deviceconfig-devicecompliancepolicy-*
# (list/create/get/update/delete), conditionalaccessroot-list-policies/-post-policies, conditionalaccesspolicy-
# get/-update/-delete, intune-mam-iosmanagedappprotection-* and -androidmanagedappprotection-*,
# rbacapplication-list-roleassignments/-post-roleassignments, unifiedroleassignment-get/-delete,
# intune-devices-manageddevice-list/-get, intune-devices-detectedapp-list/-get. Bound actions take POST only.
RULES["methods"].update({
    "groups": {"collection": ["GET", "POST"], "entity": ["GET", "PATCH", "DELETE"]},
    "users": {"collection": ["GET"], "entity": ["GET"]},
    "deviceManagement": {"entity": ["GET"]},
    "deviceManagement/deviceCompliancePolicies": {"collection": ["GET", "POST"], "entity": ["GET", "PATCH", "DELETE"]},
    "deviceManagement/deviceCompliancePolicies/assignments": {"collection": ["GET"], "entity": ["GET"]},
    "deviceManagement/deviceCompliancePolicies/scheduledActionsForRule": {"collection": ["GET"], "entity": ["GET"]},
    "deviceManagement/managedDevices": {"collection": ["GET"], "entity": ["GET"]},
    "deviceManagement/detectedApps": {"collection": ["GET"], "entity": ["GET"]},
    "deviceManagement/detectedApps/managedDevices": {"collection": ["GET"], "entity": ["GET"]},
    "deviceManagement/applePushNotificationCertificate": {"entity": ["GET"]},
    "identity": {"entity": []},
    "identity/conditionalAccess": {"entity": []},
    "identity/conditionalAccess/policies": {"collection": ["GET", "POST"], "entity": ["GET", "PATCH", "DELETE"]},
    "deviceAppManagement": {"entity": ["GET"]},
    "deviceAppManagement/iosManagedAppProtections": {"collection": ["GET", "POST"],
                                                     "entity": ["GET", "PATCH", "DELETE"]},
    "deviceAppManagement/androidManagedAppProtections": {"collection": ["GET", "POST"],
                                                         "entity": ["GET", "PATCH", "DELETE"]},
    "deviceAppManagement/iosManagedAppProtections/apps": {"collection": ["GET"], "entity": ["GET"]},
    "deviceAppManagement/androidManagedAppProtections/apps": {"collection": ["GET"], "entity": ["GET"]},
    "deviceAppManagement/iosManagedAppProtections/assignments": {"collection": ["GET"], "entity": ["GET"]},
    "deviceAppManagement/androidManagedAppProtections/assignments": {"collection": ["GET"], "entity": ["GET"]},
    "roleManagement": {"entity": []},
    "roleManagement/directory": {"entity": ["GET"]},
    "roleManagement/directory/roleAssignments": {"collection": ["GET", "POST"], "entity": ["GET", "DELETE"]},
})
# Required on create: G group-post-groups (displayName, mailEnabled, mailNickname, securityEnabled),
# conditionalaccessroot-post-policies (displayName, state, conditions), rbacapplication-post-roleassignments
# (roleDefinitionId, principalId, directoryScopeId or appScopeId), intune create pages (displayName).
RULES["required_on_create"].update({
    "group": ["displayName", "mailEnabled", "mailNickname", "securityEnabled"],
    "conditionalAccessPolicy": ["displayName", "state", "conditions"],
    "unifiedRoleAssignment": ["roleDefinitionId", "principalId", "directoryScopeId"],
    "deviceCompliancePolicy": ["displayName", "scheduledActionsForRule"],
    "managedAppPolicy": ["displayName"],
})
# Read-only (G resources/group, devicecompliancepolicy, conditionalaccesspolicy, managedappprotection: "read-only").
RULES["read_only"].update({
    "group": ["createdDateTime", "renewedDateTime", "onPremisesSyncEnabled", "securityIdentifier", "mail",
              "proxyAddresses", "assignedLicenses"],
    "deviceCompliancePolicy": ["createdDateTime", "lastModifiedDateTime", "version"],
    "conditionalAccessPolicy": ["createdDateTime", "modifiedDateTime", "templateId"],
    "managedAppPolicy": ["createdDateTime", "lastModifiedDateTime", "version"],
    "managedAppProtection": ["isAssigned", "deployedAppCount"],
})


def intune_runtime_rules(method, target, body):
    """Rules Graph enforces at run time that the CSDL cannot say (violations, empty = valid).

    - A compliance policy is created with ONE scheduledActionsForRule holding ONE "block" action
      ("one and only one block scheduled action"; graph-docs-contrib issues #7391, #5561; TENANT.md 5).
    - A dynamic group (groupTypes DynamicMembership) needs membershipRule and membershipRuleProcessingState
      (entra-docs groups-dynamic-membership.md, G group-post-groups example).
    """
    errors = []
    if method == "POST" and target.key_path == "deviceManagement/deviceCompliancePolicies" and not target.keyed:
        rules = body.get("scheduledActionsForRule") if isinstance(body, dict) else None
        if not isinstance(rules, list) or len(rules) != 1:
            errors.append("a compliance policy is created with exactly one scheduledActionsForRule (RULES "
                          "compliance block action)")
        else:
            actions = [a.get("actionType") for a in (rules[0] or {}).get("scheduledActionConfigurations") or []]
            if actions.count("block") != 1:
                errors.append("a compliance policy needs one and only one block scheduled action (RULES "
                              "compliance block action), got %s" % actions)
    if method in ("POST", "PATCH") and target.key_path == "groups" and isinstance(body, dict):
        if "DynamicMembership" in (body.get("groupTypes") or []):
            for key in ("membershipRule", "membershipRuleProcessingState"):
                if method == "POST" and not body.get(key):
                    errors.append("a dynamic group needs %s (RULES dynamic group)" % key)
    return errors


# --- issue 16, the rest: enrollment restrictions and assigned-group members ------------------------------
# Methods: G intune-onboarding-deviceenrollmentconfiguration-list/-create/-get/-update/-delete (v1.0;
# create/update/delete pages per derived type: deviceenrollmentplatformrestrictionsconfiguration-*,
# deviceenrollmentlimitconfiguration-*), group-list-members, group-post-members (POST .../members/$ref),
# group-delete-members (DELETE .../members/{id}/$ref).
RULES["methods"].update({
    "deviceManagement/deviceEnrollmentConfigurations": {"collection": ["GET", "POST"],
                                                        "entity": ["GET", "PATCH", "DELETE"]},
    "deviceManagement/deviceEnrollmentConfigurations/assignments": {"collection": ["GET"], "entity": ["GET"]},
    "groups/members": {"collection": ["GET"], "entity": ["GET"]},
    "groups/members/$ref": {"collection": ["POST"], "entity": ["DELETE"]},
})
RULES["required_on_create"].update({"deviceEnrollmentConfiguration": ["displayName"]})
# Read-only on every derived type (G resources/intune-onboarding-deviceenrollmentconfiguration: priority is
# changed only through setPriority; the default configurations have priority 0).
RULES["read_only"].update({
    "deviceEnrollmentConfiguration": ["createdDateTime", "lastModifiedDateTime", "version", "priority"],
})
# Graph beta (its own slice, beta-slice.json; the same Contract): G beta pages
# intune-androidforwork-androidmanagedstoreaccountenterprisesettings-get, mobiledevicemanagementpolicies-list/-get/
# -update, intune-deviceconfig-deviceconfiguration-list/-create/-get/-update/-delete/-assign.
RULES["methods"].update({
    "deviceManagement/androidManagedStoreAccountEnterpriseSettings": {"entity": ["GET"]},
    "policies": {"entity": []},
    "policies/mobileDeviceManagementPolicies": {"collection": ["GET"], "entity": ["GET", "PATCH"]},
    "deviceManagement/deviceConfigurations": {"collection": ["GET", "POST"], "entity": ["GET", "PATCH", "DELETE"]},
    "deviceManagement/deviceConfigurations/assignments": {"collection": ["GET"], "entity": ["GET"]},
})
RULES["required_on_create"].update({"deviceConfiguration": ["displayName"]})
RULES["read_only"].update({"deviceConfiguration": ["createdDateTime", "lastModifiedDateTime", "version"]})
# A $ref body names one directory object by URL (G group-post-members: {"@odata.id": ".../directoryObjects/{id}"}).
REF_BODY = re.compile(r"^https://[^/]+/v1\.0/directoryObjects/[0-9a-fA-F-]{36}$")
# --- end of issue 16's block -----------------------------------------------------------------------------


class Target:
    def __init__(self, type_name, collection, key_path, keyed, action=None, ref=False):
        self.ref = ref  # a $ref request (issue 16): the body is {"@odata.id": url}, there is no response body
        self.action = action  # a bound action's description (issue 16): {parameters, returns}
        self.type = type_name
        self.collection = collection
        self.key_path = key_path  # e.g. "domains/serviceConfigurationRecords"
        self.keyed = keyed  # the last segment addressed one entity


class Contract:
    def __init__(self, path=SLICE):
        self.slice = json.loads(Path(path).read_text())
        self.types = {}
        for kind, types in self.slice["types"].items():
            for name, desc in types.items():
                self.types[name] = dict(desc, kind=kind)

    @property
    def version(self):
        """'v1.0', or 'beta' for the beta slice (make_beta_slice.py): the first segment of every path."""
        return self.slice["source"].get("version", "v1.0")

    @property
    def source(self):
        return self.slice["source"]

    # --- types --------------------------------------------------------------------------
    def chain(self, name):
        """The type and its base types, most derived first."""
        out = []
        while name:
            out.append(name)
            name = self.types[name].get("base")
        return out

    def properties(self, name):
        props = {}
        for type_name in reversed(self.chain(name)):
            props.update(self.types[type_name].get("properties", {}))
        return props

    def navigation(self, name):
        nav = {}
        for type_name in reversed(self.chain(name)):
            nav.update(self.types[type_name].get("navigation", {}))
        return nav

    def bound_action(self, name, action):
        """The bound action ``action`` of type ``name`` or a base type (issue 16), or None."""
        for type_name in self.chain(name):
            found = self.slice.get("actions", {}).get(type_name, {}).get(action)
            if found is not None:
                return found
        return None

    def derives(self, name, base):
        return name in self.types and base in self.chain(name)

    # --- paths --------------------------------------------------------------------------
    def resolve(self, path):
        """Target of a Graph path ('/v1.0/domains/x/serviceConfigurationRecords'); raises ValueError."""
        segments = [unquote(s) for s in urlsplit(path).path.split("/") if s]
        if not segments or segments[0] != self.version:
            raise ValueError("path %s is not under /%s (the slice's version)" % (path, self.version))
        segments = segments[1:]
        if not segments:
            raise ValueError("path %s names no resource" % path)
        root = self.slice["entity_sets"].get(segments[0])
        if root is None:
            raise ValueError("path %s: %r is not an entity set or singleton of the slice" % (path, segments[0]))
        type_name, collection, keyed = root["type"], root["collection"], False
        key_path = segments[0]
        rest = segments[1:]
        while rest:
            if rest == ["$ref"] and key_path in ("groups/members",):  # a reference (issue 16), not a property
                return Target(type_name, collection, key_path + "/$ref", keyed, ref=True)
            if rest[0].startswith("microsoft.graph.") and collection and not keyed:  # a type cast (issue 16)
                cast = rest[0][len("microsoft.graph."):]
                if not self.derives(cast, type_name):
                    raise ValueError("path %s: %s is not a type derived from %s in the slice" % (path, cast, type_name))
                type_name = cast
                rest = rest[1:]
                continue
            if collection and not keyed:
                keyed = True
                rest = rest[1:]
                continue
            nav = self.navigation(type_name).get(rest[0])
            action = self.bound_action(type_name, rest[0]) if nav is None and len(rest) == 1 else None
            if action is not None:
                return Target(type_name, False, key_path + "/" + rest[0], True, action=action)
            if nav is None:
                raise ValueError("path %s: %r is not a navigation property of %s in the slice"
                                 % (path, rest[0], type_name))
            type_name, collection, keyed = nav["type"], nav["collection"], False
            key_path += "/" + rest[0]
            rest = rest[1:]
        return Target(type_name, collection, key_path, keyed or not collection)

    # --- values -------------------------------------------------------------------------
    def check_value(self, type_name, collection, nullable, value, where, errors, mode):
        if value is None:
            if not nullable:
                errors.append("%s: null, but the CSDL says Nullable=false" % where)
            return
        if collection:
            if not isinstance(value, list):
                errors.append("%s: expected a JSON array of %s, got %s" % (where, type_name, type(value).__name__))
                return
            for i, item in enumerate(value):
                self.check_value(type_name, False, False, item, "%s[%d]" % (where, i), errors, mode)
            return
        if type_name.startswith("Edm."):
            self.check_primitive(type_name, value, where, errors)
            return
        desc = self.types.get(type_name)
        if desc is None:
            errors.append("%s: type %s is not in the slice" % (where, type_name))
        elif desc["kind"] == "enum":
            members = value.split(",") if desc["flags"] and isinstance(value, str) else [value]
            bad = [m for m in members if m not in desc["members"]]
            if bad or not isinstance(value, str):
                errors.append("%s: %r is not a member of enum %s" % (where, value, type_name))
        else:
            self.check_object(type_name, value, where, errors, mode)

    @staticmethod
    def check_primitive(type_name, value, where, errors):
        ok = True
        if type_name == "Edm.String":
            ok = isinstance(value, str)
        elif type_name == "Edm.Boolean":
            ok = isinstance(value, bool)
        elif type_name in ("Edm.Int32", "Edm.Int64", "Edm.Int16", "Edm.Byte"):
            ok = isinstance(value, int) and not isinstance(value, bool)
            if ok and type_name == "Edm.Int32":
                ok = -2 ** 31 <= value < 2 ** 31
        elif type_name in ("Edm.Double", "Edm.Single", "Edm.Decimal"):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif type_name == "Edm.Guid":
            ok = isinstance(value, str) and bool(GUID.match(value))
        elif type_name == "Edm.DateTimeOffset":
            ok = isinstance(value, str) and bool(DATETIME.match(value))
        elif type_name == "Edm.Date":
            ok = isinstance(value, str) and bool(DATE.match(value))
        elif type_name == "Edm.Binary":
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, TypeError, ValueError):
                ok = False
        if not ok:
            errors.append("%s: %r is not a valid %s" % (where, value, type_name))

    def check_object(self, type_name, value, where, errors, mode):
        if not isinstance(value, dict):
            errors.append("%s: expected a JSON object (%s), got %s" % (where, type_name, type(value).__name__))
            return
        odata_type = value.get("@odata.type")
        if odata_type is not None:
            derived = odata_type.lstrip("#")
            derived = derived[len("microsoft.graph."):] if derived.startswith("microsoft.graph.") else derived
            if not self.derives(derived, type_name):
                errors.append("%s: @odata.type %s is not %s or a type derived from it in the slice"
                              % (where, odata_type, type_name))
                return
            type_name = derived
        props = self.properties(type_name)
        for key, item in value.items():
            if key.startswith("@"):
                if key not in ANNOTATIONS and not key.startswith("@odata."):
                    errors.append("%s: unknown annotation %s" % (where, key))
                continue
            if "@" in key:
                if key.split("@")[0] not in props:
                    errors.append("%s: annotation %s of an unknown property" % (where, key))
                continue
            prop = props.get(key)
            if prop is None and mode in ("create", "response"):  # deep insert / $expand (issue 16)
                prop = self.navigation(type_name).get(key)
                if prop is not None:
                    prop = dict(prop, nullable=True)
            if prop is None:
                errors.append("%s: unknown property %r of %s" % (where, key, type_name))
                continue
            self.check_value(prop["type"], prop["collection"], prop["nullable"], item, "%s.%s" % (where, key),
                             errors, mode)
        chain = self.chain(type_name)
        if mode == "create" and self.types[type_name].get("abstract"):  # issue 16: Graph needs the concrete type
            errors.append("%s: %s is abstract: a create needs the @odata.type of a derived type" % (where, type_name))
        if mode in ("create", "update"):
            for base in chain:
                for key in RULES["read_only"].get(base, []):
                    if key in value:
                        errors.append("%s: %s is read-only on %s (RULES read_only)" % (where, key, type_name))
        if mode == "create":
            for base in chain:
                for key in RULES["required_on_create"].get(base, []):
                    if key not in value:
                        errors.append("%s: %s is required to create %s (RULES required_on_create)"
                                      % (where, key, type_name))
        if mode == "response":
            for base in chain:
                for key in RULES["required_in_response"].get(base, []):
                    if key not in value and self.types[type_name]["kind"] == "entity":
                        errors.append("%s: %s missing from a %s (RULES required_in_response)" % (where, key, type_name))

    # --- requests and responses ---------------------------------------------------------
    def check_query(self, target, query, headers, errors):
        params = parse_qs(query, keep_blank_values=True)
        for name, values in params.items():
            if name not in RULES["query_options"]:
                errors.append("query option %s is not one the collection may use" % name)
                continue
            value = values[-1]
            if name == "$select":
                known = self.properties(target.type)
                for prop in value.split(","):
                    if prop and prop not in known:
                        errors.append("$select: %r is not a property of %s" % (prop, target.type))
            elif name == "$expand":
                for nav in value.split(","):
                    if nav.split("(")[0] not in self.navigation(target.type):
                        errors.append("$expand: %r is not a navigation property of %s" % (nav, target.type))
            elif name == "$top" and not value.isdigit():
                errors.append("$top: %r is not a whole number" % value)
            elif name == "$count" and value not in ("true", "false"):
                errors.append("$count: %r is not true or false" % value)
        advanced = params.get("$count") == ["true"] or any(
            re.search(r"\b(ne|not|endsWith)\b", v) for v in params.get("$filter", []))
        is_directory_object = any(self.derives(target.type, t) for t in RULES["advanced_query_types"])
        if advanced and is_directory_object and (headers.get("consistencylevel") or "").lower() != "eventual":
            errors.append("advanced query on %s without ConsistencyLevel: eventual (RULES advanced_query_types)"
                          % target.type)

    def check_request(self, method, url, headers=None, body=None):
        """Violations of one request (method, path, query, body)."""
        headers = {k.lower(): v for k, v in (headers or {}).items()}
        errors = []
        parts = urlsplit(url)
        if parts.path.rstrip("/") == "/v1.0/$batch":
            if method != "POST":
                return ["$batch takes POST, not %s" % method]
            return self.check_batch(body)
        try:
            target = self.resolve(parts.path)
        except ValueError as err:
            return [str(err)]
        if target.action is not None:
            return self.check_action(method, parts.path, target, body)
        if target.ref:
            return self.check_ref(method, parts.path, target, body)
        allowed = RULES["methods"].get(target.key_path, {}).get("entity" if target.keyed else "collection")
        if allowed is None or method not in allowed:
            errors.append("%s is not a Graph method on %s (%s) (RULES methods)"
                          % (method, parts.path, "entity" if target.keyed else "collection"))
        self.check_query(target, parts.query, headers, errors)
        if method in ("POST", "PATCH"):
            if body is None:
                errors.append("%s %s without a body" % (method, parts.path))
            else:
                self.check_object(target.type, body, "request body", errors,
                                  "create" if method == "POST" else "update")
                errors.extend(intune_runtime_rules(method, target, body))
        elif body is not None:
            errors.append("%s %s with a body" % (method, parts.path))
        return errors

    def check_action(self, method, path, target, body):
        """A bound action (issue 16): POST only, the body holds its parameters with their types."""
        if method != "POST":
            return ["%s is not a Graph method on the action %s (bound actions take POST)" % (method, path)]
        params = target.action["parameters"]
        if params and not isinstance(body, dict):
            return ["POST %s without a body of parameters %s" % (path, sorted(params))]
        errors = []
        for key, value in (body or {}).items():
            param = params.get(key)
            if param is None:
                errors.append("%s: %r is not a parameter of the action" % (path, key))
                continue
            self.check_value(param["type"], param["collection"], param["nullable"], value, "parameter " + key,
                             errors, "action")
        return errors

    def check_ref(self, method, path, target, body):
        """A $ref request (issue 16): POST {"@odata.id": directoryObject URL} on the collection, DELETE on one."""
        allowed = RULES["methods"].get(target.key_path, {}).get("entity" if target.keyed else "collection") or []
        if method not in allowed:
            return ["%s is not a Graph method on %s (RULES methods)" % (method, path)]
        if method == "DELETE":
            return [] if body is None else ["DELETE %s with a body" % path]
        if not isinstance(body, dict) or set(body) != {"@odata.id"} or not REF_BODY.match(str(body["@odata.id"])):
            return ['POST %s needs a body {"@odata.id": "https://graph.../v1.0/directoryObjects/{id}"} (RULES REF_BODY)'
                    % path]
        return []

    def check_batch(self, body):
        errors = []
        if not isinstance(body, dict) or set(body) != {"requests"} or not isinstance(body["requests"], list):
            return ['$batch body must be {"requests": [...]}']
        items = body["requests"]
        if not items or len(items) > RULES["batch_limit"]:
            errors.append("$batch holds %d requests (1 to %d allowed)" % (len(items), RULES["batch_limit"]))
        ids = [i.get("id") for i in items if isinstance(i, dict)]
        if len(set(ids)) != len(ids):
            errors.append("$batch request ids are not unique")
        for index, item in enumerate(items):
            unknown = set(item) - {"id", "method", "url", "headers", "body", "dependsOn"}
            if unknown or not isinstance(item.get("id"), str) or "method" not in item or "url" not in item:
                errors.append("$batch requests[%d]: needs id (string), method, url; unknown keys %s"
                              % (index, sorted(unknown)))
                continue
            if not item["url"].startswith("/") or item["url"].startswith("/v1.0"):
                errors.append("$batch requests[%d]: url %r must be relative to /v1.0 (start with /)"
                              % (index, item["url"]))
                continue
            for err in self.check_request(item["method"], "/v1.0" + item["url"], item.get("headers"), item.get("body")):
                errors.append("$batch requests[%d]: %s" % (index, err))
        return errors

    def check_response(self, method, url, status, body):
        """Violations of one successful response's body."""
        parts = urlsplit(url)
        if status >= 400:
            if not (isinstance(body, dict) and isinstance(body.get("error"), dict)
                    and isinstance(body["error"].get("code"), str) and isinstance(body["error"].get("message"), str)):
                return ["error response without {error: {code, message}} (G errors)"]
            return []
        if status == 204:
            return [] if body is None else ["204 with a body"]
        if parts.path.rstrip("/") == "/v1.0/$batch":
            errors = []
            for index, item in enumerate((body or {}).get("responses") or []):
                if set(item) - {"id", "status", "headers", "body"}:
                    errors.append("$batch responses[%d]: unknown keys" % index)
            return errors
        target = self.resolve(parts.path)
        errors = []
        if target.action is not None:  # issue 16: an action answers 204, or its return type
            returns = target.action.get("returns")
            if returns and body is not None:
                self.check_value(returns["type"], returns["collection"], True, body, "response", errors, "response")
            return errors
        if target.keyed or (method == "POST" and status in (200, 201)):  # a create answers the object
            self.check_object(target.type, body, "response", errors, "response")
            return errors
        if not isinstance(body, dict) or not isinstance(body.get("value"), list):
            return ["collection response without a value array"]
        for key in body:
            if key not in ("value", "@odata.context", "@odata.nextLink", "@odata.count"):
                errors.append("collection response: unknown key %s" % key)
        for index, item in enumerate(body["value"]):
            self.check_object(target.type, item, "value[%d]" % index, errors, "response")
        return errors
