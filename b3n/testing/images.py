"""/v1/images/generations (dall-e-3) and the PNG files it points to."""

from __future__ import annotations

import base64
import functools
import re
import struct
import zlib
from typing import Any

from .catalog import check_model
from .errors import invalid
from .textutil import stable_hex

SIZES = ("1024x1024", "1792x1024", "1024x1792")
PNG_SIDE = 64
_FILE_RE = re.compile(r"^img-([0-9a-f]{16})-([0-9a-f]{6})\.png$")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


@functools.lru_cache(maxsize=256)
def solid_png(rgb_hex: str, side: int = PNG_SIDE) -> bytes:
    """A valid ``side``×``side`` RGB PNG of one colour (``rgb_hex`` like ``"ff8800"``)."""
    pixel = bytes.fromhex(rgb_hex)
    row = b"\x00" + pixel * side  # filter type 0 per row
    raw = row * side
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(raw, 9))
        + _png_chunk(b"IEND", b"")
    )


def file_name_for(prompt: str, size: str, quality: str, style: str) -> str:
    """``img-<16 hex>-<rrggbb>.png``: the colour is derived from the prompt, so the file is stateless."""
    h = stable_hex(16, "image", prompt, size, quality, style)
    colour = stable_hex(6, "colour", prompt)
    return f"img-{h}-{colour}.png"


def png_for_file(name: str) -> bytes | None:
    """The PNG bytes served at ``/files/<name>`` (None if the name is not one of ours)."""
    m = _FILE_RE.match(name)
    if m is None:
        return None
    return solid_png(m.group(2))


def revised_prompt(prompt: str, style: str, quality: str) -> str:
    """DALL-E 3 style prompt rewriting (deterministic)."""
    flavour = "vivid, dramatic" if style == "vivid" else "natural, realistic"
    detail = "highly detailed" if quality == "hd" else "detailed"
    return f"A {detail} image of {prompt.strip().rstrip('.')}, rendered in a {flavour} style."


def images_body(body: Any, origin: str, created: int) -> dict[str, Any]:
    """Validate an image generation request and return the response object."""
    if not isinstance(body, dict):
        raise invalid("Invalid request body: expected a JSON object.")
    check_model(body.get("model", "dall-e-3"), "images")
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise invalid("Missing required parameter: 'prompt'.", param="prompt")
    if len(prompt) > 4000:
        raise invalid("Invalid 'prompt': string too long. Expected a string with maximum length 4000.", param="prompt")
    n = body.get("n", 1)
    if n is None:
        n = 1
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise invalid(f"Invalid 'n': expected an integer >= 1, got {n!r}.", param="n")
    if n > 1:
        raise invalid("You must provide n=1 for this model.", param="n")
    size = body.get("size") or "1024x1024"
    if size not in SIZES:
        raise invalid(f"'{size}' is not one of ['1024x1024', '1024x1792', '1792x1024'] - 'size'", param="size")
    quality = body.get("quality") or "standard"
    if quality not in ("standard", "hd"):
        raise invalid(f"'{quality}' is not one of ['standard', 'hd'] - 'quality'", param="quality")
    style = body.get("style") or "vivid"
    if style not in ("vivid", "natural"):
        raise invalid(f"'{style}' is not one of ['vivid', 'natural'] - 'style'", param="style")
    fmt = body.get("response_format") or "url"
    if fmt not in ("url", "b64_json"):
        raise invalid(f"'{fmt}' is not one of ['url', 'b64_json'] - 'response_format'", param="response_format")
    name = file_name_for(prompt, size, quality, style)
    item: dict[str, Any] = {"revised_prompt": revised_prompt(prompt, style, quality)}
    if fmt == "url":
        item["url"] = f"{origin}/files/{name}"
    else:
        png = png_for_file(name)
        assert png is not None
        item["b64_json"] = base64.b64encode(png).decode("ascii")
    return {"created": created, "data": [item]}
