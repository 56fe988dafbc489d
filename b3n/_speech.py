"""Text to speech (tts-1 / tts-1-hd): the speech methods of ``client.audio``.

Speech is billed per character: a failed call is repeated only when the relay cannot have started
it (see ``b3n._retry`` and ``retry_billed``). Streams are retried until their first audio byte only.

Example (offline, against the bundled emulator):
    >>> from b3n import B3nClient
    >>> from b3n.testing import Emulator
    >>> with Emulator() as emu:
    ...     client = B3nClient(api_key="sk-test", base_url=emu.base_url)
    ...     audio = client.audio.speech("Hello there.", response_format="wav")
    ...     streamed = b"".join(client.audio.iter_speech("Hello there.", response_format="wav"))
    >>> audio[:4], streamed == audio
    (b'RIFF', True)
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, get_args

from b3n._errors import (
    B3nError,
    B3nInvalidRequestError,
    B3nResponseError,
    B3nStreamInterruptedError,
    B3nStreamTimeoutError,
)
from b3n._lazy import httpx
from b3n._media_common import merge_extra, part_file, require_model_kind, require_one_of
from b3n._transport import AsyncTransport, SyncTransport

Voice = Literal["alloy", "echo", "fable", "onyx", "nova", "shimmer", "ash", "coral", "sage"]
SpeechFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]

VOICES: tuple[str, ...] = get_args(Voice)
SPEECH_FORMATS: tuple[str, ...] = get_args(SpeechFormat)
SPEECH_MAX_CHARS = 4096
SPEECH_SPEED_RANGE = (0.25, 4.0)
SPEECH_PATH = "/audio/speech"
_WHAT = "the speech request"


def build_speech_request(
    input: str,
    *,
    model: str = "tts-1",
    voice: Voice = "alloy",
    response_format: SpeechFormat | None = None,
    speed: float | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Validate a text-to-speech call and return the JSON payload.

    Example:
        >>> build_speech_request("Hi", voice="nova", speed=1.5)
        {'model': 'tts-1', 'input': 'Hi', 'voice': 'nova', 'speed': 1.5}
        >>> build_speech_request("")
        Traceback (most recent call last):
        ...
        b3n._errors.B3nInvalidRequestError: The text to speak is empty; pass at least one non-space character.
    """
    if not isinstance(input, str):
        raise B3nInvalidRequestError(f"The text to speak must be a str, got {type(input).__name__}.")
    if not input.strip():
        raise B3nInvalidRequestError("The text to speak is empty; pass at least one non-space character.")
    if len(input) > SPEECH_MAX_CHARS:
        raise B3nInvalidRequestError(
            f"The text to speak is {len(input)} characters; text-to-speech accepts at most {SPEECH_MAX_CHARS}. "
            "Split it into several calls."
        )
    require_model_kind(model, "tts", "text to speech", "'tts-1' or 'tts-1-hd'")
    payload: dict[str, Any] = {"model": model, "input": input, "voice": require_one_of("voice", voice, VOICES)}
    if response_format is not None:
        payload["response_format"] = require_one_of("response_format", response_format, SPEECH_FORMATS)
    if speed is not None:
        low, high = SPEECH_SPEED_RANGE
        if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not low <= speed <= high:
            raise B3nInvalidRequestError(
                f"speed={speed!r} is out of range; use a number from {low} to {high} (1.0 is normal)."
            )
        payload["speed"] = speed
    return merge_extra(payload, extra)


def _check_audio_response(response: httpx.Response) -> None:
    ctype = response.headers.get("content-type", "")
    if ctype.startswith("application/json") or ctype.startswith("text/html"):
        body = response.read()
        raise B3nResponseError(
            f"B3n answered the speech request with {ctype} instead of audio: {body[:200]!r}. Try again."
        )


def _speech_target(path: str | os.PathLike[str], fmt: str) -> Path:
    target = Path(path).expanduser()
    if target.is_dir():
        target = target / f"b3n-speech-{uuid.uuid4().hex[:12]}.{fmt}"
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def _interrupted_cls(exc: Exception) -> type[B3nStreamInterruptedError]:
    return B3nStreamTimeoutError if isinstance(exc, httpx.TimeoutException) else B3nStreamInterruptedError


def _audio_cut(exc: Exception, error: B3nError, *, target: Path) -> B3nStreamInterruptedError:
    what = "went silent" if isinstance(exc, httpx.TimeoutException) else f"broke off ({type(exc).__name__})"
    return _interrupted_cls(exc)(
        f"The speech audio for {target.name} {what} before it was complete; the partial file was removed. "
        "Not retried (the request may have been billed); call it again."
    )


def _audio_stream_cut(exc: Exception, error: B3nError) -> B3nStreamInterruptedError:
    what = "went silent" if isinstance(exc, httpx.TimeoutException) else f"broke off ({type(exc).__name__})"
    return _interrupted_cls(exc)(
        f"The speech audio stream {what} after it started; the chunks already yielded are incomplete. "
        "Not retried (that could duplicate audio); call it again."
    )


def _speech_format(payload: Mapping[str, Any]) -> str:
    return str(payload.get("response_format") or "mp3")


class SpeechMethods:
    """The text-to-speech methods of ``client.audio`` (blocking)."""

    _transport: SyncTransport

    def speech(
        self,
        input: str,
        *,
        model: str = "tts-1",
        voice: Voice = "alloy",
        response_format: SpeechFormat | None = None,
        speed: float | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> bytes:
        """Speak ``input``; return the audio bytes (checked as :func:`build_speech_request` does)."""
        payload = build_speech_request(
            input, model=model, voice=voice, response_format=response_format, speed=speed, extra=extra
        )
        response = self._transport.request(
            "POST", SPEECH_PATH, json_body=payload, model=payload["model"], billed=True
        )
        _check_audio_response(response)
        return response.content

    def iter_speech(
        self,
        input: str,
        *,
        model: str = "tts-1",
        voice: Voice = "alloy",
        response_format: SpeechFormat | None = None,
        speed: float | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Iterator[bytes]:
        """Yield the speech audio in chunks as it arrives."""
        payload = build_speech_request(
            input, model=model, voice=voice, response_format=response_format, speed=speed, extra=extra
        )
        return self._transport.iter_bytes(
            "POST", SPEECH_PATH, json_body=payload, model=payload["model"], billed=True, what=_WHAT,
            interrupted=_audio_stream_cut,
        )

    def speech_to_file(
        self,
        path: str | os.PathLike[str],
        input: str,
        *,
        model: str = "tts-1",
        voice: Voice = "alloy",
        response_format: SpeechFormat | None = None,
        speed: float | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Path:
        """Stream the speech for ``input`` into ``path`` (a file, or a directory to pick a name in)."""
        payload = build_speech_request(
            input, model=model, voice=voice, response_format=response_format, speed=speed, extra=extra
        )
        target = _speech_target(path, _speech_format(payload))
        part = part_file(target)
        try:
            with part.open("wb") as out:
                for chunk in self._transport.iter_bytes(
                    "POST", SPEECH_PATH, json_body=payload, model=payload["model"], billed=True, what=_WHAT,
                    interrupted=functools.partial(_audio_cut, target=target),
                ):
                    out.write(chunk)
            os.replace(part, target)
        finally:
            if part.exists():
                part.unlink()
        return target


class AsyncSpeechMethods:
    """The text-to-speech methods of ``client.audio`` on ``AsyncB3nClient``."""

    _transport: AsyncTransport

    async def speech(
        self,
        input: str,
        *,
        model: str = "tts-1",
        voice: Voice = "alloy",
        response_format: SpeechFormat | None = None,
        speed: float | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> bytes:
        """Speak ``input``; return the audio bytes."""
        payload = build_speech_request(
            input, model=model, voice=voice, response_format=response_format, speed=speed, extra=extra
        )
        response = await self._transport.request(
            "POST", SPEECH_PATH, json_body=payload, model=payload["model"], billed=True
        )
        _check_audio_response(response)
        return response.content

    def iter_speech(
        self,
        input: str,
        *,
        model: str = "tts-1",
        voice: Voice = "alloy",
        response_format: SpeechFormat | None = None,
        speed: float | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[bytes]:
        """Yield the speech audio in chunks as it arrives."""
        payload = build_speech_request(
            input, model=model, voice=voice, response_format=response_format, speed=speed, extra=extra
        )
        return self._transport.iter_bytes(
            "POST", SPEECH_PATH, json_body=payload, model=payload["model"], billed=True, what=_WHAT,
            interrupted=_audio_stream_cut,
        )

    async def speech_to_file(
        self,
        path: str | os.PathLike[str],
        input: str,
        *,
        model: str = "tts-1",
        voice: Voice = "alloy",
        response_format: SpeechFormat | None = None,
        speed: float | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Path:
        """Stream the speech for ``input`` into ``path`` (a file, or a directory to pick a name in)."""
        payload = build_speech_request(
            input, model=model, voice=voice, response_format=response_format, speed=speed, extra=extra
        )
        target = _speech_target(path, _speech_format(payload))
        part = part_file(target)
        try:
            with part.open("wb") as out:
                async for chunk in self._transport.iter_bytes(
                    "POST", SPEECH_PATH, json_body=payload, model=payload["model"], billed=True, what=_WHAT,
                    interrupted=functools.partial(_audio_cut, target=target),
                ):
                    out.write(chunk)
            os.replace(part, target)
        finally:
            if part.exists():
                part.unlink()
        return target


__all__ = [
    "SPEECH_FORMATS",
    "SPEECH_MAX_CHARS",
    "VOICES",
    "AsyncSpeechMethods",
    "SpeechFormat",
    "SpeechMethods",
    "Voice",
    "build_speech_request",
]
