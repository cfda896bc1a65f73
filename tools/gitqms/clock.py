"""The one clock: every "now" and "today" in gitqms comes from here, in UTC.

Commands that depend on the day take `--date` and pass it down; what is left to the clock is the
moment a command runs (a receipt time, an archive's creation, the future-date check of a
signature). Tests set it with `fixed`, so nothing depends on the day a test runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

_fixed: datetime | None = None


def now() -> datetime:
    """The current moment, in UTC."""
    return _fixed if _fixed is not None else datetime.now(UTC)


def today() -> date:
    """The current day in UTC (not the machine's local day)."""
    return now().date()


def day_or_today(on: date | None) -> date:
    """`on` when a command was given a day, else today."""
    return on if on is not None else today()


@contextmanager
def fixed(moment: datetime) -> Iterator[None]:
    """Within the block, the clock reads `moment` (a timezone-aware date-time)."""
    global _fixed
    if moment.tzinfo is None:
        raise ValueError("the clock is set with a timezone-aware date-time")
    saved, _fixed = _fixed, moment.astimezone(UTC)
    try:
        yield
    finally:
        _fixed = saved
