"""The Python API (provisioner.Workspace) drives plan, apply and destroy against the emulator on
its own: no Typer, no CLI, plain values back."""
from __future__ import annotations

import subprocess
import sys

import pytest

from provisioner import Workspace
from provisioner.errors import PlanStaleError
from provisioner.plan.model import Action

SUBSCRIPTION = "00000000-0000-0000-0000-0000000000e5"
SPEC = f"""version: 1
name: api
defaults: {{subscription: "{SUBSCRIPTION}", resource_group: rg-api, location: eastus2}}
accounts:
  - name: api-eus2
    deployments:
      - {{name: chat, model: gpt-4o-mini, version: "2024-07-18", capacity: 10}}
"""


def test_plan_apply_and_destroy_from_python(project):
    project.write(SPEC)
    with Workspace.open(project.spec, emulator=True) as workspace:
        plan = workspace.plan()
        assert {c.address: c.action for c in plan.pending} == {
            f"rg:{SUBSCRIPTION}/rg-api": Action.CREATE, "api-eus2": Action.CREATE,
            "api-eus2/deployments/chat": Action.CREATE}
        result = workspace.apply(plan)
        assert not result.failed and {o.status for o in result.outcomes} == {"succeeded"}
        assert not workspace.plan().has_changes
        rows = workspace.quota()
        assert any(r["model"] == "gpt-4o-mini" and r["in_use"] == 10 for r in rows)
        assert "api-eus2" in next(iter(workspace.export("bicep").values()))
        destroyed = workspace.destroy(include_accounts=True, purge=True)
        assert not destroyed.failed
    with project.live(SUBSCRIPTION) as client:
        assert [a.name for a in client.accounts.list()] == []
        assert [a.name for a in client.deleted_accounts.list()] == []


def test_a_plan_the_workspace_did_not_make_is_planned_again(project):
    project.write(SPEC)
    with Workspace.open(project.spec, emulator=True) as first:
        plan = first.plan()
    with Workspace.open(project.spec, emulator=True) as second:
        assert second.verified(plan) is not plan  # planned again, and the same: accepted
        edited = plan.__class__.from_dict({**plan.to_dict(), "changes": plan.to_dict()["changes"][:1]})
        with pytest.raises(PlanStaleError, match="Saved plan is stale"):
            second.apply(edited)


def test_importing_the_package_loads_neither_the_cli_nor_the_azure_sdk():
    code = ("import sys, provisioner; provisioner.Workspace; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'typer', 'rich', 'azure'}))")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"
