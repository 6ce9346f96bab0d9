"""What applications need from what a spec manages: endpoints, deployments, identities, secret URIs.

Read from live Azure (one GET per account, one list of its deployments, one GET per Key Vault
secret), never from the spec alone, so what is printed is what exists. Keys are never read here:
applications get a key from Key Vault (the secret URIs) or, better, use Entra ID.
"""
from __future__ import annotations

from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from provisioner.azure import retry
from provisioner.azure.clients import Clients
from provisioner.azure.observe import _doc
from provisioner.errors import ProvisionerError
from provisioner.model import rest
from provisioner.model.resources import DesiredState, Kind, Resource

POLICY = retry.RetryPolicy(deadline=120.0)


def read_outputs(clients: Clients, desired: DesiredState) -> list[dict[str, Any]]:
    """One entry per declared account, in spec order:
    {name, subscription, resource_group, location, endpoint, principal_id (of its system-assigned identity),
    user_assigned_identities: [{id, name, principal_id, client_id}], deployments: [{name, model, version, sku,
    capacity}], secrets: {endpoint, key}} (secret URIs; None when not published).
    Raises when a declared account does not exist (nothing to point applications at)."""
    accounts = [r for r in desired.resources if r.kind is Kind.ACCOUNT]
    declared = {(r.scope.account, r.name) for r in desired.resources if r.kind is Kind.DEPLOYMENT}
    missing = []
    outputs = []
    for account in accounts:
        entry = _account_output(clients, account, declared)
        if entry is None:
            missing.append(account.name)
        else:
            outputs.append(entry)
    if missing:
        raise ProvisionerError(f"account(s) {', '.join(missing)} of the spec do not exist, so there is nothing to "
                               "output for them", hint="run `provision apply` first")
    if desired.key_vault is not None:
        for entry in outputs:
            entry["secrets"] = _secret_uris(clients, desired, entry)
    return outputs


def _account_output(clients: Clients, account: Resource, declared: set[tuple[str, str]]) -> dict[str, Any] | None:
    client = clients.cognitive(account.scope.subscription)
    group = account.scope.resource_group
    live = _get(lambda: client.accounts.get(group, account.name))
    if live is None:
        return None
    doc = _doc(live)
    deployments = []
    for item in retry.call(lambda: list(client.deployments.list(group, account.name)), POLICY):
        d = _doc(item)
        if (account.name, d["name"]) not in declared:
            continue  # only what the spec manages: applications should not depend on anything else
        properties = rest.deployment_properties(d)
        deployments.append({"name": d["name"], "model": properties.get("model"), "version": properties.get("version"),
                            "sku": properties.get("sku"), "capacity": properties.get("capacity")})
    return {"name": account.name, "subscription": account.scope.subscription, "resource_group": group,
            "location": (doc.get("location") or "").lower(),
            "endpoint": (doc.get("properties") or {}).get("endpoint"),
            "principal_id": (doc.get("identity") or {}).get("principalId"),
            "user_assigned_identities": [
                {"id": identity_id, "name": identity_id.rsplit("/", 1)[-1],
                 "principal_id": (details or {}).get("principalId"), "client_id": (details or {}).get("clientId")}
                for identity_id, details in sorted(((doc.get("identity") or {}).get("userAssignedIdentities")
                                                    or {}).items())],
            "deployments": sorted(deployments, key=lambda d: d["name"]),
            "secrets": {"endpoint": None, "key": None}}


def _secret_uris(clients: Clients, desired: DesiredState, entry: dict[str, Any]) -> dict[str, str | None]:
    target = desired.key_vault
    assert target is not None
    client = clients.keyvault(target.scope.subscription)
    uris: dict[str, str | None] = {}
    for role, template in (("endpoint", target.endpoint_secret), ("key", target.key_secret)):
        name = template.format(account=entry["name"])
        secret = _get(lambda: client.secrets.get(target.scope.resource_group, target.name, name))
        enabled = secret is not None and (secret.properties.attributes is None
                                          or secret.properties.attributes.enabled is not False)
        uris[role] = secret.properties.secret_uri if enabled else None  # a destroy leaves it disabled
    return uris


def _get(read):
    try:
        return retry.call(read, POLICY)
    except ResourceNotFoundError:
        return None
    except ProvisionerError as exc:
        if getattr(exc, "code", None) in ("ResourceNotFound", "ResourceGroupNotFound", "NotFound", "VaultNotFound",
                                          "SecretNotFound"):
            return None
        raise
