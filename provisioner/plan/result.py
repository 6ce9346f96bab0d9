"""What applying a plan did, change by change (rendered by provisioner.render)."""
from __future__ import annotations

from dataclasses import dataclass

SUCCEEDED, FAILED, SKIPPED = "succeeded", "failed", "skipped"


@dataclass(frozen=True)
class Outcome:
    address: str
    action: str
    status: str  # succeeded | failed | skipped
    reason: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class ApplyResult:
    outcomes: tuple[Outcome, ...]
    interrupted: bool = False

    @property
    def failed(self) -> bool:
        return self.interrupted or any(o.status != SUCCEEDED for o in self.outcomes)


@dataclass(frozen=True)
class TemplateOperation:
    """One resource write of a template deployment, as ARM reports it."""

    target_id: str
    state: str  # Succeeded | Failed | Running ...
    message: str = ""


@dataclass(frozen=True)
class TemplateRun:
    deployment: str  # the Microsoft.Resources/deployments name
    error: str | None  # why the deployment failed, if it did
    operations: tuple[TemplateOperation, ...]
