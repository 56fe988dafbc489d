"""Chat calls: send a prepared request, parse it, or stream it as normalised chunks.

Relay behaviours (see :mod:`b3n._chat.relay`) are handled here, once for both frameworks:

- Claude assistant tool-call turns always carry text;
- a Gemini tool history the relay cannot carry (400 "valid role") is re-sent once as text turns, and
  that is remembered for the base URL and model (or known up front from ``b3n probe``);
- a Gemini stream with tools that arrives empty (the relay dropped the function calls) is served
  from one non-streamed call as chunks, remembered likewise;
- a stream without usage gets a local estimate (``Usage.estimated``);
- a forced tool call (``tool_choice`` naming a tool) that the relay did not pass on is recovered:
  JSON in the reply's text, else one corrective request asking for the JSON (in Gemini JSON mode).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any

from b3n._adaptive import current_gate
from b3n._body import json_or_error
from b3n._chat import relay
from b3n._chat.relay import Adaptation
from b3n._chat.request import ChatRequest, build_chat_request
from b3n._chat.response import parse_chat_completion
from b3n._chat.stream import StreamAssembler, completion_to_chunks
from b3n._chat.types import ChatChunk, ChatCompletion, ToolCallDelta, Usage
from b3n._config import B3nConfig
from b3n._effects import OpenEvents, http
from b3n._errors import B3nAdaptationWarning, B3nBadRequestError, B3nStreamInterruptedError, StreamEndedEarly
from b3n._native_chat import ANTHROPIC, NativePlans, RouteBook
from b3n._plans import Emit, Plan, StreamPlan, arun, arun_stream, run, run_stream
from b3n._pricing import Cost
from b3n._probe_cache import known_behaviour
from b3n._relay_errors import extract_request_id
from b3n._transport import AsyncTransport, SyncTransport

PATH = "/chat/completions"
logger = logging.getLogger("b3n")


def _adaptation_warning(message: str, stacklevel: int) -> None:
    warnings.warn(message, B3nAdaptationWarning, stacklevel=stacklevel + 1)


def _warn_no_logprobs(model: str) -> None:
    _adaptation_warning(f"{model} answered without log probabilities although logprobs were requested (the relay "
                        "or the upstream dropped them).", stacklevel=4)


def _check_choices(request: ChatRequest, completion: ChatCompletion) -> None:
    """Warn when the relay answered fewer choices than ``n`` asked for (never a silent 1 for 3)."""
    got = 1 + len(completion.more_choices)
    if got < request.n:
        _adaptation_warning(f"{request.model} answered {got} choice(s) although n={request.n} were asked for (the "
                            "relay dropped n); send separate requests for more.", stacklevel=5)


def _with_partial(exc: B3nStreamInterruptedError, assembler: StreamAssembler) -> B3nStreamInterruptedError:
    exc.partial = assembler.result()
    return exc


def _non_stream(payload: dict[str, Any]) -> dict[str, Any]:
    if payload.get("stream"):
        return {k: v for k, v in payload.items() if k not in ("stream", "stream_options")}
    return payload


class _Adapt:
    """Per-client relay adaptation state: the base URL that keys what was learned."""

    def __init__(self, base_url: str, probe_cache: bool = True) -> None:
        self.base_url = base_url
        self.probe_cache = probe_cache

    def knows(self, model: str, what: Adaptation) -> bool:
        if relay.MEMORY.knows(self.base_url, model, what):
            return True
        return self.probe_cache and known_behaviour(self.base_url, model, what)

    def learn(self, model: str, what: Adaptation, why: str) -> None:
        if not relay.MEMORY.knows(self.base_url, model, what):
            logger.warning("B3n relay at %s: %s for %s; adapted for the rest of this process.", self.base_url,
                           why, model)
        relay.MEMORY.learn(self.base_url, model, what)

    def prepare(self, request: ChatRequest) -> dict[str, Any]:
        """The payload with every adaptation already known for this relay and model."""
        payload = request.payload
        fam = relay.family(request.model)
        messages = payload["messages"]
        if fam == "claude" and relay.has_tool_history(messages):
            payload = {**payload, "messages": relay.claude_tool_turn_content(messages)}
        elif fam == "gemini" and relay.has_tool_history(messages) and self.knows(request.model,
                                                                                 Adaptation.GEMINI_TEXT_TOOL_HISTORY):
            payload = {**payload, "messages": relay.text_tool_history(messages)}
        return payload

    def tool_history_retry(self, request: ChatRequest, payload: dict[str, Any],
                           exc: B3nBadRequestError) -> dict[str, Any] | None:
        """The payload to re-send once when a Gemini upstream refused the tool turns, else None."""
        messages = payload["messages"]
        if relay.family(request.model) != "gemini" or not relay.has_tool_history(messages):
            return None
        if not relay.is_tool_role_rejection(exc.message):
            return None
        self.learn(request.model, Adaptation.GEMINI_TEXT_TOOL_HISTORY, "Gemini tool turns are not translated (400)")
        return {**payload, "messages": relay.text_tool_history(messages)}

    def streams_tool_calls(self, request: ChatRequest, payload: dict[str, Any]) -> bool:
        """False when this relay is known to drop Gemini function calls from streams (and tools are bound)."""
        if not payload.get("tools") or relay.family(request.model) != "gemini":
            return True
        return not self.knows(request.model, Adaptation.GEMINI_STREAM_TOOL_CALLS_DROPPED)

    def serve_stream_from_call(self, request: ChatRequest, payload: dict[str, Any]) -> bool:
        if not self.streams_tool_calls(request, payload):
            return True
        # a relay known to ignore a forced tool on Claude / Gemini: the JSON is asked for directly, in one call
        return self.upfront_structured(request, payload) is not None

    def forced_fallback_tool(self, request: ChatRequest, payload: dict[str, Any]) -> dict[str, Any] | None:
        """The tool a stream forces on Claude / Gemini, whose call the structured fallback supplies if the model
        answers in prose (the relays may drop ``tool_choice``); None for OpenAI models and unforced streams."""
        if relay.family(request.model) == "openai":
            return None
        return relay.forced_tool(payload)

    def dropped_stream_calls(self, request: ChatRequest, payload: dict[str, Any], assembler: StreamAssembler) -> bool:
        """A Gemini stream with tools bound that delivered nothing at all: the relay dropped the calls."""
        if not payload.get("tools") or relay.family(request.model) != "gemini" or assembler.has_output:
            return False
        self.learn(request.model, Adaptation.GEMINI_STREAM_TOOL_CALLS_DROPPED, "streams drop Gemini function calls")
        return True

    def usage(self, request: ChatRequest, payload: dict[str, Any], assembler: StreamAssembler) -> Usage | None:
        if assembler.usage is not None or not request.include_usage:
            return assembler.usage
        return relay.estimate_usage(request.model, payload, assembler.result())

    def needs_structured_fallback(self, payload: dict[str, Any], completion: ChatCompletion) -> dict[str, Any] | None:
        tool = relay.forced_tool(payload)
        if tool is None or completion.tool_calls:
            return None
        return tool

    def upfront_structured(self, request: ChatRequest, payload: dict[str, Any]) -> dict[str, Any] | None:
        """The tool a named ``tool_choice`` forces when ``b3n probe`` found the relay ignores it (else None)."""
        if not isinstance(payload.get("tool_choice"), dict):
            return None
        ignored = Adaptation.tool_choice_ignored(relay.family(request.model))
        if ignored is None or not self.knows(request.model, ignored):
            return None
        return relay.forced_tool(payload)

    def json_mode(self, request: ChatRequest) -> bool:
        ignored = Adaptation.GEMINI_JSON_MODE_IGNORED
        return relay.family(request.model) == "gemini" and not self.knows(request.model, ignored)


def _add_usage(first: Usage | None, second: Usage | None) -> Usage | None:
    if first is None or second is None:
        return first or second
    return Usage(first.prompt_tokens + second.prompt_tokens, first.completion_tokens + second.completion_tokens,
                 first.total_tokens + second.total_tokens, estimated=first.estimated or second.estimated)


class _ChatPlans:
    """The chat calls as plans (see :mod:`b3n._plans`): written once, run by both services."""

    def __init__(self, config: B3nConfig) -> None:
        self.adapt = _Adapt(config.base_url, config.relay_probe_cache)
        # Claude's native route (api_format; see b3n._native_chat): decided once per model, then kept
        self.routes = RouteBook(config.base_url, config.relay_probe_cache)
        self.native = NativePlans(config)

    def _post(self, request: ChatRequest, payload: dict[str, Any]) -> Plan[ChatCompletion]:
        # inside a batch (b3n._adaptive.gating) each attempt takes a slot of the batch's adaptive limiter
        response = yield from http("POST", PATH, json_body=payload, model=request.model, gate=current_gate())
        body = json_or_error(response, f"the chat request for model {request.model!r}")
        completion = parse_chat_completion(body, request.model)
        completion.request_id = extract_request_id(None, response.headers)
        _check_choices(request, completion)
        if request.payload.get("logprobs") and completion.logprobs is None:
            _warn_no_logprobs(request.model)
        if completion.usage is not None:
            completion.cost = yield from Cost(request.model, completion.usage)
        return completion

    def send(self, request: ChatRequest) -> Plan[ChatCompletion]:
        if self.routes.route(request) == ANTHROPIC:
            return (yield from self.native.send(request))
        request = RouteBook.for_openai(request)
        adapt = self.adapt
        payload = _non_stream(adapt.prepare(request))
        upfront = adapt.upfront_structured(request, payload)
        if upfront is not None:  # known to be ignored: ask for the JSON directly (one request)
            fix = relay.corrective_payload(payload, upfront, "", adapt.json_mode(request))
            direct = yield from self._post(request, fix)
            arguments = relay.json_arguments(direct.content)
            return direct if arguments is None else relay.synthesize_call(direct, upfront, arguments)
        try:
            completion = yield from self._post(request, payload)
        except B3nBadRequestError as exc:
            retry = adapt.tool_history_retry(request, payload, exc)
            if retry is None:
                raise
            payload = retry
            completion = yield from self._post(request, payload)
        tool = adapt.needs_structured_fallback(payload, completion)
        if tool is None:
            return completion
        return (yield from self._structured_fallback(request, payload, tool, completion))

    def _structured_fallback(self, request: ChatRequest, payload: dict[str, Any], tool: dict[str, Any],
                             completion: ChatCompletion) -> Plan[ChatCompletion]:
        """``completion`` (prose where ``tool`` was forced) as a call of ``tool``: the JSON in its text, else one
        corrective request for it; unchanged when neither holds JSON (the caller's parser then says so)."""
        arguments = relay.json_arguments(completion.content)
        if arguments is None:
            fix = relay.corrective_payload(_non_stream(payload), tool, completion.content,
                                           self.adapt.json_mode(request))
            second = yield from self._post(request, fix)
            arguments = relay.json_arguments(second.content)
            completion.usage = _add_usage(completion.usage, second.usage)
            if completion.usage is not None:
                completion.cost = yield from Cost(request.model, completion.usage)
            if arguments is None:
                return completion
        return relay.synthesize_call(completion, tool, arguments)

    def _from_call(self, request: ChatRequest) -> StreamPlan[ChatChunk]:
        """Serve a stream from one whole reply, as chunks."""
        for chunk in completion_to_chunks((yield from self.send(request))):
            yield Emit(chunk)

    def send_stream(self, request: ChatRequest) -> StreamPlan[ChatChunk]:
        if self.routes.route(request) == ANTHROPIC:
            yield from self.native.send_stream(request)
            return
        request = RouteBook.for_openai(request)
        adapt = self.adapt
        payload = adapt.prepare(request)
        if request.emulate_stream or not payload.get("stream") or adapt.serve_stream_from_call(request, payload):
            yield from self._from_call(request)
            return
        assembler = StreamAssembler(request.model)
        forced = adapt.forced_fallback_tool(request, payload)
        held: list[ChatChunk] = []  # a forced tool's stream: text before the first call, held back
        called = False
        retried = False
        while True:
            try:
                events = yield from OpenEvents(PATH, payload, model=request.model, on_open=assembler.see_headers)
                while (raw := (yield from events.next())) is not None:
                    chunk = assembler.feed(raw)
                    if chunk is None:
                        continue
                    called = called or bool(chunk.tool_calls)
                    if forced is not None and not called:
                        held.append(chunk)
                        continue
                    for early in held:
                        yield Emit(early)
                    held = []
                    yield Emit(chunk)
            except B3nBadRequestError as exc:
                retry = None if retried else adapt.tool_history_retry(request, payload, exc)
                if retry is None:
                    raise
                payload, retried = retry, True
                continue
            except StreamEndedEarly as exc:
                if assembler.finish_reason is None:
                    raise _with_partial(exc, assembler) from None
            except B3nStreamInterruptedError as exc:
                raise _with_partial(exc, assembler) from None
            break
        if adapt.dropped_stream_calls(request, payload, assembler):
            yield from self._from_call(request)
            return
        fallback: ChatCompletion | None = None
        if forced is not None and not called:
            # the model answered in prose: the same structured fallback as a whole reply gets (no text shown)
            fallback = yield from self._structured_fallback(request, payload, forced, assembler.result())
        if fallback is None or not fallback.tool_calls:
            for early in held:
                yield Emit(early)
        usage = adapt.usage(request, payload, assembler)
        final = assembler.finish()
        if request.payload.get("logprobs") and not assembler.saw_logprobs:
            _warn_no_logprobs(request.model)
        if fallback is not None and fallback.tool_calls:
            call = fallback.tool_calls[0]
            yield Emit(ChatChunk(tool_calls=[ToolCallDelta(index=0, id=call.id, name=call.name,
                                                           arguments=call.arguments)]))
            final.finish_reason = "tool_calls"
            usage = _add_usage(usage, fallback.usage)
        final.usage = usage
        if final.usage is not None:
            final.cost = yield from Cost(request.model, final.usage)
        yield Emit(final)


class ChatService:
    """``client.chat``: blocking chat completions.

    Example:
        >>> from b3n import B3nClient
        >>> from b3n.testing import Emulator
        >>> with Emulator() as emu:
        ...     chat = B3nClient(api_key="sk-test", base_url=emu.base_url).chat
        ...     reply = chat.create("claude-3-5-sonnet-latest", [{"role": "user", "content": "say 1"}])
        ...     streamed = "".join(c.content for c in chat.stream("gemini-1.5-flash-latest",
        ...                                                       [{"role": "user", "content": "say 1"}]))
        >>> reply.content, streamed
        ('1', '1')
    """

    def __init__(self, transport: SyncTransport) -> None:
        self._transport = transport
        self._plans = _ChatPlans(transport.config)

    def create(self, model: str, messages: list[dict[str, Any]], **params: Any) -> ChatCompletion:
        """One chat completion, adapted to what ``model`` accepts and normalised from what the relay answers.

        Args:
            model: the model id, e.g. ``"gpt-4o-mini"``, ``"claude-3-5-sonnet-latest"``; unknown ids get their
                family's defaults.
            messages: OpenAI-style messages (``{"role": "user", "content": "..."}``, content parts, tool calls
                and tool results).
            **params: request options: ``temperature``, ``max_tokens``, ``stop``, ``tools``, ``tool_choice``,
                ``parallel_tool_calls``, ``response_format``, ``reasoning_effort``, ``thinking_budget``,
                ``logprobs``, ``top_logprobs``, ``n``, ``extra`` (fields merged into the body).

        Returns:
            The reply: ``content``, ``tool_calls``, ``usage``, ``finish_reason``, ``cost``, and the other choices
            in ``more_choices`` when ``n > 1``.

        Raises:
            B3nInvalidRequestError: the request cannot be sent as given (checked before any I/O).
            B3nConfigurationError: no API key.
            B3nAPIStatusError: the relay refused it (its subclasses say why: rate limit, quota, model, ...).
            B3nTimeoutError: no answer within ``timeout`` (after the retries).
            B3nConnectionError: the relay could not be reached (after the retries).
        """
        return self.send(build_chat_request(model, messages, **params))

    def stream(self, model: str, messages: list[dict[str, Any]], **params: Any) -> Iterator[ChatChunk]:
        """Stream a chat completion as normalised chunks (the last one has ``final=True``).

        Args:
            model: the model id, as for :meth:`create`.
            messages: OpenAI-style messages, as for :meth:`create`.
            **params: the request options of :meth:`create` (``n`` must be 1).

        Returns:
            An iterator of chunks: text and tool-call fragments, then a final chunk with ``usage`` and
            ``finish_reason``. A model that cannot stream is served from one call, as chunks.

        Raises:
            B3nInvalidRequestError: the request cannot be sent as given (before any I/O).
            B3nStreamInterruptedError: the stream broke after content arrived (``.partial`` holds it; never
                retried).
            B3nStreamTimeoutError: the stream went silent longer than ``stream_idle_timeout``.
            B3nAPIStatusError: the relay refused the request.
        """
        return self.send_stream(build_chat_request(model, messages, stream=True, **params))

    def send(self, request: ChatRequest) -> ChatCompletion:
        """Send a prepared request, with every relay adaptation (see the module docstring)."""
        return run(self._plans.send(request), self._transport)

    def send_stream(self, request: ChatRequest) -> Iterator[ChatChunk]:
        """Stream a prepared request as normalised chunks."""
        chunks: Iterator[ChatChunk] = run_stream(self._plans.send_stream(request), self._transport)
        return chunks


class AsyncChatService:
    """``async_client.chat``: asyncio chat completions.

    Example:
        >>> import asyncio
        >>> from b3n import AsyncB3nClient
        >>> from b3n.testing import Emulator
        >>> async def main(url: str) -> str:
        ...     chat = AsyncB3nClient(api_key="sk-test", base_url=url).chat
        ...     stream = chat.stream("gpt-4o-mini", [{"role": "user", "content": "say 1"}])
        ...     return "".join([c.content async for c in stream])
        >>> with Emulator() as emu:
        ...     asyncio.run(main(emu.base_url))
        '1'
    """

    def __init__(self, transport: AsyncTransport) -> None:
        self._transport = transport
        self._plans = _ChatPlans(transport.config)

    async def create(self, model: str, messages: list[dict[str, Any]], **params: Any) -> ChatCompletion:
        """asyncio twin of :meth:`ChatService.create`."""
        return await self.send(build_chat_request(model, messages, **params))

    def stream(self, model: str, messages: list[dict[str, Any]], **params: Any) -> AsyncIterator[ChatChunk]:
        """asyncio twin of :meth:`ChatService.stream`."""
        return self.send_stream(build_chat_request(model, messages, stream=True, **params))

    async def send(self, request: ChatRequest) -> ChatCompletion:
        """asyncio twin of :meth:`ChatService.send`."""
        return await arun(self._plans.send(request), self._transport)

    def send_stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        """asyncio twin of :meth:`ChatService.send_stream`."""
        chunks: AsyncIterator[ChatChunk] = arun_stream(self._plans.send_stream(request), self._transport)
        return chunks
