"""Verify of the AD FS role in the `windows` scenario (testinfra, ansible backend).

Read-only checks through the same WinRM connection as the playbooks, on every AD FS node and every
Web Application Proxy converge_adfs.yml configured:
- the load balancer health probe http://localhost/adfs/probe answers 200;
- the federation metadata through the federation service name, served by THIS host
  (ems.enable.adfs_endpoint_info: TLS SNI and Host = the name, connection to the host itself),
  with the certificate of EMS_ADFS_PFX (same thumbprint);
- AD FS nodes serve the federation service (Get-AdfsProperties HostName), the first is the WID
  primary and the others its secondaries (Get-AdfsSyncProperties);
- proxies are configured for it (Get-WebApplicationProxyConfiguration ADFSUrl);
- with EMS_ADFS_SSO_TEST=true, on the primary: the IdP-initiated sign-on page answers while it is
  on (turned on for the test and back off if it was off). The full SSO test across all hosts is the
  role's verify entry point with adfs_verify_idp_signon=true.
Skipped, with the reason, without AD FS hosts or without EMS_ADFS_FS_NAME / EMS_ADFS_PFX.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
import testinfra.utils.ansible_runner

INVENTORY = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
FS_NAME = os.environ.get("EMS_ADFS_FS_NAME", "").strip().lower()
PFX = os.environ.get("EMS_ADFS_PFX", "")
VALIDATE = os.environ.get("EMS_ADFS_VALIDATE_CERTS", "true").lower() not in ("false", "0", "no")


def _hosts(group):
    try:
        return testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY).get_hosts(group)
    except RuntimeError:  # no inventory at all
        return []


ADFS = _hosts("adfs") if FS_NAME and PFX else []
WAP = _hosts("wap") if ADFS else []
testinfra_hosts = [f"ansible://{name}?force_ansible=True" for name in ADFS + WAP]
pytestmark = pytest.mark.skipif(
    not ADFS, reason="no AD FS host or no EMS_ADFS_FS_NAME / EMS_ADFS_PFX given, see molecule/windows/converge_adfs.yml")


def _thumbprint():
    from cryptography.hazmat.primitives.serialization import pkcs12

    loaded = pkcs12.load_pkcs12(Path(PFX).read_bytes(), os.environ.get("EMS_ADFS_PFX_PASSWORD", "").encode())
    from cryptography.hazmat.primitives.serialization import Encoding

    return hashlib.sha1(loaded.cert.certificate.public_bytes(Encoding.DER)).hexdigest().upper()  # nosec


def _name(host):
    return host.ansible.get_variables()["inventory_hostname"]


def _powershell(host, script):
    result = host.ansible("ansible.windows.win_powershell", json.dumps({"script": script}), check=False)
    assert not result.get("failed"), result
    return result["output"]


def test_health_probe(host):
    answer = host.ansible("ansible.windows.win_uri", json.dumps({"url": "http://localhost/adfs/probe"}), check=False)
    assert answer["status_code"] == 200


def test_federation_metadata_through_the_service_name_with_the_pfx_certificate(host):
    args = {"server_name": FS_NAME, "connect_to": "localhost", "body_contains": "EntityDescriptor",
            "expected_thumbprint": _thumbprint(), "validate_certs": VALIDATE}
    answer = host.ansible("ems.enable.adfs_endpoint_info", json.dumps(args), check=False)
    assert not answer.get("failed"), answer.get("msg")
    assert answer["status_code"] == 200
    assert answer["certificate"]["thumbprint"] == _thumbprint()


def test_farm_nodes_serve_the_federation_service(host):
    if _name(host) not in ADFS:
        pytest.skip("not an AD FS node")
    (state,) = _powershell(host, "$p = Get-AdfsProperties; $s = Get-AdfsSyncProperties; "
                                 "[PSCustomObject]@{ name = [string]$p.HostName; role = [string]$s.Role }")
    assert state["name"].lower() == FS_NAME
    assert state["role"] == ("PrimaryComputer" if _name(host) == ADFS[0] else "SecondaryComputer")


def test_proxies_serve_the_federation_service(host):
    if _name(host) not in WAP:
        pytest.skip("not a Web Application Proxy")
    (url,) = _powershell(host, "[string](Get-WebApplicationProxyConfiguration).ADFSUrl")
    assert url.lower().startswith(f"https://{FS_NAME}/")


def test_sso_idp_initiated_sign_on_page_on_the_primary(host):
    if os.environ.get("EMS_ADFS_SSO_TEST", "").lower() not in ("true", "1", "yes"):
        pytest.skip("EMS_ADFS_SSO_TEST is not true")
    if _name(host) != ADFS[0]:
        pytest.skip("the SSO test runs on the primary (the role's verify entry point covers every host)")
    (before,) = _powershell(host, "[bool](Get-AdfsProperties).EnableIdpInitiatedSignonPage")
    try:
        if not before:
            _powershell(host, "Set-AdfsProperties -EnableIdpInitiatedSignonPage $true")
        args = {"server_name": FS_NAME, "connect_to": "localhost", "path": "/adfs/ls/IdpInitiatedSignon.aspx",
                "validate_certs": VALIDATE}
        answer = host.ansible("ems.enable.adfs_endpoint_info", json.dumps(args), check=False)
        assert not answer.get("failed"), answer.get("msg")
    finally:
        if not before:
            _powershell(host, "Set-AdfsProperties -EnableIdpInitiatedSignonPage $false")
