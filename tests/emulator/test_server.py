"""The HTTPS server and ARM's request pipeline (TLS, authentication, api-version, routing,
common headers), resource groups, the request log and the control surface over HTTP.

Requests go through the real SDK clients; httpx only where the SDK cannot express the
request (no api-version, no or a foreign token, the unauthenticated /_emulator/ surface).
"""
from __future__ import annotations

import re
import ssl

import httpx
import pytest
from azure.core.exceptions import (ClientAuthenticationError, HttpResponseError, ResourceNotFoundError,
                                   ServiceRequestError)
from azure.core.rest import HttpRequest
from azure.mgmt.resource.resources import ResourceManagementClient

from provisioner.emulator import EmulatorCredential
from tests.conftest import SUBSCRIPTION, sdk_kwargs

GROUP_PATH = f"/subscriptions/{SUBSCRIPTION}/resourcegroups/rg"
GROUP_API = "api-version=2024-11-01"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def raw(emulator, method: str, path: str, *, token: str | None = None, headers: dict | None = None,
        **kwargs) -> httpx.Response:
    """One request over HTTPS, verified against the emulator's CA."""
    headers = {"Authorization": f"Bearer {token}"} if token else headers or {}
    return httpx.request(method, emulator.base_url + path, headers=headers, verify=trusting(emulator), **kwargs)


def trusting(emulator) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=emulator.ca_path)


class Responses:
    """A raw_response_hook that keeps (method, status, headers) of every response.
    (Not a list subclass: azure-core skips a hook that is falsy, like an empty list.)"""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int, dict]] = []

    def __call__(self, pipeline_response) -> None:
        response = pipeline_response.http_response
        self.seen.append((pipeline_response.http_request.method, response.status_code, response.headers))


# TLS
def test_client_without_the_ca_fails_verification(emulator):
    client = ResourceManagementClient(emulator.credential, SUBSCRIPTION, base_url=emulator.base_url, retry_total=0)
    with pytest.raises(ServiceRequestError, match="CERTIFICATE_VERIFY_FAILED"):
        client.resource_groups.check_existence("rg")
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(emulator.base_url + "/_emulator/health")


def test_client_with_the_ca_succeeds(emulator, resources):
    assert resources.resource_groups.check_existence("rg") is False
    assert httpx.get(emulator.base_url + "/_emulator/health", verify=trusting(emulator)).json() == {"status": "ok"}


# authentication, api-version, routing
def test_missing_token_is_401_with_arms_envelope(emulator):
    response = raw(emulator, "GET", f"{GROUP_PATH}?{GROUP_API}")
    assert response.status_code == 401
    assert response.json() == {"error": {"code": "AuthenticationFailed",
                                         "message": "Authentication failed. The 'Authorization' header is missing."}}
    assert response.headers["WWW-Authenticate"].startswith("Bearer authorization_uri=")


def test_invalid_token_is_401_with_arms_envelope(emulator):
    client = ResourceManagementClient(EmulatorCredential("emu-not-the-token"), SUBSCRIPTION, **sdk_kwargs(emulator))
    with pytest.raises(ClientAuthenticationError) as excinfo:
        client.resource_groups.get("rg")
    assert excinfo.value.status_code == 401
    assert (excinfo.value.error.code, excinfo.value.error.message) == (
        "InvalidAuthenticationToken", "The access token is invalid.")
    response = raw(emulator, "GET", f"{GROUP_PATH}?{GROUP_API}", headers={"Authorization": f"Basic {emulator.token}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_missing_api_version_is_400(emulator):
    response = raw(emulator, "GET", GROUP_PATH, token=emulator.token)
    assert response.status_code == 400
    assert response.json() == {"error": {
        "code": "MissingApiVersionParameter",
        "message": "The api-version query parameter (?api-version=) is required for all requests."}}


def test_unknown_route_is_404(resources):
    for path in (f"/subscriptions/{SUBSCRIPTION}/nothing", f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Nope/x"):
        response = resources.send_request(HttpRequest("GET", f"{path}?{GROUP_API}"))
        assert response.status_code == 404
        assert response.json()["error"]["code"] in ("NotFound", "InvalidResourceType")
        assert path in response.json()["error"]["message"]


def test_common_headers(resources):
    hook = Responses()
    resources.resource_groups.create_or_update("rg", {"location": "eastus"}, raw_response_hook=hook)
    resources.resource_groups.get("rg", raw_response_hook=hook)
    resources.resource_groups.begin_delete("rg", raw_response_hook=hook).result()
    seen = hook.seen
    put, get, delete = seen[:3]
    assert [put[0], get[0], delete[0]] == ["PUT", "GET", "DELETE"]
    for _, _, headers in (put, get, delete):
        assert headers["Cache-Control"] == "no-cache"
        assert headers["Pragma"] == "no-cache"
        assert headers["Expires"] == "-1"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert GUID.match(headers["x-ms-request-id"])
        assert GUID.match(headers["x-ms-correlation-request-id"])
    assert len({h["x-ms-request-id"] for _, _, h in seen}) == len(seen)  # one id per request
    assert int(put[2]["x-ms-ratelimit-remaining-subscription-writes"]) > 0
    assert int(get[2]["x-ms-ratelimit-remaining-subscription-reads"]) > 0
    assert int(delete[2]["x-ms-ratelimit-remaining-subscription-deletes"]) > 0
    assert "x-ms-ratelimit-remaining-subscription-writes" not in get[2]


# resource groups
def test_resource_group_lifecycle(resources):
    hook = Responses()
    created = resources.resource_groups.create_or_update("rg", {"location": "East US", "tags": {"a": "1"}},
                                                        raw_response_hook=hook)
    assert created.id == f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg"
    assert (created.name, created.location, created.tags) == ("rg", "eastus", {"a": "1"})
    assert created.properties.provisioning_state == "Succeeded"
    resources.resource_groups.create_or_update("rg", {"location": "eastus", "tags": {"a": "2"}},
                                               raw_response_hook=hook)
    assert [status for _, status, _ in hook.seen] == [201, 200]
    assert resources.resource_groups.get("RG").tags == {"a": "2"}  # ARM names are case-insensitive
    assert resources.resource_groups.check_existence("rg") is True
    resources.resource_groups.create_or_update("other", {"location": "westeurope"})
    assert sorted(g.name for g in resources.resource_groups.list()) == ["other", "rg"]

    resources.resource_groups.begin_delete("rg").result()
    assert resources.resource_groups.check_existence("rg") is False
    with pytest.raises(ResourceNotFoundError) as excinfo:
        resources.resource_groups.get("rg")
    assert (excinfo.value.error.code, excinfo.value.error.message) == (
        "ResourceGroupNotFound", "Resource group 'rg' could not be found.")
    assert [g.name for g in resources.resource_groups.list()] == ["other"]


def test_resource_group_cannot_move(resources):
    resources.resource_groups.create_or_update("rg", {"location": "eastus"})
    with pytest.raises(HttpResponseError) as excinfo:
        resources.resource_groups.create_or_update("rg", {"location": "westeurope"})
    assert (excinfo.value.status_code, excinfo.value.error.code) == (409, "InvalidResourceGroupLocation")


# request log
def test_request_log_counts_per_route_template(emulator, resources):
    resources.resource_groups.create_or_update("rg", {"location": "eastus"})
    resources.resource_groups.get("rg")
    resources.resource_groups.get("rg")
    resources.resource_groups.check_existence("missing")
    log = emulator.control.requests()
    assert log == {"total": 4, "counts": {
        "PUT /subscriptions/{subscription}/resourcegroups/{group}": 1,
        "GET /subscriptions/{subscription}/resourcegroups/{group}": 2,
        "HEAD /subscriptions/{subscription}/resourcegroups/{group}": 1}}
    emulator.control.clear_requests()
    assert emulator.control.requests() == {"total": 0, "counts": {}}


# the control surface over HTTP (no token: it is not part of Azure)
def control(emulator, method: str, action: str, body=None) -> httpx.Response:
    return raw(emulator, method, "/_emulator/" + action, json=body)


def test_control_health_and_unknown_action(emulator):
    assert control(emulator, "GET", "health").json() == {"status": "ok"}
    missing = control(emulator, "GET", "nothing")
    assert missing.status_code == 404
    bad = control(emulator, "POST", "faults", {"kind": "explode"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "BadControlRequest")


def test_control_reset_keeps_config_and_token(emulator, resources):
    resources.resource_groups.create_or_update("rg", {"location": "eastus"})
    emulator.control.configure(lro_durations={"accounts.create": 7})
    token = emulator.token
    assert control(emulator, "POST", "reset").status_code == 204
    assert list(resources.resource_groups.list()) == []  # and the API still answers
    assert emulator.token == token
    assert emulator.control.config().lro_durations["accounts.create"] == 7
    assert emulator.control.requests()["total"] == 1  # the log was cleared by the reset


def test_control_config(emulator):
    response = control(emulator, "PATCH", "config", {"lro_durations": {"accounts.create": 0.25}, "latency": 0,
                                                     "throttle": {"reads": [9, 3]}})
    assert response.status_code == 200
    config = response.json()
    assert config["lro_durations"]["accounts.create"] == 0.25
    assert config["lro_durations"]["default"] == 0.0  # merged key by key
    assert config["throttle"]["reads"] == [9, 3] and config["throttle"]["writes"] == [200, 10]
    assert emulator.control.config().lro_durations["accounts.create"] == 0.25


def test_control_quota(emulator):
    response = control(emulator, "PUT", "quota", {"subscription": SUBSCRIPTION, "region": "East US",
                                                  "usage_name": "OpenAI.GlobalStandard.gpt-4o", "limit": 30})
    assert response.status_code == 204
    store = emulator.app.store
    with store.transaction():
        assert store.quota_limit(SUBSCRIPTION, "eastus", "OpenAI.GlobalStandard.gpt-4o") == 30


def test_control_faults_and_requests(emulator, resources):
    resources.resource_groups.create_or_update("rg", {"location": "eastus"})
    response = control(emulator, "POST", "faults", {"kind": "status", "status": 503, "method": "GET",
                                                    "path": "/resourcegroups/rg$", "times": 5})
    assert response.status_code == 200 and isinstance(response.json()["id"], int)
    with pytest.raises(HttpResponseError) as excinfo:
        resources.resource_groups.get("rg")
    assert excinfo.value.status_code == 503
    assert control(emulator, "DELETE", "faults").status_code == 204
    assert resources.resource_groups.get("rg").name == "rg"

    counts = control(emulator, "GET", "requests").json()
    assert counts["counts"]["GET /subscriptions/{subscription}/resourcegroups/{group}"] == 2
    assert counts["total"] == 3
    assert control(emulator, "DELETE", "requests").status_code == 204
    assert control(emulator, "GET", "requests").json() == {"total": 0, "counts": {}}
