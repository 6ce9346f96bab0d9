"""Who reaches an account's data plane (access.py): network rules, private endpoints, and the data actions
of Entra callers' roles, through the `openai` package and the management SDK clients."""
from __future__ import annotations

import uuid

import openai
import pytest
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

from tests.conftest import SUBSCRIPTION
from tests.emulator.security_fixtures import authorization, endpoint_body, group_id, network, vnet_body  # noqa: F401
from tests.emulator.test_dataplane import client, deploy

COGNITIVE = "https://cognitiveservices.azure.com"
HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture
def endpoint(cognitive, account):
    deploy(cognitive, "chat", "gpt-4o", "2024-11-20")
    return cognitive.accounts.get("rg", "acct").properties.endpoint


@pytest.fixture
def key(cognitive, account):
    return cognitive.accounts.list_keys("rg", "acct").key1


def restrict(cognitive, **properties):
    cognitive.accounts.begin_update("rg", "acct", {"properties": properties}).result()


def subnet_id(name: str) -> str:
    return f"{group_id()}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/{name}"


def chat(emulator, endpoint, **auth):
    return client(emulator, endpoint, **auth).chat.completions.create(model="chat", messages=HELLO, max_tokens=2)


def test_firewall_lets_listed_addresses_in(emulator, cognitive, endpoint, key):
    restrict(cognitive, networkAcls={"defaultAction": "Deny", "ipRules": [{"value": "198.51.100.0/24"}]})
    with pytest.raises(openai.PermissionDeniedError) as caught:  # from the default public address
        chat(emulator, endpoint, key=key)
    assert caught.value.status_code == 403
    assert caught.value.body == {"code": "403", "message": "Access denied due to Virtual Network/Firewall rules."}
    emulator.control.set_client_network(ip="198.51.100.7")
    assert chat(emulator, endpoint, key=key).object == "chat.completion"
    emulator.control.set_client_network(ip="192.0.2.1")
    allowed = client(emulator, endpoint, key=key).with_options(default_headers={"x-emulator-client-ip": "198.51.100.9"})
    assert allowed.chat.completions.create(model="chat", messages=HELLO, max_tokens=2).object == "chat.completion"


def test_virtual_network_rule(emulator, cognitive, endpoint, key):
    restrict(cognitive, networkAcls={"defaultAction": "Deny", "virtualNetworkRules": [{"id": subnet_id("apps")}]})
    emulator.control.set_client_network(subnet=subnet_id("other"))
    with pytest.raises(openai.PermissionDeniedError):
        chat(emulator, endpoint, key=key)
    emulator.control.set_client_network(subnet=subnet_id("apps"))
    assert chat(emulator, endpoint, key=key).object == "chat.completion"


def test_public_access_off_needs_a_private_endpoint(emulator, cognitive, network, endpoint, key, account):  # noqa: F811
    restrict(cognitive, publicNetworkAccess="Disabled")
    with pytest.raises(openai.PermissionDeniedError) as caught:
        chat(emulator, endpoint, key=key)
    assert caught.value.body["message"] == "Public access is disabled. Please configure private endpoint."
    network.virtual_networks.begin_create_or_update("rg", "vnet", vnet_body(pe="10.0.1.0/24",
                                                                            apps="10.0.2.0/24")).result()
    emulator.control.set_client_network(subnet=subnet_id("pe"))
    with pytest.raises(openai.PermissionDeniedError):  # no endpoint in that subnet yet
        chat(emulator, endpoint, key=key)
    network.private_endpoints.begin_create_or_update("rg", "pe", endpoint_body(subnet_id("pe"), account.id)).result()
    assert chat(emulator, endpoint, key=key).object == "chat.completion"
    emulator.control.set_client_network(subnet=subnet_id("apps"))  # another subnet of the network: public path
    with pytest.raises(openai.PermissionDeniedError):
        chat(emulator, endpoint, key=key)


def test_roles_decide_for_entra_callers_once_assigned(emulator, authorization, cognitive, endpoint, key,  # noqa: F811
                                                     account):
    app = emulator.control.add_service_principal(display_name="app")
    token = emulator.control.access_token(COGNITIVE, client_id=app["client_id"])
    assert chat(emulator, endpoint, token=token).object == "chat.completion"  # no assignments anywhere: lenient
    reader = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/" \
             "acdd72a7-3385-48ef-bd42-f606fba81ae7"
    authorization.role_assignments.create(group_id(), str(uuid.uuid4()), RoleAssignmentCreateParameters(
        role_definition_id=reader, principal_id=app["object_id"], principal_type="ServicePrincipal"))
    with pytest.raises(openai.AuthenticationError) as caught:
        chat(emulator, endpoint, token=token)
    assert caught.value.status_code == 401
    assert caught.value.body["code"] == "PermissionDenied"
    assert caught.value.body["message"] == (
        f"The principal `{app['object_id']}` lacks the required data action "
        "`Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action` to perform "
        "`POST /openai/deployments/{deployment-id}/chat/completions` operation.")
    assert chat(emulator, endpoint, key=key).object == "chat.completion"  # keys are not subject to roles
    user_role = reader.replace("acdd72a7-3385-48ef-bd42-f606fba81ae7", "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd")
    authorization.role_assignments.create(account.id, str(uuid.uuid4()), RoleAssignmentCreateParameters(
        role_definition_id=user_role, principal_id=app["object_id"], principal_type="ServicePrincipal"))
    assert chat(emulator, endpoint, token=token).object == "chat.completion"
    deploy(cognitive, "embed", "text-embedding-3-small", "1", sku="Standard")  # OpenAI User covers embeddings
    assert client(emulator, endpoint, token=token).embeddings.create(model="embed", input="one").data
