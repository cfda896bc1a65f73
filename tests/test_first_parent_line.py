"""A protected branch moves forward only along its own first-parent line, at the real hook.

The rules judge each commit by its first parent, and a branch signature by the registry of the
line it is merged into. A push whose new tip reaches the old tip only through a merge's second
parent (a merge made on another branch, or one whose first parent is an older commit of the
branch) would make the branch's line skip what happened on it since: a removed admin could take
the registry back, a signature made after a role withdrawal could count. Such pushes are
refused, even when git sees a fast-forward; ordinary fast-forwards and merges made on the
branch still go through.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from test_registry_binding import withdraw_review_role
from toolkit.process import environment, run
from toolkit.server import GitServer, Pushed, push
from toolkit.team import Team, build_team, sop_written
from toolkit.world import SOP

REFUSED = "! [remote rejected] (pre-receive hook declined)"


@pytest.fixture(scope="module")
def built_team(tmp_path_factory: pytest.TempPathFactory) -> Team:
    """The lifecycle team with SOP-0001 v1 written on 2026-02-01."""
    return build_team(tmp_path_factory, sop_written)


@pytest.fixture
def team(
    built_team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: GitServer
) -> Team:
    """The lifecycle team with SOP-0001 written, its main pushed to the server."""
    team = built_team.copy(tmp_path, monkeypatch)
    team.world.git("remote", "add", "origin", server.url)
    accepted(push(team.world.repo, "origin", "main"))
    return team


def accepted(pushed: Pushed) -> None:
    assert pushed.ok, pushed.stderr


def refused_off_the_line(pushed: Pushed, server: GitServer, before: str | None) -> None:
    assert pushed.status("refs/heads/main") == REFUSED, pushed.stderr
    assert any("along first parents" in line for line in pushed.remote), pushed.stderr
    assert server.tip() == before  # main did not move


def test_a_removed_admin_cannot_take_the_registry_back_with_a_stale_first_parent(
    team: Team, server: GitServer
) -> None:
    """A merge whose first parent is an old main commit and whose second parent is main is a
    fast-forward of main to git; judged by its first parent, the removed admin is still admin."""
    world, admin, colleague = team.world, team.admin, team.owner
    text = (world.repo / "qms.yaml").read_text()
    granted = text.replace(
        "roles: [pharmacist, sop-author]", "roles: [pharmacist, sop-author, admin]"
    )
    assert granted != text
    team.sign_config(granted, by=admin)
    accepted(push(world.repo, "origin", "main"))
    old = world.head()
    team.on("2026-02-10")
    removed = granted.replace("roles: [admin, qa-manager]", "roles: [qa-manager]")
    assert removed != granted
    team.sign_config(removed, by=colleague)  # the colleague removes the admin
    accepted(push(world.repo, "origin", "main"))
    before = server.tip()

    team.on("2026-02-11")
    world.git("switch", "-q", "-c", "evil", old)
    with world.acting(admin):
        run(
            ["git", "merge", "-q", "--no-commit", "--no-ff", "main"],
            cwd=world.repo, env=environment(), check=False,
        )  # fmt: skip
    taken_back = removed.replace("roles: [qa-manager]", "roles: [admin, qa-manager]").replace(
        "roles: [pharmacist, sop-author, admin]", "roles: [pharmacist, sop-author]"
    )
    merge = team.sign_config(taken_back, by=admin)
    assert world.git("rev-parse", f"{merge}^1").strip() == old
    assert world.git("merge-base", "--is-ancestor", before or "", merge) == ""  # git: ff
    refused_off_the_line(push(world.repo, "origin", "evil:main"), server, before)


def test_a_branch_that_merges_main_in_cannot_fast_forward_past_a_withdrawal(
    team: Team, server: GitServer
) -> None:
    """Forked before a role is withdrawn on main, signed after it, then main merged INTO the
    branch: main would fast-forward to the branch, its line never passing the withdrawal."""
    world = team.world
    world.git("switch", "-q", "-c", "review")
    world.git("switch", "-q", "main")
    team.on("2026-02-10")
    withdraw_review_role(team)
    accepted(push(world.repo, "origin", "main"))
    before = server.tip()
    world.git("switch", "-q", "review")
    team.on("2026-02-11")
    team.qms(team.officer, "review", "SOP-0001", "--reason", "content checked")
    team.on("2026-02-12")
    with world.acting(team.officer):
        world.git("merge", "-q", "--no-ff", "--no-gpg-sign", "main", "-m", "Merge main")
    refused_off_the_line(push(world.repo, "origin", "review:main"), server, before)


def test_a_fast_forward_on_main_and_a_merge_made_on_main_are_accepted(
    team: Team, server: GitServer
) -> None:
    world, author = team.world, team.author
    text = (world.repo / SOP).read_text()
    team.on("2026-02-03")
    world.commit_file(author, SOP, text.replace("Described.", "Clearer.", 1), "clarity")
    world.commit_file(author, SOP, text.replace("Described.", "Clearer still.", 1), "clarity")
    accepted(push(world.repo, "origin", "main"))  # commits on top of main: a fast-forward
    assert server.tip() == world.head()

    world.git("switch", "-q", "-c", "edit")
    team.on("2026-02-04")
    world.commit_file(author, SOP, text.replace("Described.", "Branch text.", 1), "branch")
    world.git("switch", "-q", "main")
    with world.acting(team.admin):
        world.git("merge", "-q", "--no-ff", "--no-gpg-sign", "edit", "-m", "Merge edit")
    accepted(push(world.repo, "origin", "main"))
    assert server.tip() == world.head()
