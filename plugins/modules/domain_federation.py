#!/usr/bin/python
# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: domain_federation
short_description: Federate an Entra ID domain with the AD FS farm (internalDomainFederation), or roll it back to Managed
version_added: 0.2.0
description:
  - Manages the C(internalDomainFederation) of one verified custom domain through Microsoft Graph v1.0
    (C(/domains/{id}/federationConfiguration)) from the AD FS farm's own metadata values - issuer,
    passive and active sign-in, MEX and sign-out URIs, the token-signing certificate and the next one.
  - Idempotent - it reads the configuration, compares only the properties given as options (the ones it
    owns) and sends a PATCH with the changed ones; it POSTs a new configuration when there is none
    (which federates the domain). Check mode writes nothing; the diff shows the properties before and
    after, certificates as SHA-1 thumbprint, subject and expiry.
  - The first federation of a Managed domain changes how its users sign in - it is refused unless
    O(confirm_first_federation=true); the task then shows what will happen and what to check first as an
    attended step (recorded as pending in the report).
  - O(state=managed) is the rollback - it converts the domain back to Managed (PATCH C(authenticationType))
    only when Graph shows directory synchronization and password hash sync on, and only with
    O(confirm_rollback=true); unconfirmed, it shows what will happen as an attended step (reported as pending,
    not failed) and changes nothing. Password hash sync is
    readable with delegated access only (O(auth=device_code) signed in as a Global Administrator); with
    O(auth=certificate) the rollback is refused with that reason. The configuration that was removed is
    returned in RV(previous_federation) to federate again.
  - Bad input (domain name, URIs, certificates, the Graph options) fails with one line naming the option
    before any request. Runs on the controller through its action plugin.
author:
  - ems.enable contributors (@ems-enable)
extends_documentation_fragment:
  - ems.enable.graph
options:
  domain:
    description: The custom domain to federate (a verified domain of the tenant, not the initial C(onmicrosoft.com) one).
    type: str
    required: true
  state:
    description:
      - V(federated) creates or updates the federation configuration.
      - V(managed) converts the domain back to Managed (cloud authentication) once password hash sync is ready.
    type: str
    choices: [federated, managed]
    default: federated
  confirm_first_federation:
    description:
      - Confirms the first federation of a domain that is Managed today (users of the domain will sign in at AD FS).
      - Not needed to update an existing federation, nor in check mode (which warns instead).
    type: bool
    default: false
  confirm_rollback:
    description:
      - Confirms the rollback of a Federated domain to Managed (O(state=managed)) - users of the domain will
        sign in with their synchronized password hash instead of at AD FS.
      - Without it the task is pending (an attended step) and changes nothing; not needed in check mode (which warns).
    type: bool
    default: false
  display_name:
    description: Display name of the identity provider; on creation the domain name when not given.
    type: str
  issuer_uri:
    description:
      - The AD FS identifier (Get-AdfsProperties C(Identifier), e.g. V(http://fs.contoso.com/adfs/services/trust));
        with several top-level domains, V(http://<domain>/adfs/services/trust/) per domain (what the issuerid
        claim rule issues). Required with O(state=federated) unless in O(federation_metadata).
    type: str
  passive_sign_in_uri:
    description: The WS-Federation sign-in endpoint (V(https://<fs>/adfs/ls/)). Required with O(state=federated) unless in O(federation_metadata).
    type: str
  active_sign_in_uri:
    description: The WS-Trust endpoint of active clients (V(https://<fs>/adfs/services/trust/2005/usernamemixed)).
    type: str
  metadata_exchange_uri:
    description: The MEX endpoint (V(https://<fs>/adfs/services/trust/mex)). Required with O(state=federated) unless in O(federation_metadata).
    type: str
  sign_out_uri:
    description: The sign-out endpoint (V(https://<fs>/adfs/ls/)).
    type: str
  signing_certificate:
    description:
      - The AD FS token-signing certificate's public part, base64 DER (what Graph stores) or PEM. An expired one is
        refused. Required with O(state=federated) unless in O(federation_metadata).
    type: str
  next_signing_certificate:
    description: The next token-signing certificate (during a rollover), base64 DER or PEM.
    type: str
  federation_metadata:
    description:
      - The AD FS farm's federation metadata document (the content of
        C(https://<fs>/FederationMetadata/2007-06/FederationMetadata.xml)). Options not given are taken from it -
        O(issuer_uri) (entityID), O(passive_sign_in_uri) and O(sign_out_uri) (the passive requestor endpoint),
        O(active_sign_in_uri) and O(metadata_exchange_uri) (the AD FS paths C(/adfs/services/trust/2005/usernamemixed)
        and C(/adfs/services/trust/mex) on the same host), O(signing_certificate) (the oldest token-signing
        certificate in force) and O(next_signing_certificate) (a newer one, during a rollover).
    type: str
  preferred_authentication_protocol:
    description: The protocol Entra ID uses with AD FS.
    type: str
    choices: [wsFed, saml]
    default: wsFed
  federated_idp_mfa_behavior:
    description:
      - Whether Entra ID accepts, enforces or rejects the MFA done at AD FS (Graph's default is
        V(acceptIfMfaDoneByFederatedIdp)); not compared when not given.
    type: str
    choices: [acceptIfMfaDoneByFederatedIdp, enforceMfaByFederatedIdp, rejectMfaByFederatedIdp]
  prompt_login_behavior:
    description: How C(prompt=login) requests are passed to AD FS; not compared when not given.
    type: str
    choices: [translateToFreshPasswordAuthentication, nativeSupport, disabled]
attributes:
  check_mode:
    support: full
    description: Reads only; reports what would change.
  diff_mode:
    support: full
    description: The federation properties (or the domain's authenticationType) before and after.
requirements:
  - msal >= 1.29, cryptography (on the controller)
seealso:
  - module: ems.enable.tenant_info
  - name: docs/tenant.md - permissions, the stand-in, what is proven where
    description: The collection's tenant documentation.
    link: https://github.com/ems-enable/ems.enable/blob/main/docs/tenant.md
  - name: Create internalDomainFederation (Microsoft Graph)
    description: The Graph call this module makes to federate a domain.
    link: https://learn.microsoft.com/graph/api/domain-post-federationconfiguration
"""

EXAMPLES = r"""
- name: Federate corp.contoso.com with the AD FS farm (values from the farm's metadata)
  ems.enable.domain_federation:
    tenant_id: 8d3c1f6e-2b4a-4c5d-9e8f-0a1b2c3d4e5f
    client_id: 3f2a9c1e-7b6d-4e5f-8a9b-0c1d2e3f4a5b
    certificate_path: /etc/ems/graph-app.pfx
    certificate_password: "{{ vault_graph_pfx_password }}"
    domain: corp.contoso.com
    issuer_uri: http://fs.contoso.com/adfs/services/trust
    passive_sign_in_uri: https://fs.contoso.com/adfs/ls/
    active_sign_in_uri: https://fs.contoso.com/adfs/services/trust/2005/usernamemixed
    metadata_exchange_uri: https://fs.contoso.com/adfs/services/trust/mex
    sign_out_uri: https://fs.contoso.com/adfs/ls/
    signing_certificate: "{{ adfs_token_signing_base64 }}"
    federated_idp_mfa_behavior: acceptIfMfaDoneByFederatedIdp
    confirm_first_federation: true

- name: Roll back to Managed (password hash sync must be on; delegated sign-in reads it)
  ems.enable.domain_federation:
    tenant_id: contoso.onmicrosoft.com
    client_id: 3f2a9c1e-7b6d-4e5f-8a9b-0c1d2e3f4a5b
    auth: device_code
    domain: corp.contoso.com
    state: managed
    confirm_rollback: true
"""

RETURN = r"""
domain:
  description: The domain.
  returned: always
  type: str
action:
  description: V(created), V(updated), V(none) or V(converted to Managed).
  returned: success
  type: str
authentication_type:
  description: The domain's authenticationType after the task (as it was, in check mode).
  returned: success
  type: str
federation:
  description: The owned federation properties after the task (certificates as thumbprint, subject, expiry).
  returned: with state=federated
  type: dict
updated:
  description: The properties a PATCH changed.
  returned: when an existing federation was updated
  type: list
  elements: str
previous_federation:
  description: The federation configuration the rollback removed (Graph's property names) - the body to federate again.
  returned: when state=managed converted the domain
  type: dict
password_hash_sync:
  description: Why the rollback judged password hash sync ready.
  returned: when state=managed converted the domain
  type: str
ems_attended_step:
  description: The attended step of an unconfirmed first federation or rollback (shown and reported as pending).
  returned: when the first federation or the rollback was not confirmed
  type: dict
pending:
  description: The first federation or the rollback waits for its confirmation (RV(ems_attended_step)); nothing was changed.
  returned: when the first federation or the rollback was not confirmed
  type: bool
graph_requests:
  description: Number of HTTP requests sent to Graph (sign-in not counted).
  returned: success
  type: int
"""

try:
    from ansible_collections.ems.enable.plugins.module_utils.tenant import federation
except ImportError:  # pragma: no cover
    federation = None


def main():
    from ansible.module_utils.basic import AnsibleModule

    module = AnsibleModule(argument_spec=federation.DOMAIN_FEDERATION_SPEC, supports_check_mode=True,
                           **federation.DOMAIN_FEDERATION_KWARGS)
    result = federation.run_domain_federation(module.params, module.check_mode)
    if result.get("failed"):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
