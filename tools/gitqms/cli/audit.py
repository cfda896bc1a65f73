"""`qms verify` and `qms log`: what the signatures in history are worth, and a record's trail."""

from __future__ import annotations

import csv
import io

import click

from .. import git
from ..errors import Exit
from ..record_log import record_log
from ..server.receipts import DatedReceipt, dated_receipts
from ..signatures.verify import Verdict, verify_history
from .common import FORMAT_OPTION, echo_json, plural, printable, repository


def _receipt_line(dated: DatedReceipt) -> str:
    receipt = dated.receipt
    where = [w for w in (receipt.ref, receipt.pusher and f"by {receipt.pusher}") if w]
    where += [f"from {receipt.address}"] if receipt.address else []
    return f"    received {receipt.received:%Y-%m-%d %H:%M:%S}Z" + (
        f" ({', '.join(where)})" if where else ""
    )


def _echo_receipt(dated: DatedReceipt | None) -> None:
    """The server's receipt under a signature or change, and the flag when its date is off."""
    if dated is None:
        return
    click.echo(printable(_receipt_line(dated)))
    if dated.flag:
        click.secho(printable(f"    {dated.flag}"), fg="yellow", bold=True)


def _receipt_json(receipts: dict[str, DatedReceipt], commit: str) -> dict[str, object]:
    dated = receipts.get(commit)
    return {
        "receipt": dated.receipt.to_json() if dated else None,
        "date_flag": dated.flag if dated else None,
    }


def _verdict_json(verdict: Verdict) -> dict[str, object]:
    return {
        "commit": verdict.commit,
        "date": verdict.when.isoformat(),
        "record": verdict.record,
        "version": verdict.version,
        "meaning": verdict.meaning,
        "reason": verdict.reason,
        "signer": verdict.signer,
        "email": verdict.email,
        "person": verdict.person,
        "role": verdict.role,
        "key": verdict.fingerprint,
        "status": verdict.status,
        "problems": list(verdict.problems),
        "superseded": verdict.superseded,
    }


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
    flagged = sum(1 for d in (receipts or {}).values() if d.flag)
    if output_format == "json":
        signatures = [_verdict_json(v) for v in report.verdicts]
        if receipts is not None:
            for verdict, value in zip(report.verdicts, signatures, strict=True):
                value.update(_receipt_json(receipts, verdict.commit))
        echo_json(
            {
                "commits": report.commits,
                "trust_root": report.trust_root,
                "signatures": signatures,
                "failures": len(report.failures),
                "notes": report.notes,
            }
            | ({"date_flags": flagged} if receipts is not None else {})
        )
    else:
        for verdict in report.verdicts:
            colour = {"valid": "green", "superseded": "yellow"}.get(verdict.status, "red")
            version = f" v{verdict.version}" if verdict.version else ""
            click.echo(
                click.style(f"{verdict.status:<10}", fg=colour, bold=True)
                + printable(
                    f" {verdict.commit[:12]} {verdict.when:%Y-%m-%d %H:%M}Z "
                    f"{verdict.record}{version} {verdict.meaning} by {verdict.signer}"
                )
            )
            for problem in verdict.problems:
                click.echo(printable(f"    {problem}"))
            if verdict.superseded:
                click.echo(printable(f"    {verdict.superseded}"))
            _echo_receipt((receipts or {}).get(verdict.commit))
        for note in report.notes:
            click.echo(printable(f"note: {note}"))
        summary = (
            f"{plural(report.commits, 'commit')}, {plural(len(report.verdicts), 'signature')}, "
            f"{len(report.failures)} invalid"
        )
        if flagged:
            summary += f", {flagged} with a date far from its receipt"
        if report.trust_root:
            summary += f"; trust root {report.trust_root[:12]}"
        click.secho(summary, fg="red" if report.failures else "green")
    ctx.exit(Exit.FINDINGS if report.failures else Exit.OK)


@click.command("log")
@click.argument("record_id", metavar="RECORD")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "csv"]),
    default="text",
    show_default=True,
    help="text for people, json or csv for machines and spreadsheets.",
)
@click.pass_context
def log(ctx: click.Context, record_id: str, output_format: str) -> None:
    """The audit trail of RECORD: every commit that changed or signed it, oldest first.

    Each line gives the UTC date-time, the printed name, the meaning (or the kind of change),
    the reason, the signature verdict and what changed.
    """
    repo = repository(ctx)
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
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            # A cell starting with = + - @ would run as a formula in a spreadsheet.
            writer.writerow({k: ("'" + v if v[:1] in "=+-@\t\r" else v) for k, v in row.items()})
        click.echo(out.getvalue(), nl=False)
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
