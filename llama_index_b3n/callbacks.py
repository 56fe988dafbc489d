"""Cost tracking for LlamaIndex: ``B3nCostHandler`` adds up what every B3n LLM call costs.

Every ``B3n`` reply (and the last response of every stream) carries its cost in
``additional_kwargs["cost"]``: prompt, completion, cached, cache-write and reasoning tokens, quota units,
US dollars and where the price came from (the relay's ``GET /api/pricing`` where it serves one, else the
catalog's dated defaults). The handler sums those per model and in total, thread- and async-safe.

Example (offline, against the bundled emulator):
    >>> from llama_index.core.callbacks import CallbackManager
    >>> from llama_index_b3n import B3n
    >>> from b3n.testing import Emulator
    >>> cost = B3nCostHandler()
    >>> with Emulator() as emu:
    ...     llm = B3n(model="claude-3-5-sonnet-latest", api_key="sk-test", api_base=emu.base_url,
    ...               callback_manager=CallbackManager([cost]))
    ...     _ = llm.complete("What is 12 * 7?")
    >>> cost.successful_requests, cost.total_cost > 0
    (1, True)
"""

from __future__ import annotations

from typing import Any

from llama_index.core.callbacks.base_handler import BaseCallbackHandler
from llama_index.core.callbacks.schema import CBEventType, EventPayload

from b3n._cost import CostTracker


class B3nCostHandler(BaseCallbackHandler, CostTracker):
    """A LlamaIndex callback handler summing the cost of B3n LLM calls (``Settings.callback_manager`` or per LLM).

    Attributes: ``total_tokens``, ``prompt_tokens``, ``completion_tokens``, ``cached_tokens``,
    ``cache_creation_tokens``, ``reasoning_tokens``, ``successful_requests``, ``total_quota`` (relay quota
    units), ``total_cost`` (US dollars) and ``by_model()``.
    """

    def __init__(self) -> None:
        BaseCallbackHandler.__init__(self, event_starts_to_ignore=[], event_ends_to_ignore=[])
        CostTracker.__init__(self)

    def on_event_start(
        self,
        event_type: CBEventType,
        payload: dict[str, Any] | None = None,
        event_id: str = "",
        parent_id: str = "",
        **kwargs: Any,
    ) -> str:
        return event_id

    def on_event_end(
        self, event_type: CBEventType, payload: dict[str, Any] | None = None, event_id: str = "", **kwargs: Any
    ) -> None:
        if event_type != CBEventType.LLM or not payload:
            return
        response = payload.get(EventPayload.RESPONSE) or payload.get(EventPayload.COMPLETION)
        extra = getattr(response, "additional_kwargs", None)
        cost = extra.get("cost") if isinstance(extra, dict) else None
        if isinstance(cost, dict) and "quota" in cost:
            self.add(cost)

    def start_trace(self, trace_id: str | None = None) -> None:
        return None

    def end_trace(self, trace_id: str | None = None, trace_map: dict[str, list[str]] | None = None) -> None:
        return None

    def __repr__(self) -> str:
        return self.summary()


__all__ = ["B3nCostHandler"]
