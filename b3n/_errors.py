"""One exception hierarchy for everything that can go wrong talking to B3n.

Every error carries what a person needs to act: the HTTP status, the one-api error
``type`` and ``code``, the relay's request id (quote it to B3n support), and a message
that says what to do. Framework facades re-export these classes (LangChain adds its
own standard exception types on top). Whether an error may be retried is its class's
``retryable`` (``*`` below); whether and when it is retried is decided in ``b3n._retry``::

    B3nError
    ├── B3nConfigurationError (ValueError)      not configured for this call (key, base_url, ...)
    ├── B3nInvalidRequestError (ValueError)     refused before sending: cannot succeed as written
    ├── B3nAPIStatusError                       the relay answered an error status
    │   ├── B3nBadRequestError                  400 / other 4xx
    │   ├── B3nAuthenticationError              401
    │   ├── B3nPermissionDeniedError            403
    │   │   └── B3nInsufficientQuotaError       403 / insufficient_user_quota
    │   ├── B3nNotFoundError                    404: no such route
    │   ├── B3nModelNotAvailableError           no channel serves the model
    │   ├── B3nRateLimitError *                 429
    │   ├── B3nConflictError *                  408 / 409
    │   └── B3nServerError *                    5xx, HTML error pages
    ├── B3nTimeoutError * (TimeoutError)        no answer in time
    │   └── B3nLimiterTimeoutError              no slot of the adaptive limiter in time (not retried)
    ├── B3nConnectionError * (ConnectionError)  no connection, or it broke before the answer
    ├── B3nPossiblyBilledError                  a billed call failed after it may have been processed
    ├── B3nCrossOriginRedirectError             the relay redirected to another origin: not followed
    ├── B3nResponseError                        a 200 whose body cannot be understood
    │   └── B3nStructuredOutputError (ValueError)   ... not the requested structure
    └── B3nStreamInterruptedError               a stream broke after delivering content (.partial)
        ├── B3nStreamTimeoutError (TimeoutError)    ... went silent for longer than the idle timeout
        └── StreamEndedEarly                        ... closed without [DONE]

Warnings live here too (``B3nAdaptationWarning``, ``B3nRelayDataWarning``, ``B3nSecurityWarning``).
Reading the relay's error bodies into these classes is :mod:`b3n._relay_errors`.

Example:
    >>> err = B3nRateLimitError("busy", status_code=429, request_id="2024")
    >>> str(err), err.retryable
    ('busy [status=429, request_id=2024]', True)
"""

from __future__ import annotations

from typing import Any


class B3nError(Exception):
    """Base class of every error raised by b3n-integrations.

    Catch it to handle every failure of the package in one place; its subclasses say what happened and its
    message says what to do. Raised errors never carry a key, token or header value.

    Args:
        message: what went wrong and what to do about it.
        status_code: the HTTP status the relay answered, when it answered.
        error_type: the relay's error ``type`` (e.g. ``one_api_error``, ``new_api_error``).
        code: the relay's error ``code`` (e.g. ``model_not_found``, ``insufficient_user_quota``).
        request_id: the relay's request id (its ``X-Oneapi-Request-Id`` header): quote it to B3n support.
        body: the start of the response body.

    Attributes:
        message: what went wrong and what to do about it.
        status_code: the HTTP status, or None when there was no answer.
        error_type: the relay's error ``type``, when it sent one.
        code: the relay's error ``code``, when it sent one.
        request_id: the relay's request id, when it sent one.
        body: the start of the response body (never request headers or credentials).
    """

    #: whether the same request sent again may succeed (the classes marked ``*`` above); ``b3n._retry``
    #: retries only these, and decides whether and when.
    retryable: bool = False
    #: False only when the request provably never reached the server (no connection was made).
    request_sent: bool = True

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error_type: str | None = None,
        code: str | None = None,
        request_id: str | None = None,
        body: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.error_type = error_type
        self.code = code
        self.request_id = request_id
        #: the start of the response body (never contains request headers or credentials).
        self.body = body

    def __str__(self) -> str:
        details = []
        if self.status_code is not None:
            details.append(f"status={self.status_code}")
        if self.code:
            details.append(f"code={self.code}")
        if self.request_id:
            details.append(f"request_id={self.request_id}")
        return f"{self.message} [{', '.join(details)}]" if details else self.message

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_error, (type(self), self.message, self.__dict__.copy()))


def _rebuild_error(cls: type[B3nError], message: str, state: dict[str, Any]) -> B3nError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class B3nUnknownModelWarning(UserWarning):
    """A model name the B3n catalog does not know: it is still sent (relays add models), with the closest known name."""


class B3nConfigurationError(B3nError, ValueError):
    """The client is not configured to make this call (missing key, malformed base_url, ...)."""


class B3nInvalidRequestError(B3nError, ValueError):
    """The request was refused before sending: it cannot succeed as written."""


class B3nAPIStatusError(B3nError):
    """The relay answered with an error status (``status_code``); its subclasses say which kind.

    Attributes:
        retry_after: seconds the relay asked us to wait before retrying, when it said.
        inside_stream: the relay reported the error inside a 200 stream (never retried).
    """

    #: seconds the relay asked us to wait (``retry-after-ms`` / ``Retry-After``), when it said.
    retry_after: float | None = None
    #: the relay reported this error inside a 200 stream (after trying its channels): never retried.
    inside_stream: bool = False


class B3nBadRequestError(B3nAPIStatusError):
    """400 (or another 4xx): the relay or the upstream model rejected the request."""


class B3nAuthenticationError(B3nAPIStatusError):
    """401: the API key (or system token) was rejected."""


class B3nPermissionDeniedError(B3nAPIStatusError):
    """403 without a quota code: the token may not use this model or route."""


class B3nInsufficientQuotaError(B3nPermissionDeniedError):
    """403 / ``insufficient_user_quota``: the account or key has no quota left."""


class B3nNotFoundError(B3nAPIStatusError):
    """404: the route does not exist at this base URL."""


class B3nModelNotAvailableError(B3nAPIStatusError):
    """The relay has no channel for this model (``model_not_found`` / "no available channel")."""


class B3nRateLimitError(B3nAPIStatusError):
    """429: too many requests; retried automatically with backoff."""

    retryable = True



class B3nConflictError(B3nAPIStatusError):
    """408/409: retried automatically."""

    retryable = True



class B3nServerError(B3nAPIStatusError):
    """5xx (including HTML error pages from the CDN); retried automatically."""

    retryable = True



class B3nTimeoutError(B3nError, TimeoutError):
    """No response (or no stream chunk) within the configured timeout."""

    retryable = True


class B3nLimiterTimeoutError(B3nTimeoutError):
    """The request waited for a slot of the adaptive limiter past ``timeout`` / ``total_timeout``; never sent.

    Not retried: the wait already took the time the caller allowed.
    """

    request_sent = False
    retryable = False



class B3nConnectionError(B3nError, ConnectionError):
    """The connection could not be made or broke before a response arrived."""

    retryable = True



class B3nCrossOriginRedirectError(B3nError):
    """The relay redirected a call to another origin; not followed (``target_origin`` says where).

    Following it would hand ``New-Api-User``, every ``default_headers`` value and, for 307/308, the
    request body to a host you did not configure. Redirects within the relay's origin are followed.

    Args:
        message: what happened and what to do.
        target_origin: the scheme, host and port the relay redirected to.
        **kwargs: the fields of :class:`B3nError` (``status_code``, ``request_id``, ...).

    Attributes:
        target_origin: the scheme, host and port the relay redirected to.
    """

    def __init__(self, message: str, *, target_origin: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.target_origin = target_origin


class B3nPossiblyBilledError(B3nError):
    """A billed call (image generation, speech) failed after the relay may have processed it.

    Not retried, so you are never billed twice without asking: check the B3n console's usage log,
    then call again, or pass ``retry_billed=True`` to retry these automatically. ``cause`` holds the
    underlying error (a timeout, a dropped connection, a 5xx, ...); status, code and request id are
    copied from it.

    Args:
        message: what happened and what to do.
        cause: the failure after which the call may have been billed.
        **kwargs: the fields of :class:`B3nError` (``status_code``, ``request_id``, ...).

    Attributes:
        cause: the failure after which the call may have been billed.
    """

    def __init__(self, message: str, *, cause: B3nError | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.cause = cause

    @classmethod
    def from_error(cls, error: B3nError) -> B3nPossiblyBilledError:
        return cls(
            f"{error.message} Not retried: the request may already have been processed and billed. Check the "
            "usage log in the B3n console before calling again, or pass retry_billed=True to retry automatically.",
            cause=error, status_code=error.status_code, error_type=error.error_type, code=error.code,
            request_id=error.request_id, body=error.body,
        )


class B3nResponseError(B3nError):
    """The relay answered 200 with a body that cannot be understood."""


class B3nStructuredOutputError(B3nResponseError, ValueError):
    """The model's reply could not be read as the requested structure (or held no tool call)."""


class B3nStreamInterruptedError(B3nError):
    """A stream broke after delivering content. Never retried (that could duplicate output).

    ``partial`` holds what had arrived (a ``ChatCompletion`` for chat streams).

    Args:
        message: what happened.
        partial: what had arrived before the stream broke.
        **kwargs: the fields of :class:`B3nError` (``status_code``, ``request_id``, ...).

    Attributes:
        partial: what had arrived before the stream broke (a ``ChatCompletion`` for chat streams, else None).
    """

    def __init__(self, message: str, *, partial: Any = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.partial = partial


class B3nStreamTimeoutError(B3nStreamInterruptedError, TimeoutError):
    """A stream went silent for longer than the idle timeout after delivering content."""


class StreamEndedEarly(B3nStreamInterruptedError):
    """The connection closed cleanly without ``data: [DONE]``."""


class B3nAdaptationWarning(UserWarning):
    """A parameter was changed or dropped because the target model does not accept it."""


class B3nRelayDataWarning(UserWarning):
    """Something the relay serves on the side (its price list) or a local cache file holds is malformed and ignored.

    The call itself goes on: a malformed price makes the call's cost ``"unpriced"``; a damaged probe cache
    file means the relay's quirks are found out again instead of known up front.
    """


class B3nSecurityWarning(UserWarning):
    """A setting weakens security (``verify=False``: the relay's TLS certificate is not checked)."""
