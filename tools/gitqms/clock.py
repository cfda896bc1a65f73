"""The one clock: every "now" and "today" in gitqms comes from here, in UTC.

Commands that depend on the day take `--date` and pass it down; what is left to the clock is the
moment a command runs (a receipt time, an archive's creation, the future-date check of a
signature). Tests set it with `fixed`, so nothing depends on the day a test runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


def local_day(value: Any, zone: str) -> date | None:
    """The organisation's calendar day of a date or date-time string: a date-time with its
    zone is turned into `zone` (an IANA name) first, so 23:30 UTC is the next day in Berlin;
    a date is that day."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None or "T" not in value:
        return when.date()
    try:
        return when.astimezone(ZoneInfo(zone)).date()
    except (ZoneInfoNotFoundError, ValueError):  # not on this machine: the site build says so
        return when.date()
