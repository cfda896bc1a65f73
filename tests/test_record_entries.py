"""Nothing but a regular file is a record: attacks that put a gitlink, a symbolic link, a folder
or an executable file at an approved SOP's path, made with plain git by an insider with push
rights, and what `qms check`, the server hook, `qms status`, `qms verify`, `qms log` and the
site make of them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from test_server_hook import REFUSED, check_lines, connect
from toolkit.cli import qms_cli
from toolkit.server import GitServer, push
from toolkit.team import SOP, Team, build_team
from toolkit.world import World

DAY = "2026-03-10"  # v1 is effective from 2026-03-01


def released(team: Team) -> None:
    """SOP-0001 v1 written and released; the branch `released` points there."""
    team.on("2026-02-02")
    team.write_sop(1, "2026-03-01", "Described.")
    team.release_sop("2026-02-03", "2026-02-04")
    team.world.git("branch", "released")


@pytest.fixture(scope="module")
def built_team(tmp_path_factory: pytest.TempPathFactory) -> Team:
    return build_team(tmp_path_factory, released)


def commit(team: Team, reason: str | None = "tidy up") -> str:
    """What is staged, committed with plain git (no qms) and signed by the author, a registered
    person with push rights."""
    author = team.author
    message = ["-m", "Tidy up", *(["-m", f"Reason: {reason}"] if reason else [])]
    with team.world.acting(author):
        sign = f"--gpg-sign={author.signing_key}"
        team.world.git("commit", "-q", sign, *message, env=author.signing_env())
    return team.world.head()


def gitlink(team: Team) -> None:
    world = world_of(team)
    world.git("rm", "-q", "--cached", SOP)
    head = world.head()
    world.git("update-index", "--add", "--cacheinfo", f"160000,{head},{SOP}")
    (world.repo / SOP).unlink()


def symlink_to_config(team: Team) -> None:
    world = world_of(team)
    (world.repo / SOP).unlink()
    os.symlink("../qms.yaml", world.repo / SOP)
    world.git("add", SOP)


def symlink_holding_the_approved_bytes(team: Team) -> None:
    """A symbolic link whose target string is the approved text, byte for byte: the same blob,
    so a check of content hashes alone sees the approved SOP."""
    world = world_of(team)
    blob = world.git("rev-parse", f"HEAD:{SOP}")
    world.git("update-index", "--cacheinfo", f"120000,{blob},{SOP}")


def folder(team: Team) -> None:
    world = world_of(team)
    text = (world.repo / SOP).read_text()
    (world.repo / SOP).unlink()
    (world.repo / SOP).mkdir()
    (world.repo / SOP / "index.md").write_text(text)
    world.git("add", "-A", "sops")


def executable(team: Team) -> None:
    world_of(team).git("update-index", "--chmod=+x", SOP)


def world_of(team: Team) -> World:
    return team.world


ATTACKS: dict[str, tuple[Callable[[Team], None], str]] = {
    "gitlink": (gitlink, "a submodule (gitlink)"),
    "symlink": (symlink_to_config, "a symbolic link"),
    "symlink-same-blob": (symlink_holding_the_approved_bytes, "a symbolic link"),
    "folder": (folder, "a folder"),
    "executable": (executable, "an executable file"),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_record_path_holding_anything_but_a_regular_file_is_a_violation_and_stays_listed(
    team: Team, attack: str
) -> None:
    make, what = ATTACKS[attack]
    team.on("2026-03-05")
    make(team)
    replaced = commit(team)

    report = team.check("released..HEAD", ok=False)
    found = [v for v in report["violations"] if v["rule"] == "record.not-a-file"]
    assert [(v["commit"], v["record"], v["severity"]) for v in found] == [
        (replaced, "SOP-0001", "error")
    ], report
    assert f"{SOP} is {what}" in found[0]["message"]
    assert "regular file" in found[0]["fix"]

    # Status never drops the record: it says what its path holds instead.
    status = team.status(DAY)
    assert status["SOP-0001"]["state"] == "not a file", status
    assert f"{SOP} is {what}" in " ".join(status["SOP-0001"]["notes"])

    # The approval no longer covers the record, as after any change of its content.
    verified = json.loads(team.qms(team.admin, "verify", "--format", "json", ok=False))
    approvals = [s for s in verified["signatures"] if s["meaning"] == "approved"]
    assert [s["status"] for s in approvals] == ["superseded"], approvals

    # The audit trail shows what the commit did to the file.
    log = json.loads(team.qms(team.admin, "log", "SOP-0001", "--format", "json"))
    entry = next(e for e in log["entries"] if e["commit"] == replaced)
    assert what in entry["summary"], entry


def test_a_change_of_mode_alone_needs_a_reason(team: Team) -> None:
    executable(team)
    changed = commit(team, reason=None)
    report = team.check("released..HEAD", ok=False)
    rules = {(v["commit"], v["record"], v["rule"]) for v in report["violations"]}
    assert (changed, "SOP-0001", "record.reason") in rules, report


def test_setting_the_regular_file_back_repairs_the_record(team: Team) -> None:
    symlink_holding_the_approved_bytes(team)
    commit(team)
    world = world_of(team)
    blob = world.git("rev-parse", f"HEAD:{SOP}")
    world.git("update-index", "--cacheinfo", f"100644,{blob},{SOP}")
    repaired = commit(team, "restore the file")
    report = team.check(f"{repaired}~1..{repaired}")
    assert report["violations"] == [], report
    assert team.status(DAY)["SOP-0001"]["state"] == "effective"


@pytest.mark.parametrize("path", ["qms.yaml", "mkdocs.yml", "schemas/sop.schema.json"])
def test_controlled_configuration_is_a_regular_file_too(team: Team, path: str) -> None:
    world = world_of(team)
    blob = world.git("rev-parse", f"HEAD:{path}")
    world.git("update-index", "--cacheinfo", f"120000,{blob},{path}")
    replaced = commit(team)
    report = team.check("released..HEAD", ok=False)
    found = [v for v in report["violations"] if v["rule"] == "record.not-a-file"]
    assert [(v["commit"], v["record"]) for v in found] == [(replaced, path)], report


def test_the_server_refuses_a_push_that_replaces_an_approved_sop_by_a_gitlink(
    team: Team,
    server: GitServer,
) -> None:
    world = world_of(team)
    connect(world, server)
    assert push(world.repo, "origin", "main").ok
    accepted = server.tip()
    gitlink(team)
    commit(team)
    local = check_lines(world.repo, "origin/main..HEAD")
    assert any(line.endswith("[record.not-a-file]") for line in local), local
    pushed = push(world.repo, "origin", "main")
    assert pushed.status("refs/heads/main") == REFUSED
    assert any("record.not-a-file" in line for line in pushed.remote), pushed.remote
    assert server.tip() == accepted


def test_the_site_build_fails_naming_the_record_rather_than_dropping_it(
    team: Team, tmp_path: Path
) -> None:
    world = world_of(team)
    gitlink(team)
    commit(team)
    site = tmp_path / "site"
    result = qms_cli(world.repo, "build", "--date", DAY, "--site-dir", site, check=False)
    assert result.returncode != 0, result.stdout
    assert f"{SOP} is a submodule (gitlink), not a regular file" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not (site / "index.html").exists()


def test_validate_does_not_take_a_symbolic_link_in_the_work_tree_for_a_record(team: Team) -> None:
    """A link named as a record, pointing at an approved record's file, is no second record."""
    world = world_of(team)
    os.symlink("SOP-0001.md", world.repo / "sops" / "SOP-0002.md")
    out = team.qms(team.admin, "validate", "--format", "json", ok=False)
    findings = json.loads(out)["findings"]
    errors = [f for f in findings if f["severity"] == "error"]
    assert [(f["path"], f["code"]) for f in errors] == [("sops/SOP-0002.md", "file.unreadable")]
    assert "symbolic link, not a file" in errors[0]["message"]


def test_a_rename_that_only_changes_case_is_a_deletion(team: Team) -> None:
    """On a case-insensitive checkout `sops/Sop-0001.md` opens as the SOP; in git it is another
    path, which no record has: the SOP was deleted."""
    world = world_of(team)
    world.git("mv", SOP, "sops/Sop-0001.md")
    renamed = commit(team)
    report = team.check("released..HEAD", ok=False)
    rules = {(v["commit"], v["record"], v["rule"]) for v in report["violations"]}
    assert (renamed, "SOP-0001", "record.deleted") in rules, report
