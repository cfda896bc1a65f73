"""Reading one record file into data, a line map and (for SOPs) its Markdown body."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from ..safeyaml import MAX_FILE_BYTES, LineMap, LoadError, decode_record_bytes, load_yaml, oversize

FENCES = ("---", "...")


@dataclass(frozen=True)
class Document:
    path: str  # relative to the repository root, with forward slashes
    data: Any
    yaml_text: str  # the YAML the data was parsed from (an SOP's front matter)
    line_offset: int  # lines before `yaml_text` in the file
    body: str | None = None  # Markdown after the front matter
    body_line: int = 0  # 1-based line where the body starts

    @cached_property
    def lines(self) -> LineMap:
        """Where each value is written. Made when a finding first needs a line, by parsing the
        text once more: most documents have no findings, and the map costs a third of a parse."""
        return load_yaml(self.yaml_text, line_offset=self.line_offset).lines

    def line_of(self, location: tuple[str | int, ...]) -> int:
        """The line of a value, or of its nearest enclosing value that has one."""
        for end in range(len(location), -1, -1):
            line = self.lines.get(location[:end])
            if line is not None:
                return line
        return 1


def split_front_matter(text: str) -> tuple[str, str, int]:
    """Markdown with YAML front matter -> (yaml text, body, body's first line)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip("\r\n") != "---":
        raise LoadError(
            1,
            "the file does not start with a front-matter block",
            "begin the file with a line '---', the YAML fields, then another '---' line",
        )
    for index in range(1, len(lines)):
        if lines[index].rstrip("\r\n") in FENCES:
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), index + 2
    raise LoadError(
        1,
        "the front-matter block opened on line 1 is never closed",
        "add a line '---' after the last YAML field",
    )


def parse_document(path: str, text: str, *, markdown: bool) -> Document:
    """Parse the text of a record file; raises LoadError naming the line."""
    if not markdown:
        return Document(path, load_yaml(text, lines=False).data, text, 0)
    front, body, body_line = split_front_matter(text)
    data = load_yaml(front, line_offset=1, lines=False).data
    return Document(path, data, front, 1, body, body_line)


def read_text(root: Path, path: str) -> str:
    """A record's text from the working tree: a regular file, size checked before reading."""
    full = root / path
    try:
        if full.is_symlink():
            raise LoadError(
                0,
                "the record is a symbolic link, not a file",
                "replace the link with the record itself; links can point outside the repository",
            )
        size = full.stat().st_size
        if size > MAX_FILE_BYTES:
            raise oversize(size)
        raw = full.read_bytes()
    except OSError as error:
        raise LoadError(
            0, f"cannot read the file: {error.strerror}", "check that it exists and is readable"
        ) from None
    return decode_record_bytes(raw)


def read_document(root: Path, path: str, *, markdown: bool) -> Document:
    return parse_document(path, read_text(root, path), markdown=markdown)
