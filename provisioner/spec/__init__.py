"""Reading deployments.yaml.

`load` runs the whole pipeline: parse and schema-check (loader), semantic
checks (validate), translation to desired resources (desired). Any error
raises one SpecError carrying every diagnostic, warnings included. When the
spec is valid, its warnings are on `spec.warnings`.
"""
from __future__ import annotations

from pathlib import PurePath

from provisioner.errors import SpecError
from provisioner.model.resources import DesiredState
from provisioner.spec.desired import build_desired
from provisioner.spec.environments import select
from provisioner.spec.loader import load_spec, load_text
from provisioner.spec.schema import Spec
from provisioner.spec.validate import validate_spec

__all__ = ["Spec", "build_desired", "environments_of", "load", "load_every_environment", "load_from_text", "load_spec",
           "load_text", "validate_spec"]


def load(path: str | PurePath, env: str | None = None) -> tuple[Spec, DesiredState]:
    """Read, check and translate a spec file; the spec name defaults to the file's stem. A spec with
    `environments` needs `env` (and one without must not get it)."""
    return _checked(load_spec(path), PurePath(path).stem, env)


def load_from_text(text: str, filename: str = "deployments.yaml", env: str | None = None) -> tuple[Spec, DesiredState]:
    """Like `load`, for text already in memory; `filename` is used in diagnostics and as the default name."""
    return _checked(load_text(text, filename), PurePath(filename).stem, env)


def load_every_environment(path: str | PurePath) -> list[tuple[Spec, DesiredState]]:
    """The spec as each of its environments sees it (itself when it has none), from one read of the
    file; one SpecError carries the problems of all of them."""
    spec = load_spec(path)
    results, problems = [], []
    for env in sorted(spec.environments) or [None]:
        try:
            results.append(_checked(spec, PurePath(path).stem, env))
        except SpecError as exc:
            problems += [d for d in exc.diagnostics if d not in problems]
    if problems:
        raise SpecError(problems)
    return results


def environments_of(path: str | PurePath) -> list[str]:
    """The environments a spec file defines (parsed and schema-checked; SpecError otherwise)."""
    return sorted(load_spec(path).environments)


def _checked(spec: Spec, default_name: str, env: str | None = None) -> tuple[Spec, DesiredState]:
    if spec.environments and env is None:
        raise SpecError([spec.source.diagnostic(("environments",), "the spec defines environments ("
                                                + ", ".join(sorted(spec.environments))
                                                + "): choose one with --env NAME or PROVISION_ENV", at_key=True)])
    if env is not None and not spec.environments:
        raise SpecError([spec.source.diagnostic((), f"--env {env}: the spec defines no environments")])
    if "@" in (spec.name or default_name):  # an environment's resources are "<name>@<env>"'s
        where = "the spec's name" if spec.name else "the spec sets no name, so its file's stem is used:"
        raise SpecError([spec.source.diagnostic(("name",) if spec.name else (), (
            f"{where} {(spec.name or default_name)!r} has an '@'; environments are owned as NAME@ENV, so "
            "this name would own what another spec's environment owns: use a name without '@'"))])
    if env is not None:
        spec = select(spec, env, default_name)
    diagnostics = validate_spec(spec, default_name)
    if any(diagnostic.severity == "error" for diagnostic in diagnostics):
        raise SpecError(diagnostics)
    spec._warnings = tuple(diagnostics)  # all warnings by now
    return spec, build_desired(spec, spec.name or default_name, environment=env)
