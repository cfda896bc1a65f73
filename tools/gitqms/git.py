"""The one module that runs git.

Every call has an explicit working directory, never prompts, and runs with the variables that
would point git at another repository removed. Output that holds paths is read NUL-separated.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from .errors import GitError

# Variables that would make git act on another repository than the `cwd` we pass.
_LOCATION_VARIABLES = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_PREFIX",
    "GIT_NAMESPACE",
)


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _LOCATION_VARIABLES}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"
    return env


def run(cwd: Path, args: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=_environment(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="surrogateescape",
            check=False,
        )
    except FileNotFoundError:
        raise GitError(
            "git is not installed", hint="install git (e.g. apt-get install git)"
        ) from None
    if check and result.returncode != 0:
        words = result.stderr.strip() or result.stdout.strip() or f"exit {result.returncode}"
        raise GitError(f"git {args[0]} failed in {cwd}: {words}")
    return result


def _nul_split(output: str) -> list[str]:
    return [item for item in output.split("\0") if item]


def init(path: Path, *, branch: str = "main") -> None:
    """A new repository at `path`, with `branch` as its first branch."""
    run(path, ["init", "--quiet", f"--initial-branch={branch}"])


def is_repository(path: Path) -> bool:
    return run(path, ["rev-parse", "--git-dir"], check=False).returncode == 0


def config_value(cwd: Path, key: str) -> str | None:
    result = run(cwd, ["config", "--get", key], check=False)
    return result.stdout.strip() or None if result.returncode == 0 else None


def paths_ever_added(cwd: Path, folders: Sequence[str]) -> set[str]:
    """Every path under `folders` that any commit on any ref, or the index, ever held."""
    if not is_repository(cwd):
        return set()
    history = run(
        cwd,
        [
            "log",
            "--all",
            "--format=",
            "--name-only",
            "--diff-filter=A",
            "--no-renames",
            "--relative",  # paths as seen from `cwd`, which may be a folder of a larger repository
            "-z",
            "--",
            *folders,
        ],
    ).stdout
    index = run(cwd, ["ls-files", "-z", "--", *folders]).stdout
    return set(_nul_split(history)) | set(_nul_split(index))
