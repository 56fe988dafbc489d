"""Lazy public exports shared by ``b3n`` and the two facades (PEP 562 module ``__getattr__``).

Importing a facade stays cheap: a public name's module is imported on first access.

Example:
    >>> namespace = {"__name__": "demo"}
    >>> resolve_lazy(namespace, {"sqrt": "math"}, "sqrt")(16.0)
    4.0
    >>> namespace["sqrt"](9.0)
    3.0
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

#: the error classes every facade re-exports from ``b3n``.
ERROR_NAMES: tuple[str, ...] = (
    "B3nError", "B3nAPIStatusError", "B3nAuthenticationError", "B3nBadRequestError", "B3nConfigurationError",
    "B3nConflictError", "B3nConnectionError", "B3nCrossOriginRedirectError", "B3nInsufficientQuotaError",
    "B3nInvalidRequestError", "B3nModelNotAvailableError", "B3nNotFoundError", "B3nPermissionDeniedError",
    "B3nPossiblyBilledError", "B3nRateLimitError", "B3nResponseError", "B3nServerError", "B3nStreamInterruptedError",
    "B3nStreamTimeoutError", "B3nTimeoutError", "B3nLimiterTimeoutError",
)

#: the core types a facade user gets back from public calls (``llm.catalog_info()``, ``llm.client.images``,
#: ``client.audio.transcribe``, ``client.account.whoami``, an error's ``.partial``, ...), re-exported by both facades.
RETURNED_TYPE_NAMES: tuple[str, ...] = (
    "AccountInfo", "B3nConfig", "ChatChunk", "ChatCompletion", "EmbeddingResponse", "GeneratedImage", "ImageResult",
    "ModelEntry", "ModelInfo", "ToolCall", "Transcription", "TranscriptionSegment", "TranscriptionWord", "Usage",
)


def facade_exports(own: Mapping[str, str]) -> dict[str, str]:
    """A facade's lazy table: its ``own`` names, then the core errors and returned types (from ``b3n``)."""
    return {**own, **dict.fromkeys(ERROR_NAMES, "b3n"), **dict.fromkeys(RETURNED_TYPE_NAMES, "b3n")}


def resolve_lazy(namespace: dict[str, Any], exports: Mapping[str, str], name: str) -> Any:
    """Import ``name`` from its module in ``exports``, cache it in ``namespace`` and return it."""
    module = exports.get(name)
    if module is None:
        raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    namespace[name] = value
    return value
