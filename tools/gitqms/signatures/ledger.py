"""The walk's authorship ledger: who authored each record since its last approval, for
separation of duties.

Authorship is proven, not claimed: the author of a change is the registered person whose key
signed the commit, valid at its parent; a change after the trust root that no such signature
covers marks the version's author as unproven, so no independent signature of it counts until
a registered person commits it signed (who then answers for it). Before the trust root nothing
is judged: the emails a commit states are taken, as nothing else is known.

The authors are kept per commit until its children are walked, then only at the tips. A map
that no other commit holds is updated in place: memory stays proportional to the open
branches, not the history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..history.commits import Commit
from ..history.read import Step
from ..records.config import Person
from .authors import AuthorSet, after, either, known, settled
from .claims import Claims
from .contents import Contents
from .registry import Registry
from .verdict import RELEASE_MEANING, UNPROVEN, Verdict

Authors = dict[str, AuthorSet]  # record -> emails of who changed it since its approval
Signer = Callable[[Commit, Registry | None], tuple[str | None, Person | None, str | None]]


@dataclass(slots=True)
class LedgerState:
    """The ledger as the history index keeps it (after a walk: the tips' authors only)."""

    pending: dict[str, Authors] = field(default_factory=dict)  # commit -> its authors
    proven: dict[str, str] = field(default_factory=dict)  # commit -> its signer's person id


class Ledger:
    """Takes `state` over and changes it in place: each walk gets its own (a stored walk builds
    a fresh one per restore)."""

    def __init__(self, state: LedgerState, contents: Contents, signer: Signer) -> None:
        self.state = state
        self.contents = contents
        self.signer = signer  # the problem with a commit's signature, its signer and key
        self._children: dict[str, int] = {}  # commit -> children not yet walked
        self._holders: dict[int, int] = {}  # id of a pending map -> commits holding it
        pending, state.pending = state.pending, {}
        for commit, authors in pending.items():
            self.hold(commit, authors)

    def authors_at(self, commit: str, record: str) -> frozenset[str]:
        """Emails of everyone who changed `record` since its last approval, as of `commit` (a
        tip of the walk: the maps of commits whose children were walked are not kept)."""
        return settled(self.open_authors_at(commit, record))

    def open_authors_at(self, commit: str, record: str) -> AuthorSet:
        """`authors_at`, its questions left open: `authors.holds` asks only what decides."""
        return self.state.pending.get(commit, {}).get(record, frozenset())

    def expect(self, step: Step) -> None:
        """`step` will be walked: its parents' maps are kept until it is."""
        for parent in step.commit.parents:
            self._children[parent] = self._children.get(parent, 0) + 1

    def hold(self, commit: str, pending: Authors) -> None:
        self.state.pending[commit] = pending
        self._holders[id(pending)] = self._holders.get(id(pending), 0) + 1

    def merged(self, parents: tuple[str, ...]) -> Authors:
        """The authors as of a commit's parents, merged."""
        maps = [self.state.pending.get(p, {}) for p in parents]
        if not maps:
            return {}
        merged = maps[0]
        for other in maps[1:]:
            if other is merged or not other:
                continue
            merged = dict(merged)
            for record, authors in other.items():
                merged[record] = either(merged.get(record, frozenset()), authors)
        return merged

    def record(
        self,
        step: Step,
        pending: Authors,
        registry: Registry | None,
        is_root: bool,
        before_root: Callable[[], bool],
        judged: tuple[Claims | None, list[Verdict]],
    ) -> tuple[str | None, list[str]]:
        """Enter `step`, whose parents' authors were `pending`: why the author of its changes
        is not proven (None when it is), and the records whose change here was authorship.
        `is_root`: whether `step` is the trust root; `before_root`: whether it is the root or
        one of its ancestors (asked only when no registry judges it)."""
        for parent in step.commit.parents:
            self._read(parent)
        owned = id(pending) not in self._holders  # no other commit holds it: update in place
        unproven, people = None, frozenset[str]()
        if step.records:
            unproven, people = self._author(step, registry, is_root, before_root)
        after, authored = self._after(step, pending, judged, owned, people)
        self.hold(step.commit.id, after)
        return unproven, authored

    def _read(self, parent: str) -> None:
        """A child of `parent` was walked; once all were, its map is dropped."""
        left = self._children.get(parent, 0) - 1
        self._children[parent] = left
        if left > 0 or parent not in self.state.pending:
            return
        held = id(self.state.pending.pop(parent))
        if self._holders[held] > 1:
            self._holders[held] -= 1
        else:
            del self._holders[held]

    def _author(
        self,
        step: Step,
        registry: Registry | None,
        is_root: bool,
        before_root: Callable[[], bool],
    ) -> tuple[str | None, frozenset[str]]:
        """Who answers for the changes of `step`: (None, the signer's email) when a registered
        key valid at the parent signed it; else (why not, {UNPROVEN}). At the trust root and
        before it (its ancestors) nothing is judged: (None, the emails the commit states). Any
        other commit without a trusted registry, such as one of an unrelated history, proves
        no author."""
        commit = step.commit
        if is_root or (registry is None and before_root()):
            return None, frozenset({commit.author.email.lower(), commit.committer.email.lower()})
        if registry is None:
            # After the trust root, or beside it (an unrelated history merged in), a commit
            # that no trusted registry judges proves nobody: its stated emails are claims.
            return "no trusted registry judges", frozenset({UNPROVEN})
        if commit.signature is None:
            return "is not signed", frozenset({UNPROVEN})
        problem, person, _ = self.signer(commit, registry)
        if problem is not None or person is None:
            return f"is not validly signed ({problem})", frozenset({UNPROVEN})
        self.state.proven[commit.id] = person.id
        return None, frozenset({person.email.lower()})

    def _after(
        self,
        step: Step,
        pending: Authors,
        judged: tuple[Claims | None, list[Verdict]],
        owned: bool,
        people: frozenset[str],
    ) -> tuple[Authors, list[str]]:
        """The authors of each record after `step`, whose changes `people` made (UNPROVEN: no
        valid signature covers them), and, when the change is unproven, the records whose
        change here was authorship (those it did not sign all are). Whether a signed change
        was authorship is asked only when a later question needs it (authors.py)."""
        claims, verdicts = judged
        updates: dict[str, AuthorSet | None] = {}
        signed = {c.record for c in claims.claims} if claims else set()
        released = {v.record for v in verdicts if v.ok and v.meaning == RELEASE_MEANING}
        unproven = UNPROVEN in people
        for record, change in step.records.items():
            before = pending.get(record, frozenset())
            if record in released or _nobody_new(people, known(before)):
                continue  # cleared below, or nobody new: whether this is authorship is moot
            if len(step.commit.parents) > 1 and self.contents.brought_in(
                step, record, fetched_only=True
            ):
                continue  # authored on the merged branch, and counted there
            ask = None
            if record in signed:  # a signed state change is no authorship
                ask = self.contents.ask(step, record, change)
                if unproven and not ask():  # told now: an unproven change is reported at once
                    continue
            # A signed change makes its signer answer for the version, unproven parts included.
            updates[record] = after(before, people, None if unproven else ask)
        for record in released:
            updates[record] = None
        authored = [r for r, authors in updates.items() if authors is not None] if unproven else []
        if not updates:
            return pending, authored
        result = pending if owned else dict(pending)
        for record, authors in updates.items():
            if authors is None:
                result.pop(record, None)
            else:
                result[record] = authors
        return result, authored


def _nobody_new(people: frozenset[str], before: frozenset[str] | None) -> bool:
    """Whether a change by `people` leaves the authors `before` as they were, whatever it is."""
    return before is not None and UNPROVEN not in people | before and people <= before
