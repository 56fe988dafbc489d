"""Lenient parsing of non-streamed responses: one test per documented quirk (b3n-api.md §4.2)."""

from __future__ import annotations

import pytest

from b3n._chat import parse_chat_completion
from b3n._errors import B3nInsufficientQuotaError, B3nResponseError


def _body(message: dict, **extra: object) -> dict:
    return {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}], **extra}


def test_gemini_missing_model_falls_back_to_requested() -> None:
    c = parse_chat_completion(_body({"content": "1 \n"}), "gemini-1.5-flash-latest")
    assert c.model == "gemini-1.5-flash-latest"


def test_gemini_empty_model_falls_back_to_requested() -> None:
    c = parse_chat_completion(_body({"content": "x"}, model=""), "gemini-1.5-pro-latest")
    assert c.model == "gemini-1.5-pro-latest"


def test_gemini_trailing_whitespace_is_stripped() -> None:
    assert parse_chat_completion(_body({"content": "1 \n"}), "gemini-1.5-flash-latest").content == "1"


def test_trailing_newline_kept_for_models_that_do_not_add_it() -> None:
    code = "```python\nprint(1)\n```\n"
    assert parse_chat_completion(_body({"content": code}), "gpt-4o-mini").content == code
    assert parse_chat_completion(_body({"content": code}), "claude-3-5-sonnet-latest").content == code


def test_dated_openai_model_is_kept() -> None:
    c = parse_chat_completion(_body({"content": "x"}, model="gpt-4o-mini-2024-07-18"), "gpt-4o-mini")
    assert c.model == "gpt-4o-mini-2024-07-18"


def test_missing_id_and_usage_are_tolerated() -> None:
    c = parse_chat_completion(_body({"content": "x"}), "m")
    assert c.id.startswith("chatcmpl-") and c.usage is None


def test_claude_duplicate_index_choices_merge_text_and_tool_calls() -> None:
    body = {
        "model": "claude-3-5-sonnet-latest",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": None, "tool_calls": [
                {"id": "toolu_01", "type": "function",
                 "function": {"name": "get_current_weather", "arguments": '{"location":"Boston, MA"}'}}]},
             "finish_reason": "tool_calls"},
            {"index": 0, "message": {"role": "assistant", "content": "I'll check the weather."},
             "finish_reason": "stop"},
        ],
        "usage": {"prompt_tokens": 425, "completion_tokens": 78, "total_tokens": 503},
    }
    c = parse_chat_completion(body, "claude-3-5-sonnet-latest")
    assert c.content == "I'll check the weather."
    assert [(t.id, t.name, t.parsed_arguments()) for t in c.tool_calls] == [
        ("toolu_01", "get_current_weather", {"location": "Boston, MA"})
    ]
    assert c.finish_reason == "tool_calls"
    assert c.usage is not None and c.usage.total_tokens == 503


def test_claude_opus_thinking_moves_to_reasoning() -> None:
    c = parse_chat_completion(_body({"content": "<thinking>\nplan it\n</thinking>\nThe answer."}), "claude-3-opus-latest")
    assert c.reasoning == "plan it"
    assert c.content == "The answer."


def test_finish_reason_stop_with_tool_calls_becomes_tool_calls() -> None:
    body = _body({"content": None, "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "{}"}}]})
    assert parse_chat_completion(body, "gemini-1.5-flash-latest").finish_reason == "tool_calls"


def test_empty_string_arguments_become_empty_object() -> None:
    body = _body({"tool_calls": [{"id": "c", "function": {"name": "f", "arguments": ""}}]})
    assert parse_chat_completion(body, "m").tool_calls[0].parsed_arguments() == {}


def test_dict_arguments_are_encoded() -> None:
    body = _body({"tool_calls": [{"id": "c", "function": {"name": "f", "arguments": {"q": "你好"}}}]})
    assert parse_chat_completion(body, "m").tool_calls[0].arguments == '{"q": "你好"}'


def test_missing_tool_call_id_is_generated() -> None:
    body = _body({"tool_calls": [{"function": {"name": "f", "arguments": "{}"}}]})
    assert parse_chat_completion(body, "m").tool_calls[0].id.startswith("call_")


def test_gemini_thought_signature_is_kept_for_round_trip() -> None:
    extra = {"extra_content": {"google": {"thought_signature": "sig"}}}
    body = _body({"tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}, **extra}]})
    call = parse_chat_completion(body, "gemini-1.5-pro-latest").tool_calls[0]
    assert call.extra == extra
    assert call.to_wire()["extra_content"] == extra["extra_content"]


def test_reasoning_content_and_reasoning_tokens() -> None:
    body = _body(
        {"content": "1", "reasoning_content": "thought"},
        usage={"prompt_tokens": 11, "completion_tokens": 203, "total_tokens": 214,
               "completion_tokens_details": {"reasoning_tokens": 192}, "prompt_tokens_details": {"cached_tokens": 3}},
    )
    c = parse_chat_completion(body, "o1-preview")
    assert c.reasoning == "thought"
    assert c.usage is not None and (c.usage.reasoning_tokens, c.usage.cached_tokens) == (192, 3)


def test_total_tokens_computed_when_missing() -> None:
    c = parse_chat_completion(_body({"content": "x"}, usage={"prompt_tokens": 2, "completion_tokens": 3}), "m")
    assert c.usage is not None and c.usage.total_tokens == 5


def test_list_content_is_joined() -> None:
    c = parse_chat_completion(_body({"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}), "m")
    assert c.content == "ab"


def test_refusal_is_kept() -> None:
    assert parse_chat_completion(_body({"content": None, "refusal": "no"}), "m").refusal == "no"


def test_unknown_fields_are_ignored() -> None:
    body = _body({"content": "x", "audio": None, "annotations": []}, service_tier="default", weird={"a": 1})
    assert parse_chat_completion(body, "m").content == "x"


def test_no_choices_is_a_response_error() -> None:
    with pytest.raises(B3nResponseError, match="no choices"):
        parse_chat_completion({"choices": []}, "m")


def test_error_body_with_200_is_typed() -> None:
    with pytest.raises(B3nInsufficientQuotaError):
        parse_chat_completion({"error": {"message": "x", "code": "insufficient_user_quota"}}, "m")


def test_usage_with_missing_counts_counts_them_as_zero() -> None:
    from b3n._chat import parse_usage

    usage = parse_usage({"completion_tokens": 3})
    assert usage is not None and (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (0, 3, 3)
    usage = parse_usage({"prompt_tokens": 4})
    assert usage is not None and (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (4, 0, 4)
    usage = parse_usage({"input_tokens": 5, "output_tokens": 6})  # Claude's names
    assert usage is not None and (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (5, 6, 11)


def test_reasoning_sent_under_both_names_is_kept_once() -> None:
    c = parse_chat_completion(_body({"content": "42", "reasoning_content": "Denke nach.", "reasoning": "Denke nach."}),
                              "deepseek-reasoner")
    assert (c.content, c.reasoning) == ("42", "Denke nach.")


def test_content_of_an_odd_type_is_kept_as_text() -> None:
    assert parse_chat_completion(_body({"content": 42}), "gpt-4o-mini").content == "42"
    parts = [{"type": "text", "text": "Grüße"}, {"type": "text", "text": 5}, {"type": "image_url"}, "x"]
    assert parse_chat_completion(_body({"content": parts}), "gpt-4o-mini").content == "Grüße"


def test_malformed_logprob_entries_are_left_out() -> None:
    from b3n._chat.response import logprob_content

    good = {"token": "Hi", "logprob": -0.5, "bytes": [72, 105]}
    raw = {"content": [good, "x", {"logprob": -1.0}, {"token": 5, "logprob": -1.0},
                       {"token": "a", "logprob": "NaN"}, {"token": "b", "logprob": -2, "bytes": [300]}]}
    assert logprob_content(raw) == [good, {"token": "b", "logprob": -2.0, "bytes": None}]
    assert logprob_content({"content": "x"}) is None and logprob_content(None) is None


def test_several_choices_share_one_id_even_when_the_relay_sent_none() -> None:
    body = {"choices": [{"index": 0, "message": {"content": "a"}}, {"index": 1, "message": {"content": "b"}}]}
    c = parse_chat_completion(body, "gpt-4o-mini")
    assert [x.content for x in [c, *c.more_choices]] == ["a", "b"]
    assert c.more_choices[0].id == c.id and c.id.startswith("chatcmpl-")


def test_finish_reason_becomes_tool_calls_only_with_tool_calls() -> None:
    call = {"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    assert parse_chat_completion(_body({"content": "x"}), "gpt-4o-mini").finish_reason == "stop"
    assert parse_chat_completion(_body({"content": None, "tool_calls": [call]}), "gpt-4o-mini").finish_reason == (
        "tool_calls")
    cut = {"choices": [{"index": 0, "message": {"tool_calls": [call]}, "finish_reason": "length"}]}
    assert parse_chat_completion(cut, "gpt-4o-mini").finish_reason == "length"


def test_logprobs_of_a_reply_are_kept_with_byte_values_checked() -> None:
    entries = [{"token": "a", "logprob": -0.1, "bytes": [255]}, {"token": "b", "logprob": -0.2, "bytes": [256]}]
    body = {"choices": [{"index": 0, "message": {"content": "ab"}, "logprobs": {"content": entries}}]}
    c = parse_chat_completion(body, "gpt-4o-mini")
    assert c.logprobs == [entries[0], {**entries[1], "bytes": None}]
    assert parse_chat_completion(_body({"content": "ab"}), "gpt-4o-mini").logprobs is None
