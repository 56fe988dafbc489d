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

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

from pydantic import SecretStr

from b3n._chat.service import AsyncChatService, ChatService
from b3n._config import DEFAULT_QUOTA_PER_USD, B3nConfig, resolve_config
from b3n._errors import B3nConfigurationError
from b3n._lazy import httpx
from b3n._transport import AsyncTransport, SyncTransport

if TYPE_CHECKING:
    from b3n._account import AccountService, AsyncAccountService
    from b3n._audio import AsyncAudioService, AudioService
    from b3n._embeddings import AsyncEmbeddingsService, EmbeddingsService
    from b3n._images import AsyncImagesService, ImagesService
    from b3n._models import AsyncModelsService, ModelsService

_HttpT = TypeVar("_HttpT", "httpx.Client", "httpx.AsyncClient")


class _ClientBase:
    """Configuration shared by the blocking and the asyncio client (construction does no I/O)."""

    config: B3nConfig

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

    def _setup(self, http_client: httpx.Client | httpx.AsyncClient | None) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        key = "set" if self.config.api_key else None
        return f"{type(self).__name__}(base_url={self.config.base_url!r}, api_key={key})"


def _user_client(http_client: object, expected: type[_HttpT], owner: str) -> _HttpT | None:
    if http_client is None or isinstance(http_client, expected):
        return http_client
    raise B3nConfigurationError(
        f"{owner} needs an httpx.{expected.__name__} as http_client, got {type(http_client).__name__}."
    )


class B3nClient(_ClientBase):
    """Blocking client: ``chat``, ``embeddings``, ``images``, ``audio``, ``models``, ``account``.

    Construction does no I/O and needs no key; a missing key fails at the first call.
    Connection pools are shared by every client with the same ``verify``/``proxy``.
    ``http_client`` (an ``httpx.Client``) replaces the shared pool.

    Example:
        >>> from b3n.testing import Emulator
        >>> with Emulator() as emu:
        ...     client = B3nClient(api_key="sk-test", base_url=emu.base_url)
        ...     client.chat.create("gpt-4o-mini", [{"role": "user", "content": "say 1"}]).content
        '1'
    """

    transport: SyncTransport
    chat: ChatService

    def _setup(self, http_client: httpx.Client | httpx.AsyncClient | None) -> None:
        self.transport = SyncTransport(self.config, _user_client(http_client, httpx.Client, "B3nClient"))
        self.chat = ChatService(self.transport)

    @classmethod
    def from_config(cls, config: B3nConfig, http_client: httpx.Client | None = None) -> B3nClient:
        return cls(config=config, http_client=http_client)

    @cached_property
    def embeddings(self) -> EmbeddingsService:
        from b3n._embeddings import EmbeddingsService

        return EmbeddingsService(self.transport)

    @cached_property
    def images(self) -> ImagesService:
        from b3n._images import ImagesService

        return ImagesService(self.transport)

    @cached_property
    def audio(self) -> AudioService:
        from b3n._audio import AudioService

        return AudioService(self.transport)

    @cached_property
    def models(self) -> ModelsService:
        from b3n._models import ModelsService

        return ModelsService(self.transport)

    @cached_property
    def account(self) -> AccountService:
        from b3n._account import AccountService

        return AccountService(self.transport)


class AsyncB3nClient(_ClientBase):
    """asyncio twin of :class:`B3nClient` (real async I/O); ``http_client`` is an ``httpx.AsyncClient``.

    Example:
        >>> import asyncio
        >>> from b3n.testing import Emulator
        >>> with Emulator() as emu:
        ...     client = AsyncB3nClient(api_key="sk-test", base_url=emu.base_url)
        ...     reply = asyncio.run(client.chat.create("gpt-4o-mini", [{"role": "user", "content": "say 1"}]))
        >>> reply.content
        '1'
    """

    transport: AsyncTransport
    chat: AsyncChatService

    def _setup(self, http_client: httpx.Client | httpx.AsyncClient | None) -> None:
        self.transport = AsyncTransport(self.config, _user_client(http_client, httpx.AsyncClient, "AsyncB3nClient"))
        self.chat = AsyncChatService(self.transport)

    @classmethod
    def from_config(cls, config: B3nConfig, http_client: httpx.AsyncClient | None = None) -> AsyncB3nClient:
        return cls(config=config, http_client=http_client)

    @cached_property
    def embeddings(self) -> AsyncEmbeddingsService:
        from b3n._embeddings import AsyncEmbeddingsService

        return AsyncEmbeddingsService(self.transport)

    @cached_property
    def images(self) -> AsyncImagesService:
        from b3n._images import AsyncImagesService

        return AsyncImagesService(self.transport)

    @cached_property
    def audio(self) -> AsyncAudioService:
        from b3n._audio import AsyncAudioService

        return AsyncAudioService(self.transport)

    @cached_property
    def models(self) -> AsyncModelsService:
        from b3n._models import AsyncModelsService

        return AsyncModelsService(self.transport)

    @cached_property
    def account(self) -> AsyncAccountService:
        from b3n._account import AsyncAccountService

        return AsyncAccountService(self.transport)
