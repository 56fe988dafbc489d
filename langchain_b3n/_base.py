"""``B3nSettings``: the connection settings every LangChain class of this package shares.

``ChatB3n``, ``B3nEmbeddings`` and the media tools inherit it; ``B3nWhisperParser`` (not a
pydantic model) holds one. Building the :class:`~b3n.B3nConfig`, the lazily built clients, the
one cache-invalidation rule and the pickle policy come from ``b3n._settings.ClientSettings``.

Example:
    >>> from langchain_b3n import ChatB3n
    >>> llm = ChatB3n(api_key="sk-test", base_url="http://127.0.0.1:9/v1", max_retries=0)
    >>> llm.b3n_config().max_retries, "sk-test" in repr(llm)
    (0, False)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from langchain_core.utils import from_env, secret_from_env
from pydantic import AliasChoices, ConfigDict, Field, SecretStr

from b3n._config import ENV_API_KEY, ENV_BASE_URL, redact_url
from b3n._errors import B3nError
from b3n._lazy import httpx
from b3n._settings import ClientSettings, RedactedHeaders, RedactedProxy, known_argument_names
from langchain_b3n._arguments import EXTRA_HINT, check_arguments
from langchain_b3n.errors import to_langchain_error

#: the settings every LangChain class takes (docs/configuration.md's settings table is checked against it).
SETTINGS_FIELDS = frozenset({
    "api_key", "base_url", "timeout", "stream_idle_timeout", "total_timeout", "max_retries", "default_headers",
    "verify", "proxy",
    "http_client", "http_async_client", "relay_probe_cache",
})
#: the request options of the chat model (docs/configuration.md's chat options table is checked against it).
CHAT_OPTION_FIELDS = frozenset({
    "reasoning_effort", "thinking_budget", "logprobs", "top_logprobs", "n", "extra_body", "include_request_id",
    "api_format",
})


class B3nSettings(ClientSettings):
    """Connection settings: key, URL, timeouts, retries, headers, TLS, proxy and your own httpx clients.

    Example:
        >>> settings = B3nSettings(api_key="sk-test", base_url="http://127.0.0.1:9/v1", timeout=5)
        >>> settings.client.config.timeout, "sk-test" in repr(settings)
        (5.0, False)
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, protected_namespaces=(), populate_by_name=True)

    b3n_settings_fields: ClassVar[frozenset[str]] = SETTINGS_FIELDS | {"organization"}
    #: arguments of the matching langchain-openai class refused with a reason (see ``langchain_b3n._arguments``).
    b3n_refused_arguments: ClassVar[Mapping[str, tuple[tuple[Any, ...], str]]] = {}
    #: how an unknown argument's error says to send a field this class does not know.
    b3n_extra_hint: ClassVar[str] = EXTRA_HINT

    def __init__(self, /, **data: Any) -> None:
        check_arguments(
            type(self).__name__, data, known_argument_names(type(self)), self.b3n_refused_arguments,
            extra_hint=self.b3n_extra_hint,
        )
        super().__init__(**data)

    api_key: SecretStr | None = Field(
        default_factory=secret_from_env(ENV_API_KEY, default=None), repr=False,
        validation_alias=AliasChoices("api_key", "openai_api_key"),
    )
    """B3n API key (``sk-...``); default: ``B3N_API_KEY``. ``openai_api_key=`` (as in langchain-openai) is the same."""
    base_url: str | None = Field(
        default_factory=from_env(ENV_BASE_URL, default=None),
        validation_alias=AliasChoices("base_url", "openai_api_base"),
    )
    """Base URL ending in ``/v1``; default: ``B3N_BASE_URL``, else ``https://api.b3n.fun/v1``."""
    timeout: float | None = Field(default=60.0, validation_alias=AliasChoices("timeout", "request_timeout"))
    """Seconds for connecting, waiting for a response and each read (``request_timeout=`` is the same)."""
    stream_idle_timeout: float | None = Field(
        default=None, validation_alias=AliasChoices("stream_idle_timeout", "stream_chunk_timeout")
    )
    """Seconds of silence allowed between two stream chunks (default: ``timeout``; ``stream_chunk_timeout=`` is
    the same)."""
    total_timeout: float | None = None
    """Cap in seconds on a whole call, retries and their waits included (default: no cap)."""
    max_retries: int = 2
    """Retries of safe failures (connection, timeout, 408/409/429/5xx) with backoff."""
    default_headers: RedactedHeaders = None
    """Extra HTTP headers on every request."""
    verify: bool | str = True
    """TLS verification: True, False or a CA bundle path."""
    proxy: RedactedProxy = Field(default=None, validation_alias=AliasChoices("proxy", "openai_proxy"))
    """HTTP(S) proxy URL (environment proxies apply too); its ``user:password@`` never shows in a view."""
    organization: str | None = Field(
        default=None, validation_alias=AliasChoices("organization", "openai_organization"), repr=False
    )
    """Sent as the ``OpenAI-Organization`` header on every request (as langchain-openai does); B3n ignores it,
    a gateway in front may not."""
    relay_probe_cache: bool = True
    """Adapt chat requests up front to what ``b3n probe`` found out about this relay (False: learn per process)."""
    # typed Any so that pydantic does not import httpx when the class is defined (see b3n._lazy); the
    # core checks the kind of client when it first builds one (a typed B3nConfigurationError otherwise)
    http_client: Any = Field(default=None, exclude=True, repr=False)
    """Use this ``httpx.Client`` instead of the shared pool (the caller owns it)."""
    http_async_client: Any = Field(default=None, exclude=True, repr=False)
    """Use this ``httpx.AsyncClient`` instead of the shared pool (the caller owns it)."""

    @property
    def lc_secrets(self) -> dict[str, str]:
        """What LangChain's ``dumpd`` / ``dumps`` replace by secret references: the key, the
        ``default_headers`` and a proxy URL with credentials (``load`` takes them from ``secrets_map``
        or the environment variables named here)."""
        secrets = {"api_key": ENV_API_KEY}
        if self.default_headers:
            secrets["default_headers"] = "B3N_DEFAULT_HEADERS"
        if self.proxy and redact_url(self.proxy) != self.proxy:
            secrets["proxy"] = "B3N_PROXY"
        return secrets

    def _b3n_config_args(self) -> dict[str, Any]:
        args = super()._b3n_config_args()
        if self.organization:
            args["default_headers"] = {**(args["default_headers"] or {}), "OpenAI-Organization": self.organization}
        return args

    def _b3n_http_clients(self) -> tuple[httpx.Client | None, httpx.AsyncClient | None]:
        return self.http_client, self.http_async_client

    def _b3n_error(self, exc: B3nError) -> Exception:
        return to_langchain_error(exc)


class B3nChatOptions(B3nSettings):
    """The connection settings plus the chat request options (fields, and per-call arguments of the same name).

    Only the chat model takes these: embeddings, media tools and loaders send no chat request. Each option is
    validated and adapted per model once, in the core (``b3n._chat.request``), for both frameworks.

    Example:
        >>> from langchain_b3n import ChatB3n
        >>> ChatB3n(model="o4-mini", reasoning_effort="high", thinking_budget=2048).reasoning_effort
        'high'
    """

    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None
    """Reasoning effort for models that take it (o-series, gpt-5, thinking models); dropped with a warning
    elsewhere."""
    thinking_budget: int | None = Field(default=None, ge=0)
    """Tokens of thinking, where the relay maps a budget (Claude ``-thinking``: sent as the ``max_tokens`` new-api
    gives 80% of to thinking; Gemini 2.5: ``thinking_config.thinking_budget``, 0 turns thinking off); dropped
    with a warning elsewhere."""
    logprobs: bool | None = None
    """Ask for the log probability of every output token (``response_metadata["logprobs"]``; accumulated over a
    stream). Models that return none (reasoning models, Claude, Gemini) get a warning and the field is not sent."""
    top_logprobs: int | None = None
    """How many most likely alternatives to return per token (0-20; needs ``logprobs=True``)."""
    n: int | None = Field(default=None, ge=1, le=128)
    """Choices per call (``generate`` returns them all; ``invoke`` the first). Only models whose relay route
    forwards ``n`` (OpenAI models); refused before sending for Claude and Gemini; never streamed."""
    extra_body: dict[str, Any] | None = None
    """Fields merged into every request body at the top level (as the OpenAI SDK's ``extra_body``)."""
    include_request_id: bool = False
    """Put the relay's request id of each successful call in ``response_metadata["request_id"]`` (on the last
    chunk of a stream); quote it to B3n support."""
    api_format: Literal["auto", "openai", "anthropic"] = "auto"
    """The route: ``"openai"`` (``/chat/completions``), ``"anthropic"`` (Claude's native ``/messages``: thinking
    with signatures, PDFs, images in tool results) or ``"auto"`` (native for Claude where ``b3n probe`` found it).
    ``response_metadata["api_format"]`` says which route answered."""


__all__ = ["CHAT_OPTION_FIELDS", "SETTINGS_FIELDS", "B3nChatOptions", "B3nSettings"]
