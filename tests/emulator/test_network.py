"""Microsoft.Network through the real SDK client: virtual networks, subnets, private endpoints to an
account with their DNS zone groups, and the refusals Azure makes on the way."""
from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.emulator.security_fixtures import create_zone, endpoint_body, group_id, network, vnet_body  # noqa: F401


def subnet_id(name: str) -> str:
    return f"{group_id()}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/{name}"


def error_of(excinfo) -> tuple[int, str]:
    return excinfo.value.status_code, excinfo.value.error.code


@pytest.fixture
def vnet(network, account):  # noqa: F811
    return network.virtual_networks.begin_create_or_update(
        "rg", "vnet", vnet_body(pe="10.0.1.0/24", apps="10.0.2.0/24")).result()


@pytest.fixture
def endpoint(network, vnet, account):  # noqa: F811
    return network.private_endpoints.begin_create_or_update(
        "rg", "pe", endpoint_body(subnet_id("pe"), account.id)).result()


def test_virtual_network_with_inline_subnets(network, vnet):  # noqa: F811
    assert vnet.provisioning_state == "Succeeded"
    assert vnet.address_space.address_prefixes == ["10.0.0.0/16"]
    assert sorted((s.name, s.address_prefix) for s in vnet.subnets) == [("apps", "10.0.2.0/24"), ("pe", "10.0.1.0/24")]
    subnet = network.subnets.get("rg", "vnet", "pe")
    assert subnet.id == f"{group_id()}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/pe"
    assert subnet.private_endpoint_network_policies == "Disabled"
    assert [v.name for v in network.virtual_networks.list("rg")] == ["vnet"]
    assert sorted(s.name for s in network.subnets.list("rg", "vnet")) == ["apps", "pe"]


def test_subnet_as_child_resource_and_delegation(network, vnet):  # noqa: F811
    subnet = network.subnets.begin_create_or_update("rg", "vnet", "web", {
        "properties": {"addressPrefixes": ["10.0.3.0/24"], "privateEndpointNetworkPolicies": "Enabled",
                       "delegations": [{"name": "web", "properties": {"serviceName": "Microsoft.Web/serverFarms"}}]}
    }).result()
    assert subnet.address_prefixes == ["10.0.3.0/24"]
    assert subnet.private_endpoint_network_policies == "Enabled"
    assert subnet.delegations[0].service_name == "Microsoft.Web/serverFarms"
    assert "web" in [s.name for s in network.virtual_networks.get("rg", "vnet").subnets]
    network.subnets.begin_delete("rg", "vnet", "web").result()
    with pytest.raises(ResourceNotFoundError):
        network.subnets.get("rg", "vnet", "web")


@pytest.mark.parametrize("prefix, code", [("10.1.0.0/24", "NetcfgSubnetRangeOutsideVnet"),
                                          ("10.0.1.128/25", "NetcfgSubnetRangesOverlap"),
                                          ("10.0.3.5/24", "InvalidCIDRNotation"),
                                          ("10.0.3.0", "InvalidAddressPrefixFormat")])
def test_subnet_prefix_refusals(network, vnet, prefix, code):  # noqa: F811
    with pytest.raises(HttpResponseError) as excinfo:
        network.subnets.begin_create_or_update("rg", "vnet", "bad", {"properties": {"addressPrefix": prefix}}).result()
    assert error_of(excinfo) == (400, code)
    if code == "InvalidAddressPrefixFormat":  # Azure/azure-service-operator#997
        assert excinfo.value.error.message == (
            f"Address prefix 10.0.3.0 of resource {subnet_id('bad')} is not formatted correctly. It should follow "
            "CIDR notation, for example 10.0.0.0/24.")


def test_private_endpoint_connects_to_the_account(network, endpoint, account, cognitive):  # noqa: F811
    assert endpoint.provisioning_state == "Succeeded"
    connection = endpoint.private_link_service_connections[0]
    assert connection.private_link_service_id == account.id
    assert connection.group_ids == ["account"]
    assert connection.private_link_service_connection_state.status == "Approved"
    assert [(c.fqdn, c.ip_addresses) for c in endpoint.custom_dns_configs] == [("acct.openai.azure.com", ["10.0.1.4"])]
    assert "/networkInterfaces/pe.nic." in endpoint.network_interfaces[0].id
    subnet = network.subnets.get("rg", "vnet", "pe")
    assert [p.id for p in subnet.private_endpoints] == [endpoint.id]
    # the account's side
    connections = list(cognitive.private_endpoint_connections.list("rg", "acct").value)
    assert len(connections) == 1
    assert connections[0].properties.private_endpoint.id == endpoint.id
    assert connections[0].properties.private_link_service_connection_state.status == "Approved"
    shown = cognitive.accounts.get("rg", "acct").properties.private_endpoint_connections
    assert [c.name for c in shown] == [connections[0].name]
    links = cognitive.private_link_resources.list("rg", "acct").value
    assert [(r.properties.group_id, r.properties.required_zone_names) for r in links] == [
        ("account", ["privatelink.openai.azure.com"])]
    # deleting the endpoint removes the connection
    network.private_endpoints.begin_delete("rg", "pe").result()
    assert list(cognitive.private_endpoint_connections.list("rg", "acct").value) == []
    assert cognitive.accounts.get("rg", "acct").properties.private_endpoint_connections == []


def test_dns_zone_group_needs_an_existing_zone(network, endpoint, resources):  # noqa: F811
    zone_id = create_zone(resources)
    group = network.private_dns_zone_groups.begin_create_or_update("rg", "pe", "default", {
        "properties": {"privateDnsZoneConfigs": [{"name": "openai", "properties": {"privateDnsZoneId": zone_id}}]}
    }).result()
    config = group.private_dns_zone_configs[0]
    assert config.private_dns_zone_id == zone_id
    assert [(r.fqdn, r.ip_addresses) for r in config.record_sets] == [
        ("acct.privatelink.openai.azure.com", ["10.0.1.4"])]
    missing = zone_id.replace("openai", "cognitiveservices")
    with pytest.raises(HttpResponseError) as excinfo:
        network.private_dns_zone_groups.begin_create_or_update("rg", "pe", "default", {
            "properties": {"privateDnsZoneConfigs": [{"name": "x", "properties": {"privateDnsZoneId": missing}}]}
        }).result()
    assert error_of(excinfo) == (400, "InvalidResourceReference")
    with pytest.raises(HttpResponseError) as excinfo:  # two configs of one name (terraform-provider-azurerm#28966)
        network.private_dns_zone_groups.begin_create_or_update("rg", "pe", "default", {
            "properties": {"privateDnsZoneConfigs": [
                {"name": "openai", "properties": {"privateDnsZoneId": zone_id}}] * 2}
        }).result()
    assert error_of(excinfo) == (400, "InvalidRequestFormat")
    assert excinfo.value.error.details[0].code == "DuplicateResourceName"
    with pytest.raises(HttpResponseError) as excinfo:  # one group per endpoint (pulumi-azure-native#2179)
        network.private_dns_zone_groups.begin_create_or_update("rg", "pe", "second", {
            "properties": {"privateDnsZoneConfigs": [{"name": "openai", "properties": {"privateDnsZoneId": zone_id}}]}
        }).result()
    assert excinfo.value.error.message == ("Cannot create more than one private dns zone groups in the private "
                                           "endpoint pe.")


def test_delegated_subnet_refuses_private_endpoints(network, vnet, account):  # noqa: F811
    network.subnets.begin_create_or_update("rg", "vnet", "apps", {"properties": {
        "addressPrefix": "10.0.2.0/24",
        "delegations": [{"name": "d", "properties": {"serviceName": "Microsoft.Web/serverFarms"}}]}}).result()
    with pytest.raises(HttpResponseError) as excinfo:
        network.private_endpoints.begin_create_or_update(
            "rg", "pe2", endpoint_body(subnet_id("apps"), account.id)).result()
    assert error_of(excinfo) == (400, "PrivateEndpointCreationNotAllowedAsSubnetIsDelegated")


def test_subnet_and_network_in_use_cannot_be_deleted(network, endpoint):  # noqa: F811
    for delete in (lambda: network.subnets.begin_delete("rg", "vnet", "pe").result(),
                   lambda: network.virtual_networks.begin_delete("rg", "vnet").result(),
                   lambda: network.virtual_networks.begin_create_or_update(  # a PUT leaving the subnet out
                       "rg", "vnet", vnet_body(apps="10.0.2.0/24")).result()):
        with pytest.raises(HttpResponseError) as excinfo:
            delete()
        assert error_of(excinfo) == (400, "InUseSubnetCannotBeDeleted")
    assert network.subnets.get("rg", "vnet", "pe").name == "pe"


def test_endpoint_references_must_exist(network, vnet, account):  # noqa: F811
    missing_subnet = subnet_id("nope")
    with pytest.raises(HttpResponseError) as excinfo:
        network.private_endpoints.begin_create_or_update("rg", "pe", endpoint_body(missing_subnet, account.id)).result()
    assert error_of(excinfo) == (400, "InvalidResourceReference")
    with pytest.raises(HttpResponseError) as excinfo:  # another region than the subnet's network
        network.private_endpoints.begin_create_or_update(
            "rg", "pe", endpoint_body(subnet_id("pe"), account.id, location="westus")).result()
    assert error_of(excinfo) == (400, "InvalidResourceReference")


def test_deleting_the_account_disconnects_its_endpoints(network, endpoint, cognitive):  # noqa: F811
    cognitive.accounts.begin_delete("rg", "acct").result()
    state = network.private_endpoints.get("rg", "pe").private_link_service_connections[0]
    assert state.private_link_service_connection_state.status == "Disconnected"


def test_static_address_and_custom_interface_name(network, vnet, account):  # noqa: F811
    body = endpoint_body(subnet_id("pe"), account.id)
    body["properties"]["ipConfigurations"] = [{"name": "static", "properties": {
        "groupId": "account", "memberName": "default", "privateIPAddress": "10.0.1.10"}}]
    body["properties"]["customNetworkInterfaceName"] = "pe-nic"
    endpoint = network.private_endpoints.begin_create_or_update("rg", "pe", body).result()
    assert endpoint.custom_dns_configs[0].ip_addresses == ["10.0.1.10"]
    assert endpoint.network_interfaces[0].id.endswith("/networkInterfaces/pe-nic")
    assert endpoint.ip_configurations[0].private_ip_address == "10.0.1.10"
    body["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"] = "10.0.2.10"  # another subnet's
    with pytest.raises(HttpResponseError) as excinfo:
        network.private_endpoints.begin_create_or_update("rg", "pe2", body).result()
    assert error_of(excinfo)[0] == 400


def test_an_endpoint_keeps_its_subnet_connection_location_and_address(network, endpoint, account):  # noqa: F811
    """The refusals learn.microsoft.com quotes for a private endpoint PUT over an existing one (MicrosoftDocs/
    azure-databases-docs postgresql/flexible-server/how-to-networking-servers-deployed-public-access-add-private-endpoint)."""
    other_subnet = endpoint_body(subnet_id("apps"), account.id)
    renamed = endpoint_body(subnet_id("pe"), account.id)
    renamed["properties"]["privateLinkServiceConnections"][0]["name"] = "other"
    for body, code, words in (
            (other_subnet, "CannotChangeSubnetOnExistingPrivateEndpoint",
             f"Current subnet: '{endpoint.subnet.id}.' Requested subnet: '{subnet_id('apps')}.'"),
            (renamed, "CannotChangePrivateLinkConnectionOnPrivateEndpoint",
             f"existing private link connection: '{endpoint.id}/privateLinkServiceConnections/conn'. That is not"),
            (endpoint_body(subnet_id("pe"), account.id, location="westus"), "InvalidResourceLocation",
             "The resource 'pe' already exists in location 'eastus' in resource group 'rg'. A resource with the "
             "same name cannot be created in location 'westus'.")):
        with pytest.raises(HttpResponseError) as excinfo:
            network.private_endpoints.begin_create_or_update("rg", "pe", body).result()
        assert error_of(excinfo) == (400, code)
        assert words in excinfo.value.error.message
    taken = endpoint.custom_dns_configs[0].ip_addresses[0]
    body = endpoint_body(subnet_id("pe"), account.id)
    body["properties"]["ipConfigurations"] = [{"name": "static", "properties": {
        "groupId": "account", "memberName": "default", "privateIPAddress": taken}}]
    with pytest.raises(HttpResponseError) as excinfo:
        network.private_endpoints.begin_create_or_update("rg", "pe2", body).result()
    assert error_of(excinfo) == (400, "PrivateIPAddressIsAllocated")
    assert excinfo.value.error.message.endswith(
        f"is using the private IP address {taken} which is already allocated to resource "
        f"{endpoint.network_interfaces[0].id}/ipConfigurations/privateEndpointIpConfig."
        f"{endpoint.network_interfaces[0].id.rsplit('.', 1)[-1]}.")


def test_the_prefix_of_a_subnet_in_use_stays(network, endpoint):  # noqa: F811
    for change in (lambda: network.subnets.begin_create_or_update(
                       "rg", "vnet", "pe", {"properties": {"addressPrefix": "10.0.3.0/24"}}).result(),
                   lambda: network.virtual_networks.begin_create_or_update(  # the same through the network
                       "rg", "vnet", vnet_body(pe="10.0.3.0/24", apps="10.0.2.0/24")).result()):
        with pytest.raises(HttpResponseError) as excinfo:
            change()
        assert error_of(excinfo) == (400, "InUsePrefixCannotBeDeleted")
        assert excinfo.value.error.message == ("IpPrefix 10.0.1.0/24 on Subnet pe has active allocations and "
                                               "cannot be deleted.")
    assert network.subnets.get("rg", "vnet", "pe").address_prefix == "10.0.1.0/24"
