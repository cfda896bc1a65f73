"""The CAPA and deviation registers: paginated index pages per area, and a page per record with
its fields, what is due, the records it names and its audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from ..reports.entries import RecordEntry
from ..reports.publication import Publication
from .layout import (
    Link,
    PageSpec,
    Row,
    badge,
    banner,
    day,
    due_rows,
    facts,
    link,
    person,
    table,
    trail,
    value_html,
)
from .sanitise import text
from .sop_pages import record_uri, sop_uri

PAGE_SIZE = 200  # rows per register page: thousands of records stay out of the navigation
_KINDS = {"capa": ("capa", "CAPA register"), "deviation": ("deviations", "Deviation register")}
_HEADER_FIELDS = ("id", "title", "state", "owner")


def register_uri(kind: str, page: int = 1) -> str:
    folder = _KINDS[kind][0]
    return f"{folder}/index.md" if page == 1 else f"{folder}/page-{page}.md"


def record_pages(publication: Publication) -> list[PageSpec]:
    pages: list[PageSpec] = []
    known = _known(publication)  # the records a page may link to: once, not once per link
    for kind, (_, title) in _KINDS.items():
        records = sorted(publication.of_kind(kind), key=lambda r: r.id, reverse=True)
        chunks = [records[i : i + PAGE_SIZE] for i in range(0, len(records), PAGE_SIZE)] or [[]]
        for number, chunk in enumerate(chunks, start=1):
            pages.append(
                PageSpec(
                    uri=register_uri(kind, number),
                    title=title if number == 1 else f"{title}, page {number}",
                    head=partial(_register, publication, kind, chunk, number, len(chunks)),
                    listed=number == 1,
                    searchable=False,
                )
            )
        for record in records:
            pages.append(
                PageSpec(
                    uri=record_uri(record.id),
                    title=f"{record.id} {record.title}",
                    head=partial(_record, publication, known, record),
                )
            )
    return pages


def _register(
    publication: Publication,
    kind: str,
    records: Sequence[RecordEntry],
    number: int,
    total: int,
    go: Link,
) -> str:
    people = publication.people
    rows = []
    for record in records:
        next_due = min((d for d in record.due), key=lambda d: d.due, default=None)
        classification = record.fields.get("classification")
        level = classification.get("level") if isinstance(classification, dict) else None
        rows.append(
            Row(
                [
                    link(go(record_uri(record.id)), record.id),
                    text(record.title),
                    badge(record.state),
                    text(level or record.fields.get("type") or "—")
                    if kind == "deviation"
                    else text(_source(record)),
                    person(people, record.fields.get("owner")),
                    (badge("overdue") if record.overdue else "")
                    + (text(f"{day(next_due.due)}: {next_due.what}") if next_due else "—"),
                ],
                "qms-overdue" if record.overdue else "",
            )
        )
    third = "Classification" if kind == "deviation" else "Source"
    open_count = sum(1 for r in publication.of_kind(kind) if r.due)
    parts = [
        f"<p>{len(publication.of_kind(kind))} records as committed on {day(publication.on)}; "
        f"{open_count} with open items; "
        f"{sum(1 for r in publication.of_kind(kind) if r.overdue)} overdue.</p>",
        table(["ID", "Title", "State", third, "Owner", "Next due"], rows),
    ]
    if total > 1:
        pages = [
            f"<strong>{n}</strong>" if n == number else link(go(register_uri(kind, n)), str(n))
            for n in range(1, total + 1)
        ]
        parts.append(f'<nav class="qms-pages" aria-label="Pages">Page {" ".join(pages)}</nav>')
    return "".join(parts)


def _source(record: RecordEntry) -> str:
    source = record.fields.get("source")
    if isinstance(source, dict):
        return str(source.get("type") or "—")
    return "—"


def _record(publication: Publication, known: set[str], record: RecordEntry, go: Link) -> str:
    people = publication.people
    parts = []
    if record.overdue:
        parts.append(
            banner("overdue", "<strong>Overdue:</strong> an item below is past its due date.")
        )
    for note in record.notes:
        parts.append(banner("warning", text(note)))
    parts.append(
        facts(
            [
                ("Record", f"<strong>{text(record.id)}</strong>"),
                ("Title", text(record.title)),
                ("State", badge(record.state)),
                ("Last signed state", text(record.signed_state or "—")),
                ("Owner", person(people, record.fields.get("owner"))),
            ]
        )
    )
    parts.append("<h2>What is due</h2>" + due_rows(record.due, people, None))
    links = [
        link(go(sop_uri(other) if other.startswith("SOP-") else record_uri(other)), other)
        for other in record.links
        if other in known
    ]
    parts.append(
        "<h2>Linked records</h2>" + (f"<p>{', '.join(links)}</p>" if links else "<p>None.</p>")
    )
    fields = {k: v for k, v in record.fields.items() if k not in _HEADER_FIELDS}
    parts.append("<h2>Record</h2>" + value_html(fields, people))
    parts.append(trail(record.trail))
    return "".join(parts)


def _known(publication: Publication) -> set[str]:
    shown = {s.id for s in publication.sops if s.current or s.upcoming or publication.drafts}
    return shown | {r.id for r in publication.records}
