"""Pure logic of the media / account / CLI modules: validation, payloads, parsing (no network)."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import httpx
import pytest

from b3n._account import ACCOUNT_CREDENTIAL_HELP, parse_account, parse_models
from b3n._errors import B3nAuthenticationError, B3nInvalidRequestError, B3nResponseError
from b3n._media import (
    TRANSCRIPTION_MAX_BYTES,
    GeneratedImage,
    Transcription,
    build_image_request,
    build_speech_request,
    build_transcription_form,
    parse_image_result,
    parse_transcription,
    read_audio,
    sniff_audio_extension,
    subtitles_to_text,
)
from b3n.cli import build_parser

# ----------------------------------------------------------------------------- images


def test_image_payload_defaults_and_options() -> None:
    assert build_image_request("a fox") == {"model": "dall-e-3", "prompt": "a fox", "n": 1, "size": "1024x1024"}
    payload = build_image_request(
        "a fox", size="1792x1024", quality="hd", style="natural", response_format="b64_json", user="u1"
    )
    assert payload == {
        "model": "dall-e-3", "prompt": "a fox", "n": 1, "size": "1792x1024", "quality": "hd",
        "style": "natural", "response_format": "b64_json", "user": "u1",
    }


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"n": 2}, "one image per call"),
        ({"n": 0}, "positive integer"),
        ({"size": "512x512"}, "'1024x1024', '1792x1024', '1024x1792'"),
        ({"quality": "ultra"}, "'standard', 'hd'"),
        ({"style": "cartoon"}, "'vivid', 'natural'"),
        ({"response_format": "png"}, "'url', 'b64_json'"),
        ({"model": "gpt-4o"}, "cannot be used for image generation"),
        ({"model": "tts-1"}, "use 'dall-e-3'"),
        ({"extra": {"prompt": "x"}}, "repeats ['prompt']"),
    ],
)
def test_image_payload_rejects_bad_options(kwargs: dict[str, object], needle: str) -> None:
    with pytest.raises(B3nInvalidRequestError) as info:
        build_image_request("a fox", **kwargs)  # type: ignore[arg-type]
    assert needle in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("prompt", ["", "   ", "x" * 4001])
def test_image_prompt_limits(prompt: str) -> None:
    with pytest.raises(B3nInvalidRequestError, match="prompt"):
        build_image_request(prompt)


def test_unknown_image_model_allows_any_wxh_size() -> None:
    payload = build_image_request("a fox", model="gpt-image-1", size="1536x1024", n=2, quality="high")
    assert payload["size"] == "1536x1024" and payload["n"] == 2 and payload["quality"] == "high"
    with pytest.raises(B3nInvalidRequestError, match="WIDTHxHEIGHT"):
        build_image_request("a fox", model="gpt-image-1", size="huge")


def test_parse_image_result_and_b64_data(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 8
    body = {"created": 7, "data": [{"b64_json": base64.b64encode(png).decode(), "revised_prompt": "A fox."}]}
    result = parse_image_result(body, "dall-e-3")
    assert result.created == 7 and result.images[0].revised_prompt == "A fox."
    assert result.images[0].data() == png
    saved = result.images[0].save(tmp_path)  # a directory: a name is picked, extension sniffed
    assert saved.parent == tmp_path and saved.suffix == ".png" and saved.read_bytes() == png
    assert "b64_json" not in repr(result.images[0])
    assert not list(tmp_path.glob(".*.part"))


@pytest.mark.parametrize("body", [{}, {"data": []}, {"data": [{"revised_prompt": "x"}]}, [1, 2]])
def test_parse_image_result_without_images(body: object) -> None:
    with pytest.raises(B3nResponseError):
        parse_image_result(body)


def test_image_data_url_and_bad_base64() -> None:
    assert GeneratedImage(url="data:image/png;base64," + base64.b64encode(b"abc").decode()).data() == b"abc"
    with pytest.raises(B3nResponseError, match="base64"):
        GeneratedImage(b64_json="not base64!!").data()
    with pytest.raises(B3nInvalidRequestError, match="http"):
        GeneratedImage(url="ftp://example.com/x.png").data()


# ----------------------------------------------------------------------------- speech


def test_speech_payload() -> None:
    assert build_speech_request("Hi") == {"model": "tts-1", "input": "Hi", "voice": "alloy"}
    payload = build_speech_request("Hi", model="tts-1-hd", voice="sage", response_format="wav", speed=0.25)
    assert payload == {"model": "tts-1-hd", "input": "Hi", "voice": "sage", "response_format": "wav", "speed": 0.25}
    assert build_speech_request("x" * 4096)["input"] == "x" * 4096


@pytest.mark.parametrize(
    ("text", "kwargs", "needle"),
    [
        ("", {}, "empty"),
        ("  \n", {}, "empty"),
        ("x" * 4097, {}, "at most 4096"),
        ("Hi", {"voice": "robot"}, "voice='robot'"),
        ("Hi", {"response_format": "ogg"}, "response_format='ogg'"),
        ("Hi", {"speed": 4.5}, "0.25 to 4.0"),
        ("Hi", {"speed": 0.1}, "0.25 to 4.0"),
        ("Hi", {"speed": True}, "out of range"),
        ("Hi", {"model": "whisper-1"}, "text to speech"),
    ],
)
def test_speech_rejects_bad_input(text: str, kwargs: dict[str, object], needle: str) -> None:
    with pytest.raises(B3nInvalidRequestError) as info:
        build_speech_request(text, **kwargs)  # type: ignore[arg-type]
    assert needle in str(info.value)


def test_speech_rejects_non_text() -> None:
    with pytest.raises(B3nInvalidRequestError, match="must be a str"):
        build_speech_request(b"bytes")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- transcription


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


# ----------------------------------------------------------------------------- account


def test_parse_account_drops_secrets_and_converts_quota() -> None:
    body = {"success": True, "message": "", "data": {
        "id": 7, "username": "ann", "display_name": "Ann", "group": "vip", "quota": 2_500_000,
        "used_quota": 500_000, "request_count": 12, "access_token": "SECRET-TOKEN", "password": "pw",
        "verification_code": "123456", "lark_id": "",
    }}
    info = parse_account(body)
    assert (info.id, info.username, info.group, info.balance_usd, info.used_usd) == (7, "ann", "vip", 5.0, 1.0)
    dumped = info.model_dump_json()
    for secret in ("SECRET-TOKEN", "access_token", "password", "123456"):
        assert secret not in repr(info) and secret not in dumped
    assert info.details == {"lark_id": ""}
    assert parse_account(body, quota_per_usd=1_000_000).balance_usd == 2.5


def test_parse_account_failure_says_which_credential() -> None:
    with pytest.raises(B3nAuthenticationError) as info:
        parse_account({"success": False, "message": "无权进行此操作，未登录且未提供 access token"})
    text = str(info.value)
    assert "System token" in text and "B3N_ACCESS_TOKEN" in text and "B3N_USER_ID" in text
    assert ACCOUNT_CREDENTIAL_HELP in text
    with pytest.raises(B3nResponseError):
        parse_account({"success": True})


def test_parse_models_attaches_catalog() -> None:
    entries = parse_models({"object": "list", "data": [
        {"id": "gpt-4o-mini", "owned_by": "openai", "created": 1}, {"id": "whisper-1"},
        {"id": "brand-new-model"}, {"bad": True},
    ]})
    assert [(m.id, m.kind, m.known) for m in entries] == [
        ("gpt-4o-mini", "chat", True), ("whisper-1", "stt", True), ("brand-new-model", None, False),
    ]
    assert entries[0].info is not None and entries[0].info.image_inputs
    with pytest.raises(B3nResponseError):
        parse_models({"data": "nope"})


# ----------------------------------------------------------------------------- cli


def test_cli_parser() -> None:
    parser = build_parser()
    args = parser.parse_args(["chat", "gpt-4o", "hi", "--system", "be brief", "--base-url", "http://x/v1"])
    assert (args.model, args.prompt, args.system, args.stream, args.base_url) == (
        "gpt-4o", "hi", "be brief", True, "http://x/v1")
    assert parser.parse_args(["emulator", "--no-quirks", "--port", "9"]).quirks is False
    help_text = parser.format_help()
    for env in ("B3N_API_KEY", "B3N_BASE_URL", "B3N_ACCESS_TOKEN", "B3N_USER_ID"):
        assert env in help_text
