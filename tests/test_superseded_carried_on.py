"""A walk carried on from a stored one (the history index, .git/qms) takes over the stored
walk's superseded marks where they name the first change after the signature, since that
change stays the first one when later commits are walked on; whether a signature is
superseded is judged afresh at the new tip. Every answer must be a cold walk's: a record
changed after the stored tip, a record put back to the very bytes that were approved, and a
mark that stays as it was.

The history is SOP-0001 v1 approved by the lifecycle team (tests/toolkit/team.py), with real
keys; the clock is fixed.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gitqms.signatures import walk_index
from gitqms.signatures.verify import Walk, walk_history
from gitqms.signatures.walk_index import StoredWalk
from test_acknowledge import released
from toolkit.team import Team, cold_copies
from toolkit.world import SOP

APPROVED = "approved"


built, team = cold_copies(released, datetime(2026, 9, 1, 12, tzinfo=UTC))


def full_walk(repo: Path) -> Walk:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(walk_index, "cached_walk", lambda *args: args[3]())
        walk = walk_history(repo, ["HEAD"])
    assert not isinstance(walk, StoredWalk)
    return walk


def carried_on(repo: Path, older: str) -> Walk:
    """The walk of HEAD, carried on from the stored walk of `older` (the only one stored)."""
    shutil.rmtree(repo / ".git" / "qms", ignore_errors=True)
    walk_history(repo, [older])
    walk = walk_history(repo, ["HEAD"])
    assert isinstance(walk, StoredWalk) and walk.new_steps  # walked on, not walked again
    return walk


def approvals(walk: Walk) -> list[str | None]:
    return [v.superseded for v in walk.report.verdicts if v.meaning == APPROVED]


def changed_by(team: Team, change: str) -> str:
    """The superseded mark that names `change`, made by the team's author."""
    return (
        f"the record changed after this signature in {change[:12]} by "
        f"{team.author.name}; it covers earlier content"
    )


def edit(team: Team, text: str, day: str) -> str:
    team.on(day)
    return team.world.commit_file(team.author, SOP, text, f"edit on {day}")


def test_a_change_after_the_stored_tip_is_named_by_the_carried_walk(team: Team) -> None:
    repo = team.world.repo
    older = team.world.head()
    approved = (repo / SOP).read_text()
    change = edit(team, approved.replace("logger first", "logger and seal first"), "2026-03-02")
    carried = carried_on(repo, older)
    full = full_walk(repo)
    assert approvals(full) == [changed_by(team, change)]
    assert carried.report == full.report


def test_a_mark_made_before_the_stored_tip_is_the_cold_walks(team: Team) -> None:
    repo = team.world.repo
    approved = (repo / SOP).read_text()
    change = edit(team, approved.replace("logger first", "logger and seal first"), "2026-03-02")
    older = team.world.head()
    team.on("2026-03-03")
    team.qms(team.admin, "people", "set", "j.lindqvist", "--audience", "nurses", "--reason", "x")
    carried = carried_on(repo, older)
    full = full_walk(repo)
    assert approvals(full) == [changed_by(team, change)]
    assert carried.report == full.report


def test_a_record_put_back_to_its_approved_bytes_is_covered_again(team: Team) -> None:
    """The stored walk marked the approval superseded; once the file holds the approved bytes
    again, the carried walk must not keep that mark."""
    repo = team.world.repo
    approved = (repo / SOP).read_text()
    edit(team, approved.replace("logger first", "logger and seal first"), "2026-03-02")
    older = team.world.head()
    assert approvals(walk_history(repo, [older])) != [None]  # marked at the stored tip
    edit(team, approved, "2026-03-03")
    carried = carried_on(repo, older)
    full = full_walk(repo)
    assert approvals(full) == [None]
    assert carried.report == full.report
