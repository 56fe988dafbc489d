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

from b3n._exports import facade_exports, resolve_lazy
from b3n._version import __version__

if TYPE_CHECKING:
    from b3n._account import AccountInfo
    from b3n._catalog import ModelInfo
    from b3n._chat import ChatChunk, ChatCompletion, ToolCall, Usage
    from b3n._client import AsyncB3nClient, B3nClient
    from b3n._config import B3nConfig
    from b3n._embeddings import EmbeddingResponse
    from b3n._errors import (
        B3nAPIStatusError,
        B3nAuthenticationError,
        B3nBadRequestError,
        B3nConfigurationError,
        B3nConflictError,
        B3nConnectionError,
        B3nCrossOriginRedirectError,
        B3nError,
        B3nInsufficientQuotaError,
        B3nInvalidRequestError,
        B3nLimiterTimeoutError,
        B3nModelNotAvailableError,
        B3nNotFoundError,
        B3nPermissionDeniedError,
        B3nPossiblyBilledError,
        B3nRateLimitError,
        B3nResponseError,
        B3nServerError,
        B3nStreamInterruptedError,
        B3nStreamTimeoutError,
        B3nTimeoutError,
    )
    from b3n._images import GeneratedImage, ImageResult
    from b3n._models import ModelEntry
    from b3n._transcription import Transcription, TranscriptionSegment, TranscriptionWord
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
    "AccountInfo",
    "AsyncB3nClient",
    "B3nAPIStatusError",
    "B3nAudioLoader",
    "B3nAuthenticationError",
    "B3nBadRequestError",
    "B3nClient",
    "B3nConfig",
    "B3nConfigurationError",
    "B3nConflictError",
    "B3nConnectionError",
    "B3nCostCallbackHandler",
    "B3nCrossOriginRedirectError",
    "B3nEmbeddings",
    "B3nError",
    "B3nImageGeneration",
    "B3nInsufficientQuotaError",
    "B3nInvalidRequestError",
    "B3nLimiterTimeoutError",
    "B3nModelNotAvailableError",
    "B3nNotFoundError",
    "B3nPermissionDeniedError",
    "B3nPossiblyBilledError",
    "B3nRateLimitError",
    "B3nResponseError",
    "B3nServerError",
    "B3nSpeechToText",
    "B3nStreamInterruptedError",
    "B3nStreamTimeoutError",
    "B3nStructuredOutputWarning",
    "B3nTextToSpeech",
    "B3nTimeoutError",
    "B3nToolInputError",
    "B3nWhisperParser",
    "ChatB3n",
    "ChatChunk",
    "ChatCompletion",
    "EmbeddingResponse",
    "Emulator",
    "GeneratedImage",
    "ImageResult",
    "ModelEntry",
    "ModelInfo",
    "ToolCall",
    "Transcription",
    "TranscriptionSegment",
    "TranscriptionWord",
    "Usage",
    "__version__",
    "get_b3n_callback",
]


def __getattr__(name: str) -> Any:
    return resolve_lazy(globals(), _LAZY, name)


def __dir__() -> list[str]:
    return __all__
