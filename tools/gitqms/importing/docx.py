"""A legacy SOP (.docx) read as metadata and a Markdown body.

Metadata comes from the document's core properties, a header table of label/value cells, the
page header, or labelled paragraphs ("Document No.: SOP-QA-012") above the first heading. The
body keeps headings, numbered and bulleted lists (with their levels) and tables.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

from ..errors import QmsError
from .fields import normalise
from .sources import Source

LABELS: dict[str, tuple[str, ...]] = {
    "legacy_id": (
        "document no",
        "document number",
        "doc no",
        "document id",
        "sop no",
        "sop number",
        "sop id",
        "doc id",
        "reference",
    ),
    "title": ("title", "document title", "sop title"),
    "version": ("version", "revision", "rev", "issue", "version no", "version number"),
    "effective_date": (
        "effective date",
        "effective from",
        "valid from",
        "effective",
        "date effective",
    ),
    "owner": ("owner", "document owner", "sop owner", "process owner", "responsible"),
    "author": ("author", "prepared by", "written by"),
    "area": ("area", "department", "unit", "scope area"),
    "review_period": ("review period", "review interval", "review cycle", "periodic review"),
    "change_control": ("change control", "change control no", "cc no", "change request"),
    "change_reason": (
        "reason for change",
        "change reason",
        "reason for revision",
        "revision reason",
    ),
    "audience": ("training audience", "audience", "distribution", "training"),
    "supersedes": ("supersedes", "replaces"),
    "approved": ("approved by", "approval", "approver", "released by"),
    "reviewed": ("reviewed by", "reviewer", "checked by"),
    "approved_on": ("approval date", "date approved", "approved on", "date of approval"),
}
_BY_LABEL = {normalise(w): key for key, words in LABELS.items() for w in words}
_LABELLED = re.compile(r"^\s*([A-Za-z][A-Za-z .()/#-]{1,40}?)\s*[:：]\s*(.+?)\s*$")
MAX_PARAGRAPHS = 20_000


@dataclass
class LegacySop:
    fields: dict[str, str] = field(default_factory=dict)  # label key -> value as written
    where: dict[str, str] = field(default_factory=dict)  # label key -> where it was found
    body: str = ""
    headings: int = 0
    list_items: int = 0
    tables: int = 0


def _label(text: str) -> str | None:
    return _BY_LABEL.get(normalise(text))


def read_docx(source: Source) -> LegacySop:
    import docx  # loaded only when an SOP is imported

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            document = docx.Document(io.BytesIO(source.data))
    except Exception as error:  # python-docx raises many kinds on a damaged package
        raise QmsError(
            f"{source.path}: not a readable Word document ({type(error).__name__})",
            hint="open it in Word and save it again as .docx",
        ) from None
    sop = LegacySop()
    props = document.core_properties
    for key, value in (("title", props.title), ("author", props.author)):
        if value and value.strip():
            sop.fields.setdefault(key, value.strip())
            sop.where.setdefault(key, "document properties")
    for section in document.sections[:1]:
        for paragraph in section.header.paragraphs:
            _labelled(sop, paragraph.text, "page header")
        for table in section.header.tables:
            _header_table(sop, table, "page header table")
    _body(sop, document)
    return sop


def _labelled(sop: LegacySop, text: str, where: str) -> bool:
    match = _LABELLED.match(text)
    if not match:
        return False
    key = _label(match.group(1))
    if key is None:
        return False
    sop.fields.setdefault(key, match.group(2))
    sop.where.setdefault(key, where)
    return True


def _header_table(sop: LegacySop, table: Any, where: str) -> bool:
    """A table of label/value cell pairs; True when it held metadata (and is not body)."""
    found = 0
    for row in table.rows:
        cells = [" ".join(cell.text.split()) for cell in row.cells]
        unique = [c for i, c in enumerate(cells) if i == 0 or c != cells[i - 1]]  # merged
        for index in range(0, len(unique) - 1, 2):
            key = _label(unique[index].rstrip(":"))
            if key is not None and unique[index + 1]:
                sop.fields.setdefault(key, unique[index + 1])
                sop.where.setdefault(key, where)
                found += 1
    return found >= 2


def _style(paragraph: Any) -> str:
    try:
        return str(paragraph.style.name or "")
    except (AttributeError, KeyError, ValueError):
        return ""


def _list_level(paragraph: Any) -> tuple[str | None, int]:
    """('number' | 'bullet' | None, level) from the paragraph's style or numbering."""
    style = _style(paragraph).lower()
    level = 0
    ppr = paragraph._p.pPr
    numbered = ppr is not None and ppr.numPr is not None
    if numbered and ppr.numPr.ilvl is not None and ppr.numPr.ilvl.val is not None:
        level = int(ppr.numPr.ilvl.val)
    match = re.search(r"(\d+)$", style)
    if match and style.startswith("list"):
        level = max(level, int(match.group(1)) - 1)
    if style.startswith("list number"):
        return "number", level
    if style.startswith("list bullet") or style.startswith("list paragraph") or numbered:
        return "bullet", level
    return None, 0


def _inline(paragraph: Any) -> str:
    parts = []
    runs = (  # the text of a hyperlink is text of the paragraph (its address is not kept)
        run
        for item in paragraph.iter_inner_content()
        for run in (item.runs if hasattr(item, "url") else [item])
    )
    for run in runs:
        text = run.text
        if not text:
            continue
        if run.bold and text.strip():
            text = f"**{text.strip()}** " if text.endswith(" ") else f"**{text.strip()}**"
        parts.append(text)
    return " ".join("".join(parts).split())


def _table_markdown(table: Any) -> list[str]:
    rows = []
    for row in table.rows:
        cells = [" ".join(cell.text.split()).replace("|", "\\|") for cell in row.cells]
        rows.append(cells)
    if not rows:
        return []
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + " --- |" * width]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return lines


def _body(sop: LegacySop, document: Any) -> None:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    lines: list[str] = []
    counters: dict[int, int] = {}
    seen_heading = False
    previous = "blank"
    for count, element in enumerate(document.element.body.iterchildren()):
        if count > MAX_PARAGRAPHS:
            raise QmsError(f"more than {MAX_PARAGRAPHS} paragraphs; this is not one SOP")
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "tbl":
            table = Table(element, document)
            if not seen_heading and _header_table(sop, table, "header table"):
                continue
            if previous != "blank":
                lines.append("")
            lines += _table_markdown(table)
            lines.append("")
            sop.tables += 1
            previous = "blank"
            continue
        if tag != "p":
            continue
        paragraph = Paragraph(element, document)
        text = _inline(paragraph)
        if not text:
            continue
        style = _style(paragraph).lower()
        if style == "title":
            sop.fields.setdefault("title", " ".join(paragraph.text.split()))
            sop.where.setdefault("title", "title paragraph")
            continue
        if not seen_heading and _labelled(sop, paragraph.text, "labelled paragraph"):
            continue
        heading = re.fullmatch(r"heading (\d)", style)
        if heading:
            seen_heading = True
            level = min(int(heading.group(1)) + 1, 6)  # '#' is the page title
            if previous != "blank":
                lines.append("")
            lines += ["#" * level + " " + text.replace("*", ""), ""]
            sop.headings += 1
            counters.clear()
            previous = "blank"
            continue
        kind, level = _list_level(paragraph)
        if kind is not None:
            if previous == "text":
                lines.append("")
            counters = {k: v for k, v in counters.items() if k <= level}
            counters[level] = counters.get(level, 0) + 1
            marker = f"{counters[level]}." if kind == "number" else "-"
            lines.append("    " * level + f"{marker} {text}")
            sop.list_items += 1
            previous = "list"
            continue
        if previous == "list":
            lines.append("")
            counters.clear()
        lines += [_escape_start(text), ""]
        previous = "blank"
    sop.body = "\n".join(lines).strip() + "\n"


def _escape_start(text: str) -> str:
    """A plain paragraph that would read as Markdown structure (a list, a heading) stays text."""
    if re.match(r"^(\d+[.)]\s|[-+*#>]\s|=+$|-{3,}$)", text):
        return "\\" + text
    return text
