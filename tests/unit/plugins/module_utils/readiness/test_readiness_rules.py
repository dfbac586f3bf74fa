"""IdFix's multi-tenant rules (readiness/rules.py, RuleEngine) on hand-made entries.

The lab test (tests/integration/test_directory_readiness.py) checks a seeded forest end to end;
here each rule's edge cases are pinned down, including the ones the lab cannot hold in a fixed scan
order (duplicates that appear only after a fix) or at all (UTF-16 lengths, .NET whitespace, hash
collisions). Expected values are worked out from IdFix's source, cited per test.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from ansible_collections.ems.enable.plugins.module_utils.ad import facts as ad_facts
from ansible_collections.ems.enable.plugins.module_utils.readiness import index as vindex
from ansible_collections.ems.enable.plugins.module_utils.readiness import rules as rr

TLDS = ad_facts.routable_tlds()
USER = ["top", "person", "organizationalPerson", "user"]
CONTACT = ["top", "person", "organizationalPerson", "contact"]
INET = ["top", "person", "organizationalPerson", "user", "inetOrgPerson"]
GROUP = ["top", "group"]


def entry(cn, classes=None, **attrs):
    raw = {"cn": [cn.encode()], "objectClass": [c.encode() for c in classes or USER]}
    for name, values in attrs.items():
        values = values if isinstance(values, list) else [values]
        raw[name] = [v.encode() if isinstance(v, str) else v for v in values]
    return raw


def valid_user(cn, **attrs):
    base = {"displayName": cn, "userPrincipalName": "%s@contoso.com" % cn.lower().replace(" ", "."),
            "sAMAccountName": cn.lower().replace(" ", "")[:20]}
    base.update(attrs)
    return entry(cn, USER, **{k: v for k, v in base.items() if v is not None})


class Scan:
    """An engine with an in-memory row list."""

    def __init__(self, ignore=None, index=None):
        self._rows = []
        self.engine = rr.RuleEngine(TLDS, self._rows.append, index=index, ignore=rr.IgnoreList(ignore or []))

    @property
    def rows(self):
        """The report rows of the objects added so far (the engine renders them from its index)."""
        del self._rows[:]
        self.engine.finish()
        return [{k: v for k, v in row.items() if k not in ("usn_changed", "when_changed")} for row in self._rows]

    def add(self, dn, raw):
        self.engine.process(dn, raw)
        return self

    def only(self, attribute=None):
        rows = [r for r in self.rows if attribute is None or r["attribute"] == attribute]
        return [(r["dn"], r["attribute"], r["value"], r["errors"], r["suggested_value"], r["action"]) for r in rows]


def check_one(attribute, value, classes=None, **more):
    """Rows of one otherwise valid object for one attribute value."""
    attrs = {"displayName": "Ann", "userPrincipalName": "ann@contoso.com", "sAMAccountName": "ann"}
    attrs.update(more)
    attrs[attribute] = value
    scan = Scan().add("CN=Ann,OU=T", entry("Ann", classes, **{k: v for k, v in attrs.items() if v is not None}))
    return [(r["value"], r["errors"], r["suggested_value"], r["action"]) for r in scan.rows
            if r["attribute"] == attribute]


# --- the table ---------------------------------------------------------------------------------


def test_table_matches_idfix_constants():
    table = rr.load_table()
    assert table["default_filter"]["value"] == "(|(objectCategory=Person)(objectCategory=Group))"
    assert rr.ERROR_KINDS == ("format", "blank", "duplicate", "character", "top_level_domain", "domain_part",
                              "local_part", "length")
    assert [k["bit"] for k in table["error_kinds"]["values"]] == [1, 2, 4, 8, 16, 32, 64, 128]  # Enums.cs
    assert rr.RULE_ATTRIBUTES == ("displayName", "givenName", "mail", "mailNickname", "proxyAddresses",
                                  "sAMAccountName", "targetAddress", "userPrincipalName")
    limits = {r["attribute"]: r["steps"][0].get("max") for r in table["rules"]}
    assert limits == {"displayName": 255, "givenName": 63, "mail": 256, "mailNickname": 64, "proxyAddresses": 256,
                      "sAMAccountName": 256, "targetAddress": 255, "userPrincipalName": 113}
    assert table["rules"][5]["steps"][0]["max_user"] == 20
    for rule in table["rules"]:
        assert rule["source"].startswith("Rules/")
    for pattern in table["patterns"].values():
        rr.compile_pattern(pattern["value"])  # every pattern compiles
        assert pattern["source"]


def test_docs_rule_table_is_in_step_with_the_data():
    doc = (Path(__file__).resolve().parents[5] / "docs" / "readiness.md").read_text(encoding="utf-8")
    table = rr.load_table()
    for rule in table["rules"]:
        limit = rule["steps"][0].get("max_user", rule["steps"][0]["max"])
        assert re.search(r"^\| `%s` \| %d\b" % (rule["attribute"], limit), doc, re.M), rule["attribute"]
    for exclusion in table["skip"]["well_known_exclusions"]:
        assert "`%s`" % exclusion in doc
    for kind in table["error_kinds"]["values"]:
        assert "| `%s` | %s | %s |" % (kind["kind"], kind["idfix"], kind["meaning"]) in doc, kind["kind"]


def test_dotnet_whitespace_is_not_pythons():
    rx = rr.compile_pattern(r"[\s]")
    for char in " \t\n\x0b\x0c\r\x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000":
        assert rx.search(char), repr(char)
    for char in "\x1c\x1d\x1e\x1f\u200b":  # Python's str.isspace() says yes to \x1c-\x1f; .NET \s does not
        assert not rx.search(char), repr(char)


def test_letters_are_ascii_case_insensitive():
    rx = rr.compile_pattern("^[a-z]+$")
    assert rx.search("AbC")
    assert not rx.search("\u212a")  # KELVIN SIGN: not a letter of an address


# --- length (Rules/Shared/StringMaxLengthRule.cs: .NET length = UTF-16 code units) -------------------


def test_length_limits_per_attribute():
    assert check_one("displayName", "D" * 255) == []
    assert check_one("displayName", "D" * 256) == [("D" * 256, ["length"], "D" * 255, "edit")]
    assert check_one("givenName", "G" * 64) == [("G" * 64, ["length"], "G" * 63, "edit")]
    assert check_one("mail", "m" * 257) == [("m" * 257, ["length"], "m" * 256, "edit")]
    assert check_one("mailNickname", "n" * 65) == [("n" * 65, ["length"], "n" * 64, "edit")]


def test_length_counts_utf16_code_units():
    emoji = "\U0001F600"  # two UTF-16 code units
    assert rr.utf16_len("a" + emoji) == 3
    assert check_one("givenName", emoji * 31 + "a") == []  # 63 units
    rows = check_one("givenName", emoji * 32)  # 64 units: cut to 63 drops the half pair
    assert rows == [(emoji * 32, ["length"], emoji * 31, "edit")]


def test_sam_account_name_limit_depends_on_the_last_object_class():
    # Rules/MultiTentant/SamAccountNameMaxLengthRule.cs: 20 for "user", 256 for anything else
    assert check_one("sAMAccountName", "s" * 21)[0][1] == ["length"]
    assert check_one("sAMAccountName", "s" * 21, classes=INET) == []
    assert check_one("sAMAccountName", "s" * 21, classes=CONTACT) == []


# --- blank (Rules/Shared/BlankStringRule.cs, fixer: cn) --------------------------------------------


def test_missing_display_name_is_blank_and_cn_is_suggested():
    assert check_one("displayName", None) == [(None, ["blank"], "Ann", "edit")]
    assert check_one("givenName", None) == []  # no blank rule on other attributes


# --- characters and mailNickname periods (Rules/Shared/RegexRule.cs) -------------------------------


@pytest.mark.parametrize("attribute,value,suggested", [
    ("mailNickname", ".ann", "ann"),
    ("mailNickname", "...", "Ann"),  # nothing left: cn (RegexRule.cs)
    ("mailNickname", "a.nn.", None),  # only leading periods are checked in multi-tenant mode
    ("sAMAccountName", "an+n", "ann"),
    ("sAMAccountName", '\\"|,/[]:<>+=;?*', "Ann"),
    ("userPrincipalName", "a\u00e4nn@contoso.com", "ann@contoso.com"),
    ("userPrincipalName", "an%n@contoso.com", "ann@contoso.com"),
    ("userPrincipalName", "an n\u3000@contoso.com", "ann@contoso.com"),  # ideographic space is .NET \s
])
def test_invalid_characters_are_removed(attribute, value, suggested):
    rows = check_one(attribute, value)
    if suggested is None:
        assert rows == []
    else:
        assert rows == [(value, ["character"], suggested, "edit")]


# --- proxyAddresses and targetAddress (ProxyAddressComposedRule.cs, TargetAddressComposedRule.cs) ----


@pytest.mark.parametrize("value,errors,suggested", [
    ("SMTP:ann@contoso.com", [], None),
    ("smtp:a:nn@contoso.com", ["character"], "smtp:ann@contoso.com"),  # FixProxyTargetAddressRule.cs
    ("smtp:a;nn@contoso.com", ["character"], "smtp:ann@contoso.com"),
    ("smtp:ann@contoso.local", ["top_level_domain"], None),
    ("smtp:ann@contoso", ["format", "domain_part"], None),
    ("smtp:ann@-contoso.com", ["format", "domain_part"], None),
    ("smtp:a..nn@contoso.com", ["format", "local_part"], None),
    ("smtp:ann@con*toso.com", ["domain_part"], "smtp:ann@contoso.com"),
    ("sip:a;nn@contoso.com", [], None),  # ; is allowed outside smtp
    ("sip:a nn@contoso.com", ["character"], "sip:ann@contoso.com"),
    ("X400:c=US;a= ;p=Org;s=Ann", [], None),  # X400: space and ; allowed
    ("X400:c=US;s='Ann'", ["character"], "X400:c=US;s=Ann"),
    ("x.500:/o=Org/cn=[Ann]", ["character"], "x.500:/o=Org/cn=Ann"),
    ("X500:/o=Org/cn=A nn", [], None),
    ("x500:" + "a" * 260, ["length"], "x500:" + "a" * 251),
])
def test_proxy_address_rules_by_prefix(value, errors, suggested):
    rows = check_one("proxyAddresses", value)
    if not errors:
        assert rows == []
    else:
        assert rows == [(value, errors, suggested, "edit")]


def test_every_proxy_address_value_is_checked():
    rows = check_one("proxyAddresses", ["SMTP:ann@contoso.com", "smtp:a nn@contoso.com", "sip:b(ad)@x.com"])
    assert [r[0] for r in rows] == ["smtp:a nn@contoso.com", "sip:b(ad)@x.com"]


@pytest.mark.parametrize("value,errors,suggested", [
    ("SMTP:ann@contoso.mail.onmicrosoft.com", [], None),
    ("SMTP:a\\nn@contoso.com", ["character"], "SMTP:ann@contoso.com"),
    ("sip:a\\nn@contoso.com", ["character"], "sip:ann@contoso.com"),  # targetAddress refuses \\ always
    ("SMTP:ann@contoso.local", ["top_level_domain"], None),
    ("X500:/o=" + "t" * 250, ["length"], ("X500:/o=" + "t" * 250)[:255]),
])
def test_target_address(value, errors, suggested):
    rows = check_one("targetAddress", value)
    if not errors:
        assert rows == []
    else:
        assert rows == [(value, errors, suggested, "edit")]


# --- userPrincipalName and RFC 2822 (Rules/Shared/RFC2822Rule.cs) -----------------------------------


@pytest.mark.parametrize("value,errors,suggested", [
    ("ann@contoso.com", [], None),
    ("ann@contoso.local", ["top_level_domain"], None),
    ("ann@contoso", ["format", "domain_part"], None),  # no dot: no TLD check
    ("ann.@contoso.com", ["local_part"], "ann@contoso.com"),
    ("a@nn@contoso.com", ["local_part"], "ann@contoso.com"),
    ("ann@contoso.c", ["format", "top_level_domain", "domain_part"], None),
    ("@contoso.com", ["format", "local_part"], None),
    ("ann", ["format", "domain_part", "local_part"], None),
    ("ann smith@contoso.local", ["character", "top_level_domain"], "annsmith@contoso.local"),
    ("u" * 110 + "@contoso.com", ["format", "domain_part", "length"], "u" * 110 + "@co"),
])
def test_user_principal_name(value, errors, suggested):
    rows = check_one("userPrincipalName", value)
    if not errors:
        assert rows == []
    else:
        assert rows == [(value, errors, suggested, "edit")]


def test_rfc2822_shortcut_for_well_formed_addresses_gives_the_full_checks_result():
    """A value the whole RFC 2822 pattern matches skips the domain and local part checks (only its TLD can
    fail): the result must be the one of every check run in turn."""
    fast = rr.RuleEngine(TLDS, None)
    full = rr.RuleEngine(TLDS, None)
    full._well_formed = lambda address: None  # never well formed: every check runs
    locals_ = ["ann", "a.n", "a..n", ".ann", "ann.", "a@n", "ann smith", "Ann+tag", "o'neil", "x" * 70, "", "ä"]
    domains = ["contoso.com", "contoso.COM", "contoso.local", "contoso", "-x.com", "x-.com", "con_toso.com",
               "contoso.c", "contoso.abcdefghijklmnopqrs", "contoso.com\n", "sub.contoso.com.", "[1.2.3.4]", ""]
    prefixes = ["", "SMTP:", "smtp:", " smtp: ", "x500:"]
    values = [prefix + local + "@" + domain for prefix in prefixes for local in locals_ for domain in domains]
    values += ["ann", "smtp:", "@", "ann@@contoso.com", "ann@contoso.com@contoso.com", "smtp:ann@contoso.com\n"]
    shortcuts = 0
    for value in values:
        smtp = full._smtp(value)
        address = value[value.index(":") + 1:] if smtp else value
        shortcuts += bool(fast._well_formed(address))
        assert fast._rfc2822(value) == full._rfc2822(value), value
    assert 40 < shortcuts < len(values) - 40  # both paths were taken, often


def test_tld_list_is_idfix_data():
    assert ".com" in TLDS and ".onmicrosoft" not in TLDS and ".local" not in TLDS
    assert check_one("userPrincipalName", "ann@contoso.COM") == []  # TLD compared in lower case


# --- duplicates (DuplicateStore.cs, Rules/Shared/NoDuplicatesRule.cs) --------------------------------


def test_duplicates_are_case_insensitive_per_attribute_and_list_every_holder():
    scan = Scan()
    scan.add("CN=A,OU=One", valid_user("A", mail="same@contoso.com"))
    scan.add("CN=B,OU=Two", valid_user("B", mail="SAME@CONTOSO.COM", givenName="same@contoso.com"))
    scan.add("CN=C,OU=Three", valid_user("C", mail="Same@Contoso.com"))
    assert scan.only("mail") == [
        ("CN=A,OU=One", "mail", "same@contoso.com", ["duplicate"], None, "edit"),  # first holder, once
        ("CN=B,OU=Two", "mail", "SAME@CONTOSO.COM", ["duplicate"], None, "edit"),
        ("CN=C,OU=Three", "mail", "Same@Contoso.com", ["duplicate"], None, "edit"),
    ]
    assert scan.only("givenName") == []  # per attribute
    summary = scan.engine.summary()
    assert summary["objects_with_errors"] == 3
    assert summary["duplicates"] == {"mail": 3}


def test_proxy_addresses_compare_with_their_prefix_and_actions_follow_idfix():
    scan = Scan()
    scan.add("CN=Team,OU=G", entry("Team", GROUP, groupType="8", displayName="Team", mailNickname="team",
                                   proxyAddresses="SMTP:team@contoso.com"))
    scan.add("CN=Bob,OU=U", valid_user("Bob", proxyAddresses=["smtp:TEAM@contoso.com", "X500:/o=team"]))
    scan.add("CN=Eve,OU=U", valid_user("Eve", proxyAddresses="sip:team@contoso.com"))  # other prefix: no dup
    assert scan.only("proxyAddresses") == [  # in the order read
        ("CN=Team,OU=G", "proxyAddresses", "SMTP:team@contoso.com", ["duplicate"], None, "complete"),
        ("CN=Bob,OU=U", "proxyAddresses", "smtp:TEAM@contoso.com", ["duplicate"], None, "remove"),
    ]


def test_duplicate_actions():
    # NoDuplicatesRule.cs: complete when the object is a mail recipient (mailNickname; homeMDB for
    # mailNickname itself), edit otherwise; remove for smtp proxies of non-recipients.
    scan = Scan()
    scan.add("CN=A,OU=T", valid_user("A", userPrincipalName="x@contoso.com", mailNickname="nick",
                                     homeMDB="CN=DB,OU=T"))
    scan.add("CN=B,OU=T", valid_user("B", userPrincipalName="X@contoso.com", mailNickname="NICK"))
    assert scan.only("userPrincipalName") == [
        ("CN=A,OU=T", "userPrincipalName", "x@contoso.com", ["duplicate"], None, "complete"),
        ("CN=B,OU=T", "userPrincipalName", "X@contoso.com", ["duplicate"], None, "complete"),
    ]
    assert scan.only("mailNickname") == [
        ("CN=A,OU=T", "mailNickname", "nick", ["duplicate"], None, "complete"),
        ("CN=B,OU=T", "mailNickname", "NICK", ["duplicate"], None, "edit"),
    ]


def test_sam_account_name_duplicates_only_without_upn():
    # Rules/MultiTentant/SamAccountNameDuplicateRule.cs
    scan = Scan()
    scan.add("CN=A,OU=T", valid_user("A", sAMAccountName="same", userPrincipalName=None))
    scan.add("CN=B,OU=T", valid_user("B", sAMAccountName="SAME"))  # has a UPN: not checked, not stored
    scan.add("CN=C,OU=T", valid_user("C", sAMAccountName="Same", userPrincipalName=None))
    assert [r[0] for r in scan.only("sAMAccountName")] == ["CN=A,OU=T", "CN=C,OU=T"]


def test_duplicate_check_sees_the_fixed_value_and_the_first_holder_is_the_first_read():
    # The value passes the checks in order; NoDuplicatesRule sees what the checks before it made of it.
    # ".dup" (fixed to "dup") and "dup" are duplicates. The first holder read (IdFix: the first the
    # DuplicateStore saw; here the report's order, the index's) gets its own row and the duplicate row; the
    # other holder one row with both.
    first = Scan()
    first.add("CN=A,OU=T", valid_user("A", mailNickname=".dup"))
    first.add("CN=B,OU=T", valid_user("B", mailNickname="dup"))
    assert first.only("mailNickname") == [
        ("CN=A,OU=T", "mailNickname", ".dup", ["character"], "dup", "edit"),
        ("CN=A,OU=T", "mailNickname", ".dup", ["duplicate"], None, "edit"),
        ("CN=B,OU=T", "mailNickname", "dup", ["duplicate"], None, "edit"),
    ]
    # B read first: one row for the fixed value holds both errors
    second = Scan()
    second.add("CN=B,OU=T", valid_user("B", mailNickname="dup"))
    second.add("CN=A,OU=T", valid_user("A", mailNickname=".dup"))
    assert second.only("mailNickname") == [
        ("CN=B,OU=T", "mailNickname", "dup", ["duplicate"], None, "edit"),
        ("CN=A,OU=T", "mailNickname", ".dup", ["duplicate", "character"], "dup", "edit"),
    ]


def test_duplicate_values_live_in_the_index_not_in_memory(tmp_path):
    index = vindex.ValueIndex.create(str(tmp_path), "scan")
    scan = Scan(index=index)
    for i in range(200):
        scan.add("CN=U%d,OU=T" % i, valid_user("U%d" % i, mail="u%d@contoso.com" % i))
    scan.add("CN=Late,OU=T", valid_user("Late", mail="U7@contoso.com"))
    assert scan.only("mail") == [
        ("CN=U7,OU=T", "mail", "u7@contoso.com", ["duplicate"], None, "edit"),
        ("CN=Late,OU=T", "mail", "U7@contoso.com", ["duplicate"], None, "edit"),
    ]
    assert scan.engine.summary()["distinct_values_tracked"] == 200 + 201  # mail (Late is a duplicate), UPN
    count = index.db.execute("SELECT COUNT(*) FROM vals WHERE key IS NOT NULL").fetchone()[0]
    assert count == 201 + 201  # every compared value is a row of the index file
    path = index.commit()
    assert oct(os.stat(path).st_mode & 0o777) == "0o600" and os.listdir(tmp_path) == ["scan.index.sqlite"]


# --- skip (Rules/MultiTenantRuleCollection.cs, Skip) --------------------------------------------------


@pytest.mark.parametrize("dn,raw,reason", [
    ("CN=svc$,OU=T", entry("svc$"), "cn_ends_with_dollar"),
    ("CN=Administrator,OU=T", entry("Administrator"), "well_known_exclusion"),
    ("CN=guest house,OU=T", entry("guest house", CONTACT), "well_known_exclusion"),  # any class, any case
    ("CN=HealthMailbox0a1b,OU=T", entry("HealthMailbox0a1b"), "well_known_exclusion"),
    ("CN=Ann\\0ACNF:0a1b2c3d-0000-0000-0000-000000000000,OU=T", entry("Ann\nCNF:0a1b"), "conflict_object"),
    ("CN=Ann,OU=T", entry("Ann", isCriticalSystemObject="TRUE"), "critical_system_object"),
    ("CN=Ann,OU=T", entry("Ann", sAMAccountName="msol_0a1b"), "user_sam_account_name_prefix"),
    ("CN=Ann,OU=T", entry("Ann", mailNickname="CAS_{0a1b}"), "user_mail_nickname_prefix"),
    ("CN=Ann,OU=T", entry("Ann", displayName="MSOL sync", msExchHideFromAddressLists="TRUE"), "user_hidden_msol"),
    ("CN=Ann,OU=T", entry("Ann", msExchRecipientTypeDetails="536870912"), "user_recipient_type"),
    ("CN=Ann,OU=T", entry("Ann", msExchRecipientTypeDetails="0x1000"), "user_recipient_type"),
    ("CN=G,OU=T", entry("G", GROUP, groupType="-2147483646"), "security_group_without_mail"),
    ("CN=G,OU=T", entry("G", GROUP, groupType="8", mail="g@contoso.com"),
     "distribution_group_without_proxy_addresses"),
])
def test_skip_reasons(dn, raw, reason):
    scan = Scan().add(dn, raw)
    assert scan.rows == []
    summary = scan.engine.summary()
    assert summary["skipped"][reason] == 1
    assert summary["objects_checked"] == 0


@pytest.mark.parametrize("dn,raw", [
    ("CN=Ann,OU=T", entry("Ann", CONTACT, msExchRecipientTypeDetails="8388608")),  # user-only rule
    ("CN=Ann,OU=T", entry("Ann", INET, sAMAccountName="SUPPORT_1")),  # last class is inetOrgPerson
    ("CN=Ann,OU=T", entry("Ann", displayName="MSOL sync", msExchHideFromAddressLists="FALSE")),
    ("CN=Ann,OU=T", entry("Ann", msExchRecipientTypeDetails="1")),
    ("CN=G,OU=T", entry("G", GROUP, groupType="-2147483646", mail="g@contoso.com")),
    ("CN=G,OU=T", entry("G", GROUP, groupType="8", proxyAddresses="SMTP:g@contoso.com")),
])
def test_objects_that_are_checked(dn, raw):
    scan = Scan().add(dn, raw)
    assert scan.engine.summary()["objects_checked"] == 1


def test_ignore_list_dns_and_patterns():
    ignore = rr.IgnoreList(["OU=Service, DC=corp,DC=example", "CN=svc-*"])
    assert ignore("OU=Service,DC=corp,DC=example")
    assert ignore("CN=x,ou=service,dc=CORP,dc=example")
    assert not ignore("CN=x,OU=Services,DC=corp,DC=example")
    assert ignore("CN=SVC-backup,OU=Staff,DC=corp,DC=example")
    assert not ignore("CN=backup-svc-1,OU=Staff,DC=corp,DC=example")
    scan = Scan(ignore=["CN=svc-*"]).add("CN=svc-1,OU=T", valid_user("svc-1", displayName=None))
    assert scan.rows == [] and scan.engine.summary()["objects_ignored"] == 1 and scan.engine.found == 1


def test_attribute_names_in_any_case():
    scan = Scan().add("CN=Ann,OU=T", {"CN": [b"Ann"], "OBJECTCLASS": [c.encode() for c in USER],
                                      "displayname": [b"Ann"], "USERPRINCIPALNAME": [b"ann@contoso.local"],
                                      "distinguishedName": [b"CN=Ann,OU=T"]})
    assert scan.only() == [("CN=Ann,OU=T", "userPrincipalName", "ann@contoso.local", ["top_level_domain"], None,
                            "edit")]


def test_summary_counts():
    scan = Scan(ignore=["OU=Skip"])
    scan.add("CN=A,OU=T", valid_user("A", displayName=None, userPrincipalName="a b@contoso.com"))
    scan.add("CN=B,OU=T", valid_user("B"))
    scan.add("CN=krbtgt,OU=T", entry("krbtgt"))
    scan.add("CN=C,OU=Skip", valid_user("C"))
    summary = scan.engine.summary()
    assert {k: summary[k] for k in ("objects_found", "objects_ignored", "objects_skipped", "objects_checked",
                                    "objects_with_errors", "errors")} == {
        "objects_found": 4, "objects_ignored": 1, "objects_skipped": 1, "objects_checked": 2,
        "objects_with_errors": 1, "errors": 2}
    assert summary["by_error"] == {"format": 0, "blank": 1, "duplicate": 0, "character": 1, "top_level_domain": 0,
                                   "domain_part": 0, "local_part": 0, "length": 0}
    assert summary["by_attribute"]["userPrincipalName"] == {"character": 1}
    json.dumps(summary)


def test_check_alone_gives_what_a_new_engine_gives_for_one_object():
    """RuleEngine.check_alone (directory_remediation's re-check of a changed value) against process() and finish()
    of a new engine per object, which it replaces: errors, fixes, duplicates within the object (the same address
    twice, with another prefix case), skipped objects, and one engine reused for all of them."""
    objects = [
        ("CN=Ann,OU=T", valid_user("Ann", mail="ann lee@contoso.com",
                                   proxyAddresses=["SMTP:ann@contoso.com", "smtp:ANN@contoso.com", "x400:c=us"])),
        ("CN=Bob,OU=T", valid_user("Bob", userPrincipalName="bob@contoso.local", sAMAccountName="b+o,b",
                                   targetAddress="SMTP:bob@contoso.com", mailNickname="bob bob")),
        ("CN=Cy,OU=T", valid_user("Cy", displayName=None, givenName="x" * 70)),
        ("CN=svc$,OU=T", entry("svc$", mail="bad mail")),
        ("CN=Di,OU=T", valid_user("Di")),
    ]
    alone = rr.RuleEngine(TLDS, None)
    for dn, raw in objects:
        scan = Scan().add(dn, raw)
        expected = [(row["attribute"], row["value"], tuple(row["errors"])) for row in scan.rows]
        assert alone.check_alone(dn, raw) == expected
    assert alone.check_alone(*objects[0])[-1] == ("proxyAddresses", "smtp:ANN@contoso.com", ("duplicate",))
    assert alone.check_alone(*objects[4]) == [] and alone.check_alone(*objects[3]) == []
