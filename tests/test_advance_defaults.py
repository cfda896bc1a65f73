"""The schema's defaults for a move (`x-default`, issue 22 item 1): closing a CAPA writes the
signer as the effectiveness checker and the day of the move as the day checked, when they are
not given; the editor's form shows them written in, so the person sees and may change them;
a value given wins. Real signed history and keys (tests/toolkit)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from test_lifecycle_capa import CAPA, RISK, ROOT_CAUSE, actions, edit, effectiveness, new_capa
from toolkit.cli import QMS
from toolkit.process import environment, run
from toolkit.team import Team, build_team
from toolkit.terminal import ScriptedEditor

RESULT = "All 41 shippers received since May had a logger read-out."


def in_effectiveness_check(team: Team) -> None:
    """A CAPA whose actions are done, its effectiveness check started on 2026-05-17."""
    path = new_capa(team, "2026-02-02")
    team.on("2026-02-03")
    edit(team, team.author, path, "risk assessed", risk=RISK)
    team.on("2026-02-04")
    team.qms(team.officer, "advance", CAPA, "--to", "root-cause")
    team.on("2026-02-05")
    plan = {"root_cause": ROOT_CAUSE, "actions": actions(), "effectiveness": effectiveness()}
    edit(team, team.author, path, "root cause and plan", **plan)
    team.on("2026-02-06")
    team.qms(team.officer, "advance", CAPA, "--to", "action-plan")
    team.on("2026-02-10")
    team.qms(team.admin, "advance", CAPA, "--to", "implementation")
    team.on("2026-05-16")
    edit(team, team.author, path, "actions finished", actions=actions("done", "cancelled"))
    team.on("2026-05-17")
    team.qms(team.officer, "advance", CAPA, "--to", "effectiveness-check")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Team:
    return build_team(tmp_path_factory, in_effectiveness_check)


@pytest.fixture
def team(built: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Team:
    return built.copy(tmp_path, monkeypatch)


def capa(team: Team) -> dict[str, object]:
    data = yaml.safe_load((team.world.repo / f"capa/{CAPA}.yaml").read_text())
    assert isinstance(data, dict)
    return data


def test_closing_writes_the_signer_as_checker_and_the_day_as_checked(team: Team) -> None:
    team.on("2026-08-04")
    out = team.qms(
        team.admin,
        "advance",
        CAPA,
        "--to",
        "closed",
        f"--set=effectiveness.result={RESULT}",
        "--set=effectiveness.verdict=effective",
    )
    assert "effectiveness.checked_by" in out and "effectiveness.checked_on" in out, out
    checked = capa(team)["effectiveness"]
    assert isinstance(checked, dict)
    assert (checked["checked_by"], checked["checked_on"]) == (team.admin.id, "2026-08-04")
    assert capa(team)["state"] == "closed"
    assert team.check("HEAD~2..HEAD")["violations"] == []


def test_a_checker_given_wins_over_the_default(team: Team) -> None:
    team.on("2026-08-04")
    team.qms(
        team.admin,
        "advance",
        CAPA,
        "--to",
        "closed",
        f"--set=effectiveness.result={RESULT}",
        "--set=effectiveness.verdict=effective",
        f"--set=effectiveness.checked_by={team.officer.id}",
        "--set=effectiveness.checked_on=2026-08-03",
    )
    checked = capa(team)["effectiveness"]
    assert isinstance(checked, dict)
    assert (checked["checked_by"], checked["checked_on"]) == (team.officer.id, "2026-08-03")


def test_the_form_shows_the_defaults_written_in(team: Team, tmp_path: Path) -> None:
    answer = (
        "effectiveness:\n"
        f"  result: {RESULT}\n"
        "  verdict: effective\n"
        f"  checked_on: '2026-08-04'\n"
        f"  checked_by: {team.admin.id}\n"
    )
    editor = ScriptedEditor(tmp_path / "editor", answer)
    team.on("2026-08-04")
    with team.world.acting(team.admin):
        env = environment()
    env["GIT_EDITOR"] = editor.command
    done = run(
        [QMS, "-C", team.world.repo, "advance", CAPA, "--to", "closed", "--edit"],
        cwd=team.world.repo,
        env=env,
        input="",
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    form = yaml.safe_load(editor.forms[0])
    assert form["effectiveness"]["checked_by"] == team.admin.id, editor.forms[0]
    assert form["effectiveness"]["checked_on"] == "2026-08-04", editor.forms[0]
    assert form["effectiveness"]["result"] is None and form["effectiveness"]["verdict"] is None
    assert "one of: effective, not-effective" in editor.forms[0]
    assert capa(team)["state"] == "closed"
