"""``client.images`` (``b3n._images``) against the emulator over HTTP (blocking and asyncio)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from b3n import AsyncB3nClient, B3nClient
from b3n._errors import (
    B3nRateLimitError,
)
from b3n.testing import Emulator


def assert_png(data: bytes) -> tuple[int, int]:
    """A real PNG: signature, then an IHDR chunk with a valid CRC; returns (width, height)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    ihdr = data[16:29]
    (crc,) = struct.unpack(">I", data[29:33])
    assert crc == zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF
    width, height, depth, _colour, _, _, _ = struct.unpack(">IIBBBBB", ihdr)
    assert width > 0 and height > 0 and depth in (1, 2, 4, 8, 16)
    assert data.rstrip(b"\0").endswith(b"IEND\xaeB`\x82")
    return width, height


# ----------------------------------------------------------------------------- images


def test_generate_and_save_png_from_url_without_credentials(
    client: B3nClient, emulator: Emulator, api_key: str, tmp_path: Path
) -> None:
    result = client.images.generate("a lighthouse at dusk", size="1792x1024", quality="hd", style="natural")
    assert len(result.images) == 1 and result.created
    image = result.images[0]
    assert image.url and image.url.startswith(emulator.origin) and image.b64_json is None
    assert "lighthouse at dusk" in (image.revised_prompt or "")
    sent = emulator.last_request("images")
    assert sent is not None and sent.json == {
        "model": "dall-e-3", "prompt": "a lighthouse at dusk", "n": 1, "size": "1792x1024", "quality": "hd",
        "style": "natural",
    }
    path = client.images.save(image, tmp_path / "out" / "fox.png")
    assert path == tmp_path / "out" / "fox.png"
    assert_png(path.read_bytes())
    download = emulator.last_request("files")
    assert download is not None and emulator.count("files") == 1
    assert "authorization" not in download.headers  # the key never goes to the image host
    assert api_key not in str(download.headers)
    # GeneratedImage.save uses the same credential-free download
    again = image.save(tmp_path)
    assert again.suffix == ".png" and again.read_bytes() == path.read_bytes()
    assert "authorization" not in (emulator.last_request("files") or download).headers


def test_generate_b64_json_saves_without_download(client: B3nClient, emulator: Emulator, tmp_path: Path) -> None:
    image = client.images.generate("a red fox", response_format="b64_json").images[0]
    assert image.url is None and image.b64_json
    assert_png(image.save(tmp_path / "fox.png").read_bytes())
    assert emulator.count("files") == 0


async def test_async_generate_and_save(aclient: AsyncB3nClient, emulator: Emulator, tmp_path: Path) -> None:
    result = await aclient.images.generate("a paper boat")
    path = await aclient.images.save(result.images[0], tmp_path / "boat.png")
    assert_png(path.read_bytes())
    assert_png((await result.images[0].asave(tmp_path / "again.png")).read_bytes())
    assert emulator.count("images") == 1 and emulator.count("files") == 2
    assert all("authorization" not in r.headers for r in emulator.requests if r.route.endswith("/files"))


def test_image_rate_limit_is_retried(client: B3nClient, emulator: Emulator) -> None:
    emulator.inject("rate_limit", route="images", times=1, retry_after=0)
    assert client.images.generate("a kite").images[0].url
    assert emulator.count("images") == 2


def test_image_rate_limit_exhausted(base_url: str, api_key: str, emulator: Emulator) -> None:
    emulator.inject("rate_limit", route="images", times=3, retry_after=0)
    with pytest.raises(B3nRateLimitError):
        B3nClient(api_key=api_key, base_url=base_url, max_retries=1).images.generate("a kite")
    assert emulator.count("images") == 2


def test_expired_image_url_says_what_to_do(client: B3nClient, emulator: Emulator, tmp_path: Path) -> None:
    image = client.images.generate("a kite").images[0]
    assert image.url
    image.url = image.url.rsplit("/", 1)[0] + "/img-expired.png"
    with pytest.raises(Exception, match="b64_json") as info:
        client.images.save(image, tmp_path / "x.png")
    assert getattr(info.value, "status_code", None) == 404
    assert not list(tmp_path.iterdir())
