"""Who authored a record since its approval, with some answers left until a question needs them.

Whether a signed commit's change to a record was authorship (more than its state fields) costs
a parse of two versions of the record. Most of those answers are never needed: the record is
approved before anyone who could have authored it signs it independently. So the ledger keeps
such a change as a step whose answer is asked only when a question depends on it: whether
one email is among the authors (separation of duties), or the whole set (a tip's authors,
stored in the history index). The answers are exactly those of the eager fold (tests:
test_lazy_authors.py compares them on random steps; test_lazy_authors_review.py on real
signed histories). Both sides of a merge share the steps below it, so each step keeps the
answers it gave: a question costs one visit per step, not one per path (2^merges).
"""

from __future__ import annotations

from collections.abc import Callable

from .verdict import UNPROVEN

_DEEP = 32  # steps kept on top of one another before they are settled (bounds recursion)


class MaybeAuthored:
    """The authors after a change by `people`: as `base` when `ask()` says the change was not
    authorship, else `base` with `people` added. A proven signer (UNPROVEN not in `people`)
    answers for the version, so UNPROVEN goes. `ask` None: authorship for certain."""

    __slots__ = (
        "_answer",
        "_ask",
        "_base",
        "_held",
        "_people",
        "_value",
        "depth",
        "may_be_unproven",
    )

    def __init__(
        self, base: AuthorSet, people: frozenset[str], ask: Callable[[], bool] | None
    ) -> None:
        self._base, self._people, self._ask = base, people, ask
        self._answer: bool | None = True if ask is None else None
        self._value: frozenset[str] | None = None
        self._held: dict[str, bool] = {}  # answers given, so each step is asked once
        self.depth = 1 + depth(base)
        self.may_be_unproven = UNPROVEN in people or may_be_unproven(base)

    def _asked(self) -> bool:
        if self._answer is None and self._ask is not None:
            self._answer, self._ask = self._ask(), None
        return bool(self._answer)

    def value(self) -> frozenset[str]:
        if self._value is None:
            base = settled(self._base)
            if not self._asked():
                self._value = base
            elif UNPROVEN in self._people:
                self._value = base | self._people
            else:
                self._value = (base - {UNPROVEN}) | self._people
            self._base, self._held = frozenset(), {}  # nothing below is needed again
        return self._value

    def peek(self) -> frozenset[str] | None:
        return self._value

    def holds(self, email: str) -> bool:
        if self._value is not None:
            return email in self._value
        if email not in self._held:  # the steps below are shared by the sides of merges
            self._held[email] = self._holds(email)
        return self._held[email]

    def _holds(self, email: str) -> bool:
        if email == UNPROVEN:
            if not self.may_be_unproven:
                return False
            if UNPROVEN in self._people:
                return holds(self._base, email) or self._asked()
            return holds(self._base, email) and not self._asked()  # a proven signer clears it
        if email in self._people:
            return holds(self._base, email) or self._asked()
        return holds(self._base, email)


class Merged:
    """The authors where branches meet: everyone either side has."""

    __slots__ = ("_held", "_sides", "_value", "depth", "may_be_unproven")

    def __init__(self, one: AuthorSet, other: AuthorSet) -> None:
        self._sides = (one, other)
        self._value: frozenset[str] | None = None
        self._held: dict[str, bool] = {}
        self.depth = 1 + max(depth(one), depth(other))
        self.may_be_unproven = may_be_unproven(one) or may_be_unproven(other)

    def value(self) -> frozenset[str]:
        if self._value is None:
            self._value = settled(self._sides[0]) | settled(self._sides[1])
            self._sides, self._held = (frozenset(), frozenset()), {}
        return self._value

    def peek(self) -> frozenset[str] | None:
        return self._value

    def holds(self, email: str) -> bool:
        if self._value is not None:
            return email in self._value
        if email == UNPROVEN and not self.may_be_unproven:
            return False
        if email not in self._held:
            self._held[email] = holds(self._sides[0], email) or holds(self._sides[1], email)
        return self._held[email]


AuthorSet = frozenset[str] | MaybeAuthored | Merged  # a record's authors, perhaps some left open


def settled(authors: AuthorSet) -> frozenset[str]:
    """Every author, asking whatever was left open."""
    return authors if isinstance(authors, frozenset) else authors.value()


def holds(authors: AuthorSet, email: str) -> bool:
    """Whether `email` (or UNPROVEN) is among the authors, asking only what decides it."""
    return email in authors if isinstance(authors, frozenset) else authors.holds(email)


def depth(authors: AuthorSet) -> int:
    return 0 if isinstance(authors, frozenset) else authors.depth


def may_be_unproven(authors: AuthorSet) -> bool:
    return UNPROVEN in authors if isinstance(authors, frozenset) else authors.may_be_unproven


def known(authors: AuthorSet) -> frozenset[str] | None:
    """The authors when nothing is left open, else None."""
    if isinstance(authors, frozenset):
        return authors
    return authors.peek()


def after(base: AuthorSet, people: frozenset[str], ask: Callable[[], bool] | None) -> AuthorSet:
    """The authors after a change by `people`; `ask`: whether it was authorship, asked only
    when needed (None: it was)."""
    if ask is None and isinstance(base, frozenset):
        return base | people if UNPROVEN in people else (base - {UNPROVEN}) | people
    if depth(base) >= _DEEP:
        base = settled(base)
    return MaybeAuthored(base, people, ask)


def either(one: AuthorSet, other: AuthorSet) -> AuthorSet:
    """The authors of two branches merged."""
    if isinstance(one, frozenset) and isinstance(other, frozenset):
        return one | other
    if max(depth(one), depth(other)) >= _DEEP:
        return settled(one) | settled(other)
    return Merged(one, other)
