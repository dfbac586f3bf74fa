"""The Graph client, tenant_info and the tenant preflight against the Graph stand-in
(tests/graph/standin.py), whose every request and response is validated against the pinned CSDL
slice (tests/graph/v1.0-slice.json); and the validator itself (it must reject what Graph would)."""

from __future__ import annotations

import datetime
import json
import os
import stat
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[5]
sys.path.insert(0, str(ROOT / "tests" / "graph"))

import csdl  # noqa: E402
import certifi  # noqa: E402
import standin  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.serialization import pkcs12  # noqa: E402

from ansible_collections.ems.enable.plugins.module_utils.graph import client as gc  # noqa: E402
from ansible_collections.ems.enable.plugins.module_utils.graph import clouds, credentials  # noqa: E402
from ansible_collections.ems.enable.plugins.module_utils.graph.errors import GraphError, redact  # noqa: E402
from ansible_collections.ems.enable.plugins.module_utils.tenant import facts, rules  # noqa: E402
from ansible_collections.ems.enable.plugins.module_utils.ad import rules as ad_rules  # noqa: E402

CLIENT = "3f2a9c1e-7b6d-4e5f-8a9b-0c1d2e3f4a5b"


@pytest.fixture()
def stand(tmp_path):
    yield from standin.serving(tmp_path, CLIENT)


def params(stand, **extra):
    out = stand.graph_params(CLIENT, stand.app_cert)
    out.update(extra)
    return out


class NoSleep:
    def __init__(self):
        self.calls = []

    def __call__(self, seconds):
        self.calls.append(seconds)


# --- the validator: it must fail on what Graph would refuse -----------------------------------

CONTRACT = csdl.Contract()


def test_slice_records_its_source():
    source = CONTRACT.source
    assert source["repository"].endswith("microsoftgraph/msgraph-metadata")
    assert source["path"] == "schemas/v1.0-Prod.csdl" and len(source["commit"]) == 40
    assert len(source["sha256"]) == 64


def test_validator_rejects_an_unknown_property():
    errors = CONTRACT.check_response("GET", "/v1.0/domains", 200, {"value": [
        {"id": "contoso.com", "isVerified": True, "authenticationType": "Managed", "isFederated": True}]})
    assert errors == ["value[0]: unknown property 'isFederated' of domain"]


def test_validator_rejects_a_wrong_path_and_method():
    assert "not a navigation property" in CONTRACT.check_request("GET", "/v1.0/domains/contoso.com/dnsRecords")[0]
    assert "not an entity set" in CONTRACT.check_request("GET", "/v1.0/tenants")[0]
    assert "is not a Graph method" in CONTRACT.check_request("DELETE", "/v1.0/domains/contoso.com")[0]


def test_validator_rejects_wrong_types_enums_and_nulls():
    errors = CONTRACT.check_response("GET", "/v1.0/organization", 200, {"value": [
        {"id": "x", "onPremisesSyncEnabled": "true", "mobileDeviceManagementAuthority": "configMgr",
         "verifiedDomains": None}]})
    assert len(errors) == 3, errors
    assert any("Edm.Boolean" in e for e in errors) and any("enum mdmAuthority" in e for e in errors)
    assert any("Nullable=false" in e for e in errors)


def test_validator_rules_outside_the_csdl():
    # read-only on update, required on create (internalDomainFederation), ConsistencyLevel, $batch
    assert "read-only" in CONTRACT.check_request("PATCH", "/v1.0/domains/contoso.com", body={"isVerified": True})[0]
    missing = CONTRACT.check_request("POST", "/v1.0/domains/contoso.com/federationConfiguration",
                                     body={"displayName": "x"})
    assert any("issuerUri is required" in e for e in missing)
    assert "ConsistencyLevel" in CONTRACT.check_request("GET", "/v1.0/organization?$count=true")[0]
    assert CONTRACT.check_request("GET", "/v1.0/organization?$count=true", {"ConsistencyLevel": "eventual"}) == []
    too_many = {"requests": [{"id": str(i), "method": "GET", "url": "/domains"} for i in range(21)]}
    assert "21 requests" in CONTRACT.check_request("POST", "/v1.0/$batch", body=too_many)[0]
    assert "must be relative" in CONTRACT.check_request("POST", "/v1.0/$batch", body={"requests": [
        {"id": "1", "method": "GET", "url": "/v1.0/domains"}]})[0]


def test_derived_dns_records_by_odata_type():
    record = {"@odata.type": "#microsoft.graph.domainDnsTxtRecord", "id": "1", "isOptional": False, "label": "a",
              "supportedService": "Email", "ttl": 3600, "text": "MS=1"}
    assert CONTRACT.check_response("GET", "/v1.0/domains/a.com/verificationDnsRecords", 200, {"value": [record]}) == []
    record["mailExchange"] = "x"  # an MX property on a TXT record
    assert "unknown property 'mailExchange'" in CONTRACT.check_response(
        "GET", "/v1.0/domains/a.com/verificationDnsRecords", 200, {"value": [record]})[0]


# --- input: one line naming the option, before any request ---------------------------------------

@pytest.mark.parametrize("option,value,expect", [
    ("tenant_id", "common", "tenant_id: 'common' is a multi-tenant alias"),
    ("tenant_id", "not a tenant", "tenant_id: 'not a tenant' is neither a GUID nor a domain name"),
    ("client_id", "my-app", "client_id: 'my-app' is not a GUID"),
    ("cloud", "mars", "cloud: 'mars' is not a known cloud"),
    ("graph_url", "http://graph.example", "graph_url: 'http://graph.example' is not a usable https:// URL (not an https:// URL)"),
    ("certificate_path", "/nonexistent/app.pem", "certificate_path: /nonexistent/app.pem does not exist"),
])
def test_bad_input_fails_before_any_request(stand, option, value, expect):
    with pytest.raises(GraphError) as err:
        gc.GraphClient(params(stand, **{option: value}))
    assert str(err.value).startswith(expect) and "Remedy:" in str(err.value)
    assert "\n" not in str(err.value)
    assert stand.log == []


def _pfx(tmp_path, password):
    _path, cert, key = standin.make_app_certificate(tmp_path, "pfx")
    data = pkcs12.serialize_key_and_certificates(b"app", key, cert, None,
                                                 serialization.BestAvailableEncryption(password.encode()))
    pfx = tmp_path / "app.pfx"
    pfx.write_bytes(data)
    return pfx, cert


def test_certificate_faults(tmp_path):
    pfx, cert = _pfx(tmp_path, "Right-Pass1")
    credential = credentials.load_certificate(str(pfx), "Right-Pass1")
    assert credential.thumbprint == standin.thumbprint(cert) and "PRIVATE" not in repr(credential)
    with pytest.raises(GraphError, match=r"^certificate_password: cannot open the PFX file"):
        credentials.load_certificate(str(pfx), "wrong")
    encrypted, _c, _k = standin.make_app_certificate(tmp_path, "enc", password="Key-Pass1")
    with pytest.raises(GraphError, match=r"^certificate_password: the private key in .* is encrypted"):
        credentials.load_certificate(encrypted)
    with pytest.raises(GraphError, match=r"^certificate_password: cannot decrypt"):
        credentials.load_certificate(encrypted, "nope")
    expired, _c, _k = standin.make_app_certificate(tmp_path, "old", days=-1, start_days=-30)
    with pytest.raises(GraphError, match=r"^certificate_path: the certificate CN=ems-enable-old expired on"):
        credentials.load_certificate(expired)
    cert_only = tmp_path / "cert-only.pem"
    cert_only.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    with pytest.raises(GraphError, match=r"^certificate_path: .* holds no private key"):
        credentials.load_certificate(str(cert_only))
    key_only = tmp_path / "key-only.pem"
    key_only.write_bytes(Path(encrypted).read_bytes().split(b"-----BEGIN CERTIFICATE")[0])
    with pytest.raises(GraphError, match=r"^certificate_thumbprint: needed"):
        credentials.load_certificate(str(key_only), "Key-Pass1")
    with pytest.raises(GraphError, match=r"^certificate_thumbprint: .* does not match"):
        credentials.load_certificate(str(pfx), "Right-Pass1", "00" * 20)


def test_token_cache_readable_by_others_is_refused(tmp_path):
    cache = tmp_path / "cache.json"
    cache.write_text("{}")
    os.chmod(cache, 0o644)
    with pytest.raises(GraphError, match=r"^token_cache: .*mode 0644.*Remedy: chmod 600"):
        credentials.check_cache_file(str(cache))


def test_token_cache_symlink_is_refused(tmp_path):
    target = tmp_path / "elsewhere.json"
    target.write_text("{}")
    os.chmod(target, 0o600)
    link = tmp_path / "cache.json"
    link.symlink_to(target)
    with pytest.raises(GraphError, match=r"^token_cache: .*cache.json is a symbolic link\. Remedy: give the real file"):
        credentials.check_cache_file(str(link))


# --- sign-in faults ----------------------------------------------------------------------------

def test_sign_in_faults_are_one_line_with_the_code(stand, tmp_path):
    other, _cert, _key = standin.make_app_certificate(tmp_path, "other")
    cases = [
        (params(stand, certificate_path=other), "AADSTS700027"),  # a certificate the app does not have
        (params(stand, client_id="11111111-2222-3333-4444-555555555555"), "AADSTS700016"),
        (params(stand, tenant_id="00000000-0000-0000-0000-000000000000"), "AADSTS90002"),
    ]
    for case, code in cases:
        with pytest.raises(GraphError) as err:
            gc.GraphClient(case).token()
        assert code in str(err.value) and "Remedy:" in str(err.value) and "\n" not in str(err.value)
    stand.apps[CLIENT]["consent"] = False
    with pytest.raises(GraphError, match=r"AADSTS65001.*no admin consent.*Remedy: grant admin consent"):
        gc.GraphClient(params(stand)).token()
    stand.apps[CLIENT]["consent"] = True
    stand.clock_skew_rejects = True
    with pytest.raises(GraphError, match=r"AADSTS700024.*clock.*Remedy: synchronise the controller's clock"):
        gc.GraphClient(params(stand)).token()


def test_network_failures_are_one_line(stand):
    with pytest.raises(GraphError, match=r"^Cannot resolve graph-standin\.invalid \(DNS\)\. Remedy:"):
        gc.GraphClient(params(stand, authority_url="https://graph-standin.invalid")).token()
    with pytest.raises(GraphError, match=r"^TLS to 127\.0\.0\.1 failed.*Remedy: give ca_file"):
        gc.GraphClient(params(stand, ca_file=certifi.where())).token()  # a real CA bundle without the stand-in's CA
    with pytest.raises(GraphError, match=r"^ca_file: .*v1.0-slice.json is not a PEM CA file.*Remedy:") as err:
        gc.GraphClient(params(stand, ca_file=str(ROOT / "tests" / "graph" / "v1.0-slice.json")))
    assert err.value.kind == "input" and stand.log == []


# --- requests: permissions, throttling, paging, batch -----------------------------------------

def test_missing_permission_names_it(stand):
    stand.apps[CLIENT]["roles"] = {"Organization.Read.All"}
    client = gc.GraphClient(params(stand))
    with pytest.raises(GraphError) as err:
        client.get_all("/domains")
    assert str(err.value).startswith("Graph refused GET /v1.0/domains (403 Authorization_RequestDenied): the "
                                     "application lacks Directory.Read.All")
    assert "Remedy: add the application permission Directory.Read.All" in str(err.value)


def test_throttling_honours_retry_after_and_is_bounded(stand):
    sleep = NoSleep()
    stand.faults.append({"path": "/v1.0/organization", "status": 429, "retry_after": 7, "times": 2})
    client = gc.GraphClient(params(stand), sleep=sleep)
    assert client.get_all("/organization")[0]["id"] == stand.tenant["id"]
    assert sleep.calls == [7.0, 7.0]
    stand.faults.append({"path": "/v1.0/subscribedSkus", "status": 503, "times": 99, "code": "ServiceUnavailable"})
    with pytest.raises(GraphError, match=r"kept answering 503 .* after 4 retries"):
        client.get_all("/subscribedSkus")
    assert sleep.calls[2:] == [1.0, 2.0, 4.0, 8.0]  # no Retry-After: exponential


def test_paging_follows_next_link(stand):
    stand.page_size = 1
    stand.tenant["domains"].append(dict(stand.tenant["domains"][1], id="third.example"))
    client = gc.GraphClient(params(stand))
    names = [d["id"] for d in client.get_all("/domains")]
    assert names == ["emslab.onmicrosoft.com", "corp.emslab.test", "third.example"]
    assert len(stand.requests_to(r"^/v1\.0/domains")) == 3


def test_next_link_to_another_host_is_refused(stand):
    client = gc.GraphClient(params(stand))
    with pytest.raises(GraphError, match="link to another host"):
        client.url("https://evil.example/v1.0/domains")


def test_batch_retries_throttled_items(stand):
    sleep = NoSleep()
    stand.faults.append({"path": "verificationDnsRecords", "status": 429, "retry_after": 3, "times": 1,
                         "in_batch": True})
    client = gc.GraphClient(params(stand), sleep=sleep)
    out = client.batch([{"id": "a", "method": "GET", "url": "/domains/corp.emslab.test/verificationDnsRecords"},
                        {"id": "b", "method": "GET", "url": "/domains/corp.emslab.test/serviceConfigurationRecords"}])
    assert out["a"][0] == 200 and out["b"][0] == 200 and sleep.calls == [3.0]
    assert out["a"][1]["value"][0]["recordType"] == "Txt"


# --- tenant_info ---------------------------------------------------------------------------------

def test_tenant_info_reads_the_tenant(stand):
    result = facts.run_tenant_info(dict(params(stand), dns_records=True))
    assert not result.get("failed"), result
    tenant = result["tenant"]
    assert tenant["organization"]["mdm_authority"] == "intune"
    assert tenant["initial_domain"] == "emslab.onmicrosoft.com"
    corp = next(d for d in tenant["domains"] if d["name"] == "corp.emslab.test")
    assert corp["verified"] is False and corp["verification_records"][0]["text"].startswith("MS=")
    assert {r["record_type"] for r in corp["dns_records"]} == {"Mx", "CName"}
    assert tenant["skus"][0]["product"] == "Enterprise Mobility + Security E3"
    assert tenant["licences"]["intune"] == {"name": "Microsoft Intune", "service_plan": "INTUNE_A", "present": True,
                                            "skus": ["EMS"], "available": 22}
    assert tenant["sync"] == {"read": False, "reason": facts.SYNC_NOT_READ}
    # organization, domains, one $batch for 3 record lists, subscribedSkus
    assert result["graph_requests"] == 4
    assert "standin-" not in json.dumps(result)


def test_tenant_info_device_code_shows_the_step_and_caches(stand, tmp_path):
    shown = []
    stand.register_app(CLIENT, None, public=True)
    cache = tmp_path / "cache.json"
    p = dict(params(stand, auth="device_code", certificate_path=None, token_cache=str(cache)), dns_records=False)
    result = facts.run_tenant_info(p, notify=shown.append)
    assert not result.get("failed"), result
    assert shown and shown[0]["user_code"] == "STANDIN1" and "device_code" not in shown[0]
    assert result["tenant"]["sync"]["read"] is True and result["tenant"]["sync"]["password_hash_sync"] is True
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o600
    assert not [name for name in os.listdir(tmp_path) if ".partial-" in name]  # written by rename
    again = facts.run_tenant_info(p, notify=shown.append)  # the cache signs in silently
    assert not again.get("failed") and len(shown) == 1


def test_tenant_info_failure_is_a_result_not_a_traceback(stand):
    result = facts.run_tenant_info(dict(params(stand, client_id="x"), dns_records=True))
    assert result["failed"] and result["msg"].startswith("client_id: 'x' is not a GUID")


def test_clouds_table_is_one_table():
    assert clouds.endpoints("usgov") == ("https://login.microsoftonline.us", "https://graph.microsoft.us")
    assert clouds.endpoints("china")[1] == "https://microsoftgraph.chinacloudapi.cn"
    assert set(gc.GRAPH_ARGUMENT_SPEC["cloud"]["choices"]) == set(clouds.CLOUDS)


def test_redact():
    text = ('Authorization: Bearer eyJhbGciOi.eyJzdWIiOi.sig client_assertion=abc&x=1 "access_token": "t0k" '
            '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----')
    out = redact(text)
    assert "eyJ" not in out and "abc" not in out and "t0k" not in out and "MIIE" not in out


# --- the preflight requirement set `tenant` ------------------------------------------------------

FOREST = {"forest": "corp.example.com", "forest_level": {"number": 4}, "trusts": [],
          "upn_suffixes": [{"suffix": "corp.example.com", "source": "domain", "routable": True},
                           {"suffix": "contoso.com", "source": "alternative", "routable": True},
                           {"suffix": "corp.local", "source": "alternative", "routable": False}]}


def tenant_facts(**over):
    tenant = {"tenant_id": "t", "initial_domain": "contoso.onmicrosoft.com",
              "organization": {"on_premises_sync_enabled": True, "on_premises_last_sync": "2026-12-01T00:00:00Z"},
              "domains": [{"name": "contoso.onmicrosoft.com", "verified": True, "initial": True,
                           "authentication_type": "Managed"},
                          {"name": "contoso.com", "verified": True, "initial": False, "authentication_type": "Managed"},
                          {"name": "corp.example.com", "verified": False, "initial": False,
                           "authentication_type": "Managed"}],
              "licences": {"intune": {"present": True, "skus": ["EMS"], "available": 10},
                           "entra_id_p1": {"present": True, "skus": ["EMS"], "available": 10}},
              "sync": {"read": True, "password_hash_sync": False}}
    tenant.update(over)
    return tenant


def evaluate(tenant, **plan):
    return {c["id"] + ":" + c["forest"]: c for c in ad_rules.evaluate(
        [FOREST], ["tenant"], {"tenant": tenant, "tenant_plan": plan})}


def test_upn_suffixes_not_verified_warn_naming_them():
    checks = [c for c in ad_rules.evaluate([FOREST], ["tenant"], {"tenant": tenant_facts()})
              if c["id"] == "tenant.upn_suffix"]
    by_suffix = {c["message"].split("UPN suffix ")[1].split(" ")[0]: c for c in checks}
    assert by_suffix["contoso.com"]["status"] == "pass"
    assert by_suffix["corp.example.com"]["status"] == "warn"
    assert "added to tenant contoso.onmicrosoft.com but not verified" in by_suffix["corp.example.com"]["message"]
    assert "user@contoso.onmicrosoft.com" in by_suffix["corp.local"]["message"]
    assert "cannot be verified" in by_suffix["corp.local"]["remedy"]


def test_federation_domain_sync_and_licences():
    checks = evaluate(tenant_facts(), federation_domain="contoso.onmicrosoft.com", pilot_users=25)
    subject = "tenant contoso.onmicrosoft.com"
    assert checks["tenant.federation_domain:" + subject]["status"] == "fail"
    assert "initial domain" in checks["tenant.federation_domain:" + subject]["message"]
    assert checks["tenant.password_hash_sync:" + subject]["status"] == "fail"  # planned, but off
    assert checks["tenant.licence.intune:" + subject]["status"] == "fail"  # 10 free, 25 needed
    ok = evaluate(tenant_facts(sync={"read": True, "password_hash_sync": True}), federation_domain="contoso.com",
                  pilot_users=5)
    assert {c["status"] for k, c in ok.items() if "upn_suffix" not in k} == {"pass"}
    unread = evaluate(tenant_facts(sync={"read": False, "reason": facts.SYNC_NOT_READ}))
    assert unread["tenant.password_hash_sync:" + subject]["status"] == "warn"
    assert "needs delegated access" in unread["tenant.password_hash_sync:" + subject]["message"]


def test_no_tenant_facts_is_one_failing_check():
    checks = ad_rules.evaluate([FOREST], ["tenant"], {"tenant": {"error": "Sign-in failed (AADSTS65001) ..."}})
    assert [(c["id"], c["status"]) for c in checks] == [("tenant.facts", "fail")]
    assert "AADSTS65001" in checks[0]["message"]


def test_plan_spec_is_the_preflight_spec():
    from ansible_collections.ems.enable.plugins.module_utils.ad import modules as ad_modules
    assert ad_modules.PREFLIGHT_SPEC["tenant_plan"]["options"] is rules.PLAN_SPEC
    assert "tenant" in ad_modules.PREFLIGHT_SPEC["requirements"]["choices"]


def test_expired_check_uses_utc(tmp_path):
    path, _cert, _key = standin.make_app_certificate(tmp_path, "future", start_days=2)
    with pytest.raises(GraphError, match="valid only from"):
        credentials.load_certificate(path, now=datetime.datetime.now(datetime.timezone.utc))
