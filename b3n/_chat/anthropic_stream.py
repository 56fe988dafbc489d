"""Claude's native answers (a ``message`` body or its SSE events) as the core's chat types; no I/O.

- content blocks: ``text`` is the content, ``thinking`` the reasoning, ``tool_use`` the tool calls (``input`` as
  JSON text); every ``thinking`` / ``redacted_thinking`` block is kept whole, signature included, in
  ``thinking_blocks`` so the next turn can send it back unchanged (Anthropic refuses a tool loop without it);
- stop reasons: ``end_turn`` / ``stop_sequence`` as ``"stop"``, ``max_tokens`` as ``"length"``, ``tool_use`` as
  ``"tool_calls"``, ``refusal`` as ``"content_filter"``;
- usage: ``prompt_tokens`` counts the whole prompt (``input_tokens`` + cache writes + cache reads, as the OpenAI
  format does), with ``cached_tokens`` (reads) and ``cache_creation_tokens`` (writes);
- an ``error`` event (or an Anthropic-shaped error body) becomes the matching :class:`~b3n.B3nError`.

Example:
    >>> a = NativeStreamAssembler("claude-3-5-sonnet-latest")
    >>> events = [
    ...     {"type": "message_start", "message": {"id": "msg_1", "model": "claude-3-5-sonnet-20241022",
    ...                                           "usage": {"input_tokens": 9, "output_tokens": 1}}},
    ...     {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}},
    ...     {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "Hm."}},
    ...     {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "Sg=="}},
    ...     {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
    ...     {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Hi"}},
    ...     {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 7}},
    ...     {"type": "message_stop"}]
    >>> [(c.reasoning, c.content) for c in map(a.feed, events) if c is not None]
    [('Hm.', ''), ('', 'Hi')]
    >>> end = a.finish()
    >>> end.finish_reason, end.usage.total_tokens, end.thinking_blocks
    ('stop', 16, [{'type': 'thinking', 'thinking': 'Hm.', 'signature': 'Sg=='}])
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from b3n._chat.types import ChatChunk, ChatCompletion, ToolCall, ToolCallDelta, Usage
from b3n._errors import B3nAPIStatusError, B3nResponseError
from b3n._relay_errors import ANTHROPIC_ERROR_STATUS, error_from_response, extract_request_id

#: the ``api_format`` of answers from this route.
ROUTE = "anthropic"
_FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls",
           "refusal": "content_filter", "pause_turn": "stop", "model_context_window_exceeded": "length"}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def native_usage(raw: Any) -> Usage | None:
    """Anthropic ``usage`` as :class:`Usage` (prompt_tokens includes cache reads and writes); None if absent."""
    if not isinstance(raw, Mapping):
        return None
    written = raw.get("cache_creation_input_tokens")
    read = raw.get("cache_read_input_tokens")
    prompt = _int(raw.get("input_tokens")) + _int(written) + _int(read)
    output = _int(raw.get("output_tokens"))
    return Usage(prompt, output, prompt + output, None,
                 _int(read) if read is not None else None, _int(written) if written is not None else None)


def finish_reason(stop_reason: Any) -> str | None:
    """Anthropic's ``stop_reason`` in the OpenAI vocabulary the adapters use."""
    return _FINISH.get(stop_reason, str(stop_reason)) if stop_reason else None


def error_from_event(data: Mapping[str, Any], *, model: str | None = None) -> B3nAPIStatusError:
    """An ``error`` event (``{"type": "error", "error": {"type": ..., "message": ...}}``) as a typed error."""
    err = data.get("error")
    kind = err.get("type") if isinstance(err, Mapping) else None
    status = ANTHROPIC_ERROR_STATUS.get(str(kind), 500)
    error = error_from_response(status, json.dumps(dict(data), ensure_ascii=False), {}, model=model)
    error.inside_stream = True
    return error


def _thinking_block(block: Mapping[str, Any]) -> dict[str, Any]:
    if block.get("type") == "redacted_thinking":
        return {"type": "redacted_thinking", "data": block.get("data", "")}
    return {"type": "thinking", "thinking": block.get("thinking", ""), "signature": block.get("signature", "")}


def parse_message(body: Any, requested_model: str) -> ChatCompletion:
    """A non-streamed ``/v1/messages`` answer as a :class:`ChatCompletion` (``api_format="anthropic"``)."""
    if not isinstance(body, Mapping) or not isinstance(body.get("content"), list):
        if isinstance(body, Mapping) and body.get("type") == "error":
            raise error_from_event(body, model=requested_model)
        raise B3nResponseError(f"B3n's native Claude route answered something that is not a message for "
                               f"{requested_model!r}: {str(body)[:200]!r}.")
    texts: list[str] = []
    reasoning: list[str] = []
    thinking: list[dict[str, Any]] = []
    calls: list[ToolCall] = []
    for block in body["content"]:
        if not isinstance(block, Mapping):
            continue
        kind = block.get("type")
        if kind == "text":
            texts.append(str(block.get("text") or ""))
        elif kind in ("thinking", "redacted_thinking"):
            thinking.append(_thinking_block(block))
            if kind == "thinking":
                reasoning.append(str(block.get("thinking") or ""))
        elif kind == "tool_use":
            arguments = json.dumps(block.get("input") or {}, ensure_ascii=False)
            calls.append(ToolCall(str(block.get("id") or ""), str(block.get("name") or ""), arguments))
    model = body.get("model")
    return ChatCompletion(
        id=str(body.get("id") or ""),
        model=model if isinstance(model, str) and model else requested_model,
        content="".join(texts),
        reasoning="".join(reasoning) or None,
        tool_calls=calls,
        finish_reason=finish_reason(body.get("stop_reason")) or ("tool_calls" if calls else "stop"),
        usage=native_usage(body.get("usage")),
        raw=dict(body),
        thinking_blocks=thinking or None,
        api_format=ROUTE,
    )


class NativeStreamAssembler:
    """Stateful: feed the SSE data objects of one ``/v1/messages`` stream in order, then :meth:`finish` once."""

    def __init__(self, requested_model: str) -> None:
        self.requested_model = requested_model
        self.request_id: str | None = None
        self.model: str | None = None
        self.finish_reason: str | None = None
        self.stopped = False
        self._id = ""
        self._usage: dict[str, Any] = {}
        self._blocks: dict[int, dict[str, Any]] = {}
        self._tool_index: dict[int, int] = {}
        self._content: list[str] = []
        self._reasoning: list[str] = []
        self._id_given = False

    def see_headers(self, headers: Mapping[str, str]) -> None:
        """Note the request id of the stream that just opened."""
        self.request_id = extract_request_id(None, headers)

    @property
    def usage(self) -> Usage | None:
        return native_usage(self._usage) if self._usage else None

    @property
    def has_output(self) -> bool:
        return bool(self._content or self._reasoning or self._tool_index)

    def feed(self, raw: Mapping[str, Any]) -> ChatChunk | None:
        """Consume one event's data; return a chunk with new content, or None."""
        kind = raw.get("type")
        if kind == "error":
            raise error_from_event(raw, model=self.requested_model)
        if kind == "message_start":
            message = raw.get("message")
            if isinstance(message, Mapping):
                self._id = str(message.get("id") or "")
                model = message.get("model")
                self.model = model if isinstance(model, str) and model else None
                if isinstance(message.get("usage"), Mapping):
                    self._usage.update(message["usage"])
            return None
        if kind == "message_delta":
            delta = raw.get("delta")
            if isinstance(delta, Mapping) and delta.get("stop_reason"):
                self.finish_reason = finish_reason(delta["stop_reason"])
            if isinstance(raw.get("usage"), Mapping):
                self._usage.update({k: v for k, v in raw["usage"].items() if v is not None})
            return None
        if kind == "message_stop":
            self.stopped = True
            return None
        index = raw.get("index")
        if not isinstance(index, int):
            return None
        if kind == "content_block_start":
            return self._start(index, raw.get("content_block"))
        if kind == "content_block_delta":
            return self._delta(index, raw.get("delta"))
        return None

    def _start(self, index: int, block: Any) -> ChatChunk | None:
        if not isinstance(block, Mapping):
            return None
        self._blocks[index] = dict(block)
        if block.get("type") == "tool_use":
            ours = self._tool_index[index] = len(self._tool_index)
            self._blocks[index]["partial"] = ""
            delta = ToolCallDelta(ours, id=str(block.get("id") or ""), name=str(block.get("name") or ""))
            return self._chunk(ChatChunk(tool_calls=[delta]))
        text = block.get("text") if block.get("type") == "text" else None
        return self._text(str(text)) if text else None

    def _delta(self, index: int, delta: Any) -> ChatChunk | None:
        block = self._blocks.get(index)
        if block is None or not isinstance(delta, Mapping):
            return None
        kind = delta.get("type")
        if kind == "text_delta":
            return self._text(str(delta.get("text") or ""))
        if kind == "thinking_delta":
            piece = str(delta.get("thinking") or "")
            block["thinking"] = str(block.get("thinking") or "") + piece
            self._reasoning.append(piece)
            return self._chunk(ChatChunk(reasoning=piece)) if piece else None
        if kind == "signature_delta":
            block["signature"] = str(block.get("signature") or "") + str(delta.get("signature") or "")
            return None
        if kind == "input_json_delta" and index in self._tool_index:
            piece = str(delta.get("partial_json") or "")
            block["partial"] += piece
            return self._chunk(ChatChunk(tool_calls=[ToolCallDelta(self._tool_index[index], arguments=piece)]))
        return None

    def _text(self, text: str) -> ChatChunk | None:
        if not text:
            return None
        self._content.append(text)
        return self._chunk(ChatChunk(content=text))

    def _chunk(self, chunk: ChatChunk) -> ChatChunk:
        if not self._id_given:
            chunk.request_id, self._id_given = self.request_id, True
        return chunk

    def _thinking(self) -> list[dict[str, Any]] | None:
        blocks = [_thinking_block(b) for _, b in sorted(self._blocks.items())
                  if b.get("type") in ("thinking", "redacted_thinking")]
        return blocks or None

    def _calls(self) -> list[ToolCall]:
        calls = []
        for index in sorted(self._tool_index):
            block = self._blocks[index]
            calls.append(ToolCall(str(block.get("id") or ""), str(block.get("name") or ""), block["partial"] or "{}"))
        return calls

    def finish(self) -> ChatChunk:
        """The terminal chunk: finish reason, model, id, usage and the whole thinking blocks."""
        if self.finish_reason is None:
            self.finish_reason = "tool_calls" if self._tool_index else "stop"
        return ChatChunk(final=True, finish_reason=self.finish_reason, model=self.model or self.requested_model,
                         id=self._id, usage=self.usage, request_id=self.request_id,
                         thinking_blocks=self._thinking(), api_format=ROUTE)

    def result(self) -> ChatCompletion:
        """Everything received so far as one completion (used for interrupted streams too)."""
        return ChatCompletion(id=self._id, model=self.model or self.requested_model, content="".join(self._content),
                              reasoning="".join(self._reasoning) or None, tool_calls=self._calls(),
                              finish_reason=self.finish_reason, usage=self.usage,
                              thinking_blocks=self._thinking(), api_format=ROUTE)


__all__ = ["ROUTE", "NativeStreamAssembler", "error_from_event", "finish_reason", "native_usage", "parse_message"]
