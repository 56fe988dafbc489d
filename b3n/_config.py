"""Configuration: explicit argument, else environment, else defaults.

Example:
    >>> from b3n import resolve_config
    >>> cfg = resolve_config(api_key="sk-test", base_url="http://127.0.0.1:8000/v1")
    >>> cfg.base_url
    'http://127.0.0.1:8000/v1'
    >>> "sk-test" in repr(cfg)
    False
"""

from __future__ import annotations

import ipaddress
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr

from b3n._errors import B3nConfigurationError, B3nSecurityWarning

DEFAULT_BASE_URL = "https://api.b3n.fun/v1"
ENV_API_KEY = "B3N_API_KEY"
ENV_BASE_URL = "B3N_BASE_URL"
ENV_ACCESS_TOKEN = "B3N_ACCESS_TOKEN"
ENV_USER_ID = "B3N_USER_ID"
#: one-api quota units per US dollar (the family's documented ratio).
DEFAULT_QUOTA_PER_USD = 500_000.0


def _secret(value: str | SecretStr | None, env: str) -> SecretStr | None:
    if isinstance(value, SecretStr):
        return value if value.get_secret_value() else None
    if value:
        return SecretStr(value)
    from_env = os.environ.get(env)
    return SecretStr(from_env) if from_env else None


def _flaw(value: str, *, spaces_ok: bool = False) -> str | None:
    """What makes ``value`` unsendable in an HTTP header (never the offending character itself), or None."""
    for position, char in enumerate(value, 1):
        if "!" <= char <= "~" or (spaces_ok and char in " \t"):
            continue
        if char.isspace():
            kind = "a space or line break"
        elif ord(char) < 32 or ord(char) == 127:
            kind = "a control character"
        else:
            kind = "a non-ASCII character"
        return f"{kind} at position {position}"
    return None


def clean_credential(value: str, what: str) -> str:
    """``value`` without surrounding whitespace; a typed error (that never repeats it) if it is not visible ASCII.

    Example:
        >>> clean_credential("sk-abc\\n", "The API key")
        'sk-abc'
    """
    cleaned = value.strip()
    flaw = _flaw(cleaned)
    if flaw is not None:
        raise B3nConfigurationError(
            f"{what} contains {flaw}, which cannot be sent in an HTTP header (only visible ASCII characters can). "
            "Copy it again from the B3n console; the value is not shown here."
        )
    return cleaned


def _clean_secret(value: SecretStr | str | None, what: str) -> SecretStr | None:
    if value is None:
        return None
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    cleaned = clean_credential(raw, what)
    return SecretStr(cleaned) if cleaned else None


def _clean_headers(headers: Any) -> tuple[tuple[str, str], ...]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    out = []
    for name, value in items:
        if not isinstance(name, str) or not name or _flaw(name) is not None or ":" in name:
            raise B3nConfigurationError(
                "A default_headers name cannot be sent in an HTTP header (it must be visible ASCII without ':'); "
                "it is not shown here."
            )
        if not isinstance(value, str):
            raise B3nConfigurationError(f"default_headers[{name!r}] must be a string, got {type(value).__name__}.")
        cleaned = value.strip()
        flaw = _flaw(cleaned, spaces_ok=True)
        if flaw is not None:
            raise B3nConfigurationError(
                f"default_headers[{name!r}] contains {flaw}, which cannot be sent in an HTTP header; "
                "the value is not shown here."
            )
        out.append((name, cleaned))
    return tuple(sorted(out))


#: what a redacted value shows.
REDACTED = "***"


def redact_url(url: str | None) -> str | None:
    """``url`` with any ``user:password@`` and query string replaced by ``***`` (for reprs and messages).

    Example:
        >>> redact_url("http://user:pw@proxy.example:3128")
        'http://***@proxy.example:3128'
    """
    if not url:
        return url
    parts = urlsplit(url)
    _userinfo, at, host = parts.netloc.rpartition("@")
    if not at and not parts.query:
        return url
    netloc = f"{REDACTED}@{host}" if at else parts.netloc
    return urlunsplit((parts.scheme, netloc, parts.path, REDACTED if parts.query else "", parts.fragment))


def redact_headers(headers: Mapping[str, str] | Sequence[tuple[str, str]] | None) -> dict[str, str] | None:
    """Header names kept, values replaced by ``***`` (a gateway token is as secret as the key)."""
    if headers is None:
        return None
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {name: REDACTED for name, _ in items}


def normalize_base_url(url: str) -> str:
    """Validate ``url`` and return it without a trailing slash.

    Raises B3nConfigurationError for anything that is not an absolute http(s) URL, and for a
    ``user:password@`` part (httpx would send it as Basic auth in place of the key).
    """
    raw = url.strip()
    parts = urlsplit(raw)
    shown = redact_url(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or not parts.hostname:
        raise B3nConfigurationError(
            f"base_url {shown!r} is not an absolute http(s) URL. "
            f"Use something like {DEFAULT_BASE_URL!r} (or set {ENV_BASE_URL})."
        )
    if "@" in parts.netloc:
        raise B3nConfigurationError(
            f"base_url {shown!r} contains a user:password@ part: httpx would send it as Basic auth instead of "
            "your key (and it would show wherever the URL does). Put the key in api_key / B3N_API_KEY and give "
            "the URL without it."
        )
    if parts.query or parts.fragment:
        raise B3nConfigurationError(f"base_url {shown!r} must not contain a query string or fragment.")
    return raw.rstrip("/")


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_number(
    name: str, value: Any, *, optional: bool = False, positive: bool = False, whole: bool = False,
    unit: str = "",
) -> None:
    """Refuse a numeric setting that is not a finite number >= 0 (``positive``: > 0; ``whole``: an integer).

    Example:
        >>> try:
        ...     check_number("total_timeout", float("nan"), optional=True, positive=True, unit="seconds")
        ... except B3nConfigurationError as exc:
        ...     print(exc)
        total_timeout must be a finite number of seconds > 0 (or None for no limit), got nan.
    """
    if value is None and optional:
        return
    if whole:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        what = "a whole number >= 0"
    else:
        ok = (isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
              and (value > 0 if positive else value >= 0))
        what = f"a finite number{' of ' + unit if unit else ''} {'> 0' if positive else '>= 0'}"
    if not ok:
        hint = " (or None for no limit)" if optional else ""
        raise B3nConfigurationError(f"{name} must be {what}{hint}, got {value!r}.")


_unverified_warned = False


def _warn_unverified() -> None:
    """``verify=False`` warns once per process: the relay's certificate is not checked."""
    global _unverified_warned
    if _unverified_warned:
        return
    _unverified_warned = True
    warnings.warn(
        "verify=False: the relay's TLS certificate is not checked, so anyone on the network path can read and change "
        "the traffic, your API key included. Pass a CA bundle path as verify=... instead.",
        B3nSecurityWarning,
        stacklevel=4,
    )


@dataclass(frozen=True)
class B3nConfig:
    """Everything needed to talk to one B3n deployment. Immutable and hashable.

    The API key and the system access token are ``SecretStr``: they never show in
    ``repr``, logs or exceptions.
    """

    api_key: SecretStr | None = None
    base_url: str = DEFAULT_BASE_URL
    access_token: SecretStr | None = None
    user_id: str | None = None
    #: seconds; bounds connecting, waiting for a response and each read.
    timeout: float | None = 60.0
    #: seconds of silence allowed between two stream chunks (None: use ``timeout``).
    stream_idle_timeout: float | None = None
    max_retries: int = 2
    default_headers: tuple[tuple[str, str], ...] = ()
    verify: bool | str = True
    proxy: str | None = None
    quota_per_usd: float = DEFAULT_QUOTA_PER_USD
    #: cap on a server-requested Retry-After, seconds.
    max_retry_after: float = 60.0
    #: repeat billed calls (image generation, speech) after failures that may have been processed.
    retry_billed: bool = False
    #: adapt chat requests up front to what ``b3n probe`` found out about this relay (``B3N_PROBE_CACHE=off``).
    relay_probe_cache: bool = True
    #: seconds the whole call may take, retries and waits included (None: no overall cap).
    total_timeout: float | None = None
    extra: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        # Built directly or by resolve_config, a config is checked the same way (frozen: set via object).
        set_ = object.__setattr__
        set_(self, "base_url", normalize_base_url(self.base_url))
        for name in ("timeout", "stream_idle_timeout", "total_timeout"):
            check_number(name, getattr(self, name), optional=True, positive=True, unit="seconds")
        check_number("max_retries", self.max_retries, whole=True)
        check_number("max_retry_after", self.max_retry_after, unit="seconds")
        check_number("quota_per_usd", self.quota_per_usd, positive=True)
        if self.verify is False:
            _warn_unverified()
        set_(self, "api_key", _clean_secret(self.api_key, f"The API key (api_key / {ENV_API_KEY})"))
        set_(self, "access_token",
             _clean_secret(self.access_token, f"The system access token (access_token / {ENV_ACCESS_TOKEN})"))
        if self.user_id is not None:
            set_(self, "user_id", clean_credential(str(self.user_id), f"The user id (user_id / {ENV_USER_ID})") or None)
        set_(self, "default_headers", _clean_headers(self.default_headers))

    def __repr__(self) -> str:
        # Credentials, header values, proxy userinfo and the user id never show.
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("api_key", "access_token"):
                value = "set" if value is not None else None
            elif f.name == "user_id":
                value = REDACTED if value is not None else None
            elif f.name == "default_headers":
                value = redact_headers(value)
            elif f.name == "proxy":
                value = redact_url(value)
            elif f.name == "extra":
                value = redact_headers(value) if value else value
            shown.append(f"{f.name}={value!r}")
        return f"B3nConfig({', '.join(shown)})"

    @property
    def origin(self) -> str:
        """``scheme://host[:port]`` of the base URL."""
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def relay_root(self) -> str:
        """The base URL without its trailing ``/v1``: where the relay's ``/api/...`` routes (the account) live.

        Same origin and same path prefix as ``base_url``, so the access token never leaves the path the
        user configured (a relay behind a gateway at ``https://gw.example/b3n/v1`` is asked at
        ``https://gw.example/b3n/api/user/self``, not at another service's ``/api/user/self``).

        Example:
            >>> B3nConfig(base_url="https://gw.example/b3n/v1").relay_root
            'https://gw.example/b3n'
            >>> B3nConfig().relay_root
            'https://api.b3n.fun'
        """
        return self.base_url[: -len("/v1")] if self.base_url.endswith("/v1") else self.base_url

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickles never carry credentials: they are re-read from the environment on load.
        state = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("api_key", "access_token")}
        return (_restore_config, (state,))

    def require_api_key(self) -> SecretStr:
        if self.api_key is None:
            raise B3nConfigurationError(
                f"No B3n API key. Pass api_key=... or set the {ENV_API_KEY} environment variable "
                "(create a key in the B3n console: Token page, https://api.b3n.fun/token)."
            )
        return self.api_key

    def require_access_token(self) -> SecretStr:
        if self.access_token is None:
            raise B3nConfigurationError(
                "The account endpoint (/api/user/self) needs your B3n *system access token*, not the sk- API "
                f"key. Pass access_token=... or set {ENV_ACCESS_TOKEN} (B3n console: Account -> Personal "
                f"center -> Account options -> System token), and your numeric user id via user_id=... or "
                f"{ENV_USER_ID}."
            )
        return self.access_token


def _restore_config(state: dict[str, Any]) -> B3nConfig:
    return B3nConfig(api_key=_secret(None, ENV_API_KEY), access_token=_secret(None, ENV_ACCESS_TOKEN), **state)


def resolve_config(
    *,
    api_key: str | SecretStr | None = None,
    base_url: str | None = None,
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
) -> B3nConfig:
    """Build a :class:`B3nConfig`: explicit argument > environment > default."""
    uid = user_id if user_id is not None else os.environ.get(ENV_USER_ID)
    cfg = B3nConfig(
        api_key=_secret(api_key, ENV_API_KEY),
        base_url=base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL,
        access_token=_secret(access_token, ENV_ACCESS_TOKEN),
        user_id=str(uid) if uid not in (None, "") else None,
        timeout=timeout,
        stream_idle_timeout=stream_idle_timeout,
        max_retries=max_retries,
        default_headers=_clean_headers(default_headers or {}),
        verify=verify,
        proxy=proxy,
        quota_per_usd=quota_per_usd,
        retry_billed=retry_billed,
        relay_probe_cache=relay_probe_cache,
        total_timeout=total_timeout,
    )
    warn_if_insecure(cfg)
    return cfg


def warn_if_insecure(cfg: B3nConfig) -> None:
    """Warn when a credential would travel over plain http to a non-loopback host."""
    parts = urlsplit(cfg.base_url)
    has_secret = cfg.api_key is not None or cfg.access_token is not None
    if has_secret and parts.scheme == "http" and not is_loopback_host(parts.hostname):
        warnings.warn(
            f"Sending a B3n credential over plain http to {parts.hostname}: anyone on the network can read it. "
            "Use https.",
            UserWarning,
            stacklevel=3,
        )
