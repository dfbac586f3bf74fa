# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The source anchor: which AD attribute becomes a user's ImmutableID in Entra ID.

Rule (E identity/hybrid/connect/how-to-connect-fed-management.md, "Immutable ID conditional on a value being
present in the attribute"; the claim rules data roles/adfs/vars/entra_trust.yml rules 1-4 apply it on AD FS):
ms-DS-ConsistencyGuid when it is set, else objectGUID; the ImmutableID is the base64 of the 16 bytes.
ATTRIBUTES is the one list in Python; tests/unit/plugins/module_utils/tenant/test_sso_test.py checks that the
claim rules query the same attributes in the same precedence, so the two cannot drift apart.
"""

from __future__ import annotations

import base64

#: Precedence order: the first attribute with a value is the anchor.
ATTRIBUTES = ("mS-DS-ConsistencyGuid", "objectGUID")


def _value(entry, name):
    """An attribute's first value in an LDAP entry, looked up case-insensitively (AD returns its own case)."""
    for key, values in (entry or {}).items():
        if key.lower() == name.lower() and values:
            return values[0]
    return None


def immutable_id(entry):
    """(ImmutableID, attribute it came from) of an LDAP user entry ({attr: [bytes]}); (None, None) without one."""
    for name in ATTRIBUTES:
        value = _value(entry, name)
        if isinstance(value, str):
            value = value.encode("latin-1")
        if value:
            return base64.b64encode(value).decode("ascii"), name
    return None, None
