"""What the emulator keeps on disk: owner-only files and directories, and a clear error for a
state file that cannot be used."""
from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest
from azure.mgmt.resource.resources import ResourceManagementClient

from provisioner.emulator import Emulator, StateFileError
from tests.conftest import SUBSCRIPTION, sdk_kwargs


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    """The most permissive umask: whatever the emulator makes private, it makes so itself."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def test_state_key_and_token_files_are_owner_only(tmp_path, open_umask):
    state = tmp_path / "project" / ".provision" / "emulator.sqlite"
    with Emulator(state) as emu:
        client = ResourceManagementClient(emu.credential, SUBSCRIPTION, **sdk_kwargs(emu))
        client.resource_groups.create_or_update("rg", {"location": "eastus"})  # the WAL is written
        token_file = Path(emu.environment()["PROVISION_EMULATOR_TOKEN_FILE"])
        tls = state.parent / "emulator.sqlite.tls"
        files = [state, Path(f"{state}-wal"), Path(f"{state}-shm"), tls / "server-key.pem", tls / "server.pem",
                 tls / "ca.pem", token_file]
        for path in files:
            assert path.exists(), path
            assert mode(path) == 0o600, path
        for directory in (tmp_path / "project", state.parent, tls):
            assert mode(directory) == 0o700, directory


def test_existing_folders_are_left_alone_and_old_files_are_narrowed(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    state = folder / "s.sqlite"
    with Emulator(state):
        pass
    os.chmod(state, 0o644)  # as an older version left it
    key = folder / "s.sqlite.tls" / "server-key.pem"
    os.chmod(key, 0o644)
    with Emulator(state):
        assert mode(state) == 0o600
        assert mode(key) == 0o600
    assert mode(folder) == 0o755  # the user's folder keeps its mode


def test_in_memory_emulator_keeps_its_files_private(open_umask):
    with Emulator() as emu:
        token_file = Path(emu.token_path)
        assert mode(token_file) == 0o600
        assert mode(token_file.parent) == 0o700
        assert mode(token_file.parent / "server-key.pem") == 0o600


def write_state(path: Path) -> None:
    with Emulator(path) as emu:
        client = ResourceManagementClient(emu.credential, SUBSCRIPTION, **sdk_kwargs(emu))
        for i in range(40):  # enough rows for several pages
            client.resource_groups.create_or_update(f"rg-{i}", {"location": "eastus", "tags": {"i": "x" * 200}})
    with sqlite3.connect(path) as db:  # fold the WAL into the file, as a stopped emulator leaves it
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@pytest.mark.parametrize("damage", ["random bytes", "truncated", "empty header", "damaged page"])
def test_an_unusable_state_file_is_one_clear_error(tmp_path, damage):
    state = tmp_path / "s.sqlite"
    if damage == "random bytes":
        state.write_bytes(os.urandom(8192))
    else:
        write_state(state)
        data = state.read_bytes()
        if damage == "truncated":
            state.write_bytes(data[:len(data) // 2])
        elif damage == "empty header":
            state.write_bytes(data[:40])
        else:  # overwrite the b-tree header of the second page: the file header still looks fine
            page_size = int.from_bytes(data[16:18], "big")
            state.write_bytes(data[:page_size] + b"\xff" * 64 + data[page_size + 64:])
    emulator = Emulator(state)
    with pytest.raises(StateFileError) as excinfo:
        emulator.start()
    message = str(excinfo.value)
    assert str(state) in message and "delete" in message
    assert "\n" not in message
    assert excinfo.value.path == str(state)
    assert emulator.app is None or emulator._server is None  # nothing was served


def test_a_directory_in_place_of_the_state_file_is_a_clear_error(tmp_path):
    state = tmp_path / "s.sqlite"
    state.mkdir()
    with pytest.raises(StateFileError, match="not a file"):
        Emulator(state).start()
