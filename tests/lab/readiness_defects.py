"""A lab forest seeded with known IdFix defects, and the exact report expected for it.

Used by tests/integration/test_directory_readiness.py (and by hand: ``python
tests/lab/readiness_defects.py ldif --base-dn DC=x,DC=emslab,DC=test --out DIR``).

What is seeded (under OU=Readiness of the domain):
- clean objects of every class (user, inetOrgPerson, contact, security and distribution groups);
- one object per rule and error kind (IdFix multi-tenant rules, see docs/readiness.md), each with
  the report rows it must produce written out by hand below (``expect``), not computed by the code
  under test;
- duplicates across OUs (OU=Sales and OU=Finance) for every attribute IdFix checks for duplicates;
- objects IdFix skips (one per skip reason) in OU=Skipped, and objects the ignore list skips.

Samba 4.17, like Windows Server 2012 R2+ DCs, refuses some states a real directory can still be in
(duplicate userPrincipalName or sAMAccountName, values longer than the schema's rangeUpper, invalid
sAMAccountName characters, isCriticalSystemObject on a new object). Those objects are created with
valid values and then changed directly in the domain partition's database (``raw``), bypassing the
DSDB checks: the stand-in for objects from older DCs, replication collisions or other domains
(Samba 4.17 cannot host child domains, so duplicates across domains are duplicates across OUs of
one domain here).

The Exchange attributes IdFix reads (mailNickname, targetAddress, homeMDB,
msExchHideFromAddressLists, msExchRecipientTypeDetails) are not in Samba's schema: ``schema_ldif``
adds stand-ins with Exchange's names, OIDs, syntaxes and ranges, allowed on mailRecipient (the
auxiliary class of users, contacts and groups), as Exchange's schema extension does.
"""

from __future__ import annotations

import argparse
import base64
import os
import subprocess
from pathlib import Path

OU = "Readiness"
SUFFIX = "contoso.com"

# --------------------------------------------------------------------------------------------
# Schema stand-ins (Exchange's lDAPDisplayName, attributeID, syntax, single-valued, rangeUpper)
# --------------------------------------------------------------------------------------------
EXCHANGE_ATTRIBUTES = [
    # cn, lDAPDisplayName, attributeID, attributeSyntax, oMSyntax, extra
    ("ms-Exch-Mail-Nickname", "mailNickname", "1.2.840.113556.1.2.447", "2.5.5.12", "64",
     {"rangeLower": "1", "rangeUpper": "64", "searchFlags": "1"}),
    ("ms-Exch-Target-Address", "targetAddress", "1.2.840.113556.1.2.352", "2.5.5.12", "64",
     {"rangeLower": "1", "rangeUpper": "1123"}),
    ("ms-Exch-Home-MDB", "homeMDB", "1.2.840.113556.1.2.44", "2.5.5.1", "127",
     {}),
    ("ms-Exch-Hide-From-Address-Lists", "msExchHideFromAddressLists", "1.2.840.113556.1.2.7000.102.73",
     "2.5.5.8", "1", {}),
    ("ms-Exch-Recipient-Type-Details", "msExchRecipientTypeDetails", "1.2.840.113556.1.4.7000.102.50",
     "2.5.5.16", "65", {}),
]


def _ldif_value(name, value):
    if value != value.strip() or any(ord(c) > 126 or ord(c) < 32 for c in value) or value[:1] in ":<":
        return "%s:: %s\n" % (name, base64.b64encode(value.encode()).decode())
    return "%s: %s\n" % (name, value)


def _dn_line(dn):
    if any(ord(c) > 126 or ord(c) < 32 for c in dn):
        return "dn:: %s\n" % base64.b64encode(dn.encode()).decode()
    return "dn: %s\n" % dn


def schema_ldif(base_dn):
    """(attributes LDIF for ldbadd, mayContain LDIF for ldbmodify): two steps, so the schema reloads."""
    schema = "CN=Schema,CN=Configuration," + base_dn
    adds = []
    for cn, name, oid, syntax, om_syntax, extra in EXCHANGE_ATTRIBUTES:
        text = _dn_line("CN=%s,%s" % (cn, schema))
        text += "objectClass: top\nobjectClass: attributeSchema\n"
        text += "cn: %s\nlDAPDisplayName: %s\nattributeID: %s\n" % (cn, name, oid)
        text += "attributeSyntax: %s\noMSyntax: %s\nisSingleValued: TRUE\n" % (syntax, om_syntax)
        text += "isMemberOfPartialAttributeSet: TRUE\n"
        for key, value in extra.items():
            text += "%s: %s\n" % (key, value)
        adds.append(text)
    modify = _dn_line("CN=Mail-Recipient," + schema) + "changetype: modify\nadd: mayContain\n"
    modify += "".join("mayContain: %s\n" % a[1] for a in EXCHANGE_ATTRIBUTES) + "-\n"
    return "\n".join(adds) + "\n", modify + "\n"


# --------------------------------------------------------------------------------------------
# The seed. Each object: where, class, attributes, raw changes, and the rows it must produce.
# A row is (attribute, value, errors, suggested_value, action); dn and object_class come from the
# object. skip = the IdFix skip reason; ignore = matched by the ignore list of the test.
# --------------------------------------------------------------------------------------------
LONG_X500 = "X500:/o=" + "a" * 260
LONG_TARGET = "X500:/o=" + "t" * 250
LONG_MAIL = "m" * 252 + "@x.co"
LONG_UPN = "u" * 110 + "@contoso.com"
CNF = "\nCNF:0a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d"

USER, INET, CONTACT, GROUP = "user", "inetOrgPerson", "contact", "group"
SECURITY, DISTRIBUTION = "-2147483646", "8"


def _o(cn, cls, ou="Sales", attrs=None, raw=None, expect=(), skip=None, ignore=False, sam=None, upn=True,
       display=True):
    return {"cn": cn, "class": cls, "ou": ou, "attrs": dict(attrs or {}), "raw": dict(raw or {}),
            "expect": list(expect), "skip": skip, "ignore": ignore, "sam": sam, "upn": upn, "display": display}


SEED = [
    # ---- clean objects: checked, no rows ----------------------------------------------------
    _o("Clean User", USER, sam="clean1", attrs={
        "givenName": "Clean", "mail": "clean1@contoso.com", "mailNickname": "clean1",
        "proxyAddresses": ["SMTP:clean1@contoso.com", "smtp:clean1@contoso.onmicrosoft.com",
                           "X500:/o=Contoso/ou=Exchange/cn=Recipients/cn=clean1",
                           "X400:c=US;a= ;p=Contoso;o=Exchange;s=Clean"],
        "targetAddress": "SMTP:clean1@contoso.mail.onmicrosoft.com", "msExchRecipientTypeDetails": "1",
        "homeMDB": "@OU"}),
    _o("Clean Inet", INET, sam="inetorgperson-over-20", attrs={"mail": "inet1@contoso.com"}),
    _o("Clean Contact", CONTACT, attrs={"mail": "clean.contact@fabrikam.com",
                                        "targetAddress": "SMTP:clean.contact@fabrikam.com",
                                        "proxyAddresses": "SMTP:clean.contact@fabrikam.com"}),
    _o("Clean Security", GROUP, sam="clean-sec", attrs={"groupType": SECURITY, "mail": "clean.sec@contoso.com"}),
    _o("Clean Team", GROUP, sam="a-group-sam-longer-than-20", attrs={
        "groupType": DISTRIBUTION, "mailNickname": "cleanteam", "proxyAddresses": "SMTP:clean.team@contoso.com"}),
    _o("Arbitration Contact", CONTACT, attrs={"msExchRecipientTypeDetails": "8388608"}),  # only users skip on it
    # ---- displayName (Rules/MultiTenantRuleCollection.cs: length 255, blank -> cn) --------------
    _o("Long Display", USER, attrs={"displayName": "D" * 256},
       expect=[("displayName", "D" * 256, ["length"], "D" * 255, "edit")]),
    _o("No Display", USER, display=False,
       expect=[("displayName", None, ["blank"], "No Display", "edit")]),
    _o("No Display Contact", CONTACT, ou="Finance", display=False,
       expect=[("displayName", None, ["blank"], "No Display Contact", "edit")]),
    # ---- givenName (length 63) ----------------------------------------------------------------
    _o("Long Given", USER, attrs={"givenName": "G" * 64},
       expect=[("givenName", "G" * 64, ["length"], "G" * 63, "edit")]),
    # ---- mail (length 256, duplicate) ---------------------------------------------------------
    _o("Long Mail", USER, attrs={"mail": "longmail@contoso.com"}, raw={"mail": LONG_MAIL},
       expect=[("mail", LONG_MAIL, ["length"], LONG_MAIL[:256], "edit")]),
    _o("Mail Dup A", USER, attrs={"mail": "shared@contoso.com"},
       expect=[("mail", "shared@contoso.com", ["duplicate"], None, "edit")]),
    _o("Mail Dup B", USER, ou="Finance", attrs={"mail": "SHARED@Contoso.com"},
       expect=[("mail", "SHARED@Contoso.com", ["duplicate"], None, "edit")]),
    # ---- mailNickname (length 64, no leading period, duplicate) -------------------------------
    _o("Dot Nick", USER, attrs={"mailNickname": ".dotnick"},
       expect=[("mailNickname", ".dotnick", ["character"], "dotnick", "edit")]),
    _o("Only Dots", USER, attrs={"mailNickname": "..."},
       expect=[("mailNickname", "...", ["character"], "Only Dots", "edit")]),
    _o("Long Nick", USER, attrs={"mailNickname": "longnick"}, raw={"mailNickname": "n" * 65},
       expect=[("mailNickname", "n" * 65, ["length"], "n" * 64, "edit")]),
    _o("Nick Dup A", USER, attrs={"mailNickname": "dupnick", "homeMDB": "@OU"},
       expect=[("mailNickname", "dupnick", ["duplicate"], None, "complete")]),
    _o("Nick Dup B", CONTACT, ou="Finance", attrs={"mailNickname": "DupNick"},
       expect=[("mailNickname", "DupNick", ["duplicate"], None, "edit")]),
    # ---- proxyAddresses (each value: length 256, colon, duplicate, characters, RFC 2822) -------
    _o("Proxy Long", USER, attrs={"proxyAddresses": LONG_X500},
       expect=[("proxyAddresses", LONG_X500, ["length"], LONG_X500[:256], "edit")]),
    _o("Proxy Colon", USER, attrs={"proxyAddresses": "smtp:col:on@contoso.com"},
       expect=[("proxyAddresses", "smtp:col:on@contoso.com", ["character"], "smtp:colon@contoso.com", "edit")]),
    _o("Proxy Space", USER, attrs={"proxyAddresses": "smtp:sp ace@contoso.com"},
       expect=[("proxyAddresses", "smtp:sp ace@contoso.com", ["character"], "smtp:space@contoso.com", "edit")]),
    _o("Proxy Tld", USER, attrs={"proxyAddresses": "SMTP:tld@contoso.local"},
       expect=[("proxyAddresses", "SMTP:tld@contoso.local", ["top_level_domain"], None, "edit")]),
    _o("Proxy Domain", USER, attrs={"proxyAddresses": "SMTP:dom@con_toso.com"},
       expect=[("proxyAddresses", "SMTP:dom@con_toso.com", ["domain_part"], "SMTP:dom@contoso.com", "edit")]),
    _o("Proxy Local", USER, attrs={"proxyAddresses": "SMTP:lo..cal@contoso.com"},
       expect=[("proxyAddresses", "SMTP:lo..cal@contoso.com", ["format", "local_part"], None, "edit")]),
    _o("Proxy X400", USER, attrs={"proxyAddresses": "X400:c=US;a= ;p=Contoso;o=Exchange;s=Bad[1]"},
       expect=[("proxyAddresses", "X400:c=US;a= ;p=Contoso;o=Exchange;s=Bad[1]", ["character"],
                "X400:c=US;a= ;p=Contoso;o=Exchange;s=Bad1", "edit")]),
    _o("Proxy X500", USER, attrs={"proxyAddresses": 'X500:/o=Contoso/ou="Exchange"/cn=Bad'},
       expect=[("proxyAddresses", 'X500:/o=Contoso/ou="Exchange"/cn=Bad', ["character"],
                "X500:/o=Contoso/ou=Exchange/cn=Bad", "edit")]),
    _o("Proxy Sip", USER, attrs={"proxyAddresses": ["SMTP:proxysip@contoso.com", "sip:bad user@contoso.com"]},
       expect=[("proxyAddresses", "sip:bad user@contoso.com", ["character"], "sip:baduser@contoso.com", "edit")]),
    _o("Team Dup", GROUP, sam="teamdup",
       attrs={"groupType": DISTRIBUTION, "mailNickname": "teamdup", "proxyAddresses": "SMTP:team@contoso.com"},
       expect=[("proxyAddresses", "SMTP:team@contoso.com", ["duplicate"], None, "complete")]),
    _o("Team Member", USER, ou="Finance", attrs={"proxyAddresses": "smtp:Team@contoso.com"},
       expect=[("proxyAddresses", "smtp:Team@contoso.com", ["duplicate"], None, "remove")]),
    # ---- sAMAccountName (length 20 users / 256 others, characters, duplicate without UPN) ------
    _o("Long Sam", USER, sam="abcdefghijklmnopqrstu",
       expect=[("sAMAccountName", "abcdefghijklmnopqrstu", ["length"], "abcdefghijklmnopqrst", "edit")]),
    _o("Plus Sam", USER, sam="plussam", raw={"sAMAccountName": "bad+sam"},
       expect=[("sAMAccountName", "bad+sam", ["character"], "badsam", "edit")]),
    _o("Wild Sam", USER, sam="wildsam", raw={"sAMAccountName": "?*"},
       expect=[("sAMAccountName", "?*", ["character"], "Wild Sam", "edit")]),
    _o("Long Group Sam", GROUP, sam="longgroupsam", attrs={"groupType": SECURITY, "mail": "lgs@contoso.com"},
       raw={"sAMAccountName": "g" * 257},
       expect=[("sAMAccountName", "g" * 257, ["length"], "g" * 256, "edit")]),
    _o("Sam Dup A", USER, sam="samdup", upn=False,
       expect=[("sAMAccountName", "samdup", ["duplicate"], None, "edit")]),
    _o("Sam Dup B", USER, ou="Finance", sam="samdupb", upn=False, raw={"sAMAccountName": "SAMDUP"},
       expect=[("sAMAccountName", "SAMDUP", ["duplicate"], None, "edit")]),
    _o("Sam Dup With Upn", USER, ou="Finance", sam="samdupupn", raw={"sAMAccountName": "SamDup"}),  # has a UPN
    # ---- targetAddress (length 255, colon, duplicate, characters, RFC 2822 for smtp) -----------
    _o("Target Long", CONTACT, attrs={"targetAddress": LONG_TARGET},
       expect=[("targetAddress", LONG_TARGET, ["length"], LONG_TARGET[:255], "edit")]),
    _o("Target Colon", CONTACT, attrs={"targetAddress": "SMTP:ta:rget@contoso.com"},
       expect=[("targetAddress", "SMTP:ta:rget@contoso.com", ["character"], "SMTP:target@contoso.com", "edit")]),
    _o("Target Backslash", CONTACT, attrs={"targetAddress": "SMTP:back\\slash@contoso.com"},
       expect=[("targetAddress", "SMTP:back\\slash@contoso.com", ["character"], "SMTP:backslash@contoso.com",
                "edit")]),
    _o("Target Tld", CONTACT, attrs={"targetAddress": "SMTP:t@contoso.local"},
       expect=[("targetAddress", "SMTP:t@contoso.local", ["top_level_domain"], None, "edit")]),
    _o("Target Other", CONTACT, attrs={"targetAddress": "sip:bad,comma@contoso.com"},
       expect=[("targetAddress", "sip:bad,comma@contoso.com", ["character"], "sip:badcomma@contoso.com", "edit")]),
    _o("Target Dup A", CONTACT, attrs={"targetAddress": "SMTP:dup.target@contoso.onmicrosoft.com"},
       expect=[("targetAddress", "SMTP:dup.target@contoso.onmicrosoft.com", ["duplicate"], None, "edit")]),
    _o("Target Dup B", USER, ou="Finance", attrs={"targetAddress": "smtp:DUP.target@contoso.onmicrosoft.com"},
       expect=[("targetAddress", "smtp:DUP.target@contoso.onmicrosoft.com", ["duplicate"], None, "edit")]),
    # ---- userPrincipalName (length 113, characters, RFC 2822, duplicate) ----------------------
    _o("Upn Long", USER, attrs={"userPrincipalName": LONG_UPN},
       expect=[("userPrincipalName", LONG_UPN, ["format", "domain_part", "length"], LONG_UPN[:113], "edit")]),
    _o("Upn Space", USER, attrs={"userPrincipalName": "bad user@contoso.com"},
       expect=[("userPrincipalName", "bad user@contoso.com", ["character"], "baduser@contoso.com", "edit")]),
    _o("Upn Umlaut", USER, attrs={"userPrincipalName": "m\u00fcller@contoso.com"},
       expect=[("userPrincipalName", "m\u00fcller@contoso.com", ["character"], "mller@contoso.com", "edit")]),
    _o("Upn Tld", USER, attrs={"userPrincipalName": "tld.user@contoso.local"},
       expect=[("userPrincipalName", "tld.user@contoso.local", ["top_level_domain"], None, "edit")]),
    _o("Upn Domain", USER, attrs={"userPrincipalName": "dp@contoso-.com"},
       expect=[("userPrincipalName", "dp@contoso-.com", ["format", "domain_part"], None, "edit")]),
    _o("Upn Local", USER, attrs={"userPrincipalName": "lp.@contoso.com"},
       expect=[("userPrincipalName", "lp.@contoso.com", ["local_part"], "lp@contoso.com", "edit")]),
    _o("Upn Two At", USER, attrs={"userPrincipalName": "two@at@contoso.com"},
       expect=[("userPrincipalName", "two@at@contoso.com", ["local_part"], "twoat@contoso.com", "edit")]),
    _o("Upn Dup A", USER, attrs={"userPrincipalName": "dup.upn@contoso.com"},
       expect=[("userPrincipalName", "dup.upn@contoso.com", ["duplicate"], None, "edit")]),
    _o("Upn Dup B", USER, ou="Finance", raw={"userPrincipalName": "DUP.UPN@contoso.com"},
       expect=[("userPrincipalName", "DUP.UPN@contoso.com", ["duplicate"], None, "edit")]),
    _o("Multi Error", USER, display=False, attrs={"userPrincipalName": "multi error@contoso.local"},
       expect=[("displayName", None, ["blank"], "Multi Error", "edit"),
               ("userPrincipalName", "multi error@contoso.local", ["character", "top_level_domain"],
                "multierror@contoso.local", "edit")]),
    # ---- skipped by IdFix (Rules/MultiTenantRuleCollection.cs, Skip) ---------------------------
    _o("svc$", USER, ou="Skipped", display=False, skip="cn_ends_with_dollar"),
    _o("HealthMailbox-ready", USER, ou="Skipped", display=False, skip="well_known_exclusion"),
    _o("Guest Speaker", CONTACT, ou="Skipped", display=False, skip="well_known_exclusion"),
    _o("Conflict User" + CNF, USER, ou="Skipped", sam="conflictuser", display=False, skip="conflict_object"),
    _o("Critical User", USER, ou="Skipped", display=False, raw={"isCriticalSystemObject": "TRUE"},
       skip="critical_system_object"),
    _o("Support Account", USER, ou="Skipped", sam="SUPPORT_388945a0", display=False,
       skip="user_sam_account_name_prefix"),
    _o("Mailbox System", USER, ou="Skipped", display=False, attrs={"mailNickname": "SystemMailbox{1f05a927}"},
       skip="user_mail_nickname_prefix"),
    _o("Sync Account", USER, ou="Skipped", attrs={"displayName": "MSOL_sync", "msExchHideFromAddressLists": "TRUE"},
       skip="user_hidden_msol"),
    _o("Arbitration Mailbox", USER, ou="Skipped", display=False, attrs={"msExchRecipientTypeDetails": "8388608"},
       skip="user_recipient_type"),
    _o("Plain Security", GROUP, ou="Skipped", display=False, attrs={"groupType": SECURITY},
       skip="security_group_without_mail"),
    _o("Plain Distribution", GROUP, ou="Skipped", display=False,
       attrs={"groupType": DISTRIBUTION, "mail": "plain.dist@contoso.com"},
       skip="distribution_group_without_proxy_addresses"),
    # ---- skipped by the ignore list of the test ----------------------------------------------
    _o("Ignored User", USER, ou="Ignored", display=False, ignore=True),
    _o("ignore-me-1", USER, attrs={"userPrincipalName": "bad user2@contoso.com"}, ignore=True),
]

#: The ignore list the test passes (relative to the domain DN: see ignore_list()).
IGNORE_OUS = ("OU=Ignored,OU=%s" % OU, "OU=EmsLabUsers")
IGNORE_PATTERNS = ("CN=ignore-me-*",)


def _sid(index):
    return "rdy%03d" % index


def ou_dn(ou, base_dn):
    return "OU=%s,OU=%s,%s" % (ou, OU, base_dn)


def object_dn(obj, base_dn):
    cn = obj["cn"].replace("\\", "\\\\").replace(",", "\\,").replace("+", "\\+")
    cn = cn.replace("\n", "\\0A")
    return "CN=%s,%s" % (cn, ou_dn(obj["ou"], base_dn))


def _attrs(index, obj, base_dn):
    cls = obj["class"]
    attrs = {"objectClass": cls if cls != GROUP else "group"}
    if obj["display"]:
        attrs["displayName"] = obj["cn"]
    if cls in (USER, INET):
        sid = obj["sam"] or _sid(index)
        attrs["sAMAccountName"] = sid
        attrs["userAccountControl"] = "546"
        if obj["upn"]:
            attrs["userPrincipalName"] = "%s@%s" % (_sid(index), SUFFIX)
    elif cls == GROUP:
        attrs["sAMAccountName"] = obj["sam"] or _sid(index)
    for key, value in obj["attrs"].items():
        attrs[key] = ("OU=%s,%s" % (OU, base_dn)) if value == "@OU" else value
    return attrs


def objects_ldif(base_dn):
    out = []
    out.append(_dn_line("OU=%s,%s" % (OU, base_dn)) + "objectClass: organizationalUnit\n")
    for ou in sorted({o["ou"] for o in SEED}):
        out.append(_dn_line(ou_dn(ou, base_dn)) + "objectClass: organizationalUnit\n")
    for index, obj in enumerate(SEED):
        text = _dn_line(object_dn(obj, base_dn))
        for key, values in _attrs(index, obj, base_dn).items():
            for value in values if isinstance(values, list) else [values]:
                text += _ldif_value(key, value)
        out.append(text)
    return "\n".join(out) + "\n"


def raw_ldif(base_dn):
    """Changes written straight into the domain partition (no DSDB checks)."""
    out = []
    for obj in SEED:
        if obj["raw"]:
            text = _dn_line(object_dn(obj, base_dn)) + "changetype: modify\n"
            for key, value in obj["raw"].items():
                text += "replace: %s\n%s-\n" % (key, _ldif_value(key, value))
            out.append(text)
    return "\n".join(out) + "\n"


def expected_rows(base_dn):
    rows = []
    for obj in SEED:
        if obj["skip"] or obj["ignore"]:
            continue
        for attribute, value, errors, suggested, action in obj["expect"]:
            rows.append({"dn": object_dn(obj, base_dn), "object_class": obj["class"], "attribute": attribute,
                         "value": value, "errors": errors, "suggested_value": suggested, "action": action})
    return rows


def expected_counts():
    checked = [o for o in SEED if not o["skip"] and not o["ignore"]]
    skipped = {}
    for obj in SEED:
        if obj["skip"]:
            skipped[obj["skip"]] = skipped.get(obj["skip"], 0) + 1
    return {
        "objects": len(SEED),
        "checked": len(checked),
        "with_errors": sum(1 for o in checked if o["expect"]),
        "ignored": sum(1 for o in SEED if o["ignore"]),
        "skipped": skipped,
    }


def ignore_list(base_dn):
    return ["%s,%s" % (ou, base_dn) for ou in IGNORE_OUS] + list(IGNORE_PATTERNS)


def write(directory, base_dn):
    """Write the four LDIF files; returns their paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    schema_add, schema_modify = schema_ldif(base_dn)
    files = {
        "schema_add": schema_add,
        "schema_modify": schema_modify,
        "objects": objects_ldif(base_dn),
        "raw": raw_ldif(base_dn),
    }
    paths = {}
    for name, text in files.items():
        paths[name] = directory / ("readiness-%s.ldif" % name.replace("_", "-"))
        paths[name].write_text(text, encoding="utf-8")
    return paths


def load_offline(sam_ldb, paths, log=None):
    """Load into a STOPPED DC's sam.ldb: schema (two steps), objects, then the raw changes into the
    domain partition file."""
    private = Path(sam_ldb).parent
    conf = Path(paths["objects"]).parent / "schema-update.conf"
    conf.write_text("[global]\n\tdsdb:schema update allowed = true\n")
    env = dict(os.environ, SMB_CONF_PATH=str(conf))
    out = open(log, "a", encoding="utf-8") if log else subprocess.DEVNULL

    def sh(cmd):
        proc = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
        if proc.returncode:
            raise RuntimeError("failed (rc=%d): %s%s" % (proc.returncode, " ".join(cmd),
                                                         (" (see %s)" % log) if log else ""))

    try:
        sh(["ldbadd", "-H", str(sam_ldb), str(paths["schema_add"])])
        sh(["ldbmodify", "-H", str(sam_ldb), str(paths["schema_modify"])])
        sh(["ldbadd", "-H", str(sam_ldb), str(paths["objects"])])
        partitions = [p for p in (private / "sam.ldb.d").glob("DC=*.ldb")
                      if not p.name.upper().startswith(("DC=DOMAINDNSZONES", "DC=FORESTDNSZONES"))]
        if len(partitions) != 1:
            raise RuntimeError("expected one domain partition file in %s, found %s" % (private, partitions))
        sh(["ldbmodify", "-H", str(partitions[0]), str(paths["raw"])])
    finally:
        if log:
            out.close()


def seed(lab, forest, directory):
    """Stop the forest's first DC, load the seed offline, start it again."""
    f = lab.forest(forest)
    dc1 = f.dcs[0]
    paths = write(directory, f.base_dn)
    lab.stop_dc(dc1.fqdn)
    load_offline(dc1.sam_ldb, paths, log=os.path.join(directory, "seed.log"))
    lab.start_dc(dc1.fqdn)
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    gen = sub.add_parser("ldif", help="write the LDIF files")
    gen.add_argument("--base-dn", required=True)
    gen.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    for name, path in write(args.out, args.base_dn).items():
        print("%-14s %s" % (name, path))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
