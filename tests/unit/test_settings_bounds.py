"""Every numeric setting is checked at construction: NaN, infinite, negative or fractional values fail there.

Before, ``total_timeout=nan`` became a ~1 ms deadline and ``timeout=inf`` or ``max_retries=-1`` failed every later
call with a generic error. Now each is a ``B3nConfigurationError`` that names the setting, before any I/O.
"""

from __future__ import annotations

import math
import subprocess
import sys
from typing import Any

import pytest

from b3n import AsyncB3nClient, B3nClient, B3nConfig
from b3n._errors import B3nConfigurationError
from langchain_b3n import B3nEmbeddings, ChatB3n
from llama_index_b3n import B3n, B3nEmbedding

BAD_SECONDS = [math.nan, math.inf, -math.inf, -1.0, 0]
URL = "http://127.0.0.1:9/v1"


@pytest.mark.parametrize("value", BAD_SECONDS)
@pytest.mark.parametrize("name", ["timeout", "total_timeout", "stream_idle_timeout"])
@pytest.mark.parametrize("make", [B3nClient, AsyncB3nClient, ChatB3n, B3nEmbeddings, B3n, B3nEmbedding])
def test_a_bad_timeout_fails_at_construction_naming_it(make: Any, name: str, value: float) -> None:
    with pytest.raises(B3nConfigurationError, match=name):
        make(api_key="sk-test", base_url=URL, **{name: value}) if make in (B3nClient, AsyncB3nClient) else \
            make(api_key="sk-test", **{"api_base" if make in (B3n, B3nEmbedding) else "base_url": URL, name: value})


@pytest.mark.parametrize("value", [math.nan, math.inf, -1, 1.5])
@pytest.mark.parametrize("make", [B3nClient, ChatB3n, B3nEmbeddings, B3n, B3nEmbedding])
def test_a_bad_max_retries_fails_at_construction_naming_it(make: Any, value: Any) -> None:
    with pytest.raises(B3nConfigurationError, match="max_retries"):
        make(api_key="sk-test", max_retries=value)


@pytest.mark.parametrize(("name", "value"), [
    ("max_retry_after", math.nan), ("max_retry_after", -1.0), ("max_retry_after", math.inf),
    ("quota_per_usd", math.nan), ("quota_per_usd", 0), ("quota_per_usd", math.inf),
])
def test_the_core_config_refuses_bad_caps(name: str, value: float) -> None:
    with pytest.raises(B3nConfigurationError, match=name):
        B3nConfig(**{name: value})  # type: ignore[arg-type]


@pytest.mark.parametrize(("make", "name"), [
    (B3nEmbeddings, "batch_size"), (B3nEmbeddings, "max_concurrency"), (B3nEmbeddings, "max_batch_tokens"),
    (B3nEmbedding, "embed_batch_size"), (B3nEmbedding, "max_concurrency"), (B3nEmbedding, "max_batch_tokens"),
])
@pytest.mark.parametrize("value", [math.nan, math.inf, -1, 0])
def test_bad_batch_sizes_and_concurrency_fail_at_construction_naming_them(make: Any, name: str, value: Any) -> None:
    with pytest.raises(B3nConfigurationError, match=name):
        make(api_key="sk-test", **{name: value})


@pytest.mark.parametrize("value", [math.nan, 0, -3])
def test_a_bad_per_call_concurrency_is_a_configuration_error(value: Any) -> None:
    client = B3nClient(api_key="sk-test", base_url=URL)
    with pytest.raises(B3nConfigurationError, match="max_concurrency"):
        client.embeddings.create(["a"], max_concurrency=value)
    with pytest.raises(B3nConfigurationError, match="max_concurrency"):
        ChatB3n(api_key="sk-test", base_url=URL).batch(["a"], config={"max_concurrency": value})


def test_good_values_still_pass() -> None:
    B3nClient(api_key="sk-test", base_url=URL, timeout=None, total_timeout=2.5, max_retries=0)
    ChatB3n(api_key="sk-test", base_url=URL, timeout=0.001, stream_idle_timeout=3, total_timeout=None)
    B3nConfig(max_retry_after=0.0)


def test_verify_false_warns_once_per_process() -> None:
    code = (
        "import warnings\n"
        "warnings.simplefilter('always')\n"
        "from b3n import B3nClient\n"
        "from langchain_b3n import ChatB3n\n"
        "with warnings.catch_warnings(record=True) as seen:\n"
        "    warnings.simplefilter('always')\n"
        "    B3nClient(api_key='sk-test', base_url='https://relay.invalid/v1', verify=False)\n"
        "    B3nClient(api_key='sk-test', base_url='https://relay.invalid/v1', verify=False)\n"
        "    ChatB3n(api_key='sk-test', base_url='https://relay.invalid/v1', verify=False)\n"
        "    B3nClient(api_key='sk-test', base_url='https://relay.invalid/v1')\n"
        "print([(w.category.__name__, str(w.message)[:40]) for w in seen])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.count("B3nSecurityWarning") == 1, out
    assert "verify=False" in out
