"""`qms sign`, `qms review`, `qms approve`: electronic signatures as signed commits."""

from __future__ import annotations

import click

from ..actions.sign import sign_records
from ..lifecycle.approval import approval_notices
from . import completers
from .common import printable, repository, signing_time, start_folder

_REASON = click.option(
    "--reason",
    help="Why you sign; recorded in the commit's Reason trailer and shown in the audit trail.",
)


def _sign(ctx: click.Context, records: tuple[str, ...], meaning: str, reason: str | None) -> None:
    commit = sign_records(start_folder(ctx), list(records), meaning, reason, signing_time(ctx))
    click.echo(printable(f"signed '{meaning}' for {', '.join(records)} in commit {commit[:12]}"))
    for notice in approval_notices(repository(ctx).root, commit, records, meaning):
        text = f"warning: {notice.text}" if notice.warning else notice.text
        click.echo(printable(text), err=notice.warning)


@click.command()
@click.argument(
    "records", nargs=-1, required=True, metavar="RECORD...", shell_complete=completers.records
)
@click.option(
    "--meaning",
    required=True,
    shell_complete=completers.meanings,
    help="What the signature means, as named in the signature policy of qms.yaml "
    "(reviewed, approved, retired, periodic-review, classified, closed, ...).",
)
@_REASON
@click.pass_context
def sign(ctx: click.Context, records: tuple[str, ...], meaning: str, reason: str | None) -> None:
    """Sign records: one signed commit over their committed content.

    Uses your git identity (user.name, user.email) and git's signing setup: SSH (gpg.format
    ssh, user.signingkey) or OpenPGP through gpg (gpg.format openpgp, user.signingkey). Before anything is written it checks that the records validate,
    that your key is registered to you and valid, that you hold a role the policy requires
    for MEANING, and separation of duties (an author of a version cannot approve it).
    """
    _sign(ctx, records, meaning, reason)


@click.command()
@click.argument(
    "records", nargs=-1, required=True, metavar="RECORD...", shell_complete=completers.records
)
@_REASON
@click.pass_context
def review(ctx: click.Context, records: tuple[str, ...], reason: str | None) -> None:
    """Sign records with the meaning 'reviewed' (same as qms sign --meaning reviewed)."""
    _sign(ctx, records, "reviewed", reason)


@click.command()
@click.argument(
    "records", nargs=-1, required=True, metavar="RECORD...", shell_complete=completers.records
)
@_REASON
@click.pass_context
def approve(ctx: click.Context, records: tuple[str, ...], reason: str | None) -> None:
    """Sign records with the meaning 'approved' (same as qms sign --meaning approved)."""
    _sign(ctx, records, "approved", reason)


@click.command()
@click.argument(
    "records",
    nargs=-1,
    required=True,
    metavar="DOCUMENT...",
    shell_complete=completers.documents,
)
@_REASON
@click.pass_context
def acknowledge(ctx: click.Context, records: tuple[str, ...], reason: str | None) -> None:
    """Sign that you have read and understood documents: the meaning 'read-and-understood' on
    the committed content, which must be an approved version whose training audience you are
    in (same as qms sign --meaning read-and-understood)."""
    _sign(ctx, records, "read-and-understood", reason or "read and understood")
