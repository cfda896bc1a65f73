"""`qms import`: legacy SOPs, CAPA and deviation logs migrated with a gap-analysis report."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import get_args

import click

from ..errors import Exit, QmsError
from ..importing.attendance import KIND as SESSIONS
from ..importing.attendance import plan_attendance
from ..importing.fields import normalise
from ..importing.gaps import ImportReport
from ..importing.plan import ImportPlan, plan_import
from ..importing.request import ImportKind, ImportRequest, parse_assignments
from ..importing.write import place_import
from ..lifecycle.status import repository_status
from ..records.kinds import BY_NAME
from ..records.repository import Repository
from ..validation.run import require_config
from .common import (
    FORMAT_OPTION,
    echo_json,
    plural,
    printable,
    repository,
    signing_time,
    start_folder,
)

# KIND is a folder: of each declared kind that importing/ can read.
_KINDS = {kind.folder: kind.name for kind in BY_NAME.values() if kind.name in get_args(ImportKind)}
_KINDS[BY_NAME[SESSIONS].folder] = SESSIONS  # attendance lists (importing/attendance.py)


@click.command("import")
@click.argument("kind", type=click.Choice(sorted(_KINDS)))
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--map",
    "mappings",
    multiple=True,
    metavar="'COLUMN=FIELD'",
    help="Read a column as a record field (dotted, as root_cause.description); FIELD '-' "
    "ignores the column. Header wording is matched ignoring case and punctuation.",
)
@click.option(
    "--default",
    "defaults",
    multiple=True,
    metavar="'FIELD=VALUE'",
    help="Value for a field the source leaves empty or unreadable (as owner=a.weber); "
    "every use is named in the gap report.",
)
@click.option("--sheet", default=None, help="The workbook sheet to read (default: the first).")
@click.option(
    "--day-first",
    "order",
    flag_value="day-first",
    default=None,
    help="Read 03/04/2025 as 3 April (otherwise such a date is a gap).",
)
@click.option(
    "--month-first", "order", flag_value="month-first", help="Read 03/04/2025 as 4 March."
)
@click.option("--dry-run", is_flag=True, help="Show the report; write nothing.")
@click.option(
    "--commit",
    "make_commit",
    is_flag=True,
    help="Record the import as one commit signed by you with the meaning 'migrated' for "
    "every CAPA and deviation (needed for records past their initial state).",
)
@click.option("--reason", default=None, help="Why the records are migrated (with --commit).")
@FORMAT_OPTION
@click.pass_context
def import_records(
    ctx: click.Context,
    kind: str,
    files: tuple[Path, ...],
    mappings: tuple[str, ...],
    defaults: tuple[str, ...],
    sheet: str | None,
    order: str | None,
    dry_run: bool,
    make_commit: bool,
    reason: str | None,
    output_format: str,
) -> None:
    """Migrate legacy records: SOPs from .docx, CAPA and deviation logs from .xlsx or .csv,
    and attendance lists from a learning-management system as training sessions.

    KIND is sops, capa, deviations or training. An attendance list (columns date, person,
    document and optionally version, trainer, method, result; --default trainer=… and
    --default method=… fill empty cells) becomes one draft training session per day,
    trainer, method and document version, on the exact content of that version; the trainer
    then signs each (`qms advance TRN-… --to recorded`). Every row or document is built, validated and checked
    for patient identifiers before anything is written; those that fail are not imported and
    the gap-analysis report (imports/gap-analysis-DATE-KIND-SOURCE.md) says why, with every
    missing, assumed or ambiguous value and unmapped column. Records get new IDs and a
    'migration' block naming the source file, sheet and row, legacy ID and the file's SHA-256.
    Imported SOPs are drafts until reviewed and approved here. Exits 1 when a row or document
    was not imported.
    """
    if make_commit and dry_run:
        raise QmsError("--dry-run writes nothing, so it cannot --commit")
    if make_commit and not (reason and reason.strip()):
        raise QmsError("--commit needs --reason", hint="--reason 'migration of the 2025 CAPA log'")
    repo = repository(ctx)
    config = require_config(repo)
    now = signing_time(ctx)
    files = tuple(start_folder(ctx) / path for path in files)  # as git -C: from that folder
    if _KINDS[kind] == SESSIONS:
        if mappings or sheet or order:
            raise QmsError("an attendance list takes no --map, --sheet or date order options")
        snapshot = repository_status(repo.root, now.date())
        plan = plan_attendance(
            repo, config, snapshot, files, parse_assignments(defaults, "--default"), now
        )
        _place(ctx, repo, plan, dry_run, reason if make_commit else None, now, output_format)
        return
    columns = {normalise(k): v for k, v in parse_assignments(mappings, "--map").items()}
    request = ImportRequest(
        _KINDS[kind],  # type: ignore[arg-type]
        files,
        columns,
        parse_assignments(defaults, "--default"),
        order,  # type: ignore[arg-type]
        sheet,
    )
    plan = plan_import(repo, config, request, now)
    _place(ctx, repo, plan, dry_run, reason if make_commit else None, now, output_format)


def _place(
    ctx: click.Context,
    repo: Repository,
    plan: ImportPlan,
    dry_run: bool,
    reason: str | None,
    now: datetime,
    output_format: str,
) -> None:
    report = plan.report
    report.dry_run = dry_run
    if not dry_run:
        place_import(repo, plan, reason.strip() if reason else None, now)
    if output_format == "json":
        echo_json(report.to_json())
    else:
        _echo(report, written=not dry_run)
    ctx.exit(Exit.FINDINGS if report.refused else Exit.OK)


def _echo(report: ImportReport, *, written: bool) -> None:
    for file in report.files:
        what = "document" if BY_NAME[report.kind].is_document else "row"
        click.echo(printable(f"{file.source}: {plural(file.read, what)} read"))
        for outcome in file.outcomes:
            where = outcome.where()
            if outcome.imported:
                click.echo(printable(f"  {where}: {outcome.record_id}"))
            else:
                click.secho(
                    printable(f"  {where}: not imported: {'; '.join(outcome.refused)}"),
                    fg="red",
                )
    click.echo(f"{report.read} read: {report.imported} imported, {report.refused} not imported")
    if written:
        click.echo(printable(f"gap analysis: {report.report_path}"))
        if report.commit:
            click.echo(f"signed commit {report.commit[:12]}")
        if report.kind == SESSIONS and report.imported:
            click.echo(
                "the sessions are drafts: the trainer named in each checks it and signs it "
                "with `qms advance TRN-… --to recorded`"
            )
        elif not report.commit and not BY_NAME[report.kind].is_document and report.imported:
            click.secho(
                "note: written, not committed. A migrated CAPA or deviation past its initial "
                "state counts only in a commit signed 'migrated' (qms import … --commit "
                "--reason …); a plain commit of it fails `qms check`.",
                fg="yellow",
            )
    else:
        click.echo("nothing written" + (" (dry run)" if report.dry_run else ""))
