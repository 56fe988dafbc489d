"""Cost tracking for LangChain: ``with get_b3n_callback() as cb:`` adds up what every B3n call costs.

Every ``ChatB3n`` reply (and the last chunk of every stream) carries its cost in
``response_metadata["cost"]``: prompt, completion, cached, cache-write and reasoning tokens, quota units,
US dollars and where the price came from (the relay's ``GET /api/pricing`` where it serves one, else the
catalog's dated defaults). The handler sums those, per model and in total; it is thread- and async-safe
and also sees calls made inside agents, chains and ``batch``.

Example (offline, against the bundled emulator):
    >>> from b3n.testing import Emulator
    >>> from langchain_b3n import ChatB3n
    >>> with Emulator() as emu:
    ...     llm = ChatB3n(model="gpt-4o-mini", api_key="sk-test", base_url=emu.base_url)
    ...     with get_b3n_callback() as cb:
    ...         _ = llm.invoke("What is 12 * 7?")
    ...         _ = llm.batch(["say 1", "say 2"])
    >>> cb.successful_requests, cb.total_cost > 0, list(cb.by_model())
    (3, True, ['gpt-4o-mini'])
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import ChatGeneration, LLMResult
from langchain_core.tracers.context import register_configure_hook

from b3n._cost import CostTracker, ModelCost


class B3nCostCallbackHandler(BaseCallbackHandler, CostTracker):
    """A LangChain callback handler that adds up the cost of B3n calls (see :func:`get_b3n_callback`).

    Attributes mirror ``OpenAICallbackHandler``: ``total_tokens``, ``prompt_tokens``, ``completion_tokens``,
    ``cached_tokens``, ``reasoning_tokens``, ``successful_requests``, ``total_cost`` (US dollars), plus
    ``total_quota`` (relay quota units), ``cache_creation_tokens`` and ``by_model()``.
    """

    raise_error = False
    run_inline = True

    def __init__(self) -> None:
        BaseCallbackHandler.__init__(self)
        CostTracker.__init__(self)

    def __repr__(self) -> str:
        return self.summary()

    @property
    def always_verbose(self) -> bool:
        return True

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        for generations in response.generations:
            for generation in generations:
                if not isinstance(generation, ChatGeneration):
                    continue
                cost = generation.message.response_metadata.get("cost")
                if isinstance(cost, dict) and "quota" in cost:
                    self.add(cost)

    def __copy__(self) -> B3nCostCallbackHandler:
        return self  # one tracker per ``with`` block, shared by every run that inherits it

    def __deepcopy__(self, memo: Any) -> B3nCostCallbackHandler:
        return self


_b3n_callback: ContextVar[B3nCostCallbackHandler | None] = ContextVar("b3n_cost_callback", default=None)
register_configure_hook(_b3n_callback, inheritable=True)


@contextmanager
def get_b3n_callback() -> Iterator[B3nCostCallbackHandler]:
    """Track the cost of every B3n chat call made inside the ``with`` block (threads and tasks included)."""
    handler = B3nCostCallbackHandler()
    token = _b3n_callback.set(handler)
    try:
        yield handler
    finally:
        _b3n_callback.reset(token)


__all__ = ["B3nCostCallbackHandler", "ModelCost", "get_b3n_callback"]
