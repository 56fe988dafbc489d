"""Adding up what calls cost, per model and in total, safely from many threads and tasks.

Both framework handlers (LangChain ``get_b3n_callback``, LlamaIndex ``B3nCostHandler``) feed the
per-call costs the core attaches to every reply (``response_metadata["cost"]`` /
``additional_kwargs["cost"]``) into one :class:`CostTracker`.

Example:
    >>> tracker = CostTracker()
    >>> tracker.add({"model": "gpt-4o-mini", "prompt_tokens": 10, "completion_tokens": 5, "quota": 9,
    ...              "usd": 1.8e-05, "price_source": "relay"})
    >>> tracker.successful_requests, tracker.total_tokens, tracker.total_quota, round(tracker.total_cost, 6)
    (1, 15, 9, 1.8e-05)
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from b3n._pricing import COUNT_FIELDS, QUOTA_PER_USD, CallCost, TokenCounts


@dataclass(frozen=True)
class ModelCost(TokenCounts):
    """Totals for one model."""

    calls: int = 0
    #: calls whose model had no price (counted in tokens, not in money).
    unpriced_calls: int = 0

    @property
    def usd(self) -> float:
        return self.quota / QUOTA_PER_USD

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "usd": self.usd}


class _Total:
    """A :class:`CostTracker` attribute: one :class:`ModelCost` field summed over every model."""

    def __init__(self, field: str) -> None:
        self.field = field

    def __get__(self, tracker: CostTracker, owner: type | None = None) -> int:
        return tracker._sum(self.field)

    def __set__(self, tracker: CostTracker, value: object) -> None:
        raise AttributeError(f"{self.field} is a running total; it cannot be set")


class CostTracker:
    """Thread-safe running totals of call costs (tokens, quota units, US dollars) per model."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: dict[str, ModelCost] = {}

    def add(self, cost: CallCost | Mapping[str, Any]) -> None:
        """Count one call (a :class:`CallCost` or its ``as_dict()``)."""
        data = cost.as_dict() if isinstance(cost, CallCost) else cost
        model = str(data.get("model") or "unknown")
        counts = {key: value for key in COUNT_FIELDS
                  if isinstance(value := data.get(key), int) and not isinstance(value, bool)}
        unpriced = data.get("price_source", "unpriced") == "unpriced"
        with self._lock:
            entry = self._models.get(model) or ModelCost(model)
            self._models[model] = replace(
                entry, calls=entry.calls + 1, unpriced_calls=entry.unpriced_calls + unpriced,
                **{key: getattr(entry, key) + value for key, value in counts.items()},
            )

    def reset(self) -> None:
        with self._lock:
            self._models.clear()

    def by_model(self) -> dict[str, ModelCost]:
        """A snapshot of the totals per model."""
        with self._lock:
            return dict(self._models)

    def _sum(self, key: str) -> int:
        with self._lock:
            return sum(getattr(entry, key) for entry in self._models.values())

    successful_requests = _Total("calls")
    prompt_tokens = _Total("prompt_tokens")
    completion_tokens = _Total("completion_tokens")
    cached_tokens = _Total("cached_tokens")
    cache_creation_tokens = _Total("cache_creation_tokens")
    reasoning_tokens = _Total("reasoning_tokens")
    total_quota = _Total("quota")
    unpriced_calls = _Total("unpriced_calls")

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def total_cost(self) -> float:
        """US dollars (quota units / 500 000)."""
        return self.total_quota / QUOTA_PER_USD

    def summary(self) -> str:
        lines = [
            f"Tokens Used: {self.total_tokens}",
            f"\tPrompt Tokens: {self.prompt_tokens}",
            f"\t\tPrompt Tokens Cached: {self.cached_tokens}",
            f"\t\tPrompt Tokens Cache Writes: {self.cache_creation_tokens}",
            f"\tCompletion Tokens: {self.completion_tokens}",
            f"\t\tReasoning Tokens: {self.reasoning_tokens}",
            f"Successful Requests: {self.successful_requests}",
            f"Quota Units: {self.total_quota}",
            f"Total Cost (USD): ${self.total_cost:.6f}",
        ]
        if self.unpriced_calls:
            lines.append(f"Unpriced calls (no price known for their model): {self.unpriced_calls}")
        return "\n".join(lines)
