"""Environments: one spec, an overlay per environment (`environments: {dev: {...}, prod: {...}}`).

`select(spec, env)` is the spec as that environment sees it: the overlay's defaults merged over
`defaults`, its per-account and per-deployment fields over the accounts' and deployments' (tags
merged, `enabled: false` drops a deployment), `{env}` replaced by the environment's name in every
value, and the name `NAME@ENV`, so the ownership tags of two environments differ and one never
takes over the other's resources. Values an overlay sets are reported at the overlay's line.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from provisioner.errors import Diagnostic, SpecError
from provisioner.spec.schema import Path, SourceMap, Spec

PLACEHOLDER = "{env}"


def select(spec: Spec, env: str, default_name: str) -> Spec:
    """The spec for environment `env` (SpecError when there is no such environment or the overlay
    names accounts or deployments the spec does not have)."""
    source = spec.source
    if env not in spec.environments:
        names = ", ".join(sorted(spec.environments)) or "none"
        raise SpecError([source.diagnostic(("environments",), f"no environment {env!r} (the spec has: {names})")])
    overlay = spec.environments[env]
    data = spec.model_dump(exclude_unset=True, exclude={"environments"})
    base = ("environments", env)
    moved: dict[Path, Path] = {}  # where a value now lives -> where it is written
    problems: list[Diagnostic] = []

    defaults = data.setdefault("defaults", {})
    for key in overlay.defaults.model_fields_set:
        value = _plain(getattr(overlay.defaults, key))
        defaults[key] = {**defaults.get(key, {}), **value} if key == "tags" else value
        moved[("defaults", key)] = base + ("defaults", key)

    renumbered: dict[Path, Path | None] = {}  # old deployment path -> new one, after dropped deployments
    by_name = {a["name"]: i for i, a in enumerate(data["accounts"])}
    for account_name, account_overlay in overlay.accounts.items():
        where = base + ("accounts", account_name)
        if account_name not in by_name:
            problems.append(source.diagnostic(where, f"no account {account_name!r} in the spec's accounts",
                                              at_key=True))
            continue
        index = by_name[account_name]
        account = data["accounts"][index]
        for key in account_overlay.model_fields_set - {"deployments"}:
            value = _plain(getattr(account_overlay, key))
            account[key] = {**account.get(key, {}), **value} if key == "tags" else value
            moved[("accounts", index, key)] = where + (key,)
        problems += _overlay_deployments(source, account, index, account_overlay.deployments, where, moved,
                                         renumbered)
    if problems:
        raise SpecError(problems)
    data["name"] = f"{spec.name or default_name}@{env}"
    selected = Spec.model_validate(_with_env(data, env))
    selected._source = _remapped(source, moved, renumbered)
    return selected


def _overlay_deployments(source: SourceMap, account: dict[str, Any], index: int, overlays: dict, where: Path,
                         moved: dict[Path, Path], renumbered: dict[Path, Path | None]) -> list[Diagnostic]:
    problems = []
    deployments = account.get("deployments", [])
    positions = {d["name"]: i for i, d in enumerate(deployments)}
    dropped = set()
    for name, overlay in overlays.items():
        here = where + ("deployments", name)
        if name not in positions:
            problems.append(source.diagnostic(here, f"no deployment {name!r} on account {account['name']!r}",
                                              at_key=True))
            continue
        position = positions[name]
        deployment = deployments[position]
        if not overlay.enabled:
            dropped.add(position)
            continue
        fields = overlay.model_fields_set - {"enabled"}
        if "sku" in fields:
            deployment.pop("type", None), deployment.pop("scope", None)
        if fields & {"type", "scope"}:
            deployment.pop("sku", None)
        for key in fields:
            value = getattr(overlay, key)
            value = value.model_dump() if hasattr(value, "model_dump") else value
            deployment[key] = {**deployment.get(key, {}), **value} if key == "tags" else value
            moved[("accounts", index, "deployments", position, key)] = here + (key,)
    kept = [i for i in range(len(deployments)) if i not in dropped]
    for new, old in enumerate(kept):
        renumbered[("accounts", index, "deployments", old)] = ("accounts", index, "deployments", new)
    for old in dropped:
        renumbered[("accounts", index, "deployments", old)] = None  # its positions go with it
    if dropped:
        account["deployments"] = [deployments[i] for i in kept]
    return problems


def _plain(value: Any) -> Any:
    """An overlay's value as the spec's data holds it (models as dicts, so `{env}` is replaced in them too)."""
    if hasattr(value, "model_dump"):
        return value.model_dump(exclude_unset=True)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _with_env(value: Any, env: str) -> Any:
    if isinstance(value, str):
        return value.replace(PLACEHOLDER, env)
    if isinstance(value, dict):
        return {k: _with_env(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_env(v, env) for v in value]
    return value


def _remapped(source: SourceMap, moved: dict[Path, Path], renumbered: dict[Path, Path | None]) -> SourceMap:
    """Positions for the selected spec: deployments renumbered after dropped ones, overlaid values at the
    overlay (so an error in prod's capacity names prod's line)."""
    def renumber(path: Path) -> Path | None:
        prefix = path[:4]
        if len(path) < 4 or prefix not in renumbered:
            return path
        new = renumbered[prefix]
        return None if new is None else new + path[4:]

    values = {new: v for p, v in source.values.items() if (new := renumber(p)) is not None}
    keys = {new: v for p, v in source.keys.items() if (new := renumber(p)) is not None}
    for old_target, written in moved.items():
        target = renumber(old_target)
        if target is None:
            continue
        if written in source.values:
            values[target] = source.values[written]
        if written in source.keys:
            keys[target] = source.keys[written]
    return replace(source, values=values, keys=keys)
