"""ARM's per-subscription token buckets (ARM-FACTS §8). Kept in memory: a
restart refills the buckets, as a quiet minute would."""
from __future__ import annotations

import math
import threading

from provisioner.emulator.arm import PRINCIPAL_ID
from provisioner.emulator.errors import ArmError

CATEGORY = {"GET": "reads", "HEAD": "reads", "DELETE": "deletes"}  # everything else writes


class Buckets:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[tuple[str, str], tuple[float, float]] = {}  # (subscription, bucket) -> (tokens, at)

    def reset(self) -> None:
        with self._lock:
            self._state.clear()

    def take(self, config: dict, subscription: str, method: str, now: float) -> dict[str, str]:
        """Spend a token; return the x-ms-ratelimit headers, or raise 429 when the bucket is empty."""
        category = CATEGORY.get(method, "writes")
        size, refill = config[category]
        factor = config.get("global_factor", 15)
        if not config.get("enabled"):
            # ARM always sends the headers; unthrottled, every request sees a full bucket
            # (a client pacing itself on them must not slow down).
            return _headers(category, size - 1, size * factor - 1)
        with self._lock:
            local = self._spend((subscription, category), size, refill, now)
            global_ = self._spend((subscription, "global-" + category), size * factor, refill * factor, now)
        if local < 0 or global_ < 0:
            wait = max(1, math.ceil(1 / refill))
            raise ArmError(429, "SubscriptionRequestsThrottled",
                           f"Number of '{category[:-1]}' requests for subscription '{subscription}' actor "
                           f"'{PRINCIPAL_ID}' exceeded. Please try again after '{wait}' seconds after additional "
                           "tokens are available. Refer to https://aka.ms/arm-throttling for additional information.",
                           headers={"Retry-After": str(wait)})
        return _headers(category, local, global_)

    def _spend(self, key: tuple[str, str], size: float, refill: float, now: float) -> float:
        tokens, at = self._state.get(key, (size, now))
        tokens = min(size, tokens + (now - at) * refill)
        if tokens >= 1:
            tokens -= 1
            self._state[key] = (tokens, now)
            return tokens
        self._state[key] = (tokens, now)
        return -1


def _headers(category: str, local: float, global_: float) -> dict[str, str]:
    return {f"x-ms-ratelimit-remaining-subscription-{category}": str(int(local)),
            f"x-ms-ratelimit-remaining-subscription-global-{category}": str(int(global_))}
