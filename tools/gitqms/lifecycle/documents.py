"""The status of a controlled document of any document kind (an SOP, …) on a given day, derived
from its signatures and dates, by the approval policy of its kind.

A version is approved once every meaning of the approval policy (e.g. reviewed and approved)
has its required number of distinct signers on the same content. It is effective from its
effective date, or from its approval if that came later; with no effective date, from the day
of its approval plus its training window (see `effective_from`). It is superseded exactly when a
later version becomes effective; it is obsolete from the day a valid `retired` signature was
made. Only signatures dated on or before the day count, so any past day can be asked about.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from ..records.config import SignatureRule
from ..records.lifecycles import DocumentPolicy
from .signed import Signature, SignedContent

DRAFT = "draft"
IN_REVIEW = "in review"
APPROVED = "approved"
EFFECTIVE = "effective"
SUPERSEDED = "superseded"
OBSOLETE = "obsolete"

# Where a version's effective day comes from (Version.effective_rule).
BY_DATE = "effective-date"  # its explicit effective date, on or after its approval
BY_WINDOW = "training-window"  # no date: approval plus the training window
BY_APPROVAL = "approval"  # its date had passed when it was approved: from the approval


@dataclass(frozen=True, kw_only=True)
class Version:
    version: int
    status: str
    content: str  # sha256 of the exact bytes signed
    data: Mapping[str, Any]
    commit: str  # where this content is read from: its first signature's commit
    approved_on: date | None
    effective_from: date | None  # see `effective_from()`; None until approved
    until: date | None  # superseded or made obsolete on this day
    signatures: tuple[Signature, ...]
    window_days: int = 0  # its training window: its own, else the default that applied

    @property
    def effective_date(self) -> str | None:
        """The date as written (None when left empty)."""
        value = self.data.get("effective_date")
        return value if isinstance(value, str) and value else None

    @property
    def effective_rule(self) -> str | None:
        """BY_DATE, BY_WINDOW or BY_APPROVAL once approved, else None."""
        if self.approved_on is None:
            return None
        written = _date(self.effective_date)
        if written is None:
            return BY_WINDOW
        return BY_DATE if written >= self.approved_on else BY_APPROVAL

    @property
    def effective_basis(self) -> str:
        """Why it is (or will be) effective from its day, in words."""
        window = f"{self.window_days}-day training window"
        rule = self.effective_rule
        if rule == BY_WINDOW:
            return f"approved {self.approved_on} + {window}"
        if rule == BY_APPROVAL:
            return (
                f"approved {self.approved_on}; its effective date {self.effective_date} had passed"
            )
        if self.effective_date:
            return f"effective date {self.effective_date}"
        return f"last approval + {window}"


@dataclass(frozen=True, kw_only=True)
class DocumentStatus:
    id: str
    status: str
    current: Version | None  # the effective version, else the one that was last in force
    upcoming: Version | None  # approved, effective later
    working: Version | None  # the committed content when it is not an approved version
    versions: tuple[Version, ...]  # approved versions, oldest first
    next_review: date | None
    last_review: date | None  # the latest signed periodic review of the current version
    notes: tuple[str, ...] = ()
    held: tuple[HeldRelease, ...] = ()  # valid release signatures its change control held
    superseded_by: tuple[str, int] | None = None  # the other document (and version) that ended it


@dataclass(frozen=True)
class HeldRelease:
    """A valid release signature that does not count, and why (change control's hold)."""

    signature: Signature
    problem: str

    @property
    def note(self) -> str:
        return f"{self.signature.name}'s '{self.signature.meaning}' does not count: {self.problem}"


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def completing(
    signatures: list[Signature],
    meanings: tuple[str, ...],
    rules: Mapping[str, SignatureRule],
    on: date,
) -> Signature | None:
    """The signature with which the last of `meanings` reached its count of distinct signers,
    if it did by `on`."""
    done: Signature | None = None
    for meaning in meanings:
        first: dict[str, Signature] = {}
        for signature in signatures:
            earlier = first.get(signature.person)
            counts = signature.meaning == meaning and signature.counts_from.date() <= on
            if counts and (earlier is None or signature.counts_from < earlier.counts_from):
                first[signature.person] = signature
        rule = rules.get(meaning)
        need = rule.count if rule else 1
        if len(first) < need:
            return None
        reached = sorted(first.values(), key=lambda s: s.counts_from)[need - 1]
        done = reached if done is None or reached.counts_from > done.counts_from else done
    return done


# The approval policy (and signature rules) in force at a signature's commit.
PolicyAt = Callable[[str], tuple[DocumentPolicy, Mapping[str, SignatureRule]]]


def completing_then(
    signatures: list[Signature],
    policy: DocumentPolicy,
    rules: Mapping[str, SignatureRule],
    on: date,
    policy_at: PolicyAt | None,
) -> Signature | None:
    """`completing`, judged by the approval policy in force when each signature was made: the
    first signature with which the signatures so far complete the policy of its own commit. A
    policy loosened later never approves an older version; one tightened later never takes an
    approval back. Without `policy_at`, by `policy` alone."""
    if policy_at is None:
        return completing(signatures, policy.approval, rules, on)
    ordered = sorted(signatures, key=lambda s: s.counts_from)
    for index, signature in enumerate(ordered):
        if signature.counts_from.date() > on:
            break
        then, then_rules = policy_at(signature.commit)
        if signature.meaning not in then.approval:
            continue
        done = completing(ordered[: index + 1], then.approval, then_rules, on)
        if done is not None:
            return done
    return None


def completed_on(
    signatures: list[Signature],
    meanings: tuple[str, ...],
    rules: Mapping[str, SignatureRule],
    on: date,
) -> date | None:
    """The day the last of `meanings` reached its count of distinct signers, if by `on`."""
    done = completing(signatures, meanings, rules, on)
    return done.counts_from.date() if done else None


def training_window(data: Mapping[str, Any], default: int) -> int:
    """The document's own `training.window_days`, else `default`."""
    training = data.get("training")
    own = _int(training.get("window_days")) if isinstance(training, Mapping) else None
    return own if own is not None else default


def effective_from(data: Mapping[str, Any], approved_on: date, window_days: int) -> date:
    """The day an approved version takes effect: its effective date, but never before its
    approval; left empty, the approval day plus its training window.

    A pure function of signed facts: the content the approvals cover and the date of the
    approval that completed them. That date is the signature commit's committer date, which
    the signer's machine sets (the server's receipt time is not used here).
    """
    written = _date(data.get("effective_date"))
    if written is None:
        return approved_on + timedelta(days=max(window_days, 0))
    return max(written, approved_on)


def document_status(
    record_id: str,
    signed: Mapping[str, SignedContent],
    head: tuple[str, Mapping[str, Any]] | None,
    policy: DocumentPolicy,
    rules: Mapping[str, SignatureRule],
    on: date,
    default_window: Callable[[str | None], int],
    policy_at: PolicyAt | None = None,
) -> DocumentStatus:
    """`signed`: every signed content of the document; `head`: the committed content and its
    data; `default_window`: qms.yaml's training window in force at a commit (None: at the
    revision); `policy_at`: the approval policy in force at a commit (None: `policy`)."""
    notes: list[str] = []
    versions = _approved_versions(signed, policy, rules, on, default_window, notes, policy_at)
    retired = _retirement(versions, policy, rules, on)
    dated, current = _dated(versions, retired, on)
    upcoming = next(
        (
            v
            for v in reversed(dated)
            if v.status == APPROVED and (current is None or v.version > current.version)
        ),
        None,
    )
    working = None
    if head is not None and head[0] not in {v.content for v in versions}:
        working = _working(head, signed, policy, on, default_window)
    last_review, next_review = _reviews(current, policy, on)
    if retired and retired[0] <= on:
        status = OBSOLETE
    elif current is not None and current.status == EFFECTIVE:
        status = EFFECTIVE
    elif upcoming is not None:
        status = APPROVED
    elif working is not None:
        status = working.status
    else:
        status = DRAFT
    return DocumentStatus(
        id=record_id,
        status=status,
        current=current or (dated[-1] if status == OBSOLETE and dated else None),
        upcoming=upcoming,
        working=working,
        versions=tuple(dated),
        next_review=next_review,
        last_review=last_review,
        notes=tuple(notes),
    )


def _approved_versions(
    signed: Mapping[str, SignedContent],
    policy: DocumentPolicy,
    rules: Mapping[str, SignatureRule],
    on: date,
    default_window: Callable[[str | None], int],
    notes: list[str],
    policy_at: PolicyAt | None = None,
) -> list[Version]:
    """The approved versions by `on`, oldest first; of two approved contents of one version
    number, the later approval counts (and `notes` says so)."""
    approved: dict[int, Version] = {}
    for item in signed.values():
        number = _int((item.data or {}).get("version"))
        last = completing_then(item.signatures, policy, rules, on, policy_at)
        if item.data is None or number is None or last is None:
            continue
        when = last.counts_from.date()
        window = training_window(item.data, default_window(last.commit))
        version = Version(
            version=number,
            status=APPROVED,
            content=item.content,
            data=item.data,
            commit=item.commit,
            approved_on=when,
            effective_from=effective_from(item.data, when, window),
            until=None,
            signatures=tuple(item.signatures),
            window_days=window,
        )
        earlier = approved.get(number)
        if earlier is not None:
            notes.append(
                f"version {number} was approved with two different contents; the later "
                "approval counts"
            )
            if earlier.approved_on and earlier.approved_on > when:
                continue
        approved[number] = version
    return sorted(approved.values(), key=lambda v: v.version)


def _retirement(
    versions: list[Version], policy: DocumentPolicy, rules: Mapping[str, SignatureRule], on: date
) -> tuple[date, int] | None:
    """(the day, the version) of the earliest completed retirement by `on`, if any."""
    retired: tuple[date, int] | None = None
    for version in versions:
        ended = completed_on(list(version.signatures), (policy.retire,), rules, on)
        if ended is not None and (retired is None or ended < retired[0]):
            retired = (ended, version.version)
    return retired


def _dated(
    versions: list[Version], retired: tuple[date, int] | None, on: date
) -> tuple[list[Version], Version | None]:
    """Each approved version with its status on `on` (obsolete, superseded, effective or
    approved) and the day it ended; and the one in force, if any."""
    in_force = [v for v in versions if v.effective_from and v.effective_from <= on]
    current = in_force[-1] if in_force else None
    dated: list[Version] = []
    for version in versions:
        status, until = APPROVED, None
        if retired and version.version <= retired[1] and retired[0] <= on:
            status, until = OBSOLETE, retired[0]
        elif current and version.version < current.version:
            later = [v.effective_from for v in in_force if v.version > version.version]
            status, until = SUPERSEDED, min(d for d in later if d)
        elif version is current:
            status = EFFECTIVE
        dated.append(replace(version, status=status, until=until))
    by_number = {v.version: v for v in dated}
    return dated, by_number[current.version] if current else None


def _working(
    head: tuple[str, Mapping[str, Any]],
    signed: Mapping[str, SignedContent],
    policy: DocumentPolicy,
    on: date,
    default_window: Callable[[str | None], int],
) -> Version:
    """The committed content that is not an approved version: a draft, or in review once an
    approval signature was made for it."""
    content, data = head
    draft = signed.get(content)
    marks = [s for s in draft.signatures if s.counts_from.date() <= on] if draft else []
    started = [s for s in marks if s.meaning in policy.approval]
    return Version(
        version=_int(data.get("version")) or 0,
        status=IN_REVIEW if started else DRAFT,
        content=content,
        data=data,
        commit=draft.commit if draft else "",
        approved_on=None,
        effective_from=None,
        until=None,
        signatures=tuple(marks),
        window_days=training_window(data, default_window(None)),
    )


def _reviews(
    current: Version | None, policy: DocumentPolicy, on: date
) -> tuple[date | None, date | None]:
    """(the last signed periodic review, the next one due) of the effective version."""
    if current is None or current.status != EFFECTIVE:
        return None, None
    reviews = [
        s.counts_from.date()
        for s in current.signatures
        if s.meaning == policy.periodic_review and s.counts_from.date() <= on
    ]
    last_review = max(reviews) if reviews else None
    start = max(filter(None, (current.effective_from, last_review)))
    months = _int(current.data.get("review_period_months")) or 24
    return last_review, add_months(start, months)


def supersede_across(statuses: dict[str, DocumentStatus], on: date) -> dict[str, DocumentStatus]:
    """A document version that supersedes another document ('supersedes: SOP-0004 v3') ends
    that one's effective version on the day it becomes effective itself."""
    result = dict(statuses)
    for status in statuses.values():
        current = status.current
        if current is None or status.status != EFFECTIVE:
            continue
        named = current.data.get("supersedes")
        if not isinstance(named, str) or " v" not in named:
            continue
        other_id, _, number = named.partition(" v")
        other = result.get(other_id)
        if other_id == status.id or other is None or other.current is None:
            continue
        if str(other.current.version) == number and other.status == EFFECTIVE:
            ended = replace(other.current, status=SUPERSEDED, until=current.effective_from)
            result[other_id] = replace(
                other,
                status=SUPERSEDED,
                current=ended,
                versions=tuple(ended if v.version == ended.version else v for v in other.versions),
                next_review=None,
                notes=(*other.notes, f"superseded by {status.id} v{current.version}"),
                superseded_by=(status.id, current.version),
            )
    return result
