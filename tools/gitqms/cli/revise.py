"""`qms revise DOC`: the next version of a controlled document, ready to edit."""

from __future__ import annotations

from datetime import date

import click

from .. import clock
from ..actions.revise import revise as revise_document
from . import completers
from .common import DAY, printable, start_folder


@click.command()
@click.argument("document", metavar="DOCUMENT", shell_complete=completers.documents)
@click.option("--reason", required=True, help="What changes and why (the change reason).")
@click.option(
    "--change-control",
    metavar="CC-YYYY-NNNN",
    help="The change control the revision is made under (its release then waits for its approval).",
)
@click.option(
    "--effective-date",
    "effective",
    type=DAY,
    help="The day it takes effect (default: empty, approval plus the training window).",
)
@click.option("--edit", is_flag=True, help="Open the new version in $EDITOR.")
@click.pass_context
def revise(
    ctx: click.Context,
    document: str,
    reason: str,
    change_control: str,
    effective: date | None,
    edit: bool,
) -> None:
    """Start the next version of DOCUMENT from the version in force: the version raised,
    'supersedes' naming the version it replaces, the change control and reason written, the
    effective date set or left empty. The file is written, not committed: edit the text,
    commit it with a Reason trailer, then have it reviewed and approved.
    """
    done = revise_document(
        start_folder(ctx), document, reason, change_control, effective, clock.today()
    )
    click.echo(
        printable(f"{done.path}: {done.record} v{done.version}, superseding v{done.supersedes}")
    )
    if edit:
        click.edit(filename=str(done.path))
    click.echo(
        printable(
            f"next: edit the text, then `qms commit -m '{done.record} v{done.version}' "
            f"--reason '…' {done.path.name}`, then `qms review` and `qms approve`"
        )
    )
