"""Translate LlamaIndex chat objects to and from the core's OpenAI-format dicts and results.

Only translation lives here: payload building, validation, response parsing and stream
assembly are done by ``b3n._chat``. The functions are pure and cheap (one pass over the
blocks), because they run on every call.

Example:
    >>> from llama_index.core.base.llms.types import ChatMessage, ToolCallBlock
    >>> msg = ChatMessage(role="assistant", blocks=[ToolCallBlock(tool_call_id="c1", tool_name="add",
    ...                                                           tool_kwargs={"a": 1})])
    >>> messages_to_wire([msg])[0]["tool_calls"][0]["function"]
    {'name': 'add', 'arguments': '{"a": 1}'}
"""

from __future__ import annotations

import base64
import functools
import inspect
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

from llama_index.core.base.llms.types import (
    AudioBlock,
    CachePoint,
    ChatMessage,
    ChatResponse,
    DocumentBlock,
    ImageBlock,
    LogProb,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)

from b3n._errors import B3nInvalidRequestError

if TYPE_CHECKING:
    from b3n._chat.types import ChatChunk, ChatCompletion, ToolCall, Usage

# The core's chat modules (b3n._chat) are imported by the functions that use them, on the first call: the LLM
# class needs only the call decorators below at import.

_WIRE_CALL_KEYS = frozenset({"id", "type", "function", "index"})

_ROLE_MAP = {
    MessageRole.SYSTEM: "system",
    MessageRole.DEVELOPER: "developer",
    MessageRole.USER: "user",
    MessageRole.ASSISTANT: "assistant",
    MessageRole.TOOL: "tool",
    MessageRole.FUNCTION: "tool",
    MessageRole.CHATBOT: "assistant",
    MessageRole.MODEL: "assistant",
}


# ----------------------------------------------------------------------------- what callers pass

#: LangChain message types whose text content converts to a LlamaIndex message of this role.
_LANGCHAIN_ROLES = {"human": MessageRole.USER, "ai": MessageRole.ASSISTANT, "system": MessageRole.SYSTEM}


def _foreign_text(obj: Any, where: str) -> tuple[MessageRole, str]:
    """The role and text of another framework's message (a LangChain ``HumanMessage``, ...), or a typed refusal."""
    name = f"{type(obj).__module__.split('.')[0]} {type(obj).__name__}"
    kind = getattr(obj, "type", None)
    content = getattr(obj, "content", None)
    langchain = type(obj).__module__.startswith("langchain")
    if langchain and kind in _LANGCHAIN_ROLES and not getattr(obj, "tool_calls", None):
        if isinstance(content, list) and all(
            isinstance(p, str) or (isinstance(p, dict) and p.get("type") == "text") for p in content
        ):
            content = "".join(p if isinstance(p, str) else str(p.get("text", "")) for p in content)
        if isinstance(content, str):
            return _LANGCHAIN_ROLES[kind], content
        raise B3nInvalidRequestError(
            f"{where} is a {name} with non-text content, which cannot be converted to LlamaIndex; build a "
            "llama_index ChatMessage with blocks=[TextBlock(...), ImageBlock(...)] instead."
        )
    raise B3nInvalidRequestError(
        f"{where} is a {name}, not a llama_index ChatMessage; build one with "
        "ChatMessage(role='user', content='...') (LangChain human/ai/system messages with text are converted)."
    )


def as_chat_messages(messages: Any) -> list[ChatMessage]:
    """``chat()``'s messages as LlamaIndex messages: LangChain text messages converted, anything else refused.

    Example:
        >>> from langchain_core.messages import HumanMessage
        >>> as_chat_messages([HumanMessage("hi")])[0].role.value
        'user'
    """
    if isinstance(messages, str | bytes | ChatMessage) or not isinstance(messages, Sequence | list | tuple):
        raise B3nInvalidRequestError(
            f"messages must be a list of llama_index ChatMessage, got {type(messages).__name__}; for one prompt "
            "string use complete()."
        )
    out: list[ChatMessage] = []
    for i, message in enumerate(messages):
        if isinstance(message, ChatMessage):
            out.append(message)
        elif isinstance(message, dict):
            try:
                out.append(ChatMessage.model_validate(message))
            except ValueError:
                raise B3nInvalidRequestError(
                    f"messages[{i}] is a dict that is not a chat message; give role= and content=."
                ) from None
        else:
            role, text = _foreign_text(message, f"messages[{i}]")
            out.append(ChatMessage(role=role, content=text))
    return out


def as_prompt(prompt: Any) -> str:
    """``complete()``'s prompt as text: a LangChain human message gives its text; anything else but str is refused."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, ChatMessage):
        role, text = prompt.role, prompt.content or ""
    else:
        role, text = _foreign_text(prompt, "the prompt")
    if role != MessageRole.USER:
        raise B3nInvalidRequestError(
            f"the prompt is a {type(prompt).__name__}; complete() takes the prompt text (use chat() for a history)."
        )
    return text


Method = TypeVar("Method", bound=Callable[..., Any])


def takes_messages(method: Method) -> Method:
    """Convert (or refuse, typed) another framework's messages before the call, its callbacks and any request."""
    if inspect.iscoroutinefunction(method):
        @functools.wraps(method)
        async def acall(self: Any, messages: Any, **kwargs: Any) -> Any:
            return await method(self, as_chat_messages(messages), **kwargs)

        return cast(Method, acall)

    @functools.wraps(method)
    def call(self: Any, messages: Any, **kwargs: Any) -> Any:
        return method(self, as_chat_messages(messages), **kwargs)

    return cast(Method, call)


def takes_prompt(method: Method) -> Method:
    """A prompt that is not text (a LangChain message, ...) is converted or refused before any request."""
    if inspect.iscoroutinefunction(method):
        @functools.wraps(method)
        async def acall(self: Any, prompt: Any, formatted: bool = False, **kwargs: Any) -> Any:
            return await method(self, as_prompt(prompt), formatted, **kwargs)

        return cast(Method, acall)

    @functools.wraps(method)
    def call(self: Any, prompt: Any, formatted: bool = False, **kwargs: Any) -> Any:
        return method(self, as_prompt(prompt), formatted, **kwargs)

    return cast(Method, call)


# ----------------------------------------------------------------------------- LlamaIndex -> wire


def _image_part(block: ImageBlock, index: int) -> dict[str, Any]:
    from b3n._chat.request import image_data_part, image_url_part

    detail = block.detail
    if block.url is not None and block.image is None:
        return image_url_part(str(block.url), detail)
    mime = block.image_mimetype or "image/png"
    if isinstance(block.image, bytes):
        # ImageBlock stores inline bytes base64-encoded once validated.
        return image_data_part(block.image.decode("ascii"), mime, detail)
    try:
        data = block.resolve_image(as_base64=True).read()
    except (OSError, ValueError) as exc:
        raise B3nInvalidRequestError(
            f"messages[{index}] has an ImageBlock that cannot be read ({exc}); pass url=, path= to an existing "
            "file, or image= bytes."
        ) from None
    return image_data_part(data.decode("ascii"), mime, detail)


def _document_part(block: DocumentBlock, index: int) -> dict[str, Any]:
    """A PDF as an OpenAI ``file`` part (the core refuses it for models the relay does not give files to)."""
    try:
        data = block.resolve_document().read()
    except (OSError, ValueError) as exc:
        raise B3nInvalidRequestError(
            f"messages[{index}] has a DocumentBlock that cannot be read ({exc}); pass data=, path= or url=."
        ) from None
    mime = block.document_mimetype or "application/pdf"
    if mime != "application/pdf":
        raise B3nInvalidRequestError(
            f"messages[{index}] has a {mime} DocumentBlock; chat models take PDF files only. Send its text "
            "as a TextBlock instead."
        )
    encoded = base64.b64encode(data).decode("ascii")
    return {"type": "file", "file": {"filename": block.title or "document.pdf",
                                     "file_data": f"data:application/pdf;base64,{encoded}"}}


def _audio_part(block: AudioBlock, index: int) -> dict[str, Any]:
    """Audio as an OpenAI ``input_audio`` part (wav or mp3; the core refuses it for models without audio input)."""
    fmt = (block.format or "").lower().lstrip(".")
    if fmt not in ("wav", "mp3"):
        raise B3nInvalidRequestError(
            f"messages[{index}] has an AudioBlock of format {block.format!r}; chat audio input takes wav or mp3 "
            "(set AudioBlock(format='wav'))."
        )
    try:
        data = block.resolve_audio(as_base64=True).read()
    except (OSError, ValueError) as exc:
        raise B3nInvalidRequestError(
            f"messages[{index}] has an AudioBlock that cannot be read ({exc}); pass audio=, path= or url=."
        ) from None
    return {"type": "input_audio", "input_audio": {"data": data.decode("ascii"), "format": fmt}}


def _thinking_part(block: ThinkingBlock) -> dict[str, Any] | None:
    """Claude's thinking, kept with its signature (``additional_information``), to send back; else None."""
    info = block.additional_information or {}
    if info.get("redacted_data"):
        return {"type": "redacted_thinking", "data": info["redacted_data"]}
    if info.get("signature"):
        return {"type": "thinking", "thinking": block.content or "", "signature": info["signature"]}
    return None  # reasoning without a signature: nothing the relay can take back


def _wire_dicts(raw: Any) -> list[dict[str, Any]]:
    """``additional_kwargs["tool_calls"]``: OpenAI-format dicts (ours) or SDK objects (other integrations)."""
    out = []
    for call in raw or ():
        data = call.model_dump() if hasattr(call, "model_dump") else call
        if isinstance(data, dict):
            out.append(data)
    return out


def _legacy_tool_calls(raw: Any) -> list[dict[str, Any]]:
    """Tool calls given only in ``additional_kwargs["tool_calls"]`` (no ToolCallBlocks)."""
    from b3n._chat.request import tool_call_to_wire

    out = []
    for data in _wire_dicts(raw):
        fn = data.get("function") or {}
        call = tool_call_to_wire(str(data.get("id") or ""), str(fn.get("name") or ""), fn.get("arguments"))
        call.update({k: v for k, v in data.items() if k not in _WIRE_CALL_KEYS})
        out.append(call)
    return out


def _extras_by_id(raw: Any) -> dict[str, dict[str, Any]]:
    """Vendor extras (e.g. Gemini ``extra_content``) of the calls in ``additional_kwargs["tool_calls"]``."""
    out = {}
    for data in _wire_dicts(raw):
        extra = {k: v for k, v in data.items() if k not in _WIRE_CALL_KEYS}
        if extra and data.get("id"):
            out[str(data["id"])] = extra
    return out


def message_to_wire(message: ChatMessage, index: int = 0) -> dict[str, Any]:
    """One ``ChatMessage`` as an OpenAI-format dict (the core validates and adapts it further)."""
    from b3n._chat.request import text_part, tool_call_to_wire

    role = _ROLE_MAP.get(message.role) if isinstance(message.role, MessageRole) else None
    if role is None:
        role = str(getattr(message.role, "value", message.role))
    texts: list[str] = []
    parts: list[dict[str, Any]] | None = None
    calls: list[dict[str, Any]] = []
    thinking: list[dict[str, Any]] = []
    for block in message.blocks:
        if isinstance(block, TextBlock):
            if parts is None:
                texts.append(block.text)
            else:
                parts.append(text_part(block.text))
        elif isinstance(block, ToolCallBlock):
            calls.append(tool_call_to_wire(block.tool_call_id or "", block.tool_name, block.tool_kwargs))
        elif isinstance(block, ImageBlock):
            if role not in ("user", "tool"):
                raise B3nInvalidRequestError(
                    f"messages[{index}] ({role}) holds an image; only user messages (and tool results on Claude's "
                    "native route) can carry images."
                )
            if parts is None:
                parts = [text_part(t) for t in texts]
            parts.append(_image_part(block, index))
        elif isinstance(block, DocumentBlock | AudioBlock):
            if role not in ("user", "tool"):  # tool results: Claude's native route only
                raise B3nInvalidRequestError(
                    f"messages[{index}] ({role}) holds a {type(block).__name__}; only user messages can carry files."
                )
            if parts is None:
                parts = [text_part(t) for t in texts]
            if isinstance(block, DocumentBlock):
                parts.append(_document_part(block, index))
            else:
                parts.append(_audio_part(block, index))
        elif isinstance(block, CachePoint):
            # Claude prompt caching: the marker applies to everything before it (the core drops it for
            # models without prompt caching)
            if parts is None:
                parts = [text_part(t) for t in texts]
            if not parts:
                raise B3nInvalidRequestError(
                    f"messages[{index}] starts with a CachePoint, which marks the blocks before it in the same "
                    "message; put it after the TextBlock / ImageBlock to cache."
                )
            parts[-1]["cache_control"] = block.cache_control.model_dump(exclude_none=True)
        elif isinstance(block, ThinkingBlock):
            part = _thinking_part(block) if role == "assistant" else None
            if part is not None:
                thinking.append(part)  # sent back on Claude's native route (dropped on the OpenAI format)
        else:
            raise B3nInvalidRequestError(
                f"messages[{index}] holds a {type(block).__name__}, which B3n chat does not accept; "
                "use TextBlock, ImageBlock / DocumentBlock / AudioBlock (user messages) or ToolCallBlock (assistant "
                "messages)."
            )
    out: dict[str, Any] = {"role": role, "content": parts if parts is not None else "\n".join(texts)}
    if thinking:
        text = out["content"]
        out["content"] = thinking + (([text_part(text)] if text else []) if isinstance(text, str) else text)
    kwargs = message.additional_kwargs
    if kwargs:
        raw_calls = kwargs.get("tool_calls")
        if raw_calls:
            if not calls:
                calls = _legacy_tool_calls(raw_calls)
            else:
                extras = _extras_by_id(raw_calls)
                for call in calls:
                    if call["id"] in extras:
                        call.update(extras[call["id"]])
        if role == "tool":
            call_id = kwargs.get("tool_call_id")
            if call_id:
                out["tool_call_id"] = call_id
        name = kwargs.get("name")
        if isinstance(name, str) and name and role in ("user", "system", "developer", "assistant"):
            out["name"] = name
    if calls:
        if role != "assistant":
            raise B3nInvalidRequestError(f"messages[{index}] ({role}) holds tool calls; only assistant messages can.")
        out["tool_calls"] = calls
        if not out["content"]:
            out["content"] = None
    return out


def messages_to_wire(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """All messages as OpenAI-format dicts."""
    return [message_to_wire(m, i) for i, m in enumerate(messages)]


# ----------------------------------------------------------------------------- results -> LlamaIndex


def usage_kwargs(usage: Usage | None) -> dict[str, Any]:
    if usage is None:
        return {}
    out: dict[str, Any] = dict(usage.as_dict())
    if usage.estimated:  # the relay sent no usage: counted locally
        out["usage_estimated"] = True
    return out


def _assistant(
    text: str,
    thinking: str | None,
    calls: Sequence[ToolCall],
    reasoning_tokens: int | None = None,
    refusal: str | None = None,
    thinking_blocks: list[dict[str, Any]] | None = None,
) -> ChatMessage:
    blocks: list[Any] = []
    if thinking_blocks:  # Claude's native route: one block each, signature kept for the next turn
        for raw in thinking_blocks:
            info = ({"redacted_data": raw.get("data")} if raw.get("type") == "redacted_thinking"
                    else {"signature": raw.get("signature")})
            blocks.append(ThinkingBlock(content=raw.get("thinking") or "", additional_information=info))
    elif thinking:
        blocks.append(ThinkingBlock(content=thinking, num_tokens=reasoning_tokens))
    if text or not calls:
        blocks.append(TextBlock(text=text))
    kwargs: dict[str, Any] = {"refusal": refusal} if refusal else {}
    if calls:
        for call in calls:
            blocks.append(ToolCallBlock(tool_call_id=call.id, tool_name=call.name, tool_kwargs=call.arguments))
        # the OpenAI-integration convention, read by LlamaIndex's streaming structured-output parser;
        # it also carries vendor extras (Gemini thought signatures) back on the next turn.
        kwargs["tool_calls"] = [call.to_wire() for call in calls]
    return ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks, additional_kwargs=kwargs)


def completion_to_response(completion: ChatCompletion) -> ChatResponse:
    """A whole reply as a ``ChatResponse``: usage, model and finish reason in ``additional_kwargs``."""
    usage = completion.usage
    message = _assistant(
        completion.content, completion.reasoning, completion.tool_calls,
        usage.reasoning_tokens if usage is not None else None, completion.refusal, completion.thinking_blocks,
    )
    extra = usage_kwargs(usage)
    extra["model"] = completion.model
    extra["finish_reason"] = completion.finish_reason
    extra["api_format"] = completion.api_format
    if completion.cost is not None:
        extra["cost"] = completion.cost.as_dict()
    return ChatResponse(message=message, raw=completion.raw, additional_kwargs=extra,
                        logprobs=to_logprobs(completion.logprobs))


def to_logprobs(content: list[dict[str, Any]] | None) -> list[list[LogProb]] | None:
    """OpenAI ``logprobs.content`` as LlamaIndex ``ChatResponse.logprobs``: per token, its top alternatives
    (the chosen token alone when no alternatives were asked for)."""
    if content is None:
        return None
    out: list[list[LogProb]] = []
    for item in content:
        candidates = item.get("top_logprobs") or [item]
        out.append([
            LogProb(token=str(c.get("token", "")), logprob=float(c.get("logprob", 0.0)),
                    bytes=list(c.get("bytes") or []))
            for c in candidates
            if isinstance(c, dict)
        ])
    return out


class StreamConverter:
    """Per-stream conversion of normalised ``ChatChunk`` events into cumulative ``ChatResponse`` objects.

    The same job, and the same name, as ``langchain_b3n``'s ``StreamConverter`` (which yields
    ``ChatGenerationChunk``s instead); ``convert`` is called once per core chunk.

    Example:
        >>> from b3n import ChatChunk
        >>> converter = StreamConverter()
        >>> first = converter.convert(ChatChunk(content="Hel"))
        >>> second = converter.convert(ChatChunk(content="lo"))
        >>> second.message.content, second.delta
        ('Hello', 'lo')
    """

    __slots__ = ("calls", "include_request_id", "logprobs", "refusal", "request_id", "text", "thinking")

    def __init__(self, include_request_id: bool = False) -> None:
        #: put the relay's request id in ``additional_kwargs`` (and the final ``raw``) from the first response on.
        self.include_request_id = include_request_id
        self.request_id: str | None = None
        self.logprobs: list[dict[str, Any]] | None = None
        self.text = ""
        self.thinking = ""
        self.refusal = ""
        self.calls: list[ToolCall] = []

    def convert(self, chunk: ChatChunk) -> ChatResponse:
        self.request_id = chunk.request_id or self.request_id
        response = self._final(chunk) if chunk.final else self._delta(chunk)
        if self.include_request_id and self.request_id:
            response.additional_kwargs["request_id"] = self.request_id
            if chunk.final and isinstance(response.raw, dict):
                response.raw["request_id"] = self.request_id
        return response

    def _delta(self, chunk: ChatChunk) -> ChatResponse:
        from b3n._chat.types import ToolCall

        self.text += chunk.content
        if chunk.logprobs:
            self.logprobs = (self.logprobs or []) + chunk.logprobs
        if chunk.reasoning:
            self.thinking += chunk.reasoning
        self.refusal += chunk.refusal
        for delta in chunk.tool_calls:
            if delta.index >= len(self.calls):
                self.calls.append(
                    ToolCall(id=delta.id or "", name=delta.name or "", arguments=delta.arguments, extra=delta.extra)
                )
            else:
                call = self.calls[delta.index]
                call.arguments += delta.arguments
                if delta.name and not call.name:
                    call.name = delta.name
        extra = {"thinking_delta": chunk.reasoning} if chunk.reasoning else {}
        return ChatResponse(
            message=_assistant(self.text, self.thinking, self.calls, refusal=self.refusal or None),
            delta=chunk.content,
            additional_kwargs=extra,
            logprobs=to_logprobs(self.logprobs),
        )

    def _final(self, chunk: ChatChunk) -> ChatResponse:
        usage = chunk.usage
        message = _assistant(
            self.text, self.thinking, self.calls, usage.reasoning_tokens if usage is not None else None,
            self.refusal or None, chunk.thinking_blocks,
        )
        extra = usage_kwargs(usage)
        extra["model"] = chunk.model
        extra["finish_reason"] = chunk.finish_reason
        extra["api_format"] = chunk.api_format
        if chunk.cost is not None:
            extra["cost"] = chunk.cost.as_dict()
        raw = {
            "id": chunk.id,
            "model": chunk.model,
            "finish_reason": chunk.finish_reason,
            "usage": usage.as_dict() if usage is not None else None,
            "system_fingerprint": chunk.system_fingerprint,
        }
        return ChatResponse(message=message, delta="", raw=raw, additional_kwargs=extra,
                            logprobs=to_logprobs(self.logprobs))
