"""Active Directory over LDAP, from the controller: the connection (ldap_client), the forest facts
(facts), the functional level and schema tables (levels), the preflight rules (rules), the entry
points of the controller-side AD modules (modules) and the Entra Connect connector account's
rights (sync_permissions). idfix_tlds.txt is read by facts.routable_tlds()."""
