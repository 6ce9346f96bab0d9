"""Entra ID as Azure's clients use it, and the token checks Azure Resource Manager makes.

The identity platform (login.microsoftonline.com in Azure) is served on the emulator's own
host, tenant first in the path, as MSAL (inside azure-identity) calls it with the emulator's
URL as `authority` and instance discovery off (ARM-FACTS §10):

  GET  /{tenant}/v2.0/.well-known/openid-configuration   OpenID discovery
  GET  /{tenant}/discovery/v2.0/keys                      the keys tokens are signed with (JWKS)
  POST /{tenant}/oauth2/v2.0/token                        client credentials: a client_secret, or a
                                                          client_assertion (workload identity federation)

Access tokens are RS256 JWTs shaped like the v1 tokens Entra issues for Azure Resource
Manager: aud, iss (https://sts.windows.net/{tid}/), iat, nbf, exp, appid, appidacr, idtyp,
oid, sub, tid, ver. ARM checks their signature, audience and lifetime (`authenticate`);
a verified token is remembered, so later requests with it cost one dictionary lookup.

Principals: a built-in service principal (the one the token file's token stands for) and
those added through the control surface, each with client secrets and/or federated
credentials (issuer, subject, audiences). The emulator cannot fetch a real issuer's keys,
so a federated assertion must be signed with keys registered for its issuer
(`trust_issuer`), or, for an issuer without registered keys, by the emulator's stand-in
identity provider (`federated_token`).
"""
from __future__ import annotations

import hashlib
import re
import secrets
import threading
import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs

from provisioner.emulator.arm import PRINCIPAL_ID, TENANT_ID, Reply
from provisioner.emulator.errors import ArmError
from provisioner.emulator.jwt import InvalidToken, SigningKey, public_key, unverified, verify
from provisioner.emulator.store import Store

CLIENT_ID = "b6e7a3d1-2c4f-4e58-9a0b-1f2e3d4c5b6a"  # the built-in principal's application (client) id
TENANT_DOMAIN = "provisionemulator.onmicrosoft.com"
TENANT_NAME = "Provision Emulator"
# The audiences ARM accepts, in the order its InvalidAuthenticationTokenAudience message lists them.
ARM_AUDIENCES = ("https://management.core.windows.net/", "https://management.core.windows.net",
                 "https://management.azure.com/", "https://management.azure.com")
COGNITIVE_SERVICES_AUDIENCE = "https://cognitiveservices.azure.com"  # Azure OpenAI's data plane (ARM-FACTS §11)
# Resources a token can be requested for (identifier URIs, without a trailing slash).
RESOURCES = ("https://management.azure.com", "https://management.core.windows.net", COGNITIVE_SERVICES_AUDIENCE,
             "https://vault.azure.net")
FEDERATION_AUDIENCE = "api://AzureADTokenExchange"  # what workload identity assertions are issued for
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ACCESS_TOKEN_SECONDS = 3599  # expires_in as Entra answers (ARM-FACTS §10)
TOKEN_FILE_DAYS = 365  # the token file's token: a long-lived stand-in for `az login`
CLOCK_SKEW = 300  # seconds of leeway on nbf/exp, as Entra backdates nbf and ARM tolerates skew
RESERVED_SCOPES = {"openid", "profile", "offline_access", "email"}
PATH = re.compile(r"^/(?P<tenant>[^/]+)/(?P<endpoint>v2\.0/\.well-known/openid-configuration|"
                  r"discovery/v2\.0/keys|oauth2/v2\.0/token)/?$")
SETTING_KEYS, SETTING_PRINCIPALS, SETTING_ISSUERS = "identity.keys", "identity.principals", "identity.issuers"
_process_keys: dict[str, SigningKey] = {}  # in-memory emulators of one process share keys (80 ms each to make)
_process_lock = threading.Lock()


def issuer_v1(tenant: str) -> str:
    return f"https://sts.windows.net/{tenant}/"


def built_in_principal() -> dict:
    return {"clientId": CLIENT_ID, "objectId": PRINCIPAL_ID, "tenantId": TENANT_ID,
            "displayName": "provision emulator", "secretHashes": [], "federatedCredentials": []}


class Identity:
    """Keys, principals and tokens of the emulated tenant; state lives in the store's settings."""

    def __init__(self, store: Store):
        self._store = store
        with store.transaction():
            self.signing = _key(store, "signing")
            self.workload = _key(store, "workload")
        self._keys = {self.signing.kid: self.signing.private.public_key()}
        self._verified: dict[str, dict] = {}  # token -> claims, signature and claims already checked
        self._verified_lock = threading.Lock()

    # --- tokens -----------------------------------------------------------------------------

    def access_token(self, principal: dict, audience: str, *, now: float, seconds: float = ACCESS_TOKEN_SECONDS,
                     credential: str = "1") -> str:
        """A signed access token for `principal`; `credential` is appidacr: 1 secret, 2 certificate/assertion."""
        tenant = principal["tenantId"]
        issued = int(now) - CLOCK_SKEW  # Entra backdates iat/nbf by five minutes
        return self.signing.sign({
            "aud": audience, "iss": issuer_v1(tenant), "iat": issued, "nbf": issued, "exp": int(now + seconds),
            "appid": principal["clientId"], "appidacr": credential, "idp": issuer_v1(tenant), "idtyp": "app",
            "oid": principal["objectId"], "sub": principal["objectId"], "tid": tenant,
            "uti": secrets.token_urlsafe(16), "ver": "1.0"})

    def claims(self, token: str) -> dict:
        """The claims of a token this emulator signed (cached), or InvalidToken."""
        cached = self._verified.get(token)
        if cached is not None:
            return cached
        claims = verify(token, self._keys)
        if claims.get("iss") != issuer_v1(str(claims.get("tid"))) or not isinstance(claims.get("exp"), int):
            raise InvalidToken("not issued by this tenant")
        with self._verified_lock:
            if len(self._verified) >= 4096:  # tokens live an hour: forgetting old ones costs one verify each
                self._verified.clear()
            self._verified[token] = claims
        return claims

    def authenticate(self, authorization: str | None, now: float, base_url: str,
                     audiences: tuple[str, ...] = ARM_AUDIENCES) -> dict:
        """ARM's check of the Authorization header: the token's claims, or 401 with ARM's codes and
        messages [ISSUE Azure-Samples/active-directory-dotnetcore-daemon-v2#145 (audience),
        microsoft/foundry-dev-tools#461 (expiry)]."""
        def _unauthorized(code: str, message: str) -> ArmError:
            return unauthorized(code, message, base_url)

        if not authorization:
            raise _unauthorized("AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer":
            raise _unauthorized("InvalidAuthenticationToken", "The access token is invalid.")
        try:
            claims = self.claims(token.strip())
        except InvalidToken:
            raise _unauthorized("InvalidAuthenticationToken", "The access token is invalid.") from None
        if claims.get("aud") not in audiences:
            allowed = ",".join(f"'{a}'" for a in audiences)
            raise _unauthorized("InvalidAuthenticationTokenAudience",
                                f"The access token has been obtained for wrong audience or resource "
                                f"'{claims.get('aud')}'. It should exactly match with one of the allowed audiences "
                                f"{allowed}.")
        if claims["exp"] + CLOCK_SKEW < now:
            raise _unauthorized("ExpiredAuthenticationToken",
                                f"The access token expiry UTC time '{_dotnet_time(claims['exp'])}' is earlier than "
                                f"current UTC time '{_dotnet_time(now)}'.")
        if int(claims.get("nbf", 0)) - CLOCK_SKEW > now:
            # Code and wording UNVERIFIED.
            raise _unauthorized("InvalidAuthenticationToken", "The access token is not valid yet.")
        return claims

    def token_file_token(self, current: str | None, now: float) -> str:
        """The token file's token: `current` while it still verifies and has a month left, else a new one."""
        if current:
            try:
                claims = self.claims(current)
                if claims.get("aud") in ARM_AUDIENCES and claims["exp"] > now + 30 * 86400:
                    return current
            except InvalidToken:
                pass  # a state file from a version without Entra: its token was a random string
        return self.access_token(built_in_principal(), "https://management.azure.com/", now=now,
                                 seconds=TOKEN_FILE_DAYS * 86400, credential="2")

    # --- principals (control surface) ----------------------------------------------------------

    def principals(self) -> dict[str, dict]:
        return {CLIENT_ID: built_in_principal(), **self._store.setting(SETTING_PRINCIPALS, {})}

    def principal(self, client_id: str) -> dict | None:
        wanted = client_id.strip().lower()
        return next((p for key, p in self.principals().items() if key.lower() == wanted), None)

    def add_principal(self, client_id: str | None = None, secret: str | None = None,
                      display_name: str | None = None) -> dict:
        """Add (or add a secret to) a service principal; returns its ids and the secret, shown only here."""
        client_id = client_id or str(uuid.uuid4())
        if client_id.lower() == CLIENT_ID:
            raise ValueError("that client id belongs to the built-in principal")
        secret = secret or secrets.token_urlsafe(30)
        stored = self._store.setting(SETTING_PRINCIPALS, {})
        record = stored.get(client_id) or {
            "clientId": client_id, "objectId": str(uuid.uuid4()), "tenantId": TENANT_ID,
            "displayName": display_name or f"service principal {client_id[:8]}", "secretHashes": [],
            "federatedCredentials": []}
        record["secretHashes"] = record["secretHashes"] + [_hash(secret)]
        self._store.set_setting(SETTING_PRINCIPALS, {**stored, client_id: record})
        return {"client_id": client_id, "client_secret": secret, "object_id": record["objectId"],
                "tenant_id": TENANT_ID}

    def add_federated_credential(self, client_id: str, issuer: str, subject: str,
                                 audiences: list[str] | tuple[str, ...] = (FEDERATION_AUDIENCE,),
                                 name: str | None = None) -> dict:
        stored = self._store.setting(SETTING_PRINCIPALS, {})
        key = next((k for k in stored if k.lower() == client_id.lower()), None)
        if key is None:
            raise ValueError(f"no service principal with client id {client_id!r}: add it first")
        if not (issuer and subject and audiences):
            raise ValueError("a federated credential needs an issuer, a subject and at least one audience")
        credential = {"name": name or f"credential-{len(stored[key]['federatedCredentials']) + 1}",
                      "issuer": issuer, "subject": subject, "audiences": list(audiences)}
        stored[key]["federatedCredentials"].append(credential)
        self._store.set_setting(SETTING_PRINCIPALS, stored)
        return credential

    def trust_issuer(self, issuer: str, jwks: dict) -> None:
        """Check assertions from `issuer` against these public keys (a JWKS document: {"keys": [...]})."""
        keys = jwks.get("keys") if isinstance(jwks, dict) else None
        if not isinstance(keys, list) or not keys:
            raise ValueError("jwks must be a JWKS document: {\"keys\": [{\"kty\": \"RSA\", \"kid\", \"n\", \"e\"}]}")
        for key in keys:
            public_key(key)  # refuse what cannot be used, now rather than at sign-in
        self._store.set_setting(SETTING_ISSUERS, {**self._store.setting(SETTING_ISSUERS, {}), issuer: keys})

    def federated_token(self, issuer: str, subject: str, audience: str = FEDERATION_AUDIENCE, *, now: float,
                        seconds: float = 3600) -> str:
        """An assertion from the stand-in identity provider (as GitHub or Kubernetes would issue one)."""
        return self.workload.sign({"iss": issuer, "sub": subject, "aud": audience, "iat": int(now),
                                   "nbf": int(now), "exp": int(now + seconds), "jti": secrets.token_urlsafe(12)})

    # --- the identity platform's endpoints ------------------------------------------------------

    @staticmethod
    def is_sign_in(path: str) -> bool:
        return PATH.match(path) is not None

    def serve(self, method: str, path: str, raw: bytes, base_url: str, now: float) -> Reply:
        """The answer to an identity platform request (`is_sign_in(path)`)."""
        found = PATH.match(path)
        tenant, endpoint = found.group("tenant"), found.group("endpoint")
        if tenant.lower() not in (TENANT_ID, TENANT_DOMAIN):
            return _entra_error(400, "invalid_tenant" if "token" not in endpoint else "invalid_request", 90002,
                                f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and "
                                "are signing into the correct cloud. Check with your subscription administrator, this "
                                "may happen if there are no active subscriptions for the tenant.", base_url, now)
        expected = "POST" if endpoint.startswith("oauth2") else "GET"
        if method != expected:
            return Reply(405, {"error": "invalid_request", "error_description": f"Use {expected}."})
        if endpoint.endswith("openid-configuration"):
            return Reply(200, openid_configuration(base_url))
        if endpoint.endswith("keys"):
            return Reply(200, {"keys": [{**self.signing.jwk(), "issuer": f"{base_url}/{TENANT_ID}/v2.0"}]})
        return self._token(_form(raw), base_url, now)

    def _token(self, form: dict[str, str], base_url: str, now: float) -> Reply:
        """The client credentials grant (Microsoft identity platform v2.0 token endpoint)."""
        def error(status: int, kind: str, code: int, message: str) -> Reply:
            return _entra_error(status, kind, code, message, base_url, now)

        grant = form.get("grant_type", "")
        if grant != "client_credentials":
            # Code: UnsupportedGrantType in Entra's error code reference (MicrosoftDocs/entra-docs
            # docs/identity-platform/reference-error-codes.md, "Entra codes" below); wording UNVERIFIED.
            return error(400, "unsupported_grant_type", 70003,
                         f"The app requested an unsupported grant type '{grant}'.")
        for required in ("client_id", "scope"):
            if not form.get(required):
                return error(400, "invalid_request", 900144,
                             f"The request body must contain the following parameter: '{required}'.")
        client_id = form["client_id"]
        principal = self.principal(client_id)
        if principal is None:
            return error(400, "unauthorized_client", 700016,
                         f"Application with identifier '{client_id}' was not found in the directory "
                         f"'{TENANT_NAME}'. This can happen if the application has not been installed by the "
                         "administrator of the tenant or consented to by any user in the tenant. You may have sent "
                         "your authentication request to the wrong tenant.")
        audience = _audience(form["scope"])
        if audience is None:
            # Code, kind and wording as quoted in MicrosoftDocs/azure-docs#99862, databricks/databricks-sql-nodejs#226.
            return error(400, "invalid_scope", 1002012,
                         f"The provided value for scope {form['scope']} is not valid. Client credential flows must "
                         "have a scope value with /.default suffixed to the resource identifier (application ID "
                         "URI).")
        if audience.rstrip("/") not in RESOURCES:
            return error(400, "invalid_resource", 500011,
                         f"The resource principal named {audience} was not "
                         f"found in the tenant named {TENANT_NAME}. This can happen if the application has not been "
                         "installed by the administrator of the tenant or consented to by any user in the tenant. "
                         "You might have sent your authentication request to the wrong tenant.")
        if form.get("client_secret"):
            if not any(secrets.compare_digest(_hash(form["client_secret"]), known)
                       for known in principal["secretHashes"]):
                # [ISSUE OfficeDev/microsoft-365-agents-toolkit#8621]: 401 invalid_client, this wording.
                return error(401, "invalid_client", 7000215,
                             "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                             "secret value, not the client secret ID, for a secret added to app "
                             f"'{principal['clientId']}'.")
            credential = "1"
        elif form.get("client_assertion"):
            if form.get("client_assertion_type") != JWT_BEARER:
                # [ISSUE AzureAD/azure-activedirectory-library-for-ruby#53]: invalid_request, this wording.
                return error(400, "invalid_request", 90011, "Unexpected client assertion type.")
            refused = self._check_assertion(principal, form["client_assertion"], base_url, now)
            if refused is not None:
                return refused
            credential = "2"
        else:
            # [ISSUE MicrosoftDocs/azure-docs#25959]
            return error(401, "invalid_client", 7000218,
                         "The request body must contain the following parameter: 'client_assertion' or "
                         "'client_secret'.")
        token = self.access_token(principal, audience, now=now, credential=credential)
        return Reply(200, {"token_type": "Bearer", "expires_in": ACCESS_TOKEN_SECONDS,
                           "ext_expires_in": ACCESS_TOKEN_SECONDS, "access_token": token})

    def _check_assertion(self, principal: dict, assertion: str, base_url: str, now: float) -> Reply | None:
        """Workload identity federation: the assertion's iss/sub/aud must match a federated credential
        of the principal exactly (case-sensitive), its signature its issuer's keys, its lifetime now."""
        def error(status: int, kind: str, code: int, message: str) -> Reply:
            return _entra_error(status, kind, code, message, base_url, now)

        try:
            _, claims = unverified(assertion)
        except InvalidToken:
            # Code and wording: InvalidJwtToken in Entra codes and panva/openid-client#348; status UNVERIFIED.
            return error(400, "invalid_request", 50027, "JWT token is invalid or malformed.")
        issuer, subject, audience = claims.get("iss"), claims.get("sub"), claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if not any(c["issuer"] == issuer and c["subject"] == subject and set(audiences) & set(c["audiences"])
                   for c in principal["federatedCredentials"]):
            # [ISSUE Azure/azure-workload-identity#616]: 400 invalid_request, this wording.
            return error(400, "invalid_request", 70021,
                         "No matching federated identity record found for presented assertion. Assertion Issuer: "
                         f"'{issuer}'. Assertion Subject: '{subject}'. Assertion Audience: '{audience}'. "
                         "https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation")
        registered = self._store.setting(SETTING_ISSUERS, {}).get(issuer)
        keys = {k.get("kid"): public_key(k) for k in registered} if registered else \
            {self.workload.kid: self.workload.private.public_key()}
        try:
            verify(assertion, keys)
        except InvalidToken:
            # Code and wording: Entra codes; 401 as Entra answers invalid_client (adal-python#79: an assertion refused).
            return error(401, "invalid_client", 700027, "Client assertion failed signature validation.")
        expiry, start = claims.get("exp"), claims.get("nbf", claims.get("iat", 0))
        if not isinstance(expiry, (int, float)) or expiry + CLOCK_SKEW < now or start - CLOCK_SKEW > now:
            # Code, kind and wording as quoted in AzureAD/microsoft-authentication-library-for-dotnet#4951 and
            # obikuro/Sato#1 (invalid_client); 401 as for Entra's other invalid_client answers (adal-python#79).
            return error(401, "invalid_client", 700024,
                         f"Client assertion is not within its valid time range. Current time: {_iso_time(now)}, "
                         f"assertion valid from {_iso_time(start if isinstance(start, (int, float)) else 0)}, "
                         f"expiry time of assertion {_iso_time(expiry if isinstance(expiry, (int, float)) else 0)}. "
                         "Review the documentation at https://learn.microsoft.com/entra/identity-platform/"
                         "certificate-credentials .")
        return None


def openid_configuration(base_url: str) -> dict[str, Any]:
    """The tenant's OpenID Provider metadata, shaped as Entra's v2.0 document."""
    tenant_url = f"{base_url}/{TENANT_ID}"
    return {
        "token_endpoint": f"{tenant_url}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": f"{tenant_url}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{tenant_url}/v2.0",
        "request_uri_parameter_supported": False,
        "authorization_endpoint": f"{tenant_url}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{tenant_url}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{tenant_url}/oauth2/v2.0/logout",
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce", "tid", "ver"],
        "tenant_region_scope": None,
        "cloud_instance_name": "microsoftonline.com",
    }


def _key(store: Store, name: str) -> SigningKey:
    """A named signing key: kept in the state file, or (in memory) made once per process."""
    if store.path is None:
        with _process_lock:
            if name not in _process_keys:
                _process_keys[name] = SigningKey.generate()
            return _process_keys[name]
    kept = store.setting(SETTING_KEYS, {})
    if name not in kept:
        kept = {**kept, name: SigningKey.generate().pem()}
        store.set_setting(SETTING_KEYS, kept)
    return SigningKey.from_pem(kept[name])


def _audience(scope: str) -> str | None:
    """The resource a client credentials `scope` names ("https://management.azure.com/.default" ->
    "https://management.azure.com"; a double slash before .default keeps one, az CLI's style), or
    None when it is not one resource's /.default scope."""
    wanted = [s for s in scope.split() if s.lower() not in RESERVED_SCOPES]
    if len(wanted) != 1 or not wanted[0].endswith("/.default"):
        return None
    return wanted[0][:-len("/.default")]


def _form(raw: bytes) -> dict[str, str]:
    try:
        return {k: v[0] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()}
    except UnicodeDecodeError:
        return {}


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def unauthorized(code: str, message: str, base_url: str) -> ArmError:
    """ARM's 401: the error envelope and a challenge naming the tenant's authority (here: the emulator)."""
    challenge = (f'Bearer authorization_uri="{base_url}/{TENANT_ID}", error="invalid_token", '
                 f'error_description="{message}"')
    return ArmError(401, code, message, headers={"WWW-Authenticate": challenge})


def _entra_error(status: int, kind: str, code: int, message: str, base_url: str, now: float) -> Reply:
    """Entra's error body: error, error_description (AADSTS code, trace and correlation ids), error_codes..."""
    trace, correlation, stamp = str(uuid.uuid4()), str(uuid.uuid4()), _entra_time(now)
    return Reply(status, {
        "error": kind,
        "error_description": f"AADSTS{code}: {message}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\n"
                             f"Timestamp: {stamp}",
        "error_codes": [code], "timestamp": stamp, "trace_id": trace, "correlation_id": correlation,
        "error_uri": f"{base_url}/error?code={code}"})


def _entra_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def _iso_time(ts: float) -> str:
    """'2024-10-02T22:05:03.6755165Z', as Entra shows times inside its messages."""
    t = datetime.fromtimestamp(ts, tz=timezone.utc)
    return f"{t.strftime('%Y-%m-%dT%H:%M:%S')}.{t.microsecond * 10:07d}Z"


def _dotnet_time(ts: float) -> str:
    """'6/15/2026 8:22:51 AM', as ARM's messages show times."""
    t = datetime.fromtimestamp(ts, tz=timezone.utc)
    return (f"{t.month}/{t.day}/{t.year} {t.hour % 12 or 12}:{t.minute:02d}:{t.second:02d} "
            f"{'AM' if t.hour < 12 else 'PM'}")


# --- the directory: every principal role assignments can name -----------------------------------------

SETTING_DIRECTORY = "identity.directory"  # users and groups added through the control surface
DIRECTORY_KINDS = {"user": "User", "group": "Group", "service_principal": "ServicePrincipal"}
MANAGED_IDENTITY_HOLDERS = ("microsoft.cognitiveservices/accounts", "microsoft.managedidentity/userassignedidentities")


def add_directory_object(store: Store, kind: str, object_id: str | None = None,
                         display_name: str | None = None) -> dict:
    """Add a user or group to the tenant's directory: {"object_id", "principal_type", "display_name"}."""
    principal_type = DIRECTORY_KINDS.get(kind.lower().replace("serviceprincipal", "service_principal"))
    if principal_type not in ("User", "Group"):
        raise ValueError(f"kind must be 'user' or 'group' (service principals: add_service_principal), not {kind!r}")
    object_id = str(uuid.UUID(object_id)) if object_id else str(uuid.uuid4())
    entry = {"object_id": object_id, "principal_type": principal_type,
             "display_name": display_name or f"{kind.lower()} {object_id[:8]}"}
    store.set_setting(SETTING_DIRECTORY, {**store.setting(SETTING_DIRECTORY, {}), object_id: entry})
    return entry


def directory_object(store: Store, object_id: str) -> dict | None:
    """The principal with this object id, {"object_id", "principal_type", "display_name"}, or None: service
    principals (built-in and added), users and groups, and managed identities, system-assigned (Entra
    makes a service principal for each while its resource has the identity) or user-assigned."""
    wanted = object_id.strip().lower()
    for principal in [built_in_principal(), *store.setting(SETTING_PRINCIPALS, {}).values()]:
        if principal["objectId"].lower() == wanted:
            return {"object_id": principal["objectId"], "principal_type": "ServicePrincipal",
                    "display_name": principal["displayName"]}
    entry = next((e for k, e in store.setting(SETTING_DIRECTORY, {}).items() if k.lower() == wanted), None)
    if entry is not None:
        return dict(entry)
    holder = store.find_principal(wanted, MANAGED_IDENTITY_HOLDERS)
    if holder is not None:
        return {"object_id": wanted, "principal_type": "ServicePrincipal", "display_name": holder["name"]}
    return None


def principal_summary(principal: dict) -> dict:
    """A principal as the control surface lists it: never its secrets."""
    return {"client_id": principal["clientId"], "object_id": principal["objectId"],
            "tenant_id": principal["tenantId"], "display_name": principal["displayName"],
            "secrets": len(principal["secretHashes"]),
            "federated_credentials": [dict(c) for c in principal["federatedCredentials"]]}

