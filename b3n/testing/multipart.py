"""A small, strict multipart/form-data parser (RFC 7578) for the transcription endpoint."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import invalid

_BOUNDARY_RE = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)
_DISPOSITION_PARAM_RE = re.compile(r';\s*([\w*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))')


@dataclass
class Part:
    """One form field: a value or an uploaded file."""

    name: str
    data: bytes
    filename: str | None = None
    content_type: str | None = None

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


def parse_multipart(content_type: str, body: bytes) -> list[Part]:
    """Split ``body`` into its parts; raise a 400 ``ApiError`` if it is not valid multipart."""
    m = _BOUNDARY_RE.search(content_type or "")
    if not content_type.lower().startswith("multipart/form-data") or m is None:
        raise invalid("Invalid Content-Type: expected multipart/form-data with a boundary.")
    boundary = (m.group(1) or m.group(2)).encode("latin-1")
    delimiter = b"--" + boundary
    start = body.find(delimiter)
    if start < 0:
        raise invalid("Invalid multipart body: boundary not found.")
    parts: list[Part] = []
    pos = start + len(delimiter)
    while True:
        if body[pos : pos + 2] == b"--":
            break
        if body[pos : pos + 2] == b"\r\n":
            pos += 2
        head_end = body.find(b"\r\n\r\n", pos)
        if head_end < 0:
            raise invalid("Invalid multipart body: part headers not terminated.")
        headers: dict[str, str] = {}
        for line in body[pos:head_end].split(b"\r\n"):
            if b":" in line:
                key, _, value = line.partition(b":")
                headers[key.decode("latin-1").strip().lower()] = value.decode("utf-8", "replace").strip()
        data_start = head_end + 4
        next_delim = body.find(b"\r\n" + delimiter, data_start)
        if next_delim < 0:
            raise invalid("Invalid multipart body: closing boundary not found.")
        disposition = headers.get("content-disposition", "")
        params: dict[str, str] = {}
        for pm in _DISPOSITION_PARAM_RE.finditer(disposition):
            pvalue = pm.group(2) if pm.group(2) is not None else (pm.group(3) or "").strip()
            params[pm.group(1).lower()] = pvalue.replace('\\"', '"')
        if "name" in params:
            parts.append(
                Part(
                    name=params["name"],
                    data=body[data_start:next_delim],
                    filename=params.get("filename"),
                    content_type=headers.get("content-type"),
                )
            )
        pos = next_delim + 2 + len(delimiter)
        if pos >= len(body):
            break
    return parts
