"""Token counting: tiktoken from files already on disk for GPT models, a calibrated estimate otherwise,
never the network, never an exception; LangChain ``trim_messages`` and LlamaIndex tokenizers on top."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from b3n import B3nTokenizer, token_counter
from langchain_b3n import ChatB3n

ROOT = Path(__file__).resolve().parents[2]
GPT, CLAUDE, GEMINI = "gpt-4o-mini", "claude-3-5-sonnet-latest", "gemini-1.5-flash-latest"

PROSE = (ROOT / "README.md").read_text(encoding="utf-8")
CODE = (ROOT / "b3n" / "_chat" / "request.py").read_text(encoding="utf-8")
JSON_TEXT = json.dumps([{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius", "days": 3}}] * 40)
CHINESE = (
    "我看到了一些羊，它们站在一座小山上。这是一个大语言模型聚合中继系统，通过标准的接口格式访问所有模型。"
    "使用前请先在控制台的令牌页面创建密钥，然后把它设置为环境变量。账户信息需要系统令牌，而不是普通的密钥；"
    "余额以额度单位返回，五十万单位等于一美元。图像生成接口返回的链接大约两小时后失效，请尽快下载保存。"
    "如果请求过于频繁，服务器会返回四百二十九错误，客户端会按照重试等待时间自动退避后再试。"
    "流式输出中断时，已经收到的部分内容会保留在异常对象里，方便调用方决定是否重新发起请求。"
    "嵌入模型把文本转换成向量，适合做检索增强生成；文本太长时需要先切分，再把各段的向量加权平均。"
    "语音合成支持多种音色和音频格式，单次输入不超过四千零九十六个字符；语音识别的文件不能超过二十五兆字节。"
) * 3


def _tiktoken(encoding: str):  # the real encoder, built from the file llama-index-core ships
    from b3n._tokens import load_encoding

    enc = load_encoding(encoding)  # type: ignore[arg-type]
    assert enc is not None, "the test extra installs tiktoken and llama-index-core (which ships both files)"
    return enc


def _conversation() -> list:
    return [
        SystemMessage("You are a meticulous assistant. Answer in one short paragraph."),
        HumanMessage("What does the B3n relay do, and which model families does it serve?"),
        AIMessage(PROSE[:1500]),
        HumanMessage("Show me the request builder."),
        AIMessage(CODE[:2500]),
        HumanMessage("And the JSON the weather tool returns?"),
        AIMessage("", tool_calls=[{"id": "call_1", "name": "get_weather", "args": {"city": "Paris"}}]),
        ToolMessage(JSON_TEXT[:1200], tool_call_id="call_1"),
        HumanMessage("Summarise everything in Chinese: " + CHINESE[:200]),
    ]


@pytest.mark.parametrize("encoding", ["o200k_base", "cl100k_base"])
@pytest.mark.parametrize("text", [PROSE, CODE, JSON_TEXT, CHINESE], ids=["prose", "code", "json", "chinese"])
def test_estimate_is_within_ten_percent_of_tiktoken(text: str, encoding: str) -> None:
    from b3n._tokens import estimate_tokens

    exact = len(_tiktoken(encoding).encode(text, disallowed_special=()))
    assert abs(estimate_tokens(text, encoding) - exact) <= 0.10 * exact  # type: ignore[arg-type]


def test_gpt_models_count_with_tiktoken_exactly_when_the_file_is_on_disk() -> None:
    counter = token_counter(GPT)
    assert counter.method == "tiktoken:o200k_base" and counter.exact
    assert token_counter("gpt-3.5-turbo").method == "tiktoken:cl100k_base"
    assert counter.count_text(CODE) == len(_tiktoken("o200k_base").encode(CODE))
    llm = ChatB3n(model=GPT)
    assert llm.get_token_ids("hello world") == _tiktoken("o200k_base").encode("hello world")


def test_chat_messages_are_counted_the_way_openai_bills_them() -> None:
    enc = _tiktoken("o200k_base")
    messages = [SystemMessage("Be terse."), HumanMessage("What is 12 * 7?", name="ann")]
    # 3 per message + role + content (+1 and the name for a name) + 3 to prime the reply
    expected = (3 + len(enc.encode("system")) + len(enc.encode("Be terse.")) + 3 + len(enc.encode("user"))
                + len(enc.encode("What is 12 * 7?")) + 1 + len(enc.encode("ann")) + 3)
    assert ChatB3n(model=GPT).get_num_tokens_from_messages(messages) == expected


def test_tool_schemas_are_counted() -> None:
    llm = ChatB3n(model=GPT)
    messages = [HumanMessage("weather in Paris?")]
    weather = {"type": "function", "function": {"name": "get_weather", "description": "Get the weather.",
                                                "parameters": {"type": "object", "properties": {
                                                    "city": {"type": "string", "description": "City name"},
                                                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}}}}
    enc = _tiktoken("o200k_base")
    n = lambda s: len(enc.encode(s))  # noqa: E731
    # function frame 7 + "name:description" + properties 3 + each key 3 + "key:type:desc" + enum (-3, 3 + item) + 12
    tool_tokens = (7 + n("get_weather:Get the weather") + 3 + 3 + n("city:string:City name") + 3 - 3
                   + 3 + n("celsius") + 3 + n("fahrenheit") + n("unit:string:") + 12)
    assert (llm.get_num_tokens_from_messages(messages, tools=[weather])
            == llm.get_num_tokens_from_messages(messages) + tool_tokens)


def test_claude_and_gemini_get_counts_where_chatopenai_raises() -> None:
    for model in (CLAUDE, GEMINI, "some-new-model-2027"):
        llm = ChatB3n(model=model)
        assert llm.get_num_tokens("Hello, world! " * 50) > 100
        assert llm.get_num_tokens_from_messages(_conversation()) > 1000
    # Claude's tokenizer is not public: the count carries the documented safety margin over o200k_base
    assert ChatB3n(model=CLAUDE).get_num_tokens(PROSE) == -(-len(_tiktoken("o200k_base").encode(PROSE)) * 115 // 100)


def test_token_ids_without_an_exact_tokenizer_raise_a_typed_error() -> None:
    from langchain_b3n import B3nConfigurationError

    with pytest.raises(B3nConfigurationError, match="TIKTOKEN_CACHE_DIR"):
        ChatB3n(model=CLAUDE).get_token_ids("hello")


_OFFLINE = textwrap.dedent(
    """
    import json, socket, sys
    def refuse(*a, **k):
        raise AssertionError("network use while counting tokens")
    socket.socket.connect = refuse
    socket.create_connection = refuse
    socket.getaddrinfo = refuse
    from langchain_core.messages import trim_messages
    from langchain_b3n import ChatB3n
    sys.path.insert(0, {root!r})
    from tests.unit.test_tokens import _conversation
    out = {{}}
    for model in sys.argv[1:]:
        llm = ChatB3n(model=model)
        full = llm.get_num_tokens_from_messages(_conversation())
        kept = trim_messages(_conversation(), max_tokens=full // 2, token_counter=llm, strategy="last",
                             start_on="human", include_system=True)
        out[model] = [full, len(kept), llm.get_num_tokens_from_messages(kept)]
    print(json.dumps(out))
    """
)


@pytest.mark.parametrize("forced_estimate", [False, True], ids=["tiktoken-files", "no-files"])
def test_trim_messages_works_offline_for_claude_gemini_and_gpt(tmp_path: Path, forced_estimate: bool) -> None:
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(tmp_path)}
    if forced_estimate:
        env["B3N_TOKENIZER"] = "estimate"
    proc = subprocess.run(
        [sys.executable, "-c", _OFFLINE.format(root=str(ROOT)), GPT, CLAUDE, GEMINI],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    for _model, (full, kept, kept_tokens) in result.items():
        assert 1 < kept < len(_conversation())
        assert kept_tokens <= full // 2
    exact = ChatB3n(model=GPT).get_num_tokens_from_messages(_conversation())
    assert token_counter(GPT).exact
    assert abs(result[GPT][0] - exact) <= 0.10 * exact
    assert list(tmp_path.iterdir()) == []  # nothing was downloaded into tiktoken's cache


def test_llamaindex_token_counting_handler_and_memory_use_the_b3n_tokenizer(base_url: str, api_key: str) -> None:
    from llama_index.core.callbacks import CallbackManager, TokenCountingHandler
    from llama_index.core.llms import ChatMessage
    from llama_index.core.memory import ChatMemoryBuffer

    from llama_index_b3n import B3n

    tokenizer = B3nTokenizer(CLAUDE)
    handler = TokenCountingHandler(tokenizer=tokenizer)
    llm = B3n(model=CLAUDE, api_key=api_key, api_base=base_url, callback_manager=CallbackManager([handler]))
    llm.chat([ChatMessage(role="user", content="What is 12 * 7?")])
    assert handler.prompt_llm_token_count > 0 and handler.completion_llm_token_count > 0
    assert len(tokenizer("What is 12 * 7?")) == token_counter(CLAUDE).count_text("What is 12 * 7?")

    memory = ChatMemoryBuffer.from_defaults(token_limit=200, tokenizer_fn=B3nTokenizer(GEMINI))
    for i in range(40):
        memory.put(ChatMessage(role="user" if i % 2 == 0 else "assistant", content=f"message {i} " + "word " * 20))
    kept = memory.get()
    assert 0 < len(kept) < 40
    assert sum(len(B3nTokenizer(GEMINI)(str(m.content))) for m in kept) <= 200
