"""Bad input of ems.enable.dns_check and ems.enable.tls_endpoint_check, option by option.

Each case goes through what the action plugin does before any query or connection: Ansible's
argument spec validation (types, choices, unknown options) and then the module's own
validate_params (names, addresses, ranges, files). The message must name the option. The verdict
logic of dns_check (missing, wrong type, wrong target) and the RFC 6125 name matching of
tls_endpoint_check are tested here on synthetic answers; the integration tests run both modules
against real servers.
"""

from __future__ import annotations

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.ems.enable.plugins.module_utils.network import dns_check
from ansible_collections.ems.enable.plugins.module_utils.network import tls_endpoint
from ansible_collections.ems.enable.plugins.module_utils.ad.ldap_client import LdapError


def first_error(spec, validate, args):
    """The message the module would fail with before doing anything, or None."""
    result = ArgumentSpecValidator(spec).validate(args)
    if result.error_messages:
        return result.error_messages[0]
    try:
        validate(result.validated_parameters)
    except dns_check.NetworkCheckError as err:
        assert err.kind == "input"
        return str(err)
    return None


DNS_OK = {"resolvers": ["10.0.0.10"], "upn_suffixes": ["contoso.com"]}
OTHER_SUBJECTS = {"federation_service_name", "rms_connector_name", "domains", "records", "federation_service_addresses",
                  "rms_connector_addresses", "domain_controllers"}


@pytest.mark.parametrize("changes,words", [
    ({"resolvers": []}, ["resolvers:"]),
    ({"resolvers": ["dc1.contoso.com"]}, ["resolvers[0]", "'dc1.contoso.com'", "not an IP address"]),
    ({"resolvers": "10.0.0.10,,x"}, ["resolvers[1]", "''"]),
    ({"port": 0}, ["port:"]),
    ({"port": "domain"}, ["port", "int"]),
    ({"timeout": 0}, ["timeout:"]),
    ({"timeout": "soon"}, ["timeout", "float"]),
    ({"federation_service_name": "fs"}, ["federation_service_name:", "'fs'"]),
    ({"federation_service_name": "fs.contoso.com", "federation_service_addresses": ["fs.contoso.com"]},
     ["federation_service_addresses[0]", "IPv4"]),
    ({"federation_service_addresses": ["10.0.1.50"]}, ["federation_service_addresses was given without federation_service_name"]),
    ({"upn_suffixes": ["contoso"]}, ["upn_suffixes[0]"]),
    ({"upn_suffixes": ["contoso.com"], "enrollment_records": "perhaps"}, ["enrollment_records"]),
    ({"upn_suffixes": ["contoso.com"], "registration_records": "perhaps"}, ["registration_records"]),
    ({"upn_suffixes": ["contoso.com"], "enrollment_records": False, "registration_records": False},
     ["Nothing to check"]),
    ({"rms_connector_name": "rms connector.contoso.com"}, ["rms_connector_name:"]),
    ({"rms_connector_name": "rms.contoso.com", "rms_connector_addresses": ["2001:db8::1"]},
     ["rms_connector_addresses[0]", "IPv4"]),
    ({"rms_connector_addresses": ["10.0.1.60"]}, ["rms_connector_addresses was given without rms_connector_name"]),
    ({"domains": ["contoso_com"]}, ["domains[0]"]),
    ({"domains": ["contoso.com"], "forest": "contoso"}, ["forest:"]),
    ({"domain_controllers": ["dc1.contoso.com"]}, ["domain_controllers was given without domains"]),
    ({"domains": ["contoso.com"], "domain_controllers": ["dc1"]}, ["domain_controllers[0]"]),
    ({"records": [{"name": "x.contoso.com"}]}, ["records", "type"]),
    ({"records": [{"name": "x.contoso.com", "type": "MX"}]}, ["type", "MX"]),
    ({"records": [{"name": "x", "type": "A"}]}, ["records[0].name"]),
    ({"records": [{"name": "x.contoso.com", "type": "A", "values": ["fs.contoso.com"]}]}, ["records[0].values", "IPv4"]),
    ({"records": [{"name": "x.contoso.com", "type": "CNAME", "values": ["10.0.0.1 "]}]}, ["records[0].values"]),
    ({"records": [{"name": "x.contoso.com", "type": "A", "colour": "red"}]}, ["colour"]),
    ({"surprise": 1}, ["surprise"]),
    ({"resolvers": None}, ["resolvers"]),
])
def test_dns_check_bad_input_names_the_option(changes, words):
    args = dict(DNS_OK, **changes)
    if args.get("resolvers") is None:
        del args["resolvers"]
    # Only the option under test names something to check (else upn_suffixes would satisfy "what to check").
    if "upn_suffixes" in changes or set(changes) & OTHER_SUBJECTS:
        args["upn_suffixes"] = changes.get("upn_suffixes", [])
    message = first_error(dns_check.DNS_CHECK_SPEC, dns_check.validate_params, args)
    assert message, "accepted: %r" % args
    for word in words:
        assert word in message, message


def test_dns_check_good_input_passes_validation():
    assert first_error(dns_check.DNS_CHECK_SPEC, dns_check.validate_params, {
        "resolvers": ["10.0.0.10", "2001:db8::53"], "federation_service_name": "fs.contoso.com",
        "federation_service_addresses": ["10.0.1.50"], "upn_suffixes": ["contoso.com", "contoso.local"],
        "rms_connector_name": "rmsconnector.contoso.com", "domains": ["contoso.com"],
        "domain_controllers": ["dc1.contoso.com"], "records": [{"name": "_ldap._tcp.contoso.com", "type": "SRV"}],
    }) is None


def test_network_check_error_is_caught_like_the_ldap_errors():
    # The shared action plugin and module_main catch LdapError: the module's faults are a subclass.
    assert issubclass(dns_check.NetworkCheckError, LdapError)


TLS_OK = {"host": "fs.contoso.com"}


@pytest.mark.parametrize("changes,words", [
    ({"host": "fs"}, ["host:", "'fs'"]),
    ({"host": None}, ["host"]),
    ({"port": 0}, ["port:"]),
    ({"port": "https"}, ["port", "int"]),
    ({"address": "10.0.0.300 x"}, ["address:"]),
    ({"required_names": ["certauth fs.contoso.com"]}, ["required_names[0]"]),
    ({"ca_file": "/nonexistent/ca.pem"}, ["ca_file:", "/nonexistent/ca.pem"]),
    ({"warn_days": -1}, ["warn_days:"]),
    ({"warn_days": "a month"}, ["warn_days", "int"]),
    ({"minimum_tls_version": "1.4"}, ["minimum_tls_version", "1.4"]),
    ({"require_server_auth_eku": "sometimes"}, ["require_server_auth_eku"]),
    ({"fail_on_unreachable": "sometimes"}, ["fail_on_unreachable"]),
    ({"timeout": 0}, ["timeout:"]),
    ({"timeout": "soon"}, ["timeout", "float"]),
    ({"other": 1}, ["other"]),
])
def test_tls_check_bad_input_names_the_option(changes, words):
    args = dict(TLS_OK, **changes)
    if args.get("host") is None:
        del args["host"]
    message = first_error(tls_endpoint.TLS_ENDPOINT_SPEC, tls_endpoint.validate_params, args)
    assert message, "accepted: %r" % args
    for word in words:
        assert word in message, message


def test_tls_check_refuses_a_ca_file_without_pem(tmp_path):
    der = tmp_path / "ca.der"
    der.write_bytes(b"\x30\x82\x01\x0a")
    message = first_error(tls_endpoint.TLS_ENDPOINT_SPEC, tls_endpoint.validate_params,
                          dict(TLS_OK, ca_file=str(der)))
    assert "is not a PEM CA file" in message


@pytest.mark.parametrize("name,pattern,match", [
    ("fs.contoso.com", "fs.contoso.com", True),
    ("FS.Contoso.com.", "fs.contoso.com", True),
    ("fs.contoso.com", "*.contoso.com", True),
    ("certauth.fs.contoso.com", "*.contoso.com", False),   # one label only
    ("contoso.com", "*.contoso.com", False),
    ("fs.contoso.com", "f*.contoso.com", False),             # partial wildcards are not accepted
    ("fs.com", "*.com", False),                               # no wildcard over a bare TLD
    ("fs.contoso.com", "fs.contoso.org", False),
])
def test_san_matching_follows_rfc_6125(name, pattern, match):
    assert tls_endpoint.name_matches(name, pattern) is match


# --- dns_check verdicts on synthetic answers ----------------------------------------------------

def expectation(name, rtype, values=(), warn=()):
    return {"name": name, "type": rtype, "values": list(values), "accepted_with_warning": list(warn),
            "purpose": "Why.", "component": "x", "source": None}


@pytest.mark.parametrize("exp,observation,status,words", [
    (expectation("fs.contoso.com", "A", ["10.0.1.50"]), {"rcode": "NXDOMAIN", "found": {}}, "fail",
     ["fs.contoso.com (A) does not exist", "Add-DnsServerResourceRecordA -ZoneName contoso.com -Name fs -IPv4Address 10.0.1.50"]),
    (expectation("fs.contoso.com", "A"), {"rcode": "NXDOMAIN", "found": {"CNAME": ["lb.contoso.com"]}}, "fail",
     ["is a CNAME to lb.contoso.com", "an A record is required", "-RRType CName"]),
    (expectation("fs.contoso.com", "A", ["10.0.1.50"]), {"rcode": "NOERROR", "found": {"A": ["10.0.1.9"]}}, "fail",
     ["has A 10.0.1.9", "must hold 10.0.1.50", "-RRType A"]),
    (expectation("fs.contoso.com", "A", ["10.0.1.50"]), {"rcode": "NOERROR", "found": {"A": ["10.0.1.50"]}}, "pass",
     ["has A 10.0.1.50"]),
    (expectation("EnterpriseEnrollment.contoso.com", "CNAME", ["EnterpriseEnrollment-s.manage.microsoft.com"],
                 ["manage.microsoft.com"]),
     {"rcode": "NOERROR", "found": {"CNAME": ["manage.microsoft.com"]}}, "warn", ["preferred"]),
    (expectation("EnterpriseEnrollment.contoso.com", "CNAME", ["EnterpriseEnrollment-s.manage.microsoft.com"]),
     {"rcode": "NOERROR", "found": {"CNAME": ["ENTERPRISEENROLLMENT-S.manage.microsoft.com"]}}, "pass", ["is a CNAME"]),
    (expectation("EnterpriseEnrollment.contoso.com", "CNAME", ["EnterpriseEnrollment-s.manage.microsoft.com"]),
     {"rcode": "NOERROR", "found": {"A": ["10.0.0.1"]}}, "fail", ["is an A record", "a CNAME record is required"]),
    (expectation("_ldap._tcp.contoso.com", "SRV", ["dc2.contoso.com"]),
     {"rcode": "NOERROR", "found": {"SRV": ["dc1.contoso.com:389"]}}, "fail", ["but not dc2.contoso.com", "nltest"]),
    (expectation("_ldap._tcp.contoso.com", "SRV"), {"rcode": "NOERROR", "found": {}}, "fail", ["has no SRV record"]),
    (expectation("fs.contoso.com", "A"), {"rcode": "REFUSED", "found": {}}, "fail", ["answered REFUSED"]),
])
def test_dns_verdicts(exp, observation, status, words):
    got_status, message, remedy = dns_check.evaluate(exp, observation, "10.0.0.10", "contoso.com")
    assert got_status == status
    text = "%s %s" % (message, remedy)
    for word in words:
        assert word in text, text


def test_non_routable_suffixes_are_skipped_and_the_rest_expected():
    params = {"upn_suffixes": ["contoso.local", "Contoso.com."], "enrollment_records": True, "registration_records": True,
              "domains": ["contoso.com", "child.contoso.com"], "forest": None, "domain_controllers": []}
    expectations, skipped = dns_check.build_expectations(params)
    assert [s["name"] for s in skipped] == ["contoso.local"]
    names = [e["name"] for e in expectations]
    assert names[:2] == ["EnterpriseEnrollment.contoso.com", "EnterpriseRegistration.contoso.com"]
    assert "_gc._tcp.contoso.com" in names and "_gc._tcp.child.contoso.com" not in names
    assert names.count("_gc._tcp.contoso.com") == 1
    assert "_ldap._tcp.dc._msdcs.child.contoso.com" in names
