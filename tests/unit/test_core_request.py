"""Payload building and per-model adaptation (no network)."""

from __future__ import annotations

import warnings

import pytest

from b3n._chat import (
    build_chat_request,
    image_data_part,
    image_url_part,
    normalize_tool_choice,
    tool_call_to_wire,
    tool_spec,
)
from b3n._errors import B3nAdaptationWarning, B3nInvalidRequestError

USER = [{"role": "user", "content": "hi"}]
TOOL = tool_spec("get_weather", "Weather in a city", {"type": "object", "properties": {"city": {"type": "string"}}})


def test_plain_payload_is_minimal() -> None:
    req = build_chat_request("gpt-4o-mini", USER)
    assert req.payload == {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    assert not req.emulate_stream


def test_stream_requests_usage_by_default_and_can_switch_it_off() -> None:
    assert build_chat_request("gpt-4o", USER, stream=True).payload["stream_options"] == {"include_usage": True}
    assert "stream_options" not in build_chat_request("gpt-4o", USER, stream=True, include_usage=False).payload


def test_o1_folds_system_into_first_user_turn_and_renames_max_tokens() -> None:
    msgs = [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "hi"}]
    with pytest.warns(B3nAdaptationWarning, match="temperature"):
        req = build_chat_request("o1-mini", msgs, temperature=0.2, max_tokens=10, stream=True)
    assert req.payload["messages"] == [{"role": "user", "content": "Be terse.\n\nhi"}]
    assert req.payload["max_completion_tokens"] == 10
    assert "max_tokens" not in req.payload and "temperature" not in req.payload and "stream" not in req.payload
    assert req.emulate_stream


def test_o1_system_only_conversation_becomes_user_turn() -> None:
    req = build_chat_request("o1-preview", [{"role": "system", "content": "Say 1"}])
    assert req.payload["messages"] == [{"role": "user", "content": "Say 1"}]


def test_o1_temperature_one_is_dropped_silently_because_it_is_the_only_value() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        req = build_chat_request("o1-mini", USER, temperature=1)
    assert "temperature" not in req.payload


def test_o1_refuses_tools_before_sending() -> None:
    with pytest.raises(B3nInvalidRequestError, match="tool calling"):
        build_chat_request("o1-mini", USER, tools=[TOOL])


def test_claude_temperature_is_clamped_with_warning() -> None:
    with pytest.warns(B3nAdaptationWarning, match="clamped"):
        req = build_chat_request("claude-3-5-sonnet-latest", USER, temperature=1.5)
    assert req.payload["temperature"] == 1.0


def test_empty_text_parts_are_never_sent() -> None:
    msgs = [{"role": "user", "content": [{"type": "text", "text": ""}, {"type": "text", "text": "hello"}]}]
    req = build_chat_request("claude-3-5-sonnet-latest", msgs)
    assert req.payload["messages"][0]["content"] == [{"type": "text", "text": "hello"}]


def test_assistant_tool_call_with_empty_content_sends_null_content() -> None:
    msgs = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": "", "tool_calls": [tool_call_to_wire("c1", "get_weather", {"city": "北京"})]},
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
    ]
    req = build_chat_request("gpt-4o", msgs, tools=[TOOL])
    assistant = req.payload["messages"][1]
    assert assistant["content"] is None
    assert assistant["tool_calls"][0]["function"]["arguments"] == '{"city": "北京"}'  # ensure_ascii=False


def test_dict_arguments_in_history_are_encoded_without_mutating_input() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": {"x": 1}}}
    msgs = [{"role": "assistant", "content": None, "tool_calls": [call]}]
    req = build_chat_request("gpt-4o", [*USER, *msgs])
    assert req.payload["messages"][1]["tool_calls"][0]["function"]["arguments"] == '{"x": 1}'
    assert call["function"]["arguments"] == {"x": 1}


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("any", "required"),
        (True, "required"),
        ("required", "required"),
        ("auto", "auto"),
        ("none", "none"),
        (False, "none"),
        ("get_weather", {"type": "function", "function": {"name": "get_weather"}}),
    ],
)
def test_tool_choice_mapping(choice: object, expected: object) -> None:
    assert normalize_tool_choice(choice, ["get_weather"]) == expected


def test_tool_choice_naming_an_unbound_tool_is_refused() -> None:
    with pytest.raises(B3nInvalidRequestError, match="names no bound tool"):
        normalize_tool_choice("nope", ["get_weather"])


def test_parallel_tool_calls_only_sent_when_set_and_forwarded() -> None:
    assert "parallel_tool_calls" not in build_chat_request("gpt-4o", USER, tools=[TOOL]).payload
    assert build_chat_request("gpt-4o", USER, tools=[TOOL], parallel_tool_calls=False).payload[
        "parallel_tool_calls"
    ] is False
    # the Claude adaptor does not take the field: never sent there
    assert "parallel_tool_calls" not in build_chat_request(
        "claude-3-5-sonnet-latest", USER, tools=[TOOL], parallel_tool_calls=False
    ).payload


def test_images_refused_for_text_only_models() -> None:
    msgs = [{"role": "user", "content": [{"type": "text", "text": "what?"}, image_url_part("https://x/y.png")]}]
    with pytest.raises(B3nInvalidRequestError, match="does not take image inputs"):
        build_chat_request("gpt-3.5-turbo", msgs)
    assert build_chat_request("gpt-4o-mini", msgs).payload["messages"][0]["content"][1]["type"] == "image_url"


def test_image_data_part_builds_data_url() -> None:
    part = image_data_part(b"\x89PNG", "image/png")
    assert part["image_url"]["url"] == "data:image/png;base64,iVBORw=="


@pytest.mark.parametrize(
    ("messages", "match"),
    [
        ([], "empty"),
        ([{"role": "wizard", "content": "x"}], "unknown role"),
        ([{"role": "tool", "content": "x"}], "tool_call_id"),
        (["hello"], "must be a dict"),
        ([{"role": "user", "content": [{"type": "video", "url": "x"}]}], "unsupported type"),
    ],
)
def test_bad_messages_are_refused(messages: list, match: str) -> None:
    with pytest.raises(B3nInvalidRequestError, match=match):
        build_chat_request("gpt-4o", messages)


@pytest.mark.parametrize(
    ("tool", "match"),
    [
        ({"type": "function", "function": {"name": "bad name!"}}, "invalid"),
        ({"type": "function", "function": {"name": "f", "parameters": {"type": "string"}}}, "schema object"),
        ({"type": "retrieval"}, "must be"),
    ],
)
def test_bad_tools_are_refused(tool: dict, match: str) -> None:
    with pytest.raises(B3nInvalidRequestError, match=match):
        build_chat_request("gpt-4o", USER, tools=[tool])


def test_duplicate_tool_names_refused() -> None:
    with pytest.raises(B3nInvalidRequestError, match="unique"):
        build_chat_request("gpt-4o", USER, tools=[TOOL, TOOL])


def test_non_serialisable_tool_arguments_refused() -> None:
    with pytest.raises(B3nInvalidRequestError, match="JSON-serialisable"):
        tool_call_to_wire("c1", "f", {"when": object()})


def test_n_greater_than_one_only_where_the_relay_forwards_it() -> None:
    assert build_chat_request("gpt-4o", USER, extra={"n": 2}).n == 2
    assert "n" not in build_chat_request("gpt-4o", USER, n=1).payload
    with pytest.raises(B3nInvalidRequestError, match="one choice per request"):
        build_chat_request("claude-3-5-sonnet-latest", USER, extra={"n": 2})
    with pytest.raises(B3nInvalidRequestError, match="cannot be streamed"):
        build_chat_request("gpt-4o", USER, n=2, stream=True)


def test_extra_parameters_pass_through_but_cannot_replace_messages() -> None:
    assert build_chat_request("gpt-4o", USER, extra={"seed": 7}).payload["seed"] == 7
    with pytest.raises(B3nInvalidRequestError):
        build_chat_request("gpt-4o", USER, extra={"messages": []})


def test_tool_choice_without_tools_refused() -> None:
    with pytest.raises(B3nInvalidRequestError, match="no tools"):
        build_chat_request("gpt-4o", USER, tool_choice="any")


def test_non_positive_max_tokens_refused() -> None:
    with pytest.raises(B3nInvalidRequestError, match="positive"):
        build_chat_request("gpt-4o", USER, max_tokens=0)
