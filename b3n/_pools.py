"""The shared httpx pools: a ``Client`` per (verify, proxy), an ``AsyncClient`` per (loop, verify, proxy).

They are shared by every model instance of the process that uses that configuration, keep no
cookies (they serve every key; each transport has its own jar), and are replaced in a forked child.
A client supplied by the user is used as given (see :class:`b3n._transport.SyncTransport`).
"""

from __future__ import annotations

import asyncio
import atexit
import http.cookiejar
import os
import threading
import weakref
from typing import Any

from b3n._config import B3nConfig
from b3n._lazy import httpx

# Keep few idle connections: httpcore 1.0.x's pool does O(idle x connections) work on every request
# and hands one idle connection to many queued requests, so with ~30+ idle connections a burst of
# concurrent calls turns quadratic (200 concurrent calls: ~4 s of client CPU with 128 kept alive,
# ~0.4 s with 20; see tests/benchmarks and encode/httpcore#1035). New connections are cheap next to
# an LLM call, and 20 (httpx's default) covers steady concurrency.
_MAX_CONNECTIONS, _MAX_KEEPALIVE, _KEEPALIVE_EXPIRY = 512, 20, 30.0  # httpx.Limits, built with each pool


_pool_lock = threading.Lock()
_sync_pools: dict[tuple[Any, ...], httpx.Client] = {}
_async_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[Any, ...], httpx.AsyncClient]] = (
    weakref.WeakKeyDictionary()
)


def _pool_key(config: B3nConfig) -> tuple[Any, ...]:
    return (config.verify, config.proxy)


class _NoCookies(http.cookiejar.CookiePolicy):
    """The shared pools keep no cookies: they serve every key of the process (each transport has its own jar)."""

    netscape, rfc2965, hide_cookie2 = True, False, False

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def domain_return_ok(self, domain: str, request: Any) -> bool:
        return False

    def path_return_ok(self, path: str, request: Any) -> bool:
        return False


def _cookieless() -> http.cookiejar.CookieJar:
    return http.cookiejar.CookieJar(policy=_NoCookies())


def _limits() -> httpx.Limits:
    return httpx.Limits(
        max_connections=_MAX_CONNECTIONS, max_keepalive_connections=_MAX_KEEPALIVE, keepalive_expiry=_KEEPALIVE_EXPIRY
    )


def close_shared_clients() -> None:
    """Close the process-wide sync pools (runs at interpreter exit; safe to call any time)."""
    with _pool_lock:
        clients = list(_sync_pools.values())
        _sync_pools.clear()
    for client in clients:
        client.close()


atexit.register(close_shared_clients)

#: pools a forked child inherited: kept referenced, never used nor closed (see ``_fresh_pools_after_fork``).
_inherited_pools: list[object] = []


def _fresh_pools_after_fork() -> None:
    """In a forked child (gunicorn ``--preload``, multiprocessing's fork): new pools and a new lock.

    The inherited clients share their sockets with the parent, so using them would cross the two
    processes' answers. They are not closed either: closing takes httpcore's pool lock, which a
    parent thread may have held at the fork, and would tear down TLS state the parent still uses.
    The old lock may have been inherited held, so it is replaced, never acquired.
    """
    global _pool_lock, _sync_pools, _async_pools
    _inherited_pools.append((_sync_pools, _async_pools))
    _pool_lock = threading.Lock()
    _sync_pools = {}
    _async_pools = weakref.WeakKeyDictionary()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_fresh_pools_after_fork)


def _pool_settings(config: B3nConfig) -> dict[str, Any]:
    """How a shared pool (blocking or asyncio) is built for ``config``."""
    return {"verify": config.verify, "proxy": config.proxy, "limits": _limits(), "follow_redirects": True,
            "trust_env": True, "cookies": _cookieless()}


def shared_sync_client(config: B3nConfig) -> httpx.Client:
    key = _pool_key(config)
    client = _sync_pools.get(key)
    if client is None or client.is_closed:
        with _pool_lock:
            client = _sync_pools.get(key)
            if client is None or client.is_closed:
                client = _sync_pools[key] = httpx.Client(**_pool_settings(config))
    return client


def _forget_closed_loops() -> None:
    """Drop the pools of event loops that were closed (e.g. by each ``asyncio.run``).

    Their sockets hold the loop, so the weak keys alone never let go: without this, every
    ``asyncio.run(...)`` that made a call would keep its connections open for the life of the
    process. Dropped pools are freed at once and their sockets closed.
    """
    for loop in [loop for loop in list(_async_pools.keys()) if loop.is_closed()]:
        _async_pools.pop(loop, None)


def shared_async_client(config: B3nConfig) -> httpx.AsyncClient:
    loop = asyncio.get_running_loop()
    per_loop = _async_pools.get(loop)
    if per_loop is None:
        with _pool_lock:  # threads with their own loops register concurrently
            _forget_closed_loops()
            per_loop = _async_pools.setdefault(loop, {})
    key = _pool_key(config)
    client = per_loop.get(key)
    if client is None or client.is_closed:
        client = per_loop[key] = httpx.AsyncClient(**_pool_settings(config))
    return client

