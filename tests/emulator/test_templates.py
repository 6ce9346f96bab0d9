"""Template deployments (Microsoft.Resources/deployments), driven through the real DeploymentsMgmtClient;
the Cognitive Services client inspects what they made."""
from __future__ import annotations

import time
from itertools import pairwise

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.resource.deployments import DeploymentsMgmtClient

from tests.conftest import SUBSCRIPTION, sdk_kwargs

API = "2025-09-01"
ACCOUNT_TYPE = "Microsoft.CognitiveServices/accounts"
DEPLOYMENT_TYPE = ACCOUNT_TYPE + "/deployments"
GROUP_ID = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg"
FAILED = ("At least one resource deployment operation failed. Please list deployment operations for details. "
          "Please see https://aka.ms/arm-deployment-operations for usage details.")


@pytest.fixture
def arm(emulator):
    return DeploymentsMgmtClient(emulator.credential, SUBSCRIPTION, **sdk_kwargs(emulator))


@pytest.fixture
def group(resources):
    resources.resource_groups.create_or_update("rg", {"location": "eastus"})
    return "rg"


# --- template building blocks --------------------------------------------------------------


def rid(resource_type: str, *names: str) -> str:
    return "[resourceId(" + ", ".join(f"'{n}'" for n in (resource_type, *names)) + ")]"


def account_body(subdomain: str) -> dict:
    return {"location": "eastus", "kind": "OpenAI", "sku": {"name": "S0"}, "tags": {"team": "ai"},
            "properties": {"customSubDomainName": subdomain, "publicNetworkAccess": "Enabled"}}


def deployment_body(capacity: int = 1, **properties) -> dict:
    return {"sku": {"name": "Standard", "capacity": capacity}, "tags": {},
            "properties": {"model": {"format": "OpenAI", "name": "gpt-35-turbo", "version": "0125"},
                           "versionUpgradeOption": "OnceNewDefaultVersionAvailable", **properties}}


BLOCKLIST_BODY = {"properties": {"description": "words we do not want"}}
POLICY_BODY = {"properties": {
    "basePolicyName": "Microsoft.DefaultV2", "mode": "Asynchronous_filter",
    "contentFilters": [{"name": n, "severityThreshold": "Medium", "blocking": True, "enabled": True, "source": s}
                       for n in ("Hate", "Sexual", "Violence", "Selfharm") for s in ("Prompt", "Completion")],
    "customBlocklists": [{"blocklistName": "words", "blocking": True, "source": "Prompt"}]}}


def account(name: str = "acct", **extra) -> dict:
    return {"type": ACCOUNT_TYPE, "apiVersion": API, "name": name, **account_body(name), **extra}


def child(kind: str, name: str, body: dict, depends_on: list[str] | None = None, **extra) -> dict:
    entry = {"type": f"{ACCOUNT_TYPE}/{kind}", "apiVersion": API, "name": name, **body, **extra}
    if depends_on:
        entry["dependsOn"] = depends_on
    return entry


def chained_deployments(account_name: str = "acct", names=("d1", "d2", "d3"), capacities=(1, 1, 1),
                        first_after: str | None = None) -> list[dict]:
    entries, previous = [], first_after or rid(ACCOUNT_TYPE, account_name)
    for name, capacity in zip(names, capacities):
        entries.append(child("deployments", f"{account_name}/{name}", deployment_body(capacity), [previous]))
        previous = rid(DEPLOYMENT_TYPE, account_name, name)
    return entries


def template(resources: list[dict], **sections) -> dict:
    return {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "contentVersion": "1.0.0.0", "resources": resources, **sections}


def run(arm, tmpl: dict, name: str = "dep", parameters: dict | None = None, **kwargs):
    body = {"properties": {"mode": "Incremental", "template": tmpl, "parameters": parameters or {}}}
    return arm.deployments.begin_create_or_update("rg", name, body, **kwargs).result()


def failure(arm, tmpl: dict, name: str = "dep", **kwargs) -> HttpResponseError:
    with pytest.raises(HttpResponseError) as excinfo:
        run(arm, tmpl, name, **kwargs)
    return excinfo.value


def operations(arm, name: str = "dep") -> list:
    return list(arm.deployment_operations.list("rg", name))


def without(doc: dict, *keys: str) -> dict:
    return {k: v for k, v in doc.items() if k not in keys}


# --- tests ---------------------------------------------------------------------------------


def test_a_template_makes_the_same_resources_as_direct_writes(arm, cognitive, group):
    tmpl = template([
        account("tacct"),
        child("raiBlocklists", "tacct/words", BLOCKLIST_BODY, [rid(ACCOUNT_TYPE, "tacct")]),
        child("raiPolicies", "tacct/strict", POLICY_BODY, [rid(ACCOUNT_TYPE + "/raiBlocklists", "tacct", "words")]),
        *chained_deployments("tacct", first_after=rid(ACCOUNT_TYPE + "/raiPolicies", "tacct", "strict")),
    ])
    tmpl["resources"][3]["properties"]["raiPolicyName"] = "strict"
    result = run(arm, tmpl)
    props = result.properties
    assert result.id == f"{GROUP_ID}/providers/Microsoft.Resources/deployments/dep"
    assert result.type == "Microsoft.Resources/deployments"
    assert props.provisioning_state == "Succeeded" and props.mode == "Incremental"
    assert props.error is None and props.correlation_id and props.timestamp and props.duration.startswith("PT")
    tacct = f"{GROUP_ID}/providers/{ACCOUNT_TYPE}/tacct"
    assert [r.id for r in props.output_resources] == [
        tacct, tacct + "/raiBlocklists/words", tacct + "/raiPolicies/strict",
        tacct + "/deployments/d1", tacct + "/deployments/d2", tacct + "/deployments/d3"]

    # the same writes, directly through the SDK
    cognitive.accounts.begin_create("rg", "dacct", account_body("dacct")).result()
    cognitive.rai_blocklists.create_or_update("rg", "dacct", "words", BLOCKLIST_BODY)
    cognitive.rai_policies.create_or_update("rg", "dacct", "strict", POLICY_BODY)
    for name in ("d1", "d2", "d3"):
        body = deployment_body(raiPolicyName="strict") if name == "d1" else deployment_body()
        cognitive.deployments.begin_create_or_update("rg", "dacct", name, body).result()

    def account_shape(name):
        doc = cognitive.accounts.get("rg", name).as_dict()
        doc["properties"] = without(doc["properties"], "endpoint", "endpoints", "internal_id", "date_created",
                                    "custom_sub_domain_name")
        return without(doc, "id", "name", "etag", "system_data")

    assert account_shape("tacct") == account_shape("dacct")
    assert account_shape("tacct")["properties"]["provisioning_state"] == "Succeeded"

    def child_shape(doc):
        return without(doc.as_dict(), "id", "etag", "system_data")

    assert child_shape(cognitive.rai_blocklists.get("rg", "tacct", "words")) == \
        child_shape(cognitive.rai_blocklists.get("rg", "dacct", "words"))
    assert child_shape(cognitive.rai_policies.get("rg", "tacct", "strict")) == \
        child_shape(cognitive.rai_policies.get("rg", "dacct", "strict"))
    for name in ("d1", "d2", "d3"):
        made = cognitive.deployments.get("rg", "tacct", name)
        assert made.properties.provisioning_state == "Succeeded"
        assert child_shape(made) == child_shape(cognitive.deployments.get("rg", "dacct", name))
    assert cognitive.deployments.get("rg", "tacct", "d1").properties.rai_policy_name == "strict"


def test_deployment_operations_list_one_entry_per_resource(arm, group):
    run(arm, template([account(), *chained_deployments(names=("d1", "d2"))]))
    ops = operations(arm)
    assert [(o.properties.target_resource.resource_type, o.properties.target_resource.resource_name)
            for o in ops] == [(ACCOUNT_TYPE, "acct"), (DEPLOYMENT_TYPE, "acct/d1"), (DEPLOYMENT_TYPE, "acct/d2")]
    base = f"{GROUP_ID}/providers/{ACCOUNT_TYPE}/acct"
    assert [o.properties.target_resource.id for o in ops] == [base, base + "/deployments/d1",
                                                               base + "/deployments/d2"]
    for op in ops:
        assert op.properties.provisioning_state == "Succeeded"
        assert op.properties.provisioning_operation == "Create"
        assert op.properties.status_code == "Created"
        assert op.properties.status_message is None
        assert op.properties.timestamp and op.properties.duration.startswith("PT")
        assert op.id == f"{GROUP_ID}/providers/Microsoft.Resources/deployments/dep/operations/{op.operation_id}"
    one = arm.deployment_operations.get("rg", "dep", ops[1].operation_id)
    assert one.properties.target_resource.id == base + "/deployments/d1"
    listed = list(arm.deployments.list_by_resource_group("rg"))
    assert [(d.name, d.properties.provisioning_state) for d in listed] == [("dep", "Succeeded")]
    assert [d.name for d in arm.deployments.list_by_resource_group("rg", filter="provisioningState eq 'Failed'")] == []
    assert arm.deployments.check_existence("rg", "dep") is True
    with pytest.raises(ResourceNotFoundError) as excinfo:
        arm.deployments.get("rg", "nope")
    assert excinfo.value.error.code == "DeploymentNotFound"


def test_parameters_variables_and_outputs(arm, cognitive, group):
    tmpl = template(
        [account("[parameters('accountName')]", location="[parameters('location')]",
                 properties={"customSubDomainName": "[variables('subdomain')]"}),
         {"type": DEPLOYMENT_TYPE, "apiVersion": API,
          "name": "[format('{0}/{1}', parameters('accountName'), variables('deployment').name)]",
          "sku": "[variables('deployment').sku]", "properties": "[variables('deployment').properties]",
          "tags": {"index": "[string(length(variables('names')))]"},
          "dependsOn": ["[resourceId('Microsoft.CognitiveServices/accounts', parameters('accountName'))]"]},
         {"type": DEPLOYMENT_TYPE, "apiVersion": API, "name": "[concat(parameters('accountName'), '/never')]",
          "condition": "[parameters('withExtra')]", **deployment_body()}],
        parameters={"accountName": {"type": "string"}, "location": {"type": "string", "defaultValue": "eastus"},
                    "capacity": {"type": "int", "defaultValue": 1, "allowedValues": [1, 2, 3]},
                    "withExtra": {"type": "bool", "defaultValue": False}},
        variables={"subdomain": "[concat(parameters('accountName'), '-sub')]", "names": ["a", "b", "c"],
                   "deployment": {"name": "chat", "sku": {"name": "Standard", "capacity": "[parameters('capacity')]"},
                                  "properties": deployment_body()["properties"]}},
        outputs={"endpoint": {"type": "string", "value": "[variables('subdomain')]"},
                 "id": {"type": "string", "value": rid(DEPLOYMENT_TYPE, "pacct", "chat")}})
    result = run(arm, tmpl, parameters={"accountName": {"value": "pacct"}, "capacity": {"value": 3}})
    props = result.properties
    assert props.provisioning_state == "Succeeded"
    assert props.parameters == {"accountName": {"type": "String", "value": "pacct"},
                                "location": {"type": "String", "value": "eastus"},
                                "capacity": {"type": "Int", "value": 3},
                                "withExtra": {"type": "Bool", "value": False}}
    assert props.outputs == {"endpoint": {"type": "String", "value": "pacct-sub"},
                             "id": {"type": "String", "value": f"{GROUP_ID}/providers/{ACCOUNT_TYPE}/pacct/deployments/chat"}}
    acct = cognitive.accounts.get("rg", "pacct")
    assert acct.properties.custom_sub_domain_name == "pacct-sub"
    chat = cognitive.deployments.get("rg", "pacct", "chat")
    assert chat.sku.capacity == 3 and chat.tags == {"index": "3"}
    assert [d.name for d in cognitive.deployments.list("rg", "pacct")] == ["chat"]  # the condition was false
    assert len(operations(arm)) == 2

    # a parameter outside allowedValues, a missing one, an unknown one: refused at PUT time
    error = failure(arm, tmpl, "bad", parameters={"accountName": {"value": "x"}, "capacity": {"value": 9}})
    assert (error.status_code, error.error.code) == (400, "InvalidTemplate")
    assert "not part of the allowed value(s): '1,2,3'" in error.error.message
    error = failure(arm, tmpl, "bad")
    assert "The value for the template parameter 'accountName' is not provided" in error.error.message
    error = failure(arm, tmpl, "bad", parameters={"accountName": {"value": "x"}, "other": {"value": 1}})
    assert "The template parameters 'other' in the parameters file are not valid" in error.error.message


def test_serial_copy_loop_with_batch_size_one_runs_one_after_the_other(emulator, arm, cognitive, group):
    emulator.control.configure(lro_durations={"deployments.create": 0.1})
    items = [{"name": n, **deployment_body()} for n in ("a", "b", "c")]
    item = "variables('deployments')[copyIndex()]"
    loop = {"type": DEPLOYMENT_TYPE, "apiVersion": API, "name": f"[format('{{0}}/{{1}}', 'acct', {item}.name)]",
            "sku": f"[{item}.sku]", "tags": f"[{item}.tags]", "properties": f"[{item}.properties]",
            "dependsOn": [rid(ACCOUNT_TYPE, "acct")],
            "copy": {"name": "deployments", "count": "[length(variables('deployments'))]", "mode": "serial",
                     "batchSize": 1}}
    after = child("raiBlocklists", "acct/words", BLOCKLIST_BODY, ["deployments"])  # waits for the whole loop
    result = run(arm, template([account(), loop, after], variables={"deployments": items}), polling_interval=0.05)
    assert result.properties.provisioning_state == "Succeeded"
    assert sorted(d.name for d in cognitive.deployments.list("rg", "acct")) == ["a", "b", "c"]
    ops = operations(arm)
    assert [o.properties.target_resource.resource_name for o in ops] == [
        "acct", "acct/a", "acct/b", "acct/c", "acct/words"]
    spans = [(o.properties.timestamp.timestamp() - _seconds(o.properties.duration), o.properties.timestamp.timestamp())
             for o in ops[1:]]
    for (_, end), (start, _) in pairwise(spans):
        assert start >= end - 0.001  # each one starts when the one before has finished

    # the same loop in parallel: the account takes one write at a time
    loop["copy"]["mode"] = "parallel"
    loop["name"] = f"[format('{{0}}/{{1}}', 'acct', concat('p-', {item}.name))]"
    error = failure(arm, template([account(), loop], variables={"deployments": items}), "parallel",
                    polling_interval=0.05)
    assert error.error.code == "DeploymentFailed"
    assert [d.code for d in error.error.details] == ["RequestConflict", "RequestConflict"]


def test_quota_failure_fails_the_deployment_and_skips_dependents(emulator, arm, cognitive, group):
    emulator.control.set_quota(SUBSCRIPTION, "eastus", "OpenAI.Standard.gpt-35-turbo", 10)
    tmpl = template([account(), *chained_deployments(capacities=(6, 5, 1)),
                     child("raiBlocklists", "acct/words", BLOCKLIST_BODY,
                           [rid(DEPLOYMENT_TYPE, "acct", "d1")])])  # independent of d2: still runs
    error = failure(arm, tmpl)
    assert error.error.code == "DeploymentFailed"
    assert error.error.message == FAILED
    assert len(error.error.details) == 1
    assert error.error.details[0].code == "InsufficientQuota"
    assert error.error.details[0].message.startswith("This operation require 5 new capacity in quota")

    deployment = arm.deployments.get("rg", "dep")
    assert deployment.properties.provisioning_state == "Failed"
    assert deployment.properties.error.code == "DeploymentFailed"
    assert deployment.properties.error.details[0].code == "InsufficientQuota"
    assert cognitive.accounts.get("rg", "acct").properties.provisioning_state == "Succeeded"
    assert sorted(d.name for d in cognitive.deployments.list("rg", "acct")) == ["d1"]
    assert cognitive.rai_blocklists.get("rg", "acct", "words").name == "words"

    ops = {o.properties.target_resource.resource_name: o.properties for o in operations(arm)}
    assert set(ops) == {"acct", "acct/d1", "acct/d2", "acct/words"}  # d3 was never attempted
    assert ops["acct/d2"].provisioning_state == "Failed"
    assert ops["acct/d2"].status_code == "BadRequest"
    assert ops["acct/d2"].status_message.error.code == "InsufficientQuota"
    assert ops["acct/words"].provisioning_state == "Succeeded"


def test_writes_to_one_account_without_depends_on_conflict_like_arm(emulator, arm, cognitive, group):
    emulator.control.configure(lro_durations={"deployments.create": 0.2})
    parallel = [child("deployments", f"acct/{n}", deployment_body(), [rid(ACCOUNT_TYPE, "acct")])
                for n in ("d1", "d2", "d3")]
    error = failure(arm, template([account(), *parallel]), polling_interval=0.05)
    assert error.error.code == "DeploymentFailed"
    assert [d.code for d in error.error.details] == ["RequestConflict", "RequestConflict"]
    assert all("Another operation is being performed on the parent resource" in d.message
               for d in error.error.details)
    # the first write went ahead and finished; the others were refused, not retried
    assert [d.name for d in cognitive.deployments.list("rg", "acct")] == ["d1"]
    assert cognitive.deployments.get("rg", "acct", "d1").properties.provisioning_state == "Succeeded"
    states = {o.properties.target_resource.resource_name: (o.properties.provisioning_state, o.properties.status_code)
              for o in operations(arm)}
    assert states == {"acct": ("Succeeded", "Created"), "acct/d1": ("Succeeded", "Created"),
                      "acct/d2": ("Failed", "Conflict"), "acct/d3": ("Failed", "Conflict")}


def test_chained_deployments_take_their_lro_durations(emulator, arm, group):
    emulator.control.configure(lro_durations={"deployments.create": 0.2})
    started = time.monotonic()
    poller = arm.deployments.begin_create_or_update(
        "rg", "dep", {"properties": {"mode": "Incremental", "template": template([account(), *chained_deployments()])}},
        polling_interval=0.05)
    assert poller.status() != "Succeeded"
    result = poller.result()
    elapsed = time.monotonic() - started
    assert result.properties.provisioning_state == "Succeeded"
    assert 0.6 <= elapsed < 5
    assert 0.6 <= _seconds(result.properties.duration) < 5
    # while it ran, a second PUT of the same name was refused
    emulator.control.configure(lro_durations={"deployments.create": 0.3})
    arm.deployments.begin_create_or_update(
        "rg", "again", {"properties": {"mode": "Incremental", "template": template(
            [child("deployments", "acct/d4", deployment_body())])}}, polling=False)
    with pytest.raises(HttpResponseError) as excinfo:
        arm.deployments.begin_create_or_update(
            "rg", "again", {"properties": {"mode": "Incremental", "template": template([])}}, polling=False)
    assert (excinfo.value.status_code, excinfo.value.error.code) == (409, "DeploymentActive")


def test_a_failed_resource_operation_fails_the_deployment(emulator, arm, cognitive, group):
    emulator.control.inject_fault("lro_failed", method="PUT", path="/deployments/d2$")
    error = failure(arm, template([account(), *chained_deployments()]))
    assert [(d.code, d.message) for d in error.error.details] == [
        ("InternalServerError", "The operation failed (injected by the emulator).")]
    assert cognitive.deployments.get("rg", "acct", "d2").properties.provisioning_state == "Failed"
    names = [o.properties.target_resource.resource_name for o in operations(arm)]
    assert names == ["acct", "acct/d1", "acct/d2"]


def test_unknown_function_and_other_invalid_templates_are_refused_at_put(arm, cognitive, group):
    bad = template([account(), child("deployments", "[padLeft('acct/d1', 3)]", deployment_body())])
    error = failure(arm, bad)
    assert (error.status_code, error.error.code) == (400, "InvalidTemplate")
    assert error.error.message == (
        "Deployment template validation failed: 'The template resource '[padLeft('acct/d1', 3)]' is not valid: "
        "The template function 'padLeft' is not valid. Please see https://aka.ms/arm-template-expressions for "
        "usage details.. Please see https://aka.ms/arm-template-expressions for usage details.'.")
    with pytest.raises(ResourceNotFoundError):
        arm.deployments.get("rg", "dep")  # nothing was recorded
    assert list(cognitive.accounts.list_by_resource_group("rg")) == []

    for tmpl, words in [
        (template([child("deployments", "acct/d1", deployment_body(), ["[resourceId('x/y', 'z')]"])]),
         "is not defined in the template"),
        (template([child("deployments", "acct", deployment_body())]), "has incorrect segment lengths"),
        (template([account(), account()]), "is defined multiple times"),
        (template([{"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-01-01", "name": "st"}]),
         "could not be found in the namespace 'Microsoft.Storage'"),
        (template([account(condition="[variables('nope')]")]), "The template variable 'nope' is not found"),
        (template([account(name="[parameters('a']")]), "is not valid: the string ends unexpectedly"),
    ]:
        error = failure(arm, tmpl)
        assert error.error.code == "InvalidTemplate" and words in error.error.message, error.error.message

    with pytest.raises(HttpResponseError) as excinfo:
        arm.deployments.begin_create_or_update(
            "rg", "dep", {"properties": {"mode": "Complete", "template": template([account()])}})
    assert (excinfo.value.status_code, excinfo.value.error.code) == (400, "DeploymentModeNotSupported")


def _seconds(duration: str) -> float:
    """PT1M2.5S -> 62.5"""
    total, number = 0.0, ""
    for char in duration.removeprefix("PT"):
        if char in "HMS":
            total += float(number) * {"H": 3600, "M": 60, "S": 1}[char]
            number = ""
        else:
            number += char
    return total
