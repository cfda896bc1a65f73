"""The entries the published site lists: document versions (SOPs, …) with their signature
lines, and records (CAPAs, deviations, …) with what is due and their audit trails."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..audit.record_log import LogEntry
from ..lifecycle.due import Due


@dataclass(frozen=True, kw_only=True)
class SignatureLine:
    """One row of a signature block: who signed what, as what, when, and whether it holds."""

    name: str  # printed name from the registry
    person: str | None
    role: str | None
    meaning: str
    when: datetime  # UTC
    verdict: str  # "valid", or "invalid: why"
    reason: str | None
    commit: str


@dataclass(frozen=True, kw_only=True)
class PublishedVersion:
    version: int
    status: str  # effective, approved (upcoming), superseded, obsolete; draft/in review in previews
    fields: Mapping[str, Any]  # the front matter as signed
    body: str  # the Markdown as signed
    commit: str  # where the signed bytes were read from
    approved_on: date | None
    effective_from: date | None
    until: date | None
    signatures: tuple[SignatureLine, ...]
    content: str = ""  # sha256:HEX of the exact bytes signed ("" for a draft preview)
    # the valid signatures with the kind's release meaning ("approved"): its approvers, not
    # its reviewers
    approvers: tuple[SignatureLine, ...] = ()

    @property
    def reason(self) -> str | None:
        value = self.fields.get("change_reason")
        return value if isinstance(value, str) else None


@dataclass(frozen=True, kw_only=True)
class SopEntry:
    """A published document of any document kind (SOP, …), with its versions."""

    id: str
    title: str
    area: str | None
    owner: str | None  # printed name
    status: str  # the document's derived status on the day
    current: PublishedVersion | None  # effective (or, when obsolete, the last in force)
    upcoming: PublishedVersion | None  # approved, effective later
    archive: tuple[PublishedVersion, ...]  # superseded and obsolete versions, newest first
    revisions: tuple[PublishedVersion, ...]  # every approved version, newest first
    draft: PublishedVersion | None  # the unapproved committed text, only in draft previews
    next_review: date | None
    last_review: date | None
    related: tuple[str, ...]  # the published records that name this document
    notes: tuple[str, ...]
    trail: tuple[LogEntry, ...]
    # the other document (and version) whose version in force ended this one's ('supersedes')
    replaced_by: tuple[str, int] | None = None


@dataclass(frozen=True, kw_only=True)
class RecordEntry:
    """A record of a kind with a state machine (a CAPA, a deviation, …) as committed on the day,
    with what is due and its audit trail."""

    id: str
    kind: str
    title: str
    state: str
    signed_state: str | None
    fields: Mapping[str, Any]
    due: tuple[Due, ...]
    links: tuple[str, ...]  # other records it names
    trail: tuple[LogEntry, ...]
    notes: tuple[str, ...]
    unsigned_state: bool = False  # `state` is no state a valid signature reached

    @property
    def overdue(self) -> bool:
        return any(item.overdue for item in self.due)
