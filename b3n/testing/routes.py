"""Route table and the per-endpoint handlers that turn a request into a reply (no socket I/O here)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from . import account, anthropic, arguments, audio, embeddings, images, logprobs, pricing, prompt_cache, relays
from .catalog import MODELS, family_of, owner_of
from .chat_request import parse_chat_request
from .errors import ApiError, invalid
from .model import complete
from .multipart import parse_multipart
from .quirks import build_chunks, build_completion
from .script import Script, scripted_outcome
from .signatures import SignatureBook
from .text_tools import read_text_tool_turns

CHAT = "POST /v1/chat/completions"
EMBEDDINGS = "POST /v1/embeddings"
IMAGES = "POST /v1/images/generations"
SPEECH = "POST /v1/audio/speech"
TRANSCRIPTIONS = "POST /v1/audio/transcriptions"
MODELS_ROUTE = "GET /v1/models"
ACCOUNT = "GET /api/user/self"
PRICING = "GET /api/pricing"
FILES = "GET /files"
MESSAGES = anthropic.MESSAGES
COUNT_TOKENS = anthropic.COUNT_TOKENS

SHORT_NAMES: dict[str, str] = {
    "chat": CHAT,
    "embeddings": EMBEDDINGS,
    "images": IMAGES,
    "speech": SPEECH,
    "transcriptions": TRANSCRIPTIONS,
    "models": MODELS_ROUTE,
    "account": ACCOUNT,
    "pricing": PRICING,
    "files": FILES,
    "messages": MESSAGES,
    "count_tokens": COUNT_TOKENS,
}
#: the routes whose request arguments are checked (see b3n.testing.arguments), by key.
SHORT_OF: dict[str, str] = {CHAT: "chat", EMBEDDINGS: "embeddings", IMAGES: "images", SPEECH: "speech"}
_EXACT: dict[tuple[str, str], str] = {
    ("POST", "/v1/chat/completions"): CHAT,
    ("POST", "/v1/embeddings"): EMBEDDINGS,
    ("POST", "/v1/images/generations"): IMAGES,
    ("POST", "/v1/audio/speech"): SPEECH,
    ("POST", "/v1/audio/transcriptions"): TRANSCRIPTIONS,
    ("GET", "/v1/models"): MODELS_ROUTE,
    ("GET", "/api/user/self"): ACCOUNT,
    ("GET", "/api/pricing"): PRICING,
    ("POST", "/v1/messages"): MESSAGES,
    ("POST", "/v1/messages/count_tokens"): COUNT_TOKENS,
}
JSON_ROUTES = frozenset({CHAT, EMBEDDINGS, IMAGES, SPEECH})
MODELS_CREATED = 1_700_000_000
SPEECH_PIECE = 16 * 1024


def route_key(method: str, path: str) -> tuple[str, bool]:
    """(route key, known?) for a request line; unknown paths get ``"METHOD /path"``."""
    clean = path.rstrip("/") or "/"
    key = _EXACT.get((method, clean))
    if key is not None:
        return key, True
    if method == "GET" and clean.startswith("/v1/models/"):
        return MODELS_ROUTE, True
    if method == "GET" and clean.startswith("/files/"):
        return FILES, True
    return f"{method} {clean}", False


def normalize_route(route: str) -> str:
    """Short name ('chat') or full key ('POST /v1/chat/completions') → full key; '*' stays."""
    return SHORT_NAMES.get(route, route)


@dataclass
class Reply:
    """A complete response."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class StreamReply:
    """A chunked response: SSE events (``sse=True``; ``[DONE]`` is added by the writer) or raw bytes."""

    pieces: list[bytes]
    content_type: str
    sse: bool = True
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(obj: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(obj, ensure_ascii=False).encode())


def sse_event(obj: Any) -> bytes:
    return b"data: " + json.dumps(obj, ensure_ascii=False).encode() + b"\n\n"


@dataclass
class Context:
    """Everything a route handler may read."""

    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    json: Any
    origin: str
    quirks: bool
    reply_chunks: int | None
    engine: embeddings.EmbeddingEngine
    access_token: str
    user_id: int
    total_requests: int
    signatures: SignatureBook = field(default_factory=SignatureBook)
    relay_quirks: frozenset[str] = frozenset()
    #: the price list rows (None: no /api/pricing route, like one-api) and group ratios.
    pricing: list[dict[str, Any]] | None = None
    group_ratio: dict[str, float] = field(default_factory=dict)
    prompt_cache: prompt_cache.PromptCache = field(default_factory=prompt_cache.PromptCache)
    #: the relay profile's name, whether unknown arguments are refused, the model's tool habit, scripted replies.
    relay: str = "docs"
    strict: bool = True
    prose_unless_forced: bool = False
    script: Script | None = None
    #: the native routes the relay serves (see b3n.testing.anthropic) and this request's id.
    native_routes: frozenset[str] = frozenset()
    request_id: str = ""


def require_json(ctx: Context) -> Any:
    if ctx.json is None:
        if not ctx.raw.strip():
            raise invalid("Request body is empty: expected a JSON object.", code="bad_request_body")
        raise invalid("Invalid request body: could not parse JSON.", code="bad_request_body")
    return ctx.json


def handle_chat(ctx: Context) -> Reply | StreamReply:
    relay = ctx.relay_quirks  # empty for the "docs" profile
    body, forcing_dropped = relays.rewrite_request(require_json(ctx), relay)
    req = parse_chat_request(body, quirks=ctx.quirks, gemini_json_mode=relays.honours_gemini_json_mode(relay))
    req.messages = read_text_tool_turns(req.messages)
    prompt_cache.check_markers(body, req.family)
    written, read = ctx.prompt_cache.account(body) if req.family == "claude" else (0, 0)
    want_logprobs, top_logprobs = logprobs.check_request(body, req.family)
    if ctx.quirks and req.family == "gemini" and not relay:
        ctx.signatures.check(req)
    if ctx.prose_unless_forced and req.tool_choice not in ("required", "function"):
        req.tools = []  # offered but not forced: the model answers in prose
    entry = ctx.script.take() if ctx.script is not None else None
    if entry is not None:
        outcome = scripted_outcome(entry, req, quirks=ctx.quirks)  # an ErrorReply raises ScriptedError
        outcome = relays.rewrite_outcome(req, outcome, relay, False)
    else:
        outcome = complete(req, quirks=ctx.quirks, reply_chunks=ctx.reply_chunks)
        outcome = relays.rewrite_outcome(req, outcome, relay, forcing_dropped)
    for call in outcome.tool_calls:
        if call.signature is not None and not relay:
            ctx.signatures.remember(call.id, call.signature)
    created = int(time.time())
    if req.stream:
        chunks = relays.build_chunks(req, outcome, relay, created) if ctx.quirks else None
        if chunks is None:
            chunks = build_chunks(req, outcome, quirks=ctx.quirks, created=created)
        for chunk in chunks:
            prompt_cache.patch_usage(chunk.get("usage"), written, read)
            if want_logprobs:
                logprobs.add_to_chunk(chunk, top_logprobs)
        return StreamReply([sse_event(c) for c in chunks], "text/event-stream")
    shaped = relays.build_completion(req, outcome, relay, created) if ctx.quirks else None
    completion = shaped or build_completion(req, outcome, quirks=ctx.quirks, created=created)
    if req.n > 1:
        _more_choices(completion, req.n)
    prompt_cache.patch_usage(completion.get("usage"), written, read)
    if want_logprobs:
        logprobs.add_to_completion(completion, top_logprobs)
    return json_reply(completion)


def _more_choices(completion: dict[str, Any], n: int) -> None:
    """``n`` choices (indexes 0..n-1) as OpenAI answers them; usage bills the prompt once and every choice's
    completion tokens (the scripted model is deterministic, so the choices agree)."""
    first = completion["choices"][0]
    completion["choices"] = [{**first, "index": i} for i in range(n)]
    usage = completion.get("usage")
    if isinstance(usage, dict):
        usage["completion_tokens"] *= n
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        details = usage.get("completion_tokens_details")
        if isinstance(details, dict) and details.get("reasoning_tokens"):
            details["reasoning_tokens"] *= n


def handle_embeddings(ctx: Context) -> Reply:
    return Reply(200, embeddings.embeddings_body(require_json(ctx), ctx.engine))


def handle_images(ctx: Context) -> Reply:
    return json_reply(images.images_body(require_json(ctx), ctx.origin, int(time.time())))


def _split(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def handle_speech(ctx: Context) -> StreamReply:
    data, ctype = audio.speech(require_json(ctx))
    return StreamReply(list(_split(data, SPEECH_PIECE)), ctype, sse=False)


def handle_transcriptions(ctx: Context) -> Reply:
    parts = parse_multipart(ctx.headers.get("content-type", ""), ctx.raw)
    model = next((p.text() for p in parts if p.name == "model"), "")
    arguments.check_form([p.name for p in parts], family_of(model), strict=ctx.strict)
    body, ctype = audio.transcription(parts)
    return Reply(200, body, ctype)


def model_object(model: str) -> dict[str, Any]:
    return {"id": model, "object": "model", "created": MODELS_CREATED, "owned_by": owner_of(model)}


def handle_models(ctx: Context) -> Reply:
    clean = ctx.path.rstrip("/")
    if clean.startswith("/v1/models/"):
        model = clean[len("/v1/models/") :]
        if model in MODELS or family_of(model) is not None:
            return json_reply(model_object(model))
        raise ApiError(404, f"The model '{model}' does not exist", code="model_not_found", param="model")
    return json_reply({"object": "list", "data": [model_object(m) for m in MODELS]})


def handle_account(ctx: Context) -> Reply:
    problem = account.check_account_auth(
        ctx.headers.get("authorization"),
        ctx.headers.get("new-api-user"),
        access_token=ctx.access_token,
        user_id=ctx.user_id,
    )
    if problem is not None:
        return json_reply({"success": False, "message": problem}, status=401)
    return json_reply(account.user_self(ctx.user_id, ctx.total_requests))


def handle_files(ctx: Context) -> Reply:
    name = ctx.path.rsplit("/", 1)[-1]
    png = images.png_for_file(name)
    if png is None:
        return Reply(404, b"<Error><Code>BlobNotFound</Code></Error>", "application/xml")
    return Reply(200, png, "image/png", {"Cache-Control": "public, max-age=3600"})


def handle_pricing(ctx: Context) -> Reply:
    if ctx.pricing is None:
        raise ApiError(404, f"Invalid URL ({ctx.method} {ctx.path})", code="invalid_url")
    return json_reply(pricing.pricing_body(ctx.pricing, ctx.group_ratio))


def handle_messages(ctx: Context) -> Reply | StreamReply:
    """Claude's native ``POST /v1/messages`` (and ``/count_tokens``) where the relay serves it."""
    route = "count_tokens" if ctx.path.rstrip("/").endswith("/count_tokens") else "messages"
    if route not in ctx.native_routes:
        raise ApiError(404, f"Invalid URL ({ctx.method} {ctx.path})", code="invalid_url")
    try:
        if route == "count_tokens":
            return json_reply(anthropic.count_input_tokens(require_json(ctx), ctx.signatures))
        req = anthropic.parse_messages_request(require_json(ctx), ctx.signatures)
        message = anthropic.answer(req, ctx.signatures, ctx.prompt_cache).message
    except ApiError as exc:
        return json_reply(anthropic.error_body(exc.status, exc.message, ctx.request_id), exc.status)
    if req.stream:
        return StreamReply(anthropic.stream_events(message), "text/event-stream", sse=False)
    return json_reply(message)


HANDLERS = {
    CHAT: handle_chat,
    EMBEDDINGS: handle_embeddings,
    IMAGES: handle_images,
    SPEECH: handle_speech,
    TRANSCRIPTIONS: handle_transcriptions,
    MODELS_ROUTE: handle_models,
    ACCOUNT: handle_account,
    PRICING: handle_pricing,
    FILES: handle_files,
    MESSAGES: handle_messages,
    COUNT_TOKENS: handle_messages,
}


def empty_choices_reply(route: str, ctx: Context) -> Reply | StreamReply:
    """The 'empty_choices' fault: a 200 without any choice / data item."""
    body = ctx.json if isinstance(ctx.json, dict) else {}
    model = body.get("model", "")
    created = int(time.time())
    if route == CHAT:
        base = {"id": "chatcmpl-empty", "object": "chat.completion", "created": created, "model": model}
        if body.get("stream") is True:
            return StreamReply(
                [sse_event({**base, "object": "chat.completion.chunk", "choices": []})], "text/event-stream"
            )
        return json_reply(
            {**base, "choices": [], "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}
        )
    if route == EMBEDDINGS:
        return json_reply(
            {"object": "list", "data": [], "model": model, "usage": {"prompt_tokens": 0, "total_tokens": 0}}
        )
    return json_reply({"created": created, "data": []})
