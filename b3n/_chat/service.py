"""Chat calls: send a prepared request, parse it, or stream it as normalised chunks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

from b3n._chat.request import ChatRequest, build_chat_request
from b3n._chat.response import parse_chat_completion
from b3n._chat.stream import StreamAssembler, completion_to_chunks
from b3n._chat.types import ChatChunk, ChatCompletion
from b3n._errors import B3nResponseError, B3nStreamInterruptedError, StreamEndedEarly
from b3n._pricing import PRICE_BOOK
from b3n._transport import AsyncTransport, SyncTransport

PATH = "/chat/completions"


def _json(response: httpx.Response, model: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise B3nResponseError(
            f"B3n answered 200 for model {model!r} with a body that is not JSON "
            f"({response.headers.get('content-type', '?')}): {response.text[:200]!r}. Not retried "
            "(the call may have been billed); try again."
        ) from None


def _with_partial(exc: B3nStreamInterruptedError, assembler: StreamAssembler) -> B3nStreamInterruptedError:
    exc.partial = assembler.result()
    return exc


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

    def create(self, model: str, messages: list[dict[str, Any]], **params: Any) -> ChatCompletion:
        """One chat completion. ``params`` are those of :func:`build_chat_request`."""
        return self.send(build_chat_request(model, messages, **params))

    def stream(self, model: str, messages: list[dict[str, Any]], **params: Any) -> Iterator[ChatChunk]:
        """Stream a chat completion as normalised chunks (the last one has ``final=True``)."""
        return self.send_stream(build_chat_request(model, messages, stream=True, **params))

    def send(self, request: ChatRequest) -> ChatCompletion:
        payload = request.payload
        if payload.get("stream"):
            payload = {k: v for k, v in payload.items() if k not in ("stream", "stream_options")}
        response = self._transport.request("POST", PATH, json_body=payload, model=request.model)
        completion = parse_chat_completion(_json(response, request.model), request.model)
        if completion.usage is not None:
            completion.cost = PRICE_BOOK.table(self._transport).cost(request.model, completion.usage)
        return completion

    def send_stream(self, request: ChatRequest) -> Iterator[ChatChunk]:
        if request.emulate_stream or not request.payload.get("stream"):
            yield from completion_to_chunks(self.send(request))
            return
        assembler = StreamAssembler(request.model)
        try:
            for raw in self._transport.iter_sse(PATH, request.payload, model=request.model):
                chunk = assembler.feed(raw)
                if chunk is not None:
                    yield chunk
        except StreamEndedEarly as exc:
            if assembler.finish_reason is None:
                raise _with_partial(exc, assembler) from None
        except B3nStreamInterruptedError as exc:
            raise _with_partial(exc, assembler) from None
        final = assembler.finish()
        if final.usage is not None:
            final.cost = PRICE_BOOK.table(self._transport).cost(request.model, final.usage)
        yield final


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

    async def create(self, model: str, messages: list[dict[str, Any]], **params: Any) -> ChatCompletion:
        return await self.send(build_chat_request(model, messages, **params))

    def stream(self, model: str, messages: list[dict[str, Any]], **params: Any) -> AsyncIterator[ChatChunk]:
        return self.send_stream(build_chat_request(model, messages, stream=True, **params))

    async def send(self, request: ChatRequest) -> ChatCompletion:
        payload = request.payload
        if payload.get("stream"):
            payload = {k: v for k, v in payload.items() if k not in ("stream", "stream_options")}
        response = await self._transport.request("POST", PATH, json_body=payload, model=request.model)
        completion = parse_chat_completion(_json(response, request.model), request.model)
        if completion.usage is not None:
            completion.cost = (await PRICE_BOOK.atable(self._transport)).cost(request.model, completion.usage)
        return completion

    async def send_stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        if request.emulate_stream or not request.payload.get("stream"):
            for chunk in completion_to_chunks(await self.send(request)):
                yield chunk
            return
        assembler = StreamAssembler(request.model)
        try:
            async for raw in self._transport.iter_sse(PATH, request.payload, model=request.model):
                piece = assembler.feed(raw)
                if piece is not None:
                    yield piece
        except StreamEndedEarly as exc:
            if assembler.finish_reason is None:
                raise _with_partial(exc, assembler) from None
        except B3nStreamInterruptedError as exc:
            raise _with_partial(exc, assembler) from None
        final = assembler.finish()
        if final.usage is not None:
            final.cost = (await PRICE_BOOK.atable(self._transport)).cost(request.model, final.usage)
        yield final
