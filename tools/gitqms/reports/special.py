"""Dashboard figures that stay in code for one kind, keyed by the `special` name of its
declaration (schemas/kind.schema.json has no vocabulary for them yet).

- deviation: deviations per month of the last twelve by classification level, and by type.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..lifecycle.due import day_of
from .entries import RecordEntry

LEVELS = ("minor", "major", "critical")


@dataclass(frozen=True, kw_only=True)
class Extra:
    """What a kind's special code adds to its figures."""

    by_month: tuple[tuple[str, Mapping[str, int]], ...] = ()  # "2026-04" -> split -> n
    by_type: tuple[tuple[str, int], ...] = ()
    deadline: str = "due date"  # what its on-time closure is measured against, for people


def _deviation_figures(records: Sequence[RecordEntry], on: date) -> Extra:
    return Extra(
        deadline="investigation due date",
        by_month=_per_month(records, on),
        by_type=tuple(sorted(Counter(_text(r.fields.get("type")) for r in records).items())),
    )


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
        when = day_of(record.fields.get("discovered_at") or record.fields.get("occurred_at"))
        if when is None or f"{when:%Y-%m}" not in counts:
            continue
        classification = record.fields.get("classification")
        level = classification.get("level") if isinstance(classification, dict) else None
        counts[f"{when:%Y-%m}"][level if level in LEVELS else "unclassified"] += 1
    return tuple((m, dict(counts[m])) for m in reversed(months))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "unspecified"


# special name -> (the records of that kind, the day) -> what its figures add
FIGURES: Mapping[str, Callable[[Sequence[RecordEntry], date], Extra]] = {
    "deviation": _deviation_figures
}
