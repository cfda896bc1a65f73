"""Editing the example records in tests: find a field, replace or drop it, add lines."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml


def records(repo: Path, folder: str) -> list[Path]:
    files = sorted(p for p in (repo / folder).iterdir() if p.suffix in (".md", ".yaml"))
    assert files, f"the example has no records in {folder}/"
    return files


def record_with(repo: Path, folder: str, *patterns: str) -> Path:
    """The first record of a folder whose text matches every regex (multi-line)."""
    for path in records(repo, folder):
        text = path.read_text(encoding="utf-8")
        if all(re.search(pattern, text, re.MULTILINE) for pattern in patterns):
            return path
    raise AssertionError(f"no record in {folder}/ matches {patterns}: the example changed")


def rel(repo: Path, path: Path) -> str:
    return path.relative_to(repo).as_posix()


def line_of(path: Path, pattern: str) -> int:
    text = path.read_text(encoding="utf-8")
    match = re.search(pattern, text, re.MULTILINE)
    assert match is not None, f"{pattern!r} not in {path}"
    return text.count("\n", 0, match.start()) + 1


def value_of(path: Path, key: str) -> str:
    """The quoted or plain one-line value of a top-level field."""
    match = re.search(rf'^{key}: "?([^"\n]*)"?$', path.read_text(encoding="utf-8"), re.M)
    assert match is not None, f"no one-line '{key}:' in {path}"
    return match.group(1)


def _block(lines: list[str], key: str, indent: str) -> tuple[int, int]:
    """Index range of a field: its line and the lines indented below it."""
    starts = [i for i, line in enumerate(lines) if line.startswith(f"{indent}{key}:")]
    assert starts, f"no '{indent}{key}:' field"
    end = starts[0] + 1
    while end < len(lines) and lines[end].startswith(indent + " "):
        end += 1
    return starts[0], end


def replace_field(path: Path, key: str, text: str, indent: str = "") -> int:
    """Replace a field (with its indented lines) by `text`; return the line it starts on."""
    lines = path.read_text(encoding="utf-8").split("\n")
    start, end = _block(lines, key, indent)
    lines[start:end] = text.split("\n")
    path.write_text("\n".join(lines), encoding="utf-8")
    return start + 1


def drop_field(path: Path, key: str, indent: str = "") -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    start, end = _block(lines, key, indent)
    del lines[start:end]
    path.write_text("\n".join(lines), encoding="utf-8")


def add_field(path: Path, text: str) -> int:
    """Add top-level lines: at the end of a YAML record, before the closing fence of an SOP."""
    lines = path.read_text(encoding="utf-8").split("\n")
    if path.suffix == ".md":
        at = lines.index("---", 1)
    else:
        while lines and lines[-1] == "":
            lines.pop()
        at = len(lines)
        lines.append("")
    lines[at:at] = text.split("\n")
    path.write_text("\n".join(lines), encoding="utf-8")
    return at + 1


def set_field(path: Path, key: str, text: str) -> int:
    """Replace a top-level field, or add it when the record does not have it."""
    if re.search(rf"^{key}:", path.read_text(encoding="utf-8"), re.MULTILINE):
        return replace_field(path, key, text)
    return add_field(path, text)


def replace_line(path: Path, old: str, new: str) -> int:
    """Replace the one line that is exactly `old` by `new` (may be several lines)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    where = [i for i, line in enumerate(lines) if line == old]
    assert len(where) == 1, f"{old!r} is on {len(where)} lines of {path}, not on exactly one"
    lines[where[0] : where[0] + 1] = new.split("\n")
    path.write_text("\n".join(lines), encoding="utf-8")
    return where[0] + 1


def insert_after(path: Path, line: int, text: str) -> None:
    """Insert lines after 1-based line `line`."""
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[line:line] = text.split("\n")
    path.write_text("\n".join(lines), encoding="utf-8")


def config(repo: Path) -> dict[str, Any]:
    """The repository's qms.yaml as data."""
    data: dict[str, Any] = yaml.safe_load((repo / "qms.yaml").read_text(encoding="utf-8"))
    return data
