"""`qms inbox`: what waits for one person: signatures, due items, training."""

from __future__ import annotations

from datetime import date

import click

from .. import clock
from ..errors import Exit
from ..lifecycle.training import OVERDUE
from ..reports.inbox import Inbox, inbox
from .common import (
    FORMAT_OPTION,
    STATUS_DATE,
    WITHIN,
    echo_json,
    plural,
    printable,
    repository,
)


@click.command("inbox")
@click.option(
    "--person",
    "person_id",
    default=None,
    help="Whose inbox (a person ID in qms.yaml; default: the one whose email git's user.email is).",
)
@WITHIN
@STATUS_DATE
@FORMAT_OPTION
@click.pass_context
def inbox_command(
    ctx: click.Context, person_id: str | None, days: int, on: date | None, output_format: str
) -> None:
    """What waits for a person: signatures someone with their roles may make (reviews and
    approvals of documents, moves of records) on HEAD and on every branch not merged into it;
    their CAPA actions, effectiveness checks, investigations, reports and periodic reviews
    overdue or due soon; their training not yet done.

    Read from committed history only. Exit 1 when anything is overdue.
    """
    day = clock.day_or_today(on)
    found = inbox(repository(ctx).root, day, person_id, days)
    if output_format == "json":
        echo_json(found.to_json())
    else:
        _echo_text(found, days)
    ctx.exit(Exit.FINDINGS if found.overdue else Exit.OK)


def _echo_text(found: Inbox, days: int) -> None:
    person = found.person
    click.echo(printable(f"Inbox of {person.name} ({person.id}) on {found.on.isoformat()}"))
    click.echo()
    click.secho(f"Signatures waiting ({len(found.signatures)})", bold=True)
    for item in found.signatures:
        click.echo(printable(f"  {item.record} [{item.branch}]: {item.why}"))
    click.echo()
    click.secho(f"Due within {days} days or overdue ({len(found.due)})", bold=True)
    for due in found.due:
        flag = click.style("OVERDUE", fg="red", bold=True) if due.overdue else "due    "
        extra = f" ({due.detail})" if due.detail else ""
        click.echo(
            f"  {flag} " + printable(f"{due.due.isoformat()}  {due.record}: {due.what}{extra}")
        )
    click.echo()
    click.secho(f"Training not yet done ({len(found.training)})", bold=True)
    for row in found.training:
        late = row.status == OVERDUE
        flag = click.style("OVERDUE", fg="red", bold=True) if late else "due    "
        click.echo(
            f"  {flag} "
            + printable(f"{row.due.isoformat()}  {row.document} v{row.version}: {row.title}")
        )
    click.echo()
    click.echo(
        f"{plural(found.overdue, 'overdue item')}, "
        f"{plural(len(found.signatures), 'signature')} waiting"
    )
