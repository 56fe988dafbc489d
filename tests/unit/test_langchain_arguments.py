"""Our own arguments: unknown or misspelt ones are refused with the closest name; unknown model names warn once."""

from __future__ import annotations

import warnings

import pytest

from b3n._errors import B3nInvalidRequestError, B3nUnknownModelWarning
from langchain_b3n import B3nEmbeddings, ChatB3n


@pytest.mark.parametrize(
    ("cls", "kwargs", "expected"),
    [
        (ChatB3n, {"temprature": 0}, "unknown argument 'temprature'. Did you mean 'temperature'?"),
        (ChatB3n, {"max_token": 5}, "unknown argument 'max_token'. Did you mean 'max_tokens'?"),
        (ChatB3n, {"strem_usage": False}, "Did you mean 'stream_usage'?"),
        (B3nEmbeddings, {"dimension": 256}, "unknown argument 'dimension'. Did you mean 'dimensions'?"),
        (B3nEmbeddings, {"modle": "text-embedding-3-large"}, "Did you mean 'model'?"),
    ],
)
def test_a_misspelt_argument_is_refused_with_the_closest_name(cls: type, kwargs: dict[str, object],
                                                             expected: str) -> None:
    with pytest.raises(B3nInvalidRequestError) as info:
        cls(**kwargs)
    assert expected in str(info.value)
    assert "credential" not in str(info.value)


def test_a_credential_typo_is_not_taken_for_a_credential_and_a_credential_is_not_echoed() -> None:
    with pytest.raises(B3nInvalidRequestError, match="credential") as info:
        ChatB3n(gateway_secret="s3cr3t-value")
    assert "s3cr3t-value" not in str(info.value)


def test_an_unknown_model_name_warns_once_at_the_callers_line_with_the_closest_name() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        llm = ChatB3n(model="gpt-4o-mni", api_key="sk-test")
    unknown = [w for w in caught if issubclass(w.category, B3nUnknownModelWarning)]
    assert len(unknown) == 1
    assert "Did you mean 'gpt-4o-mini'?" in str(unknown[0].message)
    assert unknown[0].filename == __file__
    assert llm.model_name == "gpt-4o-mni"  # still sent as written


def test_an_unknown_embedding_model_warns_with_the_closest_name() -> None:
    with pytest.warns(B3nUnknownModelWarning, match="Did you mean 'text-embedding-3-large'") as caught:
        B3nEmbeddings(model="text-embeding-3-large")
    assert caught[0].filename == __file__


def test_a_catalog_model_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ChatB3n(model="claude-3-5-sonnet-latest", frequency_penalty=0.1, request_timeout=5, organization="org-1")
        B3nEmbeddings(model="text-embedding-3-small", chunk_size=100, tiktoken_enabled=False)
