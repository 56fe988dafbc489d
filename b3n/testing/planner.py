"""Which tools the scripted model calls in a turn, and with which arguments.

A *turn* is everything after the latest user message. :func:`choose_tool_calls` decides the next tool
calls from the user's prompt, the ``tool_choice`` and the calls already made in the turn:

* named tools (or tools whose name / description matches the prompt) are called, in parallel unless
  ``parallel_tool_calls`` is false — then one per request until each has run;
* sequential prompts ('… Then add 5 to the result.') call one tool per step, feeding each step the
  previous result (:mod:`b3n.testing.chain`);
* under ``tool_choice="required"`` the model must call something: once the requested tools have
  run it calls a tool it has *not* called yet this turn (e.g. the structured-output tool of
  LangChain's ``create_agent(response_format=...)``), filled from the tool results;
* under ``"auto"`` it answers in text once nothing is left to call.

>>> from b3n.testing.chat_request import parse_chat_request
>>> ints = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}
>>> tools = [{"type": "function", "function": {"name": n, "parameters": ints}} for n in ("multiply", "add")]
>>> req = parse_chat_request({"model": "gpt-4o-mini", "tools": tools, "messages": [
...     {"role": "user", "content": "What is 3 * 4? Then add 5 to the result."}]})
>>> [(c.tool.name, c.arguments) for c in choose_tool_calls(req)]
[('multiply', {'a': 3, 'b': 4})]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .chain import Step, chain_steps, result_value, step_text_with_result
from .chat_request import ChatRequest, Message, Tool, ToolCall
from .prompt_facts import NUMBER_RE, PromptFacts
from .schema import REPLY_KEYS, InstanceGenerator
from .textutil import stem
from .tools import _GENERIC_NAME_WORDS, last_user_text, relevance, synthesize_arguments


@dataclass
class ToolResult:
    """A tool message of the current turn, with the name of the tool that produced it."""

    name: str
    content: str

    @property
    def failed(self) -> bool:
        return self.content.lstrip().lower().startswith("error")


@dataclass
class Turn:
    """The current turn: the user's text, the calls made since, and their results (in order)."""

    user_text: str
    calls: list[ToolCall] = field(default_factory=list)
    results: list[ToolResult] = field(default_factory=list)

    @property
    def called(self) -> set[str]:
        return {c.name for c in self.calls}


@dataclass
class PlannedCall:
    """A tool call the model will make."""

    tool: Tool
    arguments: dict[str, Any]


def current_turn(messages: list[Message]) -> Turn:
    """Calls and tool results after the latest user message."""
    start = 0
    for i, msg in enumerate(messages):
        if msg.role == "user":
            start = i + 1
    names: dict[str, str] = {}
    for msg in messages:
        for call in msg.tool_calls:
            names[call.id] = call.name
    turn = Turn(user_text=last_user_text(messages))
    for msg in messages[start:]:
        if msg.role == "assistant":
            turn.calls.extend(msg.tool_calls)
        elif msg.role == "tool":
            turn.results.append(ToolResult(names.get(msg.tool_call_id or "", "the tool"), msg.text))
    return turn


def all_results_text(messages: list[Message]) -> str:
    """Every tool result of the conversation (numbers in them can fill arguments)."""
    return "\n".join(m.text for m in messages if m.role == "tool")


def looks_like_schema(tool: Tool) -> bool:
    """A CamelCase tool name is a class (an output schema), not an action: call it last."""
    return tool.name[:1].isupper()


def choose_tool_calls(req: ChatRequest) -> list[PlannedCall]:
    """The tool calls of this reply (empty: answer with text)."""
    if not req.tools or req.tool_choice == "none":
        return []
    turn = current_turn(req.messages)
    if req.forced_tool is not None:
        tool = next(t for t in req.tools if t.name == req.forced_tool)
        return [_call(tool, req, turn, finishing=tool.name not in turn.called)]
    steps = chain_steps(turn.user_text, req.tools)
    if steps is not None:
        return _chain_calls(steps, req, turn)
    text = turn.user_text
    relevant = [t for t in req.tools if t.name not in turn.called and relevance(t, text) > 0]
    actions = [t for t in relevant if not looks_like_schema(t)]
    relevant = actions or relevant
    if req.tool_choice == "required":
        if not relevant:
            return [_finishing_call(req, turn)]
        relevant.sort(key=lambda t: -relevance(t, text))
    if not relevant:
        return []
    chosen = relevant if req.parallel_tool_calls else relevant[:1]
    return [_call(tool, req, turn, finishing=False) for tool in chosen]


def _chain_calls(steps: list[Step], req: ChatRequest, turn: Turn) -> list[PlannedCall]:
    done = len(turn.calls)
    if turn.results and turn.results[-1].failed:  # a step failed: stop and report it
        return [_finishing_call(req, turn)] if req.tool_choice == "required" else []
    if done >= len(steps):
        return [_finishing_call(req, turn)] if req.tool_choice == "required" else []
    step = steps[done]
    text = step.text
    if done and turn.results:
        value = result_value(turn.results[-1].content)
        if value is not None:
            text = step_text_with_result(text, value, step.tool)
    return [PlannedCall(step.tool, synthesize_arguments(step.tool, text))]


def _finishing_call(req: ChatRequest, turn: Turn) -> PlannedCall:
    """The one call ``required`` demands when the requested tools have run: prefer one not called yet."""
    uncalled = [t for t in req.tools if t.name not in turn.called] or req.tools
    scored = [(relevance(t, turn.user_text), looks_like_schema(t), -i, t) for i, t in enumerate(uncalled)]
    tool = max(scored, key=lambda item: item[:3])[3]
    return _call(tool, req, turn, finishing=True)


def _call(tool: Tool, req: ChatRequest, turn: Turn, *, finishing: bool) -> PlannedCall:
    if finishing and turn.results:
        args = instance_from_results(tool.parameters, turn, reply=results_summary(turn.results))
        return PlannedCall(tool, args if isinstance(args, dict) else {})
    return PlannedCall(tool, synthesize_arguments(tool, turn.user_text, tool_results=all_results_text(req.messages)))


# -- values taken from tool results -----------------------------------------------------------------
def results_summary(results: list[ToolResult]) -> str:
    """'The result of multiply is 12. The result of add is 17.'"""
    parts = []
    for r in results:
        content = " ".join(r.content.split()) or "(empty)"
        parts.append(f"The result of {r.name} is {content}{'' if content[-1:] in '.!?' else '.'}")
    return " ".join(parts)


def _name_stems(name: str) -> set[str]:
    parts = re.split(r"[_\-\s]+|(?<=[a-z])(?=[A-Z])", name)
    return {stem(p.lower()) for p in parts if len(p) >= 4 and p.lower() not in _GENERIC_NAME_WORDS}


def _matching_result(prop: str, results: list[ToolResult]) -> ToolResult | None:
    wanted = _name_stems(prop)
    for result in reversed(results):
        if wanted & _name_stems(result.name):
            return result
    return None


def _value_for(schema: dict[str, Any], result: ToolResult, gen: InstanceGenerator) -> tuple[bool, Any]:
    schema = gen.resolve(schema)
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            options = [gen.resolve(v) for v in schema[key] if gen.resolve(v).get("type") != "null"]
            schema = options[0] if options else {}
    stype = schema.get("type")
    if stype in ("integer", "number"):
        m = NUMBER_RE.search(result.content)
        if m is None:
            return False, None
        num = float(m.group())
        return True, int(num) if stype == "integer" or num.is_integer() else num
    if stype == "string" and "enum" not in schema and "format" not in schema:
        text = " ".join(result.content.split())
        limit = schema.get("maxLength")
        return bool(text), text[:limit] if isinstance(limit, int) else text
    return False, None


def instance_from_results(schema: dict[str, Any], turn: Turn, *, reply: str = "") -> Any:
    """A value for ``schema`` that reports the turn's tool results.

    Properties named like a tool take that tool's result ('magic_value' ← magic_function's '5',
    'weather' ← get_weather's text), answer-like strings ('answer', 'summary') take ``reply``;
    other numbers come from the results first, then the prompt.
    """
    props_any = schema.get("properties")
    names = set(props_any) if isinstance(props_any, dict) else set()
    facts = PromptFacts.from_text(turn.user_text, exclude_quoted=names)
    gen = InstanceGenerator(facts, schema, reply=reply)
    resolved = gen.resolve(schema)
    props = resolved.get("properties")
    if not isinstance(props, dict):
        facts.numbers = [float(m.group()) for r in turn.results for m in NUMBER_RE.finditer(r.content)] + facts.numbers
        return gen.generate(schema)
    filled: dict[str, Any] = {}
    used: set[int] = set()
    for name, sub in props.items():
        result = _matching_result(name, turn.results)
        if result is not None:
            ok, value = _value_for(sub, result, gen)
            if ok:
                filled[name] = value
                used.add(id(result))
        elif reply and name.lower() in REPLY_KEYS:  # 'answer', 'summary', ...: say what the tools returned
            ok, value = _value_for(sub, ToolResult("", reply), gen)
            if ok and isinstance(value, str):
                filled[name] = value
    numbers = [float(m.group()) for r in turn.results if id(r) not in used for m in NUMBER_RE.finditer(r.content)]
    facts.numbers = numbers + facts.numbers
    rest = gen.object_value(resolved, only=set(props) - set(filled))
    return {name: filled[name] if name in filled else rest[name] for name in props if name in filled or name in rest}


def chain_reply(req: ChatRequest) -> str | None:
    """The final answer of a finished sequential prompt ('… The final result is 17.'), else None."""
    turn = current_turn(req.messages)
    steps = chain_steps(turn.user_text, req.tools) if req.tools else None
    if steps is None or len(turn.calls) < len(steps) or not turn.results or turn.results[-1].failed:
        return None
    done = [f"{r.name} returned {' '.join(r.content.split())}" for r in turn.results]
    final = result_value(turn.results[-1].content) or turn.results[-1].content.strip()
    return f"First {', then '.join(done)}. The final result is {final}."


__all__ = [
    "PlannedCall",
    "ToolResult",
    "Turn",
    "chain_reply",
    "choose_tool_calls",
    "current_turn",
    "instance_from_results",
    "looks_like_schema",
    "results_summary",
]
