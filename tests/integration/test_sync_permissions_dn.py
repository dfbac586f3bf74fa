"""sync_permissions_info with the account given by a distinguished name that has escaped characters.

Regression test: CN=Sync\\, Connector,... was cut at the backslash (taken for DOMAIN\\name) and the DC
answered "Invalid DN syntax". The aad_connect role passes the DN microsoft.ad.user returns.
"""

from __future__ import annotations

import subprocess
import uuid

import pytest

from module_runner import conn_args, run_module

pytestmark = pytest.mark.integration

RDC = "1131f6aa-9c07-11d1-f79f-00c04fc2dcd2"
RDC_ALL = "1131f6ad-9c07-11d1-f79f-00c04fc2dcd2"


def run(*cmd):
    proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_account_dn_with_an_escaped_comma(lab, tmp_path):
    forest = lab.forest("f2008")
    dc = forest.dcs[0]
    tag = uuid.uuid4().hex[:6]
    sam = "svc-dn-" + tag
    run("samba-tool", "user", "create", sam, "Sync-Passw0rd-%s!" % tag, "-H", dc.sam_ldb)
    old_dn = "CN=%s,CN=Users,%s" % (sam, forest.base_dn)
    new_dn = "CN=Sync\\, Connector %s,CN=Users,%s" % (tag, forest.base_dn)
    run("ldbrename", "-H", dc.sam_ldb, old_dn, new_dn)
    sid = next(line.split()[1] for line in run("samba-tool", "user", "show", sam, "--attributes=objectSid",
                                               "-H", dc.sam_ldb).splitlines() if line.startswith("objectSid:"))
    _proc, (result,) = run_module(lab, tmp_path, "ems.enable.sync_permissions_info", conn_args(forest, account=new_dn))
    assert result["failed"] and "Invalid DN syntax" not in result["msg"], result
    assert "lacks Replicating Directory Changes on %s (missing)" % forest.dns_domain in result["msg"]
    assert result["account"]["dn"] == new_dn
    for right in (RDC, RDC_ALL):
        run("samba-tool", "dsacl", "set", "--objectdn=" + forest.base_dn, "--sddl=(OA;;CR;%s;;%s)" % (right, sid),
            "-H", dc.sam_ldb)
    _proc, (result,) = run_module(lab, tmp_path, "ems.enable.sync_permissions_info", conn_args(forest, account=new_dn))
    assert not result.get("failed"), result
    assert result["all_granted"] and result["account"]["sam_account_name"] == sam
