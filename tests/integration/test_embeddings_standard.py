"""langchain-tests ``EmbeddingsIntegrationTests`` for B3nEmbeddings against the emulator, once per model."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import EmbeddingsIntegrationTests

from b3n.testing import Emulator
from langchain_b3n.embeddings import B3nEmbeddings


class _B3nEmbeddingsIntegration(EmbeddingsIntegrationTests):
    model_id = "text-embedding-3-small"
    _base_url = ""
    _api_key = ""

    @pytest.fixture(autouse=True)
    def _point_at_emulator(self, emulator: Emulator, api_key: str) -> None:
        self._base_url = emulator.base_url
        self._api_key = api_key

    @property
    def embeddings_class(self) -> type[B3nEmbeddings]:
        return B3nEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": self.model_id, "base_url": self._base_url, "api_key": self._api_key}


class TestB3nEmbeddings3Small(_B3nEmbeddingsIntegration):
    model_id = "text-embedding-3-small"


class TestB3nEmbeddings3Large(_B3nEmbeddingsIntegration):
    model_id = "text-embedding-3-large"


class TestB3nEmbeddingsAda002(_B3nEmbeddingsIntegration):
    model_id = "text-embedding-ada-002"
