"""`qms status`, `qms advance`, `qms check`, `qms due`: lifecycles and the change gate."""

from __future__ import annotations

from datetime import date
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .. import clock
from ..actions.advance import advance as advance_record
from ..errors import Exit
from ..lifecycle.documents import BY_DATE, Version
from ..lifecycle.due import within
from ..lifecycle.status import RecordStatus, repository_status
from ..rules.check import check_range
from .common import (
    DAY,
    FORMAT_OPTION,
    echo_check_report,
    echo_json,
    plural,
    printable,
    repository,
    signing_time,
    start_folder,
)

_DATE = click.option(
    "--date",
    "on",
    type=DAY,
    default=None,
    help="The day to judge status and due dates for (YYYY-MM-DD; default: today).",
)


def _console() -> Console:
    console = Console()
    return console if console.is_terminal else Console(width=140)


def _next_rows(record: RecordStatus) -> list[tuple[str, ...]]:
    """A row under an SOP for each version after the one shown: approved and not yet effective,
    or being written (draft, in review), with the signatures it has so far."""
    document = record.document
    if document is None:
        return []
    shown = document.current or document.upcoming or document.working
    rows: list[tuple[str, ...]] = []
    for version in (document.upcoming, document.working):
        if version is None or version is shown:
            continue
        effective = version.effective_from or version.effective_date or ""
        signed = ", ".join(f"{s.meaning} by {s.name}" for s in version.signatures)
        cells = ("", f"next: {version.status}", str(version.version), str(effective), "", "")
        rows.append((*cells, signed or "no signatures yet"))
    return rows


def _version_json(version: Version | None) -> dict[str, Any] | None:
    if version is None:
        return None
    return {
        "version": version.version,
        "status": version.status,
        "content": version.content,
        "commit": version.commit or None,
        "effective_date": version.effective_date,
        "approved_on": version.approved_on.isoformat() if version.approved_on else None,
        "effective_from": version.effective_from.isoformat() if version.effective_from else None,
        "effective_rule": version.effective_rule,
        "effective_basis": version.effective_basis,
        "training_window_days": version.window_days,
        "until": version.until.isoformat() if version.until else None,
        "signatures": [
            {
                "meaning": s.meaning,
                "person": s.person,
                "name": s.name,
                "role": s.role,
                "when": s.when.isoformat().replace("+00:00", "Z"),
                "commit": s.commit,
                "reason": s.reason,
            }
            for s in version.signatures
        ],
    }


def _status_json(record: RecordStatus) -> dict[str, Any]:
    value: dict[str, Any] = {
        "id": record.id,
        "kind": record.kind,
        "title": record.title,
        "state": record.state,
        "version": record.version,
        "effective_date": record.effective_date,
        "effective_from": record.effective_from.isoformat() if record.effective_from else None,
        "effective_basis": record.effective_basis,
        "next_review": record.next_review.isoformat() if record.next_review else None,
        "overdue": record.overdue,
        "due": [item.to_json() for item in record.due],
        "notes": list(record.notes),
    }
    if record.document is not None:
        document = record.document
        value["versions"] = [_version_json(v) for v in document.versions]
        value["upcoming"] = _version_json(document.upcoming)
        value["working"] = _version_json(document.working)
        value["last_review"] = document.last_review.isoformat() if document.last_review else None
    else:
        value["signed_state"] = record.signed_state
    return value


def _effective(record: RecordStatus) -> str:
    """The derived effective day, and why when it is not the date as written; for a draft, the
    date as written or the rule it will take."""
    shown = record.shown
    if shown is None:
        return ""
    if shown.effective_from is None:
        return shown.effective_date or f"({shown.effective_basis})"
    day = shown.effective_from.isoformat()
    return day if shown.effective_rule == BY_DATE else f"{day} ({shown.effective_basis})"


@click.command()
@click.argument("records", nargs=-1, metavar="[RECORD...]")
@_DATE
@FORMAT_OPTION
@click.pass_context
def status(
    ctx: click.Context, records: tuple[str, ...], on: date | None, output_format: str
) -> None:
    """Every record's derived state on a day: SOP status from signatures and dates
    (draft, in review, approved, effective, superseded, obsolete), CAPA and deviation states,
    versions, effective dates, next reviews, due dates and overdue flags.

    Read from the committed history (HEAD), never from uncommitted files.
    """
    day = clock.day_or_today(on)
    snapshot = repository_status(repository(ctx).root, day, records)
    if output_format == "json":
        echo_json(
            {
                "date": day.isoformat(),
                "commit": snapshot.commit,
                "records": [_status_json(r) for r in snapshot.records],
                "notes": snapshot.notes,
            }
        )
    else:
        table = Table(title=f"Status on {day.isoformat()} at {snapshot.commit[:12]}")
        for name in ("ID", "State", "Version", "Effective", "Next review", "Next due", "Notes"):
            table.add_column(name, no_wrap=name in ("ID", "Next review"))
        for record in snapshot.records:
            upcoming = sorted(record.due, key=lambda d: d.due)
            first = upcoming[0] if upcoming else None
            due = f"{first.what} {first.due.isoformat()}" if first else ""
            if first and any(d.overdue for d in upcoming):
                late = [d for d in upcoming if d.overdue]
                due = f"OVERDUE: {late[0].what} {late[0].due.isoformat()}" + (
                    f" (+{len(late) - 1})" if len(late) > 1 else ""
                )
            cells = (
                record.id,
                record.state,
                record.version or "",
                _effective(record),
                record.next_review.isoformat() if record.next_review else "",
                due,
                "; ".join(record.notes),
            )
            row = [Text(printable(cell)) for cell in cells]
            if record.overdue:
                row[5].stylize("bold red")
            table.add_row(*row)
            for extra in _next_rows(record):
                table.add_row(*(Text(printable(cell)) for cell in extra))
        _console().print(table)
        overdue = sum(1 for r in snapshot.records if r.overdue)
        click.echo(f"{plural(len(snapshot.records), 'record')}, {overdue} with overdue items")


@click.command()
@click.argument("record", metavar="RECORD")
@click.option("--to", "target", required=True, help="The state to move to.")
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


@click.command()
@click.argument("revisions", metavar="BASE..HEAD")
@FORMAT_OPTION
@click.pass_context
def check(ctx: click.Context, revisions: str, output_format: str) -> None:
    """The change gate for CI and the server: check every commit of BASE..HEAD.

    Touched records valid; a Reason trailer on every change to a record; no record deleted or
    renamed; no edit of an approved SOP version without a version bump; CAPA and deviation
    states only along allowed transitions, signed by the required role; closed records
    unchanged unless reopened; every signature valid; a warning for signatures lost by a
    squash or rebase merge. Exit 1 on any violation.
    """
    report = check_range(repository(ctx).root, revisions)
    if output_format == "json":
        echo_json(
            {
                "base": report.base,
                "head": report.head,
                "commits": report.commits,
                "violations": [v.to_json() for v in report.violations],
                "notes": report.notes,
                "ok": not report.errors,
            }
        )
    else:
        echo_check_report(report)
    ctx.exit(Exit.FINDINGS if report.errors else Exit.OK)


@click.command()
@click.option(
    "--within",
    "days",
    type=click.IntRange(min=0),
    default=30,
    show_default=True,
    help="Show what falls due within this many days, besides everything overdue.",
)
@_DATE
@FORMAT_OPTION
@click.pass_context
def due(ctx: click.Context, days: int, on: date | None, output_format: str) -> None:
    """Overdue and upcoming CAPA actions, effectiveness checks, investigations, external
    reports, OOS notifications, periodic reviews and upcoming effectivity.

    Exit 1 when anything is overdue, so a scheduled CI job can alert.
    """
    day = clock.day_or_today(on)
    snapshot = repository_status(repository(ctx).root, day)
    items = within(snapshot.due, day, days)
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
    ctx.exit(Exit.FINDINGS if overdue else Exit.OK)
