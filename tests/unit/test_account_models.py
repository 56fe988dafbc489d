"""Pure logic of ``b3n._account`` and ``b3n._models``: parsing (no network)."""

from __future__ import annotations

import pytest

from b3n._account import ACCOUNT_CREDENTIAL_HELP, parse_account
from b3n._errors import B3nAuthenticationError, B3nResponseError
from b3n._models import parse_models


def test_parse_account_drops_secrets_and_converts_quota() -> None:
    body = {"success": True, "message": "", "data": {
        "id": 7, "username": "ann", "display_name": "Ann", "group": "vip", "quota": 2_500_000,
        "used_quota": 500_000, "request_count": 12, "access_token": "SECRET-TOKEN", "password": "pw",
        "verification_code": "123456", "lark_id": "",
    }}
    info = parse_account(body)
    assert (info.id, info.username, info.group, info.balance_usd, info.used_usd) == (7, "ann", "vip", 5.0, 1.0)
    dumped = info.model_dump_json()
    for secret in ("SECRET-TOKEN", "access_token", "password", "123456"):
        assert secret not in repr(info) and secret not in dumped
    assert info.details == {"lark_id": ""}
    assert parse_account(body, quota_per_usd=1_000_000).balance_usd == 2.5


def test_parse_account_failure_says_which_credential() -> None:
    with pytest.raises(B3nAuthenticationError) as info:
        parse_account({"success": False, "message": "无权进行此操作，未登录且未提供 access token"})
    text = str(info.value)
    assert "System token" in text and "B3N_ACCESS_TOKEN" in text and "B3N_USER_ID" in text
    assert ACCOUNT_CREDENTIAL_HELP in text
    with pytest.raises(B3nResponseError):
        parse_account({"success": True})


def test_parse_models_attaches_catalog() -> None:
    entries = parse_models({"object": "list", "data": [
        {"id": "gpt-4o-mini", "owned_by": "openai", "created": 1}, {"id": "whisper-1"},
        {"id": "brand-new-model"}, {"bad": True},
    ]})
    assert [(m.id, m.kind, m.known) for m in entries] == [
        ("gpt-4o-mini", "chat", True), ("whisper-1", "stt", True), ("brand-new-model", None, False),
    ]
    assert entries[0].info is not None and entries[0].info.image_inputs
    with pytest.raises(B3nResponseError):
        parse_models({"data": "nope"})
