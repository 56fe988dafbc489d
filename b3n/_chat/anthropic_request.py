"""A validated chat request as Claude's native Messages body (``POST /v1/messages``); no I/O.

The adapters build every request in the OpenAI wire format (:func:`b3n._chat.request.build_chat_request`
validates and adapts it once); when the native route answers, this module rewrites that payload the way
Anthropic's API takes it:

- system / developer turns become ``system`` text blocks (``cache_control`` kept);
- ``image_url`` parts become ``image`` blocks (base64 from ``data:`` URLs, else a URL source); PDF ``file`` parts
  (``file_data`` as a ``data:application/pdf`` URL) become ``document`` blocks; Anthropic ``image`` / ``document``
  blocks pass through;
- an assistant turn's ``thinking`` / ``redacted_thinking`` parts (with their signatures) go first, then its text,
  then its ``tool_calls`` as ``tool_use`` blocks (``input`` is the parsed arguments);
- ``tool`` turns become ``tool_result`` blocks (text, or text and images) in one user turn with the user text that
  follows them;
- tools as ``{name, description, input_schema}``; ``tool_choice`` ``auto`` / ``required`` / ``none`` / a named
  function as ``auto`` / ``any`` / ``none`` / ``tool``; ``parallel_tool_calls=False`` as
  ``disable_parallel_tool_use``; ``stop`` as ``stop_sequences``; ``max_tokens`` (required by Anthropic) from the
  request, else the model's output limit; a thinking budget as ``thinking: {"type": "enabled", ...}``.

What Anthropic cannot take is refused before sending (:class:`~b3n.B3nInvalidRequestError`): audio parts,
uploaded ``file_id`` references, ``n`` > 1, log probabilities, JSON mode (``response_format``; use tool-calling
structured output), and a thinking budget below 1024 tokens.

Example:
    >>> req = ChatRequest("claude-3-5-sonnet-latest", {"model": "claude-3-5-sonnet-latest", "max_tokens": 64,
    ...     "messages": [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "hi"}]})
    >>> body = messages_payload(req)
    >>> body["system"], body["messages"], body["max_tokens"]
    ([{'type': 'text', 'text': 'Be terse.'}], [{'role': 'user', 'content': [{'type': 'text', 'text': 'hi'}]}], 64)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from b3n._catalog import get_model_info
from b3n._chat.request import ChatRequest
from b3n._errors import B3nInvalidRequestError

#: Anthropic's smallest thinking budget.
MIN_THINKING_BUDGET = 1024
#: part types that only the native route can carry (stripped from OpenAI-format requests).
NATIVE_ONLY_PARTS = frozenset({"thinking", "redacted_thinking"})
_IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
#: OpenAI-format fields this module maps (or checks); any other field passes through unchanged (``top_k``, ...).
_MAPPED = frozenset({"stream_options", "parallel_tool_calls", "tools", "tool_choice", "messages", "model", "n",
                     "max_tokens", "max_completion_tokens", "stop", "temperature", "top_p", "stream", "user",
                     "response_format", "logprobs", "top_logprobs"})
#: OpenAI sampling fields Claude has no counterpart for: refused rather than sent or dropped.
_OPENAI_ONLY = frozenset({"frequency_penalty", "presence_penalty", "seed", "logit_bias", "reasoning_effort",
                          "modalities", "audio", "prediction", "web_search_options"})


def _refuse(what: str) -> B3nInvalidRequestError:
    return B3nInvalidRequestError(f"{what} Pass api_format='openai' to send this request in the OpenAI format.")


def _data_url(url: str) -> tuple[str, str] | None:
    """(media type, base64 data) of a ``data:`` URL, else None."""
    if not url.startswith("data:") or ";base64," not in url:
        return None
    head, data = url[5:].split(";base64,", 1)
    return head or "application/octet-stream", data


def _image_block(url: str, where: str) -> dict[str, Any]:
    decoded = _data_url(url)
    if decoded is None:
        return {"type": "image", "source": {"type": "url", "url": url}}
    media, data = decoded
    if media not in _IMAGE_TYPES:
        raise B3nInvalidRequestError(f"{where}: Claude takes {', '.join(_IMAGE_TYPES)} images, not {media!r}.")
    return {"type": "image", "source": {"type": "base64", "media_type": media, "data": data}}


def _file_block(part: Mapping[str, Any], where: str) -> dict[str, Any]:
    file = part.get("file")
    file = file if isinstance(file, Mapping) else {}
    data_url = file.get("file_data")
    if not isinstance(data_url, str) or _data_url(data_url) is None:
        raise _refuse(f"{where}: a file part needs 'file_data' as a data: URL on the native route (uploaded "
                      "file_id references are not supported).")
    media, data = _data_url(data_url) or ("", "")
    if media == "application/pdf":
        block: dict[str, Any] = {"type": "document", "source": {"type": "base64", "media_type": media, "data": data}}
    elif media in _IMAGE_TYPES:
        block = {"type": "image", "source": {"type": "base64", "media_type": media, "data": data}}
    else:
        raise _refuse(f"{where}: Claude reads PDF documents and images; a {media!r} file cannot be sent.")
    name = file.get("filename")
    if block["type"] == "document" and isinstance(name, str) and name:
        block["title"] = name
    return block


def _blocks(content: Any, where: str) -> list[dict[str, Any]]:
    """User-side content (string or parts) as Anthropic content blocks."""
    if content is None or content == "":
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    out: list[dict[str, Any]] = []
    for j, part in enumerate(content):
        pwhere = f"{where}.content[{j}]"
        kind = part.get("type")
        if kind == "text":
            block: dict[str, Any] = {"type": "text", "text": part["text"]}
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, Mapping) else image
            if not isinstance(url, str):
                raise B3nInvalidRequestError(f"{pwhere}: an image_url part needs a URL.")
            block = _image_block(url, pwhere)
        elif kind == "file":
            block = _file_block(part, pwhere)
        elif kind in ("image", "document") and isinstance(part.get("source"), Mapping):
            block = {k: v for k, v in part.items() if k != "cache_control"}
        elif kind == "input_audio":
            raise _refuse(f"{pwhere}: Claude takes no audio input.")
        else:
            raise B3nInvalidRequestError(f"{pwhere}: a {kind!r} part cannot be sent in a {where} turn to Claude.")
        if isinstance(part.get("cache_control"), Mapping):
            block["cache_control"] = dict(part["cache_control"])
        out.append(block)
    return out


def _with_message_cache(blocks: list[dict[str, Any]], message: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A ``cache_control`` on the whole message marks its last block (Anthropic marks blocks, not turns)."""
    mark = message.get("cache_control")
    if isinstance(mark, Mapping) and blocks and "cache_control" not in blocks[-1]:
        blocks[-1] = {**blocks[-1], "cache_control": dict(mark)}
    return blocks


def _assistant_blocks(message: Mapping[str, Any], where: str) -> list[dict[str, Any]]:
    content = message.get("content")
    thinking: list[dict[str, Any]] = []
    rest: list[dict[str, Any]] = []
    parts: list[Mapping[str, Any]] = [{"type": "text", "text": content}] if isinstance(content, str) else list(
        content or [])
    for j, part in enumerate(parts):
        kind = part.get("type")
        if kind in NATIVE_ONLY_PARTS:
            thinking.append({k: v for k, v in part.items() if k in ("type", "thinking", "signature", "data")})
        elif kind == "text":
            if part.get("text"):
                block: dict[str, Any] = {"type": "text", "text": part["text"]}
                if isinstance(part.get("cache_control"), Mapping):
                    block["cache_control"] = dict(part["cache_control"])
                rest.append(block)
        elif kind == "refusal":
            if part.get("refusal"):
                rest.append({"type": "text", "text": part["refusal"]})
        else:
            raise B3nInvalidRequestError(f"{where}.content[{j}]: an assistant turn carries text, thinking and tool "
                                         f"calls only, not {kind!r}.")
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        try:
            arguments = json.loads(function.get("arguments") or "{}")
        except ValueError:
            arguments = None
        if not isinstance(arguments, dict):
            raise B3nInvalidRequestError(f"{where}: tool call {function.get('name')!r} has arguments that are not a "
                                         "JSON object; Claude's tool_use input must be one.")
        rest.append({"type": "tool_use", "id": call.get("id"), "name": function.get("name"), "input": arguments})
    return _with_message_cache(thinking + rest, message)


def _tool_result(message: Mapping[str, Any], where: str) -> dict[str, Any]:
    content = message.get("content")
    result: dict[str, Any] = {"type": "tool_result", "tool_use_id": message.get("tool_call_id")}
    if isinstance(content, str) or content is None:
        result["content"] = content or ""
    else:
        result["content"] = [b for b in _blocks(content, where) if b["type"] in ("text", "image", "document")]
    if message.get("is_error"):
        result["is_error"] = True
    return result


def _messages(wire: list[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(system blocks, Anthropic messages) of the OpenAI-format messages."""
    system: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []

    def user_turn() -> list[dict[str, Any]]:
        if not out or out[-1]["role"] != "user":
            out.append({"role": "user", "content": []})
        content: list[dict[str, Any]] = out[-1]["content"]
        return content

    for i, message in enumerate(wire):
        where = f"messages[{i}]"
        role = message.get("role")
        if role in ("system", "developer"):
            system += _with_message_cache(_blocks(message.get("content"), where), message)
        elif role == "user":
            user_turn().extend(_with_message_cache(_blocks(message.get("content"), where), message))
        elif role == "tool":
            turn = user_turn()
            turn.insert(sum(1 for b in turn if b["type"] == "tool_result"), _tool_result(message, where))
        else:
            blocks = _assistant_blocks(message, where)
            if blocks:
                out.append({"role": "assistant", "content": blocks})
    return system, [m for m in out if m["content"]]


def _tool_choice(payload: Mapping[str, Any]) -> dict[str, Any] | None:
    choice = payload.get("tool_choice")
    parallel = payload.get("parallel_tool_calls")
    if choice is None and parallel is not False:
        return None
    if isinstance(choice, Mapping):
        function = choice.get("function")
        name = function.get("name") if isinstance(function, Mapping) else None
        out: dict[str, Any] = {"type": "tool", "name": name}
    else:
        out = {"type": {"required": "any", "none": "none"}.get(str(choice), "auto")}
    if parallel is False and out["type"] != "none":
        out["disable_parallel_tool_use"] = True
    return out


def _tools(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for tool in payload.get("tools") or []:
        function = tool.get("function") or {}
        spec: dict[str, Any] = {
            "name": function.get("name"),
            "input_schema": function.get("parameters") or {"type": "object", "properties": {}},
        }
        if function.get("description"):
            spec["description"] = function["description"]
        if isinstance(tool.get("cache_control"), Mapping):
            spec["cache_control"] = dict(tool["cache_control"])
        out.append(spec)
    return out


def _check_supported(request: ChatRequest) -> None:
    payload = request.payload
    if request.n > 1:
        raise _refuse(f"n={request.n}: Claude answers one message per request; send {request.n} requests.")
    if payload.get("logprobs"):
        raise _refuse("logprobs: Claude's Messages API returns no log probabilities.")
    unknown = sorted(k for k in payload if k in _OPENAI_ONLY)
    if unknown:
        raise _refuse(f"{', '.join(unknown)}: Claude's Messages API has no such parameter.")
    if payload.get("response_format") is not None:
        raise _refuse("response_format (JSON mode): Claude's Messages API has no JSON mode; use tool-calling "
                      "structured output (with_structured_output(method='function_calling')).")


def messages_payload(request: ChatRequest, *, thinking_budget: int | None = None) -> dict[str, Any]:
    """The ``/v1/messages`` body for a validated request (raises :class:`B3nInvalidRequestError`)."""
    _check_supported(request)
    payload = request.payload
    system, messages = _messages(payload["messages"])
    if not messages:
        raise B3nInvalidRequestError("Claude needs at least one user or assistant message besides the system one.")
    limit = payload.get("max_tokens") or payload.get("max_completion_tokens")
    info = get_model_info(request.model)
    body: dict[str, Any] = {"model": request.model, "messages": messages,
                            "max_tokens": int(limit or info.max_output_tokens)}
    if system:
        body["system"] = system
    if thinking_budget is not None:
        if thinking_budget < MIN_THINKING_BUDGET:
            raise B3nInvalidRequestError(f"thinking_budget must be at least {MIN_THINKING_BUDGET} tokens for Claude "
                                         f"(Anthropic's minimum), got {thinking_budget}.")
        if limit is None:
            body["max_tokens"] = max(body["max_tokens"], thinking_budget + 4096)
        elif limit <= thinking_budget:
            raise B3nInvalidRequestError(f"max_tokens ({limit}) must be larger than thinking_budget "
                                         f"({thinking_budget}): it counts the thinking and the answer.")
        body["thinking"] = {"type": "enabled", "budget_tokens": thinking_budget}
    for key in ("temperature", "top_p"):
        if payload.get(key) is not None and thinking_budget is None:
            body[key] = payload[key]
    if payload.get("stop"):
        body["stop_sequences"] = list(payload["stop"])
    tools = _tools(payload)
    if tools:
        body["tools"] = tools
        choice = _tool_choice(payload)
        if choice is not None:
            if thinking_budget is not None and choice["type"] in ("any", "tool"):
                raise B3nInvalidRequestError("Claude cannot think while a tool call is forced: drop tool_choice or "
                                             "thinking_budget.")
            body["tool_choice"] = choice
    if isinstance(payload.get("user"), str):
        body["metadata"] = {"user_id": payload["user"]}
    for key, value in payload.items():
        if key not in _MAPPED and key not in body:
            body[key] = value  # Anthropic fields given through extra_body / model_kwargs (top_k, metadata...)
    if payload.get("stream"):
        body["stream"] = True
    return body


def strip_native_parts(messages: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The messages without thinking parts, for the OpenAI-format route (which cannot carry them)."""
    out: list[dict[str, Any]] = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list) and any(p.get("type") in NATIVE_ONLY_PARTS for p in content):
            kept = [p for p in content if p.get("type") not in NATIVE_ONLY_PARTS]
            message = {**message, "content": kept or (None if message.get("tool_calls") else "")}
        out.append(dict(message))
    return out


def has_native_parts(messages: list[Mapping[str, Any]]) -> bool:
    """True when a turn carries parts only the native route can send (thinking blocks with signatures)."""
    return any(isinstance(m.get("content"), list) and any(p.get("type") in NATIVE_ONLY_PARTS for p in m["content"])
               for m in messages)


def tool_images(messages: list[Mapping[str, Any]]) -> bool:
    """True when a tool result carries an image or a document (only the native route can send those)."""
    return any(m.get("role") == "tool" and isinstance(m.get("content"), list)
               and any(p.get("type") != "text" for p in m["content"]) for m in messages)


__all__ = ["MIN_THINKING_BUDGET", "NATIVE_ONLY_PARTS", "has_native_parts",
           "messages_payload", "strip_native_parts", "tool_images"]
