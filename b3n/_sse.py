"""Server-sent events from the relay, line by line, including what new-api writes outside the SSE format.

new-api answers an upstream failure that happens after the SSE headers were sent with a plain JSON
error body (no ``data:`` prefix; Calcium-Ion/new-api ``controller/relay.go``). An SSE parser skips that
line as an unknown field, so the relay's message would be lost and the stream would look cut. Here
such a line raises the typed error it describes (:func:`b3n._errors.error_from_stream_payload`).

Example:
    >>> list(SSEDecoder().feed_all(['data: {"a": 1}', "", ": ping", "data: [DONE]", ""]))
    ['{"a": 1}', '[DONE]']
    >>> try:
    ...     list(SSEDecoder().feed_all(['{"error": {"message": "upstream failed (request id: 42)"}}']))
    ... except Exception as exc:
    ...     type(exc).__name__, exc.request_id
    ('B3nServerError', '42')
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Iterator

from b3n._errors import error_from_stream_payload
from b3n._lazy import httpx


class SSEDecoder:
    """Turns lines into ``data`` payloads (one per event); a bare JSON error line raises."""

    __slots__ = ("_data", "model")

    def __init__(self, model: str | None = None) -> None:
        self._data: list[str] = []
        self.model = model

    def feed(self, line: str) -> str | None:
        """The data of the event this line completes, or None."""
        line = line.rstrip("\r\n")
        if not line:
            if not self._data:
                return None
            data, self._data = "\n".join(self._data), []
            return data
        if line.startswith(":"):
            return None
        if line.startswith("{"):
            self._bare_json(line)
            return None
        field, _, value = line.partition(":")
        if field == "data":
            self._data.append(value[1:] if value.startswith(" ") else value)
        return None

    def _bare_json(self, line: str) -> None:
        try:
            payload = json.loads(line)
        except ValueError:
            return
        if isinstance(payload, dict) and "error" in payload and not payload.get("choices"):
            raise error_from_stream_payload(payload, model=self.model)

    def close(self) -> str | None:
        """The data of an event left open when the body ended."""
        if not self._data:
            return None
        data, self._data = "\n".join(self._data), []
        return data

    def feed_all(self, lines: Iterable[str]) -> Iterator[str]:
        for line in lines:
            data = self.feed(line)
            if data is not None:
                yield data
        tail = self.close()
        if tail is not None:
            yield tail


def iter_sse_data(response: httpx.Response, model: str | None = None) -> Iterator[str]:
    """The ``data`` payload of each event of a streamed response."""
    return SSEDecoder(model).feed_all(response.iter_lines())


async def aiter_sse_data(response: httpx.Response, model: str | None = None) -> AsyncIterator[str]:
    """Async twin of :func:`iter_sse_data`."""
    decoder = SSEDecoder(model)
    async for line in response.aiter_lines():
        data = decoder.feed(line)
        if data is not None:
            yield data
    tail = decoder.close()
    if tail is not None:
        yield tail
