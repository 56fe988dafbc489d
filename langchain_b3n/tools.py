"""LangChain tools for B3n media: DALL-E 3 images, text to speech, and Whisper transcription.

Each tool is a ``BaseTool`` with a pydantic ``args_schema`` (what the model fills in)
and configuration fields (what you set). ``_run`` uses the blocking client and ``_arun``
real asyncio I/O; all validation and HTTP live in the core (``b3n._images``, ``b3n._speech``).

Example (offline, against the bundled emulator):
    >>> import tempfile
    >>> from b3n.testing import Emulator
    >>> with Emulator() as emu, tempfile.TemporaryDirectory() as tmp:
    ...     tts = B3nTextToSpeech(api_key="sk-test", base_url=emu.base_url, output_dir=tmp)
    ...     stt = B3nSpeechToText(api_key="sk-test", base_url=emu.base_url, root_dir=tmp)
    ...     stt.invoke({"file_path": tts.invoke({"text": "Hello there"})})
    'Hello there'
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.tools import BaseTool
from pydantic import BaseModel, ConfigDict, Field, field_validator

from b3n._errors import B3nError, B3nInvalidRequestError
from b3n._file_access import AllowedAudioFiles, normalize_extensions
from b3n._images import ImageQuality, ImageSize, ImageStyle
from b3n._media_common import default_output_dir, make_private_dirs
from b3n._speech import SPEECH_MAX_CHARS, SpeechFormat, Voice
from langchain_b3n._base import B3nSettings
from langchain_b3n.errors import B3nToolInputError, to_langchain_error


def _tool_error(exc: B3nError) -> B3nError:
    if isinstance(exc, B3nInvalidRequestError):
        err = B3nToolInputError(exc.message)
        err.__dict__.update(exc.__dict__)
        return err
    return to_langchain_error(exc)


class _B3nTool(B3nSettings, BaseTool):
    """Client configuration shared by the B3n media tools (the key never shows in repr or dumps)."""

    model_config = ConfigDict(arbitrary_types_allowed=True, protected_namespaces=(), defer_build=False)

    timeout: float | None = 120.0
    """Seconds for connecting, waiting for a response and each read (media calls are slow)."""

    def _b3n_error(self, exc: B3nError) -> Exception:
        return _tool_error(exc)


#: the speech files B3nTextToSpeech wrote in this process: B3nSpeechToText may read these too (one agent can speak
#: and transcribe), and nothing else outside its root_dir.
_SPOKEN: set[str] = set()
_SPOKEN_LOCK = threading.Lock()


def _remember_spoken(path: str | Path) -> str:
    with _SPOKEN_LOCK:
        _SPOKEN.add(os.path.realpath(path))
    return str(path)


def _output_dir(value: str | None) -> Path:
    if not value:
        return default_output_dir()  # private to the user (0700), the same folder for the whole process
    path = Path(value).expanduser()
    make_private_dirs(path)
    return path


# ----------------------------------------------------------------------------- images


class ImageGenerationInput(BaseModel):
    """Arguments the model fills in for :class:`B3nImageGeneration`."""

    prompt: str = Field(description="A detailed description of the image to create (at most 4000 characters).")
    size: ImageSize = Field(default="1024x1024", description="Square, wide (1792x1024) or tall (1024x1792).")
    quality: ImageQuality = Field(default="standard", description="'hd' for finer detail (slower, costs more).")
    style: ImageStyle = Field(default="vivid", description="'vivid' (dramatic) or 'natural' (realistic).")


class B3nImageGeneration(_B3nTool):
    """Generate an image with DALL-E 3 through B3n; returns its URL, or the saved file path with ``output_dir``.

    Example:
        >>> from b3n.testing import Emulator
        >>> with Emulator() as emu:
        ...     tool = B3nImageGeneration(api_key="sk-test", base_url=emu.base_url)
        ...     tool.invoke({"prompt": "a lighthouse at dusk"}).startswith("http")
        True
    """

    name: str = "b3n_image_generation"
    description: str = (
        "Create an image from a text description with DALL-E 3. Input: a detailed prompt. "
        "Returns the image URL (valid about 2 hours) or the path of the saved image file."
    )
    args_schema: type[BaseModel] = ImageGenerationInput
    model: str = "dall-e-3"
    output_dir: str | None = None
    """Save images here (as PNG) and return the path; None: return the temporary URL."""

    def _params(self, size: str, quality: str, style: str) -> dict[str, Any]:
        fmt = "b64_json" if self.output_dir else "url"
        return {"model": self.model, "size": size, "quality": quality, "style": style, "response_format": fmt}

    def _run(
        self,
        prompt: str,
        size: str = "1024x1024",
        quality: str = "standard",
        style: str = "vivid",
        run_manager: CallbackManagerForToolRun | None = None,
    ) -> str:
        try:
            image = self.client.images.generate(prompt, **self._params(size, quality, style)).images[0]
            if self.output_dir:
                return str(self.client.images.save(image, _output_dir(self.output_dir)))
            return image.url or ""
        except B3nError as exc:
            raise _tool_error(exc) from None

    async def _arun(
        self,
        prompt: str,
        size: str = "1024x1024",
        quality: str = "standard",
        style: str = "vivid",
        run_manager: AsyncCallbackManagerForToolRun | None = None,
    ) -> str:
        try:
            result = await self.async_client.images.generate(prompt, **self._params(size, quality, style))
            image = result.images[0]
            if self.output_dir:
                return str(await self.async_client.images.save(image, _output_dir(self.output_dir)))
            return image.url or ""
        except B3nError as exc:
            raise _tool_error(exc) from None


# ----------------------------------------------------------------------------- speech


class TextToSpeechInput(BaseModel):
    """Arguments the model fills in for :class:`B3nTextToSpeech`."""

    text: str = Field(description=f"The text to speak (at most {SPEECH_MAX_CHARS} characters).")
    voice: Voice = Field(default="alloy", description="The voice to use.")


class B3nTextToSpeech(_B3nTool):
    """Turn text into speech (tts-1 / tts-1-hd); writes an audio file in ``output_dir`` and returns its path.

    Example:
        >>> import tempfile
        >>> from b3n.testing import Emulator
        >>> with Emulator() as emu, tempfile.TemporaryDirectory() as tmp:
        ...     tool = B3nTextToSpeech(api_key="sk-test", base_url=emu.base_url, output_dir=tmp)
        ...     tool.invoke({"text": "Good morning"}).endswith(".mp3")
        True
    """

    name: str = "b3n_text_to_speech"
    description: str = (
        "Convert text to spoken audio. Input: the text to speak and optionally a voice. "
        "Returns the path of the audio file."
    )
    args_schema: type[BaseModel] = TextToSpeechInput
    model: str = "tts-1"
    audio_format: SpeechFormat = "mp3"
    speed: float = 1.0
    output_dir: str | None = None
    """Directory for the audio files (None: a private folder of the user, ``b3n.default_output_dir()``)."""

    def _params(self, voice: str) -> dict[str, Any]:
        return {"model": self.model, "voice": voice, "response_format": self.audio_format, "speed": self.speed}

    def _run(self, text: str, voice: str = "alloy", run_manager: CallbackManagerForToolRun | None = None) -> str:
        try:
            return _remember_spoken(
                self.client.audio.speech_to_file(_output_dir(self.output_dir), text, **self._params(voice))
            )
        except B3nError as exc:
            raise _tool_error(exc) from None

    async def _arun(
        self, text: str, voice: str = "alloy", run_manager: AsyncCallbackManagerForToolRun | None = None
    ) -> str:
        try:
            path = await self.async_client.audio.speech_to_file(
                _output_dir(self.output_dir), text, **self._params(voice)
            )
            return _remember_spoken(path)
        except B3nError as exc:
            raise _tool_error(exc) from None


# ----------------------------------------------------------------------------- transcription


class SpeechToTextInput(BaseModel):
    """Arguments the model fills in for :class:`B3nSpeechToText`."""

    file_path: str = Field(description="Path of the audio file (mp3, wav, m4a, ogg, flac, webm; at most 25 MB).")
    language: str | None = Field(default=None, description="ISO-639-1 code of the spoken language, e.g. 'en'.")


class B3nSpeechToText(_B3nTool):
    """Transcribe an audio file with Whisper; returns the text.

    The model chooses the path, so the tool only reads audio files (``allowed_extensions``) inside
    ``root_dir`` (default: the current directory when the tool is made), after resolving symlinks
    and ``..``; anything else (``/proc/self/environ``, ``~/.ssh/...``, ``.env``, a FIFO) is refused
    with one message that does not say whether the path exists, and nothing is sent.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as audio_dir:
        ...     tool = B3nSpeechToText(api_key="sk-test", root_dir=audio_dir)
        ...     try:
        ...         tool.invoke({"file_path": "/proc/self/environ"})
        ...     except B3nToolInputError as err:
        ...         print(str(err).split(":")[0])
        Refused '/proc/self/environ'
    """

    name: str = "b3n_speech_to_text"
    description: str = (
        "Transcribe speech in an audio file to text. Input: the path of the audio file (in the allowed "
        "audio directory). Returns the text."
    )
    args_schema: type[BaseModel] = SpeechToTextInput
    model: str = "whisper-1"
    prompt: str | None = None
    """Optional text to guide spelling and style (names, jargon)."""
    temperature: float | None = None
    root_dir: str = Field(default_factory=os.getcwd)
    """The only directory the tool reads audio from; relative paths are taken relative to it."""
    allowed_extensions: tuple[str, ...] = normalize_extensions(None)
    """Audio extensions the tool may read (a subset of the formats Whisper accepts)."""

    @field_validator("root_dir", mode="before")
    @classmethod
    def _absolute_root(cls, value: Any) -> Any:
        return os.path.abspath(os.fspath(value)) if isinstance(value, (str, os.PathLike)) else value

    @field_validator("allowed_extensions", mode="before")
    @classmethod
    def _check_extensions(cls, value: Any) -> tuple[str, ...]:
        return normalize_extensions(value)

    def _params(self, language: str | None) -> dict[str, Any]:
        return {"model": self.model, "language": language, "prompt": self.prompt, "temperature": self.temperature}

    def _audio(self, file_path: str) -> tuple[str, bytes]:
        """Audio under ``root_dir``, or a file a ``B3nTextToSpeech`` of this process wrote (same checks)."""
        try:
            real = os.path.realpath(os.path.expanduser(file_path))
        except (TypeError, ValueError, OSError):
            real = ""
        with _SPOKEN_LOCK:
            spoken = real in _SPOKEN
        if spoken and os.path.splitext(real)[1].lstrip(".").lower() in self.allowed_extensions:
            return AllowedAudioFiles(os.path.dirname(real), [os.path.splitext(real)[1]]).read(real)
        return AllowedAudioFiles(self.root_dir, self.allowed_extensions).read(file_path)

    def _run(
        self, file_path: str, language: str | None = None, run_manager: CallbackManagerForToolRun | None = None
    ) -> str:
        try:
            name, data = self._audio(file_path)
            return self.client.audio.transcribe(data, filename=name, **self._params(language)).text
        except B3nError as exc:
            raise _tool_error(exc) from None

    async def _arun(
        self,
        file_path: str,
        language: str | None = None,
        run_manager: AsyncCallbackManagerForToolRun | None = None,
    ) -> str:
        try:
            name, data = self._audio(file_path)
            return (await self.async_client.audio.transcribe(data, filename=name, **self._params(language))).text
        except B3nError as exc:
            raise _tool_error(exc) from None


__all__ = [
    "B3nImageGeneration",
    "B3nSpeechToText",
    "B3nTextToSpeech",
    "ImageGenerationInput",
    "SpeechToTextInput",
    "TextToSpeechInput",
]
