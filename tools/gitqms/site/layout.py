"""HTML pieces every generated page shares. Every value that comes from a record passes
`text()` (escaping) here; nothing in this module emits record text unescaped."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from ..audit.record_log import LogEntry
from ..lifecycle.due import Due
from ..reports.entries import SignatureLine
from .sanitise import text

Link = Callable[[str], str]  # a generated page's source path -> its URL, relative to this page

INBOXES = "inbox/index.md"  # what waits for whom: the index of everyone's inbox page


def inbox_uri(person_id: str) -> str:
    """The page of what waits for a person (person IDs are lower-case slugs: qms.schema.json)."""
    return f"inbox/{person_id}.md"


def heading(title: str) -> str:
    return f"<h1>{text(title)}</h1>"


def without_title(body: str) -> str:
    """A Markdown body without its leading '# Title' line: the page prints its own heading."""
    stripped = body.lstrip("\n")
    if stripped.startswith("# "):
        return stripped.partition("\n")[2]
    return body


@dataclass(frozen=True, kw_only=True)
class PageSpec:
    """One generated page: trusted HTML around an optional untrusted Markdown body."""

    uri: str  # where it lives in the site, e.g. "sops/SOP-0003.md"
    title: str  # plain text
    head: Callable[[Link], str]
    body: str | None = None  # Markdown from a record: rendered by MkDocs, then cleaned
    tail: Callable[[Link], str] = field(default=lambda link: "")
    listed: bool = False  # in the navigation (index pages) or reached by links only
    # In the search index. Registers (lists of other pages) and archived versions (not for use)
    # are left out, so a search leads staff to the records and the versions in force.
    searchable: bool = True


def day(value: date | None) -> str:
    return value.isoformat() if value else "—"


def moment(value: datetime) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC"


def badge(status: str) -> str:
    slug = "".join(c if c.isalnum() else "-" for c in status.lower())
    return f'<span class="qms-badge qms-badge-{text(slug)}">{text(status)}</span>'


def banner(kind: str, message: str) -> str:
    """A notice across the page; `message` is already escaped HTML."""
    return f'<div class="qms-banner qms-banner-{kind}" role="note">{message}</div>'


def facts(rows: Sequence[tuple[str, str]]) -> str:
    """A two-column table of label and (escaped) value."""
    cells = "".join(f'<tr><th scope="row">{text(k)}</th><td>{v}</td></tr>' for k, v in rows)
    return f'<table class="qms-facts"><tbody>{cells}</tbody></table>'


@dataclass(frozen=True)
class Row:
    """Cells of a table row (escaped HTML) with a CSS class for the row, e.g. overdue."""

    cells: Sequence[str]
    css: str = ""


def scroller(css: str, name: str, marker: str = "") -> str:
    """The opening of a wrapper that lets a wide table scroll sideways on a phone. It takes the
    keyboard focus (a region that scrolls must: WCAG 2.1.1), so it is a region with a name.
    `marker`: a bare data attribute a local script finds it by (`data-qms-register`)."""
    extra = f" {marker}" if marker else ""
    return (
        f'<div class="qms-scroll {css}" tabindex="0" role="region" '
        f'aria-label="{text(name)}"{extra}>'
    )


def scroll_tables(html: str) -> str:
    """Every table of a cleaned body (`sanitise.clean_body`) in a scroll wrapper of its own. The
    cleaner leaves its tags balanced and escapes '<' in text and attributes alike, so each
    '<table' left is a tag."""
    count = iter(range(1, html.count("<table") + 1))
    wrapped = re.sub(
        r"<table(?=[\s>])", lambda _: scroller("qms-prose", f"Table {next(count)}") + "<table", html
    )
    return wrapped.replace("</table>", "</table></div>")


def table(
    headings: Sequence[str],
    rows: Sequence[Sequence[str] | Row],
    css: str = "",
    name: str = "",
    *,
    labelled: bool = False,
) -> str:
    """A table in its scroll wrapper; `name` tells it from the page's other tables (screen
    readers list the wrappers as regions), else its headings name it. `labelled`: each cell
    carries its column's heading, so a narrow screen can stack a row as label and value (the
    style sheet's `.qms-stack`)."""
    head = "".join(f'<th scope="col">{text(h)}</th>' for h in headings)
    body = []
    for row in rows:
        cells, row_css = (row.cells, row.css) if isinstance(row, Row) else (row, "")
        attribute = f' class="{text(row_css)}"' if row_css else ""
        if labelled:
            cells = [
                f'<td data-label="{text(h)}"><span>{c}</span></td>'
                for h, c in zip(headings, cells, strict=True)
            ]
        else:
            cells = [f"<td>{c}</td>" for c in cells]
        body.append(f"<tr{attribute}>" + "".join(cells) + "</tr>")
    return (
        scroller(css, name or "Table: " + ", ".join(headings))
        + f"<table><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def link(href: str, label: str) -> str:
    return f'<a href="{text(href)}">{text(label)}</a>'


def person(people: Mapping[str, str], value: object, go: Link | None = None) -> str:
    """A person ID as their printed name (with the ID), else the value as written; with `go`,
    the name links to what waits for them."""
    if isinstance(value, str) and value in people:
        name = link(go(inbox_uri(value)), people[value]) if go else text(people[value])
        return f"{name} <small>({text(value)})</small>"
    return text(value) if value not in (None, "") else "—"


def signature_block(lines: Sequence[SignatureLine], title: str = "Signatures") -> str:
    if not lines:
        return (
            f'<section class="qms-signatures"><h2>{text(title)}</h2><p>No signatures.</p></section>'
        )
    rows = [
        Row(
            [
                text(line.name),
                text(line.role or "—"),
                text(line.meaning),
                f'<time datetime="{line.when.isoformat()}">{moment(line.when)}</time>',
                badge(line.verdict.split(":")[0]) + _why(line.verdict),
                text(line.reason or "—"),
                f"<code>{text(line.commit[:12])}</code>",
            ],
            "" if line.verdict == "valid" else "qms-invalid",
        )
        for line in lines
    ]
    return (
        f'<section class="qms-signatures" aria-label="{text(title)}"><h2>{text(title)}</h2>'
        + table(
            ["Printed name", "Role", "Meaning", "Date and time", "Verdict", "Reason", "Commit"],
            rows,
            "qms-stack",
            labelled=True,
        )
        + "</section>"
    )


def _why(verdict: str) -> str:
    _, _, why = verdict.partition(": ")
    return f"<br><small>{text(why)}</small>" if why else ""


# Searching trails finds every commit message again: left out of the search index. The plugin
# sets sections opening like this aside until the search plugin has read the page; such a
# section holds no other section.
UNSEARCHED = '<section class="qms-trail" data-search-exclude>'


def trail(entries: Sequence[LogEntry]) -> str:
    rows = [
        Row(
            [
                moment(entry.when),
                text(entry.name),
                text(entry.action),
                text(entry.reason or "—"),
                text(entry.summary),
                text(entry.verdict),
                f"<code>{text(entry.commit[:12])}</code>",
            ],
            "qms-invalid" if entry.verdict.startswith("invalid") else "",
        )
        for entry in entries
    ]
    return (
        UNSEARCHED
        + "<h2>Audit trail</h2>"
        + (
            table(["When", "Who", "What", "Reason", "Change", "Signature", "Commit"], rows)
            if rows
            else "<p>No commits.</p>"
        )
        + "</section>"
    )


def due_rows(
    items: Sequence[Due],
    people: Mapping[str, str],
    record_link: Link | None,
    go: Link | None = None,
) -> str:
    """Due items with their owners (with `go`, each owner links to what waits for them)."""
    rows = [
        Row(
            [
                (badge("overdue") if item.overdue else "") + text(day(item.due)),
                record_link(item.record) if record_link else text(item.record),
                text(item.what)
                + (f"<br><small>{text(item.detail)}</small>" if item.detail else ""),
                person(people, item.owner, go),
            ],
            "qms-overdue" if item.overdue else "",
        )
        for item in items
    ]
    return table(["Due", "Record", "What", "Owner"], rows) if rows else "<p>Nothing due.</p>"
