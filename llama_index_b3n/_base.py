"""``B3nSettings``: the connection settings every LlamaIndex class of this package shares.

``B3n`` and ``B3nEmbedding`` inherit it; ``B3nToolSpec`` and ``B3nAudioReader`` (not pydantic
models) hold one. Building the :class:`~b3n.B3nConfig`, the lazily built clients, the one
cache-invalidation rule and the pickle policy come from ``b3n._settings.ClientSettings``.

Example:
    >>> from llama_index_b3n import B3n
    >>> llm = B3n(api_key="sk-test", api_base="http://127.0.0.1:9/v1/", max_retries=0)
    >>> llm.api_base, llm.b3n_config().max_retries, "sk-test" in llm.to_json() + repr(llm)
    ('http://127.0.0.1:9/v1', 0, False)
"""

from __future__ import annotations

import os
from typing import Any, ClassVar, Literal

from llama_index.core.bridge.pydantic import ConfigDict, Field, PrivateAttr, SecretStr

from b3n._config import DEFAULT_BASE_URL, ENV_BASE_URL, normalize_base_url
from b3n._errors import B3nConfigurationError
from b3n._lazy import httpx
from b3n._settings import ClientSettings, RedactedHeaders, RedactedProxy, api_key_from_env

#: the settings every LlamaIndex class takes (docs/configuration.md's settings table is checked against it).
SETTINGS_FIELDS = frozenset({
    "api_key", "api_base", "timeout", "stream_idle_timeout", "total_timeout", "max_retries", "default_headers",
    "verify", "proxy",
    "relay_probe_cache",
})
#: the request options of the LLM (docs/configuration.md's chat options table is checked against it).
CHAT_OPTION_FIELDS = frozenset({
    "reasoning_effort", "thinking_budget", "logprobs", "top_logprobs", "include_request_id", "api_format",
})
#: constructor arguments that are settings but not fields (live objects, never serialised).
HTTP_CLIENT_ARGS = ("http_client", "async_http_client")


class B3nSettings(ClientSettings):
    """Connection settings: key, URL, timeouts, retries, headers, TLS, proxy and your own httpx clients.

    ``http_client`` / ``async_http_client`` (your own ``httpx.Client`` / ``httpx.AsyncClient``) are
    constructor arguments, kept out of ``to_dict()`` and pickles.

    Example:
        >>> settings = B3nSettings(api_key="sk-test", api_base="http://127.0.0.1:9/v1", timeout=5)
        >>> settings.client.config.timeout, "sk-test" in repr(settings)
        (5.0, False)
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, protected_namespaces=())

    b3n_settings_fields: ClassVar[frozenset[str]] = SETTINGS_FIELDS
    b3n_base_url_field: ClassVar[str] = "api_base"

    api_key: SecretStr | None = Field(default=None, exclude=True, repr=False, description="B3n API key (sk-...).")
    api_base: str = Field(default=DEFAULT_BASE_URL, description=f"Base URL (else {ENV_BASE_URL}, else the default).")
    timeout: float | None = Field(default=60.0, description="Seconds for connecting, answering and each read.")
    stream_idle_timeout: float | None = Field(
        default=None, description="Seconds of silence allowed between stream chunks (unset: timeout)."
    )
    total_timeout: float | None = Field(
        default=None, description="Cap in seconds on a whole call, retries and their waits included (unset: none)."
    )
    max_retries: int = Field(default=2, description="Retries of transient failures (429, 5xx, network).")
    default_headers: RedactedHeaders = Field(default=None, description="Extra HTTP headers on every request.")
    verify: bool | str = Field(default=True, description="TLS verification: True, False or a CA bundle path.")
    proxy: RedactedProxy = Field(default=None, description="HTTP(S) proxy URL (environment proxies apply too).")
    relay_probe_cache: bool = Field(
        default=True, description="Adapt chat requests up front to what `b3n probe` found (False: learn per process)."
    )

    # typed Any so that pydantic does not import httpx when the class is defined (see b3n._lazy)
    _http_client: Any = PrivateAttr(default=None)  # httpx.Client | None
    _async_http_client: Any = PrivateAttr(default=None)  # httpx.AsyncClient | None

    def __init__(
        self,
        /,
        *,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
        **data: Any,
    ) -> None:
        for alias, name in (("openai_api_key", "api_key"), ("openai_api_base", "api_base")):  # the OpenAI names
            if alias in data:
                value = data.pop(alias)
                if data.get(name) not in (None, ""):
                    raise B3nConfigurationError(f"Give {name}= or {alias}= (the same setting), not both.")
                data[name] = value
        key = data.get("api_key")
        if isinstance(key, SecretStr):
            key = key.get_secret_value()
        data["api_key"] = SecretStr(key) if key else api_key_from_env()
        data["api_base"] = normalize_base_url(data.get("api_base") or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL)
        super().__init__(**data)
        self._http_client = http_client
        self._async_http_client = async_http_client

    def _b3n_http_clients(self) -> tuple[httpx.Client | None, httpx.AsyncClient | None]:
        return self._http_client, self._async_http_client


class B3nChatOptions(B3nSettings):
    """The connection settings plus the chat request options (fields, and per-call arguments of the same name).

    Only the LLM takes these: embeddings, tools and readers send no chat request. Each option is validated and
    adapted per model once, in the core (``b3n._chat.request``), for both frameworks. ``n`` is a per-call
    argument only (LlamaIndex's ``OpenAI`` has no such field): ``llm.chat(messages, n=3)``.

    Example:
        >>> from llama_index_b3n import B3n
        >>> B3n(model="gemini-2.5-flash", thinking_budget=0).thinking_budget
        0
    """

    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = Field(
        default=None,
        description="Reasoning effort for models that take it (o-series, gpt-5, thinking models); dropped with a "
        "warning elsewhere.",
    )
    thinking_budget: int | None = Field(
        default=None, ge=0,
        description="Tokens of thinking where the relay maps a budget (Claude -thinking, Gemini 2.5; 0: off); "
        "dropped with a warning elsewhere.",
    )
    logprobs: bool | None = Field(
        default=None, description="Ask for per-token log probabilities (ChatResponse.logprobs); warns where none come."
    )
    top_logprobs: int | None = Field(default=None, ge=0, le=20, description="Alternatives per token (needs logprobs).")
    include_request_id: bool = Field(
        default=False, description="Put the relay's request id of each call in additional_kwargs (streams too)."
    )
    api_format: Literal["auto", "openai", "anthropic"] = Field(
        default="auto", description="The route: 'openai' (/chat/completions), 'anthropic' (Claude's native "
        "/messages) or 'auto' (native for Claude where `b3n probe` found it); additional_kwargs['api_format'] says "
        "which answered.",
    )

    def __init__(self, /, **data: Any) -> None:  # the framework class passes its own arguments through
        super().__init__(**data)


__all__ = ["CHAT_OPTION_FIELDS", "HTTP_CLIENT_ARGS", "SETTINGS_FIELDS", "B3nChatOptions", "B3nSettings"]
