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


def test_a_new_deviation_spells_out_the_fields_inside_its_later_blocks(team: Team) -> None:
    """Nested fields, with what each takes, so `investigation.method` or a report's deadline
    is seen before any state asks for it; a list's item fields under '- '."""
    team.on("2026-02-02")
    team.qms(team.author, "new", "deviation", "--title", "Logger read late")
    text = (team.world.repo / "deviations/DEV-2026-0001.yaml").read_text()
    later = text.partition("# Fields for later")[2]
    block = later.partition("\n# investigation:")[2].partition("\n# external_reporting:")[0]
    assert "\n#   method:  # one of: 5-whys, fishbone" in block, block
    assert "\n#   extension:\n#     due:" in block and "approved_by:" in block, block
    reports = later.partition("\n# external_reporting:")[2].partition("\n# oos:")[0]
    assert "\n#   - to:  # one of: sponsor" in reports and "; required" in reports, reports
    assert "\n#     deadline:" in reports, reports
    assert "\n#   level:  # one of: minor, major, critical; required" in later, later
    # uncommenting a block gives YAML of the record's shape
    uncommented = "\n".join(line[2:] for line in block.splitlines() if line.startswith("#   "))
    shape = yaml.safe_load("investigation:\n" + uncommented)
    assert set(shape["investigation"]) >= {"due", "method", "root_cause", "extension"}, shape


def test_a_new_change_control_lists_each_later_field_once(team: Team) -> None:
    team.on("2026-02-02")
    team.qms(team.author, "new", "change-control", "--title", "Read the logger first")
    text = (team.world.repo / "changes/CC-2026-0001.yaml").read_text()
    for field in ("classification", "impact", "documents", "effectiveness", "implemented_on"):
        assert text.count(f"\n# {field}:") == 1, text
