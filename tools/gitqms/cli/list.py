"""`qms list`: the records of the repository, one line each."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from ..errors import Exit
from ..records.declaration import DueItem, Path
from ..records.model import ControlledDocument, Record
from ..validation.run import validate as run_validation
from .common import FORMAT_OPTION, echo_json, plural, repository
from .kinds import KindChoice
from .special import LIST_STATE
from .tables import Column, echo_table


def _summary(record: Record) -> dict[str, str]:
    """State, owner and key dates: a document's version and effective date; any other record's
    state, owner and dates where its declaration keeps them."""
    if isinstance(record, ControlledDocument):
        state = f"version {record.version}"
        dates = (
            f"effective {record.effective_date}"
            if record.effective_date
            else "effective on approval + training window"
        )
        return {"state": state, "owner": record.owner, "dates": dates}
    # A plain dict: declaration paths step into dicts, and `raw` is a read-only view of one.
    declared, raw = record.kind.declared, dict(record.raw)
    state = _text(raw.get("state"))
    if record.kind.special in LIST_STATE:
        state = LIST_STATE[record.kind.special](state, raw)
    return {
        "state": state,
        "owner": _text(declared.fields.owner.first(raw) if declared.fields.owner else None),
        "dates": ", ".join(_dates(declared.fields.opened, declared.due, raw)),
    }


def _dates(opened: Path | None, due: tuple[DueItem, ...], raw: Mapping[str, Any]) -> list[str]:
    """When it was opened ('discovered 2026-02-10', named after the field), the record's own
    deadlines (due items of the record that only closing ends), and how many items of each
    list with a due date are still open (their `while` holds): 'due 2026-08-31, 2 open actions'."""
    dates = []
    if opened is not None and (day := _text(opened.first(raw))):
        dates.append(f"{_word(opened)} {day[:10]}")
    for item in due:
        if item.each is None and item.done is None and (day := _text(item.date.first(raw))):
            dates.append(f"{_word(item.date)} {day}")
        elif item.each is not None and item.while_:
            listed = item.each.first(raw)
            items = listed if isinstance(listed, list) else []
            still = sum(1 for entry in items if _open(item, entry))
            noun = item.each.steps[-1].removesuffix("[]").removesuffix("s")
            dates.append(plural(still, f"open {noun}"))
    return dates


def _open(item: DueItem, entry: Any) -> bool:
    holds = all(Path(field).first(entry) in values for field, values in item.while_)
    return holds and (item.done is None or not item.done.first(entry))


def _word(path: Path) -> str:
    """A field's name as a word: 'discovered_at' -> 'discovered', 'reviewed_on' -> 'reviewed'."""
    name = path.steps[-1].removesuffix("[]")
    return name.removesuffix("_at").removesuffix("_on").replace("_", " ")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


@click.command("list")
@click.option(
    "--kind",
    type=KindChoice(lambda kind: True),
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
        title = f"{result.config.organisation if result.config else 'QMS'}: "
        columns: list[str | Column] = [Column("ID", no_wrap=True), "Title", "State"]
        rows = []
        for record in chosen:
            summary = _summary(record)
            cells = [record.id, record.title, summary["state"], summary["owner"]]
            rows.append([*cells, summary["dates"]])
        columns += [Column("Owner", no_wrap=True), "Dates"]
        echo_table(title + plural(len(chosen), "record"), columns, rows, width=120)
        if broken:
            click.secho(
                f"{plural(broken, 'record')} left out with errors: run 'qms validate'", fg="red"
            )
    ctx.exit(Exit.FINDINGS if broken else Exit.OK)
