"""``B3nToolSpec``: DALL-E 3 images, text to speech and Whisper transcription as LlamaIndex tools.

``to_tool_list()`` gives three ``FunctionTool``s (``generate_image``, ``text_to_speech``,
``transcribe_audio``), each with a blocking and a real asyncio implementation. All
validation and HTTP live in the core (``b3n._images``, ``b3n._speech``, ``b3n._transcription``).

Example (offline, against the bundled emulator):
    >>> from b3n.testing import Emulator
    >>> with Emulator() as emu:
    ...     spec = B3nToolSpec(api_key="sk-test", api_base=emu.base_url)
    ...     [t.metadata.name for t in spec.to_tool_list()]
    ['generate_image', 'text_to_speech', 'transcribe_audio']
"""

# No ``from __future__ import annotations``: LlamaIndex builds the tool schemas from the runtime
# signatures (the Literal enums tell the model which sizes and voices exist).
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from llama_index.core.tools.tool_spec.base import SPEC_FUNCTION_TYPE, BaseToolSpec
from pydantic import SecretStr

from b3n._file_access import AllowedAudioFiles
from b3n._images import ImageQuality, ImageSize, ImageStyle
from b3n._lazy import httpx
from b3n._media_common import default_output_dir, make_private_dirs
from b3n._settings import SettingsClients
from b3n._speech import Voice, build_speech_request
from llama_index_b3n._base import B3nSettings


def _output_dir(value: str | Path | None) -> Path:
    if not value:
        return default_output_dir()  # private to the user (0700), the same folder for the whole process
    path = Path(value).expanduser()
    make_private_dirs(path)
    return path


class B3nToolSpec(SettingsClients[B3nSettings], BaseToolSpec):
    """Media tools for LlamaIndex agents.

    Args:
        api_key: B3n key (default ``B3N_API_KEY``).
        api_base: relay URL (default ``B3N_BASE_URL``).
        output_dir: where images (when ``save_images``) and speech files go (default: the user's private
            ``b3n.default_output_dir()``). ``transcribe_audio`` may read the speech files this spec wrote there, so
            one agent can speak and transcribe with both tools; other files there stay outside its reach unless under
            ``root_dir``.
        image_model: the image generation model.
        tts_model: the text-to-speech model.
        stt_model: the transcription model.
        voice: the default speech voice.
        audio_format: the default speech file format.
        save_images: save generated images to ``output_dir`` and return the path instead of the URL.
        root_dir: the only directory ``transcribe_audio`` reads from (default: the current directory when the
            spec is made); the model picks the path, so anything outside it, special files and files without
            an allowed audio extension are refused with one message that does not say whether they exist.
        allowed_extensions: audio extensions ``transcribe_audio`` may read (default: all Whisper formats).

    Example:
        >>> spec = B3nToolSpec(api_key="sk-test")
        >>> "sk-test" in repr(spec)
        False
    """

    spec_functions: list[SPEC_FUNCTION_TYPE] = [  # noqa: RUF012 (the BaseToolSpec protocol)
        ("generate_image", "agenerate_image"),
        ("text_to_speech", "atext_to_speech"),
        ("transcribe_audio", "atranscribe_audio"),
    ]

    def __init__(
        self,
        api_key: str | SecretStr | None = None,
        api_base: str | None = None,
        *,
        output_dir: str | Path | None = None,
        save_images: bool = False,
        image_model: str = "dall-e-3",
        tts_model: str = "tts-1",
        stt_model: str = "whisper-1",
        voice: str = "alloy",
        audio_format: str = "mp3",
        timeout: float | None = 120.0,
        stream_idle_timeout: float | None = None,
        max_retries: int = 2,
        default_headers: Mapping[str, str] | None = None,
        verify: bool | str = True,
        proxy: str | None = None,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
        http_async_client: httpx.AsyncClient | None = None,
        root_dir: str | Path | None = None,
        allowed_extensions: Sequence[str] | None = None,
    ) -> None:
        # the connection settings every LlamaIndex class of this package shares (built once, pickled safely);
        # http_async_client is the earlier name of async_http_client
        self._settings = B3nSettings(
            api_key=api_key, api_base=api_base, timeout=timeout, stream_idle_timeout=stream_idle_timeout,
            max_retries=max_retries, default_headers=dict(default_headers) if default_headers else None,
            verify=verify, proxy=proxy, http_client=http_client,
            async_http_client=async_http_client or http_async_client,
        )
        self.output_dir = output_dir
        self.save_images = save_images
        self.image_model = image_model
        self.tts_model = tts_model
        self.stt_model = stt_model
        self.voice = voice
        self.audio_format = audio_format
        self.audio_files = AllowedAudioFiles(root_dir, allowed_extensions)
        #: the files text_to_speech wrote: transcribe_audio may read these too (and nothing else outside root_dir)
        self._spoken: set[str] = set()
        build_speech_request("check", **self._speech_params(None))  # bad voice/format/model: fail now

    def __repr__(self) -> str:
        return (
            f"B3nToolSpec(api_base={self._settings.api_base!r}, image_model={self.image_model!r}, "
            f"tts_model={self.tts_model!r}, stt_model={self.stt_model!r})"
        )

    def _image_params(self, size: str, quality: str, style: str) -> dict[str, Any]:
        return {"model": self.image_model, "size": size, "quality": quality, "style": style,
                "response_format": "b64_json" if self.save_images else "url"}

    def _speech_params(self, voice: str | None) -> dict[str, Any]:
        return {"model": self.tts_model, "voice": voice or self.voice, "response_format": self.audio_format}

    def generate_image(
        self,
        prompt: str,
        size: ImageSize = "1024x1024",
        quality: ImageQuality = "standard",
        style: ImageStyle = "vivid",
    ) -> str:
        """Create an image from a detailed text description with DALL-E 3.

        size is 1024x1024, 1792x1024 or 1024x1792; quality is standard or hd; style is vivid or natural.
        Returns the image URL (valid about 2 hours) or the path of the saved image file.
        """
        image = self.client.images.generate(prompt, **self._image_params(size, quality, style)).images[0]
        if self.save_images:
            return str(self.client.images.save(image, _output_dir(self.output_dir)))
        return image.url or ""

    async def agenerate_image(
        self,
        prompt: str,
        size: ImageSize = "1024x1024",
        quality: ImageQuality = "standard",
        style: ImageStyle = "vivid",
    ) -> str:
        """Create an image from a detailed text description with DALL-E 3.

        size is 1024x1024, 1792x1024 or 1024x1792; quality is standard or hd; style is vivid or natural.
        Returns the image URL (valid about 2 hours) or the path of the saved image file.
        """
        result = await self.async_client.images.generate(prompt, **self._image_params(size, quality, style))
        if self.save_images:
            return str(await self.async_client.images.save(result.images[0], _output_dir(self.output_dir)))
        return result.images[0].url or ""

    def text_to_speech(self, text: str, voice: Voice | None = None) -> str:
        """Convert text (at most 4096 characters) to spoken audio and return the path of the audio file.

        voice is one of alloy, echo, fable, onyx, nova, shimmer, ash, coral, sage.
        """
        path = self.client.audio.speech_to_file(_output_dir(self.output_dir), text, **self._speech_params(voice))
        return self._remember(path)

    async def atext_to_speech(self, text: str, voice: Voice | None = None) -> str:
        """Convert text (at most 4096 characters) to spoken audio and return the path of the audio file.

        voice is one of alloy, echo, fable, onyx, nova, shimmer, ash, coral, sage.
        """
        path = await self.async_client.audio.speech_to_file(
            _output_dir(self.output_dir), text, **self._speech_params(voice)
        )
        return self._remember(path)

    def _remember(self, path: str | Path) -> str:
        self._spoken.add(os.path.realpath(path))
        return str(path)

    def _read_audio(self, file_path: str) -> tuple[str, bytes]:
        """The audio the tool may read: under ``root_dir``, or a file this spec's ``text_to_speech`` wrote."""
        try:
            real = os.path.realpath(os.path.expanduser(file_path))
        except (TypeError, ValueError, OSError):
            real = ""
        if real in self._spoken:  # read with the same checks (regular file, no symlink), in its own folder
            return AllowedAudioFiles(os.path.dirname(real), [os.path.splitext(real)[1]]).read(real)
        return self.audio_files.read(file_path)

    def transcribe_audio(self, file_path: str, language: str | None = None) -> str:
        """Transcribe the speech in an audio file (mp3, wav, m4a, ogg, flac, webm; at most 25 MB) to text.

        file_path is in the allowed audio directory (absolute, or relative to it).

        language is an optional ISO-639-1 code such as en.
        """
        name, data = self._read_audio(file_path)
        return self.client.audio.transcribe(data, filename=name, model=self.stt_model, language=language).text

    async def atranscribe_audio(self, file_path: str, language: str | None = None) -> str:
        """Transcribe the speech in an audio file (mp3, wav, m4a, ogg, flac, webm; at most 25 MB) to text.

        file_path is in the allowed audio directory (absolute, or relative to it).

        language is an optional ISO-639-1 code such as en.
        """
        name, data = self._read_audio(file_path)
        result = await self.async_client.audio.transcribe(data, filename=name, model=self.stt_model, language=language)
        return result.text


__all__ = ["B3nToolSpec"]
