"""The register of issued controlled copies: every copy whose `issued` signature counts, where
it is kept, who issued it and when, and whether the version it carries is still the one to work
to. A copy of a superseded or retired version is listed first, marked "to withdraw". Copy
records whose issue does not count (edited after issue, never signed, or refused by a copy
rule of the gate) are named apart, with why, and never listed as copies. "Issued by" and
"issued at" are the `issued` signature's signer and time, not the record's own claims."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from ..reports.copy_register import WITHDRAW, CopyEntry
from ..reports.publication import Publication
from .layout import Link, PageSpec, Row, badge, day, link, table
from .sanitise import text
from .sop_pages import sop_uri
from .version_pages import verify_uri

COPIES = "copies.md"


def copy_pages(publication: Publication) -> list[PageSpec]:
    return [
        PageSpec(
            uri=COPIES,
            title="Controlled copies",
            head=partial(_register, publication),
            listed=True,
            searchable=False,
        )
    ]


def issued_at(value: str) -> str:
    """A recorded UTC time as people read it ("2026-03-01 10:00 UTC"), else as written."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value or "—"
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _register(publication: Publication, go: Link) -> str:
    counted = [c for c in publication.copies if c.counts]
    withdraw = [c for c in counted if c.standing.startswith(WITHDRAW)]
    void = [c for c in publication.copies if not c.counts]
    parts = [
        f"<p>Controlled copies issued with <code>qms pdf DOC --copy-for LOCATION</code>, as "
        f"recorded and signed <em>issued</em> in the history, on {day(publication.on)}: "
        f"{len(counted)} issued, {len(withdraw)} to withdraw. A copy of a version no longer in "
        "force must be collected from where it is kept and destroyed.</p>"
    ]
    if withdraw:
        parts += ["<h2>To withdraw</h2>", _table(withdraw, go)]
    parts += [
        "<h2>Issued copies</h2>",
        _table(counted, go) if counted else "<p>No controlled copy has been issued.</p>",
    ]
    if void:
        parts += [
            "<h2>Copy records that do not count</h2>",
            "<p>No valid <em>issued</em> signature covers these records as they stand, or the "
            "gate's copy rules refuse them (a copy number skipped or taken twice, a content "
            "never approved, an issuer or time other than the signature's): they are not "
            "controlled copies. Withdraw any sheet that carries them.</p>",
            _void(void),
        ]
    return "".join(parts)


def _void(copies: list[CopyEntry]) -> str:
    return table(
        ["Copy record", "Copy n°", "Document", "Signed issued by", "Signed at", "Why"],
        [
            Row(
                [
                    f"<code>{text(c.record)}</code>",
                    text(c.copy if c.copy is not None else "—"),
                    text(c.document or "—"),
                    _issuer(c) if c.issued_by else "—",
                    text(issued_at(c.issued_at)),
                    text("; ".join(c.notes) or "not issued"),
                ]
            )
            for c in copies
        ],
        "qms-copies",
    )


def _issuer(c: CopyEntry) -> str:
    return text(c.issued_by_name or c.issued_by) + (
        f" <small>({text(c.issued_by)})</small>" if c.issued_by_name else ""
    )


def _table(copies: list[CopyEntry], go: Link) -> str:
    return table(
        ["Copy record", "Copy n°", "Document", "Kept at", "Issued by", "Issued at", "Version"],
        [
            Row(
                [
                    f"<code>{text(c.record)}</code>",
                    text(c.copy if c.copy is not None else "—"),
                    link(go(sop_uri(c.document)), c.document),
                    text(c.location),
                    _issuer(c),
                    text(issued_at(c.issued_at)),
                    link(go(verify_uri(c.document, c.version)), f"v{c.version}")
                    + "<br>"
                    + _standing(c.standing)
                    if c.version is not None
                    else "—",
                ],
                "qms-overdue" if c.standing.startswith(WITHDRAW) else "",
            )
            for c in copies
        ],
        "qms-copies",
    )


def _standing(value: str) -> str:
    if value.startswith(WITHDRAW):
        _, _, why = value.partition(": ")
        return badge(WITHDRAW) + (f" <small>{text(why)}</small>" if why else "")
    return badge(value)
