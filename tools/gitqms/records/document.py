"""Reading one record file into data, a line map and (for SOPs) its Markdown body."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..safeyaml import MAX_FILE_BYTES, LineMap, LoadError, decode_record_bytes, load_yaml, oversize

FENCES = ("---", "...")


@dataclass(frozen=True)
class Document:
    path: str  # relative to the repository root, with forward slashes
    data: Any
    lines: LineMap
    body: str | None = None  # Markdown after the front matter
    body_line: int = 0  # 1-based line where the body starts

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
        loaded = load_yaml(text)
        return Document(path, loaded.data, loaded.lines)
    front, body, body_line = split_front_matter(text)
    loaded = load_yaml(front, line_offset=1)
    return Document(path, loaded.data, loaded.lines, body, body_line)


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
