"""What standard clients call around the resources: cloud discovery, subscriptions, tenants,
locations, providers, the generic resource lists with $filter and paging, Key Vault's managed
HSM lists, Cognitive Services SKUs and availability checks, template preflight, and ARM's
api-version check. Through the real SDK clients where they have the operation; raw requests
(verified TLS, a real token) for the rest."""
from __future__ import annotations

import ssl

import httpx
import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import ClientSecretCredential
from azure.mgmt.resource.deployments import DeploymentsMgmtClient
from azure.mgmt.resource.resources import ResourceManagementClient

from provisioner.emulator.arm import TENANT_ID
from provisioner.emulator.registry import COGNITIVE_SERVICES_VERSIONS
from tests.conftest import SUBSCRIPTION, sdk_kwargs

ACCOUNT = {"kind": "OpenAI", "sku": {"name": "S0"}, "location": "eastus", "properties": {}}


def get(emulator, path: str, *, token: str | None = None, **params) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token or emulator.token}"} if token is not False else {}
    return httpx.get(emulator.base_url + path, params=params, headers=headers,
                     verify=ssl.create_default_context(cafile=emulator.ca_path))


@pytest.fixture
def deployments(emulator):
    return DeploymentsMgmtClient(emulator.credential, SUBSCRIPTION, **sdk_kwargs(emulator))


# cloud discovery
def test_cloud_metadata_needs_no_token_and_leads_to_sign_in(emulator):
    for path in ("/metadata/endpoints", "//metadata/endpoints"):
        single = get(emulator, path, token=False)
        assert single.status_code == 200
        assert single.json()["resourceManager"] == emulator.base_url + "/"
    clouds = get(emulator, "/metadata/endpoints", token=False, **{"api-version": "2022-09-01"}).json()
    assert isinstance(clouds, list) and len(clouds) == 1
    cloud = clouds[0]
    assert cloud["authentication"]["identityProvider"] == "AAD"
    assert "https://management.azure.com/" in cloud["authentication"]["audiences"]
    assert cloud["suffixes"]["keyVaultDns"] == "vault.azure.net"

    # a client that knows only the ARM URL: discover, sign in where it says, call ARM where it says
    principal = emulator.control.add_service_principal()
    credential = ClientSecretCredential(emulator.tenant_id, principal["client_id"], principal["client_secret"],
                                        authority=cloud["authentication"]["loginEndpoint"],
                                        disable_instance_discovery=True, connection_verify=emulator.ca_path)
    client = ResourceManagementClient(credential, SUBSCRIPTION, base_url=cloud["resourceManager"],
                                      connection_verify=emulator.ca_path, retry_total=0,
                                      credential_scopes=[cloud["authentication"]["audiences"][1] + ".default"])
    client.resource_groups.create_or_update("rg", {"location": "eastus"})
    assert [g.name for g in client.resource_groups.list()] == ["rg"]


# subscriptions, tenants, locations
def test_subscriptions_list_and_get(emulator, resources):
    resources.resource_groups.create_or_update("rg", {"location": "eastus"})  # now SUBSCRIPTION holds something
    emulator.control.add_subscription("11111111-2222-3333-4444-555555555555", "Production")
    listed = get(emulator, "/subscriptions", **{"api-version": "2022-12-01"}).json()["value"]
    by_id = {s["subscriptionId"]: s for s in listed}
    assert by_id["11111111-2222-3333-4444-555555555555"]["displayName"] == "Production"
    mine = by_id[SUBSCRIPTION]
    assert (mine["id"], mine["tenantId"], mine["state"]) == (f"/subscriptions/{SUBSCRIPTION}", TENANT_ID, "Enabled")
    assert mine["subscriptionPolicies"]["spendingLimit"] == "Off"
    one = get(emulator, f"/subscriptions/{SUBSCRIPTION}", **{"api-version": "2022-12-01"})
    assert one.status_code == 200 and one.json()["subscriptionId"] == SUBSCRIPTION
    bad = get(emulator, "/subscriptions/not-a-guid", **{"api-version": "2022-12-01"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "InvalidSubscriptionId")
    also_bad = get(emulator, "/subscriptions/not-a-guid/resourcegroups", **{"api-version": "2024-11-01"})
    assert also_bad.json()["error"]["code"] == "InvalidSubscriptionId"


def test_tenants_and_locations(emulator):
    tenants = get(emulator, "/tenants", **{"api-version": "2022-12-01"}).json()["value"]
    assert [(t["tenantId"], t["tenantCategory"], t["tenantType"]) for t in tenants] == [(TENANT_ID, "Home", "AAD")]
    locations = get(emulator, f"/subscriptions/{SUBSCRIPTION}/locations", **{"api-version": "2022-12-01"}).json()
    by_name = {loc["name"]: loc for loc in locations["value"]}
    assert by_name["eastus"]["displayName"] == "East US"
    assert by_name["eastus"]["metadata"]["pairedRegion"][0]["name"] == "westus"
    assert by_name["swedencentral"]["regionalDisplayName"] == "(Europe) Sweden Central"
    assert by_name["global"]["metadata"]["regionType"] == "Logical"


# providers
def test_providers_name_resource_types_locations_and_api_versions(resources):
    provider = resources.providers.get("Microsoft.CognitiveServices")
    assert provider.registration_state == "Registered"
    types = {t.resource_type: t for t in provider.resource_types}
    assert "2025-09-01" in types["accounts"].api_versions
    assert "East US" in types["accounts"].locations and "Global" in types["accounts"].locations
    assert "accounts/deployments" in types
    namespaces = {p.namespace for p in resources.providers.list()}
    assert {"Microsoft.CognitiveServices", "Microsoft.KeyVault", "Microsoft.Resources"} <= namespaces
    assert {p.namespace for p in resources.providers.list_at_tenant_scope()} == namespaces
    with pytest.raises(HttpResponseError) as excinfo:
        resources.providers.get("Microsoft.Nothing")
    assert excinfo.value.status_code == 404


# generic resource lists
@pytest.fixture
def spread(resources, cognitive, keyvault):
    """rg1: accounts a1 (tag team=x), a2; rg2: account a3 and vault kv-spread."""
    for group in ("rg1", "rg2"):
        resources.resource_groups.create_or_update(group, {"location": "eastus"})
    for group, name, tags in (("rg1", "a1", {"team": "x"}), ("rg1", "a2", {}), ("rg2", "a3", {})):
        cognitive.accounts.begin_create(group, name, {**ACCOUNT, "tags": tags}).result()
    cognitive.deployments.begin_create_or_update("rg1", "a1", "d", {
        "sku": {"name": "Standard", "capacity": 1},
        "properties": {"model": {"format": "OpenAI", "name": "gpt-35-turbo", "version": "0125"}}}).result()
    keyvault.vaults.begin_create_or_update("rg2", "kv-spread", {
        "location": "eastus", "properties": {"tenantId": TENANT_ID, "sku": {"family": "A", "name": "standard"},
                                             "accessPolicies": []}}).result()


def names(items) -> list[str]:
    return sorted(item.name for item in items)


def test_resource_filters(resources, spread):
    assert names(resources.resources.list()) == ["a1", "a2", "a3", "kv-spread"]  # no deployments: not top level
    accounts = "resourceType eq 'Microsoft.CognitiveServices/accounts'"
    assert names(resources.resources.list(filter=accounts)) == ["a1", "a2", "a3"]
    assert names(resources.resources.list(filter=f"{accounts} and resourceGroup eq 'rg2'")) == ["a3"]
    assert names(resources.resources.list(filter="name eq 'A2'")) == ["a2"]
    assert names(resources.resources.list(filter="tagName eq 'team' and tagValue eq 'x'")) == ["a1"]
    assert names(resources.resources.list_by_resource_group("rg2")) == ["a3", "kv-spread"]
    expanded = list(resources.resources.list(filter="name eq 'a1'", expand="createdTime,changedTime,provisioningState"))
    assert expanded[0].created_time is not None and expanded[0].provisioning_state == "Succeeded"
    plain = list(resources.resources.list(filter="name eq 'a1'"))
    assert plain[0].created_time is None and plain[0].kind == "OpenAI" and plain[0].tags == {"team": "x"}
    with pytest.raises(HttpResponseError) as excinfo:
        list(resources.resources.list(filter="substringof('a', name)"))
    assert excinfo.value.error.code == "InvalidFilterInQueryString"


def test_key_vaults_are_listed_through_the_generic_list(keyvault, spread):
    assert [v.name for v in keyvault.vaults.list()] == ["kv-spread"]


def test_lists_page_at_top_and_the_sdk_follows_next_link(emulator, resources):
    for i in range(5):
        resources.resource_groups.create_or_update(f"rg-{i}", {"location": "eastus"})
    first = get(emulator, f"/subscriptions/{SUBSCRIPTION}/resourcegroups", **{"api-version": "2024-11-01",
                                                                             "$top": "2"}).json()
    assert len(first["value"]) == 2 and "%24skiptoken=" in first["nextLink"]
    assert first["nextLink"].startswith(emulator.base_url + f"/subscriptions/{SUBSCRIPTION}/resourcegroups?")
    assert names(resources.resource_groups.list(top=2)) == [f"rg-{i}" for i in range(5)]
    too_many = get(emulator, f"/subscriptions/{SUBSCRIPTION}/resourcegroups",
                   **{"api-version": "2024-11-01", "$top": "1001"})
    assert (too_many.status_code, too_many.json()["error"]["code"]) == (400, "InvalidTopInQueryString")


def test_a_thousand_items_a_page_by_default(emulator, resources):
    store = emulator.app.store
    with store.transaction():  # seeded directly: 1001 groups through the API would only slow the test
        for i in range(1001):
            group_id = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/g{i:04d}"
            store.put(group_id, "Microsoft.Resources/resourceGroups",
                      {"id": group_id, "name": f"g{i:04d}", "type": "Microsoft.Resources/resourceGroups",
                       "location": "eastus", "tags": {}, "properties": {"provisioningState": "Succeeded"}})
    page = get(emulator, f"/subscriptions/{SUBSCRIPTION}/resourcegroups", **{"api-version": "2024-11-01"}).json()
    assert len(page["value"]) == 1000 and page["nextLink"]
    assert len(list(resources.resource_groups.list())) == 1001


def test_managed_hsm_lists_are_empty(keyvault, resources):
    resources.resource_groups.create_or_update("rg", {"location": "eastus"})
    assert list(keyvault.managed_hsms.list_by_subscription()) == []
    assert list(keyvault.managed_hsms.list_by_resource_group("rg")) == []
    assert list(keyvault.managed_hsms.list_deleted()) == []


# Cognitive Services: SKUs and availability
def test_skus_and_availability(cognitive, account):
    skus = list(cognitive.resource_skus.list())
    openai = [s for s in skus if s.kind == "OpenAI"]
    assert [(s.name, s.tier) for s in openai] == [("S0", "Standard")] and "EASTUS" in openai[0].locations
    assert [(s.sku.name, s.sku.tier) for s in cognitive.accounts.list_skus("rg", "acct").value] == [("S0", "Standard")]

    account_type = "Microsoft.CognitiveServices/accounts"
    checked = cognitive.check_sku_availability("eastus", ["S0", "Z9"], "OpenAI", account_type).value
    assert [(c.sku_name, c.sku_available) for c in checked] == [("S0", True), ("Z9", False)]
    assert cognitive.check_sku_availability("moon", ["S0"], "OpenAI", account_type).value[0].sku_available is False
    assert cognitive.check_sku_availability("eastus", ["S0"], "NotAKind", account_type).value[0].sku_available is False

    taken = cognitive.check_domain_availability("ACCT", account_type)
    assert (taken.is_subdomain_available, taken.subdomain_name) == (False, "ACCT")
    assert taken.reason == "Sub domain name 'ACCT' is already used. Please pick a different name."  # as Learn quotes it
    assert cognitive.check_domain_availability("free-one", account_type).is_subdomain_available is True
    invalid = cognitive.check_domain_availability("no_underscores", account_type)
    assert invalid.is_subdomain_available is False and "not valid" in invalid.reason


def test_calculate_model_capacity_follows_the_catalogs_minimum_and_step(cognitive):
    model = {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"}
    result = cognitive.calculate_model_capacity(model, "GlobalProvisionedManaged", [
        {"requestPerMinute": 100, "requestParameters": {"avgPromptTokens": 1000, "avgGeneratedTokens": 500}}])
    assert result.estimated_capacity.value == 60  # 150,000 tokens a minute at 2,500 a PTU
    assert result.estimated_capacity.deployable_value == 60  # >= 15 and a multiple of 5
    small = cognitive.calculate_model_capacity(model, "GlobalProvisionedManaged", [
        {"requestPerMinute": 1, "requestParameters": {"avgPromptTokens": 10, "avgGeneratedTokens": 10}}])
    assert (small.estimated_capacity.value, small.estimated_capacity.deployable_value) == (1, 15)
    with pytest.raises(HttpResponseError) as excinfo:
        cognitive.calculate_model_capacity({**model, "name": "nope"}, "ProvisionedManaged", [])
    assert excinfo.value.error.code == "InvalidResourceProperties"


# template preflight
def template(capacity: int) -> dict:
    account = "[resourceId('Microsoft.CognitiveServices/accounts', 'acct')]"
    return {"properties": {"mode": "Incremental", "template": {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [
            {"type": "Microsoft.CognitiveServices/accounts", "apiVersion": "2025-09-01", "name": "acct",
             "location": "eastus", "kind": "OpenAI", "sku": {"name": "S0"}, "properties": {}},
            {"type": "Microsoft.CognitiveServices/accounts/deployments", "apiVersion": "2025-09-01", "name": "acct/d",
             "dependsOn": [account], "sku": {"name": "GlobalStandard", "capacity": capacity},
             "properties": {"model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"}}}]}}}


def test_validate_is_a_preflight_without_side_effects(emulator, resources, cognitive, deployments):
    resources.resource_groups.create_or_update("rg", {"location": "eastus"})
    result = deployments.deployments.begin_validate("rg", "preflight", template(10)).result()
    assert result.error is None and result.properties.provisioning_state == "Succeeded"
    assert {r.id.rsplit("/", 1)[-1] for r in result.properties.validated_resources} == {"acct", "d"}
    assert list(cognitive.accounts.list()) == []  # nothing was created
    assert list(deployments.deployments.list_by_resource_group("rg")) == []

    emulator.control.set_quota(SUBSCRIPTION, "eastus", "OpenAI.GlobalStandard.gpt-4o", 5)
    with pytest.raises(HttpResponseError) as excinfo:  # a 400 answer: the SDK's poller raises it
        deployments.deployments.begin_validate("rg", "preflight", template(10)).result()
    refused = excinfo.value.error
    assert refused.code == "InvalidTemplateDeployment"
    assert "is not valid according to the validation procedure" in refused.message
    assert [d.code for d in refused.details] == ["InsufficientQuota"]
    assert list(cognitive.accounts.list()) == []


# api-versions
def test_unsupported_api_versions_are_refused_naming_the_supported_ones(emulator, resources, account):
    groups = get(emulator, f"/subscriptions/{SUBSCRIPTION}/resourcegroups/rg", **{"api-version": "1999-01-01"})
    assert (groups.status_code, groups.json()["error"]["code"]) == (400, "InvalidApiVersionParameter")
    assert "2024-11-01" in groups.json()["error"]["message"]
    path = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/acct"
    accounts = get(emulator, path, **{"api-version": "1999-01-01"})
    assert (accounts.status_code, accounts.json()["error"]["code"]) == (400, "NoRegisteredProviderFound")
    message = accounts.json()["error"]["message"]
    assert message.startswith("No registered resource provider found for location 'eastus' and API version "
                              "'1999-01-01' for type 'accounts'.")
    assert "2025-09-01" in message
    for version in COGNITIVE_SERVICES_VERSIONS:
        assert get(emulator, path, **{"api-version": version}).status_code == 200, version


# smaller fixes
def test_deployment_patch_answers_with_a_location_header(emulator, cognitive, account):
    body = {"sku": {"name": "Standard", "capacity": 1},
            "properties": {"model": {"format": "OpenAI", "name": "gpt-35-turbo", "version": "0125"}}}
    cognitive.deployments.begin_create_or_update("rg", "acct", "d", body).result()
    emulator.control.configure(lro_durations={"deployments.update": 0.2})
    seen = []
    poller = cognitive.deployments.begin_update("rg", "acct", "d", {"sku": {"name": "Standard", "capacity": 2}},
                                                raw_response_hook=lambda r: seen.append(r.http_response.headers))
    assert poller.result().sku.capacity == 2
    assert "operationResults" in seen[0]["Location"] and seen[0]["Azure-AsyncOperation"]


def test_operation_urls_carry_no_spaces(emulator, resources, cognitive):
    resources.resource_groups.create_or_update("rg", {"location": "West Europe"})
    seen = []
    cognitive.accounts.begin_create("rg", "acct", {**ACCOUNT, "location": "West Europe"},
                                    raw_response_hook=lambda r: seen.append(r.http_response.headers)).result()
    assert "/locations/WESTEUROPE/operationResults/" in seen[0]["Azure-AsyncOperation"]


def test_purging_an_account_that_is_gone_is_204(emulator, cognitive, account):
    cognitive.accounts.begin_delete("rg", "acct").result()
    cognitive.deleted_accounts.begin_purge("eastus", "rg", "acct").result()
    path = (f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.CognitiveServices/locations/eastus/resourceGroups/rg"
            "/deletedAccounts/acct?api-version=2025-09-01")
    again = httpx.delete(emulator.base_url + path, headers={"Authorization": f"Bearer {emulator.token}"},
                         verify=ssl.create_default_context(cafile=emulator.ca_path))
    assert again.status_code == 204


def test_a_template_resource_with_an_unknown_api_version_fails_as_a_direct_request_would(resources, deployments):
    resources.resource_groups.create_or_update("rg", {"location": "eastus"})
    body = template(1)
    body["properties"]["template"]["resources"][0]["apiVersion"] = "1999-01-01"
    with pytest.raises(HttpResponseError) as excinfo:
        deployments.deployments.begin_validate("rg", "preflight", body).result()
    assert [d.code for d in excinfo.value.error.details] == ["NoRegisteredProviderFound"]  # the account; d skipped
    with pytest.raises(HttpResponseError) as excinfo:
        deployments.deployments.begin_create_or_update("rg", "run", body).result()
    assert excinfo.value.error.code == "DeploymentFailed"
    assert [d.code for d in excinfo.value.error.details] == ["NoRegisteredProviderFound"]
