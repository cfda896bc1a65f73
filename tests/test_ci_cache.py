"""The CI templates keep the history index (.git/qms) and its key between runs of the protected
branch only: a pull or merge request may restore it, never save it; the daily run verifies
without it. The GitLab job scripts that move the index in and out of the cache are run for
real, on a real signed repository, across two "runners" (two clones, two empty homes)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitqms.actions.ci_files import PRODUCT_INSTALL, render_ci_file
from gitqms.history import index_store
from toolkit.cli import qms_cli
from toolkit.process import git
from toolkit.world import World

SAVE, RESTORE = "actions/cache/save@", "actions/cache/restore@"
MAIN_PUSH = "github.event_name == 'push' && github.ref == 'refs/heads/main'"


def workflow() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(
        render_ci_file(".github/workflows/qms.yml", PRODUCT_INSTALL)
    )
    return loaded


def pipeline() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(render_ci_file(".gitlab-ci.yml", PRODUCT_INSTALL))
    return loaded


def cache_steps(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if s.get("uses", "").startswith(action)]


def test_github_saves_the_index_only_from_runs_on_main() -> None:
    jobs = workflow()["jobs"]
    saves = {name: cache_steps(job, SAVE) for name, job in jobs.items()}
    assert {name: len(steps) for name, steps in saves.items()} == {"check": 1, "site": 0, "due": 0}
    [save] = saves["check"]
    assert save["if"] == MAIN_PUSH  # never from a pull request, a schedule or a manual run
    steps = jobs["check"]["steps"]
    names = [s.get("name", s.get("uses")) for s in steps]
    assert steps.index(save) == len(steps) - 1  # last: only after validate, check and verify pass
    assert names.index("qms verify") < steps.index(save)
    assert not any("if" in s and "always()" in s["if"] for s in steps)


def test_github_restores_the_same_paths_and_keys_it_saves() -> None:
    data = workflow()
    jobs = data["jobs"]
    [save] = cache_steps(jobs["check"], SAVE)
    for name in ("check", "site"):
        [restore] = cache_steps(jobs[name], RESTORE)
        assert restore["with"]["path"] == save["with"]["path"] == "${{ env.INDEX_PATHS }}"
        assert restore["with"]["key"] == save["with"]["key"] == "qms-index-${{ github.sha }}"
        assert restore["with"]["restore-keys"] == "qms-index-"  # the newest one kept on main
        steps = jobs[name]["steps"]
        first_qms = next(i for i, s in enumerate(steps) if s.get("run", "").startswith("qms "))
        assert steps.index(restore) < first_qms
    assert not cache_steps(jobs["due"], RESTORE)


def test_github_caches_the_index_and_the_key_where_gitqms_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = workflow()["env"]["INDEX_PATHS"].split()
    assert paths == [".git/qms", "~/.cache/gitqms"]
    monkeypatch.setenv("HOME", str(tmp_path / "runner-home"))  # a runner: no XDG_CACHE_HOME
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert index_store.key_path() == Path(os.path.expanduser(paths[1])) / "index.key"


def test_the_daily_runs_verify_with_no_kept_index() -> None:
    due = workflow()["jobs"]["due"]
    runs = [s.get("run", "") for s in due["steps"]]
    assert runs.index("qms verify") < runs.index("qms due --within 30")
    gitlab_due = pipeline()["due"]
    assert gitlab_due["cache"] == []
    assert gitlab_due["script"] == ["qms verify", "qms due --within 30"]


def test_gitlab_writes_the_cache_only_from_the_default_branch() -> None:
    data = pipeline()
    assert data["variables"]["INDEX_POLICY"] == "pull"  # a job with no rule of its own reads only
    assert data["default"]["cache"]["policy"] == "$INDEX_POLICY"
    assert data["default"]["cache"]["paths"] == [".qms-index/"]
    writers = []
    for name, job in data.items():
        if not isinstance(job, dict):
            continue
        for rule in job.get("rules", []):
            policy = rule.get("variables", {}).get("INDEX_POLICY")
            if policy is not None:
                assert policy in ("pull", "pull-push"), (name, rule)
                if policy != "pull":
                    writers.append((name, rule["if"]))
        assert job.get("cache", {}) in ({}, []) or name == "default", name
    default_push = '$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH'
    assert writers == [("check", default_push)]
    merge_request = data["check"]["rules"][0]
    assert merge_request == {"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}


# --- the GitLab scripts, run for real ----------------------------------------------------------


def run_lines(lines: list[str], cwd: Path, env: dict[str, str]) -> None:
    for line in lines:
        subprocess.run(["sh", "-ec", line], cwd=cwd, env=env, check=True)


def runner(
    tmp_path: Path, name: str, origin: Path, **variables: str
) -> tuple[Path, dict[str, str]]:
    """A fresh clone of `origin` and the environment of a job on a new runner (empty HOME)."""
    home = tmp_path / f"{name}-home"
    home.mkdir()
    clone = tmp_path / name
    git(tmp_path, "clone", "-q", "--no-local", origin, clone)
    env = dict(os.environ, HOME=str(home), **variables)
    env.pop("XDG_CACHE_HOME", None)
    return clone, env


def index_file(clone: Path) -> Path:
    head = git(clone, "rev-parse", "HEAD")
    return clone / ".git" / "qms" / f"history-{head}"


def test_gitlab_scripts_carry_a_believed_index_from_main_to_the_next_pipeline(
    world: World, tmp_path: Path
) -> None:
    data = pipeline()
    restore = data["default"]["before_script"][2:]  # after pip install and the receipts
    save = data["default"]["after_script"]
    # A pipeline on the default branch: nothing cached yet; it verifies, then keeps the index.
    main, main_env = runner(tmp_path, "main", world.repo, INDEX_POLICY="pull-push")
    run_lines(restore, main, main_env)
    assert qms_cli(main, "verify", env=main_env).returncode == 0
    run_lines(save, main, main_env | {"CI_JOB_STATUS": "success"})
    kept = main / ".qms-index"
    key = kept / "index.key"
    assert key.is_file() and (kept / "qms" / index_file(main).name).is_file()
    # The runner's cache carries .qms-index/ to the next job, on another machine.
    later, later_env = runner(tmp_path, "later", world.repo, INDEX_POLICY="pull")
    shutil.copytree(kept, later / ".qms-index")
    run_lines(restore, later, later_env)
    assert not (later / ".qms-index").exists()  # the key is never left inside the checkout
    home_key = Path(later_env["HOME"]) / ".cache" / "gitqms" / "index.key"
    assert home_key.read_bytes() == key.read_bytes()
    assert stat.S_IMODE(home_key.stat().st_mode) == 0o600
    assert stat.S_IMODE(home_key.parent.stat().st_mode) == 0o700
    stored = index_file(later)
    before = stored.stat()
    first = qms_cli(later, "verify", env=later_env)
    after = stored.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # believed
    # A job whose policy only reads keeps nothing, whatever it ran.
    run_lines(save, later, later_env | {"CI_JOB_STATUS": "success"})
    assert not (later / ".qms-index").exists()
    # The same index without its key (another runner's own key) is not believed: rebuilt.
    other, other_env = runner(tmp_path, "other", world.repo, INDEX_POLICY="pull")
    shutil.copytree(kept / "qms", other / ".git" / "qms")
    before = index_file(other).stat()
    second = qms_cli(other, "verify", env=other_env)
    after = index_file(other).stat()
    assert (after.st_ino, after.st_mtime_ns) != (before.st_ino, before.st_mtime_ns)
    assert first.stdout == second.stdout  # the same verdicts either way


def test_gitlab_keeps_nothing_from_a_failed_job(world: World, tmp_path: Path) -> None:
    save = pipeline()["default"]["after_script"]
    main, env = runner(tmp_path, "main", world.repo, INDEX_POLICY="pull-push")
    assert qms_cli(main, "verify", env=env).returncode == 0
    run_lines(save, main, env | {"CI_JOB_STATUS": "failed"})
    assert not (main / ".qms-index").exists()
