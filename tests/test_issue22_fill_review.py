"""Review of issue 22's `qms fill`, `qms commit`'s pre-check, the branch inbox and the ledger's
merge rule (an approval merged whole from its branch covers the authors before it): what they
let through. Real signed history, real keys (tests/toolkit)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from toolkit.team import Team, build_team
from toolkit.world import refused

DEV = "DEV-2026-0001"
CAPA = "CAPA-2026-0001"
CAPA_PATH = f"capa/{CAPA}.yaml"
RISK = {"severity": 3, "occurrence": 2, "detectability": 2, "rationale": "A warm shipper."}
PLAN = {
    "root_cause": {"method": "5-whys", "category": "process", "description": "No read-out step."},
    "actions": [
        {
            "id": "A1",
            "type": "corrective",
            "description": "Add the logger read-out to the checklist.",
            "owner": "l.santos",
            "due": "2026-04-30",
            "status": "open",
        }
    ],
    "effectiveness": {"criteria": "No shipper released unread for 3 months.", "due": "2026-07-31"},
}


def planned(team: Team, tmp_path: Path) -> None:
    """A CAPA whose plan the QA officer gave (so authored), waiting for the QA manager's
    approval."""
    world = team.world
    team.on("2026-02-02")
    team.qms(team.author, "new", "deviation", "--title", "Logger read late at receipt")
    path = f"deviations/{DEV}.yaml"
    world.commit_file(team.author, path, (world.repo / path).read_text(), "new deviation")
    team.on("2026-02-10")
    team.qms(team.author, "new", "capa", "--title", "Logger read late", "--ref", DEV)
    text = (world.repo / CAPA_PATH).read_text().replace("FILL IN: the problem", "The problem")
    world.commit_file(team.author, CAPA_PATH, text, "new CAPA")
    team.on("2026-02-11")
    team.qms(
        team.officer, "advance", CAPA, "--to", "root-cause", "--set", f"risk={json.dumps(RISK)}"
    )
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump(PLAN))
    team.on("2026-02-12")
    team.qms(team.officer, "advance", CAPA, "--to", "action-plan", "--from", str(plan))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Team:
    return build_team(tmp_path_factory, lambda team: planned(team, tmp_path_factory.mktemp("p")))


@pytest.fixture
def team(built: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Team:
    return built.copy(tmp_path, monkeypatch)


def _implemented(team: Team) -> None:
    world = team.world
    team.on("2026-04-20")
    text = (world.repo / CAPA_PATH).read_text()
    done = 'status: done\n    completed: "2026-04-20"\n    evidence: "Checklist v3."\n'
    world.commit_file(team.author, CAPA_PATH, text.replace("status: open\n", done), "A1 done")
    team.on("2026-04-21")


def test_an_approval_void_where_it_is_merged_covers_no_author(team: Team) -> None:
    """The QA manager approves the officer's plan on a branch; on main, before the merge, the
    manager's role is withdrawn, so the approval does not count where it is merged. The officer
    wrote the plan, and no valid approval covers it: the officer cannot then sign the
    independent review of it (as before the ledger took a merged branch's authors whole)."""
    world = team.world
    main = world.git("branch", "--show-current").strip()
    world.git("switch", "-q", "-c", "approve")
    team.on("2026-02-13")
    team.qms(team.admin, "advance", CAPA, "--to", "implementation")
    world.git("switch", "-q", main)
    team.on("2026-02-14")
    team.qms(team.admin, "people", "set", team.admin.id, "--role", "admin", "--reason", "moved on")
    team.on("2026-02-15")
    with world.acting(team.admin):
        world.git("merge", "-q", "--no-ff", "--no-gpg-sign", "-m", "Merge approve", "approve")
    report = json.loads(team.qms(team.admin, "verify", "--format", "json", ok=False))
    approvals = [s for s in report["signatures"] if s.get("meaning") == "approved"]
    assert approvals and all(s["status"] != "valid" for s in approvals), approvals
    _implemented(team)
    team.qms(team.officer, "advance", CAPA, "--to", "effectiveness-check", ok=False)
    report = json.loads(team.qms(team.admin, "verify", "--format", "json", ok=False))
    reviews = [
        s
        for s in report["signatures"]
        if s.get("meaning") == "reviewed" and s.get("status") == "valid"
    ]
    assert not reviews, reviews


def test_a_merge_taking_an_old_commits_version_keeps_its_authors(team: Team) -> None:
    """The officer changes the implemented CAPA (so authors it), then changes it again; the
    history index keeps the authors at its tip only. A merge of the tip with the officer's
    first change, taking that change's version whole, must keep the officer as its author
    (a full walk does): else the officer signs the independent review of what they wrote."""
    world = team.world
    team.on("2026-02-13")
    team.qms(team.admin, "advance", CAPA, "--to", "implementation")
    _implemented(team)
    text = (world.repo / CAPA_PATH).read_text()
    mine = world.commit_file(
        team.officer, CAPA_PATH, text.replace("Checklist v3.", "Checklist v3, page 2."), "e1"
    )
    text = (world.repo / CAPA_PATH).read_text()
    world.commit_file(team.officer, CAPA_PATH, text.replace("page 2", "page 3"), "e2")
    team.qms(team.admin, "verify", "--format", "json")  # the history index, at this tip
    tree = world.git("rev-parse", "HEAD^{tree}").strip()
    with world.acting(team.officer):
        world.git("read-tree", tree)
        blob = world.git("rev-parse", f"{mine}:{CAPA_PATH}").strip()
        world.git("update-index", "--cacheinfo", f"100644,{blob},{CAPA_PATH}")
        merged_tree = world.git("write-tree").strip()
        merge = world.git(
            "commit-tree", merged_tree, "-p", "HEAD", "-p", mine, "-m", "Merge e1"
        ).strip()
        world.git("reset", "-q", "--hard", merge)
    team.on("2026-04-22")
    out = refused(world, team.officer, "advance", CAPA, "--to", "effectiveness-check")
    assert "m.okafor changed this version" in out, out


def _items(team: Team, who: str, record: str) -> list[dict[str, object]]:
    out = team.qms(team.admin, "inbox", "--person", who, "--format", "json", ok=False)
    data = json.loads(out)
    return [i for i in data["signatures"] if i["record"] == record]


def test_a_branch_that_only_signed_a_record_still_lists_what_waits_there(team: Team) -> None:
    """A draft SOP reviewed on a pull-request branch (a signature commit, which changes no
    file): on that branch it waits for the QA manager's approval, and `qms inbox` lists it,
    though the branch changed no record file."""
    world = team.world
    team.on("2026-02-20")
    team.write_sop(1, "2026-03-01", "Receive the shipper and read its logger at once.")
    main = world.git("branch", "--show-current").strip()
    before = _items(team, team.admin.id, "SOP-0001")
    world.git("switch", "-q", "-c", "review")
    team.qms(team.officer, "review", "SOP-0001", "--reason", "content checked")
    world.git("switch", "-q", main)
    on_branch = [i for i in _items(team, team.admin.id, "SOP-0001") if i["branch"] == "review"]
    assert on_branch or [i for i in before if i["meaning"] == "approved"], before
