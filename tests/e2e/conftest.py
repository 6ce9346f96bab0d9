"""End-to-end fixtures: the `provision` CLI, run in-process, against the emulator.

`project` is a working directory whose emulator state (`.provision/emulator.sqlite`, what
`--emulator` uses) already exists with instant operations: `--emulator` runs reuse the
configuration stored in the state, so plan/apply/destroy take milliseconds instead of
Azure's realistic seconds. `Project.live()` opens the same emulated Azure with real SDK
clients, to set up or inspect live state (never mocks). `external_emulator` is an in-process
emulator that the CLI reaches through the PROVISION_EMULATOR_* variables, for counting
requests.

Spec-specific helpers live in the test modules; nothing here needs importing.
"""
from __future__ import annotations

import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient

from provisioner.azure.clients import EMULATOR_ENV
from provisioner.cli.app import run
from provisioner.emulator import Emulator
from provisioner.emulator.server import test_config as instant_config

STATE = Path(".provision") / "emulator.sqlite"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


def sdk_kwargs(emu: Emulator) -> dict[str, Any]:
    # as tests/conftest.py: no SDK retries, no polling waits
    return {"base_url": emu.base_url, "connection_verify": emu.ca_path, "retry_total": 0, "polling_interval": 0}


@dataclass
class Project:
    """A spec directory; `.provision/emulator.sqlite` beside the spec is what `--emulator` uses."""

    root: Path

    @property
    def spec(self) -> Path:
        return self.root / "deployments.yaml"

    @property
    def state(self) -> Path:
        return self.root / STATE

    def write(self, spec: dict[str, Any] | str) -> Path:
        """Write deployments.yaml: text as is, a dict as YAML."""
        self.spec.write_text(spec if isinstance(spec, str) else yaml.safe_dump(spec, sort_keys=False))
        return self.spec

    @contextmanager
    def live(self, subscription: str) -> Iterator[CognitiveServicesManagementClient]:
        """A real SDK client on the same emulated Azure (same state file, token and CA) as `--emulator`.
        Use it between CLI runs: request counts of this emulator are its own."""
        with Emulator(self.state) as emu:
            client = CognitiveServicesManagementClient(emu.credential, subscription, **sdk_kwargs(emu))
            try:
                yield client
            finally:
                client.close()


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch):
    """No external emulator unless a test sets one; wide, colourless output for stable assertions."""
    for name in (*EMULATOR_ENV, "FORCE_COLOR", "TTY_COMPATIBLE", "AZURE_SUBSCRIPTION_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture(scope="session")
def empty_state(tmp_path_factory) -> Path:
    """A `.provision` directory with an empty emulated Azure and instant operations, made once
    (TLS certificates take a while) and copied into each project."""
    root = tmp_path_factory.mktemp("e2e-state")
    with Emulator(root / STATE, config=instant_config()):
        pass  # the config is stored in the state; later `--emulator` runs reuse it
    return root / STATE.parent


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Project:
    """An empty project directory, made the working directory; no emulator state."""
    monkeypatch.chdir(tmp_path)
    return Project(tmp_path)


@pytest.fixture
def project(workdir, empty_state) -> Project:
    """A project directory (the working directory) with an empty emulated Azure beside it."""
    shutil.copytree(empty_state, workdir.root / STATE.parent)
    return workdir


@pytest.fixture
def external_emulator(monkeypatch) -> Iterator[Emulator]:
    """An in-process emulator (in memory, instant) that the CLI reaches through PROVISION_EMULATOR_*
    (without --emulator), so the test can count the requests it serves."""
    with Emulator() as emu:
        for name, value in emu.environment().items():
            monkeypatch.setenv(name, value)
        yield emu


@pytest.fixture
def cli(capsys):
    """Run `provision ARGS...` in-process; returns its exit code, stdout and stderr."""

    def invoke(*argv: Any) -> Result:
        capsys.readouterr()
        code = run([str(a) for a in argv])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke
