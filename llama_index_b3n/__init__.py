"""LlamaIndex integration for B3n-AI: the ``B3n`` LLM, ``B3nEmbedding``, ``B3nToolSpec`` and an audio reader.

Names are imported lazily, so ``import llama_index_b3n`` stays cheap.

Example:
    >>> from llama_index_b3n import B3n
    >>> llm = B3n(model="gemini-1.5-pro-latest")   # no key needed until the first call
    >>> llm.metadata.is_function_calling_model
    True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from _b3n._version import __version__

if TYPE_CHECKING:
    from _b3n.client import AsyncB3nClient, B3nClient
    from _b3n.emulator import Emulator
    from llama_index_b3n.embeddings import B3nEmbedding
    from llama_index_b3n.llms import B3n
    from llama_index_b3n.readers import B3nAudioReader
    from llama_index_b3n.tools import B3nToolSpec

_LAZY = {
    "B3n": "llama_index_b3n.llms",
    "B3nEmbedding": "llama_index_b3n.embeddings",
    "B3nToolSpec": "llama_index_b3n.tools",
    "B3nAudioReader": "llama_index_b3n.readers",
    "B3nClient": "_b3n",
    "AsyncB3nClient": "_b3n",
    "Emulator": "_b3n.emulator",
}
_ERRORS = (
    "B3nError",
    "B3nAPIStatusError",
    "B3nAuthenticationError",
    "B3nBadRequestError",
    "B3nConfigurationError",
    "B3nConflictError",
    "B3nConnectionError",
    "B3nInsufficientQuotaError",
    "B3nInvalidRequestError",
    "B3nModelNotAvailableError",
    "B3nNotFoundError",
    "B3nPermissionDeniedError",
    "B3nRateLimitError",
    "B3nResponseError",
    "B3nServerError",
    "B3nStreamInterruptedError",
    "B3nStreamTimeoutError",
    "B3nTimeoutError",
)
_LAZY.update(dict.fromkeys(_ERRORS, "_b3n"))

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'llama_index_b3n' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
