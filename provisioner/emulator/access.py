"""Who may reach an account's data plane: its network rules, and the data actions of Entra callers' roles.

Network (learn.microsoft.com/azure/ai-services/cognitive-services-virtual-networks): a request through a
private endpoint to the account (an approved connection) is always let in; any other request comes over
the public endpoint, refused with 403 "Public access is disabled. Please configure private endpoint."
(code "403": the SDK shows it as "(403) Public access is disabled..." [ISSUE
Azure-Samples/azure-search-openai-demo#1157, TabularEditor/TabularEditor3#1557]) when publicNetworkAccess
is Disabled, and, when networkAcls.defaultAction is Deny, unless the caller's
address is in ipRules (an address or a CIDR range) or its subnet is in virtualNetworkRules, with 403
{"error": {"code": "403", "message": "Access denied due to Virtual Network/Firewall rules."}} [ISSUE
Azure-Samples/azure-sql-db-chatbot#3, microsoft/microsoft-foundry-for-vscode#29 show that body].

The caller's network position: the emulator sees every caller on its own port, so a caller says where it
is. By default it is on the public internet at the address set with the control surface
(`set_client_network(ip=...)`, 203.0.113.10 until then); `set_client_network(subnet=<subnet id>)` puts
callers in a subnet. One request can say otherwise with the headers x-emulator-client-ip and
x-emulator-client-subnet (read by the emulator only; Azure has nothing like them). A caller in a subnet
that holds a private endpoint to the account reaches it privately.

Roles: Entra callers (bearer tokens) need a role whose dataActions cover the call
(Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action, .../embeddings/action)
at the account's scope or above, else 401 PermissionDenied "The principal `{oid}` lacks the required data
action `{action}` to perform `{method} {route}` operation." [ISSUE davrous/AzureAgentToM365#3 shows the
status, code and wording]. Leniency: the check applies only when some role assignment exists at or above
the account, so an emulator without role assignments lets every principal of its tenant call (README
deviations). Keys are not subject to roles, as in Azure.
"""
from __future__ import annotations

import ipaddress
import uuid

from provisioner.emulator.arm import Call, Reply
from provisioner.emulator.providers import authorization
from provisioner.emulator.store import Store, key_of

CLIENT_SETTING = "network.client"
DEFAULT_CLIENT_IP = "203.0.113.10"  # TEST-NET-3 (RFC 5737): an address of the public internet
PE_TYPE = "Microsoft.Network/privateEndpoints"
FIREWALL = "Access denied due to Virtual Network/Firewall rules."
PUBLIC_DISABLED = "Public access is disabled. Please configure private endpoint."
DATA_ACTIONS = {  # route suffix -> (data action, the operation as Azure names it in PermissionDenied)
    "/chat/completions": ("Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action",
                          "POST /openai/deployments/{deployment-id}/chat/completions"),
    "/embeddings": ("Microsoft.CognitiveServices/accounts/OpenAI/deployments/embeddings/action",
                    "POST /openai/deployments/{deployment-id}/embeddings"),
}


class Denied(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.reply = Reply(status, {"error": {"code": code, "message": message}},
                           {"apim-request-id": str(uuid.uuid4())})


def set_client(store: Store, ip: str | None, subnet: str | None) -> dict:
    """Where callers are: {"ip", "subnet"}; `ip` None keeps the address, `subnet` "" leaves the subnet."""
    current = client(store, {})
    if ip is not None:
        ipaddress.ip_address(ip)  # ValueError for a malformed address
        current["ip"] = ip
    if subnet is not None:
        current["subnet"] = subnet or None
    store.set_setting(CLIENT_SETTING, current)
    return current


def client(store: Store, headers: dict[str, str]) -> dict:
    stored = store.setting(CLIENT_SETTING, {}) or {}
    return {"ip": headers.get("x-emulator-client-ip") or stored.get("ip") or DEFAULT_CLIENT_IP,
            "subnet": headers.get("x-emulator-client-subnet") or stored.get("subnet")}


def check_network(call: Call, account: dict) -> None:
    """403 unless the caller may reach the account from where it is."""
    where = client(call.store, call.headers)
    if where["subnet"] and _private_endpoint_in(call.store, account, where["subnet"]):
        return
    props = account["properties"]
    if props.get("publicNetworkAccess", "Enabled") == "Disabled":
        raise Denied(403, "403", PUBLIC_DISABLED)
    acls = props.get("networkAcls") or {}
    if acls.get("defaultAction", "Allow") != "Deny":
        return
    if _ip_allowed(where["ip"], [r.get("value", "") for r in acls.get("ipRules") or []]):
        return
    if where["subnet"] and any(key_of(r.get("id", "")) == key_of(where["subnet"])
                               for r in acls.get("virtualNetworkRules") or []):
        return
    raise Denied(403, "403", FIREWALL)


def check_roles(call: Call, account: dict, claims: dict) -> None:
    """401 PermissionDenied when role assignments apply to the account and none lets the caller do this."""
    if not authorization.assignments_covering(call.store, account["id"]):
        return
    action, operation = next((v for k, v in DATA_ACTIONS.items() if call.path.rstrip("/").endswith(k)),
                             (None, None))
    if action is None or authorization.permits(call.store, account["id"], str(claims.get("oid", "")), action):
        return
    raise Denied(401, "PermissionDenied",
                 f"The principal `{claims.get('oid')}` lacks the required data action `{action}` to perform "
                 f"`{operation}` operation.")


def _private_endpoint_in(store: Store, account: dict, subnet_id: str) -> bool:
    subscription = subnet_id.strip("/").split("/")[1] if subnet_id.count("/") > 2 else ""
    for pe in store.under(f"/subscriptions/{subscription}", PE_TYPE) if subscription else []:
        if key_of(pe["properties"]["subnet"]["id"]) != key_of(subnet_id):
            continue
        for connection in pe["properties"].get("privateLinkServiceConnections", []) + \
                pe["properties"].get("manualPrivateLinkServiceConnections", []):
            props = connection["properties"]
            if key_of(props["privateLinkServiceId"]) == key_of(account["id"]) and \
                    props["privateLinkServiceConnectionState"]["status"] == "Approved":
                return True
    return False


def _ip_allowed(ip: str, rules: list[str]) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    for rule in rules:
        try:
            if address in ipaddress.ip_network(rule, strict=False):
                return True
        except ValueError:
            continue
    return False
