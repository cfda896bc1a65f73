"""Checks of a record that its schema cannot express: the ID and the file name, references to
records and people, the order of dates, what each kind adds (an SOP's supersedes, a CAPA's
action IDs, a deviation's COI and deadlines), template text left in, the fields its lifecycle
state requires, and links a deviation and its CAPA should both hold. The privacy scan is in
privacy.py, the checks of qms.yaml in config_checks.py."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import PurePosixPath
from typing import Any

from ..records.config import QmsConfig
from ..records.document import Document
from ..records.kinds import PLACEHOLDER, kind_of_id
from ..records.model import Capa, Deviation, Record, Sop
from .findings import Finding, Reporter
from .privacy import forbidden_patterns, lines_matching, scan_privacy
from .schemas import Location, dotted

_PLACEHOLDER_RE = re.compile(re.escape(PLACEHOLDER))
REFERENCE_FIELDS = frozenset({"related_sops", "references", "capa", "sops", "supersedes"})
PERSON_FIELDS = frozenset({"owner", "checked_by", "approved_by"})


@dataclass(frozen=True)
class Context:
    config: QmsConfig | None
    ids: Mapping[str, str]  # every record ID in the repository -> its path
    now: datetime  # aware, UTC


StringLeaf = tuple[Location, str | None, str]  # where, the field it is under, the text


def _strings(data: Any) -> list[StringLeaf]:
    """Every text value in `data`, with the name of the nearest field holding it."""
    found: list[StringLeaf] = []

    def visit(value: Any, location: Location, name: str | None) -> None:
        if isinstance(value, str):
            found.append((location, name, value))
        elif isinstance(value, dict):
            for key, item in value.items():
                visit(item, (*location, key), key)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                visit(item, (*location, index), name)

    visit(data, (), None)
    return found


def _moment(value: str) -> datetime:
    """A date or date-time string as an aware datetime; a date means its start, in UTC."""
    if "T" in value:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)


def _before(later: str, earlier: str) -> bool:
    """Whether `later` is strictly before `earlier`; a plain date is compared by calendar day."""
    if "T" in later and "T" in earlier:
        return _moment(later) < _moment(earlier)
    return later[:10] < earlier[:10]


def _get(data: Any, location: Location) -> Any:
    for part in location:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


DateRule = tuple[Location, Location, str]


def _date_rules(record: Record) -> Iterator[DateRule]:
    """(earlier, later, what) pairs that must be in order."""
    raw = record.raw
    if isinstance(record, Deviation):
        yield ("occurred_at",), ("discovered_at",), "discovered before it occurred"
        yield ("discovered_at",), ("reported_at",), "reported before it was discovered"
        for later in (("classification", "classified_on"), ("investigation", "due"), ("closed",)):
            yield ("discovered_at",), later, f"'{dotted(later)}' is before the discovery"
        yield (
            ("investigation", "due"),
            ("investigation", "extension", "due"),
            ("the extended due date is not after the original one"),
        )
        for index, _ in enumerate(raw.get("external_reporting") or ()):
            yield (
                ("occurred_at",),
                ("external_reporting", index, "done_at"),
                ("reported externally before it occurred"),
            )
    elif isinstance(record, Capa):
        later_fields: list[Location] = [("due",), ("closed",), ("effectiveness", "due")]
        later_fields.append(("effectiveness", "checked_on"))
        for index, _ in enumerate(raw.get("actions") or ()):
            later_fields += [("actions", index, "due"), ("actions", index, "completed")]
            yield ("actions", index, "completed"), ("closed",), "an action completed after closure"
            yield (
                ("actions", index, "completed"),
                ("effectiveness", "checked_on"),
                ("effectiveness checked before an action was completed"),
            )
        yield ("effectiveness", "checked_on"), ("closed",), "closed before the effectiveness check"
        for field in later_fields:
            yield ("opened",), field, f"'{dotted(field)}' is before the CAPA was opened"


_PAST_FIELDS: dict[str, list[Location]] = {
    "deviation": [
        ("occurred_at",),
        ("discovered_at",),
        ("reported_at",),
        ("closed",),
        ("classification", "classified_on"),
    ],
    "capa": [("opened",), ("closed",), ("effectiveness", "checked_on")],
}


def _check_dates(record: Record, report: Reporter, now: datetime) -> None:
    raw = record.raw
    for earlier, later, what in _date_rules(record):
        first, second = _get(raw, earlier), _get(raw, later)
        if isinstance(first, str) and isinstance(second, str) and _before(second, first):
            report(
                later,
                "dates.order",
                f"{what}: '{dotted(later)}' {second} is earlier than '{dotted(earlier)}' {first}",
                "correct whichever date is wrong; dates must follow the order of events",
            )
    # Events cannot be recorded before they happen (ALCOA: contemporaneous). A day of slack
    # covers dates written in a zone ahead of UTC.
    horizon = (now + timedelta(days=1)).isoformat()
    past = list(_PAST_FIELDS.get(record.kind.name, []))
    if isinstance(record, Capa):
        past += [("actions", i, "completed") for i in range(len(record.actions))]
    for location in past:
        value = _get(raw, location)
        if isinstance(value, str) and _before(horizon, value):
            report(
                location,
                "dates.future",
                f"'{dotted(location)}' is {value}, in the future",
                "record events when they have happened, with the date they happened",
            )


def _check_identity(record: Record, doc: Document, ctx: Context, report: Reporter) -> None:
    stem = PurePosixPath(doc.path).stem
    if record.id != stem:
        report(
            ("id",),
            "id.file-name",
            f"the ID {record.id} does not match the file name {PurePosixPath(doc.path).name}",
            f"set 'id: {stem}'; records are never renamed, so the file name is the ID",
        )
        owner = ctx.ids.get(record.id)
        if owner is not None and owner != doc.path:
            report(
                ("id",),
                "id.duplicate",
                f"the ID {record.id} is already the ID of {owner}",
                "IDs are never reused: give this record the ID of its own file name",
            )


def _check_references(
    record: Record, strings: list[StringLeaf], ctx: Context, report: Reporter
) -> None:
    config = ctx.config
    stem = PurePosixPath(record.path).stem
    for location, name, value in strings:
        if name in REFERENCE_FIELDS:
            target = value.split(" v")[0]
            if target == stem and name != "supersedes":
                report(
                    location,
                    "ref.self",
                    f"'{dotted(location)}' names the record itself",
                    "remove the entry",
                    "warning",
                )
            elif target not in ctx.ids and kind_of_id(target) is not None:
                report(
                    location,
                    "ref.unknown-record",
                    f"'{dotted(location)}' names {target}, which is not a record of this repository",
                    "correct the ID, or create the record first with 'qms new'",
                )
        elif name in PERSON_FIELDS and config is not None and config.person(value) is None:
            known = ", ".join(sorted(p.id for p in config.people)[:12])
            report(
                location,
                "ref.unknown-person",
                f"'{dotted(location)}' names {value!r}, who is not a person in qms.yaml",
                f"use a person ID from qms.yaml ({known}), or add the person under 'people:' there",
            )
    if config is None:
        return
    area = record.raw.get("area")
    if isinstance(area, str) and area not in config.areas:
        report(
            ("area",),
            "ref.unknown-area",
            f"the area {area!r} is not listed in qms.yaml",
            f"use one of: {', '.join(config.areas)}; or add it under 'areas:' in qms.yaml",
        )
    if isinstance(record, Sop):
        for index, audience in enumerate(record.training_audience):
            if audience not in config.audiences:
                report(
                    ("training", "audience", index),
                    "ref.unknown-audience",
                    f"the training audience {audience!r} is not listed in qms.yaml",
                    f"use one of: {', '.join(config.audiences)}; or add it under 'audiences:'",
                )


def _check_investigation_due(record: Deviation, config: QmsConfig, report: Reporter) -> None:
    """The investigation is due within the policy's days of discovery; later needs an extension."""
    assert record.investigation_due is not None
    allowed = date.fromisoformat(record.discovered_at[:10]) + timedelta(
        days=config.due.investigation_days
    )
    extension = (record.raw.get("investigation") or {}).get("extension")
    if date.fromisoformat(record.investigation_due) > allowed and extension is None:
        report(
            ("investigation", "due"),
            "deviation.investigation-due",
            f"'investigation.due' {record.investigation_due} is later than the "
            f"{config.due.investigation_days} days after discovery that the policy allows ({allowed})",
            f"set it to {allowed} or earlier, or record a justified 'investigation.extension' "
            "approved by QA",
        )


def _check_kind_rules(record: Record, ctx: Context, report: Reporter) -> None:
    if isinstance(record, Sop) and record.supersedes_id == record.id:
        previous = record.supersedes_version or 0
        if previous >= record.version:
            report(
                ("supersedes",),
                "sop.supersedes",
                f"version {record.version} cannot supersede version {previous} of itself",
                f"a revision supersedes an earlier version: 'supersedes: {record.id} "
                f"v{record.version - 1}'",
            )
    if isinstance(record, Capa):
        seen: dict[str, int] = {}
        for index, action in enumerate(record.actions):
            if action.id in seen:
                report(
                    ("actions", index, "id"),
                    "capa.action-id",
                    f"the action ID {action.id} is used twice (first as actions[{seen[action.id]}])",
                    "number each action once: A1, A2, …",
                )
            seen.setdefault(action.id, index)
    if isinstance(record, Deviation):
        config = ctx.config
        if (
            record.coi is not None
            and config is not None
            and not config.coi_pattern.fullmatch(record.coi)
        ):
            report(
                ("product", "coi"),
                "coi.pattern",
                "'product.coi' does not match the chain-of-identity pattern of qms.yaml "
                f"({config.coi_pattern.pattern})",
                "write the pseudonymous COI reference exactly as issued; never a patient "
                "name or hospital number",
            )
        if record.investigation_due is not None and config is not None:
            _check_investigation_due(record, config, report)
        if record.reported_at is not None and config is not None:
            delay = _moment(record.reported_at) - _moment(record.discovered_at)
            limit = config.due.report_hours
            if delay > timedelta(hours=limit):
                hours = delay.total_seconds() / 3600
                report(
                    ("reported_at",),
                    "deviation.late-report",
                    f"reported {hours:.0f} h after discovery; the policy asks for {limit} h",
                    "no change to the dates: explain the delay in 'description'",
                    "warning",
                )


def privacy_findings(path: str, text: str, ctx: Context, record_id: str | None) -> list[Finding]:
    """Every line of a record's text that looks like it holds a patient identifier."""
    return scan_privacy(path, text, forbidden_patterns(ctx.config), record_id)


def _check_placeholders(doc: Document, strings: list[StringLeaf], report: Reporter) -> None:
    """Template text left in a field or in the body."""
    for location, _, text in strings:
        if PLACEHOLDER in text:
            report(
                location,
                "placeholder",
                f"'{dotted(location)}' still holds template text ({PLACEHOLDER} …)",
                "replace the template text with the real content",
                "warning",
            )
    if not doc.body:
        return
    lines = sorted(set(lines_matching(doc.body, doc.body_line, _PLACEHOLDER_RE)))
    if lines:
        shown = ", ".join(map(str, lines[:10])) + (" …" if len(lines) > 10 else "")
        report(
            ("body",),
            "placeholder",
            f"the body still holds template text ({PLACEHOLDER} …) on line(s) {shown}",
            "replace the template text with the real content",
            "warning",
            line=lines[0],
        )


def record_findings(record: Record, doc: Document, ctx: Context) -> list[Finding]:
    report = Reporter(doc, PurePosixPath(doc.path).stem)  # the file name is the ID
    _check_identity(record, doc, ctx, report)
    strings = _strings(doc.data)
    _check_references(record, strings, ctx, report)
    _check_dates(record, report, ctx.now)
    _check_kind_rules(record, ctx, report)
    _check_placeholders(doc, strings, report)
    report.found.extend(lifecycle_findings(record, doc, ctx))
    return report.found


def link_findings(records: Mapping[str, Record], docs: Mapping[str, Document]) -> list[Finding]:
    """A deviation and the CAPA it raised should name each other; say where one side is silent."""
    found: list[Finding] = []
    for record in records.values():
        if isinstance(record, Capa):
            links: tuple[str, ...] = record.source_references
            field: Location = ("source", "references")
            back = "capa"
        elif isinstance(record, Deviation):
            links, field, back = record.capa, ("capa",), "source.references"
        else:
            continue
        for index, other_id in enumerate(links):
            other = records.get(other_id)
            if (
                other is None
                or not isinstance(other, Capa | Deviation)
                or type(other) is type(record)
            ):
                continue
            names = other.capa if isinstance(other, Deviation) else other.source_references
            if record.id not in names:
                report = Reporter(docs[record.id], record.id)
                report(
                    (*field, index),
                    "ref.one-way",
                    f"{record.id} names {other_id}, but {other_id} does not name {record.id}",
                    f"add {record.id} to '{back}' of {other_id}, or remove the link here",
                    "warning",
                )
                found += report.found
    return found


def lifecycle_findings(record: Record, doc: Document, ctx: Context) -> list[Finding]:
    """The fields qms.yaml requires of a CAPA's or deviation's current state."""
    if ctx.config is None or not isinstance(record, Capa | Deviation):
        return []
    machine = ctx.config.lifecycles.machines[record.kind.name]
    report = Reporter(doc, record.id)
    for requirement in machine.requires.get(record.state, ()):
        if not requirement.met(doc.data):
            report(
                requirement.path[:1],
                "lifecycle.requires",
                f"a {record.kind.label} in state '{record.state}' needs '{requirement.text}' "
                "(lifecycles in qms.yaml)",
                f"fill in '{requirement.text}', or move the record back to an earlier state",
            )
    return report.found
