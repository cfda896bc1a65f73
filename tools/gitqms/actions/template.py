"""Filling the record and repository templates, and checking the result before it is written."""

from __future__ import annotations

import json
import re
from importlib import resources

from ..errors import QmsError
from ..records.document import parse_document
from ..safeyaml import LoadError
from ..validation.schemas import dotted, schema_problems

_SLOT = re.compile(r"\{\{(\w+)\}\}")


def template(name: str) -> str:
    return resources.files("gitqms").joinpath("templates", name).read_text("utf-8")


def fill(text: str, **values: str) -> str:
    """Replace every {{slot}} in one pass, so text a user gave is never read as a slot."""
    return _SLOT.sub(lambda match: values[match.group(1)], text)


def quoted(value: str) -> str:
    """A YAML scalar that reads back as exactly `value` (a JSON string is YAML)."""
    return json.dumps(value, ensure_ascii=False)


def check_before_writing(text: str, schema: str, *, markdown: bool, what: str) -> None:
    """Refuse to write a file that would not pass its own schema; name the first problem."""
    try:
        document = parse_document(what, text, markdown=markdown)
    except LoadError as error:
        raise QmsError(f"the values given would make {what} unreadable: {error.message}") from None
    problems = schema_problems(schema, document.data)
    if problems:
        first = problems[0]
        raise QmsError(
            f"the values given would make {what} invalid: {first.message}",
            hint=f"{first.fix} (field '{dotted(first.location)}')",
        )
