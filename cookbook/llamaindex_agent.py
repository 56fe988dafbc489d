# %% [markdown]
# # A LlamaIndex agent on B3n: `FunctionAgent` with tools, streaming its events
#
# `B3n` is a `FunctionCallingLLM`, so LlamaIndex's `FunctionAgent` drives it with native tool
# calls. The agent gets two Python functions and B3n's media tools (`B3nToolSpec`: image
# generation, speech, transcription), and we watch the run as it happens: tool calls, tool
# results and the streamed answer tokens. The same agent then runs on Claude and Gemini.

# %%
import asyncio

from _setup import connect, heading

b3n = connect()
base_url, api_key = b3n.base_url, b3n.api_key

# %% [markdown]
# ## Tools

# %%
from llama_index.core.tools import FunctionTool

from llama_index_b3n import B3nToolSpec


def multiply(a: int, b: int) -> int:
    """Multiply two integers a and b."""
    return a * b


def add(a: int, b: int) -> int:
    """Add two integers a and b."""
    return a + b


TOOLS = [
    FunctionTool.from_defaults(multiply),
    FunctionTool.from_defaults(add),
    *B3nToolSpec(api_key=api_key, api_base=base_url).to_tool_list(),
]
print("tools:", ", ".join(t.metadata.name for t in TOOLS))

# %% [markdown]
# ## Run the agent and stream its events

# %%
from llama_index.core.agent.workflow import AgentStream, FunctionAgent, ToolCall, ToolCallResult

from llama_index_b3n import B3n


async def run(model: str, question: str) -> str:
    """Run a FunctionAgent on ``question``, printing each event; return the final answer."""
    agent = FunctionAgent(
        tools=TOOLS,
        llm=B3n(model=model, api_key=api_key, api_base=base_url),
        system_prompt="You are a helpful assistant. Use the tools when they help.",
    )
    print(f"[{model}] user: {question}")
    handler = agent.run(question)
    streaming = False  # in the middle of a line of streamed tokens
    async for event in handler.stream_events():
        if isinstance(event, (ToolCall, ToolCallResult)) and streaming:
            print()
            streaming = False
        if isinstance(event, ToolCallResult):
            print(f"[{model}]   <- {event.tool_name} returned {event.tool_output.content}")
        elif isinstance(event, ToolCall):
            print(f"[{model}]   -> calls {event.tool_name}({event.tool_kwargs})")
        elif isinstance(event, AgentStream) and event.delta:
            if not streaming:
                print(f"[{model}] streams: ", end="")
                streaming = True
            print(event.delta, end="", flush=True)
    if streaming:
        print()
    result = await handler
    answer = str(result).strip()
    print(f"[{model}] final answer: {answer}")
    return answer


heading("Arithmetic with two tools (gpt-4o-mini)")
asyncio.run(run("gpt-4o-mini", "What is 12 * 7? Use the multiply tool."))

heading("A media tool (gpt-4o-mini)")
asyncio.run(run("gpt-4o-mini", "Use the generate_image tool to draw 'a lighthouse at dusk'; "
                               "size is 1792x1024, quality is hd, style is natural."))

# %% [markdown]
# ## Same agent, other model families

# %%
for model in ("claude-3-5-sonnet-latest", "gemini-1.5-flash-latest"):
    heading(f"Same agent on {model}")
    asyncio.run(run(model, "What is 30 + 12? Use the add tool."))

# %%
b3n.cleanup()
