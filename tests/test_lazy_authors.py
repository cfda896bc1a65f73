"""Authorship asked only when a question needs it answers exactly as the eager fold does.

The ledger leaves open whether a signed change was authorship (signatures/authors.py) and
asks when separation of duties needs one email, or the index needs the whole set. Random
sequences of changes, signed or not, proven or not, merged across branches, are answered both
ways and must agree on every email and on the whole set, however deep the steps pile up.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from gitqms.signatures.authors import AuthorSet, after, either, holds, settled
from gitqms.signatures.verdict import UNPROVEN

PEOPLE = ["a@x", "b@x", "c@x", "d@x"]


def _eager(base: frozenset[str], people: frozenset[str], authored: bool) -> frozenset[str]:
    """The ledger's fold before answers were left open (ledger.py, stop 33)."""
    if not authored:
        return base
    return base | people if UNPROVEN in people else (base - {UNPROVEN}) | people


class _Asked:
    """A recorded answer to "was it authorship", counting how often it is asked."""

    def __init__(self, answer: bool) -> None:
        self.answer, self.times = answer, 0

    def __call__(self) -> bool:
        self.times += 1
        return self.answer


def _history(
    rng: random.Random, steps: int
) -> tuple[list[tuple[AuthorSet, frozenset[str]]], list[_Asked]]:
    """Branches of random changes, merged now and then: (lazy, eager) authors per branch."""
    branches: list[tuple[AuthorSet, frozenset[str]]] = [(frozenset(), frozenset())]
    asked: list[_Asked] = []
    for _ in range(steps):
        at = rng.randrange(len(branches))
        lazy, eager = branches[at]
        roll = rng.random()
        if roll < 0.15 and len(branches) > 1:  # a merge of two branches
            other = rng.randrange(len(branches))
            if other != at:
                lazy2, eager2 = branches.pop(max(at, other))
                lazy1, eager1 = branches.pop(min(at, other))
                branches.append((either(lazy1, lazy2), eager1 | eager2))
                continue
        if roll < 0.25:  # a branch starts here
            branches.append((lazy, eager))
            continue
        if roll < 0.3:  # a release clears the record on this branch
            branches[at] = (frozenset(), frozenset())
            continue
        unproven = rng.random() < 0.15
        people = frozenset({UNPROVEN}) if unproven else frozenset({rng.choice(PEOPLE)})
        authored = rng.random() < 0.5
        ask: Callable[[], bool] | None = None
        if rng.random() < 0.6:  # a signed change: whether it was authorship is left open
            asked.append(_Asked(authored))
            ask = asked[-1]
        else:
            authored = True
        branches[at] = (after(lazy, people, ask), _eager(eager, people, authored))
    return branches, asked


@pytest.mark.parametrize("seed", range(40))
def test_every_question_gets_the_eager_answer(seed: int) -> None:
    rng = random.Random(seed)
    branches, _ = _history(rng, rng.choice([5, 20, 80, 300]))
    for lazy, eager in branches:
        for email in [*PEOPLE, UNPROVEN, "nobody@x"]:
            assert holds(lazy, email) == (email in eager), (seed, email)
        assert settled(lazy) == eager
        for email in [*PEOPLE, UNPROVEN]:  # and again, once settled
            assert holds(lazy, email) == (email in eager)


def test_an_answer_is_asked_once_and_only_when_it_decides() -> None:
    asked = _Asked(True)
    authors = after(frozenset({"a@x"}), frozenset({"b@x"}), asked)
    assert holds(authors, "a@x") and not holds(authors, "c@x") and not holds(authors, UNPROVEN)
    assert asked.times == 0  # none of these depends on it
    assert holds(authors, "b@x") and asked.times == 1
    assert settled(authors) == {"a@x", "b@x"} and asked.times == 1


def test_a_proven_signer_clears_an_unproven_author_only_if_it_was_authorship() -> None:
    for answer in (True, False):
        asked = _Asked(answer)
        authors = after(frozenset({UNPROVEN}), frozenset({"b@x"}), asked)
        assert holds(authors, UNPROVEN) is not answer
        assert asked.times == 1


def test_thousands_of_open_answers_on_one_record_settle_without_deep_recursion() -> None:
    rng = random.Random(5)
    lazy: AuthorSet = frozenset()
    eager: frozenset[str] = frozenset()
    for _ in range(5000):
        people, authored = frozenset({rng.choice(PEOPLE)}), rng.random() < 0.01
        lazy, eager = after(lazy, people, _Asked(authored)), _eager(eager, people, authored)
        lazy = either(lazy, frozenset())
    assert settled(lazy) == eager
