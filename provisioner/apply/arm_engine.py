"""`apply --engine arm`: let Azure Resource Manager carry out the writes.

Instead of issuing each write itself, provision submits a template per resource
group as a Microsoft.Resources/deployments deployment: Azure runs it (it
survives the CI runner dying and shows up in the group's deployment history),
and its deployment operations give the per-resource outcomes.

Templates only create and update (ARM's incremental mode never deletes), so
resource groups, deletions and the delete half of replaces go through the SDK
engine first, as do purges of soft-deleted accounts the spec wants purged.
Removed grants, private endpoints and diagnostic settings are such deletions;
new ones are in the templates (provisioner/export/arm.py), after their account.
Grants on the key vault go through the SDK engine too: the vault is provision's
publishing target, created by provision (`key_vault.create`), not by a template,
and the SDK writer creates it before the first grant on it needs it.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Callable, Protocol

from provisioner.apply.executor import Events, Executor, NoEvents, Writer, capacity_decrease
from provisioner.errors import ProvisionerError
from provisioner.model.resources import Kind, arm_id
from provisioner.plan.model import Action, Change, Plan
from provisioner.plan.result import (
    FAILED,
    SKIPPED,
    SUCCEEDED,
    ApplyResult,
    Outcome,
    TemplateRun,
)

# (subscription, resource group, template) for the resources at the given addresses
TemplatesFor = Callable[[set[str]], list[tuple[str, str, dict]]]


class TemplateDeployer(Protocol):
    def deploy(self, subscription: str, resource_group: str, spec_name: str, template: dict) -> TemplateRun: ...

    def purge_account(self, subscription: str, location: str, resource_group: str, name: str) -> None: ...


class ArmEngine:
    def __init__(self, writer: Writer, deployer: TemplateDeployer, *, parallelism: int = 10,
                 events: Events | None = None):
        self.writer = writer
        self.deployer = deployer
        self.parallelism = max(1, parallelism)
        self.events = events or NoEvents()

    def run(self, plan: Plan, templates_for: TemplatesFor) -> ApplyResult:
        before = self._sdk_part(plan)
        if before.interrupted:
            return before
        failed = {o.address for o in before.outcomes if o.status != SUCCEEDED}
        writes = [c for c in plan.pending if c.action in (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.ADOPT)
                  and c.kind is not Kind.RESOURCE_GROUP and not _restores(c) and not _on_vault(c)]
        blocked = [c for c in writes if c.address in failed or any(d in failed for d in c.depends_on)]
        writes = [c for c in writes if c not in blocked]
        outcomes = [o for o in before.outcomes if o.address not in {c.address for c in blocked}]
        outcomes += [Outcome(c.address, c.action.value, SKIPPED if c.address not in failed else FAILED,
                             next((o.reason for o in before.outcomes if o.address == c.address),
                                  "depends on a change that did not succeed")) for c in blocked]
        groups = templates_for({c.address for c in writes})
        with ThreadPoolExecutor(max_workers=min(self.parallelism, max(1, len(groups)))) as pool:
            for result in pool.map(lambda g: self._deploy(*g, plan=plan, writes=writes), groups):
                outcomes += result
        order = {c.address: i for i, c in enumerate(plan.pending)}
        outcomes.sort(key=lambda o: order.get(o.address, len(order)))
        return ApplyResult(tuple(outcomes))

    def _sdk_part(self, plan: Plan) -> ApplyResult:
        """Resource groups, deletions, replace deletions, capacity decreases (only the capacity: the template
        writes the rest), account restores and grants on the key vault by the SDK engine; then purges.

        Capacity decreases go first so the quota they free is there when the template grows other
        deployments, as in the SDK engine. Restores: a restore brings the account back as it was deleted,
        and one template cannot PUT an account twice, so the SDK engine restores and then applies the spec."""
        changes: list[Change] = []
        for change in plan.pending:
            if change.kind is Kind.RESOURCE_GROUP or change.action is Action.DELETE or _restores(change) \
                    or _on_vault(change):
                changes.append(change)
            elif change.action is Action.REPLACE:
                changes.append(replace(change, action=Action.DELETE, after=None))
            elif (decrease := capacity_decrease(change)) is not None:
                changes.append(decrease)
        result = Executor(self.writer, parallelism=self.parallelism, events=self.events).run(
            replace(plan, changes=tuple(changes)))
        outcomes = list(result.outcomes)
        for change in plan.pending:
            if change.kind is Kind.ACCOUNT and change.options.get("on_soft_deleted") == "purge":
                try:
                    self.deployer.purge_account(change.scope.subscription, (change.after or {}).get("location", ""),
                                                change.scope.resource_group, change.name)
                except ProvisionerError as exc:
                    outcomes.append(Outcome(change.address, change.action.value, FAILED,
                                            f"purging the soft-deleted account failed: {exc}"))
        # a replace or decrease is reported once, by the template part, unless its SDK half already failed
        replaced = {c.address for c in plan.pending if not _on_vault(c)
                    and (c.action is Action.REPLACE or capacity_decrease(c) is not None)}
        return ApplyResult(tuple(o for o in outcomes if o.address not in replaced or o.status != SUCCEEDED),
                           result.interrupted)

    def _deploy(self, subscription: str, resource_group: str, template: dict, *, plan: Plan,
                writes: list[Change]) -> list[Outcome]:
        mine = [c for c in writes if c.scope.subscription == subscription and c.scope.resource_group == resource_group]
        for change in mine:
            self.events.started(change)
        start = time.monotonic()
        run = self.deployer.deploy(subscription, resource_group, plan.spec_name, template)
        outcomes = outcomes_of(mine, run, time.monotonic() - start)
        for change, outcome in zip(mine, outcomes):
            self.events.finished(change, outcome)
        return outcomes


def _on_vault(change: Change) -> bool:
    """A grant on the key vault (role assignments on an account have scope.account set)."""
    return change.kind is Kind.ROLE_ASSIGNMENT and change.scope.account is None


def _restores(change: Change) -> bool:
    return (change.kind is Kind.ACCOUNT and change.action is Action.CREATE
            and change.options.get("on_soft_deleted") == "restore")


def change_of(resource_id: str, by_id: dict[str, Change]) -> Change | None:
    """The change a deployment operation's target belongs to: the change whose ARM id (`arm_id`, lowercase)
    is the target's or its nearest ancestor's, so a blocklist item counts as its blocklist and a DNS zone
    group as its private endpoint, while a role assignment or diagnostic setting on an account (whose id
    extends the account's) is its own."""
    path = resource_id.lower().rstrip("/")
    while path:
        if path in by_id:
            return by_id[path]
        path = path.rsplit("/", 1)[0]
    return None


def outcomes_of(changes: list[Change], run: TemplateRun, seconds: float) -> list[Outcome]:
    """Per-change outcomes from a template deployment's operations."""
    by_id = {arm_id(c.scope, c.kind, c.name): c for c in changes}
    seen: dict[str, list[tuple[str, str]]] = {}
    for op in run.operations:
        change = change_of(op.target_id, by_id)
        if change is not None:
            seen.setdefault(change.address, []).append((op.state, op.message))
    outcomes = []
    for change in changes:
        states = seen.get(change.address)
        if not states:
            reason = (f"not attempted: deployment {run.deployment} stopped first ({run.error})" if run.error
                      else f"not found in deployment {run.deployment}")
            outcomes.append(Outcome(change.address, change.action.value, SKIPPED, reason, seconds))
        elif all(state == "Succeeded" for state, _ in states):
            outcomes.append(Outcome(change.address, change.action.value, SUCCEEDED, "", seconds))
        else:
            message = next((m for state, m in states if state != "Succeeded" and m), run.error or "failed")
            outcomes.append(Outcome(change.address, change.action.value, FAILED, message, seconds))
    return outcomes
