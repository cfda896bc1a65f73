"""`qms new` shows the whole record (issue 22, item 2): after the fields it fills in, every other
field of the kind's schema, commented out, with what it holds and which state needs it; the
record stays valid and the comments change none of its fields."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from toolkit.team import Team, build_team


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Team:
    return build_team(tmp_path_factory)


@pytest.fixture
def team(built: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Team:
    return built.copy(tmp_path, monkeypatch)


def test_a_new_capa_names_what_later_states_need(team: Team) -> None:
    team.on("2026-02-02")
    team.qms(team.author, "new", "capa", "--title", "Logger read late")
    text = (team.world.repo / "capa/CAPA-2026-0001.yaml").read_text()
    head, _, later = text.partition("# Fields for later")
    assert later, text
    for field in ("root_cause", "actions", "effectiveness", "closed"):
        assert f"\n# {field}:" in later, later
    assert "a CAPA needs its root cause" in later
    assert "# migration:" not in later  # written by qms import only
    data = yaml.safe_load(text)
    assert data == yaml.safe_load(head) and "root_cause" not in data
    out = team.qms(team.author, "validate", "capa/CAPA-2026-0001.yaml")
    assert "0 errors" in out, out


def test_a_new_document_lists_its_optional_fields_inside_its_front_matter(team: Team) -> None:
    team.on("2026-02-02")
    team.qms(team.author, "new", "sop", "--title", "Receipt of ATMPs")
    text = (team.world.repo / "sops/SOP-0001.md").read_text()
    front = text.split("\n---\n", 1)[0]
    assert "# Fields it may also hold" in front and "qms advance" not in front, front
