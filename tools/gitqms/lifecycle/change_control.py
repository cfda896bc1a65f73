"""Change control's hold on documents (the kind whose `special` is "change-control").

A document version that names a change control of this repository (`change_control: CC-2026-0001`)
is released only under that change control: its release signature (`approved`) counts only if,
at the commit that made it, the change control's file is a content that carries a valid signature
of the transition into an approved state (approved, implemented, effectiveness verified, closed),
made no later than the release, and lists this record and version under `documents`. The content
must be exactly one that was signed: an unsigned edit of a change control (adding a document to
its list, changing its state) releases nothing until its owner's approver signs it again.

A reference that is not an ID of the kind (the paper change controls of before, such as
`CC-2025-040`) is not held: it is a reference, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from typing import Any

from .. import clock
from ..records.kinds import KINDS, Kind, kind_of_id
from ..records.lifecycles import Machine
from ..signatures.claims import content_hash, record_data
from ..signatures.verify import Walk
from .documents import EFFECTIVE, SUPERSEDED, DocumentStatus, HeldRelease
from .signed import Signature, SignedContent, signed_contents

SPECIAL = "change-control"
ContentAt = Callable[[str, str], bytes | None]  # (commit, record) -> the record's bytes there
HashOf = Callable[[bytes], str]


def reader(walk: Walk) -> ContentAt:
    """A record's bytes at any commit: what the walk read, else read from git (a change
    control is read at the commits that release its documents, which the walk need not read)."""
    read: dict[tuple[str, str], bytes | None] = {}

    def content_at(commit: str, record: str) -> bytes | None:
        key = (commit, record)
        if key not in read:
            found = walk.content_at(commit, record)
            if found is None:
                name = f"{commit}:{walk.history.path_of(record)}"
                found = walk.history.blobs([name]).get(name)
            read[key] = found
        return read[key]

    return content_at


@cache
def control_kind() -> Kind | None:
    """The kind that is change control (looked up once: it is asked per signed content)."""
    return next((kind for kind in KINDS if kind.special == SPECIAL), None)


def named_control(data: Mapping[str, Any]) -> str | None:
    """The change control of this repository a document version names, if any."""
    kind = control_kind()
    value = data.get("change_control")
    if kind is None or not isinstance(value, str):
        return None
    return value if kind_of_id(value) is kind else None


def listed(data: Any) -> list[tuple[str, int]]:
    """The (record, version) pairs a change control's `documents` names; malformed items and
    anything that is not a list of them are left out (the schema reports them)."""
    items = data.get("documents") if isinstance(data, Mapping) else None
    return [
        (item["record"], item["version"])
        for item in (items if isinstance(items, list) else ())
        if isinstance(item, dict)
        and isinstance(item.get("record"), str)
        and isinstance(item.get("version"), int)
        and not isinstance(item.get("version"), bool)
    ]


def lists(data: Mapping[str, Any] | None, record: str, version: Any) -> bool:
    """Whether a change control's `documents` names this record and version."""
    return (record, version) in listed(data)


@dataclass(frozen=True)
class ChangeControls:
    """The signed contents of the change controls of a walked history, and how to read a
    record at a commit."""

    signed: Mapping[str, Mapping[str, SignedContent]]  # record -> content -> its signatures
    content_at: ContentAt
    hash_of: HashOf
    machine: Machine | None  # the change-control state machine in force

    def release_problem(
        self, record: str, data: Mapping[str, Any], signature: Signature
    ) -> str | None:
        """Why a release signature of `record` (a version with `data`) does not count under
        the change control the version names, or None when it counts or none is named."""
        control = named_control(data)
        if control is None:
            return None
        version = data.get("version")
        content = self.content_at(signature.commit, control)
        if content is None:
            return (
                f"{control}, which v{version} names, does not exist at the approving commit "
                f"{signature.commit[:12]}: create and approve the change control before its "
                "documents are released"
            )
        signed = self.signed.get(control, {}).get(self.hash_of(content))
        state = signed.data.get("state") if signed is not None and signed.data else None
        if signed is None or not self._approving(signed, state, signature):
            where = f"(state '{state}')" if state else "(its content there carries no signature)"
            return (
                f"{control} was not approved when v{version} was {signature.meaning} "
                f"{where}: approve the change control before its documents are released; "
                f"then another approver signs v{version} '{signature.meaning}', or v{version} "
                "is changed and signed again"
            )
        if not lists(signed.data, record, version):
            return (
                f"{control} does not list {record} v{version} under 'documents': add it "
                "(the change control is then approved again) or name the right change control"
            )
        return None

    def _approving(self, signed: SignedContent, state: Any, release: Signature) -> bool:
        """Whether `signed` holds an approved state, signed by the transition into it no later
        than `release`."""
        kind = control_kind()
        if kind is None or state not in kind.declared.approved_states or self.machine is None:
            return False
        into = {t.meaning for t in self.machine.transitions if t.target == state}
        return any(
            s.meaning in into and s.version == state and s.counts_from <= release.counts_from
            for s in signed.signatures
        )


def hold_releases(
    record: str,
    contents: Mapping[str, SignedContent],
    release: str,
    controls: ChangeControls,
) -> tuple[dict[str, SignedContent], tuple[HeldRelease, ...]]:
    """`contents` of a document without the release signatures its change control does not
    allow, and each left out with why (its `note` for `qms status`)."""
    kept: dict[str, SignedContent] = {}
    held: list[HeldRelease] = []
    for content, signed in contents.items():
        if all(s.meaning != release for s in signed.signatures):
            kept[content] = signed  # nothing to hold: its fields need not be read
            continue
        data = signed.data
        if data is None or named_control(data) is None:
            kept[content] = signed
            continue
        signatures = []
        for signature in signed.signatures:
            problem = (
                controls.release_problem(record, data, signature)
                if signature.meaning == release
                else None
            )
            if problem is None:
                signatures.append(signature)
            else:
                held.append(HeldRelease(signature, problem))
        same = len(signatures) == len(signed.signatures)
        kept[content] = signed if same else replace(signed, signatures=signatures)
    return kept, tuple(held)


@dataclass(frozen=True)
class Affected:
    """A document version a change control lists, and where it stands."""

    record: str
    version: int
    status: str  # draft, in review, approved, effective, superseded; "not written" if absent
    effective_from: date | None = None

    @property
    def done(self) -> bool:
        """In force, or was: what closing the change control needs."""
        return self.status in (EFFECTIVE, SUPERSEDED)

    def to_json(self) -> dict[str, Any]:
        day = self.effective_from.isoformat() if self.effective_from else None
        return {
            "record": self.record,
            "version": self.version,
            "status": self.status,
            "effective_from": day,
        }


def affected(data: Mapping[str, Any], documents: Mapping[str, DocumentStatus]) -> list[Affected]:
    """Each document version `data` (a change control) lists, with its derived status."""
    return [_standing(record, number, documents.get(record)) for record, number in listed(data)]


def _standing(record: str, number: int, document: DocumentStatus | None) -> Affected:
    if document is None:
        return Affected(record, number, "not written")
    for version in (*document.versions, document.working):
        if version is not None and version.version == number:
            return Affected(record, number, version.status, version.effective_from)
    return Affected(record, number, "not written")


def release_refusal(
    walk: Walk, commit: str, record: str, content: bytes, meaning: str, signer: str
) -> str | None:
    """Why a release of `record` (its `content`) signed now on top of `commit` would not count
    under the change control it names, or None: what `qms approve` checks before it signs."""
    data = record_data(content, record)
    if not isinstance(data, dict) or named_control(data) is None:
        return None
    registry = walk.registry_at(commit)
    machine = registry.config.lifecycles.machines.get(SPECIAL) if registry else None
    controls = ChangeControls(signed_contents(walk), reader(walk), content_hash, machine)
    probe = Signature(
        record=record,
        meaning=meaning,
        version=str(data.get("version")),
        content=content_hash(content),
        person=signer,
        name=signer,
        role=None,
        when=clock.now(),
        commit=commit,  # the new commit changes no change control: read it at its parent
        reason=None,
    )
    return controls.release_problem(record, data, probe)
