"""`qms new KIND`: a new SOP, CAPA or deviation from its template, with the next free ID."""

from __future__ import annotations

import click

from ..actions.new import SOURCE_CHOICES, TYPE_CHOICES, NewRecord, new_kinds, new_record
from ..validation.run import require_config
from . import completers
from .common import repository, signing_time
from .kinds import KindChoice


@click.command()
@click.argument("kind", type=KindChoice(lambda kind: kind in new_kinds()))
@click.option("--title", required=True, help="One-line title of the record.")
@click.option(
    "--owner",
    shell_complete=completers.people,
    help="Person ID of the owner (default: you, by your git email).",
)
@click.option(
    "--area",
    shell_complete=completers.areas,
    help="Area from qms.yaml (default: the first listed).",
)
@click.option(
    "--type",
    "deviation_type",
    type=click.Choice(TYPE_CHOICES),
    default="unplanned",
    show_default=True,
    help="Deviation type (deviations only).",
)
@click.option(
    "--source", type=click.Choice(SOURCE_CHOICES), help="What raised the CAPA (CAPAs only)."
)
@click.option(
    "--ref",
    "references",
    multiple=True,
    shell_complete=completers.records,
    help="Record that raised the CAPA, e.g. DEV-2026-0001.",
)
@click.pass_context
def new(
    ctx: click.Context,
    kind: str,
    title: str,
    owner: str | None,
    area: str | None,
    deviation_type: str,
    source: str | None,
    references: tuple[str, ...],
) -> None:
    """Write a new SOP, CAPA or deviation from its template, with the next free ID.

    IDs are never reused: the next one is above every ID in the folder, the index and the
    whole history. The record is checked against its schema before it is written. Prints the
    new file's path.
    """
    repo = repository(ctx)
    request = NewRecord(
        kind=kind,
        title=title,
        owner=owner,
        area=area,
        deviation_type=deviation_type,
        source=source,
        references=references,
    )
    path = new_record(repo, require_config(repo), request, signing_time(ctx))
    click.echo(path.relative_to(repo.root).as_posix())
