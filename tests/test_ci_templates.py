"""The CI pipelines, the branch-protection recipe and the pre-commit hook that gitqms ships."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gitqms.actions.ci_files import CI_FILES, PRODUCT_INSTALL, render_ci_file
from toolkit.cli import ROOT, qms


@pytest.fixture
def scaffold(tmp_path: Path) -> Path:
    target = tmp_path / "new-qms"
    result = qms("init", str(target), "--name", "Dr. Anna Weber", "--email", "a.weber@x.example")
    assert result.exit_code == 0, result.output + result.stderr
    return target


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def steps_run(job: dict[str, Any]) -> list[str]:
    return [step.get("run", "") for step in job["steps"]]


def test_init_writes_the_pipelines_and_the_recipe_installing_the_recorded_gitqms(
    scaffold: Path,
) -> None:
    for path in CI_FILES:
        assert (scaffold / path).is_file(), path
        text = (scaffold / path).read_text()
        assert "{{" not in text.replace("${{", "")  # every slot filled
    workflow = load(scaffold / ".github/workflows/qms.yml")
    spec = load(scaffold / "qms.yaml")["tooling"]["gitqms"]  # what qms init recorded
    assert f'python -m pip install "{spec}"' in steps_run(workflow["jobs"]["check"])


def test_the_github_workflow_checks_pulls_publishes_main_and_runs_daily(scaffold: Path) -> None:
    workflow = load(scaffold / ".github/workflows/qms.yml")
    triggers = workflow[True]  # YAML 1.1 reads the key 'on' as true
    assert set(triggers) == {"pull_request", "push", "schedule", "workflow_dispatch"}
    assert triggers["push"]["branches"] == ["main"] and triggers["schedule"][0]["cron"]
    jobs = workflow["jobs"]
    for job in jobs.values():
        checkout = job["steps"][0]
        assert checkout["uses"].startswith("actions/checkout@")
        assert checkout["with"]["fetch-depth"] == 0  # the whole history
    check, site, due = jobs["check"], jobs["site"], jobs["due"]
    assert "pull_request" in check["if"]
    runs = "\n".join(steps_run(check))
    assert "qms validate" in runs and 'qms check "$BASE..HEAD"' in runs and "qms verify" in runs
    assert any('git fetch --no-tags origin "$RECEIPTS:$RECEIPTS"' in r for r in steps_run(check))
    assert workflow["env"]["RECEIPTS"] == "refs/notes/qms-receipts"
    assert "refs/heads/main" in site["if"] and "pull_request" in site["if"]
    assert "qms build --site-dir site" in steps_run(site)
    assert any(step.get("uses", "").startswith("actions/deploy-pages@") for step in site["steps"])
    assert "schedule" in due["if"] and "qms due --within 30" in steps_run(due)


def test_the_gitlab_pipeline_does_the_same(scaffold: Path) -> None:
    pipeline = load(scaffold / ".gitlab-ci.yml")
    assert pipeline["variables"]["GIT_DEPTH"] == "0"
    before = "\n".join(pipeline["default"]["before_script"])
    assert f'pip install "{load(scaffold / "qms.yaml")["tooling"]["gitqms"]}"' in before
    assert 'git fetch --no-tags origin "$RECEIPTS:$RECEIPTS"' in before
    check = "\n".join(pipeline["check"]["script"])
    assert "qms validate" in check and 'qms check "$BASE..HEAD"' in check
    assert "CI_MERGE_REQUEST_DIFF_BASE_SHA" in check
    assert "qms build --site-dir public" in pipeline["pages"]["script"]
    assert pipeline["pages"]["artifacts"]["paths"] == ["public"]
    assert pipeline["due"]["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]


def test_the_recipe_says_merge_commits_only_and_how_to_install_the_hook(scaffold: Path) -> None:
    recipe = (scaffold / "BRANCH-PROTECTION.md").read_text()
    assert "Squash and rebase merges make new commits and drop the" in recipe
    assert "qms hook install /srv/git/qms.git" in recipe
    for setting in ("Allow squash merging: **off**", "Merge method: **Merge commit**"):
        assert setting in recipe
    assert "refs/notes/qms-receipts:refs/notes/qms-receipts" in recipe


def test_the_product_ships_the_same_files_installing_itself() -> None:
    for path in CI_FILES:
        assert (ROOT / path).read_text() == render_ci_file(path, PRODUCT_INSTALL), (
            f"{path} drifted from its template; render it again with gitqms.ci_files"
        )


def test_the_product_is_a_pre_commit_hook_repository() -> None:
    hooks = load(ROOT / ".pre-commit-hooks.yaml")
    assert hooks == [
        {
            "id": "qms-validate",
            "name": "qms validate",
            "description": hooks[0]["description"],
            "entry": "qms validate",
            "language": "python",
            "pass_filenames": False,
            "always_run": True,
        },
        {
            "id": "qms-reason",
            "name": "qms reason",
            "description": hooks[1]["description"],
            "entry": "qms hook commit-msg",
            "language": "python",
            "stages": ["commit-msg"],
            "pass_filenames": False,
            "always_run": True,
        },
    ]
    # pre-commit installs the repository with pip and runs the entry from the top of the
    # checked-out repository: that is `qms validate` on the shipped example.
    assert qms("validate", repo=ROOT).exit_code == 0
