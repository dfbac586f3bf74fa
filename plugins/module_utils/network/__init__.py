"""Network readiness: the port table and the endpoint table (ports.yml, endpoints.yml) and what
derives from them (tables), and the controller-side checks of ems.enable.dns_check (dns_check) and
ems.enable.tls_endpoint_check (tls_endpoint)."""
