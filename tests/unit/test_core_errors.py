"""Error mapping from status + one-api bodies, request ids, retry policy, and secrecy."""

from __future__ import annotations

import pickle

import pytest

from b3n import _errors as e
from b3n._relay_errors import error_from_response
from b3n._retry import RetryPolicy, parse_retry_after


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (401, '{"error": {"message": "无效的令牌", "type": "one_api_error", "code": "invalid_api_key"}}',
         e.B3nAuthenticationError),
        (403, '{"error": {"message": "用户额度不足", "code": "insufficient_user_quota"}}', e.B3nInsufficientQuotaError),
        (403, '{"error": {"message": "forbidden"}}', e.B3nPermissionDeniedError),
        (503, '{"error": {"message": "当前分组 default 下对于模型 x 无可用渠道", "code": "model_not_found"}}',
         e.B3nModelNotAvailableError),
        (500, '{"error": {"message": "no available channel for model x"}}', e.B3nModelNotAvailableError),
        (429, '{"error": {"message": "slow down", "code": "rate_limit_exceeded"}}', e.B3nRateLimitError),
        (400, '{"error": {"message": "bad field"}}', e.B3nBadRequestError),
        (404, "404 page not found", e.B3nNotFoundError),
        (409, "{}", e.B3nConflictError),
        (502, "<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>", e.B3nServerError),
        (401, '{"success": false, "message": "无权进行此操作，access token 无效"}', e.B3nAuthenticationError),
    ],
)
def test_status_and_body_map_to_typed_errors(status: int, body: str, cls: type) -> None:
    err = error_from_response(status, body.encode(), {}, model="gpt-4o")
    assert type(err) is cls
    assert err.status_code == status


def test_request_id_from_message_and_header() -> None:
    body = b'{"error": {"message": "boom (request id: 20241125173045123456789)", "type": "one_api_error"}}'
    err = error_from_response(500, body, {})
    assert err.request_id == "20241125173045123456789"
    assert "request_id=20241125173045123456789" in str(err)
    assert error_from_response(500, b"{}", {"x-oneapi-request-id": "abc"}).request_id == "abc"


def test_html_error_page_summarised_to_its_title() -> None:
    err = error_from_response(502, b"<html><head><title>502 Bad Gateway</title></head><body>x</body></html>", {})
    assert "502 Bad Gateway" in err.message and "HTML error page" in err.message
    assert err.retryable


def test_messages_say_what_to_do() -> None:
    assert "B3N_API_KEY" in error_from_response(401, b"{}", {}).message
    assert "b3n whoami" in error_from_response(403, b'{"error": {"code": "insufficient_user_quota"}}', {}).message
    assert "b3n models" in error_from_response(503, b'{"error": {"code": "model_not_found"}}', {}, model="x").message


def test_retryability() -> None:
    assert e.B3nRateLimitError("x").retryable and e.B3nServerError("x").retryable
    assert e.B3nTimeoutError("x").retryable and e.B3nConnectionError("x").retryable
    assert not e.B3nAuthenticationError("x").retryable
    assert not e.B3nModelNotAvailableError("x").retryable
    assert not e.B3nInsufficientQuotaError("x").retryable
    assert not e.B3nStreamInterruptedError("x").retryable


def test_errors_pickle_with_attributes() -> None:
    err = e.B3nStreamInterruptedError("cut", partial={"content": "ab"}, status_code=None, request_id="r1")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is e.B3nStreamInterruptedError and back.partial == {"content": "ab"} and back.request_id == "r1"


def test_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 25 Nov 2026 17:30:10 GMT", now=1795628400.0) is not None


def test_backoff_grows_with_jitter_and_retry_after_is_capped() -> None:
    policy = RetryPolicy(max_retries=5, base_delay=0.5, max_delay=8, max_retry_after=10)
    assert all(0.25 <= policy.delay(0) <= 0.5 for _ in range(50))
    assert all(2.0 <= policy.delay(3) <= 4.0 for _ in range(50))
    assert policy.delay(0, retry_after=100) == 10

    def retried(status: int, body: bytes = b"{}") -> bool:
        return isinstance(policy.decide(0, error_from_response(status, body, {}), billed=False), float)

    assert not retried(503, b'{"error": {"message": "no", "code": "model_not_found"}}')
    assert retried(503) and retried(429) and retried(408) and retried(520) and not retried(400)
