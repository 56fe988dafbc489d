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
from dataclasses import asdict, dataclass
from typing import Any

from b3n._pricing import QUOTA_PER_USD, CallCost

_COUNTS = ("prompt_tokens", "completion_tokens", "cached_tokens", "cache_creation_tokens", "reasoning_tokens", "quota")


@dataclass
class ModelCost:
    """Totals for one model."""

    model: str
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cache_creation_tokens: int = 0
    reasoning_tokens: int = 0
    quota: int = 0
    #: calls whose model had no price (counted in tokens, not in money).
    unpriced_calls: int = 0

    @property
    def usd(self) -> float:
        return self.quota / QUOTA_PER_USD

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "usd": self.usd}


class CostTracker:
    """Thread-safe running totals of call costs (tokens, quota units, US dollars) per model."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: dict[str, ModelCost] = {}

    def add(self, cost: CallCost | Mapping[str, Any]) -> None:
        """Count one call (a :class:`CallCost` or its ``as_dict()``)."""
        data = cost.as_dict() if isinstance(cost, CallCost) else cost
        model = str(data.get("model") or "unknown")
        with self._lock:
            entry = self._models.get(model)
            if entry is None:
                entry = self._models[model] = ModelCost(model)
            entry.calls += 1
            for key in _COUNTS:
                value = data.get(key)
                if isinstance(value, int) and not isinstance(value, bool):
                    setattr(entry, key, getattr(entry, key) + value)
            if data.get("price_source", "unpriced") == "unpriced":
                entry.unpriced_calls += 1

    def reset(self) -> None:
        with self._lock:
            self._models.clear()

    def by_model(self) -> dict[str, ModelCost]:
        """A snapshot of the totals per model."""
        with self._lock:
            return {name: ModelCost(**asdict(entry)) for name, entry in self._models.items()}

    def _sum(self, key: str) -> int:
        with self._lock:
            return sum(getattr(entry, key) for entry in self._models.values())

    @property
    def successful_requests(self) -> int:
        return self._sum("calls")

    @property
    def prompt_tokens(self) -> int:
        return self._sum("prompt_tokens")

    @property
    def completion_tokens(self) -> int:
        return self._sum("completion_tokens")

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def cached_tokens(self) -> int:
        return self._sum("cached_tokens")

    @property
    def cache_creation_tokens(self) -> int:
        return self._sum("cache_creation_tokens")

    @property
    def reasoning_tokens(self) -> int:
        return self._sum("reasoning_tokens")

    @property
    def total_quota(self) -> int:
        return self._sum("quota")

    @property
    def total_cost(self) -> float:
        """US dollars (quota units / 500 000)."""
        return self.total_quota / QUOTA_PER_USD

    @property
    def unpriced_calls(self) -> int:
        return self._sum("unpriced_calls")

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
