"""LangChain integration for B3n-AI: ``ChatB3n``, ``B3nEmbeddings`` and media tools.

Names are imported lazily, so ``import langchain_b3n`` stays cheap.

Example:
    >>> from langchain_b3n import ChatB3n
    >>> llm = ChatB3n(model="claude-3-5-sonnet-latest")   # no key needed until the first call
    >>> llm.model_name
    'claude-3-5-sonnet-latest'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from b3n import _exports
from b3n._exports import facade_exports, resolve_lazy
from b3n._version import __version__

if TYPE_CHECKING:
    from b3n._client import AsyncB3nClient, B3nClient
    from b3n._exports import *  # noqa: F403  (the errors and returned types every facade re-exports)
    from b3n.testing import Emulator
    from langchain_b3n.callbacks import B3nCostCallbackHandler, get_b3n_callback
    from langchain_b3n.chat_models import ChatB3n
    from langchain_b3n.document_loaders import B3nAudioLoader, B3nWhisperParser
    from langchain_b3n.embeddings import B3nEmbeddings
    from langchain_b3n.errors import B3nStructuredOutputWarning, B3nToolInputError
    from langchain_b3n.tools import B3nImageGeneration, B3nSpeechToText, B3nTextToSpeech

_LAZY = facade_exports({
    "ChatB3n": "langchain_b3n.chat_models",
    "B3nEmbeddings": "langchain_b3n.embeddings",
    "B3nImageGeneration": "langchain_b3n.tools",
    "B3nTextToSpeech": "langchain_b3n.tools",
    "B3nSpeechToText": "langchain_b3n.tools",
    "B3nWhisperParser": "langchain_b3n.document_loaders",
    "B3nAudioLoader": "langchain_b3n.document_loaders",
    "get_b3n_callback": "langchain_b3n.callbacks",
    "B3nCostCallbackHandler": "langchain_b3n.callbacks",
    "B3nClient": "b3n",
    "AsyncB3nClient": "b3n",
    "Emulator": "b3n.testing",
    "B3nStructuredOutputWarning": "langchain_b3n.errors",
    "B3nToolInputError": "langchain_b3n.errors",
})

__all__ = [
    "AsyncB3nClient",
    "B3nAudioLoader",
    "B3nClient",
    "B3nCostCallbackHandler",
    "B3nEmbeddings",
    "B3nImageGeneration",
    "B3nSpeechToText",
    "B3nStructuredOutputWarning",
    "B3nTextToSpeech",
    "B3nToolInputError",
    "B3nWhisperParser",
    "ChatB3n",
    "Emulator",
    "__version__",
    "get_b3n_callback",
]
__all__ += _exports.__all__


def __getattr__(name: str) -> Any:
    return resolve_lazy(globals(), _LAZY, name)


def __dir__() -> list[str]:
    return __all__
