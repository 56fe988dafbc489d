"""Text-based ReAct agents (LlamaIndex ``ReActAgent``, LangChain's classic ReAct prompt).

These agents list their tools in the prompt and parse ``Thought / Action / Action Input`` lines out of
the reply, feeding tool output back as ``Observation:`` text. The scripted model answers in that
format: one action per turn for each tool the task names, then a final answer built from the
observations.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .chat_request import Message, Tool
from .reply import plain_reply
from .tools import relevance, synthesize_arguments

_LI_TOOL_RE = re.compile(
    r"^> Tool Name: (?P<name>[^\n]+)\nTool Description: (?P<desc>.*?)\nTool Args: (?P<args>[^\n]*)",
    re.MULTILINE | re.DOTALL,
)
_ONE_OF_RE = re.compile(r"one of \[([^\]\n]*)\]|one of ([^)\n]*)\)")
_ACTION_RE = re.compile(r"^\s*Action\s*:\s*(.+?)\s*$", re.MULTILINE)
_OBSERVATION_RE = re.compile(r"^\s*Observation\s*:\s*(.*?)(?=\n\s*(?:Thought|Action|Final Answer)\s*:|\Z)", re.M | re.S)
_QUESTION_RE = re.compile(r"^Question\s*:\s*(.+)$", re.MULTILINE)
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_ANY_INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"input": {"type": "string"}},
    "required": ["input"],
}


@dataclass
class _Scene:
    style: str  # "llamaindex" | "langchain"
    tools: list[Tool]
    task: str
    actions: list[str]
    observations: list[str]


def _parse_tools(prompt: str) -> list[Tool]:
    tools: list[Tool] = []
    for m in _LI_TOOL_RE.finditer(prompt):
        try:
            schema = json.loads(m.group("args"))
        except ValueError:
            schema = None
        if not isinstance(schema, dict):
            schema = _ANY_INPUT_SCHEMA
        tools.append(Tool(name=m.group("name").strip(), description=m.group("desc").strip(), parameters=schema))
    if tools:
        return tools
    for m in _ONE_OF_RE.finditer(prompt):
        names = [n.strip().strip("'\"`") for n in (m.group(1) or m.group(2) or "").split(",")]
        names = [n for n in names if re.fullmatch(r"[\w.-]{1,64}", n) and n != "tool_names"]
        if names:
            return [
                Tool(name=n, description=_langchain_description(prompt, n), parameters=_ANY_INPUT_SCHEMA) for n in names
            ]
    return []


def _langchain_description(prompt: str, name: str) -> str:
    m = re.search(rf"^{re.escape(name)}\b[^\n]*?(?:: | - )(.+)$", prompt, re.MULTILINE)
    return m.group(1) if m else ""


def _scene(messages: list[Message]) -> _Scene | None:
    for i, msg in enumerate(messages):
        text = msg.text
        if msg.role not in ("system", "developer", "user") or "Action Input" not in text or "Observation" not in text:
            continue
        tools = _parse_tools(text)
        if not tools:
            continue
        if "Final Answer" in text:  # LangChain: the whole scratchpad lives in this one prompt
            questions = _QUESTION_RE.findall(text)
            if not questions:
                continue
            tail = text[text.rfind("Question:") :]
            return _Scene(
                style="langchain",
                tools=tools,
                task=questions[-1].strip(),
                actions=_ACTION_RE.findall(tail),
                observations=[o.strip() for o in _OBSERVATION_RE.findall(tail)],
            )
        later = messages[i + 1 :]
        task_index = None
        for j, m2 in enumerate(later):
            if m2.role == "user" and not m2.text.lstrip().startswith("Observation:"):
                task_index = j
        if task_index is None:
            continue
        steps = later[task_index + 1 :]
        actions: list[str] = []
        observations: list[str] = []
        for step in steps:
            if step.role == "assistant":
                actions.extend(_ACTION_RE.findall(step.text))
            elif step.text.lstrip().startswith("Observation:"):
                observations.append(step.text.lstrip()[len("Observation:") :].strip())
        return _Scene("llamaindex", tools, later[task_index].text, actions, observations)
    return None


def _ordered_relevant(tools: list[Tool], task: str) -> list[Tool]:
    lowered = task.lower()
    scored = [(t, relevance(t, task)) for t in tools]
    relevant = [t for t, score in scored if score > 0]

    def position(t: Tool) -> int:
        pos = lowered.find(t.name.lower())
        return pos if pos >= 0 else len(lowered)

    return sorted(relevant, key=position)


def react_reply(messages: list[Message], model: str) -> str | None:
    """The next ReAct step for a ReAct-style conversation, or None if this is not one."""
    scene = _scene(messages)
    if scene is None:
        return None
    called = {a.strip().strip("`'\"") for a in scene.actions}
    pending = [t for t in _ordered_relevant(scene.tools, scene.task) if t.name not in called]
    language = "Chinese" if _CJK_RE.search(scene.task) else "English"
    if pending:
        tool = pending[0]
        args = synthesize_arguments(tool, scene.task, tool_results="\n".join(scene.observations))
        action_input = json.dumps(args, ensure_ascii=False)
        if scene.style == "langchain":
            if tool.parameters is _ANY_INPUT_SCHEMA:
                action_input = str(args.get("input", scene.task))
            return f"I need to use the {tool.name} tool.\nAction: {tool.name}\nAction Input: {action_input}"
        return (
            f"Thought: The current language of the user is: {language}. I need to use a tool to help me answer "
            f"the question.\nAction: {tool.name}\nAction Input: {action_input}"
        )
    if scene.observations:
        names = [a.strip() for a in scene.actions]
        parts = []
        for k, obs in enumerate(scene.observations):
            name = names[k] if k < len(names) else "the tool"
            end = "" if obs[-1:] in ".!?" else "."
            parts.append(f"The result of {name} is {obs}{end}")
        answer = " ".join(parts)
    else:
        answer = plain_reply(model, [Message(role="user", text=scene.task)])
    if scene.style == "langchain":
        return f"I now know the final answer\nFinal Answer: {answer}"
    return (
        f"Thought: I can answer without using any more tools. I'll use the user's language to answer\nAnswer: {answer}"
    )
