"""ARM's error envelope. Exception names follow ARM error codes."""
from __future__ import annotations

from typing import Any


class ArmError(Exception):
    """An error response: {"error": {"code", "message", "details"?}} with an HTTP status."""

    def __init__(self, status: int, code: str, message: str, *,
                 details: list[dict] | None = None, headers: dict[str, str] | None = None,
                 target: str | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}
        self.target = target

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target:
            error["target"] = self.target
        if self.details:
            error["details"] = self.details
        return {"error": error}


def not_found(resource_type: str, name: str, resource_group: str | None = None) -> ArmError:
    # ARM's generic 404 for a missing resource under an existing group.
    where = f" under resource group '{resource_group}'" if resource_group else ""
    return ArmError(404, "ResourceNotFound",
                    f"The Resource '{resource_type}/{name}'{where} was not found. "
                    "For more details please go to https://aka.ms/ARMResourceNotFoundFix")


def resource_group_not_found(resource_group: str) -> ArmError:
    return ArmError(404, "ResourceGroupNotFound", f"Resource group '{resource_group}' could not be found.")


def bad_request(message: str, code: str = "InvalidRequestContent") -> ArmError:
    return ArmError(400, code, message)


def request_conflict(account_id: str) -> ArmError:
    return ArmError(409, "RequestConflict",
                    f"Another operation is being performed on the parent resource '{account_id}'. "
                    "Please try again later.")


class StateFileError(Exception):
    """The emulator's state file cannot be used (not a SQLite database, truncated, or damaged).

    Raised when the emulator starts, so a command fails with one line naming the file and
    what to do, instead of an unexpected error halfway through."""

    def __init__(self, path: str, problem: str):
        self.path = path
        self.problem = problem
        self.hint = (f"delete {path} (and {path}-wal, {path}-shm if present) to start from an empty emulated "
                     "Azure, or restore a copy of it")
        super().__init__(f"the emulator state file {path} is unusable: {problem}; {self.hint}")
