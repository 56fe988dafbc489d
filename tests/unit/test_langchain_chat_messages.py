"""ChatB3n message translation: LangChain messages -> wire dicts, core results -> LangChain messages.

The stream tests feed raw relay chunk shapes (the quirks of b3n-api.md §4.2 and anchors §4.2)
through the real core ``StreamAssembler`` and then through the adapter's ``StreamConverter``,
i.e. exactly the pipeline ``ChatB3n._stream`` runs, minus HTTP.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from b3n._chat import ChatChunk, StreamAssembler, ToolCallDelta, Usage, parse_chat_completion
from b3n._chat.request import build_chat_request
from b3n._errors import B3nInvalidRequestError
from langchain_b3n._messages import (
    TOOL_CALL_EXTRAS,
    StreamConverter,
    completion_to_message,
    message_to_wire,
    messages_to_wire,
    usage_metadata,
)

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n fake").decode()
SIGNATURE = {"extra_content": {"google": {"thought_signature": "c2lnLTE="}}}


# ----------------------------------------------------------------------------- outgoing


def test_roles_names_and_plain_strings() -> None:
    wire = messages_to_wire(
        [
            SystemMessage("Be terse."),
            HumanMessage("hi", name="example_user"),
            AIMessage("hello", name="bot"),
            ChatMessage(role="developer", content="rules"),
            ChatMessage(role="human", content="again"),
        ]
    )
    assert wire == [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "hi", "name": "example_user"},
        {"role": "assistant", "content": "hello", "name": "bot"},
        {"role": "developer", "content": "rules"},
        {"role": "user", "content": "again"},
    ]


def test_text_blocks_are_cleaned_and_empty_ones_dropped() -> None:
    msg = HumanMessage(
        content=[
            {"type": "text", "text": "a", "cache_control": {"type": "ephemeral"}, "id": "x"},
            {"type": "text", "text": ""},
            "b",
        ]
    )
    # cache_control is kept for the core, which sends it to Claude and drops it for other families
    assert message_to_wire(msg)["content"] == [{"type": "text", "text": "a", "cache_control": {"type": "ephemeral"}},
                                               {"type": "text", "text": "b"}]
    assert message_to_wire(HumanMessage(content=[{"type": "text", "text": "only"}]))["content"] == "only"


@pytest.mark.parametrize(
    "block",
    [
        {"type": "image", "base64": PNG, "mime_type": "image/png"},  # v1 standard block
        {"type": "image", "source_type": "base64", "data": PNG, "mime_type": "image/png"},  # legacy v0 block
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},  # Anthropic
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},  # OpenAI
        {"type": "image_url", "image_url": f"data:image/png;base64,{PNG}"},  # OpenAI, bare string
    ],
)
def test_inline_images_become_data_url_parts(block: dict[str, Any]) -> None:
    wire = message_to_wire(HumanMessage(content=[{"type": "text", "text": "describe"}, block]))
    assert wire["content"] == [
        {"type": "text", "text": "describe"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
    ]


@pytest.mark.parametrize(
    "block",
    [
        {"type": "image", "url": "https://example.com/cat.png"},
        {"type": "image", "source_type": "url", "url": "https://example.com/cat.png"},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "low"}},
    ],
)
def test_image_urls(block: dict[str, Any]) -> None:
    part = message_to_wire(HumanMessage(content=[block]))["content"][0]
    assert part["type"] == "image_url"
    assert part["image_url"]["url"] == "https://example.com/cat.png"


@pytest.mark.parametrize(
    "block",
    [
        {"type": "image", "file_id": "file-123"},  # no chat-completions form
        {"type": "image", "base64": PNG},  # base64 without a mime_type
        {"type": "video", "url": "https://example.com/v.mp4"},
        {"type": "tool_result", "tool_use_id": "x", "content": "3"},
        {"type": "image_url"},
    ],
)
def test_unsendable_user_blocks_raise_a_typed_error(block: dict[str, Any]) -> None:
    with pytest.raises(B3nInvalidRequestError):
        message_to_wire(HumanMessage(content=[block]))


def test_assistant_history_with_tool_calls_is_serialised_with_ensure_ascii_false() -> None:
    ai = AIMessage(
        content="",
        tool_calls=[{"name": "unicode_customer", "args": {"customer_name": "你好啊集团"}, "id": "call_1"}],
    )
    wire = message_to_wire(ai)
    assert wire["tool_calls"] == [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "unicode_customer", "arguments": '{"customer_name": "你好啊集团"}'},
        }
    ]
    assert wire["content"] == ""


def test_assistant_list_content_keeps_signed_thinking_and_drops_foreign_blocks() -> None:
    ai = AIMessage(
        content=[
            {"type": "thinking", "thinking": "hmm", "signature": "sig"},
            {"type": "text", "text": "some text"},
            {"type": "tool_use", "id": "abc123", "name": "my_adder_tool", "input": {"a": 1, "b": 2}},
        ],
        tool_calls=[{"name": "my_adder_tool", "args": {"a": 1, "b": 2}, "id": "abc123"}],
    )
    wire = message_to_wire(ai)
    # the signed thinking block goes back (Claude's native route needs it; the OpenAI format strips it)
    assert wire["content"] == [{"type": "thinking", "thinking": "hmm", "signature": "sig"},
                               {"type": "text", "text": "some text"}]
    assert [c["id"] for c in wire["tool_calls"]] == ["abc123"]


def test_v1_assistant_content_is_converted_back() -> None:
    ai = AIMessage(
        content=[
            {"type": "reasoning", "reasoning": "think"},
            {"type": "text", "text": "Let me check."},
            {"type": "tool_call", "id": "c1", "name": "get_weather", "args": {"location": "SF"}},
        ],
        tool_calls=[{"name": "get_weather", "args": {"location": "SF"}, "id": "c1"}],
        response_metadata={"output_version": "v1"},
    )
    wire = message_to_wire(ai)
    assert wire["content"] == "Let me check."
    assert json.loads(wire["tool_calls"][0]["function"]["arguments"]) == {"location": "SF"}


def test_assistant_image_block_is_refused() -> None:
    with pytest.raises(B3nInvalidRequestError, match="'image'"):
        message_to_wire(AIMessage(content=[{"type": "image", "url": "https://example.com/x.png"}]))


def test_invalid_tool_calls_are_sent_back_verbatim() -> None:
    ai = AIMessage(
        content="",
        invalid_tool_calls=[{"type": "invalid_tool_call", "name": "f", "args": "{bad", "id": "c9", "error": "x"}],
    )
    assert message_to_wire(ai)["tool_calls"][0]["function"] == {"name": "f", "arguments": "{bad"}


def test_tool_call_without_id_is_refused() -> None:
    ai = AIMessage(content="", tool_calls=[{"name": "f", "args": {}, "id": None}])
    with pytest.raises(B3nInvalidRequestError, match="no id"):
        message_to_wire(ai)


def test_tool_messages_send_text_or_parts_and_never_status() -> None:
    assert message_to_wire(ToolMessage('{"result": 3}', tool_call_id="abc", name="adder", status="error")) == {
        "role": "tool",
        "tool_call_id": "abc",
        "content": '{"result": 3}',
    }
    listed = ToolMessage(content=[{"type": "text", "text": "a"}, "b"], tool_call_id="t")
    assert message_to_wire(listed)["content"] == "a\nb"
    image = message_to_wire(ToolMessage(content=[{"type": "image", "url": "https://x/y.png"}], tool_call_id="t"))
    assert image["content"] == [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]  # native route only


def test_function_messages_are_refused() -> None:
    with pytest.raises(B3nInvalidRequestError, match="FunctionMessage"):
        message_to_wire(FunctionMessage(content="1", name="f"))


def test_legacy_additional_kwargs_tool_calls_are_used_when_no_parsed_calls() -> None:
    raw = [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    ai = AIMessage(content="", additional_kwargs={"tool_calls": raw})
    assert message_to_wire(ai)["tool_calls"] == raw


def test_thought_signature_round_trip_through_a_whole_response() -> None:
    """Gemini's ``extra_content`` survives response -> AIMessage -> next request."""
    body = {
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_a",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"location": "SF"}'},
                            **SIGNATURE,
                        }
                    ],
                },
                "finish_reason": "stop",
            }
        ]
    }
    message = completion_to_message(parse_chat_completion(body, "gemini-2.5-flash"))
    assert message.additional_kwargs[TOOL_CALL_EXTRAS] == {"call_a": SIGNATURE}
    history: list[BaseMessage] = [HumanMessage("weather?"), message, ToolMessage("sunny", tool_call_id="call_a")]
    wire = messages_to_wire(history)
    assert wire[1]["tool_calls"][0]["extra_content"] == SIGNATURE["extra_content"]
    # and the core keeps it in the payload it sends
    payload = build_chat_request("gemini-2.5-flash", wire).payload
    assert payload["messages"][1]["tool_calls"][0]["extra_content"] == SIGNATURE["extra_content"]


# ----------------------------------------------------------------------------- incoming, whole


def test_usage_details_map_to_langchain_keys() -> None:
    assert usage_metadata(Usage(10, 40, 50, reasoning_tokens=32, cached_tokens=4)) == {
        "input_tokens": 10,
        "output_tokens": 40,
        "total_tokens": 50,
        "input_token_details": {"cache_read": 4},
        "output_token_details": {"reasoning": 32},
    }
    assert usage_metadata(Usage(1, 2, 3)) == {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}


def test_claude_duplicate_index_choices_become_one_message() -> None:
    body = {
        "id": "chatcmpl-x",
        "model": "claude-3-5-sonnet-latest",
        "choices": [
            {
                "index": 0,
                "message": {
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "toolu_1",
                            "type": "function",
                            "function": {"name": "get_current_weather", "arguments": '{"location":"Boston, MA"}'},
                        }
                    ],
                },
                "finish_reason": "tool_calls",
            },
            {"index": 0, "message": {"content": "I'll check the weather."}, "finish_reason": "stop"},
        ],
        "usage": {"prompt_tokens": 425, "completion_tokens": 78, "total_tokens": 503},
    }
    msg = completion_to_message(parse_chat_completion(body, "claude-3-5-sonnet-latest"))
    assert msg.content == "I'll check the weather."
    assert msg.tool_calls == [
        {"name": "get_current_weather", "args": {"location": "Boston, MA"}, "id": "toolu_1", "type": "tool_call"}
    ]
    assert msg.response_metadata["finish_reason"] == "tool_calls"
    assert msg.response_metadata["model_provider"] == "b3n"
    assert msg.id == "chatcmpl-x"
    assert "system_fingerprint" not in msg.response_metadata


def test_missing_model_falls_back_and_reasoning_refusal_and_bad_args() -> None:
    body = {
        "choices": [
            {
                "index": 0,
                "message": {
                    "content": "1 \n",
                    "reasoning_content": "because",
                    "refusal": "no can do",
                    "tool_calls": [
                        {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{not json"}},
                        {"id": "b", "type": "function", "function": {"name": "g", "arguments": "[1]"}},
                        {"id": "c", "type": "function", "function": {"name": "h", "arguments": ""}},
                    ],
                },
                "finish_reason": "stop",
            }
        ],
        "model": "",
    }
    msg = completion_to_message(parse_chat_completion(body, "gemini-1.5-pro-latest"))
    assert msg.response_metadata["model_name"] == "gemini-1.5-pro-latest"
    assert msg.content == "1"
    assert msg.additional_kwargs["reasoning_content"] == "because"
    assert msg.additional_kwargs["refusal"] == "no can do"
    assert [(c["name"], c["args"]) for c in msg.tool_calls] == [("h", {})]
    assert [c["name"] for c in msg.invalid_tool_calls] == ["f", "g"]
    assert {"type": "reasoning", "reasoning": "because"} in msg.content_blocks


# ----------------------------------------------------------------------------- incoming, streams


def _run(
    raw_chunks: list[dict[str, Any]], model: str, *, v1: bool = False
) -> tuple[AIMessageChunk, list[AIMessageChunk]]:
    """Raw relay chunks -> core StreamAssembler -> StreamConverter -> merged AIMessageChunk."""
    assembler = StreamAssembler(model)
    converter = StreamConverter(v1=v1)
    out: list[AIMessageChunk] = []
    for raw in raw_chunks:
        chunk = assembler.feed(raw)
        if chunk is not None:
            out.append(converter.convert(chunk).message)  # type: ignore[arg-type]
    out.append(converter.convert(assembler.finish()).message)  # type: ignore[arg-type]
    full = out[0]
    for piece in out[1:]:
        full = full + piece
    return full, out


def _delta(delta: dict[str, Any], finish: str | None = None, **top: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **top}


def _call(cid: str | None, name: str | None, args: str, index: int | None = None, **extra: Any) -> dict[str, Any]:
    call: dict[str, Any] = {"function": {"arguments": args}, **extra}
    if name is not None:
        call["function"]["name"] = name
    if cid is not None:
        call["id"] = cid
        call["type"] = "function"
    if index is not None:
        call["index"] = index
    return call


def test_openai_fragmented_tool_calls_merge() -> None:
    raw = [
        _delta({"role": "assistant", "tool_calls": [_call("c1", "magic_function", "", 0)]}, model="gpt-4o-mini-x"),
        _delta({"tool_calls": [_call(None, None, '{"inp', 0)]}),
        _delta({"tool_calls": [_call(None, None, 'ut": 3}', 0)]}),
        _delta({"tool_calls": [_call("c2", "get_weather", '{"location": "SF"}', 1)]}, "tool_calls"),
    ]
    full, _ = _run(raw, "gpt-4o-mini")
    assert [(c["name"], c["args"], c["id"]) for c in full.tool_calls] == [
        ("magic_function", {"input": 3}, "c1"),
        ("get_weather", {"location": "SF"}, "c2"),
    ]
    assert full.response_metadata["model_name"] == "gpt-4o-mini-x"


def test_gemini_index_less_whole_calls_in_one_delta_with_finish_stop() -> None:
    raw = [
        _delta(
            {
                "role": "assistant",
                "tool_calls": [
                    _call("c1", "magic_function", '{"input": 3}', **SIGNATURE),
                    _call("c2", "get_weather", '{"location": "SF"}'),
                ],
            },
            "stop",
            model="",
        )
    ]
    full, _ = _run(raw, "gemini-1.5-flash-latest")
    assert [(c["name"], c["args"]) for c in full.tool_calls] == [
        ("magic_function", {"input": 3}),
        ("get_weather", {"location": "SF"}),
    ]
    assert full.response_metadata["finish_reason"] == "tool_calls"
    assert full.response_metadata["model_name"] == "gemini-1.5-flash-latest"
    assert full.additional_kwargs[TOOL_CALL_EXTRAS] == {"c1": SIGNATURE}
    # and the merged message is sendable history with the signature echoed
    assert (
        message_to_wire(AIMessage(**{**full.model_dump(), "type": "ai"}))["tool_calls"][0]["extra_content"]
        == (SIGNATURE["extra_content"])
    )


def test_gemini_index_less_fragments_continue_the_last_call() -> None:
    raw = [
        _delta({"tool_calls": [_call("c1", "magic_function", '{"input"')]}),
        _delta({"tool_calls": [_call(None, None, ": 3}")]}, "stop"),
    ]
    full, _ = _run(raw, "gemini-1.5-flash-latest")
    assert [(c["name"], c["args"]) for c in full.tool_calls] == [("magic_function", {"input": 3})]
    assert full.invalid_tool_calls == []


def test_parallel_calls_collapsed_onto_index_zero_stay_apart() -> None:
    raw = [
        _delta({"tool_calls": [_call("c1", "magic_function", '{"input": 3}', 0)]}),
        _delta({"tool_calls": [_call("c2", "get_weather", '{"location": "SF"}', 0)]}, "tool_calls"),
    ]
    full, _ = _run(raw, "gemini-1.5-flash-latest")
    assert [(c["name"], c["args"], c["id"]) for c in full.tool_calls] == [
        ("magic_function", {"input": 3}, "c1"),
        ("get_weather", {"location": "SF"}, "c2"),
    ]


@pytest.mark.parametrize("v1", [False, True])
def test_claude_text_then_index_less_fragments(v1: bool) -> None:
    raw = [
        _delta({"role": "assistant", "content": "I'll use magic_function."}, model="claude-3-5-sonnet-latest"),
        _delta({"tool_calls": [_call("toolu_1", "magic_function", "")]}),
        _delta({"tool_calls": [_call(None, None, '{"in')]}),
        _delta({"tool_calls": [_call(None, None, 'put":3}')]}, "tool_calls"),
        {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 7, "total_tokens": 16}},
    ]
    full, chunks = _run(raw, "claude-3-5-sonnet-latest", v1=v1)
    assert full.text == "I'll use magic_function."
    assert [(c["name"], c["args"], c["id"]) for c in full.tool_calls] == [("magic_function", {"input": 3}, "toolu_1")]
    assert [b["type"] for b in full.content_blocks] == ["text", "tool_call"]
    assert full.usage_metadata == {"input_tokens": 9, "output_tokens": 7, "total_tokens": 16}
    assert sum(1 for c in chunks if c.usage_metadata) == 1
    assert full.chunk_position == "last"


def test_metadata_and_usage_appear_on_exactly_one_chunk() -> None:
    raw = [
        _delta({"role": "assistant", "content": ""}, model="gpt-4o-mini-2024-07-18", id="chatcmpl-1", usage=None),
        _delta({"content": "Hello "}, model="gpt-4o-mini-2024-07-18", usage=None),
        _delta({"content": "there"}, "stop", model="gpt-4o-mini-2024-07-18", usage=None),
        {
            "choices": [],
            "model": "gpt-4o-mini-2024-07-18",
            "usage": {
                "prompt_tokens": 3,
                "completion_tokens": 2,
                "total_tokens": 5,
                "completion_tokens_details": {"reasoning_tokens": 0},
                "prompt_tokens_details": {"cached_tokens": 1},
            },
        },
    ]
    full, chunks = _run(raw, "gpt-4o-mini")
    assert full.content == "Hello there"
    assert full.response_metadata["model_name"] == "gpt-4o-mini-2024-07-18"  # not concatenated
    assert full.response_metadata["finish_reason"] == "stop"
    assert full.response_metadata["id"] == "chatcmpl-1"
    assert [c for c in chunks if c.usage_metadata] == [chunks[-1]]
    assert full.usage_metadata == {
        "input_tokens": 3,
        "output_tokens": 2,
        "total_tokens": 5,
        "input_token_details": {"cache_read": 1},
        "output_token_details": {"reasoning": 0},
    }


def test_stream_without_usage_degrades_gracefully() -> None:
    full, _ = _run([_delta({"content": "hi"}, "stop")], "gpt-4o-mini")
    assert full.usage_metadata is None
    assert full.response_metadata["model_name"] == "gpt-4o-mini"


@pytest.mark.parametrize("v1", [False, True])
def test_reasoning_content_deltas(v1: bool) -> None:
    raw = [
        _delta({"reasoning_content": "Let me think. "}),
        _delta({"reasoning_content": "Done."}),
        _delta({"content": "42"}, "stop"),
    ]
    full, _ = _run(raw, "deepseek-reasoner", v1=v1)
    assert full.text == "42"
    blocks = full.content_blocks
    assert [b["type"] for b in blocks] == ["reasoning", "text"]
    assert blocks[0]["reasoning"] == "Let me think. Done."
    if not v1:
        assert full.additional_kwargs["reasoning_content"] == "Let me think. Done."


def test_claude_thinking_tags_become_reasoning() -> None:
    raw = [_delta({"content": "<thinking>\nplan"}), _delta({"content": " more</thinking>\nAnswer."}, "stop")]
    full, _ = _run(raw, "claude-3-opus-latest")
    assert full.content == "Answer."
    assert "plan more" in full.additional_kwargs["reasoning_content"]


def test_emulated_stream_chunk_with_everything_maps_in_v1() -> None:
    """o1-style: one content chunk with reasoning, text and a call, then the terminal chunk."""
    converter = StreamConverter(v1=True)
    first = converter.convert(
        ChatChunk(content="ok", reasoning="r", tool_calls=[ToolCallDelta(0, "c1", "f", '{"a": 1}')])
    ).message
    last = converter.convert(ChatChunk(final=True, finish_reason="tool_calls", model="o1-mini", usage=Usage(1, 2, 3))).message
    full = first + last
    assert [b["type"] for b in full.content_blocks] == ["reasoning", "text", "tool_call"]
    assert full.tool_calls[0]["args"] == {"a": 1}
