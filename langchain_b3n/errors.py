"""B3n errors that are also LangChain's standard model exceptions.

Every error raised by ``langchain_b3n`` classes is an instance of both our ``B3nError``
family (status, code, request id, actionable message) and the matching
``langchain_core.exceptions`` class, so generic LangChain code (``with_retry``,
middleware, fallbacks keyed on ``ModelRateLimitError``) understands it.

Example:
    >>> from b3n import B3nRateLimitError
    >>> from langchain_core.exceptions import ModelRateLimitError
    >>> err = to_langchain_error(B3nRateLimitError("slow down", status_code=429))
    >>> isinstance(err, ModelRateLimitError), isinstance(err, B3nRateLimitError), err.status_code
    (True, True, 429)
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, ParamSpec, TypeVar

from langchain_core.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelRefusalError,
    ModelTimeoutError,
)
from langchain_core.messages import BaseMessage

from b3n import _errors as e
from b3n._errors import B3nStreamTimeoutError

P = ParamSpec("P")
T = TypeVar("T")


class B3nLCAuthenticationError(e.B3nAuthenticationError, ModelAuthenticationError):
    """401 from B3n, as a LangChain ``ModelAuthenticationError``."""


class B3nLCInsufficientQuotaError(e.B3nInsufficientQuotaError, ModelPermissionDeniedError):
    """Quota used up, as a LangChain ``ModelPermissionDeniedError``."""


class B3nLCPermissionDeniedError(e.B3nPermissionDeniedError, ModelPermissionDeniedError):
    """403 from B3n, as a LangChain ``ModelPermissionDeniedError``."""


class B3nLCModelNotAvailableError(e.B3nModelNotAvailableError, ModelNotFoundError):
    """No channel for the model, as a LangChain ``ModelNotFoundError``."""


class B3nLCNotFoundError(e.B3nNotFoundError, ModelNotFoundError):
    """404 from B3n, as a LangChain ``ModelNotFoundError``."""


class B3nLCBadRequestError(e.B3nBadRequestError, ModelInvalidRequestError):
    """400 from B3n, as a LangChain ``ModelInvalidRequestError``."""


class B3nLCInvalidRequestError(e.B3nInvalidRequestError, ModelInvalidRequestError):
    """Input refused before sending, as a LangChain ``ModelInvalidRequestError``."""


class B3nLCConfigurationError(e.B3nConfigurationError, ModelInvalidRequestError):
    """Missing key / bad base_url, as a LangChain ``ModelInvalidRequestError``."""


class B3nLCRateLimitError(e.B3nRateLimitError, ModelRateLimitError):
    """429 after retries, as a LangChain ``ModelRateLimitError``."""


class B3nLCConflictError(e.B3nConflictError, ModelAPIError):
    """408/409 after retries, as a LangChain ``ModelAPIError``."""


class B3nLCServerError(e.B3nServerError, ModelAPIError):
    """5xx after retries, as a LangChain ``ModelAPIError``."""


class B3nLCTimeoutError(e.B3nTimeoutError, ModelTimeoutError):
    """Timeout after retries, as a LangChain ``ModelTimeoutError``."""


class B3nLCLimiterTimeoutError(e.B3nLimiterTimeoutError, ModelTimeoutError):
    """The wait for an adaptive-limiter slot outlasted the deadline; the request was never sent, not retried."""

    is_retryable = False


class B3nLCConnectionError(e.B3nConnectionError, ModelConnectionError):
    """Connection failure after retries, as a LangChain ``ModelConnectionError``."""


class B3nLCResponseError(e.B3nResponseError, ModelAPIError):
    """Unparseable 200 response, as a LangChain ``ModelAPIError`` (not retryable)."""

    is_retryable = False


class B3nLCStreamInterruptedError(e.B3nStreamInterruptedError, ModelAPIError):
    """A stream broke after delivering content (``.partial`` has it); never retried."""

    is_retryable = False


class B3nLCStreamTimeoutError(B3nStreamTimeoutError, ModelTimeoutError):
    """A stream went silent past the idle timeout after delivering content (``.partial``)."""

    is_retryable = False


class B3nLCCrossOriginRedirectError(e.B3nCrossOriginRedirectError, ModelAPIError):
    """The relay redirected to another origin (``.target_origin``); not followed, not retryable."""

    is_retryable = False


class B3nLCPossiblyBilledError(e.B3nPossiblyBilledError, ModelAPIError):
    """A billed call failed after it may have been processed (``.cause``); not retried."""

    is_retryable = False


class B3nLCAPIError(e.B3nAPIStatusError, ModelAPIError):
    """Any other B3n status error, as a LangChain ``ModelAPIError``."""


class B3nLCRefusalError(e.B3nError, ModelRefusalError):
    """The model declined to produce structured output (a ``refusal`` or ``content_filter``); ``raw_message`` has it."""

    def __init__(self, message: str, *, raw_message: BaseMessage | None = None) -> None:
        super().__init__(message)
        self.raw_message = raw_message


class B3nLCError(e.B3nError, ModelError):
    """Any other B3n error, as a LangChain ``ModelError``."""


class B3nStructuredOutputWarning(UserWarning):
    """The requested structured-output method is not honoured by the model; another one is used."""


@functools.cache
def _tool_input_error() -> type[B3nLCInvalidRequestError]:
    # langchain_core.tools costs ~13 ms to import: only code that uses the tools pays it.
    from langchain_core.tools import ToolException

    class B3nToolInputError(B3nLCInvalidRequestError, ToolException):
        """The tool's arguments were refused before sending (empty text, too long, bad size...).

        Also a ``ToolException``, so ``handle_tool_error=True`` hands the message back to the
        model, which can then fix its arguments.
        """

    B3nToolInputError.__module__, B3nToolInputError.__qualname__ = __name__, "B3nToolInputError"
    return B3nToolInputError


def __getattr__(name: str) -> type[B3nLCInvalidRequestError]:
    """``B3nToolInputError``, built on first use (it is also langchain_core's ``ToolException``)."""
    if name == "B3nToolInputError":
        return _tool_input_error()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# most specific first
_MAP: tuple[tuple[type[e.B3nError], type[e.B3nError]], ...] = (
    (B3nStreamTimeoutError, B3nLCStreamTimeoutError),
    (e.B3nStreamInterruptedError, B3nLCStreamInterruptedError),
    (e.B3nInsufficientQuotaError, B3nLCInsufficientQuotaError),
    (e.B3nPermissionDeniedError, B3nLCPermissionDeniedError),
    (e.B3nAuthenticationError, B3nLCAuthenticationError),
    (e.B3nModelNotAvailableError, B3nLCModelNotAvailableError),
    (e.B3nNotFoundError, B3nLCNotFoundError),
    (e.B3nBadRequestError, B3nLCBadRequestError),
    (e.B3nInvalidRequestError, B3nLCInvalidRequestError),
    (e.B3nConfigurationError, B3nLCConfigurationError),
    (e.B3nRateLimitError, B3nLCRateLimitError),
    (e.B3nConflictError, B3nLCConflictError),
    (e.B3nServerError, B3nLCServerError),
    (e.B3nLimiterTimeoutError, B3nLCLimiterTimeoutError),
    (e.B3nTimeoutError, B3nLCTimeoutError),
    (e.B3nConnectionError, B3nLCConnectionError),
    (e.B3nResponseError, B3nLCResponseError),
    (e.B3nCrossOriginRedirectError, B3nLCCrossOriginRedirectError),
    (e.B3nPossiblyBilledError, B3nLCPossiblyBilledError),
    (e.B3nAPIStatusError, B3nLCAPIError),
    (e.B3nError, B3nLCError),
)


def to_langchain_error(exc: e.B3nError) -> e.B3nError:
    """Return ``exc`` as the hybrid class (same message and attributes); already-hybrid errors pass through."""
    if isinstance(exc, ModelError):
        return exc
    for source, target in _MAP:
        if isinstance(exc, source):
            hybrid = target.__new__(target, exc.message)
            hybrid.args = exc.args
            hybrid.__dict__.update(exc.__dict__)
            return hybrid
    return exc


def langchain_errors(func: Callable[P, T]) -> Callable[P, T]:
    """Decorator: re-raise ``B3nError`` from ``func`` as the LangChain hybrid."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return func(*args, **kwargs)
        except e.B3nError as exc:
            raise to_langchain_error(exc) from exc.__cause__

    return wrapper


def alangchain_errors(func: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, Coroutine[Any, Any, T]]:
    """Async twin of :func:`langchain_errors`."""

    @functools.wraps(func)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await func(*args, **kwargs)
        except e.B3nError as exc:
            raise to_langchain_error(exc) from exc.__cause__

    return wrapper


def langchain_errors_iter(func: Callable[P, Iterator[T]]) -> Callable[P, Iterator[T]]:
    """Decorator for generators: re-raise ``B3nError`` as the LangChain hybrid."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        try:
            yield from func(*args, **kwargs)
        except e.B3nError as exc:
            raise to_langchain_error(exc) from exc.__cause__

    return wrapper


def alangchain_errors_iter(func: Callable[P, AsyncIterator[T]]) -> Callable[P, AsyncIterator[T]]:
    """Decorator for async generators: re-raise ``B3nError`` as the LangChain hybrid."""

    @functools.wraps(func)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> AsyncIterator[T]:
        try:
            async for item in func(*args, **kwargs):
                yield item
        except e.B3nError as exc:
            raise to_langchain_error(exc) from exc.__cause__

    return wrapper


__all__ = [name for name in dir() if name.startswith("B3nLC")] + [
    "B3nStructuredOutputWarning",
    "B3nToolInputError",  # noqa: F822 (built on first use by __getattr__)
    "alangchain_errors",
    "alangchain_errors_iter",
    "langchain_errors",
    "langchain_errors_iter",
    "to_langchain_error",
]
