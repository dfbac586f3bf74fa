"""sync_permissions.parse_account: how the connector account given by the user is looked up.

Regression: a distinguished name with an escaped comma (CN=Sync\\, Connector,...) was taken for a
DOMAIN\\name and cut at the backslash ("Invalid DN syntax" from the DC). The aad_connect role passes
the DN microsoft.ad.user returns, which can contain such escapes.
"""

from __future__ import annotations

import pytest

from ansible_collections.ems.enable.plugins.module_utils.ad.sync_permissions import parse_account


@pytest.mark.parametrize("account,expected", [
    ("svc-aadc", ("sam", "svc-aadc")),
    ("CORP\\svc-aadc", ("sam", "svc-aadc")),
    ("corp.example.com\\svc-aadc", ("sam", "svc-aadc")),
    ("svc-aadc@corp.example.com", ("upn", "svc-aadc@corp.example.com")),
    ("CORP\\svc-aadc@corp.example.com", ("upn", "svc-aadc@corp.example.com")),
    ("CN=svc-aadc,OU=Service Accounts,DC=corp,DC=example,DC=com",
     ("dn", "CN=svc-aadc,OU=Service Accounts,DC=corp,DC=example,DC=com")),
    ("CN=Sync\\, Connector,CN=Users,DC=corp,DC=example,DC=com",
     ("dn", "CN=Sync\\, Connector,CN=Users,DC=corp,DC=example,DC=com")),
    ("cn=Back\\\\slash,dc=corp,dc=example,dc=com", ("dn", "cn=Back\\\\slash,dc=corp,dc=example,dc=com")),
])
def test_parse_account(account, expected):
    assert parse_account(account) == expected
