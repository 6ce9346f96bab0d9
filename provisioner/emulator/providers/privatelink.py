"""The account's side of Private Link: accounts/{a}/privateEndpointConnections and privateLinkResources.

A private endpoint to an account (providers/network.py) records a connection on the account, shown at
accounts/{a}/privateEndpointConnections/{name} and in the account's properties.privateEndpointConnections
(Microsoft.CognitiveServices spec, cognitiveservices.json: PrivateEndpointConnection, PrivateLinkResource).
The connection is approved at once ("Auto-Approved"), as Azure approves an automatic connection when the
caller may write the resource (learn.microsoft.com/azure/private-link/private-endpoint-overview, "Private
link resource owner approval"); a manual one waits as "Pending" until the owner approves it with a PUT.
Deleting the endpoint removes the connection; removing the connection (DELETE on the account's side) or
deleting the account leaves the endpoint with a "Disconnected" connection, as Private Link documents
the states ("Disconnected: connection was removed by the private link resource owner").

Group ids: an account offers one, "account". Its requiredZoneNames are the zones the Private Link DNS
table lists (learn.microsoft.com/azure/private-link/private-endpoint-dns, "AI + Machine Learning"):
privatelink.openai.azure.com for kind OpenAI; privatelink.cognitiveservices.azure.com,
privatelink.openai.azure.com and privatelink.services.ai.azure.com for AIServices; the
cognitiveservices zone for the other kinds.
"""
from __future__ import annotations

import uuid

from provisioner.emulator.arm import Call, Reply, Router, list_reply
from provisioner.emulator.errors import ArmError, not_found
from provisioner.emulator.providers import network
from provisioner.emulator.providers.accounts import ACCOUNT, ACCOUNT_TYPE, AFTER_SOFT_DELETE, require_account
from provisioner.emulator.store import Store, key_of

CONNECTION_TYPE = "Microsoft.CognitiveServices/accounts/privateEndpointConnections"
LINK_RESOURCE_TYPE = "Microsoft.CognitiveServices/accounts/privateLinkResources"
GROUP_ID = "account"
CONNECTION = ACCOUNT + "/privateendpointconnections/{connection}"
STATUSES = ("Approved", "Pending", "Rejected", "Disconnected")


def required_zones(kind: str) -> list[str]:
    if kind == "OpenAI":
        return ["privatelink.openai.azure.com"]
    if kind == "AIServices":
        return ["privatelink.cognitiveservices.azure.com", "privatelink.openai.azure.com",
                "privatelink.services.ai.azure.com"]
    return ["privatelink.cognitiveservices.azure.com"]


def register(router: Router) -> None:
    router.add("GET", ACCOUNT + "/privateendpointconnections")(list_connections)
    router.add("GET", CONNECTION)(get_connection)
    router.add("PUT", CONNECTION)(put_connection)
    router.add("DELETE", CONNECTION)(delete_connection)
    router.add("GET", ACCOUNT + "/privatelinkresources")(list_link_resources)


def list_link_resources(call: Call) -> Reply:
    account = require_account(call)
    return list_reply([{"id": f"{account['id']}/privateLinkResources/{GROUP_ID}", "name": GROUP_ID,
                        "type": LINK_RESOURCE_TYPE,
                        "properties": {"groupId": GROUP_ID, "displayName": GROUP_ID, "requiredMembers": ["default"],
                                       "requiredZoneNames": required_zones(account["kind"])}}])


def list_connections(call: Call) -> Reply:
    account = require_account(call)
    return list_reply(call.store.children(account["id"], CONNECTION_TYPE))


def get_connection(call: Call) -> Reply:
    account = require_account(call)
    doc = call.store.get(f"{account['id']}/privateEndpointConnections/{call.params['connection']}")
    if doc is None:
        raise not_found(CONNECTION_TYPE, call.params["connection"], call.params["group"])
    return Reply(200, doc)


def put_connection(call: Call) -> Reply:
    """The owner approves or rejects a connection (only an existing one: endpoints make connections)."""
    account = require_account(call)
    doc = call.store.get(f"{account['id']}/privateEndpointConnections/{call.params['connection']}")
    if doc is None:
        raise not_found(CONNECTION_TYPE, call.params["connection"], call.params["group"])
    state = ((call.json_body().get("properties") or {}).get("privateLinkServiceConnectionState") or {})
    status = next((s for s in STATUSES if s.lower() == str(state.get("status", "")).lower()), None)
    if status is None or status == "Disconnected":
        raise ArmError(400, "InvalidPrivateEndpointConnectionStatus",  # code and wording UNVERIFIED
                       f"The status '{state.get('status')}' is not valid: use Approved, Pending or Rejected.")
    current = doc["properties"]["privateLinkServiceConnectionState"]["status"]
    if current == "Rejected" and status != "Rejected":
        raise ArmError(400, "InvalidPrivateEndpointConnectionStatus",  # a rejected connection stays rejected
                       "A rejected private endpoint connection cannot be approved; create a new private endpoint.")
    new_state = {"status": status, "description": str(state.get("description") or ""),
                 "actionsRequired": str(state.get("actionsRequired") or "None")}
    doc["properties"]["privateLinkServiceConnectionState"] = new_state
    call.store.put(doc["id"], CONNECTION_TYPE, doc)
    _show_on_account(call.store, account["id"])
    pe = call.store.get(doc["properties"]["privateEndpoint"]["id"])
    if pe is not None:
        network.disconnect(call.store, pe, new_state["status"], new_state["description"])
    return Reply(200, doc)


def delete_connection(call: Call) -> Reply:
    account = require_account(call)
    doc = call.store.get(f"{account['id']}/privateEndpointConnections/{call.params['connection']}")
    if doc is None:
        return Reply(204)
    call.store.delete(doc["id"])
    _show_on_account(call.store, account["id"])
    pe = call.store.get(doc["properties"]["privateEndpoint"]["id"])
    if pe is not None:
        network.disconnect(call.store, pe, "Disconnected", "Removed by the private link resource owner.")
    return Reply(200)


def _connect(store: Store, pe: dict, connection: dict) -> dict:
    """network.CONNECT hook: record (or update) the account's connection for this endpoint."""
    account = store.get(connection["properties"]["privateLinkServiceId"])
    groups = connection["properties"]["groupIds"]
    if [g.lower() for g in groups] != [GROUP_ID]:
        raise ArmError(400, "PrivateEndpointBadRequest",  # code and wording UNVERIFIED
                       f"Call to {ACCOUNT_TYPE} failed. Error message: The group id(s) {groups} are not valid; "
                       f"the account offers '{GROUP_ID}'.")
    subdomain = account["properties"].get("customSubDomainName")
    if not subdomain:
        raise ArmError(400, "PrivateEndpointBadRequest",  # code and wording UNVERIFIED
                       f"Call to {ACCOUNT_TYPE} failed. Error message: The account {account['name']} needs a custom "
                       "subdomain name before a private endpoint can connect to it.")
    existing = next((c for c in store.children(account["id"], CONNECTION_TYPE)
                     if key_of(c["properties"]["privateEndpoint"]["id"]) == key_of(pe["id"])), None)
    if existing is not None:
        state = existing["properties"]["privateLinkServiceConnectionState"]
    elif connection["manual"]:
        state = {"status": "Pending", "description": connection["properties"].get("requestMessage", ""),
                 "actionsRequired": "None"}
    else:
        state = {"status": "Approved", "description": "Auto-Approved", "actionsRequired": "None"}
    # the connection's name: the endpoint's name and a GUID (format UNVERIFIED)
    name = existing["name"] if existing else f"{pe['name']}.{uuid.uuid4()}"
    doc = {"id": f"{account['id']}/privateEndpointConnections/{name}", "name": name, "type": CONNECTION_TYPE,
           "location": account["location"],
           "properties": {"privateEndpoint": {"id": pe["id"]}, "groupIds": [GROUP_ID],
                          "privateLinkServiceConnectionState": state, "provisioningState": "Succeeded"}}
    store.put(doc["id"], CONNECTION_TYPE, doc)
    _show_on_account(store, account["id"])
    suffixes = [zone.removeprefix("privatelink.") for zone in required_zones(account["kind"])]
    return {"state": state, "fqdns": [f"{subdomain.lower()}.{suffix}" for suffix in suffixes]}


def _disconnect(store: Store, pe: dict) -> None:
    """network.DISCONNECT hook: the endpoint is going; its connection goes from the account."""
    for key in ("privateLinkServiceConnections", "manualPrivateLinkServiceConnections"):
        for connection in pe["properties"].get(key, []):
            account = store.get(connection["properties"]["privateLinkServiceId"])
            if account is None or account["type"] != ACCOUNT_TYPE:
                continue
            for doc in store.children(account["id"], CONNECTION_TYPE):
                if key_of(doc["properties"]["privateEndpoint"]["id"]) == key_of(pe["id"]):
                    store.delete(doc["id"])
            _show_on_account(store, account["id"])


def _account_deleted(store: Store, account: dict, now: float) -> None:
    """The account is deleted: its endpoints stay, their connections Disconnected."""
    for connection in account["properties"].get("privateEndpointConnections", []):
        pe = store.get(connection["properties"]["privateEndpoint"]["id"])
        if pe is not None:
            network.disconnect(store, pe, "Disconnected", "The private link resource was deleted.")


def _show_on_account(store: Store, account_id: str) -> None:
    account = store.get(account_id)
    if account is None:
        return
    account["properties"]["privateEndpointConnections"] = store.children(account_id, CONNECTION_TYPE)
    store.put(account_id, ACCOUNT_TYPE, account)


network.CONNECT[ACCOUNT_TYPE.lower()] = _connect
network.DISCONNECT.append(_disconnect)
AFTER_SOFT_DELETE.append(_account_deleted)
