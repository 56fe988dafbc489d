"""Configuration precedence, validation and secrecy."""

from __future__ import annotations

import pickle
import warnings
from typing import Any

import pytest
from pydantic import SecretStr

from b3n import B3nClient, get_model_info
from b3n._catalog import MODELS
from b3n._config import DEFAULT_BASE_URL, resolve_config
from b3n._errors import B3nConfigurationError

KEY = "sk-secretsecretsecret"


def test_precedence_argument_over_env_over_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_config().base_url == DEFAULT_BASE_URL
    monkeypatch.setenv("B3N_BASE_URL", "https://relay.example/v1/")
    monkeypatch.setenv("B3N_API_KEY", "sk-env")
    cfg = resolve_config()
    assert cfg.base_url == "https://relay.example/v1"
    assert cfg.api_key is not None and cfg.api_key.get_secret_value() == "sk-env"
    explicit = resolve_config(api_key="sk-arg", base_url="https://other.example/v1")
    assert explicit.api_key is not None and explicit.api_key.get_secret_value() == "sk-arg"
    assert explicit.base_url == "https://other.example/v1"


def test_origin_for_account_endpoint() -> None:
    assert resolve_config(base_url="https://api.b3n.fun/v1").origin == "https://api.b3n.fun"


@pytest.mark.parametrize("url", ["api.b3n.fun/v1", "ftp://x/v1", "https://", "https://x/v1?a=1", ""])
def test_malformed_base_url_refused(url: str) -> None:
    with pytest.raises(B3nConfigurationError, match="base_url"):
        resolve_config(base_url=url or " ")


def test_missing_key_is_an_error_only_at_call_time() -> None:
    cfg = resolve_config()
    with pytest.raises(B3nConfigurationError, match="B3N_API_KEY"):
        cfg.require_api_key()
    with pytest.raises(B3nConfigurationError, match="System token"):
        cfg.require_access_token()


def test_key_never_in_repr_str_or_pickle() -> None:
    cfg = resolve_config(api_key=KEY, access_token="tok-secret-123")
    client = B3nClient(config=cfg)
    for text in (repr(cfg), str(cfg), repr(client)):
        assert KEY not in text and "tok-secret-123" not in text
    pickled = pickle.dumps(cfg)
    assert KEY.encode() not in pickled


def test_plain_http_to_remote_host_warns_but_loopback_does_not() -> None:
    with pytest.warns(UserWarning, match="plain http"):
        resolve_config(api_key=KEY, base_url="http://relay.example/v1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resolve_config(api_key=KEY, base_url="http://127.0.0.1:9/v1")
        resolve_config(api_key=KEY, base_url="http://localhost:9/v1")


def test_bad_numbers_refused() -> None:
    with pytest.raises(B3nConfigurationError):
        resolve_config(max_retries=-1)
    with pytest.raises(B3nConfigurationError):
        resolve_config(timeout=0)


def test_catalog_covers_every_documented_model() -> None:
    documented = {
        "gpt-3.5-turbo", "gpt-4", "gpt-4-turbo", "gpt-4o", "gpt-4o-mini", "o1-preview", "o1-mini", "gpt-4-all",
        "gpt-4o-all", "gpts", "search-gpts", "claude-3-opus-latest", "claude-3-5-sonnet-latest",
        "claude-3-5-haiku-latest", "gemini-1.5-flash-latest", "gemini-1.5-pro-latest", "dall-e-3",
        "text-embedding-ada-002", "text-embedding-3-small", "text-embedding-3-large", "tts-1", "tts-1-hd", "whisper-1",
    }
    assert documented <= set(MODELS)


def test_catalog_capabilities_follow_the_docs() -> None:
    assert get_model_info("gpt-4o-mini").image_inputs and get_model_info("gpt-4o-mini").json_schema
    assert not get_model_info("gpt-3.5-turbo").image_inputs
    assert not get_model_info("o1-mini").tool_calling and not get_model_info("o1-mini").streaming
    assert get_model_info("claude-3-5-sonnet-latest").structured_output_method == "function_calling"
    assert get_model_info("gemini-1.5-pro-latest").structured_output_method == "function_calling"
    assert get_model_info("gpt-4o").structured_output_method == "json_schema"
    assert get_model_info("o1-mini").structured_output_method is None
    assert get_model_info("text-embedding-3-large").embedding_dimensions == 3072
    assert not get_model_info("text-embedding-ada-002").supports_dimensions


def test_unknown_models_get_permissive_family_defaults_and_overrides() -> None:
    assert get_model_info("claude-4-opus").vendor == "anthropic" and not get_model_info("claude-4-opus").known
    assert get_model_info("o3-mini").max_tokens_param == "max_completion_tokens"
    assert get_model_info("brand-new-model").tool_calling
    assert not get_model_info("gpt-4o", {"image_inputs": False}).image_inputs
    with pytest.raises(ValueError, match="Unknown capability"):
        get_model_info("gpt-4o", {"telepathy": True})


def test_wrong_kind_of_http_client_is_refused() -> None:
    import httpx

    from b3n import AsyncB3nClient

    with pytest.raises(B3nConfigurationError, match=r"httpx\.Client"):
        B3nClient(http_client=httpx.AsyncClient())
    with pytest.raises(B3nConfigurationError, match=r"httpx\.AsyncClient"):
        AsyncB3nClient(http_client=httpx.Client())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"base_url": "ftp://relay.example/v1"}, "not an absolute http"),
        ({"base_url": "https://relay.example/v1?x=1"}, "query string"),
        ({"max_retries": -1}, "max_retries must be a whole number >= 0"),
        ({"timeout": 0}, "timeout must be a finite number of seconds > 0"),
        ({"stream_idle_timeout": -1.0}, "stream_idle_timeout must be a finite number of seconds > 0"),
        ({"api_key": "sk-a b"}, "cannot be sent in an HTTP header"),
        ({"default_headers": (("X-Team", "a\nb"),)}, "cannot be sent in an HTTP header"),
    ],
)
def test_b3n_config_built_directly_validates_like_resolve_config(kwargs: dict[str, Any], message: str) -> None:
    from b3n import B3nConfig

    with pytest.raises(B3nConfigurationError, match=message):
        resolve_config(**kwargs)
    with pytest.raises(B3nConfigurationError, match=message):
        B3nConfig(**kwargs)


def test_b3n_config_built_directly_is_normalised_like_resolve_config() -> None:
    from b3n import B3nConfig

    direct = B3nConfig(api_key=SecretStr(" sk-x\n"), base_url="https://relay.example/v1/", user_id=" 7 ",
                       default_headers=(("X-B", " 2 "), ("X-A", "1")))
    resolved = resolve_config(api_key=" sk-x\n", base_url="https://relay.example/v1/", user_id=" 7 ",
                              default_headers={"X-B": " 2 ", "X-A": "1"})
    assert direct == resolved
    assert (direct.base_url, direct.user_id, direct.default_headers) == (
        "https://relay.example/v1", "7", (("X-A", "1"), ("X-B", "2")))
    assert direct.api_key is not None and direct.api_key.get_secret_value() == "sk-x"
