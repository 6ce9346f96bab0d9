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

from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from provisioner.azure import retry
from provisioner.azure.clients import Clients
from provisioner.azure.polling import ResumingPolling, get_json
from provisioner.errors import PermanentError, TransientError
from provisioner.model import ids, names, rest
from provisioner.model.resources import (
    ACCOUNT_CHILD_KINDS,
    ADDRESS_SEGMENT,
    DNS_ZONE_GROUP,
    KeyVaultTarget,
    Kind,
    arm_id,
    key_vault_id,
    owner_of_resource,
)
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
    owner: str | None = None  # the spec managing it (see resources.owner_of_resource)

    @property
    def settled(self) -> bool:
        return self.state.lower() in TERMINAL

    @property
    def succeeded(self) -> bool:
        return self.state.lower() == "succeeded"


class AzureWriter:
    def __init__(self, clients: Clients, *, owner: str, policy: retry.RetryPolicy = retry.RetryPolicy(),
                 first_poll_delay: float = 1.0, settle_timeout: float = 600.0,
                 sleep: Callable[[float], None] = time.sleep, key_vault: KeyVaultTarget | None = None):
        self.clients = clients
        self.owner = owner  # the spec whose ownership tags make a resource ours
        self.key_vault = key_vault  # where grants on the vault go; created first when the spec says create
        self.policy = policy
        self.first_poll_delay = first_poll_delay
        self.settle_timeout = settle_timeout
        self.sleep = sleep

    def _poll(self) -> ResumingPolling:
        return ResumingPolling(first=self.first_poll_delay, sleep=self.sleep, budget=self.clients.budget)

    def execute(self, change: Change, on_retry: Callable[[TransientError, int, float], None] | None = None) -> None:
        for name in filter(None, (change.name, change.scope.resource_group, change.scope.account,
                                  change.scope.key_vault)):
            if (problem := names.path_segment_problem(name)) is not None:
                raise PermanentError(f"{change.address}: refusing to send the name {names.shown(name)}: {problem}")
        step = {Kind.RESOURCE_GROUP: self._resource_group, Kind.ACCOUNT: self._account,
                Kind.BLOCKLIST: self._blocklist, Kind.RAI_POLICY: self._rai_policy,
                Kind.DEPLOYMENT: self._deployment, Kind.PRIVATE_ENDPOINT: self._private_endpoint,
                Kind.ROLE_ASSIGNMENT: self._role_assignment,
                Kind.DIAGNOSTIC_SETTING: self._diagnostic_setting}[change.kind]
        retry.call(lambda: step(change), self.policy, on_retry)

    # reading
    def _live(self, change: Change, doc: dict | None, properties: dict | None = None) -> Live | None:
        if doc is None:
            return None
        return Live(doc, properties, _state(doc),
                    owner_of_resource(change.kind, change.name, properties, self.owner))

    def _read(self, change: Change) -> Live | None:
        """The resource now, in our vocabulary; None if it does not exist."""
        subscription = change.scope.subscription
        if change.kind is Kind.RESOURCE_GROUP:
            client = self.clients.resources(subscription)
            doc = get_json(client, f"/subscriptions/{subscription}/resourcegroups/{_seg(change.name)}"
                                   f"?api-version={client._config.api_version}")
            return self._live(change, doc, rest.resource_group_properties(doc) if doc else None)
        if change.kind is Kind.PRIVATE_ENDPOINT:
            network = self.clients.network(subscription)
            group = change.scope.resource_group
            doc = _get(lambda: network.private_endpoints.get(group, change.name))
            zone_group = _get(lambda: network.private_dns_zone_groups.get(group, change.name, DNS_ZONE_GROUP)) \
                if doc is not None else None
            return self._live(change, doc, rest.private_endpoint_properties(doc, zone_group) if doc else None)
        if change.kind is Kind.ROLE_ASSIGNMENT:
            authorization = self.clients.authorization(subscription)
            doc = _get(lambda: authorization.role_assignments.get(_target_id(change), change.name))
            return self._live(change, doc, rest.role_assignment_properties(doc) if doc else None)
        if change.kind is Kind.DIAGNOSTIC_SETTING:
            monitor = self.clients.monitor(subscription)
            doc = _get(lambda: monitor.diagnostic_settings.get(_target_id(change), change.name))
            return self._live(change, doc, rest.diagnostic_setting_properties(doc) if doc else None)
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
        return self._live(change, doc, properties)

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
            who = f"spec '{live.owner}'" if live.owner else "no spec (nothing on it says it is ours)"
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
        self._check_identities(change)
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
            if "identity" in body:
                patch["identity"] = body["identity"]
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
        """Deleting an account deletes everything on it, and takes away what attaches to it (private
        endpoints, role assignments, diagnostic settings): refuse if anything there is not ours (and not
        explicitly let go with --delete-unowned when the plan was made). Ours were deleted before."""
        path = _account_path(change)
        allowed = set(change.options.get("delete_unowned") or ())
        strangers = []
        for kind in ACCOUNT_CHILD_KINDS:
            segment = ADDRESS_SEGMENT[kind]
            listed = get_json(client, f"{path}/{segment}?api-version={client._config.api_version}") or {}
            for doc in listed.get("value") or []:
                system = (doc.get("properties") or {}).get("type") == "SystemManaged" \
                    or doc.get("name", "").startswith("Microsoft.")
                if not system:
                    strangers.append((kind, doc.get("name", ""), {"tags": doc.get("tags") or {}}))
        strangers += self._attached(change, client)
        strangers = [f"{ADDRESS_SEGMENT[kind]}/{name}" for kind, name, properties in strangers
                     if owner_of_resource(kind, name, properties, self.owner) != self.owner]
        strangers = [relative for relative in strangers if relative not in allowed]
        if strangers:
            raise ChangedSinceThePlan(f"{change.address} holds resources this spec does not manage "
                                      f"({', '.join(sorted(strangers))}); the account is not deleted")

    def _attached(self, change: Change, client: Any) -> list[tuple[Kind, str, dict]]:
        """What attaches to the account now: (kind, name, properties that tell its owner)."""
        subscription, account_id = change.scope.subscription, arm_id(change.scope, Kind.ACCOUNT, change.name)
        found: list[tuple[Kind, str, dict]] = []
        authorization = self.clients.authorization(subscription)
        for model in authorization.role_assignments.list_for_scope(account_id, filter="atScope()"):
            properties = rest.role_assignment_properties(_as_doc(model))
            if properties["scope"] == account_id:
                found.append((Kind.ROLE_ASSIGNMENT, model.name, properties))
        for model in self.clients.monitor(subscription).diagnostic_settings.list(account_id):
            found.append((Kind.DIAGNOSTIC_SETTING, model.name, {}))
        doc = get_json(client, f"{_account_path(change)}?api-version={client._config.api_version}") or {}
        network = self.clients.network(subscription)
        for connection in (doc.get("properties") or {}).get("privateEndpointConnections") or []:
            endpoint = ids.parse(str(((connection.get("properties") or {}).get("privateEndpoint") or {}).get("id")))
            if endpoint is None or endpoint.resource_group is None:
                continue
            live = _get(lambda: network.private_endpoints.get(endpoint.resource_group, endpoint.name))
            if live is not None:
                found.append((Kind.PRIVATE_ENDPOINT, endpoint.name, {"tags": live.get("tags") or {}}))
        return found

    def _check_identities(self, change: Change) -> None:
        """User-assigned identities must exist before an account can use them: say which one is missing."""
        for identity_id in ((change.after or {}).get("identity") or {}).get("user_assigned") or []:
            parsed = ids.parse(identity_id)
            if parsed is None or parsed.subscription is None or parsed.resource_group is None:
                raise PermanentError(f"{change.address}: {identity_id!r} is not a user-assigned identity id")
            client = self.clients.identities(parsed.subscription)
            if _get(lambda: client.user_assigned_identities.get(parsed.resource_group, parsed.name)) is None:
                raise PermanentError(f"{change.address}: the user-assigned identity {identity_id} does not exist; "
                                     "nothing was written", hint="create the identity first (it is not managed "
                                                                 "by provision), or remove it from identity")

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

    # private endpoints (Microsoft.Network), with their DNS zone group
    def _private_endpoint(self, change: Change) -> None:
        network = self.clients.network(change.scope.subscription)
        group, name = change.scope.resource_group, change.name

        def begin_delete(**kw: Any) -> Any:
            return network.private_endpoints.begin_delete(group, name, **kw)

        if change.action is Action.DELETE:
            self._delete_and_wait(change, begin_delete)
            return
        live = self._settled(change)
        after = change.after or {}
        if change.action is Action.REPLACE:
            if live is not None and differences(change.kind, _own(change.kind, after), live.properties):
                self._delete_and_wait(change, begin_delete)
                live = None
        elif not self._needs_write(change, live):
            self._zone_group(network, group, name, after)
            return
        body = rest.private_endpoint_body(after, name)
        body["tags"] = _merged_tags(live, body["tags"])
        endpoint = network.private_endpoints.begin_create_or_update(group, name, body, polling=self._poll()).result()
        state = (_as_doc(endpoint).get("properties") or {}).get("provisioningState") if endpoint is not None else None
        if state not in (None, "Succeeded"):
            raise PermanentError(f"{change.address} ended in provisioning state {state}",
                                 hint="run apply again: a resource that is not Succeeded is planned for repair")
        self._zone_group(network, group, name, after)

    def _zone_group(self, network: Any, group: str, name: str, after: dict) -> None:
        """The endpoint's DNS zone group, made to match `dns_zone_ids` (none: no zone group)."""
        live = _get(lambda: network.private_dns_zone_groups.get(group, name, DNS_ZONE_GROUP))
        have = rest.private_endpoint_properties({}, live)["dns_zone_ids"] if live is not None else None
        want = list(after.get("dns_zone_ids") or [])
        if want and have != want:
            network.private_dns_zone_groups.begin_create_or_update(
                group, name, DNS_ZONE_GROUP, rest.dns_zone_group_body(after), polling=self._poll()).result()
        elif not want and live is not None:
            try:
                network.private_dns_zone_groups.begin_delete(group, name, DNS_ZONE_GROUP,
                                                             polling=self._poll()).result()
            except ResourceNotFoundError:
                pass

    # role assignments (Microsoft.Authorization): no tags, no updates but the description; not LROs
    def _role_assignment(self, change: Change) -> None:
        authorization = self.clients.authorization(change.scope.subscription)
        scope_id, name = _target_id(change), change.name
        live = self._read(change)
        if change.action in (Action.DELETE, Action.REPLACE) and live is not None:
            if change.action is Action.REPLACE and not differences(change.kind, change.after or {}, live.properties):
                return  # replaced already (this change ran before and its answer was lost)
            self._check_deletable(change, live)
            try:
                authorization.role_assignments.delete(scope_id, name)
            except ResourceNotFoundError:
                pass
            live = None
        if change.action is Action.DELETE:
            return
        if change.action is not Action.REPLACE and not self._needs_write(change, live):
            return
        if scope_id.split("/providers/")[1].startswith("microsoft.keyvault/"):
            self._ensure_vault(change)
        try:
            authorization.role_assignments.create(scope_id, name, rest.role_assignment_body(change.after or {}))
        except ResourceExistsError as exc:
            if _code(exc) == "RoleAssignmentExists":
                raise ChangedSinceThePlan(f"{change.address}: the principal was given this role on "
                                          f"{scope_id.rsplit('/', 1)[-1]} by another role assignment since the "
                                          "plan was made") from None
            raise
        except HttpResponseError as exc:
            if _code(exc) == "PrincipalNotFound":
                principal = (change.after or {}).get("principal")
                raise PermanentError(f"{change.address}: Azure finds no principal {principal} in the tenant",
                                     code="PrincipalNotFound",
                                     hint="check the object id (for a managed identity: its principal id, not its "
                                          "client id) and the principal type") from None
            raise

    def _ensure_vault(self, change: Change) -> None:
        """A grant on the key vault needs the vault; `key_vault.create: true` creates it when apply runs
        the grant before publishing creates it."""
        from provisioner.azure import publish

        if self.key_vault is not None and self.key_vault.name.lower() == (change.scope.key_vault or "").lower():
            publish.ensure_vault(self.clients, self.key_vault)

    # diagnostic settings (Microsoft.Insights): no tags; ours by name; not LROs
    def _diagnostic_setting(self, change: Change) -> None:
        monitor = self.clients.monitor(change.scope.subscription)
        resource_uri, name = _target_id(change), change.name
        live = self._read(change)
        if change.action is Action.DELETE:
            if live is not None:
                self._check_deletable(change, live)
                try:
                    monitor.diagnostic_settings.delete(resource_uri, name)
                except ResourceNotFoundError:
                    pass
            return
        if live is not None:  # declared by name: ours (see resources.owner_of_resource)
            live = Live(live.doc, live.properties, live.state, self.owner)
        if not self._needs_write(change, live):
            return
        monitor.diagnostic_settings.create_or_update(resource_uri, name,
                                                     rest.diagnostic_setting_body(change.after or {}))

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


def _get(read: Callable[[], Any]) -> dict | None:
    """An SDK read as its REST document; None for 404."""
    try:
        model = read()
    except ResourceNotFoundError:
        return None
    return None if model is None else _as_doc(model)


def _as_doc(model: Any) -> dict:
    """An SDK model as the REST document it came from (msrest- and TypeSpec-generated SDKs differ)."""
    return model.serialize(keep_readonly=True) if hasattr(model, "serialize") else model.as_dict()


def _target_id(change: Change) -> str:
    """The id of what a role assignment or diagnostic setting is on: the account, or the key vault."""
    scope = change.scope
    return key_vault_id(scope) if scope.account is None else arm_id(scope, Kind.ACCOUNT, scope.account)


SEPARATE_WRITES = {Kind.BLOCKLIST: "items", Kind.PRIVATE_ENDPOINT: "dns_zone_ids"}


def _own(kind: Kind, properties: dict) -> dict:
    """The properties one write sets: a blocklist's items are separate resources, made to match after it, and
    so is a private endpoint's DNS zone group."""
    return {k: v for k, v in properties.items() if k != SEPARATE_WRITES.get(kind)}


def _verify(change: Change, resource: Any) -> None:
    state = resource.properties.provisioning_state if resource is not None and resource.properties else None
    if state not in (None, "Succeeded"):
        raise PermanentError(f"{change.address} ended in provisioning state {state}",
                             hint="run apply again: a resource that is not Succeeded is planned for repair")


def _code(exc: Exception) -> str | None:
    error = getattr(exc, "error", None)
    return getattr(error, "code", None)


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
