"""Parse a ``/chat/completions`` response leniently and normalise every known relay quirk.

Handled here (see b3n-api.md §4.2): missing or empty ``model`` (the requested one is
used), missing ``id`` / ``usage``, Claude's two choices sharing ``index`` 0 (merged into
one message with both the text and the tool calls), ``finish_reason: "stop"`` with tool
calls, tool arguments sent as ``""`` or as a dict, trailing whitespace (Gemini),
``<thinking>`` text (Claude opus) and ``reasoning_content`` moved to ``reasoning``, and
``reasoning_tokens`` / ``cached_tokens`` in usage. Unknown extra fields are ignored.

Example:
    >>> body = {"choices": [
    ...   {"index": 0, "message": {"content": None, "tool_calls": [{"id": "toolu_1", "type": "function",
    ...     "function": {"name": "f", "arguments": "{}"}}]}, "finish_reason": "tool_calls"},
    ...   {"index": 0, "message": {"content": "I'll call f."}, "finish_reason": "stop"}]}
    >>> c = parse_chat_completion(body, "claude-3-5-sonnet-latest")
    >>> c.content, [t.name for t in c.tool_calls], c.finish_reason, c.model
    ("I'll call f.", ['f'], 'tool_calls', 'claude-3-5-sonnet-latest')
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from b3n._chat.relay import normalize_finish_reason, normalize_model, strips_trailing_whitespace
from b3n._chat.types import ChatCompletion, ToolCall, Usage, new_call_id
from b3n._errors import B3nResponseError
from b3n._json import count, finite
from b3n._relay_errors import listed_items

THINK_OPEN = "<thinking>"
THINK_CLOSE = "</thinking>"




def parse_usage(raw: Any) -> Usage | None:
    """Usage from a response or the last stream chunk; None when absent or empty."""
    if not isinstance(raw, Mapping):
        return None
    prompt = count(raw.get("prompt_tokens")) or count(raw.get("input_tokens")) or 0
    completion = count(raw.get("completion_tokens")) or count(raw.get("output_tokens")) or 0
    total = count(raw.get("total_tokens")) or prompt + completion
    details = raw.get("completion_tokens_details")
    reasoning = count(details.get("reasoning_tokens")) if isinstance(details, Mapping) else None
    pdetails = raw.get("prompt_tokens_details")
    pdetails = pdetails if isinstance(pdetails, Mapping) else {}
    cached = _first_count(pdetails.get("cached_tokens"), raw.get("cache_read_input_tokens"))
    created = _first_count(pdetails.get("cache_creation_tokens"), pdetails.get("cached_creation_tokens"),
                         raw.get("cache_creation_input_tokens"))
    return Usage(prompt, completion, total, reasoning, cached, created)


def _first_count(*values: Any) -> int | None:
    for value in values:
        number = count(value)
        if number is not None:
            return number
    return None


def text_of(content: Any) -> str:
    """Content as text: a string, or the text parts of a list."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            p["text"] for p in content if isinstance(p, Mapping) and p.get("type") == "text" and isinstance(
                p.get("text"), str)
        )
    return str(content)


def normalize_arguments(arguments: Any) -> str:
    """Tool arguments as JSON text: ``""``/None → ``"{}"``, dicts encoded."""
    if arguments is None or arguments == "":
        return "{}"
    if isinstance(arguments, str):
        return arguments
    return json.dumps(arguments, ensure_ascii=False)


def parse_tool_call(raw: Mapping[str, Any]) -> ToolCall:
    fn = raw.get("function") if isinstance(raw.get("function"), Mapping) else {}
    assert isinstance(fn, Mapping)
    extra = {k: v for k, v in raw.items() if k not in ("id", "type", "function", "index")} or None
    return ToolCall(
        id=str(raw.get("id") or new_call_id()),
        name=str(fn.get("name") or ""),
        arguments=normalize_arguments(fn.get("arguments")),
        extra=extra,
    )


def _token_logprob(item: Any) -> dict[str, Any] | None:
    """One token's entry, kept only when well formed: a text ``token`` and a finite ``logprob``; ``bytes`` kept
    when it is a list of byte values. The relay's other keys pass through."""
    if not isinstance(item, Mapping) or not isinstance(item.get("token"), str):
        return None
    logprob = finite(item.get("logprob"))
    if logprob is None:
        return None
    entry = {**item, "logprob": logprob}
    raw_bytes = item.get("bytes")
    if not (isinstance(raw_bytes, list) and all(isinstance(b, int) and 0 <= b < 256 for b in raw_bytes)):
        entry["bytes"] = None
    return entry


def logprob_content(raw: Any) -> list[dict[str, Any]] | None:
    """``logprobs.content`` of a choice (a list of per-token dicts), or None when absent.

    Malformed entries (no text token, a logprob that is not a finite number) are left out; so are malformed
    ``top_logprobs`` alternatives.

    Example:
        >>> logprob_content({"content": [{"token": "a", "logprob": -0.1, "top_logprobs": [{"token": "b"}]},
        ...                              {"token": "c", "logprob": 1e400}]})
        [{'token': 'a', 'logprob': -0.1, 'top_logprobs': [], 'bytes': None}]
    """
    if not (isinstance(raw, Mapping) and isinstance(raw.get("content"), list)):
        return None
    out = []
    for item in raw["content"]:
        entry = _token_logprob(item)
        if entry is None:
            continue
        top = entry.get("top_logprobs")
        if top is not None:
            entry["top_logprobs"] = [alt for alt in map(_token_logprob, top if isinstance(top, list) else [])
                                     if alt is not None]
        out.append(entry)
    return out


def split_thinking(text: str) -> tuple[str | None, str]:
    """Move a leading ``<thinking>…</thinking>`` block out of ``text``."""
    stripped = text.lstrip()
    if not stripped.startswith(THINK_OPEN):
        return None, text
    end = stripped.find(THINK_CLOSE)
    if end < 0:
        return stripped[len(THINK_OPEN) :].strip(), ""
    return stripped[len(THINK_OPEN) : end].strip(), stripped[end + len(THINK_CLOSE) :].lstrip()


def parse_chat_completion(body: Any, requested_model: str) -> ChatCompletion:
    """Normalise one non-streamed response body (already JSON-decoded)."""
    choices = listed_items(
        body, "choices", model=requested_model,
        not_an_object=lambda: f"B3n returned a non-object JSON body: {str(body)[:200]}",
        missing=lambda: (
            f"B3n returned no choices for model {requested_model!r} "
            f"(body: {json.dumps(body, ensure_ascii=False)[:200]})."
            " The upstream may have filtered the reply; try again or another model."
        ),
    )
    groups: dict[int, list[Mapping[str, Any]]] = {}
    for choice in choices:
        if isinstance(choice, Mapping):
            groups.setdefault(count(choice.get("index")) or 0, []).append(choice)
    if not groups:
        raise B3nResponseError(
            f"B3n returned choices that are not objects for model {requested_model!r}: {str(choices)[:200]}. "
            "Not retried (the call may have been billed); try again."
        )
    completions = [_parse_choice(groups[index], body, requested_model) for index in sorted(groups)]
    first = completions[0]
    first.usage = parse_usage(body.get("usage"))
    first.raw = dict(body)
    first.more_choices = completions[1:]
    for other in first.more_choices:
        other.id = first.id
    return first


def _parse_choice(group: list[Mapping[str, Any]], body: Mapping[str, Any], requested_model: str) -> ChatCompletion:
    """One choice (Claude relays split a tool-call turn into two choices sharing an index: merged here)."""
    texts: list[str] = []
    reasoning_parts: list[str] = []
    tool_calls: list[ToolCall] = []
    finish: str | None = None
    refusal: str | None = None
    logprobs: list[dict[str, Any]] | None = None
    for choice in group:
        if logprobs is None:
            logprobs = logprob_content(choice.get("logprobs"))
        message = choice.get("message") or {}
        if not isinstance(message, Mapping):
            continue
        text = text_of(message.get("content"))
        if text:
            texts.append(text)
        for key in ("reasoning_content", "reasoning"):
            value = message.get(key)
            if isinstance(value, str) and value:
                reasoning_parts.append(value)
                break
        raw_calls = message.get("tool_calls")
        for raw_call in raw_calls if isinstance(raw_calls, list) else []:
            if isinstance(raw_call, Mapping):
                tool_calls.append(parse_tool_call(raw_call))
        if isinstance(message.get("refusal"), str) and message["refusal"]:
            refusal = message["refusal"]
        if finish is None and choice.get("finish_reason"):
            finish = normalize_finish_reason(choice["finish_reason"])
    content = "\n\n".join(t.strip() for t in texts) if len(texts) > 1 else (texts[0] if texts else "")
    thought, content = split_thinking(content)
    if thought:
        reasoning_parts.insert(0, thought)
    if tool_calls and finish in (None, "stop"):
        finish = "tool_calls"
    created = count(body.get("created"))
    fingerprint = body.get("system_fingerprint")
    return ChatCompletion(
        id=str(body.get("id") or "chatcmpl-" + uuid.uuid4().hex),
        model=normalize_model(body.get("model"), requested_model),
        content=content.rstrip() if strips_trailing_whitespace(requested_model) else content,
        reasoning="\n\n".join(reasoning_parts) or None,
        tool_calls=tool_calls,
        finish_reason=finish,
        system_fingerprint=fingerprint if isinstance(fingerprint, str) else None,
        created=created,
        refusal=refusal,
        logprobs=logprobs,
    )
