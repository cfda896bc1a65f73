"""`qms revise DOC` (issue 22, item 1): the next version of a document starts from the version
in force with its version raised, `supersedes`, the change reason and change control written,
the effective date left to set; then it is committed, reviewed and approved as every version.
Refusals write nothing. Real signed history, real keys (tests/toolkit)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from gitqms.records.document import parse_document
from test_acknowledge import released
from toolkit.cli import QMS
from toolkit.process import environment
from toolkit.team import Team, build_team
from toolkit.terminal import on_terminal
from toolkit.world import SOP, refused


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Team:
    return build_team(tmp_path_factory, released)


@pytest.fixture
def team(built: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Team:
    return built.copy(tmp_path, monkeypatch)


def fields(team: Team) -> dict[str, object]:
    text = (team.world.repo / SOP).read_text()
    return dict(parse_document(SOP, text, markdown=True).data)


def test_a_revision_starts_from_the_version_in_force(team: Team) -> None:
    before = (team.world.repo / SOP).read_text()
    team.on("2026-03-01")
    out = team.qms(
        team.author,
        *("revise", "SOP-0001", "--reason", "the logger is read before opening"),
        *("--change-control", "CC-2026-0007"),
    )
    assert "SOP-0001 v2, superseding v1" in out, out
    data = fields(team)
    assert (data["version"], data["supersedes"]) == (2, "SOP-0001 v1")
    assert data["change_reason"] == "the logger is read before opening"
    assert data["change_control"] == "CC-2026-0007"
    assert data["effective_date"] is None
    assert (
        before.split("\n---\n", 1)[1] == (team.world.repo / SOP).read_text().split("\n---\n", 1)[1]
    )  # the body as it was
    # uncommitted: a second revise is refused and changes nothing
    out = refused(
        team.world, team.author, "revise", "SOP-0001", "--reason", "again", "--change-control", "C"
    )
    assert "uncommitted changes" in out, out


def test_the_revision_is_committed_reviewed_and_approved(team: Team) -> None:
    team.on("2026-03-01")
    team.qms(
        team.author,
        "revise",
        "SOP-0001",
        "--reason",
        "clearer step",
        "--change-control",
        "CC-2025-040",
    )
    team.qms(team.author, "commit", "-m", "SOP-0001 v2", "--reason", "clearer logger step", SOP)
    out = refused(
        team.world, team.author, "revise", "SOP-0001", "--reason", "again", "--change-control", "C"
    )
    assert "v2 is already being written (draft)" in out, out
    team.release_sop("2026-03-02", "2026-03-03")
    status = team.status("2026-03-20", "SOP-0001")["SOP-0001"]
    assert status["state"] == "effective" and status["version"] == "2", status


def test_a_record_with_states_is_not_revised(team: Team) -> None:
    out = refused(
        team.world,
        team.author,
        "revise",
        "CAPA-2026-0001",
        "--reason",
        "x",
        "--change-control",
        "C",
    )
    assert "not the ID of a controlled document" in out, out


def test_at_a_desk_revise_asks_for_the_reason_and_the_change_control_then_opens_the_editor(
    team: Team, tmp_path: Path
) -> None:
    """On a terminal: the reason is asked, the open change controls are listed and one is
    chosen, and the new version opens in the editor git would run (issue 22, item 1)."""
    team.on("2026-03-01")
    script = tmp_path / "editor.py"  # a person typing a line at the top of the body
    script.write_text(
        "import pathlib, sys\n"
        "path = pathlib.Path(sys.argv[1])\n"
        "text = path.read_text()\n"
        f"pathlib.Path({str(tmp_path / 'seen.md')!r}).write_text(text)\n"
        "path.write_text(text.replace('\\n---\\n', '\\n---\\nRevised.\\n', 1))\n"
    )
    with team.world.acting(team.author):
        env = environment()
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"
    env |= {"GIT_EDITOR": command, "TERM": "xterm-256color"}
    screen = on_terminal(
        [QMS, "-C", team.world.repo, "revise", "SOP-0001"],
        cwd=team.world.repo,
        env=env,
        typed="the logger is read before opening\nCC-2026-0007\nCC-2025-040\n",
    )
    assert screen.code == 0, screen.text
    # no change control of the repository is CC-2026-0007: asked again; a paper number is taken
    assert "CC-2026-0007 is not an open change control" in screen.flat, screen.text
    assert "Reason for the change" in screen.text and "Change control" in screen.text, screen.text
    assert "version: 2" in (tmp_path / "seen.md").read_text()  # the editor got the new version
    data = fields(team)
    assert (data["version"], data["change_control"]) == (2, "CC-2025-040")
    assert data["change_reason"] == "the logger is read before opening"
    assert "\n---\nRevised.\n" in (team.world.repo / SOP).read_text()


def test_without_a_terminal_the_reason_is_required_and_nothing_is_written(team: Team) -> None:
    before = (team.world.repo / SOP).read_text()
    out = refused(team.world, team.author, "revise", "SOP-0001")
    assert "--reason is required" in out, out
    assert (team.world.repo / SOP).read_text() == before
