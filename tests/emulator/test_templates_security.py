"""Template deployments of the security pillar's types: a network with a private endpoint and its DNS
zone group (a child type), a user-assigned identity, and extension resources declared with `scope` (a
role assignment named with guid(), a diagnostic setting), all reaching the state direct writes reach."""
from __future__ import annotations

import uuid

from azure.mgmt.monitor import MonitorManagementClient

from tests.conftest import SUBSCRIPTION, sdk_kwargs
from tests.emulator.security_fixtures import authorization, group_id, msi, network  # noqa: F401
from tests.emulator.test_templates import ACCOUNT_TYPE, account, arm, failure, group, rid, run, template  # noqa: F401

OPENAI_USER = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"
ROLE = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{OPENAI_USER}"


def resource(rtype: str, name: str, api: str, body: dict, *depends: str, **extra) -> dict:
    entry = {"type": rtype, "apiVersion": api, "name": name, **body, **extra}
    if depends:
        entry["dependsOn"] = list(depends)
    return entry


def secure_template(principal: str) -> dict:
    acct = rid(ACCOUNT_TYPE, "sacct")
    return template([
        account("sacct"),
        resource("Microsoft.ManagedIdentity/userAssignedIdentities", "app", "2023-01-31", {"location": "eastus"}),
        resource("Microsoft.Network/virtualNetworks", "vnet", "2024-05-01", {"location": "eastus", "properties": {
            "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
            "subnets": [{"name": "pe", "properties": {"addressPrefix": "10.0.1.0/24"}}]}}),
        resource("Microsoft.Network/privateDnsZones", "privatelink.openai.azure.com", "2024-06-01",
                 {"location": "global"}),
        resource("Microsoft.OperationalInsights/workspaces", "logs", "2022-10-01", {"location": "eastus"}),
        resource("Microsoft.Network/privateEndpoints", "pe", "2024-05-01", {"location": "eastus", "properties": {
            "subnet": {"id": rid("Microsoft.Network/virtualNetworks/subnets", "vnet", "pe")},
            "privateLinkServiceConnections": [{"name": "c", "properties": {
                "privateLinkServiceId": acct, "groupIds": ["account"]}}]}},
            acct, rid("Microsoft.Network/virtualNetworks", "vnet")),
        resource("Microsoft.Network/privateEndpoints/privateDnsZoneGroups", "pe/default", "2024-05-01", {"properties": {
            "privateDnsZoneConfigs": [{"name": "openai", "properties": {
                "privateDnsZoneId": rid("Microsoft.Network/privateDnsZones", "privatelink.openai.azure.com")}}]}},
            rid("Microsoft.Network/privateEndpoints", "pe"),
            rid("Microsoft.Network/privateDnsZones", "privatelink.openai.azure.com")),
        resource("Microsoft.Authorization/roleAssignments", f"[guid({acct[1:-1]}, '{OPENAI_USER}', '{principal}')]",
                 "2022-04-01",
                 {"properties": {"roleDefinitionId": ROLE, "principalType": "ServicePrincipal",
                                 "principalId": principal}},
                 acct, scope="Microsoft.CognitiveServices/accounts/sacct"),
        resource("Microsoft.Insights/diagnosticSettings", "to-logs", "2021-05-01-preview", {"properties": {
            "workspaceId": rid("Microsoft.OperationalInsights/workspaces", "logs"),
            "logs": [{"categoryGroup": "allLogs", "enabled": True}],
            "metrics": [{"category": "AllMetrics", "enabled": True}]}},
            acct, rid("Microsoft.OperationalInsights/workspaces", "logs"), scope=acct),
    ])


def test_a_secure_template_deploys_every_new_type(emulator, arm, group, network, authorization, msi,  # noqa: F811
                                                   cognitive):
    app = emulator.control.add_service_principal(display_name="app")["object_id"]
    result = run(arm, secure_template(app))
    assert result.properties.provisioning_state == "Succeeded", result.properties.error
    pe = network.private_endpoints.get("rg", "pe")
    assert pe.private_link_service_connections[0].private_link_service_connection_state.status == "Approved"
    zones = network.private_dns_zone_groups.get("rg", "pe", "default").private_dns_zone_configs
    assert zones[0].record_sets[0].fqdn == "sacct.privatelink.openai.azure.com"
    account_id = f"{group_id()}/providers/{ACCOUNT_TYPE}/sacct"
    assert len(cognitive.accounts.get("rg", "sacct").properties.private_endpoint_connections) == 1
    expected_name = str(uuid.uuid5(uuid.UUID("11fb06fb-712d-4ddd-98c7-e71bbd588830"),
                                   f"{account_id}-{OPENAI_USER}-{app}"))
    granted = authorization.role_assignments.get(account_id, expected_name)  # guid() as ARM computes it
    assert (granted.principal_id, granted.scope) == (app, account_id)
    monitor = MonitorManagementClient(emulator.credential, SUBSCRIPTION, **sdk_kwargs(emulator))
    assert monitor.diagnostic_settings.get(account_id, "to-logs").logs[0].category_group == "allLogs"
    assert msi.user_assigned_identities.get("rg", "app").principal_id
    again = run(arm, secure_template(app), name="again")  # the same template again: nothing fails
    assert again.properties.provisioning_state == "Succeeded", again.properties.error


def test_a_refused_grant_fails_the_deployment_with_the_providers_code(emulator, arm, group):  # noqa: F811
    error = failure(arm, template([account("sacct"), resource(
        "Microsoft.Authorization/roleAssignments", str(uuid.uuid4()), "2022-04-01",
        {"properties": {"roleDefinitionId": ROLE, "principalId": str(uuid.uuid4())}},
        rid(ACCOUNT_TYPE, "sacct"), scope=rid(ACCOUNT_TYPE, "sacct"))]))
    assert error.error.code == "DeploymentFailed"
    assert [d.code for d in error.error.details] == ["PrincipalNotFound"]
