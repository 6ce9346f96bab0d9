"""Clients and builders shared by the security-pillar tests (network, identity, grants, diagnostics)."""
from __future__ import annotations

import pytest
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.network import NetworkManagementClient

from tests.conftest import SUBSCRIPTION, sdk_kwargs

ZONE_API = "2024-06-01"  # Microsoft.Network/privateDnsZones (no SDK here: through the generic resources client)


@pytest.fixture
def network(emulator):
    return NetworkManagementClient(emulator.credential, SUBSCRIPTION, **sdk_kwargs(emulator))


@pytest.fixture
def authorization(emulator):
    return AuthorizationManagementClient(emulator.credential, SUBSCRIPTION, **sdk_kwargs(emulator))


@pytest.fixture
def msi(emulator):
    return ManagedServiceIdentityClient(emulator.credential, SUBSCRIPTION, **sdk_kwargs(emulator))


def group_id(group: str = "rg") -> str:
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}"


def vnet_body(location: str = "eastus", space: str = "10.0.0.0/16", **subnets: str) -> dict:
    return {"location": location, "properties": {
        "addressSpace": {"addressPrefixes": [space]},
        "subnets": [{"name": name, "properties": {"addressPrefix": prefix}} for name, prefix in subnets.items()]}}


def endpoint_body(subnet_id: str, account_id: str, location: str = "eastus", group_ids=("account",)) -> dict:
    return {"location": location, "properties": {
        "subnet": {"id": subnet_id},
        "privateLinkServiceConnections": [{"name": "conn", "properties": {
            "privateLinkServiceId": account_id, "groupIds": list(group_ids)}}]}}


def create_zone(resources, name: str = "privatelink.openai.azure.com", group: str = "rg") -> str:
    zone_id = f"{group_id(group)}/providers/Microsoft.Network/privateDnsZones/{name}"
    resources.resources.begin_create_or_update_by_id(zone_id, api_version=ZONE_API,
                                                     parameters={"location": "global"}).result()
    return zone_id
