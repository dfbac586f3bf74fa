"""Verify of the federation with Entra ID in the `windows` scenario: the SSO test (verify_federation.yml,
ems.enable.sso_test) after converge_federation.yml federated EMS_FEDERATION_DOMAIN with the farm. It runs
ansible-playbook on the runner (the test talks to the tenant, the farm and the DC from there, as verify.yml does);
the password comes from the environment into the play, never onto a command line. Skipped, with the variables
that are missing, without a test tenant, a test user or the DC."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
NEEDED = ("EMS_TENANT_ID", "EMS_TENANT_CLIENT_ID", "EMS_TENANT_CERT", "EMS_FEDERATION_DOMAIN", "EMS_SSO_TEST_USER",
          "EMS_SSO_TEST_PASSWORD", "EMS_WINDOWS_DC", "EMS_WINDOWS_USER", "EMS_WINDOWS_PASSWORD", "EMS_ADFS_FS_NAME")
MISSING = [name for name in NEEDED if not os.environ.get(name, "").strip()]
pytestmark = pytest.mark.skipif(bool(MISSING), reason="SSO test skipped: %s not set (a test tenant federated by "
                                "converge_federation.yml and a test user), see molecule/windows/verify_federation.yml"
                                % ", ".join(MISSING))


def test_a_test_user_signs_in_through_ad_fs_and_entra_sees_ads_upn_and_immutable_id():
    done = subprocess.run(["ansible-playbook", "-i", "localhost,", str(HERE.parent / "verify_federation.yml")],
                          capture_output=True, text=True, timeout=600, check=False,
                          env=dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ems.enable.onboarding"))
    text = done.stdout + done.stderr
    assert os.environ["EMS_SSO_TEST_PASSWORD"] not in text
    assert done.returncode == 0, text[-4000:]
    assert "SSO test passed: %s signed in through AD FS" % os.environ["EMS_SSO_TEST_USER"] in " ".join(text.split()), \
        text[-4000:]
