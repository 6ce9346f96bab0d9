"""Provisioned (PTU) deployments: a utilisation model instead of requests and tokens per minute.

Azure's documented behaviour (learn.microsoft.com/azure/ai-foundry/openai/concepts/provisioned-throughput,
"How does the service decide when to send a 429?"), a variation of the leaky bucket:

1. a deployment has a set amount of capacity (its PTUs);
2. a request arriving while utilisation is above 100 % is answered 429 with `retry-after-ms` set to the
   time until utilisation is below 100 %; otherwise its estimated cost (prompt tokens plus `max_tokens`;
   a service estimate when `max_tokens` is unset) is added, so a burst may go just over 100 %;
3. when the request finishes its actual cost replaces the estimate (the difference is added or subtracted);
4. utilisation drains continuously at a rate set by the PTUs deployed.

Throughput per PTU is the sizing table's "input TPM per PTU" with output tokens weighted by the model's
output-to-input ratio (learn.microsoft.com/azure/ai-foundry/openai/how-to/provisioned-throughput-onboarding).
Here 100 % utilisation is what the PTUs process in one rate window (`Config.rate_window`, default 10 s):
the service's own window is not documented, nor is its estimate for an unset `max_tokens` (both guessed).
Answers carry `azure-openai-deployment-utilization` as the benchmarking tool Azure/azure-openai-benchmark
reads it (its format, a percentage, is UNVERIFIED).
"""
from __future__ import annotations

from dataclasses import dataclass

PROVISIONED_SKUS = ("ProvisionedManaged", "GlobalProvisionedManaged", "DataZoneProvisionedManaged", "Provisioned")
# model -> (input tokens per minute per PTU, output-to-input weight), from the sizing table (onboarding doc);
# gpt-4o and gpt-4o-mini: the older doc's "3 input tokens to 1 output token".
THROUGHPUT = {"gpt-4o": (2500, 3), "gpt-4o-mini": (37000, 3), "gpt-4.1": (3000, 4), "gpt-4.1-mini": (14900, 4),
              "gpt-4.1-nano": (59400, 4), "o1": (230, 4), "o3": (3000, 4), "o3-mini": (2500, 4),
              "o4-mini": (5400, 4), "gpt-5": (4750, 8), "gpt-5-mini": (23750, 8)}
DEFAULT_THROUGHPUT = (2500, 4)  # models the table does not list (UNVERIFIED)
UNSET_MAX_TOKENS = 1000  # the service's estimate when a request sets no max_tokens (UNVERIFIED)


def is_provisioned(deployment: dict) -> bool:
    return deployment.get("sku", {}).get("name") in PROVISIONED_SKUS


@dataclass(frozen=True)
class Throughput:
    tokens_per_second: float  # input-token equivalents the PTUs drain per second
    output_weight: float

    @classmethod
    def of(cls, deployment: dict) -> "Throughput":
        model = deployment["properties"]["model"]["name"]
        per_ptu, weight = THROUGHPUT.get(model, DEFAULT_THROUGHPUT)
        return cls(per_ptu * deployment["sku"]["capacity"] / 60.0, weight)

    def cost(self, prompt: int, completion: int | None) -> float:
        return prompt + self.output_weight * (UNSET_MAX_TOKENS if completion is None else completion)


class Utilisation:
    """Per deployment: (level in input-token equivalents, when). 100 % is `window` seconds of throughput."""

    def __init__(self) -> None:
        self._levels: dict[str, tuple[float, float]] = {}

    def level(self, deployment: dict, now: float) -> float:
        level, at = self._levels.get(deployment["id"].lower(), (0.0, now))
        return max(0.0, level - (now - at) * Throughput.of(deployment).tokens_per_second)

    def take(self, deployment: dict, prompt: int, completion: int | None, now: float,
             window: float) -> tuple[float, float]:
        """(seconds to wait, 0 when admitted; utilisation after the request as a fraction of 100 %).
        Admitted requests add their estimated cost, which `settle` later corrects."""
        throughput = Throughput.of(deployment)
        full = throughput.tokens_per_second * window
        level = self.level(deployment, now)
        if level > full:
            return (level - full) / throughput.tokens_per_second, level / full
        level += throughput.cost(prompt, completion)
        self._levels[deployment["id"].lower()] = (level, now)
        return 0.0, level / full

    def settle(self, deployment: dict, estimated: float, actual: float, now: float) -> None:
        """The request finished: its actual cost replaces the estimate."""
        level = self.level(deployment, now) + actual - estimated
        self._levels[deployment["id"].lower()] = (max(0.0, level), now)


def utilisation_header(fraction: float) -> dict[str, str]:
    return {"azure-openai-deployment-utilization": f"{max(0.0, fraction) * 100:.1f}%"}


