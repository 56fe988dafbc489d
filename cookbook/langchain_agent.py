# %% [markdown]
# # A LangChain agent on B3n: two Python tools plus DALL-E 3
#
# A LangChain agent (`langchain.agents.create_agent`, built on LangGraph) drives `ChatB3n` with
# two plain Python tools and the `B3nImageGeneration` tool. The same agent then runs on Claude and
# Gemini: their tool-call quirks (Claude's two choices sharing one index, Gemini's index-less
# tool-call deltas) are normalised by the package, so the agent code does not change.
#
# Needs the `cookbook` extra (`pip install "b3n-integrations[cookbook]"`, for langchain + langgraph).

# %%
from _setup import connect, heading

b3n = connect()
base_url, api_key = b3n.base_url, b3n.api_key

# %% [markdown]
# ## The tools

# %%
from langchain_core.tools import tool

from langchain_b3n import B3nImageGeneration


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers a and b."""
    return a * b


@tool
def get_word_length(word: str) -> int:
    """Count the letters of one word."""
    return len(word)


draw = B3nImageGeneration(api_key=api_key, base_url=base_url)
TOOLS = [multiply, get_word_length, draw]
print("tools:", ", ".join(t.name for t in TOOLS))

# %% [markdown]
# ## The agent

# %%
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, ToolMessage

from langchain_b3n import ChatB3n


def run(model: str, question: str) -> str:
    """Run the agent on ``question`` and print every step; return the final answer."""
    agent = create_agent(ChatB3n(model=model, api_key=api_key, base_url=base_url), TOOLS,
                         system_prompt="You are a helpful assistant. Use the tools when they help.")
    print(f"[{model}] user: {question}")
    state = agent.invoke({"messages": [("user", question)]})
    for message in state["messages"][1:]:
        if isinstance(message, AIMessage) and message.tool_calls:
            calls = ", ".join(f"{c['name']}({c['args']})" for c in message.tool_calls)
            said = f" (and says {message.text.strip()!r})" if message.text.strip() else ""
            print(f"[{model}]   -> calls {calls}{said}")
        elif isinstance(message, ToolMessage):
            print(f"[{model}]   <- {message.name} returned {message.content}")
    answer = state["messages"][-1].text.strip()
    print(f"[{model}] final answer: {answer}")
    return answer


heading("Two tools in one turn (gpt-4o-mini)")
run("gpt-4o-mini", "What is 12 * 7, and how many letters are in the word 'langchain'? "
                   "Use the multiply and get_word_length tools.")

heading("The image tool (gpt-4o-mini)")
run("gpt-4o-mini", "Draw 'a red fox in the snow' with the b3n_image_generation tool and give me the link.")

# %% [markdown]
# ## Same agent, other model families

# %%
for model in ("claude-3-5-sonnet-latest", "gemini-1.5-pro-latest"):
    heading(f"Same agent on {model}")
    run(model, "What is 12 * 7? Use the multiply tool.")

# %%
b3n.cleanup()
