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

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from _b3n._exports import ERROR_NAMES, resolve_lazy
from _b3n._version import __version__

if TYPE_CHECKING:
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

_LAZY = {
    "MODELS": "_b3n.catalog",
    "ModelInfo": "_b3n.catalog",
    "get_model_info": "_b3n.catalog",
    "AsyncB3nClient": "_b3n.client",
    "B3nClient": "_b3n.client",
    "B3nConfig": "_b3n.config",
    "resolve_config": "_b3n.config",
    "B3nStreamTimeoutError": "_b3n.transport",
}
_LAZY.update(dict.fromkeys((n for n in ERROR_NAMES if n != "B3nStreamTimeoutError"), "_b3n.errors"))

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    """Import public names on first use, so ``import _b3n`` (and the facades) stay cheap."""
    return resolve_lazy(globals(), _LAZY, name)


def __dir__() -> list[str]:
    return __all__
