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
from provisioner.model import roles
from provisioner.model.resources import Kind, Scope, arm_id, assignment_description, role_assignment_name
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
PRIVATE_ENDPOINT_TYPE = "microsoft.network/privateendpoints"
ZONE_GROUP_TYPE = "microsoft.network/privateendpoints/privatednszonegroups"
# resource type (lower case) -> the SDK model of its PUT body
EXPORTED_MODELS = {
    "microsoft.cognitiveservices/accounts": "Account",
    "microsoft.cognitiveservices/accounts/deployments": "Deployment",
    "microsoft.cognitiveservices/accounts/raipolicies": "RaiPolicy",
    "microsoft.cognitiveservices/accounts/raiblocklists": "RaiBlocklist",
    BLOCKLIST_ITEM_TYPE: "RaiBlocklistItem",
    PRIVATE_ENDPOINT_TYPE: "PrivateEndpoint",
    ZONE_GROUP_TYPE: "PrivateDnsZoneGroup",
    "microsoft.authorization/roleassignments": "RoleAssignmentCreateParameters",
    "microsoft.insights/diagnosticsettings": "DiagnosticSettingsResource",
    "microsoft.keyvault/vaults": "VaultCreateOrUpdateParameters",  # only referred to (`existing`)
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
    scope: str | None = None  # an extension resource's scope, 'Namespace/type/name'

    @property
    def account(self) -> str:
        """The account this write changes (Azure takes one write at a time per account): the account's own
        and its children's, and a private endpoint's (its connection is written to the account). A role
        assignment, a diagnostic setting or a DNS zone group changes no account: its own id."""
        return written_account(self.type, self.name, self.body, self.scope) or self.id


def written_account(resource_type: str, name: str, body: dict[str, Any], scope: Any) -> str | None:
    resource_type = resource_type.lower()
    if resource_type == PRIVATE_ENDPOINT_TYPE:
        connections = (body.get("properties") or {}).get("privateLinkServiceConnections") or [{}]
        return str((connections[0].get("properties") or {}).get("privateLinkServiceId", "")).rsplit("/", 1)[-1]
    if scope or not resource_type.startswith("microsoft.cognitiveservices/accounts"):
        return None
    return name.split("/")[0]


def _environment(template: dict[str, Any], loop: str | None = None, index: int | None = None) -> Environment:
    variables, parameters = template.get("variables") or {}, template.get("parameters") or {}
    return Environment(parameter=lambda n: parameters[n].get("defaultValue"),
                       variable=lambda n: evaluate(variables[n], _environment(template)),
                       subscription_id=CHECK_SUBSCRIPTION, resource_group_name=CHECK_GROUP,
                       copy_indexes={loop.lower(): index} if loop else {}, loop=loop)


def _resource_id(resource_type: str, name: str, scope: str | None = None) -> str:
    """As ARM builds it; an extension resource's id hangs under its scope ('Namespace/type/name' in the group)."""
    namespace, *types = resource_type.split("/")
    path = "/".join(f"{t}/{n}" for t, n in zip(types, name.split("/")))
    base = f"/subscriptions/{CHECK_SUBSCRIPTION}/resourceGroups/{CHECK_GROUP}"
    if scope:
        base += f"/providers/{scope}"
    return f"{base}/providers/{namespace}/{path}".lower()


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
            scope = evaluate(entry["scope"], env) if "scope" in entry else None
            write = Write(_resource_id(entry["type"], name, scope), entry["type"], entry["apiVersion"], name,
                          evaluate({k: v for k, v in entry.items() if k in BODY_KEYS}, env),
                          f"resources[{position}]" + (f" ({loop_name} #{index})" if loop_name else ""), scope=scope)
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
    and deleted with it), and neither engine tags them; so are DNS zone groups (part of their private
    endpoint) and diagnostic settings (owned by name). Role assignments carry no tags: their ownership is
    the description."""
    problems = []
    for write in expand(template)[0]:
        kind = write.type.lower()
        if kind in (BLOCKLIST_ITEM_TYPE, ZONE_GROUP_TYPE, "microsoft.insights/diagnosticsettings"):
            continue
        if kind == "microsoft.authorization/roleassignments":
            description = write.body["properties"].get("description")
            if description != assignment_description(spec_name):
                problems.append(f"{write.source} {write.name}: ownership description missing ({description!r})")
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
    """(type, name); an extension resource's name is prefixed by its scope ('Namespace/type/name/')."""
    return {(w.type.lower(), f"{w.scope}/{w.name}" if w.scope else w.name) for w in expand(template)[0]}


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

    def scoped(symbol: str, name: str) -> str:  # as arm_resources writes an extension resource's name
        scope = _unwrap(declared[symbol]["config"]).get("scope")
        if not scope:
            return name
        return f"{declared[scope]['type']}/{full_names(scope)[0]}/{name}"

    writes, waits = {}, {}
    for symbol, resource in declared.items():
        if resource.get("existing"):
            continue
        config = _unwrap(resource["config"])
        writes[symbol] = [(resource["type"].lower(), scoped(symbol, n)) for n in full_names(symbol)]
        waits[symbol] = {s for s in [config.get("parent"), config.get("scope"), *config.get("dependsOn", [])]
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
    declared = dict(resources(document))
    nodes: dict[str, tuple[str, set[str]]] = {}
    label: dict[str, str] = {}
    for symbol, instances in writes.items():
        ids = [f"{symbol}#{i}" for i in range(len(instances))]
        size = batch_size.get(symbol, 0) if symbol in batch_size else len(ids)
        config = _unwrap(declared[symbol]["config"])
        for i, (node, (resource_type, name)) in enumerate(zip(ids, instances)):
            after = {f"{s}#{j}" for s in waits[symbol] for j in range(len(writes[s]))}
            if size and i >= size:  # a serial batch waits for the one before
                start = (i // size - 1) * size
                after |= set(ids[start:start + size])
            body = {"properties": config.get("properties")} if isinstance(config.get("properties"), dict) else {}
            account = written_account(resource_type, name, _literal(body), config.get("scope")) or node
            nodes[node], label[node] = (account, after), f"{symbol}[{i}] {name}"
    return problems + unordered_writes(nodes, label)


def _literal(node: Any) -> Any:
    """pycep's parse of a literal Bicep value as plain JSON (quoted strings unquoted)."""
    if isinstance(node, str):
        return _unquote(node)
    if isinstance(node, dict):
        return {_unquote(k): _literal(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_literal(v) for v in node]
    return node


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


# --- the security pillar: account settings, private endpoints, role assignments, diagnostic settings ------

SUBNET = (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet"
          "/subnets/{name}")
_GROUPS = f"/subscriptions/{SUBSCRIPTION}/resourceGroups"
ZONE = f"{_GROUPS}/rg-net/providers/Microsoft.Network/privateDnsZones/{{zone}}"
WORKSPACE = f"{_GROUPS}/rg-mon/providers/Microsoft.OperationalInsights/workspaces/log"
IDENTITY = f"{_GROUPS}/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app"
APP, GROUP = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
SECURE_SPEC = f"""
version: 1
name: unit
defaults:
  subscription: "{SUBSCRIPTION}"
  resource_group: rg-one
  location: eastus2
key_vault:
  name: kv-unit
  access:
    - {{principal: {APP}, type: service_principal, role: Key Vault Secrets User}}
accounts:
  - name: sec-eus2
    local_auth: false
    network:
      public_access: disabled
      default_action: deny
      bypass: none
      ip_rules: [203.0.113.0/24, 198.51.100.7]
      virtual_network_rules: ["{SUBNET.format(name='apps')}"]
    private_endpoints:
      - name: pe-b
        subnet: "{SUBNET.format(name='pe')}"
        dns_zone_ids: ["{ZONE.format(zone='privatelink.openai.azure.com')}"]
      - name: pe-a
        subnet: "{SUBNET.format(name='pe')}"
    identity: {{system_assigned: true, user_assigned: ["{IDENTITY}"]}}
    restrict_outbound: true
    allowed_fqdns: [api.contoso.com]
    access:
      - {{principal: {APP}, type: service_principal, role: Cognitive Services OpenAI User}}
      - {{principal: {GROUP}, type: group, role: Cognitive Services OpenAI Contributor}}
    diagnostics: {{workspace: "{WORKSPACE}", logs: [Audit, RequestResponse], metrics: true}}
    deployments:
      - {{name: chat, model: gpt-4o, version: "2024-11-20", capacity: 5}}
      - {{name: mini, model: gpt-4o-mini, version: "2024-07-18", capacity: 5}}
  - name: sec-swc
    location: swedencentral
    diagnostics: {{workspace: "{WORKSPACE}", logs: all, metrics: false}}
"""


@pytest.fixture(scope="module")
def secure() -> dict[str, Any]:
    return templates(SECURE_SPEC)["rg-one"]


def _writes(template: dict[str, Any]) -> dict[str, Write]:
    return {f"{w.scope}/{w.name}" if w.scope else w.name: w for w in expand(template)[0]}


def test_every_security_resource_is_in_the_template(secure):
    state = desired(SECURE_SPEC)
    expected = set()
    for r in state.resources:
        if r.kind is Kind.PRIVATE_ENDPOINT:
            expected.add((PRIVATE_ENDPOINT_TYPE, r.name))
            if r.properties["dns_zone_ids"]:
                expected.add((ZONE_GROUP_TYPE, f"{r.name}/default"))
        elif r.kind is Kind.ROLE_ASSIGNMENT:
            scope = (f"Microsoft.CognitiveServices/accounts/{r.scope.account}" if r.scope.account
                     else f"Microsoft.KeyVault/vaults/{r.scope.key_vault}")
            expected.add(("microsoft.authorization/roleassignments", f"{scope}/{r.name}"))
        elif r.kind is Kind.DIAGNOSTIC_SETTING:
            expected.add(("microsoft.insights/diagnosticsettings",
                          f"Microsoft.CognitiveServices/accounts/{r.scope.account}/{r.name}"))
    found = {(t, n) for t, n in arm_resources(secure) if not t.startswith("microsoft.cognitiveservices")}
    assert found == expected
    assert len(expected) == 2 + 1 + 3 + 2  # endpoints, one zone group, grants, diagnostic settings


def test_role_assignment_names_are_the_models_deterministic_names(secure):
    """The template writes the name `role_assignment_name` gives (not a template guid() call), so the SDK
    engine, the ARM engine and an exported template create the same assignment."""
    account_id = arm_id(Scope(SUBSCRIPTION, "rg-one"), Kind.ACCOUNT, "sec-eus2")
    user = roles.role_id("Cognitive Services OpenAI User")
    name = role_assignment_name(account_id, APP, user)
    grant = _writes(secure)[f"Microsoft.CognitiveServices/accounts/sec-eus2/{name}"]
    assert grant.body["properties"] == {
        "roleDefinitionId": f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{user}",
        "principalId": APP, "principalType": "ServicePrincipal", "description": assignment_description("unit")}
    assert templates(SECURE_SPEC)["rg-one"] == secure  # the same spec, the same names


def test_extension_resources_are_scoped_to_the_account_or_the_vault(secure):
    scopes = {(e["type"], e["scope"]) for e in secure["resources"] if "scope" in e}
    assert scopes == {("Microsoft.Authorization/roleAssignments", "Microsoft.CognitiveServices/accounts/sec-eus2"),
                      ("Microsoft.Insights/diagnosticSettings", "Microsoft.CognitiveServices/accounts/sec-eus2"),
                      ("Microsoft.Insights/diagnosticSettings", "Microsoft.CognitiveServices/accounts/sec-swc"),
                      ("Microsoft.Authorization/roleAssignments", "Microsoft.KeyVault/vaults/kv-unit")}
    vault_grant = next(e for e in secure["resources"] if e.get("scope", "").startswith("Microsoft.KeyVault"))
    assert "dependsOn" not in vault_grant  # the vault is not written by the template


def test_account_security_settings_are_what_the_sdk_engine_sends(secure):
    state = desired(SECURE_SPEC)
    account = next(r for r in state.resources if r.kind is Kind.ACCOUNT and r.name == "sec-eus2")
    write = _writes(secure)["sec-eus2"]
    sent = arm.rest.account_body(account.properties)
    assert {k: write.body[k] for k in sent} == sent
    assert write.body["identity"] == {"type": "SystemAssigned, UserAssigned",
                                      "userAssignedIdentities": {IDENTITY.lower(): {}}}
    props = write.body["properties"]
    assert props["publicNetworkAccess"] == "Disabled" and props["disableLocalAuth"] is True
    assert props["networkAcls"] == {"defaultAction": "Deny", "bypass": "None",
                                    "ipRules": [{"value": "198.51.100.7"}, {"value": "203.0.113.0/24"}],
                                    "virtualNetworkRules": [{"id": SUBNET.format(name="apps").lower(),
                                                             "ignoreMissingVnetServiceEndpoint": False}]}
    assert props["restrictOutboundNetworkAccess"] is True and props["allowedFqdnList"] == ["api.contoso.com"]
    # a spec that says nothing sends nothing: Azure keeps what it has
    other = _writes(secure)["sec-swc"]
    assert "identity" not in other.body
    assert not {"networkAcls", "restrictOutboundNetworkAccess", "allowedFqdnList"} & set(other.body["properties"])


def test_private_endpoint_bodies(secure):
    writes = _writes(secure)
    endpoint = writes["pe-b"].body
    assert endpoint["location"] == "eastus2"
    assert endpoint["tags"] == {"managed-by": "provision", "provision-spec": "unit"}
    assert endpoint["properties"] == {
        "subnet": {"id": SUBNET.format(name="pe").lower()},
        "privateLinkServiceConnections": [{"name": "pe-b", "properties": {
            "privateLinkServiceId": arm_id(Scope(SUBSCRIPTION, "rg-one"), Kind.ACCOUNT, "sec-eus2"),
            "groupIds": ["account"]}}]}
    zone = ZONE.format(zone="privatelink.openai.azure.com").lower()
    assert writes["pe-b/default"].body["properties"] == {
        "privateDnsZoneConfigs": [{"name": "privatelink-openai-azure-com", "properties": {"privateDnsZoneId": zone}}]}
    assert "pe-a/default" not in writes  # no zones, no zone group


def test_diagnostic_setting_bodies(secure):
    writes = _writes(secure)
    named = "provision-unit"
    assert writes[f"Microsoft.CognitiveServices/accounts/sec-eus2/{named}"].body["properties"] == {
        "workspaceId": WORKSPACE.lower(), "logs": [{"category": "Audit", "enabled": True},
                                                   {"category": "RequestResponse", "enabled": True}],
        "metrics": [{"category": "AllMetrics", "enabled": True}]}
    assert writes[f"Microsoft.CognitiveServices/accounts/sec-swc/{named}"].body["properties"] == {
        "workspaceId": WORKSPACE.lower(), "logs": [{"categoryGroup": "allLogs", "enabled": True}], "metrics": []}


def test_security_resources_follow_the_account(secure):
    """Private endpoints after every other write to the account (one at a time, as its connection is a write to
    the account); grants and diagnostics wait for the account and nothing else; a zone group for its endpoint."""
    assert write_order_problems(secure) == []
    writes = expand(secure)[0]
    by_id = {w.id: w for w in writes}
    account = next(w for w in writes if w.name == "sec-eus2")

    def before(write: Write) -> set[str]:
        found, todo = set(), list(write.waits_for)
        while todo:
            node = todo.pop()
            if node not in found:
                found.add(node)
                todo += by_id[node].waits_for
        return found

    account_writes = {w.id for w in writes if w.name.split("/")[0] == "sec-eus2" and not w.scope}
    assert len(account_writes) == 3  # the account and its two deployments
    endpoints = [w for w in writes if w.type.lower() == PRIVATE_ENDPOINT_TYPE]
    assert [w.name for w in endpoints] == ["pe-a", "pe-b"]
    assert account_writes <= before(endpoints[0])
    assert account_writes | {endpoints[0].id} <= before(endpoints[1])
    for write in writes:
        if write.scope == "Microsoft.CognitiveServices/accounts/sec-eus2":
            assert write.waits_for == {account.id}, write.name
        if write.type.lower() == ZONE_GROUP_TYPE:
            assert write.waits_for == {by_id[_resource_id(arm.PRIVATE_ENDPOINT, "pe-b")].id}


def test_security_bodies_use_only_property_names_the_sdk_knows(secure):
    assert arm_body_problems(secure) == []
    assert {(w.type, w.api_version) for w in expand(secure)[0] if not w.type.startswith("Microsoft.Cognitive")} == {
        ("Microsoft.Network/privateEndpoints", "2026-03-01"),
        ("Microsoft.Network/privateEndpoints/privateDnsZoneGroups", "2026-03-01"),
        ("Microsoft.Authorization/roleAssignments", "2022-04-01"),
        ("Microsoft.Insights/diagnosticSettings", "2021-05-01-preview")}


def test_security_resources_keep_to_the_four_functions_and_ownership(secure):
    assert functions_used(secure) <= ALLOWED_FUNCTIONS
    assert ownership_problems(secure, "unit") == []


def test_without_the_account_grants_and_endpoints_wait_for_nothing_outside():
    """The ARM engine leaves an unchanged account out: what attaches to it still deploys."""
    state = desired(SECURE_SPEC)
    attached = [r for r in state.resources if r.scope.account == "sec-eus2"
                and r.kind in (Kind.PRIVATE_ENDPOINT, Kind.ROLE_ASSIGNMENT, Kind.DIAGNOSTIC_SETTING)]
    template = arm.template(attached, "unit")
    assert write_order_problems(template) == []
    assert not entries(template, "/accounts")
    assert all("dependsOn" not in e for e in template["resources"]
               if e["type"] != arm.PRIVATE_DNS_ZONE_GROUP and e["name"] != "pe-b")
    text = bicep.render(template)
    assert bicep_problems(text) == []
    existing = [r for _, r in resources(parse(text=text)) if r.get("existing")]
    assert [r["config"]["name"] for r in existing] == ["sec-eus2"]


def test_the_vault_grants_go_to_the_vaults_resource_group():
    text = SECURE_SPEC.replace("key_vault:\n  name: kv-unit\n",
                               "key_vault:\n  name: kv-unit\n  resource_group: rg-kv\n")
    by_group = templates(text)
    assert [(e["type"], e["scope"]) for e in by_group["rg-kv"]["resources"]] == [
        ("Microsoft.Authorization/roleAssignments", "Microsoft.KeyVault/vaults/kv-unit")]
    assert not any(e.get("scope", "").startswith("Microsoft.KeyVault") for e in by_group["rg-one"]["resources"])


def test_order_checker_catches_an_endpoint_written_with_the_deployments(secure):
    def unlink(t):
        del entries(t, "/privateEndpoints")[0]["dependsOn"]
    problems = write_order_problems(_broken(secure, unlink))
    assert problems and any("privateEndpoints pe-a" in p for p in problems)


def test_body_checker_catches_a_misspelt_security_property(secure):
    def misspell(t):
        entries(t, "/roleAssignments")[0]["properties"]["principalID"] = APP
        entries(t, "/privateEndpoints")[0]["properties"]["subnetId"] = "x"
    problems = arm_body_problems(_broken(secure, misspell))
    assert len(problems) == 2
    assert any("principalID" in p for p in problems) and any("subnetId" in p for p in problems)


def test_ownership_checker_catches_a_grant_without_the_description(secure):
    def anonymous(t):
        entries(t, "/roleAssignments")[0]["properties"]["description"] = ""
    assert len(ownership_problems(_broken(secure, anonymous), "unit")) == 1


@pytest.fixture(scope="module")
def secure_bicep(secure) -> str:
    return bicep.render(secure)


def test_secure_bicep_passes_the_sdk_check_and_describes_the_same_resources(secure, secure_bicep):
    assert bicep_problems(secure_bicep) == []
    assert bicep_resources(secure_bicep) == arm_resources(secure)


def test_secure_bicep_uses_scope_and_refers_to_the_vault_as_existing(secure_bicep):
    declared = dict(resources(parse(text=secure_bicep)))
    existing = {s: r for s, r in declared.items() if r.get("existing")}
    assert [(r["type"], r["config"]["name"]) for r in existing.values()] == [("Microsoft.KeyVault/vaults", "kv-unit")]
    scoped = {r["config"]["scope"] for r in declared.values() if "scope" in r["config"]}
    assert scoped == {"accounts_sec_eus2", "accounts_sec_swc", next(iter(existing))}
    account = declared["accounts_sec_eus2"]["config"]
    assert account["identity"]["type"] == "SystemAssigned, UserAssigned"
    assert account["properties"]["restrictOutboundNetworkAccess"] is True
    # Bicep waits for `scope:` and `parent:` by itself: no dependsOn repeats them
    assert all("dependsOn" not in r["config"] for r in declared.values() if "scope" in r["config"])


def test_secure_bicep_checker_catches_an_endpoint_without_its_dependency(secure_bicep):
    text = re.sub(r"(resource privateEndpoints_pe_a [^\n]*\n(?:  [^\n]*\n)*?)  dependsOn: \[\n    \w+\n  \]\n", r"\1",
                  secure_bicep)
    assert text != secure_bicep
    assert any("privateEndpoints_pe_a" in p for p in bicep_problems(text))


def test_an_account_the_spec_only_refers_to_is_not_written():
    """`existing: true`: another spec (or nobody) owns the account; the template writes only what this spec adds
    to it, and Bicep refers to the account as `existing`."""
    text = SECURE_SPEC.replace("  - name: sec-swc\n", "  - name: sec-swc\n    existing: true\n")
    template = templates(text)["rg-one"]
    assert ("microsoft.cognitiveservices/accounts", "sec-swc") not in arm_resources(template)
    setting = next(e for e in template["resources"] if e.get("scope", "").endswith("/sec-swc"))
    assert "dependsOn" not in setting
    assert write_order_problems(template) == []
    bicep_text = bicep.render(template)
    existing = [r["config"]["name"] for _, r in resources(parse(text=bicep_text)) if r.get("existing")]
    assert "sec-swc" in existing and bicep_problems(bicep_text) == []
