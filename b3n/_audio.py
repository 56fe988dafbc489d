"""``client.audio``: text to speech (:mod:`b3n._speech`) and transcription (:mod:`b3n._transcription`).

The two services only hold the transport; their methods come from the speech and transcription
modules (see the examples on :class:`AudioService`).
"""

from __future__ import annotations

from b3n._plans import Service
from b3n._speech import AsyncSpeechMethods, SpeechMethods
from b3n._transcription import AsyncTranscriptionMethods, TranscriptionMethods
from b3n._transport import AsyncTransport, SyncTransport


class AudioService(SpeechMethods, TranscriptionMethods, Service[SyncTransport]):
    """``client.audio``: ``speech``, ``iter_speech``, ``speech_to_file`` and ``transcribe`` (blocking).

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


class AsyncAudioService(AsyncSpeechMethods, AsyncTranscriptionMethods, Service[AsyncTransport]):
    """``client.audio`` on ``AsyncB3nClient``: the same methods as :class:`AudioService`, awaitable.

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


__all__ = ["AsyncAudioService", "AudioService"]
