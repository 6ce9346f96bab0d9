"""Publishing each account's endpoint and key to Key Vault (management plane).

Values are written only when they changed. The management plane never returns
a secret's value, so each secret carries a tag with the SHA-256 of its value;
equal digests mean nothing to write. Values never leave this module: not in
outcomes, logs or exceptions.
"""
from __future__ import annotations

import base64
import hashlib
import json

from azure.core.exceptions import ResourceNotFoundError

from provisioner.azure import retry
from provisioner.azure.clients import Clients
from provisioner.errors import PermanentError, ProvisionerError
from provisioner.model.resources import (
    DesiredState,
    KeyVaultTarget,
    Kind,
    Resource,
    owner_of,
    ownership_tags,
)
from provisioner.plan.result import FAILED, SUCCEEDED, Outcome

DIGEST_TAG = "provision-value-sha256"
POLICY = retry.RetryPolicy(deadline=300.0)


def publish(clients: Clients, desired: DesiredState, accounts: list[str]) -> list[Outcome]:
    """Write the secrets of these accounts (those whose own change, if any, did not fail)."""
    target = desired.key_vault
    if target is None or not accounts:
        return []
    try:
        ensure_vault(clients, target)
    except ProvisionerError as exc:
        return [Outcome(f"{target.name}", "publish", FAILED, str(exc))]
    by_name = {r.name: r for r in desired.resources if r.kind is Kind.ACCOUNT}
    outcomes: list[Outcome] = []
    for name in accounts:
        try:
            secrets = _secrets_of(clients, by_name[name], target)
        except ProvisionerError as exc:  # e.g. the account does not exist: its other accounts still publish
            outcomes.append(Outcome(f"{target.name}/secrets/{target.endpoint_secret.format(account=name)}",
                                    "publish", FAILED, f"reading account {name}: {exc}"))
            continue
        for secret_name, value in secrets:
            address = f"{target.name}/secrets/{secret_name}"
            try:
                changed = retry.call(lambda: _write_if_changed(clients, target, secret_name, value,
                                                               desired.spec_name), POLICY)
                outcomes.append(Outcome(address, "publish", SUCCEEDED, "" if changed else "unchanged"))
            except ProvisionerError as exc:
                outcomes.append(Outcome(address, "publish", FAILED, str(exc) + (f" ({exc.hint})" if exc.hint else "")))
    return outcomes


def unpublish(clients: Clients, desired: DesiredState, accounts: list[str]) -> list[Outcome]:
    """Remove the secrets this spec published for these accounts (destroy). Only a secret or vault that
    does not exist means "nothing to remove"; any other error reading them is a failure."""
    target = desired.key_vault
    if target is None:
        return []
    client = clients.keyvault(target.scope.subscription)
    group = target.scope.resource_group
    outcomes = []
    try:
        if retry.call(lambda: _get_or_none(lambda: client.vaults.get(group, target.name)), POLICY) is None:
            return []  # no vault: nothing was published
    except ProvisionerError as exc:
        return [Outcome(target.name, "unpublish", FAILED, f"reading the vault: {exc}")]
    for name in accounts:
        for template in (target.endpoint_secret, target.key_secret):
            secret_name = template.format(account=name)
            address = f"{target.name}/secrets/{secret_name}"
            try:
                secret = retry.call(lambda: _get_or_none(lambda: client.secrets.get(group, target.name,
                                                                                    secret_name)), POLICY)
            except ProvisionerError as exc:
                outcomes.append(Outcome(address, "unpublish", FAILED, f"reading the secret: {exc}"))
                continue
            if secret is None or owner_of(secret.tags) != desired.spec_name:
                continue  # not there, or not ours to remove
            if DIGEST_TAG not in (secret.tags or {}):
                continue  # emptied by an earlier destroy
            outcomes.append(_delete_secret(clients, target, secret_name, address, desired.spec_name))
    return outcomes


def _get_or_none(read):
    try:
        return read()
    except ResourceNotFoundError:
        return None


def _delete_secret(clients: Clients, target: KeyVaultTarget, secret_name: str, address: str,
                   spec_name: str) -> Outcome:
    """The management plane cannot delete a secret; disabling it and clearing its value is what it can do."""
    client = clients.keyvault(target.scope.subscription)
    try:
        retry.call(lambda: client.secrets.create_or_update(
            target.scope.resource_group, target.name, secret_name,
            # still ours (the ownership tags stay), so a later apply may publish into it again
            {"properties": {"value": "", "attributes": {"enabled": False}}, "tags": ownership_tags(spec_name)}),
            POLICY)
        return Outcome(address, "unpublish", SUCCEEDED, "disabled and emptied")
    except ProvisionerError as exc:
        return Outcome(address, "unpublish", FAILED, str(exc))


def ensure_vault(clients: Clients, target: KeyVaultTarget) -> None:
    client = clients.keyvault(target.scope.subscription)
    group = target.scope.resource_group
    try:
        retry.call(lambda: client.vaults.get(group, target.name), POLICY)
        return
    except ProvisionerError as exc:
        if getattr(exc, "code", None) not in ("ResourceNotFound", "NotFound", "VaultNotFound"):
            raise
    if not target.create:
        raise ProvisionerError(f"Key Vault {target.name} was not found in resource group {group}",
                               hint="create it (see infra/), or set `key_vault.create: true`")
    body = {"location": target.location,
            "properties": {"tenantId": tenant_of(clients), "sku": {"family": "A", "name": "standard"},
                           "enableRbacAuthorization": True, "accessPolicies": []}}
    retry.call(lambda: client.vaults.begin_create_or_update(group, target.name, body).result(), POLICY)


def tenant_of(clients: Clients) -> str:
    """The tenant of whoever runs provision, read from their access token's `tid` claim."""
    scope = (clients.connection.credential_scopes or ("https://management.azure.com/.default",))[0]
    token = clients.connection.credential.get_token(scope).token
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["tid"]
    except (IndexError, ValueError, KeyError):
        raise ProvisionerError("cannot tell the tenant from the access token",
                               hint="create the Key Vault yourself (see infra/)") from None


def _secrets_of(clients: Clients, account: Resource, target: KeyVaultTarget) -> list[tuple[str, str]]:
    client = clients.cognitive(account.scope.subscription)
    group = account.scope.resource_group
    live = retry.call(lambda: client.accounts.get(group, account.name), POLICY)
    secrets = [(target.endpoint_secret.format(account=account.name), live.properties.endpoint)]
    if not live.properties.disable_local_auth:
        keys = retry.call(lambda: client.accounts.list_keys(group, account.name), POLICY)
        secrets.append((target.key_secret.format(account=account.name), keys.key1))
    return secrets


def _write_if_changed(clients: Clients, target: KeyVaultTarget, secret_name: str, value: str,
                      spec_name: str) -> bool:
    """Write the secret unless it already holds this value. A secret that exists without this spec's
    ownership tags is someone else's: never overwritten, unless `key_vault.adopt_existing` says so."""
    client = clients.keyvault(target.scope.subscription)
    group = target.scope.resource_group
    digest = hashlib.sha256(value.encode()).hexdigest()
    existing = _get_or_none(lambda: client.secrets.get(group, target.name, secret_name))
    if existing is not None:
        owner = owner_of(existing.tags)
        if owner != spec_name and not (target.adopt_existing and owner is None):
            whose = f"spec '{owner}'" if owner else "no spec (it has no ownership tags)"
            raise PermanentError(f"secret {secret_name} already exists and is managed by {whose}; it is not "
                                 "overwritten",
                                 hint="choose other names with key_vault.endpoint_secret / key_secret, or set "
                                      "key_vault.adopt_existing: true to take over secrets without tags")
        if (existing.tags or {}).get(DIGEST_TAG) == digest:
            return False
    tags = {**ownership_tags(spec_name), DIGEST_TAG: digest}
    client.secrets.create_or_update(group, target.name, secret_name,
                                    {"properties": {"value": value, "contentType": "text/plain",
                                                    "attributes": {"enabled": True}}, "tags": tags})
    return True
