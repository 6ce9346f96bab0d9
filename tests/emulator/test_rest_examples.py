"""The REST specs' own examples (x-ms-examples), replayed against the emulator.

tests/fixtures/rest-examples/ holds copies of the examples of the operations the emulator serves
(PROVENANCE.md there names each upstream file and commit). For each example:

* what the operation needs is created first (an account for a deployment, a deleted vault for a
  purge, ...), through the emulator's own API;
* the documented request (path parameters, query parameters, body) is sent with the operation's
  method and path (from the spec, by operationId);
* the status must be one of the example's documented statuses, and every field of that status's
  documented body must be in the answer with the same JSON type (the comparison of
  test_conformance: lists matched by name, a documented null matches anything).

Placeholder subscription ids ("subscriptionId", "xxxxxxxx-...") become a GUID, since ARM refuses
anything else. A few examples use kinds, models or regions Azure no longer offers; FIXES replaces
those values, each with its reason. Fields an example documents that the emulator does not produce
are in DEVIATIONS with the reason; an entry that no longer excuses anything fails the test.
"""
from __future__ import annotations

import json
import re
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from provisioner.emulator import Emulator
from tests.emulator.test_conformance import compare

EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "rest-examples"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SUBSCRIPTION = "00000000-1111-2222-3333-444444444444"
CS = "/subscriptions/{subscriptionId}/providers/Microsoft.CognitiveServices"
ACCOUNT = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.CognitiveServices" \
          "/accounts/{accountName}"
BLOCKLIST = ACCOUNT + "/raiBlocklists/{raiBlocklistName}"
KV = "/subscriptions/{subscriptionId}/providers/Microsoft.KeyVault"
VAULT = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}"
MODEL = {"format": "OpenAI", "name": "gpt-35-turbo", "version": "0125"}  # offered as Standard in eastus
PE = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network/privateEndpoints" \
     "/{privateEndpointName}"
RG1 = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg1"  # the network examples' group
PE_SUBNET = "providers/Microsoft.Network/virtualNetworks/myVnet/subnets/mySubnet"
PE_TARGET = "providers/Microsoft.CognitiveServices/accounts/pe-target"
ASSIGNMENT = "/{scope}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}"
OPENAI_USER = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/" \
              "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"
BUILT_IN_ONLY = "the emulator serves the built-in roles this project uses, not the example's role"
EXAMPLE_PRINCIPAL = "ce2ce14e-85d7-4629-bdbc-454d0519d987"  # the user the authorization examples assign
UNENCODED = {"scope", "resourceUri"}  # x-ms-skip-url-encoding in the specs: ARM ids with their slashes
RETIRED_MODEL = "the example's model (ada 1, gpt-4 0613) is retired in the catalog snapshot (2025-10-28)"


@dataclass(frozen=True)
class Operation:
    """How to replay one example: the operation's method and path (Azure/azure-rest-api-specs), the
    parameter that holds the body, the query parameters, and what must exist first."""

    method: str
    path: str
    body: str | None = None
    query: tuple[str, ...] = ()
    setup: tuple[str, ...] = ()
    fixes: dict[str, Any] = field(default_factory=dict)  # "parameter.path" -> replacement value
    reason: str = ""  # why the fixes


OPERATIONS: dict[str, Operation] = {
    # Microsoft.CognitiveServices: accounts
    "cognitiveservices/CreateAccount.json": Operation(
        "PUT", ACCOUNT, "account", setup=("group",), fixes={"account.kind": "CognitiveServices"},
        reason="kind Emotion was retired; the spec's example is known to be invalid [Azure/azure-rest-api-specs#8377]"),
    "cognitiveservices/CreateAccountMin.json": Operation("PUT", ACCOUNT, "account", setup=("group",)),
    "cognitiveservices/GetAccount.json": Operation("GET", ACCOUNT, setup=("account",)),
    "cognitiveservices/UpdateAccount.json": Operation(
        "PATCH", ACCOUNT, "account", setup=("bing-account",), fixes={},
        reason="the account must exist: a Bing.Search.v7 account in global (kind Bing.Search is retired)"),
    "cognitiveservices/DeleteAccount.json": Operation("DELETE", ACCOUNT, setup=("account",)),
    "cognitiveservices/ListAccountsByResourceGroup.json": Operation(
        "GET", "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.CognitiveServices"
               "/accounts", setup=("account",)),
    "cognitiveservices/ListAccountsBySubscription.json": Operation("GET", CS + "/accounts", setup=("account",)),
    "cognitiveservices/ListKeys.json": Operation("POST", ACCOUNT + "/listKeys", setup=("account",)),
    "cognitiveservices/RegenerateKey.json": Operation("POST", ACCOUNT + "/regenerateKey", "parameters",
                                                      setup=("account",)),
    "cognitiveservices/ListSkus.json": Operation("GET", ACCOUNT + "/skus", setup=("face-account",)),
    "cognitiveservices/GetUsages.json": Operation("GET", ACCOUNT + "/usages", setup=("face-account",)),
    "cognitiveservices/GetDeletedAccount.json": Operation(
        "GET", CS + "/locations/{location}/resourceGroups/{resourceGroupName}/deletedAccounts/{accountName}",
        setup=("deleted-account",)),
    "cognitiveservices/PurgeDeletedAccount.json": Operation(
        "DELETE", CS + "/locations/{location}/resourceGroups/{resourceGroupName}/deletedAccounts/{accountName}",
        setup=("deleted-account",)),
    "cognitiveservices/CheckSkuAvailability.json": Operation("POST", CS + "/locations/{location}/checkSkuAvailability",
                                                             "parameters"),
    "cognitiveservices/CheckDomainAvailability.json": Operation(
        "POST", CS + "/checkDomainAvailability", "parameters", setup=("taken-subdomain",)),
    "cognitiveservices/CalculateModelCapacity.json": Operation(
        "POST", CS + "/calculateModelCapacity", "parameters",
        fixes={"parameters.model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"}},
        reason=RETIRED_MODEL),
    # deployments
    "cognitiveservices/PutDeployment.json": Operation(
        "PUT", ACCOUNT + "/deployments/{deploymentName}", "deployment", setup=("openai-account",),
        fixes={"deployment.properties.model": MODEL}, reason=RETIRED_MODEL),
    "cognitiveservices/GetDeployment.json": Operation("GET", ACCOUNT + "/deployments/{deploymentName}",
                                                      setup=("deployment",)),
    "cognitiveservices/UpdateDeployment.json": Operation("PATCH", ACCOUNT + "/deployments/{deploymentName}",
                                                         "deployment", setup=("deployment",)),
    "cognitiveservices/DeleteDeployment.json": Operation("DELETE", ACCOUNT + "/deployments/{deploymentName}",
                                                         setup=("deployment",)),
    "cognitiveservices/ListDeployments.json": Operation("GET", ACCOUNT + "/deployments", setup=("deployment",)),
    "cognitiveservices/ListDeploymentSkus.json": Operation("GET", ACCOUNT + "/deployments/{deploymentName}/skus",
                                                           setup=("deployment",)),
    # RAI policies, blocklists, items, content filters
    "cognitiveservices/PutRaiPolicy.json": Operation("PUT", ACCOUNT + "/raiPolicies/{raiPolicyName}", "raiPolicy",
                                                     setup=("openai-account",)),
    "cognitiveservices/GetRaiPolicy.json": Operation("GET", ACCOUNT + "/raiPolicies/{raiPolicyName}",
                                                     setup=("policy",)),
    "cognitiveservices/DeleteRaiPolicy.json": Operation("DELETE", ACCOUNT + "/raiPolicies/{raiPolicyName}",
                                                        setup=("policy",)),
    "cognitiveservices/ListRaiPolicies.json": Operation("GET", ACCOUNT + "/raiPolicies", setup=("policy",)),
    "cognitiveservices/PutRaiBlocklist.json": Operation("PUT", BLOCKLIST, "raiBlocklist", setup=("openai-account",)),
    "cognitiveservices/GetRaiBlocklist.json": Operation("GET", BLOCKLIST, setup=("blocklist",)),
    "cognitiveservices/DeleteRaiBlocklist.json": Operation("DELETE", BLOCKLIST, setup=("blocklist",)),
    "cognitiveservices/ListBlocklists.json": Operation("GET", ACCOUNT + "/raiBlocklists", setup=("blocklist",)),
    "cognitiveservices/PutRaiBlocklistItem.json": Operation(
        "PUT", BLOCKLIST + "/raiBlocklistItems/{raiBlocklistItemName}", "raiBlocklistItem", setup=("blocklist",)),
    "cognitiveservices/GetRaiBlocklistItem.json": Operation(
        "GET", BLOCKLIST + "/raiBlocklistItems/{raiBlocklistItemName}", setup=("item",)),
    "cognitiveservices/DeleteRaiBlocklistItem.json": Operation(
        "DELETE", BLOCKLIST + "/raiBlocklistItems/{raiBlocklistItemName}", setup=("item",)),
    "cognitiveservices/ListBlocklistItems.json": Operation("GET", BLOCKLIST + "/raiBlocklistItems", setup=("item",)),
    "cognitiveservices/AddRaiBlocklistItems.json": Operation("POST", BLOCKLIST + "/addRaiBlocklistItems",
                                                             "raiBlocklistItems", setup=("blocklist",)),
    "cognitiveservices/DeleteRaiBlocklistItems.json": Operation("POST", BLOCKLIST + "/deleteRaiBlocklistItems",
                                                                "raiBlocklistItemsNames", setup=("blocklist",)),
    "cognitiveservices/ListRaiContentFilters.json": Operation("GET", CS + "/locations/{location}/raiContentFilters"),
    "cognitiveservices/GetRaiContentFilter.json": Operation("GET",
                                                            CS + "/locations/{location}/raiContentFilters/{filterName}"),
    # catalog and quota
    "cognitiveservices/ListUsages.json": Operation("GET", CS + "/locations/{location}/usages"),
    "cognitiveservices/ListModelCapacities.json": Operation(
        "GET", CS + "/modelCapacities", query=("modelFormat", "modelName", "modelVersion"),
        fixes={"modelName": "gpt-4o", "modelVersion": "2024-11-20"}, reason=RETIRED_MODEL),
    "cognitiveservices/ListLocationBasedModelCapacities.json": Operation(
        "GET", CS + "/locations/{location}/modelCapacities", query=("modelFormat", "modelName", "modelVersion"),
        fixes={"modelName": "gpt-4o", "modelVersion": "2024-11-20", "location": "eastus"},
        reason=RETIRED_MODEL + "; westus is not one of the catalog's regions"),
    # Microsoft.KeyVault
    "keyvault/createVault.json": Operation("PUT", VAULT, "parameters", setup=("group",)),
    "keyvault/getVault.json": Operation("GET", VAULT, setup=("vault",)),
    "keyvault/updateVault.json": Operation("PATCH", VAULT, "parameters", setup=("vault",)),
    "keyvault/deleteVault.json": Operation("DELETE", VAULT, setup=("vault",)),
    "keyvault/listVaultByResourceGroup.json": Operation(
        "GET", "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults",
        query=("$top",), setup=("two-vaults",)),
    "keyvault/listVault.json": Operation("GET", "/subscriptions/{subscriptionId}/resources", query=("$filter", "$top"),
                                         setup=("two-vaults",)),
    "keyvault/listDeletedVaults.json": Operation("GET", KV + "/deletedVaults", query=("$top",),
                                                 setup=("two-deleted-vaults",)),
    "keyvault/getDeletedVault.json": Operation("GET", KV + "/locations/{location}/deletedVaults/{vaultName}",
                                               setup=("deleted-vault",)),
    "keyvault/purgeDeletedVault.json": Operation("POST", KV + "/locations/{location}/deletedVaults/{vaultName}/purge",
                                                 setup=("deleted-vault",)),
    "keyvault/createSecret.json": Operation("PUT", VAULT + "/secrets/{secretName}", "parameters", setup=("vault",)),
    "keyvault/updateSecret.json": Operation("PATCH", VAULT + "/secrets/{secretName}", "parameters",
                                            setup=("secret",)),
    "keyvault/getSecret.json": Operation("GET", VAULT + "/secrets/{secretName}", setup=("secret",)),
    "keyvault/listSecrets.json": Operation("GET", VAULT + "/secrets", setup=("two-secrets",)),
    # private link (the account's side)
    "cognitiveservices/ListPrivateLinkResources.json": Operation("GET", ACCOUNT + "/privateLinkResources",
                                                                 setup=("account",)),
    "cognitiveservices/ListPrivateEndpointConnections.json": Operation(
        "GET", ACCOUNT + "/privateEndpointConnections", setup=("private-endpoint",)),
    # Microsoft.Network
    "network/PrivateEndpointCreate.json": Operation(
        "PUT", PE, "parameters", setup=("pe-subnet",),
        fixes={"parameters.location": "eastus", "parameters.properties.subnet": {"id": f"{RG1}/{PE_SUBNET}"},
               "parameters.properties.privateLinkServiceConnections": [{"properties": {
                   "privateLinkServiceId": f"{RG1}/{PE_TARGET}", "groupIds": ["account"],
                   "requestMessage": "Please approve my connection."}}]},
        reason="the example connects to a private link service in a canary region: an account in eastus (whose "
               "group id is 'account'), the subnet in the emulator's subscription"),
    "network/PrivateEndpointDnsZoneGroupCreate.json": Operation(
        "PUT", PE + "/privateDnsZoneGroups/{privateDnsZoneGroupName}", "parameters", setup=("pe-subnet", "endpoint"),
        fixes={"parameters.properties.privateDnsZoneConfigs": [{"properties": {
            "privateDnsZoneId": f"{RG1}/providers/Microsoft.Network/privateDnsZones/privatelink.openai.azure.com"}}]},
        reason="records are made for the endpoint's names: the account's zone instead of zone1.com"),
    # Microsoft.Authorization
    "authorization/RoleAssignments_CreateForResourceGroup.json": Operation(
        "PUT", ASSIGNMENT, "parameters", setup=("scope-group", "principal"),
        fixes={"parameters.properties.roleDefinitionId": OPENAI_USER}, reason=BUILT_IN_ONLY),
    "authorization/RoleAssignments_Get.json": Operation("GET", ASSIGNMENT, setup=("assignment",)),
    "authorization/RoleAssignments_ListForScope.json": Operation(
        "GET", "/{scope}/providers/Microsoft.Authorization/roleAssignments", setup=("assignment",)),
    "authorization/GetRoleDefinitionById.json": Operation(
        "GET", "/{scope}/providers/Microsoft.Authorization/roleDefinitions/{roleId}",
        fixes={"roleId": OPENAI_USER.rsplit("/", 1)[1], "scope": f"subscriptions/{SUBSCRIPTION}"},
        reason=BUILT_IN_ONLY + "; the example names no scope"),
    # Microsoft.ManagedIdentity
    "msi/IdentityCreate.json": Operation(
        "PUT", "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ManagedIdentity"
               "/userAssignedIdentities/{resourceName}", "parameters", setup=("group",)),
    # Microsoft.Insights
    "monitor/createOrUpdateDiagnosticSetting.json": Operation(
        "PUT", "/{resourceUri}/providers/Microsoft.Insights/diagnosticSettings/{name}", "parameters",
        setup=("diagnostics-target",),
        fixes={"resourceUri": f"subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.CognitiveServices"
                              "/accounts/diag",
               "parameters.properties.metrics": [{"category": "AllMetrics", "enabled": True,
                                                  "retentionPolicy": {"enabled": False, "days": 0}}]},
        reason="the example's Logic Apps workflow is not emulated: an account, whose metric category is AllMetrics"),
    # Microsoft.Resources
    "resources/GetSubscriptions.json": Operation("GET", "/subscriptions"),
    "resources/GetTenants.json": Operation("GET", "/tenants"),
    "resources/GetLocations.json": Operation("GET", "/subscriptions/{subscriptionId}/locations"),
}

# (example, status) -> (paths the answer may lack, why)
DEVIATIONS: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {
    ("cognitiveservices/ListDeploymentSkus.json", "200"): (
        ("$.value[*].capacity.allowedValues",),
        "the catalog gives a SKU's minimum, maximum, step and default, not a list of allowed values"),
    ("keyvault/createVault.json", "201"): (("$.properties.hsmPoolResourceId",), "HSM pools are not emulated"),
    ("keyvault/getVault.json", "200"): (("$.properties.hsmPoolResourceId",), "HSM pools are not emulated"),
    ("keyvault/updateVault.json", "200"): (
        ("$.properties.hsmPoolResourceId", "$.properties.networkAcls", "$.properties.privateEndpointConnections"),
        "HSM pools and private endpoints are not emulated; the example's vault had network rules this request "
        "does not set"),
    ("keyvault/listVaultByResourceGroup.json", "200"): (("$.value[*].properties.hsmPoolResourceId",),
                                                        "HSM pools are not emulated"),
    ("resources/GetSubscriptions.json", "200"): (
        ("$.nextLink", "$.value[*].managedByTenants", "$.value[*].tags.*"),
        "the emulator's few subscriptions fit one page; no tenant manages them (Azure Lighthouse) and they carry "
        "no tags"),
    ("resources/GetTenants.json", "200"): (("$.nextLink",), "the emulator's one tenant fits one page"),
}


def load(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def fixed(parameters: dict, operation: Operation) -> dict:
    parameters = json.loads(json.dumps(parameters))
    subscription = parameters.get("subscriptionId")
    if subscription is not None and not GUID.match(subscription):
        parameters["subscriptionId"] = SUBSCRIPTION
    for dotted, value in operation.fixes.items():
        target, *rest = dotted.split(".")
        holder = parameters
        for key in [target, *rest][:-1]:
            holder = holder[key]
        holder[dotted.split(".")[-1]] = value
    return parameters


class Setup:
    """Creates what an example's operation needs through the emulator's API: with the example's names
    (path parameters, else the names of the documented list items) and the documented tags."""

    def __init__(self, client: httpx.Client, base_url: str, parameters: dict, documented: Any):
        self.client, self.base_url, self.p = client, base_url, parameters
        subscription = parameters.get("subscriptionId", SUBSCRIPTION)
        self.group_path = f"/subscriptions/{subscription}/resourceGroups/{parameters.get('resourceGroupName', 'rg')}"
        items = documented.get("value") if isinstance(documented, dict) else None
        self.documented = items if isinstance(items, list) else ([documented] if isinstance(documented, dict) else [])

    def names(self, parameter: str, default: str) -> list[str]:
        if parameter in self.p:
            return [self.p[parameter]]
        return [i["name"] for i in self.documented if isinstance(i.get("name"), str)] or [default]

    def tags(self) -> dict:
        return next((i["tags"] for i in self.documented if isinstance(i.get("tags"), dict)), {})

    def put(self, path: str, body: Any, api: str = "2025-09-01", method: str = "PUT") -> httpx.Response:
        response = self.client.request(method, self.base_url + path, params={"api-version": api}, json=body)
        assert response.status_code < 300, (path, response.text)
        return response

    def run(self, steps: tuple[str, ...]) -> None:
        for step in steps:
            getattr(self, "make_" + step.replace("-", "_"))()

    def make_group(self) -> None:
        self.put(self.group_path, {"location": "eastus"}, api="2024-11-01")

    def _account(self, name: str, kind: str, location: str, sku: str = "S0", **properties) -> str:
        self.make_group()
        path = f"{self.group_path}/providers/Microsoft.CognitiveServices/accounts/{name}"
        self.put(path, {"kind": kind, "sku": {"name": sku}, "location": location, "tags": self.tags(),
                        "properties": properties})
        return path

    def make_account(self) -> None:
        for name in self.names("accountName", "myAccount"):
            self._account(name, "Face", self.p.get("location", "westus"))

    def make_face_account(self) -> None:
        self.make_account()

    def make_bing_account(self) -> None:
        self._account(self.p["accountName"], "Bing.Search.v7", "global", sku="S1")

    def openai_account(self) -> str:
        return self._account(self.p["accountName"], "OpenAI", "eastus")

    def make_openai_account(self) -> None:
        self.openai_account()

    def make_deleted_account(self) -> None:
        self.make_account()
        self.put(f"{self.group_path}/providers/Microsoft.CognitiveServices/accounts/{self.p['accountName']}", None,
                 method="DELETE")

    def make_taken_subdomain(self) -> None:
        self._account("holder", "Face", "westus", customSubDomainName=self.p["parameters"]["subdomainName"])

    def make_deployment(self) -> None:
        account = self.openai_account()
        for name in self.names("deploymentName", "deploymentName"):
            self.put(f"{account}/deployments/{name}", {"sku": {"name": "Standard", "capacity": 1},
                                                       "properties": {"model": MODEL}})

    def make_policy(self) -> None:
        account = self.openai_account()
        body = load("cognitiveservices/PutRaiPolicy.json")["parameters"]["raiPolicy"]
        for name in self.names("raiPolicyName", "raiPolicyName"):
            self.put(f"{account}/raiPolicies/{name}", body)

    def blocklists(self) -> list[str]:
        account = self.openai_account()
        names = self.names("raiBlocklistName", "raiBlocklistName")
        for name in names:
            self.put(f"{account}/raiBlocklists/{name}", {"properties": {"description": "A blocklist"}})
        return [f"{account}/raiBlocklists/{name}" for name in names]

    def make_blocklist(self) -> None:
        self.blocklists()

    def make_item(self) -> None:
        blocklist = self.blocklists()[0]
        for name in self.names("raiBlocklistItemName", "raiBlocklistItemName"):
            self.put(f"{blocklist}/raiBlocklistItems/{name}", {"properties": {"pattern": "Pattern To Block",
                                                                              "isRegex": False}})

    def _vault(self, name: str) -> None:
        self.make_group()
        body = load("keyvault/createVault.json")["parameters"]["parameters"]
        self.put(f"{self.group_path}/providers/Microsoft.KeyVault/vaults/{name}", body, api="2024-11-01")

    def make_vault(self) -> None:
        self._vault(self.p.get("vaultName", "sample-vault"))

    def make_two_vaults(self) -> None:
        self._vault("sample-vault")
        self._vault("sample-vault2")

    def make_deleted_vault(self, name: str | None = None) -> None:
        name = name or self.p["vaultName"]
        self._vault(name)
        self.put(f"{self.group_path}/providers/Microsoft.KeyVault/vaults/{name}", None, api="2024-11-01",
                 method="DELETE")

    def make_two_deleted_vaults(self) -> None:
        self.make_deleted_vault("sample-vault")
        self.make_deleted_vault("sample-vault2")

    def make_secret(self, name: str | None = None) -> None:
        self.make_vault()
        self.put(f"{self.group_path}/providers/Microsoft.KeyVault/vaults/{self.p['vaultName']}/secrets/"
                 f"{name or self.p['secretName']}", {"properties": {"value": "secret-value"}}, api="2024-11-01")

    def make_scope_group(self) -> None:
        self.put("/" + self.p["scope"].strip("/"), {"location": "eastus"}, api="2024-11-01")

    def make_principal(self) -> None:
        response = self.client.post(self.base_url + "/_emulator/directory",
                                    json={"kind": "user", "object_id": EXAMPLE_PRINCIPAL})
        assert response.status_code == 200, response.text

    def make_assignment(self) -> None:
        self.make_principal()
        scope = "/" + self.p["scope"].strip("/")
        name = self.p.get("roleAssignmentName") or self.names("roleAssignmentName", "")[0]
        self.put(f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
                 {"properties": {"roleDefinitionId": OPENAI_USER, "principalId": EXAMPLE_PRINCIPAL,
                                 "principalType": "User"}}, api="2022-04-01")

    def make_private_endpoint(self) -> None:
        account = self._account(self.p["accountName"], "OpenAI", "eastus", customSubDomainName=self.p["accountName"])
        vnet = f"{self.group_path}/providers/Microsoft.Network/virtualNetworks/vnet"
        self.put(vnet, {"location": "eastus", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                 "subnets": [{"name": "pe", "properties": {"addressPrefix": "10.0.1.0/24"}}]}}, api="2024-05-01")
        self.put(f"{self.group_path}/providers/Microsoft.Network/privateEndpoints/petest01", {
            "location": "eastus", "properties": {"subnet": {"id": vnet + "/subnets/pe"},
                                                 "privateLinkServiceConnections": [{"name": "c", "properties": {
                                                     "privateLinkServiceId": account, "groupIds": ["account"]}}]}},
            api="2024-05-01")

    def make_pe_subnet(self) -> None:
        self._account("pe-target", "OpenAI", "eastus", customSubDomainName="pe-target")
        self.put(f"{RG1}/providers/Microsoft.Network/virtualNetworks/myVnet", {
            "location": "eastus", "properties": {"addressSpace": {"addressPrefixes": ["192.168.0.0/16"]},
                                                 "subnets": [{"name": "mySubnet",
                                                              "properties": {"addressPrefix": "192.168.0.0/24"}}]}},
            api="2024-05-01")

    def make_endpoint(self) -> None:
        self.put(f"{RG1}/providers/Microsoft.Network/privateEndpoints/{self.p['privateEndpointName']}", {
            "location": "eastus", "properties": {"subnet": {"id": f"{RG1}/{PE_SUBNET}"},
                                                 "privateLinkServiceConnections": [{"name": "c", "properties": {
                                                     "privateLinkServiceId": f"{RG1}/{PE_TARGET}",
                                                     "groupIds": ["account"]}}]}},
            api="2024-05-01")
        self.put(f"{RG1}/providers/Microsoft.Network/privateDnsZones/privatelink.openai.azure.com",
                 {"location": "global"}, api="2024-06-01")

    def make_diagnostics_target(self) -> None:
        self._account("diag", "OpenAI", "eastus")

    def make_two_secrets(self) -> None:
        self.make_secret("secret-name")
        self.make_secret("secret-name2")


def url(operation: Operation, parameters: dict) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: quote(str(parameters[m.group(1)]),
                                                safe="/" if m.group(1) in UNENCODED else ""), operation.path)


@pytest.fixture(scope="module")
def emulator():
    with Emulator() as emu:
        yield emu


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_example_is_answered_as_documented(emulator, name):
    example, operation = load(name), OPERATIONS[name]
    emulator.control.reset()
    parameters = fixed(example["parameters"], operation)
    tls = ssl.create_default_context(cafile=emulator.ca_path)
    with httpx.Client(verify=tls, headers={"Authorization": f"Bearer {emulator.token}"}, timeout=30) as client:
        success = next((r.get("body") for s, r in sorted(example["responses"].items()) if s.startswith("2")), None)
        Setup(client, emulator.base_url, parameters, success).run(operation.setup)
        query = {"api-version": parameters["api-version"], **{q: parameters[q] for q in operation.query}}
        body = parameters[operation.body] if operation.body else None
        response = client.request(operation.method, emulator.base_url + url(operation, parameters), params=query,
                                  json=body)
    documented = example["responses"]
    status = str(response.status_code)
    assert status in documented, f"{name}: {response.status_code} {response.text[:300]} (documented {list(documented)})"
    expected = documented[status].get("body")
    if expected is None:
        return
    excuses, _ = DEVIATIONS.get((name, status), ((), ""))
    problems = [(path, problem) for path, problem in compare(expected, response.json())
                if not any(re.fullmatch(re.escape(e).replace(r"\*", "[^.]*"), path) for e in excuses)]
    assert problems == [], f"{name} ({status}): {problems}"
    for excuse in excuses:  # a deviation that excuses nothing is stale
        assert any(re.fullmatch(re.escape(excuse).replace(r"\*", "[^.]*"), path)
                   for path, _ in compare(expected, response.json())), f"{name}: {excuse} is no longer needed"


def test_every_example_file_is_replayed():
    files = {str(p.relative_to(EXAMPLES)) for p in EXAMPLES.rglob("*.json")}
    assert files == set(OPERATIONS)
