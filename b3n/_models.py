"""The model list (``GET /v1/models``): what the relay serves to this key, with catalog info attached.

Example (offline, against the bundled emulator):
    >>> from b3n import B3nClient
    >>> from b3n.testing import Emulator
    >>> with Emulator() as emu:
    ...     models = B3nClient(api_key="sk-test", base_url=emu.base_url).models.list()
    >>> any(m.id == "gpt-4o-mini" and m.kind == "chat" for m in models)
    True
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from b3n._body import json_or_error
from b3n._catalog import MODELS, ModelInfo
from b3n._effects import http
from b3n._errors import B3nResponseError
from b3n._json import count
from b3n._plans import Plan, Service, arun, run
from b3n._transport import AsyncTransport, SyncTransport

MODELS_PATH = "/models"
#: names of ModelEntry properties: an item key with one of these names is not kept as an extra field.
_COMPUTED = frozenset({"kind", "known"})


class ModelEntry(BaseModel):
    """One model the relay serves to this key, with the catalog's capabilities when it knows the model."""

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)

    id: str
    object: str = "model"
    owned_by: str | None = None
    created: int | None = None
    info: ModelInfo | None = Field(default=None, repr=False)

    @property
    def kind(self) -> str | None:
        """``chat``, ``embedding``, ``image``, ``tts`` or ``stt`` for catalogued models, else None."""
        return self.info.kind if self.info is not None else None

    @property
    def known(self) -> bool:
        """Whether the catalog describes this model."""
        return self.info is not None


def parse_models(body: Any) -> list[ModelEntry]:
    """Parse a ``/v1/models`` body (``{"data": [...]}`` or a bare list).

    Example:
        >>> [(m.id, m.kind) for m in parse_models({"data": [{"id": "gpt-4o"}, {"id": "mystery-1"}]})]
        [('gpt-4o', 'chat'), ('mystery-1', None)]
    """
    items = body.get("data") if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise B3nResponseError(f"B3n answered /v1/models without a model list: {str(body)[:200]!r}.")
    entries = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        fields = {k: v for k, v in item.items() if k not in _COMPUTED}
        fields["object"] = item["object"] if isinstance(item.get("object"), str) else "model"
        fields["owned_by"] = item["owned_by"] if isinstance(item.get("owned_by"), str) else None
        fields["created"] = count(item.get("created"))
        fields["info"] = MODELS.get(item["id"])
        entries.append(ModelEntry.model_validate(fields))
    return entries



# ----------------------------------------------------------------------------- services


class ModelsService(Service[SyncTransport]):
    """``client.models``: what the relay serves to this key.

    Example:
        >>> from b3n import B3nClient
        >>> from b3n.testing import Emulator
        >>> with Emulator() as emu:
        ...     ids = [m.id for m in B3nClient(api_key="sk-test", base_url=emu.base_url).models.list()]
        >>> "gpt-4o-mini" in ids
        True
    """

    def list(self) -> list[ModelEntry]:
        """The models the relay serves to this key (``GET /v1/models``).

        Returns:
            One entry per model, with the catalog's capabilities attached (``entry.info``) for models it knows.

        Raises:
            B3nConfigurationError: no API key.
            B3nAPIStatusError: the relay refused the call.
        """
        return run(_list(), self._transport)


class AsyncModelsService(Service[AsyncTransport]):
    """``client.models`` on ``AsyncB3nClient``.

    Example:
        >>> import asyncio
        >>> from b3n import AsyncB3nClient
        >>> from b3n.testing import Emulator
        >>> with Emulator() as emu:
        ...     models = asyncio.run(AsyncB3nClient(api_key="sk-test", base_url=emu.base_url).models.list())
        >>> len(models) > 10
        True
    """

    async def list(self) -> list[ModelEntry]:
        """``GET /v1/models`` as typed entries."""
        return await arun(_list(), self._transport)


def _list() -> Plan[list[ModelEntry]]:
    response = yield from http("GET", MODELS_PATH)
    return parse_models(json_or_error(response, MODELS_PATH, hint="Check base_url (it should end in /v1)."))


__all__ = ["AsyncModelsService", "ModelEntry", "ModelsService", "parse_models"]
