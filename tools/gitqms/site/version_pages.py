"""A verification page per published document version (`verify/ID-vN.html`): where the QR code
and the printed address of a PDF copy lead. It says whether the version is the one to work to
on the site's day, gives the sha256 of its exact approved bytes (computed from git when the
site was built), the signatures on that content, the controlled copies issued of it and the
exact `qms verify-copy` command that checks a copy offline against any clone.

The address of a version's verification page never changes, so a sheet printed years ago still
leads to a page that says whether it may still be used."""

from __future__ import annotations

from functools import partial

from ..reports.copy_register import WITHDRAW, CopyEntry
from ..reports.entries import PublishedVersion, SopEntry
from ..reports.publication import Publication
from .document_heads import replaced_by_link
from .layout import Link, PageSpec, badge, banner, day, facts, link, signature_block, table
from .sanitise import text
from .sop_pages import archive_uri, sop_uri, upcoming_uri


def verify_uri(record_id: str, version: int) -> str:
    return f"verify/{record_id}-v{version}.md"


def version_uri(record_id: str, version: int, status: str) -> str:
    """The page that shows a version's text: the document's page while in force, its own page
    when approved and not yet in force, the archive once superseded or retired."""
    if status == "approved":
        return upcoming_uri(record_id, version)
    if status in ("superseded", "obsolete"):
        return archive_uri(record_id, version)
    return sop_uri(record_id)


def verify_command(record_id: str, version: int, content: str, copy: int | None = None) -> str:
    """The command that checks a printed copy against the repository (as on its manifest)."""
    hexdigest = content.removeprefix("sha256:")
    command = f"qms verify-copy {record_id} --version {version} --sha256 {hexdigest}"
    return command + (f" --copy {copy}" if copy is not None else "")


def version_pages(publication: Publication) -> list[PageSpec]:
    return [
        PageSpec(
            uri=verify_uri(sop.id, version.version),
            title=f"Verify {sop.id} v{version.version}",
            head=partial(_head, publication, sop, version),
            tail=partial(_tail, publication, sop, version),
            searchable=False,  # a search leads staff to the versions in force
        )
        for sop in publication.sops
        for version in sop.revisions
        if version.content
    ]


def _standing(sop: SopEntry, version: PublishedVersion, go: Link) -> str:
    in_force = (
        link(go(sop_uri(sop.id)), f"{sop.id} v{sop.current.version}")
        if sop.current is not None and sop.status == "effective"
        else replaced_by_link(sop, go)  # another document's version replaced it
    )
    if version.status == "effective":
        return banner(
            "upcoming",
            f"<strong>IN FORCE</strong>: {text(sop.id)} version {version.version} is the "
            "version to work to.",
        )
    if version.status == "approved":
        return banner(
            "upcoming",
            f"<strong>NOT YET IN FORCE</strong>: approved, effective from "
            f"{day(version.effective_from)}. Train on it; do not work to it before that day.",
        )
    now = f" The version in force is {in_force}." if in_force else ""
    return banner(
        "obsolete",
        f"<strong>{text(version.status.upper())} since {day(version.until)}: not for use.</strong>"
        f" Withdraw every copy of this version.{now}",
    )


def _head(publication: Publication, sop: SopEntry, version: PublishedVersion, go: Link) -> str:
    shown = version_uri(sop.id, version.version, version.status)
    return (
        _standing(sop, version, go)
        + f"<p>Status on the site's day, {day(publication.on)}, derived from the signed "
        f"history at commit <code>{text(publication.commit[:12])}</code>.</p>"
        + facts(
            [
                ("Document", link(go(shown), f"{sop.id} v{version.version}")),
                ("Title", text(version.fields.get("title") or sop.title)),
                ("Status", badge(version.status)),
                ("Approved", day(version.approved_on)),
                ("Effective from", day(version.effective_from)),
                ("Until", day(version.until)),
                ("Read from commit", f"<code>{text(version.commit)}</code>"),
                (
                    "Content sha256",
                    f'<code class="qms-hash">{text(version.content.removeprefix("sha256:"))}'
                    "</code>",
                ),
            ]
        )
        + "<h2>Check a copy</h2>"
        "<p>The sha256 above is computed from the exact bytes the signatures below approved, "
        "read from git when this site was built. It must equal the one printed on the copy's "
        "signature manifest. To check a copy offline against any clone or restored archive "
        "(the hash is recomputed from git, never taken from the copy):</p>"
        f'<pre class="qms-command"><code>'
        f"{text(verify_command(sop.id, version.version, version.content))}</code></pre>"
        "<p>For a numbered controlled copy, add <code>--copy K</code> with its number.</p>"
    )


def _tail(publication: Publication, sop: SopEntry, version: PublishedVersion, go: Link) -> str:
    copies = [
        c for c in publication.copies if c.document == sop.id and c.version == version.version
    ]
    return signature_block(
        version.signatures, f"Signatures on version {version.version}"
    ) + _copies(copies, version)


def _copies(copies: list[CopyEntry], version: PublishedVersion) -> str:
    counted = [c for c in copies if c.counts]
    if not counted:
        return "<h2>Controlled copies</h2><p>No controlled copy of this version is issued.</p>"
    rows = [
        [
            text(c.copy if c.copy is not None else "—"),
            text(c.location),
            text(c.issued_by_name or c.issued_by),
            text(c.issued_at),
            badge(WITHDRAW) if c.standing.startswith(WITHDRAW) else badge(c.standing),
            f"<code>{text(verify_command(c.document, version.version, c.content, c.copy))}</code>",
        ]
        for c in counted
    ]
    return "<h2>Controlled copies</h2>" + table(
        ["Copy n°", "Kept at", "Signed issued by", "Signed at (UTC)", "Standing", "Check it"],
        rows,
    )
