"""`qms advance RECORD --to STATE`: a CAPA or deviation moved along its lifecycle, signed."""

from __future__ import annotations

import click

from ..actions.advance import advance as advance_record
from . import completers
from .common import printable, signing_time, start_folder


@click.command()
@click.argument("record", metavar="RECORD", shell_complete=completers.stateful)
@click.option(
    "--to",
    "target",
    required=True,
    shell_complete=completers.states,
    help="The state to move to.",
)
@click.option(
    "--reason",
    help="Why; recorded in the Reason trailer (required to reopen or cancel, and written "
    "into reopen_reason or cancel_reason).",
)
@click.pass_context
def advance(ctx: click.Context, record: str, target: str, reason: str | None) -> None:
    """Move a CAPA or deviation to another state, as a commit you sign.

    Checks that the lifecycle in qms.yaml allows the move, that the new state's fields are
    filled in, and that you hold a role its signature meaning needs; writes the state (and
    the closing date, or the reason for reopening or cancelling); makes the signed commit,
    which must pass `qms check` before the branch moves.
    """
    done = advance_record(start_folder(ctx), record, target, reason, signing_time(ctx))
    click.echo(
        printable(
            f"{done.record}: {done.source} -> {done.target}, signed '{done.meaning}' "
            f"in commit {done.commit[:12]}"
        )
    )
