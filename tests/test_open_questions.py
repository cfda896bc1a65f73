"""Authorship questions left open in the history index.

Whether a signed state change was authorship is asked only when a question needs it
(signatures/authors.py). The history index used to answer every question still open at the
tips before it was written; it now keeps them open, each named by the change's blobs, and a
walk read back answers one from those blobs when a question needs it. The inbox asks only
for independent signatures, and only whether that person (or an unproven change) authored.
Every answer must be the one the full walk gives.
"""

from __future__ import annotations

import marshal
import random
from pathlib import Path

import pytest

from gitqms import clock
from gitqms.history.read import History
from gitqms.lifecycle.signed import signed_contents
from gitqms.lifecycle.status import snapshot
from gitqms.lifecycle.training import matrix_of
from gitqms.reports.inbox import everyone
from gitqms.signatures import authors, contents
from gitqms.signatures.authors import AuthorSet, after, either, holds, settled
from gitqms.signatures.verdict import UNPROVEN
from gitqms.signatures.verify import trusted_registry, walk_history
from gitqms.signatures.walk_index import StoredWalk
from test_history_index import fresh, full_walk  # noqa: F401 (fresh: autouse)
from test_index_aside import kept
from toolkit.generated import generated_history

PEOPLE = ["a@x", "b@x", "c@x", UNPROVEN]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_history(tmp_path_factory, "open-questions")


class _Answers:
    """Counts `Contents.answer`: how many questions were answered, and which."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.asked: list[tuple[str, str]] = []
        answer = contents.Contents.answer

        def counted(reader: contents.Contents, ref: contents.AskRef) -> bool:
            if (ref[0], ref[1]) not in reader._authorship:
                self.asked.append((ref[0], ref[1]))
            return answer(reader, ref)

        monkeypatch.setattr(contents.Contents, "answer", counted)


def _stored(repo: Path) -> StoredWalk:
    walk = walk_history(repo, ["HEAD"])
    assert isinstance(walk, StoredWalk) and not walk.new_steps
    return walk


def _kinds(repo: Path) -> list[int]:
    """The kinds of node the stored file keeps for the tips' authors (2: a question open)."""
    [stored] = kept(repo).values()
    nodes, _ = stored["state"]["pending"]
    return [node[0] for node in nodes]


def test_the_index_keeps_open_the_questions_no_verdict_asked(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = _Answers(monkeypatch)
    walk_history(repo, ["HEAD"])  # walked, then kept in the index in this process
    during_walk = len(answers.asked)
    kept = _kinds(repo)
    assert kept.count(2) >= 5, kept  # the history's tip holds questions no verdict asked
    full = full_walk(repo)
    tip = full.tip or ""
    records = sorted(full.ledger.state.pending[tip])
    expected = {record: full.authors_at(tip, record) for record in records}
    answers.asked.clear()
    stored = _stored(repo)
    assert {record: stored.authors_at(tip, record) for record in records} == expected
    assert len(answers.asked) == kept.count(2)  # each open question answered once, when asked
    assert during_walk > 0  # the walk itself asked what its verdicts needed


def test_each_question_a_stored_walk_answers_is_the_full_walks_answer(repo: Path) -> None:
    """`holds` for every email on a fresh read-back, before anything is settled."""
    full = full_walk(repo)
    tip = full.tip or ""
    pending = full.ledger.state.pending[tip]
    emails = sorted({e for a in pending.values() for e in settled(a)} | {UNPROVEN, "x@y"})
    walk_history(repo, ["HEAD"])
    for email in emails:
        stored = _stored(repo)  # nothing answered yet
        for record, authors_set in pending.items():
            open_set = stored.open_authors_at(tip, record)
            assert holds(open_set, email) == (email in settled(authors_set)), (record, email)


def test_open_questions_are_read_in_a_few_batches(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One git process for the first record asked about, then one for all the others (here
    after one record: the history's tip has open questions on a few records only)."""
    monkeypatch.setattr(contents, "_FEW_RECORDS", 1)
    walk_history(repo, ["HEAD"])
    stored = _stored(repo)
    open_records = {ref[1] for refs in stored.reader._stored_asks.values() for ref in refs}
    assert len(open_records) >= 3, open_records
    reads: list[int] = []
    blobs = History.blobs

    def counted(place: History, names: list[str]) -> dict[str, bytes | None]:
        names = list(names)
        reads.append(len(names))
        return blobs(place, names)

    monkeypatch.setattr(History, "blobs", counted)
    tip = stored.tip or ""
    for record in sorted(open_records):
        stored.authors_at(tip, record)
    assert len(reads) == 2, reads


def test_the_inbox_asks_only_what_decides_and_answers_as_before(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Everyone's inbox from the open authors equals the inbox from the settled ones, and
    asks fewer questions."""
    walk_history(repo, ["HEAD"])

    def inboxes(settle: bool) -> tuple[dict[str, object], int]:
        answers = _Answers(monkeypatch)
        walk = _stored(repo)
        if settle:
            monkeypatch.setattr(
                walk, "open_authors_at", lambda commit, record: walk.authors_at(commit, record)
            )
        tip = walk.tip or ""
        config = trusted_registry(walk, tip, "test").config
        with clock.fixed(clock.now()):
            signed = signed_contents(walk)
            state = snapshot(repo, walk, tip, clock.today(), signed=signed)
            found = everyone(config, walk, state, matrix_of(walk, state, signed), "main")
        return {person: box.to_json() for person, box in found.items()}, len(answers.asked)

    open_found, open_asked = inboxes(settle=False)
    settled_found, settled_asked = inboxes(settle=True)
    assert open_found == settled_found
    assert open_asked < settled_asked, (open_asked, settled_asked)


# -- the nodes kept, on random authors --------------------------------------------------------


class _Ask:
    """An open question named by `ref`, answered from a table, counting its calls."""

    def __init__(self, ref: tuple[str, str, str, str], answers: dict[object, bool]) -> None:
        self.ref, self._answers, self.times = ref, answers, 0

    def __call__(self) -> bool:
        self.times += 1
        return self._answers[self.ref]


def _random_authors(rng: random.Random) -> tuple[dict[str, AuthorSet], dict[object, bool]]:
    """Branches of changes signed or not, answered or not, merged now and then."""
    answers: dict[object, bool] = {}
    branches: list[AuthorSet] = [frozenset()]
    for number in range(rng.randrange(5, 60)):
        at = rng.randrange(len(branches))
        roll = rng.random()
        if roll < 0.15 and len(branches) > 1:
            other = branches.pop(rng.randrange(len(branches)))
            branches[rng.randrange(len(branches))] = either(branches[at % len(branches)], other)
        elif roll < 0.3:
            branches.append(branches[at])
        else:
            people = frozenset(rng.sample(PEOPLE, rng.randrange(1, 3)))
            ref = (f"c{number}", "CAPA-1", f"old{number}", f"new{number}")
            answers[ref] = rng.random() < 0.5
            ask = None if roll < 0.4 else _Ask(ref, answers)
            branches[at] = after(branches[at], people, ask)
            if ask is not None and rng.random() < 0.3:
                holds(branches[at], rng.choice(PEOPLE))  # some answered before they are kept
    return {f"tip{i}": branch for i, branch in enumerate(branches)}, answers


@pytest.mark.parametrize("seed", range(40))
def test_authors_kept_and_read_back_answer_as_before(seed: int) -> None:
    rng = random.Random(seed)
    tips, answers = _random_authors(rng)
    pending = {tip: {"CAPA-1": branch} for tip, branch in tips.items()}
    kept = marshal.loads(marshal.dumps(authors.encode(pending)))
    asked: list[_Ask] = []

    def ask_of(ref: object) -> _Ask:
        asked.append(_Ask(tuple(ref), answers))  # type: ignore[arg-type]
        return asked[-1]

    read = authors.decode(kept, ask_of)
    assert all(ask.times == 0 for ask in asked)  # reading back asks nothing
    for tip, branch in tips.items():
        for email in PEOPLE:
            assert holds(read[tip]["CAPA-1"], email) == (email in settled(branch))
        assert settled(read[tip]["CAPA-1"]) == settled(branch)
    assert all(ask.times <= 1 for ask in asked)  # each question asked at most once
