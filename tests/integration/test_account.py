"""``client.models`` and ``client.account`` against the emulator."""

from __future__ import annotations

import pickle

import pytest

from b3n import AsyncB3nClient, B3nClient
from b3n._errors import B3nAuthenticationError, B3nConfigurationError
from b3n.testing import Emulator
from b3n.testing.account import QUOTA, USED_QUOTA

TOKEN = "emu-access-token"


def _assert_names_the_credential(err: Exception) -> None:
    text = str(err)
    assert "system access token" in text and "not the sk- API key" in text
    assert "Account -> Personal center -> Account options -> System token" in text
    assert "B3N_ACCESS_TOKEN" in text and "B3N_USER_ID" in text


def test_models_list(base_url: str, api_key: str, emulator: Emulator) -> None:
    models = B3nClient(api_key=api_key, base_url=base_url).models.list()
    by_id = {m.id: m for m in models}
    assert {"gpt-4o-mini", "claude-3-5-sonnet-latest", "dall-e-3", "whisper-1", "tts-1"} <= set(by_id)
    assert by_id["gpt-4o-mini"].kind == "chat" and by_id["gpt-4o-mini"].info is not None
    assert by_id["text-embedding-3-small"].kind == "embedding"
    assert all(m.owned_by for m in models)
    sent = emulator.last_request("models")
    assert sent is not None and sent.headers["authorization"] == f"Bearer {api_key}"


async def test_models_list_async(base_url: str, api_key: str) -> None:
    models = await AsyncB3nClient(api_key=api_key, base_url=base_url).models.list()
    assert any(m.id == "dall-e-3" and m.kind == "image" for m in models)


def test_whoami(base_url: str, emulator: Emulator) -> None:
    # no sk- key needed: the account endpoint takes the system token
    client = B3nClient(base_url=base_url, access_token=TOKEN, user_id=1, quota_per_usd=500_000)
    me = client.account.whoami()
    assert me.id == 1 and me.username == "emulator" and me.group == "default"
    assert me.quota == QUOTA and me.balance_usd == QUOTA / 500_000
    assert me.used_quota == USED_QUOTA and me.used_usd == pytest.approx(USED_QUOTA / 500_000)
    sent = emulator.last_request("account")
    assert sent is not None and sent.path == "/api/user/self"  # at the origin, not under /v1
    assert sent.headers["authorization"] == TOKEN and sent.headers["new-api-user"] == "1"
    assert TOKEN not in repr(me) and TOKEN not in me.model_dump_json() and "password" not in me.model_dump_json()
    assert pickle.loads(pickle.dumps(me)) == me


async def test_whoami_async_and_custom_ratio(base_url: str) -> None:
    me = await AsyncB3nClient(base_url=base_url, access_token=TOKEN, user_id="1", quota_per_usd=1_000_000).account.whoami()
    assert me.balance_usd == QUOTA / 1_000_000


def test_whoami_missing_token_sends_nothing(base_url: str, api_key: str, emulator: Emulator) -> None:
    client = B3nClient(api_key=api_key, base_url=base_url)  # an sk- key alone is not enough
    with pytest.raises(B3nConfigurationError) as info:
        client.account.whoami()
    _assert_names_the_credential(info.value)
    assert emulator.total_requests == 0


async def test_whoami_missing_token_async(base_url: str, emulator: Emulator) -> None:
    with pytest.raises(B3nConfigurationError):
        await AsyncB3nClient(base_url=base_url).account.whoami()
    assert emulator.total_requests == 0


@pytest.mark.parametrize(
    ("token", "user_id"),
    [("sk-wrong-this-is-an-api-key", 1), (TOKEN, None), (TOKEN, 99)],
    ids=["wrong-token", "missing-user-id", "wrong-user-id"],
)
def test_whoami_refused_says_which_credential(
    base_url: str, emulator: Emulator, token: str, user_id: int | None
) -> None:
    client = B3nClient(base_url=base_url, access_token=token, user_id=user_id, max_retries=2)
    with pytest.raises(B3nAuthenticationError) as info:
        client.account.whoami()
    _assert_names_the_credential(info.value)
    assert info.value.status_code == 401
    assert token not in str(info.value) and token not in repr(info.value)
    assert emulator.count("account") == 1  # auth failures are not retried


async def test_whoami_refused_async(base_url: str) -> None:
    with pytest.raises(B3nAuthenticationError) as info:
        await AsyncB3nClient(base_url=base_url, access_token="nope", user_id=1).account.whoami()
    _assert_names_the_credential(info.value)


def test_whoami_relay_style_401_is_rewritten(base_url: str, emulator: Emulator) -> None:
    """A one-api ``{"error": ...}`` 401 (not the ``success: false`` shape) still names the right credential."""
    emulator.inject("auth", route="account")
    with pytest.raises(B3nAuthenticationError) as info:
        B3nClient(base_url=base_url, access_token=TOKEN, user_id=1).account.whoami()
    _assert_names_the_credential(info.value)
    assert info.value.status_code == 401 and info.value.request_id


def test_whoami_quota_fault_keeps_its_class(base_url: str, emulator: Emulator) -> None:
    from b3n._errors import B3nInsufficientQuotaError

    emulator.inject("quota", route="account")
    with pytest.raises(B3nInsufficientQuotaError):
        B3nClient(base_url=base_url, access_token=TOKEN, user_id=1).account.whoami()
