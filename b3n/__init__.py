"""``b3n``: the B3n-AI client core of b3n-integrations (imports neither LangChain nor LlamaIndex).

Everything that is true of B3n whatever the framework lives here: configuration, transport,
retries, errors, wire normalisation, the model catalog, chat / embeddings / media / account
calls, and the local emulator (:mod:`b3n.testing`). Modules are private (``b3n._transport``,
...); every class and every type a public call returns is importable from this package, and
``__all__`` below is the whole public surface. ``langchain_b3n`` and ``llama_index_b3n``
re-export what their users need.

Example:
    >>> from b3n import B3nClient, get_model_info
    >>> get_model_info("gpt-4o-mini").image_inputs
    True
    >>> from b3n.testing import Emulator
    >>> with Emulator() as emu:
    ...     client = B3nClient(api_key="sk-test", base_url=emu.base_url)
    ...     client.chat.create("gpt-4o-mini", [{"role": "user", "content": "say 1"}]).content
    '1'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from b3n._exports import ERROR_NAMES, resolve_lazy
from b3n._version import __version__

if TYPE_CHECKING:
    from b3n._account import AccountInfo, AccountService, AsyncAccountService
    from b3n._audio import AsyncAudioService, AudioService
    from b3n._catalog import MODELS, ModelInfo, get_model_info
    from b3n._chat import (
        ChatChunk,
        ChatCompletion,
        ToolCall,
        ToolCallDelta,
        Usage,
    )
    from b3n._chat_service import AsyncChatService, ChatService
    from b3n._client import AsyncB3nClient, B3nClient
    from b3n._config import DEFAULT_BASE_URL, B3nConfig, resolve_config
    from b3n._embeddings import AsyncEmbeddingsService, EmbeddingResponse, EmbeddingsService, EmbeddingUsage
    from b3n._errors import (
        B3nAdaptationWarning,
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
        B3nRelayDataWarning,
        B3nResponseError,
        B3nSecurityWarning,
        B3nServerError,
        B3nStreamInterruptedError,
        B3nStreamTimeoutError,
        B3nStructuredOutputError,
        B3nTimeoutError,
        B3nUnknownModelWarning,
    )
    from b3n._images import (
        AsyncImagesService,
        GeneratedImage,
        ImageQuality,
        ImageResponseFormat,
        ImageResult,
        ImageSize,
        ImagesService,
        ImageStyle,
    )
    from b3n._media_common import default_output_dir
    from b3n._models import AsyncModelsService, ModelEntry, ModelsService
    from b3n._speech import SpeechFormat, Voice
    from b3n._tokens import B3nTokenizer, TokenCounter, token_counter
    from b3n._transcription import (
        TimestampGranularity,
        Transcription,
        TranscriptionFormat,
        TranscriptionSegment,
        TranscriptionWord,
    )

#: public name -> the private module that defines it (imported on first use: ``import b3n`` stays cheap).
_LAZY: dict[str, str] = {
    **dict.fromkeys(("AccountInfo", "AccountService", "AsyncAccountService"), "b3n._account"),
    **dict.fromkeys(("AsyncAudioService", "AudioService"), "b3n._audio"),
    **dict.fromkeys(("AsyncModelsService", "ModelEntry", "ModelsService"), "b3n._models"),
    **dict.fromkeys(("MODELS", "ModelInfo", "get_model_info"), "b3n._catalog"),
    **dict.fromkeys(
        ("ChatChunk", "ChatCompletion", "ToolCall", "ToolCallDelta", "Usage"), "b3n._chat"
    ),
    **dict.fromkeys(("AsyncChatService", "ChatService"), "b3n._chat_service"),
    **dict.fromkeys((
        "B3nAdaptationWarning", "B3nRelayDataWarning", "B3nSecurityWarning", "B3nStructuredOutputError",
        "B3nUnknownModelWarning",
    ), "b3n._errors"),
    **dict.fromkeys(("AsyncB3nClient", "B3nClient"), "b3n._client"),
    **dict.fromkeys(("DEFAULT_BASE_URL", "B3nConfig", "resolve_config"), "b3n._config"),
    **dict.fromkeys(
        ("AsyncEmbeddingsService", "EmbeddingResponse", "EmbeddingUsage", "EmbeddingsService"), "b3n._embeddings"
    ),
    **dict.fromkeys(ERROR_NAMES, "b3n._errors"),
    **dict.fromkeys(
        (
            "AsyncImagesService", "GeneratedImage", "ImageQuality", "ImageResponseFormat", "ImageResult", "ImageSize",
            "ImageStyle", "ImagesService",
        ),
        "b3n._images",
    ),
    **dict.fromkeys(("SpeechFormat", "Voice"), "b3n._speech"),
    "default_output_dir": "b3n._media_common",
    **dict.fromkeys(
        ("TimestampGranularity", "Transcription", "TranscriptionFormat", "TranscriptionSegment", "TranscriptionWord"),
        "b3n._transcription",
    ),
    **dict.fromkeys(("B3nTokenizer", "TokenCounter", "token_counter"), "b3n._tokens"),
}

__all__ = [
    "DEFAULT_BASE_URL",
    "MODELS",
    "AccountInfo",
    "AccountService",
    "AsyncAccountService",
    "AsyncAudioService",
    "AsyncB3nClient",
    "AsyncChatService",
    "AsyncEmbeddingsService",
    "AsyncImagesService",
    "AsyncModelsService",
    "AudioService",
    "B3nAPIStatusError",
    "B3nAdaptationWarning",
    "B3nAuthenticationError",
    "B3nBadRequestError",
    "B3nClient",
    "B3nConfig",
    "B3nConfigurationError",
    "B3nConflictError",
    "B3nConnectionError",
    "B3nCrossOriginRedirectError",
    "B3nError",
    "B3nInsufficientQuotaError",
    "B3nInvalidRequestError",
    "B3nLimiterTimeoutError",
    "B3nModelNotAvailableError",
    "B3nNotFoundError",
    "B3nPermissionDeniedError",
    "B3nPossiblyBilledError",
    "B3nRateLimitError",
    "B3nRelayDataWarning",
    "B3nResponseError",
    "B3nSecurityWarning",
    "B3nServerError",
    "B3nStreamInterruptedError",
    "B3nStreamTimeoutError",
    "B3nStructuredOutputError",
    "B3nTimeoutError",
    "B3nTokenizer",
    "B3nUnknownModelWarning",
    "ChatChunk",
    "ChatCompletion",
    "ChatService",
    "EmbeddingResponse",
    "EmbeddingUsage",
    "EmbeddingsService",
    "GeneratedImage",
    "ImageQuality",
    "ImageResponseFormat",
    "ImageResult",
    "ImageSize",
    "ImageStyle",
    "ImagesService",
    "ModelEntry",
    "ModelInfo",
    "ModelsService",
    "SpeechFormat",
    "TimestampGranularity",
    "TokenCounter",
    "ToolCall",
    "ToolCallDelta",
    "Transcription",
    "TranscriptionFormat",
    "TranscriptionSegment",
    "TranscriptionWord",
    "Usage",
    "Voice",
    "__version__",
    "default_output_dir",
    "get_model_info",
    "resolve_config",
    "token_counter",
]


def __getattr__(name: str) -> Any:
    """Import a public name's private module on first use, so ``import b3n`` (and the facades) stay cheap."""
    return resolve_lazy(globals(), _LAZY, name)


def __dir__() -> list[str]:
    return __all__
