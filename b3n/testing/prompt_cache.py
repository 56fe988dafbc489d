"""Claude prompt caching: ``cache_control`` markers become cache writes, then cache reads, in ``usage``.

For Claude models, everything up to the last ``cache_control`` marker (tools first, then the messages in
order) is the cached prefix: the first request with a given prefix reports it as
``cache_creation_input_tokens`` (a cache write), later ones as ``cache_read_input_tokens`` and
``prompt_tokens_details.cached_tokens`` (a cache read). Other families reject the marker with a 400, as
OpenAI's strict schema does, so a client that forwards it to them is caught.
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

from .errors import invalid
from .textutil import count_tokens


def _marked(obj: Any) -> bool:
    return isinstance(obj, dict) and isinstance(obj.get("cache_control"), dict)


def _pieces(body: dict[str, Any]) -> list[tuple[str, bool]]:
    """(text, marked) for every tool and content part, in prompt order."""
    out: list[tuple[str, bool]] = []
    for tool in body.get("tools") or []:
        out.append((json.dumps(tool.get("function", tool) if isinstance(tool, dict) else tool, sort_keys=True),
                    _marked(tool)))
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, list):
            for part in content:
                text = part.get("text", "") if isinstance(part, dict) else str(part)
                out.append((f"{message.get('role')}:{text}", _marked(part)))
        else:
            out.append((f"{message.get('role')}:{content or ''}", _marked(message)))
    return out


def check_markers(body: Any, family: str | None) -> None:
    """Reject ``cache_control`` for non-Claude models (400, like OpenAI's strict request schema)."""
    if family == "claude" or not isinstance(body, dict) or not any(m for _, m in _pieces(body)):
        return
    raise invalid("Unrecognized request argument supplied: cache_control", param="cache_control")


class PromptCache:
    """The prefixes written so far (per emulator; cleared by ``reset()``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: set[str] = set()

    def account(self, body: dict[str, Any]) -> tuple[int, int]:
        """(cache write tokens, cache read tokens) of one Claude request."""
        pieces = _pieces(body)
        last = max((i for i, (_, marked) in enumerate(pieces) if marked), default=-1)
        if last < 0:
            return 0, 0
        prefix = "\n".join(text for text, _ in pieces[: last + 1])
        tokens = max(count_tokens(prefix), 1)
        key = hashlib.sha256(f"{body.get('model')}\n{prefix}".encode()).hexdigest()
        with self._lock:
            if key in self._seen:
                return 0, tokens
            self._seen.add(key)
        return tokens, 0

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


def patch_usage(usage: Any, written: int, read: int) -> None:
    """Add the cache counts to a ``usage`` object (Anthropic's names and OpenAI's cached_tokens)."""
    if not isinstance(usage, dict) or not (written or read):
        return
    usage["cache_creation_input_tokens"] = written
    usage["cache_read_input_tokens"] = read
    details = usage.get("prompt_tokens_details")
    details = dict(details) if isinstance(details, dict) else {}
    details["cached_tokens"] = read
    usage["prompt_tokens_details"] = details
    usage["prompt_tokens"] = int(usage.get("prompt_tokens") or 0) + written + read
    usage["total_tokens"] = usage["prompt_tokens"] + int(usage.get("completion_tokens") or 0)
