"""One clock: every "today" and "now" of the package comes from gitqms.clock, in UTC."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from gitqms import clock
from toolkit.cli import ROOT

# Ways of reading the machine's clock (or its local day) directly.
_READS = re.compile(
    r"\b(?:datetime\.now|datetime\.utcnow|datetime\.today|date\.today|time\.time|"
    r"time\.localtime|time\.gmtime)\("
)


def test_nothing_in_the_package_reads_the_machine_clock_but_the_clock() -> None:
    package = ROOT / "tools" / "gitqms"
    readers = [
        f"{path.relative_to(package)}:{number}: {line.strip()}"
        for path in sorted(package.rglob("*.py"))
        if path.name != "clock.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if _READS.search(line)
    ]
    assert readers == []


def test_a_fixed_clock_reads_its_moment_in_utc_and_is_restored_after() -> None:
    before = clock.now()
    moment = datetime(2026, 12, 31, 23, 59, 50, tzinfo=timezone(timedelta(hours=-5)))
    with clock.fixed(moment):
        assert clock.now() == moment and clock.now().tzinfo == UTC
        assert clock.today() == date(2027, 1, 1)  # UTC, not the moment's own zone
        assert clock.day_or_today(None) == date(2027, 1, 1)
        assert clock.day_or_today(date(2026, 5, 4)) == date(2026, 5, 4)
    assert before <= clock.now() and clock.now().tzinfo is not None


def test_a_clock_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"), clock.fixed(datetime(2026, 1, 1)):
        pass


def test_a_date_time_falls_on_the_organisations_day() -> None:
    """Due dates count from the hospital's calendar day: 23:30 UTC is the next day in Berlin
    (winter and summer), the same day in UTC; a date is its own day; junk is no day."""
    assert clock.local_day("2026-03-01T23:30:00Z", "Europe/Berlin") == date(2026, 3, 2)
    assert clock.local_day("2026-07-01T22:30:00+00:00", "Europe/Berlin") == date(2026, 7, 2)
    assert clock.local_day("2026-03-01T23:30:00Z", "UTC") == date(2026, 3, 1)
    assert clock.local_day("2026-03-02T00:30:00+01:00", "UTC") == date(2026, 3, 1)
    assert clock.local_day("2026-03-01", "Pacific/Kiritimati") == date(2026, 3, 1)
    assert clock.local_day("2026-03-01T23:30:00Z", "Not/AZone") == date(2026, 3, 1)
    assert clock.local_day("yesterday", "UTC") is None
    assert clock.local_day(None, "UTC") is None
