"""`qms training`: who is trained on which document version in force, on any day."""

from __future__ import annotations

from datetime import date

import click

from .. import clock
from ..csv_cells import csv_text
from ..errors import Exit, QmsError
from ..lifecycle.training import OVERDUE, TRAINED, Matrix, Row, repository_training
from . import completers
from .common import (
    FORMAT_CSV_OPTION,
    STATUS_DATE,
    echo_json,
    echo_table,
    plural,
    printable,
    repository,
)

CSV_FIELDS = (
    "person",
    "name",
    "document",
    "version",
    "in_force",
    "effective_from",
    "audiences",
    "status",
    "due",
    "trained_on",
    "by",
)


@click.command()
@click.option(
    "--person", shell_complete=completers.people, help="Only this person (a person ID of qms.yaml)."
)
@click.option(
    "--document",
    shell_complete=completers.documents,
    help="Only this document (SOP-0001, WI-0003, …).",
)
@click.option(
    "--audience",
    shell_complete=completers.audiences,
    help="Only this training audience (qms.yaml `audiences`).",
)
@STATUS_DATE
@FORMAT_CSV_OPTION
@click.pass_context
def training(
    ctx: click.Context,
    person: str | None,
    document: str | None,
    audience: str | None,
    on: date | None,
    output_format: str,
) -> None:
    """The training matrix on a day: each person in a document version's training audiences
    against the versions in force and those approved to become effective, trained (by their
    read-and-understood signature, a trainer's recorded session, or carried over when the
    change control said no retraining), due or overdue; and compliance per audience.

    Answers "was this person trained on the version in force that day" with --person and
    --date. Read from the committed history (HEAD). Exit 1 when anything shown is overdue.
    """
    day = clock.day_or_today(on)
    _, full = repository_training(repository(ctx).root, day)
    _known(full, person)
    matrix = full.only(person, document, audience)
    if output_format == "json":
        echo_json(
            {
                "date": day.isoformat(),
                "commit": full.commit,
                "rows": [row.to_json() for row in matrix.rows],
                "audiences": [tally.to_json() for tally in matrix.by_audience()],
                "documents": [tally.to_json() for tally in matrix.by_document()],
                "overdue": len(matrix.overdue),
            }
        )
    elif output_format == "csv":
        click.echo(csv_text(CSV_FIELDS, (_csv_row(row) for row in matrix.rows)), nl=False)
    else:
        _text(matrix, day, person)
    ctx.exit(Exit.FINDINGS if matrix.overdue else Exit.OK)


def _known(matrix: Matrix, person: str | None) -> None:
    if person is not None and not any(p.id == person for p in matrix.people):
        raise QmsError(
            f"{person} is not a person in the training matrix on {matrix.on}",
            hint="name a person ID of qms.yaml who had joined and not left on that day",
        )


def _nothing(matrix: Matrix, day: date, asked: str | None) -> str:
    if asked is not None and not matrix.memberships.get(asked):
        return (
            f"{asked} is in no training audience on {day}: nothing is required of them "
            "(qms people set --audience adds one)"
        )
    return f"No training required on {day} for what was asked."


def _csv_row(row: Row) -> dict[str, str]:
    done = row.fulfilment
    return {
        "person": row.person,
        "name": row.name,
        "document": row.document,
        "version": str(row.version),
        "in_force": "yes" if row.in_force else "no",
        "effective_from": row.effective_from.isoformat(),
        "audiences": " ".join(row.audiences),
        "status": row.status,
        "due": row.due.isoformat(),
        "trained_on": done.on.isoformat() if done else "",
        "by": f"{done.text} ({done.commit[:12]})" if done else "",
    }


def _order(row: Row) -> tuple[int, str, str, int]:
    rank = 0 if row.status == OVERDUE else 2 if row.status == TRAINED else 1
    return rank, row.person, row.document, row.version


def _text(matrix: Matrix, day: date, person: str | None) -> None:
    rows = sorted(matrix.rows, key=_order)
    if not rows:
        click.echo(printable(_nothing(matrix, day, person)))
        return
    echo_table(
        f"Training on {day}",
        ["Status", "Person", "Document", "Due", "Trained", "By"],
        [
            [
                row.status.upper() if row.status == OVERDUE else row.status,
                f"{row.name} ({row.person})",
                f"{row.document} v{row.version}"
                + ("" if row.in_force else f" (effective {row.effective_from})"),
                row.due.isoformat(),
                row.fulfilment.on.isoformat() if row.fulfilment else "",
                row.fulfilment.text if row.fulfilment else "",
            ]
            for row in rows
        ],
    )
    echo_table(
        "Compliance by audience (versions in force)",
        ["Audience", "Trained", "Due", "Overdue"],
        [
            [
                tally.name,
                f"{tally.trained} of {tally.required}",
                str(tally.required - tally.trained - tally.overdue),
                str(tally.overdue),
            ]
            for tally in matrix.by_audience()
        ],
    )
    click.echo(
        printable(
            f"{plural(len(matrix.overdue), 'overdue item')}, "
            f"{plural(sum(r.status != TRAINED for r in rows), 'item')} not yet trained"
        )
    )
