"""Review 35: a superseded mark that names a change brought in by a merge names only someone
whose signature is on the commit it names, and every walk (cold, warm, carried on, narrow)
says the same.

The history is SOP-0001 v1 approved by the lifecycle team (tests/toolkit/team.py), with real
keys; a branch made before the approval edits the SOP and is merged in after it.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest

from gitqms.signatures.verify import walk_history
from test_acknowledge import released
from test_superseded_carried_on import approvals, full_walk
from test_superseded_named_by_proof import approval_marks, log_verdicts
from toolkit.team import Team, cold_copies
from toolkit.world import SOP

built, team = cold_copies(released, datetime(2026, 9, 1, 12, tzinfo=UTC))


def side_edit_merged(team: Team, *, sign_merge: bool) -> tuple[str, str, str]:
    """A branch from SOP-0001 v1 (before its review) whose signed edit is merged into the
    approved line by the pharmacist, signed or not, stating the QA officer as its author:
    (the approved tip, the edit, the merge)."""
    world = team.world
    approved = world.head()
    version = world.git("log", "-1", "--format=%H", "--", SOP)
    world.git("checkout", "-q", "-b", "side", version)
    team.on("2026-03-02")
    text = (world.repo / SOP).read_text().replace("logger first", "logger and seal first")
    edit = world.commit_file(team.author, SOP, text, "seal the shipper")
    world.git("checkout", "-q", "-")
    team.on("2026-03-03")
    officer, owner = team.officer, team.owner
    stated = {
        "GIT_AUTHOR_NAME": officer.name,
        "GIT_AUTHOR_EMAIL": officer.email,
        **({} if sign_merge else {"GIT_COMMITTER_NAME": officer.name}),
        **({} if sign_merge else {"GIT_COMMITTER_EMAIL": officer.email}),
    }
    with world.acting(owner):
        world.git(
            "merge",
            "-q",
            "--no-ff",
            *world.sign_args(owner, sign_merge),
            *("-m", "Merge side", "-m", "Reason: bring in the edit"),
            "side",
            env={**(owner.signing_env() if sign_merge else {}), **stated},
        )
    return approved, edit, world.head()


@pytest.mark.parametrize("sign_merge", [True, False])
def test_a_merged_edit_is_named_by_a_signer_of_the_commit_named(
    team: Team, sign_merge: bool
) -> None:
    approved, edit, merge = side_edit_merged(team, sign_merge=sign_merge)
    repo = team.world.repo
    full = approvals(full_walk(repo))
    assert full and all(m is not None for m in full)
    names = {edit[:12]: team.author.name, merge[:12]: team.owner.name}
    for mark in full:
        assert mark is not None
        named = mark.split(" in ", 1)[1][:12]
        assert named in names, mark
        if named == merge[:12] and not sign_merge:
            assert "whose author is not proven" in mark, mark
        else:
            assert f" by {names[named]};" in mark, mark
        assert f"by {team.officer.name}" not in mark
    shutil.rmtree(repo / ".git" / "qms", ignore_errors=True)
    walk_history(repo, [approved])  # stored: carried on where the walk allows it
    assert approvals(walk_history(repo, ["HEAD"])) == full
    shutil.rmtree(repo / ".git" / "qms")
    ok = sign_merge  # an unsigned merge is reported by verify
    assert approval_marks(team, ok=ok) == full  # cold CLI
    assert approval_marks(team, ok=ok) == full  # warm
    assert log_verdicts(team)  # narrow and full agree (GITQMS_GATE=compare)


@pytest.mark.parametrize("sign_merge", [True, False])
def test_an_edit_made_in_a_merge_onto_the_branch_is_named_by_the_merges_signer(
    team: Team, sign_merge: bool
) -> None:
    """The approved line is merged into a branch edited before the approval, and the merge
    edits the SOP itself: the mark names the merge, by its signer or as not proven."""
    world, owner, officer = team.world, team.owner, team.officer
    approved = world.head()
    version = world.git("log", "-1", "--format=%H", "--", SOP)
    world.git("checkout", "-q", "-b", "side", version)
    team.on("2026-03-02")
    text = (world.repo / SOP).read_text().replace("logger first", "logger and seal first")
    world.commit_file(team.author, SOP, text, "seal the shipper")
    team.on("2026-03-03")
    stated = {"GIT_AUTHOR_NAME": officer.name, "GIT_AUTHOR_EMAIL": officer.email}
    if not sign_merge:
        stated |= {"GIT_COMMITTER_NAME": officer.name, "GIT_COMMITTER_EMAIL": officer.email}
    with world.acting(owner):
        world.git("merge", "-q", "--no-ff", "--no-commit", approved)
        (world.repo / SOP).write_text(text.replace("seal first", "seal and label first"))
        world.git("add", SOP)
        world.git(
            "commit",
            "-q",
            *world.sign_args(owner, sign_merge),
            *("-m", "Merge the approved line", "-m", "Reason: bring in the approval"),
            env={**(owner.signing_env() if sign_merge else {}), **stated},
        )
    merge = world.head()
    repo = world.repo
    full = approvals(full_walk(repo))
    expected = (
        f"in {merge[:12]} by {owner.name};"
        if sign_merge
        else f"in {merge[:12]}, whose author is not proven (the commit names {officer.name})"
    )
    assert full and all(m is not None and expected in m for m in full), full
    shutil.rmtree(repo / ".git" / "qms", ignore_errors=True)
    assert approval_marks(team, ok=sign_merge) == full  # cold CLI
    assert approval_marks(team, ok=sign_merge) == full  # warm
    assert log_verdicts(team)  # narrow and full agree (GITQMS_GATE=compare)
