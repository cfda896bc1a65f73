"""`qms log RECORD`: one record's audit trail, every commit that changed or signed it."""

from __future__ import annotations

from typing import Any

import click

from ..audit.record_log import LogEntry, record_log, record_named
from ..audit.verification import receipt_line
from ..csv_cells import csv_text
from ..history.receipts import DatedReceipt, dated_receipts
from . import completers
from .common import FORMAT_CSV_OPTION, echo_json, printable, repository, start_folder


@click.command("log")
@click.argument("record", metavar="RECORD", shell_complete=completers.logged)
@FORMAT_CSV_OPTION
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
    if output_format == "text":
        for e in entries:
            reason = f" — {e.reason}" if e.reason else ""
            click.echo(
                printable(
                    f"{e.when:%Y-%m-%d %H:%M}Z {e.commit[:12]} {e.name}: {e.action}{reason}\n"
                    f"    {e.summary}\n    signature: {e.verdict}"
                )
            )
            _echo_receipt((receipts or {}).get(e.commit))
        return
    rows = _rows(entries, receipts)
    if output_format == "json":
        echo_json({"record": record_id, "entries": rows})
    else:
        click.echo(csv_text(list(rows[0]), rows), nl=False)


def _rows(
    entries: list[LogEntry], receipts: dict[str, DatedReceipt] | None
) -> list[dict[str, Any]]:
    """One row per entry for json and csv; receipt columns only where receipts were fetched."""
    rows: list[dict[str, Any]] = []
    for e in entries:
        row = {
            "commit": e.commit,
            "date": e.when.isoformat(),
            "name": e.name,
            "email": e.email,
            "action": e.action,
            "reason": e.reason or "",
            "verdict": e.verdict,
            "summary": e.summary,
        }
        if receipts is not None:
            dated = receipts.get(e.commit)
            row["received"] = dated.receipt.received.isoformat() if dated else ""
            row["pusher"] = (dated.receipt.pusher or "") if dated else ""
            row["date_flag"] = (dated.flag or "") if dated else ""
        rows.append(row)
    return rows


def _echo_receipt(dated: DatedReceipt | None) -> None:
    """The server's receipt under a change, and the flag when its date is off."""
    if dated is None:
        return
    click.echo(printable(receipt_line(dated.receipt.to_json())))
    if dated.flag:
        click.secho(printable(f"    {dated.flag}"), fg="yellow", bold=True)
