"""`qms commit -m MSG --reason R [PATH…]`: an author's change with the Reason `qms check` needs."""

from __future__ import annotations

from pathlib import Path

import click

from ..actions.commit import commit_changes
from .common import plural, printable, repository, start_folder


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("-m", "--message", required=True, help="The commit message (its summary first).")
@click.option("--reason", required=True, help="Why the files changed: the 'Reason:' trailer.")
@click.pass_context
def commit(ctx: click.Context, paths: tuple[Path, ...], message: str, reason: str) -> None:
    """Stage PATHs (none: commit what is staged) and commit with the trailer 'Reason: R'.

    The controlled files the commit changes must validate first; the commit is signed when git
    is set to sign or you are a registered person with a key (authorship is proven by signed
    commits). Refused, changing nothing, for an empty reason, a message that already gives
    another Reason, or nothing to commit.
    """
    start = start_folder(ctx)
    repo = repository(ctx)
    chosen = [str(path if path.is_absolute() else start / path) for path in paths]
    done = commit_changes(repo, message, reason, chosen)
    signed = "signed" if done.signed else "unsigned"
    click.echo(
        printable(
            f"{signed} commit {done.commit[:12]}: {plural(len(done.paths), 'file')}, "
            f"{len(done.controlled)} controlled, Reason: {' '.join(reason.split())}"
        )
    )
