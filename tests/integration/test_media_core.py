"""``client.images`` / ``client.audio`` against the emulator over HTTP (blocking and asyncio)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest

from b3n import AsyncB3nClient, B3nClient
from b3n._errors import (
    B3nInvalidRequestError,
    B3nModelNotAvailableError,
    B3nRateLimitError,
    B3nServerError,
    B3nStreamInterruptedError,
)
from b3n._media import TRANSCRIPTION_MAX_BYTES
from b3n.testing import Emulator


def assert_png(data: bytes) -> tuple[int, int]:
    """A real PNG: signature, then an IHDR chunk with a valid CRC; returns (width, height)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    ihdr = data[16:29]
    (crc,) = struct.unpack(">I", data[29:33])
    assert crc == zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF
    width, height, depth, _colour, _, _, _ = struct.unpack(">IIBBBBB", ihdr)
    assert width > 0 and height > 0 and depth in (1, 2, 4, 8, 16)
    assert data.rstrip(b"\0").endswith(b"IEND\xaeB`\x82")
    return width, height


@pytest.fixture
def client(base_url: str, api_key: str) -> B3nClient:
    return B3nClient(api_key=api_key, base_url=base_url, max_retries=2)


@pytest.fixture
def aclient(base_url: str, api_key: str) -> AsyncB3nClient:
    return AsyncB3nClient(api_key=api_key, base_url=base_url, max_retries=2)


# ----------------------------------------------------------------------------- images


def test_generate_and_save_png_from_url_without_credentials(
    client: B3nClient, emulator: Emulator, api_key: str, tmp_path: Path
) -> None:
    result = client.images.generate("a lighthouse at dusk", size="1792x1024", quality="hd", style="natural")
    assert len(result.images) == 1 and result.created
    image = result.images[0]
    assert image.url and image.url.startswith(emulator.origin) and image.b64_json is None
    assert "lighthouse at dusk" in (image.revised_prompt or "")
    sent = emulator.last_request("images")
    assert sent is not None and sent.json == {
        "model": "dall-e-3", "prompt": "a lighthouse at dusk", "n": 1, "size": "1792x1024", "quality": "hd",
        "style": "natural",
    }
    path = client.images.save(image, tmp_path / "out" / "fox.png")
    assert path == tmp_path / "out" / "fox.png"
    assert_png(path.read_bytes())
    download = emulator.last_request("files")
    assert download is not None and emulator.count("files") == 1
    assert "authorization" not in download.headers  # the key never goes to the image host
    assert api_key not in str(download.headers)
    # GeneratedImage.save uses the same credential-free download
    again = image.save(tmp_path)
    assert again.suffix == ".png" and again.read_bytes() == path.read_bytes()
    assert "authorization" not in (emulator.last_request("files") or download).headers


def test_generate_b64_json_saves_without_download(client: B3nClient, emulator: Emulator, tmp_path: Path) -> None:
    image = client.images.generate("a red fox", response_format="b64_json").images[0]
    assert image.url is None and image.b64_json
    assert_png(image.save(tmp_path / "fox.png").read_bytes())
    assert emulator.count("files") == 0


async def test_async_generate_and_save(aclient: AsyncB3nClient, emulator: Emulator, tmp_path: Path) -> None:
    result = await aclient.images.generate("a paper boat")
    path = await aclient.images.save(result.images[0], tmp_path / "boat.png")
    assert_png(path.read_bytes())
    assert_png((await result.images[0].asave(tmp_path / "again.png")).read_bytes())
    assert emulator.count("images") == 1 and emulator.count("files") == 2
    assert all("authorization" not in r.headers for r in emulator.requests if r.route.endswith("/files"))


def test_image_rate_limit_is_retried(client: B3nClient, emulator: Emulator) -> None:
    emulator.inject("rate_limit", route="images", times=1, retry_after=0)
    assert client.images.generate("a kite").images[0].url
    assert emulator.count("images") == 2


def test_image_rate_limit_exhausted(base_url: str, api_key: str, emulator: Emulator) -> None:
    emulator.inject("rate_limit", route="images", times=3, retry_after=0)
    with pytest.raises(B3nRateLimitError):
        B3nClient(api_key=api_key, base_url=base_url, max_retries=1).images.generate("a kite")
    assert emulator.count("images") == 2


def test_expired_image_url_says_what_to_do(client: B3nClient, emulator: Emulator, tmp_path: Path) -> None:
    image = client.images.generate("a kite").images[0]
    assert image.url
    image.url = image.url.rsplit("/", 1)[0] + "/img-expired.png"
    with pytest.raises(Exception, match="b64_json") as info:
        client.images.save(image, tmp_path / "x.png")
    assert getattr(info.value, "status_code", None) == 404
    assert not list(tmp_path.iterdir())


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
    emulator.inject("server_error", route="speech", times=1, status=502)
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
