"""`qms advance RECORD --to STATE --set FIELD=VALUE … --from FILE` (issue 22, item 1): the
fields a state needs are given on the command line, written in a commit of their own that the
person signs as their author (with the Reason trailer), then the signed state change; the
policy's computed fields (a deviation's investigation due day) are filled in; a refusal names
the --set options. Real signed history, real keys (tests/toolkit)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from toolkit.team import Team, build_team
from toolkit.world import refused

DEV = "DEV-2026-0001"
PATH = f"deviations/{DEV}.yaml"
CLASSIFICATION = json.dumps(
    {
        "level": "minor",
        "severity": 2,
        "occurrence": 2,
        "detectability": 1,
        "rationale": "No product affected; the logger was read within its window.",
    }
)


def reported(team: Team) -> None:
    """A deviation reported on 2026-02-02, its text still the template's."""
    team.on("2026-02-02")
    team.qms(team.author, "new", "deviation", "--title", "Logger read late at receipt")
    text = (team.world.repo / PATH).read_text()
    team.world.commit_file(team.author, PATH, text, "new deviation")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Team:
    return build_team(tmp_path_factory, reported)


@pytest.fixture
def team(built: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Team:
    return built.copy(tmp_path, monkeypatch)


def test_a_refusal_names_the_set_options_and_writes_nothing(team: Team) -> None:
    team.on("2026-02-03")
    out = refused(team.world, team.officer, "advance", DEV, "--to", "classified")
    assert f"qms advance {DEV} --to classified" in out, out
    assert "--set classification=…" in out, out


def test_fields_given_are_authored_then_the_move_is_signed(team: Team) -> None:
    team.on("2026-02-03")
    sets = {
        "description": "The shipper's logger was read 40 minutes after opening.",
        "immediate_actions": "Product quarantined until the logger file was reviewed.",
        "classification": CLASSIFICATION,
    }
    args = [f"--set={k}={v}" for k, v in sets.items()]
    out = team.qms(team.officer, "advance", DEV, "--to", "classified", *args)
    assert "reported -> classified" in out, out
    data = yaml.safe_load((team.world.repo / PATH).read_text())
    assert data["state"] == "classified"
    assert data["classification"]["level"] == "minor" and data["classification"]["severity"] == 2
    assert data["description"] == sets["description"]
    assert "investigation" not in data  # its due day is set when the investigation opens
    world = team.world
    fill = world.git("log", "-1", "--format=%B", "HEAD~1")
    assert "Reason: what 'classified' needs" in fill, fill
    assert "gpgsig" in world.git("cat-file", "-p", "HEAD~1")  # signed: its author is proven
    assert not world.git("status", "--porcelain")
    report = team.check("HEAD~2..HEAD")
    assert report["violations"] == [] or not [
        v for v in report["violations"] if v.get("severity", "error") == "error"
    ], report


def test_the_investigation_due_day_is_computed_from_the_policy(team: Team) -> None:
    test_fields_given_are_authored_then_the_move_is_signed(team)
    team.on("2026-02-04")
    team.qms(team.officer, "advance", DEV, "--to", "investigation")
    data = yaml.safe_load((team.world.repo / PATH).read_text())
    assert str(data["discovered_at"])[:10] == "2026-02-02"
    assert data["investigation"]["due"] == "2026-03-04"  # discovered + 30 days (the policy)
    assert data["state"] == "investigation"
    fill = team.world.git("log", "-1", "--format=%s", "HEAD~1")
    assert "investigation.due for 'investigation'" in fill, fill


def test_fields_from_a_file(team: Team, tmp_path: Path) -> None:
    team.on("2026-02-03")
    given = tmp_path / "fields.yaml"
    given.write_text(
        "description: The logger was read late.\n"
        "immediate_actions: Quarantined.\n"
        f"classification: {CLASSIFICATION}\n"
    )
    team.qms(team.officer, "advance", DEV, "--to", "classified", "--from", str(given))
    data = yaml.safe_load((team.world.repo / PATH).read_text())
    assert (data["state"], data["immediate_actions"]) == ("classified", "Quarantined.")


def test_a_malformed_set_is_a_usage_error(team: Team) -> None:
    out = refused(team.world, team.officer, "advance", DEV, "--to", "classified", "--set", "x")
    assert "FIELD=VALUE" in out, out
    out = refused(
        team.world, team.officer, "advance", DEV, "--to", "classified", "--set", "state=closed"
    )
    assert "--to STATE" in out, out


LONG = (
    "The logger of the shipper was read forty minutes after the shipper had been opened and "
    "the product moved to storage, because the receipt checklist asks for it only at the end."
)


def test_given_fields_are_written_as_the_records_write_theirs(team: Team) -> None:
    """A long text as a folded block (no line ends with a space), a short list in brackets;
    the commented-out line `qms new` wrote for a field given goes, the others stay, last."""
    team.on("2026-02-03")
    classification = json.loads(CLASSIFICATION) | {"rationale": LONG}
    team.qms(
        team.officer,
        *("advance", DEV, "--to", "classified"),
        *("--set", f"description={json.dumps(LONG)}", "--set", "immediate_actions=Quarantined."),
        *("--set", f"classification={json.dumps(classification)}"),
        *("--set", 'change_control=["CC-2026-014"]'),
    )
    text = (team.world.repo / PATH).read_text()
    assert "description: >-\n  The logger" in text, text
    assert "  rationale: >-\n    The logger" in text, text
    assert "change_control: [CC-2026-014]" in text, text
    assert not [line for line in text.splitlines() if line != line.rstrip()], text
    assert "\n# classification:" not in text and "\n# investigation:" in text, text
    later = text.index("# Fields for later")
    assert all(line.startswith("#") for line in text[later:].splitlines()), text
    data = yaml.safe_load(text)
    assert data["description"] == LONG and data["classification"]["rationale"] == LONG
    subject = team.world.git("log", "-1", "--format=%s", "HEAD~1")
    assert (
        subject
        == f"{PATH}: description, immediate_actions, classification, change_control for 'classified'"
    )


def diff_lines(team: Team) -> tuple[list[str], list[str]]:
    """The lines the last commit removed and added."""
    out = team.world.git("diff", "--unified=0", "HEAD^", "HEAD")
    lines = [line for line in out.splitlines() if not line.startswith(("---", "+++"))]
    return [x[1:] for x in lines if x[:1] == "-"], [x[1:] for x in lines if x[:1] == "+"]


def test_a_move_writes_its_fields_above_the_fields_for_later(team: Team) -> None:
    """The closing date a move writes goes above the block of fields for later, and nothing
    but the state fields changes (a move keeps every other line, comments included)."""
    team.on("2026-02-03")
    team.qms(
        team.officer,
        *("advance", DEV, "--to", "classified", "--set", "description=Read late."),
        *("--set", "immediate_actions=Quarantined.", "--set", f"classification={CLASSIFICATION}"),
    )
    team.on("2026-02-04")
    team.qms(team.officer, "advance", DEV, "--to", "investigation")
    text = (team.world.repo / PATH).read_text()
    investigation = {
        "method": "5-whys",
        "root_cause": "The checklist.",
        "product_impact": "None.",
        "patient_impact": "None.",
    }
    for key, value in investigation.items():
        text = text.replace("investigation:\n", f"investigation:\n  {key}: {value}\n", 1)
    text = text.replace("capa: []\n", "capa: []\ncapa_decision:\n  required: false\n")
    text = text.replace("capa_decision:\n  required: false\n", "capa_decision:\n  required: "
                        "false\n  rationale: A one-off.\n")  # fmt: skip
    team.world.commit_file(team.author, PATH, text, "investigation report")
    team.on("2026-02-05")
    team.qms(team.admin, "advance", DEV, "--to", "capa-decided")
    team.qms(team.admin, "advance", DEV, "--to", "closed")
    text = (team.world.repo / PATH).read_text()
    later = text.index("# Fields for later")
    assert '\nclosed: "2026-02-05"\n' in text[:later], text
    assert all(line.startswith("#") for line in text[later:].splitlines()), text
    removed, added = diff_lines(team)
    assert (removed, added) == (["state: capa-decided"], ["state: closed", 'closed: "2026-02-05"'])
