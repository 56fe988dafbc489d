"""Relay token / quota errors are typed by their message; new-api's mid-stream plain-JSON error keeps its message."""

from __future__ import annotations

import asyncio

import pytest
from llama_index.core.llms import ChatMessage

from b3n import (
    AsyncB3nClient,
    B3nAuthenticationError,
    B3nClient,
    B3nInsufficientQuotaError,
    B3nServerError,
    B3nStreamInterruptedError,
)
from b3n.testing import Emulator
from langchain_b3n import ChatB3n
from llama_index_b3n import B3n

SAY = [{"role": "user", "content": "say one two three four five six"}]


@pytest.mark.parametrize("profile", ["one-api", "new-api"])
@pytest.mark.parametrize(
    ("kind", "cls", "says"),
    [
        ("token_exhausted", B3nInsufficientQuotaError, "token's quota"),
        ("user_quota", B3nInsufficientQuotaError, "Top up"),
        ("token_invalid", B3nAuthenticationError, "does not know this API key"),
        ("token_expired", B3nAuthenticationError, "has expired"),
        ("token_disabled", B3nAuthenticationError, "is disabled"),
        ("token_missing", B3nAuthenticationError, "No API key reached B3n"),
    ],
)
def test_token_errors_are_typed(
    relay_servers: dict[str, Emulator], api_key: str, profile: str, kind: str, cls: type, says: str
) -> None:
    emu = relay_servers[profile]
    emu.reset()
    emu.inject(kind)
    with pytest.raises(cls) as info:
        B3nClient(api_key=api_key, base_url=emu.base_url).chat.create("gpt-4o-mini", SAY)
    assert says in str(info.value)
    assert "check your API key" not in str(info.value).lower() or cls is B3nAuthenticationError
    assert info.value.request_id is not None
    assert emu.count("chat") == 1  # not retried


def test_quota_error_in_both_frameworks(relay_servers: dict[str, Emulator], api_key: str) -> None:
    emu = relay_servers["one-api"]
    emu.reset()
    emu.inject("token_exhausted", times=2)
    with pytest.raises(B3nInsufficientQuotaError, match="token's quota"):
        ChatB3n(model="claude-3-5-sonnet-latest", api_key=api_key, base_url=emu.base_url).invoke("hi")
    with pytest.raises(B3nInsufficientQuotaError, match="token's quota"):
        B3n(model="gemini-1.5-flash-latest", api_key=api_key, api_base=emu.base_url).chat(
            [ChatMessage(role="user", content="hi")]
        )
    assert emu.count("chat") == 2


def test_midstream_error_after_content_keeps_relay_message(relay_servers: dict[str, Emulator], api_key: str) -> None:
    emu = relay_servers["new-api"]
    emu.reset()
    emu.inject("midstream_error", after=3)
    got: list[str] = []
    with pytest.raises(B3nStreamInterruptedError) as info:
        for chunk in B3nClient(api_key=api_key, base_url=emu.base_url).chat.stream("gpt-4o-mini", SAY):
            got.append(chunk.content)
    err = info.value
    assert "upstream error: do request failed" in str(err) and err.request_id
    assert err.code == "do_request_failed"
    assert err.partial is not None and err.partial.content == "".join(got) and got  # what was delivered, once
    assert emu.count("chat") == 1  # never retried: no second stream appended to delivered content


def test_midstream_error_before_content_is_a_server_error(relay_servers: dict[str, Emulator], api_key: str) -> None:
    emu = relay_servers["new-api"]
    emu.reset()
    emu.inject("midstream_error", after=0)
    llm = ChatB3n(model="gpt-4o-mini", api_key=api_key, base_url=emu.base_url)
    with pytest.raises(B3nServerError, match="upstream error: do request failed") as info:
        list(llm.stream("say 1"))
    assert info.value.request_id
    assert emu.count("chat") == 1


def test_midstream_error_async(relay_servers: dict[str, Emulator], api_key: str) -> None:
    emu = relay_servers["new-api"]
    emu.reset()
    emu.inject("midstream_error", after=2)

    async def run() -> B3nStreamInterruptedError:
        client = AsyncB3nClient(api_key=api_key, base_url=emu.base_url)
        try:
            async for _ in client.chat.stream("gpt-4o-mini", SAY):
                pass
        except B3nStreamInterruptedError as exc:
            return exc
        raise AssertionError("no error")

    err = asyncio.run(run())
    assert "upstream error: do request failed" in str(err) and err.request_id
