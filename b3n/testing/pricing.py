"""The relay's price list (new-api ``GET /api/pricing``) and a record of the usage the emulator billed.

The body has new-api's shape (``Calcium-Ion/new-api@ef8ae4db`` ``controller/pricing.go`` and
``model/pricing.go``): ``{"success": true, "data": [{"model_name", "quota_type", "model_ratio",
"model_price", "owner_by", "completion_ratio", "enable_groups"}], "group_ratio": {...},
"usable_group": {...}}``. ``Emulator.pricing`` holds the rows (edit them, or set it to None to answer 404
like one-api, which has no such route); ``Emulator.group_ratio`` the group ratios; ``Emulator.billing``
records the model and ``usage`` of every chat response served, so tests can check cost reports.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

from .catalog import MODELS, owner_of

# model -> (model_ratio, completion_ratio): deliberately not the vendors' list prices, so a test can tell
# a client that read this list from one that used its own defaults.
_RATIOS: dict[str, tuple[float, float]] = {
    "gpt-3.5-turbo": (0.3, 3),
    "gpt-4": (16, 2),
    "gpt-4-turbo": (6, 3),
    "gpt-4o": (1.5, 4),
    "gpt-4o-mini": (0.1, 4),
    "o1-preview": (8, 4),
    "o1-mini": (0.6, 4),
    "gpt-4-all": (16, 2),
    "gpt-4o-all": (1.5, 4),
    "gpts": (16, 2),
    "search-gpts": (16, 2),
    "claude-3-opus-latest": (8, 5),
    "claude-3-5-sonnet-latest": (2, 5),
    "claude-3-5-haiku-latest": (0.5, 5),
    "gemini-1.5-flash-latest": (0.05, 4),
    "gemini-1.5-pro-latest": (0.7, 4),
    "text-embedding-ada-002": (0.05, 1),
    "text-embedding-3-small": (0.01, 1),
    "text-embedding-3-large": (0.07, 1),
}
_PER_CALL: dict[str, float] = {"dall-e-3": 0.05, "tts-1": 0.02, "tts-1-hd": 0.03, "whisper-1": 0.01}


def default_pricing() -> list[dict[str, Any]]:
    """One row per emulator model, in new-api's ``Pricing`` shape."""
    rows = []
    for model in MODELS:
        row: dict[str, Any] = {"model_name": model, "owner_by": owner_of(model), "enable_groups": ["default"]}
        if model in _PER_CALL:
            row.update(quota_type=1, model_price=_PER_CALL[model], model_ratio=0, completion_ratio=0)
        else:
            ratio, completion = _RATIOS.get(model, (1.0, 1.0))
            row.update(quota_type=0, model_price=0, model_ratio=ratio, completion_ratio=completion)
        rows.append(row)
    return rows


def pricing_body(rows: list[dict[str, Any]], group_ratio: dict[str, float]) -> dict[str, Any]:
    return {
        "success": True,
        "data": rows,
        "group_ratio": dict(group_ratio),
        "usable_group": {name: name for name in group_ratio},
    }


@dataclass(frozen=True)
class BilledCall:
    """One chat response the emulator served: the requested model and the ``usage`` object it sent."""

    model: str
    usage: dict[str, Any]


class Billing:
    """Thread-safe record of the usage of every successful chat response."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[BilledCall] = []

    def record(self, request: Any, pieces: list[bytes]) -> None:
        """Find the ``usage`` object in a served JSON body or SSE stream and remember it."""
        model = request.get("model") if isinstance(request, dict) else None
        if not isinstance(model, str):
            return
        usage = None
        for piece in pieces:
            for line in piece.split(b"\n"):
                text = line[len(b"data: "):] if line.startswith(b"data: ") else line
                if not text.strip().startswith(b"{"):
                    continue
                try:
                    obj = json.loads(text)
                except ValueError:
                    continue
                if isinstance(obj, dict) and isinstance(obj.get("usage"), dict):
                    usage = obj["usage"]
        if usage is not None:
            with self._lock:
                self._calls.append(BilledCall(model, usage))

    @property
    def calls(self) -> list[BilledCall]:
        with self._lock:
            return list(self._calls)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()
