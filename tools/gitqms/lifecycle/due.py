"""What is due when: CAPA actions and effectiveness checks, investigations, external reports,
OOS notifications, periodic reviews and upcoming effectivity, each with its overdue flag."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ..records.config import DuePolicy


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


def _day(value: Any) -> date | None:
    """The calendar day of a date or date-time string (in its own zone)."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _item(record: str, what: str, due: date | None, on: date, **extra: Any) -> list[Due]:
    return [] if due is None else [Due(record, what, due, due < on, **extra)]


def capa_due(record: str, data: Mapping[str, Any], closed: bool, on: date) -> list[Due]:
    if closed:
        return []
    owner = data.get("owner") if isinstance(data.get("owner"), str) else None
    items = _item(record, "closure", _day(data.get("due")), on, owner=owner)
    for action in data.get("actions") or ():
        if isinstance(action, dict) and action.get("status") in ("open", "in-progress"):
            items += _item(
                record,
                f"action {action.get('id', '?')}",
                _day(action.get("due")),
                on,
                owner=action.get("owner"),
            )
    check = data.get("effectiveness")
    if isinstance(check, dict) and not check.get("verdict"):
        items += _item(record, "effectiveness check", _day(check.get("due")), on, owner=owner)
    return items


def deviation_due(
    record: str,
    data: Mapping[str, Any],
    closed: bool,
    cancelled: bool,
    policy: DuePolicy,
    extension_signed: bool,
    on: date,
) -> list[Due]:
    owner = data.get("owner") if isinstance(data.get("owner"), str) else None
    items: list[Due] = []
    if cancelled:
        return items
    if not closed and data.get("state") in ("reported", "classified", "investigation"):
        investigation = data.get("investigation") or {}
        extension = investigation.get("extension") if isinstance(investigation, dict) else None
        discovered = _day(data.get("discovered_at"))
        due = _day(investigation.get("due")) if isinstance(investigation, dict) else None
        detail = None
        if due is None and discovered is not None:
            due = discovered + timedelta(days=policy.investigation_days)
            detail = f"{policy.investigation_days} days after discovery"
        if isinstance(extension, dict) and _day(extension.get("due")):
            if extension_signed:
                due, detail = _day(extension.get("due")), "extended, signed by QA"
            else:
                detail = "an extension is recorded but not signed by QA ('extended'); this is the original due date"
        items += _item(record, "investigation", due, on, owner=owner, detail=detail)
    for report in data.get("external_reporting") or ():
        if isinstance(report, dict) and not report.get("done_at"):
            deadline = report.get("deadline")
            items += _item(
                record,
                f"report to {report.get('to', '?')}",
                _day(deadline),
                on,
                owner=owner,
                detail=f"deadline {deadline}",
            )
    oos = data.get("oos")
    if isinstance(oos, dict) and oos.get("administered") is True:
        accepted = _moment(oos.get("physician_accepted_at"))
        if accepted is not None and not oos.get("sponsor_notified_at"):
            deadline = accepted + timedelta(hours=policy.oos_notification_hours)
            items += _item(
                record,
                "sponsor notification (OOS)",
                deadline.date(),
                on,
                owner=owner,
                detail=f"{policy.oos_notification_hours} h after the physician's acceptance: "
                f"{deadline.isoformat()}",
            )
    return items


def within(items: list[Due], on: date, days: int) -> list[Due]:
    """Items overdue, or due within `days` of `on`, earliest first."""
    horizon = on + timedelta(days=days)
    return sorted(
        (item for item in items if item.overdue or item.due <= horizon),
        key=lambda item: (item.due, item.record, item.what),
    )
