"""GET /api/user/self: the account endpoint, authenticated by the system access token."""

from __future__ import annotations

from typing import Any

NOT_LOGGED_IN = "无权进行此操作，未登录且未提供 access token"
MISSING_USER = "无权进行此操作，未提供 New-Api-User"
USER_MISMATCH = "无权进行此操作，New-Api-User 与 access token 不匹配"

QUOTA = 5_000_000
USED_QUOTA = 1_234_567


def strip_bearer(value: str) -> str:
    """'Bearer x' → 'x'; 'x' → 'x'."""
    value = value.strip()
    if value[:7].lower() == "bearer ":
        return value[7:].strip()
    return value


def check_account_auth(
    authorization: str | None, new_api_user: str | None, *, access_token: str, user_id: int
) -> str | None:
    """None when allowed, else the ``message`` of the 401 ``{"success": false}`` body."""
    token = strip_bearer(authorization or "")
    if not token or token != access_token:
        return NOT_LOGGED_IN
    if new_api_user is None or not new_api_user.strip():
        return MISSING_USER
    if new_api_user.strip() != str(user_id):
        return USER_MISMATCH
    return None


def user_self(user_id: int, request_count: int) -> dict[str, Any]:
    """The success body, with every field of the documented schema."""
    data: dict[str, Any] = {
        "id": user_id,
        "username": "emulator",
        "password": "",
        "display_name": "B3n Emulator",
        "role": 1,
        "status": 1,
        "email": "emulator@example.com",
        "github_id": "",
        "telegram_id": "",
        "wechat_id": "",
        "lark_id": "",
        "access_token": "",
        "quota": QUOTA,
        "used_quota": USED_QUOTA,
        "request_count": request_count,
        "group": "default",
        "aff_code": "EMU1",
        "inviter_id": 0,
        "last_login_time": 1732550400,
        "register_time": 1704067200,
        "last_login_ip": "127.0.0.1",
        "rate_limit": -1,
        "rate_limit_exceeded_message": "",
        "remark": "",
        "quota_expire_time": 0,
        "phone_number": "",
        "sms_verification_code": "",
        "admin_access_flags": 0,
        "verification_code": "",
        "inviteUserNumber": 0,
        "aff_quota": 0,
        "aff_history_quota": 0,
        "TopupGroupMinLimit": 0,
        "ModelFixedPrice": {},
        "InviteBonusRatio": 0,
        "ShowPackagePlan": False,
    }
    return {"success": True, "message": "", "data": data}
