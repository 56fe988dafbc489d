"""Pure relay adaptations of the core (b3n/_chat/relay.py) and their effect on stream assembly."""

from __future__ import annotations

from b3n._chat import relay
from b3n._chat.stream import StreamAssembler
from b3n._chat.types import ChatCompletion


def _tool(name: str) -> dict[str, object]:
    return {"type": "function", "function": {"name": name, "parameters": {"type": "object", "properties": {}}}}


def test_finish_reasons_and_model_names() -> None:
    assert [relay.normalize_finish_reason(v) for v in ("tool_use", "max_tokens", "end_turn", "", None, "stop")] == [
        "tool_calls", "length", "stop", None, None, "stop"]
    assert relay.normalize_model("gemini", "gemini-1.5-flash-latest") == "gemini-1.5-flash-latest"
    assert relay.normalize_model("", "x") == relay.normalize_model(None, "x") == "x"
    assert relay.normalize_model("gpt-4o-mini-2024-07-18", "gpt-4o-mini") == "gpt-4o-mini-2024-07-18"


def test_forced_tool() -> None:
    named = {"tools": [_tool("a"), _tool("b")], "tool_choice": {"type": "function", "function": {"name": "b"}}}
    assert relay.forced_tool(named)["function"]["name"] == "b"  # type: ignore[index]
    actions = {"tools": [_tool("multiply"), _tool("add")], "tool_choice": "required", "messages": []}
    assert relay.forced_tool(actions) is None  # no telling which action was meant
    schema_last = {"tools": [_tool("multiply"), _tool("Report")], "tool_choice": "required", "messages": []}
    assert relay.forced_tool(schema_last)["function"]["name"] == "Report"  # type: ignore[index]
    done = {**schema_last, "messages": [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [
        {"id": "1", "function": {"name": "Report", "arguments": "{}"}}]}]}
    assert relay.forced_tool(done) is None
    assert relay.forced_tool({"tools": [_tool("a")], "tool_choice": "auto"}) is None


def test_claude_tool_turns_get_text() -> None:
    turn = {"role": "assistant", "content": None, "tool_calls": [{"id": "1", "function": {"name": "f"}}]}
    out = relay.claude_tool_turn_content([turn, {**turn, "content": ""}, {**turn, "content": "kept"}])
    assert [m["content"] for m in out] == ["...", "...", "kept"]
    assert turn["content"] is None  # the caller's message is not changed


def test_text_tool_history_merges_consecutive_results() -> None:
    calls = [{"id": f"c{i}", "type": "function", "function": {"name": n, "arguments": "{}"}}
             for i, n in enumerate(("f", "g"))]
    out = relay.text_tool_history([
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": None, "tool_calls": calls},
        {"role": "tool", "tool_call_id": "c0", "content": "1"},
        {"role": "tool", "tool_call_id": "c1", "content": "2"},
    ])
    assert [m["role"] for m in out] == ["user", "assistant", "user"]
    assert out[2]["content"] == "[result of f]: 1\n[result of g]: 2"


def test_estimated_usage_is_marked() -> None:
    completion = ChatCompletion(id="x", model="claude-3-5-sonnet-latest", content="Hello there, friend.")
    usage = relay.estimate_usage("claude-3-5-sonnet-latest", {"messages": [{"role": "user", "content": "hi"}]},
                                 completion)
    assert usage.estimated and usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def _stream(model: str, pieces: list[str]) -> str:
    a = StreamAssembler(model)
    text = "".join(c.content for p in pieces if (c := a.feed({"choices": [{"delta": {"content": p}}]})))
    a.finish()
    return text


def test_stream_keeps_trailing_newline_except_for_gemini() -> None:
    code = ["```python\n", "print(1)\n", "```\n"]
    assert _stream("gpt-4o-mini", code) == "```python\nprint(1)\n```\n"
    assert _stream("claude-3-5-sonnet-latest", code) == "```python\nprint(1)\n```\n"
    assert _stream("gemini-1.5-flash-latest", ["1", " \n"]) == "1"


def test_stream_without_finish_reason_or_model_name() -> None:
    a = StreamAssembler("gemini-1.5-flash-latest")
    a.feed({"model": "gemini", "choices": [{"delta": {"content": "hi"}, "finish_reason": ""}]})
    end = a.finish()
    assert end.finish_reason == "stop" and end.model == "gemini-1.5-flash-latest"
