"""The controlled documents of every document kind (SOPs, work instructions, forms, policies,
documents of external origin): an index by kind and area, one page per document showing the
version in force with its signature block, a page per approved version not yet in force (to
train on) and an archive of superseded and obsolete versions, each clearly marked."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from ..records.declaration import Column
from ..records.kinds import KINDS, Kind, kind_of_id
from ..reports.entries import PublishedVersion, SopEntry
from ..reports.publication import Publication
from .layout import (
    Link,
    PageSpec,
    Row,
    badge,
    banner,
    day,
    facts,
    link,
    person,
    signature_block,
    table,
    trail,
)
from .sanitise import text

INDEX = "sops/index.md"
NOT_IN_FORCE = "not yet in force"
NOT_IN_FORCE_STATUS = "approved, not yet in force"
ARCHIVE = "archive/index.md"


def record_uri(record_id: str) -> str:
    """The page of any record or document: in the folder of its kind, as in the repository."""
    kind = kind_of_id(record_id)
    return f"{kind.folder if kind is not None else 'records'}/{record_id}.md"


def sop_uri(record_id: str) -> str:
    """The page of a document of any document kind (its version in force)."""
    return record_uri(record_id)


def archive_uri(record_id: str, version: int) -> str:
    return f"archive/{record_id}-v{version}.md"


def upcoming_uri(record_id: str, version: int) -> str:
    return f"upcoming/{record_id}-v{version}.md"


def pdf_uri(record_id: str, version: int) -> str:
    """A version's PDF download (`qms build --pdfs`)."""
    return f"pdf/{record_id}-v{version}.pdf"


def download_link(record_id: str, version: PublishedVersion) -> str:
    """The link from a document's page (one folder deep: `sops/…`, `upcoming/…`) to its PDF."""
    href = "../" + pdf_uri(record_id, version.version)
    return (
        f'<p class="qms-download"><a href="{text(href)}" download>Download PDF '
        f"(uncontrolled copy) of {text(record_id)} v{version.version}</a></p>"
    )


def sop_pages(publication: Publication, *, pdfs: bool = False) -> list[PageSpec]:
    """The documents' pages; `pdfs`: each version in force or about to be links to its PDF."""
    pages = [
        PageSpec(uri=INDEX, title="Procedures", head=partial(_index, publication), listed=True),
        PageSpec(
            uri=ARCHIVE, title="Archive", head=partial(_archive_index, publication), listed=True
        ),
    ]
    for sop in publication.sops:
        shown = _shown(sop, publication.drafts)
        if shown is not None or sop.upcoming is not None:
            pages.append(
                PageSpec(
                    uri=sop_uri(sop.id),
                    title=f"{sop.id} {sop.title}",
                    head=partial(_sop_head, publication, sop, shown, pdfs=pdfs),
                    body=shown.body if shown is not None else None,
                    tail=partial(_sop_tail, publication, sop, shown),
                )
            )
        if sop.upcoming is not None:
            version = sop.upcoming
            pages.append(
                PageSpec(
                    uri=upcoming_uri(sop.id, version.version),
                    title=f"{sop.id} v{version.version} ({NOT_IN_FORCE})",
                    head=partial(_upcoming_head, publication, sop, version, pdfs=pdfs),
                    body=version.body,
                    tail=partial(_upcoming_tail, version),
                    searchable=False,  # a search must lead staff to versions in force only
                )
            )
        for version in sop.archive:
            pages.append(
                PageSpec(
                    uri=archive_uri(sop.id, version.version),
                    title=f"{sop.id} v{version.version} ({version.status})",
                    head=partial(_archived_head, sop, version),
                    body=version.body,
                    tail=partial(_archived_tail, version),
                    searchable=False,
                )
            )
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
        f"{len(in_force)}. Each page shows the approved text with its signatures.</p>"
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


def _sop_head(
    publication: Publication,
    sop: SopEntry,
    shown: PublishedVersion | None,
    go: Link,
    *,
    pdfs: bool = False,
) -> str:
    """The banner and facts of the SOP's page; with nothing `shown` (no version in force yet),
    the facts of the approved upcoming version and a banner leading to its page."""
    described = shown or sop.upcoming
    assert described is not None
    fields = described.fields
    parts = [_sop_banner(sop, shown, go)]
    in_force = shown is not None and shown is sop.current
    parts.append(
        facts(
            [
                ("Document", f"<strong>{text(sop.id)}</strong>"),
                ("Title", text(sop.title)),
                ("Version", text(described.version)),
                ("Status", badge(sop.status if in_force or shown is None else described.status)),
                ("Effective from", day(described.effective_from)),
                ("Owner", person(publication.people, fields.get("owner"))),
                ("Area", text(publication.areas.get(str(fields.get("area")), fields.get("area")))),
                ("Next review", day(sop.next_review) if in_force else "—"),
                ("Change control", text(fields.get("change_control") or "—")),
                *_trained(publication, sop, described),
                *_origin(fields),
            ]
        )
    )
    if pdfs and in_force and shown is not None and shown.status == "effective":
        parts.append(download_link(sop.id, shown))
    return '<div class="qms-document-header">' + "".join(parts) + "</div>"


def _trained(
    publication: Publication, sop: SopEntry, version: PublishedVersion
) -> list[tuple[str, str]]:
    """'41 of 45 trained on version 3' where the version requires anyone's training."""
    matrix = publication.training
    tally = matrix.tally_of(sop.id, version.version) if matrix is not None else None
    if tally is None:
        return []
    overdue = f", {tally.overdue} overdue" if tally.overdue else ""
    counted = f"{tally.trained} of {tally.required} trained on version {version.version}"
    return [("Training", text(counted + overdue))]


# The identification of a document of external origin, where its fields hold it.
_ORIGIN = (
    ("Issuer", "issuer"),
    ("Product", "product"),
    ("Issuer's document", "external_id"),
    ("Issuer's version", "external_version"),
    ("Issued on", "issued_on"),
    ("Received on", "received_on"),
)


def _origin(fields: Mapping[str, object]) -> list[tuple[str, str]]:
    found = [(label, text(fields[key])) for label, key in _ORIGIN if fields.get(key)]
    attachment = fields.get("attachment")
    if isinstance(attachment, Mapping) and attachment.get("file"):
        found.append(
            ("Attachment", text(f"{attachment['file']} (SHA-256 {attachment.get('sha256')})"))
        )
    return found


def _sop_banner(sop: SopEntry, shown: PublishedVersion | None, go: Link) -> str:
    upcoming = sop.upcoming
    if shown is not None and shown.status in ("draft", "in review"):
        return banner(
            "draft",
            f"<strong>DRAFT: not approved, not for use.</strong> Version {shown.version} is "
            f"{text(shown.status)}; this preview is not the controlled document.",
        )
    if shown is not None and sop.status == "obsolete":
        return banner(
            "obsolete",
            f"<strong>OBSOLETE since {day(shown.until)}: not for use.</strong> This procedure "
            "was retired by a signed decision; it is shown for reference only.",
        )
    if upcoming is None:
        return ""
    read = link(
        go(upcoming_uri(sop.id, upcoming.version)),
        f"Read version {upcoming.version} ({NOT_IN_FORCE})",
    )
    if shown is None:
        return banner(
            "upcoming",
            f"<strong>No version of {text(sop.id)} is in force yet.</strong> Version "
            f"{upcoming.version} is approved and becomes effective on "
            f"<strong>{day(upcoming.effective_from)}</strong>. {read} to train on it before "
            "that day.",
        )
    return banner(
        "upcoming",
        f"Version {upcoming.version} is approved and becomes effective on "
        f"<strong>{day(upcoming.effective_from)}</strong>; until then version "
        f"{shown.version} below is in force. Train on the new version before that day: "
        f"{read}.",
    )


def _sop_tail(
    publication: Publication, sop: SopEntry, shown: PublishedVersion | None, go: Link
) -> str:
    parts = []
    if shown is not None:
        parts.append(signature_block(shown.signatures, f"Signatures of version {shown.version}"))
    if sop.upcoming is not None:
        parts.append(
            signature_block(
                sop.upcoming.signatures, f"Signatures of version {sop.upcoming.version} (upcoming)"
            )
        )
    parts.append("<section><h2>Revision history</h2>")
    parts.append(
        table(
            ["Version", "Status", "Effective from", "Until", "Approved", "Reason for change"],
            [
                [
                    _version_link(sop, v, go),
                    badge(v.status),
                    day(v.effective_from),
                    day(v.until),
                    day(v.approved_on),
                    text(v.reason or "—"),
                ]
                for v in sop.revisions
            ],
        )
        + "</section>"
    )
    related = [link(go(record_uri(r)), r) for r in sop.related]
    parts.append(
        "<section><h2>Related CAPAs and deviations</h2>"
        + (("<p>" + ", ".join(related) + "</p>") if related else "<p>None.</p>")
        + "</section>"
    )
    parts.append(
        f"<details><summary>Audit trail of {text(sop.id)}</summary>{trail(sop.trail)}</details>"
    )
    return "".join(parts)


def _version_link(sop: SopEntry, version: PublishedVersion, go: Link) -> str:
    """A version in the revision history: linked to its own page when it has one."""
    label = f"v{version.version}"
    if version in sop.archive:
        return link(go(archive_uri(sop.id, version.version)), label)
    if version == sop.upcoming:
        return link(go(upcoming_uri(sop.id, version.version)), label)
    return text(label)


def _upcoming_head(
    publication: Publication,
    sop: SopEntry,
    version: PublishedVersion,
    go: Link,
    *,
    pdfs: bool = False,
) -> str:
    """Unmistakably not in force: a banner, the effective date, and a mark for every printed
    page (the banner prints on the first page only)."""
    effective = day(version.effective_from)
    until = (
        f"until then {link(go(sop_uri(sop.id)), f'{sop.id} v{sop.current.version}')} is in force"
        if sop.current is not None and sop.status == "effective"
        else "until then no version of this procedure is in force"
    )
    fields = version.fields
    return (
        f'<div class="qms-print-mark" aria-hidden="true">NOT YET IN FORCE: {text(sop.id)} '
        f"v{version.version}, effective from {effective}</div>"
        + banner(
            "upcoming",
            f"<strong>NOT YET IN FORCE: approved, effective from {effective}.</strong> "
            f"{text(sop.id)} version {version.version} is published so that staff can train on "
            f"it; do not work to it before {effective}: {until}.",
        )
        + facts(
            [
                ("Document", f"<strong>{text(sop.id)}</strong>"),
                ("Title", text(fields.get("title") or sop.title)),
                ("Version", text(version.version)),
                ("Status", badge(NOT_IN_FORCE_STATUS)),
                ("Effective from", f"<strong>{effective}</strong>"),
                ("Owner", person(publication.people, fields.get("owner"))),
                ("Change control", text(fields.get("change_control") or "—")),
                ("Reason for this version", text(version.reason or "—")),
            ]
        )
        + (download_link(sop.id, version) if pdfs else "")
    )


def _upcoming_tail(version: PublishedVersion, go: Link) -> str:
    return signature_block(
        version.signatures, f"Signatures of version {version.version} ({NOT_IN_FORCE})"
    )


def _archived_head(sop: SopEntry, version: PublishedVersion, go: Link) -> str:
    what = "SUPERSEDED" if version.status == "superseded" else "OBSOLETE"
    current = (
        f" The version in force is {link(go(sop_uri(sop.id)), f'{sop.id} v{sop.current.version}')}."
        if sop.current is not None and sop.status == "effective"
        else ""
    )
    return banner(
        "obsolete",
        f"<strong>{what}: not for use.</strong> {text(sop.id)} version {version.version} was in "
        f"force from {day(version.effective_from)} until {day(version.until)}.{current}",
    ) + facts(
        [
            ("Document", text(sop.id)),
            ("Version", text(version.version)),
            ("Status", badge(version.status)),
            ("Reason for this version", text(version.reason or "—")),
        ]
    )


def _archived_tail(version: PublishedVersion, go: Link) -> str:
    return signature_block(version.signatures, f"Signatures of version {version.version}")


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
