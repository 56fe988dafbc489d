"""The emulator's model catalogue: which ids exist, their family and what endpoint they serve."""

from __future__ import annotations

from typing import Literal

from .errors import ApiError, invalid, model_not_found
from .textutil import stable_hex

Family = Literal["openai", "reasoning", "reverse", "claude", "gemini", "embedding", "image", "tts", "stt"]
Endpoint = Literal["chat", "embeddings", "images", "speech", "transcriptions"]

MODELS: tuple[str, ...] = (
    "gpt-3.5-turbo",
    "gpt-4",
    "gpt-4-turbo",
    "gpt-4o",
    "gpt-4o-mini",
    "o1-preview",
    "o1-mini",
    "gpt-4-all",
    "gpt-4o-all",
    "gpts",
    "search-gpts",
    "claude-3-opus-latest",
    "claude-3-5-sonnet-latest",
    "claude-3-5-haiku-latest",
    "gemini-1.5-flash-latest",
    "gemini-1.5-pro-latest",
    # the families relays serve today
    "gpt-4.1",
    "gpt-4.1-mini",
    "o1",
    "o3",
    "o3-mini",
    "o4-mini",
    "gpt-5",
    "gpt-5-mini",
    "claude-3-7-sonnet-20250219",
    "claude-3-7-sonnet-20250219-thinking",
    "claude-sonnet-4-20250514",
    "claude-sonnet-4-20250514-thinking",
    "claude-opus-4-20250514",
    "gemini-2.0-flash",
    "gemini-2.5-flash",
    "gemini-2.5-pro",
    "dall-e-3",
    "gpt-image-1",
    "text-embedding-ada-002",
    "text-embedding-3-small",
    "text-embedding-3-large",
    "tts-1",
    "tts-1-hd",
    "gpt-4o-mini-tts",
    "whisper-1",
    "gpt-4o-transcribe",
)

REVERSE_MODELS = frozenset({"gpt-4-all", "gpt-4o-all", "gpts", "search-gpts"})
# Models that take no image input (a 400 when an image_url part is sent).
TEXT_ONLY_MODELS = frozenset({"gpt-3.5-turbo", "gpt-4", "o1-preview", "o1-mini", "o3-mini"})
# o1 preview models: no system role, no streaming, no tools.
O1_EARLY_MODELS = frozenset({"o1-preview", "o1-mini"})

DATED_NAMES: dict[str, str] = {
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4-turbo": "gpt-4-turbo-2024-04-09",
    "gpt-3.5-turbo": "gpt-3.5-turbo-0125",
    "gpt-4": "gpt-4-0613",
    "o1-preview": "o1-preview-2024-09-12",
    "o1-mini": "o1-mini-2024-09-12",
}

EMBEDDING_DIMS: dict[str, int] = {
    "text-embedding-ada-002": 1536,
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
}

_CHAT_PREFIXES = ("gpt-", "claude-", "gemini-", "deepseek", "grok")
_REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")

ENDPOINT_OF_FAMILY: dict[Family, Endpoint] = {
    "openai": "chat",
    "reasoning": "chat",
    "reverse": "chat",
    "claude": "chat",
    "gemini": "chat",
    "embedding": "embeddings",
    "image": "images",
    "tts": "speech",
    "stt": "transcriptions",
}

_ENDPOINT_PATHS: dict[Endpoint, str] = {
    "chat": "v1/chat/completions",
    "embeddings": "v1/embeddings",
    "images": "v1/images/generations",
    "speech": "v1/audio/speech",
    "transcriptions": "v1/audio/transcriptions",
}


def family_of(model: str) -> Family | None:
    """The family of a model id, or None when the relay has no channel for it."""
    if not model or model.startswith("unknown-"):
        return None
    if model in REVERSE_MODELS:
        return "reverse"
    if model in ("dall-e-3", "gpt-image-1"):
        return "image"
    if model in ("tts-1", "tts-1-hd") or model.endswith("-tts"):
        return "tts"
    if model == "whisper-1" or model.endswith("-transcribe"):
        return "stt"
    if model.startswith("text-embedding-"):
        return "embedding"
    if model.startswith(_REASONING_PREFIXES):
        return "reasoning"
    if model.startswith("claude-"):
        return "claude"
    if model.startswith("gemini-"):
        return "gemini"
    if model.startswith(_CHAT_PREFIXES):
        return "openai"
    return None


def check_model(model: object, endpoint: Endpoint) -> tuple[str, Family]:
    """Validate ``model`` for ``endpoint``; raise the relay's error otherwise."""
    if not isinstance(model, str) or not model:
        raise invalid("you must provide a model parameter", param="model")
    family = family_of(model)
    if family is None:
        raise model_not_found(model)
    served = ENDPOINT_OF_FAMILY[family]
    if served != endpoint:
        raise ApiError(
            400,
            f"The model `{model}` does not support the /{_ENDPOINT_PATHS[endpoint]} endpoint "
            f"(it is served by /{_ENDPOINT_PATHS[served]}).",
            param="model",
            code="model_not_supported",
        )
    return model, family


def is_early_o1(model: str) -> bool:
    """o1-preview / o1-mini (and their dated snapshots): the most restricted reasoning models."""
    return any(model == m or model.startswith(m + "-") for m in O1_EARLY_MODELS)


def supports_images(model: str, family: Family) -> bool:
    """Whether the model accepts image_url content parts."""
    if model in TEXT_ONLY_MODELS or is_early_o1(model):
        return False
    return not model.startswith("gpt-3.5")


def takes_reasoning_effort(model: str, family: Family) -> bool:
    """o-series / gpt-5 (not o1-preview / o1-mini), Claude ``-thinking`` variants and Gemini 2.5."""
    if family == "reasoning":
        return not is_early_o1(model)
    return (family == "claude" and model.endswith("-thinking")) or model.startswith("gemini-2.5")


def dated_name(model: str) -> str:
    """The dated snapshot name the upstream reports (starts with the requested name)."""
    return DATED_NAMES.get(model, model)


def fingerprint(model: str) -> str | None:
    """A stable ``system_fingerprint`` per model (``None`` for gpt-4, like upstream)."""
    if model == "gpt-4":
        return None
    return "fp_" + stable_hex(10, "fingerprint", model)


def owner_of(model: str) -> str:
    """``owned_by`` for /v1/models."""
    family = family_of(model)
    if family == "claude":
        return "anthropic"
    if family == "gemini":
        return "google"
    if family == "reverse":
        return "custom"
    return "openai"
