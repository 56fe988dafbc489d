"""``b3n probe``: a few cheap calls per model family that find out what the user's relay really does.

Each behaviour is one bounded request (``max_tokens`` 64) sent as raw wire JSON (no adaptation), so the
relay's own translation is what is measured:

============================  ===================================================================
``tool_choice``               a named ``tool_choice`` is honoured (the reply calls that tool)
``parallel_calls``            two calls asked for in one turn both come back (non-streamed)
``stream_tool_calls``         a streamed reply carries its tool calls
``stream_usage``              a stream with ``include_usage`` ends with usage
``tool_result_turns``         an assistant tool call (``content: null``) + ``role: "tool"`` result is accepted
``response_format``           ``{"type": "json_object"}`` makes the reply JSON
``model_name``                replies name a model (not ``""``, missing or a bare ``"gemini"``)
``bare_key``                  ``Authorization: <key>`` without ``Bearer`` is accepted (free ``GET /models``)
``native_messages``           Claude: the relay serves Anthropic's own ``POST /messages`` (new-api does)
``native_generate_content``   Gemini: the relay serves Google's ``POST /v1beta/models/{model}:generateContent``
============================  ===================================================================

A native route that answers 404 is recorded as not served; ``api_format="auto"`` uses Claude's native route only
where it was found (see :mod:`b3n._native_chat`).

The findings are cached per base URL (:mod:`b3n._probe_cache`); ``ChatB3n`` and ``B3n`` read
them and adapt up front (e.g. Gemini tool turns sent as text) instead of learning from a failed call.

Example:
    >>> from b3n import B3nClient
    >>> from b3n.testing import Emulator
    >>> with Emulator(relay="one-api") as emu:
    ...     client = B3nClient(api_key="sk-test", base_url=emu.base_url)
    ...     report = probe(client, ["gemini-1.5-flash-latest"], save=False)  # save=True (default): cached
    >>> report.families["gemini"]["tool_result_turns"], report.families["gemini"]["response_format"]
    (False, True)
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from b3n._body import json_or_error
from b3n._chat.anthropic_stream import parse_message
from b3n._chat.relay import family as family_of
from b3n._chat.relay import normalize_model
from b3n._chat.response import parse_chat_completion
from b3n._chat.stream import StreamAssembler
from b3n._chat.types import Usage
from b3n._errors import B3nAPIStatusError, B3nBadRequestError, B3nError, B3nNotFoundError
from b3n._json import count, loads
from b3n._lazy import httpx

DEFAULT_MODELS = ("gpt-4o-mini", "claude-3-5-sonnet-latest", "gemini-1.5-flash-latest")
BEHAVIOURS = (
    "tool_choice",
    "parallel_calls",
    "stream_tool_calls",
    "stream_usage",
    "tool_result_turns",
    "response_format",
    "model_name",
    "bare_key",
    "native_messages",
    "native_generate_content",
)
MAX_TOKENS = 64
NATIVE_PATH = "/messages"
_NUMBER = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
_TOOLS = [
    {"type": "function", "function": {"name": name, "description": f"{verb} a number.", "parameters": _NUMBER}}
    for name, verb in (("record_number", "Record"), ("square_number", "Square"))
]
_BOTH = "Call record_number(3) and square_number(4), both at once."


@dataclass
class ProbeReport:
    """What the probe found: family → behaviour → True (as OpenAI does) / False, plus the models and cost."""

    base_url: str
    families: dict[str, dict[str, bool]] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    usd: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "families": self.families,
            "models": self.models,
            "cost": {"requests": self.requests, "prompt_tokens": self.prompt_tokens,
                     "completion_tokens": self.completion_tokens, "usd": round(self.usd, 6)},
        }

    def table(self) -> str:
        """A text table: one row per behaviour, one column per family."""
        fams = list(self.families)
        width = max(len(b) for b in BEHAVIOURS) + 2
        lines = ["behaviour".ljust(width) + "".join(f.ljust(10) for f in fams)]
        for behaviour in BEHAVIOURS:
            cells = []
            for fam in fams:
                value = self.families[fam].get(behaviour)
                cells.append(("-" if value is None else "yes" if value else "NO").ljust(10))
            lines.append(behaviour.ljust(width) + "".join(cells))
        lines.append(f"models: {', '.join(f'{k}={v}' for k, v in self.models.items())}")
        lines.append(f"cost: {self.requests} requests, {self.prompt_tokens} prompt + {self.completion_tokens} "
                     f"completion tokens, about ${self.usd:.6f}")
        return "\n".join(lines)


class _Prober:
    def __init__(self, client: Any, report: ProbeReport) -> None:
        self.transport = client.transport
        self.report = report

    def _account(self, model: str, usage: Usage | None) -> None:
        from b3n._pricing import PRICE_BOOK

        self.report.requests += 1
        if usage is None:
            return
        self.report.prompt_tokens += usage.prompt_tokens
        self.report.completion_tokens += usage.completion_tokens
        with contextlib.suppress(Exception):  # pricing is best effort; the token counts are printed anyway
            self.report.usd += PRICE_BOOK.table(self.transport).cost(model, usage).usd

    def call(self, model: str, body: dict[str, Any]) -> Any:
        payload = {"model": model, "max_tokens": MAX_TOKENS, **body}
        try:
            response = self.transport.request("POST", "/chat/completions", json_body=payload, model=model)
        except B3nAPIStatusError:
            self.report.requests += 1
            raise
        body = json_or_error(response, f"a probe call to {model!r}")
        completion = parse_chat_completion(body, model)
        self._account(model, completion.usage)
        return body

    def stream(self, model: str, body: dict[str, Any]) -> tuple[StreamAssembler, list[dict[str, Any]]]:
        payload = {"model": model, "max_tokens": MAX_TOKENS, "stream": True,
                   "stream_options": {"include_usage": True}, **body}
        assembler = StreamAssembler(model)
        raw: list[dict[str, Any]] = []
        for chunk in self.transport.iter_sse("/chat/completions", payload, model=model):
            raw.append(chunk)
            assembler.feed(chunk)
        self._account(model, assembler.usage)
        return assembler, raw


    def native_claude(self, model: str) -> bool:
        """One bounded ``POST /messages`` in Claude's own format: True when the relay serves it."""
        body = {"model": model, "max_tokens": MAX_TOKENS, "messages": [{"role": "user", "content": "say 1"}]}
        try:
            response = self.transport.request("POST", NATIVE_PATH, json_body=body, model=model,
                                              credential="anthropic_key")
        except B3nNotFoundError:
            self.report.requests += 1
            return False
        try:
            completion = parse_message(loads(response.content), model)
        except (ValueError, B3nError):
            self._account(model, None)
            return False
        self._account(model, completion.usage)
        return True

    def native_gemini(self, model: str) -> bool:
        """One bounded ``generateContent`` in Gemini's own format (at the relay's origin): True when served."""
        body = {"contents": [{"role": "user", "parts": [{"text": "say 1"}]}],
                "generationConfig": {"maxOutputTokens": MAX_TOKENS}}
        path = f"/v1beta/models/{model}:generateContent"
        try:
            response = self.transport.request("POST", path, json_body=body, model=model, at_origin=True)
        except B3nNotFoundError:
            self.report.requests += 1
            return False
        try:
            data = loads(response.content)
        except ValueError:
            data = None
        served = isinstance(data, dict) and isinstance(data.get("candidates"), list)
        meta = data.get("usageMetadata") if isinstance(data, dict) else None
        usage = None
        if isinstance(meta, dict):
            prompt, output = count(meta.get("promptTokenCount")) or 0, count(meta.get("candidatesTokenCount")) or 0
            usage = Usage(prompt, output, prompt + output)
        self._account(model, usage)
        return served


def _calls(body: Any) -> list[Any]:
    choices = body.get("choices") if isinstance(body, dict) else None
    return [c for ch in choices or [] for c in (ch.get("message") or {}).get("tool_calls") or []]


def _probe_family(prober: _Prober, model: str) -> dict[str, bool]:
    found: dict[str, bool] = {}
    named = {"type": "function", "function": {"name": "record_number"}}
    reply = prober.call(model, {"messages": [{"role": "user", "content": "Say hello."}], "tools": _TOOLS[:1],
                                "tool_choice": named})
    found["tool_choice"] = any((c.get("function") or {}).get("name") == "record_number" for c in _calls(reply))
    reply = prober.call(model, {"messages": [{"role": "user", "content": _BOTH}], "tools": _TOOLS})
    found["parallel_calls"] = len(_calls(reply)) >= 2
    reported = [reply.get("model") if isinstance(reply, dict) else None]
    assembler, raw = prober.stream(model, {"messages": [{"role": "user", "content": _BOTH}], "tools": _TOOLS})
    found["stream_tool_calls"] = bool(assembler.result().tool_calls)
    reported += [chunk.get("model") for chunk in raw[:1]]
    assembler, raw = prober.stream(model, {"messages": [{"role": "user", "content": "say 1"}]})
    found["stream_usage"] = assembler.usage is not None
    call = {"id": "call_probe_1", "type": "function", "function": {"name": "record_number", "arguments": '{"n": 3}'}}
    history = [{"role": "user", "content": "Record the number 3."}, {"role": "assistant", "content": None,
               "tool_calls": [call]}, {"role": "tool", "tool_call_id": "call_probe_1", "content": "recorded"}]
    try:
        prober.call(model, {"messages": history, "tools": _TOOLS[:1]})
        found["tool_result_turns"] = True
    except B3nBadRequestError:
        found["tool_result_turns"] = False
    reply = prober.call(model, {"response_format": {"type": "json_object"}, "messages": [
        {"role": "user", "content": "Reply in JSON with keys 'city' and 'country' for Paris."}]})
    text = (reply.get("choices") or [{}])[0].get("message", {}).get("content") or ""
    try:
        found["response_format"] = isinstance(loads(text), dict)
    except ValueError:
        found["response_format"] = False
    found["model_name"] = all(normalize_model(value, "") != "" for value in reported)
    if family_of(model) == "claude":
        found["native_messages"] = prober.native_claude(model)
    elif family_of(model) == "gemini":
        found["native_generate_content"] = prober.native_gemini(model)
    return found


def _bare_key_works(client: Any) -> bool:
    transport = client.transport
    key = transport.config.require_api_key().get_secret_value()
    try:
        response = transport.client.get(transport.url("/models"), headers={"Authorization": key})
    except httpx.HTTPError:
        return False
    return bool(response.status_code == 200)


def probe(client: Any, models: list[str] | tuple[str, ...] = DEFAULT_MODELS, *, save: bool = True) -> ProbeReport:
    """Probe the relay behind ``client`` (a ``B3nClient``) with one model per family; cache the findings."""
    report = ProbeReport(base_url=client.transport.config.base_url)
    prober = _Prober(client, report)
    bare = _bare_key_works(client)
    for model in models:
        fam = family_of(model)
        report.models[fam] = model
        report.families[fam] = {**_probe_family(prober, model), "bare_key": bare}
    if save:
        from b3n._probe_cache import save_probe

        save_probe(report.base_url, report.families)
    return report
