"""The controlled documents of every document kind (SOPs, work instructions, forms, policies,
documents of external origin): an index by kind and area, one page per document showing the
version in force with its signature block, a page per approved version not yet in force (to
train on), an archive of superseded and obsolete versions, each clearly marked, and a
comparison page per version that replaces another (changes_pages.py). The pages' headers and
foots are in document_heads.py, their addresses in document_uris.py."""

from __future__ import annotations

from functools import partial

from ..records.declaration import Column
from ..records.kinds import KINDS, Kind, kind_of_id
from ..reports.changes import predecessors
from ..reports.entries import PublishedVersion, SopEntry
from ..reports.publication import Publication
from .changes_pages import changes_page
from .document_heads import (
    archived_head,
    archived_tail,
    sop_head,
    sop_tail,
    upcoming_head,
    upcoming_tail,
)
from .document_uris import (
    ARCHIVE,
    INDEX,
    NOT_IN_FORCE,
    WHATS_NEW,
    archive_uri,
    changes_uri,
    download_link,
    pdf_uri,
    record_uri,
    sop_uri,
    upcoming_uri,
)
from .layout import Link, PageSpec, Row, badge, day, link, table
from .sanitise import text

__all__ = [
    "WHATS_NEW",
    "archive_uri",
    "changes_uri",
    "download_link",
    "pdf_uri",
    "record_uri",
    "sop_pages",
    "sop_uri",
    "upcoming_uri",
]


def sop_pages(publication: Publication, *, pdfs: bool = False) -> list[PageSpec]:
    """The documents' pages; `pdfs`: each version in force or about to be links to its PDF."""
    pages = [
        PageSpec(uri=INDEX, title="Procedures", head=partial(_index, publication), listed=True),
        PageSpec(
            uri=ARCHIVE, title="Archive", head=partial(_archive_index, publication), listed=True
        ),
    ]
    before = predecessors(publication.sops)  # (document, version) -> the one it takes over from
    for sop in publication.sops:
        shown = _shown(sop, publication.drafts)
        if shown is not None or sop.upcoming is not None:
            pages.append(
                PageSpec(
                    uri=sop_uri(sop.id),
                    title=f"{sop.id} {sop.title}",
                    head=partial(sop_head, publication, sop, shown, before, pdfs=pdfs),
                    body=shown.body if shown is not None else None,
                    tail=partial(sop_tail, publication, sop, shown, before),
                )
            )
        if sop.upcoming is not None:
            version = sop.upcoming
            pages.append(
                PageSpec(
                    uri=upcoming_uri(sop.id, version.version),
                    title=f"{sop.id} v{version.version} ({NOT_IN_FORCE})",
                    head=partial(upcoming_head, publication, sop, version, before, pdfs=pdfs),
                    body=version.body,
                    tail=partial(upcoming_tail, version),
                    searchable=False,  # a search must lead staff to versions in force only
                )
            )
        for version in sop.archive:
            pages.append(
                PageSpec(
                    uri=archive_uri(sop.id, version.version),
                    title=f"{sop.id} v{version.version} ({version.status})",
                    head=partial(archived_head, sop, version, before),
                    body=version.body,
                    tail=partial(archived_tail, version),
                    searchable=False,
                )
            )
        for version in sop.revisions:  # each approved version: what changed in it
            if (sop.id, version.version) in before:
                old_id, old = before[(sop.id, version.version)]
                pages.append(changes_page(publication, sop, version, old_id, old))
    return pages


def _shown(sop: SopEntry, drafts: bool) -> PublishedVersion | None:
    """What the SOP's page shows: its draft in a preview, else the version in force (or, when
    obsolete, the last one). An approved version not yet in force has a page of its own."""
    if drafts and sop.draft is not None:
        return sop.draft
    return sop.current


def _index(publication: Publication, go: Link) -> str:
    in_force = [s for s in publication.sops if s.status == "effective" and s.current]
    parts = [
        f"<p>Documents in force on <strong>{day(publication.on)}</strong>: "
        f"{len(in_force)}. Each page shows the approved text with its signatures. "
        f"{link(go(WHATS_NEW), 'What is new')}: what came into force, was revised or retired "
        "lately, and what comes into force soon, for each training audience.</p>"
    ]
    for kind, documents in _by_kind(in_force):
        parts.append(_kind_section(publication, kind, documents, go))
    coming = [s for s in publication.sops if s.upcoming is not None]
    if coming:
        parts.append("<h2>Approved, not yet effective</h2>")
        parts.append(
            table(
                ["ID", "Title", "Version", "Effective from", "Replaces"],
                [
                    [
                        link(go(sop_uri(s.id)), s.id),
                        text(s.title),
                        link(
                            go(upcoming_uri(s.id, s.upcoming.version)),
                            f"v{s.upcoming.version} ({NOT_IN_FORCE})",
                        ),
                        day(s.upcoming.effective_from),
                        text(f"v{s.current.version}" if s.current else "—"),
                    ]
                    for s in coming
                    if s.upcoming
                ],
            )
        )
    if publication.drafts:
        drafts = [s for s in publication.sops if s.draft is not None]
        parts.append("<h2>Drafts and versions in review (preview only)</h2>")
        parts.append(
            table(
                ["ID", "Title", "Version", "Status"],
                [
                    [
                        link(go(sop_uri(s.id)), s.id),
                        text(s.title),
                        text(s.draft.version),
                        badge(s.draft.status),
                    ]
                    for s in drafts
                    if s.draft
                ],
            )
        )
    parts.append(
        f"<p>Superseded and obsolete versions are kept in the {link(go(ARCHIVE), 'archive')}.</p>"
    )
    return "".join(parts)


def _by_kind(entries: list[SopEntry]) -> list[tuple[Kind, list[SopEntry]]]:
    """The documents grouped by their kind, in the order the kinds are declared."""
    grouped: dict[str, list[SopEntry]] = {}
    for entry in entries:
        kind = kind_of_id(entry.id)
        grouped.setdefault(kind.name if kind is not None else "", []).append(entry)
    return [(kind, grouped[kind.name]) for kind in KINDS if kind.name in grouped]


def _kind_section(publication: Publication, kind: Kind, documents: list[SopEntry], go: Link) -> str:
    """One kind's documents in force under its register title, by area, with the columns its
    register declares (an external document's issuer and issue)."""
    title = kind.declared.register.title if kind.declared.register else kind.label
    columns = kind.declared.register.columns if kind.declared.register else ()
    parts = [f"<h2>{text(title)}</h2>"]
    by_area: dict[str, list[SopEntry]] = {}
    for sop in documents:
        by_area.setdefault(sop.area or "other", []).append(sop)
    for area in sorted(by_area):
        area_name = publication.areas.get(area, area)
        parts.append(f"<h3>{text(area_name)}</h3>")
        rows = [
            Row(
                [
                    link(go(sop_uri(s.id)), s.id),
                    link(go(sop_uri(s.id)), s.title),
                    text(s.current.version if s.current else ""),
                    *(text(_column(column, s)) for column in columns),
                    day(s.current.effective_from if s.current else None),
                    day(s.next_review),
                    text(s.owner or "—"),
                ],
                "qms-overdue" if s.next_review and s.next_review < publication.on else "",
            )
            for s in by_area[area]
        ]
        labels = [column.label for column in columns]
        header = ["ID", "Title", "Version", *labels, "Effective from", "Next review", "Owner"]
        parts.append(table(header, rows, name=f"{title}: {area_name}"))
    return "".join(parts)


def _column(column: Column, entry: SopEntry) -> str:
    fields = entry.current.fields if entry.current else {}
    for path in column.fields:
        value = path.first(fields)
        if value not in (None, "", [], {}):
            return str(value)
    return "—"


def _archive_index(publication: Publication, go: Link) -> str:
    rows = [
        [
            link(go(archive_uri(s.id, v.version)), f"{s.id} v{v.version}"),
            text(s.title),
            badge(v.status),
            day(v.effective_from),
            day(v.until),
        ]
        for s in publication.sops
        for v in s.archive
    ]
    return (
        "<p>Versions no longer in force, kept for reference and inspection. "
        "<strong>Not for use.</strong></p>"
        + (
            table(["Version", "Title", "Status", "In force from", "Until"], rows)
            if rows
            else "<p>None.</p>"
        )
    )
