"""A document version is approved by the approval policy in force when its signatures were
made, not by today's: an admin who loosens `lifecycles.sop.approval` later does not approve
an old version that lacked a review, and a version signed after the change is judged by it.
Real signed history, real keys (tests/toolkit)."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.team import Team, build_team

TIGHT = "  sop:\n    approval: [reviewed, approved]   # all of these, on the same content, approve a version\n"
LOOSE = "  sop:\n    approval: [approved]\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Team:
    return build_team(tmp_path_factory)


@pytest.fixture
def team(built: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Team:
    return built.copy(tmp_path, monkeypatch)


def loosen(team: Team) -> str:
    text = (team.world.repo / "qms.yaml").read_text()
    assert TIGHT in text
    return team.sign_config(text.replace(TIGHT, LOOSE))


def test_loosening_the_approval_policy_approves_no_older_version(team: Team) -> None:
    team.on("2026-02-02")
    team.write_sop(1, "2026-02-20", "Check the shipper's logger first.")
    team.on("2026-02-03")
    team.qms(team.admin, "approve", "SOP-0001", "--reason", "released without review")
    before = team.status("2026-03-01", "SOP-0001")["SOP-0001"]
    assert before["state"] not in ("approved", "effective"), before
    team.on("2026-03-02")
    loosen(team)
    after = team.status("2026-03-10", "SOP-0001")["SOP-0001"]
    assert after["state"] not in ("approved", "effective"), after  # its approval lacked a review
    team.on("2026-03-11")
    team.write_sop(2, "2026-03-20", "Read the logger before opening the shipper.", supersedes=1)
    team.on("2026-03-12")
    team.qms(team.admin, "approve", "SOP-0001", "--reason", "released under the new policy")
    now = team.status("2026-04-15", "SOP-0001")["SOP-0001"]
    assert (now["state"], now["version"]) == ("effective", "2"), now  # judged by the new one


def test_tightening_the_policy_takes_no_approval_back(team: Team) -> None:
    team.on("2026-02-02")
    team.write_sop(1, "2026-02-20", "Check the shipper's logger first.")
    team.release_sop("2026-02-03", "2026-02-04")
    assert team.status("2026-03-01", "SOP-0001")["SOP-0001"]["state"] == "effective"
    team.on("2026-03-02")
    text = (team.world.repo / "qms.yaml").read_text()
    signatures = "\nsignatures:\n  separation_of_duties: true\n  sop:\n"
    assert signatures in text
    text = text.replace(signatures, f"{signatures}    quality-released: {{roles: [qa-manager]}}\n")
    text = text.replace(TIGHT, "  sop:\n    approval: [reviewed, approved, quality-released]\n")
    team.sign_config(text)
    assert team.status("2026-03-10", "SOP-0001")["SOP-0001"]["state"] == "effective"
