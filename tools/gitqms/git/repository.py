"""The repository itself: where it is (its folders, the prefix of `cwd`), its config, the
identity and date git will give the next commit, and the installed git's version."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

from ..errors import QmsError
from .runner import run


def init(path: Path, *, branch: str = "main") -> None:
    """A new repository at `path`, with `branch` as its first branch."""
    run(path, ["init", "--quiet", f"--initial-branch={branch}"])


def is_repository(path: Path) -> bool:
    return run(path, ["rev-parse", "--git-dir"], check=False).returncode == 0


def is_bare(cwd: Path) -> bool:
    result = run(cwd, ["rev-parse", "--is-bare-repository"], check=False)
    return result.returncode == 0 and result.stdout.strip() == "true"


def find_git_dir(cwd: Path) -> Path | None:
    """The repository's (per-work-tree) git folder, or None outside a repository."""
    result = run(cwd, ["rev-parse", "--absolute-git-dir"], check=False)
    return Path(result.stdout.strip()) if result.returncode == 0 and result.stdout.strip() else None


def git_dir(cwd: Path) -> Path:
    return Path(run(cwd, ["rev-parse", "--absolute-git-dir"]).stdout.strip())


def common_dir(cwd: Path) -> Path:
    """The git folder that all work trees of the repository share (.git, or the bare repo)."""
    output = run(cwd, ["rev-parse", "--path-format=absolute", "--git-common-dir"]).stdout
    return Path(output.strip())


def hooks_dir(cwd: Path) -> Path:
    """Where git looks for this repository's hooks (core.hooksPath when it is set)."""
    return cwd / run(cwd, ["rev-parse", "--git-path", "hooks"]).stdout.strip()


def work_tree_top(cwd: Path) -> Path:
    return Path(run(cwd, ["rev-parse", "--show-toplevel"]).stdout.strip())


def show_prefix(cwd: Path) -> str:
    """The path of `cwd` inside its repository's work tree, '' at the top, else ending in '/'."""
    return run(cwd, ["rev-parse", "--show-prefix"]).stdout.strip()


def config_value(cwd: Path, key: str) -> str | None:
    result = run(cwd, ["config", "--get", key], check=False)
    return result.stdout.strip() or None if result.returncode == 0 else None


def editor(cwd: Path) -> str:
    """The editor command git would run (GIT_EDITOR, core.editor, VISUAL, EDITOR, its default)."""
    return run(cwd, ["var", "GIT_EDITOR"]).stdout.strip()


def run_editor(command: str, path: Path) -> None:
    """Open `path` in the editor `command` on this terminal, as git runs its editor:
    `sh -c '<command> "$@"' <command> <path>`, the path an argument and never shell text
    (a folder named with `$(…)`, backquotes or quotes is opened as it is)."""
    if command == ":":  # git's way of saying "no editor"
        return
    try:
        done = subprocess.run(["sh", "-c", f'{command} "$@"', command, str(path)], check=False)
    except OSError as error:
        raise QmsError(
            f"the editor could not be started: {error.strerror}",
            hint="set the editor git uses (git config core.editor, or GIT_EDITOR/VISUAL/EDITOR)",
        ) from None
    if done.returncode != 0:
        raise QmsError(
            f"the editor ({command}) failed (exit {done.returncode})",
            hint="check the editor git uses (git config core.editor, or GIT_EDITOR/VISUAL/EDITOR)",
        )


def set_config(cwd: Path, key: str, value: str) -> None:
    """Set a value in the repository's own config (.git/config), never the global one."""
    run(cwd, ["config", "--local", key, value])


def committer_identity(cwd: Path) -> str:
    """'Name <email>', as git signs by when user.signingkey is not set."""
    ident = run(cwd, ["var", "GIT_COMMITTER_IDENT"]).stdout.strip()
    return ident[: ident.rfind(">") + 1] or ident


def commit_time(cwd: Path) -> datetime:
    """The date git will give the next commit: now, or GIT_COMMITTER_DATE when it is set.

    Signing commands judge key windows and write dates by this, so what they check is what
    the signature will say.
    """
    ident = run(cwd, ["var", "GIT_COMMITTER_IDENT"]).stdout.strip()
    seconds = ident[ident.rfind(">") + 1 :].split()[0]
    return datetime.fromtimestamp(int(seconds), UTC)


def version(cwd: Path) -> str:
    """The installed git's version, such as '2.39.5'."""
    return run(cwd, ["--version"]).stdout.strip().removeprefix("git version ")
