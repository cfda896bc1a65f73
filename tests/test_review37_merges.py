"""Review of open authorship questions (s37): a signed merge. The question a merge's signed
change leaves open is named by the record's blob at its first parent and at the merge (its
change against the first parent); kept in the history index, read back and carried on, or
walked on from its parent, its answer must be the full walk's."""

from __future__ import annotations

import random
import shutil

import pytest

from gitqms.signatures.verify import walk_history
from gitqms.signatures.walk_index import StoredWalk
from test_lazy_authors_review import (
    CAPAS,
    NOW,
    SEPARATION,
    _carried_on,
    _cold,
    _History,
    _new_records,
    _problems,
    _sign,
)
from toolkit.process import environment, run
from toolkit.team import Team, cold_copies

built, team = cold_copies(_new_records, NOW)


@pytest.mark.parametrize("more", [False, True])
def test_a_signed_merge_is_authorship_only_if_it_edits_more(team: Team, more: bool) -> None:
    """The officer moves a CAPA on a branch, the admin edits it on main, and the officer signs
    the merge (a state change against main, or more): then signs the version 'reviewed'."""
    history, world, record = _History(team, random.Random(0)), team.world, CAPAS[0]
    text = history.text(record)
    world.git("checkout", "-q", "-b", "side")
    history.put(record, text.replace("state: open", "state: analysis"))
    history.commit(team.officer, history.claim(record, "analysis-started", history.text(record)))
    world.git("checkout", "-q", "main")
    history.put(record, text.replace('notes: "n0"', 'notes: "by the admin"'))
    history.commit(team.admin)
    run(["git", "merge", "-q", "--no-ff", "--no-commit", "side"], cwd=world.repo, env=environment())
    merged = text.replace("state: open", "state: analysis").replace("n0", "by the admin")
    history.put(record, merged.replace("by the admin", "resolved") if more else merged)
    merge = history.commit(
        team.officer, history.claim(record, "plan-proposed", history.text(record))
    )
    assert len(world.git("rev-list", "--parents", "-n1", merge).split()) == 3
    review = _sign(history, team.officer, "reviewed")
    assert (SEPARATION in _problems(team, review, "reviewed")) is more  # cold, eager, walked on
    shutil.rmtree(world.repo / ".git" / "qms", ignore_errors=True)
    walk_history(world.repo, [merge])
    stored = walk_history(world.repo, [merge])
    assert isinstance(stored, StoredWalk)
    asks = stored.reader._stored_asks[record]
    assert merge in [ref[0] for ref in asks]  # the merge's question kept open
    assert _carried_on(world.repo, merge) == _cold(world.repo, ["HEAD"])
