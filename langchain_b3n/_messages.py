"""LangChain messages <-> the OpenAI-format dicts and normalised results of ``b3n``.

Only LangChain-specific translation lives here; validation, model adaptation and every
relay quirk are handled by the core (``b3n._chat``).

Outgoing (``messages_to_wire``):
- ``HumanMessage`` / ``SystemMessage`` / ``ChatMessage`` content: strings, text blocks,
  OpenAI ``image_url`` parts, LangChain standard data blocks (v1 ``image`` with
  ``base64``/``url``, legacy ``source_type`` blocks) and Anthropic ``image``+``source`` blocks;
- ``AIMessage``: text kept (v1 block lists included), foreign / non-wire blocks
  (``tool_use``, ``thinking``, ``reasoning``, ``tool_call``...) dropped, ``tool_calls`` and
  ``invalid_tool_calls`` serialised with ``ensure_ascii=False``, vendor extras (Gemini
  ``thought_signature``) echoed back;
- ``ToolMessage``: text content, ``tool_call_id``; ``status`` and ``artifact`` are not sent.

Incoming: ``ChatCompletion`` -> ``AIMessage`` and ``ChatChunk`` -> ``AIMessageChunk`` with
``usage_metadata``, ``response_metadata`` (``model_name``, ``finish_reason``,
``model_provider="b3n"``, ``id``, ``system_fingerprint``) and
``additional_kwargs["reasoning_content"]``.

Example:
    >>> from langchain_core.messages import HumanMessage, SystemMessage
    >>> messages_to_wire([SystemMessage("Be terse."), HumanMessage("hi", name="ann")])
    [{'role': 'system', 'content': 'Be terse.'}, {'role': 'user', 'content': 'hi', 'name': 'ann'}]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    is_data_content_block,
)
from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata
from langchain_core.messages.block_translators.openai import convert_to_openai_data_block
from langchain_core.messages.tool import invalid_tool_call, tool_call, tool_call_chunk
from langchain_core.outputs import ChatGenerationChunk

from b3n._chat import ChatChunk, ChatCompletion, Usage, image_data_part, image_url_part, text_part, tool_call_to_wire
from b3n._errors import B3nInvalidRequestError
from b3n._json import loads

if TYPE_CHECKING:
    from b3n._pricing import CallCost

PROVIDER = "b3n"
#: ``AIMessage.additional_kwargs`` key holding vendor tool-call extras by call id.
TOOL_CALL_EXTRAS = "tool_call_extras"

#: assistant-side blocks that have no chat-completions wire form; dropped from history.
_NON_WIRE_AI_BLOCKS = frozenset(
    {
        "tool_use",
        "thinking",
        "redacted_thinking",
        "reasoning",
        "reasoning_content",
        "tool_call",
        "tool_call_chunk",
        "invalid_tool_call",
        "server_tool_call",
        "server_tool_call_chunk",
        "server_tool_result",
        "server_tool_use",
        "web_search_tool_result",
        "function_call",
    }
)
#: OpenAI part types passed through unchanged (the core validates them per model).
_PASS_THROUGH = frozenset({"input_audio", "file"})
_ROLE_OF = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}


# ----------------------------------------------------------------------------- outgoing


def _image_url(block: Mapping[str, Any]) -> dict[str, Any]:
    value = block.get("image_url")
    if isinstance(value, str):
        return image_url_part(value)
    if isinstance(value, Mapping) and isinstance(value.get("url"), str):
        return image_url_part(value["url"], value.get("detail"))
    raise B3nInvalidRequestError(
        "An 'image_url' content block needs {'image_url': {'url': 'https://... or data:image/png;base64,...'}}."
    )


def _anthropic_image(block: Mapping[str, Any]) -> dict[str, Any]:
    source = block.get("source")
    if isinstance(source, Mapping):
        if source.get("type") == "base64" and source.get("data"):
            return image_data_part(str(source["data"]), str(source.get("media_type") or "image/png"))
        if source.get("type") == "url" and source.get("url"):
            return image_url_part(str(source["url"]))
    raise B3nInvalidRequestError(
        "Image block not understood: use {'type': 'image', 'base64': ..., 'mime_type': 'image/png'} or "
        "{'type': 'image', 'url': 'https://...'} (or an OpenAI 'image_url' part)."
    )


def _data_block(block: dict[str, Any]) -> dict[str, Any]:
    if block.get("type") == "text-plain" and isinstance(block.get("text"), str):
        return text_part(block["text"])
    try:
        return convert_to_openai_data_block(block, api="chat/completions")
    except (ValueError, KeyError) as exc:
        raise B3nInvalidRequestError(
            f"Content block of type {block.get('type')!r} cannot be sent to B3n ({exc}). Images go as base64 "
            "with a mime_type, or as an http(s) URL."
        ) from None


def _content_part(block: Any) -> dict[str, Any] | None:
    """One user/system content block as an OpenAI part (None: nothing to send)."""
    if isinstance(block, str):
        return text_part(block) if block else None
    if not isinstance(block, dict):
        raise B3nInvalidRequestError(f"Content blocks must be strings or dicts, got {type(block).__name__}.")
    kind = block.get("type")
    if kind == "text" and "source_type" not in block:
        text = block.get("text")
        if not isinstance(text, str) or not text:
            return None
        part = text_part(text)
        if isinstance(block.get("cache_control"), dict):
            part["cache_control"] = dict(block["cache_control"])  # Claude prompt caching (dropped elsewhere)
        return part
    if kind == "image_url":
        return _image_url(block)
    if is_data_content_block(block):
        return _data_block(block)
    if kind == "image" and "source" in block:
        return _anthropic_image(block)
    if kind in _PASS_THROUGH:
        return dict(block)
    raise B3nInvalidRequestError(
        f"Content block of type {kind!r} is not supported by B3n chat: use text, image (base64 or URL) or "
        "image_url blocks."
    )


def _user_content(content: str | list[Any]) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    parts = [p for p in (_content_part(b) for b in content) if p is not None]
    if all(p["type"] == "text" and "cache_control" not in p for p in parts):
        return "".join(p["text"] for p in parts) if len(parts) == 1 else parts or ""
    return parts


def _assistant_text(content: str | list[Any]) -> str:
    if isinstance(content, str):
        return content
    texts: list[str] = []
    for block in content:
        if isinstance(block, str):
            texts.append(block)
            continue
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            texts.append(str(block.get("text") or ""))
        elif kind == "refusal":
            texts.append(str(block.get("refusal") or ""))
        elif kind not in _NON_WIRE_AI_BLOCKS:
            raise B3nInvalidRequestError(
                f"An AIMessage in the history has a content block of type {kind!r}, which the chat API cannot "
                "carry; keep only text (tool calls belong in AIMessage.tool_calls)."
            )
    return "".join(texts)


def _tool_content(content: str | list[Any]) -> str | list[dict[str, Any]]:
    """A tool result: its text, or text and image / PDF parts (sent on Claude's native route only)."""
    if isinstance(content, str):
        return content
    if all(isinstance(b, str) or (isinstance(b, dict) and b.get("type") == "text") for b in content):
        return "\n".join(b if isinstance(b, str) else str(b.get("text") or "") for b in content)
    return [p for p in (_content_part(b) for b in content) if p is not None]


def _thinking_parts(content: str | list[Any]) -> list[dict[str, Any]]:
    """Claude's thinking blocks of an AIMessage (kept whole with their signatures for the next turn)."""
    if isinstance(content, str):
        return []
    keep = {"thinking": ("type", "thinking", "signature"), "redacted_thinking": ("type", "data")}
    return [{k: b[k] for k in keep[b["type"]] if k in b} for b in content
            if isinstance(b, dict) and b.get("type") in keep and (b.get("signature") or b.get("data"))]


def _assistant(message: AIMessage) -> dict[str, Any]:
    text = _assistant_text(message.content)
    thinking = _thinking_parts(message.content)
    out: dict[str, Any] = {"role": "assistant", "content": [*thinking, *([text_part(text)] if text else [])]
                           if thinking else text}
    extras = message.additional_kwargs.get(TOOL_CALL_EXTRAS)
    extras = extras if isinstance(extras, Mapping) else {}
    calls: list[dict[str, Any]] = []
    for tc in message.tool_calls:
        calls.append(_wire_call(tc.get("id"), tc["name"], tc["args"], extras))
    for itc in message.invalid_tool_calls:
        calls.append(_wire_call(itc.get("id"), itc.get("name") or "", itc.get("args") or "{}", extras))
    if not calls:
        raw = message.additional_kwargs.get("tool_calls")
        if isinstance(raw, list):
            calls = [dict(c) for c in raw if isinstance(c, Mapping)]
    if calls:
        out["tool_calls"] = calls
    return out


def _wire_call(call_id: str | None, name: str, args: Any, extras: Mapping[str, Any]) -> dict[str, Any]:
    if not call_id:
        raise B3nInvalidRequestError(
            f"Tool call {name!r} in the history has no id; the matching ToolMessage needs it as tool_call_id."
        )
    wire = tool_call_to_wire(call_id, name, args)
    extra = extras.get(call_id)
    if isinstance(extra, Mapping):
        wire.update(extra)
    return wire


def message_to_wire(message: BaseMessage) -> dict[str, Any]:
    """One LangChain message as an OpenAI chat message dict."""
    if isinstance(message, AIMessage):
        out = _assistant(message)
    elif isinstance(message, ToolMessage):
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": _tool_content(message.content)}
    elif isinstance(message, HumanMessage | SystemMessage):
        out = {"role": _ROLE_OF[message.type], "content": _user_content(message.content)}
    elif isinstance(message, ChatMessage):
        role = _ROLE_OF.get(message.role, message.role)
        out = {"role": role, "content": _user_content(message.content)}
    elif isinstance(message, FunctionMessage):
        raise B3nInvalidRequestError(
            "FunctionMessage (legacy OpenAI functions) is not supported; use AIMessage.tool_calls + ToolMessage."
        )
    else:
        raise B3nInvalidRequestError(f"Unsupported message type {type(message).__name__}.")
    if message.name:
        out["name"] = message.name
    return out


def check_image_blocks(messages: Sequence[BaseMessage]) -> None:
    """Raise the typed error for image data blocks that cannot be converted.

    langchain-core converts image blocks for tracing before the model runs and would raise a
    bare ``ValueError`` for, e.g., base64 data without a ``mime_type``; this check runs first.
    """
    for message in messages:
        content = message.content
        if isinstance(content, list):
            for block in content:
                if isinstance(block, dict) and block.get("type") == "image" and is_data_content_block(block):
                    _data_block(block)


def messages_to_wire(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """LangChain messages as OpenAI chat message dicts (validated further by the core)."""
    return [message_to_wire(m) for m in messages]


# ----------------------------------------------------------------------------- incoming


def usage_metadata(usage: Usage) -> UsageMetadata:
    """Core ``Usage`` as LangChain ``UsageMetadata`` (reasoning / cached token details when sent)."""
    meta: dict[str, Any] = {
        "input_tokens": usage.prompt_tokens,
        "output_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }
    details: dict[str, int] = {}
    if usage.cached_tokens is not None:
        details["cache_read"] = usage.cached_tokens
    if usage.cache_creation_tokens is not None:
        details["cache_creation"] = usage.cache_creation_tokens
    if details:
        meta["input_token_details"] = InputTokenDetails(**details)  # type: ignore[typeddict-item]
    if usage.reasoning_tokens is not None:
        meta["output_token_details"] = OutputTokenDetails(reasoning=usage.reasoning_tokens)
    return cast("UsageMetadata", meta)


def _metadata(
    model: str | None,
    finish_reason: str | None,
    rid: str | None,
    fingerprint: str | None,
    cost: CallCost | None = None,
    usage: Usage | None = None,
    logprobs: list[dict[str, Any]] | None = None,
    api_format: str | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"model_provider": PROVIDER, "model_name": model, "finish_reason": finish_reason}
    if api_format:
        meta["api_format"] = api_format
    if usage is not None and usage.estimated:  # the relay sent no usage: counted locally
        meta["usage_estimated"] = True
    if rid:
        meta["id"] = rid
    if fingerprint:
        meta["system_fingerprint"] = fingerprint
    if cost is not None:
        meta["cost"] = cost.as_dict()
    if logprobs is not None:
        meta["logprobs"] = {"content": logprobs}
    return meta


def completion_to_message(completion: ChatCompletion) -> AIMessage:
    """A whole normalised completion as an ``AIMessage``."""
    calls = []
    invalid = []
    extras: dict[str, Any] = {}
    for call in completion.tool_calls:
        try:
            args = loads(call.arguments) if call.arguments else {}
        except ValueError as exc:
            invalid.append(invalid_tool_call(name=call.name, args=call.arguments, id=call.id, error=str(exc)))
            continue
        if not isinstance(args, dict):
            invalid.append(
                invalid_tool_call(
                    name=call.name, args=call.arguments, id=call.id, error="arguments are not a JSON object"
                )
            )
            continue
        calls.append(tool_call(name=call.name, args=args, id=call.id))
        if call.extra:
            extras[call.id] = call.extra
    kwargs: dict[str, Any] = {}
    if completion.reasoning:
        kwargs["reasoning_content"] = completion.reasoning
    if completion.refusal:
        kwargs["refusal"] = completion.refusal
    if extras:
        kwargs[TOOL_CALL_EXTRAS] = extras
    content: str | list[str | dict[str, Any]] = completion.content
    if completion.thinking_blocks:  # Claude's thinking, signatures included, first (as langchain-anthropic has it)
        content = [*completion.thinking_blocks, *([{"type": "text", "text": completion.content}]
                                                  if completion.content else [])]
    return AIMessage(
        content=content,
        tool_calls=calls,
        invalid_tool_calls=invalid,
        additional_kwargs=kwargs,
        usage_metadata=usage_metadata(completion.usage) if completion.usage else None,
        response_metadata=_metadata(
            completion.model, completion.finish_reason, completion.id, completion.system_fingerprint,
            completion.cost, completion.usage, completion.logprobs, completion.api_format,
        ),
        id=completion.id or None,
    )


def _final_generation(chunk: ChatChunk) -> ChatGenerationChunk:
    message = AIMessageChunk(
        content=list(chunk.thinking_blocks) if chunk.thinking_blocks else "",  # whole, with their signatures
        usage_metadata=usage_metadata(chunk.usage) if chunk.usage else None,
        response_metadata=_metadata(
            chunk.model, chunk.finish_reason, chunk.id, chunk.system_fingerprint, chunk.cost, chunk.usage,
            api_format=chunk.api_format,
        ),
        chunk_position="last",
    )
    return ChatGenerationChunk(message=message)


class StreamConverter:
    """Per-stream translation of normalised ``ChatChunk`` events into ``ChatGenerationChunk``s.

    The terminal event becomes an empty chunk carrying usage and the response metadata, so
    each appears exactly once in the merged message. With ``v1=True`` (``output_version="v1"``)
    text and reasoning are emitted as indexed content blocks and tool calls get indexes of
    their own, so a Claude reply (text, then tool calls) never merges its text block into a
    tool call.

    Example:
        >>> from b3n import ToolCallDelta
        >>> converter = StreamConverter()
        >>> a = converter.convert(ChatChunk(content="I'll call f."))
        >>> b = converter.convert(ChatChunk(tool_calls=[ToolCallDelta(0, "c1", "f", '{"x": 1}')]))
        >>> end = converter.convert(ChatChunk(final=True, finish_reason="tool_calls", model="m"))
        >>> full = a.message + b.message + end.message
        >>> full.content, full.tool_calls[0]["args"], full.response_metadata["finish_reason"]
        ("I'll call f.", {'x': 1}, 'tool_calls')
    """

    __slots__ = ("_kind", "_kind_index", "_next", "_tools", "v1")

    def __init__(self, *, v1: bool = False) -> None:
        self.v1 = v1
        self._next = 0
        self._kind: str | None = None
        self._kind_index = 0
        self._tools: dict[int, int] = {}

    def _block_index(self, kind: str) -> int:
        if kind != self._kind:
            self._kind, self._kind_index = kind, self._next
            self._next += 1
        return self._kind_index

    def _tool_index(self, core_index: int) -> int:
        if not self.v1:
            return core_index
        index = self._tools.get(core_index)
        if index is None:
            index = self._tools[core_index] = self._next
            self._next += 1
            self._kind = "tool_call"
        return index

    def convert(self, chunk: ChatChunk) -> ChatGenerationChunk:
        if chunk.final:
            return _final_generation(chunk)
        kwargs: dict[str, Any] = {}
        content: str | list[str | dict[str, Any]]
        if self.v1:
            blocks: list[str | dict[str, Any]] = []
            if chunk.reasoning:
                blocks.append({"type": "reasoning", "reasoning": chunk.reasoning, "index": self._block_index("r")})
            if chunk.content:
                blocks.append({"type": "text", "text": chunk.content, "index": self._block_index("t")})
            content = blocks
        else:
            content = chunk.content
            if chunk.reasoning:
                kwargs["reasoning_content"] = chunk.reasoning
        if chunk.refusal:
            kwargs["refusal"] = chunk.refusal  # string values concatenate when chunks merge
        tool_chunks = []
        for delta in chunk.tool_calls:
            tool_chunks.append(
                tool_call_chunk(name=delta.name, args=delta.arguments, id=delta.id, index=self._tool_index(delta.index))
            )
            if delta.extra and delta.id:
                kwargs.setdefault(TOOL_CALL_EXTRAS, {})[delta.id] = delta.extra
        metadata: dict[str, Any] = {"model_provider": PROVIDER}
        if chunk.logprobs:
            metadata["logprobs"] = {"content": chunk.logprobs}  # lists concatenate when chunks merge
        message = AIMessageChunk(
            content=content,
            tool_call_chunks=tool_chunks,
            additional_kwargs=kwargs,
            response_metadata=metadata,
        )
        return ChatGenerationChunk(message=message)
