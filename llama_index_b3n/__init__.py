"""LlamaIndex integration for B3n-AI: the ``B3n`` LLM, ``B3nEmbedding``, ``B3nToolSpec`` and an audio reader.

Names are imported lazily, so ``import llama_index_b3n`` stays cheap.

Example:
    >>> from llama_index_b3n import B3n
    >>> llm = B3n(model="gemini-1.5-pro-latest")   # no key needed until the first call
    >>> llm.metadata.is_function_calling_model
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from b3n import _exports
from b3n._exports import facade_exports, resolve_lazy
from b3n._version import __version__

if TYPE_CHECKING:
    from b3n._client import AsyncB3nClient, B3nClient
    from b3n._errors import B3nStructuredOutputError
    from b3n._exports import *  # noqa: F403  (the errors and returned types every facade re-exports)
    from b3n._tokens import B3nTokenizer
    from b3n.testing import Emulator
    from llama_index_b3n.callbacks import B3nCostHandler
    from llama_index_b3n.embeddings import B3nEmbedding
    from llama_index_b3n.llms import B3n
    from llama_index_b3n.readers import B3nAudioReader
    from llama_index_b3n.tools import B3nToolSpec

_LAZY = facade_exports({
    "B3n": "llama_index_b3n.llms",
    "B3nEmbedding": "llama_index_b3n.embeddings",
    "B3nToolSpec": "llama_index_b3n.tools",
    "B3nAudioReader": "llama_index_b3n.readers",
    "B3nCostHandler": "llama_index_b3n.callbacks",
    "B3nClient": "b3n",
    "B3nTokenizer": "b3n",
    "AsyncB3nClient": "b3n",
    "Emulator": "b3n.testing",
    "B3nStructuredOutputError": "b3n",
})

__all__ = [
    "AsyncB3nClient",
    "B3n",
    "B3nAudioReader",
    "B3nClient",
    "B3nCostHandler",
    "B3nEmbedding",
    "B3nStructuredOutputError",
    "B3nTokenizer",
    "B3nToolSpec",
    "Emulator",
    "__version__",
]
__all__ += _exports.__all__


def __getattr__(name: str) -> Any:
    return resolve_lazy(globals(), _LAZY, name)


def __dir__() -> list[str]:
    return __all__
