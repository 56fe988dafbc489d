"""What the two frameworks' settings bases share: config from fields, lazy clients, one invalidation rule, pickling.

``langchain_b3n._base.B3nSettings`` and ``llama_index_b3n._base.B3nSettings`` declare the
connection fields in their framework's words (``base_url`` / ``api_base``, ...) and subclass
:class:`ClientSettings`, which does the rest once:

- **config**: :meth:`ClientSettings.b3n_config` builds the :class:`~b3n.B3nConfig` from the
  fields (explicit value > environment > default) and is checked at construction, so a bad
  setting fails there with a typed error and no I/O;
- **one cache rule**: the config and the two clients are built on first use and dropped when any
  settings field changes (assignment, or ``model_copy(update=...)``); a deep copy builds its own;
- **pickling**: a pickle never carries the API key, nor a live client; on load the key is read
  from ``B3N_API_KEY`` again;
- **views**: ``repr`` and ``model_dump`` (so LlamaIndex ``to_dict`` / ``to_json`` / ``to_payload``)
  show ``default_headers`` names with ``***`` values and ``proxy`` without its ``user:password@``.

Example:
    >>> from langchain_b3n import B3nEmbeddings
    >>> emb = B3nEmbeddings(api_key="sk-test", base_url="http://127.0.0.1:9/v1")
    >>> emb.client is emb.client, emb.client.config.base_url
    (True, 'http://127.0.0.1:9/v1')
    >>> emb.base_url = "http://127.0.0.1:10/v1"      # a settings change drops the built client
    >>> emb.client.config.base_url
    'http://127.0.0.1:10/v1'
"""

from __future__ import annotations

import copy
import functools
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import AliasChoices, BaseModel, ConfigDict, PrivateAttr, SecretStr, ValidationError
from pydantic_core import core_schema

from b3n._config import ENV_API_KEY, B3nConfig, redact_headers, redact_url, resolve_config
from b3n._errors import B3nConfigurationError, B3nError, B3nInvalidRequestError
from b3n._lazy import httpx
from b3n._suggest import TYPO_CUTOFF, closest, unknown_argument_error

if TYPE_CHECKING:  # the clients (transport, retry, pricing, ...) load with the first client: ~15 ms off the import
    from pydantic import GetCoreSchemaHandler

    from b3n._client import AsyncB3nClient, B3nClient


@dataclass(frozen=True)
class _ShownAs:
    """Field metadata: every serialised view of the value (``model_dump``, JSON, ``dumpd``) is ``shown(value)``.

    (What ``@field_serializer`` does, declared on the field's type; it spares importing pydantic's serializer
    decorators, ~3 ms of every import.)
    """

    shown: Callable[[Any], Any]

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        schema = dict(handler(source))
        schema["serialization"] = core_schema.plain_serializer_function_ser_schema(self.shown)
        return schema


#: ``default_headers``: header values never show in a serialised view (names do).
RedactedHeaders = Annotated[dict[str, str] | None, _ShownAs(redact_headers)]
#: ``proxy``: its ``user:password@`` never shows in a serialised view.
RedactedProxy = Annotated[str | None, _ShownAs(redact_url)]

#: private attributes that hold what is built from the settings (never pickled, dropped on a change).
_BUILT = ("_b3n_config", "_b3n_client", "_b3n_async_client")


#: settings fields passed to :func:`~b3n.resolve_config` under their own name (the URL field's name differs per
#: framework: :attr:`ClientSettings.b3n_base_url_field`).
_CONFIG_ARGS = (
    "api_key", "timeout", "stream_idle_timeout", "total_timeout", "max_retries", "default_headers", "verify", "proxy",
    "relay_probe_cache",
)

#: numeric settings (timeouts, retries, batch sizes, concurrency): a value pydantic refuses is a configuration error.
NUMERIC_SETTINGS = frozenset({
    "timeout", "stream_idle_timeout", "total_timeout", "max_retries", "batch_size", "embed_batch_size",
    "max_batch_tokens", "max_concurrency",
})

#: constructor arguments no class takes that look like credentials: refused, never stored or sent.
CREDENTIAL_LIKE = re.compile(r"(api_?key|_token|^token|secret|password|credentials?)$", re.IGNORECASE)


def credential_like_error(name: str, where: str) -> B3nInvalidRequestError:
    """The refusal of an argument ``where`` does not take whose name looks like a credential (its value unshown)."""
    return B3nInvalidRequestError(
        f"{name!r} is not an argument of {where} and looks like a credential, so it is neither kept nor sent "
        "(it would reach request bodies, logs and callbacks). Pass the B3n key as api_key= (openai_api_key= is "
        "the same), or set B3N_API_KEY."
    )


@functools.cache
def known_argument_names(cls: type[BaseModel]) -> frozenset[str]:
    """Every name a pydantic class accepts for its fields: names, aliases and validation aliases."""
    names: set[str] = set()
    for name, info in cls.model_fields.items():
        names.add(name)
        if info.alias:
            names.add(info.alias)
        if isinstance(info.validation_alias, str):
            names.add(info.validation_alias)
        elif isinstance(info.validation_alias, AliasChoices):
            names.update(c for c in info.validation_alias.choices if isinstance(c, str))
    return frozenset(names)


#: chat request options both frameworks' chat classes take as fields and as per-call arguments; each is a
#: keyword argument of :func:`b3n._chat.request.build_chat_request`, validated and adapted per model there.
CHAT_REQUEST_OPTIONS = ("reasoning_effort", "thinking_budget", "logprobs", "top_logprobs", "n", "api_format")


def chat_request_options(settings: BaseModel, call: dict[str, Any]) -> dict[str, Any]:
    """The chat request options of one call: each from ``call`` (removed from it) else the instance's field.

    Example:
        >>> from langchain_b3n import ChatB3n
        >>> call = {"logprobs": True, "seed": 1}
        >>> options = chat_request_options(ChatB3n(reasoning_effort="low"), call)
        >>> options["reasoning_effort"], options["logprobs"], call
        ('low', True, {'seed': 1})
    """
    options = {name: call.pop(name, getattr(settings, name, None)) for name in CHAT_REQUEST_OPTIONS}
    options["api_format"] = options["api_format"] or "auto"
    return options


def _is_live(value: Any) -> bool:
    from b3n._client import AsyncB3nClient, B3nClient

    return isinstance(value, httpx.Client | httpx.AsyncClient | B3nClient | AsyncB3nClient)


def api_key_from_env() -> SecretStr | None:
    """``B3N_API_KEY`` as a secret, or None when unset or empty."""
    value = os.environ.get(ENV_API_KEY)
    return SecretStr(value) if value else None


class ClientSettings(BaseModel):
    """Config, lazily built clients, invalidation and pickle policy for a settings base (see the module)."""

    # The bases are never validated themselves (only the framework classes are), so their validators are built
    # on first use only (a few ms off each facade's import). Each public subclass sets defer_build=False again.
    model_config = ConfigDict(defer_build=True)

    #: names of the fields the config and clients are built from (the framework base sets it).
    b3n_settings_fields: ClassVar[frozenset[str]] = frozenset()
    #: further fields whose change drops the caches (a subclass adds its own, e.g. ``capabilities``).
    b3n_cache_fields: ClassVar[frozenset[str]] = frozenset()
    #: the field holding the relay URL, in the framework's word (LangChain ``base_url``, LlamaIndex ``api_base``).
    b3n_base_url_field: ClassVar[str] = "base_url"

    _b3n_config: B3nConfig | None = PrivateAttr(default=None)
    _b3n_client: B3nClient | None = PrivateAttr(default=None)
    _b3n_async_client: AsyncB3nClient | None = PrivateAttr(default=None)

    def __init__(self, /, **data: Any) -> None:
        known = known_argument_names(type(self))
        for name in data:
            if name not in known and CREDENTIAL_LIKE.search(name):
                # Refused here, before pydantic, whose errors repeat input values.
                if closest(name, known, cutoff=TYPO_CUTOFF):  # a misspelt argument (max_token), not a credential
                    raise self._b3n_error(unknown_argument_error(name, known, where=type(self).__name__))
                raise self._b3n_error(credential_like_error(name, type(self).__name__))
        try:
            super().__init__(**data)
        except ValidationError as exc:
            numeric = [e for e in exc.errors() if e["loc"] and e["loc"][0] in NUMERIC_SETTINGS]
            if not numeric or len(numeric) != len(exc.errors()):
                raise
            shown = "; ".join(f"{e['loc'][0]}: {e['msg']}, got {e['input']!r}" for e in numeric)
            raise self._b3n_error(B3nConfigurationError(
                f"{shown}. Timeouts are finite numbers of seconds > 0 (or None), max_retries a whole number >= 0, "
                "batch sizes and max_concurrency whole numbers >= 1."
            )) from None
        try:
            self.b3n_config()  # bad settings fail now (typed, no I/O), not at the first call
        except B3nError as exc:
            raise self._b3n_error(exc) from None

    # -- what the framework base provides ------------------------------------------------------

    def _b3n_config_args(self) -> dict[str, Any]:
        """Keyword arguments of :func:`b3n.resolve_config` taken from the fields."""
        args = {name: getattr(self, name) for name in _CONFIG_ARGS}
        args["base_url"] = getattr(self, self.b3n_base_url_field)
        return args

    def _b3n_http_clients(self) -> tuple[httpx.Client | None, httpx.AsyncClient | None]:
        """The user's own httpx clients, if any."""
        return None, None

    def _b3n_error(self, exc: B3nError) -> Exception:
        """The error to raise for a core error at construction (a framework may wrap it)."""
        return exc

    # -- built on first use ---------------------------------------------------------------------

    def b3n_config(self) -> B3nConfig:
        """The :class:`~b3n.B3nConfig` these settings describe (built once, until a setting changes)."""
        if self._b3n_config is None:
            self._b3n_config = resolve_config(**self._b3n_config_args())
        return self._b3n_config

    @property
    def client(self) -> B3nClient:
        """The blocking :class:`~b3n.B3nClient` for these settings (built on first use)."""
        if self._b3n_client is None:
            from b3n._client import B3nClient

            self._b3n_client = B3nClient(config=self.b3n_config(), http_client=self._b3n_http_clients()[0])
        return self._b3n_client

    @property
    def async_client(self) -> AsyncB3nClient:
        """The :class:`~b3n.AsyncB3nClient` for these settings (built on first use)."""
        if self._b3n_async_client is None:
            from b3n._client import AsyncB3nClient

            self._b3n_async_client = AsyncB3nClient(
                config=self.b3n_config(), http_client=self._b3n_http_clients()[1]
            )
        return self._b3n_async_client

    def _reset_caches(self) -> None:
        """Drop everything built from the settings (a subclass extends it for its own caches)."""
        for name in _BUILT:
            setattr(self, name, None)

    # -- the one invalidation rule ----------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name in self.b3n_settings_fields or name in self.b3n_cache_fields:
            self._reset_caches()

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Any:
        copied = super().model_copy(update=update, deep=deep)
        if update and not (self.b3n_settings_fields | self.b3n_cache_fields).isdisjoint(update):
            copied._reset_caches()
        return copied

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Any:
        memo = {} if memo is None else memo
        for name in _BUILT:
            built = getattr(self, name)
            if built is not None:
                memo[id(built)] = None  # a copy builds its own clients (a user's http_client may not deep-copy)
        for value in (*self.__dict__.values(), *(self.__pydantic_private__ or {}).values()):
            if isinstance(value, httpx.Client | httpx.AsyncClient):
                memo[id(value)] = value  # shared, as a shallow copy would
        return super().__deepcopy__(memo)

    # -- serialised views: header values and proxy credentials never show ---------------------

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            if name == "default_headers":
                yield name, redact_headers(value)
            elif name == "proxy":
                yield name, redact_url(value)
            else:
                yield name, value

    # -- pickle policy ------------------------------------------------------------------------

    def __getstate__(self) -> dict[Any, Any]:
        state = super().__getstate__()
        fields = {k: (None if _is_live(v) else v) for k, v in state["__dict__"].items() if k != "api_key"}
        private = {k: (None if k in _BUILT or _is_live(v) else v)
                   for k, v in (state.get("__pydantic_private__") or {}).items()}
        return {**state, "__dict__": fields, "__pydantic_private__": private}

    def __setstate__(self, state: dict[Any, Any]) -> None:
        state = copy.copy(state)
        fields = dict(state["__dict__"])
        if "api_key" in type(self).model_fields:
            fields["api_key"] = api_key_from_env()
        state["__dict__"] = fields
        super().__setstate__(state)
        if "api_key" in type(self).model_fields:
            self.__dict__["api_key"] = fields["api_key"]


SettingsT = TypeVar("SettingsT", bound=ClientSettings)


class SettingsClients(Generic[SettingsT]):
    """``client`` / ``async_client`` of a plain class that keeps its connection settings in ``self._settings``.

    The audio loaders and the LlamaIndex tool spec are not pydantic models; they hold a settings base
    (:class:`ClientSettings`) and hand out its lazily built clients.
    """

    _settings: SettingsT

    @property
    def client(self) -> B3nClient:
        """The blocking :class:`~b3n.B3nClient` for these settings (built on first use)."""
        return self._settings.client

    @property
    def async_client(self) -> AsyncB3nClient:
        """The :class:`~b3n.AsyncB3nClient` for these settings (built on first use)."""
        return self._settings.async_client


__all__ = ["ClientSettings", "SettingsClients", "api_key_from_env"]
