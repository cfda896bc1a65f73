"""The dashboards' figures: open CAPAs by state and age, overdue items, deviations per month
by classification and by type, and the on-time closure rate."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..lifecycle.due import Due, _day
from ..records.config import QmsConfig
from .entries import RecordEntry

AGE_BUCKETS = ((30, "0–30 days"), (90, "31–90 days"), (180, "91–180 days"), (None, "over 180 days"))
LEVELS = ("minor", "major", "critical")


@dataclass(frozen=True)
class OnTime:
    closed: int
    on_time: int

    @property
    def rate(self) -> float | None:
        return self.on_time / self.closed if self.closed else None


@dataclass(frozen=True, kw_only=True)
class Metrics:
    capa_by_state: tuple[tuple[str, int], ...]  # open CAPAs, in life-cycle order
    capa_by_age: tuple[tuple[str, int], ...]  # open CAPAs by days since opened
    overdue: tuple[Due, ...]
    deviations_by_month: tuple[tuple[str, Mapping[str, int]], ...]  # "2026-04" -> level -> n
    deviations_by_type: tuple[tuple[str, int], ...]
    capa_on_time: OnTime
    deviation_on_time: OnTime


def metrics(records: Sequence[RecordEntry], config: QmsConfig, on: date) -> Metrics:
    machines = config.lifecycles.machines
    capas = [r for r in records if r.kind == "capa"]
    deviations = [r for r in records if r.kind == "deviation"]
    open_capas = [r for r in capas if r.state not in machines["capa"].closed]
    counts = Counter(r.state for r in open_capas)
    order = _state_order(machines["capa"].initial, machines["capa"].targets)
    by_state = tuple((state, counts[state]) for state in order if counts[state]) + tuple(
        sorted((s, n) for s, n in counts.items() if s not in order)
    )
    ages: Counter[str] = Counter()
    for record in open_capas:
        opened = _day(record.fields.get("opened"))
        if opened is not None:
            ages[_bucket((on - opened).days)] += 1
    return Metrics(
        capa_by_state=by_state,
        capa_by_age=tuple((label, ages[label]) for _, label in AGE_BUCKETS),
        overdue=tuple(
            sorted((d for r in records for d in r.due if d.overdue), key=lambda d: d.due)
        ),
        deviations_by_month=_per_month(deviations, on),
        deviations_by_type=tuple(
            sorted(Counter(_text(r.fields.get("type")) for r in deviations).items())
        ),
        capa_on_time=_on_time(capas, machines["capa"].closed, lambda r: _day(r.fields.get("due"))),
        deviation_on_time=_on_time(deviations, machines["deviation"].closed, _investigation_due),
    )


def _state_order(initial: str, targets: Callable[[str], list[str]]) -> list[str]:
    """States in the order a record first reaches them from the initial state."""
    order = [initial]
    for state in order:
        order += [to for to in targets(state) if to not in order]
    return order


def _bucket(days: int) -> str:
    return next(label for limit, label in AGE_BUCKETS if limit is None or days <= limit)


def _per_month(
    deviations: Sequence[RecordEntry], on: date
) -> tuple[tuple[str, dict[str, int]], ...]:
    """The twelve months up to `on`, each with its deviations counted by classification."""
    months = []
    year, month = on.year, on.month
    for _ in range(12):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    counts: dict[str, Counter[str]] = {m: Counter() for m in months}
    for record in deviations:
        when = _day(record.fields.get("discovered_at") or record.fields.get("occurred_at"))
        if when is None or f"{when:%Y-%m}" not in counts:
            continue
        classification = record.fields.get("classification")
        level = classification.get("level") if isinstance(classification, dict) else None
        counts[f"{when:%Y-%m}"][level if level in LEVELS else "unclassified"] += 1
    return tuple((m, dict(counts[m])) for m in reversed(months))


def _on_time(
    records: Sequence[RecordEntry], closed: Iterable[str], due: Callable[[RecordEntry], date | None]
) -> OnTime:
    done = [r for r in records if r.state == "closed" and r.state in closed]
    on_time = 0
    for record in done:
        finished, deadline = _day(record.fields.get("closed")), due(record)
        on_time += finished is not None and deadline is not None and finished <= deadline
    return OnTime(len(done), on_time)


def _investigation_due(record: RecordEntry) -> date | None:
    investigation = record.fields.get("investigation")
    if not isinstance(investigation, dict):
        return None
    extension = investigation.get("extension")
    if isinstance(extension, dict) and _day(extension.get("due")):
        return _day(extension.get("due"))
    return _day(investigation.get("due"))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "unspecified"
