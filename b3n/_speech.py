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

from b3n._body import CutHandler
from b3n._effects import OpenBytes, http
from b3n._errors import (
    B3nError,
    B3nInvalidRequestError,
    B3nResponseError,
    B3nStreamInterruptedError,
    B3nStreamTimeoutError,
    B3nTimeoutError,
)
from b3n._lazy import httpx
from b3n._media_common import make_private_dirs, merge_extra, require_model_kind, require_one_of, written_atomically
from b3n._plans import Plan, arun, run
from b3n._signatures import arguments_of, path_first
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
    make_private_dirs(target.parent)
    return target


def _interrupted_cls(exc: Exception) -> type[B3nStreamInterruptedError]:
    return B3nStreamTimeoutError if isinstance(exc, httpx.TimeoutException) else B3nStreamInterruptedError


def _audio_cut(exc: Exception, error: B3nError, *, target: Path) -> B3nStreamInterruptedError:
    if isinstance(exc, B3nError):  # our own limits: total_timeout, the size cap
        cls = B3nStreamTimeoutError if isinstance(exc, B3nTimeoutError) else B3nStreamInterruptedError
        return cls(f"The speech audio for {target.name} was stopped: {exc.message} The partial file was removed.")
    what = "went silent" if isinstance(exc, httpx.TimeoutException) else f"broke off ({type(exc).__name__})"
    return _interrupted_cls(exc)(
        f"The speech audio for {target.name} {what} before it was complete; the partial file was removed. "
        "Not retried (the request may have been billed); call it again."
    )


def _audio_stream_cut(exc: Exception, error: B3nError) -> B3nStreamInterruptedError:
    if isinstance(exc, B3nError):  # our own limits: total_timeout, the size cap
        cls = B3nStreamTimeoutError if isinstance(exc, B3nTimeoutError) else B3nStreamInterruptedError
        return cls(f"The speech audio stream was stopped: {exc.message} The chunks already yielded are incomplete.")
    what = "went silent" if isinstance(exc, httpx.TimeoutException) else f"broke off ({type(exc).__name__})"
    return _interrupted_cls(exc)(
        f"The speech audio stream {what} after it started; the chunks already yielded are incomplete. "
        "Not retried (that could duplicate audio); call it again."
    )


def _speech_format(payload: Mapping[str, Any]) -> str:
    return str(payload.get("response_format") or "mp3")


# ----------------------------------------------------------------------------- plans (see b3n._plans)


def _speak(payload: dict[str, Any]) -> Plan[bytes]:
    response = yield from http("POST", SPEECH_PATH, json_body=payload, model=payload["model"], billed=True)
    _check_audio_response(response)
    return bytes(response.content)


def _chunks(payload: dict[str, Any], interrupted: CutHandler) -> OpenBytes:
    """The audio in chunks as it arrives."""
    return OpenBytes("POST", SPEECH_PATH, json_body=payload, model=payload["model"], billed=True, what=_WHAT,
                     interrupted=interrupted)


def _speak_to_file(path: Path, payload: dict[str, Any]) -> Plan[Path]:
    target = _speech_target(path, _speech_format(payload))
    with written_atomically(target) as out:
        chunks = yield from _chunks(payload, functools.partial(_audio_cut, target=target))
        while (chunk := (yield from chunks.next())) is not None:
            out.write(chunk)
    return target


_speech_file_request = path_first(build_speech_request)


class SpeechMethods:
    """The text-to-speech methods of ``client.audio`` (blocking)."""

    _transport: SyncTransport

    @arguments_of(build_speech_request)
    def speech(self, payload: dict[str, Any]) -> bytes:
        """Speak ``input``; return the audio bytes.

        Args:
            input: the text to speak (at most 4,096 characters).
            model: ``"tts-1"``, ``"tts-1-hd"``, ``"gpt-4o-mini-tts"`` or another speech model.
            voice: one of :data:`Voice`.
            response_format: one of :data:`SpeechFormat` (the relay's default: mp3).
            speed: 0.25 to 4.0.
            extra: fields the relay passes through.

        Returns:
            The audio file's bytes.

        Raises:
            B3nInvalidRequestError: an argument is refused before sending (empty or too long text, unknown voice).
            B3nPossiblyBilledError: the call failed after the relay may have run it (not retried; check usage).
            B3nAPIStatusError: the relay refused it.
        """
        return run(_speak(payload), self._transport)

    @arguments_of(_speech_file_request)
    def speech_to_file(self, request: tuple[Path, dict[str, Any]]) -> Path:
        """Stream the speech for ``input`` into ``path`` (a file, or a directory to pick a name in)."""
        return run(_speak_to_file(*request), self._transport)

    @arguments_of(build_speech_request)
    def iter_speech(self, payload: dict[str, Any]) -> Iterator[bytes]:
        """Yield the speech audio in chunks as it arrives."""
        return _chunks(payload, _audio_stream_cut).open(self._transport)


class AsyncSpeechMethods:
    """The text-to-speech methods of ``client.audio`` on ``AsyncB3nClient`` (the blocking ones, awaitable)."""

    _transport: AsyncTransport

    @arguments_of(build_speech_request)
    async def speech(self, payload: dict[str, Any]) -> bytes:
        """asyncio twin of :meth:`SpeechMethods.speech`."""
        return await arun(_speak(payload), self._transport)

    @arguments_of(_speech_file_request)
    async def speech_to_file(self, request: tuple[Path, dict[str, Any]]) -> Path:
        """asyncio twin of :meth:`SpeechMethods.speech_to_file`."""
        return await arun(_speak_to_file(*request), self._transport)

    @arguments_of(build_speech_request)
    def iter_speech(self, payload: dict[str, Any]) -> AsyncIterator[bytes]:
        """asyncio twin of :meth:`SpeechMethods.iter_speech`: ``async for chunk in ...``."""
        return _chunks(payload, _audio_stream_cut).open(self._transport)


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
