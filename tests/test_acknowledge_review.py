"""Adversarial review of read-and-understood (issue 21, step 2), written by a reviewer as
failing tests and kept: a retired document is not acknowledged, and no meaning that approves
or releases a version may be signed by an audience (so readers cannot release a version, and
no release signature leaves the site's signature block). Fixtures as tests/test_acknowledge.py."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from test_acknowledge import MEANING, released
from toolkit.team import Team, build_team
from toolkit.world import SOP, refused


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Team:
    return build_team(tmp_path_factory, released)


@pytest.fixture
def team(built: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Team:
    return built.copy(tmp_path, monkeypatch)


def signatures(team: Team, meaning: str = MEANING) -> list[dict[str, Any]]:
    out = team.qms(team.admin, "verify", "--format", "json", ok=False)
    return [s for s in json.loads(out)["signatures"] if s["meaning"] == meaning]


def approved_by_audience(team: Team) -> None:
    """An admin-signed qms.yaml in which a SOP's 'approved' is signed by its audience."""
    text = (team.world.repo / "qms.yaml").read_text()
    sop = text.index("\n  sop:\n")
    start = text.index("approved:", sop)
    end = text.index("\n", start)
    text = text[:start] + "approved: {audience: true}" + text[end:]
    team.sign_config(text)


def test_a_retired_document_is_not_acknowledged(team: Team) -> None:
    """`qms acknowledge` promises 'a version that counts as approved today'; a retired SOP is
    obsolete, yet its content is still among the document's versions."""
    team.on("2026-03-01")
    team.qms(team.admin, "sign", "SOP-0001", "--meaning", "retired", "--reason", "replaced")
    assert team.status("2026-03-02", "SOP-0001")["SOP-0001"]["state"] == "obsolete"
    team.on("2026-03-02")
    out = refused(team.world, team.owner, "acknowledge", "SOP-0001")
    assert "not an approved version" in out or "obsolete" in out or "retired" in out, out


def test_config_checks_refuse_an_audience_rule_on_a_release_meaning(team: Team) -> None:
    """`approved: {audience: true}` lets the author of a version choose, by its
    training.audience, who may release it; config checks say nothing."""
    team.on("2026-02-10")
    approved_by_audience(team)
    report = team.check("HEAD~1..HEAD", ok=False)
    assert not report["ok"], report
    found = [f"{v['rule']}: {v['message']}" for v in report["violations"]]
    assert any("signed by an audience" in text for text in found), report


def test_a_later_audience_rule_does_not_hide_the_release_signatures_from_the_site(
    team: Team,
) -> None:
    """The site filters signatures by the policy at the build, not the one they were made
    under: an admin turning 'approved' into an audience meaning later erases the approver
    from the signature block of a version approved by role."""
    team.on("2026-02-10")
    approved_by_audience(team)
    assert team.status("2026-02-21", "SOP-0001")["SOP-0001"]["state"] == "effective"
    site = team.world.base / "site"
    team.qms(team.admin, "build", "--site-dir", str(site), "--date", "2026-02-21")
    page = (site / "sops" / "SOP-0001.html").read_text()
    assert "Dr. Anna Weber" in page  # the approver, in the signature block


def test_an_audience_approval_does_not_release_a_version_by_a_mere_reader(team: Team) -> None:
    """With `approved: {audience: true}` (accepted by config checks), a pharmacist who holds no
    approving role releases v2, and whoever writes v2 chooses, by its training.audience, who
    may: the release decision moves from the signature policy into the signed document."""
    team.on("2026-02-10")
    approved_by_audience(team)
    team.on("2026-03-01")
    text = team.sop_text(2, "2026-04-01", "Read the logger before opening.", supersedes=1)
    text = re.sub(r"(?m)^  audience: .*$", "  audience: [pharmacists]", text)
    text = re.sub(r"(?ms)^(## Purpose\n\n).*?(\n## )", r"\g<1>Read the logger.\n\2", text)
    team.world.commit_file(team.author, SOP, text, "version 2")
    team.on("2026-03-03")
    world = team.world
    world.raw_commit(team.owner, world.trailers("SOP-0001", SOP, "approved", version="2"))
    [_, approval] = signatures(team, "approved")
    assert approval["status"] != "valid", approval
    record = team.status("2026-04-02", "SOP-0001")["SOP-0001"]
    assert [v["version"] for v in record["versions"]] == [1], record
