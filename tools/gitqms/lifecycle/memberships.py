"""Who belongs to a training audience, since when, and by when they must be trained.

Read from the registries in force along the walked branch's first-parent line, each from the
day it came into force there: joining, changing audience and leaving are dated by the
admin-signed commits that record them, never by a claim made later in the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ..records.config import Person, QmsConfig
from ..signatures.verify import Walk
from .documents import Version
from .signed import entry_times, first_parent_line

# The registries in force along the walked branch's first-parent line: (from day, registry).
Timeline = list[tuple[date, QmsConfig]]


def registry_timeline(walk: Walk) -> Timeline:
    """Each registry adopted on the walked tip's first-parent line, with the day it came into
    force there (a merge brings a branch's registry on the day of the merge)."""
    graph = walk.graph()
    entered = entry_times(graph, walk.commit_times())  # a back-dated commit enters no earlier
    timeline: Timeline = []
    blob: str | None = None
    for on_line in first_parent_line(graph):
        registry = walk.registry_at(on_line)
        if registry is not None and registry.blob != blob:
            blob = registry.blob
            timeline.append((entered[on_line].date(), registry.config))
    return timeline


def registry_on(timeline: Timeline, on: date) -> QmsConfig | None:
    """The registry in force at the end of `on`."""
    found = None
    for day, config in timeline:
        if day > on:
            break
        found = config
    return found


@dataclass(frozen=True)
class Arrival:
    """How a person entered the registry: their entry in the registry that began their unbroken
    presence up to a day, and that registry's new-starter window. Only that entry's `joined`
    counts: a day of joining written later never restarts anyone's clock."""

    entry: Person
    window: int

    @property
    def joined(self) -> date | None:
        return date.fromisoformat(self.entry.joined) if self.entry.joined else None


def arrival(timeline: Timeline, person: str, on: date) -> Arrival | None:
    found: Arrival | None = None
    for _, config in reversed([entry for entry in timeline if entry[0] <= on]):
        held = config.person(person)
        if held is None:
            break
        found = Arrival(held, config.new_starter_days)
    return found


def in_matrix(person: Person, came: Arrival | None, on: date) -> bool:
    """Whether `person` works here on `on`: joined by then (as first registered) and not left."""
    joined = came.joined if came else None
    started = joined is None or joined <= on
    return started and (person.left_on is None or person.left_on > on.isoformat())


@dataclass(frozen=True)
class Membership:
    """A person's unbroken run in one of a version's audiences up to a day: from which day
    (None: since the first registry), under which new-starter window, and their entry in the
    registry that began it. Only a `joined` day written with the change that began the run
    counts (a move to the pharmacy from the 1st): one written later restarts no clock."""

    since: date | None
    window: int
    entry: Person | None

    @property
    def starts(self) -> date | None:
        """The day the person joined the audience: the registry's day, or a later `joined`."""
        joined = self.entry.joined if self.entry else None
        day = date.fromisoformat(joined) if joined else None
        if day is not None and (self.since is None or day > self.since):
            return day
        return self.since


def membership(timeline: Timeline, person: str, wanted: frozenset[str], on: date) -> Membership:
    """(`timeline`: the registries up to `on` are read, the latest first)"""
    since: date | None = None
    window, entry = 0, None
    entries = [entry for entry in timeline if entry[0] <= on]
    for index, (day, config) in enumerate(reversed(entries)):
        held = config.person(person)
        if held is None or not (config.audiences_of(held) & wanted):
            return Membership(since, window, entry)
        first = index == len(entries) - 1
        since, window, entry = (None if first else day), config.new_starter_days, held
    return Membership(since, window, entry)


def due_day(member: Membership, version: Version) -> date:
    """The day a person must be trained on `version` by: its effective day; for a person who
    joined the audience after it was approved, the day they joined plus the new-starter window
    they joined under, if that is later."""
    assert version.effective_from is not None and version.approved_on is not None
    starts = member.starts
    if starts is None or starts <= version.approved_on:
        return version.effective_from
    return max(version.effective_from, starts + timedelta(days=member.window))
