"""Errors and exit codes shared by every layer.

Expected failures are ProvisionerError subclasses: the CLI prints them as one
line (plus a hint) and exits with ExitCode.ERROR. Anything else is a bug and
gets a traceback only with --debug.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    CHANGES = 2  # only with `plan --detailed-exitcode`


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a spec file, located for the user."""

    file: str
    line: int | None
    column: int | None
    path: str  # field path, e.g. "accounts[0].deployments[1].capacity"
    message: str
    severity: str = "error"  # error | warning

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        field = f" {self.path}:" if self.path else ""
        severity = " warning:" if self.severity == "warning" else ""
        return f"{where}:{field}{severity} {self.message}"


class ProvisionerError(Exception):
    """Root of every expected error. `hint` tells the user what to do next."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class SpecError(ProvisionerError, ValueError):
    """The spec file is invalid; carries every problem found, not just the first."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = list(diagnostics)
        errors = [d for d in self.diagnostics if d.severity == "error"]
        super().__init__(f"{len(errors)} error(s) in spec:\n" + "\n".join(str(d) for d in errors))


class AzureReadError(ProvisionerError):
    """Reading live state failed (auth, network, permissions)."""


class PlanError(ProvisionerError):
    """The plan cannot be made or would be unsafe (quota, prevent_destroy, soft-deleted account)."""


class PlanStaleError(ProvisionerError):
    """A saved plan no longer matches the spec or live Azure."""


class ApplyError(ProvisionerError):
    """Applying failed; per-change outcomes are reported separately."""


class TransientError(ProvisionerError):
    """Worth retrying (409 RequestConflict, 429, 5xx, dropped connection)."""

    def __init__(self, message: str, *, delay: float | None = None, code: str | None = None,
                 failed_operation: bool = False):
        super().__init__(message)
        self.delay = delay
        self.code = code
        self.failed_operation = failed_operation  # an operation ended Failed; writing again may repair it


class PermanentError(ProvisionerError):
    """Retrying will not help; the message says what the user can do."""

    def __init__(self, message: str, *, code: str | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.code = code
