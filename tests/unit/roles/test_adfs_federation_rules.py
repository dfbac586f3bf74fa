"""roles/adfs/vars/entra_trust.yml: the Entra ID relying party trust and Entra Connect's claim rules as data.

Every rule is named and sourced, its text is well-formed claim rule language as far as a static check can
tell (one '=>', balanced brackets and quotes, issue/add), the ImmutableID rules follow Microsoft's
ms-DS-ConsistencyGuid-else-objectGUID pattern, and the issuerid rule, rendered for several top-level
domains the way tasks/federation.yml renders it, maps each user's UPN to http://<domain>/adfs/services/trust/
(the .NET regex converted to Python's named-group syntax)."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
DATA = yaml.safe_load((ROOT / "roles" / "adfs" / "vars" / "entra_trust.yml").read_text())
RULES = DATA["__adfs_entra_claim_rules"]
TRUST = DATA["__adfs_entra_trust"]
SOURCES = {"trust", "immid", "multi", "device", "support", "farm"}  # the data file's header names each
IMMUTABLE_ID = "http://schemas.microsoft.com/LiveID/Federation/2008/05/ImmutableID"
TASKS = (ROOT / "roles" / "adfs" / "tasks" / "federation.yml").read_text()


def render(domains):
    """The rules as tasks/federation.yml renders them (its own Jinja expressions, read from the task file)."""
    tasks = yaml.safe_load(TASKS)
    facts = next(t["ansible.builtin.set_fact"] for t in tasks if "ansible.builtin.set_fact" in t)
    env = jinja2.Environment()
    values = {"adfs_federation_domains": domains}
    regex = env.from_string(facts["__adfs_issuerid_regex"]).render(**values)
    default = env.from_string(facts["__adfs_issuerid_default"]).render(**values)
    values = {"__adfs_issuerid_regex": regex, "__adfs_issuerid_default": default}
    return [dict(r, rule=env.from_string(r["rule"]).render(**values)) for r in RULES], regex


def test_trust_is_microsofts():
    assert TRUST["name"] == "Microsoft Office 365 Identity Platform"
    assert TRUST["identifier"] == "urn:federation:MicrosoftOnline"
    assert TRUST["metadata_url"] == "https://nexus.microsoftonline-p.com/federationmetadata/2007-06/federationmetadata.xml"
    assert TRUST["monitoring_enabled"] is True and TRUST["auto_update_enabled"] is True


@pytest.mark.parametrize("rule", RULES, ids=[r["name"] for r in RULES])
def test_each_rule_is_named_sourced_and_well_formed(rule):
    assert rule["source"] in SOURCES and rule["name"] and '"' not in rule["name"]
    text = rule["rule"]
    assert text.count("=>") == 1 and re.search(r"=>\s*(issue|add)\(", text), text
    assert text.rstrip().endswith(";")
    stripped = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)  # string literals out, then brackets must balance
    assert stripped.count('"') % 2 == 0
    for left, right in ("()", "[]"):
        assert stripped.count(left) == stripped.count(right), (left, text)
    assert set(re.findall(r"\{\{ (\w+) \}\}", text)) <= {"__adfs_issuerid_regex", "__adfs_issuerid_default"}


def test_names_are_unique_and_the_documented_rules_are_all_there():
    names = [r["name"] for r in RULES]
    assert len(set(names)) == len(names)
    text = "\n".join(r["rule"] for r in RULES)
    for claim in ("http://schemas.xmlsoap.org/claims/UPN", IMMUTABLE_ID,
                  "http://schemas.microsoft.com/ws/2008/06/identity/claims/issuerid",
                  "http://schemas.microsoft.com/claims/authnmethodsreferences",
                  "http://schemas.microsoft.com/ws/2017/04/identity/claims/multifactorauthenticationinstant"):
        assert claim in text, claim


def test_immutable_id_is_consistency_guid_else_object_guid():
    issuing = [r for r in RULES if IMMUTABLE_ID in r["rule"] and "issue(Type = \"%s\"" % IMMUTABLE_ID in r["rule"]]
    assert len(issuing) == 2
    first, second = issuing
    assert "msdsconsistencyguid" in first["rule"] and "NOT" not in first["rule"]
    assert "idflag" in second["rule"] and "objectguid" in second["rule"]
    query = next(r for r in RULES if "objectGUID,mS-DS-ConsistencyGuid;{1}" in r["rule"])
    flag = next(r for r in RULES if r["rule"].startswith(
        "NOT EXISTS([Type == \"http://schemas.microsoft.com/ws/2016/02/identity/claims/msdsconsistencyguid\"])"))
    order = [r["name"] for r in RULES]
    # Microsoft: "The sequence of these rules is important" (how-to-connect-fed-management.md)
    assert order.index(query["name"]) < order.index(flag["name"]) < order.index(first["name"]) < order.index(second["name"])


def test_issuerid_maps_users_of_several_top_level_domains():
    rules, regex = render(["contoso.com", "Fabrikam.co.uk"])
    assert regex == "contoso\\.com|fabrikam\\.co\\.uk"
    rule = next(r["rule"] for r in rules if r["name"] == "Issue issuerid when it is not a computer account")
    dotnet = re.search(r"regexreplace\(c1\.Value,\s*\"(.+?)\",\s*\"(.+?)\"\)", rule)
    pattern = re.compile(dotnet.group(1).replace("(?<", "(?P<"))
    replacement = dotnet.group(2).replace("${domain}", r"\g<domain>")
    assert pattern.sub(replacement, "alice@contoso.com") == "http://contoso.com/adfs/services/trust/"
    assert pattern.sub(replacement, "Bob@FABRIKAM.co.uk") == "http://FABRIKAM.co.uk/adfs/services/trust/"
    assert pattern.sub(replacement, "eve@contosoXcom") == "eve@contosoXcom"  # the dot is escaped
    assert pattern.sub(replacement, "mallory@evil.example") == "mallory@evil.example"
    dj = next(r["rule"] for r in rules if r["name"] == "Issue issuerid for DJ computer auth")
    assert 'Value = "http://contoso.com/adfs/services/trust/"' in dj


def test_every_source_a_rule_names_is_described_in_the_header_and_no_rule_is_unconfirmed():
    """The sources are cited once, in the data file's header; each rule's comment names which confirmed it."""
    text = (ROOT / "roles" / "adfs" / "vars" / "entra_trust.yml").read_text()
    header = text.split("__adfs_entra_trust:")[0]
    for source in SOURCES:
        assert "#   [%s]" % source in header, source
    for line in text.splitlines():
        if line.startswith("  - name: "):
            assert "text [" in line, line  # which source gives the text
    assert "UNCONFIRMED" not in text.split("__adfs_entra_trust:")[1]


def test_the_names_are_entra_connects():
    """The rule names of [support] (Microsoft's support wiki, Entra Connect's default rules) in their order."""
    names = [r["name"] for r in RULES]
    expected = ["Issue UPN", "Issue nameidentifier", "Issue accounttype for domain-joined computers",
                "Issue AccountType with the value USER when it is not a computer account",
                "Issue issuerid when it is not a computer account", "Issue issuerid for DJ computer auth",
                "Issue onpremobjectguid for domain-joined computers", "Pass through primary SID",
                "Pass through claim - insideCorporateNetwork", "Pass Through Claim - Psso",
                "Issue Password Expiry Claims", "Pass through claim - authnmethodsreferences",
                "Pass through claim - multifactorauthenticationinstant",
                "Pass through claim - certificate authentication - serial number",
                "Pass through claim - certificate authentication - issuer"]
    assert [n for n in names if n in expected] == expected
