"""`qms status`: every record's derived state on a day, as a table for people or JSON."""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from .. import clock
from ..lifecycle.documents import BY_DATE, Version
from ..lifecycle.status import RecordStatus, Snapshot, repository_status
from . import completers
from .common import (
    FORMAT_OPTION,
    STATUS_DATE,
    echo_json,
    plural,
    repository,
)
from .tables import Cell, Column, echo_table


@click.command()
@click.argument("records", nargs=-1, metavar="[RECORD...]", shell_complete=completers.records)
@STATUS_DATE
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
        _table(snapshot, day)
        overdue = sum(1 for r in snapshot.records if r.overdue)
        click.echo(f"{plural(len(snapshot.records), 'record')}, {overdue} with overdue items")


def _table(snapshot: Snapshot, day: date) -> None:
    names = ("ID", "State", "Version", "Effective", "Next review", "Next due", "Notes")
    rows: list[list[str | Cell]] = []
    for record in snapshot.records:
        due = _next_due(record)
        rows.append(
            [
                record.id,
                record.state,
                record.version or "",
                _effective(record),
                record.next_review.isoformat() if record.next_review else "",
                Cell(due, "bold red") if record.overdue else due,
                "; ".join(record.notes),
            ]
        )
        rows.extend(list(extra) for extra in _next_rows(record))
    echo_table(
        f"Status on {day.isoformat()} at {snapshot.commit[:12]}",
        [Column(name, no_wrap=name in ("ID", "Next review")) for name in names],
        rows,
    )


def _next_due(record: RecordStatus) -> str:
    """The first item due, or the first overdue one and how many more are late."""
    upcoming = sorted(record.due, key=lambda d: d.due)
    first = upcoming[0] if upcoming else None
    due = f"{first.what} {first.due.isoformat()}" if first else ""
    if first and any(d.overdue for d in upcoming):
        late = [d for d in upcoming if d.overdue]
        due = f"OVERDUE: {late[0].what} {late[0].due.isoformat()}" + (
            f" (+{len(late) - 1})" if len(late) > 1 else ""
        )
    return due


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


def _next_rows(record: RecordStatus) -> list[tuple[str, ...]]:
    """A row under an SOP for each version after the one shown: approved and not yet effective,
    or being written (draft, in review), with the signatures it has so far; under a change
    control, a row for each document version it lists."""
    document = record.document
    if document is None:
        return [
            ("", a.status, f"{a.record} v{a.version}", str(a.effective_from or ""), "", "", "")
            for a in record.affected  # the documents a change control lists
        ]
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
    if record.affected:
        value["documents"] = [item.to_json() for item in record.affected]
    return value


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
