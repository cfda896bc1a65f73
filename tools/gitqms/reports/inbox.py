"""`qms inbox`: what waits for one person, from committed history only (issue 22, item 4).

Three parts:

- *signatures*: documents whose committed content (on HEAD, or on a branch not merged into
  HEAD) is a draft or in review and whose next approval meaning, in the order of its kind's
  approval policy, lacks signers and may be signed by the person (their roles; not as an author
  of that content when the rule asks for independence); and records of a kind with a state
  machine whose state allows a move the person's roles may sign (moves that need a reason,
  reopening and cancelling, are left out: they are not work that waits);
- *due*: the items of `qms due` (periodic reviews, CAPA actions, investigations, …) that the
  person owns, overdue or within the horizon;
- *training*: the person's rows of the training matrix not yet trained.

A branch whose tip is an ancestor of HEAD is merged and left out; on an unmerged branch, only
the records the branch changed since it left HEAD's line count (the others are HEAD's as they
were when it started), and an item that HEAD lists already (same record, same content or
state) is listed once, on HEAD.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

from .. import git
from ..errors import QmsError
from ..lifecycle.documents import DRAFT, IN_REVIEW
from ..lifecycle.due import Due, within
from ..lifecycle.signed import signed_contents
from ..lifecycle.status import RecordStatus, Snapshot, snapshot
from ..lifecycle.training import OVERDUE, TRAINED, Row, matrix_of
from ..records.config import Person, QmsConfig, SignatureRule
from ..records.kinds import kind_of_id
from ..signatures.verdict import UNPROVEN
from ..signatures.verify import Walk, trusted_registry, walk_history

BRANCH_PREFIXES = ("refs/heads/", "refs/remotes/")


@dataclass(frozen=True, kw_only=True)
class Waiting:
    """A signature that waits for someone holding the person's roles."""

    record: str
    branch: str
    meaning: str
    target: str | None  # a record's state it can move to; None for a document's approval
    why: str
    key: str = ""  # what makes it the same item on two branches (content or state)

    def to_json(self) -> dict[str, Any]:
        item: dict[str, Any] = {"record": self.record, "branch": self.branch}
        if self.target is not None:
            item["target"] = self.target
        item |= {"meaning": self.meaning, "why": self.why}
        return item


@dataclass(frozen=True)
class Inbox:
    person: Person
    on: date
    commit: str
    signatures: list[Waiting]
    due: list[Due]
    training: list[Row]

    @property
    def overdue(self) -> int:
        late = sum(row.status == OVERDUE for row in self.training)
        return sum(item.overdue for item in self.due) + late

    def to_json(self) -> dict[str, Any]:
        return {
            "person": self.person.id,
            "date": self.on.isoformat(),
            "commit": self.commit,
            "signatures": [item.to_json() for item in self.signatures],
            "due": [item.to_json() for item in self.due],
            "training": [row.to_json() for row in self.training],
            "overdue": self.overdue,
        }


def inbox(root: Path, on: date, person_id: str | None = None, days: int = 30) -> Inbox:
    """What waits on `on` for `person_id` (None: the person whose email is git's user.email)."""
    commit = git.rev_parse(root, "HEAD^{commit}")
    if commit is None:
        raise QmsError("the repository has no commits yet", hint="commit the records first")
    walk = walk_history(root, [commit])
    config = trusted_registry(walk, commit, "no person can be named").config
    person = _person(root, config, person_id)
    signed = signed_contents(walk)
    state = snapshot(root, walk, commit, on, signed=signed)
    matrix = matrix_of(walk, state, signed)
    waiting = waiting_for(person, config, walk, commit, state, _branch_name(root))
    seen = {(item.record, item.meaning, item.target, item.key) for item in waiting}
    for tip, names in unmerged_branches(root, commit).items():
        branch_walk = walk_history(root, [tip])
        branch_config = trusted_registry(branch_walk, tip, "its signatures cannot be judged")
        branch_state = snapshot(root, branch_walk, tip, on)
        changed = _changed_records(root, commit, tip)
        for item in waiting_for(
            person, branch_config.config, branch_walk, tip, branch_state, ", ".join(names)
        ):
            key = (item.record, item.meaning, item.target, item.key)
            if item.record in changed and key not in seen:
                waiting.append(item)
    mine = [item for item in state.due if item.owner == person.id]
    rows = [row for row in matrix.rows if row.person == person.id and row.status != TRAINED]
    return Inbox(person, on, commit, waiting, within(mine, on, days), rows)


def _changed_records(root: Path, head: str, tip: str) -> set[str]:
    """The IDs of the records a branch changed since it left `head`'s line: what it brings is
    what waits there; the rest is main's as it was when the branch started."""
    base = git.merge_base(root, head, tip)
    if base is None:
        return set()
    return {PurePosixPath(path).stem for path in git.changed_paths(root, base, tip)}


def _person(root: Path, config: QmsConfig, person_id: str | None) -> Person:
    """The person named, else the one whose email git's user.email is."""
    known = ", ".join(sorted(p.id for p in config.people)) or "none"
    if person_id is not None:
        person = config.person(person_id)
        if person is None:
            raise QmsError(
                f"{person_id} is not a person in qms.yaml (known: {known})",
                hint="give --person one of the known IDs; `qms people list` shows everyone",
            )
        return person
    email = git.config_value(root, "user.email")
    if not email:
        raise QmsError(
            "git has no user.email, so the inbox cannot tell whose it is",
            hint="give --person YOUR-ID, or: git config --global user.email YOU@hospital",
        )
    person = config.person_by_email(email)
    if person is None:
        raise QmsError(
            f"{email} (git's user.email) is not a registered person in qms.yaml",
            hint=f"give --person with one of: {known}; or set git config user.email to yours",
        )
    return person


def _branch_name(root: Path) -> str:
    ref = git.symbolic_head(root)
    return _short(ref) if ref else "HEAD"


def _short(ref: str) -> str:
    for prefix in BRANCH_PREFIXES:
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def unmerged_branches(root: Path, head: str) -> dict[str, list[str]]:
    """Tip -> the local and remote-tracking branches at it, for each tip not merged into
    `head` (its tip is not an ancestor of `head`)."""
    tips: dict[str, list[str]] = {}
    for ref, tip in sorted(git.commit_refs(root, BRANCH_PREFIXES).items()):
        if ref.endswith("/HEAD"):
            continue
        if tip == head or git.is_ancestor(root, tip, head):
            continue
        tips.setdefault(tip, []).append(_short(ref))
    return tips


def waiting_for(
    person: Person,
    config: QmsConfig,
    walk: Walk,
    commit: str,
    state: Snapshot,
    branch: str,
) -> list[Waiting]:
    """The signatures that wait for `person` in the records of `state` (at `commit`)."""
    found: list[Waiting] = []
    for record in state.records:
        kind = kind_of_id(record.id)
        if kind is None:
            continue
        rules = config.signatures.get(kind.name, {})
        independent = _independence(person, config, walk, commit, record.id)
        if record.document is not None:
            found += _document_waiting(person, record, rules, independent, config, branch)
        elif kind.name in config.lifecycles.machines and record.data is not None:
            found += _moves(person, record, rules, independent, config, branch)
    return found


def _independence(
    person: Person, config: QmsConfig, walk: Walk, commit: str, record_id: str
) -> str | None:
    """Why `person` cannot sign the record's current version where a rule asks for an
    independent signer (None: they can)."""
    if not config.separation_of_duties:
        return None
    authors = walk.authors_at(commit, record_id)
    if person.email and person.email.lower() in authors:
        return "an author of this version"
    if UNPROVEN in authors:
        return "the version holds a change whose author is not proven"
    return None


def _document_waiting(
    person: Person,
    record: RecordStatus,
    rules: Mapping[str, SignatureRule],
    independent: str | None,
    config: QmsConfig,
    branch: str,
) -> list[Waiting]:
    """The next approval meaning of a draft or a version in review, if `person` may sign it."""
    document = record.document
    assert document is not None
    working = document.working
    if working is None or working.status not in (DRAFT, IN_REVIEW):
        return []
    kind = kind_of_id(record.id)
    assert kind is not None
    policy = config.lifecycles.documents[kind.name]
    for meaning in policy.approval:
        rule = rules.get(meaning)
        need = rule.count if rule else 1
        signers = {s.person for s in working.signatures if s.meaning == meaning}
        if len(signers) >= need:
            continue  # done: the next meaning is the one that waits
        if rule is None or rule.audience or person.id in signers:
            return []
        held = sorted(person.roles & rule.roles)
        if not held or (rule.independent and independent is not None):
            return []
        why = (
            f"v{working.version} is {working.status}: '{meaning}' has {len(signers)} of {need} "
            f"signers; you hold {held[0]}"
        )
        return [
            Waiting(
                record=record.id,
                branch=branch,
                meaning=meaning,
                target=None,
                why=why,
                key=working.content,
            )
        ]
    return []


def _moves(
    person: Person,
    record: RecordStatus,
    rules: Mapping[str, SignatureRule],
    independent: str | None,
    config: QmsConfig,
    branch: str,
) -> list[Waiting]:
    """The moves out of a record's state that `person` may sign (not reopening or cancelling,
    and only those whose required fields are there)."""
    kind = kind_of_id(record.id)
    assert kind is not None and record.data is not None
    machine = config.lifecycles.machines[kind.name]
    found = []
    for transition in machine.transitions:
        if transition.source != record.state or transition.reason:
            continue
        rule = rules.get(transition.meaning)
        if (
            rule is None
            or rule.audience
            or not all(r.met(record.data) for r in transition.requires)
        ):
            continue
        held = sorted(person.roles & rule.roles)
        if not held or (rule.independent and independent is not None):
            continue
        why = (
            f"{record.state}: can move to {transition.target} ({transition.meaning}); "
            f"you hold {held[0]}"
        )
        found.append(
            Waiting(
                record=record.id,
                branch=branch,
                meaning=transition.meaning,
                target=transition.target,
                why=why,
                key=record.state,
            )
        )
    return found
