"""The on-premises connectors, one module per connector: Entra Connect (AadConnect.psm1, the
module_util of the aad_connect_* Windows modules; its controller-side preconditions are AD rules,
ad/rules.py and ad/sync_permissions.py), the RMS connector and the servers that use it (rms, with its
registry table rms_connector_registry.yml) and the Intune on-premises Exchange Connector (exchange).
common holds what the connector preconditions share, preflight is the entry point of
ems.enable.connector_preflight, ExchangeSession.psm1 the Exchange remote session of the Exchange
modules both the RMS connector client and the Exchange Connector roles use."""
