"""Dashboards and the verification summary: charts drawn as static SVG at build time."""

from __future__ import annotations

from functools import partial

from ..reports.metrics import LEVELS, OnTime
from ..reports.publication import Publication
from . import charts
from .layout import Link, PageSpec, day, due_rows, link, moment, table
from .sanitise import text
from .sop_pages import record_uri

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
    figures = publication.metrics
    months = figures.deviations_by_month
    series = [*LEVELS, "unclassified"]
    return "".join(
        [
            f"<p>Figures for {day(publication.on)}, from the records as committed.</p>",
            "<h2>Overdue items</h2>",
            due_rows(figures.overdue, publication.people, lambda r: link(go(record_uri(r)), r)),
            "<h2>Open CAPAs by state</h2>",
            charts.bars("Open CAPAs by state", list(figures.capa_by_state)),
            "<h2>Open CAPAs by age</h2>",
            charts.bars("Open CAPAs by days since opened", list(figures.capa_by_age)),
            "<h2>Deviations per month by classification</h2>",
            charts.stacked_columns(
                "Deviations per month by classification (last 12 months)", months, series
            ),
            table(
                ["Month", *series],
                [[text(m), *(str(v.get(s, 0)) for s in series)] for m, v in months if v],
            ),
            "<h2>Deviations by type</h2>",
            charts.bars("Deviations by type", list(figures.deviations_by_type)),
            "<h2>On-time closure</h2>",
            "<ul>",
            f"<li>CAPA closed by their due date: {text(_rate(figures.capa_on_time))}</li>",
            "<li>Deviations closed by their investigation due date: "
            f"{text(_rate(figures.deviation_on_time))}</li>",
            "</ul>",
        ]
    )


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
