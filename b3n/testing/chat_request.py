"""Parse and validate a /v1/chat/completions request body like the real relay + upstream do."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

from .catalog import Family, check_model, is_early_o1, supports_images, takes_reasoning_effort
from .errors import ApiError, invalid

ROLES = ("system", "user", "assistant", "tool", "developer")
_ROLES_TEXT = "'system', 'assistant', 'user', 'tool', and 'developer'"
TOOL_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_NAME_RE = re.compile(r"^[^\s<|\\/>]{1,64}$")
CLAUDE_EMPTY_TEXT = "messages: text content blocks must be non-empty"


@dataclass
class ImageRef:
    """An image content part (never downloaded)."""

    url: str
    media_type: str | None = None
    size: int | None = None

    def describe(self) -> str:
        if self.media_type is not None:
            return f"{self.media_type}, {self.size} bytes"
        return self.url if len(self.url) <= 80 else self.url[:77] + "..."


@dataclass
class ToolCall:
    """A function call made by the assistant (arguments is the JSON string as sent)."""

    id: str
    name: str
    arguments: str
    #: Gemini's ``extra_content.google.thought_signature`` (sent by the model, echoed back by clients).
    signature: str | None = None


def signature_of(call: dict[str, Any]) -> str | None:
    """The Gemini thought signature on a wire tool-call dict (None if absent)."""
    extra = call.get("extra_content")
    google = extra.get("google") if isinstance(extra, dict) else None
    value = google.get("thought_signature") if isinstance(google, dict) else None
    return value if isinstance(value, str) and value else None


@dataclass
class Message:
    """A normalised chat message."""

    role: str
    text: str
    images: list[ImageRef] = field(default_factory=list)
    name: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None


@dataclass
class Tool:
    """A function tool offered to the model."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass
class ResponseFormat:
    """``response_format``: type json_object or json_schema (text is represented by None)."""

    type: str
    schema: dict[str, Any] | None = None
    name: str | None = None
    strict: bool = False


@dataclass
class ChatRequest:
    """A validated chat completion request."""

    model: str
    family: Family
    messages: list[Message]
    raw: dict[str, Any]
    stream: bool = False
    include_usage: bool = False
    tools: list[Tool] = field(default_factory=list)
    tool_choice: str = "auto"  # "none" | "auto" | "required" | "function"
    forced_tool: str | None = None
    parallel_tool_calls: bool = True
    response_format: ResponseFormat | None = None
    max_tokens: int | None = None
    stop: list[str] = field(default_factory=list)
    temperature: float | None = None
    #: how many choices to answer (``n``; 1 where the relay drops it).
    n: int = 1
    #: the thinking budget the upstream gets (tokens), None when thinking is off or unbounded.
    thinking_budget: int | None = None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _parse_image(part: dict[str, Any], param: str) -> ImageRef:
    spec = part.get("image_url")
    url = spec.get("url") if isinstance(spec, dict) else spec
    if not isinstance(url, str) or not url:
        raise invalid("Missing required parameter: 'image_url.url'.", param=f"{param}.image_url.url")
    if url.startswith("data:"):
        header, sep, payload = url.partition(",")
        if not sep or ";base64" not in header:
            raise invalid("Invalid image URL: expected a base64 data URL.", param=f"{param}.image_url.url")
        media_type = header[5:].split(";", 1)[0] or "application/octet-stream"
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise invalid("Invalid base64 image_url.", param=f"{param}.image_url.url") from None
        return ImageRef(url=url, media_type=media_type, size=len(data))
    if not url.startswith(("http://", "https://")):
        raise invalid("Invalid image URL: expected an http(s) or data URL.", param=f"{param}.image_url.url")
    return ImageRef(url=url)


def _parse_content(content: object, role: str, param: str, *, claude_rules: bool) -> tuple[str, list[ImageRef]]:
    if isinstance(content, str):
        if claude_rules and role == "user" and not content.strip():
            raise invalid(CLAUDE_EMPTY_TEXT, param=f"{param}.content")
        return content, []
    if not isinstance(content, list):
        raise invalid(
            f"Invalid type for '{param}.content': expected one of a string or array of objects.",
            param=f"{param}.content",
        )
    if not content:
        raise invalid(f"Invalid '{param}.content': empty array.", param=f"{param}.content")
    texts: list[str] = []
    images: list[ImageRef] = []
    for j, part in enumerate(content):
        pparam = f"{param}.content[{j}]"
        if isinstance(part, str):  # tolerated by the relay
            part = {"type": "text", "text": part}
        if not isinstance(part, dict):
            raise invalid(f"Invalid type for '{pparam}': expected an object.", param=pparam)
        ptype = part.get("type")
        if ptype in ("text", "refusal"):
            text = part.get(ptype)
            if not isinstance(text, str):
                raise invalid(f"Missing required parameter: '{pparam}.{ptype}'.", param=pparam)
            if claude_rules and not text.strip():
                raise invalid(CLAUDE_EMPTY_TEXT, param=pparam)
            texts.append(text)
        elif ptype == "image_url":
            if role != "user":
                raise invalid(
                    f"Invalid value: 'image_url'. Messages with role '{role}' only support text content.",
                    param=f"{pparam}.type",
                )
            images.append(_parse_image(part, pparam))
        elif ptype in ("input_audio", "file"):
            texts.append(f"[{ptype}]")
        else:
            raise invalid(
                f"Invalid value: '{ptype}'. Supported values are: 'text', 'image_url', "
                "'input_audio', 'refusal', and 'file'.",
                param=f"{pparam}.type",
            )
    return "\n".join(texts), images


def _parse_tool_calls(value: object, param: str) -> list[ToolCall]:
    if not isinstance(value, list):
        raise invalid(f"Invalid type for '{param}': expected an array.", param=param)
    calls: list[ToolCall] = []
    for k, call in enumerate(value):
        cparam = f"{param}[{k}]"
        if not isinstance(call, dict):
            raise invalid(f"Invalid type for '{cparam}': expected an object.", param=cparam)
        call_id = call.get("id")
        if not isinstance(call_id, str) or not call_id:
            raise invalid(f"Missing required parameter: '{cparam}.id'.", param=f"{cparam}.id")
        if call.get("type", "function") != "function":
            raise invalid(f"Invalid value for '{cparam}.type': expected 'function'.", param=f"{cparam}.type")
        fn = call.get("function")
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn.get("name"):
            raise invalid(f"Missing required parameter: '{cparam}.function.name'.", param=f"{cparam}.function")
        args = fn.get("arguments")
        if not isinstance(args, str):
            raise invalid(
                f"Invalid type for '{cparam}.function.arguments': expected a string (a JSON document), "
                f"but got {type(args).__name__} instead.",
                param=f"{cparam}.function.arguments",
            )
        calls.append(ToolCall(id=call_id, name=fn["name"], arguments=args, signature=signature_of(call)))
    return calls


def _parse_messages(body: dict[str, Any], model: str, family: Family, quirks: bool) -> list[Message]:
    raw = body.get("messages")
    if raw is None:
        raise invalid("Missing required parameter: 'messages'.", param="messages")
    if not isinstance(raw, list):
        raise invalid("Invalid type for 'messages': expected an array.", param="messages")
    if not raw:
        raise invalid("[] is too short - 'messages'", param="messages")
    claude_rules = quirks and family == "claude"
    messages: list[Message] = []
    known_call_ids: set[str] = set()
    for i, msg in enumerate(raw):
        param = f"messages[{i}]"
        if not isinstance(msg, dict):
            raise invalid(f"Invalid type for '{param}': expected an object.", param=param)
        role = msg.get("role")
        if role not in ROLES:
            if role is None:
                raise invalid(f"Missing required parameter: '{param}.role'.", param=f"{param}.role")
            raise invalid(f"Invalid value: '{role}'. Supported values are: {_ROLES_TEXT}.", param=f"{param}.role")
        if role in ("system", "developer") and is_early_o1(model):
            raise invalid(
                f"Unsupported value: '{param}.role' does not support '{role}' with this model.",
                param=f"{param}.role",
                code="unsupported_value",
            )
        name = msg.get("name")
        if name is not None and (not isinstance(name, str) or not _NAME_RE.match(name)):
            raise invalid(
                f"Invalid '{param}.name': string does not match pattern. Expected a string that matches the "
                "pattern '^[^\\s<|\\\\/>]+$'.",
                param=f"{param}.name",
            )
        content = msg.get("content")
        tool_calls: list[ToolCall] = []
        if role == "assistant" and msg.get("tool_calls") is not None:
            tool_calls = _parse_tool_calls(msg["tool_calls"], f"{param}.tool_calls")
        if content is None:
            if not (role == "assistant" and (tool_calls or msg.get("function_call") or msg.get("refusal"))):
                raise invalid(
                    f"Invalid value for '{param}.content': expected a string, got null.",
                    param=f"{param}.content",
                )
            text, images = "", list[ImageRef]()
        else:
            text, images = _parse_content(content, role, param, claude_rules=claude_rules)
        if images and not supports_images(model, family):
            raise invalid(
                "Invalid content type. image_url is only supported by certain models.",
                param=f"{param}.content",
            )
        tool_call_id = None
        if role == "tool":
            tool_call_id = msg.get("tool_call_id")
            if not isinstance(tool_call_id, str) or tool_call_id not in known_call_ids:
                raise invalid(
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding "
                    "message with 'tool_calls'.",
                    param=f"{param}.role",
                )
        known_call_ids.update(call.id for call in tool_calls)
        messages.append(
            Message(
                role=role,
                text=text,
                images=images,
                name=name,
                tool_calls=tool_calls,
                tool_call_id=tool_call_id,
            )
        )
    return messages


def _parse_tools(body: dict[str, Any]) -> list[Tool]:
    raw = body.get("tools")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise invalid("Invalid type for 'tools': expected an array.", param="tools")
    if not raw:
        raise invalid("[] is too short - 'tools'", param="tools")
    tools: list[Tool] = []
    for i, tool in enumerate(raw):
        param = f"tools[{i}]"
        if not isinstance(tool, dict):
            raise invalid(f"Invalid type for '{param}': expected an object.", param=param)
        if tool.get("type") != "function":
            raise invalid(
                f"Invalid value: '{tool.get('type')}'. Supported values are: 'function'.",
                param=f"{param}.type",
            )
        fn = tool.get("function")
        if not isinstance(fn, dict):
            raise invalid(f"Missing required parameter: '{param}.function'.", param=f"{param}.function")
        name = fn.get("name")
        if not isinstance(name, str) or not TOOL_NAME_RE.match(name):
            raise invalid(
                f"Invalid '{param}.function.name': string does not match pattern. Expected a string "
                "that matches the pattern '^[a-zA-Z0-9_-]{1,64}$'.",
                param=f"{param}.function.name",
                code="invalid_value",
            )
        params = fn.get("parameters")
        if params is None:
            params = {"type": "object", "properties": {}}
        if not isinstance(params, dict):
            raise invalid(
                f"Invalid schema for function '{name}': expected an object schema.",
                param=f"{param}.function.parameters",
                code="invalid_function_parameters",
            )
        ptype = params.get("type", "object")
        if ptype != "object":
            raise invalid(
                f"Invalid schema for function '{name}': schema must be a JSON Schema of 'type: \"object\"', "
                f"got 'type: \"{ptype}\"'.",
                param=f"{param}.function.parameters",
                code="invalid_function_parameters",
            )
        description = fn.get("description")
        tools.append(
            Tool(name=name, description=description if isinstance(description, str) else "", parameters=params)
        )
    return tools


def _parse_tool_choice(body: dict[str, Any], tools: list[Tool], req: ChatRequest) -> None:
    choice = body.get("tool_choice")
    if choice is None:
        return
    if not tools:
        raise invalid(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
            param="tool_choice",
        )
    if isinstance(choice, str):
        if choice not in ("none", "auto", "required"):
            raise invalid(
                f"Invalid value: '{choice}'. Supported values are: 'none', 'auto', and 'required'.",
                param="tool_choice",
            )
        req.tool_choice = choice
        return
    if isinstance(choice, dict) and choice.get("type") == "function":
        fn = choice.get("function")
        name = fn.get("name") if isinstance(fn, dict) else None
        if not isinstance(name, str) or name not in {t.name for t in tools}:
            raise invalid(
                f"Invalid value for 'tool_choice': function '{name}' not found in 'tools'.",
                param="tool_choice",
            )
        req.tool_choice = "function"
        req.forced_tool = name
        return
    raise invalid(
        "Invalid type for 'tool_choice': expected one of 'none', 'auto', 'required' or a function object.",
        param="tool_choice",
    )


def _parse_response_format(body: dict[str, Any]) -> ResponseFormat | None:
    rf = body.get("response_format")
    if rf is None:
        return None
    if not isinstance(rf, dict):
        raise invalid("Invalid type for 'response_format': expected an object.", param="response_format")
    rtype = rf.get("type")
    if rtype == "text":
        return None
    if rtype == "json_object":
        return ResponseFormat(type="json_object")
    if rtype == "json_schema":
        spec = rf.get("json_schema")
        if not isinstance(spec, dict):
            raise invalid(
                "Missing required parameter: 'response_format.json_schema'.",
                param="response_format.json_schema",
            )
        name = spec.get("name")
        if not isinstance(name, str) or not TOOL_NAME_RE.match(name):
            raise invalid(
                "Invalid 'response_format.json_schema.name': string does not match pattern '^[a-zA-Z0-9_-]{1,64}$'.",
                param="response_format.json_schema.name",
            )
        schema = spec.get("schema", {})
        if not isinstance(schema, dict):
            raise invalid(
                "Invalid type for 'response_format.json_schema.schema': expected an object.",
                param="response_format.json_schema.schema",
            )
        return ResponseFormat(type="json_schema", schema=schema, name=name, strict=bool(spec.get("strict")))
    raise invalid(
        f"Invalid value: '{rtype}'. Supported values are: 'json_object', 'json_schema', and 'text'.",
        param="response_format.type",
    )


def _positive_int(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if not _is_int(value) or value < 1:
        raise invalid(
            f"Invalid '{key}': integer below minimum value. Expected a value >= 1, but got {value!r} instead.",
            param=key,
        )
    return int(value)


def _thinking_budget(body: dict[str, Any], model: str, family: Family, max_tokens: int | None) -> int | None:
    """new-api's Claude ``-thinking`` adapter: 80% of ``max_tokens`` (raised to 1280 first, default 8192);
    Gemini 2.5: ``extra_body.google.thinking_config.thinking_budget`` (Google's OpenAI-compatible field)."""
    if family == "claude" and model.endswith("-thinking"):
        return int(max(max_tokens or 8192, 1280) * 0.8)
    if family == "gemini" and model.startswith("gemini-2.5"):
        extra = body.get("extra_body")
        google = extra.get("google") if isinstance(extra, dict) else None
        config = google.get("thinking_config") if isinstance(google, dict) else None
        budget = config.get("thinking_budget") if isinstance(config, dict) else None
        if budget is not None and (not _is_int(budget) or budget < -1):
            raise invalid(f"Invalid 'thinking_budget': expected an integer >= -1, got {budget!r}.",
                          param="extra_body.google.thinking_config.thinking_budget")
        return None if budget is None or budget == -1 else int(budget)
    return None


def parse_chat_request(body: Any, *, quirks: bool = True, gemini_json_mode: bool = False) -> ChatRequest:
    """Validate a chat completion body and return a :class:`ChatRequest` (raises :class:`ApiError`).

    ``gemini_json_mode``: the relay maps ``response_format`` onto Gemini's JSON mode (see
    :mod:`b3n.testing.relays`); otherwise Claude and Gemini ignore it when ``quirks`` is on.
    """
    if not isinstance(body, dict):
        raise invalid("Invalid request body: expected a JSON object.")
    model, family = check_model(body.get("model"), "chat")
    early_o1 = is_early_o1(model)
    reasoning = family == "reasoning"

    stream = body.get("stream", False)
    if stream is None:
        stream = False
    if not isinstance(stream, bool):
        raise invalid("Invalid type for 'stream': expected a boolean.", param="stream")
    if stream and early_o1:
        raise invalid(
            "Unsupported value: 'stream' does not support true with this model. "
            "Only the default (false) value is supported.",
            param="stream",
            code="unsupported_value",
        )
    stream_options = body.get("stream_options")
    include_usage = False
    if stream_options is not None:
        if not stream:
            raise invalid(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                param="stream_options",
            )
        if not isinstance(stream_options, dict):
            raise invalid("Invalid type for 'stream_options': expected an object.", param="stream_options")
        include_usage = bool(stream_options.get("include_usage"))

    temperature = body.get("temperature")
    if temperature is not None:
        if not _is_number(temperature) or not 0 <= temperature <= 2:
            raise invalid(
                f"Invalid 'temperature': expected a number between 0 and 2, got {temperature!r}.",
                param="temperature",
            )
        if reasoning and temperature != 1:
            raise invalid(
                f"Unsupported value: 'temperature' does not support {temperature} with this model. "
                "Only the default (1) value is supported.",
                param="temperature",
                code="unsupported_value",
            )
    effort = body.get("reasoning_effort")
    if effort is not None:
        if not takes_reasoning_effort(model, family):
            raise invalid(
                "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
                param="reasoning_effort",
                code="unsupported_parameter",
            )
        if effort not in ("minimal", "low", "medium", "high"):
            raise invalid(
                f"Invalid value: {effort!r}. Supported values are: 'minimal', 'low', 'medium', and 'high'.",
                param="reasoning_effort",
                code="invalid_value",
            )
    top_p = body.get("top_p")
    if top_p is not None and (not _is_number(top_p) or not 0 <= top_p <= 1):
        raise invalid(f"Invalid 'top_p': expected a number between 0 and 1, got {top_p!r}.", param="top_p")

    max_tokens = _positive_int(body, "max_tokens")
    if max_tokens is not None and reasoning:
        raise invalid(
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
            param="max_tokens",
            code="unsupported_parameter",
        )
    max_completion = _positive_int(body, "max_completion_tokens")
    limits = [v for v in (max_tokens, max_completion) if v is not None]

    n = body.get("n")
    if n is not None and (not _is_int(n) or not 1 <= n <= 128):
        raise invalid(f"Invalid 'n': expected an integer from 1 to 128, got {n!r}.", param="n")
    if n is not None and n > 1 and stream and family in ("openai", "reasoning"):
        raise invalid("This emulator does not stream n > 1 choices; ask without stream.", param="n")

    stop_raw = body.get("stop")
    stop: list[str] = []
    if isinstance(stop_raw, str):
        stop = [stop_raw]
    elif isinstance(stop_raw, list):
        if len(stop_raw) > 4 or not all(isinstance(s, str) for s in stop_raw):
            raise invalid("Invalid 'stop': expected a string or an array of at most 4 strings.", param="stop")
        stop = list(stop_raw)
    elif stop_raw is not None:
        raise invalid("Invalid type for 'stop': expected a string or an array of strings.", param="stop")
    stop = [s for s in stop if s]

    seed = body.get("seed")
    if seed is not None and not _is_int(seed):
        raise invalid("Invalid type for 'seed': expected an integer.", param="seed")

    messages = _parse_messages(body, model, family, quirks)
    req = ChatRequest(
        model=model,
        family=family,
        messages=messages,
        raw=body,
        stream=stream,
        include_usage=include_usage,
        max_tokens=min(limits) if limits else None,
        stop=stop,
        temperature=float(temperature) if temperature is not None else None,
        # OpenAI models answer n choices; the relays' Claude and Gemini adaptors drop n (one choice)
        n=int(n) if n is not None and family in ("openai", "reasoning") else 1,
        thinking_budget=_thinking_budget(body, model, family, max_tokens or max_completion),
    )

    if family == "reverse":
        return req  # reverse models ignore tools and response_format-like extras

    tools = _parse_tools(body)
    if tools and early_o1:
        raise invalid(
            "Unsupported parameter: 'tools' is not supported with this model.",
            param="tools",
            code="unsupported_parameter",
        )
    req.tools = tools
    _parse_tool_choice(body, tools, req)
    ptc = body.get("parallel_tool_calls")
    if ptc is not None:
        if not tools:
            raise invalid(
                "Invalid value for 'parallel_tool_calls': 'parallel_tool_calls' is only allowed when "
                "'tools' are specified.",
                param="parallel_tool_calls",
            )
        if not isinstance(ptc, bool):
            raise invalid("Invalid type for 'parallel_tool_calls': expected a boolean.", param="parallel_tool_calls")
        req.parallel_tool_calls = ptc

    rf = _parse_response_format(body)
    honours_format = not quirks or family not in ("claude", "gemini") or (family == "gemini" and gemini_json_mode)
    if rf is not None and honours_format:
        if rf.type == "json_object" and not any("json" in m.text.lower() for m in messages):
            raise invalid(
                "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
                param="messages",
            )
        req.response_format = rf
    return req


__all__ = [
    "ApiError",
    "ChatRequest",
    "ImageRef",
    "Message",
    "ResponseFormat",
    "Tool",
    "ToolCall",
    "parse_chat_request",
]
