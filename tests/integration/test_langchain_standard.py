"""langchain-tests ``ChatModelIntegrationTests`` for ChatB3n against the local emulator (quirks on).

One subclass per model family; every capability flag is read from the model catalog.
The multimodal standard tests stay off because they download their inputs from the
internet; ``tests/integration/test_langchain_chat_vision.py`` covers the same
conversions with local images.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langchain_tests.integration_tests import ChatModelIntegrationTests

from b3n.testing import Emulator
from langchain_b3n import ChatB3n
from tests.langchain_catalog_flags import CatalogFlags

TEST_KEY = "sk-test0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL"


class _B3nIntegrationBase(CatalogFlags, ChatModelIntegrationTests):
    model_id = "gpt-4o-mini"
    override_id = "gpt-4o"
    base_url = ""

    @pytest.fixture(autouse=True)
    def _point_at_emulator(self, emulator: Emulator) -> None:
        type(self).base_url = emulator.base_url

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": self.model_id, "api_key": TEST_KEY, "base_url": self.base_url, "max_retries": 0}

    @property
    def model_override_value(self) -> str:
        return self.override_id

    @property
    def supported_usage_metadata_details(self) -> dict[str, Any]:
        if self.info.vendor == "openai":  # the relay passes OpenAI's token details through
            details = ["reasoning_output", "cache_read_input"]
            return {"invoke": details, "stream": details}
        return {"invoke": [], "stream": []}

    def _invoke(self, *, stream: bool) -> AIMessage:
        llm = ChatB3n(**self.chat_model_params)
        if not stream:
            return llm.invoke("Hello")
        full = None
        for chunk in llm.stream("Hello"):
            full = chunk if full is None else full + chunk
        assert isinstance(full, AIMessage)
        return full

    def invoke_with_reasoning_output(self, *, stream: bool = False) -> AIMessage:
        return self._invoke(stream=stream)

    def invoke_with_cache_read_input(self, *, stream: bool = False) -> AIMessage:
        return self._invoke(stream=stream)


class TestChatB3nGPT(_B3nIntegrationBase):
    model_id = "gpt-4o-mini"
    override_id = "gpt-4o"


class TestChatB3nClaude(_B3nIntegrationBase):
    model_id = "claude-3-5-sonnet-latest"
    override_id = "claude-3-5-haiku-latest"


class TestChatB3nGemini(_B3nIntegrationBase):
    model_id = "gemini-1.5-flash-latest"
    override_id = "gemini-1.5-pro-latest"


class TestChatB3nO1(_B3nIntegrationBase):
    model_id = "o1-mini"
    override_id = "o1-preview"
