"""`qms new`: a record from its template, with the next free ID, checked before it is written."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from .. import git
from ..errors import QmsError
from ..files import create_exclusive
from ..records.config import QmsConfig
from ..records.document import parse_document, split_front_matter
from ..records.kinds import Kind, active_kinds, kind_of_id
from ..records.pinned import kept_schema
from ..records.repository import Repository
from ..validation.schemas import packaged_schema_text
from .shape import later_fields
from .skeleton import skeleton
from .template import check_before_writing, fill, quoted

# A kind can be made by `qms new` when the package has its template: templates/<kind>.md or .yaml.
TEMPLATES: Traversable = resources.files("gitqms").joinpath("templates")
_SLOT = re.compile(r"\{\{(\w+)\}\}")


def template_name(kind: Kind) -> str:
    return f"{kind.name}{kind.suffix}"


def new_kinds() -> list[Kind]:
    """The kinds `qms new` can write: the package's with a template, and the repository's
    (whose template comes from their schema), in declaration order."""
    return [
        kind
        for kind in active_kinds().kinds
        if kind.repository or TEMPLATES.joinpath(template_name(kind)).is_file()
    ]


def schema_choices(schema: str, *path: str) -> tuple[str, ...]:
    """The `enum` of a field in a packaged schema: the CLI offers exactly what validates."""
    node = json.loads(packaged_schema_text(schema))
    for part in path:
        node = node["properties"][part]
    return tuple(node["enum"])


def option_choices(slot: str, *path: str) -> tuple[str, ...]:
    """What an option that fills the template slot `slot` may be: the values the field `path`
    may take in the schema of each kind whose template has that slot."""
    found: list[str] = []
    for kind in new_kinds():
        if kind.repository:
            continue
        if f"{{{{{slot}}}}}" in TEMPLATES.joinpath(template_name(kind)).read_text("utf-8"):
            found += [c for c in schema_choices(kind.schema, *path) if c not in found]
    return tuple(found)


TYPE_CHOICES = option_choices("type", "type")  # --type: a deviation's type
SOURCE_CHOICES = option_choices("source", "source", "type")  # --source: what raised a CAPA


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
    """The next ID of `kind`: above every ID in its folder, the index and all of history."""
    folder = repo.root / kind.folder
    names = git.paths_ever_added(repo.root, [kind.folder])
    if folder.is_dir() and not folder.is_symlink():  # the records in the working tree
        names |= {
            f"{kind.folder}/{entry.name}"
            for entry in folder.iterdir()
            if entry.suffix == kind.suffix and entry.is_file()
        }
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
    """Write a new record from its kind's template; returns its path."""
    kind = _kind(request.kind)
    owner = _owner(repo, config, request.owner)
    area = request.area or next(iter(config.areas))
    if area not in config.areas:
        raise QmsError(
            f"the area {area!r} is not in qms.yaml", hint=f"use one of: {', '.join(config.areas)}"
        )
    _check_references(repo, request.references)
    record_id = next_id(repo, kind, now.year)
    record: dict[str, Callable[[], str]] = {
        "id": lambda: record_id,
        "title": lambda: quoted(request.title.strip()),
        "owner": lambda: owner,
        "area": lambda: area,
        "reporter": lambda: quoted(_name(config, owner)),
    }
    text = _filled(
        _template(kind, config), template_name(kind), {**record, **_slots(config, request, now)}
    )
    path = repo.root / kind.folder / f"{record_id}{kind.suffix}"
    check_before_writing(text, kind.schema, markdown=kind.suffix == ".md", what=path.name)
    text = _with_shape(kind, text, path.name)
    path.parent.mkdir(exist_ok=True)
    create_exclusive(path, text, git.find_git_dir(repo.root))
    return path


def _with_shape(kind: Kind, text: str, name: str) -> str:
    """`text` with the fields for later states commented out (shape.py): at the end of a YAML
    record, at the end of a document's front matter."""
    schema = kept_schema(kind.schema) if kind.repository else None
    if schema is None:
        schema = json.loads(packaged_schema_text(kind.schema))
    markdown = kind.suffix == ".md"
    present = parse_document(name, text, markdown=markdown).data
    fields = present if isinstance(present, dict) else {}
    later = later_fields(schema, fields, document=kind.is_document)
    if not later:
        return text
    if not markdown:
        return text + ("" if text.endswith("\n") else "\n") + later
    front, body, _ = split_front_matter(text)
    return f"---\n{front}{later}---\n{body}"


def _template(kind: Kind, config: QmsConfig) -> str:
    """A packaged kind's template; a repository kind's, written from its pinned schema."""
    if not kind.repository:
        return TEMPLATES.joinpath(template_name(kind)).read_text("utf-8")
    schema = kept_schema(kind.schema)
    if schema is None:
        raise QmsError(
            f"the schema of the kind {kind.name!r} could not be read",
            hint="run 'qms validate qms.yaml' and correct the kind's declaration",
        )
    machine = config.lifecycles.machines.get(kind.name)
    return skeleton(kind, schema, machine.initial if machine else None)


def _filled(text: str, name: str, slots: dict[str, Callable[[], str]]) -> str:
    """The template `text` (named `name`) with its slots filled; a slot nothing fills is named."""
    used = set(_SLOT.findall(text))
    if unknown := sorted(used - set(slots)):
        raise QmsError(
            f"the template {name} has the slot {{{{{unknown[0]}}}}}, which qms new cannot fill",
            hint="use only these slots in a template: " + ", ".join(sorted(slots)),
        )
    return fill(text, **{slot: slots[slot]() for slot in used})


def _kind(name: str) -> Kind:
    kinds = new_kinds()
    for kind in kinds:
        if kind.name == name:
            return kind
    raise QmsError(
        f"qms new cannot write a record of the kind {name!r}: it has no template",
        hint="choose one of: " + ", ".join(kind.name for kind in kinds),
    )


def _name(config: QmsConfig, owner: str) -> str:
    person = config.person(owner)
    return person.name if person else owner


def _slots(config: QmsConfig, request: NewRecord, now: datetime) -> dict[str, Callable[[], str]]:
    """What each template slot is filled with besides the record's ID, title, owner and area;
    made only when the template has the slot."""
    today = now.date()
    return {
        "now": lambda: quoted(now.strftime("%Y-%m-%dT%H:%M:%SZ")),
        "today": lambda: quoted(today.isoformat()),
        "due": lambda: quoted((today + timedelta(days=90)).isoformat()),
        # a document's first version
        "audience": lambda: next(iter(config.audiences)),
        "review_months": lambda: str(config.due.sop_review_months),
        "training_days": lambda: str(config.due.training_window_days),
        # --type
        "type": lambda: request.deviation_type,
        "type_block": lambda: _type_block(request.deviation_type),
        # --source and --ref
        "source": lambda: _source(request),
        "source_block": lambda: _source_block(request.references),
    }


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


def _source(request: NewRecord) -> str:
    """What raised the record: as given, else the kind of the first record named that is a
    source type (a deviation), else a trend."""
    if request.source:
        return request.source
    kinds = (kind_of_id(reference) for reference in request.references)
    named = (kind.name for kind in kinds if kind is not None)
    return next((name for name in named if name in SOURCE_CHOICES), "trend")


def _source_block(references: tuple[str, ...]) -> str:
    if references:
        return "  references: [" + ", ".join(references) + "]\n"
    # what raised it, named outside the QMS (audit report, complaint number, …)
    return f"  external_ref: {quoted('FILL IN: report or reference number')}\n"
