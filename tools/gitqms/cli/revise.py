"""`qms revise DOC`: the next version of a controlled document, ready to edit."""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

import click

from .. import clock, git
from ..actions.revise import open_change_controls
from ..actions.revise import revise as revise_document
from ..records.kinds import kind_of_id
from . import completers
from .common import DAY, printable, start_folder


@click.command()
@click.argument("document", metavar="DOCUMENT", shell_complete=completers.documents)
@click.option("--reason", help="What changes and why (the change reason); asked for on a terminal.")
@click.option(
    "--change-control",
    metavar="CC-YYYY-NNNN",
    shell_complete=completers.change_controls,
    help="The change control the revision is made under (its release then waits for its "
    "approval); on a terminal, chosen from the open ones when not given.",
)
@click.option(
    "--effective-date",
    "effective",
    type=DAY,
    help="The day it takes effect (default: empty, approval plus the training window).",
)
@click.option(
    "--edit/--no-edit",
    default=None,
    help="Open the new version in your editor (the default on a terminal).",
)
@click.pass_context
def revise(
    ctx: click.Context,
    document: str,
    reason: str | None,
    change_control: str | None,
    effective: date | None,
    edit: bool | None,
) -> None:
    """Start the next version of DOCUMENT from the version in force: the version raised,
    'supersedes' naming the version it replaces, the change control and reason written, the
    effective date set or left empty. The file is written, not committed: edit the text,
    commit it with a Reason trailer, then have it reviewed and approved.

    On a terminal, what is not given is asked for: the reason, and the change control, chosen
    from those not closed (empty for none); the new version then opens in your editor.
    """
    root = start_folder(ctx)
    desk = sys.stdin.isatty() and sys.stdout.isatty()
    if reason is None:
        if not desk:
            raise click.UsageError("--reason is required: what changes and why")
        reason = click.prompt("Reason for the change (what changes and why)")
    if change_control is None and desk:
        change_control = _choose_change_control(root)
    done = revise_document(root, document, reason, change_control, effective, clock.today())
    click.echo(
        printable(f"{done.path}: {done.record} v{done.version}, superseding v{done.supersedes}")
    )
    if edit or (edit is None and desk):
        git.run_editor(git.editor(done.path.parent), done.path)
    click.echo(
        printable(
            f"next: edit the text, then `qms commit -m '{done.record} v{done.version}' "
            f"--reason '…' {os.path.relpath(done.path, root)}`, then `qms review` and "
            "`qms approve`"
        )
    )


def _choose_change_control(root: Path) -> str | None:
    """The change control a person picks from the open ones (or a paper reference that is no
    record's ID); None for none. An ID no open change control holds is asked again."""
    open_ones = open_change_controls(root)
    if open_ones:
        click.echo("Open change controls:")
        for record, title, state in open_ones:
            click.echo(printable(f"  {record}  {title} ({state})"))
    known = {record for record, _, _ in open_ones}
    while True:
        answer = click.prompt(
            "Change control it is made under (CC-YYYY-NNNN, empty for none)",
            default="",
            show_default=False,
        ).strip()
        if not answer or answer in known or kind_of_id(answer) is None:
            return answer or None
        click.echo(
            printable(
                f"{answer} is not an open change control of this repository; give one listed "
                "above, a paper reference, or nothing"
            )
        )
