"""The application layer: one spec, one Azure, and what provision does with them.

`Workspace` is what the CLI calls and what Python code can call: each operation takes
plain arguments and returns the values the CLI renders (a Plan, an ApplyResult, quota
rows, template texts); progress goes to an optional event sink. Nothing here prints,
prompts or exits.

    from provisioner import Workspace

    with Workspace.open("deployments.yaml", emulator=True) as workspace:
        plan = workspace.plan()
        result = workspace.apply(plan)
        assert not result.failed

The spec is loaded and checked before any connection is made, so a spec with errors
never reaches Azure. A plan this workspace did not make itself (a saved plan, or one
built by hand) is a claim: `apply` plans again and goes ahead only if it gets the same.
"""
from __future__ import annotations

import hashlib
import importlib
import json
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from provisioner.errors import PlanStaleError, ProvisionerError, SpecError
from provisioner.model.resources import DesiredState, Kind, Resource
from provisioner.spec import Spec, load, load_every_environment as every_environment, rules
from provisioner.spec.rules import RULES, Finding, Rule
from provisioner.spec.schema import spec_json_schema

if TYPE_CHECKING:  # the Azure SDK and the engines load when a command first talks to Azure
    from provisioner.apply.executor import Events
    from provisioner.azure.clients import Clients, Connection
    from provisioner.model.observed import ObservedState, RegionInfo
    from provisioner.plan.capacity import CapacityError
    from provisioner.plan.drift import Drift
    from provisioner.plan.model import Plan
    from provisioner.plan.result import ApplyResult

# Planning loads when a command plans: `validate` and `schema` start faster without it.
_LAZY = {"CapacityError": ("provisioner.plan.capacity", "CapacityError"),
         "Drift": ("provisioner.plan.drift", "Drift"), "Plan": ("provisioner.plan.model", "Plan"),
         "ApplyResult": ("provisioner.plan.result", "ApplyResult"),
         "check_destination": ("provisioner.plan.planfile", "check_destination"),
         "load_plan": ("provisioner.plan.planfile", "load"), "save_plan": ("provisioner.plan.planfile", "save"),
         "UPDATED_PRICES": ("provisioner.plan.pricefile", "UPDATED")}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = _LAZY[name]
    return getattr(importlib.import_module(module), attribute)

__all__ = ["RULES", "ApplyResult", "CapacityError", "Drift", "Finding", "GuardrailError", "LoadedSpec", "Plan", "Rule",
           "Workspace", "check_destination", "connect", "failing", "import_spec", "load_every_environment",
           "load_plan", "load_spec", "quota_report", "save_plan", "spec_json_schema"]

EMULATOR_STATE = Path(".provision") / "emulator.sqlite"
ENGINES = ("sdk", "arm")


@dataclass(frozen=True)
class LoadedSpec:
    """A checked spec file and the desired state it asks for."""

    path: Path
    spec: Spec
    desired: DesiredState

    @property
    def digest(self) -> str:
        """Changes when the desired state changes (the file, or a ${VAR} it expands), including where
        apply publishes endpoints and keys, which no change in the plan shows."""
        resources = sorted((r.address, json.dumps(dict(r.properties), sort_keys=True, default=str))
                           for r in self.desired.resources)
        key_vault = self.desired.key_vault and json.dumps(asdict(self.desired.key_vault), sort_keys=True, default=str)
        return "sha256:" + hashlib.sha256(json.dumps([resources, key_vault]).encode()).hexdigest()

    @property
    def warnings(self) -> tuple:
        return self.spec.warnings

    def guardrails(self) -> list[Finding]:
        """The spec checked against the security guidance (waived findings included, marked)."""
        return rules.check(self.spec)


def failing(findings: Iterable[Finding], *, strict: bool = False) -> list[Finding]:
    """Unwaived errors, and with `strict` unwaived warnings: the findings that fail a check."""
    return rules.failing(findings, strict=strict)


class GuardrailError(ProvisionerError):
    """Guardrail findings stop the command (`--strict`); `findings` lists them."""

    def __init__(self, findings: list[Finding]):
        self.findings = findings
        super().__init__(f"{len(findings)} guardrail finding(s) fail the check:\n"
                         + "\n".join(str(f) for f in findings),
                         hint="fix them, or waive each in the spec with a reason (see `provision validate --rules`)")


def plan_warning(finding: Finding) -> str:
    """A guardrail finding as one line of a plan's warnings."""
    return f"{finding} (fix: {finding.rule.fix})"


def load_spec(path: str | Path, env: str | None = None) -> LoadedSpec:
    """Read and check a spec file, as environment `env` sees it when the spec has environments
    (SpecError lists every problem; nothing touches Azure)."""
    path = Path(path)
    if not path.exists():
        raise ProvisionerError(f"{path}: no such file",
                               hint="pass the spec file, e.g. `provision plan deployments.yaml`")
    spec, desired = load(path, env)
    return LoadedSpec(path, spec, desired)


def load_every_environment(path: str | Path) -> list[LoadedSpec]:
    """The spec as each of its environments sees it (itself when it has none); SpecError carries the
    problems of all of them. The file is read once."""
    path = Path(path)
    if not path.exists():
        raise ProvisionerError(f"{path}: no such file")
    return [LoadedSpec(path, spec, desired) for spec, desired in every_environment(path)]


@contextmanager
def connect(spec_path: Path, *, emulator: bool = False, cloud: str = "public") -> Iterator[Clients]:
    """Clients for the embedded emulator (`emulator`), an external one (PROVISION_EMULATOR_*), or Azure."""
    from provisioner.azure.clients import azure_connection, emulator_connection, emulator_connection_from_env

    if emulator:
        from provisioner.emulator import Emulator, StateFileError

        state = spec_path.resolve().parent / EMULATOR_STATE
        try:
            emu = Emulator(state).start()
        except StateFileError as exc:
            raise ProvisionerError(f"the emulator state file {exc.path} is unusable: {exc.problem}",
                                   hint=exc.hint) from None
        try:
            with _clients(emulator_connection(emu.base_url, emu.ca_path, emu.credential)) as clients:
                yield clients
        finally:
            emu.stop()
        return
    with _clients(emulator_connection_from_env() or azure_connection(cloud)) as clients:
        yield clients


@contextmanager
def _clients(connection: Connection) -> Iterator[Clients]:
    from provisioner.azure.clients import Clients

    clients = Clients(connection)
    try:
        yield clients
    finally:
        clients.close()


@dataclass
class Workspace:
    spec: LoadedSpec
    clients: Clients
    events: Events | None = None  # progress of applies (renderers implement it)
    _made: dict[int, tuple[Plan, ObservedState]] = field(default_factory=dict, repr=False)

    @classmethod
    @contextmanager
    def open(cls, spec_path: str | Path, *, emulator: bool = False, cloud: str = "public",
             events: Events | None = None, env: str | None = None) -> Iterator["Workspace"]:
        """Load the spec, then connect: to the embedded emulator (state in .provision/ beside the spec),
        to an emulator named by PROVISION_EMULATOR_*, or to Azure (`cloud`)."""
        loaded = load_spec(spec_path, env)
        with connect(loaded.path, emulator=emulator, cloud=cloud) as clients:
            yield cls(loaded, clients, events)

    # planning
    def plan(self, *, targets: Iterable[str] = (), destroy: bool = False, include_accounts: bool = False,
             purge: bool = False, delete_unowned: bool = False, retirement_warning_days: int = 90,
             prices: str | Path | None = None, adopt: bool = True, strict: bool = False) -> Plan:
        """Read live Azure and plan, with the cost of the changes at `prices` (a price file; default:
        .provision/prices.json beside the spec, else the shipped list prices). A plan that would fail in
        Azure for quota or availability raises CapacityError, whose `offered` names the regions that do
        offer what is missing. `adopt=False` (or the spec's `adopt: false`) makes declared resources that
        exist without ownership tags a PlanError instead of adoptions. Unwaived guardrail findings are the
        plan's warnings (not for a destroy); with `strict`, unwaived errors and warnings raise
        GuardrailError before Azure is read."""
        from provisioner.azure.observe import offering_regions, read_observed
        from provisioner.plan import cost, differ, pricefile
        from provisioner.plan.capacity import CapacityError

        findings = [] if destroy else [f for f in self.spec.guardrails() if f.waived is None]
        if strict and failing(findings, strict=True):
            raise GuardrailError(failing(findings, strict=True))
        table = pricefile.resolve(self.spec.path, Path(prices) if prices else None)  # a bad file fails first
        observed = read_observed(self.clients, self.spec.desired, every_attachment=destroy)
        try:
            plan = differ.make_plan(self.spec.desired, observed, spec_file=str(self.spec.path),
                                    spec_digest=self.spec.digest, destroy=destroy,
                                    include_accounts=include_accounts, purge=purge, delete_unowned=delete_unowned,
                                    targets=targets, retirement_warning_days=retirement_warning_days,
                                    adopt=adopt)
        except CapacityError as exc:
            wanted = {(u.subscription, u.model_format, u.model, u.version) for u in exc.findings.unavailable}
            exc.offered = {(fmt, model, version): offering_regions(self.clients, subscription, fmt, model, version)
                           for subscription, fmt, model, version in sorted(wanted)}
            raise
        plan = cost.with_cost(plan, table)
        if findings:
            plan = replace(plan, warnings=plan.warnings + tuple(plan_warning(f) for f in findings))
        self._made[id(plan)] = (plan, observed)
        return plan

    def drift(self, *, targets: Iterable[str] = (), retirement_warning_days: int = 90) -> Drift:
        """What changed in Azure since this spec was applied (see provisioner.plan.drift)."""
        from provisioner.plan import drift

        plan = self.plan(targets=targets, retirement_warning_days=retirement_warning_days)
        return drift.detect(plan, self._made[id(plan)][1])

    def verified(self, plan: Plan) -> Plan:
        """The plan to carry out for `plan`: itself when this workspace made it; otherwise a new plan
        with the same settings, if it is the same plan (PlanStaleError says what differs)."""
        from provisioner.plan import planfile

        if self._made.get(id(plan), (None,))[0] is plan:
            return plan
        if plan.spec_name != self.spec.desired.spec_name:
            raise PlanStaleError(f"the plan is for spec '{plan.spec_name}', not for "
                                          f"'{self.spec.desired.spec_name}' ({self.spec.path})")
        fresh = self.plan(targets=plan.targets, destroy=plan.destroy, include_accounts=plan.include_accounts,
                          purge=plan.purge, delete_unowned=plan.delete_unowned)
        planfile.check_same(plan, fresh)
        return fresh

    # applying
    def apply(self, plan: Plan | None = None, *, engine: str = "sdk", parallelism: int = 10,
              events: Events | None = None) -> ApplyResult:
        """Carry out a plan (default: a new one), then publish endpoints and keys to Key Vault
        (or remove them, for a destroy plan). One failed change never stops the others."""
        from provisioner.apply.arm_engine import ArmEngine
        from provisioner.apply.executor import Executor
        from provisioner.azure.templates import AzureTemplateDeployer
        from provisioner.azure.writers import AzureWriter

        if engine not in ENGINES:
            raise ProvisionerError(f"unknown engine {engine!r}", hint=f"use one of: {', '.join(ENGINES)}")
        plan = self.verified(plan) if plan is not None else self.plan()
        events = events or self.events
        writer = AzureWriter(self.clients, owner=self.spec.desired.spec_name, key_vault=self.spec.desired.key_vault)
        if engine == "arm" and not plan.destroy:
            result = ArmEngine(writer, AzureTemplateDeployer(self.clients), parallelism=parallelism,
                               events=events).run(plan, self._templates_for(plan))
        else:
            result = Executor(writer, parallelism=parallelism, events=events).run(plan)
        if result.interrupted:
            return result
        return self._publish(plan, result)

    def destroy(self, *, targets: Iterable[str] = (), include_accounts: bool = False, purge: bool = False,
                delete_unowned: bool = False, parallelism: int = 10) -> ApplyResult:
        """Plan a destroy and carry it out."""
        plan = self.plan(targets=targets, destroy=True, include_accounts=include_accounts, purge=purge,
                         delete_unowned=delete_unowned)
        return self.apply(plan, parallelism=parallelism)

    def _templates_for(self, plan: Plan):
        from provisioner.export import arm
        from provisioner.plan import differ

        observed = self._made[id(plan)][1]
        resolved = differ.resolve(self.spec.desired, observed)

        def templates_for(addresses: set[str]) -> list[tuple[str, str, dict]]:
            groups = arm.group_templates([r for r in resolved if r.address in addresses], self.spec.desired.spec_name)
            return [(g.subscription, g.resource_group, g.template) for g in groups]

        return templates_for

    def _publish(self, plan: Plan, result: ApplyResult) -> ApplyResult:
        from provisioner.azure import publish
        from provisioner.plan.result import SUCCEEDED

        desired = self.spec.desired
        if desired.key_vault is None:
            return result
        unhealthy = {o.address for o in result.outcomes if o.status != SUCCEEDED}
        accounts = [r.name for r in desired.resources if r.kind is Kind.ACCOUNT
                    and r.address not in unhealthy and _targeted(r.name, plan.targets)]
        if plan.destroy:
            extra = publish.unpublish(self.clients, desired, accounts)
        else:
            extra = publish.publish(self.clients, desired, accounts)
        return replace(result, outcomes=result.outcomes + tuple(extra))

    # reading
    def quota(self, *, subscriptions: Iterable[str] = (), regions: Iterable[str] = (), models: Iterable[str] = (),
              skus: Iterable[str] = (), all_models: bool = False) -> list[dict[str, Any]]:
        """Limit, use and availability per (subscription, region, model version, SKU); the spec's
        subscriptions, regions and models unless given."""
        desired = self.spec.desired
        accounts = [r for r in desired.resources if r.kind is Kind.ACCOUNT]
        return quota_report(
            self.clients, subscriptions=list(subscriptions) or sorted({a.scope.subscription for a in accounts}),
            regions=list(regions) or sorted({a.properties["location"] for a in accounts}),
            models=list(models) or sorted({r.properties["model"] for r in desired.resources
                                           if r.kind is Kind.DEPLOYMENT}),
            skus=skus, all_models=all_models)

    def outputs(self) -> list[dict[str, Any]]:
        """What applications need, per account of the spec (see provisioner.azure.outputs): endpoint,
        the spec's deployments with model and version, managed identity, Key Vault secret URIs. Never keys."""
        from provisioner.azure.outputs import read_outputs

        return read_outputs(self.clients, self.spec.desired)

    @property
    def is_emulator(self) -> bool:
        """Whether "Azure" is an emulator here (traffic to it costs nothing)."""
        return self.clients.connection.is_emulator

    def test(self, *, targets: Iterable[str] = (), use_key: bool = False) -> list[dict[str, Any]]:
        """One small real request per deployment of the spec (or of `targets`: ACCOUNT or
        ACCOUNT/DEPLOYMENT), as an application makes it: a row per deployment with its status
        (ok, failed, skipped), latency, the model that answered and the rate-limit headers seen.
        Entra ID by default; `use_key` reads the account key with listKeys (never returned)."""
        from provisioner.azure.inference import probe

        accounts, deployments = self._serving(targets)
        return [probe(self.clients, accounts[d.scope.account], d, use_key=use_key) for d in deployments]

    def load_plans(self, *, targets: Iterable[str] = ()) -> list[Any]:
        """What `load` would send to each deployment (read from the live deployments; nothing is sent)."""
        from provisioner.azure.load import plan

        accounts, deployments = self._serving(targets)
        return [plan(self.clients, accounts[d.scope.account], d) for d in deployments]

    @staticmethod
    def load_tokens(plans: Iterable[Any], seconds: float) -> int:
        """Roughly how many tokens `load` will use at most."""
        return sum(p.tokens_at_most(seconds) for p in plans)

    def load(self, plans: Iterable[Any], seconds: float, *, use_key: bool = False,
             progress: Callable[[str, float], None] | None = None) -> list[dict[str, Any]]:
        """A bounded load of `seconds` per deployment, one deployment after another (see
        provisioner.azure.load): achieved requests and tokens per minute, latency p50/p95, 429s and the
        waits they asked for, against the deployment's limits. This costs money in Azure."""
        from provisioner.azure.load import run

        report = progress or (lambda address, fraction: None)
        return [run(self.clients, p, seconds, use_key=use_key, progress=lambda f, a=p.address: report(a, f))
                for p in plans]

    def _serving(self, targets: Iterable[str]) -> tuple[dict[str, Resource], list[Resource]]:
        wanted = tuple(targets)
        resources = self.spec.desired.resources
        accounts = {r.name: r for r in resources if r.kind is Kind.ACCOUNT}
        deployments = [r for r in resources if r.kind is Kind.DEPLOYMENT
                       and (not wanted or any(t in (r.scope.account, f"{r.scope.account}/{r.name}") for t in wanted))]
        if wanted and not deployments:
            raise ProvisionerError(f"--target {', '.join(wanted)} names no deployment of this spec",
                                   hint="use ACCOUNT or ACCOUNT/DEPLOYMENT as written in the spec")
        return accounts, deployments

    def export(self, format: str = "arm") -> dict[str, str]:
        """The desired state as templates, one per resource group: file name -> text. Live state fills in
        what the spec leaves open (default versions, flexible capacities), as a plan does."""
        from provisioner.azure.observe import read_observed
        from provisioner.export import arm, bicep
        from provisioner.plan import differ

        if format not in ("arm", "bicep"):
            raise ProvisionerError(f"unknown export format {format!r}", hint="use arm or bicep")
        resources = differ.resolve(self.spec.desired, read_observed(self.clients, self.spec.desired))
        groups = arm.group_templates(resources, self.spec.desired.spec_name)
        return {f"{g.subscription}-{g.resource_group}.{'json' if format == 'arm' else 'bicep'}":
                json.dumps(g.template, indent=2) + "\n" if format == "arm" else bicep.render(g.template)
                for g in groups}


@dataclass(frozen=True)
class PriceUpdate:
    path: Path
    found: int  # prices written
    read: int  # meters the API listed
    missing: tuple[str, ...]  # prices of the shipped table the API did not list


def update_prices(out: Path, *, region: str = "eastus2", currency: str = "USD",
                  emulator: bool = False) -> PriceUpdate:
    """Refresh the price table from the Azure Retail Prices API (public, no sign-in) into `out`; with
    `emulator`, from the embedded emulator; with PROVISION_EMULATOR_* set, from that emulator."""
    from datetime import date

    from provisioner.azure import prices as retail
    from provisioner.azure.clients import (
        RETAIL_PRICES_URL,
        emulator_connection,
        emulator_connection_from_env,
        retail_prices_client,
    )
    from provisioner.plan import pricefile

    template = pricefile.shipped()  # names the meter of every price we use
    with ExitStack() as stack:
        if emulator:
            from provisioner.emulator import Emulator

            emu = stack.enter_context(Emulator())
            connection = emulator_connection(emu.base_url, emu.ca_path, emu.credential)
        else:
            connection = emulator_connection_from_env()
        client = retail_prices_client(connection)
        stack.callback(client.close)
        items = retail.fetch_items(client, region=region, currency=currency)
        base = connection.base_url if connection else RETAIL_PRICES_URL
    source = (f"Azure Retail Prices API ({base}{retail.PATH}), serviceName '{retail.SERVICE}', "
              f"armRegionName '{region}', type 'Consumption', currencyCode '{currency}'")
    table, missing = retail.refreshed(template, items, region=region, currency=currency, source=source,
                                      today=date.today().isoformat())
    found = _count_prices(table)
    if not found:
        raise ProvisionerError(f"the Retail Prices API listed none of our meters for {region} in {currency} "
                               f"({len(items)} items read); nothing was written", hint="check --region and --currency")
    pricefile.save(table, out)
    return PriceUpdate(Path(out), found, len(items), tuple(missing))


def _count_prices(table) -> int:
    hourly = sum(1 for price in table.provisioned.values() if price.per_hour is not None)
    tokens = sum(1 for versions in table.models.values() for families in versions.values()
                 for price in families.values() for value in (price.input, price.output) if value is not None)
    return hourly + tokens


def import_spec(clients: Clients, *, resource_groups: Iterable[tuple[str, str]] = (),
                account_ids: Iterable[str] = (), name: str, filename: str = "deployments.yaml") -> str:
    """A deployments.yaml describing the accounts in these resource groups ((subscription, group)) and these
    accounts (ARM ids), checked as `validate` checks it: planning it shows only adoptions."""
    from provisioner.azure.observe import read_inventory
    from provisioner.spec import load_from_text
    from provisioner.spec.importer import write_spec

    resource_groups, account_ids = list(resource_groups), list(account_ids)
    if not resource_groups and not account_ids:
        raise ProvisionerError("nothing to import", hint="pass --resource-group RG or --account ID")
    source = ", ".join([f"resource group {g}" for _, g in resource_groups] + list(account_ids))
    text = write_spec(read_inventory(clients, resource_groups=resource_groups, account_ids=account_ids),
                      name=name, source=source)
    load_from_text(text, filename)  # a spec we write must pass `validate` (SpecError names the problem)
    return text


def quota_report(clients: Clients, *, subscriptions: Iterable[str], regions: Iterable[str],
                 models: Iterable[str] = (), skus: Iterable[str] = (),
                 all_models: bool = False) -> list[dict[str, Any]]:
    """Quota rows for these subscriptions and regions, without a spec."""
    from provisioner.azure.observe import read_regions

    subscriptions, regions = list(subscriptions), list(regions)
    if not subscriptions or not regions:
        raise ProvisionerError("no subscription or region to report on", hint="pass --subscription and --region")
    infos = read_regions(clients, [(s, r.replace(" ", "").lower()) for s in subscriptions for r in regions])
    return quota_rows(infos, models=None if all_models else list(models), skus=list(skus))


def quota_rows(infos: list[RegionInfo], *, models: list[str] | None, skus: list[str]) -> list[dict[str, Any]]:
    """One row per (subscription, region, model, version, SKU) that has a quota."""
    wanted_skus = {s.lower() for s in skus}
    rows = []
    for info in infos:
        for offer in info.models:
            if models is not None and offer.name not in models:
                continue
            for sku in offer.skus:
                if wanted_skus and sku.name.lower() not in wanted_skus:
                    continue
                usage = info.usages.get(sku.usage_name or "")
                if usage is None:
                    continue
                rows.append({"subscription": info.subscription, "region": info.region, "model": offer.name,
                             "version": offer.version, "sku": sku.name, "usage": usage.name,
                             "limit": usage.limit, "in_use": usage.current,
                             "available": max(usage.limit - usage.current, 0),
                             "minimum": sku.minimum, "step": sku.step})
    return sorted(rows, key=lambda r: (r["model"], r["version"], r["sku"], r["subscription"], r["region"]))


def _targeted(account: str, targets: tuple[str, ...]) -> bool:
    return not targets or any(t.partition("/")[0] == account for t in targets)
