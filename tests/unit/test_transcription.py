"""Pure logic of ``b3n._transcription``: form, audio reading, parsing (no network)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import pytest

from b3n._errors import B3nInvalidRequestError, B3nResponseError
from b3n._transcription import (
    TRANSCRIPTION_MAX_BYTES,
    Transcription,
    build_transcription_form,
    parse_transcription,
    read_audio,
    sniff_audio_extension,
    subtitles_to_text,
)


def test_transcription_form() -> None:
    assert build_transcription_form() == {"model": "whisper-1", "response_format": "json"}
    form = build_transcription_form(
        language="EN", prompt="B3n", temperature=0.2, response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )
    assert form == {
        "model": "whisper-1", "response_format": "verbose_json", "language": "en", "prompt": "B3n",
        "temperature": "0.2", "timestamp_granularities[]": ["word", "segment"],
    }


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"response_format": "xml"}, "response_format='xml'"),
        ({"timestamp_granularities": ["word"]}, "needs response_format='verbose_json'"),
        ({"response_format": "verbose_json", "timestamp_granularities": ["char"]}, "'word', 'segment'"),
        ({"language": "English"}, "ISO-639-1"),
        ({"temperature": 1.5}, "from 0 to 1"),
        ({"model": "dall-e-3"}, "transcription"),
    ],
)
def test_transcription_form_rejects(kwargs: dict[str, object], needle: str) -> None:
    with pytest.raises(B3nInvalidRequestError) as info:
        build_transcription_form(**kwargs)  # type: ignore[arg-type]
    assert needle in str(info.value)


def test_read_audio_inputs(tmp_path: Path) -> None:
    wav = b"RIFF\0\0\0\0WAVEfmt " + b"\0" * 20
    path = tmp_path / "clip.wav"
    path.write_bytes(wav)
    assert read_audio(path) == ("clip.wav", wav, "audio/wav")
    assert read_audio(str(path), filename="renamed.mp3")[0] == "renamed.mp3"
    assert read_audio(wav) == ("audio.wav", wav, "audio/wav")
    assert read_audio(b"ID3" + b"\0" * 5)[0] == "audio.mp3"
    assert read_audio(b"\x01\x02")[0] == "audio.mp3"  # unknown bytes: default name
    with path.open("rb") as fh:
        assert read_audio(fh) == ("clip.wav", wav, "audio/wav")
    assert read_audio(io.BytesIO(wav))[0] == "audio.wav"
    assert sniff_audio_extension(b"OggS....") == "ogg"


def test_read_audio_limits(tmp_path: Path) -> None:
    big = tmp_path / "big.mp3"
    with big.open("wb") as fh:  # sparse file: the size check uses stat, nothing is read
        fh.truncate(TRANSCRIPTION_MAX_BYTES + 1)
    with pytest.raises(B3nInvalidRequestError, match="at most 25 MB"):
        read_audio(big)
    with pytest.raises(B3nInvalidRequestError, match="at most 25 MB"):
        read_audio(io.BytesIO(b"\0" * (TRANSCRIPTION_MAX_BYTES + 1)))
    with pytest.raises(B3nInvalidRequestError, match="empty"):
        read_audio(b"")
    with pytest.raises(B3nInvalidRequestError, match="does not exist"):
        read_audio(tmp_path / "missing.mp3")
    doc = tmp_path / "notes.txt"
    doc.write_text("hello")
    with pytest.raises(B3nInvalidRequestError, match=r"\.txt files cannot be transcribed"):
        read_audio(doc)
    with doc.open("r") as fh, pytest.raises(B3nInvalidRequestError, match="text mode"):
        read_audio(fh, filename="x.mp3")  # type: ignore[arg-type]
    with pytest.raises(B3nInvalidRequestError, match="Cannot transcribe a int"):
        read_audio(42)  # type: ignore[arg-type]


def _response(content: str, ctype: str) -> httpx.Response:
    return httpx.Response(200, content=content.encode(), headers={"content-type": ctype})


def test_parse_transcription_formats() -> None:
    t = parse_transcription(_response('{"text": "Hi."}', "application/json"), "json")
    assert (t.text, t.language, t.duration, t.segments) == ("Hi.", None, None, [])
    verbose = {
        "task": "transcribe", "language": "english", "duration": "2.5", "text": "Hi. Bye.",
        "segments": [{"id": 0, "start": 0, "end": 1.2, "text": " Hi."}, {"id": 1, "start": 1.2, "end": 2.5,
                                                                           "text": " Bye."}],
        "words": [{"word": "Hi", "start": 0, "end": 0.5}],
    }
    t = parse_transcription(_response(json.dumps(verbose), "application/json"), "verbose_json")
    assert t.language == "english" and t.duration == 2.5 and len(t.segments) == 2 and t.words[0].word == "Hi"
    assert [p[0] for p in t.passages(split_segments=True)] == ["Hi.", "Bye."]
    assert t.passages()[0] == ("Hi. Bye.", {"language": "english", "duration": 2.5})
    t = parse_transcription(_response("Hi there\n", "text/plain"), "text")
    assert t.text == "Hi there" and t.raw == "Hi there\n"
    vtt = "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHi\n\n00:00:01.000 --> 00:00:02.000\nthere\n"
    t = parse_transcription(_response(vtt, "text/plain"), "vtt")
    assert t.text == "Hi there" and t.raw == vtt


def test_parse_transcription_bad_bodies() -> None:
    with pytest.raises(B3nResponseError):
        parse_transcription(_response("<html>oops</html>", "text/html"), "json")
    with pytest.raises(B3nResponseError):
        parse_transcription(_response('{"nope": 1}', "application/json"), "verbose_json")


def test_subtitles_to_text_skips_notes() -> None:
    assert subtitles_to_text("WEBVTT\n\nNOTE a comment\nmore\n\n00:01.000 --> 00:02.000\nHello\n") == "Hello"


def test_transcription_passages_drop_empty_segments() -> None:
    t = Transcription(text="A", segments=[{"text": " "}, {"text": "A", "start": 1, "end": 2}])
    assert t.passages(split_segments=True) == [("A", {"language": None, "duration": None, "segment": 1,
                                                      "start": 1.0, "end": 2.0})]
