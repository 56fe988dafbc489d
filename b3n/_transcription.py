"""Transcription (whisper-1): the ``transcribe`` method of ``client.audio`` and its types.

Audio is read and checked (size, type) before anything is sent.

Example (offline, against the bundled emulator):
    >>> from b3n import B3nClient
    >>> from b3n.testing import Emulator
    >>> with Emulator() as emu:
    ...     client = B3nClient(api_key="sk-test", base_url=emu.base_url)
    ...     audio = client.audio.speech("Hello from B3n")
    ...     client.audio.transcribe(audio).text.strip()
    'Hello from B3n'
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from b3n._body import json_or_error
from b3n._effects import http
from b3n._errors import B3nInvalidRequestError, B3nResponseError
from b3n._lazy import httpx
from b3n._media_common import require_model_kind, require_one_of
from b3n._plans import Plan, arun, run
from b3n._signatures import arguments_of
from b3n._transport import AsyncTransport, SyncTransport

TranscriptionFormat = Literal["json", "text", "srt", "verbose_json", "vtt"]
TimestampGranularity = Literal["word", "segment"]

TRANSCRIPTION_FORMATS: tuple[str, ...] = get_args(TranscriptionFormat)
TIMESTAMP_GRANULARITIES: tuple[str, ...] = get_args(TimestampGranularity)
#: the Whisper upload limit (25 MB).
TRANSCRIPTION_MAX_BYTES = 25 * 1024 * 1024
#: file types Whisper accepts (by extension).
TRANSCRIPTION_EXTENSIONS: tuple[str, ...] = (
    "flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm",
)
TRANSCRIPTIONS_PATH = "/audio/transcriptions"

#: what ``transcribe`` accepts as audio: a path, raw bytes, or a binary file object.
AudioInput = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]

_LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,3}$")


class TranscriptionSegment(BaseModel):
    """One timed segment of a ``verbose_json`` transcription."""

    model_config = ConfigDict(extra="allow")

    id: int | None = None
    start: float = 0.0
    end: float = 0.0
    text: str = ""


class TranscriptionWord(BaseModel):
    """One timed word (``timestamp_granularities=["word"]``)."""

    model_config = ConfigDict(extra="allow")

    word: str
    start: float = 0.0
    end: float = 0.0


class Transcription(BaseModel):
    """The text of an audio file, plus language, duration, segments and words when the format gives them.

    ``raw`` holds the body as received for ``text``, ``srt`` and ``vtt``; ``text`` is always plain text.
    """

    model_config = ConfigDict(extra="allow")

    text: str
    language: str | None = None
    duration: float | None = None
    segments: list[TranscriptionSegment] = Field(default_factory=list)
    words: list[TranscriptionWord] = Field(default_factory=list)
    raw: str | None = Field(default=None, repr=False)
    response_format: str = "json"

    def passages(self, *, split_segments: bool = False) -> list[tuple[str, dict[str, Any]]]:
        """``(text, metadata)`` pairs for document loaders: one per segment, or one for the whole text.

        Example:
            >>> t = Transcription(text="a b", segments=[{"id": 0, "start": 0, "end": 1, "text": " a"},
            ...                                         {"id": 1, "start": 1, "end": 2, "text": " b"}])
            >>> [(text, meta["start"]) for text, meta in t.passages(split_segments=True)]
            [('a', 0.0), ('b', 1.0)]
        """
        base: dict[str, Any] = {"language": self.language, "duration": self.duration}
        if split_segments and self.segments:
            return [
                (seg.text.strip(), {**base, "segment": seg.id if seg.id is not None else i, "start": seg.start,
                                     "end": seg.end})
                for i, seg in enumerate(self.segments)
                if seg.text.strip()
            ]
        return [(self.text.strip(), base)]


_CUE_TIME_RE = re.compile(r"^\s*(\d{1,2}:)?\d{1,2}:\d{2}[.,]\d{1,3}\s*-->")


def subtitles_to_text(raw: str) -> str:
    """Plain text of an SRT or WebVTT body (cue numbers, timings and headers dropped).

    Example:
        >>> srt = "1\\n00:00:00,000 --> 00:00:01,000\\nHello\\n\\n2\\n00:00:01,000 --> 00:00:02,000\\nworld\\n"
        >>> subtitles_to_text(srt)
        'Hello world'
    """
    lines: list[str] = []
    in_note = False
    for line in raw.splitlines():
        stripped = line.strip()
        if not stripped:
            in_note = False
            continue
        if in_note or stripped.startswith(("WEBVTT", "STYLE", "REGION")):
            continue
        if stripped.startswith("NOTE"):
            in_note = True
            continue
        if stripped.isdigit() or _CUE_TIME_RE.match(stripped):
            continue
        lines.append(stripped)
    return " ".join(lines)


# ----------------------------------------------------------------------------- wire

_AUDIO_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"ID3", "mp3"),
    (0, b"\xff\xfb", "mp3"),
    (0, b"\xff\xf3", "mp3"),
    (0, b"\xff\xf2", "mp3"),
    (0, b"fLaC", "flac"),
    (0, b"OggS", "ogg"),
    (0, b"\x1a\x45\xdf\xa3", "webm"),
    (4, b"ftyp", "m4a"),
)
_CONTENT_TYPES = {
    "mp3": "audio/mpeg", "mpga": "audio/mpeg", "mpeg": "audio/mpeg", "wav": "audio/wav", "flac": "audio/flac",
    "ogg": "audio/ogg", "oga": "audio/ogg", "webm": "audio/webm", "m4a": "audio/mp4", "mp4": "audio/mp4",
}


def sniff_audio_extension(data: bytes) -> str | None:
    """The file extension that matches the audio's magic bytes, or None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    for offset, magic, ext in _AUDIO_SIGNATURES:
        if data[offset:offset + len(magic)] == magic:
            return ext
    return None


def _too_big(size: int) -> B3nInvalidRequestError:
    return B3nInvalidRequestError(
        f"The audio is {size / 1_048_576:.1f} MB; transcription accepts at most 25 MB. "
        "Split it or compress it (for example to mono 16 kHz mp3) first."
    )


def _check_extension(name: str) -> None:
    ext = Path(name).suffix.lower().lstrip(".")
    if ext and ext not in TRANSCRIPTION_EXTENSIONS:
        raise B3nInvalidRequestError(
            f"{name!r}: .{ext} files cannot be transcribed; convert it to one of "
            f"{', '.join(TRANSCRIPTION_EXTENSIONS)}."
        )


def read_audio(file: AudioInput, filename: str | None = None) -> tuple[str, bytes, str]:
    """Load audio for upload as ``(filename, bytes, content type)``; size and type checked first.

    Example:
        >>> read_audio(b"ID3" + b"\\0" * 10)[0]
        'audio.mp3'
    """
    if isinstance(file, (str, os.PathLike)):
        path = Path(file).expanduser()
        if not path.is_file():
            raise B3nInvalidRequestError(f"Audio file {str(path)!r} does not exist (or is not a file).")
        name = filename or path.name
        _check_extension(name)
        size = path.stat().st_size
        if size > TRANSCRIPTION_MAX_BYTES:
            raise _too_big(size)
        data = path.read_bytes()
    elif isinstance(file, (bytes, bytearray, memoryview)):
        data = bytes(file)
        name = filename or ""
    elif hasattr(file, "read"):
        name = filename or os.path.basename(str(getattr(file, "name", "") or ""))
        data = _read_file_object(file)
    else:
        raise B3nInvalidRequestError(
            f"Cannot transcribe a {type(file).__name__}; pass a file path, bytes, or a file opened with 'rb'."
        )
    if len(data) > TRANSCRIPTION_MAX_BYTES:
        raise _too_big(len(data))
    if not data:
        raise B3nInvalidRequestError("The audio is empty (0 bytes); nothing to transcribe.")
    if not name or not Path(name).suffix:
        name = f"{Path(name).stem or 'audio'}.{sniff_audio_extension(data) or 'mp3'}"
    _check_extension(name)
    ext = Path(name).suffix.lower().lstrip(".")
    return name, data, _CONTENT_TYPES.get(ext, "application/octet-stream")


def _read_file_object(file: IO[bytes]) -> bytes:
    try:
        if file.seekable():
            here = file.tell()
            size = file.seek(0, os.SEEK_END) - here
            file.seek(here)
            if size > TRANSCRIPTION_MAX_BYTES:
                raise _too_big(size)
    except (OSError, AttributeError):
        pass
    data = file.read(TRANSCRIPTION_MAX_BYTES + 1)
    if isinstance(data, str):
        raise B3nInvalidRequestError("The audio file was opened in text mode; open it with open(path, 'rb').")
    if not isinstance(data, (bytes, bytearray)):
        raise B3nInvalidRequestError(
            f"The audio file object returned {type(data).__name__} from read(); expected bytes."
        )
    return bytes(data)


def check_transcription_options(*, split_segments: bool = False, **fields: Any) -> None:
    """Validate a loader's transcription options up front (shared by both frameworks' audio loaders).

    Example:
        >>> check_transcription_options(split_segments=True, response_format="verbose_json", language="en")
        >>> try:
        ...     check_transcription_options(split_segments=True, response_format="text")
        ... except ValueError as exc:
        ...     print(type(exc).__name__)
        B3nInvalidRequestError
    """
    build_transcription_form(**fields)
    if split_segments and fields.get("response_format", "json") != "verbose_json":
        raise B3nInvalidRequestError(
            "split_segments=True needs response_format='verbose_json' (the only format with segments)."
        )


@dataclass(frozen=True)
class TranscriptionRequest:
    """A checked transcription call: the multipart file part and form fields."""

    file: tuple[str, bytes, str]
    form: dict[str, Any]
    response_format: str


def build_transcription_request(
    file: AudioInput,
    *,
    filename: str | None = None,
    model: str = "whisper-1",
    language: str | None = None,
    prompt: str | None = None,
    temperature: float | None = None,
    response_format: TranscriptionFormat = "json",
    timestamp_granularities: Iterable[TimestampGranularity] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> TranscriptionRequest:
    """Check a transcription call (the options first, then the audio) and build its request.

    Example:
        >>> request = build_transcription_request(b"RIFF....WAVEfmt ", language="en")
        >>> request.file[0], request.form
        ('audio.wav', {'model': 'whisper-1', 'response_format': 'json', 'language': 'en'})
    """
    form = _form_fields(model, language, prompt, temperature, response_format, timestamp_granularities, extra)
    return TranscriptionRequest(read_audio(file, filename), form, response_format)


#: the options of :func:`build_transcription_request` besides the audio, with their defaults.
_OPTIONS = {
    name: parameter.default for name, parameter in inspect.signature(build_transcription_request).parameters.items()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY and name != "filename"
}


def build_transcription_form(**options: Any) -> dict[str, Any]:
    """The multipart form fields for transcription ``options`` (those of ``transcribe`` but the audio), checked.

    Example:
        >>> build_transcription_form(response_format="verbose_json", timestamp_granularities=["word"])
        {'model': 'whisper-1', 'response_format': 'verbose_json', 'timestamp_granularities[]': ['word']}
    """
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise TypeError(f"build_transcription_form() got unexpected keyword arguments {unknown}")
    return _form_fields(**{**_OPTIONS, **options})


def _form_fields(
    model: str, language: str | None, prompt: str | None, temperature: float | None, response_format: str,
    timestamp_granularities: Iterable[str] | None, extra: Mapping[str, Any] | None,
) -> dict[str, Any]:
    require_model_kind(model, "stt", "transcription", "'whisper-1'")
    form: dict[str, Any] = {"model": model, "response_format": require_one_of(
        "response_format", response_format, TRANSCRIPTION_FORMATS)}
    if language is not None:
        if not isinstance(language, str) or not _LANGUAGE_RE.match(language):
            raise B3nInvalidRequestError(f"language={language!r} must be an ISO-639-1 code such as 'en', 'zh' or 'fr'.")
        form["language"] = language.lower()
    if prompt is not None:
        if not isinstance(prompt, str):
            raise B3nInvalidRequestError(f"prompt must be a str, got {type(prompt).__name__}.")
        form["prompt"] = prompt
    if temperature is not None:
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not 0 <= temperature <= 1:
            raise B3nInvalidRequestError(f"temperature={temperature!r} must be a number from 0 to 1 for transcription.")
        form["temperature"] = str(temperature)
    if timestamp_granularities is not None:
        grains = [timestamp_granularities] if isinstance(timestamp_granularities, str) else list(
            timestamp_granularities)
        for grain in grains:
            require_one_of("timestamp_granularities item", grain, TIMESTAMP_GRANULARITIES)
        if grains and response_format != "verbose_json":
            raise B3nInvalidRequestError("timestamp_granularities needs response_format='verbose_json'.")
        if grains:
            form["timestamp_granularities[]"] = grains
    if extra:
        clash = sorted(set(extra) & set(form))
        if clash:
            raise B3nInvalidRequestError(f"extra={{...}} repeats {clash}; pass those as named arguments instead.")
        form.update({k: v if isinstance(v, (str, list)) else str(v) for k, v in extra.items()})
    return form


def parse_transcription(response: httpx.Response, response_format: str) -> Transcription:
    """Parse a transcription response in any of the five formats."""
    if response_format in ("text", "srt", "vtt"):
        raw = response.text
        if response.headers.get("content-type", "").startswith("application/json"):
            body = json_or_error(response, "the transcription")
            if isinstance(body, dict) and isinstance(body.get("text"), str):
                raw = body["text"]
        text = raw.strip() if response_format == "text" else subtitles_to_text(raw)
        return Transcription(text=text, raw=raw, response_format=response_format)
    body = json_or_error(response, "the transcription")
    if not isinstance(body, dict) or not isinstance(body.get("text"), str):
        raise B3nResponseError(f"B3n answered the transcription without text: {str(body)[:200]!r}.")
    duration = body.get("duration")
    try:
        duration = float(duration) if duration is not None else None
    except (TypeError, ValueError):
        duration = None
    return Transcription.model_validate({
        **{k: v for k, v in body.items() if k not in ("duration", "segments", "words")},
        "duration": duration,
        "segments": body.get("segments") or [],
        "words": body.get("words") or [],
        "response_format": response_format,
    })


# ----------------------------------------------------------------------------- services


def _transcribe(request: TranscriptionRequest) -> Plan[Transcription]:
    """One transcription as a plan (see :mod:`b3n._plans`)."""
    response = yield from http(
        "POST", TRANSCRIPTIONS_PATH, files={"file": request.file}, data=request.form, model=request.form["model"]
    )
    return parse_transcription(response, request.response_format)


class TranscriptionMethods:
    """The transcription method of ``client.audio`` (blocking)."""

    _transport: SyncTransport

    @arguments_of(build_transcription_request)
    def transcribe(self, request: TranscriptionRequest) -> Transcription:
        """Transcribe an audio file (path, bytes or binary file object; at most 25 MB).

        Args:
            file: the audio: a path, bytes or a binary file object (flac, m4a, mp3, mp4, mpeg, mpga, oga, ogg,
                wav or webm).
            filename: the name sent with bytes or a file object (its extension tells the format).
            model: ``"whisper-1"`` or another transcription model.
            language: the spoken language as an ISO-639-1 code, e.g. ``"en"``.
            prompt: text that guides the style or continues a previous segment.
            temperature: sampling temperature, 0 to 1.
            response_format: one of :data:`TranscriptionFormat`.
            timestamp_granularities: ``"segment"`` and / or ``"word"`` (with ``verbose_json``).
            extra: form fields the relay passes through.

        Returns:
            The text, and the language, duration, segments and words where the format carries them.

        Raises:
            B3nInvalidRequestError: the options or the audio are refused before sending (a missing file, over
                25 MB, an unknown format).
            B3nAPIStatusError: the relay refused it.
        """
        return run(_transcribe(request), self._transport)


class AsyncTranscriptionMethods:
    """The transcription method of ``client.audio`` on ``AsyncB3nClient``."""

    _transport: AsyncTransport

    @arguments_of(build_transcription_request)
    async def transcribe(self, request: TranscriptionRequest) -> Transcription:
        """asyncio twin of :meth:`TranscriptionMethods.transcribe`."""
        return await arun(_transcribe(request), self._transport)


__all__ = [
    "TRANSCRIPTION_FORMATS",
    "TRANSCRIPTION_MAX_BYTES",
    "AsyncTranscriptionMethods",
    "AudioInput",
    "TimestampGranularity",
    "Transcription",
    "TranscriptionFormat",
    "TranscriptionMethods",
    "TranscriptionRequest",
    "TranscriptionSegment",
    "TranscriptionWord",
    "build_transcription_form",
    "build_transcription_request",
    "check_transcription_options",
    "parse_transcription",
    "read_audio",
    "subtitles_to_text",
]
