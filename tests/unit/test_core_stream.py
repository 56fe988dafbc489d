"""Stream assembly: every tool-call delta shape seen through relays, metadata once, text cleanup."""

from __future__ import annotations

from typing import Any

from b3n._chat import ChatChunk, StreamAssembler


def _run(model: str, raws: list[dict[str, Any]]) -> tuple[list[ChatChunk], StreamAssembler]:
    asm = StreamAssembler(model)
    chunks = [c for c in (asm.feed(r) for r in raws) if c is not None]
    chunks.append(asm.finish())
    return chunks, asm


def _delta(**delta: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}


def _finish(reason: str) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": {}, "finish_reason": reason}]}


def test_openai_fragments_merge_by_index() -> None:
    chunks, asm = _run("gpt-4o", [
        _delta(role="assistant", content=None),
        _delta(tool_calls=[{"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": ""}}]),
        _delta(tool_calls=[{"index": 0, "function": {"arguments": '{"a":'}}]),
        _delta(tool_calls=[{"index": 0, "function": {"arguments": " 1}"}}]),
        _delta(tool_calls=[{"index": 1, "id": "call_2", "function": {"name": "g", "arguments": "{}"}}]),
        _finish("tool_calls"),
    ])
    result = asm.result()
    assert [(c.id, c.name, c.arguments) for c in result.tool_calls] == [("call_1", "f", '{"a": 1}'), ("call_2", "g", "{}")]
    deltas = [d for c in chunks for d in c.tool_calls]
    assert [d.index for d in deltas] == [0, 0, 0, 1]
    assert [d.id for d in deltas] == ["call_1", None, None, "call_2"]


def test_claude_index_less_fragments_continue_the_last_call() -> None:
    _, asm = _run("claude-3-5-sonnet-latest", [
        _delta(content="I'll check."),
        _delta(tool_calls=[{"id": "toolu_1", "type": "function", "function": {"name": "f", "arguments": ""}}]),
        _delta(tool_calls=[{"function": {"arguments": '{"x":'}}]),
        _delta(tool_calls=[{"function": {"arguments": "1}"}}]),
        _delta(tool_calls=[{"id": "toolu_2", "type": "function", "function": {"name": "g", "arguments": ""}}]),
        _finish("tool_calls"),
    ])
    calls = asm.result().tool_calls
    assert [(c.id, c.name, c.arguments) for c in calls] == [("toolu_1", "f", '{"x":1}'), ("toolu_2", "g", "{}")]
    assert asm.result().content == "I'll check."


def test_gemini_whole_index_less_calls_in_one_delta_and_stop_finish() -> None:
    chunks, asm = _run("gemini-1.5-flash-latest", [
        {"model": "", "choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}},
            {"id": "b", "type": "function", "function": {"name": "g", "arguments": '{"y": 2}'}},
        ]}, "finish_reason": "stop"}]},
    ])
    assert [d.index for d in chunks[0].tool_calls] == [0, 1]
    assert chunks[-1].finish_reason == "tool_calls"
    assert chunks[-1].model == "gemini-1.5-flash-latest"
    assert [c.name for c in asm.result().tool_calls] == ["f", "g"]


def test_parallel_calls_collapsed_onto_index_zero_stay_apart() -> None:
    _, asm = _run("gemini-1.5-pro-latest", [
        _delta(tool_calls=[{"index": 0, "id": "a", "function": {"name": "f", "arguments": "{}"}}]),
        _delta(tool_calls=[{"index": 0, "id": "b", "function": {"name": "g", "arguments": "{}"}}]),
    ])
    assert [(c.id, c.name) for c in asm.result().tool_calls] == [("a", "f"), ("b", "g")]


def test_metadata_and_usage_arrive_once_on_the_terminal_chunk() -> None:
    chunks, _ = _run("gpt-4o-mini", [
        {"id": "x", "model": "gpt-4o-mini-2024-07-18", **_delta(role="assistant", content="Hel")},
        {"id": "x", "model": "gpt-4o-mini-2024-07-18", **_delta(content="lo")},
        {"id": "x", "model": "gpt-4o-mini-2024-07-18", **_finish("stop")},
        {"id": "x", "model": "gpt-4o-mini-2024-07-18", "choices": [],
         "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}},
    ])
    assert [c.content for c in chunks] == ["Hel", "lo", ""]
    assert [c.final for c in chunks] == [False, False, True]
    end = chunks[-1]
    assert (end.finish_reason, end.model, end.id) == ("stop", "gpt-4o-mini-2024-07-18", "x")
    assert end.usage is not None and end.usage.total_tokens == 5


def test_stream_without_usage_chunk_has_no_usage() -> None:
    chunks, _ = _run("gpt-4o", [_delta(content="a"), _finish("stop")])
    assert chunks[-1].usage is None


def test_trailing_whitespace_is_held_back_and_dropped_at_the_end() -> None:
    chunks, asm = _run("gemini-1.5-flash-latest", [_delta(content="1 "), _delta(content="2 \n")])
    assert "".join(c.content for c in chunks) == "1 2"
    assert asm.result().content == "1 2"


def test_thinking_block_split_across_chunks_goes_to_reasoning() -> None:
    chunks, asm = _run("claude-3-opus-latest", [
        _delta(content="<think"), _delta(content="ing>\nplan"), _delta(content=" more</thi"),
        _delta(content="nking>\nAnswer"), _delta(content=" here."),
    ])
    assert "".join(c.content for c in chunks) == "Answer here."
    assert "".join(c.reasoning for c in chunks).strip() == "plan more"
    assert asm.result().reasoning is not None


def test_text_that_merely_starts_like_a_tag_is_kept() -> None:
    chunks, _ = _run("gpt-4o", [_delta(content="<thi"), _delta(content="s is fine>")])
    assert "".join(c.content for c in chunks) == "<this is fine>"


def test_reasoning_content_deltas() -> None:
    chunks, asm = _run("deepseek-reasoner", [_delta(reasoning_content="hmm"), _delta(content="ok")])
    assert chunks[0].reasoning == "hmm" and asm.result().reasoning == "hmm"


def test_parameterless_call_gets_empty_object_arguments() -> None:
    _, asm = _run("claude-3-5-haiku-latest", [
        _delta(tool_calls=[{"id": "t", "function": {"name": "now", "arguments": ""}}]),
    ])
    assert asm.result().tool_calls[0].arguments == "{}"


def test_chunks_without_choices_or_content_yield_nothing() -> None:
    asm = StreamAssembler("m")
    assert asm.feed({"choices": []}) is None
    assert asm.feed(_delta(role="assistant")) is None


def test_refusal_deltas_are_delivered_and_kept() -> None:
    chunks, asm = _run("gpt-4o", [_delta(refusal="I can't "), _delta(refusal="help with that."), _finish("stop")])
    assert "".join(c.refusal for c in chunks) == "I can't help with that."
    assert asm.result().refusal == "I can't help with that."


def test_named_calls_without_id_or_index_are_separate_calls() -> None:
    chunks, asm = _run("gemini-1.5-flash-latest", [
        _delta(tool_calls=[{"function": {"name": "weather", "arguments": '{"city": "Zürich"}'}}]),
        _delta(tool_calls=[{"function": {"name": "search", "arguments": '{"q": '}}]),
        _delta(tool_calls=[{"function": {"arguments": '"Grüße"}'}}]),
        _finish("stop"),
    ])
    calls = asm.result().tool_calls
    assert [(c.name, c.parsed_arguments()) for c in calls] == [("weather", {"city": "Zürich"}),
                                                               ("search", {"q": "Grüße"})]
    assert chunks[-1].finish_reason == "tool_calls"


def test_logprobs_in_chunks_are_noted_and_delivered() -> None:
    entry = {"token": "Hi", "logprob": -0.25, "bytes": [72, 105], "top_logprobs": []}
    chunks, asm = _run("gpt-4o-mini", [
        {"choices": [{"index": 0, "delta": {"content": "Hi"}, "logprobs": {"content": [entry]}}]},
        _finish("stop"),
    ])
    assert asm.saw_logprobs and chunks[0].logprobs == [entry]
    _, plain = _run("gpt-4o-mini", [_delta(content="Hi"), _finish("stop")])
    assert not plain.saw_logprobs


def test_a_thinking_tag_after_text_is_content() -> None:
    _, asm = _run("claude-3-opus-20240229", [_delta(content="Hi"), _delta(content=" <thinking>not a tag"),
                                             _finish("stop")])
    assert asm.result().content == "Hi <thinking>not a tag" and asm.result().reasoning is None


def test_what_is_left_open_at_the_end_is_delivered() -> None:
    _, open_thought = _run("claude-3-opus-20240229", [_delta(content="<thinking>half a thought"), _finish("stop")])
    assert (open_thought.result().reasoning, open_thought.result().content) == ("half a thought", "")
    _, undecided = _run("claude-3-opus-20240229", [_delta(content="  <thi"), _finish("stop")])
    assert (undecided.result().content, undecided.result().reasoning) == ("  <thi", None)


def test_an_anonymous_fragment_continues_the_last_of_several_calls() -> None:
    _, asm = _run("gemini-1.5-flash-latest", [
        _delta(tool_calls=[{"id": "a", "function": {"name": "f", "arguments": "{}"}},
                           {"id": "b", "function": {"name": "g", "arguments": '{"x": '}}]),
        _delta(tool_calls=[{"function": {"arguments": "1}"}}]),
        _finish("tool_calls"),
    ])
    assert [(c.id, c.arguments) for c in asm.result().tool_calls] == [("a", "{}"), ("b", '{"x": 1}')]


def test_a_stream_served_from_one_call_ends_with_one_terminal_chunk() -> None:
    from b3n._chat import ChatCompletion, ToolCall
    from b3n._chat.stream import completion_to_chunks

    completion = ChatCompletion(id="c1", model="o1-mini", content="Grüße", finish_reason="tool_calls",
                                tool_calls=[ToolCall("t1", "f", '{"a": 1}')])
    content, final = completion_to_chunks(completion)
    assert (content.final, content.content, [(d.index, d.id, d.arguments) for d in content.tool_calls]) == (
        False, "Grüße", [(0, "t1", '{"a": 1}')])
    assert (final.final, final.finish_reason, final.model, final.id) == (True, "tool_calls", "o1-mini", "c1")
    assert [c.final for c in completion_to_chunks(ChatCompletion(id="c2", model="o1-mini"))] == [True]


def test_refusals_and_odd_values_in_deltas() -> None:
    chunks, asm = _run("gpt-4o", [_delta(refusal="Ich kann "), _delta(refusal=5), _delta(refusal="nicht."),
                                  _delta(content=7), _finish("stop")])
    assert asm.result().refusal == "Ich kann nicht." and asm.result().content == ""
    assert [c.refusal for c in chunks[:-1]] == ["Ich kann ", "nicht."]


def test_leading_whitespace_before_text_is_kept() -> None:
    _, asm = _run("claude-3-opus-20240229", [_delta(content="\n"), _delta(content=" "), _delta(content=" Hi"),
                                             _finish("stop")])
    assert asm.result().content == "\n  Hi"
    _, split_tag = _run("claude-3-opus-20240229", [_delta(content=" <thin"), _delta(content="king>Plan</thinking> Do"),
                                                   _delta(content="ne"), _finish("stop")])
    assert (split_tag.result().reasoning, split_tag.result().content) == ("Plan", "Done")


def test_vendor_extras_of_a_streamed_call_are_kept() -> None:
    signature = {"google": {"thought_signature": "c2ln"}}
    chunks, asm = _run("gemini-2.5-flash", [
        _delta(tool_calls=[{"id": "c1", "function": {"name": "f", "arguments": "{}"}, "extra_content": signature}]),
        _finish("tool_calls"),
    ])
    assert chunks[0].tool_calls[0].extra == {"extra_content": signature}
    assert asm.result().tool_calls[0].extra == {"extra_content": signature}
    _, plain = _run("gpt-4o", [_delta(tool_calls=[{"index": 0, "id": "c1", "type": "function",
                                                   "function": {"name": "f", "arguments": "{}"}}]),
                               _finish("tool_calls")])
    assert plain.result().tool_calls[0].extra is None


def test_a_refusal_served_from_one_call_is_streamed() -> None:
    from b3n._chat import ChatCompletion
    from b3n._chat.stream import completion_to_chunks

    first, _ = completion_to_chunks(ChatCompletion(id="c1", model="o1-mini", refusal="Nein."))
    assert (first.refusal, first.content) == ("Nein.", "")
    only, _ = completion_to_chunks(ChatCompletion(id="c2", model="o1-mini", content="ok"))
    assert only.refusal == ""
