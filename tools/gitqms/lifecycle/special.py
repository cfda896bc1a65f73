"""What stays in code for one kind, keyed by the `special` name of its declaration
(schemas/kind.schema.json); everything else a kind does here comes from its declaration.

- deviation: the investigation due item (the policy's `investigation_days` after discovery,
  unless the record sets its own date; moved only by an extension its approver signed) and the
  sponsor notification of an out-of-specification product administered, both computed from the
  policy rather than read from a field; and the investigation's date for the on-time rate.
- audit-review: no state machine; its state is whether a valid signature covers its content.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ..clock import local_day
from ..records.config import DuePolicy
from ..records.kinds import ISSUED_MEANING, REVIEW_MEANING, Kind
from .due import Due, day_of, due_item, moment_of
from .signed import SignedContent, extension_signed, investigation_extension


@dataclass(frozen=True, kw_only=True)
class DueContext:
    """A record of a kind with a state machine, as `qms status` judges it on `on`."""

    record: str
    data: Mapping[str, Any]
    state: str
    closed: bool  # its state is one of its machine's closed states
    policy: DuePolicy
    signed: Mapping[str, SignedContent]  # its signed contents, by content hash
    on: date


# special name -> (the record, the items its declaration makes due) -> every item due, in order
DueHook = Callable[[DueContext, list[Due]], list[Due]]


def due_items(kind: Kind, context: DueContext, declared: list[Due]) -> list[Due]:
    """What is due on a record: its kind's declared items, and what its special code adds."""
    hook = DUE.get(kind.special) if kind.special else None
    return hook(context, declared) if hook else declared


# --- deviation -------------------------------------------------------------------------------

_CANCELLED = "cancelled"  # nothing is due on a cancelled deviation
_INVESTIGATING = ("reported", "classified", "investigation")  # its investigation is still due


def _deviation_due(context: DueContext, declared: list[Due]) -> list[Due]:
    if context.state == _CANCELLED:
        return []
    return [*_investigation(context), *declared, *_oos_notification(context)]


def _owner(data: Mapping[str, Any]) -> str | None:
    owner = data.get("owner")
    return owner if isinstance(owner, str) else None


def _investigation(context: DueContext) -> list[Due]:
    data = context.data
    if context.closed or data.get("state") not in _INVESTIGATING:
        return []
    investigation = data.get("investigation") or {}
    extension = investigation.get("extension") if isinstance(investigation, dict) else None
    discovered = local_day(data.get("discovered_at"), context.policy.time_zone)
    due = day_of(investigation.get("due")) if isinstance(investigation, dict) else None
    detail = None
    days = context.policy.investigation_days
    if due is None and discovered is not None:
        due = discovered + timedelta(days=days)
        detail = f"{days} days after discovery"
    if isinstance(extension, dict) and day_of(extension.get("due")):
        if extension_signed(context.signed, investigation_extension(data), context.on):
            due, detail = day_of(extension.get("due")), "extended, signed by QA"
        else:
            detail = (
                "an extension is recorded but not signed by QA ('extended'); this is the "
                "original due date"
            )
    return due_item(
        context.record, "investigation", due, context.on, owner=_owner(data), detail=detail
    )


def _oos_notification(context: DueContext) -> list[Due]:
    """The sponsor's notification, due within the policy's hours after the treating physician
    accepted an out-of-specification product that was then administered."""
    oos = context.data.get("oos")
    if not isinstance(oos, dict) or oos.get("administered") is not True:
        return []
    accepted = moment_of(oos.get("physician_accepted_at"))
    if accepted is None or oos.get("sponsor_notified_at"):
        return []
    hours = context.policy.oos_notification_hours
    deadline = accepted + timedelta(hours=hours)
    return due_item(
        context.record,
        "sponsor notification (OOS)",
        local_day(deadline.isoformat(), context.policy.time_zone),  # the hospital's day
        context.on,
        owner=_owner(context.data),
        detail=f"{hours} h after the physician's acceptance: {deadline.isoformat()}",
    )


def _investigation_deadline(data: Mapping[str, Any]) -> date | None:
    """The investigation's date as written: an extension's, else the original."""
    investigation = data.get("investigation")
    if not isinstance(investigation, dict):
        return None
    extension = investigation.get("extension")
    if isinstance(extension, dict) and day_of(extension.get("due")):
        return day_of(extension.get("due"))
    return day_of(investigation.get("due"))


# --- audit-review ----------------------------------------------------------------------------


def _review_state(
    content: str, signed: Mapping[str, SignedContent], on: date
) -> tuple[str, tuple[str, ...]]:
    """An audit-trail review has no lifecycle: it is signed (on this exact content) or not."""
    item = signed.get(content)
    done = item is not None and any(s.counts_from.date() <= on for s in item.signatures)
    if done:
        return "signed", ()
    return "unsigned", (f"no valid '{REVIEW_MEANING}' signature covers this content",)


# --- controlled-copy -------------------------------------------------------------------------


def _copy_state(
    content: str, signed: Mapping[str, SignedContent], on: date
) -> tuple[str, tuple[str, ...]]:
    """A controlled copy's record has no lifecycle: its issue is signed (on this exact
    content) or not."""
    item = signed.get(content)
    done = item is not None and any(
        s.meaning == ISSUED_MEANING and s.counts_from.date() <= on for s in item.signatures
    )
    if done:
        return "issued", ()
    return "unsigned", (f"no valid '{ISSUED_MEANING}' signature covers this content",)


# --- the tables ------------------------------------------------------------------------------

DUE: Mapping[str, DueHook] = {"deviation": _deviation_due}

# special name -> the day a closed record of that kind was due to close, from its fields
# (without one, the date of the kind's declared item that closing completes: see `deadline`)
DEADLINES: Mapping[str, Callable[[Mapping[str, Any]], date | None]] = {
    "deviation": _investigation_deadline
}

# special name of a record kind without a state machine -> (the content hash of the record as
# committed, its signed contents, the day) -> (its state, notes)
STATES: Mapping[
    str, Callable[[str, Mapping[str, SignedContent], date], tuple[str, tuple[str, ...]]]
] = {"audit-review": _review_state, "controlled-copy": _copy_state}


def deadline(kind: Kind, data: Mapping[str, Any]) -> date | None:
    """The day a record of `kind` was due to be closed: its special code's, else the date of
    the first item its declaration makes due until the record closes, for the record as a
    whole (no `each`), done by closing (no `done`) and without conditions (no `while`)."""
    hook = DEADLINES.get(kind.special) if kind.special else None
    if hook is not None:
        return hook(data)
    for item in kind.declared.due:
        if item.until is None and item.each is None and item.done is None and not item.while_:
            return day_of(item.date.first(data))
    return None


def _deviation_defaults(
    data: Mapping[str, Any], target: str, policy: DuePolicy
) -> dict[tuple[str, ...], Any]:
    """A deviation taken into investigation gets its investigation's due day from the policy
    (`investigation_days` after discovery) when none is written."""
    investigation = data.get("investigation")
    written = investigation.get("due") if isinstance(investigation, dict) else None
    discovered = local_day(data.get("discovered_at"), policy.time_zone)
    if target != "investigation" or written or discovered is None:
        return {}
    due = discovered + timedelta(days=policy.investigation_days)
    return {("investigation", "due"): due.isoformat()}


# special name -> (the record's fields, the state it moves to, the due policy) -> the fields
# the policy computes that `qms advance` fills in when they are empty
DEFAULTS: dict[str, Callable[[Mapping[str, Any], str, DuePolicy], dict[tuple[str, ...], Any]]] = {
    "deviation": _deviation_defaults,
}


def computed_fields(
    kind: Kind, data: Mapping[str, Any], target: str, policy: DuePolicy
) -> dict[tuple[str, ...], Any]:
    hook = DEFAULTS.get(kind.special) if kind.special else None
    return hook(data, target, policy) if hook else {}
