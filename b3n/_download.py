"""Downloading a generated image from the URL the relay returned, without becoming an SSRF or memory hole.

The URL comes from the relay's answer, so it is treated as untrusted input:

- **Where**: only ``https``, and only hosts whose every DNS address is public (not loopback, private,
  link-local such as the ``169.254.169.254`` metadata service, shared, reserved or multicast). Checked
  on the first URL and again on every redirect hop (redirects are followed here, at most 5, never by
  httpx). Two exceptions: a URL on the relay's own origin (scheme, host and port of ``base_url``: the
  relay you configured serving its own files, which is how the bundled emulator serves images), and
  ``allow_private_hosts=True``, the explicit opt-in for a local relay whose images live on another
  local host.
- **What**: the response must be ``image/*`` (or an untyped ``application/octet-stream``) and start
  with a PNG, JPEG, WebP or GIF signature; an HTML page is refused, whatever its URL ends with.
- **How much**: at most ``max_bytes`` (default 32 MB), checked against ``Content-Length`` before
  reading and against the bytes actually received while streaming.
- **How long**: each read waits at most ``timeout``, and the whole download (redirects included) at most
  ``total_timeout`` (the client's setting), however slowly the bytes trickle in.
- **Where to**: :func:`save_image` streams into a temporary ``0600`` file next to the target and renames
  it only when the whole image arrived; on any failure (an interrupt included) nothing is left behind.

No B3n credential is ever sent with the download.

Example:
    >>> image_kind(b"\\x89PNG\\r\\n\\x1a\\n...."), image_kind(b"<!doctype html>")
    ('png', None)
    >>> try:
    ...     check_target("http://169.254.169.254/latest/meta-data/", relay_base_url="https://api.b3n.fun/v1")
    ... except B3nResponseError as err:
    ...     print(str(err).split(": ")[0])
    Refused to download the image from http://169.254.169.254
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from b3n._errors import B3nAPIStatusError, B3nConnectionError, B3nResponseError, B3nTimeoutError
from b3n._lazy import httpx
from b3n._media_common import make_private_dirs, open_private
from b3n._prepared import USER_AGENT

#: default cap on a downloaded image (DALL-E 3 HD PNGs are a few MB).
IMAGE_MAX_BYTES = 32 * 1024 * 1024
MAX_REDIRECTS = 5
_ACCEPTED_TYPES = ("image/", "application/octet-stream", "binary/octet-stream")
_OPT_IN = "pass allow_private_hosts=True to the download or save call if you trust a local relay's image host"


def image_kind(head: bytes) -> str | None:
    """The file extension matching an image signature (PNG, JPEG, WebP, GIF), or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    return None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def _refused(url: str, why: str) -> B3nResponseError:
    parts = urlsplit(url)
    where = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" if parts.netloc else repr(url[:60])
    return B3nResponseError(f"Refused to download the image from {where}: {why}")


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _addresses(host: str, port: int | None) -> list[str]:
    try:
        return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
    except (OSError, UnicodeError) as exc:
        raise B3nConnectionError(f"Could not resolve the image host {host!r} ({exc}); generate the image "
                                 "again, or ask for response_format='b64_json'.") from None


def check_target(url: str, *, relay_base_url: str | None = None, allow_private_hosts: bool = False) -> None:
    """Raise ``B3nResponseError`` unless ``url`` may be fetched (see the module docstring); resolves DNS."""
    scheme, host, port = _origin(url)
    if scheme not in ("http", "https") or not host:
        raise _refused(url, "only http(s) URLs can be downloaded.")
    if relay_base_url is not None and (scheme, host, port) == _origin(relay_base_url):
        return  # the configured relay serving its own files
    if allow_private_hosts:
        return
    if scheme != "https":
        raise _refused(url, f"plain http is only followed to the relay's own origin; {_OPT_IN}.")
    for address in _addresses(host, port):
        if not _public(address):
            raise _refused(url, f"{host} resolves to the non-public address {address} (loopback, private, "
                                f"link-local or reserved); {_OPT_IN}.")


def _check_response(url: str, response: httpx.Response, max_bytes: int) -> None:
    if response.status_code >= 400:
        raise B3nAPIStatusError(
            f"Downloading the image from {urlsplit(url).hostname} failed with HTTP {response.status_code}. The "
            "temporary image URL has expired (DALL-E links last about 2 hours) or was refused; generate the image "
            "again, or ask for response_format='b64_json' to get the bytes in the response.",
            status_code=response.status_code,
        )
    ctype = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if ctype and not ctype.startswith(_ACCEPTED_TYPES):
        raise _refused(url, f"the answer is {ctype}, not an image.")
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise _refused(url, f"the image is {int(length)} bytes, over the {max_bytes}-byte limit (max_bytes=).")


class _Sink:
    """Collects a streamed body (in memory or in a temporary file), checking size and signature."""

    def __init__(self, url: str, max_bytes: int, part: Path | None, total_timeout: float | None = None) -> None:
        self.url, self.max_bytes, self.part, self.total_timeout = url, max_bytes, part, total_timeout
        self.deadline = None if total_timeout is None else time.monotonic() + total_timeout
        self.size = 0
        self.head = b""
        self.kind: str | None = None
        self.buffer = bytearray()
        self.file = open_private(part) if part is not None else None

    def timeout(self, timeout: float | None) -> float | None:
        """The read timeout of the next request: ``timeout``, shortened to what ``total_timeout`` leaves."""
        if self.deadline is None:
            return timeout
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self.too_slow()
        return left if timeout is None else min(timeout, left)

    def too_slow(self) -> B3nTimeoutError:
        return B3nTimeoutError(
            f"Downloading the image from {urlsplit(self.url).hostname} took longer than total_timeout="
            f"{self.total_timeout:g}s (after {self.size} bytes); nothing was saved. Try again, raise total_timeout, "
            "or ask for response_format='b64_json'."
        )

    def feed(self, chunk: bytes) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise self.too_slow()
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise _refused(self.url, f"the image is over the {self.max_bytes}-byte limit (max_bytes=).")
        if self.kind is None:
            self.head += chunk[:16]
            if len(self.head) >= 12:
                self.kind = image_kind(self.head)
                if self.kind is None:
                    raise _refused(self.url, "the answer does not start like a PNG, JPEG, WebP or GIF image.")
        if self.file is not None:
            self.file.write(chunk)
        else:
            self.buffer += chunk

    def finish(self, response: httpx.Response) -> str:
        length = response.headers.get("content-length", "")
        if length.isdigit() and self.size != int(length):
            raise B3nConnectionError(f"The image download from {urlsplit(self.url).hostname} was cut after "
                                     f"{self.size} of {length} bytes; try again.")
        kind = self.kind or image_kind(self.head)
        if kind is None:
            raise _refused(self.url, "the answer is not a PNG, JPEG, WebP or GIF image.")
        if self.file is not None:
            self.file.close()
        return kind

    def discard(self) -> None:
        if self.file is not None:
            self.file.close()
        if self.part is not None:
            self.part.unlink(missing_ok=True)

    def mapped(self, url: str) -> Any:
        return _mapped(url, self)


_HEADERS = {"Accept": "image/*", "User-Agent": USER_AGENT}


def _next_hop(url: str, response: httpx.Response, max_bytes: int) -> str | None:
    """Where a redirect points; None when this is the answer (then checked: status, type, announced size)."""
    if not response.is_redirect:
        _check_response(url, response, max_bytes)
        return None
    location = response.headers.get("location")
    if not location:
        raise _refused(url, f"HTTP {response.status_code} redirect without a Location.")
    return str(urljoin(url, str(location)))


@contextmanager
def _mapped(url: str, sink: _Sink) -> Iterator[None]:
    """httpx's failures as ``B3nConnectionError`` naming the image host (a read cut short by
    ``total_timeout`` as ``B3nTimeoutError``)."""
    try:
        yield
    except httpx.HTTPError as exc:
        if isinstance(exc, httpx.TimeoutException) and sink.deadline is not None and (
                time.monotonic() >= sink.deadline - 0.01):
            raise sink.too_slow() from None
        raise B3nConnectionError(f"Downloading the image from {urlsplit(url).hostname} failed "
                                 f"({type(exc).__name__}); try again.") from None


def _fetch(client: httpx.Client, url: str, sink: _Sink, timeout: float | None, relay_base_url: str | None,
           allow_private_hosts: bool) -> str:
    for _ in range(MAX_REDIRECTS + 1):
        check_target(url, relay_base_url=relay_base_url, allow_private_hosts=allow_private_hosts)
        sink.url = url
        with sink.mapped(url), client.stream("GET", url, headers=_HEADERS, timeout=sink.timeout(timeout),
                                             follow_redirects=False) as response:
            hop = _next_hop(url, response, sink.max_bytes)
            if hop is None:
                for chunk in response.iter_bytes():
                    sink.feed(chunk)
                return sink.finish(response)
        url = hop
    raise _refused(url, f"more than {MAX_REDIRECTS} redirects.")


async def _afetch(client: httpx.AsyncClient, url: str, sink: _Sink, timeout: float | None,
                  relay_base_url: str | None, allow_private_hosts: bool) -> str:
    for _ in range(MAX_REDIRECTS + 1):
        await asyncio.to_thread(check_target, url, relay_base_url=relay_base_url,
                                allow_private_hosts=allow_private_hosts)
        sink.url = url
        with sink.mapped(url):
            async with client.stream("GET", url, headers=_HEADERS, timeout=sink.timeout(timeout),
                                     follow_redirects=False) as response:
                hop = _next_hop(url, response, sink.max_bytes)
                if hop is not None:
                    url = hop
                    continue
                async for chunk in response.aiter_bytes():
                    sink.feed(chunk)
                return sink.finish(response)
    raise _refused(url, f"more than {MAX_REDIRECTS} redirects.")


def _part_for(path: str | os.PathLike[str]) -> tuple[Path, Path | None]:
    """(temporary file, final path or None when ``path`` is a directory and the name waits for the type)."""
    target = Path(path).expanduser()
    if target.is_dir():
        return target / f".b3n-image-{uuid.uuid4().hex[:12]}.part", None
    make_private_dirs(target.parent)
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part"), target


def _place(part: Path, target: Path | None, kind: str) -> Path:
    final = target or part.with_name(f"b3n-image-{uuid.uuid4().hex[:12]}.{kind}")
    os.replace(part, final)
    return final


def download_image(
    url: str, *, client: httpx.Client | None = None, timeout: float | None = 60.0, relay_base_url: str | None = None,
    allow_private_hosts: bool = False, max_bytes: int = IMAGE_MAX_BYTES, total_timeout: float | None = None,
) -> bytes:
    """The image at ``url`` as bytes (at most ``max_bytes`` held in memory), under the policy above."""
    sink = _Sink(url, max_bytes, None, total_timeout)
    if client is None:
        with httpx.Client(trust_env=True) as own:
            _fetch(own, url, sink, timeout, relay_base_url, allow_private_hosts)
    else:
        _fetch(client, url, sink, timeout, relay_base_url, allow_private_hosts)
    return bytes(sink.buffer)


async def adownload_image(
    url: str, *, client: httpx.AsyncClient | None = None, timeout: float | None = 60.0,
    relay_base_url: str | None = None, allow_private_hosts: bool = False, max_bytes: int = IMAGE_MAX_BYTES,
    total_timeout: float | None = None,
) -> bytes:
    """asyncio twin of :func:`download_image`."""
    sink = _Sink(url, max_bytes, None, total_timeout)
    if client is None:
        async with httpx.AsyncClient(trust_env=True) as own:
            await _afetch(own, url, sink, timeout, relay_base_url, allow_private_hosts)
    else:
        await _afetch(client, url, sink, timeout, relay_base_url, allow_private_hosts)
    return bytes(sink.buffer)


def save_image(
    url: str, path: str | os.PathLike[str], *, client: httpx.Client | None = None, timeout: float | None = 60.0,
    relay_base_url: str | None = None, allow_private_hosts: bool = False, max_bytes: int = IMAGE_MAX_BYTES,
    total_timeout: float | None = None,
) -> Path:
    """Stream the image at ``url`` into ``path`` (a file, or a directory to pick a name in); return the Path.

    The bytes go to a temporary file next to the target, renamed into place only once the whole image
    arrived and passed every check; on any failure the temporary file is removed.
    """
    part, target = _part_for(path)
    sink = _Sink(url, max_bytes, part, total_timeout)
    try:
        if client is None:
            with httpx.Client(trust_env=True) as own:
                kind = _fetch(own, url, sink, timeout, relay_base_url, allow_private_hosts)
        else:
            kind = _fetch(client, url, sink, timeout, relay_base_url, allow_private_hosts)
        return _place(part, target, kind)
    finally:
        sink.discard()


async def asave_image(
    url: str, path: str | os.PathLike[str], *, client: httpx.AsyncClient | None = None,
    timeout: float | None = 60.0, relay_base_url: str | None = None, allow_private_hosts: bool = False,
    max_bytes: int = IMAGE_MAX_BYTES, total_timeout: float | None = None,
) -> Path:
    """asyncio twin of :func:`save_image`."""
    part, target = _part_for(path)
    sink = _Sink(url, max_bytes, part, total_timeout)
    try:
        if client is None:
            async with httpx.AsyncClient(trust_env=True) as own:
                kind = await _afetch(own, url, sink, timeout, relay_base_url, allow_private_hosts)
        else:
            kind = await _afetch(client, url, sink, timeout, relay_base_url, allow_private_hosts)
        return _place(part, target, kind)
    finally:
        sink.discard()


__all__ = [
    "IMAGE_MAX_BYTES",
    "adownload_image",
    "asave_image",
    "check_target",
    "download_image",
    "image_kind",
    "save_image",
]
