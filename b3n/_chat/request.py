"""Build a ``/chat/completions`` payload that the target model accepts.

Adapters turn their framework's messages into OpenAI-format dicts (with the small
helpers below), then call :func:`build_chat_request`, which validates the input
(refusing bad input before any request) and adapts it to the model from the catalog:

- o1-preview / o1-mini: system messages folded into the first user turn, temperature
  dropped (warning), ``max_completion_tokens`` instead of ``max_tokens``, ``stop``
  dropped (warning), streaming served from one non-streamed call;
- Claude: temperature clamped to 1 (warning); empty text parts never sent; ``cache_control`` prompt-caching
  markers on text parts, messages and tools kept (every other family drops them silently);
- ``parallel_tool_calls`` sent only when set and forwarded for that model;
- ``reasoning_effort`` sent to models that take it (o-series, gpt-5, thinking models), dropped with a warning
  elsewhere; an ``extra_body`` dict is merged into the payload (as the OpenAI SDK does);
- image parts refused for text-only models, tools refused for models without tools;
- ``n`` > 1 sent to the families whose relay route forwards it (OpenAI models); refused before sending for
  Claude and Gemini, whose relay adaptors drop it (one-api, new-api) and would answer one choice; never streamed;
- ``thinking_budget`` mapped where the relay maps one (see :func:`apply_thinking_budget`), dropped with one warning
  elsewhere.

Example:
    >>> req = build_chat_request("o1-mini", [{"role": "system", "content": "Be terse."},
    ...                                      {"role": "user", "content": "hi"}], max_tokens=50, stream=True)
    >>> req.payload["messages"], req.payload["max_completion_tokens"], req.emulate_stream
    ([{'role': 'user', 'content': 'Be terse.\\n\\nhi'}], 50, True)
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from b3n._catalog import ModelInfo, get_model_info
from b3n._errors import B3nAdaptationWarning, B3nInvalidRequestError
from b3n._suggest import warn_at_caller

#: the routes a request may ask for (see :mod:`b3n._chat.anthropic_request`).
API_FORMATS = ("auto", "openai", "anthropic")
VALID_ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
_TOOL_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
#: thinking parts (Claude's, with their signatures) are sent on the native route only
_PART_TYPES = frozenset({"text", "image_url", "input_audio", "file", "thinking", "redacted_thinking"})


@dataclass(slots=True)
class ChatRequest:
    """A validated, model-adapted request."""

    model: str
    payload: dict[str, Any]
    #: the caller asked to stream but the model cannot: serve the stream from one call.
    emulate_stream: bool = False
    include_usage: bool = True
    #: which route may answer: ``"openai"``, ``"anthropic"`` (Claude's native ``/messages``) or ``"auto"``.
    api_format: str = "auto"
    #: a Claude thinking budget not yet applied (the route decides how it is sent; see :func:`build_chat_request`).
    thinking_budget: int | None = None

    @property
    def n(self) -> int:
        """How many choices were asked for (1 unless ``n`` was given)."""
        value = self.payload.get("n")
        return value if isinstance(value, int) and not isinstance(value, bool) else 1


# ----------------------------------------------------------------------------- helpers for adapters


def text_part(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def image_url_part(url: str, detail: str | None = None) -> dict[str, Any]:
    image: dict[str, Any] = {"url": url}
    if detail:
        image["detail"] = detail
    return {"type": "image_url", "image_url": image}


def image_data_part(data: bytes | str, mime_type: str = "image/png", detail: str | None = None) -> dict[str, Any]:
    """An inline image; ``data`` is raw bytes or a base64 string."""
    b64 = base64.b64encode(data).decode("ascii") if isinstance(data, bytes) else data
    return image_url_part(f"data:{mime_type};base64,{b64}", detail)


def tool_call_to_wire(call_id: str, name: str, arguments: Mapping[str, Any] | str | None) -> dict[str, Any]:
    """An assistant ``tool_calls`` entry; dict arguments are JSON-encoded with ``ensure_ascii=False``."""
    if arguments is None or arguments == "":
        args = "{}"
    elif isinstance(arguments, str):
        args = arguments
    else:
        try:
            args = json.dumps(dict(arguments), ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise B3nInvalidRequestError(
                f"Arguments of tool call {name!r} are not JSON-serialisable ({exc}); use plain JSON values."
            ) from None
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}


def tool_spec(
    name: str, description: str | None, parameters: Mapping[str, Any] | None, *, strict: bool | None = None
) -> dict[str, Any]:
    """An OpenAI ``tools`` entry."""
    function: dict[str, Any] = {"name": name, "parameters": dict(parameters or {"type": "object", "properties": {}})}
    if description:
        function["description"] = description
    if strict is not None:
        function["strict"] = strict
    return {"type": "function", "function": function}


def normalize_tool_choice(choice: Any, tool_names: Sequence[str]) -> str | dict[str, Any] | None:
    """Map framework tool choices onto the OpenAI wire values.

    ``"any"``/``"required"``/``True`` → ``"required"``; ``"auto"``; ``"none"``/``False`` → ``"none"``;
    a tool name → the function dict; a dict passes through.
    """
    if choice is None:
        return None
    if choice is True or choice in ("any", "required"):
        return "required"
    if choice is False or choice == "none":
        return "none"
    if choice == "auto":
        return "auto"
    if isinstance(choice, str):
        if tool_names and choice not in tool_names:
            raise B3nInvalidRequestError(
                f"tool_choice={choice!r} names no bound tool; choose one of {list(tool_names)} or 'auto'/'any'/'none'."
            )
        return {"type": "function", "function": {"name": choice}}
    if isinstance(choice, Mapping):
        return dict(choice)
    raise B3nInvalidRequestError(f"tool_choice={choice!r} is not understood; use 'auto', 'any', 'none' or a tool name.")


# ----------------------------------------------------------------------------- validation


def _validate_tools(tools: Sequence[Mapping[str, Any]]) -> list[str]:
    names: list[str] = []
    for i, tool in enumerate(tools):
        fn = tool.get("function") if isinstance(tool, Mapping) else None
        if not isinstance(tool, Mapping) or tool.get("type", "function") != "function" or not isinstance(fn, Mapping):
            raise B3nInvalidRequestError(
                f"tools[{i}] must be {{'type': 'function', 'function': {{'name', 'parameters'}}}}; got {tool!r:.120}"
            )
        name = fn.get("name")
        if not isinstance(name, str) or not _TOOL_NAME_RE.match(name):
            raise B3nInvalidRequestError(
                f"tools[{i}] name {name!r} is invalid: use 1-64 letters, digits, '_' or '-'."
            )
        params = fn.get("parameters")
        if params is not None and (not isinstance(params, Mapping) or params.get("type", "object") != "object"):
            raise B3nInvalidRequestError(
                f"tools[{i}] ({name}) parameters must be a JSON schema object ({{'type': 'object', ...}})."
            )
        if isinstance(params, Mapping):
            _check_object_schema(params, f"tools[{i}] ({name}) parameters")
        if name in names:
            raise B3nInvalidRequestError(f"Two tools are named {name!r}; tool names must be unique.")
        names.append(name)
    return names


def _check_object_schema(schema: Mapping[str, Any], where: str) -> None:
    """The parts of an object schema every relay trips over: ``properties`` and ``required``."""
    properties = schema.get("properties")
    if properties is not None and not isinstance(properties, Mapping):
        raise B3nInvalidRequestError(
            f"{where}: 'properties' must map each argument name to its schema, got {type(properties).__name__}."
        )
    required = schema.get("required")
    if required is not None and (
        isinstance(required, str) or not isinstance(required, Sequence) or not all(isinstance(r, str) for r in required)
    ):
        raise B3nInvalidRequestError(f"{where}: 'required' must be a list of argument names, got {required!r:.60}.")


def _arguments_json(arguments: Any, index: int) -> str:
    try:
        return json.dumps(arguments or {}, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise B3nInvalidRequestError(
            f"messages[{index}] has tool-call arguments that are not JSON-serialisable ({exc}); use plain JSON values."
        ) from None


def _clean_content(content: Any, index: int, info: ModelInfo) -> Any:
    if content is None or isinstance(content, str):
        return content
    if not isinstance(content, Sequence):
        raise B3nInvalidRequestError(f"messages[{index}].content must be a string or a list of parts.")
    parts: list[Any] = []
    for part in content:
        if isinstance(part, str):
            part = text_part(part)
        if not isinstance(part, Mapping) or part.get("type") not in _PART_TYPES:
            kind = part.get("type") if isinstance(part, Mapping) else type(part).__name__
            raise B3nInvalidRequestError(
                f"messages[{index}] has a content part of unsupported type {kind!r}; supported: {sorted(_PART_TYPES)}."
            )
        kind = part["type"]
        if "cache_control" in part and not info.prompt_caching:
            part = {k: v for k, v in part.items() if k != "cache_control"}  # a Claude hint: others ignore it
        if kind == "text":
            if not part.get("text"):
                continue  # an empty text part is an error on Claude and means nothing elsewhere
        elif kind == "image_url" and not info.image_inputs:
            raise B3nInvalidRequestError(
                f"Model {info.name!r} does not take image inputs. Use a vision model such as gpt-4o-mini, "
                "claude-3-5-sonnet-latest or gemini-1.5-flash-latest."
            )
        elif kind == "file" and not info.pdf_inputs:
            raise B3nInvalidRequestError(
                f"Model {info.name!r} does not take PDF (file) inputs through the relay. Use an OpenAI vision model "
                "such as gpt-4o-mini, or send the document's text instead."
            )
        elif kind == "input_audio" and not info.audio_inputs:
            raise B3nInvalidRequestError(
                f"Model {info.name!r} does not take audio inputs through the relay. Use gpt-4o-audio-preview, or "
                "transcribe the audio first (client.audio.transcribe)."
            )
        parts.append(dict(part))
    return parts


def _validate_messages(messages: Sequence[Mapping[str, Any]], info: ModelInfo) -> list[dict[str, Any]]:
    if not messages:
        raise B3nInvalidRequestError("messages is empty: pass at least one message.")
    out: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise B3nInvalidRequestError(f"messages[{i}] must be a dict with 'role' and 'content'.")
        role = message.get("role")
        if role not in VALID_ROLES:
            raise B3nInvalidRequestError(
                f"messages[{i}] has unknown role {role!r}; use one of {sorted(VALID_ROLES)}."
            )
        msg = dict(message)
        if not info.prompt_caching:
            msg.pop("cache_control", None)
        msg["content"] = _clean_content(message.get("content"), i, info)
        if role == "tool" and not msg.get("tool_call_id"):
            raise B3nInvalidRequestError(f"messages[{i}] is a tool result without tool_call_id.")
        if role == "assistant" and msg.get("tool_calls"):
            calls = []
            for call in msg["tool_calls"]:
                fn = dict(call.get("function") or {})
                if not isinstance(fn.get("arguments"), str):
                    fn["arguments"] = _arguments_json(fn.get("arguments"), i)
                calls.append({**call, "type": call.get("type", "function"), "function": fn})
            msg["tool_calls"] = calls
            if not msg["content"]:
                msg["content"] = None
        elif msg["content"] is None:
            msg["content"] = ""
        out.append(msg)
    return out


# ----------------------------------------------------------------------------- adaptation


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, Mapping) and p.get("type") == "text")
    return ""


def _fold_system(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    system = [m for m in messages if m["role"] in ("system", "developer")]
    if not system:
        return messages
    prefix = "\n\n".join(t for t in (_text_of(m["content"]) for m in system) if t)
    rest = [m for m in messages if m["role"] not in ("system", "developer")]
    for m in rest:
        if m["role"] == "user":
            if isinstance(m["content"], list):
                m["content"] = [text_part(prefix), *m["content"]]
            else:
                m["content"] = f"{prefix}\n\n{m['content']}" if m["content"] else prefix
            return rest
    return [{"role": "user", "content": prefix}, *rest]


#: models warned about a dropped ``parallel_tool_calls`` in this process.
_PARALLEL_WARNED: set[str] = set()


def _warn(message: str) -> None:
    warnings.warn(message, B3nAdaptationWarning, stacklevel=4)


def adapt_payload(payload: dict[str, Any], info: ModelInfo) -> bool:
    """Adapt ``payload`` in place for ``info``; return True when streaming must be emulated."""
    name = info.name
    if not info.system_messages:
        payload["messages"] = _fold_system(payload["messages"])
    temperature = payload.get("temperature")
    if temperature is not None:
        if not info.temperature:
            payload.pop("temperature")
            if temperature != 1:
                _warn(f"{name} accepts no temperature; temperature={temperature} was not sent.")
        elif temperature > info.max_temperature:
            payload["temperature"] = info.max_temperature
            _warn(f"{name} accepts temperature <= {info.max_temperature}; {temperature} was clamped.")
    if info.max_tokens_param == "max_completion_tokens" and "max_tokens" in payload:
        payload["max_completion_tokens"] = payload.pop("max_tokens")
    if not info.stop and payload.get("stop"):
        _warn(f"{name} accepts no stop sequences; stop={payload['stop']!r} was not sent.")
        payload.pop("stop")
    elif "stop" in payload and not payload["stop"]:
        payload.pop("stop")
    if payload.get("tools"):
        if not info.tool_calling:
            raise B3nInvalidRequestError(
                f"Model {name!r} does not support tool calling on B3n. Use gpt-4o-mini, claude-3-5-sonnet-latest "
                "or gemini-1.5-flash-latest for tools."
            )
        if "parallel_tool_calls" in payload and not info.parallel_tool_calls_param:
            value = payload.pop("parallel_tool_calls")
            if name not in _PARALLEL_WARNED:  # once per model and process
                _PARALLEL_WARNED.add(name)
                warn_at_caller(
                    f"{name} gets no parallel_tool_calls through B3n (the relay's adaptor does not forward it), so "
                    f"parallel_tool_calls={value!r} was not sent"
                    + ("; the model may still call several tools in one turn." if value is False else "."),
                    B3nAdaptationWarning,
                )
        if not info.prompt_caching:
            for tool in payload["tools"]:
                tool.pop("cache_control", None)
    else:
        for key in ("tool_choice", "parallel_tool_calls"):
            payload.pop(key, None)
    if payload.get("logprobs") and not info.logprobs:
        payload.pop("logprobs")
        payload.pop("top_logprobs", None)
        _warn(f"{name} returns no log probabilities on B3n; logprobs were not requested.")
    if "reasoning_effort" in payload and not info.reasoning_effort:

        effort = payload.pop("reasoning_effort")
        if effort is not None:
            _warn(f"{name} takes no reasoning_effort; reasoning_effort={effort!r} was not sent.")
    emulate = False
    if payload.get("stream") and not info.streaming:
        payload.pop("stream")
        payload.pop("stream_options", None)
        emulate = True
    return emulate


REASONING_EFFORTS = ("minimal", "low", "medium", "high")
MAX_CHOICES = 128
#: new-api's Claude thinking adapter sends ``budget_tokens = max_tokens * 0.8`` (its default
#: ``thinking_adapter_budget_tokens_percentage``) and raises ``max_tokens`` to at least 1280
#: (``relay/channel/claude/relay-claude.go``, ``setting/model_setting/claude.go``).
CLAUDE_BUDGET_SHARE = 0.8
CLAUDE_MIN_BUDGET = 1024


def _check_choices(payload: dict[str, Any], info: ModelInfo, stream: bool) -> None:
    """Validate ``n`` (argument or extra field): 1-128, only where the relay forwards it, never streamed."""
    if "n" not in payload:
        return
    n = payload["n"]
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_CHOICES:
        raise B3nInvalidRequestError(f"n must be an integer from 1 to {MAX_CHOICES}, got {n!r}.")
    if n == 1:
        payload.pop("n")
        return
    if not info.multiple_choices:
        raise B3nInvalidRequestError(
            f"{info.name} returns one choice per request on B3n: the relay's Claude and Gemini routes drop n, so "
            f"n={n} would come back as 1. Send {n} requests instead (e.g. llm.batch([prompt] * {n}))."
        )
    if stream:
        raise B3nInvalidRequestError(
            f"n={n} cannot be streamed (the choices would arrive interleaved); use a non-streamed call "
            "(invoke / generate / chat) to get all of them."
        )


def apply_thinking_budget(payload: dict[str, Any], info: ModelInfo, budget: int) -> None:
    """Map a thinking budget (tokens) onto what the relay takes for ``info``, in place.

    - Claude ``-thinking`` models: new-api turns on extended thinking with ``budget_tokens`` = 80% of
      ``max_tokens``; the budget is sent as that ``max_tokens`` (budget / 0.8), or checked against a given one;
    - Gemini 2.5: ``extra_body.google.thinking_config.thinking_budget``, the field Google's OpenAI-compatible
      endpoint reads (an OpenAI-type channel passes the body through);
    - any other model: not sent, one ``B3nAdaptationWarning``.
    """
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 0:
        raise B3nInvalidRequestError(f"thinking_budget must be a number of tokens >= 0, got {budget!r}.")
    how = info.thinking_budget
    if how == "claude_max_tokens":
        if budget < CLAUDE_MIN_BUDGET:
            raise B3nInvalidRequestError(
                f"thinking_budget must be at least {CLAUDE_MIN_BUDGET} tokens for {info.name} (Anthropic's minimum)."
            )
        needed = -(-budget * 10 // int(CLAUDE_BUDGET_SHARE * 10))  # ceil(budget / 0.8) in integers
        key = "max_completion_tokens" if "max_completion_tokens" in payload else "max_tokens"
        given = payload.get(key)
        if given is None:
            payload[key] = needed
        elif int(given * CLAUDE_BUDGET_SHARE) < budget:
            raise B3nInvalidRequestError(
                f"thinking_budget={budget} needs max_tokens >= {needed} on {info.name}: the relay gives thinking "
                f"{CLAUDE_BUDGET_SHARE:.0%} of max_tokens ({given} gives {int(given * CLAUDE_BUDGET_SHARE)}). "
                "Raise max_tokens or leave it unset."
            )
    elif how == "gemini_thinking_config":
        extra_body = payload.get("extra_body")
        extra_body = dict(extra_body) if isinstance(extra_body, Mapping) else {}
        google = dict(extra_body.get("google") or {})
        google["thinking_config"] = {**(google.get("thinking_config") or {}), "thinking_budget": budget}
        extra_body["google"] = google
        payload["extra_body"] = extra_body
    else:
        _warn(f"{info.name} takes no thinking budget on B3n; thinking_budget={budget} was not sent.")


def _flatten_extra(extra: Mapping[str, Any]) -> dict[str, Any]:
    """Extra payload fields; an ``extra_body`` mapping (the OpenAI SDK's name) is merged in at the top level."""
    out = {k: v for k, v in extra.items() if k != "extra_body"}
    body = extra.get("extra_body")
    if body is not None:
        if not isinstance(body, Mapping):
            raise B3nInvalidRequestError(f"extra_body must be a dict of request fields, got {type(body).__name__}.")
        out.update(body)
    return out


def build_chat_request(
    model: str,
    messages: Sequence[Mapping[str, Any]],
    *,
    info: ModelInfo | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    stop: Sequence[str] | str | None = None,
    tools: Sequence[Mapping[str, Any]] | None = None,
    tool_choice: Any = None,
    parallel_tool_calls: bool | None = None,
    response_format: Mapping[str, Any] | None = None,
    stream: bool = False,
    include_usage: bool = True,
    reasoning_effort: str | None = None,
    logprobs: bool | None = None,
    top_logprobs: int | None = None,
    n: int | None = None,
    thinking_budget: int | None = None,
    api_format: str = "auto",
    extra: Mapping[str, Any] | None = None,
) -> ChatRequest:
    """Validate and adapt one chat request. Raises :class:`B3nInvalidRequestError` before any I/O."""
    if not model or not isinstance(model, str):
        raise B3nInvalidRequestError("model must be a non-empty string such as 'gpt-4o-mini'.")
    info = info or get_model_info(model)
    # Claude's native route takes PDFs: checked per route when it may answer (b3n._native_chat)
    checked = dataclasses.replace(info, pdf_inputs=True) if info.vendor == "anthropic" and api_format != "openai" \
        else info
    payload: dict[str, Any] = {"model": model, "messages": _validate_messages(messages, checked)}
    if temperature is not None:
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature >= 0:
            raise B3nInvalidRequestError(f"temperature must be a number >= 0 (usually 0 to 2), got {temperature!r}.")
        payload["temperature"] = temperature
    if max_tokens is not None:
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
            raise B3nInvalidRequestError(f"max_tokens must be a positive integer, got {max_tokens!r}.")
        if max_tokens <= 0:
            raise B3nInvalidRequestError(f"max_tokens must be positive, got {max_tokens}.")
        payload["max_tokens"] = max_tokens
    if stop:
        payload["stop"] = [stop] if isinstance(stop, str) else list(stop)
    if tools:
        names = _validate_tools(tools)
        payload["tools"] = [dict(t) for t in tools]
        choice = normalize_tool_choice(tool_choice, names)
        if choice is not None:
            payload["tool_choice"] = choice
        if parallel_tool_calls is not None:
            payload["parallel_tool_calls"] = parallel_tool_calls
    elif tool_choice not in (None, "auto", "none"):
        raise B3nInvalidRequestError(f"tool_choice={tool_choice!r} was given but no tools are bound.")
    if response_format is not None:
        payload["response_format"] = dict(response_format)
    if reasoning_effort is not None:
        if reasoning_effort not in REASONING_EFFORTS:
            raise B3nInvalidRequestError(
                f"reasoning_effort={reasoning_effort!r} is not understood; use one of {list(REASONING_EFFORTS)}."
            )
        payload["reasoning_effort"] = reasoning_effort
    if logprobs:
        payload["logprobs"] = True
    if top_logprobs is not None:
        if isinstance(top_logprobs, bool) or not isinstance(top_logprobs, int) or not 0 <= top_logprobs <= 20:
            raise B3nInvalidRequestError(f"top_logprobs must be an integer from 0 to 20, got {top_logprobs!r}.")
        if not logprobs:
            raise B3nInvalidRequestError("top_logprobs needs logprobs=True.")
        payload["top_logprobs"] = top_logprobs
    if extra:
        for key, value in _flatten_extra(extra).items():
            if key in ("messages", "model"):
                raise B3nInvalidRequestError(f"{key!r} cannot be passed as an extra parameter.")
            payload[key] = value
    if n is not None:
        payload["n"] = n
    _check_choices(payload, info, stream)
    if api_format not in API_FORMATS:
        raise B3nInvalidRequestError(f"api_format={api_format!r} is not understood; use one of {list(API_FORMATS)}.")
    deferred = None
    if thinking_budget is not None:
        if info.vendor == "anthropic" and api_format != "openai":
            # the route decides: native thinking on /messages, else what the relay's OpenAI route takes
            if isinstance(thinking_budget, bool) or not isinstance(thinking_budget, int) or thinking_budget < 0:
                raise B3nInvalidRequestError(f"thinking_budget must be tokens >= 0, got {thinking_budget!r}.")
            deferred = thinking_budget
        else:
            apply_thinking_budget(payload, info, thinking_budget)
    if stream:
        payload["stream"] = True
        if include_usage:
            payload["stream_options"] = {**payload.get("stream_options", {}), "include_usage": True}
    emulate = adapt_payload(payload, info)
    return ChatRequest(model=model, payload=payload, emulate_stream=emulate, include_usage=include_usage,
                       api_format=api_format, thinking_budget=deferred)
