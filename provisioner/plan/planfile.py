"""Saved plans: `plan -out FILE` writes the plan document; apply checks it is still true."""
from __future__ import annotations

import json
from pathlib import Path

from provisioner.errors import PlanStaleError, ProvisionerError
from provisioner.plan.model import Plan


def save(plan: Plan, path: Path) -> None:
    path.write_text(json.dumps(plan.to_dict(), indent=2) + "\n")


def load(path: Path) -> Plan:
    try:
        data = json.loads(path.read_text())
        return Plan.from_dict(data)
    except FileNotFoundError:
        raise ProvisionerError(f"{path}: no such plan file") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ProvisionerError(f"{path}: not a provision plan file ({exc})") from None


def check_fresh(saved: Plan, *, spec_digest: str, observed_fingerprint: str) -> None:
    """Refuse a saved plan when the spec or live Azure changed since it was made."""
    if saved.spec_digest != spec_digest:
        raise PlanStaleError("Saved plan is stale: the spec changed since the plan was made",
                             hint="run `provision plan -out FILE` again and review it")
    if saved.observed_fingerprint != observed_fingerprint:
        raise PlanStaleError("Saved plan is stale: live Azure changed since the plan was made",
                             hint="run `provision plan -out FILE` again and review it")
