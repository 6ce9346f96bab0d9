"""The installed version, from the package metadata (one place: pyproject.toml)."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "aoai-provision"  # the name on the package index; the command is `provision`

try:
    VERSION = version(DISTRIBUTION)
except PackageNotFoundError:  # running from a source tree that was never installed
    VERSION = "0+unknown"
