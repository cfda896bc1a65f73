"""The registers of the record kinds that declare one (CAPA, deviation, …): paginated index pages
with the declared columns, and a page per record with its fields, what is due, the records it
names and its audit trail."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from ..records.declaration import Column
from ..records.kinds import Kind, kind_of_id
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
_HEADER_FIELDS = ("id", "title", "state", "owner")


def registered(publication: Publication) -> list[Kind]:
    """The kinds with a register: every record kind in force whose declaration has `register`."""
    return [
        k for k in publication.kinds.kinds if not k.is_document and k.declared.register is not None
    ]


def register_uri(kind: Kind, page: int = 1) -> str:
    return f"{kind.folder}/index.md" if page == 1 else f"{kind.folder}/page-{page}.md"


def record_pages(publication: Publication) -> list[PageSpec]:
    """The registers, each with the pages of its records; then the pages of published records
    of kinds without a register (reached by links)."""
    pages: list[PageSpec] = []
    known = published_ids(publication)  # the records a page may link to: once, not once per link
    kinds = registered(publication)
    for kind in kinds:
        assert kind.declared.register is not None
        title = kind.declared.register.title
        records = sorted(publication.of_kind(kind.name), key=lambda r: r.id, reverse=True)
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
        pages += [_record_page(publication, known, kind, record) for record in records]
    names = {kind.name for kind in kinds}
    for record in sorted(publication.records, key=lambda r: r.id, reverse=True):
        other = publication.kinds.by_name.get(record.kind)
        if other is not None and record.kind not in names:
            pages.append(_record_page(publication, known, other, record))
    return pages


def _record_page(
    publication: Publication, known: set[str], kind: Kind, record: RecordEntry
) -> PageSpec:
    return PageSpec(
        uri=record_uri(record.id),
        title=f"{record.id} {record.title}",
        head=partial(_record, publication, known, kind, record),
    )


def _register(
    publication: Publication,
    kind: Kind,
    records: Sequence[RecordEntry],
    number: int,
    total: int,
    go: Link,
) -> str:
    people = publication.people
    assert kind.declared.register is not None
    columns = kind.declared.register.columns
    rows = []
    for record in records:
        next_due = min((d for d in record.due), key=lambda d: d.due, default=None)
        rows.append(
            Row(
                [
                    link(go(record_uri(record.id)), record.id),
                    text(record.title),
                    badge(record.state),
                    *(text(_column(column, record.fields)) for column in columns),
                    person(people, _owner(kind, record.fields)),
                    (badge("overdue") if record.overdue else "")
                    + (text(f"{day(next_due.due)}: {next_due.what}") if next_due else "—"),
                ],
                "qms-overdue" if record.overdue else "",
            )
        )
    labels = [column.label for column in columns]
    of_kind = publication.of_kind(kind.name)
    open_count = sum(1 for r in of_kind if r.due)
    parts = [
        f"<p>{len(of_kind)} records as committed on {day(publication.on)}; "
        f"{open_count} with open items; "
        f"{sum(1 for r in of_kind if r.overdue)} overdue.</p>",
        table(["ID", "Title", "State", *labels, "Owner", "Next due"], rows),
    ]
    if total > 1:
        pages = [
            f"<strong>{n}</strong>" if n == number else link(go(register_uri(kind, n)), str(n))
            for n in range(1, total + 1)
        ]
        parts.append(f'<nav class="qms-pages" aria-label="Pages">Page {" ".join(pages)}</nav>')
    return "".join(parts)


def _column(column: Column, fields: Mapping[str, Any]) -> str:
    """A register cell: the values of the first of the column's fields that holds one."""
    for path in column.fields:
        found = [value for _, value in path.found(dict(fields))]
        items = [v for value in found for v in (value if isinstance(value, list) else [value])]
        values = [str(item) for item in items if item]
        if values:
            return ", ".join(values)
    return "—"


def _owner(kind: Kind, fields: Mapping[str, Any]) -> Any:
    path = kind.declared.fields.owner
    return path.first(dict(fields)) if path is not None else None


def _record(
    publication: Publication, known: set[str], kind: Kind, record: RecordEntry, go: Link
) -> str:
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
                ("Owner", person(people, _owner(kind, record.fields))),
            ]
        )
    )
    parts.append("<h2>What is due</h2>" + due_rows(record.due, people, None, go))
    links = [link(go(_uri(other)), other) for other in record.links if other in known]
    parts.append(
        "<h2>Linked records</h2>" + (f"<p>{', '.join(links)}</p>" if links else "<p>None.</p>")
    )
    fields = {k: v for k, v in record.fields.items() if k not in _HEADER_FIELDS}
    parts.append("<h2>Record</h2>" + value_html(fields, people))
    parts.append(trail(record.trail))
    return "".join(parts)


def _uri(record_id: str) -> str:
    """A linked record's page: a document's by its kind, any other record's in its register."""
    kind = kind_of_id(record_id)
    return sop_uri(record_id) if kind is not None and kind.is_document else record_uri(record_id)


def published_ids(publication: Publication) -> set[str]:
    """The records that have a page: documents with a version to show, and every record."""
    shown = {s.id for s in publication.sops if s.current or s.upcoming or publication.drafts}
    return shown | {r.id for r in publication.records if r.kind in publication.kinds.by_name}
