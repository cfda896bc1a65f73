"""What waits for whom: a page per person in qms.yaml (the signatures their roles may make, their
items overdue or due soon, their training not yet done) and an index with the counts.

The inboxes are `qms inbox`'s (reports/inbox.py), worked out once for everyone at the published
commit on the site's day. The site sees that commit only: branches not merged yet are not
published, so the pages say so and send readers to `qms inbox` for them. Nor does the controlled
site publish drafts: the reviews and approvals of document drafts are counted, not named (a
drafts preview lists them). Titles are those the site publishes; every value is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from ..lifecycle.due import Due
from ..lifecycle.training import OVERDUE
from ..lifecycle.training import Row as TrainingRow
from ..reports.inbox import Inbox, Waiting
from ..reports.publication import Publication
from . import layout
from .layout import INBOXES, Link, PageSpec, Row, badge, day, facts, inbox_uri, link, table
from .record_pages import published_ids
from .sanitise import text
from .sop_pages import record_uri, upcoming_uri

TITLE = "What waits for whom"


def inbox_pages(publication: Publication) -> list[PageSpec]:
    """The index (in the navigation) and one page per person (reached by links only); both
    left out of the search, like the registers: they list other pages."""
    if not publication.inboxes:
        return []
    linked = published_ids(publication)
    titles = {s.id: s.title for s in publication.sops} | {
        r.id: r.title for r in publication.records
    }
    pages = [
        PageSpec(
            uri=INBOXES,
            title=TITLE,
            head=partial(_index, publication),
            listed=True,
            searchable=False,
        )
    ]
    for person_id, found in publication.inboxes.items():
        pages.append(
            PageSpec(
                uri=inbox_uri(person_id),
                title=f"What waits for {found.person.name}",
                head=partial(_person, publication, found, _Records(linked, titles)),
                searchable=False,
            )
        )
    return pages


def _scope(publication: Publication, days: int) -> str:
    """What the pages cover, and what they cannot know."""
    signatures = (
        "reviews and approvals of documents, moves of records"
        if publication.drafts
        else "moves of records; reviews and approvals of drafts are counted, not named, since "
        "this site publishes no draft"
    )
    return (
        f"<p>As of <strong>{day(publication.on)}</strong>, on the published commit "
        f"<code>{text(publication.commit[:12])}</code>: the signatures someone holding the "
        f"person's roles may make ({signatures}), their items overdue or due within {days} "
        "days, and their training not yet done.</p>"
        "<p>What waits on branches not merged into it yet is not on this site: "
        "<code>qms inbox --person ID</code> in a clone of the repository lists that too.</p>"
    )


def _waiting(found: Inbox) -> str:
    """How many signatures wait, and how many more on drafts not shown."""
    more = f" <small>and {found.on_drafts} on drafts</small>" if found.on_drafts else ""
    return text(len(found.signatures)) + more


def _index(publication: Publication, go: Link) -> str:
    inboxes = list(publication.inboxes.values())
    rows = [
        Row(
            [
                layout.person(publication.people, found.person.id, go)
                + (f"<br><small>left {text(found.person.left_on)}</small>" if _left(found) else ""),
                text(", ".join(sorted(found.person.roles)) or "—"),
                _waiting(found),
                (badge("overdue") if found.overdue else "") + text(found.overdue),
                text(found.due_soon),
                text(found.training_due),
            ],
            "qms-overdue" if found.overdue else "",
        )
        for found in inboxes
    ]
    days = inboxes[0].within
    return (
        _scope(publication, days)
        + f"<p>Overdue counts items and training past their day; due soon, items due within "
        f"{days} days; training due, training not yet done whose day has not passed.</p>"
        + table(
            ["Person", "Roles", "Signatures waiting", "Overdue", "Due soon", "Training due"], rows
        )
    )


def _left(found: Inbox) -> bool:
    return found.person.left_on is not None


class _Records:
    """The records and documents the site has a page for, and the titles it publishes."""

    def __init__(self, linked: set[str], titles: Mapping[str, str]) -> None:
        self.linked, self.titles = linked, titles

    def cell(self, record_id: str, go: Link) -> str:
        return (
            link(go(record_uri(record_id)), record_id)
            if record_id in self.linked
            else (text(record_id))
        )

    def title(self, record_id: str) -> str:
        title = self.titles.get(record_id)
        return text(title) if title else "<small>not published</small>"


def _person(publication: Publication, found: Inbox, records: _Records, go: Link) -> str:
    person = found.person
    parts = [_scope(publication, found.within)]
    if _left(found):
        parts.append(
            layout.banner("warning", f"{text(person.name)} left on {text(person.left_on)}.")
        )
    parts.append(
        facts(
            [
                (
                    "Person",
                    f"<strong>{text(person.name)}</strong> <small>({text(person.id)})</small>",
                ),
                ("Roles", text(", ".join(sorted(person.roles)) or "—")),
                ("Signatures waiting", _waiting(found)),
                ("Overdue", text(found.overdue)),
                (f"Due within {found.within} days", text(found.due_soon)),
                ("Training due", text(found.training_due)),
            ]
        )
    )
    parts += [
        f"<h2>Signatures waiting ({len(found.signatures)})</h2>",
        _signatures(found.signatures, records, go),
        _drafts(found),
        f"<h2>Overdue or due within {found.within} days ({len(found.due)})</h2>",
        _due(found.due, records, go),
        f"<h2>Training not yet done ({len(found.training)})</h2>",
        _training(found.training, go),
        f"<p>{link(go(INBOXES), TITLE)}: everyone.</p>",
    ]
    return "".join(parts)


def _signatures(items: list[Waiting], records: _Records, go: Link) -> str:
    if not items:
        return "<p>No signature waits.</p>"
    return table(
        ["Record", "Title", "Signature", "Why"],
        [
            [
                records.cell(item.record, go),
                records.title(item.record),
                _signature(item),
                text(item.why),
            ]
            for item in items
        ],
    )


def _drafts(found: Inbox) -> str:
    if not found.on_drafts:
        return ""
    return (
        "<p>Reviews and approvals of document drafts, which this site does not publish: "
        f"{found.on_drafts} more (<code>qms inbox --person {text(found.person.id)}</code> "
        "names them).</p>"
    )


def _signature(item: Waiting) -> str:
    """A document's approval meaning; a record's move, with the meaning its signature has."""
    if item.target is None:
        return text(item.meaning)
    signed = (
        f"<br><small>signed as {text(item.meaning)}</small>" if item.meaning != item.target else ""
    )
    return f"to {text(item.target)}{signed}"


def _due(items: list[Due], records: _Records, go: Link) -> str:
    if not items:
        return "<p>Nothing due.</p>"
    return table(
        ["Due", "Record", "Title", "What"],
        [
            Row(
                [
                    (badge("overdue") if item.overdue else "") + text(day(item.due)),
                    records.cell(item.record, go),
                    records.title(item.record),
                    text(item.what)
                    + (f"<br><small>{text(item.detail)}</small>" if item.detail else ""),
                ],
                "qms-overdue" if item.overdue else "",
            )
            for item in items
        ],
    )


def _training(rows: list[TrainingRow], go: Link) -> str:
    if not rows:
        return "<p>No training to do.</p>"
    return table(
        ["Due", "Document", "Title", "Status"],
        [
            Row(
                [
                    (badge("overdue") if row.status == OVERDUE else "") + text(day(row.due)),
                    link(
                        go(
                            record_uri(row.document)
                            if row.in_force
                            else upcoming_uri(row.document, row.version)
                        ),
                        f"{row.document} v{row.version}",
                    ),
                    text(row.title),
                    text(row.status)
                    + (
                        ""
                        if row.in_force
                        else f"<br><small>effective from {day(row.effective_from)}</small>"
                    ),
                ],
                "qms-overdue" if row.status == OVERDUE else "",
            )
            for row in rows
        ],
    )
