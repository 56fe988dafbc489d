"""/v1/audio/speech and /v1/audio/transcriptions.

Speech output carries the input text recoverably, so a transcription of it gives the text back:
WAV files get an extra RIFF chunk ``b3nT`` holding the UTF-8 text; the other formats get a
format-plausible header followed by ``B3NTEXT:`` + base64 text.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import struct
from typing import Any

from .catalog import check_model
from .errors import ApiError, invalid
from .multipart import Part
from .textutil import sentences

VOICES = frozenset({"alloy", "echo", "fable", "onyx", "nova", "shimmer", "ash", "coral", "sage"})
CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}
SAMPLE_RATE = 24_000
MAX_INPUT_CHARS = 4096
MAX_FILE_BYTES = 25 * 1024 * 1024
TRANSCRIPTION_FORMATS = ("json", "text", "srt", "vtt", "verbose_json")
ACCEPTED_EXTENSIONS = ("flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm")
MARKER = b"B3NTEXT:"
_MARKER_RE = re.compile(re.escape(MARKER) + rb"([A-Za-z0-9+/=]*)")
_SECONDS_PER_WORD = 0.4
_MAX_SECONDS = 10.0
_LANGUAGES = {
    "en": "english",
    "zh": "chinese",
    "ja": "japanese",
    "ko": "korean",
    "fr": "french",
    "de": "german",
    "es": "spanish",
    "it": "italian",
    "pt": "portuguese",
    "ru": "russian",
}


def spoken_duration(text: str, speed: float = 1.0) -> float:
    """Seconds the emulated voice takes to say ``text``."""
    seconds = max(0.5, len(text.split()) * _SECONDS_PER_WORD) / speed
    return round(min(_MAX_SECONDS, max(0.25, seconds)), 3)


def _riff_chunk(kind: bytes, data: bytes) -> bytes:
    pad = b"\x00" if len(data) % 2 else b""
    return kind + struct.pack("<I", len(data)) + data + pad


def wav_bytes(text: str, seconds: float) -> bytes:
    """A valid 16-bit mono PCM WAV of silence with a ``b3nT`` chunk holding ``text``."""
    samples = int(SAMPLE_RATE * seconds)
    fmt = struct.pack("<HHIIHH", 1, 1, SAMPLE_RATE, SAMPLE_RATE * 2, 2, 16)
    body = b"WAVE" + _riff_chunk(b"fmt ", fmt) + _riff_chunk(b"b3nT", text.encode("utf-8"))
    body += _riff_chunk(b"data", b"\x00\x00" * samples)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _syncsafe(n: int) -> bytes:
    return bytes(((n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F))


def _marker(text: str) -> bytes:
    return MARKER + base64.b64encode(text.encode("utf-8")) + b"\n"


def encoded_audio(fmt: str, text: str, seconds: float) -> bytes:
    """Audio bytes in ``fmt`` for ``text`` (silence, with the text embedded)."""
    if fmt == "wav":
        return wav_bytes(text, seconds)
    marker = _marker(text)
    filler = b"\x00" * int(2000 * seconds)  # ~16 kbit/s of 'audio'
    if fmt == "mp3":
        frame_body = b"\x03b3n\x00" + marker
        frame = b"TXXX" + _syncsafe(len(frame_body)) + b"\x00\x00" + frame_body
        tag = b"ID3\x04\x00\x00" + _syncsafe(len(frame)) + frame
        silent_frame = b"\xff\xfb\x90\x64" + b"\x00" * 413
        return tag + silent_frame * max(1, int(seconds * 38))
    if fmt == "opus":
        head = b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x13OpusHead\x01\x01\x38\x01" + struct.pack("<I", 48000)
        return head + b"\x00\x00\x00" + marker + filler
    if fmt == "aac":
        return b"\xff\xf1\x50\x80\x02\x1f\xfc" + marker + filler
    if fmt == "flac":
        info = struct.pack(">HH", 4096, 4096) + b"\x00" * 6 + b"\x05\xdc\x00\xf0" + b"\x00" * 24
        return b"fLaC\x80" + struct.pack(">I", len(info))[1:] + info + marker + filler
    # pcm: raw 16-bit little-endian samples, the marker after a short lead-in of silence
    return b"\x00\x00" * 240 + marker + b"\x00\x00" * int(SAMPLE_RATE * seconds)


def speech(body: Any) -> tuple[bytes, str]:
    """Validate a speech request; return (audio bytes, content type)."""
    if not isinstance(body, dict):
        raise invalid("Invalid request body: expected a JSON object.")
    check_model(body.get("model"), "speech")
    text = body.get("input")
    if not isinstance(text, str) or not text:
        raise invalid("Missing required parameter: 'input'.", param="input")
    if len(text) > MAX_INPUT_CHARS:
        raise invalid(
            f"Invalid 'input': string too long. Expected a string with maximum length {MAX_INPUT_CHARS}, "
            f"but got a string with length {len(text)} instead.",
            param="input",
        )
    voice = body.get("voice")
    if voice not in VOICES:
        raise invalid(
            f"Invalid value: '{voice}'. Supported values are: {', '.join(repr(v) for v in sorted(VOICES))}.",
            param="voice",
        )
    fmt = body.get("response_format") or "mp3"
    if fmt not in CONTENT_TYPES:
        raise invalid(
            f"Invalid value: '{fmt}'. Supported values are: 'mp3', 'opus', 'aac', 'flac', 'wav', and 'pcm'.",
            param="response_format",
        )
    speed = body.get("speed", 1.0)
    if speed is None:
        speed = 1.0
    if not isinstance(speed, (int, float)) or isinstance(speed, bool) or not 0.25 <= speed <= 4.0:
        raise invalid(f"Invalid 'speed': expected a number between 0.25 and 4.0, got {speed!r}.", param="speed")
    return encoded_audio(fmt, text, spoken_duration(text, float(speed))), CONTENT_TYPES[fmt]


def recover(data: bytes) -> tuple[str | None, float | None]:
    """(embedded text, duration in seconds) from audio made by :func:`encoded_audio`."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        text: str | None = None
        duration: float | None = None
        rate = SAMPLE_RATE
        block = 2
        pos = 12
        while pos + 8 <= len(data):
            kind = data[pos : pos + 4]
            (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
            chunk = data[pos + 8 : pos + 8 + size]
            if kind == b"fmt " and len(chunk) >= 16:
                _, _, rate, _, block, _ = struct.unpack("<HHIIHH", chunk[:16])
            elif kind == b"b3nT":
                text = chunk.decode("utf-8", "replace")
            elif kind == b"data" and rate and block:
                duration = round(size / (rate * block), 3)
            pos += 8 + size + (size % 2)
        if text is not None:
            return text, duration
    m = _MARKER_RE.search(data)
    if m:
        try:
            return base64.b64decode(m.group(1), validate=True).decode("utf-8", "replace"), None
        except (binascii.Error, ValueError):
            return None, None
    return None, None


def _timestamp(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _segments(text: str, duration: float) -> list[dict[str, Any]]:
    pieces = sentences(text) or [text]
    total_words = sum(max(1, len(p.split())) for p in pieces)
    t = 0.0
    out: list[dict[str, Any]] = []
    for i, piece in enumerate(pieces):
        span = duration * max(1, len(piece.split())) / total_words
        out.append(
            {
                "id": i,
                "seek": 0,
                "start": round(t, 3),
                "end": round(t + span, 3),
                "text": " " + piece,
                "tokens": [],
                "temperature": 0.0,
                "avg_logprob": -0.2,
                "compression_ratio": 1.0,
                "no_speech_prob": 0.0,
            }
        )
        t += span
    return out


def _words(text: str, duration: float) -> list[dict[str, Any]]:
    tokens = text.split() or [text]
    step = duration / len(tokens)
    return [
        {"word": w.strip(".,!?;:"), "start": round(i * step, 3), "end": round((i + 1) * step, 3)}
        for i, w in enumerate(tokens)
    ]


def transcription(parts: list[Part]) -> tuple[bytes, str]:
    """Handle a parsed transcription form; return (body bytes, content type)."""
    fields: dict[str, str] = {}
    granularities: list[str] = []
    file_part: Part | None = None
    for part in parts:
        if part.name == "file":
            file_part = part
        elif part.name in ("timestamp_granularities[]", "timestamp_granularities"):
            granularities.append(part.text())
        else:
            fields[part.name] = part.text()
    check_model(fields.get("model"), "transcriptions")
    if file_part is None:
        raise invalid("Missing required parameter: 'file'.", param="file")
    if len(file_part.data) > MAX_FILE_BYTES:
        raise ApiError(
            413,
            f"Maximum content size limit ({MAX_FILE_BYTES}) exceeded ({len(file_part.data)} bytes read)",
            type="server_error",
            code="content_too_large",
        )
    filename = file_part.filename or "audio"
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext and ext not in ACCEPTED_EXTENSIONS:
        raise invalid(f"Invalid file format. Supported formats: {json.dumps(list(ACCEPTED_EXTENSIONS))}", param="file")
    fmt = fields.get("response_format") or "json"
    if fmt not in TRANSCRIPTION_FORMATS:
        raise invalid(
            f"Invalid value: '{fmt}'. Supported values are: 'json', 'text', 'srt', 'verbose_json', and 'vtt'.",
            param="response_format",
        )
    if "temperature" in fields:
        try:
            temperature = float(fields["temperature"])
        except ValueError:
            raise invalid("Invalid 'temperature': expected a number.", param="temperature") from None
        if not 0 <= temperature <= 1:
            raise invalid("Invalid 'temperature': expected a number between 0 and 1.", param="temperature")
    text, duration = recover(file_part.data)
    if text is None:
        text = f"(emulated transcription of {len(file_part.data)} bytes)"
    if duration is None:
        duration = spoken_duration(text)
    if fmt == "text":
        return (text + "\n").encode(), "text/plain; charset=utf-8"
    if fmt in ("srt", "vtt"):
        segs = _segments(text, duration)
        sep = "," if fmt == "srt" else "."
        lines: list[str] = ["WEBVTT", ""] if fmt == "vtt" else []
        for seg in segs:
            if fmt == "srt":
                lines.append(str(seg["id"] + 1))
            lines.append(f"{_timestamp(seg['start'], sep)} --> {_timestamp(seg['end'], sep)}")
            lines.append(seg["text"].strip())
            lines.append("")
        return ("\n".join(lines) + "\n").encode(), "text/plain; charset=utf-8"
    if fmt == "verbose_json":
        language = fields.get("language") or "en"
        out: dict[str, Any] = {
            "task": "transcribe",
            "language": _LANGUAGES.get(language, language),
            "duration": duration,
            "text": text,
        }
        if not granularities or "segment" in granularities:
            out["segments"] = _segments(text, duration)
        if "word" in granularities:
            out["words"] = _words(text, duration)
        return json.dumps(out, ensure_ascii=False).encode(), "application/json"
    return json.dumps({"text": text}, ensure_ascii=False).encode(), "application/json"
