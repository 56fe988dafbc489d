"""langchain-tests ``EmbeddingsUnitTests`` for B3nEmbeddings, once per embedding model (no network)."""

from __future__ import annotations

from typing import Any

from langchain_tests.unit_tests import EmbeddingsUnitTests

from langchain_b3n.embeddings import B3nEmbeddings


class _B3nEmbeddingsUnit(EmbeddingsUnitTests):
    model_id = "text-embedding-3-small"

    @property
    def embeddings_class(self) -> type[B3nEmbeddings]:
        return B3nEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": self.model_id, "api_key": "sk-unit"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {"B3N_API_KEY": "sk-from-env", "B3N_BASE_URL": "http://127.0.0.1:9/v1"},
            {"model": self.model_id},
            {"api_key": "sk-from-env", "base_url": "http://127.0.0.1:9/v1", "model": self.model_id},
        )


class TestB3nEmbeddings3SmallUnit(_B3nEmbeddingsUnit):
    model_id = "text-embedding-3-small"


class TestB3nEmbeddings3LargeUnit(_B3nEmbeddingsUnit):
    model_id = "text-embedding-3-large"


class TestB3nEmbeddingsAda002Unit(_B3nEmbeddingsUnit):
    model_id = "text-embedding-ada-002"
