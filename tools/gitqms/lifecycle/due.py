"""What is due when, each with its overdue flag: the items a record kind declares (a CAPA's
closure, actions and effectiveness check, a deviation's external reports, …), read from the
record's fields. What a kind computes in code (a deviation's investigation and OOS notification)
is in `special`; a document's periodic review and upcoming effectivity in `status`."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ..records.declaration import DueItem, Path
from ..records.kinds import Kind

SOON_DAYS = 30  # "due soon": within this many days (`qms due`, `qms inbox`, the site's inboxes)


@dataclass(frozen=True)
class Due:
    record: str
    what: str  # "investigation", "action A2", "report to sponsor", "periodic review", …
    due: date
    overdue: bool  # the day has passed and it is not done
    owner: str | None = None
    detail: str | None = None  # the exact deadline, or why this date applies

    def to_json(self) -> dict[str, Any]:
        return {
            "record": self.record,
            "what": self.what,
            "due": self.due.isoformat(),
            "overdue": self.overdue,
            "owner": self.owner,
            "detail": self.detail,
        }


def day_of(value: Any) -> date | None:
    """The calendar day of a date or date-time string (in its own zone)."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def moment_of(value: Any) -> datetime | None:
    """The moment of a date-time string (a plain date is not one)."""
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def due_item(record: str, what: str, due: date | None, on: date, **extra: Any) -> list[Due]:
    """The item due on `due` (overdue when that day is before `on`); none without a day."""
    return [] if due is None else [Due(record, what, due, due < on, **extra)]


def declared_due(
    kind: Kind,
    record_id: str,
    data: Mapping[str, Any],
    state: str,
    closed_states: Collection[str],
    on: date,
) -> list[Due]:
    """The items `kind` declares due (`due:` in its declaration), for a record in `state`.

    An item is not due in the states it names under `until` (none named: in any of
    `closed_states`). With `each`, it is one item per entry of that list; its paths are within
    the entry, and a path starting with `/` is the record's. An entry is left out where a
    `while` field holds none of its values, once its `done` field holds a value, or when its
    date is missing. `{field}` in `what` and `detail` is that field's value ('?' when absent).
    """
    items: list[Due] = []
    for item in kind.declared.due:
        if state in (closed_states if item.until is None else item.until):
            continue
        for scope in _scopes(item, data):
            items += _declared_item(item, record_id, scope, data, on)
    return items


def _scopes(item: DueItem, data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Where the item's paths are read: the record, or each entry of its `each` list."""
    if item.each is None:
        return [data]
    return [
        entry
        for _, found in item.each.found(data)
        if isinstance(found, list)
        for entry in found
        if isinstance(entry, Mapping)
    ]


def _value(path: Path | None, scope: Mapping[str, Any], record: Mapping[str, Any]) -> Any:
    if path is None:
        return None
    return path.first(record if path.from_root else scope)


def _declared_item(
    item: DueItem,
    record_id: str,
    scope: Mapping[str, Any],
    record: Mapping[str, Any],
    on: date,
) -> list[Due]:
    for field, allowed in item.while_:
        if _value(Path(field), scope, record) not in allowed:
            return []
    if item.done is not None and _value(item.done, scope, record):
        return []
    owner = _value(item.owner, scope, record)
    detail = None if item.detail is None else _filled(item.detail, scope, record)
    return due_item(
        record_id,
        _filled(item.what, scope, record),
        day_of(_value(item.date, scope, record)),
        on,
        owner=owner if isinstance(owner, str) else None,
        detail=detail,
    )


_FIELD = re.compile(r"\{([^{}]+)\}")


def _filled(text: str, scope: Mapping[str, Any], record: Mapping[str, Any]) -> str:
    """`text` with each `{field}` replaced by its value, '?' where the field is absent."""

    def value(match: re.Match[str]) -> str:
        path = Path(match.group(1))
        found = next(path.found(record if path.from_root else scope), None)
        return "?" if found is None else str(found[1])

    return _FIELD.sub(value, text)


def within(items: list[Due], on: date, days: int) -> list[Due]:
    """Items overdue, or due within `days` of `on`, earliest first."""
    horizon = on + timedelta(days=days)
    return sorted(
        (item for item in items if item.overdue or item.due <= horizon),
        key=lambda item: (item.due, item.record, item.what),
    )
