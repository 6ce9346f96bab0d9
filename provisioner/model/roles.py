"""Azure built-in roles provision knows by name, with their well-known role definition ids.

A built-in role's id is the same in every subscription and cloud (its definition lives at
`/providers/Microsoft.Authorization/roleDefinitions/{id}`, assignable at "/"); an assignment
names it as `/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{id}`.
Any other role (a custom one) is given by its id in the spec.

Sources (read 2026-12):
  [AI]  https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/ai-machine-learning
  [SEC] https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/security
        and MicrosoftDocs/azure-docs articles/key-vault/general/rbac-guide.md (table of Key Vault roles)
  [GEN] https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/general
  [MON] https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/monitor
  [AOAI] https://learn.microsoft.com/azure/ai-services/openai/how-to/role-based-access-control
"""
from __future__ import annotations

BUILT_IN_ROLES: dict[str, str] = {
    # [AI], [AOAI]: call the inference APIs, read deployments; no management writes
    "Cognitive Services OpenAI User": "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",
    # [AI], [AOAI]: the above plus deployments, fine-tuning and content filters
    "Cognitive Services OpenAI Contributor": "a001fd3d-188f-4b5d-821b-7da978bf7442",
    # [AI]: data-plane access to any Cognitive Services API (and listKeys)
    "Cognitive Services User": "a97b65f3-24c7-4388-baec-2e87135dc908",
    # [AI]: create, read, update and delete accounts, list keys
    "Cognitive Services Contributor": "25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68",
    # [SEC]: read secret contents (vaults with the RBAC permission model)
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    # [SEC]: any action on secrets except managing permissions
    "Key Vault Secrets Officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    # [SEC]: read metadata of vaults and their objects, never secret values
    "Key Vault Reader": "21090545-7ca7-4776-b22c-e363652d74d2",
    # [GEN]: view everything, change nothing
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    # [MON]: read monitoring data and settings
    "Monitoring Reader": "43d0d8ad-25c7-4714-9337-8ba259a9fe05",
}
ROLE_NAMES: dict[str, str] = {role_id: name for name, role_id in BUILT_IN_ROLES.items()}
_BY_LOWER = {name.lower(): role_id for name, role_id in BUILT_IN_ROLES.items()}


def role_id(role: str) -> str | None:
    """The role definition GUID (lowercase) for a built-in role name (any case), a GUID, or a role
    definition resource id; None when `role` is none of these."""
    from provisioner.model.ids import GUID, parse

    text = role.strip()
    if text.lower() in _BY_LOWER:
        return _BY_LOWER[text.lower()]
    if GUID.fullmatch(text):
        return text.lower()
    parsed = parse(text)
    if parsed is not None and parsed.type == "microsoft.authorization/roledefinitions" and GUID.fullmatch(parsed.name):
        return parsed.name.lower()
    return None


def role_name(role_id: str) -> str | None:
    """The built-in role's name for its id, or None for a role provision does not know by name."""
    return ROLE_NAMES.get(role_id.lower())
