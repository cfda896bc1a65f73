"""`qms list`: the records of the repository, one line each."""

from __future__ import annotations

import click
from rich.table import Table
from rich.text import Text

from ..errors import Exit
from ..records.model import AuditReview, Capa, Deviation, Record, Sop
from ..validation.run import validate as run_validation
from .common import FORMAT_OPTION, echo_json, plural, print_table, printable, repository


def _summary(record: Record) -> dict[str, str]:
    if isinstance(record, Sop):
        state = f"version {record.version}"
        dates = (
            f"effective {record.effective_date}"
            if record.effective_date
            else "effective on approval + training window"
        )
        return {"state": state, "owner": record.owner, "dates": dates}
    if isinstance(record, Capa):
        open_actions = sum(1 for action in record.actions if action.is_open)
        return {
            "state": record.state,
            "owner": record.owner,
            "dates": f"opened {record.opened}, due {record.due}, {plural(open_actions, 'open action')}",
        }
    if isinstance(record, AuditReview):
        return {
            "state": f"review of {record.since} to {record.until}",
            "owner": record.reviewer,
            "dates": f"reviewed {record.reviewed_on}",
        }
    assert isinstance(record, Deviation)
    level = record.classification.level if record.classification else "unclassified"
    return {
        "state": f"{record.state} ({record.type}, {level})",
        "owner": record.owner,
        "dates": f"discovered {record.discovered_at[:10]}",
    }


@click.command("list")
@click.option(
    "--kind",
    type=click.Choice(["sop", "capa", "deviation", "audit-review"]),
    help="Only this kind.",
)
@FORMAT_OPTION
@click.pass_context
def list_records(ctx: click.Context, kind: str | None, output_format: str) -> None:
    """List records with their state or version, owner and key dates.

    Records that do not validate are left out and counted; 'qms validate' names their errors.
    """
    result = run_validation(repository(ctx, needs_git=False))
    chosen = [r for r in result.records.values() if kind is None or r.kind.name == kind]
    chosen.sort(key=lambda r: (r.kind.folder, r.id))
    broken = len({f.path for f in result.findings if f.severity == "error" and f.record})
    if output_format == "json":
        echo_json(
            {
                "records": [
                    {
                        "id": r.id,
                        "kind": r.kind.name,
                        "title": r.title,
                        "path": r.path,
                        **_summary(r),
                    }
                    for r in chosen
                ],
                "invalid_files": broken,
            }
        )
    else:
        table = Table(
            title=f"{result.config.organisation if result.config else 'QMS'}: "
            f"{plural(len(chosen), 'record')}"
        )
        table.add_column("ID", no_wrap=True)
        table.add_column("Title")
        table.add_column("State")
        table.add_column("Owner", no_wrap=True)
        table.add_column("Dates")
        for record in chosen:
            summary = _summary(record)
            # Text(): record fields are shown as written, never read as rich markup.
            cells = (record.id, record.title, summary["state"], summary["owner"], summary["dates"])
            table.add_row(*(Text(printable(cell)) for cell in cells))
        print_table(table, width=120)
        if broken:
            click.secho(
                f"{plural(broken, 'record')} left out with errors: run 'qms validate'", fg="red"
            )
    ctx.exit(Exit.FINDINGS if broken else Exit.OK)
