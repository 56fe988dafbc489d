"""``logprobs`` / ``top_logprobs`` for OpenAI chat models: deterministic per-token log probabilities.

GPT models answer a request with ``logprobs: true`` with ``choices[].logprobs.content`` (one entry per
token of the reply: ``token``, ``logprob``, ``bytes``, ``top_logprobs``), in JSON replies and on every
streamed content delta. Reasoning models answer 400 (OpenAI does not serve logprobs for them); Claude and
Gemini behind the relay drop the field and send none.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import invalid
from .textutil import stable_hex

_TOKEN = re.compile(r"\s*\S+|\s+")


def _logprob(token: str, rank: int) -> float:
    return -round(int(stable_hex(6, "logprob", token), 16) % 1000 / 1000 + rank * 1.5, 4)


def token_logprobs(text: str, top: int) -> list[dict[str, Any]]:
    """One entry per token of ``text`` (the tokens concatenate back to ``text``)."""
    out = []
    for piece in _TOKEN.findall(text or ""):
        alternatives = [{"token": piece, "logprob": _logprob(piece, 0), "bytes": list(piece.encode())}]
        for rank in range(1, top):
            alt = f"{piece.strip()}_{rank}"
            alternatives.append({"token": alt, "logprob": _logprob(alt, rank), "bytes": list(alt.encode())})
        out.append({**alternatives[0], "top_logprobs": alternatives[:top]})
    return out


def check_request(body: Any, family: str) -> tuple[bool, int]:
    """(logprobs wanted, top_logprobs) for a chat request; 400 for reasoning models."""
    if not isinstance(body, dict) or not body.get("logprobs"):
        if isinstance(body, dict) and body.get("top_logprobs") is not None:
            raise invalid("Invalid value for 'top_logprobs': requires 'logprobs' to be true.", param="top_logprobs")
        return False, 0
    if family == "reasoning":
        raise invalid("Unsupported parameter: 'logprobs' is not supported with this model.", param="logprobs",
                      code="unsupported_parameter")
    top = body.get("top_logprobs") or 0
    if not isinstance(top, int) or isinstance(top, bool) or not 0 <= top <= 20:
        raise invalid(f"Invalid 'top_logprobs': expected an integer between 0 and 20, got {top!r}.",
                      param="top_logprobs")
    return family in ("openai", "reverse"), top


def add_to_completion(completion: dict[str, Any], top: int) -> None:
    for choice in completion.get("choices") or []:
        message = choice.get("message") or {}
        choice["logprobs"] = {"content": token_logprobs(message.get("content") or "", top), "refusal": None}


def add_to_chunk(chunk: dict[str, Any], top: int) -> None:
    for choice in chunk.get("choices") or []:
        content = (choice.get("delta") or {}).get("content")
        if content:
            choice["logprobs"] = {"content": token_logprobs(content, top), "refusal": None}
