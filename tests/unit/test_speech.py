"""Pure logic of ``b3n._speech``: validation and payloads (no network)."""

from __future__ import annotations

import pytest

from b3n._errors import B3nInvalidRequestError
from b3n._speech import build_speech_request


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
