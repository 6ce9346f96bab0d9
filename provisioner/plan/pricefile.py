"""Price table files: where a plan's prices come from, read with errors that point at the line.

In order: a file given with `--prices` (negotiated prices, same format), else the table
`provision prices update` wrote beside the spec (`.provision/prices.json`), else the
table shipped with the package (`provisioner/data/prices.json`).
"""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from provisioner.errors import ProvisionerError
from provisioner.plan.cost import PriceTable, PriceTableError

UPDATED = Path(".provision") / "prices.json"  # relative to the spec's folder
SHIPPED = "data/prices.json"  # inside the provisioner package


def shipped() -> PriceTable:
    text = resources.files("provisioner").joinpath(SHIPPED).read_text(encoding="utf-8")
    return loads(text, f"provisioner/{SHIPPED}")


def resolve(spec_path: Path, override: Path | None = None) -> PriceTable:
    """The prices a plan of `spec_path` uses (see the module docstring for the order)."""
    if override is not None:
        return load(override)
    updated = spec_path.resolve().parent / UPDATED
    return load(updated) if updated.exists() else shipped()


def load(path: Path) -> PriceTable:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProvisionerError(f"{path}: no such price file",
                               hint="write one with `provision prices update --out FILE`") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProvisionerError(f"{path}: cannot read the price file: {exc}") from None
    return loads(text, str(path))


def loads(text: str, filename: str) -> PriceTable:
    """A price table from JSON text; errors name the file, line, column and field."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProvisionerError(f"{filename}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    try:
        return PriceTable.from_dict(data)
    except PriceTableError as exc:
        where = _position(text, exc.path)
        location = f"{filename}:{where[0]}:{where[1]}" if where else filename
        field = ".".join(str(p) for p in exc.path)
        raise ProvisionerError(f"{location}: {field or '(top level)'}: {exc.message}",
                               hint="the format is described in README, section \"Cost\"") from None


def save(table: PriceTable, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(table.to_dict(), indent=1) + "\n", encoding="utf-8")


def _position(text: str, path: tuple) -> tuple[int, int] | None:
    """(line, column) of the value at `path`, or of its nearest parent that exists (JSON is YAML)."""
    try:
        node: Node | None = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    found = node
    for step in path:
        node = _child(node, step)
        if node is None:
            break
        found = node
    if found is None:
        return None
    return found.start_mark.line + 1, found.start_mark.column + 1


def _child(node: Node | None, step: str | int) -> Node | None:
    if isinstance(node, MappingNode):
        return next((value for key, value in node.value if key.value == step), None)
    if isinstance(node, SequenceNode) and isinstance(step, int) and step < len(node.value):
        return node.value[step]
    return None
