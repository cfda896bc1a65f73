"""The template of a kind that a repository declares: written from its pinned schema, so that
`qms new` needs no template file. Every required field, in the schema's order, with a value of
its form: the slots `qms new` fills (ID, title, owner, area, today), the initial state, the
first allowed value of a choice, and FILL IN where a person must write."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..records.kinds import PLACEHOLDER, Kind
from .template import quoted

_SLOTS = {"id": "{{id}}", "title": "{{title}}", "owner": "{{owner}}", "area": "{{area}}"}


def skeleton(kind: Kind, schema: Mapping[str, Any], initial: str | None) -> str:
    """A new record's text: YAML, or front matter and a body for a Markdown kind."""
    lines = _fields(schema, schema, 0, initial)
    if kind.suffix == ".md":
        return "---\n" + "".join(lines) + f"---\n\n# {{{{title}}}}\n\n{PLACEHOLDER}\n"
    return "".join(lines)


def _fields(
    root: Mapping[str, Any], node: Mapping[str, Any], depth: int, initial: str | None
) -> list[str]:
    properties = node.get("properties") or {}
    lines = []
    indent = "  " * depth
    for name in [n for n in properties if n in set(node.get("required") or ())]:
        field = _resolved(root, properties[name])
        if depth == 0 and name in _SLOTS:
            lines.append(f"{indent}{name}: {_SLOTS[name]}\n")
        elif depth == 0 and name == "state" and initial is not None:
            lines.append(f"{indent}state: {initial}\n")
        elif field.get("type") == "object":
            lines.append(f"{indent}{name}:\n")
            lines += _fields(root, field, depth + 1, None)
        else:
            lines.append(f"{indent}{name}: {_value(field)}\n")
    return lines


def _resolved(root: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    """A property's schema, following a `$ref` inside the schema (all a pinned one may have)."""
    seen = 0
    while isinstance(node.get("$ref"), str) and seen < 10:
        target: Any = root
        for part in str(node["$ref"]).removeprefix("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        node, seen = target if isinstance(target, Mapping) else {}, seen + 1
    return node


def _value(field: Mapping[str, Any]) -> str:
    if "const" in field:
        return (
            quoted(str(field["const"])) if isinstance(field["const"], str) else str(field["const"])
        )
    if field.get("enum"):
        first = field["enum"][0]
        return quoted(first) if isinstance(first, str) else str(first).lower()
    form = field.get("format")
    if form == "date":
        return "{{today}}"
    if form == "date-time":
        return "{{now}}"
    kind = field.get("type")
    if kind == "boolean":
        return "false"
    if kind in ("integer", "number"):
        return str(field.get("minimum", 0))
    if kind == "array":
        return "[]"
    return quoted(PLACEHOLDER)
