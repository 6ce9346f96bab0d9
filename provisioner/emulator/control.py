"""The control surface for tests and benchmarks, as a Python API.

The same actions are served over HTTP under /_emulator/ (see app.py):
POST reset, PUT quota, PATCH config, POST/DELETE faults, GET/DELETE requests,
GET/POST principals, POST principals/{client_id}/federatedCredentials, POST directory, PUT clientNetwork,
POST issuers,
POST federatedTokens, POST tokens, PUT subscriptions.
"""
from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from provisioner.emulator import faults
from provisioner.emulator.arm import Config
from provisioner.emulator.identity import ARM_AUDIENCES, CLIENT_ID, FEDERATION_AUDIENCE, principal_summary
from provisioner.emulator.store import now

if TYPE_CHECKING:
    from provisioner.emulator.app import EmulatorApp


class Control:
    def __init__(self, app: "EmulatorApp"):
        self._app = app
        self._store = app.store

    def reset(self) -> None:
        """Forget every resource, operation, quota limit and fault; keep config, token, signing keys and
        service principals (clients keep their credentials)."""
        self._store.reset()
        self._app.buckets.reset()
        self.clear_requests()

    def set_quota(self, subscription: str, region: str, usage_name: str, limit: int) -> None:
        with self._store.transaction():
            self._store.set_quota_limit(subscription, region.replace(" ", "").lower(), usage_name, limit)

    def configure(self, *, lro_durations: dict[str, float] | None = None, retry_after: int | None = None,
                  latency: float | None = None, throttle: dict[str, Any] | None = None,
                  catalog_date: str | None = None, retail_prices_page_size: int | None = None) -> dict:
        """Change behaviour; returns the whole configuration. lro_durations are merged key by key
        ("deployments.create": 5, "default": 0); throttle keys too ({"enabled": False})."""
        with self._store.transaction():
            config = self._app.config()
            if lro_durations is not None:
                config.lro_durations = {**config.lro_durations, **lro_durations}
            if retry_after is not None:
                config.retry_after = int(retry_after)
            if latency is not None:
                config.latency = float(latency)
            if throttle is not None:
                config.throttle = {**config.throttle, **throttle}
            if catalog_date is not None:
                config.catalog_date = catalog_date or None  # "" goes back to today
            if retail_prices_page_size is not None:
                config.retail_prices_page_size = max(1, int(retail_prices_page_size))
            self._store.set_setting("config", asdict(config))
            return asdict(config)

    def config(self) -> Config:
        with self._store.transaction():
            return self._app.config()

    def inject_fault(self, kind: str = "status", *, method: str | None = None, path: str | None = None,
                     times: int | None = 1, probability: float | None = None, status: int = 500,
                     code: str | None = None, message: str | None = None, retry_after: int | None = None) -> int:
        """kind: "status" (answer with `status`, e.g. 429 with retry_after, 409 RequestConflict, 500, 503),
        "drop" (close the connection mid-response), "lro_failed" (the next matching operation ends
        Failed, with `code` and `message` if given), or "commit_drop" / "commit_status" (the request is
        carried out and committed, then the connection is dropped / answered with `status`: a write
        whose answer is lost). Matches `method` and the regular expression `path`; fires `times` times, or at
        `probability` for ever."""
        with self._store.transaction():
            return faults.add(self._store, kind=kind, method=method, path=path, times=times,
                              probability=probability, status=status, code=code, message=message,
                              retry_after=retry_after)

    def clear_faults(self) -> None:
        with self._store.transaction():
            self._store.clear_faults()

    def requests(self) -> dict:
        """Requests served since the last clear: total and counts per "METHOD route-template"."""
        counts = dict(self._app.request_counts)
        return {"total": sum(counts.values()), "counts": counts}

    def clear_requests(self) -> None:
        self._app.request_counts.clear()

    def add_subscription(self, subscription_id: str, display_name: str | None = None) -> None:
        """Name a subscription, so GET /subscriptions lists it before anything is created in it (requests
        to any well-formed subscription id work either way)."""
        from provisioner.emulator.providers.subscriptions import SUBSCRIPTIONS_SETTING, check_subscription_id

        check_subscription_id(subscription_id)
        with self._store.transaction():
            known = self._store.setting(SUBSCRIPTIONS_SETTING, {})
            name = display_name or f"Subscription {subscription_id[:8]}"
            self._store.set_setting(SUBSCRIPTIONS_SETTING, {**known, subscription_id.lower(): name})

    # the identity platform (Entra ID)
    def add_service_principal(self, client_id: str | None = None, *, secret: str | None = None,
                              display_name: str | None = None) -> dict:
        """Register a service principal in the emulator's tenant (or add a secret to one) that can sign in
        with a client secret: {"client_id", "client_secret", "object_id", "tenant_id"}. The secret is only
        ever shown here; the emulator keeps its hash. Both ids are made up when not given."""
        with self._store.transaction():
            return self._app.identity.add_principal(client_id, secret, display_name)

    def add_federated_credential(self, client_id: str, *, issuer: str, subject: str,
                                 audiences: list[str] | tuple[str, ...] = (FEDERATION_AUDIENCE,),
                                 name: str | None = None) -> dict:
        """Let a service principal sign in with an assertion from `issuer` about `subject` (workload
        identity federation); iss, sub and aud must match exactly, as in Entra."""
        with self._store.transaction():
            return self._app.identity.add_federated_credential(client_id, issuer, subject, list(audiences), name)

    def trust_issuer(self, issuer: str, jwks: dict) -> None:
        """Check assertions from `issuer` against these public keys (a JWKS document) instead of the
        emulator's stand-in identity provider."""
        with self._store.transaction():
            self._app.identity.trust_issuer(issuer, jwks)

    def federated_token(self, issuer: str, subject: str, audience: str = FEDERATION_AUDIENCE, *,
                        lifetime: float = 3600) -> str:
        """An assertion as an identity provider (GitHub Actions, Kubernetes) issues it, signed by the emulator's
        stand-in for issuers without registered keys: what AZURE_FEDERATED_TOKEN_FILE holds."""
        return self._app.identity.federated_token(issuer, subject, audience, now=now(), seconds=lifetime)

    def add_principal(self, kind: str, object_id: str | None = None, *, display_name: str | None = None) -> dict:
        """Add a user or group (`kind` "user" | "group") to the tenant's directory, so role assignments can
        name it: {"object_id", "principal_type" ("User" | "Group"), "display_name"}. The object id is made
        up when not given. Service principals: add_service_principal; managed identities are principals
        while their resource has them."""
        from provisioner.emulator.identity import add_directory_object

        with self._store.transaction():
            return add_directory_object(self._store, kind, object_id, display_name)

    def set_client_network(self, *, ip: str | None = None, subnet: str | None = None) -> dict:
        """Where data-plane callers are (access.py): the public address they come from (`ip`; 203.0.113.10
        until set) and the subnet they are in (`subnet`, a subnet resource id; "" for none). Returns
        {"ip", "subnet"}. A request can override both with the headers x-emulator-client-ip and
        x-emulator-client-subnet. Forgotten by reset."""
        from provisioner.emulator.access import set_client

        with self._store.transaction():
            return set_client(self._store, ip, subnet)

    def principals(self) -> list[dict]:
        """Every service principal (the built-in one first), without secrets."""
        with self._store.transaction():
            return [principal_summary(p) for p in self._app.identity.principals().values()]

    def access_token(self, audience: str = ARM_AUDIENCES[2], *, client_id: str | None = None,
                     lifetime: float = 3599) -> str:
        """A signed access token for the built-in (or the named) principal, as the token endpoint would issue
        one; a negative lifetime gives an expired token."""
        with self._store.transaction():
            identity = self._app.identity
            principal = identity.principal(client_id or CLIENT_ID)
        if principal is None:
            raise ValueError(f"no service principal with client id {client_id!r}")
        return identity.access_token(principal, audience, now=now(), seconds=lifetime)
