"""What a demo person types into a file that is already there: the record `qms new` wrote, the
next version `qms revise` started, or a record as committed before.

Only what the person changes is changed: fields are set (and their hint comments, written by
`qms new`, go with the line the person retyped) in the style of the shipped records, fields are
removed, a document's body is written anew; everything else, comments included, stays as it
was, because the file is edited round-trip (ruamel.yaml), as `qms advance --set` edits it.
The demo then commits the file with `qms commit`, as a person would.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedMap

from ..actions.fill import dumped, round_trip, styled
from ..actions.shape import put_back, set_aside
from ..errors import QmsError
from ..records.document import split_front_matter

KEPT = ("id", "state")  # never removed by an edit: a record moves only with `qms advance`


@dataclass(frozen=True, kw_only=True)
class Edit:
    """Top-level fields (of a YAML record, or a document's front matter) set to new values;
    `removed` fields taken out, or with `only`, every field not set here (but id and state);
    a document's `body` (after its front matter) written anew."""

    fields: Mapping[str, Any] = field(default_factory=dict)
    removed: tuple[str, ...] = ()
    only: bool = False
    body: str | None = None


def edited(text: str, edit: Edit, where: str) -> str:
    """`text` (the file at `where`) with `edit` made."""
    if not where.endswith(".md"):
        if edit.body is not None:
            raise QmsError(f"{where} has no body to write")
        return _front(text, edit, where)
    front, body, _ = split_front_matter(text)
    new_front = _front(front, edit, where) if edit.fields or edit.removed or edit.only else front
    return f"---\n{new_front}---\n{body if edit.body is None else edit.body}"


def _front(text: str, edit: Edit, where: str) -> str:
    text, later = set_aside(text)
    yaml = round_trip()
    data = yaml.load(text)
    if not isinstance(data, CommentedMap):
        raise QmsError(f"{where} does not hold a mapping of fields")
    gone = [key for key in data if key not in edit.fields and key not in KEPT] if edit.only else []
    for key in (*edit.removed, *gone):
        data.pop(key, None)
    for key, value in edit.fields.items():
        if key in data and data[key] == value:
            continue  # as it was: the line, and its comment, untouched
        data[key] = styled(value)
        _without_hint(data, key)
    return put_back(dumped(yaml, data), later)


def _without_hint(data: CommentedMap, key: str) -> None:
    """The comment at the end of `key`'s line (a hint `qms new` wrote) goes when the line is
    retyped; the comment lines after it, about the next field, stay."""
    entry = data.ca.items.get(key)
    token = entry[2] if entry and len(entry) > 2 else None
    if token is None or str(token.value).startswith("\n"):
        return
    _, _, after = str(token.value).partition("\n")
    if after.strip():
        token.value = "\n" + after
    else:
        data.ca.items.pop(key, None)


def written(data: Mapping[str, Any]) -> str:
    """A record keyed in whole, in the style of the shipped records and `qms advance --set`."""
    yaml = round_trip()
    record = styled(dict(data))
    if not isinstance(record, CommentedMap):
        raise TypeError("a record is a mapping of fields")
    return dumped(yaml, record)
