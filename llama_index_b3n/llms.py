"""``B3n``: every model of the B3n-AI relay as a LlamaIndex ``FunctionCallingLLM``.

A thin adapter: LlamaIndex messages are translated to OpenAI-format dicts
(``llama_index_b3n._messages``) and everything else (validation, per-model request
adaptation, retries, response parsing, quirk handling, stream assembly) is done by the
shared core ``b3n``, the same code ``langchain_b3n.ChatB3n`` uses.

Example (offline, against the bundled emulator):
    >>> from b3n.testing import Emulator
    >>> from llama_index.core.llms import ChatMessage
    >>> with Emulator() as emu:
    ...     llm = B3n(model="gemini-1.5-flash-latest", api_key="sk-test", api_base=emu.base_url)
    ...     llm.chat([ChatMessage(role="user", content="say 1")]).message.content
    '1'
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from llama_index.core.base.llms.generic_utils import (
    achat_to_completion_decorator,
    astream_chat_to_completion_decorator,
    chat_to_completion_decorator,
    stream_chat_to_completion_decorator,
)
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
    ToolCallBlock,
)
from llama_index.core.bridge.pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr
from llama_index.core.callbacks import CallbackManager
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.llms.utils import parse_partial_json
from llama_index.core.types import PydanticProgramMode

from b3n._catalog import ModelInfo, get_model_info
from b3n._errors import B3nConfigurationError, B3nStructuredOutputError
from b3n._json import MAX_DEPTH, depth
from b3n._lazy import httpx
from b3n._settings import chat_request_options, known_argument_names
from b3n._suggest import warn_unknown_model
from llama_index_b3n._arguments import (
    CALL_NAMED,
    LLM_MAPPED_NAMES,
    capability_overrides,
    check_call_arguments,
    check_reuse_client,
    refuse_unknown,
    refuse_unsupported,
    take_alias,
)
from llama_index_b3n._base import HTTP_CLIENT_ARGS, B3nChatOptions
from llama_index_b3n._messages import (
    StreamConverter,
    completion_to_response,
    messages_to_wire,
    takes_messages,
    takes_prompt,
)

if TYPE_CHECKING:
    from llama_index.core.program.utils import FlexibleModel
    from llama_index.core.prompts.base import PromptTemplate
    from llama_index.core.tools.types import BaseTool

    from b3n._chat.request import ChatRequest
    from b3n._chat.types import ChatCompletion

# The core's chat modules (b3n._chat: the request builder, structured output) are imported where they are used,
# on the first call (tests/unit/test_import_cost.py keeps them out of `from llama_index_b3n import B3n`).

logger = logging.getLogger(__name__)

Model = TypeVar("Model", bound=BaseModel)

DEFAULT_MODEL = "gpt-4o-mini"


def output_budget(info: ModelInfo) -> int:
    """The tokens LlamaIndex keeps free for the answer when ``max_tokens`` is unset (``metadata.num_output``).

    A quarter of the context window, at most the model's longest answer: a query engine on an 8k model
    (gpt-4) then packs 6k tokens of context and leaves 2k for the answer, instead of reserving all 8k.

    Example:
        >>> from llama_index_b3n import B3n
        >>> B3n(model="gpt-4").metadata.num_output, B3n(model="gpt-4o-mini").metadata.num_output
        (2048, 16384)
    """
    return max(1, min(info.max_output_tokens, info.context_window // 4))


def _is_output_tool(tools: Sequence[BaseTool]) -> bool:
    """``tools`` is the one tool of a LlamaIndex structured-output program (its answer is the object itself)."""
    if len(tools) != 1:
        return False
    fn = getattr(tools[0], "fn", None)
    return bool(getattr(fn, "__qualname__", "").startswith("get_function_tool.")) and (
        tools[0].metadata.fn_schema is not None
    )


def _known_arguments() -> frozenset[str]:
    return known_argument_names(B3n) | frozenset(HTTP_CLIENT_ARGS) | {"openai_api_key", "openai_api_base"}


class B3n(B3nChatOptions, FunctionCallingLLM):
    """A B3n-AI chat model (GPT, o1, Claude, Gemini, ... behind one relay) for LlamaIndex.

    Construction does no I/O and needs no key; a missing key fails at the first call
    with a message saying how to set one. The key never appears in ``repr()``,
    ``to_dict()``, ``to_json()``, ``to_payload()`` or a pickle (after unpickling, the
    key is read from ``B3N_API_KEY`` again).

    Capabilities (context window, tool calling, image inputs, JSON schema, ...) come from
    the B3n model catalog; unknown model names are accepted with permissive defaults, and
    ``capabilities={...}`` overrides any of them. Requests are adapted per model (o1: no
    system role, no temperature, no streaming upstream; Claude: temperature <= 1; ...).

    Args:
        model: the model id, e.g. ``"gpt-4o-mini"``, ``"claude-3-5-sonnet-latest"``, ``"gemini-1.5-pro-latest"``.
        api_key: the ``sk-`` key (default: ``B3N_API_KEY``).
        api_base: the relay URL ending in ``/v1`` (default: ``B3N_BASE_URL``, else ``https://api.b3n.fun/v1``).
        temperature: sampling temperature; adapted per model.
        max_tokens: the most tokens to generate.
        timeout: seconds for connecting, for the response and for each read.
        max_retries: retries of transient failures; 0 turns them off.
        additional_kwargs: extra request fields sent on every call (``{"extra_body": {...}}`` merges fields into
            the body at the top level).
        default_headers: extra headers on every request.
        http_client: your own ``httpx.Client``.
        async_http_client: your own ``httpx.AsyncClient``.
        stream_usage: ask for token usage at the end of streams.
        capabilities: catalog overrides, e.g. ``{"tool_calling": True}``.
        strict: send tool and response schemas in OpenAI strict mode.
        callback_manager: LlamaIndex callbacks (``B3nCostHandler`` adds up the cost).
        system_prompt: a system prompt put before every chat.
        pydantic_program_mode: how ``structured_predict`` gets structured output.
        **kwargs: the other settings (``stream_idle_timeout``, ``total_timeout``, ``verify``, ``proxy``,
            ``relay_probe_cache``) and chat request options (``reasoning_effort``, ``thinking_budget``,
            ``logprobs``, ``top_logprobs``, ``include_request_id``).

    Raises:
        B3nConfigurationError: a setting is malformed (a missing key fails at the first call instead).

    Example:
        >>> from llama_index.core import Settings
        >>> Settings.llm = B3n(model="gemini-1.5-pro-latest", api_key="sk-...")
        >>> Settings.llm.metadata.context_window
        2097152
    """

    model_config = ConfigDict(defer_build=False)  # built at import, as the settings bases are not (b3n._settings)

    model: str = Field(default=DEFAULT_MODEL, description="The B3n model name, e.g. 'claude-3-5-sonnet-latest'.")
    temperature: float | None = Field(
        default=None, ge=0.0, le=2.0, description="Sampling temperature (unset: model default)."
    )
    max_tokens: int | None = Field(default=None, gt=0, description="Maximum tokens to generate (unset: model default).")
    additional_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="Extra request fields sent on every call (e.g. seed, top_p)."
    )
    stream_usage: bool = Field(default=True, description="Ask for token usage at the end of streams.")
    capabilities: dict[str, Any] | None = Field(
        default=None, description="Overrides of the catalog entry, e.g. {'tool_calling': True}."
    )
    strict: bool = Field(default=False, description="Send tool and response schemas in OpenAI strict mode.")
    b3n_cache_fields: ClassVar[frozenset[str]] = frozenset({"model", "capabilities"})

    _info: ModelInfo | None = PrivateAttr(default=None)

    def __init__(
        self,
        model: str | None = None,
        api_key: str | SecretStr | None = None,
        api_base: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        timeout: float | None = 60.0,
        max_retries: int = 2,
        additional_kwargs: dict[str, Any] | None = None,
        default_headers: dict[str, str] | None = None,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
        stream_usage: bool = True,
        capabilities: dict[str, Any] | None = None,
        strict: bool = False,
        callback_manager: CallbackManager | None = None,
        system_prompt: str | None = None,
        pydantic_program_mode: PydanticProgramMode = PydanticProgramMode.DEFAULT,
        **kwargs: Any,
    ) -> None:
        named: dict[str, Any] = {"model": model, "api_base": api_base, **kwargs}
        take_alias(named, "model_name", "model", "B3n")
        take_alias(named, "base_url", "api_base", "B3n")
        model, api_base = named.pop("model") or DEFAULT_MODEL, named.pop("api_base")
        capabilities = capability_overrides(named, capabilities)
        refuse_unsupported(named, "B3n")
        check_reuse_client(named, "B3n")
        refuse_unknown(named, _known_arguments(), "B3n", LLM_MAPPED_NAMES)
        kwargs = named
        super().__init__(
            model=model,
            api_key=api_key,
            api_base=api_base,
            temperature=temperature,
            max_tokens=max_tokens,
            timeout=timeout,
            max_retries=max_retries,
            additional_kwargs=dict(additional_kwargs or {}),
            default_headers=default_headers,
            http_client=http_client,
            async_http_client=async_http_client,
            stream_usage=stream_usage,
            capabilities=capabilities,
            strict=strict,
            callback_manager=callback_manager,
            system_prompt=system_prompt,
            pydantic_program_mode=pydantic_program_mode,
            **kwargs,
        )
        for reserved in ("model", "messages", "stream"):
            if reserved in self.additional_kwargs:
                raise B3nConfigurationError(
                    f"additional_kwargs must not set {reserved!r}; use the {reserved!r} argument / method instead."
                )
        self._model_info()  # validates `capabilities` now rather than at the first call
        warn_unknown_model(self.model, "chat")

    @classmethod
    def class_name(cls) -> str:
        return "B3n_LLM"

    # ------------------------------------------------------------------ catalog and clients

    def _reset_caches(self) -> None:
        super()._reset_caches()
        self._info = None

    def _model_info(self, model: str | None = None) -> ModelInfo:
        if (model is None or model == self.model) and self._info is not None:
            return self._info
        try:
            info = get_model_info(model or self.model, self.capabilities)
        except ValueError as exc:
            raise B3nConfigurationError(f"capabilities: {exc}") from None
        if model is None or model == self.model:
            self._info = info
        return info

    @property
    def model_info(self) -> ModelInfo:
        """The catalog entry this instance uses (with ``capabilities`` applied)."""
        return self._model_info()

    @property
    def metadata(self) -> LLMMetadata:
        info = self._model_info()
        return LLMMetadata(
            context_window=info.context_window,
            num_output=self.max_tokens or output_budget(info),
            is_chat_model=True,
            is_function_calling_model=info.tool_calling,
            model_name=self.model,
            system_role=MessageRole.SYSTEM,
        )

    # ------------------------------------------------------------------ request building

    def _request(self, messages: Sequence[ChatMessage], stream: bool, kwargs: dict[str, Any]) -> ChatRequest:
        from b3n._chat.request import build_chat_request

        check_call_arguments(kwargs)
        params = {**self.additional_kwargs, **kwargs} if self.additional_kwargs else dict(kwargs)
        model = params.pop("model", None) or self.model
        if model != self.model:
            warn_unknown_model(model, "chat")
        named = {k: params.pop(k) for k in CALL_NAMED if k in params}
        named.setdefault("temperature", self.temperature)
        named.setdefault("max_tokens", self.max_tokens)
        named.update(chat_request_options(self, params))
        stream_options = params.pop("stream_options", None)
        include_usage = self.stream_usage
        if isinstance(stream_options, Mapping) and "include_usage" in stream_options:
            include_usage = bool(stream_options["include_usage"])
        return build_chat_request(
            model,
            messages_to_wire(messages),
            info=self._model_info(model),
            stream=stream,
            include_usage=include_usage,
            extra=params or None,
            **named,
        )

    # ------------------------------------------------------------------ chat

    def _response(self, completion: ChatCompletion) -> ChatResponse:
        response = completion_to_response(completion)
        if self.include_request_id and completion.request_id:
            response.additional_kwargs["request_id"] = completion.request_id
        if completion.more_choices:  # n > 1: every choice's message (the first is response.message)
            response.additional_kwargs["choices"] = [response.message] + [
                completion_to_response(choice).message for choice in completion.more_choices]
        return response


    @takes_messages
    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """One reply. Usage, model and finish reason are in ``response.additional_kwargs``."""
        return self._chat(messages, **kwargs)

    def _chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        request = self._request(messages, False, kwargs)
        return self._response(self.client.chat.send(request))

    @takes_messages
    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        """Stream the reply: each response holds the whole message so far, ``delta`` the new text."""
        return self._stream_chat(messages, **kwargs)

    def _stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        request = self._request(messages, True, kwargs)
        chunks = self.client.chat.send_stream(request)

        def gen() -> ChatResponseGen:
            converter = StreamConverter(self.include_request_id)
            for chunk in chunks:
                yield converter.convert(chunk)

        return gen()

    @takes_messages
    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return await self._achat(messages, **kwargs)

    async def _achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        request = self._request(messages, False, kwargs)
        return self._response(await self.async_client.chat.send(request))

    @takes_messages
    @llm_chat_callback()
    async def astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        return await self._astream_chat(messages, **kwargs)

    async def _astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        request = self._request(messages, True, kwargs)
        chunks = self.async_client.chat.send_stream(request)

        async def gen() -> ChatResponseAsyncGen:
            converter = StreamConverter(self.include_request_id)
            async for chunk in chunks:
                yield converter.convert(chunk)

        return gen()

    # ------------------------------------------------------------------ completion (served by chat)

    def _completion_prompt(self, prompt: str, formatted: bool) -> str:
        return prompt if formatted or self.completion_to_prompt is None else self.completion_to_prompt(prompt)

    @takes_prompt
    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """One reply to ``prompt`` (sent as a user message; ``completion_to_prompt`` applies unless ``formatted``)."""
        return chat_to_completion_decorator(self._chat)(self._completion_prompt(prompt, formatted), **kwargs)

    @takes_prompt
    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        prompt = self._completion_prompt(prompt, formatted)
        return stream_chat_to_completion_decorator(self._stream_chat)(prompt, **kwargs)

    @takes_prompt
    @llm_completion_callback()
    async def acomplete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return await achat_to_completion_decorator(self._achat)(self._completion_prompt(prompt, formatted), **kwargs)

    @takes_prompt
    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        prompt = self._completion_prompt(prompt, formatted)
        return await astream_chat_to_completion_decorator(self._astream_chat)(prompt, **kwargs)

    # ------------------------------------------------------------------ tools

    def _tool_specs(self, tools: Sequence[BaseTool], strict: bool) -> list[dict[str, Any]]:
        from b3n._chat.request import tool_spec
        from b3n._chat.structured import strict_json_schema

        specs = []
        for tool in tools:
            fn = tool.metadata.to_openai_tool(skip_length_check=True)["function"]
            params = strict_json_schema(fn["parameters"]) if strict else fn["parameters"]
            specs.append(tool_spec(fn["name"], fn.get("description"), params, strict=True if strict else None))
        return specs

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        tool_choice: str | dict[str, Any] | None = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Arguments for ``chat()`` with ``tools`` bound (LlamaIndex calls this from ``chat_with_tools``)."""
        messages = list(chat_history or [])
        if isinstance(user_msg, str):
            user_msg = ChatMessage(role=MessageRole.USER, content=user_msg)
        if user_msg is not None:
            messages.append(user_msg)
        specs = self._tool_specs(tools, self.strict if strict is None else strict)
        if tool_choice is None and _is_output_tool(tools):
            tool_required = True  # a structured-output program: LlamaIndex's stream_call drops tool_required
        out: dict[str, Any] = {"messages": messages, **kwargs}
        if specs:
            out["tools"] = specs
            if tool_choice is None and tool_required:
                tool_choice = "required"
            if tool_choice is not None:
                out["tool_choice"] = tool_choice
            # LlamaIndex passes allow_parallel_tool_calls on every call (False by default, True from its agents), so
            # it is the framework's default rather than a choice: sent where the relay forwards it, and for other
            # models (Claude, Gemini) left out without the core's warning about a dropped parallel_tool_calls.
            if self._model_info(kwargs.get("model")).parallel_tool_calls_param:
                out["parallel_tool_calls"] = allow_parallel_tool_calls
        return out

    def stream_chat_with_tools(self, tools: Sequence[BaseTool], *args: Any, **kwargs: Any) -> ChatResponseGen:
        """Stream with ``tools`` bound; a structured-output program's stream that ends without its tool call raises.

        The other arguments are LlamaIndex's (``user_msg``, ``chat_history``, ``verbose``,
        ``allow_parallel_tool_calls``, ``tool_required``, request options).
        """
        responses = super().stream_chat_with_tools(tools, *args, **kwargs)
        if not _is_output_tool(tools):
            return responses

        def checked() -> ChatResponseGen:
            last = None
            for last in responses:
                yield last
            self._require_tool_call(last, tools)

        return checked()

    async def astream_chat_with_tools(
        self, tools: Sequence[BaseTool], *args: Any, **kwargs: Any
    ) -> ChatResponseAsyncGen:
        """asyncio twin of :meth:`stream_chat_with_tools`."""
        responses = await super().astream_chat_with_tools(tools, *args, **kwargs)
        if not _is_output_tool(tools):
            return responses

        async def checked() -> ChatResponseAsyncGen:
            last = None
            async for last in responses:
                yield last
            self._require_tool_call(last, tools)

        return checked()

    def _require_tool_call(self, response: ChatResponse | None, tools: Sequence[BaseTool]) -> None:
        if response is None or not any(isinstance(b, ToolCallBlock) for b in response.message.blocks):
            text = (response.message.content or "") if response is not None else ""
            raise B3nStructuredOutputError(
                f"Model {self.model!r} answered in text instead of filling {tools[0].metadata.name} "
                f"(text: {text[:120]!r}), so there is no object to return. Retry, or use a model that follows "
                "tool_choice (see B3n(...).model_info.tool_choice)."
            )

    def _validate_chat_with_tools_response(
        self,
        response: ChatResponse,
        tools: Sequence[BaseTool],
        allow_parallel_tool_calls: bool = False,
        **kwargs: Any,
    ) -> ChatResponse:
        """Keep only the first tool call when parallel calls were not allowed (some models ignore the flag)."""
        if not allow_parallel_tool_calls:
            blocks = response.message.blocks
            calls = [b for b in blocks if isinstance(b, ToolCallBlock)]
            if len(calls) > 1:
                first = calls[0]
                response.message.blocks = [b for b in blocks if not isinstance(b, ToolCallBlock) or b is first]
        return response

    def get_tool_calls_from_response(
        self,
        response: ChatResponse,
        error_on_no_tool_call: bool = True,
        **kwargs: Any,
    ) -> list[ToolSelection]:
        """The tool calls in ``response`` (also a partial streamed one: incomplete JSON is parsed leniently)."""
        selections = []
        for block in response.message.blocks:
            if not isinstance(block, ToolCallBlock):
                continue
            args = block.tool_kwargs
            if isinstance(args, str):
                try:
                    if depth(args) > MAX_DEPTH:  # LlamaIndex's parser recurses: too deep is "not parseable"
                        raise ValueError(f"tool arguments nested deeper than {MAX_DEPTH} levels")
                    args = parse_partial_json(args) if args.strip() else {}
                except (ValueError, TypeError):
                    args = {}
            selections.append(
                ToolSelection(
                    tool_id=block.tool_call_id or "",
                    tool_name=block.tool_name,
                    tool_kwargs=args if isinstance(args, dict) else {},
                )
            )
        if not selections and error_on_no_tool_call:
            raise B3nStructuredOutputError(
                f"Model {self.model!r} answered without calling a tool "
                f"(text: {(response.message.content or '')[:120]!r}). "
                "Pass tool_required=True (or tool_choice='required') to force a call, or "
                "error_on_no_tool_call=False to accept a text answer."
            )
        return selections

    # ------------------------------------------------------------------ structured output

    def _use_json_schema(self) -> bool:
        return self.pydantic_program_mode == PydanticProgramMode.DEFAULT and self._model_info().json_schema

    def _schema_kwargs(self, llm_kwargs: dict[str, Any] | None, output_cls: type[BaseModel]) -> dict[str, Any]:
        from b3n._chat.structured import json_schema_format

        kwargs = dict(llm_kwargs or {})
        kwargs.pop("tool_choice", None)
        kwargs["response_format"] = json_schema_format(
            output_cls.__name__, output_cls.model_json_schema(), strict=self.strict
        )
        return kwargs

    def _tool_kwargs(self, llm_kwargs: dict[str, Any] | None) -> dict[str, Any]:
        kwargs = dict(llm_kwargs or {})
        function_program = self.pydantic_program_mode in (PydanticProgramMode.DEFAULT, PydanticProgramMode.FUNCTION)
        if function_program and self._model_info().tool_calling:  # a text program binds no tool to force
            kwargs.setdefault("tool_choice", "required")
        return kwargs

    def _parse_structured(self, output_cls: type[Model], text: str | None) -> Model:
        from b3n._chat.structured import extract_json

        data = extract_json(text, model=self.model)
        try:
            return output_cls.model_validate(data)
        except ValueError as exc:
            raise B3nStructuredOutputError(
                f"Model {self.model!r} replied with JSON that is not a valid {output_cls.__name__}: {exc}"
            ) from None

    def structured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        """Structured output: JSON schema where the model honours it (gpt-4o, gpt-4o-mini), else function calling."""
        if self._use_json_schema():
            messages = self._extend_messages(prompt.format_messages(**prompt_args))
            response = self.chat(messages, **self._schema_kwargs(llm_kwargs, output_cls))
            return self._parse_structured(output_cls, response.message.content)
        result = super().structured_predict(output_cls, prompt, llm_kwargs=self._tool_kwargs(llm_kwargs), **prompt_args)
        return cast(Model, result)

    async def astructured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        if self._use_json_schema():
            messages = self._extend_messages(prompt.format_messages(**prompt_args))
            response = await self.achat(messages, **self._schema_kwargs(llm_kwargs, output_cls))
            return self._parse_structured(output_cls, response.message.content)
        result = await super().astructured_predict(
            output_cls, prompt, llm_kwargs=self._tool_kwargs(llm_kwargs), **prompt_args
        )
        return cast(Model, result)

    def _structured_stream_call(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Generator[Model | list[Model] | FlexibleModel | list[FlexibleModel], None, None]:
        if not self._use_json_schema():
            yield from super()._structured_stream_call(
                output_cls, prompt, self._tool_kwargs(llm_kwargs), **prompt_args
            )
            return
        from llama_index.core.program.streaming_utils import process_streaming_content_incremental

        messages = self._extend_messages(prompt.format_messages(**prompt_args))
        current: Any = None
        last = None
        for last in self.stream_chat(messages, **self._schema_kwargs(llm_kwargs, output_cls)):
            current = process_streaming_content_incremental(last, output_cls, current)
            yield current
        # the whole answer, checked: a prose answer raises rather than ending on an empty object
        yield self._parse_structured(output_cls, last.message.content if last is not None else None)

    async def _structured_astream_call(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> AsyncGenerator[Model | list[Model] | FlexibleModel | list[FlexibleModel], None]:
        if not self._use_json_schema():
            return await super()._structured_astream_call(
                output_cls, prompt, self._tool_kwargs(llm_kwargs), **prompt_args
            )
        from llama_index.core.program.streaming_utils import process_streaming_content_incremental

        messages = self._extend_messages(prompt.format_messages(**prompt_args))
        kwargs = self._schema_kwargs(llm_kwargs, output_cls)

        async def gen() -> AsyncGenerator[Model | list[Model] | FlexibleModel | list[FlexibleModel], None]:
            current: Any = None
            last = None
            async for last in await self.astream_chat(messages, **kwargs):
                current = process_streaming_content_incremental(last, output_cls, current)
                yield current
            yield self._parse_structured(output_cls, last.message.content if last is not None else None)

        return gen()
