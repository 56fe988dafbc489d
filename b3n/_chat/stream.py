"""Assemble a ``/chat/completions`` SSE stream into normalised :class:`ChatChunk` events.

Both adapters consume the same events, so stream quirks are handled once:

- tool-call deltas without ``index`` (Gemini, Claude relays): a new ``id`` (or a name
  without an id) starts a new call, an id-less fragment continues the last call; several
  calls in one delta are split; calls that reuse an index with a different id are
  kept apart. Our indexes are 0, 1, 2... in order of appearance;
- ``finish_reason: "stop"`` with tool calls becomes ``"tool_calls"``;
- the model name (empty or missing in Gemini chunks → the requested one), the finish
  reason and usage are delivered once, on a terminal chunk;
- trailing whitespace at the end of the reply is dropped (Gemini sends ``"1 \\n"``);
- a leading ``<thinking>…</thinking>`` (Claude opus) and ``reasoning_content`` deltas
  are delivered as ``reasoning``.

Example:
    >>> a = StreamAssembler("gemini-1.5-flash-latest")
    >>> chunk = a.feed({"choices": [{"delta": {"tool_calls": [
    ...     {"id": "c1", "function": {"name": "f", "arguments": "{}"}},
    ...     {"id": "c2", "function": {"name": "g", "arguments": "{}"}}]}, "finish_reason": "stop"}]})
    >>> [(d.index, d.id, d.name) for d in chunk.tool_calls]
    [(0, 'c1', 'f'), (1, 'c2', 'g')]
    >>> end = a.finish()
    >>> end.finish_reason, end.model
    ('tool_calls', 'gemini-1.5-flash-latest')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from b3n._chat.relay import normalize_finish_reason, normalize_model, strips_trailing_whitespace
from b3n._chat.response import THINK_CLOSE, THINK_OPEN, logprob_content, parse_usage
from b3n._chat.types import ChatChunk, ChatCompletion, ToolCall, ToolCallDelta, Usage, new_call_id
from b3n._json import count

_WS = " \t\r\n"


class StreamAssembler:
    """Stateful: feed raw chunk dicts in order, then call :meth:`finish` once."""

    __slots__ = (
        "_calls",
        "_content",
        "_held_ws",
        "_id",
        "_id_given",
        "_lead_ws",
        "_reasoning",
        "_refusal",
        "_strip_ws",
        "_think",
        "_think_buf",
        "_wire_to_ours",
        "created",
        "fingerprint",
        "finish_reason",
        "model",
        "request_id",
        "requested_model",
        "saw_logprobs",
        "usage",
    )

    def __init__(self, requested_model: str) -> None:
        self.saw_logprobs = False
        #: the relay's request id (from the stream's headers, see :meth:`see_headers`): on the first and the
        #: terminal chunk.
        self.request_id: str | None = None
        self._id_given = False
        self.requested_model = requested_model
        self.model: str | None = None
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.fingerprint: str | None = None
        self.created: int | None = None
        self._id: str | None = None
        self._content: list[str] = []
        self._reasoning: list[str] = []
        self._refusal: list[str] = []
        self._calls: list[ToolCall] = []
        self._wire_to_ours: dict[int, int] = {}
        # whitespace pieces held back (joined once, when text follows): whitespace-only deltas stay linear
        self._held_ws: list[str] = []
        self._lead_ws: list[str] = []
        # thinking-tag state: "start" (undecided), "in" (inside <thinking>), "out" (normal text)
        self._think = "start"
        self._think_buf = ""
        self._strip_ws = strips_trailing_whitespace(requested_model)

    # -------------------------------------------------------------- feeding

    def see_headers(self, headers: Mapping[str, str]) -> None:
        """Note the request id of the stream that just opened (each retry's stream has its own)."""
        from b3n._relay_errors import extract_request_id

        self.request_id = extract_request_id(None, headers)

    def feed(self, raw: Mapping[str, Any]) -> ChatChunk | None:
        """Consume one SSE data object; return a chunk with new content, or None."""
        if self._id is None and raw.get("id"):
            self._id = str(raw["id"])
        model = raw.get("model")
        if model and self.model is None and normalize_model(model, ""):
            self.model = str(model)
        if raw.get("system_fingerprint") and self.fingerprint is None:
            self.fingerprint = str(raw["system_fingerprint"])
        if self.created is None:
            self.created = count(raw.get("created")) or None
        usage = raw.get("usage")
        if usage:
            self.usage = parse_usage(usage) or self.usage
        choices = raw.get("choices")
        if not (choices and isinstance(choices, list)):
            return None
        content = reasoning = refusal = ""
        deltas: list[ToolCallDelta] = []
        logprobs: list[dict[str, Any]] | None = None
        for choice in choices:
            if not isinstance(choice, Mapping):
                continue
            piece = logprob_content(choice.get("logprobs"))
            if piece:
                logprobs = (logprobs or []) + piece
                self.saw_logprobs = True
            delta = choice.get("delta") or choice.get("message") or {}
            if isinstance(delta, Mapping):
                text = delta.get("content")
                if isinstance(text, str) and text:
                    c, r = self._route_text(text)
                    content += c
                    reasoning += r
                for key in ("reasoning_content", "reasoning"):
                    value = delta.get(key)
                    if isinstance(value, str) and value:
                        reasoning += value
                        break
                said_no = delta.get("refusal")
                if isinstance(said_no, str) and said_no:
                    refusal += said_no
                raw_calls = delta.get("tool_calls")
                if raw_calls and isinstance(raw_calls, list):
                    for raw_call in raw_calls:
                        if isinstance(raw_call, Mapping):
                            deltas.append(self._tool_delta(raw_call))
            if choice.get("finish_reason") and self.finish_reason is None:
                self.finish_reason = normalize_finish_reason(choice["finish_reason"])
        if reasoning:
            self._reasoning.append(reasoning)
        if refusal:
            self._refusal.append(refusal)
        content = self._hold_trailing_ws(content)
        if content:
            self._content.append(content)
        if not (content or reasoning or deltas or refusal or logprobs):
            return None
        chunk = ChatChunk(content=content, reasoning=reasoning, tool_calls=deltas, refusal=refusal, logprobs=logprobs)
        if not self._id_given:
            chunk.request_id, self._id_given = self.request_id, True
        return chunk

    def _route_text(self, text: str) -> tuple[str, str]:
        """Split text into (content, reasoning) according to a leading <thinking> block."""
        if self._think == "out":
            return text, ""
        if self._think == "start":
            if not self._think_buf:  # only whitespace so far: keep it aside, never re-scan it
                probe = text.lstrip()
                self._lead_ws.append(text[: len(text) - len(probe)])
                if not probe:
                    return "", ""
                text = probe
            self._think_buf += text  # starts with text, and stays shorter than THINK_OPEN while undecided
            probe = self._think_buf
            if probe.startswith(THINK_OPEN):
                self._think = "in"
                text, self._think_buf, self._lead_ws = probe[len(THINK_OPEN) :], "", []
            elif THINK_OPEN.startswith(probe):
                return "", ""  # could still become "<thinking>"
            else:
                self._think = "out"
                text, self._think_buf, self._lead_ws = "".join(self._lead_ws) + probe, "", []
                return text, ""
        # inside <thinking>
        self._think_buf += text
        end = self._think_buf.find(THINK_CLOSE)
        if end < 0:
            # keep a tail that might be the start of the closing tag
            safe = len(self._think_buf) - len(THINK_CLOSE)
            if safe <= 0:
                return "", ""
            out, self._think_buf = self._think_buf[:safe], self._think_buf[safe:]
            return "", out
        thought = self._think_buf[:end]
        rest = self._think_buf[end + len(THINK_CLOSE) :].lstrip()
        self._think_buf = ""
        self._think = "out"
        return rest, thought

    def _hold_trailing_ws(self, content: str) -> str:
        if not content:
            return ""
        if not self._strip_ws:
            return content
        stripped = content.rstrip(_WS)
        if not stripped:
            self._held_ws.append(content)
            return ""
        held = "".join(self._held_ws)
        self._held_ws = [content[len(stripped) :]]
        return held + stripped

    def _tool_delta(self, raw: Mapping[str, Any]) -> ToolCallDelta:
        fn = raw.get("function")
        fn = fn if isinstance(fn, Mapping) else {}
        wire_index = raw.get("index")
        call_id = raw.get("id") or None
        name = fn.get("name") or None
        args = fn.get("arguments")
        if args is not None and not isinstance(args, str):
            import json

            args = json.dumps(args, ensure_ascii=False)
        args = args or ""
        ours = self._locate(wire_index if isinstance(wire_index, int) else None, call_id, name)
        if ours is None:
            ours = len(self._calls)
            extra = {k: v for k, v in raw.items() if k not in ("id", "type", "function", "index")} or None
            self._calls.append(ToolCall(id=str(call_id or new_call_id()), name=str(name or ""), arguments="",
                                        extra=extra))
            if isinstance(wire_index, int):
                self._wire_to_ours[wire_index] = ours
            call = self._calls[ours]
            call.arguments += args
            return ToolCallDelta(index=ours, id=call.id, name=call.name, arguments=args, extra=extra)
        call = self._calls[ours]
        if name and not call.name:
            call.name = str(name)
        call.arguments += args
        return ToolCallDelta(index=ours, id=None, name=None, arguments=args)

    def _locate(self, wire_index: int | None, call_id: str | None, name: str | None) -> int | None:
        """Which existing call this fragment continues (None: it starts a new call)."""
        if call_id is not None:
            for i, call in enumerate(self._calls):
                if call.id == call_id:
                    return i
            return None
        if wire_index is not None:
            return self._wire_to_ours.get(wire_index)
        if name:
            return None
        return len(self._calls) - 1 if self._calls else None

    # -------------------------------------------------------------- results

    def finish(self) -> ChatChunk:
        """The terminal chunk: finish reason, model, id and usage, delivered exactly once."""
        if self._think_buf or self._lead_ws:
            # an unterminated <thinking> or an undecided prefix
            if self._think == "in":
                self._reasoning.append(self._think_buf)
            else:
                pending = "".join(self._lead_ws) + self._think_buf
                self._content.append(pending.rstrip(_WS) if self._strip_ws else pending)
            self._think_buf, self._lead_ws = "", []
        self._held_ws = []
        if self._calls and self.finish_reason in (None, "stop"):
            self.finish_reason = "tool_calls"
        elif self.finish_reason is None:  # a complete stream ([DONE]) without any finish reason (one-api Gemini)
            self.finish_reason = "stop"
        for call in self._calls:
            if not call.arguments:
                call.arguments = "{}"
        return ChatChunk(
            final=True,
            finish_reason=self.finish_reason,
            model=normalize_model(self.model, self.requested_model),
            id=self._id,
            usage=self.usage,
            system_fingerprint=self.fingerprint,
            request_id=self.request_id,
        )

    @property
    def has_output(self) -> bool:
        return bool(self._content or self._reasoning or self._calls or self._refusal)

    def result(self) -> ChatCompletion:
        """Everything received so far as one completion (used for interrupted streams too)."""
        return ChatCompletion(
            id=self._id or "",
            model=normalize_model(self.model, self.requested_model),
            content="".join(self._content),
            reasoning="".join(self._reasoning) or None,
            tool_calls=[ToolCall(c.id, c.name, c.arguments or "{}", c.extra) for c in self._calls],
            finish_reason=self.finish_reason,
            usage=self.usage,
            system_fingerprint=self.fingerprint,
            created=self.created,
            refusal="".join(self._refusal) or None,
        )


def completion_to_chunks(completion: ChatCompletion) -> list[ChatChunk]:
    """Serve a stream from one completed call (models that cannot stream, e.g. o1-mini)."""
    chunks: list[ChatChunk] = []
    if completion.reasoning or completion.content or completion.tool_calls or completion.refusal:
        chunks.append(
            ChatChunk(
                content=completion.content,
                reasoning=completion.reasoning or "",
                refusal=completion.refusal or "",
                logprobs=completion.logprobs,
                tool_calls=[
                    ToolCallDelta(index=i, id=c.id, name=c.name, arguments=c.arguments, extra=c.extra)
                    for i, c in enumerate(completion.tool_calls)
                ],
                request_id=completion.request_id,
            )
        )
    chunks.append(
        ChatChunk(
            final=True,
            finish_reason=completion.finish_reason,
            model=completion.model,
            id=completion.id,
            usage=completion.usage,
            system_fingerprint=completion.system_fingerprint,
            cost=completion.cost,
            request_id=completion.request_id,
            thinking_blocks=completion.thinking_blocks,
            api_format=completion.api_format,
        )
    )
    return chunks
