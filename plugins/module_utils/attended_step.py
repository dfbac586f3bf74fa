# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument spec and detection helpers of ems.enable.attended_step (plugins/action/attended_step.py).

Kept in module_utils so that the documentation stub plugins/modules/attended_step.py declares the
same argument spec as the action plugin.
"""

from __future__ import annotations

import re

STEP_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")

ARGUMENT_SPEC = dict(
    id=dict(type="str", required=True),
    title=dict(type="str", required=True),
    instructions=dict(type="list", elements="str", required=True),
    component=dict(type="str"),
    values=dict(type="dict", default={}),
    done=dict(type="bool"),
    detect=dict(type="dict", options=dict(
        module=dict(type="str", required=True),
        args=dict(type="dict", default={}),
        key=dict(type="str", required=True, no_log=False),
        equals=dict(type="raw"),
    )),
    detection=dict(type="str"),
    doc_url=dict(type="str"),
)
SPEC_KWARGS = dict(required_one_of=[["done", "detect"]], mutually_exclusive=[["done", "detect"]])


def lookup(data, dotted):
    """Value at a dotted path ('stat.exists', 'services.0.state'); returns (found, value)."""
    current = data
    for part in dotted.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, (list, tuple)) and re.fullmatch(r"-?\d+", part) \
                and -len(current) <= int(part) < len(current):
            current = current[int(part)]
        else:
            return False, None
    return True, current


def holds(found, value, detect):
    """Does the detected value mean 'done'? With ``equals``: equality (the same value as text also
    matches, case-insensitively, e.g. 'True' and true, 'Running' and 'running'); without: truthiness."""
    if not found:
        return False
    expected = detect.get("equals")
    if expected is not None:
        if value == expected:
            return True
        return str(value).strip().lower() == str(expected).strip().lower()
    return bool(value)


def describe(detect):
    """The default 'Done when' sentence of a detect dict."""
    if detect.get("equals") is not None:
        return "%s reports %s = %s" % (detect["module"], detect["key"], detect["equals"])
    return "%s reports %s" % (detect["module"], detect["key"])
