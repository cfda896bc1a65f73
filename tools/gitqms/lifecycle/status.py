"""`qms status` and `qms due`: every record's derived state on a given day, from committed history.

Records are read from Git objects at the revision (HEAD by default), never from the working
tree, and judged by the verified signatures of that revision's history and the trusted
qms.yaml in force there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from .. import git
from ..errors import QmsError
from ..history.read import NOT_A_FILE_FIX, not_a_file, record_entries
from ..records.config import QmsConfig, SignatureRule
from ..records.kinds import Kind, kind_of_id
from ..records.lifecycles import DocumentPolicy, Machine
from ..signatures.claims import content_hash, record_data
from ..signatures.verify import Walk, trusted_registry, walk_history
from .change_control import SPECIAL as CHANGE_CONTROL
from .change_control import Affected, ChangeControls, affected, hold_releases, reader
from .documents import (
    EFFECTIVE,
    DocumentStatus,
    HeldRelease,
    PolicyAt,
    Version,
    document_status,
    supersede_across,
)
from .due import Due, declared_due
from .signed import SignedContent, signed_contents
from .special import STATES, DueContext, due_items


@dataclass(frozen=True, kw_only=True)
class RecordStatus:
    id: str
    kind: str
    title: str
    state: str  # a document's derived status; a record's state field
    version: str | None  # a document's version in force, else its newest; None for others
    effective_date: str | None  # a document's date as written (None when left empty)
    next_review: date | None
    due: tuple[Due, ...]
    document: DocumentStatus | None = None
    signed_state: str | None = None  # the state the last valid transition signature reached
    unsigned_state: bool = False  # its state field names a state no valid signature reached
    notes: tuple[str, ...] = ()
    data: Mapping[str, Any] | None = None  # a record's fields as committed (not a document's)
    affected: tuple[Affected, ...] = ()  # a change control's documents, and where they stand

    @property
    def effective_from(self) -> date | None:
        """The derived day the shown document version is (or becomes) effective."""
        shown = self.shown
        return shown.effective_from if shown else None

    @property
    def effective_basis(self) -> str | None:
        shown = self.shown
        return shown.effective_basis if shown else None

    @property
    def shown(self) -> Version | None:
        """The document version this status describes: in force, else upcoming, else the draft."""
        document = self.document
        return (document.current or document.upcoming or document.working) if document else None

    @property
    def overdue(self) -> bool:
        return any(item.overdue for item in self.due)


@dataclass(frozen=True)
class Snapshot:
    commit: str
    on: date
    records: list[RecordStatus]
    notes: list[str]

    @property
    def due(self) -> list[Due]:
        return [item for record in self.records for item in record.due]


NOT_A_FILE = "not a file"  # the state of a record whose path holds a link, folder, submodule...


def committed_records(root: Path, walk: Walk, commit: str) -> dict[str, bytes]:
    """Every record's bytes at `commit`, by ID, read from Git objects (regular files only)."""
    return committed_entries(root, walk, commit)[0]


def committed_entries(
    root: Path, walk: Walk, commit: str
) -> tuple[dict[str, bytes], dict[str, str]]:
    """`committed_records`, and record ID -> mode of each record path at `commit` that holds
    something else than a regular file (a symbolic link, a submodule, a folder...)."""
    files, others = record_entries(root, commit, walk.history.prefix)
    return _read(root, files), others


def _records_on(root: Path, walk: Walk, on: date) -> tuple[dict[str, bytes], dict[str, str]]:
    """Every record's bytes as last committed on or before `on` (records made later are left
    out), and the modes of the record paths then holding something else than a regular file."""
    latest: dict[str, git.Change] = {}
    for step in walk.history.steps:
        if step.commit.committer.utc.date() <= on:
            latest.update(step.records)
    files = {r: c.new_blob for r, c in latest.items() if c.new_mode == git.REGULAR_FILE}
    others = {
        r: c.new_mode for r, c in latest.items() if c.new_mode not in (None, git.REGULAR_FILE)
    }
    return _read(root, {r: blob for r, blob in files.items() if blob}), others


def _read(root: Path, blobs: Mapping[str, str]) -> dict[str, bytes]:
    """Record ID -> the content of its blob (record ID -> blob id)."""
    ids = {blob: record_id for record_id, blob in blobs.items()}
    return {
        ids[name]: content
        for name, kind, content in git.cat_objects(root, list(ids))
        if kind == "blob"
    }


def _not_a_file(walk: Walk, record_id: str, mode: str) -> RecordStatus:
    """The status of a record whose path holds no regular file: listed, never left out."""
    kind = kind_of_id(record_id)
    path = walk.history.path_of(record_id)[len(walk.history.prefix) :]
    note = f"{not_a_file(path, mode)}: {NOT_A_FILE_FIX}"
    return RecordStatus(
        id=record_id,
        kind=kind.name if kind else "?",
        title="",
        state=NOT_A_FILE,
        version=None,
        effective_date=None,
        next_review=None,
        due=(),
        notes=(note,),
    )


def repository_status(
    root: Path, on: date, record_ids: Sequence[str] = (), revision: str = "HEAD"
) -> Snapshot:
    commit = git.rev_parse(root, f"{revision}^{{commit}}")
    if commit is None:
        raise QmsError(f"{revision} is not a commit of this repository", hint="commit first")
    return snapshot(root, walk_history(root, [commit]), commit, on, record_ids, revision)


def snapshot(
    root: Path,
    walk: Walk,
    commit: str,
    on: date,
    record_ids: Sequence[str] = (),
    revision: str = "HEAD",
    signed: Mapping[str, Mapping[str, SignedContent]] | None = None,
) -> Snapshot:
    """Every record's status on `on`, judged by a verified walk of `commit`'s history
    (`signed`: its signed contents, when the caller has them already)."""
    config = trusted_registry(walk, commit, "no signature can be judged").config
    contents, others = committed_entries(root, walk, commit)
    tip_time = walk.tip_time()
    if tip_time is not None and on < tip_time.date():
        contents, others = _records_on(root, walk, on)  # a past day: the files as they were then
    # Only kinds in force are records: a kind that only an unsigned qms.yaml declares has none.
    contents = {i: c for i, c in contents.items() if in_force(config, i)}
    others = {i: m for i, m in others.items() if in_force(config, i)}
    for record_id in record_ids:
        if not in_force(config, record_id):
            raise QmsError(
                f"{record_id} is of a kind not in force at {revision}: no admin-signed "
                "qms.yaml declares it",
                hint="`qms kinds list` shows the kinds in force; `qms verify` shows why",
            )
        if record_id not in contents and record_id not in others:
            raise QmsError(
                f"{record_id} is not a record at {revision}",
                hint="name a committed record, such as SOP-0003 or CAPA-2026-0001; see `qms list`",
            )
    signed = signed_contents(walk) if signed is None else signed
    walk.read_ahead(  # a document's status reads every signed version of it
        (item.commit, record_id)
        for record_id in contents
        if known_kind(record_id).is_document
        for item in signed.get(record_id, {}).values()
    )

    statuses = {record_id: _not_a_file(walk, record_id, mode) for record_id, mode in others.items()}
    controls = ChangeControls(
        signed, reader(walk), content_hash, config.lifecycles.machines.get(CHANGE_CONTROL)
    )
    statuses.update(
        record_statuses(
            contents,
            signed,
            config,
            on,
            training_windows(walk, config),
            controls,
            config_at=configs_at(walk, config),
        )
    )
    chosen = [statuses[i] for i in sorted(statuses) if not record_ids or i in record_ids]
    return Snapshot(commit, on, chosen, list(walk.report.notes))


def policy_in_force(
    config_at: Callable[[str], QmsConfig], kind: str, fallback: DocumentPolicy
) -> PolicyAt:
    """The approval policy and signature rules of `kind` in force at a commit (`fallback`
    where the registry there has none)."""

    def policy_at(commit: str) -> tuple[DocumentPolicy, Mapping[str, SignatureRule]]:
        then = config_at(commit)
        return then.lifecycles.documents.get(kind, fallback), then.signatures.get(kind, {})

    return policy_at


def configs_at(walk: Walk, config: QmsConfig) -> Callable[[str], QmsConfig]:
    """qms.yaml in force at a commit (for its children); `config` where none is trusted."""

    def at(commit: str) -> QmsConfig:
        found = walk.registry_at(commit)
        return found.config if found is not None else config

    return at


def in_force(config: QmsConfig, record_id: str) -> bool:
    """Whether `record_id` is of a kind the registry `config` holds (built in, or declared
    by an adopted qms.yaml), as the repository's files name it."""
    return config.kinds.holds(kind_of_id(record_id))


def training_windows(walk: Walk, config: QmsConfig) -> Callable[[str | None], int]:
    """qms.yaml's training window in force at a commit (an approval); `config`'s for None."""

    def window(at: str | None) -> int:
        found = walk.registry_at(at) if at else None
        return (found.config if found else config).due.training_window_days

    return window


def record_statuses(
    contents: Mapping[str, bytes],
    signed: Mapping[str, Mapping[str, SignedContent]],
    config: QmsConfig,
    on: date,
    default_window: Callable[[str | None], int],
    controls: ChangeControls | None = None,
    kind_of: Callable[[str], Kind | None] = kind_of_id,
    config_at: Callable[[str], QmsConfig] | None = None,
) -> dict[str, RecordStatus]:
    """The status on `on` of each record in `contents` (record ID -> its committed bytes), by
    its kind's family: a document's derived from the signatures on its versions and the
    approval policy of its kind; any other record's from its state machine (`record_status`).
    `signed`: record -> content hash -> what was validly signed on it; `default_window`:
    qms.yaml's training window in force at a commit (None: at the revision); `controls`: the
    change controls a document's release must be made under (none: not held)."""
    statuses: dict[str, RecordStatus] = {}
    documents: dict[str, DocumentStatus] = {}
    kinds: dict[str, Kind] = {}
    for record_id, content in sorted(contents.items()):
        kind = kinds[record_id] = known_kind(record_id, kind_of)
        data = record_data(content, record_id)
        if not isinstance(data, dict):
            statuses[record_id] = _unreadable(kind, record_id)
        elif kind.is_document:
            policy = config.lifecycles.documents[kind.name]
            versions: Mapping[str, SignedContent] = signed.get(record_id, {})
            current = content_hash(content)
            if current in versions:
                versions[current].parsed(data)  # the same bytes: read once
            held: tuple[HeldRelease, ...] = ()
            if controls is not None:
                versions, held = hold_releases(record_id, versions, policy.release, controls)
            document = document_status(
                record_id,
                versions,
                (current, data),
                policy,
                config.signatures.get(kind.name, {}),
                on,
                default_window,
                None if config_at is None else policy_in_force(config_at, kind.name, policy),
            )
            notes = (*document.notes, *(h.note for h in held))
            documents[record_id] = replace(document, notes=notes, held=held)
        else:
            statuses[record_id] = record_status(
                kind, record_id, content, data, signed.get(record_id, {}), config, on
            )
    documents = supersede_across(documents, on)
    for document in documents.values():
        statuses[document.id] = _document_record(kinds[document.id], document, on)
    for record_id, status in statuses.items():
        if kinds[record_id].special == CHANGE_CONTROL and status.data is not None:
            statuses[record_id] = replace(status, affected=tuple(affected(status.data, documents)))
    return statuses


def known_kind(record_id: str, kind_of: Callable[[str], Kind | None] = kind_of_id) -> Kind:
    """The kind of a record the history listed (never None for such a record)."""
    kind = kind_of(record_id)
    if kind is None:  # history reads only the records of declared kinds
        raise QmsError(
            f"{record_id} is not the ID of a declared record kind",
            hint="report this: the history listed a record that no kind declares",
        )
    return kind


def _unreadable(kind: Kind, record_id: str) -> RecordStatus:
    return RecordStatus(
        id=record_id,
        kind=kind.name,
        title="",
        state="unreadable",
        version=None,
        effective_date=None,
        next_review=None,
        due=(),
        notes=("the committed file does not parse; run `qms validate`",),
    )


def _document_record(kind: Kind, document: DocumentStatus, on: date) -> RecordStatus:
    """A document's status, with its periodic review and its upcoming version's first day."""
    shown = document.current or document.upcoming or document.working
    data: Mapping[str, Any] = shown.data if shown else {}
    due: list[Due] = []
    if document.next_review is not None:
        due.append(
            Due(
                document.id,
                "periodic review",
                document.next_review,
                document.next_review < on,
                _text(data.get("owner")),
            )
        )
    upcoming = document.upcoming
    if upcoming is not None and upcoming.effective_from is not None:
        due.append(
            Due(
                document.id,
                f"v{upcoming.version} becomes effective",
                upcoming.effective_from,
                False,
                _text(upcoming.data.get("owner")),
                upcoming.effective_basis,
            )
        )
    notes = list(document.notes)
    if document.working is not None and document.status == EFFECTIVE:
        notes.append(f"v{document.working.version} is {document.working.status}")
    return RecordStatus(
        id=document.id,
        kind=kind.name,
        title=_text(data.get("title")) or "",
        state=document.status,
        version=str(shown.version) if shown else None,
        effective_date=shown.effective_date if shown else None,
        next_review=document.next_review,
        due=tuple(due),
        document=document,
        notes=tuple(notes),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def record_status(
    kind: Kind,
    record_id: str,
    content: bytes,
    data: Mapping[str, Any],
    signed: Mapping[str, SignedContent],
    config: QmsConfig,
    on: date,
) -> RecordStatus:
    """The status of a record of the record family: its state field, judged by its kind's
    state machine; a kind without one (an audit-trail review) by its special code."""
    machine = config.lifecycles.machines.get(kind.name)
    if machine is None:
        return _stateless_status(kind, record_id, content, data, signed, on)
    state = _text(data.get("state")) or "?"
    signed_state = _signed_state(signed, machine, on)
    notes = []
    unsigned = state != machine.initial and signed_state != state
    if unsigned:
        notes.append(
            f"the state '{state}' was not reached by a signed transition"
            + (f" (the last signed state is '{signed_state}')" if signed_state else "")
        )
    context = DueContext(
        record=record_id,
        data=data,
        state=state,
        closed=state in machine.closed,
        policy=config.due,
        signed=signed,
        on=on,
    )
    due = due_items(kind, context, declared_due(kind, record_id, data, state, machine.closed, on))
    return RecordStatus(
        id=record_id,
        kind=kind.name,
        title=_text(data.get("title")) or "",
        state=state,
        version=None,
        effective_date=None,
        next_review=None,
        due=tuple(due),
        signed_state=signed_state,
        unsigned_state=unsigned,
        notes=tuple(notes),
        data=data,
    )


def _stateless_status(
    kind: Kind,
    record_id: str,
    content: bytes,
    data: Mapping[str, Any],
    signed: Mapping[str, SignedContent],
    on: date,
) -> RecordStatus:
    """A record kind without a state machine: its special code says its state; without any,
    its state field as written. It has no closed states, so what its declaration makes due stays
    due until done."""
    hook = STATES.get(kind.special) if kind.special else None
    if hook is not None:
        state, notes = hook(content_hash(content), signed, on)
    else:
        state, notes = _text(data.get("state")) or "?", ()
    return RecordStatus(
        id=record_id,
        kind=kind.name,
        title=_text(data.get("title")) or "",
        state=state,
        version=None,
        effective_date=None,
        next_review=None,
        due=tuple(declared_due(kind, record_id, data, state, (), on)),
        notes=notes,
        data=data,
    )


def _signed_state(signed: Mapping[str, SignedContent], machine: Machine, on: date) -> str | None:
    """The state named by the latest valid transition signature dated on or before `on`."""
    meanings = machine.meanings()
    latest = None
    for item in signed.values():
        for signature in item.signatures:
            counts = signature.meaning in meanings and signature.counts_from.date() <= on
            if counts and (latest is None or signature.counts_from >= latest.counts_from):
                latest = signature
    return latest.version if latest else None
