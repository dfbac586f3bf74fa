"""A started Graph stand-in with one registered app (the tests' usual set-up; issue 16)."""

from __future__ import annotations

import json

import standin

CLIENT = "3f2a9c1e-7b6d-4e5f-8a9b-0c1d2e3f4a5b"


def started(workdir, client_id=CLIENT):
    """A running StandIn with ``client_id`` registered; ``app_cert`` is the app's certificate file."""
    server = standin.StandIn(workdir).start()
    path, cert, _key = standin.make_app_certificate(workdir)
    server.register_app(client_id, cert)
    server.app_cert = path
    return server


def stopped_clean(server):
    """Stop the stand-in and fail when any request or response broke the contract."""
    server.stop()
    assert server.violations == [], json.dumps(server.violations, indent=1)


def writes(server):
    """The write requests Graph received (not sign-in, not the $batch envelope)."""
    return [e for e in server.log if e["method"] in ("POST", "PATCH", "DELETE") and "/oauth2/" not in e["path"]
            and not e["path"].startswith("/v1.0/$batch")]
