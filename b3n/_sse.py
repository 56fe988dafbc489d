"""Server-sent events from the relay, line by line, including what new-api writes outside the SSE format.

new-api answers an upstream failure that happens after the SSE headers were sent with a plain JSON
error body (no ``data:`` prefix; Calcium-Ion/new-api ``controller/relay.go``). An SSE parser skips that
line as an unknown field, so the relay's message would be lost and the stream would look cut. Here
such a line raises the typed error it describes (:func:`b3n._relay_errors.error_from_stream_payload`).

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

from collections.abc import Iterable, Iterator

from b3n._errors import B3nResponseError
from b3n._json import loads
from b3n._relay_errors import error_from_stream_payload

#: the longest SSE line and event accepted (a chat chunk is a few KB; a whole reply rarely 1 MB).
MAX_LINE_BYTES = 8 * 1024 * 1024
MAX_EVENT_CHARS = 16 * 1024 * 1024


def _too_long(what: str, limit: int) -> B3nResponseError:
    return B3nResponseError(
        f"B3n sent a stream {what} longer than {limit // (1024 * 1024)} MB; stopped reading it (memory stays "
        "bounded). The relay or a proxy is misbehaving; try again, or call without streaming."
    )


class LineSplitter:
    r"""Bytes to lines (``\n``, ``\r\n`` or ``\r`` endings), refusing a line longer than ``max_line`` bytes.

    Example:
        >>> splitter = LineSplitter()
        >>> splitter.feed(b"data: 1\r"), splitter.feed(b"\n\ndata: 2"), splitter.close()
        ([], ['data: 1', ''], ['data: 2'])
    """

    __slots__ = ("_buffer", "_pending_cr", "max_line")

    def __init__(self, max_line: int = MAX_LINE_BYTES) -> None:
        self._buffer = bytearray()
        self._pending_cr = False
        self.max_line = max_line

    def feed(self, chunk: bytes) -> list[str]:
        if self._pending_cr:
            chunk, self._pending_cr = b"\r" + chunk, False
        if chunk.endswith(b"\r"):  # maybe the first half of "\r\n": decide with the next chunk
            chunk, self._pending_cr = chunk[:-1], True
        parts = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        if len(parts) == 1:
            self._buffer += parts[0]
            if len(self._buffer) > self.max_line:
                raise _too_long("line", self.max_line)
            return []
        lines = [bytes(self._buffer) + parts[0], *parts[1:-1]]
        self._buffer = bytearray(parts[-1])
        if len(self._buffer) > self.max_line or any(len(line) > self.max_line for line in lines):
            raise _too_long("line", self.max_line)
        return [line.decode("utf-8", "replace") for line in lines]

    def close(self) -> list[str]:
        rest, self._buffer = bytes(self._buffer), bytearray()
        return [rest.decode("utf-8", "replace")] if rest or self._pending_cr else []


class SSEDecoder:
    """Turns lines into ``data`` payloads (one per event); a bare JSON error line raises."""

    __slots__ = ("_data", "_size", "model")

    def __init__(self, model: str | None = None) -> None:
        self._data: list[str] = []
        self._size = 0
        self.model = model

    def feed(self, line: str) -> str | None:
        """The data of the event this line completes, or None."""
        line = line.rstrip("\r\n")
        if not line:
            if not self._data:
                return None
            data, self._data, self._size = "\n".join(self._data), [], 0
            return data
        if line.startswith(":"):
            return None
        if line.startswith("{"):
            self._bare_json(line)
            return None
        field, _, value = line.partition(":")
        if field == "data":
            self._size += len(value)
            if self._size > MAX_EVENT_CHARS:
                raise _too_long("event", MAX_EVENT_CHARS)
            self._data.append(value[1:] if value.startswith(" ") else value)
        return None

    def _bare_json(self, line: str) -> None:
        try:
            payload = loads(line)
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
