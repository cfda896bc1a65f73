"""Dashboards and the verification summary: charts drawn as static SVG at build time."""

from __future__ import annotations

from functools import partial

from ..reports.metrics import LEVELS, KindFigures, OnTime
from ..reports.publication import Publication
from . import charts
from .copy_pages import COPIES
from .layout import INBOXES, Link, PageSpec, day, due_rows, link, moment, table
from .sanitise import text
from .sop_pages import WHATS_NEW, record_uri
from .training_pages import TRAINING

DASHBOARDS = "dashboards.md"
VERIFICATION = "verification.md"


def dashboard_pages(publication: Publication) -> list[PageSpec]:
    return [
        PageSpec(
            uri=DASHBOARDS,
            title="Dashboards",
            head=partial(_dashboards, publication),
            listed=True,
        ),
        PageSpec(
            uri=VERIFICATION,
            title="Verification",
            head=partial(_verification, publication),
            listed=True,
        ),
    ]


def _rate(on_time: OnTime) -> str:
    if on_time.rate is None:
        return "no closed records yet"
    return f"{on_time.rate:.0%} ({on_time.on_time} of {on_time.closed} closed on time)"


def _dashboards(publication: Publication, go: Link) -> str:
    """The overdue items, then for every record kind with a state machine (CAPA, deviation,
    change control and any kind declared): its open records by state and by age, what its
    special code adds, and the on-time closure of each."""
    figures = publication.metrics
    parts = [
        f"<p>Figures for {day(publication.on)}, from the records as committed.</p>",
        "<h2>Overdue items</h2>",
        due_rows(figures.overdue, publication.people, lambda r: link(go(record_uri(r)), r), go),
        *_inboxes(publication, go),
        "<h2>What is new</h2>",
        f"<p>Documents that came into force, were revised or retired lately, and those about "
        f"to, for each training audience: {link(go(WHATS_NEW), 'what is new')}. Controlled "
        f"copies issued, and those to withdraw: {link(go(COPIES), 'controlled copies')}.</p>",
    ]
    for kind in figures.kinds:
        parts += _kind_figures(kind)
    parts += _training(publication, go)
    parts += ["<h2>On-time closure</h2>", "<ul>"]
    parts += [
        f"<li>{text(_first_up(_plural(kind.label)))} closed by their {text(kind.extra.deadline)}: "
        f"{text(_rate(kind.on_time))}</li>"
        for kind in figures.kinds
    ]
    parts.append("</ul>")
    return "".join(parts)


def _inboxes(publication: Publication, go: Link) -> list[str]:
    if not publication.inboxes:
        return []
    return [
        "<h2>What waits for whom</h2>",
        f"<p>For each person, the signatures their roles may make, their items overdue or due "
        f"soon and their training not yet done: {link(go(INBOXES), 'what waits for whom')}."
        "</p>",
    ]


def _training(publication: Publication, go: Link) -> list[str]:
    """Training overdue and compliance by audience (the versions in force), from the matrix."""
    matrix = publication.training
    if matrix is None or not matrix.rows:
        return []
    tallies = matrix.by_audience()
    overdue = len(matrix.overdue)
    return [
        "<h2>Training</h2>",
        f"<p>{overdue} overdue; see {link(go(TRAINING), 'the training page')} for who and what."
        "</p>",
        charts.bars(
            "Trained, per cent of those required, by audience",
            [(t.name, round(100 * t.trained / t.required)) for t in tallies if t.required],
            "%",
        ),
    ]


def _plural(label: str) -> str:
    return f"{label}s"


def _first_up(words: str) -> str:
    return words[:1].upper() + words[1:]


def _kind_figures(kind: KindFigures) -> list[str]:
    many = _plural(kind.label)
    parts = [
        f"<h2>Open {text(many)} by state</h2>",
        charts.bars(f"Open {many} by state", list(kind.by_state)),
        f"<h2>Open {text(many)} by age</h2>",
        charts.bars(f"Open {many} by days since opened", list(kind.by_age)),
    ]
    months = kind.extra.by_month
    if months:
        series = [*LEVELS, "unclassified"]
        title = f"{_first_up(many)} per month by classification"
        parts += [
            f"<h2>{text(title)}</h2>",
            charts.stacked_columns(f"{title} (last 12 months)", months, series),
            table(
                ["Month", *series],
                [[text(m), *(str(v.get(s, 0)) for s in series)] for m, v in months if v],
            ),
        ]
    if kind.extra.by_type:
        title = f"{_first_up(many)} by type"
        parts += [f"<h2>{text(title)}</h2>", charts.bars(title, list(kind.extra.by_type))]
    return parts


def _verification(publication: Publication, go: Link) -> str:
    parts = [
        "<p>Every signature in the history of the published commit was verified when this site "
        "was built: the SSH or OpenPGP signature, the key registered to the signer on that day, "
        "the role the policy requires, separation of duties and the exact content signed.</p>",
        "<ul>",
        f"<li>Published commit: <code>{text(publication.commit)}</code></li>",
        f"<li>Trust root: <code>{text(publication.trust_root or '—')}</code></li>",
        f"<li>Signatures judged: {publication.signatures}; not counted: "
        f"{len(publication.invalid)}</li>",
        "</ul>",
    ]
    if publication.invalid:
        parts.append("<h2>Signatures that do not count</h2><ul>")
        for verdict in publication.invalid:
            parts.append(
                f"<li>{moment(verdict.when)}: {text(verdict.record)} {text(verdict.meaning)} "
                f"by {text(verdict.signer)} (<code>{text(verdict.commit[:12])}</code>): "
                f"{text('; '.join(verdict.problems))}</li>"
            )
        parts.append("</ul>")
    for note in publication.notes:
        parts.append(f"<p>Note: {text(note)}</p>")
    return "".join(parts)
