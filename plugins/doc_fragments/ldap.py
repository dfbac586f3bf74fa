# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # LDAP connection options of every controller-side AD module (module_utils/ad/ldap_client.py).
    DOCUMENTATION = r"""
options:
  server:
    description:
      - Domain controllers to connect to, by the DNS name in their TLS certificate (FQDN).
      - Tried in order; when one is down, unreachable or times out the next is used. A refused
        bind (bad credentials) stops at once, so a wrong password does not lock the account on every DC.
      - DCs of several forests may be listed; every forest met is reported once.
    type: list
    elements: str
    required: true
  port:
    description:
      - TCP port. Default 636 for O(transport=ldaps), 389 for V(starttls) and V(ldap).
      - Use 3269 (LDAPS) or 3268 to query a global catalog.
    type: int
  transport:
    description:
      - V(ldaps) is TLS from the first byte; V(starttls) is TLS negotiated on port 389.
      - V(ldap) is no TLS - only with O(auth=kerberos), whose bind signs and seals the connection,
        or with O(allow_cleartext=true) in a lab.
    type: str
    choices: [ldaps, starttls, ldap]
    default: ldaps
  auth:
    description:
      - V(simple) binds with O(username) and O(password); it is refused over plain LDAP unless
        O(allow_cleartext=true).
      - V(kerberos) binds with SASL GSSAPI. On O(transport=ldap) it insists on signing and sealing (what
        a DC that requires LDAP signing and has no LDAPS certificate accepts). With O(username) and
        O(password) it gets a ticket into a private in-memory cache; without them it uses the
        controller's ticket cache (C(kinit)). The controller needs a C(krb5.conf) for the realm.
      - NTLM is not offered, because the library's NTLM mechanism has no signing or sealing layer.
    type: str
    choices: [simple, kerberos]
    default: simple
  username:
    description:
      - Bind user, C(user@domain.example) (UPN) or C(DOMAIN\\user) for O(auth=simple); a principal
        C(user@REALM) for O(auth=kerberos). A normal domain user is enough, as every fact is readable by
        Authenticated Users.
    type: str
  password:
    description:
      - Password of O(username). Keep it in Ansible Vault; it is never logged or returned.
    type: str
  ca_file:
    description:
      - PEM file with the CA certificate(s) that issued the DCs' LDAPS certificates. Without it the
        controller's system trust store is used.
    type: path
  validate_certs:
    description:
      - Validate the DC's certificate chain and host name. Turn off only in labs.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for a connection and for each LDAP operation.
    type: int
    default: 10
  allow_cleartext:
    description:
      - Allow O(auth=simple) over O(transport=ldap), that is a password readable on the network.
        For isolated labs only.
    type: bool
    default: false
requirements:
  - python-ldap >= 3.4 on the controller (OpenLDAP and Cyrus SASL libraries)
  - gssapi (Python) for O(auth=kerberos) with a password
notes:
  - The LDAP library is python-ldap; see the collection README ("Why python-ldap") for the reasons.
  - Runs on the controller (an action plugin) whatever the play's hosts are; no C(delegate_to) needed.
  - Set these options once for every AD module with C(module_defaults) and the group
    C(group/ems.enable.ldap).
"""
