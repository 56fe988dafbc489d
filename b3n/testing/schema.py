"""Deterministic JSON Schema instance generation, filled from prompt facts.

Used for tool-call arguments and for ``response_format`` JSON output. The instance satisfies the
common JSON Schema keywords (type, properties, required, enum, const, anyOf/oneOf/allOf, $ref,
items/prefixItems, minItems, minimum/maximum, minLength/maxLength, format).
"""

from __future__ import annotations

import math
import re
from typing import Any

from .prompt_facts import PromptFacts

JsonSchema = dict[str, Any]

_JOKES: dict[str, tuple[str, str]] = {
    "cat": ("Why did the cat sit on the computer?", "To keep an eye on the mouse."),
    "dog": ("Why did the dog sit in the shade?", "Because it didn't want to be a hot dog."),
    "program": ("Why do programmers prefer dark mode?", "Because light attracts bugs."),
    "bear": ("Why do bears have hairy coats?", "Fur protection."),
    "parrot": ("Why did the parrot wear a raincoat?", "It wanted to be a polyglot in any weather."),
}
_PLACE_KEYS = ("location", "city", "place", "address", "destination", "origin", "country", "region", "where")
_FREE_TEXT_KEYS = ("query", "question", "search", "prompt", "text", "input", "message", "content", "q", "request")
_TOPIC_KEYS = ("topic", "subject", "theme", "about")
REPLY_KEYS = ("answer", "response", "reply", "result", "output", "summary", "explanation", "reasoning")
_EXCLUDE_RE_TEMPLATE = (
    r"\b(?:no|without|omit|exclude|excluding|skip|not the|leave out)\s+(?:a\s+|an\s+|the\s+|any\s+)?{key}\b"
)


def joke_for(text: str) -> tuple[str, str]:
    """A (setup, punchline) pair whose topic matches ``text`` when possible."""
    lowered = text.lower()
    for topic, joke in _JOKES.items():
        if topic in lowered:
            return joke
    return _JOKES["cat"]


def excluded_by_prompt(key: str, text: str) -> bool:
    """Whether the prompt asks to leave ``key`` out ('no punchline', 'without the punchline')."""
    pattern = _EXCLUDE_RE_TEMPLATE.format(key=re.escape(key).replace("_", "[ _]"))
    return re.search(pattern, text, flags=re.IGNORECASE) is not None


class InstanceGenerator:
    """Builds a JSON value for a schema, taking values from ``facts`` where it can."""

    def __init__(self, facts: PromptFacts, root: JsonSchema, *, reply: str = "") -> None:
        self.facts = facts
        self.root = root
        self.reply = reply
        self._depth = 0

    # -- schema helpers -------------------------------------------------------------------------
    def resolve(self, schema: Any) -> JsonSchema:
        """Follow local ``$ref``s and merge ``allOf``."""
        if not isinstance(schema, dict):
            return {}
        seen = 0
        while "$ref" in schema and isinstance(schema["$ref"], str) and seen < 32:
            target = self._lookup(schema["$ref"])
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **rest}
            seen += 1
        if isinstance(schema.get("allOf"), list):
            merged: JsonSchema = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                part = self.resolve(part)
                for k, v in part.items():
                    if k == "properties" and isinstance(v, dict):
                        merged["properties"] = {**merged.get("properties", {}), **v}
                    elif k == "required" and isinstance(v, list):
                        merged["required"] = [*merged.get("required", []), *v]
                    else:
                        merged.setdefault(k, v)
            schema = merged
        return dict(schema)

    def _lookup(self, ref: str) -> JsonSchema:
        if not ref.startswith("#"):
            return {}
        node: Any = self.root
        for part in ref.lstrip("#").split("/"):
            if not part:
                continue
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            else:
                return {}
        return node if isinstance(node, dict) else {}

    def _pick_variant(self, schema: JsonSchema) -> JsonSchema | None:
        for key in ("anyOf", "oneOf"):
            variants = schema.get(key)
            if isinstance(variants, list) and variants:
                base = {k: v for k, v in schema.items() if k != key}
                for variant in variants:
                    resolved = self.resolve(variant)
                    if resolved.get("type") != "null":
                        return {**base, **resolved}
                return {"type": "null"}
        return None

    def is_nullable(self, schema: Any) -> bool:
        """Whether ``null`` is a valid instance of ``schema``."""
        schema = self.resolve(schema)
        stype = schema.get("type")
        if stype == "null" or (isinstance(stype, list) and "null" in stype):
            return True
        for key in ("anyOf", "oneOf"):
            variants = schema.get(key)
            if isinstance(variants, list) and any(self.resolve(v).get("type") == "null" for v in variants):
                return True
        return False

    # -- generation -----------------------------------------------------------------------------
    def generate(self, schema: Any, key: str = "") -> Any:
        """A value valid for ``schema``; ``key`` is the property name it is for (drives heuristics)."""
        self._depth += 1
        try:
            if self._depth > 12:
                return None
            return self._generate(self.resolve(schema), key)
        finally:
            self._depth -= 1

    def _generate(self, schema: JsonSchema, key: str) -> Any:
        variant = self._pick_variant(schema)
        if variant is not None:
            schema = variant
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return self._enum_value(enum)
        stype = schema.get("type")
        if isinstance(stype, list):
            non_null = [t for t in stype if t != "null"]
            stype = non_null[0] if non_null else "null"
        if stype is None:
            if "properties" in schema:
                stype = "object"
            elif "items" in schema or "prefixItems" in schema:
                stype = "array"
            else:
                stype = "string"
        if stype == "object":
            return self.object_value(schema)
        if stype == "array":
            return self._array_value(schema, key)
        if stype in ("integer", "number"):
            return self._number_value(schema, key, integer=stype == "integer")
        if stype == "boolean":
            default = schema.get("default")
            return default if isinstance(default, bool) else True
        if stype == "null":
            return None
        return self._string_value(schema, key)

    def object_value(self, schema: JsonSchema, *, only: set[str] | None = None) -> dict[str, Any]:
        """All listed properties (required ones always; optional ones unless the prompt excludes them)."""
        schema = self.resolve(schema)
        props = schema.get("properties")
        if not isinstance(props, dict):
            return {}
        required = set(schema.get("required") or [])
        out: dict[str, Any] = {}
        for name, sub in props.items():
            if only is not None and name not in only:
                continue
            if excluded_by_prompt(name, self.facts.text):
                if name not in required:
                    continue
                if self.is_nullable(sub):
                    out[name] = None
                    continue
            out[name] = self.generate(sub, name)
        return out

    def _enum_value(self, enum: list[Any]) -> Any:
        lowered = self.facts.text.lower()
        for value in enum:
            if isinstance(value, str) and value and re.search(rf"\b{re.escape(value.lower())}\b", lowered):
                return value
        return enum[0]

    def _array_value(self, schema: JsonSchema, key: str) -> list[Any]:
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list) and prefix:
            return [self.generate(item, key) for item in prefix]
        items = schema.get("items", {})
        if isinstance(items, list):  # draft-04 tuple form
            return [self.generate(item, key) for item in items]
        count = max(1, int(schema.get("minItems", 1) or 1))
        max_items = schema.get("maxItems")
        if isinstance(max_items, int):
            count = min(count, max_items)
        return [self.generate(items, key) for _ in range(count)]

    def _number_value(self, schema: JsonSchema, key: str, *, integer: bool) -> float | int:
        value: float | None = None
        keyed = self.facts.keyed_value(key) if key else None
        if keyed is not None:
            try:
                value = float(keyed)
            except ValueError:
                value = None
        if value is None:
            value = self.facts.next_number()
        if value is None:
            default = schema.get("default")
            if isinstance(default, (int, float)) and not isinstance(default, bool):
                value = float(default)
        if value is None:
            value = 1.0
        lo = schema.get("minimum")
        hi = schema.get("maximum")
        xlo = schema.get("exclusiveMinimum")
        xhi = schema.get("exclusiveMaximum")
        step = 1.0 if integer else 0.5
        if isinstance(lo, (int, float)) and value < lo:
            value = float(lo)
        if isinstance(xlo, (int, float)) and not isinstance(xlo, bool) and value <= xlo:
            value = float(xlo) + step
        if isinstance(hi, (int, float)) and value > hi:
            value = float(hi)
        if isinstance(xhi, (int, float)) and not isinstance(xhi, bool) and value >= xhi:
            value = float(xhi) - step
        if integer:
            return math.floor(value) if value >= 0 else math.ceil(value)
        return int(value) if value.is_integer() else value

    def _string_value(self, schema: JsonSchema, key: str) -> str:
        value = self._string_candidate(schema, key)
        min_len = schema.get("minLength")
        max_len = schema.get("maxLength")
        if isinstance(min_len, int) and len(value) < min_len:
            value = value + "x" * (min_len - len(value))
        if isinstance(max_len, int) and max_len >= 0 and len(value) > max_len:
            value = value[:max_len]
        return value

    def _string_candidate(self, schema: JsonSchema, key: str) -> str:
        lkey = key.lower()
        facts = self.facts
        fmt = schema.get("format")
        if fmt == "email":
            return "user@example.com"
        if fmt == "date":
            return "2024-01-01"
        if fmt == "date-time":
            return "2024-01-01T00:00:00Z"
        if fmt == "time":
            return "12:00:00"
        if fmt in ("uri", "url"):
            return "https://example.com"
        if fmt == "uuid":
            return "00000000-0000-4000-8000-000000000000"
        if lkey in ("setup", "joke"):
            return joke_for(facts.text)[0]
        if lkey == "punchline":
            return joke_for(facts.text)[1]
        if key:
            keyed = facts.keyed_value(key)
            if keyed:
                return keyed
        quoted = facts.next_quoted()
        if quoted is not None:
            return quoted
        parts = set(re.split(r"[_\W]+", lkey)) - {""}
        if parts & set(_PLACE_KEYS):
            place = facts.place()
            if place:
                return place
        if parts & set(_TOPIC_KEYS):
            topic = facts.topic()
            if topic:
                return topic
        if lkey in _FREE_TEXT_KEYS or parts & {"query", "question", "prompt", "search"}:
            text = " ".join(facts.text.split())
            if text:
                return text[:200]
        if lkey in REPLY_KEYS and self.reply:
            return self.reply
        salient = facts.salient()
        if salient:
            return salient
        if parts & set(_PLACE_KEYS):
            return "San Francisco, CA"
        topic = facts.topic()
        if topic and topic not in facts.used_strings:
            facts.used_strings.add(topic)
            return topic
        label = " ".join(p for p in re.split(r"[_\W]+", key) if p) or "value"
        return f"sample {label}"
