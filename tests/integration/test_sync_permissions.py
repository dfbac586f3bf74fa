"""sync_permissions_info against real ACLs on a Samba domain root (granted with samba-tool dsacl)."""

from __future__ import annotations

import subprocess
import uuid

import pytest

from module_runner import conn_args, run_module

pytestmark = pytest.mark.integration

RDC = "1131f6aa-9c07-11d1-f79f-00c04fc2dcd2"
RDC_ALL = "1131f6ad-9c07-11d1-f79f-00c04fc2dcd2"


def samba_tool(dc, *args):
    proc = subprocess.run(["samba-tool", *args, "-H", dc.sam_ldb], capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def object_sid(dc, kind, name):
    out = samba_tool(dc, kind, "show", name, "--attributes=objectSid")
    return next(line.split()[1] for line in out.splitlines() if line.startswith("objectSid:"))


def grant(dc, base_dn, right, sid):
    samba_tool(dc, "dsacl", "set", "--objectdn=" + base_dn, "--sddl=(OA;;CR;%s;;%s)" % (right, sid))


@pytest.fixture(scope="module")
def accounts(lab):
    """Four fresh accounts in f2008: no right, one right, both rights, both through a group."""
    forest = lab.forest("f2008")
    dc = forest.dcs[0]
    tag = uuid.uuid4().hex[:6]
    names = {k: "svc-%s-%s" % (k, tag) for k in ("none", "half", "both", "group")}
    for name in names.values():
        samba_tool(dc, "user", "create", name, "Sync-Passw0rd-%s!" % tag)
    group = "sync-rights-" + tag
    samba_tool(dc, "group", "add", group)
    samba_tool(dc, "group", "addmembers", group, names["group"])
    grant(dc, forest.base_dn, RDC, object_sid(dc, "user", names["half"]))
    for right in (RDC, RDC_ALL):
        grant(dc, forest.base_dn, right, object_sid(dc, "user", names["both"]))
        grant(dc, forest.base_dn, right, object_sid(dc, "group", group))
    return forest, names, group


def test_no_right_fails_naming_domain_and_both_rights(lab, tmp_path, accounts):
    forest, names, _group = accounts
    _proc, (result,) = run_module(lab, tmp_path, "ems.enable.sync_permissions_info",
                                  conn_args(forest, account=names["none"]))
    assert result["failed"]
    assert "Replicating Directory Changes on %s (missing)" % forest.dns_domain in result["msg"]
    assert "Replicating Directory Changes All on %s (missing)" % forest.dns_domain in result["msg"]
    assert "Set-ADSyncPasswordHashSyncPermissions" in result["msg"]


def test_one_right_missing_is_named(lab, tmp_path, accounts):
    forest, names, _group = accounts
    _proc, (result,) = run_module(lab, tmp_path, "ems.enable.sync_permissions_info",
                                  conn_args(forest, account=names["half"]))
    assert result["failed"]
    assert "lacks Replicating Directory Changes All on %s (missing)." % forest.dns_domain in result["msg"]
    rights = result["domains"][0]["rights"]
    assert rights["replicating_directory_changes"]["state"] == "granted"
    assert [v["name"] for v in rights["replicating_directory_changes"]["via"]] == [names["half"]]
    assert rights["replicating_directory_changes_all"]["state"] == "missing"


def test_both_rights_pass(lab, tmp_path, accounts):
    forest, names, _group = accounts
    _proc, (result,) = run_module(lab, tmp_path, "ems.enable.sync_permissions_info",
                                  conn_args(forest, account=names["both"], domains=[forest.dns_domain]))
    assert not result.get("failed"), result
    assert result["all_granted"] is True
    assert result["account"]["administrator_groups"] == []
    assert [d["domain"] for d in result["domains"]] == [forest.dns_domain]


def test_rights_through_a_group_pass(lab, tmp_path, accounts):
    forest, names, group = accounts
    _proc, (result,) = run_module(lab, tmp_path, "ems.enable.sync_permissions_info",
                                  conn_args(forest, account=names["group"]))
    assert not result.get("failed"), result
    for right in result["domains"][0]["rights"].values():
        assert right["state"] == "granted"
        assert [(v["name"], v["kind"]) for v in right["via"]] == [(group, "group")]


def test_administrator_is_warned(lab, tmp_path):
    forest = lab.forest("f2008")
    _proc, (result,) = run_module(lab, tmp_path, "ems.enable.sync_permissions_info",
                                  conn_args(forest, account="Administrator"))
    assert result["all_granted"] is True
    assert "Domain Admins" in result["account"]["administrator_groups"]
    assert any("normal user" in w for w in result.get("warnings", []))


def test_unknown_account_and_domain_are_clear_errors(lab, tmp_path):
    forest = lab.forest("f2008")
    _proc, (result,) = run_module(lab, tmp_path, "ems.enable.sync_permissions_info",
                                  conn_args(forest, account="no-such-account"))
    assert result["failed"] and result["msg"].startswith("account: no-such-account not found")
    _proc, (result,) = run_module(lab, tmp_path, "ems.enable.sync_permissions_info",
                                  conn_args(forest, account="Administrator", domains=["nowhere.example"]))
    # Another domain is read on one of its own DCs, found in DNS (test_sync_permissions_domains.py): a domain
    # that has no DC is named in one line.
    assert result["failed"] and result["msg"].startswith(
        "domains: no domain controller of nowhere.example found: _ldap._tcp.dc._msdcs.nowhere.example"), result["msg"]
