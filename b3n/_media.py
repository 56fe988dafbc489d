"""Images (DALL-E 3), text to speech (tts-1 / tts-1-hd) and transcription (whisper-1).

Every limit the API enforces is checked here, before anything is sent, with a
``B3nInvalidRequestError`` that says what to change. Request building and response
parsing are plain functions shared by the blocking and asyncio services.

Example (offline, against the bundled emulator):
    >>> import tempfile, pathlib
    >>> from b3n import B3nClient
    >>> from b3n.testing import Emulator
    >>> with Emulator() as emu, tempfile.TemporaryDirectory() as tmp:
    ...     client = B3nClient(api_key="sk-test", base_url=emu.base_url)
    ...     audio = client.audio.speech("Hello from B3n")
    ...     client.audio.transcribe(audio).text.strip()
    'Hello from B3n'
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
import re
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Literal, get_args

import httpx
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from b3n._catalog import Kind, get_model_info
from b3n._errors import (
    B3nAPIStatusError,
    B3nError,
    B3nInvalidRequestError,
    B3nResponseError,
    B3nStreamInterruptedError,
    B3nStreamTimeoutError,
)
from b3n._transport import USER_AGENT, AsyncTransport, SyncTransport

# ----------------------------------------------------------------------------- limits and enums

ImageSize = Literal["1024x1024", "1792x1024", "1024x1792"]
ImageQuality = Literal["standard", "hd"]
ImageStyle = Literal["vivid", "natural"]
ImageResponseFormat = Literal["url", "b64_json"]
Voice = Literal["alloy", "echo", "fable", "onyx", "nova", "shimmer", "ash", "coral", "sage"]
SpeechFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]
TranscriptionFormat = Literal["json", "text", "srt", "verbose_json", "vtt"]
TimestampGranularity = Literal["word", "segment"]

#: sizes each known image model accepts (other image models: any ``WIDTHxHEIGHT``).
IMAGE_SIZES: dict[str, tuple[str, ...]] = {
    "dall-e-3": get_args(ImageSize),
    "dall-e-2": ("256x256", "512x512", "1024x1024"),
}
#: prompt length limits of the known image models, in characters.
IMAGE_PROMPT_LIMITS: dict[str, int] = {"dall-e-3": 4000, "dall-e-2": 1000}
#: how many images one call may ask for.
IMAGE_MAX_N: dict[str, int] = {"dall-e-3": 1, "dall-e-2": 10}
IMAGE_QUALITIES: tuple[str, ...] = get_args(ImageQuality)
IMAGE_STYLES: tuple[str, ...] = get_args(ImageStyle)
IMAGE_RESPONSE_FORMATS: tuple[str, ...] = get_args(ImageResponseFormat)
VOICES: tuple[str, ...] = get_args(Voice)
SPEECH_FORMATS: tuple[str, ...] = get_args(SpeechFormat)
SPEECH_MAX_CHARS = 4096
SPEECH_SPEED_RANGE = (0.25, 4.0)
TRANSCRIPTION_FORMATS: tuple[str, ...] = get_args(TranscriptionFormat)
TIMESTAMP_GRANULARITIES: tuple[str, ...] = get_args(TimestampGranularity)
#: the Whisper upload limit (25 MB).
TRANSCRIPTION_MAX_BYTES = 25 * 1024 * 1024
#: file types Whisper accepts (by extension).
TRANSCRIPTION_EXTENSIONS: tuple[str, ...] = (
    "flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm",
)

IMAGES_PATH = "/images/generations"
SPEECH_PATH = "/audio/speech"
TRANSCRIPTIONS_PATH = "/audio/transcriptions"

#: what ``transcribe`` accepts as audio: a path, raw bytes, or a binary file object.
AudioInput = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]

_SIZE_RE = re.compile(r"^\d{2,5}x\d{2,5}$")
_LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,3}$")


def _invalid(message: str) -> B3nInvalidRequestError:
    return B3nInvalidRequestError(message)


def _choice(name: str, value: object, allowed: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise _invalid(f"{name}={value!r} is not supported; use one of {', '.join(map(repr, allowed))}.")
    return value


def _check_model_kind(model: object, kind: Kind, what: str, examples: str) -> str:
    if not isinstance(model, str) or not model.strip():
        raise _invalid(f"model must be a non-empty model name for {what}, e.g. {examples}.")
    info = get_model_info(model)
    if info.known and info.kind != kind:
        raise _invalid(f"Model {model!r} cannot be used for {what} (it is a {info.kind} model); use {examples}.")
    return model


def _extra(payload: dict[str, Any], extra: Mapping[str, Any] | None) -> dict[str, Any]:
    if extra:
        clash = sorted(set(extra) & set(payload))
        if clash:
            raise _invalid(f"extra={{...}} repeats {clash}; pass those as named arguments instead.")
        payload.update(extra)
    return payload


# ----------------------------------------------------------------------------- images: types


def _sniff_image_extension(data: bytes) -> str:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    return "png"


def _write_file(path: Path, data: bytes) -> Path:
    """Write ``data`` next to ``path`` then rename, so a failure never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _image_target(path: str | os.PathLike[str], data: bytes) -> Path:
    target = Path(path).expanduser()
    if target.is_dir():
        target = target / f"b3n-image-{uuid.uuid4().hex[:12]}.{_sniff_image_extension(data)}"
    return target


def _download_error(url: str, status: int) -> B3nAPIStatusError:
    host = httpx.URL(url).host
    hint = (
        "The temporary image URL has expired (DALL-E links last about 2 hours) or was refused; "
        "generate the image again, or ask for response_format='b64_json' to get the bytes in the response."
    )
    return B3nAPIStatusError(f"Downloading the image from {host} failed with HTTP {status}. {hint}", status_code=status)


def _decode_data_url(url: str) -> bytes:
    header, _, payload = url.partition(",")
    if ";base64" not in header:
        raise _invalid("Only base64 data: URLs can be saved.")
    return _b64decode(payload, "data: URL")


def _b64decode(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise B3nResponseError(f"The image's {what} is not valid base64; generate the image again.") from None


def _check_download_url(url: str) -> None:
    if not url.startswith(("http://", "https://")):
        raise _invalid(f"Cannot download an image from {url[:40]!r}: only http(s) and data: URLs are supported.")


_DOWNLOAD_HEADERS = {"User-Agent": USER_AGENT, "Accept": "image/*,*/*;q=0.8"}


def download_image(url: str, *, client: httpx.Client | None = None, timeout: float | None = 60.0) -> bytes:
    """Fetch an image URL with a plain request: no B3n credentials go to the (foreign) image host."""
    if url.startswith("data:"):
        return _decode_data_url(url)
    _check_download_url(url)
    try:
        if client is None:
            with httpx.Client(follow_redirects=True) as own:
                response = own.get(url, headers=_DOWNLOAD_HEADERS, timeout=timeout)
        else:
            response = client.get(url, headers=_DOWNLOAD_HEADERS, timeout=timeout)
    except httpx.HTTPError as exc:
        raise SyncTransport.map_exception(exc, url) from None
    if response.status_code >= 400:
        raise _download_error(url, response.status_code)
    return response.content


async def adownload_image(
    url: str, *, client: httpx.AsyncClient | None = None, timeout: float | None = 60.0
) -> bytes:
    """asyncio twin of :func:`download_image`."""
    if url.startswith("data:"):
        return _decode_data_url(url)
    _check_download_url(url)
    try:
        if client is None:
            async with httpx.AsyncClient(follow_redirects=True) as own:
                response = await own.get(url, headers=_DOWNLOAD_HEADERS, timeout=timeout)
        else:
            response = await client.get(url, headers=_DOWNLOAD_HEADERS, timeout=timeout)
    except httpx.HTTPError as exc:
        raise AsyncTransport.map_exception(exc, url) from None
    if response.status_code >= 400:
        raise _download_error(url, response.status_code)
    return response.content


class GeneratedImage(BaseModel):
    """One generated image: a temporary ``url`` or the ``b64_json`` bytes, and the prompt actually used.

    Example:
        >>> img = GeneratedImage(b64_json="iVBORw0KGgo=")
        >>> img.data()[:4]
        b'\\x89PNG'
    """

    model_config = ConfigDict(extra="allow")

    url: str | None = None
    b64_json: str | None = Field(default=None, repr=False)
    revised_prompt: str | None = None
    _images: ImagesService | None = PrivateAttr(default=None)
    _aimages: AsyncImagesService | None = PrivateAttr(default=None)

    def data(self) -> bytes:
        """The image bytes: decoded from ``b64_json``, or downloaded from ``url`` (no credentials sent)."""
        if self.b64_json:
            return _b64decode(self.b64_json, "b64_json")
        if not self.url:
            raise B3nResponseError("This image has neither a url nor b64_json; generate it again.")
        if self._images is not None:
            return self._images.download(self.url)
        return download_image(self.url)

    async def adata(self) -> bytes:
        """asyncio twin of :meth:`data`."""
        if self.b64_json:
            return _b64decode(self.b64_json, "b64_json")
        if not self.url:
            raise B3nResponseError("This image has neither a url nor b64_json; generate it again.")
        if self._aimages is not None:
            return await self._aimages.download(self.url)
        return await adownload_image(self.url)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the image to ``path`` (a file, or an existing directory to pick a name in); return the Path."""
        data = self.data()
        return _write_file(_image_target(path, data), data)

    async def asave(self, path: str | os.PathLike[str]) -> Path:
        """asyncio twin of :meth:`save`."""
        data = await self.adata()
        return _write_file(_image_target(path, data), data)


class ImageResult(BaseModel):
    """The answer of ``images.generate``: ``images`` (usually one) and the ``created`` timestamp."""

    model_config = ConfigDict(extra="allow")

    images: list[GeneratedImage]
    created: int | None = None
    model: str | None = None


# ----------------------------------------------------------------------------- images: wire


def build_image_request(
    prompt: str,
    *,
    model: str = "dall-e-3",
    size: str | None = "1024x1024",
    quality: str | None = None,
    style: str | None = None,
    response_format: str | None = None,
    n: int = 1,
    user: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Validate the arguments of an image generation and return the JSON payload.

    Example:
        >>> build_image_request("a red fox", quality="hd")
        {'model': 'dall-e-3', 'prompt': 'a red fox', 'n': 1, 'size': '1024x1024', 'quality': 'hd'}
        >>> build_image_request("a red fox", n=2)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        b3n._errors.B3nInvalidRequestError: dall-e-3 makes one image per call (n=1); got n=2. ...
    """
    _check_model_kind(model, "image", "image generation", "'dall-e-3'")
    if not isinstance(prompt, str) or not prompt.strip():
        raise _invalid("The image prompt is empty; describe the image to generate.")
    limit = IMAGE_PROMPT_LIMITS.get(model)
    if limit is not None and len(prompt) > limit:
        raise _invalid(f"The prompt is {len(prompt)} characters; {model} accepts at most {limit}. Shorten it.")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise _invalid(f"n must be a positive integer, got {n!r}.")
    max_n = IMAGE_MAX_N.get(model, 10)
    if n > max_n:
        if max_n == 1:
            raise _invalid(f"{model} makes one image per call (n=1); got n={n}. Call it several times instead.")
        raise _invalid(f"{model} makes at most {max_n} images per call; got n={n}.")
    payload: dict[str, Any] = {"model": model, "prompt": prompt, "n": n}
    if size is not None:
        allowed = IMAGE_SIZES.get(model)
        if allowed is not None:
            _choice("size", size, allowed)
        elif not isinstance(size, str) or not _SIZE_RE.match(size):
            raise _invalid(f"size={size!r} must look like '1024x1024' (WIDTHxHEIGHT).")
        payload["size"] = size
    if quality is not None:
        payload["quality"] = _choice("quality", quality, IMAGE_QUALITIES) if model == "dall-e-3" else quality
    if style is not None:
        if model == "dall-e-2":
            raise _invalid(f"style is only supported by dall-e-3, not {model}.")
        payload["style"] = _choice("style", style, IMAGE_STYLES) if model == "dall-e-3" else style
    if response_format is not None:
        payload["response_format"] = _choice("response_format", response_format, IMAGE_RESPONSE_FORMATS)
    if user is not None:
        payload["user"] = user
    return _extra(payload, extra)


def _json_body(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise B3nResponseError(
            f"B3n answered 200 to {what} with a body that is not JSON "
            f"({response.headers.get('content-type', '?')}): {response.text[:200]!r}. Not retried (the call may "
            "have been billed); try again."
        ) from None


def parse_image_result(body: Any, model: str | None = None) -> ImageResult:
    """Parse an ``/images/generations`` body; an answer without images raises ``B3nResponseError``."""
    items = body.get("data") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise B3nResponseError(f"B3n answered the image request without images: {str(body)[:200]!r}. Try again.")
    images = [GeneratedImage.model_validate(item) for item in items]
    if not any(img.url or img.b64_json for img in images):
        raise B3nResponseError("B3n answered the image request with neither url nor b64_json. Try again.")
    created = body.get("created")
    return ImageResult(images=images, created=created if isinstance(created, int) else None, model=model)


# ----------------------------------------------------------------------------- images: services


class ImagesService:
    """``client.images``: DALL-E 3 image generation (blocking).

    Example:
        >>> from b3n import B3nClient
        >>> from b3n.testing import Emulator
        >>> with Emulator() as emu:
        ...     result = B3nClient(api_key="sk-test", base_url=emu.base_url).images.generate("a white cat")
        >>> len(result.images), result.images[0].url.endswith(".png")
        (1, True)
    """

    def __init__(self, transport: SyncTransport) -> None:
        self._transport = transport

    def generate(self, prompt: str, **params: Any) -> ImageResult:
        """Generate an image; ``params`` are those of :func:`build_image_request`.

        Example:
            >>> from b3n import B3nClient
            >>> from b3n.testing import Emulator
            >>> with Emulator() as emu:
            ...     result = B3nClient(api_key="sk-test", base_url=emu.base_url).images.generate("a red fox")
            ...     len(result.images), result.images[0].url is not None
            (1, True)
        """
        payload = build_image_request(prompt, **params)
        response = self._transport.request("POST", IMAGES_PATH, json_body=payload, model=payload["model"])
        result = parse_image_result(_json_body(response, "the image request"), payload["model"])
        for image in result.images:
            image._images = self
        return result

    def download(self, url: str) -> bytes:
        """Download an image URL through the shared pool, without B3n credentials."""
        return download_image(url, client=self._transport.client, timeout=self._transport.config.timeout)

    def save(self, image: GeneratedImage, path: str | os.PathLike[str]) -> Path:
        """Write ``image`` to ``path`` (downloading its URL or decoding its base64); return the Path."""
        data = _b64decode(image.b64_json, "b64_json") if image.b64_json else self._url_data(image)
        return _write_file(_image_target(path, data), data)

    def _url_data(self, image: GeneratedImage) -> bytes:
        if not image.url:
            raise B3nResponseError("This image has neither a url nor b64_json; generate it again.")
        return self.download(image.url)


class AsyncImagesService:
    """``client.images`` on ``AsyncB3nClient``.

    Example:
        >>> import asyncio
        >>> from b3n import AsyncB3nClient
        >>> from b3n.testing import Emulator
        >>> with Emulator() as emu:
        ...     client = AsyncB3nClient(api_key="sk-test", base_url=emu.base_url)
        ...     result = asyncio.run(client.images.generate("a cat", response_format="b64_json"))
        >>> result.images[0].b64_json is not None
        True
    """

    def __init__(self, transport: AsyncTransport) -> None:
        self._transport = transport

    async def generate(self, prompt: str, **params: Any) -> ImageResult:
        """Generate an image; ``params`` are those of :func:`build_image_request`."""
        payload = build_image_request(prompt, **params)
        response = await self._transport.request("POST", IMAGES_PATH, json_body=payload, model=payload["model"])
        result = parse_image_result(_json_body(response, "the image request"), payload["model"])
        for image in result.images:
            image._aimages = self
        return result

    async def download(self, url: str) -> bytes:
        """Download an image URL through the shared pool, without B3n credentials."""
        return await adownload_image(url, client=self._transport.client, timeout=self._transport.config.timeout)

    async def save(self, image: GeneratedImage, path: str | os.PathLike[str]) -> Path:
        """Write ``image`` to ``path``; return the Path."""
        if image.b64_json:
            data = _b64decode(image.b64_json, "b64_json")
        elif image.url:
            data = await self.download(image.url)
        else:
            raise B3nResponseError("This image has neither a url nor b64_json; generate it again.")
        return _write_file(_image_target(path, data), data)


# ----------------------------------------------------------------------------- speech


def build_speech_request(
    input: str,
    *,
    model: str = "tts-1",
    voice: str = "alloy",
    response_format: str | None = None,
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
        raise _invalid(f"The text to speak must be a str, got {type(input).__name__}.")
    if not input.strip():
        raise _invalid("The text to speak is empty; pass at least one non-space character.")
    if len(input) > SPEECH_MAX_CHARS:
        raise _invalid(
            f"The text to speak is {len(input)} characters; text-to-speech accepts at most {SPEECH_MAX_CHARS}. "
            "Split it into several calls."
        )
    _check_model_kind(model, "tts", "text to speech", "'tts-1' or 'tts-1-hd'")
    payload: dict[str, Any] = {"model": model, "input": input, "voice": _choice("voice", voice, VOICES)}
    if response_format is not None:
        payload["response_format"] = _choice("response_format", response_format, SPEECH_FORMATS)
    if speed is not None:
        low, high = SPEECH_SPEED_RANGE
        if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not low <= speed <= high:
            raise _invalid(f"speed={speed!r} is out of range; use a number from {low} to {high} (1.0 is normal).")
        payload["speed"] = speed
    return _extra(payload, extra)


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


def _part_file(target: Path) -> Path:
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")


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


# ----------------------------------------------------------------------------- transcription: types


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


# ----------------------------------------------------------------------------- transcription: wire

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
    return _invalid(
        f"The audio is {size / 1_048_576:.1f} MB; transcription accepts at most 25 MB. "
        "Split it or compress it (for example to mono 16 kHz mp3) first."
    )


def _check_extension(name: str) -> None:
    ext = Path(name).suffix.lower().lstrip(".")
    if ext and ext not in TRANSCRIPTION_EXTENSIONS:
        raise _invalid(
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
            raise _invalid(f"Audio file {str(path)!r} does not exist (or is not a file).")
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
        raise _invalid(
            f"Cannot transcribe a {type(file).__name__}; pass a file path, bytes, or a file opened with 'rb'."
        )
    if len(data) > TRANSCRIPTION_MAX_BYTES:
        raise _too_big(len(data))
    if not data:
        raise _invalid("The audio is empty (0 bytes); nothing to transcribe.")
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
        raise _invalid("The audio file was opened in text mode; open it with open(path, 'rb').")
    if not isinstance(data, (bytes, bytearray)):
        raise _invalid(f"The audio file object returned {type(data).__name__} from read(); expected bytes.")
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


def build_transcription_form(
    *,
    model: str = "whisper-1",
    language: str | None = None,
    prompt: str | None = None,
    temperature: float | None = None,
    response_format: str = "json",
    timestamp_granularities: Iterable[str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Validate the non-file fields of a transcription and return the multipart form fields.

    Example:
        >>> build_transcription_form(response_format="verbose_json", timestamp_granularities=["word"])
        {'model': 'whisper-1', 'response_format': 'verbose_json', 'timestamp_granularities[]': ['word']}
    """
    _check_model_kind(model, "stt", "transcription", "'whisper-1'")
    form: dict[str, Any] = {"model": model, "response_format": _choice(
        "response_format", response_format, TRANSCRIPTION_FORMATS)}
    if language is not None:
        if not isinstance(language, str) or not _LANGUAGE_RE.match(language):
            raise _invalid(f"language={language!r} must be an ISO-639-1 code such as 'en', 'zh' or 'fr'.")
        form["language"] = language.lower()
    if prompt is not None:
        if not isinstance(prompt, str):
            raise _invalid(f"prompt must be a str, got {type(prompt).__name__}.")
        form["prompt"] = prompt
    if temperature is not None:
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not 0 <= temperature <= 1:
            raise _invalid(f"temperature={temperature!r} must be a number from 0 to 1 for transcription.")
        form["temperature"] = str(temperature)
    if timestamp_granularities is not None:
        grains = [timestamp_granularities] if isinstance(timestamp_granularities, str) else list(
            timestamp_granularities)
        for grain in grains:
            _choice("timestamp_granularities item", grain, TIMESTAMP_GRANULARITIES)
        if grains and response_format != "verbose_json":
            raise _invalid("timestamp_granularities needs response_format='verbose_json'.")
        if grains:
            form["timestamp_granularities[]"] = grains
    if extra:
        clash = sorted(set(extra) & set(form))
        if clash:
            raise _invalid(f"extra={{...}} repeats {clash}; pass those as named arguments instead.")
        form.update({k: v if isinstance(v, (str, list)) else str(v) for k, v in extra.items()})
    return form


def parse_transcription(response: httpx.Response, response_format: str) -> Transcription:
    """Parse a transcription response in any of the five formats."""
    if response_format in ("text", "srt", "vtt"):
        raw = response.text
        if response.headers.get("content-type", "").startswith("application/json"):
            body = _json_body(response, "the transcription")
            if isinstance(body, dict) and isinstance(body.get("text"), str):
                raw = body["text"]
        text = raw.strip() if response_format == "text" else subtitles_to_text(raw)
        return Transcription(text=text, raw=raw, response_format=response_format)
    body = _json_body(response, "the transcription")
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


# ----------------------------------------------------------------------------- audio: services


def _transcription_args(
    file: AudioInput, filename: str | None, params: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], str]:
    form = build_transcription_form(**params)
    name, data, ctype = read_audio(file, filename)
    return form, {"file": (name, data, ctype)}, str(form["response_format"])


class AudioService:
    """``client.audio``: text to speech and transcription (blocking).

    Example:
        >>> from b3n import B3nClient
        >>> from b3n.testing import Emulator
        >>> with Emulator() as emu:
        ...     client = B3nClient(api_key="sk-test", base_url=emu.base_url)
        ...     audio = client.audio.speech("Hello there.", response_format="wav")
        ...     text = client.audio.transcribe(audio).text
        >>> audio[:4], text
        (b'RIFF', 'Hello there.')
    """

    def __init__(self, transport: SyncTransport) -> None:
        self._transport = transport

    def speech(self, input: str, **params: Any) -> bytes:
        """Speak ``input``; return the audio bytes. ``params`` are those of :func:`build_speech_request`."""
        payload = build_speech_request(input, **params)
        response = self._transport.request("POST", SPEECH_PATH, json_body=payload, model=payload["model"])
        _check_audio_response(response)
        return response.content

    def iter_speech(self, input: str, **params: Any) -> Iterator[bytes]:
        """Yield the speech audio in chunks as it arrives."""
        payload = build_speech_request(input, **params)
        return self._transport.iter_bytes(
            "POST", SPEECH_PATH, json_body=payload, model=payload["model"], what="the speech request",
            interrupted=_audio_stream_cut,
        )

    def speech_to_file(self, path: str | os.PathLike[str], input: str, **params: Any) -> Path:
        """Stream the speech for ``input`` into ``path`` (a file, or a directory to pick a name in)."""
        payload = build_speech_request(input, **params)
        target = _speech_target(path, _speech_format(payload))
        part = _part_file(target)
        try:
            with part.open("wb") as out:
                for chunk in self._transport.iter_bytes(
                    "POST", SPEECH_PATH, json_body=payload, model=payload["model"], what="the speech request",
                    interrupted=functools.partial(_audio_cut, target=target),
                ):
                    out.write(chunk)
            os.replace(part, target)
        finally:
            if part.exists():
                part.unlink()
        return target

    def transcribe(self, file: AudioInput, *, filename: str | None = None, **params: Any) -> Transcription:
        """Transcribe an audio file (path, bytes or binary file object; at most 25 MB).

        ``params`` are those of :func:`build_transcription_form`.
        """
        form, files, fmt = _transcription_args(file, filename, params)
        response = self._transport.request(
            "POST", TRANSCRIPTIONS_PATH, files=files, data=form, model=str(form["model"])
        )
        return parse_transcription(response, fmt)


class AsyncAudioService:
    """``client.audio`` on ``AsyncB3nClient``.

    Example:
        >>> import asyncio
        >>> from b3n import AsyncB3nClient
        >>> from b3n.testing import Emulator
        >>> with Emulator() as emu:
        ...     client = AsyncB3nClient(api_key="sk-test", base_url=emu.base_url)
        ...     audio = asyncio.run(client.audio.speech("Hi.", response_format="mp3"))
        >>> len(audio) > 0
        True
    """

    def __init__(self, transport: AsyncTransport) -> None:
        self._transport = transport

    async def speech(self, input: str, **params: Any) -> bytes:
        """Speak ``input``; return the audio bytes."""
        payload = build_speech_request(input, **params)
        response = await self._transport.request("POST", SPEECH_PATH, json_body=payload, model=payload["model"])
        _check_audio_response(response)
        return response.content

    def iter_speech(self, input: str, **params: Any) -> AsyncIterator[bytes]:
        """Yield the speech audio in chunks as it arrives."""
        payload = build_speech_request(input, **params)
        return self._transport.iter_bytes(
            "POST", SPEECH_PATH, json_body=payload, model=payload["model"], what="the speech request",
            interrupted=_audio_stream_cut,
        )

    async def speech_to_file(self, path: str | os.PathLike[str], input: str, **params: Any) -> Path:
        """Stream the speech for ``input`` into ``path`` (a file, or a directory to pick a name in)."""
        payload = build_speech_request(input, **params)
        target = _speech_target(path, _speech_format(payload))
        part = _part_file(target)
        try:
            with part.open("wb") as out:
                async for chunk in self._transport.iter_bytes(
                    "POST", SPEECH_PATH, json_body=payload, model=payload["model"], what="the speech request",
                    interrupted=functools.partial(_audio_cut, target=target),
                ):
                    out.write(chunk)
            os.replace(part, target)
        finally:
            if part.exists():
                part.unlink()
        return target

    async def transcribe(self, file: AudioInput, *, filename: str | None = None, **params: Any) -> Transcription:
        """Transcribe an audio file (path, bytes or binary file object; at most 25 MB)."""
        form, files, fmt = _transcription_args(file, filename, params)
        response = await self._transport.request(
            "POST", TRANSCRIPTIONS_PATH, files=files, data=form, model=str(form["model"])
        )
        return parse_transcription(response, fmt)


__all__ = [
    "IMAGE_SIZES",
    "SPEECH_FORMATS",
    "SPEECH_MAX_CHARS",
    "TRANSCRIPTION_FORMATS",
    "TRANSCRIPTION_MAX_BYTES",
    "VOICES",
    "AsyncAudioService",
    "AsyncImagesService",
    "AudioService",
    "GeneratedImage",
    "ImageResult",
    "ImagesService",
    "Transcription",
    "TranscriptionSegment",
    "TranscriptionWord",
    "adownload_image",
    "build_image_request",
    "build_speech_request",
    "build_transcription_form",
    "download_image",
    "parse_image_result",
    "parse_transcription",
    "read_audio",
    "subtitles_to_text",
]
