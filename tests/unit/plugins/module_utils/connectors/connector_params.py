"""Parameters of ems.enable.connector_preflight for the connector unit tests next to this file
(pytest's default import mode puts this directory on sys.path, as for adfs/adfs_pki.py)."""

from __future__ import annotations

from ansible_collections.ems.enable.plugins.module_utils.connectors import preflight

CONNECTOR = "rmsconnector.contoso.com"


def spec_defaults():
    """Every option of the module at its default, as the action plugin's validation leaves them."""
    return {k: v.get("default") for k, v in preflight.ARGUMENT_SPEC.items()}


def run_host(component, facts, **kw):
    """The host stage of one component on the host h1 with the given facts."""
    params = spec_defaults()
    params.update(component=component, stage="host", host="h1", facts=facts, connector_name=CONNECTOR, **kw)
    return preflight.run(params)
