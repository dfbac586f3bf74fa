"""Directory readiness: IdFix's multi-tenant rules applied over LDAP from the controller. The entry
point of ems.enable.directory_readiness (directory_readiness), the rule engine (rules, over the data
file idfix_rules.json), the planned, streamed paged searches (scan) and the CSV/JSON report (report).
IdFix's TLD list is read by the ad package (ad/idfix_tlds.txt, ad.facts.routable_tlds)."""
