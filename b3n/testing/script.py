"""Scripted replies: tell the emulator exactly what its next chat answers are.

The scripted model answers on its own; to test how *your* code handles a given answer (a tool call
with arguments of the wrong type, arguments that are not JSON, a tool the model invented, an error
page), queue the answers with :meth:`Emulator.script <b3n.testing.Emulator.script>`. Each chat
request the emulator accepts takes the oldest queued reply (first in, first out, one queue per
emulator, safe across threads); once the queue is empty the scripted model answers again.

A reply is one of:

* a ``str``: the assistant's text;
* a :class:`ToolCall`, or a list of them: one assistant turn with these calls. ``arguments`` is a
  dict (sent as its JSON) or a string sent exactly as given, so it may be invalid JSON;
* an :class:`ErrorReply`: that HTTP status and body instead of an answer.

Replies are shaped like the model family's real answers (streamed or not, ids, usage, the relay
profile's quirks), and requests are still checked first: a request the emulator refuses (400, 401,
...) leaves the queue as it is.

>>> from openai import OpenAI
>>> from b3n.testing import Emulator, ErrorReply, ToolCall
>>> with Emulator() as emu:
...     emu.script(ToolCall("get_weather", {"city": 42}),      # wrong type: the schema wants a string
...                ToolCall("get_weather", '{"city": "Par'),    # cut JSON
...                ErrorReply(503, "upstream overloaded"),
...                "It is sunny.")
...     client = OpenAI(base_url=emu.base_url, api_key="sk-test", max_retries=0)
...     ask = dict(model="gpt-4o-mini", messages=[{"role": "user", "content": "weather in Paris?"}])
...     first = client.chat.completions.create(**ask).choices[0].message.tool_calls[0].function.arguments
...     second = client.chat.completions.create(**ask).choices[0].message.tool_calls[0].function.arguments
...     try:
...         client.chat.completions.create(**ask)
...     except Exception as exc:
...         third = exc.status_code
...     fourth = "".join(c.choices[0].delta.content or "" for c in
...                      client.chat.completions.create(**ask, stream=True) if c.choices)
...     first, second, third, fourth, emu.scripted
('{"city":42}', '{"city": "Par', 503, 'It is sunny.', 0)
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from . import chat_request
from .errors import ApiError
from .textutil import count_tokens


@dataclass(frozen=True)
class ToolCall:
    """A tool call for a scripted reply: ``arguments`` is a dict (sent as JSON) or the exact string to send.

    The name need not be one of the request's tools (to test a model that invents one).
    """

    name: str
    arguments: dict[str, Any] | str = "{}"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("ToolCall name must be a non-empty string")
        if not isinstance(self.arguments, (dict, str)):
            kind = type(self.arguments).__name__
            raise TypeError(f"ToolCall arguments must be a dict or a str (the exact text to send), got {kind}")

    def arguments_text(self) -> str:
        """The ``arguments`` string as the emulator sends it."""
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class ErrorReply:
    """An HTTP error instead of an answer.

    ``body``: a dict (sent as JSON), ``bytes`` (sent as is) or a ``str``, which becomes the message of an
    OpenAI-shaped error body (``{"error": {"message": ..., "type": ..., "code": ...}}``).
    ``headers``: extra response headers (e.g. ``{"Retry-After": "2"}``).
    """

    status: int
    body: dict[str, Any] | str | bytes = "scripted error"
    type: str = "upstream_error"
    code: str | None = None
    headers: dict[str, str] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.status, int) or not 100 <= self.status <= 599 or self.status == 200:
            raise ValueError(f"ErrorReply status must be an HTTP error status (100-599, not 200), got {self.status!r}")
        if not isinstance(self.body, (dict, str, bytes)):
            raise TypeError(f"ErrorReply body must be a dict, str or bytes, got {type(self.body).__name__}")


ScriptedReply = str | ToolCall | list[ToolCall] | ErrorReply


@dataclass(frozen=True)
class _Entry:
    text: str | None = None
    calls: tuple[ToolCall, ...] = ()
    error: ErrorReply | None = None


def _entry(reply: object) -> _Entry:
    if isinstance(reply, str):
        return _Entry(text=reply)
    if isinstance(reply, ToolCall):
        return _Entry(calls=(reply,))
    if isinstance(reply, ErrorReply):
        return _Entry(error=reply)
    if isinstance(reply, (list, tuple)) and reply and all(isinstance(c, ToolCall) for c in reply):
        return _Entry(calls=tuple(reply))
    raise TypeError(
        "a scripted reply is a str (text), a ToolCall, a non-empty list of ToolCall or an ErrorReply; "
        f"got {reply!r}"
    )


class Script:
    """The emulator's queue of scripted chat replies (thread-safe FIFO)."""

    def __init__(self) -> None:
        self._queue: deque[_Entry] = deque()
        self._lock = threading.Lock()

    def add(self, replies: tuple[object, ...]) -> None:
        """Queue ``replies`` (all checked first: a bad one queues none)."""
        entries = [_entry(r) for r in replies]
        with self._lock:
            self._queue.extend(entries)

    def take(self) -> _Entry | None:
        """The oldest queued reply, removed, or None."""
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._queue)


class ScriptedError(ApiError):
    """A scripted :class:`ErrorReply`, raised so the route answers it."""

    def __init__(self, reply: ErrorReply) -> None:
        message = reply.body if isinstance(reply.body, str) else "scripted error"
        super().__init__(reply.status, message, type=reply.type, code=reply.code)
        self.reply = reply

    def raw_body(self, request_id: str) -> bytes:
        """The response body: the given dict or bytes as is, a string as an OpenAI-shaped error."""
        body = self.reply.body
        if isinstance(body, bytes):
            return body
        if isinstance(body, dict):
            return json.dumps(body, ensure_ascii=False).encode()
        return json.dumps(self.body(request_id), ensure_ascii=False).encode()

    def extra_headers(self) -> dict[str, str]:
        return dict(self.reply.headers or {})


def scripted_outcome(entry: _Entry, req: chat_request.ChatRequest, *, quirks: bool) -> Any:
    """The :class:`~b3n.testing.model.ChatOutcome` for a scripted text or tool-call reply (errors raise)."""
    from .model import ChatOutcome, prompt_token_count, request_seed, uses_call_style
    from .signatures import thought_signature
    from .tools import call_id

    if entry.error is not None:
        raise ScriptedError(entry.error)
    prompt = prompt_token_count(req.messages)
    if not entry.calls:
        text = entry.text or ""
        return ChatOutcome(text=text, prompt_tokens=prompt, completion_tokens=max(1, count_tokens(text)))
    style = uses_call_style(req, quirks)
    seed = request_seed(req)
    calls: list[chat_request.ToolCall] = []
    for position, call in enumerate(entry.calls):
        cid = call_id(style, seed, position)
        signature = thought_signature(cid) if style == "gemini" else None
        calls.append(chat_request.ToolCall(id=cid, name=call.name, arguments=call.arguments_text(),
                                           signature=signature))
    tokens = sum(count_tokens(c.name) + count_tokens(c.arguments) + 4 for c in calls)
    return ChatOutcome(text=None, tool_calls=calls, finish_reason="tool_calls", prompt_tokens=prompt,
                       completion_tokens=tokens)


__all__ = ["ErrorReply", "Script", "ScriptedError", "ScriptedReply", "ToolCall", "scripted_outcome"]
