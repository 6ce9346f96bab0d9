"""Account identity, network rules and outbound restriction stored and returned, and user-assigned
managed identities (Microsoft.ManagedIdentity), through the real SDK clients."""
from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.emulator.security_fixtures import msi  # noqa: F401

ACLS = {"defaultAction": "Deny", "bypass": "AzureServices", "ipRules": [{"value": "203.0.113.0/24"}],
        "virtualNetworkRules": [{"id": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks"
                                       "/v/subnets/s", "ignoreMissingVnetServiceEndpoint": True}]}


@pytest.fixture
def identity(msi, account):  # noqa: F811
    return msi.user_assigned_identities.create_or_update("rg", "app-id", {"location": "eastus", "tags": {"a": "b"}})


def test_user_assigned_identity_crud(msi, identity):  # noqa: F811
    assert identity.type == "Microsoft.ManagedIdentity/userAssignedIdentities"
    assert identity.principal_id and identity.client_id and identity.tenant_id
    again = msi.user_assigned_identities.create_or_update("rg", "app-id", {"location": "eastus"})
    assert (again.principal_id, again.client_id) == (identity.principal_id, identity.client_id)  # fixed for life
    assert [i.name for i in msi.user_assigned_identities.list_by_resource_group("rg")] == ["app-id"]
    msi.user_assigned_identities.delete("rg", "app-id")
    with pytest.raises(ResourceNotFoundError):
        msi.user_assigned_identities.get("rg", "app-id")


def test_system_and_user_assigned_identity_on_an_account(cognitive, identity):
    updated = cognitive.accounts.begin_update("rg", "acct", {"identity": {
        "type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {identity.id: {}}}}).result()
    assert updated.identity.type == "SystemAssigned, UserAssigned"
    assert updated.identity.principal_id and updated.identity.tenant_id
    shown = updated.identity.user_assigned_identities[identity.id]
    assert (shown.principal_id, shown.client_id) == (identity.principal_id, identity.client_id)
    principal = updated.identity.principal_id
    again = cognitive.accounts.begin_update("rg", "acct", {"tags": {"x": "y"}}).result()
    assert again.identity.principal_id == principal  # kept across updates
    missing = identity.id.replace("app-id", "nope")
    with pytest.raises(HttpResponseError) as excinfo:
        cognitive.accounts.begin_update("rg", "acct", {"identity": {
            "type": "UserAssigned", "userAssignedIdentities": {missing: {}}}}).result()
    assert (excinfo.value.status_code, excinfo.value.error.code) == (400, "FailedIdentityOperation")


def test_network_rules_and_outbound_restriction(cognitive, account):
    updated = cognitive.accounts.begin_update("rg", "acct", {"properties": {
        "networkAcls": ACLS, "publicNetworkAccess": "Disabled", "restrictOutboundNetworkAccess": True,
        "allowedFqdnList": ["api.example.com"]}}).result()
    acls = updated.properties.network_acls
    assert (acls.default_action, acls.bypass) == ("Deny", "AzureServices")
    assert [r.value for r in acls.ip_rules] == ["203.0.113.0/24"]
    assert acls.virtual_network_rules[0].ignore_missing_vnet_service_endpoint is True
    assert updated.properties.public_network_access == "Disabled"
    assert updated.properties.restrict_outbound_network_access is True
    assert updated.properties.allowed_fqdn_list == ["api.example.com"]
    # PATCH changes one member in place, the rest stays
    changed = cognitive.accounts.begin_update("rg", "acct", {"properties": {
        "networkAcls": {**ACLS, "ipRules": [{"value": "198.51.100.7"}]}}}).result()
    assert [r.value for r in changed.properties.network_acls.ip_rules] == ["198.51.100.7"]
    assert changed.properties.restrict_outbound_network_access is True
    with pytest.raises(HttpResponseError) as excinfo:
        cognitive.accounts.begin_update("rg", "acct", {"properties": {"networkAcls": {"defaultAction": "Maybe"}}})
    assert excinfo.value.status_code == 400
