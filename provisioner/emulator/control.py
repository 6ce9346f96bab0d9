"""The control surface for tests and benchmarks, as a Python API.

The same actions are served over HTTP under /_emulator/ (see app.py):
POST reset, PUT quota, PATCH config, POST/DELETE faults, GET/DELETE requests.
"""
from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from provisioner.emulator import faults
from provisioner.emulator.arm import Config

if TYPE_CHECKING:
    from provisioner.emulator.app import EmulatorApp


class Control:
    def __init__(self, app: "EmulatorApp"):
        self._app = app
        self._store = app.store

    def reset(self) -> None:
        """Forget every resource, operation, quota limit and fault; keep config and token."""
        self._store.reset()
        self._app.buckets.reset()
        self.clear_requests()

    def set_quota(self, subscription: str, region: str, usage_name: str, limit: int) -> None:
        with self._store.transaction():
            self._store.set_quota_limit(subscription, region.replace(" ", "").lower(), usage_name, limit)

    def configure(self, *, lro_durations: dict[str, float] | None = None, retry_after: int | None = None,
                  latency: float | None = None, throttle: dict[str, Any] | None = None,
                  catalog_date: str | None = None, retail_prices_page_size: int | None = None) -> dict:
        """Change behaviour; returns the whole configuration. lro_durations are merged key by key
        ("deployments.create": 5, "default": 0); throttle keys too ({"enabled": False})."""
        with self._store.transaction():
            config = self._app.config()
            if lro_durations is not None:
                config.lro_durations = {**config.lro_durations, **lro_durations}
            if retry_after is not None:
                config.retry_after = int(retry_after)
            if latency is not None:
                config.latency = float(latency)
            if throttle is not None:
                config.throttle = {**config.throttle, **throttle}
            if catalog_date is not None:
                config.catalog_date = catalog_date or None  # "" goes back to today
            if retail_prices_page_size is not None:
                config.retail_prices_page_size = max(1, int(retail_prices_page_size))
            self._store.set_setting("config", asdict(config))
            return asdict(config)

    def config(self) -> Config:
        with self._store.transaction():
            return self._app.config()

    def inject_fault(self, kind: str = "status", *, method: str | None = None, path: str | None = None,
                     times: int | None = 1, probability: float | None = None, status: int = 500,
                     code: str | None = None, message: str | None = None, retry_after: int | None = None) -> int:
        """kind: "status" (answer with `status`, e.g. 429 with retry_after, 409 RequestConflict, 500, 503),
        "drop" (close the connection mid-response), "lro_failed" (the next matching operation ends
        Failed, with `code` and `message` if given), or "commit_drop" / "commit_status" (the request is
        carried out and committed, then the connection is dropped / answered with `status`: a write
        whose answer is lost). Matches `method` and the regular expression `path`; fires `times` times, or at
        `probability` for ever."""
        with self._store.transaction():
            return faults.add(self._store, kind=kind, method=method, path=path, times=times,
                              probability=probability, status=status, code=code, message=message,
                              retry_after=retry_after)

    def clear_faults(self) -> None:
        with self._store.transaction():
            self._store.clear_faults()

    def requests(self) -> dict:
        """Requests served since the last clear: total and counts per "METHOD route-template"."""
        counts = dict(self._app.request_counts)
        return {"total": sum(counts.values()), "counts": counts}

    def clear_requests(self) -> None:
        self._app.request_counts.clear()
