"""Review of open authorship questions kept in the history index (s37): a stored question is
named by the change's blobs; its answer must be the full walk's, which reads a record's new
content by `commit:path` as the walk fetched it (nothing but a regular file is a record: an
executable file or a symbolic link at a record's path holds no content of the record).

Found: the stored question read the change's new blob by id whatever the entry's mode, so a
signed state move that also made the record executable was authorship to a full walk (the
record holds no content) and no authorship to a walk read back from the index. The mover then
signed the version independently: a separation-of-duties problem cold, none warm.

Found too (before s37 as well): a walk carried on from a stored one reads its new commits'
records by name, which finds an executable file's bytes; so the move, walked on, was no
authorship either. The question now takes a change's new content as absent wherever the
change left no regular file. The same read by name let such a walk find the content a
signature claims where a full walk finds none; a walk carried on now reads its new commits'
records by blob id from the stored tip's tree (history/read.py `blob_ids`), as a full walk
reads them.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from gitqms.signatures.verify import Walk, walk_history
from gitqms.signatures.walk_index import StoredWalk
from test_lazy_authors_review import (
    CAPAS,
    NOW,
    SEPARATION,
    _answers,
    _carried_on,
    _cold,
    _History,
    _new_records,
    _path,
)
from toolkit.team import Team, cold_copies

built, team = cold_copies(_new_records, NOW)


def _executable_move(team: Team) -> tuple[str, str]:
    """The officer signs a state move of a CAPA that also makes its file executable, then
    makes it a regular file again in a commit signing the version 'reviewed'."""
    history, world, record = _History(team, random.Random(0)), team.world, CAPAS[0]
    moved = history.text(record).replace("state: open", "state: analysis")
    history.put(record, moved)
    world.git("update-index", "--chmod=+x", _path(record))
    chmod = history.commit(team.officer, history.claim(record, "analysis-started", moved))
    world.git("update-index", "--chmod=-x", _path(record))
    return chmod, history.commit(team.officer, history.claim(record, "reviewed", moved))


def _problems(walk: Walk, commit: str) -> str:
    [verdict] = [v for v in walk.report.verdicts if v.commit == commit and v.meaning == "reviewed"]
    return " ".join(verdict.problems)


def test_a_move_that_makes_the_record_executable_is_judged_as_a_full_walk_judges_it(
    team: Team,
) -> None:
    """Stored with the move's question open, then read back and carried on to the review."""
    (chmod, review), repo, record = _executable_move(team), team.world.repo, CAPAS[0]
    cold = _cold(repo, ["HEAD"])
    [verdict] = [v for v in cold[0].verdicts if v.commit == review and v.meaning == "reviewed"]
    assert SEPARATION in " ".join(verdict.problems)  # the full walk: the officer authored it
    full = _cold(repo, [chmod])[1][chmod][record]
    walk_history(repo, [chmod])  # kept in the index, the move's question left open
    stored = walk_history(repo, [chmod])
    assert isinstance(stored, StoredWalk)
    assert stored.authors_at(chmod, record) == full
    assert _carried_on(repo, chmod) == cold


def test_a_walk_carried_on_over_such_a_move_answers_as_a_full_walk(team: Team) -> None:
    """The move is one of the commits walked on from the stored walk of its parent."""
    (chmod, review), repo = _executable_move(team), team.world.repo
    cold = _cold(repo, ["HEAD"])
    shutil.rmtree(Path(repo) / ".git" / "qms", ignore_errors=True)
    walk_history(repo, [f"{chmod}^"])
    carried = walk_history(repo, ["HEAD"])
    assert isinstance(carried, StoredWalk) and carried.new_steps
    assert SEPARATION in _problems(carried, review)
    assert _answers(carried)[1] == cold[1]


def test_a_walk_carried_on_over_such_a_move_reports_what_a_full_walk_reports(
    team: Team,
) -> None:
    """Every verdict: the move's own signature claims content the record, executable, does not
    hold as a record; a walk carried on reads the new commits' records by blob id as a full
    walk does, from the stored tip's tree, so it finds none either."""
    chmod, _ = _executable_move(team)
    cold = _cold(team.world.repo, ["HEAD"])
    [move] = [v for v in cold[0].verdicts if v.commit == chmod]
    assert "does not exist in this commit" in " ".join(move.problems)
    assert _carried_on(team.world.repo, f"{chmod}^") == cold
