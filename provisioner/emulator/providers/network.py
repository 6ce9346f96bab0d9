"""Microsoft.Network: virtual networks and subnets, private endpoints with their private DNS zone
groups, and private DNS zones: enough to place an account behind a private endpoint, with the
checks Azure makes on the way.

Shapes and status codes follow the REST specs (Azure/azure-rest-api-specs,
specification/network/resource-manager/Microsoft.Network/stable/*/virtualNetwork.json and
privateEndpoint.json: PUT answers 200/201 and DELETE 200/202/204, both long-running with
Azure-AsyncOperation; specification/privatedns: zones live in location "global"). Writes run as the
emulator's other operations do (lro.py), provisioningState "Updating" until the operation is done.

Subnets are stored as child resources and shown inline in their network (properties.subnets), as
Azure shows them. A network PUT replaces the set of subnets: one left out is deleted, refused while
in use (the trap Azure/bicep#13267 reports).

Refusals, as Azure answers them (400 unless noted):
- NetcfgSubnetRangeOutsideVnet, NetcfgSubnetRangesOverlap, InvalidCIDRNotation: a subnet's prefix
  outside its network's address space, overlapping another subnet, or with host bits set (wording as
  quoted by `az network vnet subnet create` users, e.g. MicrosoftDocs/azure-docs and az CLI issues).
- InUseSubnetCannotBeDeleted: deleting a subnet (or its network) that holds a private endpoint's
  network interface [ISSUE Azure/bicep#13267, Azure/bicep#12540].
- SubnetDelegationsCannotChangeWhenSubnetUsedByResource: changing the delegations of a subnet in use
  [ISSUE MicrosoftDocs/azure-docs#39112].
- PrivateEndpointCreationNotAllowedAsSubnetIsDelegated: a private endpoint in a delegated subnet
  [ISSUE MicrosoftDocs/azure-docs#47048 describes the refusal; code and the shape of the message ("... cannot
  be created as subnet ... is delegated") as learn.microsoft.com/azure/private-link/troubleshoot-private-
  endpoint-creation-failed quotes them; the full wording UNVERIFIED].
- InvalidResourceReference: a reference (subnet, private DNS zone) to a resource that does not exist
  or is in another region (the Network RP's generic message).
- On a private endpoint, as learn.microsoft.com/azure/postgresql/flexible-server/how-to-networking-servers-
  deployed-public-access-add-private-endpoint quotes them (MicrosoftDocs/azure-databases-docs, "PE docs"
  below): CannotChangeSubnetOnExistingPrivateEndpoint (another subnet),
  CannotChangePrivateLinkConnectionOnPrivateEndpoint (another connection name or target),
  PrivateIPAddressIsAllocated (a static address another endpoint holds), and ARM's InvalidResourceLocation
  (another location; the status Azure gives it is UNVERIFIED).
"""
from __future__ import annotations

import ipaddress
import uuid
from typing import Callable

from provisioner.emulator import lro, registry, schemas
from provisioner.emulator.arm import Call, Reply, Router, list_reply, new_etag, require_group
from provisioner.emulator.errors import ArmError, not_found
from provisioner.emulator.store import Store, key_of

NAMESPACE = "Microsoft.Network"
VNET_TYPE = "Microsoft.Network/virtualNetworks"
SUBNET_TYPE = "Microsoft.Network/virtualNetworks/subnets"
PE_TYPE = "Microsoft.Network/privateEndpoints"
ZONE_GROUP_TYPE = "Microsoft.Network/privateEndpoints/privateDnsZoneGroups"
ZONE_TYPE = "Microsoft.Network/privateDnsZones"
GROUP = "/subscriptions/{subscription}/resourcegroups/{group}/providers/microsoft.network"
VNET = GROUP + "/virtualnetworks/{vnet}"
SUBNET = VNET + "/subnets/{subnet}"
PE = GROUP + "/privateendpoints/{pe}"
ZONE_GROUP = PE + "/privatednszonegroups/{zonegroup}"
ZONE = GROUP + "/privatednszones/{zone}"

# Called as hook(store, private_endpoint, connection) when a private endpoint connects to a resource
# (providers/privatelink.py records the connection on the account); returns the connection's state,
# or raises ArmError to refuse. DISCONNECT hooks run when the endpoint goes.
CONNECT: dict[str, Callable[[Store, dict, dict], dict]] = {}  # keyed by the target's lower-cased type
DISCONNECT: list[Callable[[Store, dict], None]] = []


def register(router: Router) -> None:
    router.add("PUT", VNET)(put_vnet)
    router.add("GET", VNET)(get_vnet)
    router.add("DELETE", VNET)(delete_vnet)
    router.add("GET", GROUP + "/virtualnetworks")(list_vnets)
    router.add("GET", "/subscriptions/{subscription}/providers/microsoft.network/virtualnetworks")(list_vnets_all)
    router.add("PUT", SUBNET)(put_subnet)
    router.add("GET", SUBNET)(get_subnet)
    router.add("DELETE", SUBNET)(delete_subnet)
    router.add("GET", VNET + "/subnets")(list_subnets)
    router.add("PUT", PE)(put_private_endpoint)
    router.add("GET", PE)(get_private_endpoint)
    router.add("DELETE", PE)(delete_private_endpoint)
    router.add("GET", GROUP + "/privateendpoints")(list_private_endpoints)
    router.add("GET", "/subscriptions/{subscription}/providers/microsoft.network/privateendpoints")(
        list_private_endpoints_all)
    router.add("PUT", ZONE_GROUP)(put_zone_group)
    router.add("GET", ZONE_GROUP)(get_zone_group)
    router.add("DELETE", ZONE_GROUP)(delete_zone_group)
    router.add("GET", PE + "/privatednszonegroups")(list_zone_groups)
    router.add("PUT", ZONE)(put_zone)
    router.add("GET", ZONE)(get_zone)
    router.add("DELETE", ZONE)(delete_zone)
    router.add("GET", GROUP + "/privatednszones")(list_zones)


def resource_id(subscription: str, group: str, path: str) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{group}/providers/{NAMESPACE}/{path}"


# --- shared ---------------------------------------------------------------------------------------

def _write(call: Call, doc: dict, created: bool, resource: str) -> Reply:
    """Store `doc` and run its write as an operation: 201 (created) or 200, with Azure-AsyncOperation."""
    doc["etag"] = new_etag()
    doc["properties"]["provisioningState"] = "Updating"
    call.store.put(doc["id"], doc["type"], doc)
    duration = call.config.duration(resource, "create" if created else "update")
    headers = lro.start(call, resource_id=doc["id"], action="write", duration=duration, namespace=NAMESPACE,
                        location=doc.get("location") or "global", lock_id=None, initial_status="InProgress")
    if duration <= 0:
        lro.settle(call.store, call.now)
    return Reply(201 if created else 200, _served(call.store, doc), headers)


def _delete(call: Call, doc: dict | None, resource: str) -> Reply:
    """DELETE as the Network RP answers it: 202 with Azure-AsyncOperation and Location; 204 when absent."""
    if doc is None:
        return Reply(204)
    duration = call.config.duration(resource, "delete")
    headers = lro.start(call, resource_id=doc["id"], action="delete", duration=duration, namespace=NAMESPACE,
                        location=doc.get("location") or "global", lock_id=None, initial_status="InProgress")
    if duration <= 0:
        lro.settle(call.store, call.now)
    return Reply(202, None, headers)


def _served(store: Store, doc: dict) -> dict:
    """A document as served: without the emulator's private keys; a network with its subnets inline."""
    doc = _public(doc)
    if doc["type"] == VNET_TYPE:
        subnets = [_subnet_view(store, s) for s in store.children(doc["id"], SUBNET_TYPE)]
        doc = {**doc, "properties": {**doc["properties"], "subnets": subnets}}
    elif doc["type"] == SUBNET_TYPE:
        doc = _subnet_view(store, doc)
    return doc


def _subnet_view(store: Store, subnet: dict) -> dict:
    endpoints = _endpoints_in(store, subnet["id"])
    properties = dict(subnet["properties"])
    if endpoints:
        properties["privateEndpoints"] = [{"id": pe["id"]} for pe in endpoints]
        properties["ipConfigurations"] = [{"id": _ip_configuration_id(pe)} for pe in endpoints]
    return {**subnet, "properties": properties}


def _check_prefix_change(store: Store, existing: dict | None, nets: list) -> None:
    """A subnet holding private endpoints keeps the prefix their addresses come from: removing it is
    400 InUsePrefixCannotBeDeleted (as quoted in hashicorp/terraform-provider-azurerm#11211). Other prefix
    changes of a subnet in use are refused with InUseSubnetCannotBeUpdated (the code Azure users branch on,
    e.g. azure-cli#15893; its wording and whether Azure refuses an added prefix are UNVERIFIED)."""
    if existing is None or not _endpoints_in(store, existing["id"]):
        return
    wanted, before = {str(n) for n in nets}, _prefixes_of(existing)
    if before[0] not in wanted:
        raise ArmError(400, "InUsePrefixCannotBeDeleted",
                       f"IpPrefix {before[0]} on Subnet {existing['name']} has active allocations and cannot be "
                       "deleted.")
    if wanted != set(before):
        raise ArmError(400, "InUseSubnetCannotBeUpdated",
                       f"Subnet {existing['name']} is in use and its address prefixes cannot be changed.")


def _endpoints_in(store: Store, subnet_id: str) -> list[dict]:
    subscription = subnet_id.split("/")[2]
    return [pe for pe in store.under(f"/subscriptions/{subscription}", PE_TYPE)
            if key_of(pe["properties"]["subnet"]["id"]) == key_of(subnet_id)]


def _nic_id(pe: dict) -> str:
    return pe["properties"]["networkInterfaces"][0]["id"]


def _ip_configuration_id(pe: dict) -> str:
    return f"{_nic_id(pe)}/ipConfigurations/privateEndpointIpConfig.{pe['emulatorNicGuid']}"


def _body(call: Call, resource_type: str) -> dict:
    """The body as the SDK's model reads it (schemas.py: types, enums, required members)."""
    return schemas.clean(resource_type, call.json_body())


def _tags(body: dict) -> dict:
    tags = body.get("tags") or {}
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise ArmError(400, "InvalidRequestFormat", "Cannot parse the request: tag values are strings.")
    return tags


def _location_changed(name: str, current: str, group: str, wanted: str) -> ArmError:
    """ARM's refusal to move a resource (wording: PE docs; status UNVERIFIED)."""
    return ArmError(400, "InvalidResourceLocation",
                    f"The resource '{name}' already exists in location '{current}' in resource group '{group}'. A "
                    f"resource with the same name cannot be created in location '{wanted}'. Please select a new "
                    "resource name.")


def _reference_missing(reference: str, referrer: str) -> ArmError:
    return ArmError(400, "InvalidResourceReference",
                    f"Resource {reference} referenced by resource {referrer} was not found. Please make sure that "
                    "the referenced resource exists, and that both resources are in the same region.")


# --- virtual networks -----------------------------------------------------------------------------

def put_vnet(call: Call) -> Reply:
    p = call.params
    require_group(call, p["subscription"], p["group"])
    body = _body(call, VNET_TYPE)
    new_id = resource_id(p["subscription"], p["group"], f"virtualNetworks/{p['vnet']}")
    existing = call.store.get(new_id)
    location = registry.required_location(VNET_TYPE, body, existing)
    if existing and location != existing["location"]:
        raise _location_changed(p["vnet"], existing["location"], p["group"], location)
    properties = body.get("properties") or {}
    prefixes = (properties.get("addressSpace") or {}).get("addressPrefixes") or []
    spaces = [_network(prefix, new_id) for prefix in prefixes]
    doc = {"id": new_id, "name": p["vnet"], "type": VNET_TYPE, "location": location, "tags": _tags(body),
           "properties": {"addressSpace": {"addressPrefixes": [str(s) for s in spaces]},
                          "resourceGuid": (existing or {}).get("properties", {}).get("resourceGuid")
                          or str(uuid.uuid4()),
                          "enableDdosProtection": bool(properties.get("enableDdosProtection", False)),
                          "virtualNetworkPeerings": [], "privateEndpointVNetPolicies": "Disabled"}}
    # the subnets the body names replace the ones there are (a subnet left out is deleted)
    wanted = properties.get("subnets") or []
    if not isinstance(wanted, list):
        raise ArmError(400, "InvalidRequestFormat", "Cannot parse the request: subnets is an array.")
    names = [str((s or {}).get("name", "")) for s in wanted]
    if any(not n for n in names):
        raise ArmError(400, "InvalidRequestFormat", "Each subnet needs a name.")  # wording UNVERIFIED
    current = {s["name"].lower(): s for s in call.store.children(new_id, SUBNET_TYPE)} if existing else {}
    planned: list[tuple[str, list, dict]] = []
    for item, name in zip(wanted, names):
        subnet_id = f"{new_id}/subnets/{name}"
        sub_props = item.get("properties") or {}
        planned.append((name, _subnet_prefixes(sub_props, subnet_id), sub_props))
    _check_prefixes(p["vnet"], spaces, [(n, nets) for n, nets, _ in planned])
    for gone in set(current) - {n.lower() for n in names}:
        _refuse_in_use(call.store, current[gone])
    for name, nets, sub_props in planned:
        subnet_id = f"{new_id}/subnets/{name}"
        previous = current.get(name.lower())
        _check_delegation_change(call.store, previous, sub_props, subnet_id)
        _check_prefix_change(call.store, previous, nets)
    for gone in set(current) - {n.lower() for n in names}:
        call.store.delete(current[gone]["id"])
    for name, nets, sub_props in planned:
        subnet = _subnet_doc(f"{new_id}/subnets/{name}", name, nets, sub_props, current.get(name.lower()))
        subnet["properties"]["provisioningState"] = "Succeeded"
        call.store.put(subnet["id"], SUBNET_TYPE, subnet)
    return _write(call, doc, existing is None, "virtualNetworks")


def get_vnet(call: Call) -> Reply:
    return Reply(200, _served(call.store, _require(call, f"virtualNetworks/{call.params['vnet']}", VNET_TYPE)))


def delete_vnet(call: Call) -> Reply:
    p = call.params
    require_group(call, p["subscription"], p["group"])
    doc = call.store.get(resource_id(p["subscription"], p["group"], f"virtualNetworks/{p['vnet']}"))
    if doc is not None:
        for subnet in call.store.children(doc["id"], SUBNET_TYPE):
            _refuse_in_use(call.store, subnet)
    return _delete(call, doc, "virtualNetworks")


def list_vnets(call: Call) -> Reply:
    p = call.params
    require_group(call, p["subscription"], p["group"])
    docs = call.store.children(f"/subscriptions/{p['subscription']}/resourceGroups/{p['group']}", VNET_TYPE)
    return list_reply([_served(call.store, d) for d in docs])


def list_vnets_all(call: Call) -> Reply:
    docs = call.store.under(f"/subscriptions/{call.params['subscription']}", VNET_TYPE)
    return list_reply([_served(call.store, d) for d in docs])


# --- subnets --------------------------------------------------------------------------------------

def put_subnet(call: Call) -> Reply:
    p = call.params
    vnet = _require(call, f"virtualNetworks/{p['vnet']}", VNET_TYPE)
    body = _body(call, SUBNET_TYPE)
    subnet_id = f"{vnet['id']}/subnets/{p['subnet']}"
    existing = call.store.get(subnet_id)
    properties = body.get("properties") or {}
    nets = _subnet_prefixes(properties, subnet_id)
    spaces = [ipaddress.ip_network(s) for s in vnet["properties"]["addressSpace"]["addressPrefixes"]]
    others = [(s["name"], [ipaddress.ip_network(x) for x in _prefixes_of(s)])
              for s in call.store.children(vnet["id"], SUBNET_TYPE) if key_of(s["id"]) != key_of(subnet_id)]
    _check_prefixes(vnet["name"], spaces, [(p["subnet"], nets)], others)
    _check_delegation_change(call.store, existing, properties, subnet_id)
    _check_prefix_change(call.store, existing, nets)
    doc = _subnet_doc(subnet_id, p["subnet"], nets, properties, existing)
    return _write(call, doc, existing is None, "subnets")


def get_subnet(call: Call) -> Reply:
    p = call.params
    return Reply(200, _served(call.store, _require(call, f"virtualNetworks/{p['vnet']}/subnets/{p['subnet']}",
                                                   SUBNET_TYPE)))


def delete_subnet(call: Call) -> Reply:
    p = call.params
    _require(call, f"virtualNetworks/{p['vnet']}", VNET_TYPE)
    doc = call.store.get(resource_id(p["subscription"], p["group"],
                                     f"virtualNetworks/{p['vnet']}/subnets/{p['subnet']}"))
    if doc is not None:
        _refuse_in_use(call.store, doc)
    return _delete(call, doc, "subnets")


def list_subnets(call: Call) -> Reply:
    vnet = _require(call, f"virtualNetworks/{call.params['vnet']}", VNET_TYPE)
    return list_reply([_served(call.store, s) for s in call.store.children(vnet["id"], SUBNET_TYPE)])


def _subnet_doc(subnet_id: str, name: str, nets: list, properties: dict, existing: dict | None) -> dict:
    delegations = []
    for item in properties.get("delegations") or []:
        service = ((item or {}).get("properties") or {}).get("serviceName")
        if not item.get("name") or not service:
            raise ArmError(400, "InvalidRequestFormat",  # wording UNVERIFIED
                           f"A delegation of subnet {subnet_id} needs a name and properties.serviceName.")
        delegations.append({"name": item["name"], "id": f"{subnet_id}/delegations/{item['name']}",
                            "type": "Microsoft.Network/virtualNetworks/subnets/delegations", "etag": new_etag(),
                            "properties": {"serviceName": service, "provisioningState": "Succeeded",
                                           "actions": item["properties"].get("actions") or []}})
    props: dict = {"delegations": delegations,
                   # defaults as Azure gives them (privateEndpointNetworkPolicies: Disabled since 2023-04-01's
                   # ARM schema; privateLinkServiceNetworkPolicies: Enabled)
                   "privateEndpointNetworkPolicies": _enum(properties.get("privateEndpointNetworkPolicies", "Disabled"),
                                                           ("Disabled", "Enabled", "NetworkSecurityGroupEnabled",
                                                            "RouteTableEnabled"), "privateEndpointNetworkPolicies"),
                   "privateLinkServiceNetworkPolicies": _enum(properties.get("privateLinkServiceNetworkPolicies",
                                                                             "Enabled"), ("Disabled", "Enabled"),
                                                              "privateLinkServiceNetworkPolicies")}
    if len(nets) == 1 and "addressPrefixes" not in properties:
        props["addressPrefix"] = str(nets[0])
    else:
        props["addressPrefixes"] = [str(n) for n in nets]
    if properties.get("serviceEndpoints"):
        props["serviceEndpoints"] = [{"service": (e or {}).get("service"),
                                      "locations": (e or {}).get("locations") or ["*"],
                                      "provisioningState": "Succeeded"} for e in properties["serviceEndpoints"]]
    doc = {"id": subnet_id, "name": name, "type": SUBNET_TYPE, "properties": props}
    if existing is not None:
        doc["etag"] = existing.get("etag")
    return doc


def _enum(value, allowed: tuple[str, ...], name: str) -> str:
    match = next((a for a in allowed if a.lower() == str(value).lower()), None)
    if match is None:
        raise ArmError(400, "InvalidRequestFormat",  # wording UNVERIFIED
                       f"Cannot parse the request: '{value}' is not a valid value of {name} "
                       f"(allowed: {', '.join(allowed)}).")
    return match


def _prefixes_of(subnet: dict) -> list[str]:
    properties = subnet["properties"]
    return properties.get("addressPrefixes") or [properties["addressPrefix"]]


def _subnet_prefixes(properties: dict, subnet_id: str) -> list:
    given = properties.get("addressPrefixes") or ([properties["addressPrefix"]] if properties.get("addressPrefix")
                                                  else [])
    if not given:
        raise ArmError(400, "NoAddressPrefixOrPoolProvided",  # code as Azure names it; wording UNVERIFIED
                       f"No address prefix or IPAM pool is provided for subnet {subnet_id}.")
    return [_network(str(prefix), subnet_id) for prefix in given]


def _network(prefix: str, owner: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        fixed = ipaddress.ip_network(prefix, strict=False)
    except ValueError:
        fixed = None
    if fixed is None or "/" not in prefix:  # an address without its length too [ISSUE Azure/azure-service-operator#997]
        raise ArmError(400, "InvalidAddressPrefixFormat",  # [ISSUE Azure/avdaccelerator#83 words it the same]
                       f"Address prefix {prefix} of resource {owner} is not formatted correctly. It should follow "
                       "CIDR notation, for example 10.0.0.0/24.")
    if fixed.network_address != ipaddress.ip_interface(prefix).ip:  # host bits set
        raise ArmError(400, "InvalidCIDRNotation",
                       f"The address prefix {prefix} in resource {owner} has an invalid CIDR notation. For the given "
                       f"prefix length, the address prefix should be {fixed}.")
    return fixed


def _check_prefixes(vnet_name: str, spaces: list, subnets: list[tuple[str, list]],
                    others: list[tuple[str, list]] = ()) -> None:
    seen: list[tuple[str, list]] = list(others)
    for name, nets in subnets:
        for net in nets:
            if not any(net.version == s.version and net.subnet_of(s) for s in spaces):
                raise ArmError(400, "NetcfgSubnetRangeOutsideVnet",
                               f"Subnet '{name}' is not valid because its IP address range is outside the IP address "
                               f"range of virtual network '{vnet_name}'.")
            for _, other_nets in seen:
                if any(net.version == o.version and net.overlaps(o) for o in other_nets):
                    raise ArmError(400, "NetcfgSubnetRangesOverlap",
                                   f"Subnet '{name}' is not valid because its IP address range overlaps with that of "
                                   f"an existing subnet in virtual network '{vnet_name}'.")
        seen.append((name, nets))


def _refuse_in_use(store: Store, subnet: dict) -> None:
    endpoints = _endpoints_in(store, subnet["id"])
    if endpoints:
        raise ArmError(400, "InUseSubnetCannotBeDeleted",
                       f"Subnet {subnet['name']} is in use by {_ip_configuration_id(endpoints[0])} and cannot be "
                       "deleted. In order to delete the subnet, delete all the resources within the subnet. "
                       "See aka.ms/deletesubnet.")


def _check_delegation_change(store: Store, existing: dict | None, properties: dict, subnet_id: str) -> None:
    if existing is None:
        return
    before = sorted(d["properties"]["serviceName"].lower() for d in existing["properties"].get("delegations", []))
    after = sorted(str(((d or {}).get("properties") or {}).get("serviceName", "")).lower()
                   for d in properties.get("delegations") or [])
    endpoints = _endpoints_in(store, subnet_id)
    if before != after and endpoints:
        raise ArmError(400, "SubnetDelegationsCannotChangeWhenSubnetUsedByResource",
                       f"Delegations of subnet {subnet_id} cannot be changed from [{', '.join(before)}] to "
                       f"[{', '.join(after)}] because it is being used by the resource "
                       f"{_ip_configuration_id(endpoints[0])}.")


# --- private endpoints ----------------------------------------------------------------------------

def put_private_endpoint(call: Call) -> Reply:
    p = call.params
    require_group(call, p["subscription"], p["group"])
    body = _body(call, PE_TYPE)
    pe_id = resource_id(p["subscription"], p["group"], f"privateEndpoints/{p['pe']}")
    existing = call.store.get(pe_id)
    location = registry.required_location(PE_TYPE, body, existing)
    if existing and location != existing["location"]:
        raise _location_changed(p["pe"], existing["location"], p["group"], location)
    properties = body.get("properties") or {}
    subnet_ref = str((properties.get("subnet") or {}).get("id") or "")
    subnet = call.store.get(subnet_ref) if subnet_ref.lower().startswith("/subscriptions/") else None
    if not subnet_ref:
        raise ArmError(400, "PrivateEndpointSubnetRequired",  # code and wording UNVERIFIED
                       f"Private endpoint {pe_id} must reference a subnet.")
    vnet = call.store.get(subnet_ref.rsplit("/subnets/", 1)[0]) if subnet else None
    if subnet is None or subnet["type"] != SUBNET_TYPE or vnet is None or vnet["location"] != location:
        raise _reference_missing(subnet_ref, pe_id)
    if existing and key_of(existing["properties"]["subnet"]["id"]) != key_of(subnet_ref):
        raise ArmError(400, "CannotChangeSubnetOnExistingPrivateEndpoint",  # PE docs; 400: pulumi-azure-native#3883
                       f"Cannot change the subnet in which the network interface for private endpoint {pe_id} is "
                       f"created. Current subnet: '{existing['properties']['subnet']['id']}.' Requested subnet: "
                       f"'{subnet['id']}.'")
    if subnet["properties"].get("delegations"):
        raise ArmError(400, "PrivateEndpointCreationNotAllowedAsSubnetIsDelegated",
                       f"Private endpoint {pe_id} cannot be created as subnet {subnet['id']} is delegated.")
    automatic = properties.get("privateLinkServiceConnections") or []
    manual = properties.get("manualPrivateLinkServiceConnections") or []
    if len(automatic) + len(manual) != 1:
        raise ArmError(400, "PrivateEndpointMustHaveOneConnection",  # code and wording UNVERIFIED
                       f"Private endpoint {pe_id} must have exactly one private link service connection.")
    nic_guid = (existing or {}).get("emulatorNicGuid") or str(uuid.uuid4())
    nic_name = properties.get("customNetworkInterfaceName") or f"{p['pe']}.nic.{nic_guid}"
    nic_id = resource_id(p["subscription"], p["group"], f"networkInterfaces/{nic_name}")
    static = _static_ip_configurations(call.store, subnet, properties.get("ipConfigurations") or [], pe_id,
                                       f"{nic_id}/ipConfigurations/privateEndpointIpConfig.{nic_guid}")
    address = static[0]["properties"]["privateIPAddress"] if static else \
        (existing or {}).get("emulatorIp") or _free_ip(call.store, subnet)
    doc = {"id": pe_id, "name": p["pe"], "type": PE_TYPE, "location": location, "tags": _tags(body),
           "emulatorNicGuid": nic_guid, "emulatorIp": address,
           "properties": {"resourceGuid": (existing or {}).get("properties", {}).get("resourceGuid")
                          or str(uuid.uuid4()),
                          "subnet": {"id": subnet["id"]},
                          "networkInterfaces": [{"id": nic_id}],
                          "customNetworkInterfaceName": properties.get("customNetworkInterfaceName") or "",
                          "ipConfigurations": static,
                          "applicationSecurityGroups": [{"id": g.get("id")} for g in
                                                        properties.get("applicationSecurityGroups") or []],
                          "privateLinkServiceConnections": [], "manualPrivateLinkServiceConnections": [],
                          "customDnsConfigs": [], "isIPv6EnabledPrivateEndpoint": False}}
    previous = {c["name"].lower(): c for c in
                (existing or {}).get("properties", {}).get("privateLinkServiceConnections", []) +
                (existing or {}).get("properties", {}).get("manualPrivateLinkServiceConnections", [])}
    key = "privateLinkServiceConnections" if automatic else "manualPrivateLinkServiceConnections"
    given = (automatic or manual)[0] or {}
    connection = _connection(call.store, doc, given, previous, manual=bool(manual))
    doc["properties"][key] = [connection]
    doc["properties"]["customDnsConfigs"] = connection.pop("emulatorDns", [])
    return _write(call, doc, existing is None, "privateEndpoints")


def _static_ip_configurations(store: Store, subnet: dict, given: list, pe_id: str,
                              ip_configuration: str) -> list[dict]:
    """Addresses the endpoint asks for (ipConfigurations: PrivateEndpointCreate.json's "pestaticconfig"):
    each must lie in the subnet and be free."""
    network = ipaddress.ip_network(_prefixes_of(subnet)[0])
    used = {pe.get("emulatorIp"): pe for pe in _endpoints_in(store, subnet["id"]) if key_of(pe["id"]) != key_of(pe_id)}
    configurations = []
    for item in given:
        props = item.get("properties") or {}
        address = str(props.get("privateIPAddress") or "")
        try:
            inside = ipaddress.ip_address(address) in network
        except ValueError:
            inside = False
        if not inside:
            raise ArmError(400, "PrivateIPAddressNotInSubnet",  # code and wording UNVERIFIED
                           f"Private static IP address {address} of private endpoint {pe_id} is not in the "
                           f"address range of subnet {subnet['id']}.")
        holder = used.get(address)
        if holder is not None:
            raise ArmError(400, "PrivateIPAddressIsAllocated",  # PE docs
                           f"IP configuration {ip_configuration} is using the private IP address {address} which is "
                           f"already allocated to resource {_ip_configuration_id(holder)}.")
        configurations.append({"name": item.get("name"), "properties": {
            "groupId": props.get("groupId"), "memberName": props.get("memberName"), "privateIPAddress": address}})
    return configurations


def _connection(store: Store, pe: dict, given: dict, previous: dict, *, manual: bool) -> dict:
    name = str(given.get("name") or pe["name"])  # the spec's example sends none; the endpoint's name (UNVERIFIED)
    props = given.get("properties") or {}
    target_id = str(props.get("privateLinkServiceId") or "")
    if not target_id:
        raise ArmError(400, "InvalidRequestFormat",  # wording UNVERIFIED
                       f"A private link service connection of {pe['id']} needs a privateLinkServiceId.")
    old = next(iter(previous.values()), None)  # an endpoint has one connection
    if old is not None and (old["name"].lower() != name.lower() or
                            key_of(old["properties"]["privateLinkServiceId"]) != key_of(target_id)):
        raise ArmError(400, "CannotChangePrivateLinkConnectionOnPrivateEndpoint",  # PE docs (module docstring)
                       f"Cannot change the private link connection on private endpoint {pe['id']}. Please ensure "
                       "you are not updating the details of existing private link connection: "
                       f"'{old['id']}'. That is not allowed.")
    target = store.get(target_id) if target_id.lower().startswith("/subscriptions/") else None
    connect = CONNECT.get((target or {}).get("type", "").lower())
    if target is None or connect is None:
        raise ArmError(400, "PrivateLinkServiceNotFound",  # code and wording UNVERIFIED
                       f"Private link service {target_id} referenced by private endpoint {pe['id']} was not found.")
    connection = {"name": name, "id": f"{pe['id']}/{'manualP' if manual else 'p'}rivateLinkServiceConnections/{name}",
                  "etag": new_etag(), "type": "Microsoft.Network/privateEndpoints/privateLinkServiceConnections",
                  "properties": {"provisioningState": "Succeeded", "privateLinkServiceId": target["id"],
                                 "groupIds": list(props.get("groupIds") or []),
                                 "requestMessage": props.get("requestMessage") or ""}}
    if not props.get("requestMessage"):
        connection["properties"].pop("requestMessage")
    state = connect(store, pe, {**connection, "manual": manual})
    connection["properties"]["privateLinkServiceConnectionState"] = state["state"]
    connection["emulatorDns"] = [{"fqdn": fqdn, "ipAddresses": [pe["emulatorIp"]]} for fqdn in state["fqdns"]]
    return connection


def _free_ip(store: Store, subnet: dict) -> str:
    """The next address after Azure's five reserved ones (network, gateway, two DNS, broadcast at the end)."""
    network = ipaddress.ip_network(_prefixes_of(subnet)[0])
    used = {pe.get("emulatorIp") for pe in _endpoints_in(store, subnet["id"])}
    for offset in range(4, network.num_addresses - 1):
        address = str(network.network_address + offset)
        if address not in used:
            return address
    raise ArmError(400, "SubnetIsFull",  # code and wording UNVERIFIED
                   f"Subnet {subnet['id']} has no free address left.")


def get_private_endpoint(call: Call) -> Reply:
    return Reply(200, _public(_require(call, f"privateEndpoints/{call.params['pe']}", PE_TYPE)))


def delete_private_endpoint(call: Call) -> Reply:
    p = call.params
    require_group(call, p["subscription"], p["group"])
    doc = call.store.get(resource_id(p["subscription"], p["group"], f"privateEndpoints/{p['pe']}"))
    return _delete(call, doc, "privateEndpoints")


def list_private_endpoints(call: Call) -> Reply:
    p = call.params
    require_group(call, p["subscription"], p["group"])
    docs = call.store.children(f"/subscriptions/{p['subscription']}/resourceGroups/{p['group']}", PE_TYPE)
    return list_reply([_public(d) for d in docs])


def list_private_endpoints_all(call: Call) -> Reply:
    return list_reply([_public(d) for d in call.store.under(f"/subscriptions/{call.params['subscription']}", PE_TYPE)])


def _public(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if not k.startswith("emulator")}


def disconnect(store: Store, pe: dict, status: str, description: str) -> None:
    """The target of a private endpoint's connection went away or removed it: the connection shows it."""
    for key in ("privateLinkServiceConnections", "manualPrivateLinkServiceConnections"):
        for connection in pe["properties"].get(key, []):
            connection["properties"]["privateLinkServiceConnectionState"] = {
                "status": status, "description": description, "actionsRequired": "None"}
    store.put(pe["id"], PE_TYPE, pe)


def _before_delete(store: Store, resource_key: str, now: float) -> None:
    """A private endpoint going (itself, or with its group): its connection goes from the target."""
    endpoints = store.under(resource_key, PE_TYPE)
    itself = store.get(resource_key)
    if itself is not None and itself.get("type") == PE_TYPE:
        endpoints.append(itself)
    for pe in endpoints:
        for hook in DISCONNECT:
            hook(store, pe)


lro.BEFORE_DELETE.append(_before_delete)


# --- private DNS zone groups ----------------------------------------------------------------------

def put_zone_group(call: Call) -> Reply:
    p = call.params
    pe = _require(call, f"privateEndpoints/{p['pe']}", PE_TYPE)
    body = _body(call, ZONE_GROUP_TYPE)
    group_id = f"{pe['id']}/privateDnsZoneGroups/{p['zonegroup']}"
    existing = call.store.get(group_id)
    others = [g for g in call.store.children(pe["id"], ZONE_GROUP_TYPE) if key_of(g["id"]) != key_of(group_id)]
    if others:
        # Wording as quoted in pulumi/pulumi-azure-native#2179; the code UNVERIFIED.
        raise ArmError(400, "OnlyOnePrivateDnsZoneGroupAllowed",
                       f"Cannot create more than one private dns zone groups in the private endpoint {pe['name']}.")
    configs = []
    fqdns = [c["fqdn"] for c in pe["properties"].get("customDnsConfigs", [])]
    for item in (body.get("properties") or {}).get("privateDnsZoneConfigs") or []:
        zone_id = str(((item or {}).get("properties") or {}).get("privateDnsZoneId") or "")
        zone = call.store.get(zone_id) if zone_id.lower().startswith("/subscriptions/") else None
        if zone is None or zone["type"] != ZONE_TYPE:
            raise _reference_missing(zone_id, group_id)
        name = str(item.get("name") or zone["name"].replace(".", "-"))
        records = [{"recordType": "A", "recordSetName": fqdn.split(".")[0], "fqdn": _record_fqdn(fqdn, zone["name"]),
                    "ttl": 10, "ipAddresses": [pe["emulatorIp"]], "provisioningState": "Succeeded"}
                   for fqdn in fqdns if _record_fqdn(fqdn, zone["name"])]
        configs.append({"name": name, "properties": {"privateDnsZoneId": zone["id"], "recordSets": records}})
    names = [c["name"].lower() for c in configs]
    duplicate = next((c["name"] for c in configs if names.count(c["name"].lower()) > 1), None)
    if duplicate is not None:  # as answered in hashicorp/terraform-provider-azurerm#28966
        raise ArmError(400, "InvalidRequestFormat", "Cannot parse the request.", details=[{
            "code": "DuplicateResourceName",
            "message": f"Resource {group_id} has two child resources with the same name ({duplicate})."}])
    if len(configs) > 5:
        # Five per group: learn.microsoft.com/azure/private-link/private-endpoint-dns ("Each DNS zone group can
        # support up to 5 DNS zones"); code and wording UNVERIFIED.
        raise ArmError(400, "TooManyPrivateDnsZoneConfigs",
                       f"Private DNS zone group {group_id} has {len(configs)} zone configs; at most 5 are allowed.")
    doc = {"id": group_id, "name": p["zonegroup"], "type": ZONE_GROUP_TYPE,
           "properties": {"privateDnsZoneConfigs": configs}}
    return _write(call, doc, existing is None, "privateDnsZoneGroups")


def _record_fqdn(fqdn: str, zone: str) -> str | None:
    """acct.openai.azure.com in zone privatelink.openai.azure.com: acct.privatelink.openai.azure.com."""
    host, _, domain = fqdn.partition(".")
    if zone.lower() == f"privatelink.{domain.lower()}":
        return f"{host}.{zone}"
    return None


def get_zone_group(call: Call) -> Reply:
    p = call.params
    return Reply(200, _require(call, f"privateEndpoints/{p['pe']}/privateDnsZoneGroups/{p['zonegroup']}",
                               ZONE_GROUP_TYPE))


def delete_zone_group(call: Call) -> Reply:
    p = call.params
    _require(call, f"privateEndpoints/{p['pe']}", PE_TYPE)
    doc = call.store.get(resource_id(p["subscription"], p["group"],
                                     f"privateEndpoints/{p['pe']}/privateDnsZoneGroups/{p['zonegroup']}"))
    return _delete(call, doc, "privateDnsZoneGroups")


def list_zone_groups(call: Call) -> Reply:
    pe = _require(call, f"privateEndpoints/{call.params['pe']}", PE_TYPE)
    return list_reply(call.store.children(pe["id"], ZONE_GROUP_TYPE))


# --- private DNS zones ----------------------------------------------------------------------------

def put_zone(call: Call) -> Reply:
    p = call.params
    require_group(call, p["subscription"], p["group"])
    body = call.json_body()
    zone_id = resource_id(p["subscription"], p["group"], f"privateDnsZones/{p['zone']}")
    existing = call.store.get(zone_id)
    registry.check_location(ZONE_TYPE, body.get("location") or "global")
    doc = {"id": zone_id, "name": p["zone"].lower(), "type": ZONE_TYPE, "location": "global", "tags": _tags(body),
           "properties": {"maxNumberOfRecordSets": 25000, "maxNumberOfVirtualNetworkLinks": 1000,
                          "maxNumberOfVirtualNetworkLinksWithRegistration": 100, "numberOfRecordSets": 1,
                          "numberOfVirtualNetworkLinks": 0, "numberOfVirtualNetworkLinksWithRegistration": 0,
                          "internalId": (existing or {}).get("properties", {}).get("internalId")
                          or uuid.uuid4().hex}}
    return _write(call, doc, existing is None, "privateDnsZones")


def get_zone(call: Call) -> Reply:
    return Reply(200, _require(call, f"privateDnsZones/{call.params['zone']}", ZONE_TYPE))


def delete_zone(call: Call) -> Reply:
    p = call.params
    require_group(call, p["subscription"], p["group"])
    return _delete(call, call.store.get(resource_id(p["subscription"], p["group"], f"privateDnsZones/{p['zone']}")),
                   "privateDnsZones")


def list_zones(call: Call) -> Reply:
    p = call.params
    require_group(call, p["subscription"], p["group"])
    return list_reply(call.store.children(f"/subscriptions/{p['subscription']}/resourceGroups/{p['group']}",
                                          ZONE_TYPE))


def _require(call: Call, path: str, resource_type: str) -> dict:
    p = call.params
    require_group(call, p["subscription"], p["group"])
    doc = call.store.get(resource_id(p["subscription"], p["group"], path))
    if doc is None:
        raise not_found(resource_type, path.split("/")[-1], p["group"])
    return doc
