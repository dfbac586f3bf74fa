"""The one host-name, port and timeout rule every connection goes through (network/host_names)."""

from __future__ import annotations

import math

import pytest

from ansible_collections.ems.enable.plugins.module_utils.network.host_names import (
    HostNameError, check_host, check_port, check_range, check_timeout, is_dns_name)


@pytest.mark.parametrize("value,expected", [
    ("DC1.corp.example.com", "dc1.corp.example.com"),
    ("dc1.corp.example.com.", "dc1.corp.example.com"),  # absolute name: the trailing dot is dropped
    ("10.0.0.1", "10.0.0.1"), ("::1", "[::1]"), ("[fe80::1]", "[fe80::1]"),
    ("bücher.example", "xn--bcher-kva.example"),
])
def test_a_host_is_normalized(value, expected):
    assert check_host(value) == expected


@pytest.mark.parametrize("value,why", [
    ("dc1 ldap://10.251.1.1:3890/", "space"), ("ldap://dc1", "URL"), ("dc1:389", "port"), ("dc1/x", "path"),
    ("dc1..corp", "empty label"), ("dc1.corp\n", "control character"), ("dc1\t", "control character"),
    ("", "empty"), (5, "not a string"), ("-dc1.corp", "label"),
])
def test_a_bad_host_names_the_option(value, why):
    with pytest.raises(HostNameError) as err:
        check_host(value, "server[0]")
    assert str(err.value).startswith("server[0]: ") and why in str(err.value) and "\n" not in str(err.value)


def test_dns_names_share_the_rule():
    assert is_dns_name("fs.contoso.com") and is_dns_name("fs.contoso.com.")
    assert not is_dns_name("fs") and is_dns_name("fs", need_dot=False)
    assert not is_dns_name("10.0.0.1") and not is_dns_name("fs.contoso.com:443") and not is_dns_name(None)
    assert not is_dns_name("_ldap._tcp.contoso.com") and is_dns_name("_ldap._tcp.contoso.com", allow_underscore=True)


@pytest.mark.parametrize("value", [0, -1, 3601, 1e12, math.inf, math.nan, True, "5"])
def test_a_timeout_is_bounded(value):
    with pytest.raises(HostNameError, match=r"^timeout: .* at most 3600"):
        check_timeout(value)


@pytest.mark.parametrize("value", [0, -1, 65536, 2 ** 40, True, "636"])
def test_a_port_is_1_to_65535(value):
    with pytest.raises(HostNameError, match=r"^port: "):
        check_port(value)


def test_a_range_names_the_option_and_remedy():
    assert check_range(2048, "min_rsa_key_size", 1024, 16384, "x") == 2048
    with pytest.raises(HostNameError, match=r"^min_days_valid: -1 is out of range \(0 to 3650\)\. Give"):
        check_range(-1, "min_days_valid", 0, 3650, "Give days.")
