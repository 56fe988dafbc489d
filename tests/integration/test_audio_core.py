"""``client.audio`` (``b3n._speech``, ``b3n._transcription``) against the emulator over HTTP, and the
limits of every media call refused before sending (blocking and asyncio)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from b3n import AsyncB3nClient, B3nClient
from b3n._errors import (
    B3nInvalidRequestError,
    B3nModelNotAvailableError,
    B3nServerError,
    B3nStreamInterruptedError,
)
from b3n._transcription import TRANSCRIPTION_MAX_BYTES
from b3n.testing import Emulator

# ----------------------------------------------------------------------------- speech and transcription


@pytest.mark.parametrize("fmt", ["mp3", "wav", "flac", "opus"])
def test_tts_transcription_round_trip(client: B3nClient, emulator: Emulator, fmt: str) -> None:
    text = "The quick brown fox jumps over the lazy dog."
    audio = client.audio.speech(text, voice="nova", response_format=fmt, speed=1.25)
    assert len(audio) > 100
    sent = emulator.last_request("speech")
    assert sent is not None and sent.json == {
        "model": "tts-1", "input": text, "voice": "nova", "response_format": fmt, "speed": 1.25}
    assert client.audio.transcribe(audio).text == text


def test_speech_to_file_and_verbose_transcription(client: B3nClient, emulator: Emulator, tmp_path: Path) -> None:
    text = "First sentence here. Second sentence follows. Third one ends it."
    path = client.audio.speech_to_file(tmp_path / "talk.wav", text, model="tts-1-hd", response_format="wav")
    assert path.read_bytes()[:4] == b"RIFF"
    t = client.audio.transcribe(
        path, language="en", response_format="verbose_json", timestamp_granularities=["word", "segment"],
    )
    assert t.text == text and t.language == "english" and t.duration and t.duration > 0
    assert [s.text.strip() for s in t.segments] == [
        "First sentence here.", "Second sentence follows.", "Third one ends it."]
    assert t.segments[-1].end == pytest.approx(t.duration, abs=0.01)
    assert [w.word for w in t.words][:2] == ["First", "sentence"]
    form = emulator.last_request("transcriptions")
    assert form is not None and "talk.wav" in str(form.json)
    # the directory form picks a name with the format's extension
    named = client.audio.speech_to_file(tmp_path, "Hi", response_format="flac")
    assert named.parent == tmp_path and named.suffix == ".flac"


@pytest.mark.parametrize("fmt", ["text", "srt", "vtt"])
def test_transcription_text_formats(client: B3nClient, fmt: str) -> None:
    text = "One line. Another line."
    t = client.audio.transcribe(io.BytesIO(client.audio.speech(text)), response_format=fmt)
    assert t.text == text and t.raw is not None
    if fmt != "text":
        assert "-->" in t.raw


async def test_async_round_trip(aclient: AsyncB3nClient, emulator: Emulator, tmp_path: Path) -> None:
    text = "Async all the way down."
    audio = await aclient.audio.speech(text)
    streamed = b"".join([chunk async for chunk in aclient.audio.iter_speech(text)])
    assert streamed == audio
    path = await aclient.audio.speech_to_file(tmp_path / "a.mp3", text)
    assert path.read_bytes() == audio
    assert (await aclient.audio.transcribe(path)).text == text
    assert emulator.count("speech") == 3 and emulator.count("transcriptions") == 1


def test_sync_iter_speech_streams_the_same_audio(client: B3nClient, emulator: Emulator) -> None:
    """The blocking client has ``iter_speech`` like the async one: chunks that add up to the audio."""
    text = "Streaming speech, blocking client."
    audio = client.audio.speech(text, voice="echo", response_format="wav")
    chunks = list(client.audio.iter_speech(text, voice="echo", response_format="wav"))
    assert chunks and all(isinstance(c, bytes) for c in chunks)
    assert b"".join(chunks) == audio
    assert emulator.count("speech") == 2
    sent = emulator.last_request("speech")
    assert sent is not None and sent.json == {"model": "tts-1", "input": text, "voice": "echo", "response_format": "wav"}


def test_sync_iter_speech_cut_mid_body_is_not_retried(client: B3nClient, emulator: Emulator) -> None:
    emulator.inject("stream_cut", route="speech")
    received: list[bytes] = []
    with pytest.raises(B3nStreamInterruptedError, match="chunks already yielded are incomplete"):
        for chunk in client.audio.iter_speech("This will be cut in half by the emulator."):
            received.append(chunk)
    assert received and emulator.count("speech") == 1


def test_speech_cut_mid_body_leaves_no_file(client: B3nClient, emulator: Emulator, tmp_path: Path) -> None:
    emulator.inject("stream_cut", route="speech")
    with pytest.raises(B3nStreamInterruptedError, match="partial file was removed"):
        client.audio.speech_to_file(tmp_path / "cut.mp3", "This will be cut in half by the emulator.")
    assert list(tmp_path.iterdir()) == []


async def test_speech_cut_mid_body_async(aclient: AsyncB3nClient, emulator: Emulator, tmp_path: Path) -> None:
    emulator.inject("stream_cut", route="speech")
    with pytest.raises(B3nStreamInterruptedError):
        await aclient.audio.speech_to_file(tmp_path / "cut.mp3", "This will be cut in half by the emulator.")
    assert list(tmp_path.iterdir()) == []


def test_retries_resend_the_whole_upload_and_body(client: B3nClient, emulator: Emulator, tmp_path: Path) -> None:
    text = "Retried requests carry everything again."
    emulator.inject("rate_limit", route="speech", times=1, retry_after=0)  # 429: safe to repeat a billed call
    path = client.audio.speech_to_file(tmp_path / "r.mp3", text)
    assert emulator.count("speech") == 2
    emulator.inject("rate_limit", route="transcriptions", times=1, retry_after=0)
    with path.open("rb") as fh:  # a file object is read once, so the retry sends the same bytes
        assert client.audio.transcribe(fh).text == text
    assert emulator.count("transcriptions") == 2


def test_server_error_exhausted(base_url: str, api_key: str, emulator: Emulator) -> None:
    emulator.inject("server_error", route="transcriptions", times=5, status=503)
    with pytest.raises(B3nServerError):
        B3nClient(api_key=api_key, base_url=base_url, max_retries=1).audio.transcribe(b"ID3" + b"\0" * 64)
    assert emulator.count("transcriptions") == 2


def test_wrong_model_family_from_relay(client: B3nClient) -> None:
    with pytest.raises(B3nModelNotAvailableError):
        client.audio.speech("Hi", model="tts-unknown-9")  # not catalogued: sent, refused by the relay


# ----------------------------------------------------------------------------- limits: refused before sending


def _limit_cases(tmp_path: Path) -> list[tuple[str, object]]:
    big = tmp_path / "big.mp3"
    with big.open("wb") as fh:
        fh.truncate(TRANSCRIPTION_MAX_BYTES + 1)
    return [
        ("images n", lambda c: c.images.generate("a fox", n=2)),
        ("images size", lambda c: c.images.generate("a fox", size="512x512")),
        ("images quality", lambda c: c.images.generate("a fox", quality="ultra")),
        ("images style", lambda c: c.images.generate("a fox", style="anime")),
        ("images format", lambda c: c.images.generate("a fox", response_format="png")),
        ("images prompt", lambda c: c.images.generate("")),
        ("speech empty", lambda c: c.audio.speech("")),
        ("speech long", lambda c: c.audio.speech("x" * 4097)),
        ("speech voice", lambda c: c.audio.speech("Hi", voice="robot")),
        ("speech format", lambda c: c.audio.speech("Hi", response_format="ogg")),
        ("speech speed", lambda c: c.audio.speech("Hi", speed=5)),
        ("speech to file", lambda c: c.audio.speech_to_file(tmp_path / "x.mp3", "")),
        ("stt size", lambda c: c.audio.transcribe(big)),
        ("stt bytes size", lambda c: c.audio.transcribe(b"\0" * (TRANSCRIPTION_MAX_BYTES + 1))),
        ("stt empty", lambda c: c.audio.transcribe(b"")),
        ("stt format", lambda c: c.audio.transcribe(b"ID3...", response_format="docx")),
        ("stt granularity", lambda c: c.audio.transcribe(b"ID3...", timestamp_granularities=["word"])),
        ("stt extension", lambda c: c.audio.transcribe(b"ID3...", filename="talk.aac")),
    ]


def test_every_limit_raises_before_any_request(client: B3nClient, emulator: Emulator, tmp_path: Path) -> None:
    for label, call in _limit_cases(tmp_path):
        with pytest.raises(B3nInvalidRequestError) as info:
            call(client)  # type: ignore[operator]
        assert str(info.value), label
    assert emulator.total_requests == 0, emulator.counts
    assert not (tmp_path / "x.mp3").exists()


async def test_async_limits_raise_before_any_request(aclient: AsyncB3nClient, emulator: Emulator) -> None:
    with pytest.raises(B3nInvalidRequestError, match="one image per call"):
        await aclient.images.generate("a fox", n=3)
    with pytest.raises(B3nInvalidRequestError, match="at most 4096"):
        await aclient.audio.speech("y" * 5000)
    with pytest.raises(B3nInvalidRequestError, match="25 MB"):
        await aclient.audio.transcribe(b"\0" * (TRANSCRIPTION_MAX_BYTES + 1))
    assert emulator.total_requests == 0
