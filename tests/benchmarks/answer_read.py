"""How fast one large embeddings answer is read, against the bare minimum a client could do.

Usage (from the repository root)::

    python -m tests.benchmarks.answer_read      # a few seconds; prints the ratio

A server on loopback answers a 1,250 x 256 base64 embeddings body (1.7 MB, the size of one request of the
realistic relay job). Measured: the CPU time of this thread for ``B3nClient.embeddings.create`` (sending,
reading, the depth bound, decoding, the NaN/infinity check) against a bare ``json.loads`` + ``base64`` +
``array`` decode of the same body with no checks, interleaved, best of 9 each. The last wave of the relay job
decodes 8 such answers back to back, so this ratio is part of how close the job gets to its best schedule.
Measured 2026-12-07 on 2 shared cores: ~1.45x at load 4-5 and ~2.0x at load 8 (it was ~2.2x at load 4-5 before
the byte-level depth scan and the base64 NaN check).
A CPU-time ratio moves when other processes share the cores, which is why it is a benchmark and not a test.
"""

from __future__ import annotations

import base64
import http.server
import json
import random
import struct
import time
from array import array
from typing import Any


def answer_body() -> tuple[list[str], bytes, type[http.server.BaseHTTPRequestHandler]]:
    """The texts, the answer's body and a handler that answers every POST with it."""
    rng = random.Random(5)
    texts = [f"text {i}" for i in range(1250)]
    items = [{"object": "embedding", "index": i, "embedding": base64.b64encode(
        struct.pack("<256f", *(rng.uniform(-0.2, 0.2) for _ in range(256)))).decode()} for i in range(1250)]
    body = json.dumps({"object": "list", "data": items, "model": "text-embedding-3-small",
                       "usage": {"prompt_tokens": 2500, "total_tokens": 2500}}).encode()

    class Answer(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return texts, body, Answer


def plain_decode(body: bytes) -> list[list[float]]:
    """The bare minimum: parse, base64-decode, float32 to Python floats; no checks."""
    return [array("f", base64.b64decode(item["embedding"])).tolist() for item in json.loads(body)["data"]]


def main() -> None:
    from b3n import B3nClient
    from tests.hostile import serving

    texts, body, handler = answer_body()
    with serving(handler) as url:
        client = B3nClient(api_key="sk-test", base_url=url + "/v1")
        client.embeddings.create(["warm up"] * 1250, dimensions=256, max_concurrency=1)  # pool and imports, once
        ours, plain = [], []
        for _ in range(9):  # interleaved; CPU time of this thread (the server's is not ours)
            started = time.thread_time()
            client.embeddings.create(texts, dimensions=256, max_concurrency=1)
            ours.append(time.thread_time() - started)
            started = time.thread_time()
            plain_decode(body)
            plain.append(time.thread_time() - started)
    print(f"one 1,250 x 256 base64 answer: ours {min(ours) * 1000:.1f} ms CPU, bare decode {min(plain) * 1000:.1f} ms"
          f" -> {min(ours) / min(plain):.2f}x (best of 9 each)")


if __name__ == "__main__":
    main()
