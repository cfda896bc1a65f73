"""docs/kinds.md: the reference of a kind declaration, written from schemas/kind.schema.json so
that it cannot drift from what gitqms checks (`make docs`; a test compares it)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from importlib import resources
from typing import Any

INTRO = """# Kind declarations

<!-- Generated from gitqms/schemas/kind.schema.json by `make docs`; do not edit. -->

A kind is declared in YAML: the built-in kinds in `gitqms/kinds/*.yaml`, a hospital's own kinds
under `kinds:` in `qms.yaml`, written there by `qms kinds add DECL.yaml --schema FILE --reason …`
(one admin-signed commit). A *path* names a field: `owner`, `effectiveness.checked_by`,
`actions[].owner` (`[]` steps into every item of a list); in a due item with `each`, a path
that starts with `/` is the record's, others are the item's.

`page:` lays out a record's page on the site. The `summary` fields join the state, owner, next
due item and linked records in its header; each section shows its `fields`, and `risk` names a
risk assessment (severity, occurrence, detectability, level, rationale) shown as one table with
its rationale under it. Every recorded field that no part of `page:` names is shown under
"Other details"; a kind without `page:` shows them all under "Details". Every path of `page:`
must name a field of the kind's schema: `qms kinds add` and `qms validate` refuse one that does
not.

| field | required | form | meaning |
|---|---|---|---|
"""


def _form(node: Mapping[str, Any], defs: Mapping[str, Any]) -> str:
    if "$ref" in node:
        name = str(node["$ref"]).rsplit("/", 1)[-1]
        return f"{name} ({_form(defs.get(name, {}), defs)})" if name in defs else name
    if "enum" in node:
        return " or ".join(f"`{value}`" for value in node["enum"])
    if "oneOf" in node or "anyOf" in node:
        return " or ".join(_form(part, defs) for part in node.get("oneOf", node.get("anyOf", [])))
    kind = node.get("type", "any")
    if kind == "array":
        return f"list of {_form(node.get('items', {}), defs)}"
    if kind == "string" and "pattern" in node:
        return f"text matching `{node['pattern']}`"
    return str(kind).replace("object", "map").replace("string", "text")


def _rows(node: Mapping[str, Any], defs: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    required = set(node.get("required") or ())
    for name, sub in (node.get("properties") or {}).items():
        where = f"{prefix}{name}"
        meaning = str(sub.get("description") or sub.get("x-fix") or "").replace("|", "\\|")
        form = _form(sub, defs).replace("|", "\\|") if sub.get("type") != "object" else "map"
        yield f"| `{where}` | {'yes' if name in required else ''} | {form} | {meaning} |\n"
        if sub.get("type") == "object" and "properties" in sub:
            yield from _rows(sub, defs, f"{where}.")
        items = sub.get("items") or {}
        if sub.get("type") == "array" and isinstance(items, Mapping) and "properties" in items:
            yield from _rows(items, defs, f"{where}[].")


def render() -> str:
    text = resources.files("gitqms").joinpath("schemas", "kind.schema.json").read_text("utf-8")
    schema = json.loads(text)
    defs = schema.get("$defs") or {}
    return INTRO + "".join(_rows(schema, defs))


if __name__ == "__main__":
    print(render(), end="")
