"""Which route answers a chat request, and the plans of Claude's native route (``POST {base_url}/messages``).

Routes (``api_format``):

- ``"openai"``: ``/chat/completions`` in the OpenAI format, for every model (the relay translates for Claude);
- ``"anthropic"``: Claude's own Messages API, which new-api relays serve and one-api relays do not. It carries
  what the OpenAI format cannot: thinking blocks with their signatures across tool turns, PDF documents, images in
  tool results, ``cache_control`` on any block with cache read/write counts. Sent with ``x-api-key`` and
  ``anthropic-version``;
- ``"auto"`` (the default): the native route for Claude models when ``b3n probe`` confirmed the relay serves it (or
  when the history already holds thinking blocks, which only that route produces), else ``"openai"``.

The route is decided once per client and model and kept (a conversation never switches protocol half-way, even
if the probe cache changes meanwhile), and every answer says which route it came from (``api_format``). The native
route follows the same retry, billing and shared-limiter rules as the OpenAI one (the same transport).
"""

from __future__ import annotations

import dataclasses
import threading
from typing import TYPE_CHECKING, Any

from b3n._adaptive import current_gate
from b3n._body import json_or_error
from b3n._catalog import get_model_info
from b3n._chat import relay
from b3n._chat.anthropic_request import has_native_parts, messages_payload, strip_native_parts, tool_images
from b3n._chat.anthropic_stream import NativeStreamAssembler, parse_message
from b3n._chat.request import ChatRequest, apply_thinking_budget
from b3n._chat.types import ChatChunk, ChatCompletion
from b3n._effects import OpenEvents, http
from b3n._errors import B3nInvalidRequestError, B3nNotFoundError, B3nStreamInterruptedError, StreamEndedEarly
from b3n._plans import Emit, Plan, StreamPlan
from b3n._pricing import Cost
from b3n._probe_cache import native_route_confirmed
from b3n._relay_errors import extract_request_id

if TYPE_CHECKING:
    from b3n._config import B3nConfig

PATH = "/messages"
OPENAI = "openai"
ANTHROPIC = "anthropic"


def _not_served(exc: B3nNotFoundError, base_url: str) -> B3nNotFoundError:
    error = B3nNotFoundError(
        f"The relay at {base_url} does not serve Claude's native route (POST /messages answered 404). Use "
        "api_format='openai', or 'auto', which takes the native route only where `b3n probe` found it.",
        status_code=exc.status_code, error_type=exc.error_type, code=exc.code, request_id=exc.request_id,
        body=exc.body,
    )
    error.inside_stream = exc.inside_stream
    return error


class RouteBook:
    """The route each model took on one client: decided at its first request, then kept."""

    def __init__(self, base_url: str, probe_cache: bool) -> None:
        self.base_url = base_url
        self.probe_cache = probe_cache
        self._routes: dict[str, str] = {}
        self._lock = threading.Lock()

    def route(self, request: ChatRequest) -> str:
        """``"openai"`` or ``"anthropic"`` for this request (raises for a native request a model cannot take)."""
        claude = relay.family(request.model) == "claude"
        if request.api_format == ANTHROPIC and not claude:
            raise B3nInvalidRequestError(
                f"api_format='anthropic' sends Claude's native Messages format, which {request.model!r} does not "
                "speak. Use api_format='openai' (or 'auto') for it."
            )
        if request.api_format != "auto" or not claude:
            return ANTHROPIC if request.api_format == ANTHROPIC else OPENAI
        with self._lock:
            decided = self._routes.get(request.model)
            if decided is None:
                native = has_native_parts(request.payload["messages"]) or (
                    self.probe_cache and native_route_confirmed(self.base_url, request.model))
                decided = self._routes[request.model] = ANTHROPIC if native else OPENAI
            return decided

    @staticmethod
    def for_openai(request: ChatRequest) -> ChatRequest:
        """The request as the OpenAI-format route sends it (thinking parts stripped, a deferred budget applied)."""
        messages = request.payload["messages"]
        info = get_model_info(request.model)
        if not info.pdf_inputs and any(isinstance(m.get("content"), list) and any(
                p.get("type") == "file" for p in m["content"]) for m in messages):
            raise B3nInvalidRequestError(
                f"Model {request.model!r} does not take PDF (file) inputs through the relay's OpenAI-format route. "
                "Use api_format='anthropic' on a relay that serves Claude's native route, or send the text."
            )
        if tool_images(messages):
            raise B3nInvalidRequestError(
                "A tool result carries an image or a document, which the OpenAI-format chat route cannot send. "
                "Use api_format='anthropic' for a Claude model on a relay that serves it, or return text."
            )
        if not has_native_parts(messages) and request.thinking_budget is None:
            return request
        payload = {**request.payload, "messages": strip_native_parts(messages)}
        if request.thinking_budget is not None:
            apply_thinking_budget(payload, info, request.thinking_budget)
        return dataclasses.replace(request, payload=payload, thinking_budget=None)


class NativePlans:
    """Claude's native route as plans (see :mod:`b3n._plans`), run by both chat services."""

    def __init__(self, config: B3nConfig) -> None:
        self.base_url = config.base_url

    def _body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        body = messages_payload(request, thinking_budget=request.thinking_budget)
        if not stream:
            body.pop("stream", None)
        else:
            body["stream"] = True
        return body

    def send(self, request: ChatRequest) -> Plan[ChatCompletion]:
        body = self._body(request, stream=False)
        try:
            response = yield from http("POST", PATH, json_body=body, model=request.model, credential="anthropic_key",
                                       gate=current_gate())
        except B3nNotFoundError as exc:
            raise _not_served(exc, self.base_url) from None
        completion = parse_message(json_or_error(response, f"the Claude message for model {request.model!r}"),
                                   request.model)
        completion.request_id = extract_request_id(None, response.headers)
        if completion.usage is not None:
            completion.cost = yield from Cost(request.model, completion.usage)
        return completion

    def send_stream(self, request: ChatRequest) -> StreamPlan[ChatChunk]:
        body = self._body(request, stream=True)
        assembler = NativeStreamAssembler(request.model)
        try:
            events = yield from OpenEvents(PATH, body, model=request.model, on_open=assembler.see_headers,
                                           credential="anthropic_key")
            while (raw := (yield from events.next())) is not None:
                chunk = assembler.feed(raw)
                if chunk is not None:
                    yield Emit(chunk)
        except B3nNotFoundError as exc:
            raise _not_served(exc, self.base_url) from None
        except StreamEndedEarly as exc:  # Anthropic streams end without [DONE]: message_stop is the end
            if not assembler.stopped:
                exc.partial = assembler.result()
                raise
        except B3nStreamInterruptedError as exc:
            exc.partial = assembler.result()
            raise
        final = assembler.finish()
        if final.usage is not None:
            final.cost = yield from Cost(request.model, final.usage)
        yield Emit(final)


__all__ = ["ANTHROPIC", "OPENAI", "NativePlans", "RouteBook"]
