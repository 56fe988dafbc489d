"""The names LlamaIndex users type, typos, unknown models and the other framework's objects (against the emulator).

Each argument is honored (the request at the server shows it) or refused before anything is sent, with the
closest valid name; a warning points at the caller's line (this file).
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from llama_index.core.base.llms.types import ChatMessage

from b3n._errors import B3nConfigurationError, B3nInvalidRequestError, B3nUnknownModelWarning
from b3n.testing import Emulator
from llama_index_b3n import B3n, B3nEmbedding

KEY = "sk-test"


def _say(text: str = "say 1") -> list[ChatMessage]:
    return [ChatMessage(role="user", content=text)]


def test_model_name_and_base_url_are_honored(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("B3N_BASE_URL", "http://127.0.0.1:9/v1")  # must not win over the argument
    llm = B3n(model_name="claude-3-5-sonnet-latest", base_url=emulator.base_url, api_key=KEY)
    assert llm.chat(_say()).message.content == "1"
    assert emulator.last_request("chat").json["model"] == "claude-3-5-sonnet-latest"  # type: ignore[index]
    emb = B3nEmbedding(model="text-embedding-3-large", base_url=emulator.base_url, api_key=KEY)
    assert len(emb.get_text_embedding("naïve café")) == 3072
    assert emulator.last_request("embeddings").json["model"] == "text-embedding-3-large"  # type: ignore[index]


@pytest.mark.parametrize(
    ("cls", "kwargs", "message"),
    [
        (B3n, {"model": "gpt-4o", "model_name": "gpt-4o-mini"}, "give model= or model_name="),
        (B3n, {"api_base": "http://127.0.0.1:1/v1", "base_url": "http://127.0.0.1:2/v1"}, "give api_base= or base_url="),
        (B3nEmbedding, {"model": "text-embedding-3-large", "model_name": "text-embedding-3-small"},
         "give model_name= or model="),
    ],
)
def test_two_names_for_one_setting_that_disagree_are_refused(cls: type[Any], kwargs: dict[str, Any],
                                                             message: str) -> None:
    with pytest.raises(B3nConfigurationError, match=message):
        cls(api_key=KEY, **kwargs)


@pytest.mark.parametrize(
    ("cls", "typo", "suggestion"),
    [
        (B3n, "temprature", "temperature"),
        (B3n, "max_token", "max_tokens"),
        (B3n, "contex_window", "context_window"),
        (B3n, "base_ur", "base_url"),
        (B3nEmbedding, "dimension", "dimensions"),
        (B3nEmbedding, "embed_batchsize", "embed_batch_size"),
    ],
)
def test_a_misspelt_constructor_argument_is_refused_with_the_closest_name(
    emulator: Emulator, cls: type[Any], typo: str, suggestion: str
) -> None:
    with pytest.raises(B3nConfigurationError) as caught:
        cls(api_key=KEY, api_base=emulator.base_url, **{typo: 1})
    assert f"unknown argument {typo!r}" in str(caught.value)
    assert f"Did you mean {suggestion!r}?" in str(caught.value)
    assert caught.traceback[0].path.name == "test_llamaindex_arguments.py"  # raised from the user's line
    assert emulator.total_requests == 0


@pytest.mark.parametrize(
    ("typo", "suggestion"), [("temprature", "temperature"), ("max_token", "max_tokens"), ("seeds", "seed")]
)
@pytest.mark.parametrize("call", ["chat", "stream_chat", "complete", "achat", "astream_complete"])
async def test_a_misspelt_per_call_argument_is_refused_before_sending(
    emulator: Emulator, typo: str, suggestion: str, call: str
) -> None:
    llm = B3n(api_key=KEY, api_base=emulator.base_url)
    method = getattr(llm, call)
    argument = "say 1" if "complete" in call else _say()
    with pytest.raises(B3nInvalidRequestError, match=f"unknown argument {typo!r}. Did you mean {suggestion!r}"):
        result = method(argument, **{typo: 0})
        if hasattr(result, "__await__"):
            result = await result
        if hasattr(result, "__anext__"):
            [r async for r in result]
        elif hasattr(result, "__next__"):
            list(result)
    assert emulator.total_requests == 0


def test_a_relay_field_b3n_does_not_know_goes_in_extra_body(emulator: Emulator) -> None:
    emulator.strict = False  # the relay of this user takes top_k
    llm = B3n(api_key=KEY, api_base=emulator.base_url)
    llm.chat(_say(), extra_body={"top_k": 4}, seed=3)
    sent = emulator.last_request("chat").json
    assert sent["top_k"] == 4 and sent["seed"] == 3 and "extra_body" not in sent  # type: ignore[index]


@pytest.mark.parametrize(("cls", "model", "known", "kind"), [
    (B3n, "gpt-4o-mni", "gpt-4o-mini", "model"),
    (B3nEmbedding, "text-embedding-3-larg", "text-embedding-3-large", "model_name"),
])
def test_an_unknown_model_is_sent_with_one_warning_at_the_callers_line(
    emulator: Emulator, cls: type[Any], model: str, known: str, kind: str
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        instance = cls(api_key=KEY, api_base=emulator.base_url, **{kind: model})
        if cls is B3n:
            instance.chat(_say())
            instance.chat(_say())
            B3n(api_key=KEY, api_base=emulator.base_url).chat(_say(), model=model)  # per call: said too
        else:
            instance.get_text_embedding("hi")
    unknown = [w for w in caught if issubclass(w.category, B3nUnknownModelWarning)]
    assert len(unknown) == (2 if cls is B3n else 1)  # once per construction / per-call model
    assert f"Did you mean {known!r}?" in str(unknown[0].message)
    assert unknown[0].filename == __file__
    route = "chat" if cls is B3n else "embeddings"
    assert emulator.last_request(route).json["model"] == model  # type: ignore[index]


def test_langchain_messages_are_converted_before_the_request(emulator: Emulator) -> None:
    llm = B3n(api_key=KEY, api_base=emulator.base_url)
    assert llm.complete(HumanMessage("say 7")).text == "7"
    assert emulator.last_request("chat").json["messages"] == [{"role": "user", "content": "say 7"}]  # type: ignore[index]
    reply = llm.chat([SystemMessage("Be brief."), HumanMessage("say 1"), AIMessage("1"), HumanMessage("say 2")])
    assert reply.message.content == "2"
    sent = emulator.last_request("chat").json["messages"]  # type: ignore[index]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]


@pytest.mark.parametrize(
    ("call", "value", "message"),
    [
        ("complete", AIMessage("hi"), "complete() takes the prompt text"),
        ("complete", object(), "not a llama_index ChatMessage"),
        ("chat", [AIMessage("", tool_calls=[{"name": "f", "args": {}, "id": "c1"}])], "not a llama_index ChatMessage"),
        ("chat", [ToolMessage("42", tool_call_id="c1")], "not a llama_index ChatMessage"),
        ("chat", [HumanMessage(content=[{"type": "image_url", "image_url": {"url": "https://x/a.png"}}])],
         "non-text content"),
        ("chat", "say 1", "messages must be a list"),
        ("stream_chat", [HumanMessage(content=[{"type": "image_url", "image_url": {"url": "https://x/a.png"}}])],
         "non-text content"),
    ],
)
def test_other_objects_are_refused_clearly_before_any_request(
    emulator: Emulator, call: str, value: Any, message: str
) -> None:
    llm = B3n(api_key=KEY, api_base=emulator.base_url)
    with pytest.raises(B3nInvalidRequestError, match=re.escape(message)):
        result = getattr(llm, call)(value)
        list(result) if call == "stream_chat" else None
    assert emulator.total_requests == 0


@pytest.mark.parametrize("name", ["context_window", "is_function_calling_model", "temperature", "tools"])
def test_an_llm_argument_given_to_the_embedding_is_refused(name: str) -> None:
    with pytest.raises(B3nConfigurationError, match=f"unknown argument {name!r}"):
        B3nEmbedding(api_key=KEY, **{name: 1})
