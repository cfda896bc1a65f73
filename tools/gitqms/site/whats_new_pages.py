"""The "What is new" page: the documents that became effective, were revised or retired in the
recent window, and the approved versions about to come into force, per training audience
(reports/whats_new.py works out which)."""

from __future__ import annotations

from functools import partial

from ..reports.changes import predecessors
from ..reports.publication import Publication
from ..reports.whats_new import (
    ALL_STAFF,
    APPROVED,
    EFFECTIVE,
    REPLACED,
    RETIRED,
    NewsItem,
    whats_new,
)
from .layout import Link, PageSpec, day, link, table
from .sanitise import text
from .sop_pages import WHATS_NEW, changes_uri, record_uri, sop_uri, upcoming_uri
from .version_pages import version_uri

_WORDS = {
    APPROVED: "approved",
    EFFECTIVE: "became effective",
    RETIRED: "retired (obsolete)",
    REPLACED: "replaced (superseded)",
}


def whats_new_pages(publication: Publication) -> list[PageSpec]:
    return [
        PageSpec(uri=WHATS_NEW, title="What is new", head=partial(_page, publication), listed=True)
    ]


def anchor(audience: str) -> str:
    """The id of an audience's section (audiences are slugs; anything else is made one)."""
    slug = "".join(c if c.isalnum() else "-" for c in audience.lower()) or "all-staff"
    return f"audience-{slug}"


def _page(publication: Publication, go: Link) -> str:
    news = whats_new(
        publication.sops,
        publication.on,
        publication.recent_days,
        publication.audiences,
        publication.training,
    )
    window = (
        f"the {news.days} days from {day(news.since)} to {day(news.on)}"
        if news.days > 1
        else f"{day(news.on)}"
    )
    parts = [
        f'<p class="qms-whats-new-window">Changes to the controlled documents in {window} '
        f"(the site's day; the window is <code>publication.recent_days</code> in qms.yaml), "
        "and the approved versions that come into force after it, so you can train on them "
        "first. A version that names training audiences is listed under each of them; one "
        "that names none, under all staff.</p>",
    ]
    if not news.recent and not news.upcoming:
        parts.append(
            f"<p><strong>Nothing is new.</strong> No document became effective, was approved "
            f"or was retired in {window}, and no approved version is waiting to come into "
            "force.</p>"
        )
        return '<div class="qms-whats-new">' + "".join(parts) + "</div>"
    sections = news.sections()
    compared = set(predecessors(publication.sops))  # the versions with a "what changed" page
    jumps = [
        f'<li><a href="#{anchor(a)}">{text(_name(a))}</a> '
        f"<small>({len(news.recent_for(a)) + len(news.upcoming_for(a))})</small></li>"
        for a in sections
    ]
    parts.append(
        '<nav class="qms-jump" aria-label="Audiences"><p>Go to your audience:</p>'
        f"<ul>{''.join(jumps)}</ul></nav>"
    )
    for audience in sections:
        recent, upcoming = news.recent_for(audience), news.upcoming_for(audience)
        described = news.audiences.get(audience, "")
        parts.append(f'<section class="qms-audience" id="{anchor(audience)}">')
        parts.append(f"<h2>{text(_name(audience))}</h2>")
        if described:
            parts.append(f"<p><small>{text(described)}</small></p>")
        parts.append("<h3>Recently</h3>")
        parts.append(
            _recent(publication, recent, compared, go) if recent else "<p>Nothing new.</p>"
        )
        parts.append("<h3>Becoming effective soon</h3>")
        parts.append(
            _upcoming(publication, upcoming, compared, go)
            if upcoming
            else "<p>Nothing approved ahead.</p>"
        )
        parts.append("</section>")
    return '<div class="qms-whats-new">' + "".join(parts) + "</div>"


def _name(audience: str) -> str:
    return audience if audience != ALL_STAFF else "All staff (no training audience named)"


def _document(item: NewsItem, go: Link) -> str:
    return f"{link(go(sop_uri(item.document)), item.document)}<br>{text(item.title)}"


def _control(publication: Publication, item: NewsItem, go: Link) -> str:
    control = item.change_control
    if not control:
        return "—"
    published = any(record.id == control for record in publication.records)
    return link(go(record_uri(control)), control) if published else text(control)


def _happened(item: NewsItem) -> str:
    lines = []
    for event in item.events:
        what = _WORDS[event.what]
        if event.what == EFFECTIVE and item.replacing is not None:
            what = f"became effective, replacing {item.replacing}"
        elif event.what == APPROVED and item.replaces is not None:
            what = f"new version approved (after v{item.replaces})"
        elif event.what == APPROVED and item.replacing is not None:  # of another document
            what = f"approved, to replace {item.replacing}"
        elif event.what == REPLACED:
            what = f"replaced by {event.by}: not for use"
        lines.append(f'<time datetime="{event.on.isoformat()}">{day(event.on)}</time> {text(what)}')
    if item.status == "approved":
        lines.append(f"effective from {day(item.effective_from)}: see below")
    if item.never_in_force:
        lines.append(f"never in force: {text(item.status)} before its effective day")
    return "<br>".join(lines)


def _changed(item: NewsItem, compared: set[tuple[str, int]], go: Link) -> str:
    """The link to the version's redline against the one it takes over from, if it has one."""
    if (item.document, item.version) not in compared:
        return ""
    return "<br>" + link(go(changes_uri(item.document, item.version)), "what changed")


def _recent(
    publication: Publication, items: list[NewsItem], compared: set[tuple[str, int]], go: Link
) -> str:
    return table(
        ["Document", "Version", "What happened", "Reason for change", "Change control"],
        [
            [
                _document(item, go),
                link(go(version_uri(item.document, item.version, item.status)), f"v{item.version}")
                + f"<br><small>{text(item.status)}</small>"
                + _changed(item, compared, go),
                _happened(item),
                text(item.reason or "—"),
                _control(publication, item, go),
            ]
            for item in items
        ],
        "qms-news",
    )


def _upcoming(
    publication: Publication, items: list[NewsItem], compared: set[tuple[str, int]], go: Link
) -> str:
    return table(
        [
            "Document",
            "Version",
            "Effective from",
            "Reason for change",
            "Change control",
            "Training",
        ],
        [
            [
                _document(item, go),
                link(go(upcoming_uri(item.document, item.version)), f"v{item.version}")
                + f"<br><small>approved {day(item.approved_on)}</small>"
                + _changed(item, compared, go),
                f"<strong>{day(item.effective_from)}</strong>",
                text(item.reason or "—"),
                _control(publication, item, go),
                _trained(item),
            ]
            for item in items
        ],
        "qms-news",
    )


def _trained(item: NewsItem) -> str:
    tally = item.trained
    if tally is None:
        return "—" if item.audiences else "no training audience"
    overdue = f", {tally.overdue} overdue" if tally.overdue else ""
    return text(f"{tally.trained} of {tally.required} trained{overdue}")


__all__ = ["WHATS_NEW", "anchor", "whats_new_pages"]
