# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The desired-state core: strip read-only keys, compare only what the data sets, describe the change.

- Read-only and server-maintained keys are dropped from what Graph returns before comparing (as
  IntuneCD's ``IntuneCDBase.remove_keys`` does: id, version, createdDateTime, lastModifiedDateTime,
  @odata.context, isAssigned, ...; ``@odata.type`` is kept, it is part of the match).
- Only the properties the data sets are compared, recursively (as Microsoft365DSC's
  ``Test-M365DSCParameterState`` / ``Compare-M365DSCComplexObject`` do): a property the data does not
  name is never a difference, and never written.
- Lists are compared without regard to order (IntuneCD: DeepDiff ignore_order); strings of GUIDs and
  enum members compare case-insensitively where Graph itself does not care (``casefold_keys``).
"""

from __future__ import annotations

import json

#: Keys Graph maintains itself (IntuneCD remove_keys, plus the read-only rows of the Graph resource pages).
READ_ONLY = frozenset([
    "id", "version", "createdDateTime", "lastModifiedDateTime", "modifiedDateTime", "@odata.context",
    "@odata.etag", "isAssigned", "deployedAppCount", "templateId", "renewedDateTime", "securityIdentifier",
    "onPremisesSyncEnabled", "mail", "proxyAddresses", "deletedDateTime", "roleScopeTagIds",
])


class NewObject:
    """An object the plan creates: its id is known only after the POST (check mode never knows it)."""

    def __init__(self, kind, name):
        self.kind = kind
        self.name = name
        self.id = None

    def __repr__(self):
        return self.id or "<new %s %s>" % (self.kind, self.name)


def strip(value):
    """A Graph object without read-only keys (recursively), new objects' ids resolved."""
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in READ_ONLY}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def _placeholders(value, leaf):
    """A copy of ``value`` with every NewObject replaced by ``leaf(new_object)``."""
    if isinstance(value, NewObject):
        return leaf(value)
    if isinstance(value, dict):
        return {k: _placeholders(v, leaf) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholders(v, leaf) for v in value]
    return value


def _created_id(new):
    if new.id is None:
        raise ValueError("internal: %r was not created before it was used" % new)
    return new.id


def resolve(value):
    """The body to send: NewObject placeholders replaced by their ids (after their POST)."""
    return _placeholders(value, _created_id)


def shown(value):
    """A JSON-able copy for results and diffs (placeholders as '<new group X>')."""
    return _placeholders(value, repr)


def _key(value):
    return json.dumps(shown(value), sort_keys=True)


def same(desired, current):
    """True when ``current`` holds every property ``desired`` sets, with the same value."""
    if isinstance(desired, dict):
        if not isinstance(current, dict):
            return False
        return all(same(v, current.get(k)) for k, v in desired.items())
    if isinstance(desired, list):
        if not isinstance(current, list) or len(desired) != len(current):
            return False
        remaining = list(current)
        for item in desired:
            match = next((i for i, c in enumerate(remaining) if same(item, c)), None)
            if match is None:
                return False
            remaining.pop(match)
        return True
    if isinstance(desired, NewObject):
        return desired.id is not None and desired.id == current
    if isinstance(desired, float) or isinstance(current, float):
        return isinstance(current, (int, float)) and not isinstance(current, bool) and float(desired) == float(current)
    return desired == current


def differences(desired, current):
    """{property: (current, desired)} for the top-level properties the data sets that differ."""
    current = strip(current or {})
    return {k: (current.get(k), v) for k, v in desired.items() if not same(v, current.get(k))}


def diff_entry(kind, name, action, changed):
    """One Ansible diff dict (the default callback shows a list of them) for a planned change."""
    header = "%s %s" % (kind, name)
    before = {k: shown(old) for k, (old, _new) in changed.items()} if action != "create" else {}
    after = {k: shown(new) for k, (_old, new) in changed.items()} if action != "delete" else {}
    return {"before_header": "%s (tenant)" % header, "after_header": "%s (%s)" % (header, action),
            "before": json.dumps(before, indent=2, sort_keys=True) + "\n",
            "after": json.dumps(after, indent=2, sort_keys=True) + "\n"}


class Change:
    """A planned write: kind, item name, action (create/update/delete/assign/...), the request, the diff."""

    def __init__(self, kind, name, action, method, path, body=None, changed=None, creates=None):
        self.kind = kind
        self.name = name
        self.action = action
        self.method = method
        self.path = path  # str, or a callable returning the path once placeholders are known
        self.body = body
        self.changed = changed or {}
        self.creates = creates  # the NewObject whose id the answer carries
        self.version = None  # "beta" for the few objects only Graph beta has (set by the planner)

    def url(self):
        return self.path() if callable(self.path) else self.path

    def summary(self):
        out = {"kind": self.kind, "name": self.name, "action": self.action, "properties": sorted(self.changed)}
        if self.version == "beta":
            out["graph"] = "beta (not supported by Microsoft for production)"
        return out

    def diff(self):
        return diff_entry(self.kind, self.name, self.action, self.changed)
