"""B3nEmbeddings / B3nEmbedding construction, validation and secrecy (no network)."""

from __future__ import annotations

import json
import pickle
import sys

import pytest
from langchain_core.exceptions import ModelInvalidRequestError

from b3n._errors import B3nConfigurationError, B3nInvalidRequestError
from langchain_b3n.embeddings import B3nEmbeddings
from llama_index_b3n.embeddings import B3nEmbedding

KEY = "sk-secret0123456789abcdefghijklmnopqrstuvwxyzABCDEF"


# ----------------------------------------------------------------------------- LangChain


def test_langchain_defaults_and_model_name_alias() -> None:
    emb = B3nEmbeddings(model_name="text-embedding-3-large")
    assert emb.model == "text-embedding-3-large"
    assert B3nEmbeddings().model == "text-embedding-3-small"
    assert emb.encoding_format == "auto" and emb.dimensions is None


def test_langchain_key_never_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    emb = B3nEmbeddings(api_key=KEY)
    dumped = emb.model_dump_json()
    assert KEY not in repr(emb) and KEY not in str(emb) and KEY not in dumped
    monkeypatch.delenv("B3N_API_KEY", raising=False)
    restored = pickle.loads(pickle.dumps(emb))
    assert KEY.encode() not in pickle.dumps(emb)
    assert restored.api_key is None and restored.model == emb.model


def test_langchain_pickle_rereads_key_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    data = pickle.dumps(B3nEmbeddings(api_key=KEY, dimensions=64))
    monkeypatch.setenv("B3N_API_KEY", "sk-env-key")
    restored = pickle.loads(data)
    assert restored.api_key is not None and restored.api_key.get_secret_value() == "sk-env-key"
    assert restored.dimensions == 64


def test_langchain_ada_with_dimensions_is_refused_at_construction() -> None:
    with pytest.raises(B3nInvalidRequestError, match="fixed size") as info:
        B3nEmbeddings(model="text-embedding-ada-002", dimensions=256)
    assert isinstance(info.value, ModelInvalidRequestError)  # LangChain hybrid


@pytest.mark.parametrize(("field", "value"), [("batch_size", 0), ("batch_size", 4096), ("max_concurrency", 0)])
def test_langchain_bad_batching_is_a_typed_error(field: str, value: int) -> None:
    with pytest.raises(B3nConfigurationError, match=field):
        B3nEmbeddings(**{field: value})


def test_langchain_bad_base_url_is_a_configuration_error() -> None:
    with pytest.raises(B3nConfigurationError, match="base_url"):
        B3nEmbeddings(base_url="api.b3n.fun")


def test_langchain_unknown_fields_are_refused_with_the_closest_name() -> None:
    with pytest.raises(B3nInvalidRequestError, match=r"unknown argument 'dimension'. Did you mean 'dimensions'"):
        B3nEmbeddings(dimension=256)
    assert B3nEmbeddings(chunk_size=10).batch_size == 10  # OpenAIEmbeddings' name for the same setting


def test_langchain_progress_bar_without_tqdm_says_how_to_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.raises(ImportError, match="pip install tqdm"):
        B3nEmbeddings(show_progress_bar=True)


def test_langchain_missing_key_fails_at_first_call_with_a_clear_error() -> None:
    emb = B3nEmbeddings(base_url="http://127.0.0.1:9/v1")
    with pytest.raises(B3nConfigurationError, match="B3N_API_KEY") as info:
        emb.embed_query("hi")
    assert isinstance(info.value, ModelInvalidRequestError)


# ----------------------------------------------------------------------------- LlamaIndex


def test_llamaindex_defaults() -> None:
    emb = B3nEmbedding()
    assert emb.model_name == "text-embedding-3-small"
    assert emb.embed_batch_size == 2048 and emb.max_concurrency == 16
    assert emb.class_name() == "B3nEmbedding"


def test_llamaindex_key_never_shows_in_payloads(monkeypatch: pytest.MonkeyPatch) -> None:
    emb = B3nEmbedding(api_key=KEY, dimensions=128, api_base="http://127.0.0.1:9/v1")
    for text in (repr(emb), str(emb), emb.to_json(), json.dumps(emb.to_payload()), json.dumps(emb.to_dict())):
        assert KEY not in text
    assert emb.to_payload()["dimensions"] == 128
    assert emb.to_dict()["class_name"] == "B3nEmbedding"
    monkeypatch.delenv("B3N_API_KEY", raising=False)
    data = pickle.dumps(emb)
    assert KEY.encode() not in data
    restored = pickle.loads(data)
    assert restored.api_key is None and restored.dimensions == 128 and restored.api_base == emb.api_base


def test_llamaindex_key_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("B3N_API_KEY", "sk-env-key")
    emb = B3nEmbedding()
    assert emb.api_key is not None and emb.api_key.get_secret_value() == "sk-env-key"
    assert "sk-env-key" not in emb.to_json()


def test_llamaindex_any_model_name_is_accepted() -> None:
    assert B3nEmbedding(model_name="vendor/new-embedder", dimensions=64).dimensions == 64


def test_llamaindex_ada_with_dimensions_is_refused() -> None:
    with pytest.raises(B3nInvalidRequestError, match="fixed size"):
        B3nEmbedding(model_name="text-embedding-ada-002", dimensions=256)


def test_llamaindex_batch_size_is_capped_at_2048() -> None:
    with pytest.raises(ValueError, match="2048"):
        B3nEmbedding(embed_batch_size=4096)
