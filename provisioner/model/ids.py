"""ARM resource ids and GUIDs, parsed and checked (pure).

An id is /subscriptions/{s}/resourceGroups/{g}/providers/{Namespace}/{type}/{name}[/{type}/{name}...]
(or without the subscription and group for tenant-level resources such as built-in role
definitions). Source: learn.microsoft.com/azure/azure-resource-manager/management/
resource-name-rules and Azure/azure-rest-api-specs specification/common-types/resource-management/
v5/types.json (`arm-id`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

SUBNET = "microsoft.network/virtualnetworks/subnets"
WORKSPACE = "microsoft.operationalinsights/workspaces"
USER_ASSIGNED_IDENTITY = "microsoft.managedidentity/userassignedidentities"
PRIVATE_DNS_ZONE = "microsoft.network/privatednszones"

# what each type is called in messages, and an example of its id
DESCRIBED = {
    SUBNET: ("a subnet", "/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Network/virtualNetworks/VNET"
                         "/subnets/SUBNET"),
    WORKSPACE: ("a Log Analytics workspace", "/subscriptions/SUB/resourceGroups/RG/providers/"
                                             "Microsoft.OperationalInsights/workspaces/NAME"),
    USER_ASSIGNED_IDENTITY: ("a user-assigned managed identity",
                             "/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.ManagedIdentity/"
                             "userAssignedIdentities/NAME"),
    PRIVATE_DNS_ZONE: ("a private DNS zone", "/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Network/"
                                             "privateDnsZones/privatelink.openai.azure.com"),
}

_SEGMENT = re.compile(r"[^/?#%\s\\]+")  # nothing that would change which resource a URL addresses


@dataclass(frozen=True)
class ResourceId:
    subscription: str | None
    resource_group: str | None
    type: str  # lowercase, "microsoft.network/virtualnetworks/subnets"
    name: str  # the last name


def parse(text: str) -> ResourceId | None:
    """The parts of an ARM resource id, or None when `text` is not one."""
    if not text.startswith("/") or text.endswith("/"):
        return None
    parts = text[1:].split("/")
    if any(not _SEGMENT.fullmatch(p) or p in (".", "..") for p in parts):
        return None
    subscription = group = None
    lowered = [p.lower() for p in parts]
    if lowered[:1] == ["subscriptions"]:
        if len(parts) < 2 or not GUID.fullmatch(parts[1]):
            return None
        subscription, parts, lowered = parts[1], parts[2:], lowered[2:]
        if lowered[:1] == ["resourcegroups"]:
            if len(parts) < 2:
                return None
            group, parts, lowered = parts[1], parts[2:], lowered[2:]
    if lowered[:1] != ["providers"] or len(parts) < 4 or len(parts) % 2 != 0:
        return None
    namespace, rest = lowered[1], parts[2:]
    types = [rest[i].lower() for i in range(0, len(rest), 2)]
    return ResourceId(subscription, group, "/".join([namespace, *types]), rest[-1])


def problem(text: str, expected: str) -> str | None:
    """Why `text` is not the id of a resource of type `expected` (a key of DESCRIBED); None if it is."""
    what, example = DESCRIBED[expected]
    parsed = parse(text)
    if parsed is None or parsed.subscription is None or parsed.resource_group is None:
        return f"{text!r} is not an Azure resource id: expected the id of {what}, like {example}"
    if parsed.type != expected:
        return f"{text!r} is the id of a {parsed.type} resource, not of {what}: expected " \
               f"an id like {example}"
    return None
