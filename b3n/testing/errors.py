"""one-api / new-api style errors and request ids."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

_counter = itertools.count(1)
_counter_lock = threading.Lock()


def new_request_id() -> str:
    """A one-api style request id: ``YYYYMMDDHHMMSS`` + 8 digits (unique per process)."""
    with _counter_lock:
        n = next(_counter)
    return time.strftime("%Y%m%d%H%M%S") + f"{n % 100_000_000:08d}"


class ApiError(Exception):
    """An error answered as a one-api JSON error body (``{"error": {...}}``)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param

    def body(self, request_id: str) -> dict[str, Any]:
        """The JSON body, with one-api's ``(request id: ...)`` suffix on the message."""
        return {
            "error": {
                "message": f"{self.message} (request id: {request_id})",
                "type": self.type,
                "param": self.param or "",
                "code": self.code,
            }
        }


def invalid(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    """400 invalid_request_error."""
    return ApiError(400, message, param=param, code=code)


def model_not_found(model: str) -> ApiError:
    """503 model_not_found, as new-api answers for a model without a channel."""
    return ApiError(
        503,
        f"当前分组 default 下对于模型 {model} 无可用渠道",
        type="new_api_error",
        code="model_not_found",
    )


def invalid_token() -> ApiError:
    """401 invalid_api_key."""
    return ApiError(401, "无效的令牌", type="one_api_error", code="invalid_api_key")


def missing_token() -> ApiError:
    """401 for a missing Authorization header."""
    return ApiError(401, "未提供令牌", type="one_api_error", code="invalid_api_key")


def rate_limited() -> ApiError:
    """429 rate_limit_exceeded."""
    return ApiError(
        429,
        "当前分组上游负载已饱和，请稍后再试",
        type="one_api_error",
        code="rate_limit_exceeded",
    )


def insufficient_quota() -> ApiError:
    """403 insufficient_user_quota."""
    return ApiError(
        403,
        "用户额度不足, 剩余额度: ＄0.000000",
        type="one_api_error",
        code="insufficient_user_quota",
    )
