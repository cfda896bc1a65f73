"""Review 35: the name a superseded mark gives the signer of the change is the name of its day.

A signature block keeps the printed name of its day (`qms people set --name`); the mark "the
record changed after this signature in C by NAME" named C's signer through the tip's registry.
So an admin who later renames the signer (or gives their id another person's name) changed
who the mark says made C, and a walk carried on from one stored before the rename kept the old
name while a cold walk gave the new one. The name is the one of the registry that proved the
signer (the registry at C's first parent), the same for every walk.

The history is SOP-0001 v1 approved by the lifecycle team (tests/toolkit/team.py), with real
keys; the clock is fixed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from test_acknowledge import released
from test_superseded_carried_on import approvals, carried_on, full_walk
from test_superseded_named_by_proof import approval_marks, change_as, log_verdicts
from toolkit.team import Team, cold_copies

built, team = cold_copies(released, datetime(2026, 9, 1, 12, tzinfo=UTC))


def rename(team: Team, person_id: str, name: str, day: str) -> None:
    team.on(day)
    team.qms(team.admin, "people", "set", person_id, "--name", name, "--reason", "renamed")


def by(change: str, name: str) -> str:
    return f"the record changed after this signature in {change[:12]} by {name}; it covers "


def test_a_rename_after_the_stored_walk_gives_the_carried_walk_the_cold_walks_mark(
    team: Team,
) -> None:
    repo = team.world.repo
    change = change_as(team, signer=team, name=team.author.name, email=team.author.email)
    older = team.world.head()
    rename(team, team.author.id, "Lucia Santos-Berg", "2026-03-05")
    carried = carried_on(repo, older)
    full = full_walk(repo)
    assert approvals(carried) == approvals(full)
    assert all(m is not None and by(change, team.author.name) in m for m in approvals(full))


def test_renaming_the_signer_after_the_change_does_not_make_a_colleague_its_author(
    team: Team,
) -> None:
    """An admin gives the signer's id the QA officer's name after the change: the mark must
    not then say the officer, who never signed it, made the change."""
    change = change_as(team, signer=team, name=team.author.name, email=team.author.email)
    rename(team, team.author.id, team.officer.name, "2026-03-05")
    marks = approval_marks(team)  # cold
    assert marks == [f"{by(change, team.author.name)}earlier content"]
    assert approval_marks(team) == marks  # warm
    assert log_verdicts(team) and all(marks[0] in v for v in log_verdicts(team))  # narrow too


def test_the_audit_trail_names_the_changes_signer_by_the_name_of_its_day(team: Team) -> None:
    """`qms log`'s entry for the signed change shows its proven author as the registry that
    proved them names them, as its signature entries do: a later rename of the signer's id to
    the QA officer's name must not put the officer's name on a change he never made."""
    change = change_as(team, signer=team, name=team.author.name, email=team.author.email)
    rename(team, team.author.id, team.officer.name, "2026-03-05")
    entries = json.loads(team.qms(team.admin, "log", "SOP-0001", "--format", "json"))["entries"]
    names = {e["name"] for e in entries if e["commit"] == change}
    assert names == {team.author.name}
