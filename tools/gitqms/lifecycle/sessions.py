"""Training sessions that count: a trainer's signed `training-session` record, for the
people it trained on exact document contents (issue 21, step 4).

`recorded_sessions` reads them from a verified walk; training.py joins them with the
documents' versions. A session that counts is one the trainer signed into its recorded state
and that breaks none of the rules of the kind (session_rules.py). Only a record's first
recording counts, and only as the content it signed: a recorded session never changes, so an
edit of it (and any later signature on an edited content) trains no one, while the content the
trainer signed still does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache

from ..records.config import QmsConfig
from ..records.kinds import kind_of_id
from ..signatures.claims import content_hash, record_data
from ..signatures.verify import Walk
from .change_control import SPECIAL as CHANGE_CONTROL
from .change_control import ChangeControls, ContentAt, hold_releases, reader
from .documents import DocumentStatus, document_status
from .session_rules import (
    RECORDED,
    Problem,
    Standing,
    covered,
    held_on,
    session_kind,
    session_problems,
    trained,
)
from .signed import Signature, SignedContent, signed_contents
from .status import configs_at, policy_in_force, training_windows


@dataclass(frozen=True, kw_only=True)
class Covered:
    """A document version a session trained on: its record, version and content (sha256)."""

    record: str
    version: int
    content: str


@dataclass(frozen=True, kw_only=True)
class Session:
    """A recorded training session that counts."""

    record: str  # TRN-2026-0001
    trainer: str  # person ID
    method: str  # read, classroom, practical, assessed
    counts_from: date  # the later of its date and the day its recording signature counts
    commit: str  # the commit of the recording signature
    trained: frozenset[str]  # the attendees who count as trained (all, or those who passed)
    covers: tuple[Covered, ...]
    held_on: date | None = None  # the day it was held

    def trains(self, person: str, record: str, version: int, content: str) -> bool:
        return (
            person in self.trained
            and Covered(record=record, version=version, content=content) in self.covers
        )


def recording_meanings(config: QmsConfig) -> frozenset[str]:
    """The meanings that move a session into its recorded state, by the lifecycle in force."""
    kind = session_kind()
    machine = config.lifecycles.machines.get(kind.name) if kind else None
    if machine is None:
        return frozenset()
    return frozenset(t.meaning for t in machine.transitions if t.target == RECORDED)


def document_standing(
    walk: Walk, signed: Mapping[str, Mapping[str, SignedContent]], config: QmsConfig
) -> Standing:
    """A document's status on any day, as `qms status` derives it (releases held by their
    change control, each approval by the policy in force when it was signed); None for an ID
    that names no document kind of `config`."""
    controls = ChangeControls(
        signed, reader(walk), content_hash, config.lifecycles.machines.get(CHANGE_CONTROL)
    )
    config_at = configs_at(walk, config)
    window = training_windows(walk, config)

    @cache
    def standing(record: str, day: date) -> DocumentStatus | None:
        kind = kind_of_id(record)
        policy = config.lifecycles.documents.get(kind.name) if kind else None
        if kind is None or policy is None:
            return None
        versions, _ = hold_releases(record, signed.get(record, {}), policy.release, controls)
        rules = config.signatures.get(kind.name, {})
        then = policy_in_force(config_at, kind.name, policy)
        return document_status(record, versions, None, policy, rules, day, window, then)

    return standing


def first_recording(
    contents: Mapping[str, SignedContent], meanings: frozenset[str]
) -> tuple[SignedContent, Signature] | None:
    """The content a session was first signed `recorded` on, and that signature."""
    found = [
        (signature.counts_from, signature.when, item.content, signature, item)
        for item in contents.values()
        for signature in item.signatures
        if signature.meaning in meanings and signature.version == RECORDED
    ]
    if not found:
        return None
    *_, signature, item = min(found, key=lambda entry: entry[:3])
    return item, signature


def recorded_sessions(
    walk: Walk, signed: Mapping[str, Mapping[str, SignedContent]], config: QmsConfig
) -> list[Session]:
    """The recorded training sessions of a verified walk that count."""
    kind = session_kind()
    meanings = recording_meanings(config)
    if kind is None or not meanings:
        return []
    standing = document_standing(walk, signed, config)
    read = reader(walk)
    parents = {step.commit.id: step.commit.parents for step in walk.history.steps}
    sessions: list[Session] = []
    for record in sorted(signed):
        if kind_of_id(record) is not kind:
            continue
        first = first_recording(signed[record], meanings)
        if first is None:
            continue
        session = _counted(walk, read, parents, record, *first, standing)
        if session is not None:
            sessions.append(session)
    return sessions


def _counted(
    walk: Walk,
    read: ContentAt,
    parents: Mapping[str, tuple[str, ...]],
    record: str,
    item: SignedContent,
    signature: Signature,
    standing: Standing,
) -> Session | None:
    """The session `item` as it counts, or None when its recording breaks a rule of the kind
    or did not move it out of its draft."""
    data = item.data
    parent = next(iter(parents.get(signature.commit, ())), None)
    registry = walk.registry_at(parent) if parent else None
    before = record_data(read(parent, record), record) if parent else None
    kind = session_kind()
    machine = registry.config.lifecycles.machines.get(kind.name) if registry and kind else None
    if data is None or registry is None or machine is None or not isinstance(before, dict):
        return None
    if before.get("state") != machine.initial:
        return None  # not the move out of its draft (created recorded, or recorded again)
    day = signature.when.date()
    if session_problems(record, data, signature.person, registry.config, day, standing):
        return None
    held = held_on(data)
    assert held is not None  # session_problems requires it
    return Session(
        record=record,
        trainer=signature.person,
        method=str(data.get("method")),
        counts_from=max(held, signature.counts_from.date()),
        commit=signature.commit,
        trained=trained(data),
        covers=tuple(
            Covered(record=c.record, version=c.version, content=c.content) for c in covered(data)
        ),
        held_on=held,
    )


def recording_problems(
    walk: Walk, record: str, data: Mapping[str, object], signer: str, config: QmsConfig, day: date
) -> list[Problem]:
    """Why `signer` recording the session `record` (its new `data`) on `day`, on top of the
    walked tip whose registry is `config`, would train no one: what `qms advance` checks
    before it signs."""
    signed = signed_contents(walk)  # the documents and the change controls they are released under
    return session_problems(
        record, data, signer, config, day, document_standing(walk, signed, config)
    )
