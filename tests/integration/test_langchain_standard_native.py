"""langchain-tests ``ChatModelIntegrationTests`` for ChatB3n on Claude's native route (``api_format="anthropic"``).

Against the emulator's new-api profile (which serves ``/v1/messages``), with what the native route adds turned on:
PDF inputs, PDF and image tool messages, Anthropic-format inputs (``tool_use`` / ``image`` + ``source`` /
``thinking`` blocks, ``cache_control`` on tools and text) and cache read/write token details. The standard tests
download their sample PDF and PNG from the internet; here those downloads are answered with local files of the
same kind (tests run on loopback only), and the model still receives them as base64 data or URLs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessage
from langchain_tests.integration_tests import ChatModelIntegrationTests

from b3n.testing import Emulator
from langchain_b3n import ChatB3n
from tests.langchain_catalog_flags import CatalogFlags
from tests.native_inputs import pdf, png

KEY = "sk-native-standard-0123456789abcdefghijklmnopqrstuvwxyz"
_LOCAL = {".pdf": pdf(), ".png": png(8, 8)}
_real_get = httpx.get


def _local_get(url: Any, *args: Any, **kwargs: Any) -> httpx.Response:
    """The standard tests' sample downloads, served from local files; anything else is refused."""
    for suffix, data in _LOCAL.items():
        if str(url).endswith(suffix):
            return httpx.Response(200, content=data, request=httpx.Request("GET", str(url)))
    raise AssertionError(f"unexpected download in a loopback-only test: {url}")


@pytest.fixture(scope="module")
def native_relay() -> Iterator[Emulator]:
    with Emulator(relay="new-api", api_key=KEY) as emu:
        yield emu


class TestChatB3nClaudeNative(CatalogFlags, ChatModelIntegrationTests):
    model_id = "claude-3-5-sonnet-latest"
    base_url = ""

    @pytest.fixture(autouse=True)
    def _native(self, native_relay: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
        type(self).base_url = native_relay.base_url
        monkeypatch.setattr(httpx, "get", _local_get)
        native_relay.reset()
        yield
        assert native_relay.count("chat") == 0  # every call took the native route

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": self.model_id, "api_key": KEY, "base_url": self.base_url, "max_retries": 0,
                "api_format": "anthropic"}

    @property
    def model_override_value(self) -> str:
        return "claude-3-5-haiku-latest"

    supports_json_mode = False  # the Messages API has no JSON mode (refused before sending)
    supports_pdf_inputs = True
    supports_pdf_tool_message = True
    supports_image_tool_message = True
    supports_anthropic_inputs = True
    supports_image_inputs = True
    supports_image_urls = True

    @property
    def supported_usage_metadata_details(self) -> dict[str, Any]:
        details = ["cache_read_input", "cache_creation_input"]
        return {"invoke": details, "stream": details}

    def _cached(self, text: str, *, stream: bool) -> AIMessage:
        llm = ChatB3n(**self.chat_model_params)
        messages: Any = [("system", [{"type": "text", "text": text, "cache_control": {"type": "ephemeral"}}]),
                         ("user", "say 1")]
        if not stream:
            return llm.invoke(messages)
        full: Any = None
        for chunk in llm.stream(messages):
            full = chunk if full is None else full + chunk
        assert isinstance(full, AIMessage)
        return full

    def invoke_with_cache_creation_input(self, *, stream: bool = False) -> AIMessage:
        return self._cached(f"Handbook {uuid.uuid4()}. " + "Section text. " * 200, stream=stream)

    def invoke_with_cache_read_input(self, *, stream: bool = False) -> AIMessage:
        text = f"Handbook {uuid.uuid4()}. " + "Section text. " * 200
        self._cached(text, stream=stream)
        return self._cached(text, stream=stream)
