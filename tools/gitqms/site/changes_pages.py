"""The page of what changed in a document version from the version it takes over from: both
versions with their effective dates, the change control and the reason, a table of the front
matter that changed and a redline of the text. Marked as a comparison, never a controlled text,
and left out of the search (a search leads to versions in force only).

The comparison itself is made in the core (`reports.changes`), once per page, when the page is
rendered. Every piece of text is escaped here: the document body is shown as written (its
Markdown source), never rendered, so nothing a version says can run or load anything."""

from __future__ import annotations

from functools import partial

from ..reports.changes import Block, Comparison, compare
from ..reports.entries import PublishedVersion, SopEntry
from ..reports.publication import Publication
from .document_uris import NOT_IN_FORCE_STATUS, archive_uri, changes_uri, sop_uri, upcoming_uri
from .layout import Link, PageSpec, banner, day, facts, link, table
from .sanitise import text
from .values import Shown, label, zone

_LEGEND = (
    '<p class="qms-redline-legend" id="qms-redline-legend"><strong>How to read the '
    "redline:</strong> <ins>inserted text</ins> is underlined between [+ and ], "
    "<del>deleted text</del> is struck through between [− and ]; whole blocks added, removed "
    "or changed are labelled so. The text is shown as written (its Markdown source: a heading "
    "starts with #).</p>"
)


def changes_page(
    publication: Publication,
    sop: SopEntry,
    version: PublishedVersion,
    old_id: str,
    old: PublishedVersion,
) -> PageSpec:
    """The comparison page of `sop`'s `version` against `old` (of document `old_id`)."""
    before = f"v{old.version}" if old_id == sop.id else f"{old_id} v{old.version}"
    return PageSpec(
        uri=changes_uri(sop.id, version.version),
        title=f"{sop.id} v{version.version}: what changed from {before}",
        head=partial(_head, publication, sop, version, old_id, old),
        searchable=False,  # a comparison, not a controlled text
    )


def _head(
    publication: Publication,
    sop: SopEntry,
    version: PublishedVersion,
    old_id: str,
    old: PublishedVersion,
    go: Link,
) -> str:
    found = compare(sop.id, version, old_id, old)
    return (
        '<div class="qms-print-mark" aria-hidden="true">COMPARISON: not a controlled text</div>'
        + banner(
            "comparison",
            "<strong>COMPARISON, NOT A CONTROLLED TEXT.</strong> This page shows what changed "
            f"between two approved versions, to train on the difference. Work only to the "
            f"{link(go(sop_uri(sop.id)), f'version of {sop.id} in force')}.",
        )
        + facts(
            [
                ("New version", _version(sop.id, sop, version, go)),
                ("Replaces", _version(old_id, sop, old, go)),
                ("Change control", text(version.fields.get("change_control") or "—")),
                ("Reason for change", text(version.reason or "—")),
                ("Text", text(_summary(found))),
            ]
        )
        + _fields(publication, found)
        + _redline(found)
    )


def _version(record_id: str, sop: SopEntry, version: PublishedVersion, go: Link) -> str:
    """'SOP-0005 v3: effective, effective from 2026-05-04', linked to its page."""
    label_ = f"{record_id} v{version.version}"
    target = _page_of(record_id, sop, version)
    name = link(go(target), label_) if target else text(label_)
    status = NOT_IN_FORCE_STATUS if version.status == "approved" else version.status
    return f"{name}: {text(status)}, effective from {day(version.effective_from)}"


def _page_of(record_id: str, sop: SopEntry, version: PublishedVersion) -> str | None:
    if record_id != sop.id:  # the document this one replaces
        if version.status == "effective":
            return sop_uri(record_id)
        if version.status == "approved":
            return upcoming_uri(record_id, version.version)
        return archive_uri(record_id, version.version)
    if version is sop.current and version.status == "effective":
        return sop_uri(sop.id)
    if version is sop.upcoming:
        return upcoming_uri(sop.id, version.version)
    if version in sop.archive:
        return archive_uri(sop.id, version.version)
    return None


def _summary(found: Comparison) -> str:
    if not found.text_changed:
        return "no change to the text"
    counts = found.counts
    return (
        f"{counts['changed']} block(s) changed, {counts['added']} added, "
        f"{counts['removed']} removed"
    )


def _fields(publication: Publication, found: Comparison) -> str:
    shown = Shown(  # one for the page's table, not one per value
        people=publication.people,
        zone=zone(publication.time_zone),
        person_paths=frozenset({"owner"}),
    )
    rows = [
        [
            text(label(change.key)),
            _value(shown, change.before, change.key),
            _value(shown, change.after, change.key),
        ]
        for change in found.fields
    ]
    return (
        '<section class="qms-field-changes"><h2>Document details that changed</h2>'
        + (
            table(["Field", f"v{found.old.version}", f"v{found.new.version}"], rows)
            if rows
            else "<p>None.</p>"
        )
        + "</section>"
    )


def _value(shown: Shown, value: object, key: str) -> str:
    return "<em>(not set)</em>" if value is None else shown.value(value, key)


def _redline(found: Comparison) -> str:
    blocks = "".join(_block(block) for block in found.blocks)
    return (
        '<section class="qms-redline-section"><h2>Text: redline</h2>'
        + _LEGEND
        + f'<div class="qms-redline" aria-describedby="qms-redline-legend">{blocks}</div>'
        + "</section>"
    )


_BLOCK_LABEL = {
    "added": "Added",
    "removed": "Removed",
    "changed": "Changed",
}


def _block(block: Block) -> str:
    css = f"qms-redline-block qms-redline-{block.mark}"
    css += " qms-heading" if block.heading else " qms-fenced" if block.fenced else ""
    note = _BLOCK_LABEL.get(block.mark, "")
    if note and block.moved:
        note += " (moved)"
    tag = f'<span class="qms-redline-note">{text(note)}:</span> ' if note else ""
    return f'<div class="{css}">{tag}{"".join(_piece(p.mark, p.text) for p in block.pieces)}</div>'


def _piece(mark: str, value: str) -> str:
    """A run of text; the marks around an insertion or a deletion ('[+ …]', '[− …]') come
    from the style sheet, so they show without colour, print, and are read out."""
    if mark == "ins":
        return f"<ins>{text(value)}</ins>"
    if mark == "del":
        return f"<del>{text(value)}</del>"
    return text(value)
