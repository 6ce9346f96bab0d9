"""Files the emulator keeps on disk, readable by their owner only.

The state file holds account keys and secret values, the TLS directory the server's
private key, the token file a bearer token: none of them may be readable by other
users of the machine. Files are created 0600 (never widened by the umask and then
narrowed, so no other user can open them in between) and directories 0700.
"""
from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


def private_directory(path: Path) -> Path:
    """`path` (and missing parents) made as 0700; an existing directory is narrowed to 0700 too,
    so only pass directories that belong to the emulator (the state file's own folder is not)."""
    path.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    os.chmod(path, DIRECTORY_MODE)
    return path


def made_directory(path: Path) -> Path:
    """`path` as a directory: folders this call creates are 0700, existing ones are left alone."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        folder.mkdir(mode=DIRECTORY_MODE, exist_ok=True)
        os.chmod(folder, DIRECTORY_MODE)  # mkdir's mode is filtered by the umask
    return path


def write_private(path: Path, data: bytes) -> Path:
    """Write `data` to `path` as a file only its owner can read (0600, also when it existed)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)
        os.write(descriptor, data)
    finally:
        os.close(descriptor)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty (0600) if missing, or narrow an existing file to 0600; keeps its content.
    SQLite then creates the -wal and -shm files with the database file's permissions."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)
    finally:
        os.close(descriptor)
    for companion in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        if companion.exists():
            os.chmod(companion, FILE_MODE)
    return path
