"""The model catalog: what every B3n model can do, and what to send it.

It drives LangChain ``profile``, LlamaIndex ``metadata``, the default structured-output
method and request adaptation. Unknown names are allowed (the relay adds models all
the time): they get permissive defaults from their family prefix, and callers can
override any capability.

Example:
    >>> info = get_model_info("o1-mini")
    >>> info.system_messages, info.streaming, info.max_tokens_param
    (False, False, 'max_completion_tokens')
    >>> get_model_info("claude-3-5-sonnet-latest").structured_output_method
    'function_calling'
    >>> get_model_info("gpt-5-future").vendor, get_model_info("o3-pro").tool_calling, get_model_info("o3-pro").source
    ('openai', True, 'family rule: o3*')
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["chat", "embedding", "image", "tts", "stt"]
StructuredMethod = Literal["json_schema", "function_calling", "json_mode"]


@dataclass(frozen=True)
class ModelInfo:
    """Capabilities of one model as served by B3n."""

    name: str
    vendor: str
    kind: Kind = "chat"
    context_window: int = 128_000
    max_output_tokens: int = 4_096
    text_inputs: bool = True
    image_inputs: bool = False
    #: the relay forwards PDF ``file`` content parts to this model (OpenAI channels pass the body through;
    #: the Claude and Gemini adaptors of one-api / new-api translate only text and image parts).
    pdf_inputs: bool = False
    #: the relay forwards ``input_audio`` content parts (OpenAI's audio-preview chat models only).
    audio_inputs: bool = False
    tool_calling: bool = False
    #: the model may return several tool calls in one turn.
    parallel_tool_calls: bool = False
    #: the relay forwards the ``parallel_tool_calls`` request field for this model.
    parallel_tool_calls_param: bool = False
    tool_choice: bool = False
    json_mode: bool = False
    json_schema: bool = False
    streaming: bool = True
    system_messages: bool = True
    temperature: bool = True
    max_temperature: float = 2.0
    stop: bool = True
    reasoning: bool = False
    #: the model takes ``reasoning_effort`` (``"minimal"``/``"low"``/``"medium"``/``"high"``).
    reasoning_effort: bool = False
    #: Claude: ``cache_control`` markers on text, system and tool blocks are forwarded (prompt caching).
    prompt_caching: bool = False
    #: the model takes ``logprobs`` / ``top_logprobs``.
    logprobs: bool = False
    #: the model returns ``n`` choices per request when asked (the relay forwards ``n``).
    multiple_choices: bool = False
    #: how the relay takes a thinking budget: ``"claude_max_tokens"`` (new-api's ``-thinking`` adapter gives
    #: thinking 80% of ``max_tokens``), ``"gemini_thinking_config"`` (``extra_body.google.thinking_config``),
    #: or None (no budget; ``reasoning_effort`` is the control, if any).
    thinking_budget: Literal["claude_max_tokens", "gemini_thinking_config"] | None = None
    max_tokens_param: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    #: embeddings only
    embedding_dimensions: int | None = None
    supports_dimensions: bool = False
    known: bool = True
    #: where these capabilities come from: ``"catalog"``, ``"family rule: <prefix>"`` or ``"default"``,
    #: with ``" + overrides"`` when ``capabilities={...}`` changed some.
    source: str = "catalog"
    notes: str = ""

    @property
    def structured_output_method(self) -> StructuredMethod | None:
        """The default ``with_structured_output`` / ``structured_predict`` method: never one the model ignores."""
        if self.json_schema:
            return "json_schema"
        if self.tool_calling:
            return "function_calling"
        if self.json_mode:
            return "json_mode"
        return None

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> ModelInfo:
        if not overrides:
            return self
        fields = {f.name for f in dataclasses.fields(self)}
        unknown = set(overrides) - fields
        if unknown:
            raise ValueError(f"Unknown capability override(s) {sorted(unknown)}; valid names: {sorted(fields)}")
        return dataclasses.replace(self, **dict(overrides), source=f"{self.source} + overrides")


def _gpt(name: str, ctx: int, out: int, *, vision: bool, tools: bool = True, parallel: bool = True,
         json_mode: bool = True, json_schema: bool = False, notes: str = "") -> ModelInfo:
    return ModelInfo(
        name=name, vendor="openai", context_window=ctx, max_output_tokens=out, image_inputs=vision, pdf_inputs=vision,
        tool_calling=tools, parallel_tool_calls=tools and parallel, parallel_tool_calls_param=tools and parallel,
        tool_choice=tools, json_mode=json_mode, json_schema=json_schema, logprobs=True, multiple_choices=True,
        notes=notes,
    )


def _reasoner(name: str, ctx: int, out: int, *, vision: bool, notes: str = "") -> ModelInfo:
    """Current OpenAI reasoning models (o1, o3, o4-mini, gpt-5): tools, streaming, structured outputs,
    ``reasoning_effort``, ``max_completion_tokens``; no temperature, no stop sequences, no logprobs."""
    return ModelInfo(
        name=name, vendor="openai", context_window=ctx, max_output_tokens=out, image_inputs=vision, pdf_inputs=vision,
        tool_calling=True, parallel_tool_calls=True, parallel_tool_calls_param=True, tool_choice=True,
        json_mode=True, json_schema=True, temperature=False, stop=False, reasoning=True, reasoning_effort=True,
        max_tokens_param="max_completion_tokens", multiple_choices=True,
        notes=notes or "reasoning model: reasoning_effort, max_completion_tokens, no temperature",
    )


def _o1(name: str, out: int) -> ModelInfo:
    return ModelInfo(
        name=name, vendor="openai", context_window=128_000, max_output_tokens=out, streaming=False,
        system_messages=False, temperature=False, stop=False, reasoning=True,
        max_tokens_param="max_completion_tokens",
        notes="reasoning model: no system role, no temperature, no streaming upstream, no tools",
    )


def _reverse(name: str, notes: str) -> ModelInfo:
    return ModelInfo(name=name, vendor="b3n-reverse", context_window=128_000, max_output_tokens=4_096,
                     image_inputs=name != "search-gpts", notes=notes)


def _claude(name: str, out: int, *, thinking: bool = False) -> ModelInfo:
    return ModelInfo(
        name=name, vendor="anthropic", context_window=200_000, max_output_tokens=out, image_inputs=True,
        tool_calling=True, parallel_tool_calls=True, tool_choice=True, max_temperature=1.0,
        prompt_caching=True, reasoning=thinking, reasoning_effort=thinking,
        thinking_budget="claude_max_tokens" if thinking else None,
        notes="adapted to the OpenAI format by the relay; response_format is ignored"
        + ("; the -thinking suffix turns on extended thinking (budget set by the relay)" if thinking else ""),
    )


def _gemini(name: str, ctx: int, out: int = 8_192, *, thinking: bool = False) -> ModelInfo:
    return ModelInfo(
        name=name, vendor="google", context_window=ctx, max_output_tokens=out, image_inputs=True,
        tool_calling=True, parallel_tool_calls=True, tool_choice=True, reasoning=thinking,
        reasoning_effort=thinking, thinking_budget="gemini_thinking_config" if thinking else None,
        notes="adapted to the OpenAI format by the relay; response_format is ignored",
    )


def _embedding(name: str, dims: int, *, dimensions: bool) -> ModelInfo:
    return ModelInfo(name=name, vendor="openai", kind="embedding", context_window=8_191, max_output_tokens=0,
                     streaming=False, embedding_dimensions=dims, supports_dimensions=dimensions)


def _media(name: str, kind: Kind) -> ModelInfo:
    return ModelInfo(name=name, vendor="openai", kind=kind, context_window=0, max_output_tokens=0, streaming=False)


MODELS: dict[str, ModelInfo] = {
    m.name: m
    for m in (
        _gpt("gpt-3.5-turbo", 16_385, 4_096, vision=False),
        _gpt("gpt-4", 8_192, 8_192, vision=False, parallel=False, json_mode=False),
        _gpt("gpt-4-turbo", 128_000, 4_096, vision=True),
        _gpt("gpt-4o", 128_000, 16_384, vision=True, json_schema=True),
        _gpt("gpt-4o-mini", 128_000, 16_384, vision=True, json_schema=True),
        _gpt("gpt-4.1", 1_047_576, 32_768, vision=True, json_schema=True),
        _gpt("gpt-4.1-mini", 1_047_576, 32_768, vision=True, json_schema=True),
        _gpt("gpt-4.1-nano", 1_047_576, 32_768, vision=True, json_schema=True),
        _o1("o1-preview", 32_768),
        _o1("o1-mini", 65_536),
        _reasoner("o1", 200_000, 100_000, vision=True),
        _reasoner("o3", 200_000, 100_000, vision=True),
        _reasoner("o3-mini", 200_000, 100_000, vision=False),
        _reasoner("o4-mini", 200_000, 100_000, vision=True),
        _reasoner("gpt-5", 400_000, 128_000, vision=True),
        _reasoner("gpt-5-mini", 400_000, 128_000, vision=True),
        _reasoner("gpt-5-nano", 400_000, 128_000, vision=True),
        _reverse("gpt-4-all", "reverse-engineered ChatGPT model; no tool calling"),
        _reverse("gpt-4o-all", "reverse-engineered ChatGPT model; no tool calling"),
        _reverse("gpts", "reverse-engineered GPTs; no tool calling"),
        _reverse("search-gpts", "reverse-engineered GPTs with web search; no tool calling"),
        _claude("claude-3-opus-latest", 4_096),
        _claude("claude-3-5-sonnet-latest", 8_192),
        _claude("claude-3-5-haiku-latest", 8_192),
        _claude("claude-3-7-sonnet-latest", 64_000),
        _claude("claude-3-7-sonnet-20250219", 64_000),
        _claude("claude-3-7-sonnet-20250219-thinking", 64_000, thinking=True),
        _claude("claude-sonnet-4-20250514", 64_000),
        _claude("claude-sonnet-4-20250514-thinking", 64_000, thinking=True),
        _claude("claude-opus-4-20250514", 32_000),
        _claude("claude-opus-4-20250514-thinking", 32_000, thinking=True),
        _gemini("gemini-1.5-flash-latest", 1_048_576),
        _gemini("gemini-1.5-pro-latest", 2_097_152),
        _gemini("gemini-2.0-flash", 1_048_576),
        _gemini("gemini-2.5-flash", 1_048_576, 65_536, thinking=True),
        _gemini("gemini-2.5-pro", 1_048_576, 65_536, thinking=True),
        _embedding("text-embedding-ada-002", 1536, dimensions=False),
        _embedding("text-embedding-3-small", 1536, dimensions=True),
        _embedding("text-embedding-3-large", 3072, dimensions=True),
        _media("dall-e-3", "image"),
        _media("gpt-image-1", "image"),
        _media("tts-1", "tts"),
        _media("tts-1-hd", "tts"),
        _media("gpt-4o-mini-tts", "tts"),
        _media("whisper-1", "stt"),
        _media("gpt-4o-transcribe", "stt"),
        _media("gpt-4o-mini-transcribe", "stt"),
    )
}


#: (name prefix, profile builder) tried in order for names the catalog does not list; longest prefixes first.
_FAMILY_RULES: tuple[tuple[str, Any], ...] = (
    ("o1-preview", lambda n: _o1(n, 32_768)),
    ("o1-mini", lambda n: _o1(n, 65_536)),
    ("o3-mini", lambda n: _reasoner(n, 200_000, 100_000, vision=False)),
    ("o1", lambda n: _reasoner(n, 200_000, 100_000, vision=True)),
    ("o3", lambda n: _reasoner(n, 200_000, 100_000, vision=True)),
    ("o4", lambda n: _reasoner(n, 200_000, 100_000, vision=True)),
    ("gpt-5", lambda n: _reasoner(n, 400_000, 128_000, vision=True)),
    ("gpt-4.1", lambda n: _gpt(n, 1_047_576, 32_768, vision=True, json_schema=True)),
    ("gpt-4o", lambda n: _gpt(n, 128_000, 16_384, vision=True, json_schema=True)),
    ("claude-opus-4", lambda n: _claude(n, 32_000, thinking=n.endswith("-thinking"))),
    ("claude-sonnet-4", lambda n: _claude(n, 64_000, thinking=n.endswith("-thinking"))),
    ("claude-3-7", lambda n: _claude(n, 64_000, thinking=n.endswith("-thinking"))),
    ("claude", lambda n: _claude(n, 8_192, thinking=n.endswith("-thinking"))),
    ("gemini-2.5", lambda n: _gemini(n, 1_048_576, 65_536, thinking=True)),
    ("gemini", lambda n: _gemini(n, 1_048_576)),
    ("text-embedding", lambda n: _embedding(n, 1536, dimensions=True)),
    ("gpt-image", lambda n: _media(n, "image")),
    ("dall-e", lambda n: _media(n, "image")),
    ("tts", lambda n: _media(n, "tts")),
    ("whisper", lambda n: _media(n, "stt")),
)


def _family_default(name: str) -> ModelInfo:
    low = name.lower()
    if low.endswith("-tts"):
        return dataclasses.replace(_media(name, "tts"), known=False, source="family rule: *-tts",
                                   notes="not in the catalog; family defaults")
    if low.endswith("-transcribe"):
        return dataclasses.replace(_media(name, "stt"), known=False, source="family rule: *-transcribe",
                                   notes="not in the catalog; family defaults")
    if low.startswith(("gpt-4o-audio", "gpt-4o-mini-audio")):
        return dataclasses.replace(_gpt(name, 128_000, 16_384, vision=False), audio_inputs=True, known=False,
                                   source="family rule: gpt-4o*-audio*", notes="not in the catalog; family defaults")
    if low.endswith("-all") or "gpts" in low:
        return dataclasses.replace(_reverse(name, "reverse model (not in the catalog)"), known=False,
                                   source="family rule: reverse", notes="not in the catalog; family defaults")
    for prefix, build in _FAMILY_RULES:
        if low.startswith(prefix):
            base: ModelInfo = build(name)
            return dataclasses.replace(base, known=False, source=f"family rule: {prefix}*",
                                       notes="not in the catalog; family defaults")
    # Permissive: unknown models are assumed to be modern OpenAI-compatible chat models.
    return dataclasses.replace(_gpt(name, 128_000, 4_096, vision=True), known=False,
                               source="default", notes="not in the catalog; permissive defaults")


def get_model_info(name: str, overrides: Mapping[str, Any] | None = None) -> ModelInfo:
    """Capabilities of ``name`` (catalog entry, else family defaults), with optional overrides."""
    info = MODELS.get(name) or _family_default(name)
    return info.with_overrides(overrides)


def chat_models() -> list[ModelInfo]:
    return [m for m in MODELS.values() if m.kind == "chat"]
