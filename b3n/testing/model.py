"""The deterministic scripted chat model: same request → same outcome.

:func:`complete` turns a validated :class:`~b3n.testing.chat_request.ChatRequest` into a
:class:`ChatOutcome` (text or tool calls, finish reason, token counts). Response shaping per model
family lives in :mod:`b3n.testing.quirks`.

>>> from b3n.testing.chat_request import parse_chat_request
>>> req = parse_chat_request({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "say 1"}]})
>>> complete(req).text
'1'
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .chat_request import ChatRequest, Message, ToolCall, parse_chat_request
from .planner import chain_reply, choose_tool_calls, current_turn, instance_from_results
from .prompt_facts import PromptFacts
from .react import react_reply
from .reply import embedded_schema, plain_reply, tool_results_reply
from .schema import InstanceGenerator
from .signatures import thought_signature
from .textutil import count_tokens, digest, truncate_tokens
from .tools import call_id, last_user_text, quoted_keys

_KEYS_PHRASE_RE = re.compile(
    r"\b(?:keys?|fields?|properties|attributes)\s*(?::|named|called|of)?\s*"
    r"([A-Za-z_]\w*(?:\s*(?:,|and|&|\bor\b)\s*(?:and\s+)?[A-Za-z_]\w*)*)",
    re.IGNORECASE,
)
_NOT_KEYS = frozenset({"and", "or", "the", "a", "an", "with", "as", "in", "of", "to", "json", "return", "only"})


@dataclass
class ChatOutcome:
    """What the scripted model decided to answer."""

    text: str | None
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str = "stop"
    prompt_tokens: int = 1
    completion_tokens: int = 1
    reasoning_tokens: int = 0


def request_seed(req: ChatRequest) -> bytes:
    """A digest of the whole request, used to derive ids deterministically."""
    return digest("chat", req.raw)


def prompt_token_count(messages: list[Message]) -> int:
    """Cheap deterministic prompt token count (words + punctuation, ≥1)."""
    total = 0
    for msg in messages:
        total += count_tokens(msg.text) + 3
        total += 85 * len(msg.images)
        for call in msg.tool_calls:
            total += count_tokens(call.name) + count_tokens(call.arguments)
    return max(1, total)


def uses_call_style(req: ChatRequest, quirks: bool) -> str:
    """The id / response style: 'openai', 'claude' or 'gemini'."""
    if quirks and req.family in ("claude", "gemini"):
        return req.family
    return "openai"


def _tool_result_text(messages: list[Message]) -> str:
    return "\n".join(m.text for m in messages if m.role == "tool")


def _force_words(text: str, n: int) -> str:
    base = text.split() or ["word"]
    out = [base[i % len(base)] for i in range(n)]
    return " ".join(out)


def _json_object_reply(req: ChatRequest, reply: str) -> str:
    texts = [m.text for m in reversed(req.messages) if m.role in ("user", "system", "developer")]
    schema = embedded_schema(req.messages)
    if schema is not None:
        return _schema_reply(req, schema, reply)
    keys: list[str] = []
    for text in texts:
        keys = quoted_keys(text)
        if keys:
            break
        m = _KEYS_PHRASE_RE.search(text)
        if m:
            keys = [k for k in re.split(r"\s*(?:,|&|\band\b|\bor\b)\s*", m.group(1)) if k]
            keys = [k for k in keys if k.lower() not in _NOT_KEYS]
            if keys:
                break
    user_text = last_user_text(req.messages)
    if not keys:
        return json.dumps({"answer": reply}, ensure_ascii=False)
    facts = PromptFacts.from_text(user_text, exclude_quoted=set(keys))
    gen = InstanceGenerator(facts, {}, reply=reply)
    obj: dict[str, Any] = {key: gen.generate({"type": "string"}, key) for key in dict.fromkeys(keys)}
    return json.dumps(obj, ensure_ascii=False)


def _schema_reply(req: ChatRequest, schema: dict[str, Any], reply: str) -> str:
    turn = current_turn(req.messages)
    if not turn.results and len(req.messages) > 1 and req.messages[-1].role == "user":
        earlier = current_turn(req.messages[:-1])  # a format-only follow-up ("reply with only JSON ...")
        if earlier.results:
            turn = earlier
    if turn.results:  # answering after tool calls: report their results
        return json.dumps(instance_from_results(schema, turn, reply=reply), ensure_ascii=False)
    user_text = last_user_text(req.messages)
    users = [m for m in req.messages if m.role == "user"]
    if len(users) > 1 and req.messages[-1] is users[-1] and '"properties"' in users[-1].text:
        user_text = users[-2].text  # a format-only follow-up: the facts are in the question before it
    props = schema.get("properties")
    names = set(props) if isinstance(props, dict) else set()
    facts = PromptFacts.from_text(user_text, tool_results=_tool_result_text(req.messages), exclude_quoted=names)
    value = InstanceGenerator(facts, schema, reply=reply).generate(schema)
    return json.dumps(value, ensure_ascii=False)


def _cut_at_stop(text: str, stops: list[str]) -> str:
    best: int | None = None
    for s in stops:
        pos = text.find(s, 1)  # never cut to an empty reply
        if pos > 0 and (best is None or pos < best):
            best = pos
    return text if best is None else text[:best].rstrip() or text[:best]


def complete(req: ChatRequest, *, quirks: bool = True, reply_chunks: int | None = None) -> ChatOutcome:
    """Run the scripted model on a validated request."""
    prompt_tokens = prompt_token_count(req.messages)
    style = uses_call_style(req, quirks)
    seed = request_seed(req)
    user_text = last_user_text(req.messages)

    planned = choose_tool_calls(req)
    if planned:
        calls: list[ToolCall] = []
        for position, plan in enumerate(planned):
            args = plan.arguments
            if quirks and req.model == "gpt-4":
                arguments = json.dumps(args, ensure_ascii=False, indent=1)
            else:
                arguments = json.dumps(args, ensure_ascii=False, separators=(",", ":"))
            if style == "claude" and not args:
                arguments = ""
            cid = call_id(style, seed, position)
            signature = thought_signature(cid) if style == "gemini" else None
            calls.append(ToolCall(id=cid, name=plan.tool.name, arguments=arguments, signature=signature))
        completion = sum(count_tokens(c.name) + count_tokens(c.arguments) + 4 for c in calls)
        return _with_reasoning(
            req,
            ChatOutcome(
                text=None,
                tool_calls=calls,
                finish_reason="tool_calls",
                prompt_tokens=prompt_tokens,
                completion_tokens=completion,
            ),
        )

    finish = "stop"
    rf = req.response_format
    structured = False
    react = react_reply(req.messages, req.model) if rf is None else None
    if req.messages[-1].role == "tool":
        text = chain_reply(req) or tool_results_reply(req.messages)
    elif react is not None:
        text = react
        structured = True
    else:
        text = plain_reply(req.model, req.messages)
    if rf is not None and rf.type == "json_schema":
        text = _schema_reply(req, rf.schema or {}, text)
        structured = True
    elif rf is not None and rf.type == "json_object":
        text = _json_object_reply(req, text)
        structured = True
    elif (
        react is None
        and req.messages[-1].role != "tool"
        and any("json" in m.text.lower() for m in req.messages if m.role in ("system", "developer", "user"))
    ):
        schema = embedded_schema(req.messages)
        if schema is not None:
            text = _schema_reply(req, schema, text)
            structured = True
    if not structured:
        if reply_chunks is not None and reply_chunks > 0:
            text = _force_words(text, reply_chunks)
        if quirks and req.model.startswith("claude-3-opus"):
            text = _thinking(user_text) + text
        if req.stop:
            text = _cut_at_stop(text, req.stop)
    limit = req.max_tokens
    if limit is not None and req.family == "reasoning":
        limit = max(1, limit // 3)
    if limit is not None and count_tokens(text) > limit:
        text = truncate_tokens(text, limit)
        finish = "length"
    return _with_reasoning(
        req,
        ChatOutcome(
            text=text,
            finish_reason=finish,
            prompt_tokens=prompt_tokens,
            completion_tokens=max(1, count_tokens(text)),
        ),
    )


def _thinking(user_text: str) -> str:
    gist = " ".join(user_text.split()[:12]) or "something"
    return f"<thinking>\nThe user asks: {gist}. I can answer this directly.\n</thinking>\n"


def _with_reasoning(req: ChatRequest, outcome: ChatOutcome) -> ChatOutcome:
    thinks = req.family == "reasoning" or (req.family == "claude" and req.model.endswith("-thinking")) or (
        req.family == "gemini" and req.model.startswith("gemini-2.5"))
    if thinks:
        visible = outcome.completion_tokens
        outcome.reasoning_tokens = 2 * visible + (_THINKING_FLOOR if req.family != "reasoning" else 0)
        if req.thinking_budget is not None:  # a budget caps the thinking (0: none at all)
            outcome.reasoning_tokens = min(outcome.reasoning_tokens, req.thinking_budget)
        outcome.completion_tokens = visible + outcome.reasoning_tokens
    return outcome


#: thinking tokens a Claude ``-thinking`` / Gemini 2.5 model spends before even a short answer.
_THINKING_FLOOR = 40


def complete_body(body: dict[str, Any], *, quirks: bool = True, reply_chunks: int | None = None) -> ChatOutcome:
    """Validate ``body`` and run the model (convenience for tests)."""
    return complete(parse_chat_request(body, quirks=quirks), quirks=quirks, reply_chunks=reply_chunks)
