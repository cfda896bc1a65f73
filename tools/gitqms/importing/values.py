"""Legacy cell values read into record values: dates in many spellings, yes/no, people."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from ..records.config import QmsConfig
from .tables import Cell

DayOrder = Literal["day-first", "month-first"] | None

_EXCEL_EPOCH = date(1899, 12, 30)  # Excel's day 0 (with its 1900 leap-year bug folded in)
_SERIALS = range(18_264, 73_051)  # 1950-01-01 .. 2099-12-31: anything else is no date
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?"
)
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_SLASHED = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")


@dataclass(frozen=True)
class Moment:
    """A date read from a legacy cell, with a time when the cell gave one."""

    day: date
    clock: time | None = None
    zone: str | None = None  # "+01:00" or "Z" when the cell said

    def date_text(self) -> str:
        return self.day.isoformat()

    def date_time_text(self) -> str:
        """ISO 8601 with a zone; a legacy time without a zone is taken as UTC."""
        clock = self.clock or time(0, 0)
        zone = self.zone or "Z"
        return f"{self.day.isoformat()}T{clock.strftime('%H:%M:%S')}{zone}"


class ValueProblem(Exception):
    """A value that cannot be read; the message says why, `ambiguous` when it has two readings."""

    def __init__(self, message: str, *, ambiguous: bool = False) -> None:
        super().__init__(message)
        self.ambiguous = ambiguous


def text_of(cell: Cell) -> str:
    """A cell as one trimmed text: numbers without a trailing .0, dates in ISO."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "yes" if cell else "no"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime | date | time):
        return cell.isoformat()
    return str(cell).replace("\r\n", "\n").replace("\r", "\n").strip()


def read_moment(cell: Cell, order: DayOrder) -> Moment:
    if isinstance(cell, datetime):
        if cell.tzinfo is not None:
            cell = cell.astimezone(UTC)
            return Moment(cell.date(), cell.time().replace(microsecond=0), "Z")
        clock = cell.time().replace(microsecond=0)
        return Moment(cell.date(), clock if clock != time(0, 0) else None)
    if isinstance(cell, date):
        return Moment(cell)
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return _serial(cell)
    text = text_of(cell)
    if re.fullmatch(r"\d{5}(\.\d+)?", text):
        return _serial(float(text))
    if match := _ISO.fullmatch(text):
        year, month, day, hour, minute, second, zone = match.groups()
        return _moment(year, month, day, hour, minute, second, _zone(zone))
    if match := _DOTTED.fullmatch(text):  # dd.mm.yyyy is always day first
        day, month, year, hour, minute, second = match.groups()
        return _moment(year, month, day, hour, minute, second, None)
    if match := _SLASHED.fullmatch(text):
        first, second_part, year, hour, minute, second = match.groups()
        a, b = int(first), int(second_part)
        if order == "day-first" or (order is None and a > 12 >= b):
            day, month = first, second_part
        elif order == "month-first" or (order is None and b > 12 >= a):
            day, month = second_part, first
        elif a == b:
            day, month = first, second_part
        else:
            raise ValueProblem(
                f"'{text}' reads as {year}-{b:02d}-{a:02d} (day first) or {year}-{a:02d}-{b:02d} "
                "(month first)",
                ambiguous=True,
            )
        return _moment(year, month, day, hour, minute, second, None)
    raise ValueProblem(f"'{text}' is not a date this import reads (YYYY-MM-DD, DD.MM.YYYY, …)")


def _zone(text: str | None) -> str | None:
    if text is None or text == "Z":
        return text
    digits = text.replace(":", "")
    return f"{digits[:3]}:{digits[3:]}"


def _moment(
    year: str,
    month: str,
    day: str,
    hour: str | None,
    minute: str | None,
    second: str | None,
    zone: str | None,
) -> Moment:
    try:
        value = date(int(year), int(month), int(day))
        clock = time(int(hour), int(minute), int(second or 0)) if hour and minute else None
    except ValueError:
        raise ValueProblem(f"'{year}-{month}-{day}' is not a calendar date") from None
    return Moment(value, clock, zone if clock else None)


def _serial(number: float) -> Moment:
    if int(number) not in _SERIALS:
        raise ValueProblem(f"the number {number:g} is not a date")
    moment = datetime.combine(_EXCEL_EPOCH, time(0)) + timedelta(days=number)
    clock = moment.time().replace(microsecond=0)
    return Moment(moment.date(), clock if clock != time(0) else None)


_TRUE = frozenset({"yes", "y", "true", "1", "x", "ja", "j", "oui"})
_FALSE = frozenset({"no", "n", "false", "0", "nein", "non", "-"})


def read_bool(cell: Cell) -> bool:
    if isinstance(cell, bool):
        return cell
    text = text_of(cell).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueProblem(f"'{text}' is not yes or no")


def read_integer(cell: Cell, low: int, high: int) -> int:
    text = text_of(cell)
    if not re.fullmatch(r"\d{1,4}", text) or not low <= int(text) <= high:
        raise ValueProblem(f"'{text}' is not a whole number from {low} to {high}")
    return int(text)


_TITLES = re.compile(r"^(dr|prof|mr|mrs|ms|msc|phd|pharmd|rn)\.?\s+", re.IGNORECASE)


def _plain_name(text: str) -> str:
    text = text.split(",")[0].strip().lower()
    while _TITLES.match(text):
        text = _TITLES.sub("", text, count=1)
    return " ".join(text.split())


def read_person(cell: Cell, config: QmsConfig) -> str:
    """A person of qms.yaml named by ID, email or printed name (titles ignored)."""
    text = text_of(cell)
    by_id = config.person(text.lower())
    if by_id is not None:
        return by_id.id
    by_email = config.person_by_email(text) if "@" in text else None
    if by_email is not None:
        return by_email.id
    wanted = _plain_name(text)
    matches = [p.id for p in config.people if _plain_name(p.name) == wanted and wanted]
    if len(matches) == 1:
        return matches[0]
    raise ValueProblem(f"'{text}' is not a person in qms.yaml (by ID, email or name)")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
