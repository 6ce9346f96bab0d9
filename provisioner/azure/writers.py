"""Carrying out one planned change in Azure, through the retry layer.

Long-running operations are polled with `BackoffPolling`: it honours
Retry-After and, without it, starts at one second and backs off, instead of
the SDK's fixed 30 seconds.
"""
from __future__ import annotations

from typing import Any, Callable

from azure.core.exceptions import ResourceNotFoundError
from azure.core.pipeline.policies._utils import get_retry_after
from azure.mgmt.core.polling.arm_polling import ARMPolling

from provisioner.azure import retry
from provisioner.azure.clients import Clients
from provisioner.errors import PermanentError, TransientError
from provisioner.model import rest
from provisioner.plan.model import Action, Change


class BackoffPolling(ARMPolling):
    """ARM polling that waits Retry-After when given, else 1 s growing by half each poll up to `cap`."""

    def __init__(self, first: float = 1.0, factor: float = 1.5, cap: float = 15.0, **kwargs: Any):
        super().__init__(timeout=first, **kwargs)
        self._next_delay = first
        self._factor = factor
        self._cap = cap

    def _extract_delay(self) -> float:
        delay = get_retry_after(self._pipeline_response)
        if delay is not None:
            return delay
        delay, self._next_delay = self._next_delay, min(self._cap, self._next_delay * self._factor)
        return delay


class AzureWriter:
    def __init__(self, clients: Clients, *, policy: retry.RetryPolicy = retry.RetryPolicy(),
                 first_poll_delay: float = 1.0):
        self.clients = clients
        self.policy = policy
        self.first_poll_delay = first_poll_delay

    def _poll(self) -> BackoffPolling:
        return BackoffPolling(first=self.first_poll_delay)

    def execute(self, change: Change, on_retry: Callable[[TransientError, int, float], None] | None = None) -> None:
        handler = getattr(self, f"_{change.kind.value}")
        retry.call(lambda: handler(change), self.policy, on_retry)

    # resource groups
    def _resource_group(self, change: Change) -> None:
        client = self.clients.resources(change.scope.subscription)
        if change.action is Action.DELETE:
            raise PermanentError("provision never deletes resource groups")
        after = change.after or {}
        client.resource_groups.create_or_update(change.name, {"location": after["location"],
                                                              "tags": after.get("tags") or {}})

    # accounts
    def _account(self, change: Change) -> None:
        client = self.clients.cognitive(change.scope.subscription)
        group, name = change.scope.resource_group, change.name
        if change.action is Action.DELETE:
            location = (change.before or {}).get("location")
            client.accounts.begin_delete(group, name, polling=self._poll()).result()
            if change.options.get("purge"):
                try:
                    client.deleted_accounts.begin_purge(location, group, name, polling=self._poll()).result()
                except ResourceNotFoundError:
                    pass  # already purged (a re-run after an interruption)
            return
        body = rest.account_body(change.after or {})
        choice = change.options.get("on_soft_deleted")
        if change.action is Action.CREATE and choice == "purge":
            try:
                client.deleted_accounts.begin_purge(body["location"], group, name, polling=self._poll()).result()
            except ResourceNotFoundError:
                pass
        if change.action is Action.CREATE and choice == "restore":
            # A restore brings the account back as it was deleted (its tags and settings, not the body's);
            # a second PUT then makes it what the spec says, so the next plan has nothing left to do.
            restore = {**body, "properties": {**body["properties"], "restore": True}}
            client.accounts.begin_create(group, name, restore, polling=self._poll()).result()
        account = client.accounts.begin_create(group, name, body, polling=self._poll()).result()
        state = account.properties.provisioning_state if account.properties else None
        if state not in (None, "Succeeded"):
            raise PermanentError(f"account {name} ended in provisioning state {state}",
                                 hint="look at the account in the Azure portal; re-run apply to retry")

    # blocklists: the list itself, then its items (named by content, so re-runs never duplicate them)
    def _blocklist(self, change: Change) -> None:
        client = self.clients.cognitive(change.scope.subscription)
        group, account, name = change.scope.resource_group, change.scope.account, change.name
        if change.action is Action.DELETE:
            client.rai_blocklists.begin_delete(group, account, name, polling=self._poll()).result()
            return
        after = change.after or {}
        client.rai_blocklists.create_or_update(group, account, name, rest.blocklist_body(after))
        wanted = {rest.blocklist_item_name(item): item for item in after.get("items") or []}
        present = {item.name: item for item in client.rai_blocklist_items.list(group, account, name)}
        for item_name in sorted(set(present) - set(wanted)):
            client.rai_blocklist_items.begin_delete(group, account, name, item_name, polling=self._poll()).result()
        for item_name in sorted(set(wanted) - set(present)):
            client.rai_blocklist_items.create_or_update(group, account, name, item_name,
                                                        rest.blocklist_item_body(wanted[item_name]))

    def _rai_policy(self, change: Change) -> None:
        client = self.clients.cognitive(change.scope.subscription)
        group, account, name = change.scope.resource_group, change.scope.account, change.name
        if change.action is Action.DELETE:
            client.rai_policies.begin_delete(group, account, name, polling=self._poll()).result()
            return
        client.rai_policies.create_or_update(group, account, name, rest.rai_policy_body(change.after or {}))

    def _deployment(self, change: Change) -> None:
        client = self.clients.cognitive(change.scope.subscription)
        group, account, name = change.scope.resource_group, change.scope.account, change.name
        if change.action in (Action.DELETE, Action.REPLACE):
            try:
                client.deployments.begin_delete(group, account, name, polling=self._poll()).result()
            except ResourceNotFoundError:
                pass  # gone already: a replace resumed after an interruption
            if change.action is Action.DELETE:
                return
        body = rest.deployment_body(change.after or {})
        deployment = client.deployments.begin_create_or_update(group, account, name, body,
                                                               polling=self._poll()).result()
        state = deployment.properties.provisioning_state if deployment.properties else None
        if state not in (None, "Succeeded"):
            raise PermanentError(f"deployment {name} ended in provisioning state {state}")
