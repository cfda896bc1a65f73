"""The registers of the record kinds that declare one (CAPA, deviation, …): paginated index pages
(registers.py), and a page per record laid out as its kind declares (record_page.py)."""

from __future__ import annotations

from functools import partial

from ..records.kinds import Kind, kind_of_id
from ..reports.entries import RecordEntry
from ..reports.publication import Publication
from .layout import Link, PageSpec
from .record_page import record_html
from .registers import PAGE_SIZE, register_html, register_uri
from .sop_pages import record_uri, sop_uri
from .values import Shown, zone

__all__ = ["PAGE_SIZE", "published_ids", "record_pages", "register_uri", "registered"]


def registered(publication: Publication) -> list[Kind]:
    """The kinds with a register: every record kind in force whose declaration has `register`."""
    return [
        k for k in publication.kinds.kinds if not k.is_document and k.declared.register is not None
    ]


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


def _register(
    publication: Publication,
    kind: Kind,
    records: list[RecordEntry],
    number: int,
    total: int,
    go: Link,
) -> str:
    return register_html(publication, kind, records, number, total, lambda i: go(record_uri(i)), go)


def _record_page(
    publication: Publication, known: set[str], kind: Kind, record: RecordEntry
) -> PageSpec:
    return PageSpec(
        uri=record_uri(record.id),
        title=f"{record.id} {record.title}",
        head=partial(_record, publication, known, kind, record),
    )


def _record(
    publication: Publication, known: set[str], kind: Kind, record: RecordEntry, go: Link
) -> str:
    def linked(other: str) -> str | None:
        return go(_uri(other)) if other in known else None

    declared = kind.declared
    shown = Shown(
        people=publication.people,
        zone=zone(publication.time_zone),
        person_paths=frozenset(p.text.removeprefix("/") for p in declared.people),
        record_paths=frozenset(p.text.removeprefix("/") for p in declared.references),
        record_link=linked,
    )
    return record_html(record, kind, shown, linked, go)


def _uri(record_id: str) -> str:
    """A linked record's page: a document's by its kind, any other record's in its register."""
    kind = kind_of_id(record_id)
    return sop_uri(record_id) if kind is not None and kind.is_document else record_uri(record_id)


def published_ids(publication: Publication) -> set[str]:
    """The records that have a page: documents with a version to show, and every record."""
    shown = {s.id for s in publication.sops if s.current or s.upcoming or publication.drafts}
    return shown | {r.id for r in publication.records if r.kind in publication.kinds.by_name}
