"""Review of the index kept aside (walk_index._Keeper): on a history whose marks read what the
walk did not (a key revoked on main after a branch signed, so bind_to_line and
recheck_revocations judge it; the server's receipts, read only by the marks; a merge), the file
a forked child writes decodes equal to the one kept in-process, walked whole and carried on
from a stored ancestor. The aside walk runs in a small process of its own inside
`aside.allowing()`, which says whether it forked (a test that did not fork proves nothing).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from gitqms.history import index_store
from gitqms.signatures.verify import walk_history
from test_index_aside import copy_of, kept
from test_registry_binding import review_on_a_branch, revoke_reviewer_key
from toolkit.process import run
from toolkit.team import Team, build_team, sop_written

ASIDE = r"""
import sys
from pathlib import Path
from gitqms import aside
from gitqms.signatures.verify import walk_history

with aside.allowing():
    walk = walk_history(Path(sys.argv[1]), sys.argv[2:])
    forked = bool(aside._started[-1])
print("forked" if forked else "not forked", len(walk.report.verdicts))
"""


@pytest.fixture(scope="module")
def built_team(tmp_path_factory: pytest.TempPathFactory) -> Team:
    return build_team(tmp_path_factory, sop_written)


@pytest.fixture(autouse=True)
def own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    index_store._secret.cache_clear()


def aside_walk(repo: Path, revision: str = "HEAD") -> None:
    done = run([sys.executable, "-c", ASIDE, repo, revision], env=dict(os.environ), timeout=300)
    assert done.stdout.startswith("forked"), done.stdout


def revoked_after_a_branch_signed(team: Team) -> list[str]:
    """A review signed on a branch, the reviewer's key revoked on main meanwhile, the branch
    merged, a receipt of the review after the revocation, then one more change on main."""
    world = team.world
    signed = review_on_a_branch(team, lambda: revoke_reviewer_key(team))
    merged = world.head()
    note = "qms-receipt 1\nreceived: 2026-02-11T09:00:00Z\nref: refs/heads/review\n"
    world.git("notes", "--ref=qms-receipts", "add", "-m", note, signed)
    team.on("2026-02-20")
    team.write_sop(1, "2026-05-01", "Described.")  # the record changes after the review
    return [merged, world.head()]


def test_marks_reading_receipts_and_revocations_are_kept_aside_as_in_process(
    team: Team, tmp_path: Path
) -> None:
    revoked_after_a_branch_signed(team)
    here = copy_of(team.world.repo, tmp_path / "here")
    beside = copy_of(team.world.repo, tmp_path / "beside")
    walk = walk_history(here)
    problems = [p for v in walk.report.verdicts for p in v.problems]
    assert any("revoked" in p for p in problems), problems  # the marks did judge it
    aside_walk(beside)
    assert kept(beside) == kept(here)
    assert marshaled_receipts_read(kept(here))


def test_a_walk_carried_on_past_a_revocation_is_kept_aside_as_in_process(
    team: Team, tmp_path: Path
) -> None:
    merged, _tip = revoked_after_a_branch_signed(team)
    here = copy_of(team.world.repo, tmp_path / "here")
    beside = copy_of(team.world.repo, tmp_path / "beside")
    for repo in (here, beside):
        walk_history(repo, [merged])  # the stored ancestor, in-process in both
    walk_history(here)
    aside_walk(beside)
    assert kept(beside) == kept(here)
    assert len(kept(here)) == 2


def marshaled_receipts_read(found: dict[str, dict[str, object]]) -> bool:
    return any(
        isinstance(k["receipts"], (list, tuple)) and k["receipts"][0] for k in found.values()
    )
