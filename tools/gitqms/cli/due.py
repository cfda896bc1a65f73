"""`qms due`: what is overdue or falls due soon, for people and for a scheduled CI job."""

from __future__ import annotations

from datetime import date

import click

from .. import clock
from ..errors import Exit
from ..lifecycle.due import within
from ..lifecycle.training import repository_training, training_due
from .common import (
    FORMAT_OPTION,
    STATUS_DATE,
    WITHIN,
    echo_json,
    plural,
    printable,
    repository,
)


@click.command()
@WITHIN
@STATUS_DATE
@FORMAT_OPTION
@click.pass_context
def due(ctx: click.Context, days: int, on: date | None, output_format: str) -> None:
    """Overdue and upcoming CAPA actions, effectiveness checks, investigations, external
    reports, OOS notifications, periodic reviews, upcoming effectivity and each person's
    training not yet done (`qms training` shows the whole matrix).

    Exit 1 when anything is overdue, so a scheduled CI job can alert.
    """
    day = clock.day_or_today(on)
    snapshot, matrix = repository_training(repository(ctx).root, day)
    items = within([*snapshot.due, *training_due(matrix)], day, days)
    overdue = [item for item in items if item.overdue]
    if output_format == "json":
        echo_json(
            {
                "date": day.isoformat(),
                "within_days": days,
                "commit": snapshot.commit,
                "items": [item.to_json() for item in items],
                "overdue": len(overdue),
            }
        )
    else:
        for item in items:
            flag = click.style("OVERDUE ", fg="red", bold=True) if item.overdue else "due     "
            extra = f" ({item.detail})" if item.detail else ""
            owner = f" [{item.owner}]" if item.owner else ""
            click.echo(
                flag
                + printable(f"{item.due.isoformat()}  {item.record}: {item.what}{owner}{extra}")
            )
        click.echo(
            f"{plural(len(overdue), 'overdue item')}, "
            f"{plural(len(items) - len(overdue), 'item')} due within {days} days"
        )
        if items:
            click.echo(
                "one person's items, and what waits for their signature: qms inbox --person ID"
            )
    ctx.exit(Exit.FINDINGS if overdue else Exit.OK)
