"""logprobs / top_logprobs in both frameworks: LangChain ``response_metadata["logprobs"]`` (accumulated over a
stream), LlamaIndex ``ChatResponse.logprobs``; models that return none get a warning, never silence."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessageChunk

from b3n import B3nAdaptationWarning
from b3n.testing import Emulator
from langchain_b3n import ChatB3n


def test_langchain_invoke_and_stream_carry_logprobs(emulator: Emulator, base_url: str, api_key: str) -> None:
    llm = ChatB3n(model="gpt-4o-mini", api_key=api_key, base_url=base_url, logprobs=True, top_logprobs=2)
    reply = llm.invoke("What is 12 * 7?")
    sent = emulator.last_request().json
    assert sent["logprobs"] is True and sent["top_logprobs"] == 2
    content = reply.response_metadata["logprobs"]["content"]
    assert "".join(t["token"] for t in content) == reply.content
    assert all(len(t["top_logprobs"]) == 2 and t["logprob"] <= 0 for t in content)
    full: AIMessageChunk | None = None
    for chunk in llm.stream("What is 12 * 7?"):
        full = chunk if full is None else full + chunk
    assert full is not None
    streamed = full.response_metadata["logprobs"]["content"]
    assert "".join(t["token"] for t in streamed) == full.content == reply.content  # every delta's tokens, in order


@pytest.mark.parametrize("model", ["claude-3-5-sonnet-latest", "gemini-1.5-flash-latest", "o3"])
def test_models_without_logprobs_warn_and_are_not_sent_the_field(model: str, emulator: Emulator, base_url: str,
                                                                  api_key: str) -> None:
    llm = ChatB3n(model=model, api_key=api_key, base_url=base_url, logprobs=True)
    with pytest.warns(B3nAdaptationWarning, match="no log probabilities"):
        reply = llm.invoke("say 1")
    assert "logprobs" not in emulator.last_request().json and "logprobs" not in reply.response_metadata


def test_a_relay_that_drops_logprobs_gets_a_warning(emulator: Emulator, base_url: str, api_key: str) -> None:
    llm = ChatB3n(model="gpt-4o-mini", api_key=api_key, base_url=base_url, logprobs=True,
                  capabilities={"logprobs": True})
    # told (wrongly) that Claude returns logprobs: the field is sent, the relay drops it, the user hears of it
    reverse = ChatB3n(model="claude-3-5-haiku-latest", api_key=api_key, base_url=base_url, logprobs=True,
                      capabilities={"logprobs": True})
    with pytest.warns(B3nAdaptationWarning, match="answered without log probabilities"):
        reverse.invoke("say 1")
    assert emulator.last_request().json["logprobs"] is True
    assert llm.invoke("say 1").response_metadata["logprobs"]["content"]


def test_llamaindex_chat_and_stream_logprobs(emulator: Emulator, base_url: str, api_key: str) -> None:
    from llama_index.core.llms import ChatMessage

    from llama_index_b3n import B3n

    llm = B3n(model="gpt-4o", api_key=api_key, api_base=base_url, logprobs=True, top_logprobs=3)
    messages = [ChatMessage(role="user", content="What is 12 * 7?")]
    response = llm.chat(messages)
    assert response.logprobs is not None and all(len(alts) == 3 for alts in response.logprobs)
    assert "".join(alts[0].token for alts in response.logprobs) == response.message.content
    last = list(llm.stream_chat(messages))[-1]
    assert last.logprobs is not None and "".join(a[0].token for a in last.logprobs) == last.message.content
