"""What became of every legacy row or document: the gap analysis, in Markdown and as JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..text import CONTROL

GapKind = Literal[
    "placeholder",  # required text missing: filled with visible template text that validation flags
    "default",  # missing or unreadable: filled from --default FIELD=VALUE
    "assumed",  # derived from other values of the row; says from what
    "ambiguous",  # more than one reading; the row is refused unless told which
    "unreadable",  # a value that cannot be read
    "missing",  # a field the record needs that the source does not give
    "duplicate",  # the legacy ID was seen before
    "privacy",  # a patient identifier; never repeated here
    "note",
]


@dataclass(frozen=True)
class Gap:
    kind: GapKind
    field: str | None
    column: str | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "field": self.field,
            "column": self.column,
            "message": self.message,
        }


@dataclass
class Outcome:
    """One source row (or document) and what became of it."""

    row: int | None  # None for a document
    legacy_id: str | None
    record_id: str | None = None  # set when imported
    refused: list[str] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    path: str | None = None  # the record file, when imported

    @property
    def imported(self) -> bool:
        return self.record_id is not None and not self.refused

    def where(self) -> str:
        return f"row {self.row}" if self.row is not None else "document"

    def to_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "legacy_id": self.legacy_id,
            "imported": self.imported,
            "record": self.record_id if self.imported else None,
            "path": self.path if self.imported else None,
            "refused": self.refused,
            "gaps": [gap.to_json() for gap in self.gaps],
        }


@dataclass
class Column:
    header: str
    field: str | None  # None: not imported
    filled: int = 0  # cells with a value
    note: str | None = None


@dataclass(kw_only=True)
class FileReport:
    source: str
    sha256: str
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    header_row: int | None = None
    columns: list[Column] = field(default_factory=list)
    other_sheets: list[str] = field(default_factory=list)
    blank_rows: list[int] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def read(self) -> int:
        return len(self.outcomes)

    @property
    def imported(self) -> int:
        return sum(1 for o in self.outcomes if o.imported)

    @property
    def refused(self) -> int:
        return self.read - self.imported

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "sha256": self.sha256,
            "sheet": self.sheet,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "header_row": self.header_row,
            "other_sheets_not_read": self.other_sheets,
            "columns": [
                {"header": c.header, "field": c.field, "filled": c.filled, "note": c.note}
                for c in self.columns
            ],
            "unmapped_columns": [c.header for c in self.columns if c.field is None],
            "blank_rows": self.blank_rows,
            "counts": {"read": self.read, "imported": self.imported, "refused": self.refused},
            "outcomes": [o.to_json() for o in self.outcomes],
        }


@dataclass(kw_only=True)
class ImportReport:
    kind: str
    imported_on: str
    tool: str
    dry_run: bool
    files: list[FileReport] = field(default_factory=list)
    report_path: str | None = None
    commit: str | None = None

    @property
    def read(self) -> int:
        return sum(f.read for f in self.files)

    @property
    def imported(self) -> int:
        return sum(f.imported for f in self.files)

    @property
    def refused(self) -> int:
        return sum(f.refused for f in self.files)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "imported_on": self.imported_on,
            "tool": self.tool,
            "dry_run": self.dry_run,
            "report": self.report_path,
            "commit": self.commit,
            "counts": {"read": self.read, "imported": self.imported, "refused": self.refused},
            "files": [f.to_json() for f in self.files],
        }


def _cell(text: str | None) -> str:
    """Legacy text inside a Markdown table cell: one line, no HTML, no column breaks."""
    if not text:
        return ""
    text = " ".join(text.split())
    for char, escaped in (("\\", "\\\\"), ("|", "\\|"), ("<", "&lt;"), (">", "&gt;")):
        text = text.replace(char, escaped)
    for char in "*_`[]#":
        text = text.replace(char, "\\" + char)
    return CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def render_markdown(report: ImportReport) -> str:
    lines = [
        f"# Gap analysis: import of legacy {report.kind} records",
        "",
        f"- Imported on: {report.imported_on}",
        f"- Tool: {report.tool}",
        f"- Rows or documents read: {report.read} = imported {report.imported} "
        f"+ not imported {report.refused}",
        "",
        "Every source row or document is listed with what became of it. Fields filled with "
        "template text (FILL IN …) are flagged by `qms validate` until completed; values that "
        "could look like patient identifiers are never repeated here.",
        "",
    ]
    for file in report.files:
        lines += [f"## {_cell(file.source)}", ""]
        lines.append(f"- SHA-256: `{file.sha256}`")
        if file.sheet:
            lines.append(f"- Sheet: {_cell(file.sheet)} (header in row {file.header_row})")
        elif file.header_row:
            lines.append(f"- Header in row {file.header_row}")
        if file.encoding:
            shown = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "bar"}
            lines.append(
                f"- Text: {file.encoding}, columns separated by "
                f"{shown.get(file.delimiter or '', file.delimiter)}"
            )
        if file.other_sheets:
            lines.append(
                "- Other sheets, not read: " + ", ".join(_cell(s) for s in file.other_sheets)
            )
        lines.append(
            f"- Read {file.read}: imported {file.imported}, not imported {file.refused}"
            + (
                f"; blank rows skipped: {', '.join(map(str, file.blank_rows))}"
                if file.blank_rows
                else ""
            )
        )
        lines.append("")
        if file.columns:
            lines += ["| Column | Field | Cells with a value | Note |", "| --- | --- | --- | --- |"]
            for column in file.columns:
                lines.append(
                    f"| {_cell(column.header) or '(no header)'} | "
                    f"{column.field or '**not imported**'} | {column.filled} | "
                    f"{_cell(column.note)} |"
                )
            lines.append("")
        lines += ["| Source | Legacy ID | Outcome | Gaps |", "| --- | --- | --- | --- |"]
        for outcome in file.outcomes:
            result = (
                f"imported as {outcome.record_id}"
                if outcome.imported
                else "**not imported**: " + "; ".join(_cell(r) for r in outcome.refused)
            )
            gaps = "<br>".join(
                f"{gap.kind}: " + (f"`{gap.field}` " if gap.field else "") + _cell(gap.message)
                for gap in outcome.gaps
            )
            lines.append(f"| {outcome.where()} | {_cell(outcome.legacy_id)} | {result} | {gaps} |")
        lines.append("")
    return "\n".join(lines)
