"""Strict where Azure is strict, lenient where Azure is lenient.

The negative suite is generated from the same models the emulator checks bodies against
(provisioner/emulator/data/schemas.json, built from the SDKs' generated models): for every
settable property of every resource type's PUT body, down to nested objects, a value of the wrong
JSON type or outside its enum must be refused with 400 naming the property. The lenient side: what
Azure's JSON binding converts (integers and booleans sent as strings, enum values in any case,
comments and unquoted names in the body) is accepted; unknown and read-only members are ignored;
every property a body sets is stored and returned; PUT replaces, PATCH merges.
"""
from __future__ import annotations

import json
import ssl
from typing import Any, Iterator

import httpx
import pytest

from provisioner.emulator.schemas import model_of, properties_of
from tests.conftest import SUBSCRIPTION

GROUP = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg"
ACCOUNT = GROUP + "/providers/Microsoft.CognitiveServices/accounts/acct"
VAULT = GROUP + "/providers/Microsoft.KeyVault/vaults/kv-strict"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
MODEL = {"format": "OpenAI", "name": "gpt-35-turbo", "version": "0125"}
CS_API, KV_API, RG_API = "2025-09-01", "2024-11-01", "2024-11-01"
ACCOUNT_BODY = {"kind": "OpenAI", "sku": {"name": "S0"}, "location": "eastus", "properties": {}}
VAULT_BODY = {"location": "eastus", "properties": {"tenantId": TENANT, "sku": {"family": "A", "name": "standard"},
                                                   "accessPolicies": []}}
NET_API = "2026-03-01"
VNET = GROUP + "/providers/Microsoft.Network/virtualNetworks/vnet"
VNET_BODY = {"location": "eastus", "properties": {
    "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
    "subnets": [{"name": "s", "properties": {"addressPrefix": "10.0.1.0/24"}}]}}
PE = GROUP + "/providers/Microsoft.Network/privateEndpoints/pe"
PE_BODY = {"location": "eastus", "properties": {
    "subnet": {"id": VNET + "/subnets/s"},
    "privateLinkServiceConnections": [{"name": "c", "properties": {"privateLinkServiceId": ACCOUNT,
                                                                   "groupIds": ["account"]}}]}}
ZONE = GROUP + "/providers/Microsoft.Network/privateDnsZones/privatelink.openai.azure.com"
WORKSPACE = GROUP + "/providers/Microsoft.OperationalInsights/workspaces/logs"
PRINCIPAL_ID = "3f0c4b5e-6d2a-4e8f-9a1b-7c6d5e4f3a2b"  # the emulator's built-in service principal
OPENAI_USER = (f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/"
               "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd")
WRONG = {"bool": "yes", "int": "ten", "float": "abc", "str": {"an": "object"}}


class Arm:
    """Raw requests to the emulator with a real token (the SDK's models would refuse what we send)."""

    def __init__(self, emulator):
        self.client = httpx.Client(verify=ssl.create_default_context(cafile=emulator.ca_path), timeout=30,
                                   headers={"Authorization": f"Bearer {emulator.token}"})
        self.base = emulator.base_url

    def send(self, method: str, path: str, body: Any = None, api: str = CS_API, raw: str | None = None) -> httpx.Response:
        content = raw if raw is not None else (json.dumps(body) if body is not None else None)
        return self.client.request(method, self.base + path, params={"api-version": api}, content=content,
                                   headers={"Content-Type": "application/json"})

    def ok(self, method: str, path: str, body: Any = None, api: str = CS_API) -> dict:
        response = self.send(method, path, body, api)
        assert response.status_code < 300, response.text
        return response.json() if response.content else {}


@pytest.fixture
def arm(emulator):
    client = Arm(emulator)
    client.ok("PUT", GROUP, {"location": "eastus"}, RG_API)
    yield client
    client.client.close()


# resource type -> (path, api-version, a valid body, what must exist first)
TARGETS = {
    "Microsoft.Resources/resourceGroups": (GROUP + "2", RG_API, {"location": "eastus"}, ()),
    "Microsoft.CognitiveServices/accounts": (ACCOUNT, CS_API, ACCOUNT_BODY, ()),
    "Microsoft.CognitiveServices/accounts/deployments": (
        ACCOUNT + "/deployments/d", CS_API, {"sku": {"name": "Standard", "capacity": 1}, "properties": {"model": MODEL}},
        ("account",)),
    "Microsoft.CognitiveServices/accounts/raiPolicies": (
        ACCOUNT + "/raiPolicies/p", CS_API, {"properties": {"basePolicyName": "Microsoft.DefaultV2"}}, ("account",)),
    "Microsoft.CognitiveServices/accounts/raiBlocklists": (
        ACCOUNT + "/raiBlocklists/b", CS_API, {"properties": {"description": "d"}}, ("account",)),
    "Microsoft.CognitiveServices/accounts/raiBlocklists/raiBlocklistItems": (
        ACCOUNT + "/raiBlocklists/b/raiBlocklistItems/i", CS_API, {"properties": {"pattern": "x", "isRegex": False}},
        ("account", "blocklist")),
    "Microsoft.KeyVault/vaults": (VAULT, KV_API, VAULT_BODY, ()),
    "Microsoft.KeyVault/vaults/secrets": (VAULT + "/secrets/s", KV_API, {"properties": {"value": "v"}}, ("vault",)),
    "Microsoft.Network/virtualNetworks": (VNET, NET_API, VNET_BODY, ()),
    "Microsoft.Network/virtualNetworks/subnets": (VNET + "/subnets/s2", NET_API,
                                                  {"properties": {"addressPrefix": "10.0.2.0/24"}}, ("vnet",)),
    "Microsoft.Network/privateEndpoints": (PE, NET_API, PE_BODY, ("account", "vnet")),
    "Microsoft.Network/privateEndpoints/privateDnsZoneGroups": (
        PE + "/privateDnsZoneGroups/default", NET_API,
        {"properties": {"privateDnsZoneConfigs": [{"name": "z", "properties": {"privateDnsZoneId": ZONE}}]}},
        ("account", "vnet", "endpoint")),
    "Microsoft.ManagedIdentity/userAssignedIdentities": (
        GROUP + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai", "2024-11-30", {"location": "eastus"},
        ()),
    "Microsoft.Authorization/roleAssignments": (
        GROUP + "/providers/Microsoft.Authorization/roleAssignments/0a1b2c3d-0000-4000-8000-000000000001",
        "2022-04-01", {"properties": {"principalId": PRINCIPAL_ID, "roleDefinitionId": OPENAI_USER}}, ()),
    "Microsoft.Insights/diagnosticSettings": (
        ACCOUNT + "/providers/Microsoft.Insights/diagnosticSettings/d", "2021-05-01-preview",
        {"properties": {"workspaceId": WORKSPACE, "logs": [{"category": "Audit", "enabled": True}]}},
        ("account", "workspace")),
}


def prepare(arm: Arm, needs: tuple[str, ...]) -> None:
    if "account" in needs:
        arm.ok("PUT", ACCOUNT, ACCOUNT_BODY)
    if "blocklist" in needs:
        arm.ok("PUT", ACCOUNT + "/raiBlocklists/b", {"properties": {}})
    if "vault" in needs:
        arm.ok("PUT", VAULT, VAULT_BODY, KV_API)
    if "account" in needs and "vnet" in needs:  # a private endpoint needs the account's subdomain
        arm.ok("PATCH", ACCOUNT, {"properties": {"customSubDomainName": "acct-strict"}})
    if "vnet" in needs:
        arm.ok("PUT", VNET, VNET_BODY, NET_API)
    if "endpoint" in needs:
        arm.ok("PUT", PE, PE_BODY, NET_API)
        arm.ok("PUT", ZONE, {"location": "global"}, NET_API)
    if "workspace" in needs:
        arm.ok("PUT", WORKSPACE, {"location": "eastus"}, "2022-10-01")


def invalid_values(model: str, prefix: list, depth: int = 0) -> Iterator[tuple[list, Any]]:
    """(path, wrong value) for every settable property of `model` and of the models inside it."""
    for name, spec in properties_of(model).items():
        if spec.get("ro"):
            continue
        path, kind = prefix + [name], spec["t"]
        if "enum" in spec:
            yield path, "NotAValidValue"
        elif kind in WRONG:
            yield path, WRONG[kind]
        elif kind.startswith("["):
            yield path, {"not": "an array"}
            inner = kind[1:-1]
            if "." in inner and depth < 3:
                yield from invalid_values(inner, path + [0], depth + 1)
        elif kind.startswith("{"):
            yield path, ["not", "a", "map"]
        elif "." in kind:  # a model
            yield path, "not an object"
            if depth < 3:
                yield from invalid_values(kind, path, depth + 1)


def placed(body: dict, path: list, value: Any) -> dict:
    body = json.loads(json.dumps(body))
    holder: Any = body
    for step, following in zip(path, path[1:]):
        if isinstance(step, int):
            while len(holder) <= step:
                holder.append({})
            holder = holder[step]
        else:
            if not isinstance(holder.get(step), (dict, list)):
                holder[step] = [] if isinstance(following, int) else {}
            holder = holder[step]
    if isinstance(path[-1], int):
        holder.append(value)
    else:
        holder[path[-1]] = value
    return body


def dotted(path: list) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


@pytest.mark.parametrize("resource_type", sorted(TARGETS))
def test_every_property_of_the_wrong_type_is_refused_naming_it(arm, resource_type):
    path, api, body, needs = TARGETS[resource_type]
    prepare(arm, needs)
    cases = list(invalid_values(model_of(resource_type), []))
    assert len(cases) >= 3
    accepted = []
    for property_path, value in cases:
        response = arm.send("PUT", path, placed(body, property_path, value), api)
        message = response.json().get("error", {}).get("message", "") if response.content else ""
        names = {dotted(property_path), dotted(property_path[:2]), str(property_path[-1])}
        if response.status_code != 400 or not any(name in message for name in names):
            accepted.append((dotted(property_path), value, response.status_code, message[:160]))
    assert accepted == [], f"{len(accepted)} of {len(cases)} invalid bodies not refused as such: {accepted[:10]}"
    assert arm.send("PUT", path, body, api).status_code in (200, 201)  # and the valid body still works


# the cases named in the project's issue
@pytest.mark.parametrize("change, code, named", [
    ({"properties": {"publicNetworkAccess": "Maybe"}}, "InvalidRequestContent", "properties.publicNetworkAccess"),
    ({"properties": {"disableLocalAuth": "yes"}}, "InvalidRequestContent", "properties.disableLocalAuth"),
    ({"identity": {"type": "Bogus"}}, "InvalidRequestContent", "identity.type"),
    ({"kind": "NotAKind"}, "InvalidApiSetId", "NotAKind"),
    ({"sku": {"name": "Z9"}}, "InvalidSkuId", "Z9"),
    ({"location": "moon"}, "LocationNotAvailableForResourceType", "moon"),
    ({"tags": {"team": 7}}, "InvalidRequestContent", "tags.team"),
    ({"tags": {"team": {"nested": "x"}}}, "InvalidRequestContent", "tags.team"),
])
def test_invalid_accounts_are_refused(arm, change, code, named):
    response = arm.send("PUT", ACCOUNT, {**ACCOUNT_BODY, **change})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert named in response.json()["error"]["message"]
    assert arm.send("GET", ACCOUNT).status_code == 404  # nothing was created


def test_resource_group_location_must_be_a_region(arm):
    response = arm.send("PUT", GROUP + "moon", {"location": "moon"}, RG_API)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "LocationNotAvailableForResourceGroup")


def test_json_binding_conversions_are_accepted(arm):
    """Strings where the model says integer or boolean, enum values in any case (stored as the API spells
    them), unknown and read-only members (ignored)."""
    account = arm.ok("PUT", ACCOUNT, {**ACCOUNT_BODY, "properties": {
        "disableLocalAuth": "false", "publicNetworkAccess": "disabled", "noSuchProperty": 1,
        "endpoint": "https://ignored.example/", "provisioningState": "Failed"}, "id": "/ignored"})
    assert account["id"] == ACCOUNT
    properties = account["properties"]
    assert properties["disableLocalAuth"] is False and properties["publicNetworkAccess"] == "Disabled"
    assert "noSuchProperty" not in properties and properties["endpoint"] != "https://ignored.example/"
    deployment = arm.ok("PUT", ACCOUNT + "/deployments/d", {"sku": {"name": "Standard", "capacity": "10"},
                                                            "properties": {"model": MODEL}})
    assert deployment["sku"]["capacity"] == 10


def test_arms_lenient_json_reader(arm):
    body = """{
      // comments and unquoted names, as ARM's reader takes them
      kind: 'OpenAI', sku: {name: "S0"}, /* a block comment */ location: "eastus",
      properties: {}
    }"""
    response = arm.send("PUT", ACCOUNT, raw=body)
    assert response.status_code == 201, response.text
    broken = arm.send("PUT", ACCOUNT + "2", raw="{kind: ")
    assert (broken.status_code, broken.json()["error"]["code"]) == (400, "InvalidRequestContent")


def test_a_deployment_capacity_is_optional(arm):
    arm.ok("PUT", ACCOUNT, ACCOUNT_BODY)
    deployment = arm.ok("PUT", ACCOUNT + "/deployments/d", {"sku": {"name": "Standard"}, "properties": {"model": MODEL}})
    assert isinstance(deployment["sku"]["capacity"], int) and deployment["sku"]["capacity"] >= 1


def test_every_account_setting_is_stored_and_returned(arm):
    settings = {
        "encryption": {"keySource": "Microsoft.KeyVault",
                       "keyVaultProperties": {"keyName": "k", "keyVersion": "1", "keyVaultUri": "https://kv.vault.azure.net/"}},
        "userOwnedStorage": [{"resourceId": f"{GROUP}/providers/Microsoft.Storage/storageAccounts/st"}],
        "dynamicThrottlingEnabled": True, "allowedFqdnList": ["contoso.com"], "storedCompletionsDisabled": True,
        "raiMonitorConfig": {"adxStorageResourceId": "/x", "identityClientId": "c"},
        "restrictOutboundNetworkAccess": True, "networkAcls": {"defaultAction": "Deny", "ipRules": [{"value": "1.2.3.4"}]}}
    created = arm.ok("PUT", ACCOUNT, {**ACCOUNT_BODY, "identity": {"type": "SystemAssigned"}, "properties": settings})
    stored = arm.ok("GET", ACCOUNT)
    for name, value in settings.items():
        assert created["properties"][name] == value and stored["properties"][name] == value, name
    assert stored["identity"]["type"] == "SystemAssigned" and stored["identity"]["principalId"]
    principal = stored["identity"]["principalId"]

    patched = arm.ok("PATCH", ACCOUNT, {"properties": {"dynamicThrottlingEnabled": False}})
    assert patched["properties"]["dynamicThrottlingEnabled"] is False
    assert patched["properties"]["allowedFqdnList"] == ["contoso.com"]  # PATCH merges
    assert patched["identity"]["principalId"] == principal  # and keeps the identity

    replaced = arm.ok("PUT", ACCOUNT, {**ACCOUNT_BODY, "properties": {"allowedFqdnList": ["fabrikam.com"]}})
    assert replaced["properties"]["allowedFqdnList"] == ["fabrikam.com"]
    for gone in ("encryption", "userOwnedStorage", "dynamicThrottlingEnabled", "networkAcls"):
        assert gone not in replaced["properties"], gone  # PUT replaces
    assert "identity" not in replaced
    assert replaced["properties"]["publicNetworkAccess"] == "Enabled"  # back to the default


def test_every_deployment_setting_is_stored_and_returned(arm):
    arm.ok("PUT", ACCOUNT, ACCOUNT_BODY)
    body = {"sku": {"name": "Standard", "capacity": 2}, "properties": {
        "model": {**MODEL, "sourceAccount": f"{GROUP}/providers/Microsoft.CognitiveServices/accounts/other"},
        "capacitySettings": {"designatedCapacity": 2, "priority": 1}, "scaleSettings": {"scaleType": "Standard"},
        "parentDeploymentName": "parent", "versionUpgradeOption": "noautoupgrade"}}
    created = arm.ok("PUT", ACCOUNT + "/deployments/d", body)
    stored = arm.ok("GET", ACCOUNT + "/deployments/d")
    for doc in (created, stored):
        properties = doc["properties"]
        assert properties["model"]["sourceAccount"] == body["properties"]["model"]["sourceAccount"]
        assert properties["capacitySettings"] == {"designatedCapacity": 2, "priority": 1}
        assert properties["scaleSettings"] == {"scaleType": "Standard"}
        assert properties["parentDeploymentName"] == "parent"
        assert properties["versionUpgradeOption"] == "NoAutoUpgrade"
    negative = arm.send("PUT", ACCOUNT + "/deployments/d", placed(body, ["properties", "capacitySettings",
                                                                       "priority"], -1))
    assert negative.status_code == 400 and "capacitySettings.priority" in negative.json()["error"]["message"]


def test_api_versions_the_recordings_use_keep_working(arm):
    arm.ok("PUT", ACCOUNT, ACCOUNT_BODY)
    for api in ("2021-10-01", "2023-05-01", "2026-01-15-preview", "2026-05-15-preview", "2025-09-01"):
        assert arm.send("GET", ACCOUNT, api=api).status_code == 200, api
    refused = arm.send("GET", ACCOUNT, api="1999-01-01")
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "NoRegisteredProviderFound")


@pytest.mark.parametrize("target, body, named", [
    (ACCOUNT, {**ACCOUNT_BODY, "sku": {"tier": "Standard"}}, "Required property 'name' not found in JSON. Path 'sku'"),
    (ACCOUNT + "/deployments/d", {"sku": {"capacity": 1}, "properties": {"model": MODEL}},
     "Required property 'name' not found in JSON. Path 'sku'"),
    (VAULT, {**VAULT_BODY, "properties": {**VAULT_BODY["properties"], "sku": {"name": "standard"}}},
     "The 'properties.sku' property is required"),  # Key Vault's own check answers first
])
def test_required_properties_are_required(arm, target, body, named):
    prepare(arm, ("account",) if "deployments" in target else ())
    api = KV_API if "KeyVault" in target else CS_API
    response = arm.send("PUT", target, body, api)
    assert response.status_code == 400 and named in response.json()["error"]["message"], response.text
