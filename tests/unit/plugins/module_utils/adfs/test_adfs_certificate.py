"""ems.enable.adfs_certificate_info: every check against PFX files generated here with cryptography.

No key is committed: each test makes its own CA, certificate and PFX under tmp_path (adfs_pki.py).
"""

from __future__ import annotations

import datetime

import pytest
from adfs_pki import (NOW, PASSWORD, ec_key, make_ca, make_cert, rsa_key, write_pfx,
                      write_pfx_with_provider)
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID

from ansible_collections.ems.enable.plugins.module_utils.adfs import certificate as ac

FS = "fs.contoso.example"


def params(path, **changes):
    base = {"path": str(path), "password": PASSWORD, "federation_service_name": FS,
            "certificate_authentication": False, "device_registration_upn_suffixes": [],
            "min_days_valid": 30, "min_rsa_key_size": 2048, "import_on_windows_server_2016": True}
    base.update(changes)
    return base


def statuses(result, check_id):
    return [c["status"] for c in result["checks"] if c["id"] == "adfs_certificate." + check_id]


def failing(result):
    return [c["id"] for c in result["checks"] if c["status"] == "fail"]


@pytest.fixture(scope="module")
def ca():
    return make_ca()


@pytest.fixture
def good_pfx(tmp_path, ca):
    key, cert, ca_cert = make_cert(sans=(FS, "certauth." + FS, "enterpriseregistration.contoso.example"), ca=ca)
    return write_pfx(tmp_path / "good.pfx", key, cert, ca_cert, legacy=True), cert


def test_good_certificate_passes_every_check(good_pfx):
    path, cert = good_pfx
    result = ac.run_certificate_info(params(path, certificate_authentication=True,
                                            device_registration_upn_suffixes=["contoso.example"]))
    assert not result.get("failed"), result.get("msg")
    assert result["summary"]["fail"] == 0
    assert result["summary"]["warn"] == 0, result["warnings"]
    info = result["certificate"]
    assert info["thumbprint"] == cert.fingerprint(hashes.SHA1()).hex().upper()
    assert len(info["thumbprint"]) == 40
    assert FS in info["dns_names"]
    assert info["key"] == {"algorithm": "RSA", "size": 2048}
    assert result["required_names"] == [FS, "certauth." + FS, "enterpriseregistration.contoso.example"]
    assert statuses(result, "name") == ["pass", "pass", "pass"]
    assert info["chain_certificates"] == 1
    assert PASSWORD not in str(result)


def test_wrong_password_fails_with_the_option_name(good_pfx):
    path, _cert = good_pfx
    result = ac.run_certificate_info(params(path, password="not-the-password"))
    assert result["failed"]
    assert failing(result) == ["adfs_certificate.pfx_password"]
    assert "adfs_certificate_pfx_password" in result["msg"]
    assert result["certificate"] is None
    assert "not-the-password" not in str(result)


def test_missing_file_and_not_a_pfx(tmp_path):
    result = ac.run_certificate_info(params(tmp_path / "absent.pfx"))
    assert failing(result) == ["adfs_certificate.pfx_file"]
    assert "on the controller" in result["msg"]
    junk = tmp_path / "junk.pfx"
    junk.write_bytes(b"-----BEGIN CERTIFICATE-----\nnot a pfx\n")
    result = ac.run_certificate_info(params(junk))
    assert failing(result) == ["adfs_certificate.pfx_format"]


def test_san_missing_the_federation_service_name(tmp_path, ca):
    key, cert, ca_cert = make_cert(cn=FS, sans=("www.contoso.example",), ca=ca)
    result = ac.run_certificate_info(params(write_pfx(tmp_path / "c.pfx", key, cert, ca_cert)))
    assert result["failed"]
    assert failing(result) == ["adfs_certificate.name"]
    # The CN names the service but a SAN is present: RFC 6125 ignores the CN then.
    assert "does not cover %s" % FS in result["msg"]
    assert "www.contoso.example" in result["msg"]


def test_certauth_and_enterprise_registration_names_are_required_when_asked(tmp_path, ca):
    key, cert, ca_cert = make_cert(sans=(FS, "*.contoso.example"), ca=ca)
    path = write_pfx(tmp_path / "c.pfx", key, cert, ca_cert)
    plain = ac.run_certificate_info(params(path))
    assert "adfs_certificate.name" not in failing(plain)
    asked = ac.run_certificate_info(params(path, certificate_authentication=True,
                                           device_registration_upn_suffixes=["contoso.example", "fabrikam.example"]))
    # certauth.fs.contoso.example has two labels left of contoso.example: the wildcard does not cover it;
    # enterpriseregistration.contoso.example is covered by *.contoso.example; fabrikam is not.
    assert statuses(asked, "name") == ["pass", "fail", "pass", "fail"]
    assert "certauth." + FS in asked["msg"]
    assert "enterpriseregistration.fabrikam.example" in asked["msg"]


def test_subject_cn_counts_only_without_a_san(tmp_path, ca):
    key, cert, ca_cert = make_cert(cn=FS, sans=None, ca=ca)
    result = ac.run_certificate_info(params(write_pfx(tmp_path / "c.pfx", key, cert, ca_cert)))
    assert statuses(result, "name") == ["pass"]
    assert "subject CN" in [c for c in result["checks"] if c["id"] == "adfs_certificate.name"][0]["message"]


def test_expired_and_not_yet_valid_and_expiring(tmp_path, ca):
    key, cert, ca_cert = make_cert(not_before=NOW - datetime.timedelta(days=400),
                                   not_after=NOW - datetime.timedelta(days=2), ca=ca)
    result = ac.run_certificate_info(params(write_pfx(tmp_path / "old.pfx", key, cert, ca_cert)))
    assert failing(result) == ["adfs_certificate.validity"]
    assert "expired on" in result["msg"]
    assert result["certificate"]["days_remaining"] == 0

    key, cert, ca_cert = make_cert(not_before=NOW + datetime.timedelta(days=2),
                                   not_after=NOW + datetime.timedelta(days=300), ca=ca)
    result = ac.run_certificate_info(params(write_pfx(tmp_path / "future.pfx", key, cert, ca_cert)))
    assert failing(result) == ["adfs_certificate.validity"]
    assert "not valid before" in result["msg"]

    key, cert, ca_cert = make_cert(not_after=NOW + datetime.timedelta(days=10), ca=ca)
    result = ac.run_certificate_info(params(write_pfx(tmp_path / "soon.pfx", key, cert, ca_cert, legacy=True)))
    assert not result.get("failed")
    assert statuses(result, "validity") == ["warn"]
    assert any("expires on" in w for w in result["warnings"])


def test_server_authentication_eku_required(tmp_path, ca):
    key, cert, ca_cert = make_cert(eku=(ExtendedKeyUsageOID.CLIENT_AUTH,), ca=ca)
    result = ac.run_certificate_info(params(write_pfx(tmp_path / "c.pfx", key, cert, ca_cert)))
    assert failing(result) == ["adfs_certificate.eku"]
    assert "1.3.6.1.5.5.7.3.1" in result["msg"]
    key, cert, ca_cert = make_cert(eku=None, ca=ca)
    result = ac.run_certificate_info(params(write_pfx(tmp_path / "none.pfx", key, cert, ca_cert)))
    assert failing(result) == ["adfs_certificate.eku"]
    assert "no Enhanced Key Usage extension" in result["msg"]


def test_small_rsa_and_ec_keys_fail(tmp_path, ca):
    key, cert, ca_cert = make_cert(key=rsa_key(1024), ca=ca)
    result = ac.run_certificate_info(params(write_pfx(tmp_path / "small.pfx", key, cert, ca_cert)))
    assert failing(result) == ["adfs_certificate.key"]
    key, cert, ca_cert = make_cert(key=ec_key(), ca=ca)
    result = ac.run_certificate_info(params(write_pfx(tmp_path / "ec.pfx", key, cert, ca_cert)))
    assert "adfs_certificate.key" in failing(result)
    assert "CNG" in result["msg"]


def test_self_signed_is_a_warning(tmp_path):
    key, cert, _ca = make_cert(self_signed=True)
    result = ac.run_certificate_info(params(write_pfx(tmp_path / "self.pfx", key, cert, legacy=True)))
    assert not result.get("failed")
    assert statuses(result, "trust") == ["warn"]


def test_every_failure_is_listed_not_only_the_first(tmp_path, ca):
    key, cert, ca_cert = make_cert(sans=("other.example",), eku=(ExtendedKeyUsageOID.CLIENT_AUTH,),
                                   not_after=NOW - datetime.timedelta(days=1),
                                   not_before=NOW - datetime.timedelta(days=90), key=rsa_key(1024), ca=ca)
    result = ac.run_certificate_info(params(write_pfx(tmp_path / "bad.pfx", key, cert, ca_cert)))
    assert set(failing(result)) == {"adfs_certificate.name", "adfs_certificate.validity",
                                    "adfs_certificate.eku", "adfs_certificate.key"}
    assert result["msg"].startswith("4 of ")


def test_pfx_structure_without_password(good_pfx):
    path, _cert = good_pfx
    structure = ac.pfx_structure(path.read_bytes())
    assert structure["mac_digest"] == "SHA1"
    assert any(c["type"] == "encrypted" for c in structure["containers"])
    assert structure["key_bags"] and structure["key_bags"][0]["csp_name"] is None
    assert structure["key_bags"][0]["encrypted_with"] == "pbeWithSHAAnd3-KeyTripleDES-CBC"


def test_modern_pfx_encryption_warns_for_windows_server_2016(tmp_path, ca):
    key, cert, ca_cert = make_cert(ca=ca)
    path = write_pfx(tmp_path / "aes.pfx", key, cert, ca_cert, legacy=False)
    result = ac.run_certificate_info(params(path))
    assert statuses(result, "pfx_encryption") == ["warn"]
    assert "PBES2" in [c for c in result["checks"] if c["id"] == "adfs_certificate.pfx_encryption"][0]["message"]
    assert statuses(ac.run_certificate_info(params(path, import_on_windows_server_2016=False)), "pfx_encryption") == []


@pytest.mark.parametrize("provider, status", [
    ("Microsoft Enhanced RSA and AES Cryptographic Provider", "pass"),
    ("Microsoft RSA SChannel Cryptographic Provider", "pass"),
    ("Microsoft Software Key Storage Provider", "fail"),
    ("Contoso HSM Provider", "warn"),
])
def test_key_provider_named_in_the_pfx(tmp_path, ca, provider, status):
    key, cert, ca_cert = make_cert(ca=ca)
    path = write_pfx_with_provider(tmp_path / "p.pfx", key, cert, provider)
    if path is None:
        pytest.skip("openssl command not available to write the CSP name attribute")
    structure = ac.pfx_structure(path.read_bytes())
    assert structure["key_bags"][0]["csp_name"] == provider
    result = ac.run_certificate_info(params(path))
    assert statuses(result, "key_provider") == [status]


def test_name_matching_rules():
    assert ac.name_matches("fs.contoso.example", "FS.Contoso.Example.")
    assert ac.name_matches("*.contoso.example", "fs.contoso.example")
    assert not ac.name_matches("*.contoso.example", "contoso.example")
    assert not ac.name_matches("*.contoso.example", "certauth.fs.contoso.example")
    assert not ac.name_matches("f*.contoso.example", "fs.contoso.example")
    assert not ac.name_matches("", "fs.contoso.example")


def test_ber_reader_handles_indefinite_lengths_and_segmented_octet_strings():
    # SEQUENCE (indefinite) { OCTET STRING (constructed, indefinite) { "ab", "cd" } }
    blob = bytes([0x30, 0x80, 0x24, 0x80, 0x04, 0x02]) + b"ab" + bytes([0x04, 0x02]) + b"cd" + bytes(4)
    (tag, constructed, content), = ac.ber_children(blob)
    assert tag == 0x30 and constructed
    (otag, ocons, ocontent), = ac.ber_children(content)
    assert ac.ber_octets(otag, ocons, ocontent) == b"abcd"
    with pytest.raises(ac.BerError):
        ac.ber_children(bytes([0x30, 0x05, 0x01]))
    assert ac.ber_oid(bytes([0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01])) == ac.OID_DATA


def test_provider_kinds():
    assert ac.provider_kind("Microsoft Enhanced Cryptographic Provider v1.0") == "csp"
    assert ac.provider_kind("Microsoft Platform Crypto Provider") == "cng"
    assert ac.provider_kind(None) == "unknown"
