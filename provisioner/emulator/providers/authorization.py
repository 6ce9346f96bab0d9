"""Microsoft.Authorization: the built-in role definitions used here, and role assignments at any scope.

Routes hang under any ARM id (`{scope}`): a subscription, a resource group, or a resource (an account,
a Key Vault). Shapes: specification/authorization/resource-manager/Microsoft.Authorization/stable/
2022-04-01/authorization-RoleAssignmentsCalls.json and authorization-RoleDefinitionsCalls.json (PUT
answers 201, DELETE 200 with the assignment or 204, GET by id, list for a scope with $filter atScope(),
principalId eq '...' and assignedTo('...')).

Refusals:
- 400 InvalidRoleAssignmentId: the name is not a GUID.
- 409 RoleAssignmentExists "The role assignment already exists. The ID of the existing role assignment is
  {32 hex digits}.": the same principal, role and scope under another name [ISSUE
  Azure-Samples/azure-search-openai-demo#1091, Azure/azure-cli#8599: the PUT is not idempotent across
  names; the sentence with the id as quoted in yeongseon.github.io/azure-app-service-practical-guide/
  troubleshooting/playbooks/cd-rbac-role-assignment-conflict, which gives the status 409].
- 400 RoleAssignmentUpdateNotPermitted "Tenant ID, application ID, principal ID, and scope are not allowed
  to be updated.": a PUT on an existing name changing principal or role, or reusing the name at another
  scope (names are unique in the tenant; description and condition may change) [the error as quoted in
  andrewilson.co.uk/post/2024/07/removing-orphaned-rbac-role-assignments].
- 400 PrincipalNotFound: a principal the tenant does not know, with ARM's replication-delay hint
  [ISSUE Azure/HubAndSpokeResearchEnclave#50, Azure/avdaccelerator#99]. Azure may accept an unknown
  principal when principalType is set (it skips the directory lookup to ride out replication delay,
  aka.ms/docs-principaltype) yet also fails then [ISSUE MicrosoftDocs/azure-docs#103085]; the emulator
  has no replication delay and always checks (deviation table).
- 400 UnmatchedPrincipalType: principalType differs from the principal's type; the message with Azure's
  own misspelling "PrinciaplType" [ISSUE Azure/modern-web-app-pattern-dotnet#129] (status UNVERIFIED).
- 400 RoleDefinitionDoesNotExist "The specified role definition with ID '{id}' does not exist.": an
  unknown role definition [ISSUE Azure/azure-cli#21961] (status UNVERIFIED).
- 404 RoleAssignmentNotFound / RoleDefinitionDoesNotExist on GET of an unknown name.

Deleting a principal leaves its role assignments in place ("Identity not found" in the portal: Azure
does not remove them, learn.microsoft.com/azure/role-based-access-control/role-assignments); re-using
their names for the principal of a re-created resource is RoleAssignmentUpdateNotPermitted. Role
assignments scoped at or below a deleted resource go with it (the store keeps them under its id);
whether Azure keeps them is UNVERIFIED (deviation table).

Built-in roles (ids, actions and data actions): learn.microsoft.com/azure/role-based-access-control/
built-in-roles (the AI + machine learning, Security, Monitor and General sections; their JSON was compared
with MicrosoftDocs/azure-docs articles/role-based-access-control/built-in-roles/ai-machine-learning.md and
security.md for the Cognitive Services and Key Vault roles).
"""
from __future__ import annotations

import fnmatch
import re

from provisioner.emulator import schemas
from provisioner.emulator.arm import PRINCIPAL_ID, TENANT_ID, Call, Reply, Router, iso, list_reply
from provisioner.emulator.errors import ArmError
from provisioner.emulator.identity import directory_object
from provisioner.emulator.store import Store, key_of

ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments"
DEFINITION_TYPE = "Microsoft.Authorization/roleDefinitions"
ASSIGNMENTS = "{scope}/providers/microsoft.authorization/roleassignments"
DEFINITIONS = "{scope}/providers/microsoft.authorization/roledefinitions"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
PRINCIPAL_TYPES = ("User", "Group", "ServicePrincipal", "ForeignGroup", "Device")
_READS = ["Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*", "Microsoft.Resources/deployments/*",
          "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*"]
_KEY_VAULT_READS = _READS + ["Microsoft.KeyVault/checkNameAvailability/read", "Microsoft.KeyVault/deletedVaults/read",
                             "Microsoft.KeyVault/locations/*/read", "Microsoft.KeyVault/vaults/*/read",
                             "Microsoft.KeyVault/operations/read"]
_COGNITIVE_READS = ["Microsoft.CognitiveServices/*/read", "Microsoft.Authorization/roleAssignments/read",
                    "Microsoft.Authorization/roleDefinitions/read"]
_RBAC_VAULTS = " Only works for key vaults that use the 'Azure role-based access control' permission model."
# name -> (id, description, actions, notActions, dataActions, notDataActions)
BUILT_IN_ROLES: dict[str, tuple[str, str, list[str], list[str], list[str], list[str]]] = {
    "Owner": ("8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
              "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
              ["*"], [], [], []),
    "Contributor": ("b24988ac-6180-42a0-ab88-20f7382dd24c",
                    "Grants full access to manage all resources, but does not allow you to assign roles in Azure "
                    "RBAC, manage assignments in Azure Blueprints, or share image galleries.",
                    ["*"], ["Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write",
                            "Microsoft.Authorization/elevateAccess/Action",
                            "Microsoft.Blueprint/blueprintAssignments/write",
                            "Microsoft.Blueprint/blueprintAssignments/delete",
                            "Microsoft.Compute/galleries/share/action",
                            "Microsoft.Purview/consents/write", "Microsoft.Purview/consents/delete"], [], []),
    "Reader": ("acdd72a7-3385-48ef-bd42-f606fba81ae7",
               "View all resources, but does not allow you to make any changes.",
               ["*/read"], [], [], []),
    "Monitoring Reader": ("43d0d8ad-25c7-4714-9337-8ba259a9fe05", "Can read all monitoring data (metrics, logs, etc.).",
                          ["*/read", "Microsoft.OperationalInsights/workspaces/search/action", "Microsoft.Support/*"],
                          [], [], []),
    "Cognitive Services OpenAI User": (
        "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",
        "Ability to view files, models, deployments. Readers can't make any changes They can inference and create "
        "images",
        _COGNITIVE_READS, [],
        ["Microsoft.CognitiveServices/accounts/OpenAI/*/read",
         "Microsoft.CognitiveServices/accounts/OpenAI/engines/completions/action",
         "Microsoft.CognitiveServices/accounts/OpenAI/engines/search/action",
         "Microsoft.CognitiveServices/accounts/OpenAI/engines/generate/action",
         "Microsoft.CognitiveServices/accounts/OpenAI/deployments/audio/action",
         "Microsoft.CognitiveServices/accounts/OpenAI/deployments/search/action",
         "Microsoft.CognitiveServices/accounts/OpenAI/deployments/completions/action",
         "Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action",
         "Microsoft.CognitiveServices/accounts/OpenAI/deployments/realtime/action",
         "Microsoft.CognitiveServices/accounts/OpenAI/deployments/extensions/chat/completions/action",
         "Microsoft.CognitiveServices/accounts/OpenAI/deployments/embeddings/action",
         "Microsoft.CognitiveServices/accounts/OpenAI/images/generations/action",
         "Microsoft.CognitiveServices/accounts/OpenAI/assistants/*"],
        ["Microsoft.CognitiveServices/accounts/OpenAI/stored-completions/read"]),
    "Cognitive Services OpenAI Contributor": (
        "a001fd3d-188f-4b5d-821b-7da978bf7442",
        "Full access including the ability to fine-tune, deploy and generate text",
        _COGNITIVE_READS + ["Microsoft.CognitiveServices/accounts/deployments/write",
                            "Microsoft.CognitiveServices/accounts/deployments/delete",
                            "Microsoft.CognitiveServices/accounts/raiPolicies/read",
                            "Microsoft.CognitiveServices/accounts/raiPolicies/write",
                            "Microsoft.CognitiveServices/accounts/raiPolicies/delete",
                            "Microsoft.CognitiveServices/accounts/commitmentplans/read",
                            "Microsoft.CognitiveServices/accounts/commitmentplans/write",
                            "Microsoft.CognitiveServices/accounts/commitmentplans/delete"],
        [], ["Microsoft.CognitiveServices/accounts/OpenAI/*"], []),
    "Cognitive Services User": (
        "a97b65f3-24c7-4388-baec-2e87135dc908",
        "Lets you read and list keys of Cognitive Services.",
        ["Microsoft.CognitiveServices/*/read", "Microsoft.CognitiveServices/accounts/listkeys/action",
         "Microsoft.Insights/alertRules/read", "Microsoft.Insights/diagnosticSettings/read",
         "Microsoft.Insights/logDefinitions/read", "Microsoft.Insights/metricdefinitions/read",
         "Microsoft.Insights/metrics/read", "Microsoft.ResourceHealth/availabilityStatuses/read",
         "Microsoft.Resources/deployments/operations/read", "Microsoft.Resources/subscriptions/operationresults/read",
         "Microsoft.Resources/subscriptions/read", "Microsoft.Resources/subscriptions/resourceGroups/read",
         "Microsoft.Support/*"],
        [], ["Microsoft.CognitiveServices/*"], []),
    "Cognitive Services Contributor": (
        "25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68",
        "Lets you create, read, update, delete and manage keys of Cognitive Services.",
        ["Microsoft.Authorization/*/read", "Microsoft.CognitiveServices/*", "Microsoft.Features/features/read",
         "Microsoft.Features/providers/features/read", "Microsoft.Features/providers/features/register/action",
         "Microsoft.Insights/alertRules/*", "Microsoft.Insights/diagnosticSettings/*",
         "Microsoft.Insights/logDefinitions/read", "Microsoft.Insights/metricdefinitions/read",
         "Microsoft.Insights/metrics/read", "Microsoft.ResourceHealth/availabilityStatuses/read",
         "Microsoft.Resources/deployments/*", "Microsoft.Resources/deployments/operations/read",
         "Microsoft.Resources/subscriptions/operationresults/read", "Microsoft.Resources/subscriptions/read",
         "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*"],
        [], [], []),
    "Key Vault Secrets User": (
        "4633458b-17de-408a-b874-0445c86b69e6", "Read secret contents." + _RBAC_VAULTS, [], [],
        ["Microsoft.KeyVault/vaults/secrets/getSecret/action", "Microsoft.KeyVault/vaults/secrets/readMetadata/action"],
        []),
    "Key Vault Secrets Officer": (
        "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
        "Perform any action on the secrets of a key vault, except manage permissions." + _RBAC_VAULTS,
        _KEY_VAULT_READS, [], ["Microsoft.KeyVault/vaults/secrets/*"], []),
    "Key Vault Reader": (
        "21090545-7ca7-4776-b22c-e363652d74d2",
        "Read metadata of key vaults and its certificates, keys, and secrets. Cannot read sensitive values such as "
        "secret contents or key material." + _RBAC_VAULTS,
        _KEY_VAULT_READS, [],
        ["Microsoft.KeyVault/vaults/*/read", "Microsoft.KeyVault/vaults/secrets/readMetadata/action"], []),
}
ROLES_BY_ID = {role_id: name for name, (role_id, *_rest) in BUILT_IN_ROLES.items()}
ROLES_CREATED = "2015-02-02T21:55:09.8806423Z"  # as built-in roles show createdOn (a fixed, old date)
ROLE_NAME_FILTER = re.compile(r"^\s*roleName\s+eq\s+'(?P<name>[^']*)'\s*$", re.IGNORECASE)
TYPE_FILTER = re.compile(r"^\s*type\s+eq\s+'(?P<type>[^']*)'\s*$", re.IGNORECASE)
PRINCIPAL_FILTER = re.compile(r"^\s*(principalId\s+eq\s+'(?P<id>[^']*)'|assignedTo\('(?P<to>[^']*)'\))\s*$",
                              re.IGNORECASE)
AT_SCOPE = re.compile(r"^\s*atScope\(\)\s*(and\s+(?P<rest>.*))?$", re.IGNORECASE)


def register(router: Router) -> None:
    router.add("GET", DEFINITIONS + "/{definition}")(get_definition)
    router.add("GET", DEFINITIONS)(list_definitions)
    router.add("PUT", ASSIGNMENTS + "/{assignment}")(put_assignment)
    router.add("GET", ASSIGNMENTS + "/{assignment}")(get_assignment)
    router.add("DELETE", ASSIGNMENTS + "/{assignment}")(delete_assignment)
    router.add("GET", ASSIGNMENTS)(list_assignments)


# --- role definitions -----------------------------------------------------------------------------

def definition_doc(name: str, scope: str = "") -> dict:
    role_id, description, actions, not_actions, data_actions, not_data_actions = BUILT_IN_ROLES[name]
    return {"id": f"{_subscription_prefix(scope)}/providers/{DEFINITION_TYPE}/{role_id}", "name": role_id,
            "type": DEFINITION_TYPE,
            "properties": {"roleName": name, "type": "BuiltInRole", "description": description,
                           "assignableScopes": ["/"],
                           "permissions": [{"actions": list(actions), "notActions": list(not_actions),
                                            "dataActions": list(data_actions),
                                            "notDataActions": list(not_data_actions)}],
                           "createdOn": ROLES_CREATED, "updatedOn": ROLES_CREATED, "createdBy": None,
                           "updatedBy": None}}


def role_of(definition_id: str) -> str | None:
    """The built-in role a role definition id (bare GUID or ARM id at any scope) names, or None."""
    guid = definition_id.rstrip("/").split("/")[-1].lower()
    if definition_id.strip("/") and "/" in definition_id.strip("/") and \
            "/providers/microsoft.authorization/roledefinitions/" not in definition_id.lower():
        return None
    return ROLES_BY_ID.get(guid)


def _subscription_prefix(scope: str) -> str:
    parts = scope.strip("/").split("/")
    return f"/subscriptions/{parts[1]}" if len(parts) >= 2 and parts[0].lower() == "subscriptions" else ""


def get_definition(call: Call) -> Reply:
    name = ROLES_BY_ID.get(call.params["definition"].lower())
    if name is None:
        raise ArmError(404, "RoleDefinitionDoesNotExist",
                       f"The specified role definition with ID '{call.params['definition']}' does not exist.")
    if call.params["scope"]:
        _require_scope(call)
    return Reply(200, definition_doc(name, call.params["scope"]))


def list_definitions(call: Call) -> Reply:
    if call.params["scope"]:
        _require_scope(call)
    wanted = call.query.get("$filter", "")
    names = list(BUILT_IN_ROLES)
    if wanted:
        by_name, by_type = ROLE_NAME_FILTER.match(wanted), TYPE_FILTER.match(wanted)
        if by_name:
            names = [n for n in names if n.lower() == by_name.group("name").lower()]
        elif by_type:
            names = names if by_type.group("type").lower() == "builtinrole" else []
        else:
            raise ArmError(400, "InvalidFilter", f"The filter '{wanted}' is not supported.")  # wording UNVERIFIED
    return list_reply([definition_doc(n, call.params["scope"]) for n in names])


# --- role assignments -----------------------------------------------------------------------------

def assignment_id(scope: str, name: str) -> str:
    return f"{scope}/providers/{ASSIGNMENT_TYPE}/{name}"


def put_assignment(call: Call) -> Reply:
    scope, name = _require_scope(call), call.params["assignment"]
    if not GUID.match(name):
        raise ArmError(400, "InvalidRoleAssignmentId",
                       f"The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID.")
    properties = schemas.clean(ASSIGNMENT_TYPE, call.json_body()).get("properties")
    if not isinstance(properties, dict):
        raise ArmError(400, "InvalidRequestContent",  # wording UNVERIFIED
                       "The request content was invalid and could not be deserialized: 'properties' is required.")
    definition_ref = str(properties.get("roleDefinitionId") or "")
    principal_id = str(properties.get("principalId") or "")
    if not definition_ref or not principal_id:
        raise ArmError(400, "InvalidRequestContent",  # wording UNVERIFIED
                       "The request content was invalid: roleDefinitionId and principalId are required.")
    role = role_of(definition_ref)
    if role is None:
        raise ArmError(400, "RoleDefinitionDoesNotExist",
                       f"The specified role definition with ID '{definition_ref.rstrip('/').split('/')[-1]}' "
                       "does not exist.")
    principal = directory_object(call.store, principal_id)
    if principal is None:
        raise ArmError(400, "PrincipalNotFound",
                       f"Principal {principal_id.replace('-', '')} does not exist in the directory {TENANT_ID}. "
                       "Check that you have the correct principal ID. If you are creating this principal and then "
                       "immediately assigning a role, this error might be related to a replication delay. In this "
                       "case, set the role assignment principalType property to a value, such as ServicePrincipal, "
                       "User, or Group.  See https://aka.ms/docs-principaltype")
    given_type = properties.get("principalType")
    if given_type is not None:
        given_type = next((t for t in PRINCIPAL_TYPES if t.lower() == str(given_type).lower()), None)
        if given_type is None:
            raise ArmError(400, "InvalidRequestContent",  # wording UNVERIFIED
                           f"principalType must be one of {', '.join(PRINCIPAL_TYPES)}.")
        if given_type != principal["principal_type"]:
            raise ArmError(400, "UnmatchedPrincipalType",
                           f"The PrincipalId '{principal['object_id'].replace('-', '')}' has type "
                           f"'{principal['principal_type']}' , which is different from specified PrinciaplType "
                           f"'{given_type}'.")
    definition_id = f"{_subscription_prefix(scope)}/providers/{DEFINITION_TYPE}/{BUILT_IN_ROLES[role][0]}"
    new_id = assignment_id(scope, name)
    existing = call.store.get(new_id)
    elsewhere = next((d for d in call.store.under("/subscriptions", ASSIGNMENT_TYPE)
                      if d["name"].lower() == name.lower() and key_of(d["id"]) != key_of(new_id)), None)
    if elsewhere is not None:  # a role assignment's name is unique in the tenant: another scope is an update
        raise ArmError(400, "RoleAssignmentUpdateNotPermitted",
                       "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.")
    if existing is not None:
        before = existing["properties"]
        if before["principalId"].lower() != principal["object_id"].lower() or \
                before["roleDefinitionId"].split("/")[-1].lower() != definition_id.split("/")[-1].lower():
            raise ArmError(400, "RoleAssignmentUpdateNotPermitted",
                           "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.")
    for other in assignments_at(call.store, scope):
        if key_of(other["id"]) != key_of(new_id) and \
                other["properties"]["principalId"].lower() == principal["object_id"].lower() and \
                other["properties"]["roleDefinitionId"].split("/")[-1].lower() == definition_id.split("/")[-1].lower():
            raise ArmError(409, "RoleAssignmentExists", "The role assignment already exists. The ID of the "
                           f"existing role assignment is {other['name'].replace('-', '')}.")
    now = iso(call.now)
    doc = {"id": new_id, "name": name, "type": ASSIGNMENT_TYPE,
           "properties": {"roleDefinitionId": definition_id, "principalId": principal["object_id"],
                          "principalType": principal["principal_type"], "scope": scope,
                          "condition": properties.get("condition"),
                          "conditionVersion": properties.get("conditionVersion"),
                          "createdOn": (existing or {}).get("properties", {}).get("createdOn", now), "updatedOn": now,
                          "createdBy": (existing or {}).get("properties", {}).get("createdBy", PRINCIPAL_ID),
                          "updatedBy": PRINCIPAL_ID, "delegatedManagedIdentityResourceId": None,
                          "description": properties.get("description")}}
    call.store.put(new_id, ASSIGNMENT_TYPE, doc)
    return Reply(201, doc)


def get_assignment(call: Call) -> Reply:
    scope = _require_scope(call)
    doc = call.store.get(assignment_id(scope, call.params["assignment"]))
    if doc is None or doc.get("type") != ASSIGNMENT_TYPE:
        raise ArmError(404, "RoleAssignmentNotFound",
                       f"The role assignment '{call.params['assignment']}' is not found.")
    return Reply(200, doc)


def delete_assignment(call: Call) -> Reply:
    scope = _require_scope(call)
    doc = call.store.get(assignment_id(scope, call.params["assignment"]))
    if doc is None or doc.get("type") != ASSIGNMENT_TYPE:
        return Reply(204)
    call.store.delete(doc["id"])
    return Reply(200, doc)


def list_assignments(call: Call) -> Reply:
    """Assignments that apply at the scope (at or above it) and, without atScope(), those below it too;
    principalId eq '...' / assignedTo('...') keep one principal's."""
    scope = _require_scope(call)
    wanted = call.query.get("$filter", "").strip()
    at_scope = AT_SCOPE.match(wanted)
    rest = (at_scope.group("rest") or "") if at_scope else wanted
    principal = PRINCIPAL_FILTER.match(rest) if rest else None
    if rest and principal is None:
        # Wording as quoted in Azure/azure-rest-api-specs#28255; the code UNVERIFIED.
        raise ArmError(400, "UnsupportedQuery", f"The filter '{wanted}' is not supported. Supported filters are either "
                                                "'atScope()' or 'principalId eq '{value}' or assignedTo('{value}')'.")
    docs = _all_assignments(call.store, scope)
    docs = [d for d in docs if _above_or_at(d["properties"]["scope"], scope)
            or (not at_scope and _above_or_at(scope, d["properties"]["scope"]))]
    if principal:
        who = (principal.group("id") or principal.group("to")).lower()
        docs = [d for d in docs if d["properties"]["principalId"].lower() == who]
    return list_reply(docs)


def assignments_at(store: Store, scope: str) -> list[dict]:
    return [d for d in _all_assignments(store, scope) if key_of(d["properties"]["scope"]) == key_of(scope)]


def assignments_covering(store: Store, scope: str) -> list[dict]:
    """The role assignments that apply at `scope`: at it or at any scope above it."""
    return [d for d in _all_assignments(store, scope) if _above_or_at(d["properties"]["scope"], scope)]


def permits(store: Store, scope: str, object_id: str, data_action: str) -> bool:
    """Whether `object_id` holds, at `scope` or above, a role whose data actions cover `data_action`."""
    for doc in assignments_covering(store, scope):
        if doc["properties"]["principalId"].lower() != object_id.lower():
            continue
        role = role_of(doc["properties"]["roleDefinitionId"])
        if role is None:
            continue
        allowed, denied = BUILT_IN_ROLES[role][4], BUILT_IN_ROLES[role][5]
        if _covers(allowed, data_action) and not _covers(denied, data_action):
            return True
    return False


def _covers(patterns: list[str], action: str) -> bool:
    """Whether an action matches a pattern ('*' stands for any part, case-insensitively, as Azure RBAC reads it)."""
    return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in patterns)


def _all_assignments(store: Store, scope: str) -> list[dict]:
    subscription = _subscription_prefix(scope)
    return store.under(subscription, ASSIGNMENT_TYPE) if subscription else []


def _above_or_at(outer: str, inner: str) -> bool:
    outer, inner = key_of(outer), key_of(inner)
    return inner == outer or inner.startswith(outer + "/")


def _require_scope(call: Call) -> str:
    """The scope in the path, which must exist (a subscription always does)."""
    scope = call.params["scope"].rstrip("/")
    parts = scope.strip("/").split("/")
    if not scope or parts[0].lower() != "subscriptions":
        raise ArmError(400, "InvalidScope",  # the emulator serves subscription scopes and below; wording UNVERIFIED
                       f"The scope '{scope or '/'}' is not valid for this request.")
    if len(parts) > 2:
        if call.store.get(scope) is None:
            kind = "ResourceGroupNotFound" if len(parts) == 4 else "ResourceNotFound"
            what = f"Resource group '{parts[3]}' could not be found." if len(parts) == 4 else \
                f"The Resource '{'/'.join(parts[5:])}' under resource group '{parts[3]}' was not found."
            raise ArmError(404, kind, what)
    return scope

