"""Pure logic of ``b3n._images``: validation, payloads, parsing (no network)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from b3n._errors import B3nInvalidRequestError, B3nResponseError
from b3n._images import GeneratedImage, build_image_request, parse_image_result


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
