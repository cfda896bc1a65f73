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

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from .verdict import UNPROVEN

_DEEP = 32  # steps kept on top of one another before they are settled (bounds recursion)


class _Open(ABC):
    """Authors with some answers left open: the whole set once settled, and each question's
    answer kept, since the steps below are shared by the sides of merges (asked again, a
    question would walk every path through them: twice as many per merge)."""

    __slots__ = ("_held", "_value", "depth", "may_be_unproven")

    def __init__(self, depth: int, may_be_unproven: bool) -> None:
        self._value: frozenset[str] | None = None
        self._held: dict[str, bool] = {}
        self.depth, self.may_be_unproven = depth, may_be_unproven

    def value(self) -> frozenset[str]:
        if self._value is None:
            self._value, self._held = self._settle(), {}
        return self._value

    def peek(self) -> frozenset[str] | None:
        return self._value

    def holds(self, email: str) -> bool:
        if self._value is not None:
            return email in self._value
        if email == UNPROVEN and not self.may_be_unproven:
            return False
        if email not in self._held:
            self._held[email] = self._holds(email)
        return self._held[email]

    @abstractmethod
    def _settle(self) -> frozenset[str]:
        """Every author, asking whatever was left open."""

    @abstractmethod
    def _holds(self, email: str) -> bool:
        """Whether `email` is among the authors, asking only what decides it."""


class MaybeAuthored(_Open):
    """The authors after a change by `people`: as `base` when `ask()` says the change was not
    authorship, else `base` with `people` added. A proven signer (UNPROVEN not in `people`)
    answers for the version, so UNPROVEN goes. `ask` None: authorship for certain."""

    __slots__ = ("_answer", "_ask", "_base", "_people")

    def __init__(
        self, base: AuthorSet, people: frozenset[str], ask: Callable[[], bool] | None
    ) -> None:
        super().__init__(1 + depth(base), UNPROVEN in people or may_be_unproven(base))
        self._base, self._people, self._ask = base, people, ask
        self._answer: bool | None = True if ask is None else None

    def _asked(self) -> bool:
        if self._answer is None and self._ask is not None:
            self._answer, self._ask = self._ask(), None
        return bool(self._answer)

    def _settle(self) -> frozenset[str]:
        base, self._base = settled(self._base), frozenset()  # nothing below is needed again
        if not self._asked():
            return base
        if UNPROVEN in self._people:
            return base | self._people
        return (base - {UNPROVEN}) | self._people

    def _holds(self, email: str) -> bool:
        if email == UNPROVEN:
            if UNPROVEN in self._people:
                return holds(self._base, email) or self._asked()
            return holds(self._base, email) and not self._asked()  # a proven signer clears it
        if email in self._people:
            return holds(self._base, email) or self._asked()
        return holds(self._base, email)


class Merged(_Open):
    """The authors where branches meet: everyone either side has."""

    __slots__ = ("_sides",)

    def __init__(self, one: AuthorSet, other: AuthorSet) -> None:
        super().__init__(
            1 + max(depth(one), depth(other)), may_be_unproven(one) or may_be_unproven(other)
        )
        self._sides = (one, other)

    def _settle(self) -> frozenset[str]:
        sides, self._sides = self._sides, (frozenset(), frozenset())
        return settled(sides[0]) | settled(sides[1])

    def _holds(self, email: str) -> bool:
        return holds(self._sides[0], email) or holds(self._sides[1], email)


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


# -- kept in the history index, questions left open -------------------------------------------

Ref = Any  # what names an open question, for whoever answers it later (contents.AskRef)
Node = tuple[Any, ...]


def encode(pending: dict[str, dict[str, AuthorSet]]) -> tuple[list[Node], dict[str, Any]]:
    """The tips' authors as plain data, nothing asked: the steps as nodes (children first,
    each once however many records and tips share it) and each tip's records as node numbers.
    A question whose ask has no `ref` (none but tests make such) is answered now."""
    nodes: list[Node] = []
    numbers: dict[int, int] = {}

    def number(authors: AuthorSet) -> int:
        if id(authors) not in numbers:
            nodes.append(_node(authors, number))
            numbers[id(authors)] = len(nodes) - 1
        return numbers[id(authors)]

    maps = {tip: {r: number(a) for r, a in authors.items()} for tip, authors in pending.items()}
    return nodes, maps


def _node(authors: AuthorSet, number: Callable[[AuthorSet], int]) -> Node:
    if isinstance(authors, frozenset) or authors.peek() is not None:
        return (0, sorted(settled(authors)))
    if isinstance(authors, Merged):
        return (3, number(authors._sides[0]), number(authors._sides[1]))
    base, people = number(authors._base), sorted(authors._people)
    ref = getattr(authors._ask, "ref", None)
    if authors._answer is None and ref is not None:
        return (2, base, people, ref)
    return (1, base, people, authors._asked())


def decode(
    data: tuple[list[Node], dict[str, Any]], ask_of: Callable[[Ref], Callable[[], bool]]
) -> dict[str, dict[str, AuthorSet]]:
    """`encode`'s data back as authors, each open question asked through `ask_of(ref)`."""
    nodes, maps = data
    built: list[AuthorSet] = []
    for node in nodes:
        if node[0] == 0:
            built.append(frozenset(node[1]))
        elif node[0] == 3:
            built.append(Merged(built[node[1]], built[node[2]]))
        else:
            ask = ask_of(node[3]) if node[0] == 2 else None
            made = MaybeAuthored(built[node[1]], frozenset(node[2]), ask)
            if node[0] == 1:
                made._answer = node[3]
            built.append(made)
    return {tip: {r: built[n] for r, n in authors.items()} for tip, authors in maps.items()}
