"""Checks that stay in code because they are truly one kind's own, keyed by the kind's
`special` name (records/kinds.py); record_checks.py runs them after the declared checks.

deviation: the investigation is due within the policy's days of discovery unless a justified
extension is recorded, and a report later than the policy's hours is a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import Any

from ..clock import local_day
from ..records.config import QmsConfig
from ..records.model import Record
from .findings import Reporter


def moment(value: str) -> datetime:
    """A date or date-time string as an aware datetime; a date means its start, in UTC."""
    if "T" in value:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)


def _investigation_due(raw: Mapping[str, Any], config: QmsConfig, report: Reporter) -> None:
    """The investigation is due within the policy's days of discovery; later needs an extension."""
    investigation = raw.get("investigation") or {}
    due, discovered = investigation.get("due"), raw.get("discovered_at")
    if not isinstance(due, str) or not isinstance(discovered, str):
        return
    days = config.due.investigation_days
    found = local_day(discovered, config.due.time_zone)  # the hospital's day of discovery
    if found is None:
        return
    allowed = found + timedelta(days=days)
    if date.fromisoformat(due) > allowed and investigation.get("extension") is None:
        report(
            ("investigation", "due"),
            "deviation.investigation-due",
            f"'investigation.due' {due} is later than the "
            f"{days} days after discovery that the policy allows ({allowed})",
            f"set it to {allowed} or earlier, or record a justified 'investigation.extension' "
            "approved by QA",
        )


def _late_report(raw: Mapping[str, Any], config: QmsConfig, report: Reporter) -> None:
    """A report later than the policy's hours after discovery: a warning, the dates stay."""
    reported, discovered = raw.get("reported_at"), raw.get("discovered_at")
    if not isinstance(reported, str) or not isinstance(discovered, str):
        return
    delay = moment(reported) - moment(discovered)
    limit = config.due.report_hours
    if delay > timedelta(hours=limit):
        hours = delay.total_seconds() / 3600
        report(
            ("reported_at",),
            "deviation.late-report",
            f"reported {hours:.0f} h after discovery; the policy asks for {limit} h",
            "no change to the dates: explain the delay in 'description'",
            "warning",
        )


def _deviation(record: Record, config: QmsConfig, report: Reporter) -> None:
    _investigation_due(record.raw, config, report)
    _late_report(record.raw, config, report)


Check = Callable[[Record, QmsConfig, Reporter], None]

# special name -> the checks of a record of that kind, run when qms.yaml is readable
CHECKS: Mapping[str, Check] = MappingProxyType({"deviation": _deviation})
