"""`qms new`: a record from its template, with the next free ID, checked before it is written."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from .. import git
from ..errors import QmsError
from ..files import create_exclusive
from ..records.config import QmsConfig
from ..records.kinds import BY_NAME, Kind, kind_of_id
from ..records.repository import Repository
from ..validation.schemas import packaged_schema_text
from .template import check_before_writing, fill, quoted, template


def schema_choices(schema: str, *path: str) -> tuple[str, ...]:
    """The `enum` of a field in a packaged schema: the CLI offers exactly what validates."""
    node = json.loads(packaged_schema_text(schema))
    for part in path:
        node = node["properties"][part]
    return tuple(node["enum"])


DEVIATION_TYPES = schema_choices("deviation", "type")
CAPA_SOURCES = schema_choices("capa", "source", "type")


@dataclass(frozen=True, kw_only=True)
class NewRecord:
    kind: str
    title: str
    owner: str | None = None
    area: str | None = None
    deviation_type: str = "unplanned"
    source: str | None = None
    references: tuple[str, ...] = ()


def next_id(repo: Repository, kind: Kind, year: int) -> str:
    """The next ID of `kind`: above every ID in the tree, the index and all of history."""
    names = {record.path for record in repo.layout().records}
    names |= git.paths_ever_added(repo.root, [kind.folder])
    highest = 0
    for name in names:
        path = Path(name)
        match = kind.id_pattern.fullmatch(path.stem)
        if (
            match
            and path.parent.as_posix() == kind.folder
            and (not kind.yearly or int(match["year"]) == year)
        ):
            highest = max(highest, int(match["number"]))
    if highest >= 9999:
        raise QmsError(f"all {kind.label} numbers{f' for {year}' if kind.yearly else ''} are used")
    return kind.format_id(highest + 1, year)


def _owner(repo: Repository, config: QmsConfig, owner: str | None) -> str:
    people = ", ".join(p.id for p in config.people)
    if owner is not None:
        if config.person(owner) is None:
            raise QmsError(f"{owner!r} is not a person in qms.yaml", hint=f"use one of: {people}")
        return owner
    email = git.config_value(repo.root, "user.email")
    person = config.person_by_email(email) if email else None
    if person is None:
        raise QmsError(
            f"your git email ({email or 'not set'}) is not a person's email in qms.yaml",
            hint=f"pass --owner with one of: {people}",
        )
    return person.id


def _check_references(repo: Repository, references: tuple[str, ...]) -> None:
    for reference in references:
        kind = kind_of_id(reference)
        if kind is None or not (repo.root / kind.folder / f"{reference}{kind.suffix}").is_file():
            raise QmsError(
                f"{reference} is not a record of this repository",
                hint="name an existing record by its ID, as DEV-2026-0001",
            )


def new_record(repo: Repository, config: QmsConfig, request: NewRecord, now: datetime) -> Path:
    """Write a new record from its template; returns its path."""
    kind = BY_NAME[request.kind]
    owner = _owner(repo, config, request.owner)
    area = request.area or next(iter(config.areas))
    if area not in config.areas:
        raise QmsError(
            f"the area {area!r} is not in qms.yaml", hint=f"use one of: {', '.join(config.areas)}"
        )
    _check_references(repo, request.references)
    record_id = next_id(repo, kind, now.year)
    values = {"id": record_id, "title": quoted(request.title.strip()), "owner": owner, "area": area}
    if kind.name == "sop":
        text = fill(
            template("sop.md"),
            **values,
            audience=next(iter(config.audiences)),
            review_months=str(config.due.sop_review_months),
            training_days=str(config.due.training_window_days),
        )
    elif kind.name == "deviation":
        person = config.person(owner)
        text = fill(
            template("deviation.yaml"),
            **values,
            type=request.deviation_type,
            now=quoted(now.strftime("%Y-%m-%dT%H:%M:%SZ")),
            reporter=quoted(person.name if person else owner),
            type_block=_type_block(request.deviation_type),
        )
    else:
        text = _capa_text(values, request, now)
    path = repo.root / kind.folder / f"{record_id}{kind.suffix}"
    check_before_writing(text, kind.name, markdown=kind.suffix == ".md", what=path.name)
    path.parent.mkdir(exist_ok=True)
    create_exclusive(path, text, git.find_git_dir(repo.root))
    return path


def _type_block(deviation_type: str) -> str:
    """The blocks a deviation type requires, with template text to fill in."""
    fill_in = quoted("FILL IN")
    if deviation_type == "excursion":
        return f"excursion:\n  parameter: {fill_in}\n  limit: {fill_in}\n  observed: {fill_in}\n"
    if deviation_type == "oos":
        return (
            f"product:\n  name: {fill_in}\noos:\n  parameter: {fill_in}\n"
            f"  specification: {fill_in}\n  result: {fill_in}\n"
            "  administered: false  # true if given at the treating physician's request\n"
        )
    if deviation_type == "adverse-reaction":
        return "adverse_reaction:\n  category: other  # crs, icans, infusion-reaction, …\n"
    return ""


def _capa_text(values: dict[str, str], request: NewRecord, now: datetime) -> str:
    refs = request.references
    source = request.source or ("deviation" if any(r.startswith("DEV-") for r in refs) else "trend")
    if refs:
        block = "  references: [" + ", ".join(refs) + "]\n"
    else:  # what raised it, named outside the QMS (audit report, complaint number, …)
        block = f"  external_ref: {quoted('FILL IN: report or reference number')}\n"
    return fill(
        template("capa.yaml"),
        **values,
        source=source,
        source_block=block,
        today=quoted(now.date().isoformat()),
        due=quoted((now.date() + timedelta(days=90)).isoformat()),
    )
