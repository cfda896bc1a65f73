"""The procedures: an index by area, one page per SOP showing the version in force with its
signature block, and an archive of superseded and obsolete versions, clearly marked."""

from __future__ import annotations

from functools import partial

from ..reports.publication import Publication, PublishedVersion, SopEntry
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
ARCHIVE = "archive/index.md"


def sop_uri(record_id: str) -> str:
    return f"sops/{record_id}.md"


def archive_uri(record_id: str, version: int) -> str:
    return f"archive/{record_id}-v{version}.md"


def record_uri(record_id: str) -> str:
    folder = "capa" if record_id.startswith("CAPA-") else "deviations"
    return f"{folder}/{record_id}.md"


def sop_pages(publication: Publication) -> list[PageSpec]:
    pages = [
        PageSpec(INDEX, "Procedures", partial(_index, publication), listed=True),
        PageSpec(ARCHIVE, "Archive", partial(_archive_index, publication), listed=True),
    ]
    for sop in publication.sops:
        shown = _shown(sop, publication.drafts)
        if shown is not None:
            pages.append(
                PageSpec(
                    sop_uri(sop.id),
                    f"{sop.id} {sop.title}",
                    partial(_sop_head, publication, sop, shown),
                    shown.body,
                    partial(_sop_tail, publication, sop, shown),
                )
            )
        for version in sop.archive:
            pages.append(
                PageSpec(
                    archive_uri(sop.id, version.version),
                    f"{sop.id} v{version.version} ({version.status})",
                    partial(_archived_head, sop, version),
                    version.body,
                    partial(_archived_tail, version),
                    searchable=False,
                )
            )
    return pages


def _shown(sop: SopEntry, drafts: bool) -> PublishedVersion | None:
    """What the SOP's page shows: its draft in a preview, else the version in force, else the
    approved version that is about to come into force."""
    if drafts and sop.draft is not None:
        return sop.draft
    return sop.current or sop.upcoming


def _index(publication: Publication, go: Link) -> str:
    in_force = [s for s in publication.sops if s.status == "effective" and s.current]
    parts = [
        f"<p>Procedures in force on <strong>{day(publication.on)}</strong>: "
        f"{len(in_force)}. Each page shows the approved text with its signatures.</p>"
    ]
    by_area: dict[str, list[SopEntry]] = {}
    for sop in in_force:
        by_area.setdefault(sop.area or "other", []).append(sop)
    for area in sorted(by_area):
        parts.append(f"<h2>{text(publication.areas.get(area, area))}</h2>")
        parts.append(
            table(
                ["ID", "Title", "Version", "Effective from", "Next review", "Owner"],
                [
                    Row(
                        [
                            link(go(sop_uri(s.id)), s.id),
                            link(go(sop_uri(s.id)), s.title),
                            text(s.current.version if s.current else ""),
                            day(s.current.effective_from if s.current else None),
                            day(s.next_review),
                            text(s.owner or "—"),
                        ],
                        "qms-overdue" if s.next_review and s.next_review < publication.on else "",
                    )
                    for s in by_area[area]
                ],
            )
        )
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
                        text(s.upcoming.version),
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


def _sop_head(publication: Publication, sop: SopEntry, shown: PublishedVersion, go: Link) -> str:
    fields = shown.fields
    parts = []
    if shown.status in ("draft", "in review"):
        parts.append(
            banner(
                "draft",
                f"<strong>DRAFT: not approved, not for use.</strong> Version {shown.version} is "
                f"{text(shown.status)}; this preview is not the controlled document.",
            )
        )
    elif sop.status == "obsolete":
        parts.append(
            banner(
                "obsolete",
                f"<strong>OBSOLETE since {day(shown.until)}: not for use.</strong> This procedure "
                "was retired by a signed decision; it is shown for reference only.",
            )
        )
    elif shown is sop.upcoming:
        parts.append(
            banner(
                "upcoming",
                f"<strong>Not yet effective.</strong> Version {shown.version} is approved and "
                f"becomes effective on {day(shown.effective_from)}.",
            )
        )
    elif sop.upcoming is not None:
        upcoming = sop.upcoming
        parts.append(
            banner(
                "upcoming",
                f"Version {upcoming.version} is approved and becomes effective on "
                f"<strong>{day(upcoming.effective_from)}</strong>; until then version "
                f"{shown.version} below is in force. Train on the new version before that day.",
            )
        )
    parts.append(
        facts(
            [
                ("Document", f"<strong>{text(sop.id)}</strong>"),
                ("Title", text(sop.title)),
                ("Version", text(shown.version)),
                ("Status", badge(sop.status if shown is sop.current else shown.status)),
                ("Effective from", day(shown.effective_from)),
                ("Owner", person(publication.people, fields.get("owner"))),
                ("Area", text(publication.areas.get(str(fields.get("area")), fields.get("area")))),
                ("Next review", day(sop.next_review) if shown is sop.current else "—"),
                ("Change control", text(fields.get("change_control") or "—")),
            ]
        )
    )
    return '<div class="qms-document-header">' + "".join(parts) + "</div>"


def _sop_tail(publication: Publication, sop: SopEntry, shown: PublishedVersion, go: Link) -> str:
    parts = [signature_block(shown.signatures, f"Signatures of version {shown.version}")]
    if sop.upcoming is not None and shown is not sop.upcoming:
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
                    link(go(archive_uri(sop.id, v.version)), f"v{v.version}")
                    if v in sop.archive
                    else text(f"v{v.version}"),
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
