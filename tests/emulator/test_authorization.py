"""Microsoft.Authorization through the real SDK client: built-in role definitions and role assignments at
subscription, group and resource scope, with the refusals Azure makes."""
from __future__ import annotations

import ssl
import uuid

import httpx
import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

from tests.conftest import SUBSCRIPTION
from tests.emulator.security_fixtures import authorization, group_id  # noqa: F401
from tests.emulator.test_keyvault import vault_body

OPENAI_USER = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"


def role(role_guid: str = OPENAI_USER) -> str:
    return f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}"


def grant(principal: str, role_guid: str = OPENAI_USER, principal_type: str | None = None, description=None):
    return RoleAssignmentCreateParameters(role_definition_id=role(role_guid), principal_id=principal,
                                          principal_type=principal_type, description=description)


@pytest.fixture
def user(emulator):
    return emulator.control.add_principal("user", display_name="ada")["object_id"]


def test_built_in_role_definitions(authorization, account):  # noqa: F811
    found = authorization.role_definitions.get(account.id, OPENAI_USER)
    assert found.role_name == "Cognitive Services OpenAI User"
    assert found.role_type == "BuiltInRole"
    assert "Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action" in \
        found.permissions[0].data_actions
    assert found.permissions[0].not_data_actions == [
        "Microsoft.CognitiveServices/accounts/OpenAI/stored-completions/read"]
    listed = list(authorization.role_definitions.list(f"/subscriptions/{SUBSCRIPTION}",
                                                      filter="roleName eq 'Key Vault Secrets User'"))
    assert [(d.name, d.role_name) for d in listed] == [
        ("4633458b-17de-408a-b874-0445c86b69e6", "Key Vault Secrets User")]
    with pytest.raises(ResourceNotFoundError):
        authorization.role_definitions.get(account.id, str(uuid.uuid4()))


def test_assignment_on_an_account(authorization, account, user):  # noqa: F811
    name = str(uuid.uuid4())
    created = authorization.role_assignments.create(account.id, name, grant(user, description="provision:x"))
    assert created.id == f"{account.id}/providers/Microsoft.Authorization/roleAssignments/{name}"
    assert (created.principal_id, created.principal_type, created.scope) == (user, "User", account.id)
    assert created.role_definition_id == role()
    assert created.description == "provision:x"
    assert authorization.role_assignments.get(account.id, name).id == created.id
    assert authorization.role_assignments.get_by_id(created.id).name == name
    at_scope = list(authorization.role_assignments.list_for_scope(account.id, filter="atScope()"))
    assert [a.name for a in at_scope] == [name]
    for_group = list(authorization.role_assignments.list_for_scope(group_id(), filter=f"principalId eq '{user}'"))
    assert [a.name for a in for_group] == [name]  # below the group: listed without atScope()
    assert list(authorization.role_assignments.list_for_scope(group_id(), filter="atScope()")) == []
    deleted = authorization.role_assignments.delete(account.id, name)
    assert deleted.name == name
    assert authorization.role_assignments.delete(account.id, name) is None  # 204
    with pytest.raises(ResourceNotFoundError):
        authorization.role_assignments.get(account.id, name)


def test_duplicate_under_another_name_is_refused(authorization, account, user):  # noqa: F811
    name = str(uuid.uuid4())
    authorization.role_assignments.create(account.id, name, grant(user))
    assert authorization.role_assignments.create(account.id, name, grant(user, description="d")).description == "d"
    with pytest.raises(ResourceExistsError) as excinfo:
        authorization.role_assignments.create(account.id, str(uuid.uuid4()), grant(user))
    assert (excinfo.value.status_code, excinfo.value.error.code) == (409, "RoleAssignmentExists")
    assert excinfo.value.error.message == ("The role assignment already exists. The ID of the existing role "
                                           f"assignment is {name.replace('-', '')}.")
    with pytest.raises(HttpResponseError) as excinfo:  # principal and role are fixed under one name
        authorization.role_assignments.create(account.id, name, grant(user, "a97b65f3-24c7-4388-baec-2e87135dc908"))
    assert excinfo.value.error.code == "RoleAssignmentUpdateNotPermitted"


@pytest.mark.parametrize("case, code", [("unknown principal", "PrincipalNotFound"),
                                        ("unknown role", "RoleDefinitionDoesNotExist"),
                                        ("wrong type", "UnmatchedPrincipalType"),
                                        ("name not a guid", "InvalidRoleAssignmentId")])
def test_refusals(authorization, account, user, case, code):  # noqa: F811
    name, body = str(uuid.uuid4()), grant(user)
    if case == "unknown principal":
        body = grant(str(uuid.uuid4()), principal_type="ServicePrincipal")
    elif case == "unknown role":
        body = grant(user, str(uuid.uuid4()))
    elif case == "wrong type":
        body = grant(user, principal_type="Group")
    else:
        name = "reader-for-ada"
    with pytest.raises(HttpResponseError) as excinfo:
        authorization.role_assignments.create(account.id, name, body)
    assert (excinfo.value.status_code, excinfo.value.error.code) == (400, code)
    if case == "wrong type":  # Azure's own spelling (Azure/modern-web-app-pattern-dotnet#129)
        assert "which is different from specified PrinciaplType 'Group'" in excinfo.value.error.message


def test_managed_identities_and_service_principals_are_principals(authorization, emulator,  # noqa: F811
                                                                   cognitive, account):
    updated = cognitive.accounts.begin_update("rg", "acct", {"identity": {"type": "SystemAssigned"}}).result()
    system = updated.identity.principal_id
    sp = emulator.control.add_service_principal(display_name="app")["object_id"]
    for principal in (system, sp):
        made = authorization.role_assignments.create(f"/subscriptions/{SUBSCRIPTION}", str(uuid.uuid4()),
                                                     grant(principal))
        assert made.principal_type == "ServicePrincipal"


def test_assignments_go_with_their_resource(authorization, cognitive, account, user):  # noqa: F811
    name = str(uuid.uuid4())
    authorization.role_assignments.create(account.id, name, grant(user))
    cognitive.accounts.begin_delete("rg", "acct").result()
    assert list(authorization.role_assignments.list_for_scope(f"/subscriptions/{SUBSCRIPTION}")) == []


def test_a_name_is_unique_across_scopes_and_outlives_its_principal(authorization, cognitive,  # noqa: F811
                                                                   account, user):
    name = str(uuid.uuid4())
    authorization.role_assignments.create(account.id, name, grant(user))
    with pytest.raises(HttpResponseError) as excinfo:  # the same name at another scope
        authorization.role_assignments.create(group_id(), name, grant(user))
    assert excinfo.value.error.code == "RoleAssignmentUpdateNotPermitted"
    system = cognitive.accounts.begin_update("rg", "acct", {"identity": {"type": "SystemAssigned"}}).result()
    principal = system.identity.principal_id
    kept = str(uuid.uuid4())
    authorization.role_assignments.create(group_id(), kept, grant(principal, principal_type="ServicePrincipal"))
    cognitive.accounts.begin_update("rg", "acct", {"identity": {"type": "None"}}).result()  # the principal goes
    assert authorization.role_assignments.get(group_id(), kept).principal_id == principal  # its assignment stays
    with pytest.raises(HttpResponseError) as excinfo:
        authorization.role_assignments.create(group_id(), str(uuid.uuid4()), grant(principal))
    assert excinfo.value.error.code == "PrincipalNotFound"


def test_grants_on_a_key_vault_and_the_control_surface_over_http(authorization, keyvault, resources,  # noqa: F811
                                                                 emulator):
    tls = ssl.create_default_context(cafile=emulator.ca_path)
    group = httpx.post(f"{emulator.base_url}/_emulator/directory", json={"kind": "group", "display_name": "readers"},
                       verify=tls).json()
    assert group["principal_type"] == "Group"
    resources.resource_groups.create_or_update("rg", {"location": "westus"})
    vault = keyvault.vaults.begin_create_or_update("rg", "kv-grants", vault_body(enableRbacAuthorization=True)).result()
    secrets_user = "4633458b-17de-408a-b874-0445c86b69e6"
    made = authorization.role_assignments.create(vault.id, str(uuid.uuid4()),
                                                 grant(group["object_id"], secrets_user, principal_type="Group"))
    assert (made.scope, made.principal_type) == (vault.id, "Group")
    assert made.role_definition_id.endswith(secrets_user)
    where = httpx.put(f"{emulator.base_url}/_emulator/clientNetwork", json={"ip": "198.51.100.7"}, verify=tls).json()
    assert where == {"ip": "198.51.100.7", "subnet": None}


def test_an_unsupported_filter_is_refused_in_azure_words(authorization, account):  # noqa: F811
    with pytest.raises(HttpResponseError) as excinfo:
        list(authorization.role_assignments.list_for_scope(account.id, filter="roleDefinitionId eq 'x'"))
    assert excinfo.value.status_code == 400
    assert excinfo.value.error.message == (  # Azure/azure-rest-api-specs#28255
        "The filter 'roleDefinitionId eq 'x'' is not supported. Supported filters are either 'atScope()' or "
        "'principalId eq '{value}' or assignedTo('{value}')'.")
