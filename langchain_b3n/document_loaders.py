"""Audio to LangChain ``Document``s with Whisper through B3n: a blob parser and a file loader.

Example (offline, against the bundled emulator):
    >>> import tempfile, pathlib
    >>> from b3n import B3nClient
    >>> from b3n.testing import Emulator
    >>> with Emulator() as emu, tempfile.TemporaryDirectory() as tmp:
    ...     audio = pathlib.Path(tmp, "note.mp3")
    ...     _ = B3nClient(api_key="sk-test", base_url=emu.base_url).audio.speech_to_file(audio, "Buy milk.")
    ...     docs = B3nAudioLoader(audio, api_key="sk-test", base_url=emu.base_url).load()
    ...     docs[0].page_content, docs[0].metadata["source"].endswith("note.mp3")
    ('Buy milk.', True)
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from langchain_core.document_loaders import BaseBlobParser, BaseLoader
from langchain_core.documents import Document
from langchain_core.documents.base import Blob
from pydantic import SecretStr

from b3n._errors import B3nError, B3nInvalidRequestError
from b3n._lazy import httpx
from b3n._settings import api_key_from_env
from b3n._transcription import AudioInput, Transcription, TranscriptionFormat
from b3n._whisper_options import WhisperOptions
from langchain_b3n._base import B3nSettings
from langchain_b3n.errors import to_langchain_error

PathLike = str | os.PathLike[str]


def _documents(transcription: Transcription, source: str | None, split_segments: bool) -> Iterator[Document]:
    for text, meta in transcription.passages(split_segments=split_segments):
        yield Document(page_content=text, metadata={"source": source, **meta})


class B3nWhisperParser(WhisperOptions[B3nSettings], BaseBlobParser):
    """Transcribe audio blobs with Whisper (``whisper-1``) through B3n.

    One Document per blob, with ``source``, ``language`` and ``duration`` metadata; with
    ``split_segments=True`` (and the default ``response_format="verbose_json"``) one
    Document per timed segment, with ``start``/``end``/``segment`` as well.

    Example:
        >>> parser = B3nWhisperParser(api_key="sk-test", language="en", split_segments=True)
        >>> parser.response_format, "sk-test" in repr(parser)
        ('verbose_json', False)
    """

    def __init__(
        self,
        *,
        api_key: str | SecretStr | None = None,
        base_url: str | None = None,
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
        http_async_client: httpx.AsyncClient | None = None,
    ) -> None:
        try:
            self._keep_whisper_options(
                model=model, language=language, prompt=prompt, temperature=temperature,
                response_format=response_format, split_segments=split_segments,
            )
        except B3nError as exc:
            raise to_langchain_error(exc) from None
        # the connection settings every LangChain class of this package shares (built once, pickled safely)
        self._settings = B3nSettings(
            api_key=SecretStr(api_key) if isinstance(api_key, str) else api_key or api_key_from_env(),
            base_url=base_url, timeout=timeout,
            stream_idle_timeout=stream_idle_timeout, max_retries=max_retries,
            default_headers=dict(default_headers) if default_headers else None, verify=verify, proxy=proxy,
            http_client=http_client, http_async_client=http_async_client,
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(model={self.model!r}, base_url={self._settings.b3n_config().base_url!r}, "
            f"language={self.language!r}, response_format={self.response_format!r}, "
            f"split_segments={self.split_segments!r})"
        )

    @staticmethod
    def _audio(blob: Blob) -> tuple[AudioInput, str | None]:
        name = Path(str(blob.path)).name if blob.path else None
        if blob.data is None and blob.path:
            return Path(str(blob.path)), name
        return blob.as_bytes(), name

    def lazy_parse(self, blob: Blob) -> Iterator[Document]:
        """Transcribe ``blob`` and yield its Document(s)."""
        audio, name = self._audio(blob)
        try:
            transcription = self.client.audio.transcribe(audio, filename=name, **self._params())
        except B3nError as exc:
            raise to_langchain_error(exc) from None
        yield from _documents(transcription, blob.source, self.split_segments)

    async def alazy_parse(self, blob: Blob) -> AsyncIterator[Document]:
        """asyncio twin of :meth:`lazy_parse` (real async I/O)."""
        audio, name = self._audio(blob)
        try:
            transcription = await self.async_client.audio.transcribe(audio, filename=name, **self._params())
        except B3nError as exc:
            raise to_langchain_error(exc) from None
        for doc in _documents(transcription, blob.source, self.split_segments):
            yield doc


class B3nAudioLoader(BaseLoader):
    """Load one or more audio files as Documents (transcribed by :class:`B3nWhisperParser`).

    Pass ``parser=`` to reuse a configured parser, or the parser's keyword arguments directly.

    Example:
        >>> loader = B3nAudioLoader(["a.mp3", "b.wav"], api_key="sk-test", split_segments=True)
        >>> [p.name for p in loader.file_paths]
        ['a.mp3', 'b.wav']
    """

    def __init__(
        self,
        file_path: PathLike | Sequence[PathLike],
        *,
        parser: B3nWhisperParser | None = None,
        **parser_kwargs: Any,
    ) -> None:
        paths = [file_path] if isinstance(file_path, (str, os.PathLike)) else list(file_path)
        self.file_paths = [Path(p).expanduser() for p in paths]
        if parser is not None and parser_kwargs:
            raise to_langchain_error(B3nInvalidRequestError(
                f"Pass either parser=... or parser options ({sorted(parser_kwargs)}), not both."
            ))
        self.parser = parser or B3nWhisperParser(**parser_kwargs)

    def lazy_load(self) -> Iterator[Document]:
        """Transcribe each file in turn."""
        for path in self.file_paths:
            yield from self.parser.lazy_parse(Blob.from_path(path))

    async def alazy_load(self) -> AsyncIterator[Document]:
        """asyncio twin of :meth:`lazy_load` (real async I/O)."""
        for path in self.file_paths:
            async for doc in self.parser.alazy_parse(Blob.from_path(path)):
                yield doc


__all__ = ["B3nAudioLoader", "B3nWhisperParser"]
