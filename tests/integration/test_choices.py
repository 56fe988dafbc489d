"""``n`` > 1: several choices from one call where the relay forwards ``n`` (OpenAI models), in the core and both
frameworks, billed as the relay bills them; refused before sending where the relay would answer one choice."""

from __future__ import annotations

import warnings

import pytest
from langchain_core.messages import HumanMessage

from b3n import B3nAdaptationWarning, B3nClient, B3nInvalidRequestError
from b3n._catalog import get_model_info
from b3n.testing import Emulator
from langchain_b3n import ChatB3n

SAY = [{"role": "user", "content": "say 1"}]


def test_core_returns_n_choices_billed_once_for_the_prompt(emulator: Emulator, base_url: str, api_key: str) -> None:
    chat = B3nClient(api_key=api_key, base_url=base_url).chat
    one = chat.create("gpt-4o-mini", SAY)
    three = chat.create("gpt-4o-mini", SAY, n=3)
    assert [three.content] + [c.content for c in three.more_choices] == ["1", "1", "1"]
    assert [c.finish_reason for c in three.more_choices] == ["stop", "stop"]
    assert emulator.last_request().json["n"] == 3 and emulator.count("chat") == 2
    assert one.usage is not None and three.usage is not None
    # the prompt is billed once, every choice's completion tokens are
    assert three.usage.prompt_tokens == one.usage.prompt_tokens
    assert three.usage.completion_tokens == 3 * one.usage.completion_tokens
    assert three.cost is not None and one.cost is not None and three.cost.usd > one.cost.usd


@pytest.mark.parametrize("model", ["claude-3-5-sonnet-latest", "gemini-1.5-flash-latest"])
def test_families_whose_relay_drops_n_are_refused_before_sending(emulator: Emulator, base_url: str, api_key: str,
                                                                 model: str) -> None:
    chat = B3nClient(api_key=api_key, base_url=base_url).chat
    with pytest.raises(B3nInvalidRequestError, match=r"one choice per request.*n=3 would come back as 1"):
        chat.create(model, SAY, n=3)
    with pytest.raises(B3nInvalidRequestError, match="n=2 cannot be streamed"):
        list(chat.stream("gpt-4o-mini", SAY, n=2))
    with pytest.raises(B3nInvalidRequestError, match="from 1 to 128"):
        chat.create("gpt-4o-mini", SAY, n=0)
    assert emulator.count("chat") == 0


def test_a_relay_answering_fewer_choices_warns(emulator: Emulator, base_url: str, api_key: str) -> None:
    chat = B3nClient(api_key=api_key, base_url=base_url).chat
    # a capability override claims Claude takes n: the request goes out, the relay's adaptor drops n
    info = get_model_info("claude-3-5-sonnet-latest", {"multiple_choices": True})
    with pytest.warns(B3nAdaptationWarning, match=r"answered 1 choice\(s\) although n=3 were asked for"):
        reply = chat.create("claude-3-5-sonnet-latest", SAY, n=3, info=info)
    assert emulator.last_request().json["n"] == 3 and reply.more_choices == []


def test_langchain_generate_returns_n_generations(emulator: Emulator, base_url: str, api_key: str) -> None:
    llm = ChatB3n(model="gpt-4o-mini", api_key=api_key, base_url=base_url, n=3)
    result = llm.generate([[HumanMessage("say 1")]])
    assert [g.message.content for g in result.generations[0]] == ["1", "1", "1"]
    assert result.llm_output is not None and result.llm_output["token_usage"]["completion_tokens"] == 3
    assert llm.invoke("say 1").content == "1"
    assert ChatB3n(model="gpt-4o-mini", api_key=api_key, base_url=base_url).invoke("say 1", n=2).content == "1"
    assert emulator.last_request().json["n"] == 2
    with pytest.raises(B3nInvalidRequestError, match="cannot be streamed"):
        list(llm.stream("say 1"))
    with pytest.raises(B3nInvalidRequestError, match="cannot be combined with streaming=True"):
        ChatB3n(model="gpt-4o-mini", n=2, streaming=True)
    with pytest.raises(B3nInvalidRequestError, match="one choice per request"):
        ChatB3n(model="claude-3-5-sonnet-latest", api_key=api_key, base_url=base_url, n=2).invoke("say 1")


async def test_langchain_agenerate_and_llamaindex_chat_with_n(emulator: Emulator, base_url: str,
                                                              api_key: str) -> None:
    from llama_index.core.llms import ChatMessage

    from llama_index_b3n import B3n

    llm = ChatB3n(model="gpt-4o-mini", api_key=api_key, base_url=base_url, n=2)
    result = await llm.agenerate([[HumanMessage("say 1")]])
    assert len(result.generations[0]) == 2
    li = B3n(model="gpt-4o-mini", api_key=api_key, api_base=base_url)
    response = li.chat([ChatMessage(role="user", content="say 1")], n=3)
    assert response.message.content == "1"
    assert [m.content for m in response.additional_kwargs["choices"]] == ["1", "1", "1"]
    assert response.additional_kwargs["completion_tokens"] == 3
    single = await li.achat([ChatMessage(role="user", content="say 1")])
    assert "choices" not in single.additional_kwargs
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(B3nInvalidRequestError, match="one choice per request"):
            B3n(model="gemini-1.5-flash-latest", api_key=api_key, api_base=base_url).chat(
                [ChatMessage(role="user", content="say 1")], n=3)
