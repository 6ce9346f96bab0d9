"""The ASGI application: ARM's request pipeline in front of the resource providers.

Every request goes through the same steps, in ARM's order: authentication,
api-version, throttling, injected faults, then the provider's handler, all in
one store transaction. Paths under /_emulator/ are the control surface. The Azure OpenAI
data plane (dataplane.py) is routed as public paths and does its own authentication.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from collections import Counter
from dataclasses import asdict, fields
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from provisioner.emulator import faults, jsonish, lro
from provisioner.emulator.arm import Call, Config, Reply, Router, check_api_version, new_guid
from provisioner.emulator.dataplane import RateLimiter, point_endpoints
from provisioner.emulator.errors import ArmError
from provisioner.emulator.identity import Identity
from provisioner.emulator.providers.subscriptions import check_subscription_id, cloud_metadata
from provisioner.emulator.store import Store, now
from provisioner.emulator.throttle import Buckets

log = logging.getLogger("provisioner.emulator")

COMMON_HEADERS = {"Cache-Control": "no-cache", "Pragma": "no-cache", "Expires": "-1",
                  "X-Content-Type-Options": "nosniff"}
CONTROL_PREFIX = "/_emulator/"
FEDERATED_CREDENTIALS = re.compile(r"^principals/([^/]+)/federatedCredentials$")


def build_router() -> Router:
    from provisioner.emulator import dataplane
    from provisioner.emulator.providers import register_all

    router = Router()
    register_all(router)
    dataplane.register(router)
    return router


class EmulatorApp:
    """State and behaviour of one emulated Azure; callable as an ASGI app."""

    def __init__(self, store: Store, config: Config | None = None):
        self.store = store
        self.router = build_router()
        self.buckets = Buckets()
        self.limiter = RateLimiter()
        self._log_lock = threading.Lock()
        self.request_counts: Counter[str] = Counter()
        self.identity = Identity(store)
        with store.transaction():
            # the token file's token: kept while it is valid, so clients holding it keep working
            store.set_setting("token", self.identity.token_file_token(store.setting("token"), now()))
            if config is not None:
                store.set_setting("config", asdict(config))
            elif store.setting("config") is None:
                store.set_setting("config", asdict(Config()))

    @property
    def token(self) -> str:
        with self.store.transaction():
            return self.store.setting("token")

    def config(self) -> Config:
        known = {f.name for f in fields(Config)}  # a state file from another version may hold other keys
        return Config(**{k: v for k, v in self.store.setting("config").items() if k in known})

    # ASGI entry
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        request = Request(scope, receive)
        raw = await request.body()
        latency = self._latency()
        if latency:
            await asyncio.sleep(latency)
        base_url = f"{scope['scheme']}://{request.headers.get('host', '127.0.0.1')}"
        reply = await asyncio.to_thread(self.handle, request.method, request.url.path, dict(request.query_params),
                                        request.headers.get("authorization"), raw, base_url,
                                        request_headers=dict(request.headers))
        if reply is None:  # injected dropped connection
            await _drop(send)
            return
        await _respond(reply, scope, receive, send)

    def _latency(self) -> float:
        with self.store.transaction():
            return float(self.store.setting("config", {}).get("latency", 0.0))

    def handle(self, method: str, path: str, query: dict[str, str], authorization: str | None, raw: bytes,
               base_url: str, *, request_headers: dict[str, str] | None = None) -> Reply | None:
        """Run one request through the pipeline. None means: drop the connection."""
        if path.startswith("//"):  # a client joining "https://host/" and "/metadata/..." (ARM-FACTS §10)
            path = "/" + path.lstrip("/")
        if path.startswith(CONTROL_PREFIX):
            return self._control(method, path[len(CONTROL_PREFIX):], raw)
        if path.rstrip("/").lower() == "/metadata/endpoints" and method == "GET":  # no token: read before sign-in
            self._count("GET /metadata/endpoints")
            version = next((v for k, v in query.items() if k.lower() == "api-version"), None)
            return Reply(200, cloud_metadata(base_url, version), {**COMMON_HEADERS, "x-ms-request-id": new_guid()})
        if self.identity.is_sign_in(path):  # the identity platform (login.microsoftonline.com's part)
            with self.store.transaction():
                sign_in = self.identity.serve(method, path, raw, base_url, now())
            self._count(f"{method} /{{tenant}}/{path.split('/', 2)[2]}")
            sign_in.headers = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache",
                               "x-ms-request-id": new_guid(), **sign_in.headers}
            return sign_in
        route_name = f"{method} (unrouted)"
        headers: dict[str, str] = {}
        try:
            with self.store.transaction():
                call = Call(method=method, path=path, query=_lower_api_version(query), body=None,
                            base_url=base_url, store=self.store, now=now(), config=self.config(),
                            headers={k.lower(): v for k, v in (request_headers or {}).items()},
                            identity=self.identity, limiter=self.limiter)
                lro.settle(self.store, call.now)
                matched = self.router.match(method, path)
                if matched is not None:
                    route_name = f"{method} {matched[0].template}"
                if matched is None or not matched[0].public:
                    self.identity.authenticate(authorization, call.now, base_url)
                    if not call.api_version:
                        raise ArmError(400, "MissingApiVersionParameter",
                                       "The api-version query parameter (?api-version=) is required for all requests.")
                subscription = _subscription(path)
                if subscription:
                    headers.update(self.buckets.take(call.config.throttle, subscription, method, call.now))
                if matched is None:
                    raise ArmError(404, "InvalidResourceType" if "/providers/" in path else "NotFound",
                                   f"The resource type could not be found for path '{path}'.")
                route, params = matched
                call.params = params
                if "subscription" in params:
                    check_subscription_id(params["subscription"])
                check_api_version(route, call)
                rule = faults.take(call, kinds=("status", "drop"))
                if rule is not None:
                    if rule["kind"] == "drop":
                        self._count(route_name)
                        return None
                    reply = faults.reply_for(rule, call)
                else:
                    call.body = _parse_body(raw)
                    reply = route.handler(call)
                    point_endpoints(reply, base_url)
                    if reply.status < 300 and (after := faults.take(call, kinds=faults.AFTER_COMMIT)):
                        if after["kind"] == "commit_drop":
                            self._count(route_name)
                            return None  # leaving the transaction commits the write
                        reply = faults.reply_for(after, call)
        except ArmError as error:
            reply = Reply(error.status, error.body(), dict(error.headers))
        except Exception:  # a bug in the emulator: answer like ARM, keep the traceback in the log
            log.exception("emulator failure on %s %s", method, path)
            reply = Reply(500, {"error": {"code": "InternalServerError",
                                          "message": "Encountered internal server error."}})
        self._count(route_name)
        reply.headers = {**COMMON_HEADERS, **headers, "x-ms-request-id": new_guid(),
                         "x-ms-correlation-request-id": new_guid(), **reply.headers}
        return reply

    def _count(self, route_name: str) -> None:
        with self._log_lock:
            self.request_counts[route_name] += 1

    # control surface (also reachable as a Python API through Control)
    def _control(self, method: str, action: str, raw: bytes) -> Reply:
        from provisioner.emulator.control import Control

        control = Control(self)
        try:
            body = _parse_body(raw) or {}
            if (method, action) == ("GET", "health"):
                return Reply(200, {"status": "ok"})
            if (method, action) == ("POST", "reset"):
                control.reset()
            elif (method, action) == ("PUT", "quota"):
                control.set_quota(body["subscription"], body["region"], body["usage_name"], int(body["limit"]))
            elif (method, action) == ("PATCH", "config"):
                return Reply(200, control.configure(**body))
            elif (method, action) == ("POST", "faults"):
                return Reply(200, {"id": control.inject_fault(**body)})
            elif (method, action) == ("DELETE", "faults"):
                control.clear_faults()
            elif (method, action) == ("GET", "requests"):
                return Reply(200, control.requests())
            elif (method, action) == ("DELETE", "requests"):
                control.clear_requests()
            elif (method, action) == ("GET", "principals"):
                return Reply(200, {"value": control.principals()})
            elif (method, action) == ("POST", "principals"):
                return Reply(200, control.add_service_principal(**body))
            elif (method, action) == ("PUT", "clientNetwork"):
                return Reply(200, control.set_client_network(**body))
            elif (method, action) == ("POST", "directory"):
                return Reply(200, control.add_principal(**body))
            elif method == "POST" and (found := FEDERATED_CREDENTIALS.match(action)):
                return Reply(200, control.add_federated_credential(found.group(1), **body))
            elif (method, action) == ("POST", "issuers"):
                control.trust_issuer(body["issuer"], body["jwks"])
            elif (method, action) == ("POST", "federatedTokens"):
                return Reply(200, {"token": control.federated_token(**body)})
            elif (method, action) == ("PUT", "subscriptions"):
                control.add_subscription(body["subscription_id"], body.get("display_name"))
            elif (method, action) == ("POST", "tokens"):
                return Reply(200, {"token": control.access_token(**body)})
            else:
                return Reply(404, {"error": {"code": "NotFound", "message": f"No control action {method} {action}"}})
        except (KeyError, TypeError, ValueError) as exc:
            return Reply(400, {"error": {"code": "BadControlRequest", "message": str(exc)}})
        return Reply(204)


def _lower_api_version(query: dict[str, str]) -> dict[str, str]:
    return {("api-version" if k.lower() == "api-version" else k): v for k, v in query.items()}


def _subscription(path: str) -> str | None:
    parts = path.split("/")
    if len(parts) > 2 and parts[1].lower() == "subscriptions":
        return parts[2].lower()
    return None


def _parse_body(raw: bytes) -> Any:
    """The body as ARM's lenient reader takes it (jsonish: comments and unquoted names allowed)."""
    if not raw or not raw.strip():
        return None
    try:
        return jsonish.loads(raw)
    except (jsonish.NotJson, UnicodeDecodeError):
        raise ArmError(400, "InvalidRequestContent",
                       "The request content was invalid and could not be deserialized.") from None


async def _respond(reply: Reply, scope: Scope, receive: Receive, send: Send) -> None:
    if reply.body is None:
        content = b""
        media_type = None
    else:
        content = json.dumps(reply.body).encode()
        media_type = "application/json; charset=utf-8"
    response = Response(content, status_code=reply.status, headers=reply.headers, media_type=media_type)
    await response(scope, receive, send)


async def _drop(send: Send) -> None:
    # Promise a body and close the connection before sending it: the client sees the
    # connection die mid-response (uvicorn closes the transport on an incomplete response).
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"1024")]})
    await send({"type": "http.response.body", "body": b'{"partial', "more_body": True})
