"""Claude's native Messages API (``POST /v1/messages``), as new-api relays it.

new-api (from ``bd48f434``, 2025-03-12; ``router/relay-router.go``) serves ``POST /v1/messages`` in Anthropic's own
format and passes the upstream's answer through (``relay/channel/claude/relay-claude.go``, ``RelayFormatClaude``);
songquanpeng/one-api has no such route. The emulator serves it on the profiles whose relay does
(:data:`SERVED_BY`; ``emu.native_routes`` turns single routes on or off) and answers like the relay elsewhere:
404 ``Invalid URL``.

What a client meets here, as it would at Anthropic behind the relay:

* auth with ``x-api-key`` (new-api copies it into ``Authorization``) or ``Authorization: Bearer``; auth errors come
  from the relay's token check, so they keep the OpenAI shape; everything after is Anthropic-shaped
  (``{"type": "error", "error": {"type": "invalid_request_error", "message": ...}}``);
* text, ``image`` (base64 or URL), ``document`` (base64 PDF, plain text), ``tool_use`` / ``tool_result``,
  ``thinking`` / ``redacted_thinking`` blocks and ``cache_control`` on any block, with Anthropic's checks:
  ``max_tokens`` required, roles ``user`` / ``assistant``, every ``tool_use`` answered by a ``tool_result`` in the
  next message, at most 4 cache breakpoints, ``thinking.budget_tokens`` >= 1024 and below ``max_tokens``;
* extended thinking (``thinking: {"type": "enabled"}``): a ``thinking`` block with a ``signature`` before the
  answer. A thinking block sent back must carry the signature the emulator issued for that text (400 otherwise),
  and with thinking on, the assistant turn before the latest tool results must start with its thinking block, as
  Anthropic requires. Signatures the emulator did not issue (a history from elsewhere) are not checked;
* usage with ``cache_creation_input_tokens`` / ``cache_read_input_tokens`` (the prefix up to the last
  ``cache_control`` marker: written once, read after);
* SSE streams: ``message_start``, ``content_block_start`` / ``_delta`` (``text_delta``, ``input_json_delta``,
  ``thinking_delta``, ``signature_delta``) / ``_stop``, ``ping``, ``message_delta`` with usage, ``message_stop``;
* ``POST /v1/messages/count_tokens`` when ``"count_tokens"`` is in ``emu.native_routes`` (no profile has it).

The answer itself comes from the same scripted model as ``/v1/chat/completions``.

>>> SERVED_BY["new-api"], SERVED_BY.get("one-api", frozenset())
(frozenset({'messages'}), frozenset())
>>> sig = thinking_signature("Let me think.")
>>> check_signature("Let me think.", sig), check_signature("Changed.", sig)
(True, False)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any, TypeGuard

from .catalog import family_of
from .chat_request import parse_chat_request
from .errors import ApiError
from .model import ChatOutcome, complete, request_seed
from .prompt_cache import PromptCache
from .quirks import text_pieces
from .signatures import SignatureBook
from .textutil import count_tokens, stable_alnum
from .tools import call_id

MESSAGES = "POST /v1/messages"
COUNT_TOKENS = "POST /v1/messages/count_tokens"
#: the native routes each relay profile serves ("messages", "count_tokens").
SERVED_BY: dict[str, frozenset[str]] = {"new-api": frozenset({"messages"})}
ANTHROPIC_VERSION = "2023-06-01"
MIN_BUDGET = 1024
MAX_CACHE_BREAKPOINTS = 4
_SIGNATURE_KEY = b"b3n-emulator-thinking"
_SIGNATURE_TAG = b"\x12emu"
_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error", 529: "overloaded_error"}
_THINKING_REQUIRED = (
    "messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but found `{found}`. When `thinking` "
    "is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost set of "
    "`tool_use` and `tool_result` blocks). We recommend you include thinking blocks from previous turns. To avoid "
    "this requirement, disable `thinking`. Please consult our documentation at "
    "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
)
_PDF_TEXT_RE = re.compile(rb"\(((?:[^()\\]|\\.)*)\)\s*Tj")


def routes_of(profile: str) -> set[str]:
    """The native routes a relay profile serves (a fresh set the emulator may edit)."""
    return set(SERVED_BY.get(profile, frozenset()))


def error_body(status: int, message: str, request_id: str, error_type: str | None = None) -> dict[str, Any]:
    """new-api's Claude-format error (``controller/relay.go``, ``RelayClaude``)."""
    kind = error_type or _ERROR_TYPES.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": f"{message} (request id: {request_id})"}}


def _bad(message: str) -> ApiError:
    return ApiError(400, message, type="invalid_request_error")


# ------------------------------------------------------------------------------------------ signatures
def thinking_signature(thinking: str) -> str:
    """The signature the emulator issues for a thinking text (base64, opaque like Anthropic's)."""
    mac = hmac.new(_SIGNATURE_KEY, thinking.encode(), hashlib.sha256).digest()
    return base64.b64encode(_SIGNATURE_TAG + mac + mac[:16]).decode("ascii")


def _ours(signature: str) -> bool:
    try:
        return base64.b64decode(signature, validate=True).startswith(_SIGNATURE_TAG)
    except (binascii.Error, ValueError):
        return False


def check_signature(thinking: str, signature: str) -> bool:
    """True when ``signature`` is the one issued for ``thinking``."""
    return hmac.compare_digest(signature, thinking_signature(thinking))


def _thinking_key(thinking: str) -> str:
    return "thinking:" + hashlib.sha256(thinking.encode()).hexdigest()


# ------------------------------------------------------------------------------------------ request checks
@dataclass
class MessagesRequest:
    """A checked ``/v1/messages`` body and what the scripted model needs from it."""

    body: dict[str, Any]
    model: str
    stream: bool
    max_tokens: int
    thinking_budget: int | None
    chat_body: dict[str, Any]


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _blocks(content: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list):
        raise _bad(f"{where}.content: Input should be a valid list")
    for j, block in enumerate(content):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            raise _bad(f"{where}.content.{j}: Input should be a valid dictionary or object to extract fields from")
    return content


def _cache_marks(body: dict[str, Any]) -> int:
    count = 0
    system = body.get("system")
    for part in system if isinstance(system, list) else []:
        count += isinstance(part, dict) and "cache_control" in part
    for tool in body.get("tools") or []:
        count += isinstance(tool, dict) and "cache_control" in tool
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        for block in content if isinstance(content, list) else []:
            count += isinstance(block, dict) and "cache_control" in block
    return count


def _check_cache_control(block: dict[str, Any], where: str) -> None:
    mark = block.get("cache_control")
    if mark is None:
        return
    if not isinstance(mark, dict) or mark.get("type") != "ephemeral":
        raise _bad(f"{where}.cache_control.type: Input should be 'ephemeral'")
    if mark.get("ttl") not in (None, "5m", "1h"):
        raise _bad(f"{where}.cache_control.ttl: Input should be '5m' or '1h'")


def _image_text(block: dict[str, Any], where: str) -> tuple[str | None, str]:
    """(image_url for the scripted model or None, a text stand-in) of an ``image`` block."""
    source = block.get("source")
    if not isinstance(source, dict):
        raise _bad(f"{where}.source: Field required")
    kind = source.get("type")
    if kind == "base64":
        media = source.get("media_type")
        if media not in ("image/jpeg", "image/png", "image/gif", "image/webp"):
            raise _bad(f"{where}.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' "
                       "or 'image/webp'")
        data = _b64(source.get("data"), f"{where}.source.base64.data", "image")
        return f"data:{media};base64,{source['data']}", f"[image: {media}, {len(data)} bytes]"
    if kind == "url":
        url = source.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise _bad(f"{where}.source.url.url: Input should be a valid URL")
        return url, f"[image: {url}]"
    raise _bad(f"{where}.source: Input tag '{kind}' found using 'type' does not match any of the expected tags: "
               "'base64', 'url'")


def _b64(value: Any, where: str, what: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise _bad(f"{where}: Field required")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _bad(f"{where}: The {what} data is not valid base64.") from None


def pdf_text(data: bytes) -> str:
    """The text of a simple (uncompressed) PDF's ``(...) Tj`` operators; "" when there is none."""
    found = [m.group(1).decode("latin-1").replace("\\(", "(").replace("\\)", ")") for m in _PDF_TEXT_RE.finditer(data)]
    return " ".join(t for t in found if t.strip())


def _document_text(block: dict[str, Any], where: str) -> str:
    source = block.get("source")
    if not isinstance(source, dict):
        raise _bad(f"{where}.source: Field required")
    kind = source.get("type")
    title = block.get("title")
    label = f"document {title!r}" if isinstance(title, str) and title else "document"
    if kind == "base64":
        if source.get("media_type") != "application/pdf":
            raise _bad(f"{where}.source.base64.media_type: Input should be 'application/pdf'")
        data = _b64(source.get("data"), f"{where}.source.base64.data", "PDF")
        if not data.startswith(b"%PDF-"):
            raise _bad(f"{where}.pdf: The PDF specified was not valid.")
        text = pdf_text(data)
        return (f"<context>\n{text}\n</context>\n" if text else "") + f"({label}, application/pdf, {len(data)} bytes)"
    if kind == "text":
        data_text = source.get("data")
        if not isinstance(data_text, str):
            raise _bad(f"{where}.source.text.data: Field required")
        return f"<context>\n{data_text}\n</context>\n({label}, text/plain)"
    if kind == "url":
        url = source.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise _bad(f"{where}.source.url.url: Input should be a valid URL")
        return f"({label}, {url})"
    raise _bad(f"{where}.source: Input tag '{kind}' found using 'type' does not match any of the expected tags: "
               "'base64', 'text', 'url', 'content'")


def _result_text(block: dict[str, Any], where: str) -> str:
    content = block.get("content", "")
    if isinstance(content, str):
        return content
    texts: list[str] = []
    for j, part in enumerate(_blocks(content, where)):
        kind = part["type"]
        if kind == "text":
            texts.append(str(part.get("text", "")))
        elif kind == "image":
            texts.append(_image_text(part, f"{where}.content.{j}")[1])
        elif kind == "document":
            texts.append(_document_text(part, f"{where}.content.{j}"))
        else:
            raise _bad(f"{where}.content.{j}.type: Input should be 'text', 'image' or 'document'")
    return "\n".join(texts)


def _check_thinking_block(block: dict[str, Any], where: str, book: SignatureBook) -> None:
    thinking = block.get("thinking")
    if not isinstance(thinking, str):
        raise _bad(f"{where}.thinking.thinking: Field required")
    signature = block.get("signature")
    if not isinstance(signature, str) or not signature:
        raise _bad(f"{where}.thinking.signature: Field required")
    issued = book.issued(_thinking_key(thinking)) is not None
    if (issued or _ours(signature)) and not check_signature(thinking, signature):
        raise _bad(f"{where}: Invalid `signature` in `thinking` block")


def _translate(body: dict[str, Any], book: SignatureBook) -> list[dict[str, Any]]:
    """Anthropic messages (checked) as OpenAI-format messages for the scripted model."""
    out: list[dict[str, Any]] = []
    system = body.get("system")
    if system is not None:
        lines: list[str] = []
        for j, part in enumerate(_blocks(system, "system")):
            if part["type"] != "text" or not isinstance(part.get("text"), str):
                raise _bad(f"system.{j}.type: Input should be 'text'")
            _check_cache_control(part, f"system.{j}")
            lines.append(part["text"])
        if any(t.strip() for t in lines):
            out.append({"role": "system", "content": "\n".join(lines)})
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _bad("messages: Field required" if messages is None else "messages: List should have at least 1 item")
    pending: list[str] = []  # tool_use ids of the previous assistant turn
    for i, message in enumerate(messages):
        where = f"messages.{i}"
        if not isinstance(message, dict):
            raise _bad(f"{where}: Input should be a valid dictionary")
        role = message.get("role")
        if role not in ("user", "assistant"):
            raise _bad(f"{where}.role: Input should be 'user' or 'assistant'")
        blocks = _blocks(message.get("content"), where)
        last = i == len(messages) - 1
        if not blocks and not (last and role == "assistant"):
            raise _bad(f"{where}: all messages must have non-empty content except for the optional final "
                       "assistant message")
        texts: list[str] = []
        images: list[str] = []
        calls: list[dict[str, Any]] = []
        results: list[dict[str, Any]] = []
        for j, block in enumerate(blocks):
            bwhere = f"{where}.content.{j}"
            _check_cache_control(block, bwhere)
            kind = block["type"]
            if kind == "text":
                text = block.get("text")
                if not isinstance(text, str):
                    raise _bad(f"{bwhere}.text.text: Field required")
                if not text.strip() and not (last and role == "assistant"):
                    raise _bad("messages: text content blocks must be non-empty")
                texts.append(text)
            elif kind == "image" and role == "user":
                url, stand_in = _image_text(block, bwhere)
                if url is not None:
                    images.append(url)
                else:
                    texts.append(stand_in)
            elif kind == "document" and role == "user":
                texts.append(_document_text(block, bwhere))
            elif kind == "tool_result" and role == "user":
                use_id = block.get("tool_use_id")
                if use_id not in pending:
                    raise _bad(f"{bwhere}: unexpected `tool_use_id` found in `tool_result` blocks: {use_id}. Each "
                               "`tool_result` block must have a corresponding `tool_use` block in the previous "
                               "message.")
                results.append({"role": "tool", "tool_call_id": use_id,
                                "content": _result_text(block, bwhere) or "(empty)"})
            elif kind == "tool_use" and role == "assistant":
                name, cid, args = block.get("name"), block.get("id"), block.get("input")
                if not isinstance(name, str) or not isinstance(cid, str) or not isinstance(args, dict):
                    raise _bad(f"{bwhere}.tool_use: 'id', 'name' and an object 'input' are required")
                calls.append({"id": cid, "type": "function",
                              "function": {"name": name, "arguments": json.dumps(args, ensure_ascii=False)}})
            elif kind == "thinking" and role == "assistant":
                _check_thinking_block(block, bwhere, book)
            elif kind == "redacted_thinking" and role == "assistant":
                if not isinstance(block.get("data"), str):
                    raise _bad(f"{bwhere}.redacted_thinking.data: Field required")
            else:
                raise _bad(f"{bwhere}.type: '{kind}' blocks are not allowed in '{role}' messages")
        if role == "user":
            answered = {r["tool_call_id"] for r in results}
            missing = [cid for cid in pending if cid not in answered]
            if missing:
                raise _bad(f"{where}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                           f"{', '.join(missing)}. Each `tool_use` block must have a corresponding `tool_result` "
                           "block in the next message.")
            out.extend(results)
            if texts or images:
                parts: list[dict[str, Any]] = [{"type": "text", "text": t} for t in texts if t.strip()]
                parts += [{"type": "image_url", "image_url": {"url": u}} for u in images]
                out.append({"role": "user", "content": parts or "(empty)"})
            pending = []
        else:
            if pending:
                raise _bad(f"messages.{i - 1}: `tool_use` ids were found without `tool_result` blocks immediately "
                           f"after: {', '.join(pending)}. Each `tool_use` block must have a corresponding "
                           "`tool_result` block in the next message.")
            text = "\n".join(t for t in texts if t.strip())
            msg: dict[str, Any] = {"role": "assistant", "content": text or None}
            if calls:
                msg["tool_calls"] = calls
            elif not text:
                continue  # an empty final assistant turn (prefill) adds nothing
            out.append(msg)
            pending = [c["id"] for c in calls]
    if pending:
        raise _bad(f"messages.{len(messages) - 1}: `tool_use` ids were found without `tool_result` blocks "
                   f"immediately after: {', '.join(pending)}. Each `tool_use` block must have a corresponding "
                   "`tool_result` block in the next message.")
    return out


def _check_final_thinking(body: dict[str, Any]) -> None:
    """With thinking on, the assistant turn that made the latest tool calls must start with its thinking."""
    messages = body["messages"]
    last = messages[-1]
    content = last.get("content")
    if last.get("role") != "user" or not isinstance(content, list):
        return
    if not any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content):
        return
    i = len(messages) - 2
    if i < 0:
        return
    blocks = messages[i].get("content")
    first = blocks[0] if isinstance(blocks, list) and blocks else {"type": "text"}
    found = first.get("type") if isinstance(first, dict) else "text"
    if found not in ("thinking", "redacted_thinking"):
        raise _bad(_THINKING_REQUIRED.format(i=i, found=found))


def _tools(body: dict[str, Any]) -> list[dict[str, Any]]:
    tools = body.get("tools")
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise _bad("tools: Input should be a valid list")
    out = []
    for k, tool in enumerate(tools):
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            raise _bad(f"tools.{k}.custom.name: Field required")
        if tool.get("type") not in (None, "custom"):
            raise _bad(f"tools.{k}.type: the emulator serves client tools only (got {tool.get('type')!r})")
        schema = tool.get("input_schema")
        if not isinstance(schema, dict) or schema.get("type") != "object":
            raise _bad(f"tools.{k}.custom.input_schema.type: Input should be 'object'")
        _check_cache_control(tool, f"tools.{k}")
        function = {"name": tool["name"], "description": str(tool.get("description") or ""), "parameters": schema}
        out.append({"type": "function", "function": function})
    return out


def _tool_choice(body: dict[str, Any], thinking: bool) -> tuple[Any, bool | None]:
    choice = body.get("tool_choice")
    if choice is None:
        return None, None
    if not isinstance(choice, dict) or choice.get("type") not in ("auto", "any", "tool", "none"):
        raise _bad("tool_choice: Input tag found using 'type' does not match any of the expected tags: 'auto', "
                   "'any', 'tool', 'none'")
    kind = choice["type"]
    if thinking and kind in ("any", "tool"):
        raise _bad("Thinking may not be enabled when tool_choice forces tool use.")
    parallel = None if choice.get("disable_parallel_tool_use") is None else not choice["disable_parallel_tool_use"]
    if kind == "tool":
        if not isinstance(choice.get("name"), str):
            raise _bad("tool_choice.tool.name: Field required")
        return {"type": "function", "function": {"name": choice["name"]}}, parallel
    return {"auto": "auto", "any": "required", "none": "none"}[kind], parallel


def parse_messages_request(body: Any, book: SignatureBook) -> MessagesRequest:
    """Check a ``/v1/messages`` body as Anthropic does (raises :class:`ApiError` 400)."""
    if not isinstance(body, dict):
        raise _bad("Invalid request body: expected a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _bad("field model is required")
    if family_of(model) != "claude":
        raise ApiError(400, f"The model `{model}` is not served in Claude's format here: /v1/messages takes "
                       "Claude models; use /v1/chat/completions for it.", type="invalid_request_error")
    max_tokens = body.get("max_tokens")
    if not _is_int(max_tokens) or max_tokens < 1:
        raise _bad("max_tokens: Field required" if max_tokens is None else
                   "max_tokens: Input should be a valid integer greater than or equal to 1")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise _bad("stream: Input should be a valid boolean")
    temperature = body.get("temperature")
    if temperature is not None and (isinstance(temperature, bool) or not isinstance(temperature, (int, float))
                                    or not 0 <= temperature <= 1):
        raise _bad("temperature: Input should be less than or equal to 1")
    thinking = body.get("thinking")
    budget: int | None = None
    if thinking is not None:
        if not isinstance(thinking, dict) or thinking.get("type") not in ("enabled", "disabled"):
            raise _bad("thinking: Input tag found using 'type' does not match any of the expected tags: "
                       "'enabled', 'disabled'")
        if thinking["type"] == "enabled":
            value = thinking.get("budget_tokens")
            if not _is_int(value) or value < MIN_BUDGET:
                raise _bad(f"thinking.enabled.budget_tokens: Input should be greater than or equal to {MIN_BUDGET}")
            if max_tokens <= value:
                raise _bad("`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our "
                           "documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
                           "#max-tokens-and-context-window-size")
            if temperature is not None and temperature != 1:
                raise _bad("`temperature` may only be set to 1 when thinking is enabled or in interleaved thinking "
                           "mode. Please consult our documentation at https://docs.claude.com/en/docs/build-with-"
                           "claude/extended-thinking#important-considerations-when-using-extended-thinking")
            budget = int(value)
    stops = body.get("stop_sequences")
    if stops is not None and (not isinstance(stops, list) or not all(isinstance(s, str) for s in stops)):
        raise _bad("stop_sequences: Input should be a valid list of strings")
    marks = _cache_marks(body)
    if marks > MAX_CACHE_BREAKPOINTS:
        raise _bad(f"A maximum of {MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. Found {marks}.")
    chat_messages = _translate(body, book)
    if budget is not None:
        _check_final_thinking(body)
    tools = _tools(body)
    choice, parallel = _tool_choice(body, budget is not None)
    if choice is not None and not tools and choice != "none":
        raise _bad("tool_choice may only be specified while providing tools.")
    chat_body: dict[str, Any] = {"model": model, "messages": chat_messages, "max_tokens": max_tokens}
    if tools:
        chat_body["tools"] = tools
        if choice is not None:
            chat_body["tool_choice"] = choice
        if parallel is not None:
            chat_body["parallel_tool_calls"] = parallel
    if stops:
        chat_body["stop"] = [s for s in stops if s][:4]
    return MessagesRequest(body, model, stream, int(max_tokens), budget, chat_body)


# ------------------------------------------------------------------------------------------ answering
def _thinking_text(outcome: ChatOutcome, messages: list[dict[str, Any]]) -> str:
    user = next((m for m in reversed(messages) if m["role"] in ("user", "tool")), None)
    content = user.get("content") if user else ""
    gist = content if isinstance(content, str) else " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    gist = " ".join(gist.split()[:12]) or "something"
    if user is not None and user["role"] == "tool":
        return f"The tool answered: {gist}. I can now give the final answer."
    if outcome.tool_calls:
        names = ", ".join(dict.fromkeys(c.name for c in outcome.tool_calls))
        return f"The user asks: {gist}. I should call {names} first."
    return f"The user asks: {gist}. I can answer this directly."


_STOP_REASONS = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}


@dataclass
class Answer:
    """The assistant's content blocks and usage for one request."""

    message: dict[str, Any]
    thinking_tokens: int


def answer(req: MessagesRequest, book: SignatureBook, cache: PromptCache) -> Answer:
    """Run the scripted model and shape its outcome as an Anthropic ``message``."""
    chat = parse_chat_request(req.chat_body, quirks=False)
    outcome = complete(chat, quirks=False)
    seed = request_seed(chat)
    content: list[dict[str, Any]] = []
    thinking_tokens = 0
    if req.thinking_budget is not None:
        thinking = _thinking_text(outcome, req.chat_body["messages"])
        signature = thinking_signature(thinking)
        book.remember(_thinking_key(thinking), signature)
        content.append({"type": "thinking", "thinking": thinking, "signature": signature})
        thinking_tokens = min(count_tokens(thinking) + 40, req.thinking_budget)
    if outcome.text:
        content.append({"type": "text", "text": outcome.text})
    for position, call in enumerate(outcome.tool_calls):
        args = json.loads(call.arguments) if call.arguments else {}
        content.append({"type": "tool_use", "id": call_id("claude", seed, position), "name": call.name,
                        "input": args})
    stop_reason = _STOP_REASONS.get(outcome.finish_reason, "end_turn")
    stop_sequence = None
    if stop_reason == "end_turn" and chat.stop and outcome.text is not None:
        full = complete(parse_chat_request({**req.chat_body, "stop": None}, quirks=False), quirks=False).text or ""
        found = sorted((full.find(s, 1), s) for s in chat.stop if full.find(s, 1) > 0)
        if full != outcome.text and found:
            stop_reason, stop_sequence = "stop_sequence", found[0][1]
    written, read = cache.account(_cache_body(req.body))
    # Anthropic counts cached prefix tokens apart: input_tokens is the rest of the prompt
    usage = {"input_tokens": max(1, outcome.prompt_tokens - written - read),
             "output_tokens": outcome.completion_tokens + thinking_tokens,
             "cache_creation_input_tokens": written, "cache_read_input_tokens": read}
    message = {
        "id": "msg_01" + stable_alnum(22, "anthropic_message", seed),
        "type": "message",
        "role": "assistant",
        "model": req.model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": usage,
    }
    return Answer(message, thinking_tokens)


def _cache_body(body: dict[str, Any]) -> dict[str, Any]:
    """The request in the shape :class:`PromptCache` reads: tools, then system blocks, then messages."""
    system = body.get("system")
    lead = [{"role": "system", "content": system}] if system is not None else []
    return {"model": body.get("model"), "tools": body.get("tools") or [], "messages": lead + list(body["messages"])}


def count_input_tokens(body: Any, book: SignatureBook) -> dict[str, int]:
    """``POST /v1/messages/count_tokens``: the prompt's input tokens, as the model would be billed."""
    if not isinstance(body, dict):
        raise _bad("Invalid request body: expected a JSON object.")
    req = parse_messages_request({**body, "max_tokens": 4096, "stream": False}, book)
    chat = parse_chat_request(req.chat_body, quirks=False)
    return {"input_tokens": complete(chat, quirks=False).prompt_tokens}


# ------------------------------------------------------------------------------------------ streaming
def _event(kind: str, data: dict[str, Any]) -> bytes:
    return f"event: {kind}\ndata: ".encode() + json.dumps(data, ensure_ascii=False).encode() + b"\n\n"


def _fragments(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def stream_events(message: dict[str, Any]) -> list[bytes]:
    """The SSE events of a streamed answer, in Anthropic's order."""
    usage = message["usage"]
    start = {**message, "content": [], "stop_reason": None, "stop_sequence": None,
             "usage": {**usage, "output_tokens": 1}}
    events = [_event("message_start", {"type": "message_start", "message": start}),
              _event("ping", {"type": "ping"})]
    for index, block in enumerate(message["content"]):
        kind = block["type"]
        if kind == "thinking":
            first: dict[str, Any] = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [{"type": "thinking_delta", "thinking": p} for p in text_pieces(block["thinking"])]
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        elif kind == "text":
            first = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": p} for p in text_pieces(block["text"])]
        else:
            first = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            arguments = json.dumps(block["input"], ensure_ascii=False) if block["input"] else ""
            deltas = [{"type": "input_json_delta", "partial_json": p}
                      for p in ([""] + (_fragments(arguments, max(1, -(-len(arguments) // 3))) if arguments else []))]
        events.append(_event("content_block_start", {"type": "content_block_start", "index": index,
                                                     "content_block": first}))
        events += [_event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d})
                   for d in deltas]
        events.append(_event("content_block_stop", {"type": "content_block_stop", "index": index}))
    events.append(_event("message_delta", {
        "type": "message_delta",
        "delta": {"stop_reason": message["stop_reason"], "stop_sequence": message["stop_sequence"]},
        "usage": usage,
    }))
    events.append(_event("message_stop", {"type": "message_stop"}))
    return events


__all__ = [
    "COUNT_TOKENS",
    "MESSAGES",
    "SERVED_BY",
    "MessagesRequest",
    "answer",
    "check_signature",
    "count_input_tokens",
    "error_body",
    "parse_messages_request",
    "pdf_text",
    "routes_of",
    "stream_events",
    "thinking_signature",
]
