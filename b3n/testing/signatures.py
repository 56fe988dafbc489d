"""Gemini thought signatures: issued on tool calls, required back on the next request of the turn.

Gemini 3 models attach an opaque ``thought_signature`` to every function call; through the OpenAI
compatible API it travels as ``tool_calls[i].extra_content.google.thought_signature``. A client must
send it back unchanged with the assistant message that carries the call, or the next request of the
same turn (e.g. the one with the tool results) fails with 400 ``invalid_argument``.

The emulator signs every Gemini-family tool call when quirks are on and remembers which call ids it
signed (:class:`SignatureBook`). Only those ids are checked, so hand-written histories with other
ids keep working. Like Gemini, only the current turn (the messages after the latest user message)
is validated.

>>> sig = thought_signature("call_0123")
>>> sig == thought_signature("call_0123"), len(sig) > 60
(True, True)
>>> call = {"id": "call_0123", "type": "function", "function": {"name": "f", "arguments": "{}"}}
>>> signature_of(with_signature(call, sig)) == sig
True
>>> book = SignatureBook()
>>> book.remember("call_0123", sig)
>>> book.issued("call_0123") == sig, book.issued("call_other")
(True, None)
"""

from __future__ import annotations

import base64
import threading
from collections import OrderedDict
from typing import Any

from .chat_request import ChatRequest, signature_of
from .errors import ApiError
from .textutil import digest

MAX_REMEMBERED = 20_000
MISSING_MESSAGE = (
    "Function call is missing a thought_signature in functionCall parts. This is required for tools to work "
    "correctly, and missing thought_signature may lead to degraded model performance. Additional data, function "
    "call `default_api:{name}` , position {position}. Please refer to "
    "https://ai.google.dev/gemini-api/docs/thought-signatures for more details."
)
CORRUPTED_MESSAGE = (
    "Corrupted thought signature: the thought_signature of function call `default_api:{name}` , position "
    "{position} is not the one the model issued. Send it back unchanged."
)


def thought_signature(call_id: str) -> str:
    """The deterministic signature issued with tool call ``call_id`` (base64, like Gemini's)."""
    raw = digest("thought_signature", call_id) + digest("thought_signature", call_id, 1)
    return "Cs" + base64.b64encode(b"\x01" + raw + b"\x00\x1a").decode("ascii")


def with_signature(call: dict[str, Any], signature: str) -> dict[str, Any]:
    """``call`` (a wire tool-call dict) with Gemini's ``extra_content`` carrying ``signature``."""
    return {**call, "extra_content": {"google": {"thought_signature": signature}}}


class SignatureBook:
    """Which tool-call ids the emulator signed, and with what (bounded, thread-safe)."""

    def __init__(self, limit: int = MAX_REMEMBERED) -> None:
        self._limit = limit
        self._issued: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._issued)

    def remember(self, call_id: str, signature: str) -> None:
        """Record that ``call_id`` was issued with ``signature``."""
        with self._lock:
            self._issued[call_id] = signature
            self._issued.move_to_end(call_id)
            while len(self._issued) > self._limit:
                self._issued.popitem(last=False)

    def issued(self, call_id: str) -> str | None:
        """The signature issued for ``call_id`` (None: not a call the emulator signed)."""
        with self._lock:
            return self._issued.get(call_id)

    def check(self, req: ChatRequest) -> None:
        """Raise 400 ``invalid_argument`` when a signed call of the current turn comes back unsigned."""
        start = 0
        for i, msg in enumerate(req.messages):
            if msg.role == "user":
                start = i + 1
        position = 0
        for msg in req.messages[start:]:
            for call in msg.tool_calls:
                position += 1
                expected = self.issued(call.id)
                if expected is None:
                    continue
                if call.signature is None:
                    raise _invalid_argument(MISSING_MESSAGE.format(name=call.name, position=position))
                if call.signature != expected:
                    raise _invalid_argument(CORRUPTED_MESSAGE.format(name=call.name, position=position))


def _invalid_argument(message: str) -> ApiError:
    return ApiError(400, message, code="invalid_argument")


__all__ = ["SignatureBook", "signature_of", "thought_signature", "with_signature"]
