"""infra/ (Bicep) and azure.yaml, checked without a Bicep CLI or Azure.

- every .bicep file parses (pycep-parser);
- every resource type@apiVersion is one an installed Azure SDK ships, and every
  property a resource body sets is one that SDK's model for the type knows,
  recursively (so `customSubdomainName` for `customSubDomainName` fails);
- module calls pass only parameters the module declares, and all it requires;
- main.bicep reads the real deployments.yaml and maps type/scope to the SKUs
  provision uses;
- azure.yaml is an azd project on infra/ whose hooks run existing CLI commands
  and options;
- `bicep build` succeeds, where a Bicep CLI is installed.
"""
from __future__ import annotations

import enum
import importlib
import inspect
import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pycep import BicepParser

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
BICEP_FILES = sorted(INFRA.rglob("*.bicep"))

# Keys of a resource body that are Bicep's own, not part of the REST body.
BICEP_KEYWORDS = {"name", "parent", "scope", "dependsOn"}

# provider namespace -> (SDK package, its management client)
SDK_BY_NAMESPACE = {
    "microsoft.cognitiveservices": ("azure.mgmt.cognitiveservices", "CognitiveServicesManagementClient"),
    "microsoft.keyvault": ("azure.mgmt.keyvault", "KeyVaultManagementClient"),
    "microsoft.authorization": ("azure.mgmt.authorization", "AuthorizationManagementClient"),
    "microsoft.insights": ("azure.mgmt.monitor", "MonitorManagementClient"),
    "microsoft.network": ("azure.mgmt.network", "NetworkManagementClient"),
}
# resource type -> the SDK model of its PUT body
MODEL_BY_TYPE = {
    "microsoft.cognitiveservices/accounts": "Account",
    "microsoft.cognitiveservices/accounts/deployments": "Deployment",
    "microsoft.keyvault/vaults": "VaultCreateOrUpdateParameters",
    "microsoft.authorization/roleassignments": "RoleAssignmentCreateParameters",
    "microsoft.insights/diagnosticsettings": "DiagnosticSettingsResource",
    "microsoft.network/privateendpoints": "PrivateEndpoint",
    "microsoft.network/privateendpoints/privatednszonegroups": "PrivateDnsZoneGroup",
}


# --- parsing --------------------------------------------------------------------------------------

_PARSER = BicepParser()


def parse(path: Path | None = None, *, text: str | None = None) -> dict[str, Any]:
    return _PARSER.parse(file_path=path) if path is not None else _PARSER.parse(text=text)


def _unquote(key: str) -> str:
    return key[1:-1] if len(key) >= 2 and key[0] == key[-1] == "'" else key


def _is_expression(value: Any) -> bool:
    """pycep writes expressions as {"operator": ...} or {"function": ...}; anything else is a literal."""
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("operator", "function")


def _is_loop(value: Any) -> bool:
    return isinstance(value, dict) and "loop_type" in value and "config" in value


def _unwrap(config: Any) -> Any:
    """A resource's body without its `for` loop or `if` condition."""
    while isinstance(config, dict) and (_is_loop(config) or set(config) == {"condition", "config"}):
        config = config["config"]
    return config


def resources(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    yield from document.get("resources", {}).items()


def _find_calls(node: Any, function: str) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("type") == function and "parameters" in node:
            yield node
        for value in node.values():
            yield from _find_calls(value, function)
    elif isinstance(node, list):
        for value in node:
            yield from _find_calls(value, function)


# --- the installed SDKs ---------------------------------------------------------------------------

class _NoCredential:
    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        raise AssertionError("no request is made")


def shipped_api_versions(package: str, client: str) -> tuple[set[str], bool]:
    """The api-versions an SDK package can send, and whether it keeps one subpackage per version:
    a multi-API package's vYYYY_MM_DD subpackages, else its client's default api-version, or (a TypeSpec
    client with one default per operation, as azure-mgmt-network 33) the defaults its operations send."""
    module = importlib.import_module(package)
    folder = Path(module.__file__).parent
    versions = {d.name[1:].replace("_", "-") for d in folder.iterdir()
                if d.is_dir() and re.fullmatch(r"v\d{4}_\d{2}_\d{2}(_preview)?", d.name)}
    if versions:
        return versions, True
    client_class = getattr(module, client)
    config = client_class(_NoCredential(), "00000000-0000-0000-0000-000000000000")._config
    if getattr(config, "api_version", None):
        return {config.api_version}, False
    source = "\n".join(p.read_text() for p in (folder / "operations").glob("*.py"))
    return set(re.findall(r'_params\.pop\("api-version", "([0-9]{4}-[0-9]{2}-[0-9]{2}(?:-preview)?)"\)', source)), False


def sdk_model(resource_type: str, api_version: str) -> type:
    """The SDK model class for a resource type at an api-version; AssertionError if no installed SDK has it."""
    namespace = resource_type.split("/")[0].lower()
    assert namespace in SDK_BY_NAMESPACE, f"{resource_type}: no SDK mapped for {namespace} (add it to SDK_BY_NAMESPACE)"
    assert resource_type.lower() in MODEL_BY_TYPE, f"{resource_type}: no SDK model mapped (add it to MODEL_BY_TYPE)"
    package, client = SDK_BY_NAMESPACE[namespace]
    shipped, per_version = shipped_api_versions(package, client)
    assert api_version in shipped, (
        f"{resource_type}@{api_version}: the installed {package} does not ship api-version {api_version} "
        f"(it ships {', '.join(sorted(shipped))})")
    models_name = f"{package}.v{api_version.replace('-', '_')}.models" if per_version else f"{package}.models"
    models = importlib.import_module(models_name)
    name = MODEL_BY_TYPE[resource_type.lower()]
    assert hasattr(models, name), f"{resource_type}@{api_version}: {models_name} has no {name}"
    return getattr(models, name)


def _split_rest_key(key: str) -> list[str]:
    # msrest flattens nested bodies as "properties.workspaceId"; "\\." is a literal dot
    return [part.replace("\\.", ".") for part in re.split(r"(?<!\\)\.", key)]


def rest_fields(model: type) -> dict[str, Any]:
    """REST key -> type of a model, as a tree: a dict for a flattened object, else an msrest type string
    ("str", "Sku", "[LogSettings]", "{str}")."""
    tree: dict[str, Any] = {}
    attribute_map = getattr(model, "_attribute_map", None)
    if attribute_map is not None:  # msrest (AutoRest) models
        for info in attribute_map.values():
            *parents, leaf = _split_rest_key(info["key"])
            node = tree
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = info["type"]
        return tree
    # TypeSpec models: rest_field descriptors (named on first instantiation), their types in the annotations
    model.__new__(model)
    annotations: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        annotations.update({k: str(v) for k, v in inspect.get_annotations(cls).items()})
    for attribute, field in model._attr_to_rest_field.items():
        annotation = annotations.get(attribute, "")
        nested = re.search(r"_models\.(\w+)", annotation)
        typ = nested.group(1) if nested else "str"
        if re.search(r"\b(list|List|Sequence)\[", annotation):
            typ = f"[{typ}]"
        elif re.search(r"\b(dict|Dict|Mapping)\[", annotation):
            typ = f"{{{typ}}}"
        tree[field._rest_name] = typ
    return tree


def check_body(body: dict[str, Any], model: type, where: str) -> list[str]:
    """Every key the body sets, checked against the model's REST keys, recursively."""
    models = importlib.import_module(model.__module__)
    package_models = importlib.import_module(model.__module__.rsplit(".", 1)[0])

    def model_named(name: str) -> type | None:
        found = getattr(models, name, None) or getattr(package_models, name, None)
        return found if isinstance(found, type) and not issubclass(found, enum.Enum) else None

    problems: list[str] = []

    def walk_object(value: dict[str, Any], fields: dict[str, Any], owner: str, path: str) -> None:
        for raw_key, item in value.items():
            key = _unquote(raw_key)
            if key not in fields:
                known = ", ".join(sorted(fields))
                problems.append(f"{path}.{key}: {owner} has no property {key!r} (it has: {known})")
                continue
            walk_value(item, fields[key], owner, f"{path}.{key}")

    def walk_value(value: Any, typ: Any, owner: str, path: str) -> None:
        if _is_loop(value):  # [for x in xs: {...}] builds the array's items
            value = [value["config"]]
            if not (isinstance(typ, str) and typ.startswith("[")):
                return
        if isinstance(typ, dict):  # a flattened object
            if isinstance(value, dict) and not _is_expression(value):
                walk_object(value, typ, owner, path)
        elif typ.startswith("[") and isinstance(value, list):
            for index, item in enumerate(value):
                walk_value(item, typ[1:-1], owner, f"{path}[{index}]")
        elif typ.startswith("{"):
            return  # free-form keys, e.g. tags
        elif (nested := model_named(typ)) is not None and isinstance(value, dict) and not _is_expression(value):
            walk_object(value, rest_fields(nested), nested.__name__, path)

    fields = rest_fields(model)
    walk_object({k: v for k, v in body.items() if k not in BICEP_KEYWORDS}, fields, model.__name__, where)
    return problems


def check_document(document: dict[str, Any], source: str) -> list[str]:
    """Problems with the resource types, api-versions and bodies of one parsed Bicep file."""
    problems: list[str] = []
    for symbol, resource in resources(document):
        where = f"{source}: resource {symbol} '{resource['type']}@{resource['api_version']}'"
        try:
            model = sdk_model(resource["type"], resource["api_version"])
        except AssertionError as error:
            problems.append(f"{where}: {error}")
            continue
        if resource.get("existing"):
            continue  # a reference to a resource, not a body
        problems += check_body(_unwrap(resource["config"]), model, where)
    return problems


# --- the Bicep files ------------------------------------------------------------------------------

def test_infra_has_the_expected_files():
    names = {p.relative_to(INFRA).as_posix() for p in BICEP_FILES}
    assert {"main.bicep", "modules/account.bicep", "modules/keyvault.bicep", "modules/roles.bicep",
            "modules/diagnostics.bicep", "modules/privateendpoint.bicep"} <= names


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: p.relative_to(INFRA).as_posix())
def test_bicep_file_parses(path):
    document = parse(path)
    assert document.get("resources") or document.get("modules"), f"{path.name} declares nothing"


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: p.relative_to(INFRA).as_posix())
def test_resource_types_api_versions_and_properties_are_known_to_the_sdks(path):
    assert check_document(parse(path), path.relative_to(ROOT).as_posix()) == []


def test_every_resource_type_is_covered():
    used = {resource["type"].lower() for path in BICEP_FILES for _, resource in resources(parse(path))}
    assert used == set(MODEL_BY_TYPE), "keep MODEL_BY_TYPE to the types infra/ uses"


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: p.relative_to(INFRA).as_posix())
def test_module_calls_match_the_module_parameters(path):
    for symbol, module in parse(path).get("modules", {}).items():
        target = (path.parent / module["detail"]["path"]).resolve()
        assert target.is_file(), f"{symbol}: {target} does not exist"
        declared = parse(target).get("parameters", {})
        given = {_unquote(k) for k in _unwrap(module["config"])["params"]}
        assert given <= set(declared), f"{symbol}: {sorted(given - set(declared))} are not parameters of {target.name}"
        required = {name for name, p in declared.items() if p.get("default") is None}
        assert required <= given, f"{symbol}: {target.name} requires {sorted(required - given)}"


# the checker itself: it must catch what it claims to catch

SNIPPET = """
resource account 'Microsoft.CognitiveServices/accounts@2025-09-01' = {{
  name: 'a'
  location: 'eastus2'
  kind: 'OpenAI'
  sku: {{
    name: 'S0'
  }}
  properties: {{
    {account_property}: 'a'
  }}
}}

@batchSize(1)
resource deployments 'Microsoft.CognitiveServices/accounts/deployments@{api_version}' = [
  for d in wanted: {{
    parent: account
    name: d.name
    sku: {{
      name: 'GlobalStandard'
      capacity: 1
    }}
    properties: {{
      model: {{
        format: 'OpenAI'
        {model_property}: d.model
      }}
    }}
  }}
]

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {{
  name: 'x'
  scope: account
  properties: {{
    workspaceId: 'w'
    logs: [
      {{
        {log_property}: 'allLogs'
        enabled: true
      }}
    ]
  }}
}}
"""
GOOD = {"account_property": "customSubDomainName", "api_version": "2025-09-01", "model_property": "name",
        "log_property": "categoryGroup"}


def _problems(**change: str) -> list[str]:
    return check_document(parse(text=SNIPPET.format(**{**GOOD, **change})), "snippet")


def test_checker_accepts_a_correct_snippet():
    assert _problems() == []


def test_checker_catches_a_misspelt_property():
    problems = _problems(account_property="customSubdomainName")
    assert len(problems) == 1
    assert "properties.customSubdomainName" in problems[0] and "AccountProperties" in problems[0]


def test_checker_catches_a_misspelt_property_inside_a_loop():
    problems = _problems(model_property="modelName")
    assert len(problems) == 1 and "properties.model.modelName" in problems[0]


def test_checker_catches_a_misspelt_property_inside_an_array():
    problems = _problems(log_property="categoryGroups")
    assert len(problems) == 1 and "properties.logs[0].categoryGroups" in problems[0]


def test_checker_catches_an_api_version_no_installed_sdk_ships():
    problems = _problems(api_version="2099-01-01")
    assert len(problems) == 1 and "does not ship api-version 2099-01-01" in problems[0]


def test_checker_knows_typespec_models_too():
    text = """
resource vault 'Microsoft.KeyVault/vaults@2026-05-15' = {
  name: 'v'
  location: 'eastus2'
  properties: {
    tenantId: 't'
    enableRbacAuthorisation: true
    sku: {
      family: 'A'
      name: 'standard'
    }
  }
}
"""
    problems = check_document(parse(text=text), "snippet")
    assert len(problems) == 1 and "properties.enableRbacAuthorisation" in problems[0]


# --- main.bicep and the spec ----------------------------------------------------------------------

def test_main_reads_the_real_deployments_yaml():
    calls = list(_find_calls(parse(INFRA / "main.bicep"), "load_yaml_content"))
    assert len(calls) == 1
    path = (INFRA / calls[0]["parameters"]["file_path"]).resolve()
    assert path == ROOT / "deployments.yaml" and path.is_file()


def _variable(path: Path, name: str) -> Any:
    return parse(path)["variables"][name]["value"]


def test_sku_mapping_matches_the_spec_schema():
    from provisioner.spec.schema import SKU_BY_TYPE_AND_SCOPE

    table = _variable(INFRA / "modules" / "account.bicep", "skuByTypeAndScope")
    in_bicep = {(_unquote(type_), _unquote(scope)): sku
                for type_, scopes in table.items() for scope, sku in scopes.items()}
    assert in_bicep == SKU_BY_TYPE_AND_SCOPE


def test_upgrade_mapping_matches_provision():
    from provisioner.model.rest import UPGRADE_TO_AZURE

    table = _variable(INFRA / "modules" / "account.bicep", "upgradeOptions")
    assert {_unquote(k): v for k, v in table.items()} == UPGRADE_TO_AZURE


def test_ownership_tags_match_provision():
    from provisioner.model.resources import OWNER_TAG, OWNER_VALUE, SPEC_TAG

    tags = {_unquote(k): v for k, v in _variable(INFRA / "main.bicep", "ownershipTags").items()}
    assert set(tags) == {OWNER_TAG, SPEC_TAG} and tags[OWNER_TAG] == OWNER_VALUE


def test_accounts_carry_provisions_marks_for_grants_and_diagnostics():
    """An account whose spec grants roles or sends diagnostics carries the marks provision's plan reads."""
    from provisioner.model.resources import ATTACHED_TAGS, ATTACHED_VALUE

    text = (INFRA / "main.bicep").read_text()
    for kind, tag in ATTACHED_TAGS.items():
        assert f"empty({kind}) ? {{}} : {{ '{tag}': '{ATTACHED_VALUE}' }}" in text, tag
    assert ("attachedTags(account.?access ?? defaults.?access ?? [], account.?diagnostics ?? defaults.?diagnostics"
            " ?? {})") in text


def test_account_names_in_the_spec_are_literal():
    """main.bicep cannot expand ${VAR}; an account name must be written out."""
    spec = yaml.safe_load((ROOT / "deployments.yaml").read_text())
    assert spec["accounts"]
    assert [a["name"] for a in spec["accounts"] if "$" in str(a["name"])] == []


def test_outputs_are_environment_variable_names():
    outputs = parse(INFRA / "main.bicep")["outputs"]
    assert {"AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_ENDPOINTS", "AZURE_KEY_VAULT_NAME",
            "AZURE_KEY_VAULT_ENDPOINT"} <= set(outputs)
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*", name) for name in outputs)


def test_parameters_file_sets_only_main_parameters():
    declared = parse(INFRA / "main.bicep")["parameters"]
    document = json.loads((INFRA / "main.parameters.json").read_text())
    parameters = document["parameters"]
    assert set(parameters) <= set(declared)
    assert parameters["principalId"]["value"] == "${AZURE_PRINCIPAL_ID}"
    required = {name for name, p in declared.items() if p.get("default") is None}
    assert required <= set(parameters)


def test_role_definitions_are_the_built_in_ones():
    """Verified against Azure's built-in role list (see infra/README.md)."""
    roles = parse(INFRA / "modules" / "roles.bicep")["variables"]
    assert roles["cognitiveServicesContributor"]["value"] == "25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68"
    assert roles["keyVaultContributor"]["value"] == "f25e0fa2-a7c8-4377-a976-54943a77a395"
    assert roles["keyVaultSecretsOfficer"]["value"] == "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"


# --- the security pillar's fields ------------------------------------------------------------------

def _module_params(name: str) -> dict[str, Any]:
    return _unwrap(parse(INFRA / "main.bicep")["modules"][name]["config"])["params"]


def test_built_in_role_names_match_provision():
    from provisioner.model.roles import BUILT_IN_ROLES

    assert {_unquote(k): v for k, v in _variable(INFRA / "main.bicep", "builtInRoles").items()} == BUILT_IN_ROLES


def test_principal_types_match_provision():
    from provisioner.spec.desired import PRINCIPAL_TYPE

    assert _variable(INFRA / "main.bicep", "principalTypes") == PRINCIPAL_TYPE


def test_grants_made_by_bicep_carry_provisions_ownership_marker():
    """Bicep's grants are described as provision describes its own, as its resources carry provision's tags."""
    from provisioner.model.resources import assignment_description, assignment_owner

    description = _variable(INFRA / "main.bicep", "grantDescription")
    assert description == assignment_description("${specName}")
    assert assignment_owner(description.replace("${specName}", "aoai-prod")) == "aoai-prod"


def test_grants_made_by_bicep_are_named_as_provision_names_them():
    """guid(toLower(scope.id), principal, role) in the modules is provision's role_assignment_name."""
    for module, symbol in (("account.bicep", "account"), ("keyvault.bicep", "vault")):
        text = (INFRA / "modules" / module).read_text()
        assert f"name: guid(toLower({symbol}.id), grant.principalId, grant.roleId)" in text, module


def test_the_default_diagnostic_setting_name_is_provisions():
    from provisioner.model.resources import diagnostic_setting_name

    assert diagnostic_setting_name("aoai-prod") == "provision-aoai-prod"
    assert "?? 'provision-${specName}'" in (INFRA / "main.bicep").read_text()


def test_main_passes_every_security_field_of_an_account():
    params = set(_module_params("accountModules"))
    assert {"network", "identity", "restrictOutboundNetworkAccess", "allowedFqdnList", "grants",
            "publicNetworkAccess", "disableLocalAuth"} <= params
    assert {"grants", "grantDescription"} <= set(_module_params("vault"))
    text = (INFRA / "main.bicep").read_text()
    for field in ("network", "identity", "restrict_outbound", "allowed_fqdns", "access", "diagnostics",
                  "private_endpoints", "public_access"):
        assert f".?{field}" in text, field


def test_private_endpoints_run_one_at_a_time_after_their_account():
    module = parse(INFRA / "main.bicep")["modules"]["privateEndpointModules"]
    assert {"type": "batchSize", "argument": 1} in module["decorators"]
    account_id = _module_params("privateEndpointModules")["accountId"]
    # accountModules[...].outputs.id: Bicep waits for the whole account module, its deployments included
    assert "accountModules" in json.dumps(account_id)


def test_account_settings_use_the_property_names_of_the_sdk_models():
    """networkAcls and the identity are built in variables (the resource body picks them by condition, which the
    body check cannot look into): their keys against NetworkRuleSet and Identity."""
    account = sdk_model("Microsoft.CognitiveServices/accounts", "2025-09-01")
    models = importlib.import_module(account.__module__)
    variables = parse(INFRA / "modules" / "account.bicep")["variables"]
    assert check_body(variables["networkAcls"]["value"], models.NetworkRuleSet, "networkAcls") == []
    assert check_body(variables["managedIdentity"]["value"], models.Identity, "identity") == []
    broken = {**variables["networkAcls"]["value"], "ipRule": []}
    assert check_body(broken, models.NetworkRuleSet, "networkAcls") != []


def test_diagnostic_log_and_metric_entries_use_the_sdk_property_names():
    """The entries the setting picks by condition (`logs: all` or a list) are variables: checked one by one."""
    setting = sdk_model("Microsoft.Insights/diagnosticSettings", "2021-05-01-preview")
    variables = parse(INFRA / "modules" / "diagnostics.bicep")["variables"]
    for name, key in (("allLogs", "logs"), ("allMetrics", "metrics")):
        assert check_body({"properties": {key: variables[name]["value"]}}, setting, name) == []
    assert check_body({"properties": {"logs": [{"categoryGroups": "allLogs"}]}}, setting, "broken") != []


def test_identity_types_are_azures():
    """The identity type strings Bicep can produce are the ones provision sends (rest.identity_body)."""
    from provisioner.model.rest import identity_body

    text = (INFRA / "modules" / "account.bicep").read_text()
    for system, user in ((True, []), (False, ["/x"]), (True, ["/x"]), (False, [])):
        assert f"'{identity_body({'system_assigned': system, 'user_assigned': user})['type']}'" in text


@pytest.mark.skipif(shutil.which("bicep") is None, reason="no Bicep CLI on PATH")
@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: p.relative_to(INFRA).as_posix())
def test_bicep_build(path, tmp_path):
    result = subprocess.run(["bicep", "build", str(path), "--outfile", str(tmp_path / "out.json")],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr


# --- azure.yaml -----------------------------------------------------------------------------------

# azd's command-level hook names (schemas/v1.0/azure.yaml.json, "hooks")
AZD_HOOKS = {f"{when}{event}" for when in ("pre", "post") for event in
             ("provision", "infracreate", "infradelete", "down", "up", "package", "publish", "deploy", "restore")}
HOOK_KEYS = {"shell", "kind", "dir", "run", "continueOnError", "interactive", "windows", "posix", "secrets", "config"}


def _azure_yaml() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "azure.yaml").read_text())


def _hooks() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(hook name, platform, hook) for every platform variant of every hook."""
    for name, hook in _azure_yaml()["hooks"].items():
        for entry in hook if isinstance(hook, list) else [hook]:
            variants = {p: entry[p] for p in ("posix", "windows") if p in entry}
            yield from ((name, platform, variant) for platform, variant in (variants or {"any": entry}).items())


def test_azure_yaml_is_an_azd_project_on_infra():
    project = _azure_yaml()
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", project["name"])
    infra = project["infra"]
    assert infra["provider"] == "bicep"
    folder = ROOT / infra.get("path", "infra")
    module = infra.get("module", "main")
    assert (folder / f"{module}.bicep").is_file() and (folder / f"{module}.parameters.json").is_file()


def test_azure_yaml_hooks_follow_the_azd_schema():
    hooks = _azure_yaml()["hooks"]
    assert {"postprovision", "predown"} <= set(hooks) <= AZD_HOOKS
    for name, hook in hooks.items():
        for entry in hook if isinstance(hook, list) else [hook]:
            assert set(entry) <= HOOK_KEYS, name
            if "posix" in entry and "windows" in entry:  # then only the variants may say what to run
                assert not set(entry) & {"run", "shell", "kind", "dir", "interactive", "continueOnError"}, name
    for name, platform, hook in _hooks():
        assert set(hook) <= HOOK_KEYS - {"posix", "windows"}, (name, platform)
        assert hook.get("run"), (name, platform)
        assert hook.get("shell", "sh") in ("sh", "pwsh"), (name, platform)
    assert {(n, p) for n, p, _ in _hooks()} >= {("postprovision", "posix"), ("postprovision", "windows"),
                                                ("predown", "posix"), ("predown", "windows")}


def test_azure_yaml_hook_commands_exist_in_the_cli():
    import typer.main

    from provisioner.cli.app import COMMANDS, app

    cli = typer.main.get_command(app)  # commands load on first use: load the ones the hooks name
    expected = {"postprovision": ["provision", "apply", "--auto-approve"],
                "predown": ["provision", "destroy", "--auto-approve"]}
    for name, platform, hook in _hooks():
        words = shlex.split(hook["run"])
        assert words == expected.get(name, words), (name, platform, words)
        assert words[0] == "provision", (name, platform)
        command = cli.load(words[1]) if words[1] in COMMANDS else None
        assert command is not None, f"{name} ({platform}): `provision {words[1]}` is no command"
        options = {opt for param in command.params for opt in param.opts + param.secondary_opts}
        for word in words[2:]:
            if word.startswith("-"):
                assert word.split("=", 1)[0] in options, f"{name} ({platform}): {words[1]} has no option {word}"
