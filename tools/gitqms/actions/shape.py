"""The whole shape of a new record (issue 22, item 2): after the fields `qms new` fills in, each
field the kind's schema knows that the record does not hold yet, commented out, with what it
holds and which state needs it, so an author sees from the start what the record will ask for
and `qms advance --set FIELD=VALUE` can give it when the time comes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..records.migration import MIGRATION_FIELD

_NOT_WRITTEN = frozenset({MIGRATION_FIELD})  # written by a tool (qms import), never by hand
HEADER = (
    "# Fields for later: uncomment and fill in when the record gets there, or give them with\n"
    "# `qms advance RECORD --to STATE --set FIELD=VALUE`.\n"
)
DOCUMENT_HEADER = "# Fields it may also hold: uncomment and fill in where they apply.\n"


def later_fields(
    schema: Mapping[str, Any], present: Iterable[str], *, document: bool = False
) -> str:
    """Comment lines for the top-level fields of `schema` not in `present`; '' when none.
    `document`: of a document kind, which moves by signatures, not by `qms advance`."""
    held = set(present)
    needed = _needed_by_state(schema)
    lines = []
    for name, field in (schema.get("properties") or {}).items():
        if name in held:
            continue
        said = _said(schema, field)
        if name in _NOT_WRITTEN:
            continue
        note = " — ".join(part for part in (said, "; ".join(needed.get(name, ()))) if part)
        lines.append(f"# {name}:" + (f"  # {_line(note)}" if note else "") + "\n")
    return (DOCUMENT_HEADER if document else HEADER) + "".join(lines) if lines else ""


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


def _said(schema: Mapping[str, Any], field: Any) -> str:
    """A field's description (or its fix), following one `$ref` into `$defs`."""
    if not isinstance(field, Mapping):
        return ""
    text = field.get("description") or field.get("x-fix")
    reference = field.get("$ref")
    if not text and isinstance(reference, str) and reference.startswith("#/$defs/"):
        target = (schema.get("$defs") or {}).get(reference.rsplit("/", 1)[1]) or {}
        text = target.get("description") or target.get("x-fix")
    return text if isinstance(text, str) else ""


def _line(text: str) -> str:
    """One comment line's worth: no line breaks, at most 160 characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= 160 else flat[:157] + "..."


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
    kept = [line for line in later[1:] if not ((m := _LATER.match(line)) and m[1] in held)]
    if not any(_LATER.match(line) for line in kept):
        return text
    return text + ("" if not text or text.endswith("\n") else "\n") + later[0] + "".join(kept)
