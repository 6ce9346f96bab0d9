"""Carrying out one planned change in Azure: read, check, write, follow, verify.

Every change runs the same steps, and the retry layer runs them all again after a
transient failure, so each attempt starts from what Azure holds now:

1. read the resource as it is now, waiting (bounded) while it is still being provisioned;
2. check that the change still holds: the resource is as the plan saw it, no other spec
   manages it, it is ours to delete and not protected by prevent_destroy. Azure offers no
   conditional writes on these resource types (the REST specs declare no If-Match), so this
   read is how a change made by someone else since the plan is caught: the change fails and
   says what differs. A change Azure already shows (its answer was lost, or another run made
   the same change) is not written again;
3. write, and follow the operation with ResumingPolling (a failed poll never re-sends it);
4. verify: the resource ends `Succeeded`.

Tags we write are merged over the live ones, so tags added outside the spec stay.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import quote

from azure.core.exceptions import ResourceNotFoundError

from provisioner.azure import retry
from provisioner.azure.clients import Clients
from provisioner.azure.polling import ResumingPolling, get_json
from provisioner.errors import PermanentError, TransientError
from provisioner.model import names, rest
from provisioner.model.resources import ADDRESS_SEGMENT, Kind, owner_of
from provisioner.plan.differ import differences
from provisioner.plan.model import Action, Change

COGNITIVE = "/providers/Microsoft.CognitiveServices/accounts/"
TERMINAL = {"succeeded", "failed", "canceled", "disabled", "deleted"}


class ChangedSinceThePlan(PermanentError):
    """The resource is no longer what the plan saw: someone else changed it; nothing was written."""

    def __init__(self, message: str):
        super().__init__(message, code="ChangedSinceThePlan",
                         hint="another run or a person changed it; run `provision plan` again and review")


@dataclass(frozen=True)
class Live:
    """A resource as Azure shows it now, in our vocabulary."""

    doc: dict
    properties: dict
    state: str  # provisioningState; "Succeeded" when Azure reports none

    @property
    def owner(self) -> str | None:
        return owner_of(self.doc.get("tags"))

    @property
    def settled(self) -> bool:
        return self.state.lower() in TERMINAL

    @property
    def succeeded(self) -> bool:
        return self.state.lower() == "succeeded"


class AzureWriter:
    def __init__(self, clients: Clients, *, owner: str, policy: retry.RetryPolicy = retry.RetryPolicy(),
                 first_poll_delay: float = 1.0, settle_timeout: float = 600.0,
                 sleep: Callable[[float], None] = time.sleep):
        self.clients = clients
        self.owner = owner  # the spec whose ownership tags make a resource ours
        self.policy = policy
        self.first_poll_delay = first_poll_delay
        self.settle_timeout = settle_timeout
        self.sleep = sleep

    def _poll(self) -> ResumingPolling:
        return ResumingPolling(first=self.first_poll_delay, sleep=self.sleep, budget=self.clients.budget)

    def execute(self, change: Change, on_retry: Callable[[TransientError, int, float], None] | None = None) -> None:
        for name in filter(None, (change.name, change.scope.resource_group, change.scope.account)):
            if (problem := names.path_segment_problem(name)) is not None:
                raise PermanentError(f"{change.address}: refusing to send the name {names.shown(name)}: {problem}")
        step = {Kind.RESOURCE_GROUP: self._resource_group, Kind.ACCOUNT: self._account,
                Kind.BLOCKLIST: self._blocklist, Kind.RAI_POLICY: self._rai_policy,
                Kind.DEPLOYMENT: self._deployment}[change.kind]
        retry.call(lambda: step(change), self.policy, on_retry)

    # reading
    def _read(self, change: Change) -> Live | None:
        """The resource now, in our vocabulary; None if it does not exist."""
        subscription = change.scope.subscription
        if change.kind is Kind.RESOURCE_GROUP:
            client = self.clients.resources(subscription)
            doc = get_json(client, f"/subscriptions/{subscription}/resourcegroups/{_seg(change.name)}"
                                   f"?api-version={client._config.api_version}")
            return None if doc is None else Live(doc, rest.resource_group_properties(doc), _state(doc))
        client = self.clients.cognitive(subscription)
        path = _account_path(change) if change.kind is Kind.ACCOUNT else \
            f"{_account_path(change)}/{ADDRESS_SEGMENT[change.kind]}/{_seg(change.name)}"
        doc = get_json(client, f"{path}?api-version={client._config.api_version}")
        if doc is None:
            return None
        if change.kind is Kind.ACCOUNT:
            properties = rest.account_properties(doc)
        elif change.kind is Kind.DEPLOYMENT:
            properties = rest.deployment_properties(doc)
        elif change.kind is Kind.RAI_POLICY:
            properties = rest.rai_policy_properties(doc)
        else:
            listed = get_json(client, f"{path}/raiBlocklistItems?api-version={client._config.api_version}") or {}
            properties = rest.blocklist_properties(doc, listed.get("value") or [])
        return Live(doc, properties, _state(doc))

    def _settled(self, change: Change) -> Live | None:
        """The resource once it is no longer being provisioned (bounded wait)."""
        deadline = time.monotonic() + self.settle_timeout
        delay = self.first_poll_delay
        while True:
            live = self._read(change)
            if live is None or live.settled:
                return live
            if time.monotonic() > deadline:
                raise PermanentError(f"{change.address} is still {live.state} after {self.settle_timeout:.0f} s; "
                                     "nothing was written to it", hint="run apply again once Azure is done")
            self.sleep(delay)
            delay = min(15.0, delay * 1.5)

    # checking
    def _needs_write(self, change: Change, live: Live | None) -> bool:
        """Does this create or update still need writing? Raises when the change no longer holds."""
        after = _own(change.kind, change.after or {})
        if live is None:
            if change.action is Action.CREATE:
                return True
            raise ChangedSinceThePlan(f"{change.address} was deleted since the plan was made")
        if live.owner not in (None, self.owner):
            raise ChangedSinceThePlan(f"{change.address} is now managed by spec '{live.owner}'")
        done = not differences(change.kind, after, live.properties)
        if change.action is Action.CREATE:
            if done and live.owner == self.owner:
                return not live.succeeded  # ours already (a lost answer, or a second run): repair only
            raise ChangedSinceThePlan(f"{change.address} was created by someone else since the plan was made")
        seen = {k: v for k, v in _own(change.kind, change.before or {}).items() if k in after}
        if not differences(change.kind, seen, live.properties):
            return True  # as the plan saw it
        if done:
            return not live.succeeded
        moved = differences(change.kind, seen, live.properties)
        raise ChangedSinceThePlan(f"{change.address} changed since the plan was made: "
                                  + ", ".join(f"{f.path} was {_show(f.after)}, is now {_show(f.before)}"
                                              for f in moved[:5]))

    def _check_deletable(self, change: Change, live: Live) -> None:
        if change.prevent_destroy:
            raise PermanentError(f"{change.address} has prevent_destroy: true; it is not deleted")
        if live.owner != self.owner:
            who = f"spec '{live.owner}'" if live.owner else "no spec (it has no ownership tags)"
            raise ChangedSinceThePlan(f"{change.address} is managed by {who}; provision deletes only what this "
                                      "spec manages")

    def _delete_and_wait(self, change: Change, begin: Callable[..., Any]) -> None:
        live = self._settled(change)
        if live is None:
            return  # gone already (a lost answer, or someone else deleted it)
        self._check_deletable(change, live)
        try:
            begin(polling=self._poll()).result()
        except ResourceNotFoundError:
            pass

    # resource groups: created when missing, never updated or deleted
    def _resource_group(self, change: Change) -> None:
        if change.action is Action.DELETE:
            raise PermanentError("provision never deletes resource groups")
        if self._read(change) is not None:
            return
        after = change.after or {}
        self.clients.resources(change.scope.subscription).resource_groups.create_or_update(
            change.name, {"location": after["location"], "tags": after.get("tags") or {}})

    # accounts
    def _account(self, change: Change) -> None:
        client = self.clients.cognitive(change.scope.subscription)
        group, name = change.scope.resource_group, change.name
        if change.action is Action.DELETE:
            self._delete_account(change, client)
            return
        live = self._settled(change)
        if not self._needs_write(change, live):
            return
        body = rest.account_body(change.after or {})
        body["tags"] = _merged_tags(live, body["tags"])
        choice = change.options.get("on_soft_deleted") if live is None else None
        if choice == "purge":
            self._purge(client, body["location"], group, name)
        if choice == "restore":
            # A restore brings the account back as it was deleted (its tags and settings, not the body's);
            # a second PUT then makes it what the spec says, so the next plan has nothing left to do.
            restore = {**body, "properties": {**body["properties"], "restore": True}}
            client.accounts.begin_create(group, name, restore, polling=self._poll()).result()
        if live is None or choice:
            account = client.accounts.begin_create(group, name, body, polling=self._poll()).result()
        else:  # PATCH merges: settings the spec does not manage (network rules set by hand) stay
            patch = {"sku": body["sku"], "tags": body["tags"], "properties": body["properties"]}
            account = client.accounts.begin_update(group, name, patch, polling=self._poll()).result()
        _verify(change, account)

    def _delete_account(self, change: Change, client: Any) -> None:
        group, name = change.scope.resource_group, change.name
        location = (change.before or {}).get("location", "")
        if not change.options.get("soft_deleted"):
            live = self._settled(change)
            if live is not None:
                self._check_deletable(change, live)
                self._check_children(change, client)
                client.accounts.begin_delete(group, name, polling=self._poll()).result()
        if change.options.get("purge"):
            self._purge(client, location, group, name)

    def _check_children(self, change: Change, client: Any) -> None:
        """Deleting an account deletes everything on it: refuse if anything there is not ours (and not
        explicitly let go with --delete-unowned when the plan was made)."""
        path = _account_path(change)
        allowed = set(change.options.get("delete_unowned") or ())
        strangers = []
        for segment in ADDRESS_SEGMENT.values():
            listed = get_json(client, f"{path}/{segment}?api-version={client._config.api_version}") or {}
            for doc in listed.get("value") or []:
                system = (doc.get("properties") or {}).get("type") == "SystemManaged" \
                    or doc.get("name", "").startswith("Microsoft.")
                relative = f"{segment}/{doc.get('name')}"
                if not system and owner_of(doc.get("tags")) != self.owner and relative not in allowed:
                    strangers.append(relative)
        if strangers:
            raise ChangedSinceThePlan(f"{change.address} holds resources this spec does not manage "
                                      f"({', '.join(sorted(strangers))}); the account is not deleted")

    def _purge(self, client: Any, location: str, group: str, name: str) -> None:
        try:
            client.deleted_accounts.begin_purge(location, group, name, polling=self._poll()).result()
        except ResourceNotFoundError:
            pass  # nothing soft-deleted (purged already, or a lost answer)

    # blocklists: the list itself, then its items (named by content, so re-runs never duplicate them)
    def _blocklist(self, change: Change) -> None:
        client = self.clients.cognitive(change.scope.subscription)
        group, account, name = change.scope.resource_group, change.scope.account, change.name
        if change.action is Action.DELETE:
            self._delete_and_wait(change, lambda **kw: client.rai_blocklists.begin_delete(group, account, name, **kw))
            return
        live = self._settled(change)
        after = change.after or {}
        if self._needs_write(change, live):
            body = rest.blocklist_body(after)
            body["tags"] = _merged_tags(live, body["tags"])
            client.rai_blocklists.create_or_update(group, account, name, body)
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
            self._delete_and_wait(change, lambda **kw: client.rai_policies.begin_delete(group, account, name, **kw))
            return
        live = self._settled(change)
        if not self._needs_write(change, live):
            return
        body = rest.rai_policy_body(change.after or {})
        body["tags"] = _merged_tags(live, body["tags"])
        client.rai_policies.create_or_update(group, account, name, body)

    def _deployment(self, change: Change) -> None:
        client = self.clients.cognitive(change.scope.subscription)
        group, account, name = change.scope.resource_group, change.scope.account, change.name

        def begin_delete(**kw: Any) -> Any:
            return client.deployments.begin_delete(group, account, name, **kw)

        if change.action is Action.DELETE:
            self._delete_and_wait(change, begin_delete)
            return
        live = self._settled(change)
        if change.action is Action.REPLACE:
            if live is not None and not differences(change.kind, change.after or {}, live.properties):
                if live.succeeded:
                    return  # replaced already (this change ran before and its answer was lost)
            elif live is not None:
                self._delete_and_wait(change, begin_delete)
            live = None
        elif not self._needs_write(change, live):
            return
        body = rest.deployment_body(change.after or {})
        body["tags"] = _merged_tags(live, body["tags"])
        deployment = client.deployments.begin_create_or_update(group, account, name, body,
                                                               polling=self._poll()).result()
        _verify(change, deployment)


def _own(kind: Kind, properties: dict) -> dict:
    """The properties one write sets: a blocklist's items are separate resources, made to match after it."""
    return {k: v for k, v in properties.items() if not (kind is Kind.BLOCKLIST and k == "items")}


def _verify(change: Change, resource: Any) -> None:
    state = resource.properties.provisioning_state if resource is not None and resource.properties else None
    if state not in (None, "Succeeded"):
        raise PermanentError(f"{change.address} ended in provisioning state {state}",
                             hint="run apply again: a resource that is not Succeeded is planned for repair")


def _merged_tags(live: Live | None, ours: dict[str, str]) -> dict[str, str]:
    return {**(live.doc.get("tags") or {} if live else {}), **ours}


def _state(doc: dict) -> str:
    return str((doc.get("properties") or {}).get("provisioningState") or "Succeeded")


def _seg(name: str) -> str:
    return quote(name, safe="")


def _account_path(change: Change) -> str:
    account = change.name if change.kind is Kind.ACCOUNT else change.scope.account or ""
    return (f"/subscriptions/{change.scope.subscription}/resourceGroups/{_seg(change.scope.resource_group)}"
            f"{COGNITIVE}{_seg(account)}")


def _show(value: Any) -> str:
    return "(none)" if value is None else str(value)
