"""Image inputs through ChatB3n, with local images (the standard multimodal tests download theirs).

Covers LangChain v1 ``image`` blocks (base64 and URL), legacy ``source_type`` blocks,
Anthropic-style ``source`` blocks and OpenAI ``image_url`` parts, for every vision family,
and the typed error, before any request, for models that take no images.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from langchain_core.exceptions import ModelInvalidRequestError
from langchain_core.messages import HumanMessage

from b3n._errors import B3nBadRequestError, B3nInvalidRequestError
from b3n.testing import Emulator
from langchain_b3n import ChatB3n
from tests.native_inputs import png

PNG = png()
B64 = base64.b64encode(PNG).decode()
DATA_URL = f"data:image/png;base64,{B64}"
URL = "https://example.com/images/cat.png"

BLOCKS: dict[str, tuple[dict[str, Any], str]] = {
    "v1-base64": ({"type": "image", "base64": B64, "mime_type": "image/png"}, DATA_URL),
    "v1-url": ({"type": "image", "url": URL}, URL),
    "legacy-base64": ({"type": "image", "source_type": "base64", "data": B64, "mime_type": "image/png"}, DATA_URL),
    "legacy-url": ({"type": "image", "source_type": "url", "url": URL}, URL),
    "anthropic-source": (
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": B64}},
        DATA_URL,
    ),
    "openai-image_url": ({"type": "image_url", "image_url": {"url": DATA_URL}}, DATA_URL),
}


@pytest.mark.parametrize("block_name", sorted(BLOCKS))
@pytest.mark.parametrize("model", ["gpt-4o-mini", "claude-3-5-sonnet-latest", "gemini-1.5-flash-latest"])
def test_image_blocks_reach_vision_models(
    base_url: str, api_key: str, emulator: Emulator, model: str, block_name: str
) -> None:
    block, expected_url = BLOCKS[block_name]
    llm = ChatB3n(model=model, api_key=api_key, base_url=base_url)
    message = HumanMessage(content=[{"type": "text", "text": "Describe the weather in this image."}, block])
    reply = llm.invoke([message])
    rec = emulator.last_request("chat")
    assert rec is not None
    parts = rec.json["messages"][0]["content"]
    assert parts[0] == {"type": "text", "text": "Describe the weather in this image."}
    assert parts[1] == {"type": "image_url", "image_url": {"url": expected_url}}
    # the scripted model saw exactly one image, decoded to its real size when inline
    assert "1 image" in reply.text
    if expected_url == DATA_URL:
        assert f"{len(PNG)} bytes" in reply.text


def test_several_images_and_detail(base_url: str, api_key: str, emulator: Emulator) -> None:
    llm = ChatB3n(model="gpt-4o-mini", api_key=api_key, base_url=base_url)
    content: list[Any] = [
        "Compare these.",
        {"type": "image_url", "image_url": {"url": URL, "detail": "low"}},
        {"type": "image", "base64": B64, "mime_type": "image/png"},
    ]
    full = None
    for chunk in llm.stream([HumanMessage(content=content)]):
        full = chunk if full is None else full + chunk
    assert full is not None and "2 images" in full.text
    rec = emulator.last_request("chat")
    assert rec is not None
    assert rec.json["messages"][0]["content"][1] == {"type": "image_url", "image_url": {"url": URL, "detail": "low"}}


@pytest.mark.parametrize("model", ["o1-mini", "gpt-4", "gpt-3.5-turbo"])
@pytest.mark.parametrize("mode", ["invoke", "stream"])
def test_text_only_models_refuse_images_before_any_request(
    base_url: str, api_key: str, emulator: Emulator, model: str, mode: str
) -> None:
    llm = ChatB3n(model=model, api_key=api_key, base_url=base_url)
    message = HumanMessage(content=["What is this?", BLOCKS["v1-base64"][0]])
    with pytest.raises(B3nInvalidRequestError, match="does not take image inputs") as info:
        if mode == "invoke":
            llm.invoke([message])
        else:
            list(llm.stream([message]))
    assert isinstance(info.value, ModelInvalidRequestError)
    assert emulator.count("chat") == 0


def test_capabilities_override_lets_images_through(base_url: str, api_key: str, emulator: Emulator) -> None:
    llm = ChatB3n(model="gpt-4", api_key=api_key, base_url=base_url, capabilities={"image_inputs": True})
    assert llm.profile is not None and llm.profile["image_inputs"] is True
    message = HumanMessage(content=["What is this?", BLOCKS["v1-url"][0]])
    # the request is sent; the relay (here the emulator, like OpenAI) has the last word on gpt-4 images
    with pytest.raises(B3nBadRequestError, match="image_url") as info:
        llm.invoke([message])
    assert isinstance(info.value, ModelInvalidRequestError)
    assert emulator.count("chat") == 1


def test_bad_image_blocks_are_typed_errors(base_url: str, api_key: str, emulator: Emulator) -> None:
    llm = ChatB3n(model="gpt-4o-mini", api_key=api_key, base_url=base_url)
    for block in ({"type": "image", "file_id": "file-1"}, {"type": "image", "base64": B64}):
        with pytest.raises(B3nInvalidRequestError) as info:
            llm.invoke([HumanMessage(content=["x", block])])
        assert isinstance(info.value, ModelInvalidRequestError)
    assert emulator.count("chat") == 0
