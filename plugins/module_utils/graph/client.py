# Copyright (c) ems.enable contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Graph client of the controller: MSAL sign-in, requests with back-off, paging and $batch.

- Unattended (auth=certificate): MSAL ConfidentialClientApplication + acquire_token_for_client with
  the app's certificate (credentials.py validates it first).
- Attended (auth=device_code): MSAL PublicClientApplication + initiate_device_flow; the caller's
  ``notify(flow)`` shows "open <url>, enter <code>" (the attended-step block, plugins/action/
  tenant_info.py), then acquire_token_by_device_flow polls until the operator signed in.
- Token cache: only when the caller gives a path (token_cache); written with mode 0600 when MSAL
  says it changed (msal/token_cache.py has_state_changed).
- 429 and 5xx: sleep Retry-After, else 1, 2, 4 ... s; at most max_retries retries and
  MAX_TOTAL_WAIT seconds per request (G throttling). Paging: the whole @odata.nextLink, with
  ConsistencyLevel sent again (G paging). $batch: at most 20 requests per call, 429 per item retried
  (G json-batching).
Every expected fault is a GraphError (errors.py): one line with the remedy, secrets redacted.
"""

from __future__ import annotations

import json
import os
import time

try:
    import msal
    import requests

    HAS_MSAL = True
    MSAL_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by check_requirements()
    HAS_MSAL = False
    MSAL_IMPORT_ERROR = str(exc)

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit  # type: ignore

from ansible_collections.ems.enable.plugins.module_utils.graph import clouds, credentials
from ansible_collections.ems.enable.plugins.module_utils.network import host_names
from ansible_collections.ems.enable.plugins.module_utils.private_file import write_atomically
from ansible_collections.ems.enable.plugins.module_utils.graph.errors import (
    GraphError, permission_for, redact, sign_in_error)

RETRY_STATUS = (429, 500, 502, 503, 504)
MAX_RETRY_AFTER = 120  # seconds: a longer Retry-After is capped
MAX_TOTAL_WAIT = 300  # seconds of back-off per request, all retries together
BATCH_LIMIT = 20  # requests per $batch (G json-batching)
DEVICE_FLOW_SCOPE_NOTE = "delegated"

#: The common options of every Graph module (the doc fragment ems.enable.graph documents them).
GRAPH_ARGUMENT_SPEC = dict(
    tenant_id=dict(type="str", required=True),
    client_id=dict(type="str", required=True),
    auth=dict(type="str", default="certificate", choices=["certificate", "device_code"]),
    certificate_path=dict(type="path"),
    certificate_password=dict(type="str", no_log=True),
    certificate_thumbprint=dict(type="str", no_log=False),
    cloud=dict(type="str", default="global", choices=clouds.CLOUD_NAMES),
    authority_url=dict(type="str"),
    graph_url=dict(type="str"),
    ca_file=dict(type="path"),
    token_cache=dict(type="path", no_log=False),
    timeout=dict(type="int", default=30),
    max_retries=dict(type="int", default=4),
)


def check_requirements():
    if not HAS_MSAL:
        raise GraphError("The Python library msal is not installed on the controller (%s)." % MSAL_IMPORT_ERROR,
                         "pip install 'msal>=1.29,<2' (requirements.txt).", kind="requirements")


MAX_TIMEOUT = 3600  # seconds per request, like the LDAP options
MAX_RETRIES = 10  # retries of a throttled or failed request (MAX_TOTAL_WAIT bounds their waits)


def _check_url(option, value):
    return credentials.check_https_url(option, value, "https://graph.microsoft.us (leave it out to use the "
                                       "cloud's endpoint)", path=False)


def check_ca_file(option, path):
    host_names.check_pem_ca_file(path, option, GraphError)


def validate(params):
    """Every input check, before any request; returns (settings, credential)."""
    tenant = credentials.check_tenant_id(params.get("tenant_id"))
    client_id = credentials.check_client_id(params.get("client_id"))
    cloud = params.get("cloud") or "global"
    if cloud not in clouds.CLOUDS:
        raise credentials.input_error("cloud", "%r is not a known cloud" % cloud, "use one of %s."
                                      % ", ".join(clouds.CLOUD_NAMES))
    for option in ("authority_url", "graph_url"):
        if params.get(option) is not None:
            _check_url(option, params[option])
    if params.get("ca_file") is not None:
        check_ca_file("ca_file", params["ca_file"])
    for option, low, high in (("timeout", 1, MAX_TIMEOUT), ("max_retries", 0, MAX_RETRIES)):
        if params.get(option) is not None and not low <= params[option] <= high:
            raise credentials.input_error(option, "%r is out of range" % params[option],
                                          "give a whole number from %d to %d." % (low, high))
    cache = credentials.check_cache_file(params["token_cache"]) if params.get("token_cache") else None
    auth = params.get("auth") or "certificate"
    credential = None
    if auth == "certificate":
        if not params.get("certificate_path"):
            raise credentials.input_error("certificate_path", "needed with auth=certificate",
                                          "give the app's certificate (PEM or PFX), or use auth=device_code.")
        credential = credentials.load_certificate(params["certificate_path"], params.get("certificate_password"),
                                                  params.get("certificate_thumbprint"))
    authority, graph = clouds.endpoints(cloud, params.get("authority_url"), params.get("graph_url"))
    settings = {"tenant": tenant, "client_id": client_id, "cloud": cloud, "auth": auth, "authority": authority,
                "graph": graph, "custom_endpoints": bool(params.get("authority_url") or params.get("graph_url")),
                "verify": params.get("ca_file") or True, "cache": cache,
                "timeout": params.get("timeout") or 30,
                "max_retries": params["max_retries"] if params.get("max_retries") is not None else 4}
    return settings, credential


if HAS_MSAL:
    class _Session(requests.Session):
        """Every request with the timeout and the CA given (requests lets REQUESTS_CA_BUNDLE win over a
        session's verify; ca_file must win). Also MSAL's http_client."""

        def __init__(self, verify, timeout):
            super().__init__()
            self._ems_verify = verify
            self._ems_timeout = timeout

        def request(self, method, url, *args, **kwargs):  # pylint: disable=arguments-differ
            kwargs.setdefault("timeout", self._ems_timeout)
            if self._ems_verify is not True:
                kwargs["verify"] = self._ems_verify
            return super().request(method, url, *args, **kwargs)


def network_error(err, url):
    """GraphError for a requests exception (DNS, TLS, refused, timeout)."""
    host = urlsplit(url).hostname or url
    text = str(err)
    if isinstance(err, requests.exceptions.SSLError):
        return GraphError("TLS to %s failed: the server certificate is not trusted (%s)." % (host, text[:160]),
                          "give ca_file (the CA of a TLS-inspecting proxy), or exempt %s from TLS inspection." % host,
                          kind="tls")
    if isinstance(err, requests.exceptions.Timeout):
        return GraphError("%s did not answer in time." % host,
                          "check the proxy/firewall for outbound 443 to %s, or raise timeout." % host, kind="network")
    if any(s in text for s in ("NameResolutionError", "Name or service not known", "Temporary failure in name "
                               "resolution", "getaddrinfo failed", "nodename nor servname")):
        return GraphError("Cannot resolve %s (DNS)." % host,
                          "check the controller's DNS resolver and proxy settings (HTTPS_PROXY).", kind="dns")
    return GraphError("Cannot connect to %s: %s" % (host, text[:200]),
                      "check outbound HTTPS (443) from the controller, proxy settings (HTTPS_PROXY) and the "
                      "firewall.", kind="network")


class GraphClient:
    """One tenant, one credential. ``notify(flow)`` shows a device-code flow to the operator."""

    def __init__(self, params, notify=None, sleep=time.sleep):
        check_requirements()
        self.settings, self._credential = validate(params)
        self._notify = notify
        self._sleep = sleep
        self._token = None
        self._cache = None
        self.requests = 0  # HTTP requests to Graph (not counting sign-in)
        self.waited = 0.0
        self.beta_calls = []  # "METHOD /beta/path" of every call to Graph beta (reported: not supported by Microsoft)
        self.device_flow = None  # {verification_uri, user_code, expires_in} once shown; never the device code
        self._session = _Session(self.settings["verify"], self.settings["timeout"])

    # --- sign-in ----------------------------------------------------------------------------
    @property
    def base(self):
        return "%s/%s" % (self.settings["graph"], clouds.API_VERSION)

    @property
    def scopes(self):
        return ["%s/.default" % self.settings["graph"]]

    def _load_cache(self):
        cache = msal.SerializableTokenCache()
        path = self.settings["cache"]
        if path and os.path.exists(path):
            try:
                with open(path, encoding="utf-8") as handle:
                    cache.deserialize(handle.read())
            except (OSError, ValueError):
                raise credentials.input_error("token_cache", "%s cannot be read as an MSAL token cache" % path,
                                              "delete the file and sign in again.") from None
        self._cache = cache
        return cache

    def _save_cache(self):
        path = self.settings["cache"]
        if not path or self._cache is None or not self._cache.has_state_changed:
            return
        write_atomically(path, self._cache.serialize())  # never a planted link, never half-written

    def _app_kwargs(self):
        kwargs = {"authority": "%s/%s" % (self.settings["authority"], self.settings["tenant"]),
                  "token_cache": self._load_cache(), "http_client": self._session}
        if self.settings["custom_endpoints"]:
            kwargs["instance_discovery"] = False  # a stand-in or private endpoint is not in Microsoft's list
        return kwargs

    def _msal(self, call, *args, **kwargs):
        """Call MSAL; network and authority faults become one line."""
        try:
            return call(*args, **kwargs)
        except requests.exceptions.RequestException as err:
            raise network_error(err, self.settings["authority"]) from None
        except ValueError as err:
            text = redact(err)
            if "authority" in text.lower() or "tenant" in text.lower():
                raise GraphError("Sign-in to tenant %s failed (AADSTS90002): tenant %s was not found in the %s cloud "
                                 "(%s)." % (self.settings["tenant"], self.settings["tenant"], self.settings["cloud"],
                                            text[:160]),
                                 "check tenant_id (the Directory (tenant) ID or a verified domain of the tenant) "
                                 "and cloud.", kind="tenant", code=90002) from None
            raise GraphError("Sign-in failed: %s" % text[:300], "check tenant_id, client_id and cloud.",
                             kind="sign_in") from None

    def token(self):
        if self._token:
            return self._token
        s = self.settings
        if s["auth"] == "certificate":
            app = self._msal(msal.ConfidentialClientApplication, s["client_id"],
                             client_credential=self._credential.msal(), **self._app_kwargs())
            result = self._msal(app.acquire_token_for_client, self.scopes)
        else:
            app = self._msal(msal.PublicClientApplication, s["client_id"], **self._app_kwargs())
            result = None
            accounts = self._msal(app.get_accounts)
            if accounts:
                result = self._msal(app.acquire_token_silent, self.scopes, account=accounts[0])
            if not result:
                result = self._device_flow(app)
        if "access_token" not in (result or {}):
            raise sign_in_error(result or {}, s["tenant"], s["client_id"], s["cloud"])
        self._save_cache()
        self._token = result["access_token"]
        return self._token

    def _device_flow(self, app):
        flow = self._msal(app.initiate_device_flow, scopes=self.scopes)
        if "user_code" not in flow:
            raise sign_in_error(flow, self.settings["tenant"], self.settings["client_id"], self.settings["cloud"])
        self.device_flow = {"verification_uri": flow.get("verification_uri"), "user_code": flow["user_code"],
                            "expires_in": flow.get("expires_in"), "message": flow.get("message")}
        if self._notify is not None:
            self._notify(dict(self.device_flow))
        return self._msal(app.acquire_token_by_device_flow, flow)

    # --- requests ---------------------------------------------------------------------------
    def url(self, path, version=None):
        """The URL of a Graph path: v1.0 unless ``version`` is clouds.BETA_VERSION (asked for by name)."""
        if path.startswith("https://"):
            if urlsplit(path).netloc != urlsplit(self.base).netloc:
                raise GraphError("Graph returned a link to another host (%s)." % urlsplit(path).netloc,
                                 "report it; the token is only sent to %s." % urlsplit(self.base).netloc,
                                 kind="graph")
            return path
        if version not in (None, clouds.API_VERSION, clouds.BETA_VERSION):
            raise ValueError("internal: Graph version %r" % version)
        return "%s/%s/%s" % (self.settings["graph"], version or clouds.API_VERSION, path.lstrip("/"))

    def _delay(self, response, attempt):
        value = response.headers.get("Retry-After") if response is not None else None
        try:
            delay = float(value)
        except (TypeError, ValueError):
            delay = float(2 ** attempt)
        return max(0.0, min(delay, MAX_RETRY_AFTER))

    def send(self, method, path, params=None, body=None, eventual=False, version=None):
        """One request with back-off; returns the requests.Response of a 2xx answer."""
        url = self.url(path, version)
        if urlsplit(url).path.startswith("/%s/" % clouds.BETA_VERSION):
            self.beta_calls.append("%s %s" % (method, urlsplit(url).path))
        headers = {"Authorization": "Bearer " + self.token(), "Accept": "application/json"}
        if eventual:
            headers["ConsistencyLevel"] = "eventual"  # G aad-advanced-queries; not resent by nextLink
        if body is not None:
            headers["Content-Type"] = "application/json"
        waited = 0.0
        attempt = 0
        while True:
            try:
                response = self._session.request(method, url, params=params, headers=headers,
                                                 data=None if body is None else json.dumps(body))
            except requests.exceptions.RequestException as err:
                raise network_error(err, url) from None
            self.requests += 1
            if response.status_code < 300:
                return response
            if response.status_code in RETRY_STATUS and attempt < self.settings["max_retries"]:
                delay = self._delay(response, attempt)
                if waited + delay <= MAX_TOTAL_WAIT:
                    self._sleep(delay)
                    waited += delay
                    self.waited += delay
                    attempt += 1
                    continue
            raise self.http_error(method, url, response, attempt)

    def http_error(self, method, path, response, retries=0):
        status = response.status_code
        try:
            error = (response.json() or {}).get("error") or {}
        except ValueError:
            error = {}
        code = error.get("code") or ""
        text = redact(error.get("message") or response.text[:200])
        where = "%s %s" % (method, urlsplit(self.url(path)).path)
        if status == 403:
            permission = permission_for(urlsplit(self.url(path)).path)
            return GraphError("Graph refused %s (403 %s): the application lacks %s." % (
                where, code or "Forbidden", permission or "a permission for this call"),
                "add the %s permission %s to the app registration and grant admin consent (%s)." % (
                    "delegated" if self.settings["auth"] == "device_code" else "application",
                    (permission or "named in the Graph API page").split(" (")[0],
                    "Entra admin center > App registrations > API permissions"),
                kind="permission", status=403, code=code)
        if status == 401:
            return GraphError("Graph rejected the token for %s (401 %s): %s" % (where, code, text),
                              "check cloud (the token must come from the same cloud as Graph) and the app's "
                              "permissions.", kind="token", status=401, code=code)
        if status in RETRY_STATUS:
            return GraphError("Graph kept answering %d to %s after %d retries: %s" % (status, where, retries, text),
                              "wait and run again (Graph is throttling or unavailable).", kind="throttled",
                              status=status, code=code)
        if status == 404:
            return GraphError("Graph: %s not found (404 %s): %s" % (where, code, text), "check the names given.",
                              kind="not_found", status=404, code=code)
        return GraphError("Graph answered %d to %s (%s): %s" % (status, where, code, text),
                          "check the values given; run with -vvv for the request.", kind="graph",
                          status=status, code=code)

    def get(self, path, params=None, eventual=False, version=None):
        return self.send("GET", path, params=params, eventual=eventual, version=version).json()

    def get_all(self, path, params=None, eventual=False, version=None):
        """Every item of a collection, following @odata.nextLink (requested as given)."""
        page = self.get(path, params=params, eventual=eventual, version=version)
        items = list(page.get("value") or [])
        while page.get("@odata.nextLink"):
            page = self.get(page["@odata.nextLink"], eventual=eventual)
            items.extend(page.get("value") or [])
        return items

    def batch(self, requests_):
        """[{id, method, url}] through $batch (20 per call); returns {id: (status, body)}.

        Items answered 429 (or 5xx) inside a 200 are sent again after their Retry-After, bounded as
        send() is. Items are independent (no dependsOn)."""
        pending = list(requests_)
        ids = [r["id"] for r in pending]
        if len(set(ids)) != len(ids):
            raise GraphError("$batch: request ids must be unique.", kind="internal")
        results = {}
        attempt = 0
        waited = 0.0
        while pending:
            retry = []
            delay = 0.0
            for start in range(0, len(pending), BATCH_LIMIT):
                chunk = pending[start:start + BATCH_LIMIT]
                answer = self.send("POST", "$batch", body={"requests": [
                    {"id": r["id"], "method": r.get("method", "GET"), "url": r["url"]} for r in chunk]}).json()
                by_id = {r["id"]: r for r in chunk}
                for item in answer.get("responses") or []:
                    status = int(item.get("status") or 0)
                    if status in RETRY_STATUS and attempt < self.settings["max_retries"]:
                        retry.append(by_id[item["id"]])
                        headers = item.get("headers") or {}
                        try:
                            delay = max(delay, min(float(headers.get("Retry-After")), MAX_RETRY_AFTER))
                        except (TypeError, ValueError):
                            delay = max(delay, float(2 ** attempt))
                    else:
                        results[item["id"]] = (status, item.get("body"))
            if retry and waited + delay > MAX_TOTAL_WAIT:
                for r in retry:
                    results[r["id"]] = (429, None)
                break
            if retry:
                self._sleep(delay)
                waited += delay
                self.waited += delay
                attempt += 1
            pending = retry
        missing = [i for i in ids if i not in results]
        if missing:
            raise GraphError("$batch: Graph answered no response for %s." % ", ".join(missing),
                             "run again.", kind="graph")
        return results

    def batch_error(self, item_id, method, url, status, body):
        """GraphError for one failed item of a batch (the same lines as send())."""

        class _Item:
            status_code = status
            text = json.dumps(body or {})

            def json(self):
                return body or {}
        return self.http_error(method, url, _Item(), 0)
