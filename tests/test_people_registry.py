"""People come and go (issue 21, step 1): a person's roles, audiences and start day change, and
a leaver is recorded, each by one admin-signed commit with a Reason; from the day a person left
their keys count as revoked, while what they signed before stays. Real signed history, real keys
(tests/toolkit)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from toolkit.team import Team, build_team
from toolkit.world import refused


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Team:
    return build_team(tmp_path_factory)


@pytest.fixture
def team(built: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Team:
    return built.copy(tmp_path, monkeypatch)


def people(team: Team) -> dict[str, dict[str, Any]]:
    out = team.qms(team.admin, "people", "list", "--format", "json")
    return {row["id"]: row for row in json.loads(out)["people"]}


def last_commit(team: Team) -> dict[str, str]:
    world = team.world
    return {
        "files": world.git("show", "--name-only", "--format=", "HEAD").strip(),
        "message": world.git("log", "-1", "--format=%B"),
        "signature": world.git("log", "-1", "--format=%G?"),
    }


def test_set_changes_roles_and_audiences_by_one_signed_commit(team: Team) -> None:
    team.on("2026-02-02")
    out = team.qms(
        team.admin,
        *("people", "set", "l.santos", "--role", "sop-author", "--role", "sop-reviewer"),
        *("--audience", "pharmacy-technicians", "--joined", "2026-01-12"),
        *("--reason", "joins the review rota"),
    )
    assert "Change l.santos" in out
    commit = last_commit(team)
    assert commit["files"] == "qms.yaml"
    assert "Reason: joins the review rota" in commit["message"]
    assert "QMS-Meaning: changed" in commit["message"]
    row = people(team)["l.santos"]
    assert row["roles"] == ["sop-author", "sop-reviewer"]
    assert row["audiences"] == ["pharmacy-technicians"]
    assert row["joined"] == "2026-01-12"
    verify = json.loads(team.qms(team.admin, "verify", "--format", "json"))
    assert [s for s in verify["signatures"] if s["status"] != "valid"] == []


def test_roles_imply_audiences_where_qms_yaml_says_so(team: Team) -> None:
    team.on("2026-02-02")
    text = (team.world.repo / "qms.yaml").read_text()
    assert "  role_audiences: {}\n" in text  # the template's, empty
    text = text.replace(
        "  role_audiences: {}\n", "  role_audiences:\n    pharmacist: [pharmacists]\n"
    )
    team.sign_config(text)
    assert people(team)["j.lindqvist"]["audiences"] == ["pharmacists"]  # holds 'pharmacist'
    assert people(team)["m.okafor"]["audiences"] == []


def test_a_bad_change_is_refused_and_writes_nothing(team: Team) -> None:
    team.on("2026-02-02")
    out = refused(
        team.world, team.admin,
        *("people", "set", "l.santos", "--audience", "astronauts", "--reason", "x"),
    )  # fmt: skip
    assert "unknown audience(s): astronauts" in out
    out = refused(team.world, team.officer, "people", "set", "l.santos", "--name", "L. S.",
                  "--reason", "x")  # fmt: skip
    assert "ask an admin" in out
    out = refused(team.world, team.admin, "people", "set", "l.santos", "--reason", "x")
    assert "nothing to change" in out
    out = refused(team.world, team.admin, "people", "leave", "a.weber", "--on", "2026-03-01",
                  "--reason", "retires")  # fmt: skip
    assert "last admin" in out


def test_a_leaver_signs_nothing_from_the_day_they_left(team: Team) -> None:
    team.on("2026-02-02")
    team.write_sop(1, "2026-02-20", "Check the shipper's logger first.")
    team.on("2026-02-03")
    team.qms(team.officer, "review", "SOP-0001", "--reason", "content checked")
    team.on("2026-02-10")
    team.qms(
        team.admin,
        *("people", "leave", "m.okafor", "--on", "2026-02-10", "--reason", "moved hospital"),
    )
    assert people(team)["m.okafor"]["left"] == "2026-02-10"
    assert people(team)["m.okafor"]["usable_keys"] == 0
    team.on("2026-02-11")
    out = refused(team.world, team.officer, "review", "SOP-0001", "--reason", "again")
    assert "revoked" in out and "moved hospital" in out, out
    team.on("2026-02-12")
    team.qms(team.admin, "approve", "SOP-0001", "--reason", "released")
    # the review made before leaving still counts: the version is approved and takes effect
    assert team.status("2026-02-25", "SOP-0001")["SOP-0001"]["state"] == "effective"
    out = refused(team.world, team.admin, "people", "leave", "m.okafor", "--on", "2026-02-12",
                  "--reason", "again")  # fmt: skip
    assert "left already" in out
    out = refused(team.world, team.admin, "people", "set", "m.okafor", "--name", "M. O.",
                  "--reason", "x")  # fmt: skip
    assert "leaver's entry is history" in out


def test_qms_yaml_names_only_audiences_it_lists(team: Team) -> None:
    text = (team.world.repo / "qms.yaml").read_text()
    mine = "    roles: [sop-author]\n"
    assert mine in text
    text = text.replace(mine, f"{mine}    audiences: [astronauts]\n", 1)
    (team.world.repo / "qms.yaml").write_text(text)
    out = team.qms(team.admin, "validate", "qms.yaml", "--format", "json", ok=False)
    codes = [f["code"] for f in json.loads(out)["findings"]]
    assert "config.unknown-audience" in codes, out
