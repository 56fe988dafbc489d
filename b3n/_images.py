"""Image generation (DALL-E 3): ``client.images``, the image types, and saving images to disk.

Example (offline, against the bundled emulator):
    >>> from b3n import B3nClient
    >>> from b3n.testing import Emulator
    >>> with Emulator() as emu:
    ...     result = B3nClient(api_key="sk-test", base_url=emu.base_url).images.generate("a white cat")
    >>> len(result.images), result.images[0].url.endswith(".png")
    (1, True)
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from b3n import _download
from b3n._body import json_or_error
from b3n._effects import http
from b3n._errors import B3nInvalidRequestError, B3nResponseError
from b3n._media_common import merge_extra, require_model_kind, require_one_of, write_atomically
from b3n._plans import Plan, Service, arun, run
from b3n._signatures import arguments_of
from b3n._transport import AsyncTransport, SyncTransport

ImageSize = Literal["1024x1024", "1792x1024", "1024x1792"]
ImageQuality = Literal["standard", "hd"]
ImageStyle = Literal["vivid", "natural"]
ImageResponseFormat = Literal["url", "b64_json"]

#: sizes each known image model accepts (other image models: any ``WIDTHxHEIGHT``).
IMAGE_SIZES: dict[str, tuple[str, ...]] = {
    "dall-e-3": get_args(ImageSize),
    "dall-e-2": ("256x256", "512x512", "1024x1024"),
}
#: prompt length limits of the known image models, in characters.
IMAGE_PROMPT_LIMITS: dict[str, int] = {"dall-e-3": 4000, "dall-e-2": 1000}
#: how many images one call may ask for.
IMAGE_MAX_N: dict[str, int] = {"dall-e-3": 1, "dall-e-2": 10}
IMAGE_QUALITIES: tuple[str, ...] = get_args(ImageQuality)
IMAGE_STYLES: tuple[str, ...] = get_args(ImageStyle)
IMAGE_RESPONSE_FORMATS: tuple[str, ...] = get_args(ImageResponseFormat)
IMAGES_PATH = "/images/generations"

_SIZE_RE = re.compile(r"^\d{2,5}x\d{2,5}$")


# ----------------------------------------------------------------------------- types


def _sniff_image_extension(data: bytes) -> str:
    return _download.image_kind(data) or "png"


def _image_target(path: str | os.PathLike[str], data: bytes) -> Path:
    target = Path(path).expanduser()
    if target.is_dir():
        target = target / f"b3n-image-{uuid.uuid4().hex[:12]}.{_sniff_image_extension(data)}"
    return target


def _decode_data_url(url: str) -> bytes:
    header, _, payload = url.partition(",")
    if ";base64" not in header:
        raise B3nInvalidRequestError("Only base64 data: URLs can be saved.")
    return _b64decode(payload, "data: URL")


def _b64decode(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise B3nResponseError(f"The image's {what} is not valid base64; generate the image again.") from None


def _check_download_url(url: str) -> None:
    if not url.startswith(("http://", "https://")):
        raise B3nInvalidRequestError(
            f"Cannot download an image from {url[:40]!r}: only http(s) and data: URLs are supported."
        )


class GeneratedImage(BaseModel):
    """One generated image: a temporary ``url`` or the ``b64_json`` bytes, and the prompt actually used.

    Example:
        >>> img = GeneratedImage(b64_json="iVBORw0KGgo=")
        >>> img.data()[:4]
        b'\\x89PNG'
    """

    model_config = ConfigDict(extra="allow")

    url: str | None = None
    b64_json: str | None = Field(default=None, repr=False)
    revised_prompt: str | None = None
    _images: ImagesService | None = PrivateAttr(default=None)
    _aimages: AsyncImagesService | None = PrivateAttr(default=None)

    def data(self, *, allow_private_hosts: bool = False) -> bytes:
        """The image bytes: decoded from ``b64_json``, or downloaded from ``url`` (no credentials sent).

        The download is refused unless the URL is https on a public host or on the relay's own origin;
        ``allow_private_hosts=True`` opts in to other local hosts (see the security page of the docs).
        """
        return _data(_source(self), _options(self._images, allow_private_hosts))

    async def adata(self, *, allow_private_hosts: bool = False) -> bytes:
        """asyncio twin of :meth:`data`."""
        return await _adata(_source(self), _options(self._aimages, allow_private_hosts))

    def save(self, path: str | os.PathLike[str], *, allow_private_hosts: bool = False) -> Path:
        """Write the image to ``path`` (a file, or an existing directory to pick a name in); return the Path.

        A URL is streamed to a temporary file and renamed into place once complete (same policy as :meth:`data`).
        """
        return _save(_source(self), path, _options(self._images, allow_private_hosts))

    async def asave(self, path: str | os.PathLike[str], *, allow_private_hosts: bool = False) -> Path:
        """asyncio twin of :meth:`save`."""
        return await _asave(_source(self), path, _options(self._aimages, allow_private_hosts))


def _options(service: ImagesService | AsyncImagesService | None, allow_private_hosts: bool) -> dict[str, Any]:
    """How to download: through the client's pool, with its timeout, knowing the relay's origin (no credentials)."""
    if service is None:
        return {"allow_private_hosts": allow_private_hosts}
    config = service._transport.config
    return {"allow_private_hosts": allow_private_hosts, "client": service._transport.client,
            "timeout": config.timeout, "total_timeout": config.total_timeout, "relay_base_url": config.base_url}


def _url_source(url: str) -> bytes | str:
    """A ``data:`` URL's bytes, else ``url`` itself, to download (refused here if it may not be)."""
    if url.startswith("data:"):
        return _decode_data_url(url)
    _check_download_url(url)
    return url


def _source(image: GeneratedImage) -> bytes | str:
    """The bytes ``image`` carries (base64 or a ``data:`` URL), else its URL, to download."""
    if image.b64_json:
        return _b64decode(image.b64_json, "b64_json")
    if not image.url:
        raise B3nResponseError("This image has neither a url nor b64_json; generate it again.")
    return _url_source(image.url)


# the twins: the bytes of a source, and a source written to a file (a URL streamed to a temporary file first)
def _data(source: bytes | str, options: Mapping[str, Any]) -> bytes:
    return source if isinstance(source, bytes) else _download.download_image(source, **options)


async def _adata(source: bytes | str, options: Mapping[str, Any]) -> bytes:
    return source if isinstance(source, bytes) else await _download.adownload_image(source, **options)


def _save(source: bytes | str, path: str | os.PathLike[str], options: Mapping[str, Any]) -> Path:
    if isinstance(source, str):
        return _download.save_image(source, path, **options)
    return write_atomically(_image_target(path, source), source)


async def _asave(source: bytes | str, path: str | os.PathLike[str], options: Mapping[str, Any]) -> Path:
    if isinstance(source, str):
        return await _download.asave_image(source, path, **options)
    return write_atomically(_image_target(path, source), source)


class ImageResult(BaseModel):
    """The answer of ``images.generate``: ``images`` (usually one) and the ``created`` timestamp."""

    model_config = ConfigDict(extra="allow")

    images: list[GeneratedImage]
    created: int | None = None
    model: str | None = None


# ----------------------------------------------------------------------------- wire


def build_image_request(
    prompt: str,
    *,
    model: str = "dall-e-3",
    size: ImageSize | str | None = "1024x1024",
    quality: ImageQuality | None = None,
    style: ImageStyle | None = None,
    response_format: ImageResponseFormat | None = None,
    n: int = 1,
    user: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Validate the arguments of an image generation and return the JSON payload.

    Example:
        >>> build_image_request("a red fox", quality="hd")
        {'model': 'dall-e-3', 'prompt': 'a red fox', 'n': 1, 'size': '1024x1024', 'quality': 'hd'}
        >>> build_image_request("a red fox", n=2)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        b3n._errors.B3nInvalidRequestError: dall-e-3 makes one image per call (n=1); got n=2. ...
    """
    require_model_kind(model, "image", "image generation", "'dall-e-3'")
    if not isinstance(prompt, str) or not prompt.strip():
        raise B3nInvalidRequestError("The image prompt is empty; describe the image to generate.")
    limit = IMAGE_PROMPT_LIMITS.get(model)
    if limit is not None and len(prompt) > limit:
        raise B3nInvalidRequestError(
            f"The prompt is {len(prompt)} characters; {model} accepts at most {limit}. Shorten it."
        )
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise B3nInvalidRequestError(f"n must be a positive integer, got {n!r}.")
    max_n = IMAGE_MAX_N.get(model, 10)
    if n > max_n:
        if max_n == 1:
            raise B3nInvalidRequestError(
                f"{model} makes one image per call (n=1); got n={n}. Call it several times instead."
            )
        raise B3nInvalidRequestError(f"{model} makes at most {max_n} images per call; got n={n}.")
    payload: dict[str, Any] = {"model": model, "prompt": prompt, "n": n}
    if size is not None:
        allowed = IMAGE_SIZES.get(model)
        if allowed is not None:
            require_one_of("size", size, allowed)
        elif not isinstance(size, str) or not _SIZE_RE.match(size):
            raise B3nInvalidRequestError(f"size={size!r} must look like '1024x1024' (WIDTHxHEIGHT).")
        payload["size"] = size
    if quality is not None:
        payload["quality"] = require_one_of("quality", quality, IMAGE_QUALITIES) if model == "dall-e-3" else quality
    if style is not None:
        if model == "dall-e-2":
            raise B3nInvalidRequestError(f"style is only supported by dall-e-3, not {model}.")
        payload["style"] = require_one_of("style", style, IMAGE_STYLES) if model == "dall-e-3" else style
    if response_format is not None:
        payload["response_format"] = require_one_of("response_format", response_format, IMAGE_RESPONSE_FORMATS)
    if user is not None:
        payload["user"] = user
    return merge_extra(payload, extra)


def parse_image_result(body: Any, model: str | None = None) -> ImageResult:
    """Parse an ``/images/generations`` body; an answer without images raises ``B3nResponseError``."""
    items = body.get("data") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise B3nResponseError(f"B3n answered the image request without images: {str(body)[:200]!r}. Try again.")
    images = [GeneratedImage.model_validate(item) for item in items]
    if not any(img.url or img.b64_json for img in images):
        raise B3nResponseError("B3n answered the image request with neither url nor b64_json. Try again.")
    created = body.get("created")
    return ImageResult(images=images, created=created if isinstance(created, int) else None, model=model)


# ----------------------------------------------------------------------------- services


def _generate(payload: dict[str, Any]) -> Plan[ImageResult]:
    response = yield from http("POST", IMAGES_PATH, json_body=payload, model=payload["model"], billed=True)
    return parse_image_result(json_or_error(response, "the image request"), payload["model"])


class ImagesService(Service[SyncTransport]):
    """``client.images``: DALL-E 3 image generation (blocking).

    Example (the bytes in the answer instead of a temporary URL):
        >>> from b3n import B3nClient
        >>> from b3n.testing import Emulator
        >>> with Emulator() as emu:
        ...     images = B3nClient(api_key="sk-test", base_url=emu.base_url).images
        ...     result = images.generate("a white cat", response_format="b64_json")
        >>> len(result.images), result.images[0].data()[:4]
        (1, b'\\x89PNG')
    """

    @arguments_of(build_image_request)
    def generate(self, payload: dict[str, Any]) -> ImageResult:
        """Generate an image (not retried after it may have been processed: see ``retry_billed``).

        Args:
            prompt: what to draw (at most 4,000 characters for DALL-E 3).
            model: ``"dall-e-3"`` or another image model the relay serves.
            size: one of :data:`ImageSize` for DALL-E 3 (any ``WIDTHxHEIGHT`` for unknown models).
            quality: ``"standard"`` or ``"hd"``.
            style: ``"vivid"`` or ``"natural"``.
            response_format: ``"url"`` (valid about 2 hours) or ``"b64_json"`` (the bytes in the answer).
            n: images per call (1 for DALL-E 3).
            user: an end-user id passed to the provider.
            extra: fields the relay passes through.

        Returns:
            The images: ``result.images[0].save(path)``, ``.url``, ``.data()``.

        Raises:
            B3nInvalidRequestError: an argument the model does not take (checked before sending).
            B3nPossiblyBilledError: the call failed after the relay may have run it (not retried; check usage).
            B3nAPIStatusError: the relay refused it.

        Example:
            >>> from b3n import B3nClient
            >>> from b3n.testing import Emulator
            >>> with Emulator() as emu:
            ...     result = B3nClient(api_key="sk-test", base_url=emu.base_url).images.generate("a red fox")
            ...     len(result.images), result.images[0].url is not None
            (1, True)
        """
        result = run(_generate(payload), self._transport)
        for image in result.images:
            image._images = self
        return result

    def download(self, url: str, *, allow_private_hosts: bool = False) -> bytes:
        """Download an image URL through the shared pool, without B3n credentials.

        Only https URLs on public hosts, or URLs on the relay's own origin, unless ``allow_private_hosts=True``.
        """
        return _data(_url_source(url), _options(self, allow_private_hosts))

    def save(self, image: GeneratedImage, path: str | os.PathLike[str], *, allow_private_hosts: bool = False) -> Path:
        """Write ``image`` to ``path`` (streaming its URL to a temporary file, or decoding its base64); return it."""
        return _save(_source(image), path, _options(self, allow_private_hosts))


class AsyncImagesService(Service[AsyncTransport]):
    """``client.images`` on ``AsyncB3nClient``: the methods of :class:`ImagesService`, awaitable.

    Example:
        >>> import asyncio
        >>> from b3n import AsyncB3nClient
        >>> from b3n.testing import Emulator
        >>> with Emulator() as emu:
        ...     images = AsyncB3nClient(api_key="sk-test", base_url=emu.base_url).images
        ...     result = asyncio.run(images.generate("a cat", response_format="b64_json"))
        >>> result.images[0].b64_json is not None
        True
    """

    @arguments_of(build_image_request)
    async def generate(self, payload: dict[str, Any]) -> ImageResult:
        """asyncio twin of :meth:`ImagesService.generate`."""
        result = await arun(_generate(payload), self._transport)
        for image in result.images:
            image._aimages = self
        return result

    async def download(self, url: str, *, allow_private_hosts: bool = False) -> bytes:
        """asyncio twin of :meth:`ImagesService.download`."""
        return await _adata(_url_source(url), _options(self, allow_private_hosts))

    async def save(
        self, image: GeneratedImage, path: str | os.PathLike[str], *, allow_private_hosts: bool = False
    ) -> Path:
        """asyncio twin of :meth:`ImagesService.save`."""
        return await _asave(_source(image), path, _options(self, allow_private_hosts))


__all__ = [
    "IMAGE_SIZES",
    "AsyncImagesService",
    "GeneratedImage",
    "ImageQuality",
    "ImageResponseFormat",
    "ImageResult",
    "ImageSize",
    "ImageStyle",
    "ImagesService",
    "build_image_request",
    "parse_image_result",
]
