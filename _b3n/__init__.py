"""``_b3n``: the shared core of b3n-integrations (imports neither LangChain nor LlamaIndex).

Users import from ``langchain_b3n`` or ``llama_index_b3n``; this package holds everything
that is true of B3n whatever the framework: configuration, transport, retries, errors,
wire normalisation, the model catalog, chat / embeddings / media / account calls, and the
local emulator (``_b3n.emulator``).

Example:
    >>> from _b3n import B3nClient, get_model_info
    >>> get_model_info("gpt-4o-mini").image_inputs
    True
"""

from _b3n._version import __version__
from _b3n.catalog import MODELS, ModelInfo, get_model_info
from _b3n.client import AsyncB3nClient, B3nClient
from _b3n.config import B3nConfig, resolve_config
from _b3n.errors import (
    B3nAPIStatusError,
    B3nAuthenticationError,
    B3nBadRequestError,
    B3nConfigurationError,
    B3nConflictError,
    B3nConnectionError,
    B3nError,
    B3nInsufficientQuotaError,
    B3nInvalidRequestError,
    B3nModelNotAvailableError,
    B3nNotFoundError,
    B3nPermissionDeniedError,
    B3nRateLimitError,
    B3nResponseError,
    B3nServerError,
    B3nStreamInterruptedError,
    B3nTimeoutError,
)
from _b3n.transport import B3nStreamTimeoutError

__all__ = [
    "MODELS",
    "AsyncB3nClient",
    "B3nAPIStatusError",
    "B3nAuthenticationError",
    "B3nBadRequestError",
    "B3nClient",
    "B3nConfig",
    "B3nConfigurationError",
    "B3nConflictError",
    "B3nConnectionError",
    "B3nError",
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
    "ModelInfo",
    "__version__",
    "get_model_info",
    "resolve_config",
]
