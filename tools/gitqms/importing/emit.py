"""Record text from imported values: YAML whose every string is quoted, in the schema's order."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..validation.schemas import packaged_schema_text

# Characters YAML reads as line breaks or refuses, which JSON leaves as they are.
_ESCAPE = {chr(c): f"\\u{c:04x}" for c in (*range(0x7F, 0xA0), 0x2028, 0x2029, 0xFEFF)}


def scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if value is None:
        return ""
    text = json.dumps(str(value), ensure_ascii=False)
    return "".join(_ESCAPE.get(char, char) for char in text)


def _order(schema: Mapping[str, Any], data: Mapping[str, Any]) -> list[str]:
    known = list(schema.get("properties", {}))
    return [k for k in known if k in data] + [k for k in data if k not in known]


def _sub(schema: Mapping[str, Any], key: str, root: Mapping[str, Any]) -> Mapping[str, Any]:
    node: Any = schema.get("properties", {}).get(key, {})
    if isinstance(node, Mapping) and "$ref" in node:
        node = root["$defs"][str(node["$ref"]).rsplit("/", 1)[-1]]
    return node if isinstance(node, Mapping) else {}


def _lines(
    data: Mapping[str, Any], schema: Mapping[str, Any], root: Mapping[str, Any], indent: str
) -> list[str]:
    out: list[str] = []
    for key in _order(schema, data):
        value = data[key]
        sub = _sub(schema, key, root)
        if isinstance(value, Mapping):
            out.append(f"{indent}{key}:")
            out += _lines(value, sub, root, indent + "  ")
        elif isinstance(value, list) and value and isinstance(value[0], Mapping):
            out.append(f"{indent}{key}:")
            items = sub.get("items", {})
            for item in value:
                inner = _lines(item, items, root, indent + "    ")
                out.append(f"{indent}  - {inner[0].lstrip()}")
                out += inner[1:]
        elif isinstance(value, list):
            out.append(f"{indent}{key}: [{', '.join(scalar(v) for v in value)}]")
        else:
            out.append(f"{indent}{key}: {scalar(value)}".rstrip())
    return out


def record_yaml(kind: str, data: Mapping[str, Any]) -> str:
    schema = json.loads(packaged_schema_text(kind))
    return "\n".join(_lines(data, schema, schema, "")) + "\n"
