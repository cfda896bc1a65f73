"""A registry change on the protected branch binds every signature merged after it: a branch
forked before a role was withdrawn or a key revoked cannot carry a signature made after that
change (back-dated or not) onto main. Revocation is judged against the server's receipt time
where one exists."""

from __future__ import annotations

import json
import re

import pytest

from gitqms.signatures.verify import Verdict, walk_history
from toolkit.team import Team, build_team, sop_written


@pytest.fixture(scope="module")
def built_team(tmp_path_factory: pytest.TempPathFactory) -> Team:
    """The team with SOP-0001 v1 written on 2026-02-01."""
    return build_team(tmp_path_factory, sop_written)


def review_on_a_branch(team: Team, main_change: object, day: str = "2026-02-05") -> str:
    """A branch forked now; `main_change()` made on main on 2026-02-10; the reviewer signs on
    the branch dated `day`; the branch merged into main on 2026-02-12. The review's commit."""
    world = team.world
    world.git("switch", "-q", "-c", "review")
    world.git("switch", "-q", "main")
    team.on("2026-02-10")
    main_change()  # type: ignore[operator]
    world.git("switch", "-q", "review")
    team.on(day)
    team.qms(team.officer, "review", "SOP-0001", "--reason", "content checked")
    signed = world.head()
    world.git("switch", "-q", "main")
    team.on("2026-02-12")
    with world.acting(team.admin):
        world.git("merge", "-q", "--no-ff", "--no-gpg-sign", "review", "-m", "Merge review")
    return signed


def verdict(team: Team, commit: str, *, index: bool = True) -> Verdict:
    world = team.world
    world.git("config", "qms.historyIndex", "true" if index else "false")
    found = [v for v in walk_history(world.repo).report.verdicts if v.commit == commit]
    assert len(found) == 1, found
    return found[0]


def same_warm_and_cold(team: Team, commit: str) -> Verdict:
    cold = verdict(team, commit, index=False)
    assert verdict(team, commit) == cold  # written to the index
    assert verdict(team, commit) == cold  # read back from it
    return cold


def withdraw_review_role(team: Team) -> None:
    text = (team.world.repo / "qms.yaml").read_text()
    withdrawn = re.sub(r"roles: \[qa-officer, sop-reviewer\]", "roles: [sop-author]", text)
    assert withdrawn != text
    team.sign_config(withdrawn)


def fingerprint(team: Team) -> str:
    out = team.qms(team.admin, "keys", "list", "--format", "json")
    return next(k["fingerprint"] for k in json.loads(out)["keys"] if k["person"] == "m.okafor")


def revoke_reviewer_key(team: Team) -> None:
    team.qms(
        team.admin, "keys", "revoke", "m.okafor", fingerprint(team),
        "--on", "2026-02-10", "--reason", "laptop stolen",
    )  # fmt: skip


def test_a_role_withdrawn_on_main_voids_a_branch_signature_merged_after(team: Team) -> None:
    signed = review_on_a_branch(team, lambda: withdraw_review_role(team))
    result = same_warm_and_cold(team, signed)
    assert not result.ok and "no longer holds a role" in result.problems[0], result


def test_a_key_revoked_on_main_voids_a_back_dated_branch_signature(team: Team) -> None:
    signed = review_on_a_branch(team, lambda: revoke_reviewer_key(team))
    result = same_warm_and_cold(team, signed)
    assert not result.ok and "revoked on 2026-02-10" in result.problems[0], result
    assert "no server receipt" in result.problems[0]


def test_a_signature_still_valid_at_the_merge_counts(team: Team) -> None:
    newcomer = team.world.person("r.dubois", "Raphael Dubois")
    signed = review_on_a_branch(
        team, lambda: team.world.add_person(team.admin, newcomer, "sop-reviewer")
    )
    assert same_warm_and_cold(team, signed).ok


def add_receipt(team: Team, commit: str, received: str) -> None:
    """The note the server's post-receive hook writes for a commit it received."""
    note = f"qms-receipt 1\nreceived: {received}\nref: refs/heads/review\n"
    team.world.git("notes", "--ref=qms-receipts", "add", "-m", note, commit)


def test_revocation_is_judged_against_the_receipt_time(team: Team) -> None:
    signed = review_on_a_branch(team, lambda: revoke_reviewer_key(team))
    assert not same_warm_and_cold(team, signed).ok
    add_receipt(team, signed, "2026-02-06T09:00:00Z")  # the server had it before the revocation
    assert same_warm_and_cold(team, signed).ok


def test_a_receipt_after_the_revocation_voids_a_signature_dated_before_it(team: Team) -> None:
    """On main itself: the signer's date says before the revocation, the server says after."""
    world = team.world
    team.on("2026-02-05")
    team.qms(team.officer, "review", "SOP-0001", "--reason", "content checked")
    signed = world.head()
    team.on("2026-02-10")
    revoke_reviewer_key(team)
    assert same_warm_and_cold(team, signed).ok
    add_receipt(team, signed, "2026-02-11T09:00:00Z")
    result = same_warm_and_cold(team, signed)
    assert not result.ok and "received by the server" in result.problems[0]
