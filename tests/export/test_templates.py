"""The exporters (provisioner/export/arm.py and bicep.py) as pure functions of a DesiredState
built with `provisioner.spec.load_from_text`: no Azure, no emulator.

The checkers defined first are shared with tests/e2e/test_export.py and tests/e2e/test_arm_engine.py:

- `write_order_problems(template)` walks an ARM template's dependsOn graph (copy loops expanded,
  serial loops chained batch after batch) and reports every two writes to one account that ARM
  could run at the same time, every copy loop that is not serial with batchSize 1, and every
  dependsOn that names nothing in the template;
- `functions_used(template)`: every template function any expression calls (string literals
  inside expressions, and `[[` escaped literals, do not count);
- `ownership_problems(template, spec)`: resources without both ownership tags;
- `arm_body_problems(template)` / `bicep_problems(text)`: resource types, api-versions and every
  property name against the installed SDK's models, with the helpers tests/infra/test_bicep.py
  checks infra/*.bicep with; Bicep also for the `@batchSize(1)` loops and the same write order.
"""
from __future__ import annotations

import copy
import importlib
import json
import re
from dataclasses import dataclass, field
from itertools import combinations, pairwise
from typing import Any, Iterator

import pytest

from provisioner.emulator.template_language import Environment, evaluate
from provisioner.export import arm, bicep
from provisioner.model.resources import Kind
from provisioner.spec import load_from_text
from tests.infra.test_bicep import (
    SDK_BY_NAMESPACE,
    _is_loop,
    _unquote,
    _unwrap,
    check_body,
    parse,
    resources,
    shipped_api_versions,
)

ALLOWED_FUNCTIONS = {"resourceId", "variables", "copyIndex", "format"}  # README "Export and the ARM engine"
OWNERSHIP_TAGS = ("managed-by", "provision-spec")
BLOCKLIST_ITEM_TYPE = "microsoft.cognitiveservices/accounts/raiblocklists/raiblocklistitems"
# resource type (lower case) -> the SDK model of its PUT body
EXPORTED_MODELS = {
    "microsoft.cognitiveservices/accounts": "Account",
    "microsoft.cognitiveservices/accounts/deployments": "Deployment",
    "microsoft.cognitiveservices/accounts/raipolicies": "RaiPolicy",
    "microsoft.cognitiveservices/accounts/raiblocklists": "RaiBlocklist",
    BLOCKLIST_ITEM_TYPE: "RaiBlocklistItem",
}
BODY_KEYS = ("location", "kind", "sku", "tags", "properties", "identity", "zones", "plan")
# Any ids do: they only have to be the same for a resource and the dependsOn that names it.
CHECK_SUBSCRIPTION, CHECK_GROUP = "00000000-0000-0000-0000-0000000000c4", "rg-check"


# --- the ARM template as ARM would run it ----------------------------------------------------------


@dataclass
class Write:
    """One resource PUT of a template (a copy loop gives one per index)."""

    id: str  # resource id, lower case
    type: str
    api_version: str
    name: str  # "account/child/..."
    body: dict[str, Any]  # location, kind, sku, tags, properties: evaluated, as sent
    source: str  # where in the template, for messages
    waits_for: set[str] = field(default_factory=set)  # ids of writes that must finish first

    @property
    def account(self) -> str:
        return self.name.split("/")[0]


def _environment(template: dict[str, Any], loop: str | None = None, index: int | None = None) -> Environment:
    variables, parameters = template.get("variables") or {}, template.get("parameters") or {}
    return Environment(parameter=lambda n: parameters[n].get("defaultValue"),
                       variable=lambda n: evaluate(variables[n], _environment(template)),
                       subscription_id=CHECK_SUBSCRIPTION, resource_group_name=CHECK_GROUP,
                       copy_indexes={loop.lower(): index} if loop else {}, loop=loop)


def _resource_id(resource_type: str, name: str) -> str:
    namespace, *types = resource_type.split("/")
    path = "/".join(f"{t}/{n}" for t, n in zip(types, name.split("/")))
    return f"/subscriptions/{CHECK_SUBSCRIPTION}/resourceGroups/{CHECK_GROUP}/providers/{namespace}/{path}".lower()


def _is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("[") and value.endswith("]") and not value.startswith("[[")


def expand(template: dict[str, Any]) -> tuple[list[Write], list[str]]:
    """Every write of the template with what it waits for, and the problems met on the way."""
    problems: list[str] = []
    pending: list[tuple[Write, dict[str, Any], Environment]] = []
    loops: dict[str, list[list[str]]] = {}  # copy loop (lower case) -> batches of ids, in order
    for position, entry in enumerate(template.get("resources", [])):
        loop = entry.get("copy")
        instances = [(loop["name"], i) for i in range(loop["count"])] if loop else [(None, None)]
        ids = []
        for loop_name, index in instances:
            env = _environment(template, loop_name, index)
            name = evaluate(entry["name"], env)
            write = Write(_resource_id(entry["type"], name), entry["type"], entry["apiVersion"], name,
                          evaluate({k: v for k, v in entry.items() if k in BODY_KEYS}, env),
                          f"resources[{position}]" + (f" ({loop_name} #{index})" if loop_name else ""))
            pending.append((write, entry, env))
            ids.append(write.id)
        if loop:
            serial = str(loop.get("mode", "parallel")).lower() == "serial"
            size = int(loop.get("batchSize", 1)) if serial else max(1, len(ids))
            loops[loop["name"].lower()] = [ids[i:i + size] for i in range(0, len(ids), size)]
    by_id: dict[str, Write] = {}
    for write, _, _ in pending:
        if write.id in by_id:
            problems.append(f"{write.source}: {write.name} is defined more than once")
        by_id[write.id] = write
    for write, entry, env in pending:
        for dependency in entry.get("dependsOn", []):
            if _is_expression(dependency):
                targets = [str(evaluate(dependency, env)).lower()]
            elif dependency.lower() in loops:
                targets = [i for batch in loops[dependency.lower()] for i in batch]
            else:
                targets = [w.id for w in by_id.values() if w.name.split("/")[-1] == dependency] or [dependency]
            for target in targets:
                if target in by_id:
                    write.waits_for.add(target)
                else:
                    problems.append(f"{write.source}: dependsOn {dependency!r} names no resource of the template")
    for batches in loops.values():
        for previous, batch in pairwise(batches):
            for rid in batch:
                by_id[rid].waits_for.update(previous)
    return [w for w, _, _ in pending], problems


def unordered_writes(nodes: dict[str, tuple[str, set[str]]], label: dict[str, str] | None = None) -> list[str]:
    """`nodes`: id -> (account, ids it waits for). Every pair of writes to one account of which neither
    waits (directly or transitively) for the other, and every dependency cycle."""
    label = label or {}
    problems: list[str] = []
    before: dict[str, set[str]] = {}

    def ancestors(node: str, path: tuple[str, ...] = ()) -> set[str]:
        if node in path:
            problems.append("dependency cycle: " + " -> ".join(label.get(n, n) for n in (*path, node)))
            return set()
        if node not in before:
            found: set[str] = set()
            for parent in nodes[node][1]:
                found |= {parent} | ancestors(parent, (*path, node))
            before[node] = found
        return before[node]

    by_account: dict[str, list[str]] = {}
    for node, (account, _) in nodes.items():
        by_account.setdefault(account, []).append(node)
    for account, members in sorted(by_account.items()):
        for a, b in combinations(members, 2):
            if a not in ancestors(b) and b not in ancestors(a):
                problems.append(f"account {account}: {label.get(a, a)} and {label.get(b, b)} could be written "
                                "at the same time")
    return problems


def write_order_problems(template: dict[str, Any]) -> list[str]:
    writes, problems = expand(template)
    for position, entry in enumerate(template.get("resources", [])):
        loop = entry.get("copy")
        if loop and (str(loop.get("mode", "")).lower() != "serial" or loop.get("batchSize") != 1):
            problems.append(f"resources[{position}]: copy loop {loop.get('name')!r} is not serial with batchSize 1 "
                            f"({loop})")
    nodes = {w.id: (w.account, w.waits_for) for w in writes}
    return problems + unordered_writes(nodes, {w.id: f"{w.type.rsplit('/', 1)[-1]} {w.name}" for w in writes})


def _expressions(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        if _is_expression(node):
            yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _expressions(key)
            yield from _expressions(value)
    elif isinstance(node, list):
        for value in node:
            yield from _expressions(value)


_STRING_LITERAL = re.compile(r"'(?:[^']|'')*'")
_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def functions_used(template: dict[str, Any]) -> set[str]:
    return {name for expression in _expressions(template)
            for name in _CALL.findall(_STRING_LITERAL.sub("''", expression[1:-1]))}


def ownership_problems(template: dict[str, Any], spec_name: str) -> list[str]:
    """Blocklist items are left out: they are owned through their blocklist (named by content, created
    and deleted with it), and neither engine tags them."""
    problems = []
    for write in expand(template)[0]:
        if write.type.lower() == BLOCKLIST_ITEM_TYPE:
            continue
        tags = write.body.get("tags") or {}
        if tags.get("managed-by") != "provision" or tags.get("provision-spec") != spec_name:
            problems.append(f"{write.source} {write.name}: ownership tags missing ({tags})")
    return problems


def export_model(resource_type: str, api_version: str) -> type:
    """The SDK model for an exported type at an api-version the installed SDK ships (AssertionError if none)."""
    assert resource_type.lower() in EXPORTED_MODELS, f"{resource_type}: not a type provision exports"
    package, client = SDK_BY_NAMESPACE[resource_type.split("/")[0].lower()]
    shipped, per_version = shipped_api_versions(package, client)
    assert api_version in shipped, (f"{resource_type}@{api_version}: the installed {package} does not ship "
                                    f"api-version {api_version} (it ships {', '.join(sorted(shipped))})")
    models = importlib.import_module(f"{package}.v{api_version.replace('-', '_')}.models" if per_version
                                     else f"{package}.models")
    return getattr(models, EXPORTED_MODELS[resource_type.lower()])


def arm_body_problems(template: dict[str, Any]) -> list[str]:
    problems = []
    for write in expand(template)[0]:
        where = f"{write.source} '{write.type}@{write.api_version}' {write.name}"
        try:
            model = export_model(write.type, write.api_version)
        except AssertionError as error:
            problems.append(f"{where}: {error}")
            continue
        problems += check_body(write.body, model, where)
    return problems


def arm_resources(template: dict[str, Any]) -> set[tuple[str, str]]:
    return {(w.type.lower(), w.name) for w in expand(template)[0]}


# --- the Bicep file ----------------------------------------------------------------------------------


def _bicep_writes(document: dict[str, Any]) -> tuple[dict[str, list[tuple[str, str]]], dict[str, set[str]]]:
    """symbol -> its writes [(type, full name)], and symbol -> symbols it waits for (parent and dependsOn)."""
    declared = dict(resources(document))
    variables = document.get("variables", {})
    names: dict[str, list[str]] = {}

    def full_names(symbol: str) -> list[str]:
        if symbol not in names:
            config = _unwrap(declared[symbol]["config"])
            own = ([item["name"] for item in variables[declared[symbol]["config"]["loop_type"]["detail"]
                                                       ["array_name"]]["value"]]
                   if _is_loop(declared[symbol]["config"]) else [_unquote(config["name"])])
            parent = config.get("parent")
            prefix = full_names(parent)[0] + "/" if parent else ""
            names[symbol] = [prefix + n for n in own]
        return names[symbol]

    writes, waits = {}, {}
    for symbol, resource in declared.items():
        if resource.get("existing"):
            continue
        config = _unwrap(resource["config"])
        writes[symbol] = [(resource["type"].lower(), n) for n in full_names(symbol)]
        waits[symbol] = {s for s in [config.get("parent"), *config.get("dependsOn", [])]
                         if s and not declared[s].get("existing")}
    return writes, waits


def bicep_resources(text: str) -> set[tuple[str, str]]:
    return {w for ws in _bicep_writes(parse(text=text))[0].values() for w in ws}


def bicep_problems(text: str) -> list[str]:
    """SDK check of every body (a loop's too: the items of the array it runs over), @batchSize(1) on every
    loop, and one write at a time per account (parent and dependsOn order writes, as in Bicep)."""
    document = parse(text=text)
    problems: list[str] = []
    batch_size: dict[str, int | None] = {}
    for symbol, resource in resources(document):
        where = f"resource {symbol} '{resource['type']}@{resource['api_version']}'"
        try:
            model = export_model(resource["type"], resource["api_version"])
        except AssertionError as error:
            problems.append(f"{where}: {error}")
            continue
        if resource.get("existing"):
            continue
        problems += check_body(_unwrap(resource["config"]), model, where)
        if _is_loop(resource["config"]):
            sizes = [d.get("argument") for d in resource.get("decorators", []) if d.get("type") == "batchSize"]
            batch_size[symbol] = sizes[0] if sizes else None
            if sizes != [1]:
                problems.append(f"{where}: a loop without @batchSize(1) (decorators: {resource.get('decorators')})")
            array = resource["config"]["loop_type"]["detail"]["array_name"]
            for index, item in enumerate(document["variables"][array]["value"]):
                problems += check_body(item, model, f"{where} [{array}[{index}]]")
    writes, waits = _bicep_writes(document)
    nodes: dict[str, tuple[str, set[str]]] = {}
    label: dict[str, str] = {}
    for symbol, instances in writes.items():
        ids = [f"{symbol}#{i}" for i in range(len(instances))]
        size = batch_size.get(symbol, 0) if symbol in batch_size else len(ids)
        for i, (node, (_, name)) in enumerate(zip(ids, instances)):
            after = {f"{s}#{j}" for s in waits[symbol] for j in range(len(writes[s]))}
            if size and i >= size:  # a serial batch waits for the one before
                start = (i // size - 1) * size
                after |= set(ids[start:start + size])
            nodes[node], label[node] = (name.split("/")[0], after), f"{symbol}[{i}] {name}"
    return problems + unordered_writes(nodes, label)


# --- specs -------------------------------------------------------------------------------------------

SUBSCRIPTION = "00000000-0000-0000-0000-0000000000e4"
SPEC = f"""
version: 1
name: unit
defaults:
  subscription: "{SUBSCRIPTION}"
  resource_group: rg-one
  location: eastus2
  tags: {{team: platform}}
content_filters:
  strict:
    mode: blocking
    categories: {{hate: low, violence: medium}}
    jailbreak: block
    blocklists: [banned, more]
blocklists:
  banned: {{description: never, items: ["forbidden phrase", {{regex: "ba[rz]+"}}]}}
  more: {{items: [other]}}
accounts:
  - name: unit-eus2
    tags: {{cost-center: "4711"}}
    deployments:
      # a-ptu spills over to z-chat: z-chat must be written first although it sorts last
      - {{name: a-ptu, model: gpt-4o, version: "2024-11-20", type: provisioned, capacity: 15,
          content_filter: strict, spillover: z-chat}}
      - {{name: m-embed, model: text-embedding-ada-002, version: "2", scope: regional, capacity: 20}}
      - {{name: z-chat, model: gpt-4o, version: "2024-11-20", capacity: 50, content_filter: strict}}
  - name: unit-swc
    location: swedencentral
    deployments:
      - {{name: mini, model: gpt-4o-mini, version: "2024-07-18", scope: datazone, capacity: 10,
          content_filter: strict}}
  - name: unit-other
    resource_group: rg-two
    deployments:
      - {{name: chat, model: gpt-4o, version: "2024-11-20", capacity: 5}}
"""


def desired(text: str = SPEC):
    return load_from_text(text)[1]


def templates(text: str = SPEC, **kwargs) -> dict[str, dict[str, Any]]:
    """resource group -> its template."""
    state = desired(text)
    return {g.resource_group: g.template for g in arm.group_templates(list(state.resources), state.spec_name,
                                                                       **kwargs)}


@pytest.fixture(scope="module")
def one() -> dict[str, Any]:
    """The template of rg-one: accounts unit-eus2 and unit-swc."""
    return templates()["rg-one"]


def entries(template: dict[str, Any], type_suffix: str) -> list[dict[str, Any]]:
    return [r for r in template["resources"] if r["type"].lower().endswith(type_suffix.lower())]


# --- the ARM template ------------------------------------------------------------------------------


def test_one_template_per_resource_group_with_only_its_accounts():
    by_group = templates()
    assert list(by_group) == ["rg-one", "rg-two"]
    assert {name.split("/")[0] for _, name in arm_resources(by_group["rg-one"])} == {"unit-eus2", "unit-swc"}
    assert {name.split("/")[0] for _, name in arm_resources(by_group["rg-two"])} == {"unit-other"}
    state = desired()
    groups = arm.group_templates(list(state.resources), state.spec_name)
    assert [(g.subscription, g.resource_group) for g in groups] == [(SUBSCRIPTION, "rg-one"), (SUBSCRIPTION, "rg-two")]


def test_template_is_plain_self_contained_json(one):
    assert json.loads(json.dumps(one)) == one
    assert one["$schema"] == "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
    assert one["contentVersion"] == "1.0.0.0"
    assert one["parameters"] == {} and one["outputs"] == {}
    assert one["metadata"]["spec"] == "unit"
    assert set(one) == {"$schema", "contentVersion", "metadata", "parameters", "variables", "resources", "outputs"}


def test_every_desired_resource_is_in_the_template_and_nothing_else(one):
    state = desired()
    expected = set()
    for r in state.resources:
        if r.kind is Kind.RESOURCE_GROUP or r.scope.resource_group != "rg-one":
            continue
        if r.kind is Kind.ACCOUNT:
            expected.add(("microsoft.cognitiveservices/accounts", r.name))
            continue
        segment = {Kind.BLOCKLIST: "raiblocklists", Kind.RAI_POLICY: "raipolicies",
                   Kind.DEPLOYMENT: "deployments"}[r.kind]
        expected.add((f"microsoft.cognitiveservices/accounts/{segment}", f"{r.scope.account}/{r.name}"))
        for item in r.properties.get("items") or []:
            expected.add((BLOCKLIST_ITEM_TYPE, f"{r.scope.account}/{r.name}/{arm.rest.blocklist_item_name(item)}"))
    assert arm_resources(one) == expected


def test_each_account_is_written_one_resource_at_a_time(one):
    assert write_order_problems(one) == []
    assert write_order_problems(templates()["rg-two"]) == []


def test_deployments_are_a_serial_copy_loop_with_batch_size_one(one):
    loops = entries(one, "/deployments")
    assert len(loops) == 2  # one per account
    for loop in loops:
        assert loop["copy"]["mode"] == "serial" and loop["copy"]["batchSize"] == 1
        assert loop["copy"]["count"] == len(one["variables"][loop["copy"]["name"]])


def test_accounts_do_not_wait_for_each_other(one):
    """Different accounts may run in parallel: only writes to one account are chained."""
    writes, _ = expand(one)
    by_id = {w.id: w for w in writes}
    for write in writes:
        assert {by_id[i].account for i in write.waits_for} <= {write.account}, write.name


def test_order_within_an_account(one):
    """Account, blocklists each followed by its items, policies, then the deployments."""
    order = [(w.type.rsplit("/", 1)[-1], w.name) for w in expand(one)[0] if w.account == "unit-eus2"]
    kinds = [t for t, _ in order]
    assert kinds[0] == "accounts"
    assert kinds.index("raiPolicies") > max(i for i, k in enumerate(kinds) if k.startswith("raiBlocklist"))
    assert kinds[-3:] == ["deployments"] * 3
    assert [n for t, n in order if t == "raiBlocklists"] == ["unit-eus2/banned", "unit-eus2/more"]


def test_a_spillover_target_is_written_before_the_deployment_that_spills_over(one):
    names = [d["name"] for d in one["variables"]["deployments_unit_eus2"]]
    assert names.index("z-chat") < names.index("a-ptu")
    assert names == ["z-chat", "a-ptu", "m-embed"]


def test_only_four_template_functions(one):
    used = functions_used(one)
    assert used <= ALLOWED_FUNCTIONS, used - ALLOWED_FUNCTIONS
    assert used == ALLOWED_FUNCTIONS  # all four are needed: chain ids, loop items, loop index, loop names


def test_ownership_tags_on_every_resource(one):
    assert ownership_problems(one, "unit") == []
    writes = expand(one)[0]
    account = next(w for w in writes if w.name == "unit-eus2")
    assert account.body["tags"] == {"team": "platform", "cost-center": "4711", "managed-by": "provision",
                                    "provision-spec": "unit"}
    deployment = next(w for w in writes if w.name == "unit-eus2/z-chat")
    assert deployment.body["tags"]["provision-spec"] == "unit"


def test_bodies_use_only_property_names_the_sdk_knows(one):
    assert arm_body_problems(one) == []


def test_deployment_bodies_are_what_the_sdk_engine_sends(one):
    writes = {w.name: w for w in expand(one)[0]}
    chat = writes["unit-eus2/a-ptu"].body
    assert chat["sku"] == {"name": "GlobalProvisionedManaged", "capacity": 15}
    assert chat["properties"] == {"model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"},
                                  "versionUpgradeOption": "OnceNewDefaultVersionAvailable",
                                  "raiPolicyName": "strict", "spilloverDeploymentName": "z-chat"}
    item = writes[f"unit-eus2/banned/{arm.rest.blocklist_item_name({'pattern': 'ba[rz]+', 'regex': True})}"]
    assert item.body["properties"] == {"pattern": "ba[rz]+", "isRegex": True}


def test_without_the_account_the_chain_starts_at_its_first_child():
    """The ARM engine leaves an unchanged account out: its children still go one at a time."""
    state = desired()
    children = [r for r in state.resources if r.kind is not Kind.ACCOUNT and r.scope.account == "unit-eus2"]
    template = arm.template(children, "unit")
    first = template["resources"][0]
    assert first["type"].endswith("/raiBlocklists") and "dependsOn" not in first
    assert write_order_problems(template) == []
    assert not entries(template, "/accounts")


def test_a_template_with_only_deployments():
    state = desired()
    chat = [r for r in state.resources if r.address == "unit-other/deployments/chat"]
    template = arm.template(chat, "unit")
    assert [r["type"] for r in template["resources"]] == ["Microsoft.CognitiveServices/accounts/deployments"]
    assert "dependsOn" not in template["resources"][0]
    assert write_order_problems(template) == []


def test_an_account_without_deployments_has_no_loop():
    text = SPEC.split("accounts:")[0] + "accounts:\n  - name: bare\n"
    template = templates(text)["rg-one"]
    assert template["variables"] == {}
    assert [r["type"] for r in template["resources"]] == ["Microsoft.CognitiveServices/accounts"]


def test_restore_sets_properties_restore_on_that_account_only():
    template = templates(restore=frozenset({"unit-swc"}))["rg-one"]
    accounts = {r["name"]: r for r in entries(template, "/accounts")}
    assert accounts["unit-swc"]["properties"]["restore"] is True
    assert "restore" not in accounts["unit-eus2"]["properties"]


def test_export_is_deterministic():
    assert json.dumps(templates()) == json.dumps(templates())


LITERAL_SPEC = SPEC.replace("tags: {team: platform}", "tags: {team: '[platform]', note: '[[x]'}") \
    .replace('description: never, items: ["forbidden phrase", {regex: "ba[rz]+"}]',
             'description: "[do not edit]", items: ["[x]", {regex: "[Bb]ad[sz]"}, "[not closed"]')


def test_values_that_look_like_expressions_are_escaped():
    """A regex `[Bb]ad[sz]` or a tag `[platform]` would be read by ARM as an expression: they are written as
    `[[...]`, which ARM reads as the literal text."""
    template = templates(LITERAL_SPEC)["rg-one"]
    assert functions_used(template) == ALLOWED_FUNCTIONS
    writes = {w.name: w for w in expand(template)[0]}  # evaluates every expression like ARM
    assert writes["unit-eus2"].body["tags"]["team"] == "[platform]"
    assert writes["unit-eus2"].body["tags"]["note"] == "[[x]"
    assert writes["unit-eus2/banned"].body["properties"]["description"] == "[do not edit]"
    patterns = {w.body["properties"]["pattern"] for w in writes.values() if w.type.endswith("raiBlocklistItems")}
    assert {"[x]", "[Bb]ad[sz]", "[not closed"} <= patterns
    assert writes["unit-eus2/z-chat"].body["tags"]["team"] == "[platform]"  # through the loop's variable too
    raw = json.dumps(template)
    assert '"[[Bb]ad[sz]"' in raw and '"[not closed"' in raw  # only what ARM would evaluate is escaped


def test_bicep_writes_the_literal_text_not_the_arm_escape():
    text = bicep.render(templates(LITERAL_SPEC)["rg-one"])
    assert "'[platform]'" in text and "'[Bb]ad[sz]'" in text and "'[[x]'" in text
    assert "'[[platform]'" not in text
    assert bicep_problems(text) == []


# --- the checkers themselves: they must catch what they claim to catch -------------------------------


def _broken(one: dict[str, Any], edit) -> dict[str, Any]:
    template = copy.deepcopy(one)
    edit(template)
    return template


def test_checker_catches_a_parallel_deployment_loop(one):
    def parallel(t):
        entries(t, "/deployments")[0]["copy"]["mode"] = "parallel"
    problems = write_order_problems(_broken(one, parallel))
    assert any("not serial with batchSize 1" in p for p in problems)
    assert any("unit-eus2/z-chat and deployments unit-eus2/a-ptu could be written at the same time" in p
               for p in problems)


def test_checker_catches_a_batch_size_above_one(one):
    def batch(t):
        entries(t, "/deployments")[0]["copy"]["batchSize"] = 2
    problems = write_order_problems(_broken(one, batch))
    assert any("not serial with batchSize 1" in p for p in problems)
    assert any("z-chat and deployments unit-eus2/a-ptu could be written at the same time" in p for p in problems)
    assert not any("m-embed and" in p and "a-ptu" in p for p in problems)  # the next batch waits for both


def test_checker_catches_a_missing_link(one):
    def unlink(t):
        del entries(t, "/raiPolicies")[0]["dependsOn"]
    problems = write_order_problems(_broken(one, unlink))
    assert problems and all("could be written at the same time" in p for p in problems)
    assert any("raiPolicies unit-eus2/strict" in p for p in problems)


def test_checker_catches_a_dangling_dependency(one):
    def dangle(t):
        entries(t, "/raiPolicies")[0]["dependsOn"] = [arm.resource_id(arm.RAI_POLICY, "unit-eus2", "nope")]
    assert any("names no resource of the template" in p for p in write_order_problems(_broken(one, dangle)))


def test_checker_catches_a_cycle(one):
    def cycle(t):
        entries(t, "/accounts")[0]["dependsOn"] = [arm.resource_id(arm.RAI_POLICY, "unit-eus2", "strict")]
    assert any("dependency cycle" in p for p in write_order_problems(_broken(one, cycle)))


def test_function_scan_sees_calls_but_not_string_literals():
    template = {"resources": [{"name": "[concat('a(', format('{0}', 'resourceGroup()'))]"}],
                "variables": {"v": "[[notAnExpression()]", "w": "[toLower('X')]"}}
    assert functions_used(template) == {"concat", "format", "toLower"}


def test_ownership_checker_catches_missing_tags(one):
    def untag(t):
        del entries(t, "/raiPolicies")[0]["tags"]["provision-spec"]
        t["variables"]["deployments_unit_swc"][0]["tags"] = {}
    problems = ownership_problems(_broken(one, untag), "unit")
    assert len(problems) == 2 and "unit-eus2/strict" in problems[0] and "unit-swc/mini" in problems[1]


def test_body_checker_catches_a_misspelt_property(one):
    def misspell(t):
        entries(t, "/accounts")[0]["properties"]["customSubdomainName"] = "x"
        t["variables"]["deployments_unit_swc"][0]["properties"]["raiPolicy"] = "strict"
    problems = arm_body_problems(_broken(one, misspell))
    assert len(problems) == 2
    assert "customSubdomainName" in problems[0] and "raiPolicy'" in problems[1]


# --- Bicep -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def one_bicep(one) -> str:
    return bicep.render(one)


def test_bicep_parses_and_passes_the_sdk_check(one_bicep):
    assert parse(text=one_bicep)["resources"]
    assert bicep_problems(one_bicep) == []


def test_bicep_deployment_loops_have_batch_size_one(one_bicep):
    loops = [r for _, r in resources(parse(text=one_bicep)) if _is_loop(r["config"])]
    assert len(loops) == 2
    assert all({"type": "batchSize", "argument": 1} in r["decorators"] for r in loops)
    assert one_bicep.count("@batchSize(1)\n") == 2


def test_bicep_describes_the_same_resources_as_the_arm_template(one, one_bicep):
    assert bicep_resources(one_bicep) == arm_resources(one)


def test_bicep_refers_to_an_account_it_does_not_write_as_existing():
    state = desired()
    children = [r for r in state.resources if r.kind is not Kind.ACCOUNT and r.scope.account == "unit-eus2"]
    text = bicep.render(arm.template(children, "unit"))
    declared = dict(resources(parse(text=text)))
    existing = [s for s, r in declared.items() if r.get("existing")]
    assert len(existing) == 1 and declared[existing[0]]["config"]["name"] == "unit-eus2"
    assert bicep_problems(text) == []
    assert ("microsoft.cognitiveservices/accounts", "unit-eus2") not in bicep_resources(text)


def test_bicep_checker_catches_a_loop_without_batch_size(one_bicep):
    problems = bicep_problems(one_bicep.replace("@batchSize(1)\n", "", 1))
    assert any("without @batchSize(1)" in p for p in problems)
    assert any("could be written at the same time" in p for p in problems)


def test_bicep_checker_catches_a_misspelt_property_in_the_loop_items(one_bicep):
    problems = bicep_problems(one_bicep.replace("raiPolicyName: 'strict'", "raiPolicy: 'strict'", 1))
    assert len(problems) == 1 and "raiPolicy'" in problems[0] and "deployments_unit_" in problems[0]


def test_bicep_checker_catches_a_missing_depends_on(one_bicep):
    text = re.sub(r"  dependsOn: \[\n    raiBlocklistItems_unit_eus2_more_\w+\n  \]\n", "", one_bicep)
    assert text != one_bicep
    problems = bicep_problems(text)
    assert problems and any("raiPolicies_unit_eus2_strict" in p for p in problems)
