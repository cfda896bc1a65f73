"""The header and the foot of each page of a controlled document: the version in force, the
approved version not yet in force and the archived versions. The header says who approved the
version shown and from when it is in force; the foot holds its full signature block, the
revision history (each version linked to its page and to what changed in it) and the audit
trail."""

from __future__ import annotations

from collections.abc import Mapping

from ..reports.entries import PublishedVersion, SopEntry
from ..reports.publication import Publication
from .document_uris import (
    NOT_IN_FORCE,
    NOT_IN_FORCE_STATUS,
    archive_uri,
    changes_uri,
    download_link,
    record_uri,
    sop_uri,
    upcoming_uri,
)
from .layout import Link, badge, banner, day, facts, link, person, signature_block, table, trail
from .sanitise import text

# (document, version) -> (document, version) it takes over from: reports.changes.predecessors
Before = Mapping[tuple[str, int], tuple[str, PublishedVersion]]
FIRST_ISSUE = "first issue"


def approved_line(version: PublishedVersion) -> str:
    """'Approved by NAME (ROLE) on DATE, …, effective from DATE': every approver counted for
    the version (the kind's release meaning; reviewers sign the block below, not this line)."""
    if version.status in ("draft", "in review"):
        return ""
    names = [
        f"<strong>{text(line.name)}</strong> ({text(line.role or '—')}) on "
        f'<time datetime="{text(line.when.isoformat())}">{line.when:%Y-%m-%d}</time>'
        for line in version.approvers
    ]
    who = ("Approved by " + ", ".join(names)) if names else "No counted approval signature"
    return (
        f'<p class="qms-approved">{who}, effective from '
        f"<strong>{day(version.effective_from)}</strong>. "
        f"Full signature block of version {version.version} below the text.</p>"
    )


def takes_over(sop: SopEntry, version: PublishedVersion, before: Before, go: Link) -> str:
    """What the version replaces, linked to what changed in it; or 'first issue'."""
    found = before.get((sop.id, version.version))
    if version.status in ("draft", "in review"):  # a preview: not compared until approved
        return text(version.fields.get("supersedes") or "—")
    if found is None:
        return text(FIRST_ISSUE)
    old_id, old = found
    named = f"v{old.version}" if old_id == sop.id else f"{old_id} v{old.version}"
    return (
        f"{text(named)}: "
        f"{link(go(changes_uri(sop.id, version.version)), f'what changed in v{version.version}')}"
    )


def sop_head(
    publication: Publication,
    sop: SopEntry,
    shown: PublishedVersion | None,
    before: Before,
    go: Link,
    *,
    pdfs: bool = False,
) -> str:
    """The banner, who approved and the facts of the SOP's page; with nothing `shown` (no
    version in force yet), those of the approved upcoming version and a banner to its page."""
    described = shown or sop.upcoming
    assert described is not None
    fields = described.fields
    parts = [_sop_banner(sop, shown, before, go), approved_line(described)]
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
                ("Replaces", takes_over(sop, described, before, go)),
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


def replaced_by_link(sop: SopEntry, go: Link) -> str | None:
    """A link to the other document's version that replaced `sop` in force, if one did."""
    if sop.replaced_by is None:
        return None
    other, number = sop.replaced_by
    return link(go(sop_uri(other)), f"{other} v{number}")


def _sop_banner(sop: SopEntry, shown: PublishedVersion | None, before: Before, go: Link) -> str:
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
    if shown is not None and sop.status == "superseded":
        instead = replaced_by_link(sop, go)
        by = f" It was replaced by {instead}: work to that document." if instead else ""
        return banner(
            "obsolete",
            f"<strong>SUPERSEDED since {day(shown.until)}: not for use.</strong>{by} This "
            "page is shown for reference only.",
        )
    if upcoming is None:
        return ""
    read = link(
        go(upcoming_uri(sop.id, upcoming.version)),
        f"Read version {upcoming.version} ({NOT_IN_FORCE})",
    )
    changed = _changed_since(sop, upcoming, before, go)
    if shown is None:
        return banner(
            "upcoming",
            f"<strong>No version of {text(sop.id)} is in force yet.</strong> Version "
            f"{upcoming.version} is approved and becomes effective on "
            f"<strong>{day(upcoming.effective_from)}</strong>. {read} to train on it before "
            f"that day.{changed}",
        )
    return banner(
        "upcoming",
        f"Version {upcoming.version} is approved and becomes effective on "
        f"<strong>{day(upcoming.effective_from)}</strong>; until then version "
        f"{shown.version} below is in force. Train on the new version before that day: "
        f"{read}.{changed}",
    )


def sop_tail(
    publication: Publication,
    sop: SopEntry,
    shown: PublishedVersion | None,
    before: Before,
    go: Link,
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
            [
                "Version",
                "Status",
                "Effective from",
                "Until",
                "Approved",
                "Reason for change",
                "What changed",
            ],
            [
                [
                    _version_link(sop, v, go),
                    badge(v.status),
                    day(v.effective_from),
                    day(v.until),
                    day(v.approved_on),
                    text(v.reason or "—"),
                    _changed_link(sop, v, before, go),
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


def _changed_link(sop: SopEntry, version: PublishedVersion, before: Before, go: Link) -> str:
    if (sop.id, version.version) not in before:
        return text(FIRST_ISSUE)
    return link(go(changes_uri(sop.id, version.version)), f"What changed in v{version.version}")


def _version_link(sop: SopEntry, version: PublishedVersion, go: Link) -> str:
    """A version in the revision history: linked to its own page when it has one."""
    label = f"v{version.version}"
    if version in sop.archive:
        return link(go(archive_uri(sop.id, version.version)), label)
    if version == sop.upcoming:
        return link(go(upcoming_uri(sop.id, version.version)), label)
    return text(label)


def upcoming_head(
    publication: Publication,
    sop: SopEntry,
    version: PublishedVersion,
    before: Before,
    go: Link,
    *,
    pdfs: bool = False,
) -> str:
    """Unmistakably not in force: a banner, the effective date, and a mark for every printed
    page (the banner prints on the first page only); who approved it and what changed."""
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
            f"it; do not work to it before {effective}: {until}."
            + _changed_since(sop, version, before, go),
        )
        + approved_line(version)
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
                ("Replaces", takes_over(sop, version, before, go)),
            ]
        )
        + (download_link(sop.id, version) if pdfs else "")
    )


def upcoming_tail(version: PublishedVersion, go: Link) -> str:
    return signature_block(
        version.signatures, f"Signatures of version {version.version} ({NOT_IN_FORCE})"
    )


def _changed_since(sop: SopEntry, version: PublishedVersion, before: Before, go: Link) -> str:
    """' See what changed from v1.' (a sentence of a banner), where the version replaces one."""
    found = before.get((sop.id, version.version))
    if found is None:
        return ""
    old_id, old = found
    named = f"v{old.version}" if old_id == sop.id else f"{old_id} v{old.version}"
    changed = link(go(changes_uri(sop.id, version.version)), "See what changed")
    return f" {changed} from {text(named)}."


def archived_head(sop: SopEntry, version: PublishedVersion, before: Before, go: Link) -> str:
    what = "SUPERSEDED" if version.status == "superseded" else "OBSOLETE"
    current = (
        f" The version in force is {link(go(sop_uri(sop.id)), f'{sop.id} v{sop.current.version}')}."
        if sop.current is not None and sop.status == "effective"
        else ""
    )
    return (
        banner(
            "obsolete",
            f"<strong>{what}: not for use.</strong> {text(sop.id)} version {version.version} was in "
            f"force from {day(version.effective_from)} until {day(version.until)}.{current}",
        )
        + approved_line(version)
        + facts(
            [
                ("Document", text(sop.id)),
                ("Version", text(version.version)),
                ("Status", badge(version.status)),
                ("Reason for this version", text(version.reason or "—")),
                ("Replaces", takes_over(sop, version, before, go)),
            ]
        )
    )


def archived_tail(version: PublishedVersion, go: Link) -> str:
    return signature_block(version.signatures, f"Signatures of version {version.version}")
