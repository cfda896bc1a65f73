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
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from .. import git
from ..errors import QmsError
from ..records.config import Person, QmsConfig
from ..signatures.claims import content_hash, record_data
from ..signatures.eligible import version_audiences
from ..signatures.verify import Walk, trusted_registry, walk_history
from .change_control import SPECIAL as CHANGE_CONTROL
from .change_control import ChangeControls, named_control, reader
from .documents import APPROVED, EFFECTIVE, Version
from .due import Due
from .sessions import Session, recorded_sessions
from .signed import SignedContent, signed_contents
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


# The registries in force along the walked branch's first-parent line: (from day, registry).
Timeline = list[tuple[date, QmsConfig]]


def registry_timeline(walk: Walk) -> Timeline:
    """Each registry adopted on the walked tip's first-parent line, with the day it came into
    force there (a merge brings a branch's registry on the day of the merge)."""
    steps = walk.history.steps
    if not steps:
        return []
    parents = {step.commit.id: step.commit.parents for step in steps}
    line: list[str] = []
    commit: str | None = steps[-1].commit.id
    while commit is not None and commit in parents:
        line.append(commit)
        commit = parents[commit][0] if parents[commit] else None
    dates = {step.commit.id: step.commit.committer.utc.date() for step in steps}
    timeline: Timeline = []
    blob: str | None = None
    latest = date.min
    for on_line in reversed(line):
        latest = max(latest, dates[on_line])  # a back-dated commit enters no earlier
        registry = walk.registry_at(on_line)
        if registry is not None and registry.blob != blob:
            blob = registry.blob
            timeline.append((latest, registry.config))
    return timeline


def registry_on(timeline: Timeline, on: date) -> QmsConfig | None:
    """The registry in force at the end of `on`."""
    found = None
    for day, config in timeline:
        if day > on:
            break
        found = config
    return found


def in_matrix(person: Person, on: date) -> bool:
    """Whether `person` works here on `on`: joined by then (if dated) and not left."""
    started = person.joined is None or person.joined <= on.isoformat()
    return started and (person.left_on is None or person.left_on > on.isoformat())


def _member_since(
    timeline: Timeline, person: str, wanted: frozenset[str], on: date
) -> tuple[date | None, int]:
    """(the first day of the unbroken run of registries up to `on` that put `person` in one of
    `wanted`, None when the run goes back to the first registry; the new-starter window of the
    registry that began it)."""
    since: date | None = None
    window = 0
    for day, config in reversed([entry for entry in timeline if entry[0] <= on]):
        held = config.person(person)
        if held is None or not (config.audiences_of(held) & wanted):
            return since, window
        since, window = day, config.new_starter_days
    return None, window


def due_day(
    timeline: Timeline, person: Person, version: Version, wanted: frozenset[str], on: date
) -> date:
    """The day `person` must be trained on `version` by: its effective day; for a person who
    joined (the audience, or the organisation) after it was approved, the day they joined
    plus the new-starter window, if that is later."""
    assert version.effective_from is not None and version.approved_on is not None
    since, window = _member_since(timeline, person.id, wanted, on)
    if person.joined is not None:
        joined = date.fromisoformat(person.joined)
        if since is None or joined > since:
            since = joined
            window = (registry_on(timeline, on) or timeline[-1][1]).new_starter_days
    if since is None or since <= version.approved_on:
        return version.effective_from
    return max(version.effective_from, since + timedelta(days=window))


@dataclass(frozen=True)
class _Document:
    status: RecordStatus
    release: str  # the meaning that releases a version under its change control
    acknowledging: frozenset[str]  # the meanings signed by audience (read-and-understood)


class _Fulfilments:
    """Who is trained on which version, and since when, on the day `on`."""

    def __init__(
        self, on: date, sessions: Sequence[Session], carries: Mapping[tuple[str, int], bool]
    ) -> None:
        self.on = on
        self.sessions = sessions
        self.carries = carries  # (document, version) -> training of the version before counts

    def of(self, person: str, document: _Document, version: Version) -> Fulfilment | None:
        assert version.approved_on is not None
        found: list[Fulfilment] = []
        for signature in version.signatures:
            if (
                signature.person == person
                and signature.meaning in document.acknowledging
                and signature.counts_from.date() <= self.on
            ):
                day = max(signature.counts_from.date(), version.approved_on)
                found.append(
                    Fulfilment(
                        how=ACKNOWLEDGED, on=day, record=signature.record, commit=signature.commit
                    )
                )
        record = document.status.id
        for session in self.sessions:
            if session.counts_from <= self.on and session.trains(
                person, record, version.version, version.content
            ):
                day = max(session.counts_from, version.approved_on)
                found.append(
                    Fulfilment(how=IN_SESSION, on=day, record=session.record, commit=session.commit)
                )
        earlier = self._before(document, version)
        if earlier is not None and self.carries.get((record, version.version), False):
            carried = self.of(person, document, earlier)
            if carried is not None:
                found.append(
                    Fulfilment(
                        how=CARRIED_OVER,
                        on=carried.on,
                        record=carried.record,
                        commit=carried.commit,
                        from_version=earlier.version,
                    )
                )
        return min(found, key=lambda f: f.on) if found else None

    @staticmethod
    def _before(document: _Document, version: Version) -> Version | None:
        found = document.status.document
        earlier = [v for v in found.versions if v.version < version.version] if found else []
        return earlier[-1] if earlier else None


def carried_over(
    documents: Sequence[_Document], controls: ChangeControls
) -> dict[tuple[str, int], bool]:
    """(document, version) -> whether the version's release counted under a change control
    whose content at the release says `impact.training_required: false`."""
    carries: dict[tuple[str, int], bool] = {}
    for document in documents:
        found = document.status.document
        for version in found.versions if found else ():
            control = named_control(version.data)
            releases = [s for s in version.signatures if s.meaning == document.release]
            if control is None or not releases:
                continue
            release = releases[-1]
            if controls.release_problem(document.status.id, version.data, release) is not None:
                continue
            data = record_data(controls.content_at(release.commit, control), control)
            flag = retraining(data, document.status.id, version.version)
            carries[(document.status.id, version.version)] = flag is False
    return carries


def retraining(control: Any, record: str, version: int) -> object:
    """What a change control's content says of retraining on `record` `version`: its item under
    `documents` if that says, else `impact.training_required` (None: not said)."""
    if not isinstance(control, dict):
        return None
    for item in control.get("documents") or ():
        listed = isinstance(item, dict) and (item.get("record"), item.get("version"))
        if listed == (record, version) and "training_required" in item:
            return item["training_required"]
    impact = control.get("impact")
    return impact.get("training_required") if isinstance(impact, dict) else None


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
        on, recorded_sessions(walk, signed, config), carried_over(documents, controls)
    )
    people = [p for p in config.people if in_matrix(p, on)]
    rows: list[Row] = []
    for document in documents:
        for version, in_force in required_versions(document.status):
            wanted = version_audiences(version.data)
            for person in people:
                audiences = tuple(sorted(config.audiences_of(person) & wanted))
                if audiences:
                    rows.append(
                        _row(
                            timeline,
                            person,
                            document,
                            version,
                            in_force,
                            audiences,
                            fulfilments,
                            on,
                        )
                    )
    memberships = {person.id: config.audiences_of(person) for person in people}
    return Matrix(state.commit, on, rows, people, memberships)


def _row(
    timeline: Timeline,
    person: Person,
    document: _Document,
    version: Version,
    in_force: bool,
    audiences: tuple[str, ...],
    fulfilments: _Fulfilments,
    on: date,
) -> Row:
    assert version.effective_from is not None
    due = due_day(timeline, person, version, frozenset(audiences), on)
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
