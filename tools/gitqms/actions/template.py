"""Filling the record and repository templates, and checking the result before it is written."""

from __future__ import annotations

import json
import re
from datetime import datetime
from importlib import resources
from pathlib import Path

from .. import git
from ..errors import QmsError, Refused
from ..history.read import record_blobs
from ..records.config import QmsConfig
from ..records.document import parse_document
from ..records.repository import RecordFile
from ..safeyaml import LoadError
from ..validation.record_checks import Context
from ..validation.run import check_record_text
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


def refuse_invalid(
    root: Path,
    commit: str,
    file: RecordFile,
    text: str,
    config: QmsConfig,
    now: datetime,
    what: str,
) -> None:
    """Refuse a record a command is about to write and sign when its text has errors, judged
    against the records committed at `commit`."""
    ids = record_blobs(root, commit, git.show_prefix(root))
    findings = check_record_text(file, text, Context(config, {i: i for i in ids}, now))[2]
    errors = [
        f"{f.location}: {f.message} (fix: {f.fix})" for f in findings if f.severity == "error"
    ]
    if errors:
        raise Refused(f"{what} would not validate; nothing was written:\n  " + "\n  ".join(errors))
