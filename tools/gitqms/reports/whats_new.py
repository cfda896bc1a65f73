"""What is new on the site's day, as plain data: the document versions that became effective,
were approved (a new version) or were retired in the recent window, and the approved versions
that become effective after the day, each under the training audiences it names.

Worked out from the publication's document entries only (the versions, statuses and dates
derived from signed history at the published commit), never from the working tree. The window
is `publication.recent_days` of qms.yaml (default 30): the days up to and including the site's
day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from ..lifecycle.training import Matrix, Tally
from ..signatures.eligible import version_audiences
from .entries import PublishedVersion, SopEntry

# What happened to a version, on a day in the window
APPROVED = "approved"
EFFECTIVE = "effective"
RETIRED = "retired"
REPLACED = "replaced"  # its version in force was ended by another document's version
# the section of readers a version names no audience for
ALL_STAFF = ""


@dataclass(frozen=True)
class Event:
    what: str  # APPROVED, EFFECTIVE, RETIRED or REPLACED
    on: date
    by: str | None = None  # REPLACED: the document and version that replaced it ("SOP-0002 v1")


@dataclass(frozen=True, kw_only=True)
class NewsItem:
    """One document version and what happened to it (or is about to)."""

    document: str
    title: str
    version: int
    status: str  # the version's status on the site's day
    events: tuple[Event, ...]  # in the window, oldest first (none for an upcoming version)
    replaces: int | None  # the version before it, for a revision
    # what it ended in force when it became effective: "v1", or another document's "SOP-0001 v2"
    replacing: str | None
    effective_from: date | None
    approved_on: date | None
    reason: str | None
    change_control: str | None
    audiences: tuple[str, ...]  # the training audiences it names (none: all staff)
    upcoming: bool  # approved, effective after the site's day
    trained: Tally | None = None  # for an upcoming version, who is trained on it already
    never_in_force: bool = False  # ended (superseded, retired) before its effective day

    @property
    def last(self) -> date:
        """The day it is listed by: for an upcoming one its effective day, else its latest
        event."""
        if self.upcoming or not self.events:
            return self.effective_from or date.max
        return self.events[-1].on


@dataclass(frozen=True, kw_only=True)
class WhatsNew:
    on: date
    since: date  # the first day of the window (inclusive)
    days: int
    recent: tuple[NewsItem, ...]  # newest first
    upcoming: tuple[NewsItem, ...]  # soonest first
    audiences: Mapping[str, str]  # every audience of qms.yaml -> who

    def sections(self) -> list[str]:
        """The audiences to show a section for: qms.yaml's and any a version names, then
        ALL_STAFF for versions that name none."""
        named = {a for item in (*self.recent, *self.upcoming) for a in item.audiences}
        return [*sorted(set(self.audiences) | named), ALL_STAFF]

    def recent_for(self, audience: str) -> list[NewsItem]:
        return [item for item in self.recent if _for(item, audience)]

    def upcoming_for(self, audience: str) -> list[NewsItem]:
        return [item for item in self.upcoming if _for(item, audience)]

    @property
    def documents(self) -> list[str]:
        """Every document listed, once."""
        return sorted({item.document for item in (*self.recent, *self.upcoming)})


def _for(item: NewsItem, audience: str) -> bool:
    return audience in item.audiences if audience else not item.audiences


def whats_new(
    sops: Iterable[SopEntry],
    on: date,
    days: int,
    audiences: Mapping[str, str],
    training: Matrix | None = None,
) -> WhatsNew:
    since = on - timedelta(days=days - 1)
    recent, upcoming = [], []
    sops = list(sops)
    # (document, version) -> the other document's version that replaced it in force
    replaced = {
        (sop.id, sop.current.version): f"{other} v{number}"
        for sop in sops
        if sop.replaced_by is not None and sop.current is not None
        for other, number in [sop.replaced_by]
    }
    replacing = {by: f"{document} v{number}" for (document, number), by in replaced.items()}
    for sop in sops:
        versions = sorted(sop.revisions, key=lambda v: v.version)
        for index, version in enumerate(versions):
            before = versions[index - 1].version if index else None
            ended = replacing.get(f"{sop.id} v{version.version}") or next(
                (f"v{v.version}" for v in reversed(versions[:index]) if was_in_force(v)), None
            )
            events = _events(version, since, on, replaced.get((sop.id, version.version)))
            if sop.upcoming is not None and version.version == sop.upcoming.version:
                tally = training.tally_of(sop.id, version.version) if training else None
                upcoming.append(
                    _item(sop, version, events, (before, ended), upcoming=True, trained=tally)
                )
            if events:  # an upcoming version approved in the window is recent news too
                recent.append(_item(sop, version, events, (before, ended), upcoming=False))
    return WhatsNew(
        on=on,
        since=since,
        days=days,
        recent=tuple(sorted(recent, key=lambda i: (-i.last.toordinal(), i.document, i.version))),
        upcoming=tuple(sorted(upcoming, key=lambda i: (i.last, i.document, i.version))),
        audiences=dict(audiences),
    )


def was_in_force(version: PublishedVersion) -> bool:
    """Whether the version really was in force on some day, by its derived status and dates:
    one superseded (or retired) before its effective day never was."""
    effective, until = version.effective_from, version.until
    return (
        version.status in ("effective", "superseded", "obsolete")
        and effective is not None
        and (until is None or effective < until)
    )


def _events(
    version: PublishedVersion, since: date, on: date, replaced_by: str | None = None
) -> tuple[Event, ...]:
    """What happened to an approved version within [since, on]; `replaced_by`: the other
    document's version that ended it in force, if one did."""
    found = []
    if version.approved_on is not None and since <= version.approved_on <= on:
        found.append(Event(APPROVED, version.approved_on))
    effective = version.effective_from
    if effective is not None and since <= effective <= on and was_in_force(version):
        found.append(Event(EFFECTIVE, effective))
    if version.status == "obsolete" and version.until and since <= version.until <= on:
        found.append(Event(RETIRED, version.until))
    if replaced_by and version.until and since <= version.until <= on:
        found.append(Event(REPLACED, version.until, replaced_by))
    return tuple(sorted(found, key=lambda e: e.on))


def _item(
    sop: SopEntry,
    version: PublishedVersion,
    events: tuple[Event, ...],
    before: tuple[int | None, str | None],  # the version before it; what it ended in force
    *,
    upcoming: bool,
    trained: Tally | None = None,
) -> NewsItem:
    fields = version.fields
    control = fields.get("change_control")
    title = fields.get("title")
    return NewsItem(
        document=sop.id,
        title=title if isinstance(title, str) else sop.title,
        version=version.version,
        status=version.status,
        events=events,
        replaces=before[0],
        replacing=before[1],
        effective_from=version.effective_from,
        approved_on=version.approved_on,
        reason=version.reason,
        change_control=control if isinstance(control, str) else None,
        audiences=tuple(sorted(version_audiences(fields))),
        upcoming=upcoming,
        trained=trained,
        never_in_force=version.status in ("superseded", "obsolete") and not was_in_force(version),
    )
