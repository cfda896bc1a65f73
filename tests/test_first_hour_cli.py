"""The defects a new user meets in the first hour (issue 17): what `qms status` shows, the reason
of a registry change, the messages for common mistakes, what the new pipelines install."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from gitqms.actions.ci_files import source_spec
from gitqms.cli.common import DAY
from toolkit.cli import qms
from toolkit.process import git
from toolkit.team import Team
from toolkit.world import World, refused

# -- 1. `qms status` shows the next version its JSON carries ---------------------------------


def columns(out: str, record: str) -> list[str]:
    """The cells of `record`'s block in `qms status` text (its row, wrapped lines and the rows
    under it), joined per column."""
    lines = [line for line in out.splitlines() if line.startswith("│")]
    cells = [[cell.strip() for cell in line.strip("│").split("│")] for line in lines]
    first = next(i for i, row in enumerate(cells) if row[0] == record)
    block = [cells[first]]
    for row in cells[first + 1 :]:
        if row[0]:
            break
        block.append(row)
    return [" ".join(filter(None, column)) for column in zip(*block, strict=True)]


def test_status_shows_the_next_version_under_the_one_in_force(team: Team) -> None:
    team.write_sop(1, "2026-02-01", "Receive every shipper at the pharmacy.")
    team.release_sop("2026-01-12", "2026-01-15")
    team.on("2026-01-20")
    team.write_sop(2, "2026-04-01", "Read the logger before opening the shipper.", supersedes=1)
    team.on("2026-01-22")
    team.qms(team.officer, "review", "SOP-0001", "--reason", "content checked")
    for day, state in (("2026-01-25", "approved"), ("2026-03-06", "effective")):
        status = team.status(day, "SOP-0001")["SOP-0001"]
        assert (status["state"], status["working"]["status"]) == (state, "in review")
        out = team.qms(team.admin, "status", "SOP-0001", "--date", day)
        block = columns(out, "SOP-0001")
        assert block[1:3] == [f"{state} next: in review", "1 2"], out
        assert block[6].endswith("reviewed by Michael Okafor"), out


def test_status_shows_no_next_version_for_a_first_draft(team: Team) -> None:
    team.write_sop(1, "2026-02-01", "Receive every shipper at the pharmacy.")
    out = team.qms(team.admin, "status", "SOP-0001", "--date", "2026-01-10")
    assert columns(out, "SOP-0001")[1:3] == ["draft", "1"], out


# -- 2. a registry change carries a Reason ---------------------------------------------------


def test_a_registry_change_needs_a_reason_and_records_it(world: World) -> None:
    admin = world.people["a.weber"]
    newcomer = world.person("p.rossi", "Paola Rossi")
    person = ("people", "add", newcomer.id, "--name", newcomer.name, "--email", newcomer.email)
    out = refused(world, admin, *person, "--role", "qa-officer")
    assert "Missing option '--reason'" in out
    out = refused(world, admin, "keys", "add", "m.okafor", str(newcomer.pub))
    assert "Missing option '--reason'" in out
    world.qms(admin, *person, "--role", "qa-officer", "--reason", "joins QA in March")
    assert "Reason: joins QA in March" in world.git("log", "-1", "--format=%B")
    world.qms(admin, "keys", "add", newcomer.id, str(newcomer.pub), "--reason", "her laptop key")
    assert "Reason: her laptop key" in world.git("log", "-1", "--format=%B")
    trail = json.loads(world.qms(admin, "log", "qms.yaml", "--format", "json"))["entries"]
    assert [e["reason"] for e in trail[-2:]] == ["joins QA in March", "her laptop key"]


def test_check_wants_a_reason_on_a_registry_change_made_by_hand(world: World) -> None:
    admin = world.people["a.weber"]
    config = world.repo / "qms.yaml"
    config.write_text(config.read_text() + "# reviewed\n")
    with world.acting(admin):
        world.git("commit", "-q", "--no-gpg-sign", "-am", "Edit qms.yaml without a reason")
    report = json.loads(world.qms(admin, "check", "HEAD~1..HEAD", "--format", "json", ok=False))
    assert [v["record"] for v in report["violations"] if v["rule"] == "record.reason"] == [
        "qms.yaml"
    ]
    world.git("reset", "-q", "--hard", "HEAD~1")
    world.commit_file(admin, "qms.yaml", config.read_text() + "# reviewed\n", "annual check")
    report = json.loads(world.qms(admin, "check", "HEAD~1..HEAD", "--format", "json", ok=False))
    assert [v for v in report["violations"] if v["rule"] == "record.reason"] == []


# -- 3. messages -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [("status",), ("check", "HEAD"), ("log", "SOP-0001"), ("sign", "SOP-0001", "--meaning", "x")],
)
def test_a_qms_folder_without_git_says_so(example: Path, args: tuple[str, ...]) -> None:
    result = qms(*args, repo=example)
    assert result.exit_code == 2, result.output + result.stderr
    assert result.stderr.startswith(
        f"error: {example.resolve()} holds qms.yaml but is not a git repository"
    ), result.stderr
    assert "git init" in result.stderr and "qms init" in result.stderr
    assert qms("validate", repo=example).exit_code == 0  # files alone can still be checked


def test_validate_names_a_file_that_does_not_exist(example: Path) -> None:
    result = qms("validate", "sops/SOP-9999.md", repo=example)
    assert result.exit_code == 2
    assert "sops/SOP-9999.md does not exist" in result.stderr, result.stderr


def test_the_missing_reason_hint_does_not_open_an_editor(world: World) -> None:
    author = world.people["l.santos"]
    sop = world.repo / "sops/SOP-0001.md"
    sop.write_text(sop.read_text().replace("Described.", "Described again.", 1))
    with world.acting(author):
        world.git("commit", "-q", "--no-gpg-sign", "-am", "Edit without a reason")
    report = json.loads(world.qms(author, "check", "HEAD~1..HEAD", "--format", "json", ok=False))
    fixes = [v["fix"] for v in report["violations"] if v["rule"] == "record.reason"]
    assert fixes and "git commit --amend --no-edit --trailer 'Reason: " in fixes[0]


def test_the_date_type_returns_a_day_and_names_a_bad_one() -> None:
    assert DAY.convert("2026-11-23", None, None) == date(2026, 11, 23)
    assert DAY.convert(date(2026, 1, 2), None, None) == date(2026, 1, 2)
    with pytest.raises(click.BadParameter, match=r"'2026-13-01' is not a valid date \(YYYY-MM"):
        DAY.convert("2026-13-01", None, None)


@pytest.mark.parametrize(
    "args",
    [
        ("status", "--date", "2026-13-01"),
        ("due", "--date", "2026-13-01"),
        ("keys", "add", "m.okafor", "k.pub", "--valid-from", "2026-13-01", "--reason", "r"),
        ("keys", "add", "m.okafor", "k.pub", "--valid-until", "2026-13-01", "--reason", "r"),
        ("keys", "revoke", "m.okafor", "SHA256:x", "--on", "2026-13-01", "--reason", "r"),
        ("audit-trail", "--since", "2026-13-01"),
        ("audit-trail", "--until", "2026-13-01"),
        ("archive", "out", "--date", "2026-13-01"),
    ],
)
def test_every_date_option_says_what_a_date_looks_like(tmp_path: Path, args: tuple[str]) -> None:
    result = qms(*args, repo=tmp_path)
    assert result.exit_code == 2
    assert "'2026-13-01' is not a valid date (YYYY-MM-DD)" in result.stderr, result.stderr


def test_a_registry_date_option_still_takes_a_day(world: World) -> None:
    admin = world.people["a.weber"]
    spare = world.person("spare", "Spare Key")
    world.qms(
        admin,
        *("keys", "add", "m.okafor", str(spare.pub), "--valid-from", "2026-01-01"),
        *("--valid-until", "2030-12-31", "--reason", "a second key"),
    )
    keys = json.loads(world.qms(admin, "keys", "list", "--format", "json"))["keys"]
    assert {(k["valid_from"], k["valid_until"]) for k in keys} >= {("2026-01-01", "2030-12-31")}


# -- 4. the pipelines install the validated gitqms that qms.yaml names -----------------------


def install_lines(repo: Path) -> set[str]:
    workflow = yaml.safe_load((repo / ".github/workflows/qms.yml").read_text())
    lines = {
        step["run"]
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if "pip install" in step.get("run", "")
    }
    pipeline = yaml.safe_load((repo / ".gitlab-ci.yml").read_text())
    return lines | {line for line in pipeline["default"]["before_script"] if "pip" in line}


def tooling(repo: Path) -> Any:
    return yaml.safe_load((repo / "qms.yaml").read_text())["tooling"]["gitqms"]


def test_init_records_the_given_source_and_the_pipelines_install_it(tmp_path: Path) -> None:
    spec = "gitqms @ https://files.st-aurelia.example/validated/gitqms-0.1.0-py3-none-any.whl"
    target = tmp_path / "qms"
    result = qms(
        "init", target, "--name", "A W", "--email", "a.weber@x.example", "--gitqms-source", spec
    )
    assert result.exit_code == 0, result.output + result.stderr
    assert tooling(target) == spec
    assert install_lines(target) == {f'python -m pip install "{spec}"'}
    result = qms("validate", "--format", "json", repo=target)
    assert result.exit_code == 0
    assert "config.tooling-drift" not in result.stdout
    # A pipeline edited to install something else is named (qms.yaml is the controlled part).
    workflow = target / ".github/workflows/qms.yml"
    workflow.write_text(workflow.read_text().replace(f'"{spec}"', '"gitqms==9.9"'))
    drift = [
        f
        for f in json.loads(qms("validate", "--format", "json", repo=target).stdout)["findings"]
        if f["code"] == "config.tooling-drift"
    ]
    assert [(f["path"], f["severity"]) for f in drift] == [(".github/workflows/qms.yml", "warning")]


def test_init_refuses_a_source_the_pipelines_could_not_quote(tmp_path: Path) -> None:
    result = qms("init", tmp_path / "qms", "--gitqms-source", 'gitqms; rm -rf "$HOME"')
    assert result.exit_code == 2 and "--gitqms-source" in result.stderr, result.stderr
    assert not (tmp_path / "qms").exists()


def test_by_default_the_pipelines_install_the_gitqms_that_made_the_repository(
    tmp_path: Path,
) -> None:
    target = tmp_path / "qms"
    result = qms("init", target, "--name", "A W", "--email", "a.weber@x.example")
    assert result.exit_code == 0, result.output + result.stderr
    spec = tooling(target)
    assert install_lines(target) == {f'python -m pip install "{spec}"'}
    # This test runs from an editable install of a checkout: the spec pins its commit.
    checkout = Path(__file__).resolve().parents[1]
    commit = git(checkout, "rev-parse", "HEAD")
    assert spec.startswith("gitqms @ git+") and spec.endswith(f"@{commit}"), spec


def test_the_default_source_follows_how_gitqms_was_installed(tmp_path: Path) -> None:
    assert source_spec(None, "1.2.0") == "gitqms==1.2.0"  # from a package index
    vcs = {
        "url": "https://git.st-aurelia.example/qa/gitqms.git",
        "vcs_info": {"vcs": "git", "commit_id": "a" * 40, "requested_revision": "v1.2"},
    }
    assert source_spec(vcs, "1.2.0") == (
        f"gitqms @ git+https://git.st-aurelia.example/qa/gitqms.git@{'a' * 40}"
    )
    wheel = {"url": "file:///opt/qms/gitqms-1.2.0-py3-none-any.whl", "archive_info": {}}
    assert source_spec(wheel, "1.2.0") == "gitqms @ file:///opt/qms/gitqms-1.2.0-py3-none-any.whl"
    checkout = tmp_path / "gitqms"
    (checkout / "tools").mkdir(parents=True)
    git(tmp_path, "init", "-q", checkout)
    (checkout / "pyproject.toml").write_text("[project]\nname = 'gitqms'\n")
    git(checkout, "add", ".")
    git(checkout, "commit", "-q", "--no-gpg-sign", "-m", "gitqms")
    commit = git(checkout, "rev-parse", "HEAD")
    local = {"url": checkout.as_uri(), "dir_info": {"editable": True}}
    assert source_spec(local, "1.2.0") == f"gitqms @ git+{checkout.as_uri()}@{commit}"
    git(checkout, "remote", "add", "origin", "git@git.st-aurelia.example:qa/gitqms.git")
    assert source_spec(local, "1.2.0") == (
        f"gitqms @ git+ssh://git@git.st-aurelia.example/qa/gitqms.git@{commit}"
    )
    token = "https://deploy:glpat-SECRET@git.st-aurelia.example/qa/gitqms.git"
    git(checkout, "remote", "set-url", "origin", token)  # never committed into qms.yaml
    assert source_spec(local, "1.2.0") == (
        f"gitqms @ git+https://git.st-aurelia.example/qa/gitqms.git@{commit}"
    )
    assert "SECRET" not in source_spec({**vcs, "url": token}, "1.2.0")
    shutil.rmtree(checkout / ".git")  # a plain folder: installed from where it is
    assert source_spec(local, "1.2.0") == f"gitqms @ {checkout.as_uri()}"
