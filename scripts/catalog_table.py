"""Render the model catalog (``b3n._catalog.MODELS``) as Markdown tables for the docs' models page.

A development tool, not shipped in the wheel. The model table of ``docs/models.md`` is generated, never
hand-edited: ``python scripts/catalog_table.py`` prints it, ``python scripts/catalog_table.py --write
docs/models.md`` replaces the text between the ``<!-- catalog:start -->`` / ``<!-- catalog:end -->`` markers, and
``tests/unit/test_readme.py`` fails when the page and the catalog disagree.

Example:
    >>> table = render_catalog_table()
    >>> "| `gpt-4o-mini` | OpenAI |" in table
    True
    >>> replace_between_markers("a\\n<!-- catalog:start -->\\nold\\n<!-- catalog:end -->\\nb", "new")
    'a\\n<!-- catalog:start -->\\nnew\\n<!-- catalog:end -->\\nb'
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from b3n._catalog import MODELS, ModelInfo

START_MARKER = "<!-- catalog:start -->"
END_MARKER = "<!-- catalog:end -->"

_VENDORS = {"openai": "OpenAI", "anthropic": "Anthropic", "google": "Google", "b3n-reverse": "B3n reverse"}
_KIND_LABELS = {
    "embedding": "embeddings",
    "image": "image generation",
    "tts": "text to speech",
    "stt": "speech to text",
}
_YES, _NO = "✅", "—"


def _flag(value: bool) -> str:
    return _YES if value else _NO


def _tokens(n: int) -> str:
    """``128_000`` → ``128k``, ``1_048_576`` → ``1M``; exact figures stay exact when they are not round."""
    if n >= 1_000_000 and n % 1_048_576 == 0:
        return f"{n // 1_048_576}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return f"{n:,}"


def _chat_notes(info: ModelInfo) -> str:
    notes: list[str] = []
    if not info.system_messages:
        notes.append("system prompt folded into the first user turn")
    if not info.temperature:
        notes.append("no temperature")
    if info.max_tokens_param != "max_tokens":
        notes.append(f"`{info.max_tokens_param}`")
    if not info.streaming:
        notes.append("`stream()` served from one call")
    if info.reasoning:
        notes.append("reasoning tokens in usage")
    if info.reasoning_effort:
        notes.append("`reasoning_effort`")
    if info.thinking_budget:
        as_max_tokens = info.thinking_budget == "claude_max_tokens"
        notes.append("`thinking_budget`" + (" (as `max_tokens`)" if as_max_tokens else ""))
    if info.multiple_choices:
        notes.append("`n` choices")
    if info.prompt_caching:
        notes.append("`cache_control` prompt caching")
    if info.vendor == "anthropic":
        notes.append("two-choice tool-call replies merged")
        notes.append(f"temperature ≤ {info.max_temperature:g}")
    if info.vendor == "google":
        notes.append("missing `model`, index-less tool-call deltas and trailing whitespace normalised")
    if info.vendor in ("anthropic", "google"):
        notes.append("`response_format` is ignored upstream, so structured output uses tools")
    if info.vendor == "b3n-reverse":
        notes.append("reverse-engineered ChatGPT model, no tool calling")
    return "; ".join(notes)


def _row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def render_chat_table(models: Mapping[str, ModelInfo]) -> str:
    """The chat-model table: context, output limit, capabilities, default structured-output method."""
    header = ("Model", "Vendor", "Context", "Max output", "Images in", "Tools", "Parallel tools",
              "JSON mode", "JSON schema", "Streaming", "Default structured output", "Handled for you")
    lines = [_row(header), _row("---" for _ in header)]
    for info in models.values():
        if info.kind != "chat":
            continue
        method = info.structured_output_method
        lines.append(_row((
            f"`{info.name}`",
            _VENDORS.get(info.vendor, info.vendor),
            _tokens(info.context_window),
            _tokens(info.max_output_tokens),
            _flag(info.image_inputs),
            _flag(info.tool_calling),
            _flag(info.parallel_tool_calls),
            _flag(info.json_mode),
            _flag(info.json_schema),
            "emulated" if not info.streaming else _YES,
            f"`{method}`" if method else _NO,
            _chat_notes(info),
        )))
    return "\n".join(lines)


def _other_details(info: ModelInfo) -> str:
    # the limits the media services enforce before sending
    from b3n import _images as images
    from b3n import _speech as speech
    from b3n import _transcription as transcription

    if info.kind == "embedding":
        dims = f"{info.embedding_dimensions} dimensions"
        return dims + ("; `dimensions=` can shorten it" if info.supports_dimensions else "; fixed size")
    if info.kind == "image":
        sizes = images.IMAGE_SIZES.get(info.name)
        limit = images.IMAGE_PROMPT_LIMITS.get(info.name)
        parts = [f"sizes {', '.join(sizes)}" if sizes else "",
                 f"prompt ≤ {limit:,} characters" if limit else "",
                 f"{images.IMAGE_MAX_N.get(info.name, 1)} image per call" if info.name in images.IMAGE_MAX_N else "",
                 "URL (about 2 h) or base64"]
        return "; ".join(p for p in parts if p)
    if info.kind == "tts":
        return (f"voices {', '.join(speech.VOICES)}; formats {', '.join(speech.SPEECH_FORMATS)}; "
                f"≤ {speech.SPEECH_MAX_CHARS:,} characters")
    if info.kind == "stt":
        return (f"files ≤ {transcription.TRANSCRIPTION_MAX_BYTES // (1024 * 1024)} MB "
                f"({', '.join(transcription.TRANSCRIPTION_EXTENSIONS)}); "
                f"formats {', '.join(transcription.TRANSCRIPTION_FORMATS)}")
    return ""


_ENDPOINTS = {
    "embedding": ("`/v1/embeddings`", "`B3nEmbeddings`, `B3nEmbedding`, `client.embeddings`"),
    "image": ("`/v1/images/generations`", "`B3nImageGeneration`, `B3nToolSpec`, `client.images`"),
    "tts": ("`/v1/audio/speech`", "`B3nTextToSpeech`, `B3nToolSpec`, `client.audio.speech`"),
    "stt": ("`/v1/audio/transcriptions`",
            "`B3nSpeechToText`, `B3nWhisperParser`, `B3nAudioReader`, `B3nToolSpec`, `client.audio.transcribe`"),
}


def render_other_table(models: Mapping[str, ModelInfo]) -> str:
    """Embedding, image, speech and transcription models, with their endpoint and the classes that use them."""
    header = ("Model", "Kind", "Endpoint", "Used by", "Details")
    lines = [_row(header), _row("---" for _ in header)]
    for info in models.values():
        if info.kind == "chat":
            continue
        endpoint, used_by = _ENDPOINTS.get(info.kind, ("", ""))
        lines.append(_row((f"`{info.name}`", _KIND_LABELS.get(info.kind, info.kind), endpoint, used_by,
                           _other_details(info))))
    return "\n".join(lines)


def render_catalog_table(models: Mapping[str, ModelInfo] | None = None) -> str:
    """Both tables as one Markdown block (what goes between the markers of the models page)."""
    models = MODELS if models is None else models
    return (
        "Generated from `b3n._catalog.MODELS` by `python scripts/catalog_table.py --write docs/models.md`; "
        "do not edit by hand.\n\n"
        "**Chat models** (✅ supported, — not supported):\n\n"
        f"{render_chat_table(models)}\n\n"
        "**Embedding and media models:**\n\n"
        f"{render_other_table(models)}\n\n"
        "Model names the catalog does not know are allowed (the relay adds models all the time); they get "
        "defaults from their family prefix (`o1*`/`o3*`/`o4*`/`gpt-5*` as current reasoning models with tools and "
        "streaming, only `o1-preview*`/`o1-mini*` as the restricted early ones; `gpt-4.1*`, `gpt-4o*`, `claude-*` "
        "(`-thinking` variants as reasoning models), `gemini-2.5*`, `gemini-*`, `text-embedding-*`, `*-tts`, "
        "`*-transcribe`, ...), anything else is treated as a modern OpenAI-compatible chat model, and every "
        "capability can be overridden per instance (`capabilities={...}` on `ChatB3n` and `B3n`). `b3n models` "
        "shows where each model's capabilities come from (catalog, family rule or default, and `+ probe` with "
        "what the relay lacks once `b3n probe` has run)."
    )


def replace_between_markers(text: str, block: str, start: str = START_MARKER, end: str = END_MARKER) -> str:
    """``text`` with everything between the ``start`` and ``end`` marker lines replaced by ``block``.

    Raises ValueError when the markers are missing or out of order.
    """
    i = text.find(start)
    j = text.find(end, i + len(start)) if i >= 0 else -1
    if i < 0 or j < 0:
        raise ValueError(f"markers {start!r} ... {end!r} not found (in this order); add them where the table goes.")
    return text[: i + len(start)] + "\n" + block.strip("\n") + "\n" + text[j:]


def extract_between_markers(text: str, start: str = START_MARKER, end: str = END_MARKER) -> str:
    """The text between the marker lines (without the surrounding newlines); ValueError if absent."""
    i = text.find(start)
    j = text.find(end, i + len(start)) if i >= 0 else -1
    if i < 0 or j < 0:
        raise ValueError(f"markers {start!r} ... {end!r} not found (in this order).")
    return text[i + len(start) : j].strip("\n")


def main(argv: Sequence[str] | None = None) -> int:
    """``python scripts/catalog_table.py [--write docs/models.md | --check docs/models.md]``."""
    parser = argparse.ArgumentParser(prog="python scripts/catalog_table.py", description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", metavar="FILE", help="replace the table between the catalog markers in FILE")
    group.add_argument("--check", metavar="FILE", help="exit 1 if FILE's table differs from the catalog")
    args = parser.parse_args(argv)
    table = render_catalog_table()
    if args.write:
        path = Path(args.write)
        path.write_text(replace_between_markers(path.read_text(encoding="utf-8"), table), encoding="utf-8")
        print(f"Updated the model table in {path}.")
        return 0
    if args.check:
        current = extract_between_markers(Path(args.check).read_text(encoding="utf-8"))
        if current != table.strip("\n"):
            print(f"{args.check}: the model table is out of date; run python scripts/catalog_table.py --write "
                  f"{args.check}", file=sys.stderr)
            return 1
        print(f"{args.check}: the model table matches the catalog.")
        return 0
    print(table)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
