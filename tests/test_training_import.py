"""`qms import training ATTENDANCE.csv` (issue 21, step 4): an attendance list from a
learning-management system becomes draft training sessions on the exact content of the
version in force, one per day, trainer, method and document version; every row that cannot be
imported is named in the gap analysis with why, and nothing is signed for the trainer. Real
signed history and keys (tests/toolkit), the story of tests/test_training_sessions.py."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from test_training_sessions import story
from toolkit.team import Team, build_team

ATTENDANCE = """Course,Employee,Completed,Trainer,Method,Result
SOP-0001,Rita Novak,2026-02-10,l.santos,classroom,
SOP-0001,t.berg,2026-02-10,Lucia Santos,classroom,
SOP-0001,m.okafor,2026-02-10,l.santos,classroom,
SOP-0001,Nobody Known,2026-02-10,l.santos,classroom,
SOP-0001,t.berg,2026-02-11,j.lindqvist,classroom,
SOP-0009,t.berg,2026-02-11,l.santos,classroom,
SOP-0001,r.novak,2026-02-12,l.santos,assessed,
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Team:
    return build_team(tmp_path_factory, story)


@pytest.fixture
def team(built: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Team:
    return built.copy(tmp_path, monkeypatch)


def imported(team: Team, text: str, *args: str) -> dict[str, Any]:
    source = team.world.base / "lms-export.csv"
    source.write_text(text)
    out = team.qms(
        team.author, "import", "training", str(source), "--format", "json", *args, ok=False
    )
    return dict(json.loads(out))


def test_rows_become_one_draft_session_per_day_trainer_and_version(team: Team) -> None:
    team.on("2026-02-13")
    report = imported(team, ATTENDANCE)
    outcomes = {o["row"]: o for o in report["files"][0]["outcomes"]}
    assert [outcomes[r]["record"] for r in (2, 3)] == ["TRN-2026-0001", "TRN-2026-0001"]
    why = {row: " ".join(outcomes[row]["refused"]) for row in (4, 5, 6, 7, 8)}
    assert "m.okafor is in no audience of SOP-0001 v1" in why[4], why
    assert "'Nobody Known' is not a person" in why[5], why
    assert "j.lindqvist does not hold the role trainer" in why[6], why
    assert "not a version in force or about to be" in why[7] or "no version" in why[7], why
    assert "pass or fail" in why[8], why
    assert report["counts"] == {"read": 7, "imported": 2, "refused": 5}
    session = yaml.safe_load((team.world.repo / "training/TRN-2026-0001.yaml").read_text())
    content = "sha256:" + hashlib.sha256(team.world.content("sops/SOP-0001.md")).hexdigest()
    assert session["state"] == "draft" and session["trainer"] == "l.santos"
    assert session["attendees"] == [{"person": "r.novak"}, {"person": "t.berg"}]
    [document] = session["documents"]
    assert (document["record"], document["version"]) == ("SOP-0001", 1)
    assert document["content"] == content
    gap = (team.world.repo / report["report"]).read_text()
    assert "Nobody Known" in gap and "does not hold the role trainer" in gap


def test_the_trainer_records_an_imported_session_and_the_readers_are_trained(team: Team) -> None:
    team.on("2026-02-13")
    report = imported(team, ATTENDANCE, "--commit", "--reason", "February LMS export")
    assert report["commit"], report
    assert not team.world.git("status", "--porcelain")
    team.qms(team.author, "advance", "TRN-2026-0001", "--to", "recorded")
    out = team.qms(team.admin, "training", "--date", "2026-02-14", "--format", "json")
    rows = {r["person"]: r for r in json.loads(out)["rows"]}
    for reader in ("r.novak", "t.berg"):
        assert rows[reader]["status"] == "trained", rows[reader]
        assert rows[reader]["by"]["how"] == "session"
        assert rows[reader]["by"]["record"] == "TRN-2026-0001"
        assert rows[reader]["trained_on"] == "2026-02-13"  # the day it was recorded


def test_a_future_date_and_a_missing_column_are_refused_and_nothing_is_written(
    team: Team,
) -> None:
    team.on("2026-02-13")
    report = imported(
        team,
        "Course,Employee,Completed,Trainer,Method\nSOP-0001,r.novak,2026-03-01,l.santos,read\n",
    )
    [outcome] = report["files"][0]["outcomes"]
    assert "in the future" in " ".join(outcome["refused"])
    assert not list((team.world.repo / "training").glob("TRN-*"))
    source = team.world.base / "no-date.csv"
    source.write_text("Course,Employee\nSOP-0001,r.novak\n")
    out = team.qms(team.author, "import", "training", str(source), ok=False)
    assert "no column for day" in out and "Traceback" not in out, out
