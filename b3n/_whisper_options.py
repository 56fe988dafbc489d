"""The Whisper options both frameworks' audio loaders keep: one set of attributes, checked at construction.

``langchain_b3n.B3nWhisperParser`` and ``llama_index_b3n.B3nAudioReader`` take the same transcription
options; :class:`WhisperOptions` stores them, refuses a bad combination before any file is read, and
turns them into the keyword arguments of ``client.audio.transcribe``.

Example:
    >>> from llama_index_b3n import B3nAudioReader
    >>> reader = B3nAudioReader(api_key="sk-test", language="de", split_segments=True)
    >>> reader.model, reader.language, reader.response_format
    ('whisper-1', 'de', 'verbose_json')
"""

from __future__ import annotations

from typing import Any

from b3n._settings import SettingsClients, SettingsT
from b3n._transcription import TranscriptionFormat, check_transcription_options


class WhisperOptions(SettingsClients[SettingsT]):
    """Whisper options as public attributes, plus the clients of the connection settings."""

    def _keep_whisper_options(
        self,
        *,
        model: str,
        language: str | None,
        prompt: str | None,
        temperature: float | None,
        response_format: TranscriptionFormat,
        split_segments: bool,
    ) -> None:
        """Store the options; a bad one raises the core's typed error now, not at the first file."""
        self.model = model
        self.language = language
        self.prompt = prompt
        self.temperature = temperature
        self.response_format = response_format
        self.split_segments = split_segments
        check_transcription_options(split_segments=split_segments, **self._params())

    def _params(self) -> dict[str, Any]:
        """The keyword arguments of ``client.audio.transcribe`` for these options."""
        return {"model": self.model, "language": self.language, "prompt": self.prompt,
                "temperature": self.temperature, "response_format": self.response_format}


__all__ = ["WhisperOptions"]
