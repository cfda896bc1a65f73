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

What a commit's records wait for is worked out once (`openings`), whoever asks; `Inboxes` then
sorts it, with the due items and the training matrix, to each person, so the site's pages for
everyone cost one pass, not one per person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from .. import git
from ..errors import QmsError
from ..lifecycle.documents import DRAFT, IN_REVIEW
from ..lifecycle.due import SOON_DAYS, Due, within
from ..lifecycle.signed import signed_contents
from ..lifecycle.status import RecordStatus, Snapshot, snapshot
from ..lifecycle.training import DUE, OVERDUE, TRAINED, Matrix, Row, matrix_of
from ..records.config import CONFIG_FILE, Person, QmsConfig, SignatureRule
from ..records.kinds import kind_of_id
from ..signatures.authors import AuthorSet, holds
from ..signatures.claims import Claims
from ..signatures.verdict import UNPROVEN
from ..signatures.verify import Walk, trusted_registry, walk_history

BRANCH_PREFIXES = ("refs/heads/", "refs/remotes/")
T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class Waiting:
    """A signature that waits for someone holding the person's roles."""

    record: str
    branch: str
    meaning: str
    # a record's state it can move to; None for an approval of a document's draft or of its
    # version in review (a document's only signatures that wait)
    target: str | None
    why: str
    key: str = ""  # what makes it the same item on two branches (content or state)

    def to_json(self) -> dict[str, Any]:
        item: dict[str, Any] = {"record": self.record, "branch": self.branch}
        if self.target is not None:
            item["target"] = self.target
        item |= {"meaning": self.meaning, "why": self.why}
        return item


@dataclass(frozen=True, kw_only=True)
class Opening:
    """A signature that a record at a commit waits for: anyone holding one of `roles` may
    make it, unless they signed it already (`signers`) or, where the rule asks for an
    independent signer, changed the version since its last approval (`authors`)."""

    record: str
    meaning: str
    target: str | None
    roles: frozenset[str]
    independent: bool
    signers: frozenset[str]  # person IDs
    authors: AuthorSet  # emails, UNPROVEN among them, asked when a person needs it (authors.py)
    why: str  # the reason, but for the role the person holds
    key: str

    def waiting(self, person: Person, branch: str) -> Waiting | None:
        """This signature as an item of `person`'s inbox, if they may make it."""
        held = sorted(person.roles & self.roles)
        if not held or person.id in self.signers:
            return None
        if self.independent and _not_independent(person, self.authors) is not None:
            return None
        return Waiting(
            record=self.record,
            branch=branch,
            meaning=self.meaning,
            target=self.target,
            why=f"{self.why}; you hold {held[0]}",
            key=self.key,
        )


@dataclass(frozen=True, kw_only=True)
class Inbox:
    person: Person
    on: date
    commit: str
    signatures: list[Waiting]
    due: list[Due]
    training: list[Row]
    within: int = SOON_DAYS  # the due items are those overdue or due within this many days
    on_drafts: int = 0  # signatures on document drafts left out (`without_drafts`)

    def without_drafts(self) -> Inbox:
        """This inbox without the reviews and approvals of document drafts and versions in
        review (counted in `on_drafts`): what the controlled site, which publishes no draft,
        may show."""
        kept = [item for item in self.signatures if item.target is not None]
        return replace(self, signatures=kept, on_drafts=len(self.signatures) - len(kept))

    @property
    def overdue(self) -> int:
        late = sum(row.status == OVERDUE for row in self.training)
        return sum(item.overdue for item in self.due) + late

    @property
    def due_soon(self) -> int:
        """Due items not overdue yet (within the horizon)."""
        return sum(not item.overdue for item in self.due)

    @property
    def training_due(self) -> int:
        """Training not done whose day has not passed."""
        return sum(row.status == DUE for row in self.training)

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


class Inboxes:
    """Everyone's inbox at one commit (its signatures, due items and training), worked out
    once: `of(person)` only picks that person's share."""

    def __init__(
        self,
        config: QmsConfig,
        walk: Walk,
        state: Snapshot,
        matrix: Matrix,
        days: int = SOON_DAYS,
    ) -> None:
        self.on, self.commit, self.days = state.on, state.commit, days
        self.openings = openings(config, walk, state.commit, state)
        self._by_role: dict[str, list[int]] = {}
        for number, opening in enumerate(self.openings):
            for role in opening.roles:
                self._by_role.setdefault(role, []).append(number)
        self._due = _by_person(state.due, lambda item: item.owner)
        rows = (row for row in matrix.rows if row.status != TRAINED)
        self._training = _by_person(rows, lambda row: row.person)

    def of(self, person: Person, branch: str) -> Inbox:
        numbers = sorted({n for role in person.roles for n in self._by_role.get(role, ())})
        waiting = [found for n in numbers if (found := self.openings[n].waiting(person, branch))]
        return Inbox(
            person=person,
            on=self.on,
            commit=self.commit,
            signatures=waiting,
            due=within(self._due.get(person.id, []), self.on, self.days),
            training=self._training.get(person.id, []),
            within=self.days,
        )


def _by_person(items: Iterable[T], owner: Callable[[T], str | None]) -> dict[str, list[T]]:
    found: dict[str, list[T]] = {}
    for item in items:
        who = owner(item)
        if who is not None:
            found.setdefault(who, []).append(item)
    return found


def everyone(
    config: QmsConfig, walk: Walk, state: Snapshot, matrix: Matrix, branch: str
) -> dict[str, Inbox]:
    """Person ID -> their inbox at `state.commit` (that commit only: no other branch), for
    everyone in `config`, in its order."""
    found = Inboxes(config, walk, state, matrix)
    return {person.id: found.of(person, branch) for person in config.people}


def inbox(root: Path, on: date, person_id: str | None = None, days: int = SOON_DAYS) -> Inbox:
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
    found = Inboxes(config, walk, state, matrix, days).of(person, _branch_name(root))
    waiting = list(found.signatures)
    seen = {(item.record, item.meaning, item.target, item.key) for item in waiting}
    for tip, names in unmerged_branches(root, commit).items():
        branch_walk = walk_history(root, [tip])
        branch_config = trusted_registry(branch_walk, tip, "its signatures cannot be judged")
        branch_state = snapshot(root, branch_walk, tip, on)
        changed = _changed_records(root, commit, tip, branch_walk.claims)
        for item in waiting_for(
            person,
            openings(branch_config.config, branch_walk, tip, branch_state),
            ", ".join(names),
        ):
            key = (item.record, item.meaning, item.target, item.key)
            if (changed is None or item.record in changed) and key not in seen:
                waiting.append(item)
    return replace(found, signatures=waiting)


def _changed_records(
    root: Path, head: str, tip: str, claims: Mapping[str, Claims]
) -> set[str] | None:
    """The IDs of the records a branch changed or signed since it left `head`'s line: what it
    brings is what waits there; the rest is main's as it was when the branch started. None
    (all of them) when the branch changed qms.yaml, which changes what waits for whom."""
    base = git.merge_base(root, head, tip)
    if base is None:
        return set()
    paths = git.changed_paths(root, base, tip)
    if any(PurePosixPath(path).name == CONFIG_FILE for path in paths):
        return None
    records = {PurePosixPath(path).stem for path in paths}
    for commit in git.new_commits(root, tip, [base]):
        found = claims.get(commit)
        records.update(claim.record for claim in (found.claims if found else ()))
    return records


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


def waiting_for(person: Person, opened: Iterable[Opening], branch: str) -> list[Waiting]:
    """The signatures among `opened` that `person` may make."""
    return [found for opening in opened if (found := opening.waiting(person, branch))]


def openings(config: QmsConfig, walk: Walk, commit: str, state: Snapshot) -> list[Opening]:
    """The signatures that the records of `state` (at `commit`) wait for, in record order."""
    found: list[Opening] = []
    for record in state.records:
        kind = kind_of_id(record.id)
        if kind is None:
            continue
        rules = config.signatures.get(kind.name, {})
        waiting: list[Opening] = []
        if record.document is not None:
            waiting = _document_waiting(record, rules, config)
        elif kind.name in config.lifecycles.machines and record.data is not None:
            waiting = _moves(record, rules, config)
        if config.separation_of_duties and any(each.independent for each in waiting):
            # Who authored the version matters only to an independent signature: asked then.
            authors = walk.open_authors_at(commit, record.id)
            waiting = [replace(each, authors=authors) for each in waiting]
        found += waiting
    return found


def _not_independent(person: Person, authors: AuthorSet) -> str | None:
    """Why `person` cannot sign a version changed by `authors` where a rule asks for an
    independent signer (None: they can)."""
    if person.email and holds(authors, person.email.lower()):
        return "an author of this version"
    if holds(authors, UNPROVEN):
        return "the version holds a change whose author is not proven"
    return None


def _document_waiting(
    record: RecordStatus,
    rules: Mapping[str, SignatureRule],
    config: QmsConfig,
) -> list[Opening]:
    """The next approval meaning of a draft or a version in review (the first of the policy's
    order that lacks signers), if a role may sign it."""
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
        signers = frozenset(s.person for s in working.signatures if s.meaning == meaning)
        if len(signers) >= need:
            continue  # done: the next meaning is the one that waits
        if rule is None or rule.audience:
            return []
        return [
            Opening(
                record=record.id,
                meaning=meaning,
                target=None,
                roles=rule.roles,
                independent=rule.independent,
                signers=signers,
                authors=frozenset(),  # filled in by `openings` where it matters
                why=(
                    f"v{working.version} is {working.status}: '{meaning}' has {len(signers)} "
                    f"of {need} signers"
                ),
                key=working.content,
            )
        ]
    return []


def _moves(
    record: RecordStatus,
    rules: Mapping[str, SignatureRule],
    config: QmsConfig,
) -> list[Opening]:
    """The moves out of a record's state that a role may sign (not reopening or cancelling,
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
        found.append(
            Opening(
                record=record.id,
                meaning=transition.meaning,
                target=transition.target,
                roles=rule.roles,
                independent=rule.independent,
                signers=frozenset(),
                authors=frozenset(),  # filled in by `openings` where it matters
                why=f"{record.state}: can move to {transition.target} ({transition.meaning})",
                key=record.state,
            )
        )
    return found
