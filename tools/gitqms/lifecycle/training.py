"""Training status on any day, derived like document status (issue 21, step 3).

A *requirement*: every person in one of a document version's training audiences, as the
registry in force on the day says, must be trained on that version (its exact content) by its
effective day; a person who joined the audience after the version was approved, by the day
they joined plus `training.new_starter_days` (of the registry they joined under), if later.
Versions in force and approved versions not yet effective are required; superseded, retired
and draft ones are not.

A *fulfilment* is a signature that counts: the person's own read-and-understood signature on
the version's content, or a trainer's recorded session that covers the content and the person
(sessions.py). Neither counts before the version was approved. A revision released under a
change control whose approved content says `impact.training_required: false` carries over the
training of the version before it; any other revision needs training again.

Nothing a file says about training counts unless a signature that counts stands behind it:
audiences and dates of joining come from the registry in force each day (admin-signed), the
carry-over from the change control's approved content, and trained from signatures.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from .. import git
from ..errors import QmsError
from ..records.config import Person
from ..signatures.claims import content_hash
from ..signatures.eligible import version_audiences
from ..signatures.verify import Walk, trusted_registry, walk_history
from .carry_over import carried_over
from .change_control import SPECIAL as CHANGE_CONTROL
from .change_control import ChangeControls, reader
from .documents import APPROVED, EFFECTIVE, Version
from .due import Due
from .memberships import (
    Membership,
    arrival,
    due_day,
    in_matrix,
    membership,
    registry_on,
    registry_timeline,
)
from .sessions import Session, recorded_sessions
from .signed import Signature, SignedContent, signed_contents
from .status import RecordStatus, Snapshot, snapshot

TRAINED = "trained"
DUE = "due"
OVERDUE = "overdue"

ACKNOWLEDGED = "acknowledged"  # the person signed read-and-understood
IN_SESSION = "session"  # a trainer's recorded session
CARRIED_OVER = "carried-over"  # trained on the version before; the change needed no retraining


@dataclass(frozen=True, kw_only=True)
class Fulfilment:
    """What makes a person trained on a version, and from which day."""

    how: str  # ACKNOWLEDGED, IN_SESSION or CARRIED_OVER
    on: date
    record: str  # the document acknowledged, or the session record
    commit: str  # the signature that counts
    from_version: int | None = None  # carried over: trained on this earlier version

    def to_json(self) -> dict[str, Any]:
        return {
            "how": self.how,
            "on": self.on.isoformat(),
            "record": self.record,
            "commit": self.commit,
            "from_version": self.from_version,
        }

    @property
    def text(self) -> str:
        if self.how == CARRIED_OVER:
            return f"carried over from v{self.from_version}"
        if self.how == IN_SESSION:
            return f"session {self.record}"
        return "read and understood"


@dataclass(frozen=True, kw_only=True)
class Row:
    """One person's training on one document version."""

    person: str
    name: str
    document: str
    title: str
    version: int
    content: str
    in_force: bool  # False: approved, effective later (staff train on it beforehand)
    effective_from: date
    audiences: tuple[str, ...]  # the person's audiences that this version names
    due: date
    status: str  # TRAINED, DUE or OVERDUE
    fulfilment: Fulfilment | None

    def to_json(self) -> dict[str, Any]:
        return {
            "person": self.person,
            "name": self.name,
            "document": self.document,
            "title": self.title,
            "version": self.version,
            "content": self.content,
            "in_force": self.in_force,
            "effective_from": self.effective_from.isoformat(),
            "audiences": list(self.audiences),
            "due": self.due.isoformat(),
            "status": self.status,
            "trained_on": self.fulfilment.on.isoformat() if self.fulfilment else None,
            "by": self.fulfilment.to_json() if self.fulfilment else None,
        }


@dataclass(frozen=True, kw_only=True)
class Tally:
    """How many of those required are trained: for an audience, or a document version."""

    name: str  # the audience, or "SOP-0001 v3"
    required: int
    trained: int
    overdue: int

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "required": self.required,
            "trained": self.trained,
            "due": self.required - self.trained - self.overdue,
            "overdue": self.overdue,
        }


@dataclass(frozen=True)
class Matrix:
    commit: str
    on: date
    rows: list[Row]
    people: list[Person]  # in the matrix on the day: in the registry, joined, not left
    memberships: Mapping[str, frozenset[str]]  # person -> their training audiences that day

    @property
    def overdue(self) -> list[Row]:
        return [row for row in self.rows if row.status == OVERDUE]

    def by_audience(self) -> list[Tally]:
        """Compliance per audience, over the versions in force (a row counts in each of the
        person's audiences that the version names)."""
        return _tallies((a, row) for row in self.rows if row.in_force for a in row.audiences)

    def by_document(self) -> list[Tally]:
        """Compliance per document version, in force and upcoming."""
        return _tallies((f"{row.document} v{row.version}", row) for row in self.rows)

    def tally_of(self, document: str, version: int) -> Tally | None:
        """How many of those a document version requires are trained; None: it requires none."""
        name = f"{document} v{version}"
        return next((t for t in self.by_document() if t.name == name), None)

    def only(
        self,
        person: str | None = None,
        document: str | None = None,
        audience: str | None = None,
    ) -> Matrix:
        rows = [
            row
            for row in self.rows
            if (person is None or row.person == person)
            and (document is None or row.document == document)
            and (audience is None or audience in row.audiences)
        ]
        return Matrix(self.commit, self.on, rows, self.people, self.memberships)


def _tallies(pairs: Iterable[tuple[str, Row]]) -> list[Tally]:
    counts: dict[str, list[int]] = {}
    for name, row in pairs:
        count = counts.setdefault(name, [0, 0, 0])
        count[0] += 1
        count[1] += row.status == TRAINED
        count[2] += row.status == OVERDUE
    return [
        Tally(name=n, required=c[0], trained=c[1], overdue=c[2]) for n, c in sorted(counts.items())
    ]


@dataclass(frozen=True)
class _Document:
    status: RecordStatus
    release: str  # the meaning that releases a version under its change control
    acknowledging: frozenset[str]  # the meanings signed by audience (read-and-understood)


class _Fulfilments:
    """Who is trained on which version, and since when, on the day `on`."""

    def __init__(
        self,
        on: date,
        sessions: Sequence[Session],
        carries: Mapping[tuple[str, int], bool],
        documents: Mapping[str, _Document],
    ) -> None:
        self.on = on
        self.carries = carries  # (document, version) -> training of the version before counts
        self.documents = documents
        self.sessions: dict[tuple[str, int, str], list[Session]] = {}  # by what they cover
        for session in sessions:
            for item in session.covers:
                key = (item.record, item.version, item.content)
                self.sessions.setdefault(key, []).append(session)
        self._signers: dict[str, dict[str, list[Signature]]] = {}  # content -> person -> theirs

    def of(self, person: str, document: _Document, version: Version) -> Fulfilment | None:
        """The earliest fulfilment by `on`; each counts from the version's approval, and only
        if made before the version ended (superseded or retired)."""
        assert version.approved_on is not None
        found: list[Fulfilment] = []
        for signature in self._signed(version).get(person, ()):
            if signature.meaning in document.acknowledging:
                found += self._while(
                    version, signature.counts_from.date(), ACKNOWLEDGED, signature.record,
                    signature.commit,
                )  # fmt: skip
        record = document.status.id
        for session in self.sessions.get((record, version.version, version.content), ()):
            if person in session.trained:
                found += self._while(
                    version, session.counts_from, IN_SESSION, session.record, session.commit
                )
        before = self._before(document, version)
        if before is not None and self.carries.get((record, version.version), False):
            carried = self.of(person, *before)
            if carried is not None:
                found.append(
                    Fulfilment(
                        how=CARRIED_OVER,
                        on=max(carried.on, version.approved_on),
                        record=carried.record,
                        commit=carried.commit,
                        from_version=before[1].version,
                    )
                )
        return min(found, key=lambda f: f.on) if found else None

    def _signed(self, version: Version) -> dict[str, list[Signature]]:
        if version.content not in self._signers:
            by_person: dict[str, list[Signature]] = {}
            for signature in version.signatures:
                by_person.setdefault(signature.person, []).append(signature)
            self._signers[version.content] = by_person
        return self._signers[version.content]

    def _while(
        self, version: Version, day: date, how: str, record: str, commit: str
    ) -> list[Fulfilment]:
        assert version.approved_on is not None
        if day > self.on or (version.until is not None and day >= version.until):
            return []
        return [Fulfilment(how=how, on=max(day, version.approved_on), record=record, commit=commit)]

    def _before(self, document: _Document, version: Version) -> tuple[_Document, Version] | None:
        """The version `version` takes over from: the one its `supersedes` names (of this
        document or another), else this document's approved version before it."""
        named = version.data.get("supersedes")
        if isinstance(named, str) and " v" in named:
            other_id, _, number = named.partition(" v")
            other = self.documents.get(other_id)
            found = other.status.document if other else None
            for earlier in found.versions if found and other else ():
                itself = (other_id, earlier.version) == (document.status.id, version.version)
                if str(earlier.version) == number and not itself:
                    assert other is not None
                    return other, earlier
        status = document.status.document
        older = [v for v in status.versions if v.version < version.version] if status else []
        return (document, older[-1]) if older else None


def required_versions(status: RecordStatus) -> list[tuple[Version, bool]]:
    """(version, in force) that a document requires training on: the one in force, and the
    approved one that becomes effective later."""
    document = status.document
    if document is None:
        return []
    found: list[tuple[Version, bool]] = []
    if document.current is not None and document.current.status == EFFECTIVE:
        found.append((document.current, True))
    if document.upcoming is not None and document.upcoming.status == APPROVED:
        found.append((document.upcoming, False))
    return found


def matrix_of(
    walk: Walk,
    state: Snapshot,
    signed: Mapping[str, Mapping[str, SignedContent]] | None = None,
) -> Matrix:
    """The training matrix on `state.on`, from a snapshot of the documents' status that day."""
    on = state.on
    tip = trusted_registry(walk, state.commit, "no training can be judged").config
    timeline = registry_timeline(walk)
    config = registry_on(timeline, on) or tip
    signed = signed_contents(walk) if signed is None else signed
    controls = ChangeControls(
        signed, reader(walk), content_hash, tip.lifecycles.machines.get(CHANGE_CONTROL)
    )
    documents = [
        _Document(
            record,
            config.lifecycles.documents[record.kind].release,
            frozenset(m for m, r in config.signatures.get(record.kind, {}).items() if r.audience),
        )
        for record in state.records
        if record.document is not None and record.kind in config.lifecycles.documents
    ]
    fulfilments = _Fulfilments(
        on,
        recorded_sessions(walk, signed, config),
        carried_over(((d.status, d.release) for d in documents), controls),
        {document.status.id: document for document in documents},
    )
    past = [entry for entry in timeline if entry[0] <= on]
    people = [p for p in config.people if in_matrix(p, arrival(past, p.id, on), on)]
    memberships = {person.id: config.audiences_of(person) for person in people}

    @cache
    def member(person: str, audiences: tuple[str, ...]) -> Membership:
        return membership(past, person, frozenset(audiences), on)

    rows: list[Row] = []
    for document in documents:
        for version, in_force in required_versions(document.status):
            wanted = version_audiences(version.data)
            for person in people:
                audiences = tuple(sorted(memberships[person.id] & wanted))
                if not audiences:
                    continue
                joined = member(person.id, audiences)
                row = _row(joined, person, document, version, in_force, audiences, fulfilments, on)
                if row is not None:
                    rows.append(row)
    return Matrix(state.commit, on, rows, people, memberships)


def _row(
    member: Membership,
    person: Person,
    document: _Document,
    version: Version,
    in_force: bool,
    audiences: tuple[str, ...],
    fulfilments: _Fulfilments,
    on: date,
) -> Row | None:
    """The person's row for the version; None before the day they join its audience."""
    assert version.effective_from is not None
    starts = member.starts
    if starts is not None and starts > on:
        return None
    due = due_day(member, version)
    done = fulfilments.of(person.id, document, version)
    status = TRAINED if done is not None else OVERDUE if due < on else DUE
    return Row(
        person=person.id,
        name=person.name,
        document=document.status.id,
        title=document.status.title,
        version=version.version,
        content=version.content,
        in_force=in_force,
        effective_from=version.effective_from,
        audiences=audiences,
        due=due,
        status=status,
        fulfilment=done,
    )


def repository_training(root: Path, on: date, revision: str = "HEAD") -> tuple[Snapshot, Matrix]:
    """Every record's status and the training matrix on `on`, judged at `revision`."""
    commit = git.rev_parse(root, f"{revision}^{{commit}}")
    if commit is None:
        raise QmsError(f"{revision} is not a commit of this repository", hint="commit first")
    walk = walk_history(root, [commit])
    signed = signed_contents(walk)
    state = snapshot(root, walk, commit, on, revision=revision, signed=signed)
    return state, matrix_of(walk, state, signed)


def training_due(matrix: Matrix) -> list[Due]:
    """Each person's training not yet done, as items of `qms due`."""
    return [
        Due(
            row.document,
            f"training of {row.person} on v{row.version}",
            row.due,
            row.status == OVERDUE,
            row.person,
            None if row.in_force else f"v{row.version} effective from {row.effective_from}",
        )
        for row in matrix.rows
        if row.status != TRAINED
    ]
