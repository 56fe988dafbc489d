"""Per-family response shaping: how the relay wraps the scripted model's outcome.

Styles:

* ``openai`` (gpt-*, o-series, reverse models, deepseek/grok, and every model with quirks off):
  OpenAI shape; with quirks on, dated ``model`` names, ``system_fingerprint``, ``usage: null`` on
  every stream chunk when usage was requested.
* ``claude``: alias echoed, no fingerprint, tool calls as two choices with the same index, stream
  tool-call deltas without ``index``.
* ``gemini``: no ``model`` key (flash) or ``""``, trailing ``" \\n"`` on text, whole tool calls in one
  index-less delta, ``finish_reason: "stop"`` even for tool calls, and a thought signature on every
  tool call (``extra_content.google.thought_signature``, see :mod:`b3n.testing.signatures`).
"""

from __future__ import annotations

import re
from typing import Any

from .catalog import dated_name, fingerprint
from .chat_request import ChatRequest, ToolCall
from .model import ChatOutcome, request_seed, uses_call_style
from .reply import tool_preface
from .signatures import with_signature
from .textutil import count_tokens, stable_alnum, stable_hex

_PIECE_RE = re.compile(r"\S+\s*|\s+")


def completion_id(req: ChatRequest, quirks: bool) -> str:
    """``chatcmpl-`` + 29 alnum (OpenAI, Claude) or + 32 hex (Gemini)."""
    seed = request_seed(req)
    if uses_call_style(req, quirks) == "gemini":
        return "chatcmpl-" + stable_hex(32, "id", seed)
    return "chatcmpl-" + stable_alnum(29, "id", seed)


def response_model(req: ChatRequest, quirks: bool) -> str | None:
    """The ``model`` value of a non-streamed response (``None`` = key absent)."""
    if not quirks:
        return req.model
    style = uses_call_style(req, quirks)
    if style == "gemini":
        return None if "flash" in req.model else ""
    if style == "claude":
        return req.model
    return dated_name(req.model)


def usage_block(req: ChatRequest, outcome: ChatOutcome, quirks: bool, *, extra_completion: int = 0) -> dict[str, Any]:
    """The ``usage`` object (OpenAI style adds the token details)."""
    completion = outcome.completion_tokens + extra_completion
    usage: dict[str, Any] = {
        "prompt_tokens": outcome.prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": outcome.prompt_tokens + completion,
    }
    if uses_call_style(req, quirks) == "openai":
        usage["prompt_tokens_details"] = {"cached_tokens": 0, "audio_tokens": 0}
        usage["completion_tokens_details"] = {
            "reasoning_tokens": outcome.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        }
    elif outcome.reasoning_tokens and uses_call_style(req, quirks) == "gemini":  # thoughtsTokenCount
        usage["completion_tokens_details"] = {"reasoning_tokens": outcome.reasoning_tokens}
    return usage


def _call_dict(call: ToolCall) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }
    if call.signature is not None:  # Gemini: the thought signature rides on every call
        out = with_signature(out, call.signature)
    return out


def _text_for(req: ChatRequest, text: str, quirks: bool) -> str:
    if uses_call_style(req, quirks) == "gemini":
        return text + " \n"
    return text


def build_completion(req: ChatRequest, outcome: ChatOutcome, *, quirks: bool, created: int) -> dict[str, Any]:
    """A non-streamed ``chat.completion`` body."""
    style = uses_call_style(req, quirks)
    body: dict[str, Any] = {"id": completion_id(req, quirks), "object": "chat.completion", "created": created}
    model = response_model(req, quirks)
    if model is not None:
        body["model"] = model
    choices: list[dict[str, Any]] = []
    extra_completion = 0
    if style == "openai":
        message: dict[str, Any] = {
            "role": "assistant",
            "content": outcome.text,
            "refusal": None,
        }
        if outcome.tool_calls:
            message["tool_calls"] = [_call_dict(c) for c in outcome.tool_calls]
        choice: dict[str, Any] = {"index": 0, "message": message}
        if req.family != "reasoning":
            choice["logprobs"] = None
        choice["finish_reason"] = outcome.finish_reason
        choices.append(choice)
    elif style == "claude":
        if outcome.tool_calls:
            preface = tool_preface([c.name for c in outcome.tool_calls])
            extra_completion = count_tokens(preface)
            choices.append(
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [_call_dict(c) for c in outcome.tool_calls],
                        "refusal": None,
                    },
                    "logprobs": None,
                    "finish_reason": "tool_calls",
                }
            )
            choices.append(
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": preface, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            )
        else:
            choices.append(
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": outcome.text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": outcome.finish_reason,
                }
            )
    else:  # gemini
        if outcome.tool_calls:
            gmsg: dict[str, Any] = {
                "role": "assistant",
                "content": None,
                "tool_calls": [_call_dict(c) for c in outcome.tool_calls],
            }
            finish = "stop"
        else:
            gmsg = {"role": "assistant", "content": _text_for(req, outcome.text or "", quirks)}
            finish = outcome.finish_reason
        choices.append({"index": 0, "message": gmsg, "finish_reason": finish})
    body["choices"] = choices
    body["usage"] = usage_block(req, outcome, quirks, extra_completion=extra_completion)
    if style == "openai":
        body["system_fingerprint"] = fingerprint(req.model)
    return body


def text_pieces(text: str) -> list[str]:
    """Word-ish stream pieces: each word with its following whitespace."""
    return _PIECE_RE.findall(text) or [text]


def _fragments(arguments: str) -> list[str]:
    if not arguments:
        return []
    if len(arguments) < 3:
        return [arguments]
    step = -(-len(arguments) // 3)
    return [arguments[i : i + step] for i in range(0, len(arguments), step)]


def build_chunks(req: ChatRequest, outcome: ChatOutcome, *, quirks: bool, created: int) -> list[dict[str, Any]]:
    """The ``chat.completion.chunk`` objects of a streamed response, in order."""
    style = uses_call_style(req, quirks)
    cid = completion_id(req, quirks)
    if not quirks:
        model = req.model
    elif style == "gemini":
        model = ""
    elif style == "claude":
        model = req.model
    else:
        model = dated_name(req.model)
    openai_quirks = quirks and style == "openai"
    fp = fingerprint(req.model) if style == "openai" else None

    def head() -> dict[str, Any]:
        """The fields every chunk starts with."""
        h: dict[str, Any] = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model}
        if style == "openai":
            h["system_fingerprint"] = fp
        return h

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        c = head()
        choice: dict[str, Any] = {"index": 0, "delta": delta}
        if style == "openai" and req.family != "reasoning":
            choice["logprobs"] = None
        choice["finish_reason"] = finish
        c["choices"] = [choice]
        if openai_quirks and req.include_usage:
            c["usage"] = None
        return c

    chunks: list[dict[str, Any]] = []
    extra_completion = 0
    calls = outcome.tool_calls
    if calls and style == "gemini":
        chunks.append(chunk({"role": "assistant", "tool_calls": [_call_dict(c) for c in calls]}, "stop"))
    elif calls and style == "claude":
        preface = tool_preface([c.name for c in calls])
        extra_completion = count_tokens(preface)
        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": preface}]
        for call in calls:
            deltas.append(
                {"tool_calls": [{"id": call.id, "type": "function", "function": {"name": call.name, "arguments": ""}}]}
            )
            deltas.extend({"tool_calls": [{"function": {"arguments": frag}}]} for frag in _fragments(call.arguments))
        for i, delta in enumerate(deltas):
            chunks.append(chunk(delta, "tool_calls" if i == len(deltas) - 1 else None))
    elif calls:
        deltas = []
        for index, call in enumerate(calls):
            header: dict[str, Any] = {
                "tool_calls": [
                    {
                        "index": index,
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": ""},
                    }
                ]
            }
            if index == 0:
                header = {"role": "assistant", "content": None, **header, "refusal": None}
            deltas.append(header)
            deltas.extend(
                {"tool_calls": [{"index": index, "function": {"arguments": frag}}]}
                for frag in _fragments(call.arguments)
            )
        for i, delta in enumerate(deltas):
            chunks.append(chunk(delta, "tool_calls" if i == len(deltas) - 1 else None))
    else:
        text = _text_for(req, outcome.text or "", quirks)
        pieces = text_pieces(text)
        if style == "openai":
            chunks.append(chunk({"role": "assistant", "content": "", "refusal": None}))
            for i, piece in enumerate(pieces):
                chunks.append(chunk({"content": piece}, outcome.finish_reason if i == len(pieces) - 1 else None))
        else:
            for i, piece in enumerate(pieces):
                first: dict[str, Any] = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
                chunks.append(chunk(first, outcome.finish_reason if i == len(pieces) - 1 else None))
    if req.include_usage:
        usage = usage_block(req, outcome, quirks, extra_completion=extra_completion)
        chunks.append({**head(), "choices": [], "usage": usage})
    return chunks
