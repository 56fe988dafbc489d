"""Unknown request arguments: refused the way OpenAI refuses them, or dropped where the relay drops them.

OpenAI answers a top-level key it does not know with 400 ``Unrecognized request argument supplied: X``
(``invalid_request_error``). Whether a client's stray key gets there depends on the relay and the model family:

* **docs** (default): OpenAI's rule for every family: a stray key is refused wherever it is sent.
* **one-api**: OpenAI-family bodies (chat, embeddings, images, audio) are passed through unchanged
  (``relay/controller/text.go`` ``getRequestBody``: "no need to convert request for openai"; ``image.go`` and
  ``audio.go`` forward ``c.Request.Body``), so OpenAI refuses the key and one-api relays that 400
  (``relay/controller/error.go`` ``RelayErrorHandler``). Claude and Gemini bodies are decoded into its
  ``GeneralOpenAIRequest`` struct and rebuilt for the upstream (``relay/adaptor/anthropic/main.go`` and
  ``relay/adaptor/gemini/main.go`` ``ConvertRequest``): unknown keys vanish without a word.
* **new-api** (both versions): every JSON body is decoded into a struct and marshalled again
  (``relay/relay-text.go``: ``ConvertOpenAIRequest`` + ``json.Marshal``; pass-through is an option, off by default,
  ``setting/model_setting/global.go``): unknown keys vanish for every family, and so do OpenAI arguments the struct
  lacks (``dto/openai_request.go``: no ``logit_bias``, ``parallel_tool_calls``, ``service_tier``, ``store``,
  ``metadata``, ``prediction``, ...). Transcription form fields are all copied to the upstream
  (``relay/channel/openai/adaptor.go`` ``ConvertAudioRequest``), so OpenAI refuses an unknown one.

The behaviours are relay quirks (``claude_unknown_arguments_dropped``, ``gemini_unknown_arguments_dropped``,
``openai_body_rebuilt``), so ``emu.relay_quirks`` can switch them; ``Emulator(strict=False)`` accepts and ignores
unknown keys everywhere.

The known arguments are those of the official ``openai`` Python package's request types
(``openai/types/chat/completion_create_params.py``, ``embedding_create_params.py``, ``image_generate_params.py``,
``audio/speech_create_params.py``, ``audio/transcription_create_params.py``); a test compares the lists.

>>> unknown_arguments("chat", {"model": "gpt-4o-mini", "messages": [], "request_timeout": 30}, "openai")
['request_timeout']
>>> refusal(["request_timeout"]).message
'Unrecognized request argument supplied: request_timeout'
>>> refusal(["b", "a"]).message
'Unrecognized request arguments supplied: a, b'
"""

from __future__ import annotations

from typing import Any

from .errors import ApiError

#: openai 2.x ``CompletionCreateParams`` (streaming and non-streaming).
CHAT = frozenset({
    "audio", "frequency_penalty", "function_call", "functions", "logit_bias", "logprobs", "max_completion_tokens",
    "max_tokens", "messages", "metadata", "modalities", "model", "moderation", "n", "parallel_tool_calls",
    "prediction", "presence_penalty", "prompt_cache_key", "prompt_cache_options", "prompt_cache_retention",
    "reasoning_effort", "response_format", "safety_identifier", "seed", "service_tier", "stop", "store", "stream",
    "stream_options", "temperature", "tool_choice", "tools", "top_logprobs", "top_p", "user", "verbosity",
    "web_search_options",
})
#: ``EmbeddingCreateParams``.
EMBEDDINGS = frozenset({"dimensions", "encoding_format", "input", "model", "user"})
#: ``ImageGenerateParams`` (streaming and non-streaming).
IMAGES = frozenset({
    "background", "model", "moderation", "n", "output_compression", "output_format", "partial_images", "prompt",
    "quality", "response_format", "size", "stream", "style", "user",
})
#: ``SpeechCreateParams``.
SPEECH = frozenset({"input", "instructions", "model", "response_format", "speed", "stream_format", "voice"})
#: ``TranscriptionCreateParams`` (form fields; arrays are sent as ``name[]``).
TRANSCRIPTIONS = frozenset({
    "chunking_strategy", "file", "include", "keywords", "known_speaker_names", "known_speaker_references",
    "language", "languages", "model", "prompt", "response_format", "stream", "temperature",
    "timestamp_granularities",
})
KNOWN: dict[str, frozenset[str]] = {
    "chat": CHAT, "embeddings": EMBEDDINGS, "images": IMAGES, "speech": SPEECH, "transcriptions": TRANSCRIPTIONS,
}
#: keys an upstream of that family accepts beyond OpenAI's: Google's OpenAI-compatible API takes ``extra_body``
#: (``{"google": {"thinking_config": ...}}``) as a body key.
FAMILY_EXTRAS: dict[str, frozenset[str]] = {"gemini": frozenset({"extra_body"})}

#: what new-api's request structs keep (json tags), by route and version; everything else is dropped.
_NEW_API_2412_TEXT = frozenset({
    "model", "messages", "prompt", "stream", "stream_options", "max_tokens", "max_completion_tokens", "temperature",
    "top_p", "top_k", "stop", "n", "input", "instruction", "size", "functions", "frequency_penalty",
    "presence_penalty", "response_format", "encoding_format", "seed", "tools", "tool_choice", "user", "logprobs",
    "top_logprobs", "dimensions", "modalities", "audio",
})
NEW_API_FIELDS: dict[str, dict[str, frozenset[str]]] = {
    "new-api-2412": {  # Calcium-Ion/new-api@f693c13c dto/openai_request.go (embeddings go through relay-text.go)
        "chat": _NEW_API_2412_TEXT,
        "embeddings": _NEW_API_2412_TEXT,
        "images": frozenset({"model", "prompt", "n", "size", "quality", "response_format", "style", "user"}),
        "speech": frozenset({"model", "input", "voice", "speed", "response_format"}),
    },
    "new-api": {  # Calcium-Ion/new-api@ef8ae4db dto/openai_request.go, dto/embedding.go, dto/dalle.go, dto/audio.go
        "chat": _NEW_API_2412_TEXT | {"prefix", "suffix", "reasoning_effort", "extra_body"},
        "embeddings": frozenset({"model", "input", "encoding_format", "dimensions", "user", "seed", "temperature",
                                 "top_p", "frequency_penalty", "presence_penalty"}),
        "images": frozenset({"model", "prompt", "n", "size", "quality", "response_format", "style", "user"}),
        "speech": frozenset({"model", "input", "voice", "speed", "response_format"}),
    },
}


def _family(body: dict[str, Any]) -> str | None:
    from .catalog import family_of

    model = body.get("model")
    return family_of(model) if isinstance(model, str) else None


def unknown_arguments(route: str, names: Any, family: str | None) -> list[str]:
    """The names (keys of a body, or form field names) OpenAI would not recognise on ``route``, sorted."""
    known = KNOWN[route] | FAMILY_EXTRAS.get(family or "", frozenset())
    out = set()
    for name in names:
        bare = name[:-2] if isinstance(name, str) and name.endswith("[]") else name
        if bare not in known:
            out.add(str(name))
    return sorted(out)


def refusal(unknown: list[str]) -> ApiError:
    """OpenAI's 400 for unknown arguments (one or several)."""
    names = sorted(unknown)
    if len(names) == 1:
        message = f"Unrecognized request argument supplied: {names[0]}"
    else:
        message = f"Unrecognized request arguments supplied: {', '.join(names)}"
    return ApiError(400, message, type="invalid_request_error")


def relay_rebuilds(family: str | None, quirks: set[str] | frozenset[str]) -> bool:
    """Whether the relay decodes the body into a struct and rebuilds it (unknown keys dropped, not refused)."""
    if family == "claude":
        return "claude_unknown_arguments_dropped" in quirks
    if family == "gemini":
        return "gemini_unknown_arguments_dropped" in quirks
    return "openai_body_rebuilt" in quirks


def forwarded_body(
    route: str, body: Any, quirks: set[str] | frozenset[str], relay: str, *, strict: bool
) -> Any:
    """The JSON body as the upstream model gets it, or the upstream's 400 (raised) for unknown arguments.

    ``route``: ``chat``, ``embeddings``, ``images`` or ``speech``; other bodies are returned as they are.
    """
    if route not in KNOWN or not isinstance(body, dict):
        return body
    family = _family(body)
    if relay_rebuilds(family, quirks):
        fields = NEW_API_FIELDS.get(relay, {}).get(route)
        if fields is not None:  # new-api: what its struct has survives
            return {k: v for k, v in body.items() if k in fields}
        dropped = set(unknown_arguments(route, body, family))  # one-api's struct: OpenAI's arguments
        return {k: v for k, v in body.items() if k not in dropped}
    if strict:
        unknown = unknown_arguments(route, body, family)
        if unknown:
            raise refusal(unknown)
    return body


def check_form(names: list[str], family: str | None, *, strict: bool) -> None:
    """Transcription form fields: every relay forwards them all, so OpenAI refuses an unknown one."""
    if strict:
        unknown = unknown_arguments("transcriptions", names, family)
        if unknown:
            raise refusal(unknown)


__all__ = [
    "CHAT",
    "EMBEDDINGS",
    "FAMILY_EXTRAS",
    "IMAGES",
    "KNOWN",
    "NEW_API_FIELDS",
    "SPEECH",
    "TRANSCRIPTIONS",
    "check_form",
    "forwarded_body",
    "refusal",
    "relay_rebuilds",
    "unknown_arguments",
]
