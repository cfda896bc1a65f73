"""Checks of a record that its schema cannot express, driven by its kind's declaration
(records/declaration.py): the ID and the file name, the fields that name records and people,
chain-of-identity references, list keys that must be unique, dates in the past and in order, a
document's supersedes, template text left in, the fields its lifecycle state requires, and links
both records should hold. What is one kind's own is in special.py, the privacy scan in
privacy.py, the checks of qms.yaml in config_checks.py."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import Any

from ..records.config import QmsConfig
from ..records.declaration import DateOrder
from ..records.declaration import Path as FieldPath
from ..records.document import Document
from ..records.kinds import PLACEHOLDER, kind_of_id
from ..records.model import ControlledDocument, Record, StateRecord
from .findings import Finding, Reporter
from .privacy import forbidden_patterns, lines_matching, scan_privacy
from .schemas import Location, dotted
from .special import CHECKS, moment

_PLACEHOLDER_RE = re.compile(re.escape(PLACEHOLDER))
_AUDIENCE = FieldPath("training.audience[]")  # a document's training audiences


@dataclass(frozen=True)
class Context:
    config: QmsConfig | None
    ids: Mapping[str, str]  # every record ID in the repository -> its path
    now: datetime  # aware, UTC


StringLeaf = tuple[Location, str]  # where, the text


def _strings(data: Any) -> list[StringLeaf]:
    """Every text value in `data`, in the order of the file."""
    found: list[StringLeaf] = []

    def visit(value: Any, location: Location) -> None:
        if isinstance(value, str):
            found.append((location, value))
        elif isinstance(value, dict):
            for key, item in value.items():
                visit(item, (*location, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                visit(item, (*location, index))

    visit(data, ())
    return found


def _named(paths: Iterable[FieldPath], data: Any) -> Iterator[StringLeaf]:
    """The texts the paths reach, each item of a list of texts on its own."""
    for path in paths:
        for location, value in path.found(data):
            if isinstance(value, str):
                yield location, value
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    if isinstance(item, str):
                        yield (*location, index), item


def _places(paths: Iterable[FieldPath], data: Any) -> frozenset[Location]:
    return frozenset(location for location, _ in _named(paths, data))


def _fields(record: Record) -> dict[str, Any]:
    """The record's fields as the map declared paths step through (`raw` is a read-only view)."""
    return dict(record.raw)


def _before(later: str, earlier: str) -> bool:
    """Whether `later` is strictly before `earlier`; a plain date is compared by calendar day."""
    if "T" in later and "T" in earlier:
        return moment(later) < moment(earlier)
    return later[:10] < earlier[:10]


def _shared(earlier: FieldPath, later: FieldPath) -> int:
    """How many leading location parts two paths share: their common steps, two for a list
    step (its name and the item), so that `a[].x` and `a[].y` pair within the same item."""
    size = 0
    for mine, theirs in zip(earlier.steps, later.steps, strict=False):
        if mine != theirs:
            break
        size += 2 if mine.endswith("[]") else 1
    return size


def _pairs(order: DateOrder, raw: Any) -> Iterator[tuple[Location, Any, Location, Any]]:
    """Every (earlier, its value, later, its value) the order's paths reach."""
    shared = _shared(order.earlier, order.later)
    later = list(order.later.found(raw))
    for first_at, first in order.earlier.found(raw):
        for second_at, second in later:
            if first_at[:shared] == second_at[:shared]:
                yield first_at, first, second_at, second


def _check_dates(record: Record, report: Reporter, now: datetime) -> None:
    raw, declared = _fields(record), record.kind.declared
    for order in declared.order:
        for earlier, first, later, second in _pairs(order, raw):
            if isinstance(first, str) and isinstance(second, str) and _before(second, first):
                what = order.what.replace("{later}", dotted(later))
                report(
                    later,
                    "dates.order",
                    f"{what}: '{dotted(later)}' {second} is earlier than '{dotted(earlier)}' {first}",
                    "correct whichever date is wrong; dates must follow the order of events",
                )
    # Events cannot be recorded before they happen (ALCOA: contemporaneous). A day of slack
    # covers dates written in a zone ahead of UTC.
    horizon = (now + timedelta(days=1)).isoformat()
    for path in declared.past:
        for location, value in path.found(raw):
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
    """The fields the kind declares as naming records (`references`; `versions` may name the
    record itself) and people."""
    config, declared, raw = ctx.config, record.kind.declared, _fields(record)
    stem = PurePosixPath(record.path).stem
    versions = _places(declared.versions, raw)
    references = _places(declared.references, raw) | versions
    people = _places(declared.people, raw) if config is not None else frozenset()
    for location, value in strings:
        if location in references:
            target = value.split(" v")[0]
            if target == stem and location not in versions:
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
        elif location in people and config is not None and config.person(value) is None:
            known = ", ".join(sorted(p.id for p in config.people)[:12])
            report(
                location,
                "ref.unknown-person",
                f"'{dotted(location)}' names {value!r}, who is not a person in qms.yaml",
                f"use a person ID from qms.yaml ({known}), or add the person under 'people:' there",
            )
    if config is not None:
        _check_lists(record, config, report)


def _check_lists(record: Record, config: QmsConfig, report: Reporter) -> None:
    """The area and the training audiences, in any record that has them, as qms.yaml lists."""
    area = record.raw.get("area")
    if isinstance(area, str) and area not in config.areas:
        report(
            ("area",),
            "ref.unknown-area",
            f"the area {area!r} is not listed in qms.yaml",
            f"use one of: {', '.join(config.areas)}; or add it under 'areas:' in qms.yaml",
        )
    for location, audience in _named((_AUDIENCE,), _fields(record)):
        if audience not in config.audiences:
            report(
                location,
                "ref.unknown-audience",
                f"the training audience {audience!r} is not listed in qms.yaml",
                f"use one of: {', '.join(config.audiences)}; or add it under 'audiences:'",
            )


def _check_supersedes(record: Record, report: Reporter) -> None:
    """A document version supersedes an earlier version of itself, never a later one."""
    if not isinstance(record, ControlledDocument) or record.supersedes_id != record.id:
        return
    previous = record.supersedes_version or 0
    if previous >= record.version:
        report(
            ("supersedes",),
            "sop.supersedes",  # the code of the first document kind, kept for every document kind
            f"version {record.version} cannot supersede version {previous} of itself",
            f"a revision supersedes an earlier version: 'supersedes: {record.id} "
            f"v{record.version - 1}'",
        )


def _check_unique(record: Record, report: Reporter) -> None:
    """The list keys the kind declares unique: each used once per list."""
    for unique in record.kind.declared.unique:
        for where, items in unique.each.found(_fields(record)):
            if not isinstance(items, list):
                continue
            seen: dict[str | int, int] = {}
            for index, item in enumerate(items):
                for at, key in unique.key.found(item):
                    if not isinstance(key, str | int):
                        continue
                    if key in seen:
                        report(
                            (*where, index, *at),
                            f"{record.kind.name}.{unique.code}",
                            f"the {unique.label} {key} is used twice "
                            f"(first as {dotted((*where, seen[key]))})",
                            unique.hint,
                        )
                    seen.setdefault(key, index)


def _check_coi(record: Record, config: QmsConfig, report: Reporter) -> None:
    """Chain-of-identity references as qms.yaml's pattern says."""
    for location, coi in _named(record.kind.declared.coi, _fields(record)):
        if not config.coi_pattern.fullmatch(coi):
            report(
                location,
                "coi.pattern",
                f"'{dotted(location)}' does not match the chain-of-identity pattern of qms.yaml "
                f"({config.coi_pattern.pattern})",
                "write the pseudonymous COI reference exactly as issued; never a patient "
                "name or hospital number",
            )


def _check_kind_rules(record: Record, ctx: Context, report: Reporter) -> None:
    _check_supersedes(record, report)
    _check_unique(record, report)
    config = ctx.config
    if config is None:
        return
    _check_coi(record, config, report)
    special = CHECKS.get(record.kind.special or "")
    if special is not None:
        special(record, config, report)


def privacy_findings(path: str, text: str, ctx: Context, record_id: str | None) -> list[Finding]:
    """Every line of a record's text that looks like it holds a patient identifier."""
    return scan_privacy(path, text, forbidden_patterns(ctx.config), record_id)


def _check_placeholders(doc: Document, strings: list[StringLeaf], report: Reporter) -> None:
    """Template text left in a field or in the body."""
    for location, text in strings:
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
    """Records whose kinds link both ways (a deviation and the CAPA it raised) should name each
    other; say where one side is silent. A link counts both ways when its declaration has
    `back` and `both_ways`, and the linked kind declares a link in that `back` field."""
    found: list[Finding] = []
    for record in records.values():
        report = Reporter(docs[record.id], record.id)
        for rule in record.kind.declared.links:
            back = rule.back
            if back is None or rule.both_ways is None:
                continue
            for location, other_id in _named((rule.field,), _fields(record)):
                other = records.get(other_id)
                if other is None or other.kind.name not in rule.to:
                    continue
                if not any(link.field == back for link in other.kind.declared.links):
                    continue
                if record.id not in {name for _, name in _named((back,), _fields(other))}:
                    report(
                        location,
                        "ref.one-way",
                        f"{record.id} names {other_id}, but {other_id} does not name {record.id}",
                        f"add {record.id} to '{back.text}' of {other_id}, or remove the link here",
                        "error" if rule.both_ways == "error" else "warning",
                    )
        found += report.found
    return found


def lifecycle_findings(record: Record, doc: Document, ctx: Context) -> list[Finding]:
    """The fields qms.yaml requires of the current state of a record with a state machine."""
    if ctx.config is None or not isinstance(record, StateRecord):
        return []
    machine = ctx.config.lifecycles.machines.get(record.kind.name)
    if machine is None:
        return []
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
