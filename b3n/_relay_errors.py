"""The relay's error bodies read into typed errors: one-api / new-api messages, codes and request ids.

Example:
    >>> err = error_from_response(429, b'{"error": {"message": "busy (request id: 2024)", "code": "x"}}', {})
    >>> type(err).__name__, err.status_code, err.request_id, err.retryable
    ('B3nRateLimitError', 429, '2024', True)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from b3n._errors import (
    B3nAPIStatusError,
    B3nAuthenticationError,
    B3nBadRequestError,
    B3nConflictError,
    B3nInsufficientQuotaError,
    B3nModelNotAvailableError,
    B3nNotFoundError,
    B3nPermissionDeniedError,
    B3nRateLimitError,
    B3nResponseError,
    B3nServerError,
)
from b3n._json import loads

_REQUEST_ID_RE = re.compile(r"\(request id:\s*([^)\s]+)\s*\)", re.IGNORECASE)
_TAG_RE = re.compile(r"<[^>]+>")
_TITLE_RE = re.compile(r"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def extract_request_id(text: str | None, headers: Mapping[str, str] | None = None) -> str | None:
    """The relay's request id, from ``... (request id: X)`` in a message or a response header."""
    if text:
        m = _REQUEST_ID_RE.search(text)
        if m:
            return m.group(1)
    if headers:
        for name in ("x-oneapi-request-id", "x-new-api-request-id", "x-request-id"):
            value = headers.get(name)
            if value:
                return value
    return None


def _parse_body(body: bytes | str) -> tuple[str | None, str | None, str | None, bool]:
    """Return (message, type, code, is_html) from a one-api error body."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = loads(stripped)
        except ValueError:
            data = None
        if isinstance(data, dict):
            err = data.get("error")
            if isinstance(err, dict):
                code = err.get("code")
                return (
                    str(err.get("message") or "") or None,
                    str(err.get("type")) if err.get("type") else None,
                    str(code) if code not in (None, "") else None,
                    False,
                )
            if isinstance(err, str):
                return err, None, None, False
            if "message" in data:
                return str(data.get("message") or "") or None, None, None, False
    if stripped.lower().startswith(("<!doctype", "<html")) or "<html" in stripped[:200].lower():
        title = _TITLE_RE.search(stripped)
        summary = title.group(1) if title else _TAG_RE.sub(" ", stripped)
        return " ".join(summary.split())[:200] or None, None, None, True
    return (stripped[:300] or None), None, None, False


#: quota errors by code or message (one-api ``model/token.go``, new-api ``relay/relay-text.go``): a token
#: whose quota is used up answers 401 (one-api) or 403 ``pre_consume_token_quota_failed`` (new-api).
_QUOTA_CODES = frozenset({"insufficient_user_quota", "pre_consume_token_quota_failed"})
_QUOTA_MARKERS = ("额度不足", "额度已用尽")
#: token problems by message (one-api / new-api ``model/token.go`` ValidateUserToken), with what to do.
_TOKEN_PROBLEMS = (
    ("未提供令牌", "No API key reached B3n (未提供令牌: no token provided). Set B3N_API_KEY or pass api_key."),
    ("该令牌已过期", "This API key has expired (该令牌已过期). Extend its expiry on the Token page of the B3n "
     "console, or create a new key."),
    ("该令牌状态不可用", "This API key is disabled (该令牌状态不可用). Enable it on the Token page of the B3n "
     "console, or use another key."),
    ("无效的令牌", "B3n does not know this API key (无效的令牌: invalid token). Check B3N_API_KEY / api_key: an sk- "
     "key from the Token page of the B3n console (the account endpoint takes the system access token instead)."),
)


def _token_problem(message: str) -> str | None:
    for marker, hint in _TOKEN_PROBLEMS:
        if marker in message:
            return hint
    return None


_NO_CHANNEL_MARKERS = ("无可用渠道", "no available channel", "model_not_found", "does not exist", "not found")


def error_from_response(
    status: int,
    body: bytes | str,
    headers: Mapping[str, str],
    *,
    model: str | None = None,
) -> B3nAPIStatusError:
    """Map an error response to the right exception class with an actionable message."""
    message, etype, code, is_html = _parse_body(body)
    request_id = extract_request_id(message, headers)
    relay = message or "(empty body)"
    body_text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    low = f"{relay} {code or ''}".lower()
    kwargs: dict[str, Any] = {
        "status_code": status,
        "error_type": etype,
        "code": code,
        "request_id": request_id,
        "body": body_text[:500],
    }
    what = f"model {model!r}" if model else "this model"
    cls: type[B3nAPIStatusError]
    token_problem = _token_problem(relay)
    if code in _QUOTA_CODES or any(m in relay for m in _QUOTA_MARKERS) or ("insufficient" in low and "quota" in low):
        cls = B3nInsufficientQuotaError
        if "用户额度" not in relay and ("令牌" in relay or code == "pre_consume_token_quota_failed"):
            hint = ("This API key (token) has no quota left, although the account may still have some: raise the "
                    "token's quota (or make it unlimited) on the Token page of the B3n console, or use another key.")
        else:
            hint = "Your B3n quota is used up. Top up in the B3n console, then check the balance with `b3n whoami`."
    elif status in (401, 403) and token_problem is not None:
        cls = B3nAuthenticationError
        hint = token_problem
    elif code == "model_not_found" or any(m in low for m in _NO_CHANNEL_MARKERS[:3]) or (
        status in (404, 503) and "model" in low and any(m in low for m in _NO_CHANNEL_MARKERS[3:])
    ):
        cls = B3nModelNotAvailableError
        hint = (
            f"B3n has no channel serving {what} for your group. Check the name with `b3n models` "
            "or pick another model. Not retried."
        )
    elif status == 401:
        cls = B3nAuthenticationError
        hint = (
            "B3n rejected the credential. Check B3N_API_KEY / api_key (an sk- key from the B3n console "
            "Token page); the account endpoint needs the system access token instead."
        )
    elif status == 403:
        cls = B3nPermissionDeniedError
        hint = "This key may not use this model or route; check the key's model list in the B3n console."
    elif status == 429:
        cls = B3nRateLimitError
        hint = "Rate limited by B3n or the upstream. Retries were exhausted: lower concurrency or raise max_retries."
    elif status in (408, 409):
        cls = B3nConflictError
        hint = "The relay asked to retry; retries were exhausted."
    elif status >= 500:
        cls = B3nServerError
        origin = "an HTML error page (CDN or proxy in front of B3n)" if is_html else "a server error"
        hint = f"B3n or its upstream returned {origin}; retries were exhausted. Try again later."
    elif status == 404:
        cls = B3nNotFoundError
        hint = "No such route: check base_url (it should end in /v1, e.g. https://api.b3n.fun/v1)."
    else:
        cls = B3nBadRequestError
        hint = "The request was rejected; the relay's message above says which field."
    return cls(f"B3n error {status}: {relay}. {hint}", **kwargs)


#: the HTTP status of each Anthropic error type (Claude's native route names the type, in streams too).
ANTHROPIC_ERROR_STATUS = {"invalid_request_error": 400, "authentication_error": 401, "permission_error": 403,
                          "not_found_error": 404, "request_too_large": 413, "rate_limit_error": 429,
                          "api_error": 500, "overloaded_error": 529}


def error_from_stream_payload(data: Mapping[str, Any], *, model: str | None = None) -> B3nAPIStatusError:
    """An ``{"error": ...}`` object received inside an SSE stream."""
    err = data.get("error")
    status = 500
    if isinstance(err, Mapping):
        raw_status = err.get("status") or err.get("status_code")
        if isinstance(raw_status, int):
            status = raw_status
        elif err.get("code") == "insufficient_user_quota":
            status = 403
        elif err.get("type") in ANTHROPIC_ERROR_STATUS:  # Claude's native route: an ``error`` event
            status = ANTHROPIC_ERROR_STATUS[err["type"]]
    error = error_from_response(status, json.dumps(dict(data), ensure_ascii=False), {}, model=model)
    error.inside_stream = True
    return error


def listed_items(
    body: Any, key: str, *, model: str | None, not_an_object: Callable[[], str], missing: Callable[[], str]
) -> list[Any]:
    """``body[key]`` of a 200 reply as a non-empty list, else the error to raise.

    The relay's own ``{"error": ...}`` when it sent one (typed as for a stream), else a
    ``B3nResponseError`` saying ``not_an_object()`` or ``missing()`` (messages are built only when needed).

    Example:
        >>> listed_items({"data": [1]}, "data", model=None, not_an_object=str, missing=str)
        [1]
        >>> listed_items({"data": []}, "data", model=None, not_an_object=str, missing=lambda: "no data")
        Traceback (most recent call last):
        ...
        b3n._errors.B3nResponseError: no data
    """
    if not isinstance(body, Mapping):
        raise B3nResponseError(not_an_object())
    items = body.get(key)
    if isinstance(items, list) and items:
        return items
    if body.get("error"):
        raise error_from_stream_payload(body, model=model)
    raise B3nResponseError(missing())
