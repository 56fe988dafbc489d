"""Account info (``GET /api/user/self``): who the system token belongs to, and the balance.

The account endpoint lives next to ``/v1`` (the base URL without its ``/v1``, path prefix kept:
``config.relay_root``), not under it, and takes the *system
access token* (B3n console: Account -> Personal center -> Account options -> System
token) plus the numeric user id, not the ``sk-`` key. Balances are converted to US
dollars with ``config.quota_per_usd`` (one-api's 500 000 units per dollar by default).

Example (offline, against the bundled emulator):
    >>> from b3n import B3nClient
    >>> from b3n.testing import Emulator
    >>> with Emulator() as emu:
    ...     client = B3nClient(api_key="sk-test", base_url=emu.base_url,
    ...                        access_token="emu-access-token", user_id=1)
    ...     me = client.account.whoami()
    ...     me.balance_usd >= 0
    True
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field

from b3n._body import json_or_error
from b3n._config import ENV_ACCESS_TOKEN, ENV_USER_ID, B3nConfig
from b3n._effects import http
from b3n._errors import (
    B3nAuthenticationError,
    B3nInsufficientQuotaError,
    B3nPermissionDeniedError,
    B3nResponseError,
)
from b3n._json import count, loads
from b3n._lazy import httpx
from b3n._plans import Plan, Service, arun, run
from b3n._transport import AsyncTransport, SyncTransport

ACCOUNT_PATH = "/api/user/self"

#: what to tell a person whose account call was refused.
ACCOUNT_CREDENTIAL_HELP = (
    "The account endpoint (/api/user/self) needs your B3n *system access token*, not the sk- API key: "
    f"set {ENV_ACCESS_TOKEN} (B3n console: Account -> Personal center -> Account options -> System token) "
    f"and {ENV_USER_ID} (your numeric user id, shown in the Personal center), or pass access_token=... and "
    "user_id=...."
)

#: fields of ``/api/user/self`` that are credentials or one-time codes; never kept.
_SECRET_FIELDS = frozenset({
    "password", "access_token", "sms_verification_code", "verification_code", "aff_code",
})


# ----------------------------------------------------------------------------- account


def _count(data: dict[str, Any], name: str) -> int:
    """A count field of the account (0 when absent); a value that is no whole number is a typed error."""
    value = data.get(name)
    if value is None:
        return 0
    number = count(value)
    if number is None:
        raise B3nResponseError(
            f"B3n answered /api/user/self with {name}={str(value)[:40]!r}, not a whole number from 0 to 2**53; "
            "the balance cannot be read from it. Check base_url, or ask the relay's operator."
        )
    return number


class AccountInfo(BaseModel):
    """Who the system token belongs to and how much quota is left (also in US dollars).

    Credentials in the response (password, access token, verification codes) are dropped.

    Example:
        >>> info = parse_account({"success": True, "data": {"id": 1, "username": "ann", "quota": 1_000_000,
        ...                                                "used_quota": 250_000, "access_token": "x"}})
        >>> info.balance_usd, info.used_usd, "access_token" in repr(info)
        (2.0, 0.5, False)
    """

    model_config = ConfigDict(extra="ignore")

    id: int
    username: str = ""
    display_name: str | None = None
    email: str | None = None
    group: str | None = None
    role: int | None = None
    status: int | None = None
    quota: int = 0
    used_quota: int = 0
    request_count: int = 0
    quota_per_usd: float = 500_000.0
    #: the remaining fields of the response, secrets removed.
    details: dict[str, Any] = Field(default_factory=dict, repr=False)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def balance_usd(self) -> float:
        """Remaining quota in US dollars."""
        return round(self.quota / self.quota_per_usd, 6)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def used_usd(self) -> float:
        """Quota used so far, in US dollars."""
        return round(self.used_quota / self.quota_per_usd, 6)


_ACCOUNT_FIELDS = ("id", "username", "display_name", "email", "group", "role", "status")


def parse_account(body: Any, *, quota_per_usd: float = 500_000.0) -> AccountInfo:
    """Parse an ``/api/user/self`` body; ``{"success": false}`` raises ``B3nAuthenticationError``."""
    if not isinstance(body, dict):
        raise B3nResponseError(f"B3n answered /api/user/self with {str(body)[:200]!r}, not a JSON object.")
    if body.get("success") is False:
        relay = str(body.get("message") or "request refused")
        raise B3nAuthenticationError(f"B3n refused the account request: {relay}. {ACCOUNT_CREDENTIAL_HELP}",
                                     status_code=200, body=str(body)[:300])
    data = body.get("data")
    if not isinstance(data, dict) or "id" not in data:
        raise B3nResponseError(f"B3n answered /api/user/self without user data: {str(body)[:200]!r}.")
    clean = {k: v for k, v in data.items() if k not in _SECRET_FIELDS}
    known = {k: clean[k] for k in _ACCOUNT_FIELDS if clean.get(k) is not None}
    fields = {
        **known,
        "id": _count(clean, "id"),
        "quota": _count(clean, "quota"),
        "used_quota": _count(clean, "used_quota"),
        "request_count": _count(clean, "request_count"),
        "quota_per_usd": quota_per_usd,
        "details": {k: v for k, v in clean.items() if k not in known and k not in (
            "quota", "used_quota", "request_count")},
    }
    try:
        return AccountInfo.model_validate(fields)
    except ValidationError as exc:
        wrong = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
        raise B3nResponseError(
            f"B3n answered /api/user/self with fields of the wrong type ({wrong}): {str(body)[:200]!r}. "
            "Check base_url (it should point at a one-api / new-api relay)."
        ) from None


def _relay_message(body: str | None) -> str:
    try:
        data = loads(body or "")
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    err = data.get("error")
    message = err.get("message") if isinstance(err, dict) else data.get("message")
    return str(message or "")


def _credential_error(exc: B3nPermissionDeniedError | B3nAuthenticationError) -> B3nAuthenticationError:
    relay = _relay_message(exc.body)
    said = f" ({relay})" if relay else ""
    return B3nAuthenticationError(
        f"B3n refused the account request with HTTP {exc.status_code}{said}. {ACCOUNT_CREDENTIAL_HELP}",
        status_code=exc.status_code, error_type=exc.error_type, code=exc.code, request_id=exc.request_id,
        body=exc.body,
    )


def _json(response: httpx.Response) -> Any:
    return json_or_error(
        response, ACCOUNT_PATH,
        hint="Check base_url (the account API is base_url without its /v1, plus /api/user/self).",
    )


def _require_token(config: B3nConfig) -> None:
    config.require_access_token()


# ----------------------------------------------------------------------------- services


def _whoami(config: B3nConfig) -> Plan[AccountInfo]:
    """``GET /api/user/self`` as a plan (see :mod:`b3n._plans`)."""
    _require_token(config)
    try:
        response = yield from http("GET", ACCOUNT_PATH, credential="access_token", at_origin=True)
    except B3nInsufficientQuotaError:
        raise
    except (B3nAuthenticationError, B3nPermissionDeniedError) as exc:
        raise _credential_error(exc) from None
    return parse_account(_json(response), quota_per_usd=config.quota_per_usd)


class AccountService(Service[SyncTransport]):
    """``client.account``: the user behind the system access token, and the balance.

    Example:
        >>> from b3n import B3nClient
        >>> from b3n.testing import Emulator
        >>> with Emulator() as emu:
        ...     client = B3nClient(base_url=emu.base_url, access_token="emu-access-token", user_id=1)
        ...     me = client.account.whoami()
        >>> me.balance_usd == me.quota / 500_000
        True
    """

    def whoami(self) -> AccountInfo:
        """The account behind the system access token: name, group, balance and usage.

        Calls ``GET /api/user/self`` at the relay's origin (``base_url`` without its ``/v1``) with the system
        access token and ``New-Api-User``, never the ``sk-`` key.

        Returns:
            The account, with the quota converted to US dollars (``balance_usd``, ``used_usd``).

        Raises:
            B3nConfigurationError: no access token or user id (``access_token`` / ``B3N_ACCESS_TOKEN``,
                ``user_id`` / ``B3N_USER_ID``).
            B3nAuthenticationError: the relay rejected the token (the message says which credential).
        """
        return run(_whoami(self._transport.config), self._transport)


class AsyncAccountService(Service[AsyncTransport]):
    """``client.account`` on ``AsyncB3nClient``.

    Example:
        >>> import asyncio
        >>> from b3n import AsyncB3nClient
        >>> from b3n.testing import Emulator
        >>> with Emulator() as emu:
        ...     client = AsyncB3nClient(base_url=emu.base_url, access_token="emu-access-token", user_id=1)
        ...     me = asyncio.run(client.account.whoami())
        >>> me.group
        'default'
    """

    async def whoami(self) -> AccountInfo:
        """asyncio twin of :meth:`AccountService.whoami`."""
        return await arun(_whoami(self._transport.config), self._transport)


__all__ = [
    "ACCOUNT_CREDENTIAL_HELP",
    "AccountInfo",
    "AccountService",
    "AsyncAccountService",
    "parse_account",
]
