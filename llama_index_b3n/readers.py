"""``B3nAudioReader``: audio files to LlamaIndex ``Document``s with Whisper through B3n.

Works alone (``load_data(file)``) or inside ``SimpleDirectoryReader`` via ``file_extractor``.

Example (offline, against the bundled emulator):
    >>> import tempfile, pathlib
    >>> from b3n import B3nClient
    >>> from b3n.testing import Emulator
    >>> with Emulator() as emu, tempfile.TemporaryDirectory() as tmp:
    ...     audio = pathlib.Path(tmp, "memo.mp3")
    ...     _ = B3nClient(api_key="sk-test", base_url=emu.base_url).audio.speech_to_file(audio, "Call Bob.")
    ...     docs = B3nAudioReader(api_key="sk-test", api_base=emu.base_url).load_data(audio)
    ...     docs[0].text, docs[0].metadata["file_name"]
    ('Call Bob.', 'memo.mp3')
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llama_index.core.readers.base import BaseReader
from llama_index.core.schema import Document
from pydantic import SecretStr

from b3n._lazy import httpx
from b3n._transcription import Transcription, TranscriptionFormat
from b3n._whisper_options import WhisperOptions
from llama_index_b3n._base import B3nSettings


class B3nAudioReader(WhisperOptions[B3nSettings], BaseReader):
    """Transcribe audio files (mp3, wav, m4a, ogg, flac, webm; at most 25 MB each) into Documents.

    Metadata: ``file_path``, ``file_name``, ``language``, ``duration`` (plus anything passed as
    ``extra_info``); with ``split_segments=True`` one Document per timed segment with ``start``/``end``.

    Example:
        >>> from llama_index.core import SimpleDirectoryReader
        >>> reader = B3nAudioReader(api_key="sk-test")
        >>> extractors = {".mp3": reader, ".wav": reader}   # SimpleDirectoryReader(dir, file_extractor=extractors)
        >>> "sk-test" in repr(reader)
        False
    """

    def __init__(
        self,
        api_key: str | SecretStr | None = None,
        api_base: str | None = None,
        *,
        model: str = "whisper-1",
        language: str | None = None,
        prompt: str | None = None,
        temperature: float | None = None,
        response_format: TranscriptionFormat = "verbose_json",
        split_segments: bool = False,
        timeout: float | None = 120.0,
        stream_idle_timeout: float | None = None,
        max_retries: int = 2,
        default_headers: Mapping[str, str] | None = None,
        verify: bool | str = True,
        proxy: str | None = None,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
        http_async_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._keep_whisper_options(
            model=model, language=language, prompt=prompt, temperature=temperature,
            response_format=response_format, split_segments=split_segments,
        )
        # the connection settings every LlamaIndex class of this package shares (built once, pickled safely);
        # http_async_client is the earlier name of async_http_client
        self._settings = B3nSettings(
            api_key=api_key, api_base=api_base, timeout=timeout, stream_idle_timeout=stream_idle_timeout,
            max_retries=max_retries, default_headers=dict(default_headers) if default_headers else None,
            verify=verify, proxy=proxy, http_client=http_client,
            async_http_client=async_http_client or http_async_client,
        )

    def __repr__(self) -> str:
        return (
            f"B3nAudioReader(model={self.model!r}, api_base={self._settings.api_base!r}, "
            f"language={self.language!r}, split_segments={self.split_segments!r})"
        )

    def _documents(
        self, transcription: Transcription, path: Path, extra_info: Mapping[str, Any] | None
    ) -> list[Document]:
        base = {"file_path": str(path), "file_name": path.name, **(extra_info or {})}
        return [
            Document(text=text, metadata={**base, **{k: v for k, v in meta.items() if v is not None}})
            for text, meta in transcription.passages(split_segments=self.split_segments)
        ]

    def load_data(
        self, file: str | os.PathLike[str], extra_info: Mapping[str, Any] | None = None, **_: Any
    ) -> list[Document]:
        """Transcribe ``file``; ``extra_info`` is merged into each Document's metadata."""
        path = Path(file).expanduser()
        return self._documents(self.client.audio.transcribe(path, **self._params()), path, extra_info)

    async def aload_data(
        self, file: str | os.PathLike[str], extra_info: Mapping[str, Any] | None = None, **_: Any
    ) -> list[Document]:
        """asyncio twin of :meth:`load_data` (real async I/O)."""
        path = Path(file).expanduser()
        transcription = await self.async_client.audio.transcribe(path, **self._params())
        return self._documents(transcription, path, extra_info)


__all__ = ["B3nAudioReader"]
