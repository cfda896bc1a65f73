"""`qms import training ATTENDANCE.csv`: an attendance list from a learning-management system
(CSV or .xlsx) becomes draft training sessions, with the gap analysis every import gives.

Each row is one person trained on one document on one day. Rows are grouped by (day, trainer,
method, document version) into one `training-session` record each, bound to the exact content
of that version. A row is not imported, and the report says why, when its person is not in the
registry (by ID, email or printed name), has left, or is in no audience of the version; when the
document is not one of the repository's, or the version is not approved (in force or about to
be) today; when the day is unreadable or in the future; or when the trainer does not hold the
trainer role. The sessions are written as drafts: the trainer then checks and signs each one
(`qms advance TRN-… --to recorded`); an import never signs for a trainer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..errors import QmsError
from ..lifecycle.documents import APPROVED, EFFECTIVE, Version
from ..lifecycle.status import Snapshot
from ..records.config import QmsConfig
from ..records.kinds import BY_NAME, kind_of_id
from ..records.repository import Repository
from ..signatures.eligible import version_audiences
from .emit import record_yaml
from .fields import normalise
from .gaps import Column, FileReport, Gap, ImportReport, Outcome, render_markdown
from .plan import TOOL, Allocator, ImportPlan, report_path
from .sources import read_source
from .tables import Cell, is_blank, read_table
from .values import ValueProblem, read_moment, read_person, text_of

KIND = "training-session"
TRAINER_ROLE = "trainer"
METHODS = ("read", "classroom", "practical", "assessed")
# column header (normalised) -> what it holds
HEADERS = {
    **dict.fromkeys(("date", "day", "session date", "completed", "completed on", "held on"), "day"),
    **dict.fromkeys(
        ("person", "attendee", "employee", "name", "staff", "learner", "email"), "person"
    ),
    **dict.fromkeys(("document", "sop", "course", "record", "document id"), "document"),
    **dict.fromkeys(("version", "document version", "revision"), "version"),
    **dict.fromkeys(("trainer", "instructor", "trained by"), "trainer"),
    **dict.fromkeys(("method", "type", "delivery"), "method"),
    **dict.fromkeys(("result", "outcome", "assessment"), "result"),
}
NEEDED = ("day", "person", "document")


@dataclass(frozen=True, kw_only=True)
class Attendance:
    """One row that can be imported."""

    day: date
    person: str
    record: str
    version: Version
    trainer: str
    method: str
    result: str | None


Group = tuple[date, str, str, str, int]  # day, trainer, method, record, version


def plan_attendance(
    repo: Repository,
    config: QmsConfig,
    documents: Snapshot,
    files: tuple[Any, ...],
    defaults: Mapping[str, str],
    now: datetime,
) -> ImportPlan:
    """Read every row, group what can be imported into sessions; nothing is written."""
    today = now.date()
    report = ImportReport(kind=KIND, imported_on=today.isoformat(), tool=TOOL, dry_run=True)
    plan = ImportPlan(report)
    versions = _approved_versions(documents)
    groups: dict[Group, list[tuple[Attendance, Outcome]]] = {}
    sources = [read_source(path, (".xlsx", ".csv")) for path in files]
    for source in sources:
        table = read_table(source, None, lambda header: normalise(header) in HEADERS)
        columns = {index: HEADERS.get(normalise(h)) for index, h in enumerate(table.headers)}
        missing = [n for n in NEEDED if n not in columns.values() and n not in defaults]
        if missing:
            raise QmsError(
                f"{source.path}: no column for {', '.join(missing)}",
                hint="name the columns date, person, document (and version, trainer, method, "
                "result), or give --default trainer=… / --default method=…",
            )
        file = FileReport(
            source=source.name,
            sha256=source.sha256,
            encoding=table.encoding,
            delimiter=table.delimiter,
            header_row=table.header_row,
            columns=[Column(h, columns[i]) for i, h in enumerate(table.headers)],
        )
        report.files.append(file)
        for row in table.rows:
            if row.blank:
                file.blank_rows.append(row.number)
                continue
            outcome = Outcome(row.number, None)
            file.outcomes.append(outcome)
            cells = {
                name: row.cells[i] for i, name in columns.items() if name and i < len(row.cells)
            }
            found = _attendance(cells, defaults, config, versions, today, outcome)
            if found is not None:
                key = (found.day, found.trainer, found.method, found.record, found.version.version)
                groups.setdefault(key, []).append((found, outcome))
    allocator = Allocator(repo, BY_NAME[KIND])
    for key in sorted(groups):
        _session(plan, allocator, key, groups[key], sources)
    report.report_path = report_path(repo, KIND, sources[0].path.stem, today.isoformat())
    plan.files[report.report_path] = render_markdown(report)
    return plan


def _approved_versions(documents: Snapshot) -> dict[tuple[str, int], Version]:
    """(document, version) -> the version, for every version in force or about to be."""
    found: dict[tuple[str, int], Version] = {}
    for record in documents.records:
        for version in record.document.versions if record.document else ():
            if version.status in (APPROVED, EFFECTIVE):
                found[(record.id, version.version)] = version
    return found


def _attendance(
    cells: Mapping[str, Cell],
    defaults: Mapping[str, str],
    config: QmsConfig,
    versions: Mapping[tuple[str, int], Version],
    today: date,
    outcome: Outcome,
) -> Attendance | None:
    """The row as an attendance, or None with the reasons in `outcome`."""

    def value(name: str) -> Cell:
        cell = cells.get(name)
        if is_blank(cell) and name in defaults:
            outcome.gaps.append(Gap("default", name, None, f"from --default {name}"))
            return defaults[name]
        return cell

    refused = outcome.refused
    day = _read(refused, "date", lambda: read_moment(value("day"), None).day)
    if isinstance(day, date) and day > today:
        refused.append(f"the date {day} is in the future")
    person = _read(refused, "person", lambda: read_person(value("person"), config))
    trainer = _read(refused, "trainer", lambda: read_person(value("trainer"), config))
    method = text_of(value("method")).lower() or None
    if method not in METHODS:
        refused.append(f"method {method!r} is not one of {', '.join(METHODS)}")
    result = text_of(value("result")).lower() or None
    if method == "assessed" and result not in ("pass", "fail"):
        refused.append("an assessed session needs a result of pass or fail for each attendee")
    record = text_of(value("document")).upper()
    version = _version(refused, record, text_of(value("version")), versions, day)
    if isinstance(trainer, str) and TRAINER_ROLE not in _roles(config, trainer):
        refused.append(f"{trainer} does not hold the role {TRAINER_ROLE}")
    who = config.person(person) if isinstance(person, str) else None
    if who is not None and version is not None:
        wanted = version_audiences(version.data)
        if not config.audiences_of(who) & wanted:
            refused.append(
                f"{who.id} is in no audience of {record} v{version.version} "
                f"({', '.join(sorted(wanted)) or 'it names none'})"
            )
        if who.left_on is not None:
            refused.append(f"{who.id} left on {who.left_on}")
    if refused or not isinstance(day, date) or version is None:
        return None
    assert isinstance(person, str) and isinstance(trainer, str) and method is not None
    return Attendance(
        day=day,
        person=person,
        record=record,
        version=version,
        trainer=trainer,
        method=method,
        result=result,
    )


def _read(refused: list[str], what: str, read: Callable[[], Any]) -> Any:
    try:
        return read()
    except ValueProblem as problem:
        refused.append(f"{what}: {problem}")
        return None


def _roles(config: QmsConfig, person: str) -> frozenset[str]:
    found = config.person(person)
    return found.roles if found else frozenset()


def _version(
    refused: list[str],
    record: str,
    written: str,
    versions: Mapping[tuple[str, int], Version],
    day: Any,
) -> Version | None:
    kind = kind_of_id(record)
    if kind is None or not kind.is_document:
        refused.append(f"{record or 'the document'} is not the ID of a controlled document")
        return None
    numbers = sorted(v for (r, v) in versions if r == record)
    if written:
        number = int(written) if written.isdigit() else None
        if number not in numbers:
            refused.append(
                f"{record} v{written} is not a version in force or about to be "
                f"(those are: {', '.join(f'v{n}' for n in numbers) or 'none'})"
            )
            return None
        return versions[(record, number)]
    live = [versions[(record, n)] for n in numbers]
    dated = [v for v in live if isinstance(day, date) and v.approved_on and v.approved_on <= day]
    if not dated:
        refused.append(f"no version of {record} was approved by that day; name the version")
        return None
    return dated[-1]


def _session(
    plan: ImportPlan,
    allocator: Allocator,
    key: Group,
    rows: list[tuple[Attendance, Outcome]],
    sources: list[Any],
) -> None:
    day, trainer, method, record, number = key
    first = rows[0][0]
    record_id = allocator.peek(day.year)
    allocator.take(day.year)
    attendees: dict[str, dict[str, str]] = {}
    for attendance, outcome in rows:
        item = {"person": attendance.person}
        if method == "assessed" and attendance.result:
            item["result"] = attendance.result
        if attendance.person in attendees:
            outcome.refused.append(f"{attendance.person} is listed twice for this session")
            continue
        attendees[attendance.person] = item
        outcome.record_id = record_id
    data = {
        "id": record_id,
        "title": f"{record} v{number}: {method} training on {day.isoformat()}",
        "state": "draft",
        "trainer": trainer,
        "held_on": day.isoformat(),
        "method": method,
        "attendees": list(attendees.values()),
        "documents": [{"record": record, "version": number, "content": first.version.content}],
        "notes": "Imported from " + ", ".join(s.name for s in sources) + f" by {TOOL}.",
    }
    path = f"{BY_NAME[KIND].folder}/{record_id}.yaml"
    plan.files[path] = record_yaml(KIND, data)
    plan.records[record_id] = path
    for _, outcome in rows:
        if outcome.record_id == record_id:
            outcome.path = path
