"""`qms verify` and `qms log`: what the signatures in history are worth, and a record's trail."""

from __future__ import annotations

import click

from .. import git
from ..audit.record_log import record_log, record_named
from ..audit.verification import receipt_line, verification_json, verification_lines
from ..csv_cells import csv_text
from ..errors import Exit
from ..history.receipts import DatedReceipt, dated_receipts
from ..signatures.verify import verify_history
from .common import FORMAT_OPTION, echo_json, printable, repository, start_folder

_COLOURS = {
    "valid": "green",
    "superseded": "yellow",
    "invalid": "red",
    "flag": "yellow",
    "ok": "green",
    "failed": "red",
}


def _echo_receipt(dated: DatedReceipt | None) -> None:
    """The server's receipt under a signature or change, and the flag when its date is off."""
    if dated is None:
        return
    click.echo(printable(receipt_line(dated.receipt.to_json())))
    if dated.flag:
        click.secho(printable(f"    {dated.flag}"), fg="yellow", bold=True)


@click.command()
@click.argument("revisions", nargs=-1, metavar="[REVRANGE]")
@click.option(
    "--trust-root",
    help="Commit whose qms.yaml is trusted as is (default: git config qms.trustRoot, else "
    "the commit that introduced qms.yaml).",
)
@FORMAT_OPTION
@click.pass_context
def verify(
    ctx: click.Context, revisions: tuple[str, ...], trust_root: str | None, output_format: str
) -> None:
    """Verify every signature commit in history (or in REVRANGE, such as main..feature).

    Each signature is judged by the registry of its first parent: a good SSH signature, a key
    registered to the committer, inside its validity window and not revoked, a role the policy
    requires for the meaning, separation of duties, and record content as the trailers claim.
    Exit 1 if any signature fails.
    """
    repo = repository(ctx)
    revs = git.expand_range(repo.root, list(revisions) or ["HEAD"])
    report = verify_history(repo.root, revs, trust_root=trust_root)
    # With the server's receipts fetched: when each signature arrived, and a flag if its date
    # is far from that (back-dated or future-dated). A flag does not make a signature invalid.
    receipts = dated_receipts(repo.root, [v.commit for v in report.verdicts])
    value = verification_json(report, receipts)
    if output_format == "json":
        echo_json(value)
    else:
        for line in verification_lines(value):
            colour = _COLOURS.get(line.kind)
            if line.lead:
                click.echo(click.style(line.lead, fg=colour, bold=True) + line.text)
            else:
                click.secho(line.text, fg=colour, bold=line.kind == "flag")
    ctx.exit(Exit.FINDINGS if report.failures else Exit.OK)


@click.command("log")
@click.argument("record", metavar="RECORD")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "csv"]),
    default="text",
    show_default=True,
    help="text for people, json or csv for machines and spreadsheets.",
)
@click.pass_context
def log(ctx: click.Context, record: str, output_format: str) -> None:
    """The audit trail of RECORD: every commit that changed or signed it, oldest first.

    RECORD is an ID (SOP-0003, qms.yaml) or a record's file (sops/SOP-0003.md), from the
    current folder or the repository root.

    Each line gives the UTC date-time, the printed name, the meaning (or the kind of change:
    created, changed, or "merged from branch X" as the merge's message names it), the reason,
    the signature verdict and what changed.
    """
    repo = repository(ctx)
    record_id = record_named(repo.root, record, start_folder(ctx))
    entries = record_log(repo.root, record_id)
    receipts = dated_receipts(repo.root, [e.commit for e in entries])
    rows = [
        {
            "commit": e.commit,
            "date": e.when.isoformat(),
            "name": e.name,
            "email": e.email,
            "action": e.action,
            "reason": e.reason or "",
            "verdict": e.verdict,
            "summary": e.summary,
        }
        for e in entries
    ]
    if receipts is not None:  # columns only where the server's receipts were fetched
        for entry, row in zip(entries, rows, strict=True):
            dated = receipts.get(entry.commit)
            row["received"] = dated.receipt.received.isoformat() if dated else ""
            row["pusher"] = (dated.receipt.pusher or "") if dated else ""
            row["date_flag"] = (dated.flag or "") if dated else ""
    if output_format == "json":
        echo_json({"record": record_id, "entries": rows})
    elif output_format == "csv":
        click.echo(csv_text(list(rows[0]), rows), nl=False)
    else:
        for e in entries:
            reason = f" — {e.reason}" if e.reason else ""
            click.echo(
                printable(
                    f"{e.when:%Y-%m-%d %H:%M}Z {e.commit[:12]} {e.name}: {e.action}{reason}\n"
                    f"    {e.summary}\n    signature: {e.verdict}"
                )
            )
            _echo_receipt((receipts or {}).get(e.commit))
