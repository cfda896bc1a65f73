"""The whole shape of a new record (issue 22, item 2): after the fields `qms new` fills in, each
field the kind's schema knows that the record does not hold yet, commented out, with what it
holds and which state needs it, so an author sees from the start what the record will ask for
and `qms advance --set FIELD=VALUE` can give it when the time comes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..records.migration import MIGRATION_FIELD
from ..text import one_line
from .form import describe, node_at, resolved

_WIDTH = 160  # one comment line's worth

_DEPTH = 3  # fields nested deeper are not spelled out
_NOT_WRITTEN = frozenset({MIGRATION_FIELD})  # written by a tool (qms import), never by hand
HEADER = (
    "# Fields for later: `qms advance RECORD --to STATE` asks for those a state needs when the\n"
    "# record gets there (or give them with --set FIELD=VALUE); uncomment one to fill it earlier.\n"
)
DOCUMENT_HEADER = "# Fields it may also hold: uncomment and fill in where they apply.\n"


def later_fields(
    schema: Mapping[str, Any], present: Iterable[str], *, document: bool = False
) -> str:
    """Comment lines for the top-level fields of `schema` not in `present`, each with the
    fields it holds (a list's item fields under '- '); '' when none. `document`: of a document
    kind, which moves by signatures, not by `qms advance`."""
    held = set(present)
    needed = _needed_by_state(schema)
    lines = []
    for name in schema.get("properties") or {}:
        if name in held or name in _NOT_WRITTEN:
            continue
        said = describe(schema, (name,))
        note = " — ".join(part for part in (said, "; ".join(needed.get(name, ()))) if part)
        lines.append(f"# {name}:" + (f"  # {one_line(note, _WIDTH)}" if note else "") + "\n")
        lines += _inside(schema, node_at(schema, (name,)), (name,), "#   ")
    return (DOCUMENT_HEADER if document else HEADER) + "".join(lines) if lines else ""


def _inside(
    schema: Mapping[str, Any], node: Mapping[str, Any], path: tuple[str, ...], indent: str
) -> list[str]:
    """The commented lines of the fields a mapping (or each item of a list) holds."""
    if len(path) >= _DEPTH:
        return []
    if node.get("type") == "array":
        node = resolved(schema, node.get("items") or {})
        first = f"{indent}- "
        indent += "  "
    else:
        first = indent
    lines = []
    required = set(node.get("required") or ())
    for number, name in enumerate(node.get("properties") or {}):
        field = resolved(schema, (node.get("properties") or {})[name])
        said = describe(schema, (*path, name), field)
        said = "; ".join(part for part in (said, "required" if name in required else "") if part)
        lead = first if number == 0 else indent
        lines.append(f"{lead}{name}:" + (f"  # {one_line(said, _WIDTH)}" if said else "") + "\n")
        if "properties" in field or field.get("type") == "array":
            lines += _inside(schema, field, (*path, name), indent + "  ")
    return lines


def _needed_by_state(schema: Mapping[str, Any]) -> dict[str, list[str]]:
    """Field -> the conditions under which the schema requires it (its `x-when` texts)."""
    found: dict[str, list[str]] = {}
    for clause in schema.get("allOf") or ():
        then = clause.get("then") if isinstance(clause, Mapping) else None
        if not isinstance(then, Mapping):
            continue
        when = then.get("x-when")
        for name in then.get("required") or ():
            if isinstance(when, str) and when not in found.setdefault(name, []):
                found[name].append(when)
    return found


_HELD = re.compile(r"(?m)^([A-Za-z_][\w-]*):")
_LATER = re.compile(r"# ([A-Za-z_][\w-]*):")


def set_aside(text: str) -> tuple[str, list[str]]:
    """(`text` without its block of fields for later, that block's lines: its header first),
    so that an edit of the fields cannot move or drop it. Of a YAML record, or a document's
    front matter."""
    for header in (HEADER, DOCUMENT_HEADER):
        start = text.find(header)
        if start >= 0:
            lines = text[start + len(header) :].splitlines(keepends=True)
            end = next((n for n, line in enumerate(lines) if not line.startswith("#")), len(lines))
            return text[:start] + "".join(lines[end:]), [header, *lines[:end]]
    return text, []


def put_back(text: str, later: list[str]) -> str:
    """`text` with the block of fields for later `later` at its end, but for the fields the
    text now holds (no block when none is left)."""
    if not later:
        return text
    held = set(_HELD.findall(text))
    kept, dropping = [], False
    for line in later[1:]:
        top = _LATER.match(line)
        if top:
            dropping = top[1] in held
        if not dropping:  # a field now held goes with the lines of the fields inside it
            kept.append(line)
    if not any(_LATER.match(line) for line in kept):
        return text
    return text + ("" if not text or text.endswith("\n") else "\n") + later[0] + "".join(kept)
