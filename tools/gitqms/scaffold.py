"""`qms init` and `qms new`: a new repository, and new records with the next free ID."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path

from . import git
from .errors import QmsError
from .files import create_exclusive, replace_atomic
from .records.config import CONFIG_FILE, QmsConfig
from .records.kinds import BY_NAME, KINDS, Kind
from .repository import Repository
from .validation.schemas import SCHEMA_NAMES, packaged_schema_text

DEVIATION_TYPES = (
    "unplanned",
    "planned",
    "oos",
    "excursion",
    "coi-break",
    "chain-of-custody",
    "adverse-reaction",
    "equipment",
    "documentation",
)
CAPA_SOURCES = (
    "deviation",
    "oos",
    "complaint",
    "audit",
    "inspection",
    "trend",
    "management-review",
    "adverse-reaction",
)
_NEEDS_RECORD = {"deviation", "oos", "adverse-reaction"}
_NEEDS_EXTERNAL = {"complaint", "audit", "inspection"}
_PERSON_ID = re.compile(r"[a-z][a-z0-9._-]{1,31}")


def _template(name: str) -> str:
    return resources.files("gitqms").joinpath("templates", name).read_text("utf-8")


def _fill(text: str, **values: str) -> str:
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    leftover = re.search(r"\{\{(\w+)\}\}", text)
    assert leftover is None, f"template value {leftover.group(1)} not given"
    return text


def _quoted(value: str) -> str:
    """A YAML scalar that reads back as exactly `value` (JSON strings are YAML)."""
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class Admin:
    id: str
    name: str
    email: str


def ensure_new_folder(path: Path) -> None:
    """Refuse a target that exists and is not an empty folder."""
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        what = "a QMS repository" if (path / CONFIG_FILE).exists() else "not empty"
        raise QmsError(
            f"{path} already exists and is {what}; qms init never overwrites",
            hint="choose a new folder, or an empty one",
        )


def init_repository(path: Path, admin: Admin, organisation: str) -> None:
    """Scaffold a QMS repository at `path`; all or nothing, never over existing files."""
    ensure_new_folder(path)
    if not _PERSON_ID.fullmatch(admin.id):
        raise QmsError(
            f"the person ID {admin.id!r} is not valid",
            hint="use lower case letters, digits and . _ -, starting with a letter (e.g. a.weber)",
        )
    if "@" not in admin.email:
        raise QmsError(
            f"{admin.email!r} is not an email address", hint="pass --email NAME@HOSPITAL"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.init-"))
    try:
        _write_layout(staging, admin, organisation)
        git.init(staging)
        if path.exists():
            path.rmdir()
        staging.rename(path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _write_layout(root: Path, admin: Admin, organisation: str) -> None:
    values = {
        "organisation": _quoted(organisation),
        "admin_id": admin.id,
        "admin_name": _quoted(admin.name),
        "admin_email": _quoted(admin.email),
    }
    (root / CONFIG_FILE).write_text(_fill(_template("qms.yaml"), **values))
    site_name = _quoted(f"{organisation} — controlled documents")
    (root / "mkdocs.yml").write_text(_fill(_template("mkdocs.yml"), site_name=site_name))
    (root / ".gitignore").write_text(_template("gitignore"))
    (root / "docs").mkdir()
    (root / "docs" / "index.md").write_text(_fill(_template("index.md"), organisation=organisation))
    for kind in KINDS:
        (root / kind.folder).mkdir()
        (root / kind.folder / ".gitkeep").write_text("")
    (root / "schemas").mkdir()
    for name in SCHEMA_NAMES:
        (root / "schemas" / f"{name}.schema.json").write_text(packaged_schema_text(name))


def update_schemas(repo: Repository) -> list[str]:
    """Bring the repository's copies of the schemas in line with the installed gitqms."""
    changed = []
    folder = repo.root / "schemas"
    folder.mkdir(exist_ok=True)
    for name in SCHEMA_NAMES:
        target = folder / f"{name}.schema.json"
        text = packaged_schema_text(name)
        if not target.is_file() or target.read_text("utf-8") != text:
            replace_atomic(target, text)
            changed.append(f"schemas/{name}.schema.json")
    return changed


def next_id(repo: Repository, kind: Kind, year: int) -> str:
    """The next ID of `kind`: above every ID in the tree, the index and all of history."""
    names = {record.path for record in repo.layout().records}
    names |= git.paths_ever_added(repo.root, [kind.folder])
    highest = 0
    for name in names:
        match = kind.id_pattern.fullmatch(Path(name).stem)
        if (
            match
            and Path(name).parent.as_posix() == kind.folder
            and (not kind.yearly or int(match["year"]) == year)
        ):
            highest = max(highest, int(match["number"]))
    if highest >= 9999:
        raise QmsError(
            f"all {kind.label} numbers for {year} are used"
            if kind.yearly
            else f"all {kind.label} numbers are used"
        )
    return kind.format_id(highest + 1, year)


@dataclass(frozen=True)
class NewRecord:
    kind: str
    title: str
    owner: str | None = None
    area: str | None = None
    deviation_type: str = "unplanned"
    source: str | None = None
    references: tuple[str, ...] = ()


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


def new_record(repo: Repository, config: QmsConfig, request: NewRecord, now: datetime) -> Path:
    """Write a new record from its template; returns its path."""
    kind = BY_NAME[request.kind]
    title = request.title.strip()
    if not 3 <= len(title) <= 200 or "\n" in title:
        raise QmsError(
            "the title must be one line of 3 to 200 characters", hint="pass --title TEXT"
        )
    owner = _owner(repo, config, request.owner)
    area = request.area or next(iter(config.areas))
    if area not in config.areas:
        raise QmsError(
            f"the area {area!r} is not in qms.yaml", hint=f"use one of: {', '.join(config.areas)}"
        )
    for reference in request.references:
        if not (repo.root / _path_of(reference)).is_file():
            raise QmsError(
                f"{reference} is not a record of this repository",
                hint="name an existing record, as DEV-2026-0001",
            )
    record_id = next_id(repo, kind, now.year)
    values = {"id": record_id, "title": _quoted(title), "owner": owner, "area": area}
    if kind.name == "sop":
        text = _fill(
            _template("sop.md"),
            **values,
            audience=next(iter(config.audiences)),
            review_months=str(config.due.sop_review_months),
            training_days=str(config.due.training_window_days),
        )
    elif kind.name == "deviation":
        stamp = _quoted(now.strftime("%Y-%m-%dT%H:%M:%SZ"))
        reporter = config.person(owner)
        text = _fill(
            _template("deviation.yaml"),
            **values,
            type=request.deviation_type,
            now=stamp,
            reporter=_quoted(reporter.name if reporter else owner),
            type_block=_type_block(request.deviation_type),
        )
    else:
        text = _capa_text(values, request, now)
    path = repo.root / kind.folder / f"{record_id}{kind.suffix}"
    path.parent.mkdir(exist_ok=True)
    create_exclusive(path, text)
    return path


def _path_of(record_id: str) -> str:
    for kind in KINDS:
        if kind.id_pattern.fullmatch(record_id):
            return f"{kind.folder}/{record_id}{kind.suffix}"
    return record_id


def _type_block(deviation_type: str) -> str:
    fill = _quoted("FILL IN")
    if deviation_type == "excursion":
        return f"excursion:\n  parameter: {fill}\n  limit: {fill}\n  observed: {fill}\n"
    if deviation_type == "oos":
        return (
            f"product:\n  name: {fill}\noos:\n  parameter: {fill}\n  specification: {fill}\n"
            f"  result: {fill}\n"
        )
    if deviation_type == "adverse-reaction":
        return "adverse_reaction:\n  category: other  # crs, icans, infusion-reaction, …\n"
    return ""


def _capa_text(values: dict[str, str], request: NewRecord, now: datetime) -> str:
    refs = request.references
    source = request.source or ("deviation" if any(r.startswith("DEV-") for r in refs) else "trend")
    if source in _NEEDS_RECORD and not refs:
        raise QmsError(
            f"a CAPA from a {source} must name it",
            hint="pass --ref DEV-YYYY-NNNN (the deviation's ID)",
        )
    block = ""
    if refs:
        block += "  references: [" + ", ".join(refs) + "]\n"
    if source in _NEEDS_EXTERNAL and not refs:
        block += f"  external_ref: {_quoted('FILL IN: report or complaint number')}\n"
    return _fill(
        _template("capa.yaml"),
        **values,
        source=source,
        source_block=block,
        today=_quoted(now.date().isoformat()),
        due=_quoted((now.date() + timedelta(days=90)).isoformat()),
    )
