"""Microsoft.Resources/deployments at resource-group scope: ARM runs a template.

Routes, as azure-mgmt-resource-deployments 2.0 calls them (api-version 2026-06-01, any accepted):
  PUT|GET|HEAD|DELETE /subscriptions/{s}/resourcegroups/{g}/providers/Microsoft.Resources/deployments/{d}
  GET  .../providers/Microsoft.Resources/deployments                       list_by_resource_group
  GET  .../deployments/{d}/operationStatuses/{id}                          the PUT's Azure-AsyncOperation
  GET  /subscriptions/{s}/resourcegroups/{g}/deployments/{d}/operations[/{id}]   deployment_operations

The PUT checks the template and evaluates it whole (parameters, variables, copy loops,
names, bodies, dependsOn: every function of template_language.py is known at deploy
time), then answers 201 `Accepted` + Azure-AsyncOperation, as recorded from ARM. Nothing
runs in the background: every request's `lro.settle` calls `advance` (lro.AFTER_SETTLE),
which starts each resource whose dependsOn have all Succeeded, as a PUT through the
emulator's own router (the provider's handler, validations, quota, 409 rules and LRO
durations, exactly like a direct SDK write; status faults and lro_failed faults apply too).
A resource is started at the moment its last dependency finished (the clock is set back
to then), so a deployment takes the same time however often it is polled, and one
settle pass runs everything that has become due (instant LROs: the whole template).

A resource Succeeds when its handler answers 2xx and its LRO (if any) ends Succeeded; it
Fails on an error answer or a Failed LRO. Resources depending on a failed (or skipped)
one are skipped, never attempted; independent ones still run. A 409 RequestConflict from
the provider is not retried: ARM's retries do not save templates that write to one
account in parallel (the failures reported in azurerm#22607, AVM#125, azd#9398), so the
resource fails at once. The deployment then ends Failed with ARM's DeploymentFailed error
whose details carry each failed resource's code and message; deployment operations list
the attempted resources.

Template language (the subset; anything else is 400 InvalidTemplate at PUT time):
  top level   $schema, contentVersion, metadata, parameters, variables, resources, outputs
              (functions, definitions, languageVersion 2.0, apiProfile: refused)
  parameters  type (string, securestring, int, bool, object, secureobject, array), defaultValue
              (may use expressions), allowedValues; values from properties.parameters
              {"name": {"value": ...}} (Key Vault references refused)
  variables   any JSON with expressions (no variable copy loops)
  resources   type, apiVersion, name ('/' for children), location, kind, sku, tags, properties,
              identity, zones, plan, comments, dependsOn, condition, scope (extension resources:
              a resource id, or 'Namespace/type/name' in the group),
              copy {name, count, mode: serial|parallel, batchSize}; no nested `resources`,
              no resourceGroup/subscriptionId. dependsOn names a resource id, a copy
              loop (all its instances) or a resource name; serial loops run in batches of
              batchSize (default 1), each batch after the previous one.
  outputs     {type, value}
  expressions see template_language.py (parameters, variables, copyIndex, resourceId, format,
              concat, length, string, resourceGroup, subscription, equals, not, true, false, guid,
              extensionResourceId)
properties.mode must be Incremental: Complete would delete what the template leaves out of
the group, which the emulator does not do (400 DeploymentModeNotSupported).
"""
from __future__ import annotations

import copy
import hashlib
import json
import logging
import re
import secrets
import threading
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from provisioner.emulator import faults, lro, paging
from provisioner.emulator.arm import (
    Call,
    Config,
    Reply,
    Router,
    check_api_version,
    iso,
    list_reply,
    new_guid,
    require_group,
    system_data,
)
from provisioner.emulator.errors import ArmError
from provisioner.emulator.store import Store
from provisioner.emulator.template_language import (
    HELP,
    Environment,
    TemplateError,
    check,
    evaluate,
    to_string,
)

log = logging.getLogger("provisioner.emulator")

DEPLOYMENT_TYPE = "Microsoft.Resources/deployments"
GROUP = "/subscriptions/{subscription}/resourcegroups/{group}"
DEPLOYMENTS = GROUP + "/providers/microsoft.resources/deployments"
DEPLOYMENT = DEPLOYMENTS + "/{deployment}"
OPERATIONS = GROUP + "/deployments/{deployment}/operations"
RUNNING_KEY = "templateDeployments.running"  # settings: ids of deployments not yet finished
TERMINAL = {"Succeeded", "Failed", "Canceled"}
FAILED_MESSAGE = ("At least one resource deployment operation failed. Please list deployment operations for "
                  "details. Please see https://aka.ms/arm-deployment-operations for usage details.")
RESOURCES_HELP = "Please see https://aka.ms/arm-syntax-resources for usage details."
PARAMETERS_HELP = "Please see https://aka.ms/arm-deploy/#parameter-file for usage details."

TEMPLATE_KEYS = {"$schema", "contentversion", "metadata", "parameters", "variables", "resources", "outputs"}
RESOURCE_KEYS = {"type", "apiversion", "name", "location", "kind", "sku", "tags", "properties", "identity", "zones",
                 "plan", "comments", "metadata", "dependson", "condition", "copy", "scope"}
NOT_SENT = {"type", "apiversion", "name", "comments", "metadata", "dependson", "condition", "copy", "scope"}
PARAMETER_TYPES = {"string": "String", "securestring": "SecureString", "int": "Int", "bool": "Bool",
                   "object": "Object", "secureobject": "SecureObject", "array": "Array"}
EXPECTED_TOKEN = {"string": "String, Uri", "int": "Integer", "bool": "Boolean", "object": "Object",
                  "array": "Array"}

_router: Router | None = None  # the app's router: templates dispatch resource writes through it
_advancing = threading.local()


def register(router: Router) -> None:
    global _router
    _router = router
    router.add("PUT", DEPLOYMENT)(put_deployment)
    router.add("GET", DEPLOYMENT)(get_deployment)
    router.add("HEAD", DEPLOYMENT)(head_deployment)
    router.add("DELETE", DEPLOYMENT)(delete_deployment)
    router.add("GET", DEPLOYMENTS)(list_deployments)
    router.add("GET", DEPLOYMENT + "/operationstatuses/{operation}")(deployment_status)
    router.add("POST", DEPLOYMENT + "/validate", resource_type="Microsoft.Resources/deployments")(validate_deployment)
    for operations in (OPERATIONS, DEPLOYMENT + "/operations"):  # the SDK's path, and the operation ids' form
        router.add("GET", operations)(list_operations)
        router.add("GET", operations + "/{operation}")(get_operation)


def deployment_id(subscription: str, group: str, name: str) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{group}/providers/{DEPLOYMENT_TYPE}/{name}"


# --- handlers ----------------------------------------------------------------------------------


def put_deployment(call: Call) -> Reply:
    p = call.params
    body, template, compiled = _compiled(call)
    new_id = deployment_id(p["subscription"], p["group"], p["deployment"])
    existing = call.store.get(new_id)
    if existing is not None and existing["emulatorRun"]["state"] not in TERMINAL:
        started = existing["emulatorRun"]["started"]
        raise ArmError(409, "DeploymentActive",
                       f"Unable to edit or replace deployment '{existing['name']}': previous deployment from "
                       f"'{_dotnet_time(started)}' is still active (expiration time is "
                       f"'{_dotnet_time(started + 7 * 86400)}'). Please see https://aka.ms/arm-deploy for usage "
                       "details.")
    operation = "0858" + "".join(str(secrets.randbelow(10)) for _ in range(16))
    doc = {"id": existing["id"] if existing else new_id,
           "name": existing["name"] if existing else p["deployment"], "type": DEPLOYMENT_TYPE}
    if body.get("tags") is not None:
        doc["tags"] = body["tags"]
    doc["properties"] = {
        "templateHash": _template_hash(template), "parameters": compiled["parameters"], "mode": "Incremental",
        "provisioningState": "Accepted", "correlationId": new_guid(), "providers": compiled["providers"],
        "dependencies": compiled["dependencies"]}
    doc["systemData"] = system_data(call.now, existing.get("systemData") if existing else None)
    doc["emulatorRun"] = {"state": "Accepted", "operation": operation, "started": call.now, "ended": None,
                          "baseUrl": call.base_url, "nodes": compiled["nodes"], "outputs": compiled["outputs"],
                          "error": None}
    call.store.put(doc["id"], DEPLOYMENT_TYPE, doc)
    running = call.store.setting(RUNNING_KEY, [])
    if doc["id"] not in running:
        call.store.set_setting(RUNNING_KEY, running + [doc["id"]])
    status_url = (f"{call.base_url}/subscriptions/{p['subscription']}/resourcegroups/{p['group']}/providers/"
                  f"{DEPLOYMENT_TYPE}/{doc['name']}/operationStatuses/{operation}?api-version={call.api_version}")
    return Reply(200 if existing else 201, _public(doc, call.now), {"Azure-AsyncOperation": status_url})


def _compiled(call: Call) -> tuple[dict, dict, dict]:
    """(body, template, compiled template) of a deployment PUT or validate, or ARM's 400."""
    p = call.params
    group = require_group(call, p["subscription"], p["group"])
    body = call.json_body()
    properties = body.get("properties")
    if not isinstance(properties, dict):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be "
                       "deserialized: 'Required property 'properties' not found in JSON.'")
    mode = properties.get("mode")
    if not isinstance(mode, str) or mode.lower() not in ("incremental", "complete"):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be "
                       "deserialized: 'properties.mode' must be 'Incremental' or 'Complete'.")
    if mode.lower() == "complete":
        raise ArmError(400, "DeploymentModeNotSupported",
                       "The emulator runs Incremental deployments only: Complete mode would delete every resource "
                       "of the resource group that the template does not name, which the emulator does not do.")
    if properties.get("templateLink") or properties.get("parametersLink"):
        raise ArmError(400, "InvalidContentLink", "The emulator does not download templates or parameters: send "
                       "them inline (properties.template, properties.parameters).")
    if properties.get("onErrorDeployment"):
        raise ArmError(400, "InvalidRequestContent", "The emulator does not support onErrorDeployment.")
    template = properties.get("template")
    if not isinstance(template, dict):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be "
                       "deserialized: 'properties.template' must be the template (a JSON object).")
    supplied = properties.get("parameters") or {}
    if not isinstance(supplied, dict):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be "
                       "deserialized: 'properties.parameters' must be an object.")
    try:
        compiled = _Compiler(template, supplied, subscription=p["subscription"], group=p["group"],
                             group_doc=group).compile()
    except TemplateError as error:
        raise ArmError(400, "InvalidTemplate", f"Deployment template validation failed: '{error.message}'.") from None
    return body, template, compiled


def validate_deployment(call: Call) -> Reply:
    """POST .../deployments/{d}/validate: ARM's preflight. The template is checked as for a PUT, then every
    resource goes through its provider's handler, in dependency order, as if the operations before it had
    finished, and everything is rolled back: no side effects. Provider refusals (InsufficientQuota,
    InvalidApiSetId, ...) come back as the inner errors of 400 InvalidTemplateDeployment [ISSUE
    microsoft/azurechat#274]; the SDK takes 200 and 400 as answers (DeploymentValidateResult)."""
    p = call.params
    _, template, compiled = _compiled(call)
    failures = _preflight(call, compiled["nodes"])
    if failures:
        return Reply(400, {"error": {
            "code": "InvalidTemplateDeployment",
            "message": f"The template deployment '{p['deployment']}' is not valid according to the validation "
                       f"procedure. The tracking id is '{new_guid()}'. See inner errors for details.",
            "details": failures}})
    doc_id = deployment_id(p["subscription"], p["group"], p["deployment"])
    return Reply(200, {"id": doc_id, "name": p["deployment"], "type": DEPLOYMENT_TYPE, "properties": {
        "templateHash": _template_hash(template), "parameters": compiled["parameters"], "mode": "Incremental",
        "provisioningState": "Succeeded", "timestamp": iso(call.now), "duration": "PT0S",
        "correlationId": new_guid(), "providers": compiled["providers"], "dependencies": compiled["dependencies"],
        "validatedResources": [{"id": node["id"]} for node in compiled["nodes"]]}})


def _preflight(call: Call, nodes: list[dict]) -> list[dict]:
    """Each resource's provider answer to its PUT, run in a savepoint that is rolled back."""
    config = Config(lro_durations={"default": 0.0}, retry_after=0,
                    throttle={**(call.config.throttle if call.config else {}), "enabled": False})
    db = call.store._db
    failures: list[dict] = []
    passed: set[int] = set()
    blocked: set[int] = set()  # failed, or depending on something that failed: not attempted further
    db.execute("SAVEPOINT template_preflight")
    _advancing.active = True  # other deployments' resources are not started from inside a preflight
    try:
        while True:
            waiting = [n for n in nodes if n["index"] not in passed | blocked]
            newly_blocked = {n["index"] for n in waiting if any(d in blocked for d in n["dependsOn"])}
            blocked |= newly_blocked
            ready = [n for n in waiting if n["index"] not in newly_blocked and all(d in passed for d in n["dependsOn"])]
            if not ready:
                break  # all done (a dependency cycle was refused at compile time)
            for node in ready:
                reply = _preflight_one(call, config, node)
                if reply.status < 300:
                    passed.add(node["index"])
                    continue
                blocked.add(node["index"])
                error = (reply.body or {}).get("error") if isinstance(reply.body, dict) else None
                error = error or {"code": _status_name(reply.status), "message": "The resource is not valid."}
                failures.append({"code": error.get("code"), "message": error.get("message")})
    finally:
        _advancing.active = False
        db.execute("ROLLBACK TO template_preflight")
        db.execute("RELEASE template_preflight")
    return failures


def _preflight_one(call: Call, config: Config, node: dict) -> Reply:
    resource = Call(method="PUT", path=node["id"], query={"api-version": node["apiVersion"]},
                    body=copy.deepcopy(node["body"]), base_url=call.base_url, store=call.store, now=call.now,
                    config=config)
    matched = _router.match("PUT", node["id"]) if _router else None
    if matched is None:
        return Reply(404, {"error": {"code": "InvalidResourceType",
                                     "message": f"The resource type '{node['type']}' could not be found."}})
    route, resource.params = matched
    try:
        check_api_version(route, resource)
    except ArmError as error:
        return Reply(error.status, error.body())
    reply = _handle(call.store, route.handler, resource)
    lro.settle(call.store, call.now)  # what it started is finished before the next resource
    return reply


def get_deployment(call: Call) -> Reply:
    return Reply(200, _public(_require(call), call.now))


def head_deployment(call: Call) -> Reply:
    require_group(call, call.params["subscription"], call.params["group"])
    return Reply(204 if _find(call) is not None else 404)


def list_deployments(call: Call) -> Reply:
    p = call.params
    require_group(call, p["subscription"], p["group"])
    docs = [_public(d, call.now) for d in
            call.store.children(f"/subscriptions/{p['subscription']}/resourceGroups/{p['group']}", DEPLOYMENT_TYPE)]
    wanted = re.fullmatch(r"\s*provisioningState\s+eq\s+'([^']*)'\s*", call.query.get("$filter", ""), re.IGNORECASE)
    if wanted:
        docs = [d for d in docs if d["properties"]["provisioningState"].lower() == wanted.group(1).lower()]
    return paging.page(call, docs)


def delete_deployment(call: Call) -> Reply:
    """Forget a finished deployment (its resources stay). 204 at once; the SDK also accepts 202."""
    require_group(call, call.params["subscription"], call.params["group"])
    doc = _find(call)
    if doc is None:
        return Reply(204)
    if doc["emulatorRun"]["state"] not in TERMINAL:
        # ARM's wording for this case is UNVERIFIED.
        raise ArmError(409, "DeploymentActive", f"The deployment '{doc['name']}' is still running and cannot be "
                       "deleted. Wait for it to finish.")
    call.store.delete(doc["id"])
    return Reply(204)


def deployment_status(call: Call) -> Reply:
    """The PUT's Azure-AsyncOperation: {"status": "Running"} until {"status": "Succeeded"} or
    {"status": "Failed", "error": DeploymentFailed}. No Retry-After, as recorded from ARM."""
    run = _require(call)["emulatorRun"]
    if run["operation"] != call.params["operation"]:
        raise ArmError(404, "OperationNotFound", f"The operation '{call.params['operation']}' was not found.")
    body: dict[str, Any] = {"status": run["state"]}
    if run["error"]:
        body["error"] = run["error"]
    return Reply(200, body)


def list_operations(call: Call) -> Reply:
    doc = _require(call)
    return list_reply(_operations(doc, call.now))


def get_operation(call: Call) -> Reply:
    doc = _require(call)
    for operation in _operations(doc, call.now):
        if operation["operationId"].lower() == call.params["operation"].lower():
            return Reply(200, operation)
    # Code and wording UNVERIFIED.
    raise ArmError(404, "DeploymentOperationNotFound",
                   f"Deployment operation '{call.params['operation']}' of deployment '{doc['name']}' could not be "
                   "found.")


def _find(call: Call) -> dict | None:
    p = call.params
    return call.store.get(deployment_id(p["subscription"], p["group"], p["deployment"]))


def _require(call: Call) -> dict:
    require_group(call, call.params["subscription"], call.params["group"])
    doc = _find(call)
    if doc is None:
        raise ArmError(404, "DeploymentNotFound", f"Deployment '{call.params['deployment']}' could not be found.")
    return doc


# --- documents ---------------------------------------------------------------------------------


def _public(doc: dict, now: float) -> dict:
    """The deployment as ARM shows it (the recorded field order), times computed for `now`."""
    run = doc["emulatorRun"]
    nodes = run["nodes"]
    stored = doc["properties"]
    end = run["ended"] if run["ended"] is not None else max(now, run["started"])
    moments = [run["started"]] + [n["started"] for n in nodes if n["started"] is not None] + \
              [n["finished"] for n in nodes if n["finished"] is not None]
    properties = {"templateHash": stored["templateHash"], "parameters": stored["parameters"],
                  "mode": stored["mode"], "provisioningState": run["state"],
                  "timestamp": iso(run["ended"] if run["ended"] is not None else max(moments)),
                  "duration": _duration(end - run["started"]), "correlationId": stored["correlationId"],
                  "providers": stored["providers"], "dependencies": stored["dependencies"]}
    if run["state"] == "Succeeded":
        properties["outputs"] = run["outputs"]
    if run["state"] in TERMINAL:
        seen: list[str] = []
        for node in nodes:
            if node["state"] == "Succeeded" and node["id"] not in seen:
                seen.append(node["id"])
        properties["outputResources"] = [{"id": i} for i in seen]
    if run["error"]:
        properties["error"] = run["error"]
    public = {"id": doc["id"], "name": doc["name"], "type": doc["type"]}
    if "tags" in doc:
        public["tags"] = doc["tags"]
    return {**public, "properties": properties, "systemData": doc["systemData"]}


def _operations(doc: dict, now: float) -> list[dict]:
    """One deployment operation per attempted resource, in the order they started."""
    attempted = sorted((n for n in doc["emulatorRun"]["nodes"] if n["started"] is not None),
                       key=lambda n: (n["started"], n["index"]))
    result = []
    for node in attempted:
        end = node["finished"] if node["finished"] is not None else max(now, node["started"])
        properties: dict[str, Any] = {
            "provisioningOperation": "Create", "provisioningState": node["state"],
            "timestamp": iso(end), "duration": _duration(end - node["started"]),
            "trackingId": node["trackingId"], "serviceRequestId": node["trackingId"],
            "statusCode": node["statusCode"]}
        if node["error"]:
            properties["statusMessage"] = {"status": "Failed", "error": node["error"]}
        properties["targetResource"] = {"id": node["id"], "resourceType": node["type"],
                                        "resourceName": node["name"], "apiVersion": node["apiVersion"]}
        result.append({"id": f"{doc['id']}/operations/{node['operationId']}", "operationId": node["operationId"],
                       "properties": properties})
    return result


def _duration(seconds: float) -> str:
    """ISO 8601 as ARM writes it: PT0S, PT0.2709749S, PT1M5.5S."""
    seconds = max(0.0, round(seconds, 6))  # timestamps are floats: 0.0999999 is 0.1
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = "PT" + (f"{int(hours)}H" if hours >= 1 else "") + (f"{int(minutes)}M" if minutes >= 1 else "")
    secs_text = f"{secs:.7f}".rstrip("0").rstrip(".")
    if secs_text != "0" or text == "PT":
        text += f"{secs_text}S"
    return text


def _dotnet_time(ts: float) -> str:
    """'7/2/2018 12:08:13 PM', as ARM's DeploymentActive message shows times."""
    t = datetime.fromtimestamp(ts, tz=UTC)
    return (f"{t.month}/{t.day}/{t.year} {t.hour % 12 or 12}:{t.minute:02d}:{t.second:02d} "
            f"{'AM' if t.hour < 12 else 'PM'}")


def _template_hash(template: dict) -> str:
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    return str(int.from_bytes(digest[:8], "big") >> 1)


# --- compiling a template ------------------------------------------------------------------------


class _Compiler:
    """Checks and evaluates a template at PUT time into resource nodes with their dependencies."""

    def __init__(self, template: dict, supplied: dict, *, subscription: str, group: str, group_doc: dict):
        self.template = template
        self.supplied = supplied
        self.subscription = subscription
        self.group = group
        self.group_doc = group_doc
        self.parameter_decls = self._section("parameters")
        self.variable_decls = self._section("variables")
        self.parameters: dict[str, Any] = {}  # lower-cased name -> value
        self.variables: dict[str, Any] = {}
        self._resolving: set[str] = set()

    def _section(self, name: str) -> dict:
        value = self.template.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise TemplateError(f"The template property '{name}' must be an object.")
        return value

    def env(self, copy_indexes: dict[str, int] | None = None, loop: str | None = None) -> Environment:
        group = {"id": self.group_doc["id"], "name": self.group_doc["name"], "type": self.group_doc["type"],
                 "location": self.group_doc["location"], "tags": self.group_doc.get("tags") or {},
                 "properties": {"provisioningState": "Succeeded"}}
        subscription = {"id": f"/subscriptions/{self.subscription}", "subscriptionId": self.subscription,
                        "displayName": self.subscription}
        return Environment(parameter=self.parameter, variable=self.variable, subscription_id=self.subscription,
                           resource_group_name=self.group, resource_group=group, subscription=subscription,
                           copy_indexes=copy_indexes or {}, loop=loop)

    # parameters and variables, resolved on first use (they may refer to each other)
    def parameter(self, name: str) -> Any:
        key = _lookup(self.parameter_decls, name)
        if key is None:
            raise TemplateError(f"The template parameter '{name}' is not found. Please see "
                                "https://aka.ms/arm-template/#parameters for usage details.")
        if key.lower() not in self.parameters:
            self.parameters[key.lower()] = self._resolve("parameter", key, self._parameter_value)
        return self.parameters[key.lower()]

    def variable(self, name: str) -> Any:
        key = _lookup(self.variable_decls, name)
        if key is None:
            raise TemplateError(f"The template variable '{name}' is not found. Please see "
                                "https://aka.ms/arm-template/#variables for usage details.")
        if key.lower() not in self.variables:
            self.variables[key.lower()] = self._resolve(
                "variable", key, lambda k: evaluate(self.variable_decls[k], self.env()))
        return self.variables[key.lower()]

    def _resolve(self, kind: str, key: str, compute) -> Any:
        marker = f"{kind}:{key.lower()}"
        if marker in self._resolving:
            raise TemplateError(f"The template {kind} '{key}' is not valid: it refers to itself (circular "
                                f"reference). {HELP}", located=True)
        self._resolving.add(marker)
        try:
            return compute(key)
        except TemplateError as error:
            raise _located(kind, key, error) from None
        finally:
            self._resolving.discard(marker)

    def _parameter_value(self, key: str) -> Any:
        decl = self.parameter_decls[key]
        if not isinstance(decl, dict) or not isinstance(decl.get("type"), str) \
                or decl["type"].lower() not in PARAMETER_TYPES:
            raise TemplateError(f"The parameter type must be one of {', '.join(PARAMETER_TYPES.values())}.")
        kind = decl["type"].lower()
        given = _lookup(self.supplied, key)
        if given is not None:
            entry = self.supplied[given]
            if not isinstance(entry, dict) or "value" not in entry:
                if isinstance(entry, dict) and "reference" in entry:
                    raise TemplateError("Key Vault references in parameters are not supported by the emulator.")
                raise TemplateError(f"The value of the parameter must be given as {{\"value\": ...}}. "
                                    f"{PARAMETERS_HELP}")
            value = entry["value"]
        elif "defaultValue" in decl:
            value = evaluate(decl["defaultValue"], self.env())
        else:
            raise TemplateError(f"The value for the template parameter '{key}' is not provided. {PARAMETERS_HELP}",
                                located=True)
        if not _type_matches(kind, value):
            expected = EXPECTED_TOKEN[kind.removeprefix("secure")]
            raise TemplateError(f"Template parameter JToken type is not valid. Expected '{expected}'. Actual "
                                f"'{_token_type(value)}'. {PARAMETERS_HELP}")
        allowed = decl.get("allowedValues")
        if isinstance(allowed, list) and value not in allowed:
            raise TemplateError(f"The provided value '{to_string(value)}' for the template parameter '{key}' is not "
                                f"valid. The parameter value is not part of the allowed value(s): "
                                f"'{','.join(to_string(a) for a in allowed)}'.", located=True)
        return value

    def compile(self) -> dict:
        unknown = [k for k in self.template if k.lower() not in TEMPLATE_KEYS]
        if unknown:
            raise TemplateError(f"The template property '{unknown[0]}' is not supported by the emulator (it runs "
                                "$schema, contentVersion, metadata, parameters, variables, resources and outputs).")
        resources = self.template.get("resources")
        if not isinstance(resources, list):
            raise TemplateError("Required property 'resources' not found in JSON: the template must have a "
                                "'resources' array.")
        outputs = self._section("outputs")
        # every expression parses (syntax, known functions) before anything is evaluated
        for kind, section in (("parameter", self.parameter_decls), ("variable", self.variable_decls),
                              ("output", outputs)):
            for name, value in section.items():
                try:
                    check(value)
                except TemplateError as error:
                    raise _located(kind, name, error) from None
        for entry in resources:
            try:
                check(entry)
            except TemplateError as error:
                raise _located("resource", _raw_name(entry), error) from None
        for name in self.supplied:
            if _lookup(self.parameter_decls, name) is None:
                raise TemplateError(f"The template parameters '{name}' in the parameters file are not valid; they "
                                    "are not present in the original template and can therefore not be provided at "
                                    "deployment time. The only supported parameters for this template are "
                                    f"'{', '.join(self.parameter_decls)}'. {PARAMETERS_HELP}")
        for name in self.parameter_decls:
            self.parameter(name)
        for name in self.variable_decls:
            self.variable(name)

        nodes, loops, skipped_ids, raw_deps = [], {}, set(), []
        for entry in resources:
            try:
                self._expand(entry, nodes, loops, skipped_ids, raw_deps)
            except TemplateError as error:
                raise _located("resource", _raw_name(entry), error) from None
        self._link(nodes, loops, skipped_ids, raw_deps)
        return {"nodes": nodes, "parameters": self._echo_parameters(), "outputs": self._outputs(outputs),
                "providers": _providers(nodes), "dependencies": _dependencies(nodes)}

    def _expand(self, entry: Any, nodes: list, loops: dict, skipped_ids: set, raw_deps: list) -> None:
        if not isinstance(entry, dict):
            raise TemplateError("A template resource must be a JSON object.")
        for key in entry:
            if key.lower() == "resources":
                raise TemplateError("Nested child resources ('resources' inside a resource) are not supported by "
                                    "the emulator: declare children at the top level with 'Parent/child' names.")
            if key.lower() not in RESOURCE_KEYS:
                raise TemplateError(f"The template resource property '{key}' is not supported by the emulator.")
        for required in ("type", "apiVersion", "name"):
            if _lookup(entry, required) is None:
                raise TemplateError(f"Required property '{required}' not found in JSON. {RESOURCES_HELP}")
        loop, instances, mode, batch = None, [None], "parallel", 1
        copy_spec = entry.get(_lookup(entry, "copy") or "copy")
        if copy_spec is not None:
            loop, count, mode, batch = self._copy(copy_spec)
            if loop.lower() in loops:
                raise TemplateError(f"The copy name '{loop}' is used more than once in the template.")
            loops[loop.lower()] = {"name": loop, "nodes": [], "mode": mode, "batch": batch}
            instances = list(range(count))
        for index in instances:
            env = self.env({loop.lower(): index} if loop else None, loop)
            condition = _lookup(entry, "condition")
            if condition is not None:
                value = evaluate(entry[condition], env)
                if not isinstance(value, bool):
                    raise TemplateError("The template resource 'condition' must evaluate to a boolean.")
                if not value:
                    skipped_ids.add(self._identity(entry, env)[0].lower())
                    continue
            resource_id, rtype, name, api_version = self._identity(entry, env)
            body = {k: evaluate(v, env) for k, v in entry.items() if k.lower() not in NOT_SENT}
            depends = evaluate(entry.get(_lookup(entry, "dependsOn") or "dependsOn") or [], env)
            if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
                raise TemplateError("The template resource 'dependsOn' must be an array of strings.")
            node = {"index": len(nodes), "id": resource_id, "type": rtype, "name": name,
                    "apiVersion": api_version, "body": body, "dependsOn": [], "loop": loop,
                    "state": "Waiting", "started": None, "finished": None, "lro": None, "statusCode": None,
                    "error": None, "operationId": secrets.token_hex(8).upper(), "trackingId": new_guid()}
            self._check_route(node)
            nodes.append(node)
            raw_deps.append(depends)
            if loop:
                loops[loop.lower()]["nodes"].append(node["index"])

    def _copy(self, spec: Any) -> tuple[str, int, str, int]:
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not spec["name"]:
            raise TemplateError("The template resource 'copy' needs a 'name'.")
        count = evaluate(spec.get("count"), self.env())
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 800:
            raise TemplateError(f"The copy count of '{spec['name']}' must be an integer from 0 to 800, not "
                                f"'{to_string(count)}'.")
        mode = evaluate(spec.get("mode", "parallel"), self.env())
        if not isinstance(mode, str) or mode.lower() not in ("serial", "parallel"):
            raise TemplateError(f"The copy mode of '{spec['name']}' must be 'serial' or 'parallel'.")
        batch = evaluate(spec.get("batchSize", 1), self.env())
        if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
            raise TemplateError(f"The copy batchSize of '{spec['name']}' must be a positive integer.")
        return spec["name"], count, mode.lower(), batch

    def _identity(self, entry: dict, env: Environment) -> tuple[str, str, str, str]:
        rtype = evaluate(entry[_lookup(entry, "type")], env)
        name = evaluate(entry[_lookup(entry, "name")], env)
        api_version = evaluate(entry[_lookup(entry, "apiVersion")], env)
        if not all(isinstance(v, str) and v for v in (rtype, name, api_version)):
            raise TemplateError("The template resource 'type', 'name' and 'apiVersion' must be non-empty strings.")
        segments, names = rtype.split("/"), name.split("/")
        if len(segments) < 2 or not all(segments) or not all(names) or len(names) != len(segments) - 1:
            raise TemplateError(f"The template resource '{name}' for type '{rtype}' has incorrect segment lengths. "
                                "A nested resource type must have identical number of segments as its resource "
                                "name. A root resource type must have segment length one greater than its resource "
                                f"name. {RESOURCES_HELP}", located=True)
        path = "/".join(f"{t}/{n}" for t, n in zip(segments[1:], names))
        group_id = f"/subscriptions/{self.subscription}/resourceGroups/{self.group}"
        scope_key = _lookup(entry, "scope")
        if scope_key is None:
            return f"{group_id}/providers/{segments[0]}/{path}", rtype, name, api_version
        # an extension resource (a role assignment, a diagnostic setting) on another resource: `scope` is that
        # resource's id, or its type and name relative to the group, as Bicep writes it
        # ('Microsoft.CognitiveServices/accounts/acct'); learn.microsoft.com/azure/azure-resource-manager/
        # templates/scope-extension-resources
        scope = evaluate(entry[scope_key], env)
        if not isinstance(scope, str) or not scope:
            raise TemplateError("The template resource 'scope' must be a non-empty string.", located=True)
        if not scope.startswith("/"):
            parts = scope.strip("/").split("/")
            if len(parts) < 3 or len(parts) % 2 == 0:
                raise TemplateError(f"The template resource 'scope' '{scope}' is not a resource id or a relative "
                                    "'Namespace/type/name' reference.", located=True)
            scope = f"{group_id}/providers/{'/'.join(parts)}"
        return f"{scope.rstrip('/')}/providers/{segments[0]}/{path}", rtype, name, api_version

    def _check_route(self, node: dict) -> None:
        namespace = node["type"].split("/")[0]
        if node["type"].lower() == DEPLOYMENT_TYPE.lower():
            raise TemplateError("Nested deployments (Microsoft.Resources/deployments) are not supported by the "
                                "emulator.", located=True)
        try:
            matched = _router.match("PUT", node["id"]) if _router else None
        except ArmError:
            matched = None
        if matched is None:
            raise TemplateError(f"The resource type '{node['type'].split('/', 1)[1]}' could not be found in the "
                                f"namespace '{namespace}' for api version '{node['apiVersion']}' (the emulator "
                                "serves Microsoft.CognitiveServices accounts and their children, "
                                "Microsoft.KeyVault vaults and secrets, Microsoft.Network virtual networks, private "
                                "endpoints and private DNS zones, user-assigned identities, role assignments and "
                                "diagnostic settings).", located=True)

    def _link(self, nodes: list, loops: dict, skipped_ids: set, raw_deps: list) -> None:
        by_id: dict[str, int] = {}
        for node in nodes:
            key = node["id"].lower()
            if key in by_id:
                raise TemplateError(f"The resource '{node['id']}' is defined multiple times in a template. "
                                    "Please see https://aka.ms/arm-template/#resources for usage details.")
            by_id[key] = node["index"]
        for node, depends in zip(nodes, raw_deps):
            found: list[int] = []
            for dep in depends:
                key = dep.lower()
                if key in loops:
                    found += loops[key]["nodes"]
                elif key in by_id:
                    found.append(by_id[key])
                elif key in skipped_ids:
                    continue  # a resource whose condition is false: nothing to wait for
                else:
                    named = [n["index"] for n in nodes if n["name"].lower() == key]
                    if len(named) != 1:
                        raise TemplateError(f"The resource '{dep}' is not defined in the template. Please see "
                                            "https://aka.ms/arm-syntax for usage details.", located=True)
                    found += named
            node["dependsOn"] = sorted(set(found) - {node["index"]})
        for loop in loops.values():  # serial loops: each batch waits for the one before
            if loop["mode"] != "serial":
                continue
            members, size = loop["nodes"], loop["batch"]
            for position, index in enumerate(members):
                batch = position // size
                if batch:
                    before = members[(batch - 1) * size:batch * size]
                    nodes[index]["dependsOn"] = sorted(set(nodes[index]["dependsOn"]) | set(before))
        _check_cycles(nodes)

    def _echo_parameters(self) -> dict:
        echoed = {}
        for name, decl in self.parameter_decls.items():
            kind = PARAMETER_TYPES[decl["type"].lower()]
            echoed[name] = {"type": kind} if kind.startswith("Secure") else {"type": kind,
                                                                              "value": self.parameters[name.lower()]}
        return echoed

    def _outputs(self, outputs: dict) -> dict:
        result = {}
        for name, decl in outputs.items():
            try:
                if not isinstance(decl, dict) or not isinstance(decl.get("type"), str) \
                        or decl["type"].lower() not in PARAMETER_TYPES or "value" not in decl:
                    raise TemplateError("An output needs a 'type' (as parameters) and a 'value'.")
                result[name] = {"type": PARAMETER_TYPES[decl["type"].lower()],
                                "value": evaluate(decl["value"], self.env())}
            except TemplateError as error:
                raise _located("output", name, error) from None
        return result


def _lookup(mapping: dict, name: str) -> str | None:
    """The key of `mapping` equal to `name` ignoring case (ARM's names are case-insensitive)."""
    if name in mapping:
        return name
    return next((k for k in mapping if k.lower() == name.lower()), None)


def _located(kind: str, name: str, error: TemplateError) -> TemplateError:
    if error.located:
        return error
    return TemplateError(f"The template {kind} '{name}' is not valid: {error.message}. {HELP}", located=True)


def _raw_name(entry: Any) -> str:
    return str(entry.get("name", "")) if isinstance(entry, dict) else ""


def _type_matches(kind: str, value: Any) -> bool:
    kind = kind.removeprefix("secure")
    if kind == "string":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "object":
        return isinstance(value, dict)
    return isinstance(value, list)


def _token_type(value: Any) -> str:
    for kind, name in ((bool, "Boolean"), (int, "Integer"), (float, "Float"), (str, "String"), (dict, "Object"),
                       (list, "Array")):
        if isinstance(value, kind):
            return name
    return "Null"


def _check_cycles(nodes: list) -> None:
    state: dict[int, int] = {}  # 1 visiting, 2 done

    def visit(index: int) -> None:
        if state.get(index) == 2:
            return
        if state.get(index) == 1:
            raise TemplateError(f"Circular dependency detected on resource: '{nodes[index]['id']}'. Please see "
                                "https://aka.ms/arm-template/#resources for usage details.")
        state[index] = 1
        for dep in nodes[index]["dependsOn"]:
            visit(dep)
        state[index] = 2

    for node in nodes:
        visit(node["index"])


def _providers(nodes: list) -> list[dict]:
    providers: dict[str, dict[str, list[str]]] = {}
    for node in nodes:
        namespace, resource_type = node["type"].split("/", 1)
        locations = providers.setdefault(namespace, {}).setdefault(resource_type, [])
        location = node["body"].get("location")
        if isinstance(location, str) and location not in locations:
            locations.append(location)
    return [{"namespace": ns, "resourceTypes": [{"resourceType": t, "locations": locs} for t, locs in types.items()]}
            for ns, types in providers.items()]


def _dependencies(nodes: list) -> list[dict]:
    def ref(node: dict) -> dict:
        return {"id": node["id"], "resourceType": node["type"], "resourceName": node["name"]}

    return [{"dependsOn": [ref(nodes[d]) for d in node["dependsOn"]], **ref(node)}
            for node in nodes if node["dependsOn"]]


# --- running: advanced at every settle ----------------------------------------------------------


def advance(store: Store, now: float) -> None:
    """Start every resource of every running template deployment whose dependencies have finished by
    `now` (each at the moment it became ready), and finish deployments with nothing left to run."""
    if getattr(_advancing, "active", False):
        return  # a resource write we dispatched settles operations itself
    running = store.setting(RUNNING_KEY, [])
    if not running:
        return
    _advancing.active = True
    try:
        _advance(store, now, running)
    finally:
        _advancing.active = False


def _advance(store: Store, now: float, running: list[str]) -> None:
    config = Config(**store.setting("config", {}))
    docs = {}
    for dep_id in running:
        doc = store.get(dep_id)
        if doc is not None and doc["emulatorRun"]["state"] not in TERMINAL:
            docs[dep_id] = doc
    while True:
        due = []
        for dep_id, doc in docs.items():
            run = doc["emulatorRun"]
            if run["state"] in TERMINAL:
                continue
            run["state"] = "Running"
            _collect(store, run, now)
            ready = _ready(run)
            if not ready and all(n["state"] in ("Succeeded", "Failed", "Skipped") for n in run["nodes"]):
                _finish(doc)
            due += [(at, run["started"], dep_id, index) for at, index in ready if at <= now]
        if not due:
            break
        at, _, dep_id, index = min(due)
        _dispatch(store, config, docs[dep_id], index, at)
        lro.settle(store, now)  # what the write started and has finished by now takes effect
    for doc in docs.values():
        store.put(doc["id"], DEPLOYMENT_TYPE, doc)
    still = [d for d in running if d in docs and docs[d]["emulatorRun"]["state"] not in TERMINAL]
    if still != running:
        store.set_setting(RUNNING_KEY, still)


def _collect(store: Store, run: dict, now: float) -> None:
    """Resources whose operation has ended by `now` take its outcome, at the time it ended."""
    for node in run["nodes"]:
        if node["state"] != "Running":
            continue
        op = store.operation(node["lro"])
        if op is None:  # forgotten (reset): nothing to wait for
            node["state"], node["finished"] = "Succeeded", node["started"]
        elif op["finishes"] <= now:
            node["finished"] = op["finishes"]
            node["state"] = "Succeeded" if op["outcome"] == "Succeeded" else "Failed"
            if node["state"] == "Failed":
                error = json.loads(op["error"]) if op["error"] else {}
                node["error"] = {"code": error.get("code", "ResourceDeploymentFailure"),
                                 "message": error.get("message", "The resource operation completed with terminal "
                                                                 "provisioning state 'Failed'.")}


def _ready(run: dict) -> list[tuple[float, int]]:
    """Skip what depends on a failure; return (ready since, index) for what can start."""
    nodes = run["nodes"]
    changed = True
    while changed:
        changed = False
        for node in nodes:
            if node["state"] == "Waiting" and any(nodes[d]["state"] in ("Failed", "Skipped")
                                                  for d in node["dependsOn"]):
                node["state"] = "Skipped"
                changed = True
    ready = []
    for node in nodes:
        if node["state"] == "Waiting" and all(nodes[d]["state"] == "Succeeded" for d in node["dependsOn"]):
            since = max([run["started"]] + [nodes[d]["finished"] for d in node["dependsOn"]])
            ready.append((since, node["index"]))
    return ready


def _finish(doc: dict) -> None:
    run = doc["emulatorRun"]
    nodes = run["nodes"]
    run["ended"] = max([run["started"]] + [n["finished"] for n in nodes if n["finished"] is not None])
    failed = [n for n in nodes if n["state"] == "Failed"]
    run["state"] = "Failed" if failed else "Succeeded"
    if failed:
        run["error"] = {"code": "DeploymentFailed", "message": FAILED_MESSAGE,
                        "details": [dict(n["error"]) for n in failed]}


def _dispatch(store: Store, config: Config, doc: dict, index: int, at: float) -> None:
    """PUT one resource through the router, as ARM calls the resource provider, at time `at`."""
    node = doc["emulatorRun"]["nodes"][index]
    node["started"] = at
    call = Call(method="PUT", path=node["id"], query={"api-version": node["apiVersion"]},
                body=copy.deepcopy(node["body"]), base_url=doc["emulatorRun"]["baseUrl"], store=store, now=at,
                config=config)
    matched = _router.match("PUT", node["id"]) if _router else None
    if matched is None:  # checked at PUT time; only a changed emulator gets here
        reply = Reply(404, {"error": {"code": "InvalidResourceType",
                                      "message": f"The resource type '{node['type']}' could not be found."}})
    else:
        route, call.params = matched
        rule = faults.take(call, kinds=("status",))
        if rule is not None:
            reply = faults.reply_for(rule, call)
        else:
            try:  # ARM checks each resource's apiVersion as for a direct request
                check_api_version(route, call)
                reply = _handle(store, route.handler, call)
            except ArmError as error:
                reply = Reply(error.status, error.body(), dict(error.headers))
    node["statusCode"] = _status_name(reply.status)
    if 200 <= reply.status < 300:
        operation = _operation_of(store, reply, node["id"], at)
        if operation is None:
            node["state"], node["finished"] = "Succeeded", at
        else:
            node["state"], node["lro"] = "Running", operation
    else:
        error = (reply.body or {}).get("error") if isinstance(reply.body, dict) else None
        error = error or {"code": node["statusCode"], "message": f"The resource provider answered {reply.status}."}
        node["state"], node["finished"] = "Failed", at
        node["error"] = {"code": error.get("code"), "message": error.get("message")}


def _handle(store: Store, handler, call: Call) -> Reply:
    """Run a provider's handler in a savepoint: a failed write leaves nothing behind, as its own
    request would (the store offers no savepoint API, hence its connection)."""
    db = store._db
    db.execute("SAVEPOINT template_resource")
    try:
        reply = handler(call)
    except ArmError as error:
        db.execute("ROLLBACK TO template_resource")
        reply = Reply(error.status, error.body(), dict(error.headers))
    except Exception:
        db.execute("ROLLBACK TO template_resource")
        log.exception("emulator failure on template resource PUT %s", call.path)
        reply = Reply(500, {"error": {"code": "InternalServerError", "message": "Encountered internal server error."}})
    db.execute("RELEASE template_resource")
    return reply


def _operation_of(store: Store, reply: Reply, resource_id: str, at: float) -> str | None:
    """The LRO a 2xx write started: from its Azure-AsyncOperation/Location header, else (a body still
    provisioning) the operation running on the resource; None when the write is done."""
    headers = {k.lower(): v for k, v in reply.headers.items()}
    for name in ("azure-asyncoperation", "location"):
        if headers.get(name):
            op_id = urlsplit(headers[name]).path.rstrip("/").rsplit("/", 1)[-1]
            if store.operation(op_id) is not None:
                return store.operation(op_id)["id"]
    body = reply.body if isinstance(reply.body, dict) else {}
    state = (body.get("properties") or {}).get("provisioningState") if isinstance(body.get("properties"), dict) \
        else None
    if state and state not in TERMINAL:
        running = store.running_operation_on(resource_id, at)
        if running is not None:
            return running["id"]
    return None


def _status_name(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.replace(" ", "")
    except ValueError:
        return str(status)


lro.AFTER_SETTLE.append(advance)
