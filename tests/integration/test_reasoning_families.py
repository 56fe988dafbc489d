"""Today's model families and reasoning controls: o3/o4/gpt-5 are current reasoning models (tools, real
streaming, ``reasoning_effort``), not the early o1 profile; ``reasoning_effort`` reaches the models that take it
and is dropped with a warning elsewhere (the relay would answer 400), in both frameworks."""

from __future__ import annotations

import warnings

import pytest

from b3n import B3nAdaptationWarning, get_model_info
from b3n.testing import Emulator
from langchain_b3n import ChatB3n
from tests.langchain_tools import magic_function


@pytest.mark.parametrize("model", ["o3", "o4-mini", "gpt-5", "o3-pro-2027-01-01", "o4-nano-future"])
def test_current_reasoning_models_call_tools_and_really_stream(model: str, emulator: Emulator, base_url: str,
                                                               api_key: str) -> None:
    llm = ChatB3n(model=model, api_key=api_key, base_url=base_url, reasoning_effort="high")
    msg = llm.bind_tools([magic_function]).invoke("What is magic_function(3)?")
    assert msg.tool_calls[0]["args"] == {"input": 3}
    assert emulator.last_request().json["reasoning_effort"] == "high"
    assert "".join(c.text for c in llm.stream("say 1")) == "1"
    assert emulator.last_request().json["stream"] is True  # a real stream, not one emulated call


def test_unknown_names_are_permissive_and_say_where_their_capabilities_come_from() -> None:
    assert get_model_info("o3-pro").source == "family rule: o3*"
    assert get_model_info("o3-pro").tool_calling and get_model_info("o3-pro").streaming
    assert not get_model_info("o1-mini-2024-09-12").streaming  # the early o1 profile stays for o1-mini/preview
    assert get_model_info("claude-opus-4-1-thinking").reasoning_effort
    assert get_model_info("some-new-model").source == "default"
    assert get_model_info("gpt-4o", {"tool_calling": False}).source == "catalog + overrides"


def test_reasoning_effort_is_dropped_with_a_warning_where_the_model_takes_none(emulator: Emulator, base_url: str,
                                                                                api_key: str) -> None:
    llm = ChatB3n(model="gpt-4o-mini", api_key=api_key, base_url=base_url, reasoning_effort="low")
    with pytest.warns(B3nAdaptationWarning, match="takes no reasoning_effort"):
        assert llm.invoke("What is 12 * 7?").content == "12 * 7 = 84."
    assert "reasoning_effort" not in emulator.last_request().json
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ChatB3n(model="claude-sonnet-4-20250514-thinking", api_key=api_key, base_url=base_url,
                reasoning_effort="low").invoke("say 1")
    assert emulator.last_request().json["reasoning_effort"] == "low"


def test_llamaindex_reasoning_effort(emulator: Emulator, base_url: str, api_key: str) -> None:
    from llama_index.core.llms import ChatMessage

    from llama_index_b3n import B3n

    messages = [ChatMessage(role="user", content="say 1")]
    B3n(model="gemini-2.5-pro", api_key=api_key, api_base=base_url, reasoning_effort="medium").chat(messages)
    assert emulator.last_request().json["reasoning_effort"] == "medium"
    with pytest.warns(B3nAdaptationWarning):
        B3n(model="gemini-2.0-flash", api_key=api_key, api_base=base_url, reasoning_effort="medium").chat(messages)
    assert "reasoning_effort" not in emulator.last_request().json


def test_extra_body_is_merged_into_the_request(emulator: Emulator, base_url: str, api_key: str) -> None:
    from llama_index.core.llms import ChatMessage

    from llama_index_b3n import B3n

    llm = ChatB3n(model="gpt-4o-mini", api_key=api_key, base_url=base_url, extra_body={"user": "ann"})
    llm.invoke("say 1", extra_body={"metadata": {"trace": "t1"}})
    body = emulator.last_request().json
    assert body["user"] == "ann" and body["metadata"] == {"trace": "t1"} and "extra_body" not in body
    B3n(model="gpt-4o-mini", api_key=api_key, api_base=base_url,
        additional_kwargs={"extra_body": {"user": "bob"}}).chat([ChatMessage(role="user", content="say 1")])
    body = emulator.last_request().json
    assert body["user"] == "bob" and "extra_body" not in body
