"""Unit tests of the LlamaIndex ``B3n`` LLM: construction, metadata, secrets, message and tool translation.

No network: everything here stops before a request is sent (the integration tests talk to the emulator).
"""

from __future__ import annotations

import base64
import json
import pickle
import warnings
from pathlib import Path

import pytest
from llama_index.core.base.llms.types import (
    AudioBlock,
    ChatMessage,
    ChatResponse,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel

from b3n._chat.types import ChatChunk, ToolCallDelta, Usage
from b3n._errors import B3nAdaptationWarning, B3nConfigurationError, B3nInvalidRequestError, B3nStructuredOutputError
from llama_index_b3n import B3n
from llama_index_b3n._messages import StreamConverter, message_to_wire, messages_to_wire

KEY = "sk-unit0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
# 1x1 transparent PNG
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def multiply(a: int, b: int) -> int:
    """Multiply two integers a and b."""
    return a * b


def add(a: int, b: int) -> int:
    """Add two integers a and b."""
    return a + b


TOOLS = [FunctionTool.from_defaults(fn=multiply), FunctionTool.from_defaults(fn=add)]


# ----------------------------------------------------------------------------- construction and metadata


def test_is_a_function_calling_llm_and_needs_no_key_or_io() -> None:
    llm = B3n(model="gemini-1.5-pro-latest")
    assert isinstance(llm, FunctionCallingLLM)
    assert llm.api_key is None
    assert llm.api_base == "https://api.b3n.fun/v1"


@pytest.mark.parametrize(
    ("model", "context_window", "num_output", "function_calling"),
    [
        ("gpt-4o-mini", 128_000, 16_384, True),
        ("claude-3-5-sonnet-latest", 200_000, 8_192, True),
        ("gemini-1.5-flash-latest", 1_048_576, 8_192, True),
        ("o1-mini", 128_000, 32_000, False),  # a quarter of the window is kept for the answer
        ("gpt-4-all", 128_000, 4_096, False),
        ("gpt-4", 8_192, 2_048, True),
    ],
)
def test_metadata_comes_from_the_catalog(model: str, context_window: int, num_output: int, function_calling: bool) -> None:
    meta = B3n(model=model).metadata
    assert meta.model_name == model
    assert meta.context_window == context_window
    assert meta.num_output == num_output
    assert meta.is_chat_model is True
    assert meta.is_function_calling_model is function_calling
    assert meta.system_role == MessageRole.SYSTEM


def test_unknown_models_are_accepted_and_capabilities_override() -> None:
    llm = B3n(model="brand-new-model-2030")
    assert llm.metadata.model_name == "brand-new-model-2030"
    assert llm.model_info.known is False
    tuned = B3n(model="gpt-4-all", capabilities={"tool_calling": True, "context_window": 4_000})
    assert tuned.metadata.is_function_calling_model is True
    assert tuned.metadata.context_window == 4_000


def test_max_tokens_sets_num_output() -> None:
    assert B3n(model="gpt-4o-mini", max_tokens=77).metadata.num_output == 77


def test_bad_configuration_fails_with_a_typed_error() -> None:
    with pytest.raises(B3nConfigurationError, match="capabilit"):
        B3n(capabilities={"teleportation": True})
    with pytest.raises(B3nConfigurationError, match="absolute http"):
        B3n(api_base="api.b3n.fun/v1")
    with pytest.raises(B3nConfigurationError, match="additional_kwargs"):
        B3n(additional_kwargs={"model": "other"})


def test_env_supplies_key_and_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("B3N_API_KEY", KEY)
    monkeypatch.setenv("B3N_BASE_URL", "http://127.0.0.1:9/v1/")
    llm = B3n()
    assert llm.api_key is not None and llm.api_key.get_secret_value() == KEY
    assert llm.api_base == "http://127.0.0.1:9/v1"
    explicit = B3n(api_key="sk-explicit", api_base="https://example.test/v1")
    assert explicit.api_key is not None and explicit.api_key.get_secret_value() == "sk-explicit"
    assert explicit.api_base == "https://example.test/v1"


def test_missing_key_fails_at_first_call_with_instructions() -> None:
    llm = B3n(api_base="http://127.0.0.1:9/v1")  # nothing listens there; the key check comes first
    with pytest.raises(B3nConfigurationError, match="B3N_API_KEY"):
        llm.chat([ChatMessage(role="user", content="hi")])


# ----------------------------------------------------------------------------- secrets


def test_key_never_leaks_into_repr_dicts_payload_or_pickles(monkeypatch: pytest.MonkeyPatch) -> None:
    llm = B3n(model="gpt-4o-mini", api_key=KEY, default_headers={"X-Team": "a"})
    assert KEY not in repr(llm)
    assert KEY not in str(llm)
    assert KEY not in json.dumps(llm.to_dict(), default=str)
    assert KEY not in llm.to_json()
    assert KEY not in json.dumps(llm.to_payload(), default=str)
    blob = pickle.dumps(llm)
    assert KEY.encode() not in blob
    restored = pickle.loads(blob)
    assert restored.model == "gpt-4o-mini" and restored.default_headers == {"X-Team": "a"}
    assert restored.api_key is None  # not in the pickle, and no env var set
    monkeypatch.setenv("B3N_API_KEY", KEY)
    again = pickle.loads(blob)
    assert again.api_key is not None and again.api_key.get_secret_value() == KEY


def test_round_trips_through_to_dict() -> None:
    llm = B3n(model="claude-3-5-sonnet-latest", temperature=0.3, max_tokens=50, strict=True)
    clone = B3n.from_dict(llm.to_dict())
    assert (clone.model, clone.temperature, clone.max_tokens, clone.strict) == ("claude-3-5-sonnet-latest", 0.3, 50, True)


# ----------------------------------------------------------------------------- messages to the wire


def test_text_system_and_tool_history_translate_to_openai_dicts() -> None:
    history = [
        ChatMessage(role="system", content="Be terse."),
        ChatMessage(role="user", content="What is 3 * 4?"),
        ChatMessage(
            role="assistant",
            blocks=[
                ThinkingBlock(content="I should multiply."),
                ToolCallBlock(tool_call_id="call_1", tool_name="multiply", tool_kwargs={"a": 3, "b": 4}),
                ToolCallBlock(tool_call_id="call_2", tool_name="add", tool_kwargs='{"a": 1, "b": 2}'),
            ],
        ),
        ChatMessage(role="tool", content="12", additional_kwargs={"tool_call_id": "call_1"}),
        ChatMessage(role="tool", content="3", additional_kwargs={"tool_call_id": "call_2"}),
    ]
    wire = messages_to_wire(history)
    assert wire[0] == {"role": "system", "content": "Be terse."}
    assert wire[1] == {"role": "user", "content": "What is 3 * 4?"}
    assert wire[2] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "multiply", "arguments": '{"a": 3, "b": 4}'}},
            {"id": "call_2", "type": "function", "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'}},
        ],
    }
    assert wire[3] == {"role": "tool", "content": "12", "tool_call_id": "call_1"}
    assert wire[4] == {"role": "tool", "content": "3", "tool_call_id": "call_2"}


def test_vendor_tool_call_extras_are_echoed_back() -> None:
    msg = ChatMessage(
        role="assistant",
        blocks=[ToolCallBlock(tool_call_id="c1", tool_name="f", tool_kwargs={})],
        additional_kwargs={"tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"},
                                           "extra_content": {"google": {"thought_signature": "sig"}}}]},
    )
    call = message_to_wire(msg)["tool_calls"][0]
    assert call["extra_content"] == {"google": {"thought_signature": "sig"}}
    assert call["function"] == {"name": "f", "arguments": "{}"}


def test_chatbot_and_model_roles_map_to_assistant_and_names_pass_through() -> None:
    assert message_to_wire(ChatMessage(role=MessageRole.CHATBOT, content="hi"))["role"] == "assistant"
    assert message_to_wire(ChatMessage(role=MessageRole.MODEL, content="hi"))["role"] == "assistant"
    named = message_to_wire(ChatMessage(role="user", content="hi", additional_kwargs={"name": "ann"}))
    assert named == {"role": "user", "content": "hi", "name": "ann"}


def test_image_blocks_become_image_url_parts(tmp_path: Path) -> None:
    path = tmp_path / "dot.png"
    path.write_bytes(PNG)
    msg = ChatMessage(
        role="user",
        blocks=[
            TextBlock(text="Describe these."),
            ImageBlock(url="https://example.com/cat.jpg", detail="low"),
            ImageBlock(image=PNG),
            ImageBlock(path=path),
        ],
    )
    wire = message_to_wire(msg)
    assert wire["content"][0] == {"type": "text", "text": "Describe these."}
    assert wire["content"][1] == {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg", "detail": "low"}}
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert wire["content"][2] == {"type": "image_url", "image_url": {"url": data_url}}
    assert wire["content"][3] == {"type": "image_url", "image_url": {"url": data_url}}


def test_unsupported_blocks_and_misplaced_images_are_refused() -> None:
    with pytest.raises(B3nInvalidRequestError, match="AudioBlock"):
        message_to_wire(ChatMessage(role="assistant", blocks=[AudioBlock(audio=b"RIFF....", format="wav")]))
    with pytest.raises(B3nInvalidRequestError, match="wav or mp3"):
        message_to_wire(ChatMessage(role="user", blocks=[AudioBlock(audio=b"OggS....", format="ogg")]))
    with pytest.raises(B3nInvalidRequestError, match="only user messages"):
        message_to_wire(ChatMessage(role="assistant", blocks=[ImageBlock(url="https://example.com/a.png")]))


def test_text_only_model_refuses_images_before_sending() -> None:
    llm = B3n(model="o1-mini", api_key=KEY, api_base="http://127.0.0.1:9/v1")
    msg = ChatMessage(role="user", blocks=[TextBlock(text="what?"), ImageBlock(url="https://example.com/a.png")])
    with pytest.raises(B3nInvalidRequestError, match="image inputs"):
        llm.chat([msg])


# ----------------------------------------------------------------------------- request adaptation


def test_request_carries_settings_and_per_call_overrides() -> None:
    llm = B3n(model="gpt-4o-mini", temperature=0.2, max_tokens=64, additional_kwargs={"seed": 7, "top_p": 0.5})
    req = llm._request([ChatMessage(role="user", content="hi")], False, {"top_p": 0.9, "stop": ["\n"]})
    assert req.payload["temperature"] == 0.2
    assert req.payload["max_tokens"] == 64
    assert req.payload["seed"] == 7
    assert req.payload["top_p"] == 0.9
    assert req.payload["stop"] == ["\n"]
    assert "stream" not in req.payload


def test_stream_usage_and_stream_options() -> None:
    msgs = [ChatMessage(role="user", content="hi")]
    assert B3n()._request(msgs, True, {}).payload["stream_options"] == {"include_usage": True}
    assert "stream_options" not in B3n(stream_usage=False)._request(msgs, True, {}).payload
    # the LlamaIndex OpenAI idiom additional_kwargs={"stream_options": ...} is understood, never sent unstreamed
    llm = B3n(stream_usage=False, additional_kwargs={"stream_options": {"include_usage": True}})
    assert llm._request(msgs, True, {}).payload["stream_options"] == {"include_usage": True}
    assert "stream_options" not in llm._request(msgs, False, {}).payload


def test_o1_requests_are_adapted_by_the_core() -> None:
    llm = B3n(model="o1-mini", max_tokens=100)
    msgs = [ChatMessage(role="system", content="Be terse."), ChatMessage(role="user", content="hi")]
    req = llm._request(msgs, True, {})
    assert req.payload["messages"] == [{"role": "user", "content": "Be terse.\n\nhi"}]
    assert req.payload["max_completion_tokens"] == 100
    assert req.emulate_stream is True and "stream" not in req.payload
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert "temperature" not in B3n(model="o1-mini", temperature=0.5)._request(msgs, False, {}).payload
    assert any(issubclass(w.category, B3nAdaptationWarning) for w in caught)


# ----------------------------------------------------------------------------- tools


def test_prepare_chat_with_tools_builds_openai_tools() -> None:
    llm = B3n(model="gpt-4o-mini")
    kwargs = llm._prepare_chat_with_tools(TOOLS, user_msg="What is 3 * 4?", tool_required=True)
    assert [m.content for m in kwargs["messages"]] == ["What is 3 * 4?"]
    assert kwargs["tool_choice"] == "required"
    assert kwargs["parallel_tool_calls"] is False
    names = [t["function"]["name"] for t in kwargs["tools"]]
    assert names == ["multiply", "add"]
    params = kwargs["tools"][0]["function"]["parameters"]
    assert params["properties"]["a"]["type"] == "integer" and params["required"] == ["a", "b"]
    req = llm._request(kwargs.pop("messages"), False, kwargs)
    assert req.payload["tool_choice"] == "required"
    assert req.payload["parallel_tool_calls"] is False


def test_tool_choice_by_name_and_auto_default() -> None:
    llm = B3n(model="gpt-4o-mini")
    kwargs = llm._prepare_chat_with_tools(TOOLS, user_msg="x", tool_choice="add", allow_parallel_tool_calls=True)
    req = llm._request(kwargs.pop("messages"), False, kwargs)
    assert req.payload["tool_choice"] == {"type": "function", "function": {"name": "add"}}
    assert req.payload["parallel_tool_calls"] is True
    plain = llm._prepare_chat_with_tools(TOOLS, user_msg="x")
    assert "tool_choice" not in plain  # the API default (auto)


def test_parallel_tool_calls_is_not_sent_where_the_relay_rejects_it() -> None:
    for model in ("claude-3-5-sonnet-latest", "gemini-1.5-flash-latest"):
        llm = B3n(model=model)
        kwargs = llm._prepare_chat_with_tools(TOOLS, user_msg="x")
        assert "parallel_tool_calls" not in llm._request(kwargs.pop("messages"), False, kwargs).payload


def test_strict_tools_get_strict_schemas() -> None:
    llm = B3n(model="gpt-4o-mini", strict=True)
    spec = llm._prepare_chat_with_tools(TOOLS, user_msg="x")["tools"][0]["function"]
    assert spec["strict"] is True
    assert spec["parameters"]["additionalProperties"] is False
    assert spec["parameters"]["required"] == ["a", "b"]
    loose = B3n(model="gpt-4o-mini")._prepare_chat_with_tools(TOOLS, user_msg="x", strict=False)["tools"][0]
    assert "strict" not in loose["function"]


def test_tools_on_a_model_without_tool_calling_are_refused_before_sending() -> None:
    llm = B3n(model="o1-mini", api_key=KEY, api_base="http://127.0.0.1:9/v1")
    with pytest.raises(B3nInvalidRequestError, match="tool calling"):
        llm.chat_with_tools(TOOLS, user_msg="What is 3 * 4?")


def _response_with_calls(*calls: tuple[str, str, str]) -> ChatResponse:
    blocks = [ToolCallBlock(tool_call_id=i, tool_name=n, tool_kwargs=a) for i, n, a in calls]
    return ChatResponse(message=ChatMessage(role="assistant", blocks=[TextBlock(text="Let me."), *blocks]))


def test_get_tool_calls_parses_complete_and_partial_json() -> None:
    llm = B3n()
    resp = _response_with_calls(("c1", "multiply", '{"a": 3, "b": 4}'), ("c2", "add", '{"a": 1, "b'), ("c3", "add", ""))
    calls = llm.get_tool_calls_from_response(resp)
    assert [(c.tool_id, c.tool_name, c.tool_kwargs) for c in calls] == [
        ("c1", "multiply", {"a": 3, "b": 4}),
        ("c2", "add", {"a": 1}),
        ("c3", "add", {}),
    ]


def test_get_tool_calls_without_calls() -> None:
    llm = B3n()
    text_only = ChatResponse(message=ChatMessage(role="assistant", content="No tools needed."))
    assert llm.get_tool_calls_from_response(text_only, error_on_no_tool_call=False) == []
    with pytest.raises(B3nStructuredOutputError, match="without calling a tool"):
        llm.get_tool_calls_from_response(text_only)
    with pytest.raises(ValueError):  # what LlamaIndex code written for OpenAI catches
        llm.get_tool_calls_from_response(text_only)


def test_validate_keeps_only_the_first_call_unless_parallel_allowed() -> None:
    llm = B3n()
    resp = _response_with_calls(("c1", "multiply", "{}"), ("c2", "add", "{}"))
    kept = llm._validate_chat_with_tools_response(resp, TOOLS, allow_parallel_tool_calls=True)
    assert len(llm.get_tool_calls_from_response(kept)) == 2
    single = llm._validate_chat_with_tools_response(resp, TOOLS, allow_parallel_tool_calls=False)
    assert [c.tool_name for c in llm.get_tool_calls_from_response(single)] == ["multiply"]
    assert single.message.content == "Let me."


# ----------------------------------------------------------------------------- structured output choice


class Person(BaseModel):
    """A person."""

    name: str
    age: int


def test_structured_output_method_follows_the_catalog() -> None:
    assert B3n(model="gpt-4o-mini")._use_json_schema() is True
    assert B3n(model="gpt-4o")._use_json_schema() is True
    for model in ("claude-3-5-sonnet-latest", "gemini-1.5-flash-latest", "gpt-4-turbo", "o1-mini"):
        assert B3n(model=model)._use_json_schema() is False
    fmt = B3n(model="gpt-4o-mini")._schema_kwargs({"tool_choice": "auto"}, Person)
    assert "tool_choice" not in fmt
    assert fmt["response_format"]["type"] == "json_schema"
    assert fmt["response_format"]["json_schema"]["name"] == "Person"
    assert fmt["response_format"]["json_schema"]["schema"]["required"] == ["name", "age"]
    assert B3n(model="claude-3-5-sonnet-latest")._tool_kwargs(None) == {"tool_choice": "required"}
    assert B3n(model="o1-mini")._tool_kwargs(None) == {}


def test_parse_structured_reports_bad_replies() -> None:
    llm = B3n(model="gpt-4o-mini")
    assert llm._parse_structured(Person, '```json\n{"name": "Ann", "age": 3}\n```') == Person(name="Ann", age=3)
    with pytest.raises(B3nStructuredOutputError, match="did not reply with JSON"):
        llm._parse_structured(Person, "Ann is three.")
    with pytest.raises(B3nStructuredOutputError, match="not a valid Person"):
        llm._parse_structured(Person, '{"name": "Ann"}')


# ----------------------------------------------------------------------------- stream state


def test_stream_converter_builds_cumulative_messages() -> None:
    converter = StreamConverter()
    first = converter.convert(ChatChunk(reasoning="Hmm. "))
    assert first.additional_kwargs == {"thinking_delta": "Hmm. "}
    assert first.delta == ""
    r1 = converter.convert(ChatChunk(content="Let me ", tool_calls=[ToolCallDelta(0, "c1", "multiply", '{"a": 3')]))
    r2 = converter.convert(ChatChunk(content="check.", tool_calls=[ToolCallDelta(0, None, None, ', "b": 4}'),
                                                             ToolCallDelta(1, "c2", "add", "{}")]))
    assert (r1.delta, r1.message.content) == ("Let me ", "Let me ")
    assert (r2.delta, r2.message.content) == ("check.", "Let me check.")
    calls = [b for b in r2.message.blocks if isinstance(b, ToolCallBlock)]
    assert [(c.tool_call_id, c.tool_name, c.tool_kwargs) for c in calls] == [
        ("c1", "multiply", '{"a": 3, "b": 4}'),
        ("c2", "add", "{}"),
    ]
    thinking = [b for b in r2.message.blocks if isinstance(b, ThinkingBlock)]
    assert thinking[0].content == "Hmm. "
    end = converter.convert(ChatChunk(final=True, finish_reason="tool_calls", model="gpt-4o-mini", id="x",
                                 usage=Usage(5, 7, 12, reasoning_tokens=3)))
    assert end.delta == ""
    assert end.message.content == "Let me check."
    assert end.additional_kwargs == {
        "prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12, "reasoning_tokens": 3,
        "model": "gpt-4o-mini", "finish_reason": "tool_calls", "api_format": "openai",
    }
    assert end.raw["usage"]["total_tokens"] == 12 and end.raw["model"] == "gpt-4o-mini"
    assert len(B3n().get_tool_calls_from_response(end)) == 2
