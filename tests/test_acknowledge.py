"""Read-and-understood (issue 21, step 2): `qms acknowledge DOC` signs the exact content of an
approved version, by a person in one of its training audiences; the verifier judges the
audience from the signed content and the registry in force, so an acknowledgement made with
plain git by someone outside the audience does not count; acknowledgements stay out of the
version's signature block. Real signed history, real keys (tests/toolkit)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from toolkit.team import Team, build_team
from toolkit.world import SOP, refused

MEANING = "read-and-understood"


def released(team: Team) -> None:
    """SOP-0001 v1 for the pharmacists, effective 2026-02-20; Johan Lindqvist a pharmacist."""
    team.on("2026-02-02")
    team.qms(
        team.admin,
        *("people", "set", "j.lindqvist", "--audience", "pharmacists", "--reason", "pharmacy"),
    )
    text = team.sop_text(1, "2026-02-20", "Check the shipper's logger first.")
    text = re.sub(r"(?m)^  audience: .*$", "  audience: [pharmacists]", text)
    team.world.commit_file(team.author, SOP, text, "version 1")
    team.release_sop("2026-02-03", "2026-02-04")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Team:
    return build_team(tmp_path_factory, released)


@pytest.fixture
def team(built: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Team:
    return built.copy(tmp_path, monkeypatch)


def signatures(team: Team) -> list[dict[str, Any]]:
    out = team.qms(team.admin, "verify", "--format", "json", ok=False)
    return [s for s in json.loads(out)["signatures"] if s["meaning"] == MEANING]


def test_a_person_in_the_audience_acknowledges_an_approved_version(team: Team) -> None:
    assert "audience: [pharmacists]" in (team.world.repo / SOP).read_text()
    team.on("2026-02-10")
    out = team.qms(team.owner, "acknowledge", "SOP-0001")
    assert f"signed '{MEANING}' for SOP-0001" in out
    [signed] = signatures(team)
    assert (signed["status"], signed["role"]) == ("valid", "audience pharmacists"), signed
    out = refused(team.world, team.owner, "acknowledge", "SOP-0001")
    assert "already signed" in out


def test_someone_outside_the_audience_is_refused_and_their_plain_git_signature_counts_nothing(
    team: Team,
) -> None:
    team.on("2026-02-10")
    out = refused(team.world, team.officer, "acknowledge", "SOP-0001")
    assert "not in an audience of this version" in out, out
    world = team.world
    world.raw_commit(team.officer, world.trailers("SOP-0001", SOP, MEANING, version="1"))
    [forged] = signatures(team)
    assert forged["status"] == "invalid", forged
    assert "not in an audience" in " ".join(forged["problems"])


def test_a_draft_is_not_acknowledged(team: Team) -> None:
    team.on("2026-03-01")
    text = team.sop_text(2, "2026-04-01", "Read the logger before opening.", supersedes=1)
    text = re.sub(r"(?m)^  audience: .*$", "  audience: [pharmacists]", text)
    team.world.commit_file(team.author, SOP, text, "version 2")
    out = refused(team.world, team.owner, "acknowledge", "SOP-0001")
    assert "not a version in force or about to be" in out, out
    assert "v1 is effective, but the file here holds v2 (draft)" in out, out


def test_acknowledgements_stay_out_of_the_signature_block(team: Team) -> None:
    team.on("2026-02-10")
    team.qms(team.owner, "acknowledge", "SOP-0001")
    site = team.world.base / "site"
    team.qms(team.admin, "build", "--site-dir", str(site), "--date", "2026-02-21")
    page = (site / "sops" / "SOP-0001.html").read_text()
    assert "Dr. Anna Weber" in page  # the approver, in the signature block
    assert MEANING not in page and "Dr. Johan Lindqvist" not in page
