"""The dashboards' figures, for every record kind with a state machine: its open records by state
and by age, and its on-time closure rate; the overdue items of every record; and what a kind's
special code adds (deviations per month by classification and by type)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from ..lifecycle.due import Due, day_of
from ..lifecycle.special import deadline
from ..records.config import QmsConfig
from ..records.kinds import KINDS, Kind
from ..records.lifecycles import Machine
from .entries import RecordEntry
from .special import FIGURES, LEVELS, Extra

__all__ = ["AGE_BUCKETS", "LEVELS", "KindFigures", "Metrics", "OnTime", "metrics"]

AGE_BUCKETS = ((30, "0–30 days"), (90, "31–90 days"), (180, "91–180 days"), (None, "over 180 days"))
# The closed state that completes a record (the other closed states end it otherwise, such as
# cancelled): only records closed in it count for the on-time closure rate.
COMPLETED = "closed"


@dataclass(frozen=True)
class OnTime:
    closed: int
    on_time: int

    @property
    def rate(self) -> float | None:
        return self.on_time / self.closed if self.closed else None


@dataclass(frozen=True, kw_only=True)
class KindFigures:
    """The figures of one record kind with a state machine."""

    kind: str  # its name
    label: str  # its name for people: "CAPA", "deviation"
    by_state: tuple[tuple[str, int], ...]  # its open records, in life-cycle order
    by_age: tuple[tuple[str, int], ...]  # its open records by days since opened (AGE_BUCKETS)
    on_time: OnTime  # closed by the day they were due to close
    extra: Extra = field(default_factory=Extra)  # what its special code adds


@dataclass(frozen=True, kw_only=True)
class Metrics:
    overdue: tuple[Due, ...]  # of every published record, earliest first
    kinds: tuple[KindFigures, ...]  # every record kind with a state machine, in declared order

    def of(self, kind: str) -> KindFigures | None:
        return next((figures for figures in self.kinds if figures.kind == kind), None)


def metrics(
    records: Sequence[RecordEntry], config: QmsConfig, on: date, kinds: Sequence[Kind] = KINDS
) -> Metrics:
    """The figures on `on` of `records`, for each of `kinds` that has a state machine."""
    machines = config.lifecycles.machines
    return Metrics(
        overdue=tuple(
            sorted((d for r in records for d in r.due if d.overdue), key=lambda d: d.due)
        ),
        kinds=tuple(
            _figures(kind, machines[kind.name], [r for r in records if r.kind == kind.name], on)
            for kind in kinds
            if kind.name in machines
        ),
    )


def _figures(kind: Kind, machine: Machine, records: Sequence[RecordEntry], on: date) -> KindFigures:
    open_records = [r for r in records if r.state not in machine.closed]
    counts = Counter(r.state for r in open_records)
    order = _state_order(machine.initial, machine.targets)
    by_state = tuple((state, counts[state]) for state in order if counts[state]) + tuple(
        sorted((s, n) for s, n in counts.items() if s not in order)
    )
    fields = kind.declared.fields
    ages: Counter[str] = Counter()
    for record in open_records:
        opened = day_of(fields.opened.first(record.fields)) if fields.opened else None
        if opened is not None:
            ages[_bucket((on - opened).days)] += 1
    special = FIGURES.get(kind.special) if kind.special else None
    return KindFigures(
        kind=kind.name,
        label=kind.label,
        by_state=by_state,
        by_age=tuple((label, ages[label]) for _, label in AGE_BUCKETS),
        on_time=_on_time(
            records,
            machine.closed,
            lambda r: day_of(fields.closed.first(r.fields)) if fields.closed else None,
            lambda r: deadline(kind, r.fields),
        ),
        extra=special(records, on) if special else Extra(),
    )


def _state_order(initial: str, targets: Callable[[str], list[str]]) -> list[str]:
    """States in the order a record first reaches them from the initial state."""
    order = [initial]
    for state in order:
        order += [to for to in targets(state) if to not in order]
    return order


def _bucket(days: int) -> str:
    return next(label for limit, label in AGE_BUCKETS if limit is None or days <= limit)


def _on_time(
    records: Sequence[RecordEntry],
    closed: Iterable[str],
    finished: Callable[[RecordEntry], date | None],
    due: Callable[[RecordEntry], date | None],
) -> OnTime:
    done = [r for r in records if r.state == COMPLETED and r.state in closed]
    on_time = 0
    for record in done:
        end, deadline_day = finished(record), due(record)
        on_time += end is not None and deadline_day is not None and end <= deadline_day
    return OnTime(len(done), on_time)
