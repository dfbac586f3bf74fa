"""A stateful Microsoft Graph and sign-in stand-in whose every request and response is checked
against Microsoft's published description (the pinned CSDL slice, tests/graph/csdl.py).

- Sign-in (login.microsoftonline.com's part): /<tenant>/v2.0/.well-known/openid-configuration,
  /<tenant>/oauth2/v2.0/token (client_credentials with a certificate assertion whose signature and
  x5t are verified against the registered certificate; the device_code grant), /<tenant>/oauth2/v2.0/devicecode.
  Errors carry the AADSTS codes the real service sends (entra-docs reference-error-codes.md).
- Graph v1.0: organization, domains (+ serviceConfigurationRecords, verificationDnsRecords),
  subscribedSkus, directory/onPremisesSynchronization, $batch; paging with @odata.nextLink;
  permissions per token (403 Authorization_RequestDenied when a role is missing).
- Faults to inject: ``faults`` (path regex -> status, Retry-After, count).
A request that breaks the contract gets 400 and is recorded in ``violations``; a response the
stand-in would send that breaks it becomes 500 and is recorded too: tests assert ``violations == []``.

HTTPS with a CA made at start (``ca_file``). As a program (for the integration test, inside the lab's
controller namespace): ``python standin.py --dir DIR [--scenario lab]`` writes DIR/ready.json
({url, ca_file, ...}) and keeps DIR/log.json ({requests, violations}) current until SIGTERM.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import json
import re
import secrets
import signal
import ssl
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
import ipaddress

sys.path.insert(0, str(Path(__file__).resolve().parent))
from csdl import BETA_SLICE, Contract  # noqa: E402
import login_standin  # noqa: E402

APP_ROLES_ALL = {"Organization.Read.All", "Directory.Read.All", "Domain-InternalFederation.ReadWrite.All",
                 "User.Read.All"}
#: Graph path (first segments) -> the permission the stand-in demands (../shared/TENANT.md section 1).
NEEDS = [(r"^/v1\.0/directory/onPremisesSynchronization", "OnPremDirectorySynchronization.Read.All"),
         (r"^/v1\.0/domains/[^/]+/federationConfiguration", "Domain-InternalFederation.ReadWrite.All"),
         (r"^/v1\.0/(organization|subscribedSkus)", "Organization.Read.All"),
         (r"^/v1\.0/domains", "Directory.Read.All")]

# --- Intune desired state (issue 16): its part of the stand-in lives in intune_standin.py ----------
from intune_standin import DELEGATED_ONLY, IntuneState, NEEDS as INTUNE_NEEDS, ROLES as INTUNE_ROLES  # noqa: E402
NEEDS = INTUNE_NEEDS + NEEDS
APP_ROLES_ALL = APP_ROLES_ALL | INTUNE_ROLES
# --- end of issue 16's block -----------------------------------------------------------------------


#: the stand-in farm's federation service name (login_standin.adfs_state's issuer): in its TLS certificate too, so
#: a client that resolves it to the stand-in (the lab's DNS, for the Kerberos test) validates the certificate
FARM_NAME = "fs.corp.emslab.test"


def make_tls(directory):
    """A CA and a server certificate for 127.0.0.1/localhost and FARM_NAME; returns (ca_file, cert_file, key_file)."""
    directory = Path(directory)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ems.enable Graph stand-in CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.DNSName(FARM_NAME),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_file, cert_file, key_file = directory / "standin-ca.pem", directory / "standin-cert.pem", directory / "standin-key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(ca_file), str(cert_file), str(key_file)


def make_app_certificate(directory, name="app", days=365, password=None, start_days=-1):
    """An app registration's certificate: writes <name>.pem (key + cert) and returns (path, cert)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ems-enable-%s" % name)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now + datetime.timedelta(days=start_days))
            .not_valid_after(now + datetime.timedelta(days=days)).sign(key, hashes.SHA256()))
    encryption = (serialization.BestAvailableEncryption(password.encode()) if password
                  else serialization.NoEncryption())
    path = Path(directory) / ("%s.pem" % name)
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
                     + cert.public_bytes(serialization.Encoding.PEM))
    return str(path), cert, key


def thumbprint(cert):
    return cert.fingerprint(hashes.SHA1()).hex().upper()  # nosec - Entra's certificate thumbprint


def lab_tenant():
    """The tenant of the integration test: an initial domain, corp.emslab.test added but NOT verified."""
    return {
        "id": "8d3c1f6e-2b4a-4c5d-9e8f-0a1b2c3d4e5f",
        "displayName": "EMS lab stand-in tenant",
        "onPremisesSyncEnabled": None,
        "onPremisesLastSyncDateTime": None,
        "mobileDeviceManagementAuthority": "intune",
        "domains": [
            {"id": "emslab.onmicrosoft.com", "authenticationType": "Managed", "isDefault": True, "isInitial": True,
             "isVerified": True, "supportedServices": ["Email", "OfficeCommunicationsOnline", "Intune"]},
            {"id": "corp.emslab.test", "authenticationType": "Managed", "isDefault": False, "isInitial": False,
             "isVerified": False, "supportedServices": []},
        ],
        "skus": [sku("EMS", "efccb6f7-5641-4e0e-bd10-b4976e1bf68e", 25, 3,
                     [("INTUNE_A", "c1ec4a95-1f05-45b3-a911-aa3fa01094f5"),
                      ("AAD_PREMIUM", "41781fb2-bc02-4b7c-bd55-b576c07bb09d")])],
        "sync": {"passwordSyncEnabled": True, "passwordWritebackEnabled": False, "blockSoftMatchEnabled": False},
    }


def sku(part, sku_id, enabled, consumed, plans):
    return {"skuPartNumber": part, "skuId": sku_id, "enabled": enabled, "consumed": consumed, "plans": plans}


class StandIn:
    """The server. ``tenant`` is the state (see lab_tenant); ``apps`` the registered applications."""

    def __init__(self, workdir, tenant=None, page_size=100, port=0):
        self.workdir = Path(workdir)
        self.contract = Contract()
        self.beta_contract = Contract(BETA_SLICE)  # issue 16: the few Graph beta calls, their own slice
        self.tenant = tenant or lab_tenant()
        self.apps = {}  # client_id -> {thumbprint, public_key, roles, consent}
        self.tokens = {}  # access token -> {client_id, roles, delegated}
        self.device_codes = {}
        self.faults = []  # {path: regex, status, retry_after, times, aadsts}
        self.page_size = page_size
        self.log = []
        self.violations = []
        self.clock_skew_rejects = False
        self.federations = {}  # domain -> [internalDomainFederation] (G domain-post-federationconfiguration)
        self.intune = IntuneState(self.tenant)  # issue 16
        self.adfs = login_standin.adfs_state("http://%s/adfs/services/trust" % FARM_NAME)  # the farm
        self.mfa_users = set()  # UPNs (lower case) that Conditional Access sends to MFA
        self.lock = threading.Lock()
        self.ca_file, cert_file, key_file = make_tls(self.workdir)
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        # on 443 the URL has no port: MSAL builds the userrealm URL from the authority's host name alone
        # (msal/authority.py user_realm_discovery), so its username/password flow reaches only a stand-in on 443
        self.url = "https://127.0.0.1" + ("" if port == 443 else ":%d" % self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def register_app(self, client_id, cert=None, roles=None, consent=True, public=False):
        self.apps[client_id] = {"thumbprint": thumbprint(cert) if cert is not None else None,
                                "sha256": cert.fingerprint(hashes.SHA256()).hex().upper() if cert is not None else None,
                                "public_key": cert.public_key() if cert is not None else None,
                                "roles": set(APP_ROLES_ALL if roles is None else roles), "consent": consent,
                                "public": public}

    def graph_params(self, client_id, cert_path, **extra):
        """Module/client parameters that point at this stand-in."""
        params = {"tenant_id": self.tenant["id"], "client_id": client_id, "auth": "certificate",
                  "certificate_path": cert_path, "certificate_password": None, "certificate_thumbprint": None,
                  "cloud": "global", "authority_url": self.url, "graph_url": self.url, "ca_file": self.ca_file,
                  "token_cache": None, "timeout": 10, "max_retries": 4}
        params.update(extra)
        return params

    def contract_for(self, path):
        """The slice a path is validated against: /beta/... -> the beta slice, else v1.0."""
        return self.beta_contract if path.startswith("/beta/") else self.contract

    def requests_to(self, pattern):
        return [entry for entry in self.log if re.search(pattern, entry["path"])]


def serving(workdir, client_id, tenant=None):
    """A pytest fixture's body: a started stand-in with one registered app (``app_cert`` its certificate file);
    stops it afterwards and fails the test if any request or response broke the contract."""
    server = StandIn(workdir, tenant=tenant).start()
    path, cert, _key = make_app_certificate(workdir)
    server.register_app(client_id, cert)
    server.app_cert = path
    yield server
    server.stop()
    assert server.violations == [], server.violations


def _b64url_sha(cert_hex):
    return base64.urlsafe_b64encode(bytes.fromhex(cert_hex)).rstrip(b"=").decode()


def _handler(stand):  # noqa: C901 - one request router
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            return

        # --- plumbing -----------------------------------------------------------------
        def _body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _send(self, status, body=None, headers=None, check=True):
            path = self.path
            if check and (path.startswith("/v1.0") or path.startswith("/beta/")):
                errors = stand.contract_for(path).check_response(self.command, path, status, body)
                if errors:
                    with stand.lock:
                        stand.violations.append({"where": "response", "method": self.command, "path": path,
                                                 "errors": errors})
                    status, body = 500, {"error": {"code": "StandInResponseViolation", "message": "; ".join(errors)}}
            data = b"" if body is None else json.dumps(body).encode()
            with stand.lock:  # logged before the answer leaves: the client may read the log right after it
                stand.log.append({"method": self.command, "path": path, "status": status,
                                  "consistency": self.headers.get("ConsistencyLevel")})
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _aad_error(self, status, error, code, text):
            self._send(status, {"error": error, "error_description": "AADSTS%d: %s" % (code, text),
                                "error_codes": [code], "timestamp": "2026-12-06 00:00:00Z",
                                "trace_id": str(uuid.uuid4()), "correlation_id": str(uuid.uuid4())})

        def _graph_error(self, status, code, message, headers=None):
            self._send(status, {"error": {"code": code, "message": message}}, headers)

        # --- verbs --------------------------------------------------------------------
        def do_GET(self):
            self._route(None)

        def do_POST(self):
            self._route(self._body())

        def do_PATCH(self):
            self._route(self._body())

        def do_DELETE(self):  # issue 16
            self._route(None)

        def _route(self, raw):
            path = urlsplit(self.path).path
            tenant = stand.tenant["id"]
            match = re.match(r"^/([^/]+)/(v2\.0/\.well-known/openid-configuration|oauth2/v2\.0/token|"
                             r"oauth2/v2\.0/devicecode)$", path)
            if match:
                if match.group(1) not in (tenant, "emslab.onmicrosoft.com"):
                    return self._aad_error(400, "invalid_tenant", 90002, "Tenant '%s' not found." % match.group(1))
                form = {k: v[-1] for k, v in parse_qs((raw or b"").decode()).items()}
                if match.group(2).startswith("v2.0"):
                    base = "%s/%s" % (stand.url, match.group(1))
                    return self._send(200, {"issuer": base + "/v2.0", "token_endpoint": base + "/oauth2/v2.0/token",
                                            "authorization_endpoint": base + "/oauth2/v2.0/authorize",
                                            "device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
                                            "tenant_region_scope": "EU"}, check=False)
                if match.group(2).endswith("devicecode"):
                    return self._devicecode(form)
                return self._token(form, "%s%s" % (stand.url, path))
            if path.startswith("/v1.0") or path.startswith("/beta/"):  # beta: issue 16, its own slice
                return self._graph(raw)
            if login_standin.route(self, stand, raw):
                return None
            return self._graph_error(404, "NotFound", "no such endpoint on the stand-in")

        # --- sign-in ------------------------------------------------------------------
        def _issue(self, client_id, roles, delegated):
            token = "standin-" + secrets.token_urlsafe(24)
            stand.tokens[token] = {"client_id": client_id, "roles": set(roles), "delegated": delegated}
            answer = {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}
            if delegated:  # a user signed in: id_token and client_info let MSAL cache an account
                tenant, oid, now = stand.tenant["id"], "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0", int(time.time())
                answer["id_token"] = jwt.encode({"iss": "%s/%s/v2.0" % (stand.url, tenant), "aud": client_id,
                                                 "sub": oid, "oid": oid, "tid": tenant, "iat": now, "nbf": now,
                                                 "exp": now + 3600, "preferred_username": "admin@emslab.onmicrosoft.com"},
                                                "stand-in-only-signing-key-32-bytes!", algorithm="HS256")
                answer["client_info"] = base64.urlsafe_b64encode(json.dumps(
                    {"uid": oid, "utid": tenant}).encode()).rstrip(b"=").decode()
                answer["refresh_token"] = "standin-refresh-" + secrets.token_urlsafe(16)
                answer["scope"] = "%s/.default" % stand.url
            return self._send(200, answer, check=False)

        def _token(self, form, endpoint):
            client_id = form.get("client_id")
            app = stand.apps.get(client_id)
            if app is None:
                return self._aad_error(400, "unauthorized_client", 700016,
                                       "Application with identifier '%s' was not found in the directory." % client_id)
            if not app["consent"]:
                return self._aad_error(400, "invalid_grant", 65001, "The user or administrator has not consented "
                                       "to use the application with ID '%s'." % client_id)
            grant = form.get("grant_type")
            if grant in login_standin.GRANTS:
                return login_standin.saml_grant(self, stand, form)
            if grant == "client_credentials":
                if form.get("scope") != stand.url + "/.default":
                    return self._aad_error(400, "invalid_scope", 1002012, "The provided value for scope is not valid.")
                assertion = form.get("client_assertion") or ""
                try:
                    header = jwt.get_unverified_header(assertion)
                    known = {app["thumbprint"] and _b64url_sha(app["thumbprint"]),
                             app["sha256"] and _b64url_sha(app["sha256"])}
                    if ((header.get("x5t") or "").rstrip("=") not in known
                            and (header.get("x5t#S256") or "").rstrip("=") not in known):
                        raise jwt.InvalidTokenError("x5t does not name a registered certificate")
                    claims = jwt.decode(assertion, app["public_key"], algorithms=["RS256", "PS256"],
                                        audience=endpoint, options={"require": ["exp", "aud", "iss", "sub"]})
                    if claims["iss"] != client_id or claims["sub"] != client_id:
                        raise jwt.InvalidTokenError("iss/sub is not the client id")
                except jwt.InvalidTokenError as err:
                    return self._aad_error(401, "invalid_client", 700027, "Client assertion failed signature "
                                           "validation (%s)." % err)
                if stand.clock_skew_rejects:
                    return self._aad_error(400, "invalid_client", 700024, "Client assertion is not within its "
                                           "valid time range.")
                return self._issue(client_id, app["roles"], False)
            if grant == "urn:ietf:params:oauth:grant-type:device_code":
                entry = stand.device_codes.get(form.get("device_code"))
                if entry is None:
                    return self._aad_error(400, "expired_token", 70019, "Verification code expired.")
                entry["polls"] += 1
                if entry["polls"] < 2:
                    return self._aad_error(400, "authorization_pending", 70016, "Pending end-user authorization.")
                return self._issue(client_id, app["roles"] | {"OnPremDirectorySynchronization.Read.All",
                                                              "Policy.Read.All"}, True)
            return self._aad_error(400, "unsupported_grant_type", 70003, "The grant type is not supported.")

        def _devicecode(self, form):
            device_code = secrets.token_urlsafe(16)
            user_code = "STANDIN%d" % (len(stand.device_codes) + 1)
            stand.device_codes[device_code] = {"client_id": form.get("client_id"), "polls": 0}
            return self._send(200, {"device_code": device_code, "user_code": user_code,
                                    "verification_uri": "https://microsoft.com/devicelogin", "expires_in": 900,
                                    "interval": 1, "message": "To sign in, use a web browser to open the page "
                                    "https://microsoft.com/devicelogin and enter the code %s to authenticate."
                                    % user_code}, check=False)

        # --- Graph --------------------------------------------------------------------
        def _graph(self, raw):
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                return self._graph_error(400, "BadRequest", "body is not JSON")
            errors = stand.contract_for(self.path).check_request(self.command, self.path, dict(self.headers), body)
            if errors:
                with stand.lock:
                    stand.violations.append({"where": "request", "method": self.command, "path": self.path,
                                             "errors": errors})
                return self._graph_error(400, "BadRequest", "; ".join(errors))
            auth = self.headers.get("Authorization") or ""
            grant = stand.tokens.get(auth[len("Bearer "):]) if auth.startswith("Bearer ") else None
            if grant is None:
                return self._graph_error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
            for fault in list(stand.faults):
                if re.search(fault["path"], self.path) and fault.get("times", 1) > 0:
                    fault["times"] = fault.get("times", 1) - 1
                    headers = {"Retry-After": str(fault["retry_after"])} if "retry_after" in fault else None
                    return self._graph_error(fault["status"], fault.get("code", "TooManyRequests"),
                                             fault.get("message", "injected fault"), headers)
            if urlsplit(self.path).path == "/v1.0/$batch":
                return self._batch(body, grant)
            status, answer = self._resource(self.command, self.path, grant, body)
            if status >= 400:
                return self._graph_error(status, answer["code"], answer["message"])
            return self._send(status, answer)

        def _batch(self, body, grant):
            responses = []
            for item in body["requests"]:
                url = "/v1.0" + item["url"]
                fault = next((f for f in stand.faults if re.search(f["path"], url) and f.get("times", 1) > 0
                              and f.get("in_batch")), None)
                if fault:
                    fault["times"] -= 1
                    responses.append({"id": item["id"], "status": fault["status"],
                                      "headers": {"Retry-After": str(fault.get("retry_after", 0))},
                                      "body": {"error": {"code": "TooManyRequests", "message": "injected"}}})
                    continue
                status, answer = self._resource(item["method"], url, grant, item.get("body"))
                if status >= 400:
                    answer = {"error": answer}
                else:
                    errors = stand.contract.check_response(item["method"], url, status, answer)
                    if errors:
                        stand.violations.append({"where": "batch response", "path": url, "errors": errors})
                        status, answer = 500, {"error": {"code": "StandInResponseViolation", "message": "; ".join(errors)}}
                responses.append({"id": item["id"], "status": status, "body": answer,
                                  "headers": {"Content-Type": "application/json"}})
            return self._send(200, {"responses": responses})

        def _resource(self, method, url, grant, body=None):
            parts = urlsplit(url)
            path = parts.path
            if any(re.search(p, path) for p in DELEGATED_ONLY) and not grant["delegated"]:  # issue 16
                return 403, {"code": "Authorization_RequestDenied",
                             "message": "Insufficient privileges to complete the operation."}
            for pattern, permission in NEEDS:
                if re.search(pattern, path):
                    if permission not in grant["roles"]:
                        return 403, {"code": "Authorization_RequestDenied",
                                     "message": "Insufficient privileges to complete the operation."}
                    break
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            t = stand.tenant
            context = stand.url + "/v1.0/$metadata#"
            if path == "/v1.0/organization":
                org = {"id": t["id"], "displayName": t["displayName"], "onPremisesSyncEnabled": t["onPremisesSyncEnabled"],
                       "onPremisesLastSyncDateTime": t["onPremisesLastSyncDateTime"],
                       "mobileDeviceManagementAuthority": t["mobileDeviceManagementAuthority"],
                       "verifiedDomains": [{"name": d["id"], "type": d["authenticationType"], "isDefault": d["isDefault"],
                                            "isInitial": d["isInitial"], "capabilities": ", ".join(d["supportedServices"])}
                                           for d in t["domains"] if d["isVerified"]]}
                return self._page([org], query, context + "organization", path)
            if path == "/v1.0/domains":
                return self._page([dict(d, isAdminManaged=True, isRoot=True) for d in t["domains"]], query,
                                  context + "domains", path)
            match = re.match(r"^/v1\.0/domains/([^/]+)/federationConfiguration(?:/([^/]+))?$", path)
            if match:
                return self._federation(method, match.group(1), match.group(2), query, context, body)
            match = re.match(r"^/v1\.0/domains/([^/]+)(?:/(serviceConfigurationRecords|verificationDnsRecords))?$", path)
            if match and method == "PATCH" and not match.group(2):
                return self._domain_update(match.group(1), grant, body)
            if match:
                domain = next((d for d in t["domains"] if d["id"] == match.group(1)), None)
                if domain is None:
                    return 404, {"code": "Request_ResourceNotFound", "message": "Resource '%s' does not exist."
                                 % match.group(1)}
                if not match.group(2):
                    return 200, dict(domain, isAdminManaged=True, isRoot=True)
                return self._page(dns_records(domain, match.group(2)), query, context + match.group(2), path)
            if path.startswith("/v1.0/users/"):
                return login_standin.user_resource(stand, path, query, grant, context)
            if path == "/v1.0/subscribedSkus":
                items = [{"id": "%s_%s" % (t["id"], s["skuId"]), "skuId": s["skuId"], "skuPartNumber": s["skuPartNumber"],
                          "appliesTo": "User", "capabilityStatus": "Enabled", "consumedUnits": s["consumed"],
                          "prepaidUnits": {"enabled": s["enabled"], "suspended": 0, "warning": 0, "lockedOut": 0},
                          "servicePlans": [{"servicePlanId": pid, "servicePlanName": name, "provisioningStatus": "Success",
                                            "appliesTo": "User"} for name, pid in s["plans"]]} for s in t["skus"]]
                return self._page(items, query, context + "subscribedSkus", path)
            if path == "/v1.0/directory/onPremisesSynchronization":
                if not grant["delegated"]:
                    return 403, {"code": "Authorization_RequestDenied",
                                 "message": "Insufficient privileges to complete the operation."}
                item = {"id": t["id"], "features": dict(t["sync"]),
                        "configuration": {"accidentalDeletionPrevention": {
                            "synchronizationPreventionType": "enabledForCount", "alertThreshold": 500}}}
                return self._page([item], query, context + "directory/onPremisesSynchronization", path)
            served = stand.intune.handle(method, path, query, body,  # issue 16
                                         lambda items, name: self._page(items, query, context + name, path))
            if served is not None:
                return served
            return 404, {"code": "NotFound", "message": "not served by the stand-in"}

        def _federation(self, method, name, fed_id, query, context, body):
            """internalDomainFederation of a domain: GET (list, one), POST (federates the domain), PATCH.
            G domain-list-federationconfiguration ("returns only one object"), domain-post-federationconfiguration
            (201 + the object), internaldomainfederation-update (200 + the object)."""
            domain = next((d for d in stand.tenant["domains"] if d["id"] == name), None)
            if domain is None:
                return 404, {"code": "Request_ResourceNotFound", "message": "Resource '%s' does not exist." % name}
            configs = stand.federations.setdefault(name, [])
            path = "/v1.0/domains/%s/federationConfiguration" % name
            if method == "GET" and fed_id is None:
                return self._page(configs, query, context + "domains('%s')/federationConfiguration" % name, path)
            if method == "POST":
                if configs:
                    return 400, {"code": "Request_BadRequest", "message": "The domain already has a federation "
                                 "configuration."}
                if not domain["isVerified"] or domain["isInitial"]:
                    return 400, {"code": "Request_BadRequest", "message": "Domain '%s' cannot be federated." % name}
                created = dict(body or {}, id=str(uuid.uuid4()))
                created.setdefault("federatedIdpMfaBehavior", "acceptIfMfaDoneByFederatedIdp")
                configs.append(created)
                domain["authenticationType"] = "Federated"
                return 201, created
            config = next((c for c in configs if c["id"] == fed_id), None)
            if config is None:
                return 404, {"code": "Request_ResourceNotFound", "message": "Resource '%s' does not exist." % fed_id}
            if method == "PATCH":
                config.update(body or {})
            return 200, config

        def _domain_update(self, name, grant, body):
            """PATCH /domains/{id}: authenticationType Managed removes the federation (E migrate-from-federation-
            to-cloud-authentication.md: Update-MgDomain -AuthenticationType Managed); Federated is refused
            (federate through federationConfiguration). Needs Domain-InternalFederation.ReadWrite.All
            (G internaldomainfederation-update, "To update the authenticationType property")."""
            if "Domain-InternalFederation.ReadWrite.All" not in grant["roles"]:
                return 403, {"code": "Authorization_RequestDenied",
                             "message": "Insufficient privileges to complete the operation."}
            domain = next((d for d in stand.tenant["domains"] if d["id"] == name), None)
            if domain is None:
                return 404, {"code": "Request_ResourceNotFound", "message": "Resource '%s' does not exist." % name}
            body = body or {}
            if body.get("authenticationType") == "Federated":
                return 400, {"code": "Request_BadRequest", "message": "Use federationConfiguration to federate."}
            if body.get("authenticationType") == "Managed":
                domain["authenticationType"] = "Managed"
                stand.federations.pop(name, None)
            return 204, None

        def _page(self, items, query, context, path):
            start = int(query.get("$skiptoken") or 0)
            size = min(int(query.get("$top") or stand.page_size), stand.page_size)
            page = {"@odata.context": context, "value": items[start:start + size]}
            if start + size < len(items):
                page["@odata.nextLink"] = "%s%s?$skiptoken=%d%s" % (stand.url, path, start + size,
                                                                    "&$top=%s" % query["$top"] if "$top" in query else "")
            return 200, page

    return Handler


def dns_records(domain, kind):
    """The records Graph lists for a domain (G domain-list-verificationdnsrecords / -serviceconfigurationrecords)."""
    name = domain["id"]
    if kind == "verificationDnsRecords":
        return [{"@odata.type": "#microsoft.graph.domainDnsTxtRecord", "id": str(uuid.uuid5(uuid.NAMESPACE_DNS, name)),
                 "isOptional": False, "label": name, "recordType": "Txt", "supportedService": "None", "ttl": 3600,
                 "text": "MS=ms%08d" % (int(hashlib.sha256(name.encode()).hexdigest(), 16) % 10 ** 8)}]
    return [{"@odata.type": "#microsoft.graph.domainDnsMxRecord", "id": str(uuid.uuid5(uuid.NAMESPACE_URL, name + "/mx")),
             "isOptional": False, "label": name, "recordType": "Mx", "supportedService": "Email", "ttl": 3600,
             "mailExchange": name.replace(".", "-") + ".mail.protection.outlook.com", "preference": 0},
            {"@odata.type": "#microsoft.graph.domainDnsCnameRecord", "id": str(uuid.uuid5(uuid.NAMESPACE_URL, name + "/ad")),
             "isOptional": False, "label": "autodiscover." + name, "recordType": "CName", "supportedService": "Email",
             "ttl": 3600, "canonicalName": "autodiscover.outlook.com"}]


def main(argv=None):
    parser = argparse.ArgumentParser(description="Graph stand-in (see the module docstring)")
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--scenario", default="lab", choices=["lab"])
    parser.add_argument("--sso", type=Path, help="JSON: federated_domains, adfs_users, tenant_users (the SSO test)")
    parser.add_argument("--port", type=int, default=0, help="443 for MSAL's username/password flow (own netns only)")
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    stand = StandIn(args.dir, port=args.port)
    if args.sso:
        login_standin.apply_sso_state(stand, json.loads(args.sso.read_text()))
    cert_path, cert, _key = make_app_certificate(args.dir, "assess")
    client_id = "3f2a9c1e-7b6d-4e5f-8a9b-0c1d2e3f4a5b"
    stand.register_app(client_id, cert)
    stand.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    (args.dir / "ready.json").write_text(json.dumps({"url": stand.url, "ca_file": stand.ca_file, "tenant_id":
                                                     stand.tenant["id"], "client_id": client_id,
                                                     "certificate_path": cert_path}))

    def write_log():
        with stand.lock:
            text = json.dumps({"requests": stand.log, "violations": stand.violations}, indent=1)
        (args.dir / "log.json.tmp").write_text(text)
        (args.dir / "log.json.tmp").replace(args.dir / "log.json")

    while not done.wait(0.5):
        write_log()
    stand.stop()
    write_log()
    return 0


if __name__ == "__main__":
    sys.exit(main())
