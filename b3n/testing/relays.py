"""Relay profiles: how one-api and new-api really translate Claude and Gemini, as switchable quirks.

B3n's documentation shows a few of the relay's answers; the public code of the relay family shows the
rest. Each behaviour found there is a named :class:`RelayQuirk` whose ``source`` names the file and the
commit it was read at (the table is data: ``relay_quirks.json`` next to this module); a *profile* is the
set of quirks one relay version has:

* ``docs`` (default): what B3n's documentation shows (the emulator's behaviour before profiles);
* ``one-api``: songquanpeng/one-api at ``8df4a267`` (2025-02-21);
* ``new-api-2412``: Calcium-Ion/new-api at ``f693c13c`` (2024-12-01), the version whose Gemini output
  matches B3n's documented Gemini quirks;
* ``new-api``: Calcium-Ion/new-api at ``ef8ae4db`` (2025-04-11).

Quirks mostly touch the Claude and Gemini families; for unknown request arguments on every family see
:mod:`b3n.testing.arguments`. Turn single quirks on or off with ``emu.relay_quirks`` (a plain ``set``).

>>> sorted(PROFILES["one-api"])[:3]
['claude_empty_text_block', 'claude_null_content_drops_tool_calls', 'claude_single_choice']
>>> QUIRKS["gemini_tool_role_untranslated"].source.split()[0]
'songquanpeng/one-api@8df4a267'
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from .chat_request import ChatRequest
from .errors import ApiError
from .model import ChatOutcome
from .quirks import text_pieces, usage_block
from .reply import plain_reply, tool_preface
from .textutil import count_tokens, stable_alnum, stable_hex

ONE_API = "songquanpeng/one-api@8df4a267"
NEW_API_2412 = "Calcium-Ion/new-api@f693c13c"
NEW_API = "Calcium-Ion/new-api@ef8ae4db"


@dataclass(frozen=True)
class RelayQuirk:
    """One relay behaviour: ``family`` it applies to, what it does, and where the relay code does it."""

    name: str
    family: str
    summary: str
    source: str


def _load_quirks() -> dict[str, RelayQuirk]:
    """The table in ``relay_quirks.json``: quirks by request, response and error; ``{ONE_API}`` names a commit."""
    text = resources.files("b3n.testing").joinpath("relay_quirks.json").read_text(encoding="utf-8")
    commits = {"ONE_API": ONE_API, "NEW_API_2412": NEW_API_2412, "NEW_API": NEW_API}
    return {
        name: RelayQuirk(name, row["family"], row["summary"], row["source"].format(**commits))
        for section in json.loads(text).values()
        for name, row in section.items()
    }


QUIRKS: dict[str, RelayQuirk] = _load_quirks()

_ONE_API = {
    "claude_tool_choice_auto", "claude_null_content_drops_tool_calls", "claude_empty_text_block",
    "claude_stop_dropped", "claude_single_choice", "claude_stream_empty_finish", "claude_stream_no_usage",
    "gemini_tool_choice_dropped", "gemini_stop_dropped", "gemini_tool_role_untranslated",
    "gemini_first_call_only", "gemini_stream_drops_tool_calls", "gemini_stream_model_literal",
    "gemini_stream_no_finish", "gemini_stream_no_usage", "gemini_stop_with_tool_calls",
    "claude_unknown_arguments_dropped", "gemini_unknown_arguments_dropped",
}
_NEW_API_CLAUDE = {
    "claude_tool_choice_dropped", "claude_empty_text_block", "claude_single_choice",
    "claude_raw_finish_reasons", "claude_stream_block_index",
    "claude_unknown_arguments_dropped", "gemini_unknown_arguments_dropped", "openai_body_rebuilt",
}
PROFILES: dict[str, frozenset[str]] = {
    "docs": frozenset(),
    "one-api": frozenset(_ONE_API),
    "new-api-2412": frozenset(
        _NEW_API_CLAUDE
        | {
            "gemini_tool_choice_dropped", "gemini_stop_dropped", "gemini_tool_role_untranslated",
            "gemini_response_format_ignored", "gemini_first_call_only", "gemini_stream_model_literal",
            "gemini_stream_extra_stop_chunk", "gemini_model_empty", "gemini_stop_with_tool_calls",
        }
    ),
    "new-api": frozenset(
        _NEW_API_CLAUDE
        | {"gemini_tool_choice_dropped", "gemini_stop_dropped", "gemini_stream_extra_stop_chunk", "token_errors_403"}
    ),
}
assert all(name in QUIRKS for profile in PROFILES.values() for name in profile)


def check_relay(relay: str) -> frozenset[str]:
    """The quirks of profile ``relay``; ValueError for an unknown name."""
    if relay not in PROFILES:
        raise ValueError(f"unknown relay profile {relay!r}; expected one of {sorted(PROFILES)}")
    return PROFILES[relay]


def _family(body: dict[str, Any]) -> str | None:
    from .catalog import family_of

    model = body.get("model")
    return family_of(model) if isinstance(model, str) else None


# ---------------------------------------------------------------------------------------- requests
def _upstream_400(message: str) -> ApiError:
    return ApiError(400, message, type="invalid_request_error")


def rewrite_request(body: Any, quirks: set[str] | frozenset[str]) -> tuple[Any, bool]:
    """The body as the relay forwards it upstream, or the upstream's 400 (raised as :class:`ApiError`).

    Returns ``(body, forcing_dropped)``; ``forcing_dropped`` is True when the caller forced a tool
    and the relay did not pass that on.
    """
    if not quirks or not isinstance(body, dict):
        return body, False
    family = _family(body)
    if family not in ("claude", "gemini"):
        return body, False
    out = dict(body)
    choice = out.get("tool_choice")
    forcing = choice == "required" or isinstance(choice, dict)
    dropped = False
    if family == "claude":
        if "claude_tool_choice_dropped" in quirks and "tool_choice" in out:
            out.pop("tool_choice")
            dropped = forcing
        elif "claude_tool_choice_auto" in quirks and choice in ("required", "none"):
            out["tool_choice"] = "auto"
            dropped = forcing
        if "claude_stop_dropped" in quirks:
            out.pop("stop", None)
        _claude_messages(out, quirks)
    else:
        if "gemini_tool_choice_dropped" in quirks and "tool_choice" in out:
            out.pop("tool_choice")
            dropped = forcing
        if "gemini_stop_dropped" in quirks:
            out.pop("stop", None)
        if "gemini_tool_role_untranslated" in quirks:
            _gemini_roles(out)
    return out, dropped


def _claude_messages(body: dict[str, Any], quirks: set[str] | frozenset[str]) -> None:
    messages = body.get("messages")
    if not isinstance(messages, list):
        return
    kept: list[Any] = []
    for i, msg in enumerate(messages):
        if not (isinstance(msg, dict) and msg.get("role") == "assistant" and msg.get("tool_calls")):
            kept.append(msg)
            continue
        content = msg.get("content", ...)
        if content is None and "claude_null_content_drops_tool_calls" in quirks:
            kept.append({k: v for k, v in msg.items() if k != "tool_calls"} | {"content": ""})
            continue
        empty = content == "" or (content is None and "claude_empty_text_block" in quirks)
        if empty and "claude_empty_text_block" in quirks:
            raise _upstream_400(f"messages.{i}.content.0.text: text content blocks must be non-empty")
        kept.append(msg)
    # Anthropic: every tool_result must answer a tool_use of the previous assistant turn
    known: set[str] = set()
    for i, msg in enumerate(kept):
        if not isinstance(msg, dict):
            continue
        if msg.get("role") == "assistant":
            known = {str(c.get("id")) for c in msg.get("tool_calls") or [] if isinstance(c, dict)}
        elif msg.get("role") == "tool" and str(msg.get("tool_call_id")) not in known:
            raise _upstream_400(
                f"messages.{i}.content.0: unexpected `tool_use_id` found in `tool_result` blocks: "
                f"{msg.get('tool_call_id')}. Each `tool_result` block must have a corresponding `tool_use` "
                "block in the previous message."
            )
    body["messages"] = [m for m in kept if not (isinstance(m, dict) and m.get("content") == "" and
                                                 m.get("role") == "assistant" and not m.get("tool_calls"))]


def _gemini_roles(body: dict[str, Any]) -> None:
    messages = body.get("messages")
    if not isinstance(messages, list):
        return
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict):
            continue
        if msg.get("role") == "tool":
            raise _upstream_400(
                f"* GenerateContentRequest.contents[{i}].role: Please use a valid role: user, model."
            )
        if msg.get("role") == "assistant" and msg.get("tool_calls") and not msg.get("content"):
            raise _upstream_400(f"* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty.")


def honours_gemini_json_mode(quirks: set[str] | frozenset[str]) -> bool:
    """Whether a Gemini ``response_format`` reaches the model as JSON mode under these quirks."""
    return bool(quirks) and "gemini_response_format_ignored" not in quirks


# ---------------------------------------------------------------------------------------- outcomes
def rewrite_outcome(
    req: ChatRequest, outcome: ChatOutcome, quirks: set[str] | frozenset[str], forcing_dropped: bool
) -> ChatOutcome:
    """What the model answers once the relay changed the request (e.g. no forcing: prose, not a schema tool)."""
    if not quirks or req.family not in ("claude", "gemini"):
        return outcome
    if forcing_dropped and outcome.tool_calls and all(c.name[:1].isupper() for c in outcome.tool_calls):
        # Without tool_choice a model seldom fills an output-schema "tool": it answers in prose.
        text = plain_reply(req.model, req.messages)
        return ChatOutcome(text=text, prompt_tokens=outcome.prompt_tokens, completion_tokens=count_tokens(text))
    if req.family == "gemini" and "gemini_first_call_only" in quirks and len(outcome.tool_calls) > 1:
        first = outcome.tool_calls[0]
        return ChatOutcome(
            text=None, tool_calls=[first], finish_reason="tool_calls", prompt_tokens=outcome.prompt_tokens,
            completion_tokens=count_tokens(first.name) + count_tokens(first.arguments) + 4,
        )
    return outcome


# ---------------------------------------------------------------------------------------- responses
def _call(call: Any, *, index: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if index is not None:
        out["index"] = index
    out.update({"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}})
    return out


def _claude_finish(outcome: ChatOutcome, quirks: set[str] | frozenset[str]) -> str:
    finish = "tool_calls" if outcome.tool_calls else outcome.finish_reason
    if "claude_raw_finish_reasons" in quirks:
        return {"tool_calls": "tool_use", "length": "max_tokens"}.get(finish, finish)
    return finish


def _claude_text(outcome: ChatOutcome) -> str:
    if outcome.tool_calls:
        return tool_preface([c.name for c in outcome.tool_calls])
    return outcome.text or ""


def _claude_id(req: ChatRequest, quirks: set[str] | frozenset[str]) -> str:
    msg = "msg_01" + stable_alnum(22, "msg", json.dumps(req.raw, sort_keys=True, default=str))
    return msg if "claude_raw_finish_reasons" in quirks else "chatcmpl-" + msg


def _gemini_text(outcome: ChatOutcome) -> str:
    return (outcome.text or "") + " \n"  # the upstream model's trailing whitespace (B3n docs)


def build_completion(
    req: ChatRequest, outcome: ChatOutcome, quirks: set[str] | frozenset[str], created: int
) -> dict[str, Any] | None:
    """A non-streamed body shaped by the relay, or None when the docs shape applies."""
    if req.family == "claude" and "claude_single_choice" in quirks:
        text = _claude_text(outcome)
        extra = count_tokens(text) if outcome.tool_calls else 0
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if outcome.tool_calls:
            message["tool_calls"] = [_call(c) for c in outcome.tool_calls]
        return {
            "id": _claude_id(req, quirks), "object": "chat.completion", "created": created, "model": req.model,
            "choices": [{"index": 0, "message": message, "finish_reason": _claude_finish(outcome, quirks)}],
            "usage": usage_block(req, outcome, True, extra_completion=extra),
        }
    if req.family == "gemini" and quirks:
        gmsg: dict[str, Any] = {"role": "assistant"}
        finish = outcome.finish_reason
        if outcome.tool_calls:
            gmsg["tool_calls"] = [_call(c) for c in outcome.tool_calls]
            if "gemini_stream_drops_tool_calls" not in quirks:  # new-api: content "" (one-api: no key)
                gmsg["content"] = ""
            finish = "stop" if "gemini_stop_with_tool_calls" in quirks else "tool_calls"
        else:
            gmsg["content"] = _gemini_text(outcome)
        body: dict[str, Any] = {"id": "chatcmpl-" + stable_hex(32, "id", json.dumps(req.raw, sort_keys=True)),
                                "object": "chat.completion", "created": created}
        body["model"] = "" if "gemini_model_empty" in quirks else req.model
        body["choices"] = [{"index": 0, "message": gmsg, "finish_reason": finish}]
        body["usage"] = usage_block(req, outcome, True)
        return body
    return None


def _fragments(arguments: str) -> list[str]:
    if len(arguments) < 3:
        return [arguments] if arguments else []
    step = -(-len(arguments) // 3)
    return [arguments[i : i + step] for i in range(0, len(arguments), step)]


def build_chunks(
    req: ChatRequest, outcome: ChatOutcome, quirks: set[str] | frozenset[str], created: int
) -> list[dict[str, Any]] | None:
    """The stream chunks shaped by the relay, or None when the docs shape applies."""
    if req.family == "claude" and "claude_single_choice" in quirks:
        return _claude_chunks(req, outcome, quirks, created)
    if req.family == "gemini" and quirks:
        return _gemini_chunks(req, outcome, quirks, created)
    return None


def _claude_chunks(
    req: ChatRequest, outcome: ChatOutcome, quirks: set[str] | frozenset[str], created: int
) -> list[dict[str, Any]]:
    cid = _claude_id(req, quirks)
    one_api = "claude_stream_empty_finish" in quirks
    block_index = "claude_stream_block_index" in quirks
    pending = "" if one_api else None

    def chunk(delta: dict[str, Any], finish: str | None, index: int = 0) -> dict[str, Any]:
        if one_api:
            delta = {**delta, "role": "assistant"}
        return {"id": cid, "object": "chat.completion.chunk", "created": created, "model": req.model,
                "choices": [{"index": index, "delta": delta, "finish_reason": finish}]}

    chunks = [] if one_api else [chunk({"role": "assistant", "content": ""}, None)]
    text = _claude_text(outcome)
    for piece in text_pieces(text) if text else []:
        chunks.append(chunk({"content": piece}, pending))
    for position, call in enumerate(outcome.tool_calls):
        header = {"tool_calls": [{"id": call.id, "type": "function",
                                  "function": {"name": call.name, "arguments": ""}}], "content": None}
        chunks.append(chunk(header, pending))
        block = position + 1 if block_index else 0
        for frag in _fragments(call.arguments):
            chunks.append(chunk({"tool_calls": [{"function": {"arguments": frag}}], "content": None}, pending, block))
    chunks.append(chunk({}, _claude_finish(outcome, quirks)))
    if req.include_usage and "claude_stream_no_usage" not in quirks:
        extra = count_tokens(text) if outcome.tool_calls else 0
        chunks.append({"id": cid, "object": "chat.completion.chunk", "created": created, "model": req.model,
                       "choices": [], "usage": usage_block(req, outcome, True, extra_completion=extra)})
    return chunks


def _gemini_chunks(
    req: ChatRequest, outcome: ChatOutcome, quirks: set[str] | frozenset[str], created: int
) -> list[dict[str, Any]]:
    seed = json.dumps(req.raw, sort_keys=True)
    base_id = "chatcmpl-" + stable_hex(32, "id", seed)
    literal = "gemini_stream_model_literal" in quirks
    no_finish = "gemini_stream_no_finish" in quirks
    extra_stop = "gemini_stream_extra_stop_chunk" in quirks
    counter = iter(range(1_000_000))

    def chunk(delta: dict[str, Any], finish: str | None, model: str | None = None) -> dict[str, Any]:
        n = next(counter)
        cid = "chatcmpl-" + stable_hex(32, "id", seed, n) if no_finish else base_id
        c: dict[str, Any] = {"id": cid, "object": "chat.completion.chunk", "created": created,
                             "model": model or ("gemini" if literal else req.model)}
        c["choices"] = [{"index": 0, "delta": delta, "finish_reason": None if no_finish else finish}]
        return c

    chunks: list[dict[str, Any]] = []
    if outcome.tool_calls:
        if "gemini_stream_drops_tool_calls" in quirks:
            chunks.append(chunk({"content": ""}, None))
        else:
            indexed = "gemini_first_call_only" not in quirks
            calls = [_call(c, index=i if indexed else None) for i, c in enumerate(outcome.tool_calls)]
            finish = None if extra_stop and "gemini_stop_with_tool_calls" in quirks else "tool_calls"
            chunks.append(chunk({"role": "assistant", "tool_calls": calls}, finish))
    else:
        pieces = text_pieces(_gemini_text(outcome))
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            chunks.append(chunk({"role": "assistant", "content": piece}, None if extra_stop or not last else
                                outcome.finish_reason))
    if extra_stop:
        chunks.append(chunk({}, "stop", model=req.model))
    if req.include_usage and "gemini_stream_no_usage" not in quirks:
        chunks.append({"id": base_id, "object": "chat.completion.chunk", "created": created, "model": req.model,
                       "choices": [], "usage": usage_block(req, outcome, True)})
    return chunks


# ---------------------------------------------------------------------------------------- errors
TOKEN_ERRORS: dict[str, str] = {
    "token_exhausted": "该令牌额度已用尽",
    "token_expired": "该令牌已过期",
    "token_disabled": "该令牌状态不可用",
    "token_invalid": "无效的令牌",
    "token_missing": "未提供令牌",
    "user_quota": "用户额度不足",
}


def token_error(kind: str, quirks: set[str] | frozenset[str]) -> ApiError:
    """The relay's answer to a token problem ``kind`` (see :data:`TOKEN_ERRORS`)."""
    message = TOKEN_ERRORS[kind]
    new_api = "token_errors_403" in quirks
    etype = "new_api_error" if new_api else "one_api_error"
    if kind in ("token_exhausted", "user_quota") and new_api:
        return ApiError(403, f"{message}, 剩余额度: 0", type=etype, code="pre_consume_token_quota_failed")
    if kind == "token_exhausted":
        message = "[sk-abc***xyz] 该令牌额度已用尽 !token.UnlimitedQuota && token.RemainQuota = 0"
    return ApiError(401 if kind != "user_quota" else 403, message, type=etype)


def midstream_error_body(request_id: str) -> bytes:
    """What new-api writes after the SSE headers when the upstream fails: plain JSON, no ``data:``.

    Source: Calcium-Ion/new-api@ef8ae4db controller/relay.go (``c.JSON`` after the stream started).
    """
    err = ApiError(500, "upstream error: do request failed", type="new_api_error", code="do_request_failed")
    return json.dumps(err.body(request_id), ensure_ascii=False).encode()


__all__ = [
    "PROFILES",
    "QUIRKS",
    "TOKEN_ERRORS",
    "RelayQuirk",
    "build_chunks",
    "build_completion",
    "check_relay",
    "honours_gemini_json_mode",
    "midstream_error_body",
    "rewrite_outcome",
    "rewrite_request",
    "token_error",
]
