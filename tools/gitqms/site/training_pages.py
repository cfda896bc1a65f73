"""The training page: who is overdue, compliance by audience and by document, and what each
audience must read (the versions in force and the approved ones about to be)."""

from __future__ import annotations

from functools import partial

from ..lifecycle.training import OVERDUE, Matrix, Tally
from ..reports.entries import SopEntry
from ..reports.publication import Publication
from ..signatures.eligible import version_audiences
from .layout import Link, PageSpec, Row, badge, day, inbox_uri, link, table
from .sanitise import text
from .sop_pages import sop_uri, upcoming_uri

TRAINING = "training.md"


def training_pages(publication: Publication) -> list[PageSpec]:
    if publication.training is None:
        return []
    return [
        PageSpec(
            uri=TRAINING,
            title="Training",
            head=partial(_training, publication, publication.training),
            listed=True,
        )
    ]


def _training(publication: Publication, matrix: Matrix, go: Link) -> str:
    overdue = sorted(
        (row for row in matrix.rows if row.status == OVERDUE),
        key=lambda row: (row.due, row.document, row.person),
    )
    parts = [
        f"<p>Training on {day(matrix.on)}: each person in a document version's training "
        "audiences, trained by their own read-and-understood signature or a trainer's recorded "
        "session on the exact version, from the signed history.</p>",
        "<h2>Overdue</h2>",
        table(
            ["Due", "Person", "Document", "Audience"],
            [
                Row(
                    [
                        badge("overdue") + text(day(row.due)),
                        _who(publication, row.name, row.person, go),
                        link(go(sop_uri(row.document)), f"{row.document} v{row.version}"),
                        text(", ".join(row.audiences)),
                    ],
                    "qms-overdue",
                )
                for row in overdue
            ],
        )
        if overdue
        else "<p>No one is overdue.</p>",
        "<h2>Compliance by audience</h2>",
        _tallies("Audience", matrix.by_audience(), lambda name: text(name)),
        "<h2>Compliance by document</h2>",
        _tallies(
            "Document version",
            sorted(matrix.by_document(), key=lambda t: (-t.overdue, t.name)),
            lambda name: link(go(sop_uri(name.split(" ")[0])), name),
        ),
        "<h2>Reading lists</h2>",
        "<p>What each audience must read: the versions in force, and the approved versions "
        "about to become effective, so staff can train on them first.</p>",
    ]
    for audience, described in sorted(publication.audiences.items()):
        parts.append(f'<h3 id="reading-{text(audience)}">{text(audience)}</h3>')
        parts.append(f"<p>{text(described)}</p>")
        parts.append(_reading_list(publication.sops, audience, go))
    return "".join(parts)


def _who(publication: Publication, name: str, person_id: str, go: Link) -> str:
    """A person's name as the matrix gives it, linked to what waits for them."""
    shown = link(go(inbox_uri(person_id)), name) if person_id in publication.inboxes else text(name)
    return f"{shown} <small>({text(person_id)})</small>"


def _tallies(heading: str, tallies: list[Tally], name: Link) -> str:
    if not tallies:
        return "<p>No training is required.</p>"
    return table(
        [heading, "Trained", "Due", "Overdue"],
        [
            Row(
                [
                    name(tally.name),
                    text(f"{tally.trained} of {tally.required}"),
                    text(tally.required - tally.trained - tally.overdue),
                    text(tally.overdue),
                ],
                "qms-overdue" if tally.overdue else "",
            )
            for tally in tallies
        ],
    )


def _reading_list(sops: tuple[SopEntry, ...], audience: str, go: Link) -> str:
    items = []
    for sop in sops:
        for version, uri in (
            (sop.current, sop_uri(sop.id)),
            (sop.upcoming, upcoming_uri(sop.id, sop.upcoming.version) if sop.upcoming else ""),
        ):
            if version is None or version.status not in ("effective", "approved"):
                continue
            if audience in version_audiences(version.fields):
                when = (
                    f"effective from {day(version.effective_from)}"
                    if version.status == "effective"
                    else f"approved, effective from {day(version.effective_from)}"
                )
                items.append(
                    f"<li>{link(go(uri), f'{sop.id} v{version.version}')} {text(sop.title)} "
                    f"<small>({text(when)})</small></li>"
                )
    return f"<ul>{''.join(items)}</ul>" if items else "<p>Nothing to read.</p>"
