"""Saved plans: `plan -out FILE` writes the plan document; `apply FILE` treats it as a claim.

A saved plan is never carried out as written: apply makes the plan again from the spec and
live Azure and goes ahead only if it is the same plan (same changes, actions and fields).
So an edited file can stop an apply, never steer one.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from provisioner.errors import PlanStaleError, ProvisionerError
from provisioner.plan.model import Change, Plan

MAX_BYTES = 64 * 1024 * 1024  # far above any real plan; a bigger file is not one of ours
SHOWN = 10  # differences listed when a saved plan no longer holds


def check_destination(path: Path, *, spec: Path | None = None) -> None:
    """Can a plan be saved at `path`? Never into a missing folder, never over the spec itself."""
    path = Path(path)
    if not path.parent.is_dir():
        raise ProvisionerError(f"cannot save the plan to {path}: the folder {path.parent} does not exist")
    if path.is_dir():
        raise ProvisionerError(f"cannot save the plan to {path}: it is a folder")
    if spec is not None and path.exists() and Path(spec).exists() and path.resolve() == Path(spec).resolve():
        raise ProvisionerError(f"cannot save the plan to {path}: that is the spec file")
    if path.suffix.lower() != ".json":
        raise ProvisionerError(f"cannot save the plan to {path}: a plan file's name ends in .json",
                               hint="`provision apply` tells a saved plan from a spec by that suffix")


def save(plan: Plan, path: Path, *, spec: Path | None = None) -> None:
    """Write the plan document (see check_destination), whole or not at all."""
    path = Path(path)
    check_destination(path, spec=spec)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(plan.to_dict(), indent=2) + "\n")
    temporary.replace(path)  # whole or not at all


def load(path: Path) -> Plan:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ProvisionerError(f"{path}: not a provision plan file (larger than {MAX_BYTES // 2**20} MiB)")
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProvisionerError(f"{path}: no such plan file") from None
    except (OSError, UnicodeDecodeError, RecursionError) as exc:
        raise ProvisionerError(f"{path}: cannot read the plan file ({type(exc).__name__})") from None
    except ValueError as exc:
        raise ProvisionerError(f"{path}: not a provision plan file (invalid JSON: {exc})") from None
    if not isinstance(data, dict):
        raise ProvisionerError(f"{path}: not a provision plan file (the document is not a JSON object)")
    try:
        return Plan.from_dict(data)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ProvisionerError(f"{path}: not a provision plan file ({_describe(exc)})",
                               hint="make it again with `provision plan -out FILE`") from None


def check_same(saved: Plan, fresh: Plan) -> None:
    """Refuse a saved plan that is not what planning now gives."""
    found = differences(saved, fresh)
    if found:
        more = f"\n  ... and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
        raise PlanStaleError("Saved plan is stale: planning again from the spec and live Azure gives another "
                             "plan:\n  "
                             + "\n  ".join(found[:SHOWN]) + more,
                             hint="run `provision plan -out FILE` again and review it")


def differences(saved: Plan, fresh: Plan) -> list[str]:
    """What a saved plan claims that planning now does not give, one line each."""
    found = []
    for setting in ("spec_name", "destroy", "include_accounts", "purge", "delete_unowned", "targets"):
        if getattr(saved, setting) != getattr(fresh, setting):
            found.append(f"{setting}: the saved plan says {getattr(saved, setting)!r}, "
                         f"planning now gives {getattr(fresh, setting)!r}")
    if saved.spec_digest != fresh.spec_digest:  # what no change shows, such as where keys are published
        found.append("spec: the spec asks for something else than when the plan was saved "
                     f"(digest {saved.spec_digest}, now {fresh.spec_digest})")
    before = {c.address: c for c in saved.pending}
    now = {c.address: c for c in fresh.pending}
    for address in sorted(before.keys() - now.keys()):
        found.append(f"{address}: the saved plan would {before[address].action.value} it; planning now "
                     f"{_now(fresh, address)}")
    for address in sorted(now.keys() - before.keys()):
        found.append(f"{address}: planning now would {now[address].action.value} it; the saved plan does not")
    for address in sorted(before.keys() & now.keys()):
        old, new = _essence(before[address]), _essence(now[address])
        if old != new:
            what = [key for key in old if old[key] != new[key]]
            found.append(f"{address}: {', '.join(what)} differ between the saved plan and planning now")
    return found


def _essence(change: Change) -> dict[str, Any]:
    return {"action": change.action.value, "kind": change.kind.value, "scope": change.scope,
            "fields": [(f.path, f.before, f.after, f.forces_replace) for f in change.fields],
            "properties": change.after, "options": dict(change.options),
            "prevent_destroy": change.prevent_destroy}


def _now(fresh: Plan, address: str) -> str:
    same = next((c for c in fresh.changes if c.address == address), None)
    return "has nothing to do there" if same is not None else "does not touch it"


def _describe(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]
