"""What every Azure-touching command shares: load the spec, then connect.

The spec is loaded and checked before any connection is made, so a spec with
errors never reaches Azure (or the emulator).
"""
from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import typer

from provisioner.azure.clients import (
    Clients,
    azure_connection,
    emulator_connection,
    emulator_connection_from_env,
)
from provisioner.errors import ProvisionerError
from provisioner.model.resources import DesiredState
from provisioner.spec import Spec, load

EMULATOR_STATE = Path(".provision") / "emulator.sqlite"


@dataclass(frozen=True)
class LoadedSpec:
    path: Path
    spec: Spec
    desired: DesiredState

    @property
    def digest(self) -> str:
        """Changes when the desired state changes (the file, or a ${VAR} it expands)."""
        resources = sorted((r.address, json.dumps(dict(r.properties), sort_keys=True, default=str))
                           for r in self.desired.resources)
        return "sha256:" + hashlib.sha256(json.dumps(resources).encode()).hexdigest()


def load_spec(path: Path) -> LoadedSpec:
    if not path.exists():
        raise ProvisionerError(f"{path}: no such file", hint="pass the spec file, e.g. `provision plan deployments.yaml`")
    spec, desired = load(path)
    for warning in spec.warnings:
        typer.echo(str(warning), err=True)
    return LoadedSpec(path, spec, desired)


@contextmanager
def connect(spec_path: Path, *, emulator: bool, cloud: str) -> Iterator[Clients]:
    """Clients for the embedded emulator (--emulator), an external one (PROVISION_EMULATOR_*), or Azure."""
    if emulator:
        from provisioner.emulator import Emulator

        state = spec_path.resolve().parent / EMULATOR_STATE
        with Emulator(state) as emu:
            clients = Clients(emulator_connection(emu.base_url, emu.ca_path, emu.credential))
            try:
                yield clients
            finally:
                clients.close()
        return
    connection = emulator_connection_from_env() or azure_connection(cloud)
    clients = Clients(connection)
    try:
        yield clients
    finally:
        clients.close()


