"""`qms inbox` (issue 22, item 4): what waits for one person, from committed history: the
signatures their roles may make, on main and on branches not merged yet; their due items; their
training. Real signed history, real keys (tests/toolkit)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from toolkit.people import Person
from toolkit.team import Team, build_team
from toolkit.world import SOP, refused


def drafted(team: Team) -> None:
    """SOP-0001 v1 for the pharmacists, a draft committed by its author Lucia Santos."""
    team.on("2026-01-20")
    text = team.sop_text(1, "2026-02-20", "Check the shipper's logger first.")
    text = re.sub(r"(?m)^  audience: .*$", "  audience: [pharmacists]", text)
    team.world.commit_file(team.author, SOP, text, "version 1")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Team:
    return build_team(tmp_path_factory, drafted)


@pytest.fixture
def team(built: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Team:
    return built.copy(tmp_path, monkeypatch)


def inbox(team: Team, person: Person | None, *args: str, exit_code: int = 0) -> dict[str, Any]:
    """`qms inbox --format json` as the admin for `person` (None: the admin's own, by email)."""
    named = ["--person", person.id] if person else []
    out = team.qms(team.admin, "inbox", *named, *args, "--format", "json", ok=False)
    found = json.loads(out[: out.rindex("}") + 1])
    assert "Traceback" not in out
    rerun = team.world.qms(team.admin, "inbox", *named, *args, ok=False)
    assert ("OVERDUE" in rerun) == (exit_code == 1), rerun
    assert (found["overdue"] > 0) == (exit_code == 1), found
    return dict(found)


def waiting(found: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (s["record"], s["branch"], s.get("target") or s["meaning"]) for s in found["signatures"]
    ]


def test_a_draft_waits_for_a_reviewer_then_for_the_approver(team: Team) -> None:
    assert waiting(inbox(team, team.officer)) == [("SOP-0001", "main", "reviewed")]
    assert waiting(inbox(team, team.author)) == []  # she wrote it and holds no reviewing role
    assert waiting(inbox(team, None)) == []  # the approver: not before the review
    team.on("2026-01-22")
    team.qms(team.officer, "review", "SOP-0001", "--reason", "content checked")
    mine = inbox(team, None)
    assert mine["person"] == "a.weber"
    assert waiting(mine) == [("SOP-0001", "main", "approved")]
    assert "in review" in mine["signatures"][0]["why"]
    assert waiting(inbox(team, team.officer)) == []
    text = team.world.qms(team.admin, "inbox")
    assert "Signatures waiting (1)" in text and "SOP-0001 [main]" in text, text


def test_an_author_of_the_version_is_not_asked_for_an_independent_signature(team: Team) -> None:
    assert waiting(inbox(team, team.owner)) == [("SOP-0001", "main", "reviewed")]  # pharmacist
    team.on("2026-01-21")
    text = (team.world.repo / SOP).read_text().replace("logger first", "logger first, always")
    team.world.commit_file(team.owner, SOP, text, "clearer")
    assert waiting(inbox(team, team.owner)) == []
    assert waiting(inbox(team, team.officer)) == [("SOP-0001", "main", "reviewed")]


def test_a_draft_on_a_branch_shows_with_its_branch_until_it_is_merged(team: Team) -> None:
    world = team.world
    world.git("switch", "-q", "-c", "cleaning")
    team.on("2026-01-25")
    out = team.qms(team.author, "new", "sop", "--title", "Cleaning of the isolator")
    path = re.search(r"sops/SOP-\d{4}\.md", out)
    assert path is not None, out
    text = re.sub(r"FILL IN[^\n]*", "Wipe twice.", (world.repo / path[0]).read_text())
    world.commit_file(team.author, path[0], text, "new SOP")
    world.git("switch", "-q", "main")
    assert waiting(inbox(team, team.officer)) == [
        ("SOP-0001", "main", "reviewed"),
        ("SOP-0002", "cleaning", "reviewed"),
    ]
    world.git("update-ref", "refs/remotes/origin/cleaning", "cleaning")  # as a fetch leaves it
    assert waiting(inbox(team, team.officer))[1] == (
        "SOP-0002",
        "cleaning, origin/cleaning",
        "reviewed",
    )
    world.git("merge", "-q", "--ff-only", "cleaning")
    assert waiting(inbox(team, team.officer)) == [
        ("SOP-0001", "main", "reviewed"),
        ("SOP-0002", "main", "reviewed"),
    ]


ACTIONS = """actions:
  - id: A1
    type: corrective
    description: "Add the logger read-out to the receipt checklist."
    owner: l.santos
    due: "2026-04-30"
    status: open
"""


def test_an_overdue_capa_action_is_in_its_owners_inbox_with_exit_1(team: Team) -> None:
    team.on("2026-02-02")
    out = team.qms(team.author, "new", "capa", "--title", "Logger read-out missing")
    path = re.search(r"capa/CAPA-\d{4}-\d{4}\.yaml", out)
    assert path is not None, out
    text = (team.world.repo / path[0]).read_text()
    text += ACTIONS
    text = re.sub(r"(?m)^due:.*$", 'due: "2026-09-30"', text)  # the closure: far off
    assert "owner: l.santos" in text, text
    team.world.commit_file(team.author, path[0], text, "action plan")
    record = Path(path[0]).stem
    soon = inbox(team, team.author, "--date", "2026-04-10")
    assert [(d["record"], d["what"], d["overdue"]) for d in soon["due"]] == [
        (record, "action A1", False)
    ]
    late = inbox(team, team.author, "--date", "2026-05-05", exit_code=1)
    assert [(d["record"], d["what"], d["overdue"]) for d in late["due"]] == [
        (record, "action A1", True)
    ]
    assert late["overdue"] == 1
    assert inbox(team, team.officer, "--date", "2026-05-05")["due"] == []
    # The CAPA waits for a QA officer to start its analysis.
    assert (record, "main", "root-cause") in waiting(inbox(team, team.officer))


def test_untrained_documents_are_under_training(team: Team) -> None:
    team.on("2026-02-02")
    team.qms(
        team.admin,
        *("people", "set", "j.lindqvist", "--audience", "pharmacists", "--reason", "pharmacy"),
    )
    team.release_sop("2026-02-03", "2026-02-04")
    found = inbox(team, team.owner, "--date", "2026-02-10")
    assert [(r["document"], r["version"], r["status"]) for r in found["training"]] == [
        ("SOP-0001", 1, "due")
    ]
    late = inbox(team, team.owner, "--date", "2026-02-25", exit_code=1)
    assert [r["status"] for r in late["training"]] == ["overdue"]
    team.on("2026-02-26")
    team.qms(team.owner, "acknowledge", "SOP-0001")
    assert inbox(team, team.owner, "--date", "2026-02-27")["training"] == []


def test_an_unknown_person_is_an_error_that_names_the_fix(team: Team) -> None:
    out = refused(team.world, team.admin, "inbox", "--person", "nobody")
    assert "nobody is not a person in qms.yaml" in out and "a.weber" in out, out
    assert "--person" in out
