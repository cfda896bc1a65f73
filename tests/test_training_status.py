"""The training matrix (issue 21, step 3) as its author checks it: acknowledgements count from
the approval, per version; the registry in force each day says who must train by when."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from test_acknowledge import released
from toolkit.team import Team, build_team


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Team:
    return build_team(tmp_path_factory, released)


@pytest.fixture
def team(built: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Team:
    return built.copy(tmp_path, monkeypatch)


def matrix(team: Team, day: str, *args: str, ok: bool = True) -> dict[str, Any]:
    out = team.qms(team.admin, "training", "--date", day, "--format", "json", *args, ok=ok)
    return dict(json.loads(out))


def test_an_acknowledgement_makes_a_person_trained_from_that_day(team: Team) -> None:
    [row] = matrix(team, "2026-02-10")["rows"]
    assert (row["person"], row["status"], row["due"]) == ("j.lindqvist", "due", "2026-02-20")
    team.on("2026-02-12")
    team.qms(team.owner, "acknowledge", "SOP-0001")
    [before] = matrix(team, "2026-02-11")["rows"]
    [after] = matrix(team, "2026-02-12")["rows"]
    assert before["status"] == "due" and after["status"] == "trained", (before, after)
    assert after["by"]["how"] == "acknowledged" and after["trained_on"] == "2026-02-12"


def test_an_untrained_person_is_overdue_after_the_effective_day(team: Team) -> None:
    found = matrix(team, "2026-02-21", ok=False)
    assert found["overdue"] == 1 and found["rows"][0]["status"] == "overdue"
    assert found["audiences"] == [
        {"name": "pharmacists", "required": 1, "trained": 0, "due": 0, "overdue": 1}
    ]
    due = json.loads(
        team.qms(team.admin, "due", "--date", "2026-02-21", "--format", "json", ok=False)
    )
    assert any(i["what"] == "training of j.lindqvist on v1" and i["overdue"] for i in due["items"])


def test_the_site_shows_the_training_page_and_the_count_on_the_document(
    team: Team, tmp_path: Path
) -> None:
    team.on("2026-02-12")
    team.qms(team.owner, "acknowledge", "SOP-0001")
    site = tmp_path / "site"
    team.qms(team.admin, "build", "--site-dir", str(site), "--date", "2026-02-21")
    page = (site / "sops" / "SOP-0001.html").read_text()
    assert "1 of 1 trained on version 1" in page
    training = (site / "training.html").read_text()
    assert "No one is overdue." in training
    assert "SOP-0001 v1" in training.split("Reading lists")[1].split("pharmacy-technicians")[0]
    dashboards = (site / "dashboards.html").read_text()
    assert "<h2>Training</h2><p>0 overdue;" in dashboards, dashboards
    assert ">pharmacists<" in dashboards and ">100%<" in dashboards


def test_a_reader_without_email_or_keys_is_in_the_matrix_and_cannot_be_given_a_key(
    team: Team,
) -> None:
    team.on("2026-02-05")
    out = team.qms(
        team.admin,
        *("people", "add", "t.kowalski", "--name", "Tomasz Kowalski"),
        *("--audience", "pharmacists", "--reason", "pharmacy technician, trained in sessions"),
    )
    assert "t.kowalski" in out
    rows = matrix(team, "2026-02-10", "--person", "t.kowalski")["rows"]
    # added after SOP-0001 v1 was approved: a new starter's 30 days from the day they were added
    assert [(r["document"], r["status"], r["due"]) for r in rows] == [
        ("SOP-0001", "due", "2026-03-07")
    ], rows
    head = team.world.git("rev-parse", "HEAD")
    out = team.qms(
        team.admin, "keys", "add", "t.kowalski", str(team.owner.pub), "--reason", "x", ok=False
    )
    assert "t.kowalski has no email" in out and "qms people set t.kowalski --email" in out, out
    assert team.world.git("rev-parse", "HEAD") == head
    team.qms(team.admin, "validate")


def acknowledged_on_a_branch_then_merged(team: Team, main_change: object) -> str:
    """Johan Lindqvist acknowledges SOP-0001 on a branch on 2026-02-10; `main_change()` on main
    on 2026-02-11; the branch merged on 2026-02-12. The acknowledgement's commit."""
    world = team.world
    world.git("switch", "-q", "-c", "training")
    team.on("2026-02-10")
    team.qms(team.owner, "acknowledge", "SOP-0001")
    signed = world.head()
    world.git("switch", "-q", "main")
    team.on("2026-02-11")
    main_change()  # type: ignore[operator]
    team.on("2026-02-12")
    with world.acting(team.admin):
        world.git("merge", "-q", "--no-ff", "--no-gpg-sign", "training", "-m", "Merge training")
    return signed


def test_an_audience_withdrawn_on_main_voids_an_acknowledgement_merged_after(team: Team) -> None:
    def withdraw() -> None:
        team.qms(
            team.admin,
            *("people", "set", "j.lindqvist", "--role", "sop-author", "--audience", "qa-staff"),
            *("--reason", "moved to the QA office"),
        )

    signed = acknowledged_on_a_branch_then_merged(team, withdraw)
    out = json.loads(team.qms(team.admin, "verify", "--format", "json", ok=False))
    [found] = [s for s in out["signatures"] if s["commit"] == signed]
    assert found["status"] == "invalid", found
    assert "no longer in an audience of this version" in " ".join(found["problems"]), found
    # and he is not trained: out of the audience from 2026-02-11, so no longer in the matrix
    assert matrix(team, "2026-02-10", "--person", "j.lindqvist")["rows"][0]["status"] == "due"


def test_an_acknowledgement_still_in_the_audience_at_the_merge_counts(team: Team) -> None:
    def unrelated() -> None:
        team.qms(
            team.admin, "people", "set", "m.okafor", "--title", "QA officer", "--reason", "title"
        )

    signed = acknowledged_on_a_branch_then_merged(team, unrelated)
    out = json.loads(team.qms(team.admin, "verify", "--format", "json"))
    [found] = [s for s in out["signatures"] if s["commit"] == signed]
    assert found["status"] == "valid", found
    [row] = matrix(team, "2026-02-12", "--person", "j.lindqvist")["rows"]
    assert (row["status"], row["trained_on"]) == ("trained", "2026-02-12"), row
