"""``thinking_budget``: sent the way the relay maps a budget (Claude ``-thinking``: the ``max_tokens`` new-api gives
80% of to thinking; Gemini 2.5: ``extra_body.google.thinking_config``), dropped with one warning elsewhere, in both
frameworks; the emulator caps the thinking it reports by the budget."""

from __future__ import annotations

import warnings

import pytest
from langchain_core.messages import HumanMessage

from b3n import B3nAdaptationWarning, B3nClient, B3nInvalidRequestError
from b3n.testing import Emulator
from langchain_b3n import ChatB3n

SAY = [{"role": "user", "content": "say 1"}]


def test_gemini_budget_reaches_the_relay_and_caps_the_thinking(emulator: Emulator, base_url: str,
                                                               api_key: str) -> None:
    default = ChatB3n(model="gemini-2.5-flash", api_key=api_key, base_url=base_url).invoke("say 1")
    assert "extra_body" not in emulator.last_request().json
    off = ChatB3n(model="gemini-2.5-flash", api_key=api_key, base_url=base_url, thinking_budget=0).invoke("say 1")
    assert emulator.last_request().json["extra_body"] == {"google": {"thinking_config": {"thinking_budget": 0}}}
    assert default.usage_metadata is not None and off.usage_metadata is not None
    assert default.usage_metadata["output_token_details"]["reasoning"] > 0
    assert off.usage_metadata.get("output_token_details", {}).get("reasoning", 0) == 0
    assert off.usage_metadata["output_tokens"] < default.usage_metadata["output_tokens"]
    capped = ChatB3n(model="gemini-2.5-pro", api_key=api_key, base_url=base_url, thinking_budget=10,
                     extra_body={"extra_body": {"google": {"cached_content": "c1"}}}).invoke("say 1")
    body = emulator.last_request().json
    # Google's own spelling (a literal extra_body, as its OpenAI-compatible docs show) is merged, not replaced
    assert body["extra_body"] == {"google": {"cached_content": "c1", "thinking_config": {"thinking_budget": 10}}}
    assert capped.usage_metadata is not None and capped.usage_metadata["output_token_details"]["reasoning"] == 10


def test_claude_thinking_budget_is_sent_as_the_max_tokens_the_relay_splits(emulator: Emulator, base_url: str,
                                                                           api_key: str) -> None:
    chat = B3nClient(api_key=api_key, base_url=base_url).chat
    chat.create("claude-sonnet-4-20250514-thinking", SAY, thinking_budget=2000)
    assert emulator.last_request().json["max_tokens"] == 2500  # new-api: budget_tokens = 80% of max_tokens
    chat.create("claude-sonnet-4-20250514-thinking", SAY, thinking_budget=2000, max_tokens=4000)
    assert emulator.last_request().json["max_tokens"] == 4000  # room enough: kept
    with pytest.raises(B3nInvalidRequestError, match=r"thinking_budget=2000 needs max_tokens >= 2500"):
        chat.create("claude-sonnet-4-20250514-thinking", SAY, thinking_budget=2000, max_tokens=1000)
    with pytest.raises(B3nInvalidRequestError, match="at least 1024"):
        chat.create("claude-opus-4-20250514-thinking", SAY, thinking_budget=100)
    assert emulator.count("chat") == 2


@pytest.mark.parametrize("model", ["gpt-4o-mini", "o4-mini", "claude-3-5-sonnet-latest", "gemini-1.5-flash-latest"])
def test_models_without_a_budget_drop_it_with_one_warning(emulator: Emulator, base_url: str, api_key: str,
                                                          model: str) -> None:
    llm = ChatB3n(model=model, api_key=api_key, base_url=base_url, thinking_budget=4096)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert llm.invoke([HumanMessage("say 1")]).content == "1"
    dropped = [w for w in caught if issubclass(w.category, B3nAdaptationWarning)]
    assert [str(w.message) for w in dropped] == [
        f"{model} takes no thinking budget on B3n; thinking_budget=4096 was not sent."]
    body = emulator.last_request().json
    assert "extra_body" not in body and "thinking_budget" not in body and "max_tokens" not in body


async def test_llamaindex_takes_the_budget_as_a_field_and_per_call(emulator: Emulator, base_url: str,
                                                                   api_key: str) -> None:
    from llama_index.core.llms import ChatMessage

    from llama_index_b3n import B3n

    llm = B3n(model="gemini-2.5-flash", api_key=api_key, api_base=base_url, thinking_budget=0)
    response = llm.chat([ChatMessage(role="user", content="say 1")])
    assert emulator.last_request().json["extra_body"]["google"]["thinking_config"] == {"thinking_budget": 0}
    assert response.additional_kwargs.get("reasoning_tokens", 0) == 0
    await llm.achat([ChatMessage(role="user", content="say 1")], thinking_budget=3000)
    assert emulator.last_request().json["extra_body"]["google"]["thinking_config"] == {"thinking_budget": 3000}
    claude = B3n(model="claude-opus-4-20250514-thinking", api_key=api_key, api_base=base_url, thinking_budget=1024)
    claude.chat([ChatMessage(role="user", content="say 1")])
    assert emulator.last_request().json["max_tokens"] == 1280
