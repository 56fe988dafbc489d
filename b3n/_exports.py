"""Lazy public exports shared by ``b3n`` and the two facades (PEP 562 module ``__getattr__``).

Importing a facade stays cheap: a public name's module is imported on first access.

Example:
    >>> namespace = {"__name__": "demo"}
    >>> resolve_lazy(namespace, {"sqrt": "math"}, "sqrt")(16.0)
    4.0
    >>> namespace["sqrt"](9.0)
    3.0
"""

# ruff: noqa: F405  (``__all__`` names what type checkers get through ``from b3n import *`` below)

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from b3n import *  # noqa: F403  (what type checkers see of the names below: b3n's own imports)

#: The core names every facade (``b3n``, ``langchain_b3n``, ``llama_index_b3n``) re-exports: the errors, and the
#: types a facade user gets back from public calls (``llm.catalog_info()``, ``llm.client.images``,
#: ``client.audio.transcribe``, ``client.account.whoami``, an error's ``.partial``, ...). Written once: each facade
#: adds them with ``__all__ += _exports.__all__`` and the two adapters import them for type checkers with
#: ``from b3n._exports import *`` under ``TYPE_CHECKING`` (both forms mypy and pyright read as re-exports); at run
#: time each is imported on first use, from ``b3n``. This module's own helpers below are not in it.
__all__ = [
    "AccountInfo", "B3nAPIStatusError", "B3nAuthenticationError", "B3nBadRequestError", "B3nConfig",
    "B3nConfigurationError", "B3nConflictError", "B3nConnectionError", "B3nCrossOriginRedirectError", "B3nError",
    "B3nInsufficientQuotaError", "B3nInvalidRequestError", "B3nLimiterTimeoutError", "B3nModelNotAvailableError",
    "B3nNotFoundError", "B3nPermissionDeniedError", "B3nPossiblyBilledError", "B3nRateLimitError",
    "B3nResponseError", "B3nServerError", "B3nStreamInterruptedError", "B3nStreamTimeoutError", "B3nTimeoutError",
    "ChatChunk", "ChatCompletion", "EmbeddingResponse", "GeneratedImage", "ImageResult", "ModelEntry", "ModelInfo",
    "ToolCall", "Transcription", "TranscriptionSegment", "TranscriptionWord", "Usage",
]
#: the error classes among them (all in ``b3n._errors``).
ERROR_NAMES: tuple[str, ...] = tuple(name for name in __all__ if name.endswith("Error"))
#: the returned types among them (no settings, no credentials).
RETURNED_TYPE_NAMES: tuple[str, ...] = tuple(name for name in __all__ if name not in ERROR_NAMES)


def facade_exports(own: Mapping[str, str]) -> dict[str, str]:
    """A facade's lazy table: its ``own`` names, then the core names every facade re-exports (from ``b3n``)."""
    return {**own, **dict.fromkeys(__all__, "b3n")}


def resolve_lazy(namespace: dict[str, Any], exports: Mapping[str, str], name: str) -> Any:
    """Import ``name`` from its module in ``exports``, cache it in ``namespace`` and return it."""
    module = exports.get(name)
    if module is None:
        raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    namespace[name] = value
    return value
