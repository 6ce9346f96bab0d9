"""Microsoft.Insights diagnostic settings on an account, through azure-mgmt-monitor, sending to a Log
Analytics workspace (created through the generic resources client)."""
from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.monitor import MonitorManagementClient

from tests.conftest import SUBSCRIPTION, sdk_kwargs
from tests.emulator.security_fixtures import group_id

WORKSPACE_API = "2022-10-01"


@pytest.fixture
def monitor(emulator):
    return MonitorManagementClient(emulator.credential, SUBSCRIPTION, **sdk_kwargs(emulator))


@pytest.fixture
def workspace(resources, account):
    workspace_id = f"{group_id()}/providers/Microsoft.OperationalInsights/workspaces/logs"
    resources.resources.begin_create_or_update_by_id(workspace_id, api_version=WORKSPACE_API,
                                                     parameters={"location": "eastus"}).result()
    return workspace_id


def setting(workspace_id: str, *logs: dict, metrics: bool = True) -> dict:
    return {"workspace_id": workspace_id, "logs": list(logs),
            "metrics": [{"category": "AllMetrics", "enabled": True}] if metrics else []}


def test_setting_crud_and_categories(monitor, account, workspace):
    created = monitor.diagnostic_settings.create_or_update(
        account.id, "to-logs", setting(workspace, {"category": "Audit", "enabled": True},
                                       {"category": "RequestResponse", "enabled": True}))
    assert created.workspace_id == workspace
    assert [(log.category, log.enabled) for log in created.logs] == [("Audit", True), ("RequestResponse", True)]
    assert [(m.category, m.enabled) for m in created.metrics] == [("AllMetrics", True)]
    assert monitor.diagnostic_settings.get(account.id, "to-logs").id == created.id
    assert [s.name for s in monitor.diagnostic_settings.list(account.id)] == ["to-logs"]
    categories = {c.name: c.category_type for c in monitor.diagnostic_settings_category.list(account.id)}
    assert categories == {"Audit": "Logs", "AzureOpenAIRequestUsage": "Logs", "RequestResponse": "Logs",
                          "Trace": "Logs", "AllMetrics": "Metrics"}
    monitor.diagnostic_settings.delete(account.id, "to-logs")
    with pytest.raises(ResourceNotFoundError):
        monitor.diagnostic_settings.get(account.id, "to-logs")


def test_category_groups(monitor, account, workspace):
    created = monitor.diagnostic_settings.create_or_update(
        account.id, "all", setting(workspace, {"category_group": "allLogs", "enabled": True}))
    assert created.logs[0].category_group == "allLogs"


@pytest.mark.parametrize("logs, message", [
    ([{"category": "Nope", "enabled": True}], "Category 'Nope' is not supported."),
    ([{"category": "Audit", "enabled": True, "retention_policy": {"enabled": True, "days": 30}}],
     "Diagnostic settings does not support retention for new diagnostic settings."),  # Azure/avdaccelerator#473
    ([{"category": "Audit", "enabled": True}, {"category_group": "allLogs", "enabled": True}],
     "Diagnostic setting does not support mix of log category and log category group.")])
def test_category_refusals(monitor, account, workspace, logs, message):
    with pytest.raises(HttpResponseError) as excinfo:
        monitor.diagnostic_settings.create_or_update(account.id, "bad", setting(workspace, *logs))
    assert (excinfo.value.status_code, excinfo.value.error.message) == (400, message)


def test_workspace_must_exist(monitor, account, workspace):
    with pytest.raises(HttpResponseError) as excinfo:
        monitor.diagnostic_settings.create_or_update(account.id, "x", setting(workspace.replace("logs", "nope")))
    assert excinfo.value.status_code == 400


def test_same_category_and_destination_twice_and_the_limit_of_five(monitor, account, workspace):
    monitor.diagnostic_settings.create_or_update(account.id, "one", setting(workspace, {"category": "Audit",
                                                                                         "enabled": True}))
    with pytest.raises(HttpResponseError) as excinfo:
        monitor.diagnostic_settings.create_or_update(account.id, "two", setting(
            workspace, {"category": "Audit", "enabled": True}, metrics=False))
    assert (excinfo.value.status_code, excinfo.value.error.code) == (409, "Conflict")
    assert excinfo.value.error.message == (  # Azure/terraform-azurerm-avm-ptn-aiml-landing-zone#19
        f"Data sink '{workspace}' is already used in diagnostic setting 'one' for category 'Audit'. Data sinks "
        "can't be reused in different settings on the same category for the same resource.")
    for index in range(4):  # other categories, or no overlap: allowed, up to five in all
        monitor.diagnostic_settings.create_or_update(account.id, f"more{index}", setting(
            workspace, {"category": "Trace", "enabled": index == 0}, metrics=False))
    with pytest.raises(HttpResponseError) as excinfo:
        monitor.diagnostic_settings.create_or_update(account.id, "sixth", setting(workspace, metrics=False))
    assert excinfo.value.status_code == 400
    assert len(list(monitor.diagnostic_settings.list(account.id))) == 5


def test_settings_go_with_their_resource(monitor, cognitive, account, workspace):
    monitor.diagnostic_settings.create_or_update(account.id, "one", setting(workspace))
    cognitive.accounts.begin_delete("rg", "acct").result()
    cognitive.accounts.begin_create("rg", "acct", {"kind": "OpenAI", "sku": {"name": "S0"}, "location": "eastus",
                                                   "properties": {"restore": True}}).result()
    assert list(monitor.diagnostic_settings.list(account.id)) == []
