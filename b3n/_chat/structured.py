"""Structured output on the wire: ``response_format`` building and JSON reply extraction.

Shared by both facades so the JSON-schema request shape, the strict-schema rules and the
lenient reading of a JSON reply live once.

Example:
    >>> fmt = json_schema_format("My Answer!", {"type": "object", "properties": {"n": {"type": "integer"}}})
    >>> fmt["type"], fmt["json_schema"]["name"]
    ('json_schema', 'My_Answer_')
    >>> strict_json_schema({"type": "object", "properties": {"n": {"type": "integer"}}})
    {'type': 'object', 'properties': {'n': {'type': 'integer'}}, 'additionalProperties': False, 'required': ['n']}
    >>> extract_json("```json\\n{\\"n\\": 1}\\n```")
    {'n': 1}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from b3n._errors import B3nStructuredOutputError
from b3n._json import loads

_NAME_BAD = re.compile(r"[^a-zA-Z0-9_-]")
_FENCE = re.compile(r"^```[a-zA-Z0-9_-]*\s*\n?(.*?)\n?```\s*$", re.DOTALL)


def schema_name(name: str | None) -> str:
    """A ``response_format`` / tool name the API accepts: ``[a-zA-Z0-9_-]{1,64}``."""
    cleaned = _NAME_BAD.sub("_", name or "")[:64]
    return cleaned or "output"


def strict_json_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` obeying OpenAI strict mode.

    Every object gets ``additionalProperties: false`` and lists all its properties as
    required (optional fields stay nullable through their own ``anyOf``/``null``); ``default``
    keywords, which strict mode rejects, are dropped (a property named ``default`` stays).

    Example:
        >>> strict_json_schema({"properties": {"n": {"type": "integer", "default": 3}}})
        {'properties': {'n': {'type': 'integer'}}, 'additionalProperties': False, 'required': ['n']}
    """

    def walk(node: Any) -> Any:
        if isinstance(node, Mapping):
            out = {k: (names(v) if k in _NAMED_SCHEMAS else walk(v)) for k, v in node.items() if k != "default"}
            if out.get("type") == "object" or "properties" in out:
                out["additionalProperties"] = False
                props = out.get("properties")
                if isinstance(props, Mapping):
                    out["required"] = list(props)
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    def names(node: Any) -> Any:  # {name: schema}: the names are not keywords
        return {k: walk(v) for k, v in node.items()} if isinstance(node, Mapping) else walk(node)

    result = walk(schema)
    assert isinstance(result, dict)
    return result


#: keywords whose value maps names to schemas.
_NAMED_SCHEMAS = frozenset({"properties", "$defs", "definitions", "patternProperties"})


def json_schema_format(
    name: str | None,
    schema: Mapping[str, Any],
    *,
    strict: bool = False,
    description: str | None = None,
) -> dict[str, Any]:
    """``response_format={"type": "json_schema", ...}`` for ``schema`` (strict mode rewrites it)."""
    spec: dict[str, Any] = {
        "name": schema_name(name),
        "schema": strict_json_schema(schema) if strict else dict(schema),
    }
    if strict:
        spec["strict"] = True
    if description:
        spec["description"] = description
    return {"type": "json_schema", "json_schema": spec}


def extract_json(text: str | None, *, model: str | None = None) -> Any:
    """Decode the JSON value in a model reply, tolerating a Markdown code fence around it.

    Raises :class:`B3nStructuredOutputError` when the reply holds no JSON.
    """
    body = (text or "").strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1).strip()
    try:
        return loads(body)
    except ValueError:
        pass
    # a JSON object embedded in prose ("Here it is: {...}")
    start, end = body.find("{"), body.rfind("}")
    if 0 <= start < end:
        try:
            return loads(body[start : end + 1])
        except ValueError:
            pass
    who = f"Model {model!r}" if model else "The model"
    raise B3nStructuredOutputError(
        f"{who} did not reply with JSON (got {body[:200]!r}). Use a model whose catalog entry supports "
        "json_schema (gpt-4o, gpt-4o-mini) or function calling, or make the prompt ask for JSON."
    )
