"""``B3nClient`` / ``AsyncB3nClient``: every B3n endpoint behind one object.

Example (offline, against the bundled emulator):
    >>> from b3n.testing import Emulator
    >>> with Emulator() as emu:
    ...     client = B3nClient(api_key="sk-test", base_url=emu.base_url)
    ...     reply = client.chat.create("gpt-4o-mini", [{"role": "user", "content": "say 1"}])
    ...     reply.content
    '1'
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from pydantic import SecretStr

from b3n._chat_service import AsyncChatService, ChatService
from b3n._config import DEFAULT_QUOTA_PER_USD, B3nConfig, resolve_config
from b3n._errors import B3nConfigurationError
from b3n._lazy import httpx
from b3n._transport import AsyncTransport, SyncTransport

if TYPE_CHECKING:
    from typing_extensions import Self

    from b3n._account import AccountService, AsyncAccountService  # noqa: F401 (the clients' type arguments)
    from b3n._audio import AsyncAudioService, AudioService  # noqa: F401
    from b3n._embeddings import AsyncEmbeddingsService, EmbeddingsService  # noqa: F401
    from b3n._images import AsyncImagesService, ImagesService  # noqa: F401
    from b3n._models import AsyncModelsService, ModelsService  # noqa: F401



ServiceT = TypeVar("ServiceT")


class _LazyService(Generic[ServiceT]):
    """A service made on first access, one per client; its module is imported then (import cost).

    Declared once for both clients: the asyncio client gets the ``Async`` twin of the named class.
    """

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def __set_name__(self, owner: type, attribute: str) -> None:
        self.attribute = attribute

    @overload
    def __get__(self, client: None, owner: type) -> _LazyService[ServiceT]: ...
    @overload
    def __get__(self, client: Any, owner: type) -> ServiceT: ...
    def __get__(self, client: Any, owner: type) -> Any:
        if client is None:
            return self
        name = ("Async" if isinstance(client.transport, AsyncTransport) else "") + self.name
        service = getattr(importlib.import_module(self.module), name)(client.transport)
        client.__dict__[self.attribute] = service  # later reads find it there (like functools.cached_property)
        return service


TransportT = TypeVar("TransportT", SyncTransport, AsyncTransport)
ChatT = TypeVar("ChatT")
EmbeddingsT = TypeVar("EmbeddingsT")
ImagesT = TypeVar("ImagesT")
AudioT = TypeVar("AudioT")
ModelsT = TypeVar("ModelsT")
AccountT = TypeVar("AccountT")


class _ClientBase(Generic[TransportT, ChatT, EmbeddingsT, ImagesT, AudioT, ModelsT, AccountT]):
    """What the blocking and the asyncio client share: configuration and the services (construction does no I/O).

    Every service but ``chat`` is made (and its module imported) on first access.
    """

    config: B3nConfig
    transport: TransportT
    chat: ChatT
    embeddings: _LazyService[EmbeddingsT] = _LazyService("b3n._embeddings", "EmbeddingsService")
    images: _LazyService[ImagesT] = _LazyService("b3n._images", "ImagesService")
    audio: _LazyService[AudioT] = _LazyService("b3n._audio", "AudioService")
    models: _LazyService[ModelsT] = _LazyService("b3n._models", "ModelsService")
    account: _LazyService[AccountT] = _LazyService("b3n._account", "AccountService")

    def __init__(
        self,
        api_key: str | SecretStr | None = None,
        base_url: str | None = None,
        *,
        access_token: str | SecretStr | None = None,
        user_id: str | int | None = None,
        timeout: float | None = 60.0,
        stream_idle_timeout: float | None = None,
        max_retries: int = 2,
        default_headers: Mapping[str, str] | None = None,
        verify: bool | str = True,
        proxy: str | None = None,
        quota_per_usd: float = DEFAULT_QUOTA_PER_USD,
        retry_billed: bool = False,
        relay_probe_cache: bool = True,
        total_timeout: float | None = None,
        http_client: httpx.Client | httpx.AsyncClient | None = None,
        config: B3nConfig | None = None,
    ) -> None:
        self.config = config or resolve_config(
            api_key=api_key, base_url=base_url, access_token=access_token, user_id=user_id, timeout=timeout,
            stream_idle_timeout=stream_idle_timeout, max_retries=max_retries, default_headers=default_headers,
            verify=verify, proxy=proxy, quota_per_usd=quota_per_usd, retry_billed=retry_billed,
            relay_probe_cache=relay_probe_cache, total_timeout=total_timeout,
        )
        self._setup(http_client)

    #: what each client is built from (set by each of the two)
    _transport_class: type[TransportT]
    _chat_class: Callable[[TransportT], ChatT]

    @classmethod
    def from_config(cls, config: B3nConfig, http_client: httpx.Client | httpx.AsyncClient | None = None) -> Self:
        """A client for an already resolved configuration (``http_client``: as for the constructor)."""
        return cls(config=config, http_client=http_client)

    def _setup(self, http_client: httpx.Client | httpx.AsyncClient | None) -> None:
        expected = httpx.AsyncClient if self._transport_class is AsyncTransport else httpx.Client
        self.transport = self._transport_class(self.config, _user_client(http_client, expected, type(self).__name__))
        self.chat = self._chat_class(self.transport)

    def __repr__(self) -> str:
        key = "set" if self.config.api_key else None
        return f"{type(self).__name__}(base_url={self.config.base_url!r}, api_key={key})"


def _user_client(http_client: object, expected: type, owner: str) -> Any:
    """``http_client`` when it is of the ``expected`` httpx class (or None), else a typed error."""
    if http_client is None or isinstance(http_client, expected):
        return http_client
    raise B3nConfigurationError(
        f"{owner} needs an httpx.{expected.__name__} as http_client, got {type(http_client).__name__}."
    )


class B3nClient(
    _ClientBase[SyncTransport, ChatService, "EmbeddingsService", "ImagesService", "AudioService", "ModelsService",
                "AccountService"]
):
    """Blocking client: ``chat``, ``embeddings``, ``images``, ``audio``, ``models``, ``account``.

    Construction does no I/O and needs no key; a missing key fails at the first call.
    Connection pools are shared by every client with the same ``verify``/``proxy``.
    Every argument left out is read from the environment, else defaults.

    Args:
        api_key: the ``sk-`` key for ``/v1`` calls (default: ``B3N_API_KEY``).
        base_url: the relay URL ending in ``/v1`` (default: ``B3N_BASE_URL``, else ``https://api.b3n.fun/v1``).
        access_token: the system access token, only for ``account`` (default: ``B3N_ACCESS_TOKEN``).
        user_id: your numeric user id, sent with the access token (default: ``B3N_USER_ID``).
        timeout: seconds allowed for connecting, for the response and for each read.
        stream_idle_timeout: longest silence between two stream chunks (default: ``timeout``).
        max_retries: retries of transient failures (429, 5xx, timeouts, dropped connections); 0 turns them off.
        default_headers: extra headers on every request.
        verify: TLS verification: ``False`` or a CA bundle path.
        proxy: an explicit proxy URL (``HTTPS_PROXY`` and friends are honoured by default).
        quota_per_usd: the relay's quota units per US dollar (500,000 on one-api and new-api).
        retry_billed: also retry billed calls (images, speech) after failures that may have been billed.
        relay_probe_cache: adapt chat requests up front to what ``b3n probe`` found out about this relay.
        total_timeout: cap on a whole call, retries and their waits included.
        http_client: your own ``httpx.Client`` instead of the shared pool.
        config: an already resolved configuration (the other arguments are then ignored).

    Raises:
        B3nConfigurationError: a setting is malformed (a ``base_url`` that is not http(s), a negative timeout, a
            key that cannot go into a header, ``http_client`` of the wrong class).

    Example:
        >>> from b3n.testing import Emulator
        >>> with Emulator() as emu:
        ...     client = B3nClient(api_key="sk-test", base_url=emu.base_url)
        ...     client.chat.create("gpt-4o-mini", [{"role": "user", "content": "say 1"}]).content
        '1'
    """

    _transport_class = SyncTransport
    _chat_class = ChatService


class AsyncB3nClient(
    _ClientBase[AsyncTransport, AsyncChatService, "AsyncEmbeddingsService", "AsyncImagesService", "AsyncAudioService",
                "AsyncModelsService", "AsyncAccountService"]
):
    """asyncio twin of :class:`B3nClient` (real async I/O); ``http_client`` is an ``httpx.AsyncClient``.

    Takes the arguments of :class:`B3nClient`; its services' methods are coroutines (``await client.chat.create``)
    and its streams asynchronous iterators (``async for chunk in client.chat.stream(...)``).

    Example:
        >>> import asyncio
        >>> from b3n.testing import Emulator
        >>> with Emulator() as emu:
        ...     client = AsyncB3nClient(api_key="sk-test", base_url=emu.base_url)
        ...     reply = asyncio.run(client.chat.create("gpt-4o-mini", [{"role": "user", "content": "say 1"}]))
        >>> reply.content
        '1'
    """

    _transport_class = AsyncTransport
    _chat_class = AsyncChatService
