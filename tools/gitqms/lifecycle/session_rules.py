"""What a training session must hold to count (the kind whose `special` is "training-session"):
what its declaration cannot say, judged alike by `qms advance` (before it writes), the gate
(`qms check`, the server hook) and the training matrix (sessions.py).

When the trainer signs a session `recorded`:
- the signer is the `trainer` the record names (the signature policy makes them a trainer);
- the session was held on or before the day of that signature;
- every attendee is a person of the registry in force at the signing commit's parent, had not
  left by the day the session was held, and is in a training audience of each version covered
  (the audiences the version's signed content names, `audiences_of` in that registry);
- each covered `content` is the exact content of that version of that document, and the version
  counts as approved (approved, or effective) on the day of the signature: not a draft, not one
  superseded or retired by then.

A session that breaks any of these trains no one, and `qms check` reports it (`training.*`).
Once recorded it never changes: an edit is `training.changed-after-recording`, and only the
content the trainer signed counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from ..records.config import QmsConfig
from ..records.kinds import KINDS, Kind
from ..signatures.eligible import version_audiences
from .documents import APPROVED, EFFECTIVE, DocumentStatus, Version

SPECIAL = "training-session"
RECORDED = "recorded"  # the state a trainer's signature puts a session in
ASSESSED = "assessed"  # the method that records a result per attendee
PASSED = "pass"

# (document, day) -> its status on that day; None when it is not a document of this repository
Standing = Callable[[str, date], DocumentStatus | None]


@cache
def session_kind() -> Kind | None:
    """The kind that is the training session (looked up once)."""
    return next((kind for kind in KINDS if kind.special == SPECIAL), None)


@dataclass(frozen=True)
class Problem:
    code: str  # training.trainer, training.held-after-recording, training.attendee, …
    message: str
    fix: str


@dataclass(frozen=True)
class Attendee:
    person: str
    result: str | None


@dataclass(frozen=True)
class CoveredVersion:
    record: str
    version: int
    content: str


def attendees(data: Mapping[str, Any]) -> list[Attendee]:
    """The attendees a session names (malformed items left out: the schema reports them)."""
    items = data.get("attendees")
    return [
        Attendee(
            item["person"], item.get("result") if isinstance(item.get("result"), str) else None
        )
        for item in (items if isinstance(items, list) else ())
        if isinstance(item, dict) and isinstance(item.get("person"), str)
    ]


def covered(data: Mapping[str, Any]) -> list[CoveredVersion]:
    """The document versions a session names (malformed items left out)."""
    items = data.get("documents")
    return [
        CoveredVersion(item["record"], item["version"], item["content"])
        for item in (items if isinstance(items, list) else ())
        if isinstance(item, dict)
        and isinstance(item.get("record"), str)
        and isinstance(item.get("version"), int)
        and not isinstance(item.get("version"), bool)
        and isinstance(item.get("content"), str)
    ]


def trained(data: Mapping[str, Any]) -> frozenset[str]:
    """Who a recorded session trains: every attendee; of an assessed one, those who passed."""
    assessed = data.get("method") == ASSESSED
    return frozenset(a.person for a in attendees(data) if not assessed or a.result == PASSED)


def held_on(data: Mapping[str, Any]) -> date | None:
    value = data.get("held_on")
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def session_problems(
    record: str,
    data: Mapping[str, Any],
    signer: str,
    registry: QmsConfig,
    day: date,
    standing: Standing,
) -> list[Problem]:
    """Why the session `record` (its signed `data`), signed `recorded` by `signer` on `day`
    under `registry` (in force at the signing commit's parent), does not count; [] when it
    does."""
    problems = list(_shape(record, data))
    problems += _trainer(record, data, signer)
    held = held_on(data)
    if held is not None and held > day:
        problems.append(
            Problem(
                "training.held-after-recording",
                f"{record} says it was held on {held}, after it was recorded on {day}",
                "record a session once it has been held; correct 'held_on' in the draft",
            )
        )
    people = attendees(data)
    problems += _people(record, people, registry, held)
    for item in covered(data):
        version, problem = _approved(record, item, day, standing)
        if problem is not None:
            problems.append(problem)
        elif version is not None:
            problems += _audiences(record, item, version, people, registry)
    return problems


def _shape(record: str, data: Mapping[str, Any]) -> Iterator[Problem]:
    """What the schema says too, checked here so that a session that does not validate never
    counts: a day it was held, attendees and document versions, a result per attendee of an
    assessed session."""
    fix = f"correct the draft (`qms validate training/{record}.yaml`), then record it"
    if held_on(data) is None:
        yield Problem("training.invalid", f"{record} has no valid 'held_on' date", fix)
    if not attendees(data):
        yield Problem("training.invalid", f"{record} names no attendee", fix)
    if not covered(data):
        yield Problem("training.invalid", f"{record} names no document version", fix)
    if data.get("method") == ASSESSED:
        missing = [a.person for a in attendees(data) if a.result not in (PASSED, "fail")]
        if missing:
            yield Problem(
                "training.invalid",
                f"{record} is an assessed session without a result for {', '.join(missing)}",
                fix,
            )


def _trainer(record: str, data: Mapping[str, Any], signer: str) -> list[Problem]:
    trainer = data.get("trainer")
    if trainer == signer:
        return []
    return [
        Problem(
            "training.trainer",
            f"{record} names {trainer} as its trainer but was recorded by {signer}",
            f"the trainer named in the session records it: {trainer} runs "
            f"`qms advance {record} --to recorded`",
        )
    ]


def _people(
    record: str, people: list[Attendee], registry: QmsConfig, held: date | None
) -> list[Problem]:
    problems: list[Problem] = []
    for attendee in people:
        person = registry.person(attendee.person)
        if person is None:
            problems.append(
                Problem(
                    "training.attendee",
                    f"{record}: the attendee {attendee.person} is not a person of qms.yaml",
                    "register them first (`qms people add`, readers without keys too), "
                    "or remove them from the draft",
                )
            )
        elif person.left_on is not None and (held is None or person.left_on <= held.isoformat()):
            problems.append(
                Problem(
                    "training.attendee",
                    f"{record}: the attendee {attendee.person} left on {person.left_on}, "
                    "before the session",
                    "remove them from the draft",
                )
            )
    return problems


def _approved(
    record: str, item: CoveredVersion, day: date, standing: Standing
) -> tuple[Version | None, Problem | None]:
    """The approved version a covered item names by its exact content, or why there is none."""
    status = standing(item.record, day)
    versions = status.versions if status is not None else ()
    found = next((v for v in versions if v.content == item.content), None)
    if (
        found is not None
        and found.version == item.version
        and found.status in (APPROVED, EFFECTIVE)
    ):
        return found, None
    if found is None:
        why = "is not the content of an approved version"
    elif found.version != item.version:
        why = f"is the content of v{found.version}, not v{item.version}"
    else:
        why = f"is v{found.version}, {found.status} on {day}"
    return None, Problem(
        "training.not-approved",
        f"{record} covers {item.record} v{item.version}, whose content {item.content[:19]}… "
        f"{why}: a session trains only on a version approved or in force on the day it is "
        "recorded",
        f"name the approved content (`qms status {item.record} --format json` shows it), "
        "or record the session once the version is approved",
    )


def _audiences(
    record: str,
    item: CoveredVersion,
    version: Version,
    people: list[Attendee],
    registry: QmsConfig,
) -> list[Problem]:
    wanted = version_audiences(version.data)
    problems: list[Problem] = []
    for attendee in people:
        person = registry.person(attendee.person)
        if person is None or registry.audiences_of(person) & wanted:
            continue
        theirs = ", ".join(sorted(registry.audiences_of(person))) or "none"
        problems.append(
            Problem(
                "training.not-in-audience",
                f"{record}: the attendee {attendee.person} is not in an audience of "
                f"{item.record} v{item.version} ({', '.join(sorted(wanted)) or 'it names none'}; "
                f"theirs: {theirs})",
                "an admin adds the person to the audience first (`qms people set "
                f"{attendee.person} --audience …`), or remove them from the draft",
            )
        )
    return problems
