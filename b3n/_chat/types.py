"""Normalised chat results: what both framework adapters consume.

These are plain slotted dataclasses (not pydantic) because a stream creates one per
chunk and they are built from already-checked values.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from b3n._json import loads

if TYPE_CHECKING:
    from b3n._pricing import CallCost


def new_call_id() -> str:
    """A tool call id in OpenAI's form, for a call the relay sent without one."""
    return "call_" + uuid.uuid4().hex[:24]


@dataclass(slots=True)
class Usage:
    """Token counts. ``reasoning_tokens``, ``cached_tokens`` (prompt-cache reads) and
    ``cache_creation_tokens`` (prompt-cache writes) are None when the relay sent none."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    reasoning_tokens: int | None = None
    cached_tokens: int | None = None
    cache_creation_tokens: int | None = None
    #: counted locally because the relay sent no usage (streams through one-api, for instance).
    estimated: bool = False

    def as_dict(self) -> dict[str, int]:
        out = {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }
        if self.reasoning_tokens is not None:
            out["reasoning_tokens"] = self.reasoning_tokens
        if self.cached_tokens is not None:
            out["cached_tokens"] = self.cached_tokens
        if self.cache_creation_tokens is not None:
            out["cache_creation_tokens"] = self.cache_creation_tokens
        return out


@dataclass(slots=True)
class ToolCall:
    """One complete tool call. ``arguments`` is the JSON text (``"{}"`` when the model sent none)."""

    id: str
    name: str
    arguments: str = "{}"
    #: vendor extras to echo back on the next turn (e.g. Gemini ``extra_content``).
    extra: dict[str, Any] | None = None

    def parsed_arguments(self) -> dict[str, Any]:
        """The arguments as a dict; raises ValueError when they are not a JSON object."""
        value = loads(self.arguments or "{}")
        if not isinstance(value, dict):
            raise ValueError(f"tool call arguments are not a JSON object: {self.arguments!r}")
        return value

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments or "{}"},
        }
        if self.extra:
            out.update(self.extra)
        return out


@dataclass(slots=True)
class ChatCompletion:
    """A whole assistant turn, with every relay quirk already normalised."""

    id: str
    model: str
    content: str = ""
    reasoning: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None
    system_fingerprint: str | None = None
    created: int | None = None
    refusal: str | None = None
    raw: dict[str, Any] | None = None
    #: what the call cost (tokens, quota units, US dollars), when the relay reported usage.
    cost: CallCost | None = None
    #: ``choices[0].logprobs.content`` (one entry per token) when logprobs were asked for and sent.
    logprobs: list[dict[str, Any]] | None = None
    #: the relay's request id of this call (``X-Oneapi-Request-Id``), when it sent one.
    request_id: str | None = None
    #: choices 1 to n-1 when ``n`` > 1 was asked for, each with its own content, tool calls and finish reason
    #: (usage and cost, on this first choice, are the whole call's).
    more_choices: list[ChatCompletion] = field(default_factory=list)
    #: Claude's ``thinking`` / ``redacted_thinking`` blocks, whole with their signatures, to send back unchanged
    #: on the next turn (native route only).
    thinking_blocks: list[dict[str, Any]] | None = None
    #: the route that answered: ``"openai"`` (``/chat/completions``) or ``"anthropic"`` (``/messages``).
    api_format: str = "openai"


@dataclass(slots=True)
class ToolCallDelta:
    """A fragment of tool call number ``index`` (0-based, in order of appearance).

    ``id`` and ``name`` are set on the first fragment of a call only; ``arguments``
    fragments concatenate to the call's JSON text.
    """

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""
    #: vendor extras of the call (e.g. Gemini ``extra_content``), on the first fragment only.
    extra: dict[str, Any] | None = field(default=None, repr=False)


@dataclass(slots=True)
class ChatChunk:
    """One normalised stream event.

    Content chunks carry ``content`` / ``reasoning`` / ``tool_calls``. The stream ends with
    exactly one terminal chunk (``final=True``) carrying ``finish_reason``, ``model``,
    ``id`` and ``usage`` (when the relay sent usage), so metadata appears once.
    """

    content: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCallDelta] = field(default_factory=list)
    #: text of a refusal (OpenAI structured outputs), streamed like content.
    refusal: str = ""
    final: bool = False
    finish_reason: str | None = None
    model: str | None = None
    id: str | None = None
    usage: Usage | None = None
    system_fingerprint: str | None = None
    #: on the terminal chunk: what the call cost, when the relay reported usage.
    cost: CallCost | None = None
    #: log probabilities of this chunk's tokens (``logprobs.content``), when asked for and sent.
    logprobs: list[dict[str, Any]] | None = None
    #: the relay's request id of the call (``X-Oneapi-Request-Id``): on the first and the terminal chunk.
    request_id: str | None = None
    #: on the terminal chunk: Claude's whole thinking blocks with their signatures (native route only).
    thinking_blocks: list[dict[str, Any]] | None = None
    #: on the terminal chunk: the route that answered (``"openai"`` or ``"anthropic"``).
    api_format: str = "openai"
