"""Behaviour knobs, seen through the real SDK clients: ARM throttling, injected faults,
latency, state that outlives the server and is shared between servers, concurrency."""
from __future__ import annotations

import threading
import time

import pytest
from azure.core.exceptions import HttpResponseError, IncompleteReadError, ResourceExistsError
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

from provisioner.emulator import Emulator
from provisioner.emulator.arm import PRINCIPAL_ID
from provisioner.emulator.providers.keyvault import secret_value
from provisioner.emulator.server import test_config as instant_config
from tests.conftest import SUBSCRIPTION, sdk_kwargs

GET_GROUP = "GET /subscriptions/{subscription}/resourcegroups/{group}"
GROUP_PATH = "/resourcegroups/rg$"
ACCOUNT = {"kind": "OpenAI", "sku": {"name": "S0"}, "location": "eastus", "properties": {}}


@pytest.fixture
def group(resources):
    resources.resource_groups.create_or_update("rg", {"location": "eastus"})
    return "rg"


def clients(emu: Emulator, **overrides) -> tuple[ResourceManagementClient, CognitiveServicesManagementClient]:
    kwargs = {**sdk_kwargs(emu), **overrides}
    return (ResourceManagementClient(emu.credential, SUBSCRIPTION, **kwargs),
            CognitiveServicesManagementClient(emu.credential, SUBSCRIPTION, **kwargs))


def status_error(call) -> HttpResponseError:
    with pytest.raises(HttpResponseError) as excinfo:
        call()
    return excinfo.value


# throttling (ARM's token buckets)
def test_reads_are_throttled_when_the_bucket_is_empty(emulator, resources, group):
    emulator.control.configure(throttle={"enabled": True, "reads": [5, 1]})
    remaining = []
    for _ in range(5):
        resources.resource_groups.get("rg", raw_response_hook=lambda r: remaining.append(
            r.http_response.headers["x-ms-ratelimit-remaining-subscription-reads"]))
    assert remaining == ["4", "3", "2", "1", "0"]

    error = status_error(lambda: resources.resource_groups.get("rg"))
    assert (error.status_code, error.error.code) == (429, "SubscriptionRequestsThrottled")
    assert error.response.headers["Retry-After"] == "1"
    assert error.error.message == (
        f"Number of 'read' requests for subscription '{SUBSCRIPTION}' actor '{PRINCIPAL_ID}' exceeded. Please try "
        "again after '1' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for "
        "additional information.")
    resources.resource_groups.create_or_update("rg2", {"location": "eastus"})  # writes have their own bucket

    emulator.control.configure(throttle={"enabled": False})
    for _ in range(10):
        resources.resource_groups.get("rg")


# injected faults
def test_injected_429_reaches_a_client_without_retries(emulator, resources, group):
    emulator.control.inject_fault("status", status=429, retry_after=1, method="GET", path=GROUP_PATH)
    error = status_error(lambda: resources.resource_groups.get("rg"))
    assert (error.status_code, error.error.code) == (429, "SubscriptionRequestsThrottled")
    assert error.response.headers["Retry-After"] == "1"
    assert resources.resource_groups.get("rg").name == "rg"  # times=1: the next call is fine


def test_the_sdk_retry_policy_honours_retry_after(emulator, group):
    resources, _ = clients(emulator, retry_total=3, retry_backoff_factor=0.01)
    emulator.control.inject_fault("status", status=429, retry_after=1, method="GET", path=GROUP_PATH)
    emulator.control.clear_requests()
    started = time.monotonic()
    assert resources.resource_groups.get("rg").name == "rg"
    assert time.monotonic() - started >= 1.0  # waited for Retry-After, not the 0.01 s backoff
    assert emulator.control.requests()["counts"] == {GET_GROUP: 2}


@pytest.mark.parametrize("status, code", [(500, "InternalServerError"), (503, "ServiceUnavailable")])
def test_injected_server_errors(emulator, resources, group, status, code):
    emulator.control.inject_fault("status", status=status, method="GET", path=GROUP_PATH)
    error = status_error(lambda: resources.resource_groups.get("rg"))
    assert (error.status_code, error.error.code) == (status, code)


def test_injected_request_conflict_names_the_account(emulator, cognitive, account):
    emulator.control.inject_fault("status", status=409, code="RequestConflict", method="PATCH", path="/accounts/")
    with pytest.raises(ResourceExistsError) as excinfo:
        cognitive.accounts.begin_update("rg", "acct", {"tags": {"a": "b"}})
    assert excinfo.value.error.code == "RequestConflict"
    assert excinfo.value.error.message == (f"Another operation is being performed on the parent resource "
                                           f"'{account.id}'. Please try again later.")


def test_dropped_connection(emulator, resources, group):
    emulator.control.inject_fault("drop", method="GET", path=GROUP_PATH)
    # The headers arrive, then the connection dies mid-body: requests reports an IncompleteRead,
    # which azure-core raises as IncompleteReadError (an HttpResponseError, not ServiceResponseError).
    with pytest.raises(IncompleteReadError):
        resources.resource_groups.get("rg")
    assert resources.resource_groups.get("rg").name == "rg"

    retrying, _ = clients(emulator, retry_total=3, retry_backoff_factor=0.01)
    emulator.control.inject_fault("drop", method="GET", path=GROUP_PATH)
    emulator.control.clear_requests()
    assert retrying.resource_groups.get("rg").name == "rg"  # the SDK's retry policy retries it
    assert emulator.control.requests()["counts"] == {GET_GROUP: 2}


def test_probability_one_fires_until_cleared(emulator, resources, group):
    emulator.control.inject_fault("status", status=503, probability=1.0, method="GET", path=GROUP_PATH)
    for _ in range(4):
        assert status_error(lambda: resources.resource_groups.get("rg")).status_code == 503
    emulator.control.clear_faults()
    assert resources.resource_groups.get("rg").name == "rg"


def test_times_two_fires_exactly_twice(emulator, resources, group):
    emulator.control.inject_fault("status", status=500, times=2, method="GET", path=GROUP_PATH)
    for _ in range(2):
        assert status_error(lambda: resources.resource_groups.get("rg")).status_code == 500
    assert resources.resource_groups.get("rg").name == "rg"
    assert resources.resource_groups.check_existence("rg")  # HEAD: the rule only matched GET


def test_failed_operation_leaves_a_failed_account(emulator, cognitive, group):
    emulator.control.inject_fault("lro_failed", method="PUT", path="/accounts/acct$")
    poller = cognitive.accounts.begin_create("rg", "acct", ACCOUNT)
    with pytest.raises(HttpResponseError) as excinfo:
        poller.result()
    assert excinfo.value.error.code == "InternalServerError"
    assert cognitive.accounts.get("rg", "acct").properties.provisioning_state == "Failed"


@pytest.mark.parametrize("kind", ["commit_drop", "commit_status"])
def test_a_write_whose_answer_is_lost_is_still_committed(emulator, resources, kind):
    emulator.control.inject_fault(kind, method="PUT", path=GROUP_PATH, status=503)
    with pytest.raises(HttpResponseError) as excinfo:  # IncompleteReadError is an HttpResponseError too
        resources.resource_groups.create_or_update("rg", {"location": "eastus", "tags": {"k": "v"}})
    if kind == "commit_status":
        assert excinfo.value.status_code == 503
    assert resources.resource_groups.get("rg").tags == {"k": "v"}  # yet the write happened


def test_a_refused_write_consumes_no_commit_fault(emulator, cognitive, group):
    emulator.control.inject_fault("commit_status", method="PUT", path="/accounts/acct$", status=500)
    with pytest.raises(HttpResponseError) as excinfo:  # refused before anything is committed
        cognitive.accounts.begin_create("rg", "acct", {"sku": {"name": "S0"}, "location": "eastus"})
    assert excinfo.value.status_code == 400
    with pytest.raises(HttpResponseError) as excinfo:  # the rule is still waiting for a committed write
        cognitive.accounts.begin_create("rg", "acct", ACCOUNT)
    assert excinfo.value.status_code == 500
    assert cognitive.accounts.get("rg", "acct").name == "acct"


def test_failed_operation_carries_the_injected_error(emulator, cognitive, group):
    emulator.control.inject_fault("lro_failed", method="PUT", path="/accounts/acct$", code="QuotaExceeded",
                                  message="no room")
    with pytest.raises(HttpResponseError) as excinfo:
        cognitive.accounts.begin_create("rg", "acct", ACCOUNT).result()
    assert (excinfo.value.error.code, excinfo.value.error.message) == ("QuotaExceeded", "no room")


# latency
def test_latency_delays_every_request(emulator, resources, group):
    emulator.control.configure(latency=0.2)
    started = time.monotonic()
    resources.resource_groups.get("rg")
    assert time.monotonic() - started >= 0.2  # a lower bound only: this checks behaviour, not speed


# state
def test_operations_complete_while_the_server_is_down(tmp_path):
    state = tmp_path / "s.sqlite"
    with Emulator(state=state) as first:
        first.control.configure(lro_durations={"accounts.create": 0.5})
        resources, cognitive = clients(first)
        resources.resource_groups.create_or_update("rg", {"location": "eastus"})
        created = cognitive.accounts.begin_create("rg", "acct", ACCOUNT, polling=False).result()
        finishes = time.monotonic() + 0.5  # at the latest: the operation started before the answer came
        assert created.properties.provisioning_state == "Creating"
        keys = cognitive.accounts.list_keys("rg", "acct")
        token, ca = first.token, first.ca_path
        # stopped before the operation ends
        assert cognitive.accounts.get("rg", "acct").properties.provisioning_state == "Creating"
    time.sleep(max(0.0, finishes + 0.05 - time.monotonic()))

    with Emulator(state=state) as second:
        assert (second.token, second.ca_path) == (token, ca)  # same state, same token and CA
        _, cognitive = clients(second)
        assert cognitive.accounts.get("rg", "acct").properties.provisioning_state == "Succeeded"
        again = cognitive.accounts.list_keys("rg", "acct")
        assert (again.key1, again.key2) == (keys.key1, keys.key2)


def test_two_servers_share_one_state(tmp_path):
    state = tmp_path / "s.sqlite"
    with Emulator(state=state, config=instant_config()) as one, Emulator(state=state) as two:
        assert one.token == two.token and one.port != two.port
        resources_one, cognitive_one = clients(one)
        resources_two, cognitive_two = clients(two)
        resources_one.resource_groups.create_or_update("rg", {"location": "eastus"})
        assert resources_two.resource_groups.get("rg").location == "eastus"
        cognitive_two.accounts.begin_create("rg", "acct", ACCOUNT).result()  # config is shared too: instant
        assert [a.name for a in cognitive_one.accounts.list()] == ["acct"]
        one.control.configure(latency=0.0, lro_durations={"accounts.create": 9})
        assert two.control.config().lro_durations["accounts.create"] == 9


# concurrency
def test_concurrent_writes_and_reads(emulator, resources):
    count = 20
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        client, _ = clients(emulator)  # one client per thread, as separate processes would have
        try:
            barrier.wait()
            client.resource_groups.create_or_update(f"rg-{i}", {"location": "eastus", "tags": {"i": str(i)}})
            assert client.resource_groups.get(f"rg-{i}").tags == {"i": str(i)}
        except BaseException as exc:  # collected: an assert in a thread would be lost
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(g.name for g in resources.resource_groups.list()) == sorted(f"rg-{i}" for i in range(count))


# conditional requests: the REST specs of these operations (Microsoft.CognitiveServices 2025-09-01,
# Microsoft.KeyVault secrets) define no If-Match / If-None-Match parameter and the generated SDKs send
# none, so the emulator does not honour them either (README: "Where the emulator deviates").
@pytest.mark.parametrize("header", [{"If-Match": '"00000000-0000-0000-0000-000000000000"'}, {"If-None-Match": "*"}])
def test_conditional_headers_do_not_stop_a_write(emulator, cognitive, keyvault, group, header):
    cognitive.accounts.begin_create("rg", "acct", ACCOUNT).result()
    deployment = {"sku": {"name": "Standard", "capacity": 1},
                  "properties": {"model": {"format": "OpenAI", "name": "gpt-35-turbo", "version": "0125"}}}
    cognitive.deployments.begin_create_or_update("rg", "acct", "d", deployment).result()
    deployment["sku"]["capacity"] = 2
    updated = cognitive.deployments.begin_create_or_update("rg", "acct", "d", deployment, headers=header).result()
    assert updated.sku.capacity == 2
    patched = cognitive.accounts.begin_update("rg", "acct", {"tags": {"t": "1"}}, headers=header).result()
    assert patched.tags == {"t": "1"}
    vault = {"location": "eastus", "properties": {"tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
                                                  "sku": {"family": "A", "name": "standard"}, "accessPolicies": []}}
    keyvault.vaults.begin_create_or_update("rg", "kv-concurrency", vault).result()
    keyvault.secrets.create_or_update("rg", "kv-concurrency", "s", {"properties": {"value": "one"}})
    again = keyvault.secrets.create_or_update("rg", "kv-concurrency", "s", {"properties": {"value": "two"}},
                                              headers=header)
    assert again.name == "s"
    vault_id = keyvault.vaults.get("rg", "kv-concurrency").id
    assert secret_value(emulator.app.store, vault_id, "s") == "two"
