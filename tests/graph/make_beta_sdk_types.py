"""Record what Microsoft's generated beta SDK models say of the beta types make_beta_slice.py describes.

    python tests/graph/make_beta_sdk_types.py <msgraph-beta-sdk-python git dir> <commit> [--out FILE]

Why: the beta CSDL of msgraph-metadata (over 8 MB) could not be read here, so the property TYPES of BETA
in make_beta_slice.py were first typed by hand from the Learn pages. microsoftgraph/msgraph-beta-sdk-python
is generated (Kiota) from the same beta metadata: each model ``msgraph_beta/generated/models/<snake>.py``
(a namespace type such as deviceManagement under ``models/<snake>/<snake>.py``) declares its parent class
(the base type) and, in ``get_field_deserializers()``, every own property's JSON name with its reader
(``get_str_value()``, ``get_bool_value()``, ``get_int_value()``, ``get_datetime_value()``,
``get_enum_value(X)``, ``get_object_value(X)``, ``get_collection_of_primitive_values(str)``,
``get_collection_of_object_values(X)`` ...); each enum model lists its members; the request body and response
of an action are models too (``.../assign/assign_post_request_body.py``, ``assign_post_response.py``).

This script only READS those files at one pinned commit (``git show``), nothing of them is copied: for each
type of BETA it writes the model's path, blob hash, base class, and for each property and navigation BETA
lists, the reader's kind (primitive/enum/object), its type word and whether it is a collection; for each enum
of ENUMS its members; for each action of ACTIONS its body parameters and returned value. The result,
tests/graph/beta-sdk-types.json, is the data make_beta_slice.py checks BETA against (and the unit tests check
the committed beta-slice.json against). What the SDK cannot say: Int32 from Int64 (both ``get_int_value``),
nullability (every field is Optional), abstractness. Those stay Learn's.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import make_beta_slice  # noqa: E402

REPOSITORY = "https://github.com/microsoftgraph/msgraph-beta-sdk-python"
MODELS = "msgraph_beta/generated/models"
#: The SDK's request-builder models of each action of make_beta_slice.ACTIONS: (body, response) paths.
ACTION_MODELS = {("deviceConfiguration", "assign"): (
    "msgraph_beta/generated/device_management/device_configurations/item/assign/assign_post_request_body.py",
    "msgraph_beta/generated/device_management/device_configurations/item/assign/assign_post_response.py")}

CLASS = re.compile(r"^class (\w+)\(([^)]*)\):", re.M)
FIELD = re.compile(r"""^\s+"([\w@.]+)": lambda n : setattr\(self, '\w+', n\.(get_\w+)\((\w*)\)\),?$""", re.M)
MEMBER = re.compile(r"""^\s+\w+ = "([^"]+)",?$""", re.M)
#: Kiota readers -> (kind, collection); the argument names the type for enum and object readers.
READERS = {"get_str_value": ("primitive", False), "get_bool_value": ("primitive", False),
           "get_int_value": ("primitive", False), "get_float_value": ("primitive", False),
           "get_datetime_value": ("primitive", False), "get_date_value": ("primitive", False),
           "get_time_value": ("primitive", False), "get_timedelta_value": ("primitive", False),
           "get_uuid_value": ("primitive", False), "get_bytes_value": ("primitive", False),
           "get_enum_value": ("enum", False), "get_object_value": ("object", False),
           "get_collection_of_primitive_values": ("primitive", True),
           "get_collection_of_enum_values": ("enum", True),
           "get_collection_of_object_values": ("object", True)}
PRIMITIVE_WORD = {"get_str_value": "str", "get_bool_value": "bool", "get_int_value": "int",
                  "get_float_value": "float", "get_datetime_value": "datetime", "get_date_value": "date",
                  "get_time_value": "time", "get_timedelta_value": "timedelta", "get_uuid_value": "UUID",
                  "get_bytes_value": "bytes"}
NOT_BASES = {"AdditionalDataHolder", "BackedModel", "Parsable"}


def snake(name):
    """Kiota's file name of a type: every capital becomes _ and its small letter (usernameAADSource -> a_a_d)."""
    return re.sub(r"[A-Z]", lambda m: "_" + m.group(0).lower(), name)


class Reader:
    def __init__(self, git_dir, commit):
        self.git_dir, self.commit = str(git_dir), commit

    def git(self, *args):
        return subprocess.run(["git", "--git-dir", self.git_dir] + list(args), check=True,
                              capture_output=True, text=True).stdout

    def model(self, name):
        """(path, text) of the model of type ``name`` at the commit."""
        paths = set(self.git("ls-tree", "-r", "--name-only", self.commit, MODELS + "/").split())
        for path in ("%s/%s.py" % (MODELS, snake(name)), "%s/%s/%s.py" % (MODELS, snake(name), snake(name))):
            if path in paths:
                return path, self.show(path)
        raise SystemExit("make_beta_sdk_types: no model of %s at %s" % (name, self.commit))

    def show(self, path):
        return self.git("show", "%s:%s" % (self.commit, path))

    def blob(self, path):
        return self.git("rev-parse", "%s:%s" % (self.commit, path)).strip()


def fields(text):
    out = {}
    for name, reader, arg in FIELD.findall(text):
        if name.startswith("@odata."):
            continue
        if reader not in READERS:
            raise SystemExit("make_beta_sdk_types: unknown reader %s of %s" % (reader, name))
        kind, collection = READERS[reader]
        word = PRIMITIVE_WORD.get(reader, arg) if kind == "primitive" and not collection else arg
        out[name] = {"kind": kind, "type": word, "collection": collection}
    return out


def base_of(text, cls):
    for name, parents in CLASS.findall(text):
        if name == cls:
            bases = [p.strip() for p in parents.split(",") if p.strip() not in NOT_BASES]
            return bases[0] if bases else None
    raise SystemExit("make_beta_sdk_types: class %s not found" % cls)


def pascal(name):
    return name[0].upper() + name[1:]


def make_types(reader):
    faults, types, enums, actions = [], {}, {}, {}
    for name, desc in make_beta_slice.BETA.items():
        path, text = reader.model(name)
        own = fields(text)
        wanted = list(desc["properties"]) + list(desc.get("navigation", {}))
        missing = [key for key in wanted if key not in own and key not in inherited_names(reader, name)]
        if missing:
            faults.append("%s: the SDK model %s has no %s" % (name, path, missing))
        types[name] = {"sdk_path": path, "sdk_blob": reader.blob(path), "sdk_class": pascal(name),
                       "base": base_of(text, pascal(name)),
                       "properties": {key: own[key] for key in wanted if key in own}}
    for name in make_beta_slice.ENUMS:
        path, text = reader.model(name)
        enums[name] = {"sdk_path": path, "sdk_blob": reader.blob(path), "members": sorted(MEMBER.findall(text))}
    for (owner, action), (body_path, response_path) in ACTION_MODELS.items():
        body, response = fields(reader.show(body_path)), fields(reader.show(response_path))
        actions.setdefault(owner, {})[action] = {
            "sdk_body_path": body_path, "sdk_body_blob": reader.blob(body_path),
            "sdk_response_path": response_path, "sdk_response_blob": reader.blob(response_path),
            "parameters": {key: body[key] for key in make_beta_slice.ACTIONS[owner][action]["parameters"]
                           if key in body},
            "returns": response.get("value")}
    if faults:
        raise SystemExit("make_beta_sdk_types: " + "; ".join(faults))
    return types, enums, actions


def inherited_names(reader, name):
    """JSON names the SDK model's ancestors declare (a property BETA lists on a derived type)."""
    out, base = set(), make_beta_slice.BETA[name]["base"]
    while base:
        out |= set(fields(reader.model(base)[1]))
        base = make_beta_slice.BETA[base]["base"]
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("git_dir", type=Path)
    parser.add_argument("commit")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("beta-sdk-types.json"))
    args = parser.parse_args(argv)
    reader = Reader(args.git_dir, args.commit)
    commit = reader.git("rev-parse", args.commit + "^{commit}").strip()
    reader.commit = commit
    types, enums, actions = make_types(reader)
    result = {
        "source": {"repository": REPOSITORY, "commit": commit,
                   "commit_date": reader.git("log", "-1", "--format=%cI", commit).strip(),
                   "made_by": "tests/graph/make_beta_sdk_types.py",
                   "note": "read (git show) from Microsoft's Kiota-generated beta models at this commit: each "
                           "type's base class and, for every property and navigation make_beta_slice.BETA lists, "
                           "the get_field_deserializers() reader (kind, type, collection); enum members; the "
                           "assign action's body and response models. Nothing of the SDK is copied. The SDK "
                           "does not tell Int32 from Int64, nor nullability or abstractness."},
        "types": types, "enums": enums, "actions": actions}
    args.out.write_text(json.dumps(result, indent=1, sort_keys=False) + "\n")
    print("make_beta_sdk_types: %s -> %s: %d types, %d enums" % (commit[:12], args.out, len(types), len(enums)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
