"""`qms hook install`: the pre-receive and post-receive hooks of a bare repository.

Each hook is a short shell script that runs the Python and the gitqms that installed it, by
absolute path, so it works under `git daemon` or an SSH server that gives hooks a bare
environment. A hook is written beside its final name and renamed into place, executable, so a
push never meets a half-written hook; a hook gitqms did not write is kept unless forced.
"""

from __future__ import annotations

import os
import shlex
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .. import git
from ..errors import QmsError
from .post_receive import BASELINE_FILE, baseline

MARKER = "# gitqms server hook"
HOOKS = ("pre-receive", "post-receive")


@dataclass(frozen=True)
class Installed:
    hooks: tuple[Path, ...]
    replaced: tuple[Path, ...]  # foreign hooks overwritten (--force)
    baseline: int  # ref tips held before the receipt log, whose history gets no receipt


def hook_script(name: str, python: str) -> str:
    return (
        "#!/bin/sh\n"
        f"{MARKER} ({name}), written by `qms hook install`; rewrite it with the same command.\n"
        "# It runs the Python and gitqms that installed it, whatever environment the server\n"
        "# gives hooks (-I: no PYTHON* variables, no user site, not the current folder).\n"
        'PATH="${PATH:-/usr/bin:/bin}"; export PATH\n'
        f"exec {shlex.quote(python)} -I -X utf8 -m gitqms.cli hook {name}\n"
    )


def is_ours(path: Path) -> bool:
    try:
        return MARKER in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def install_hooks(repo: Path, *, force: bool = False) -> Installed:
    if not git.is_repository(repo):
        raise QmsError(
            f"{repo} is not a git repository",
            hint="name the server's bare repository, e.g. /srv/git/qms.git "
            "(create one with git init --bare)",
        )
    if not git.is_bare(repo):
        raise QmsError(
            f"{repo} is not a bare repository; server hooks belong where pushes arrive",
            hint="install into the server's bare repository (git init --bare, or git clone --bare)",
        )
    folder = git.hooks_dir(repo)
    targets = [folder / name for name in HOOKS]
    foreign = [t for t in targets if (t.exists() or t.is_symlink()) and not is_ours(t)]
    if foreign and not force:
        raise QmsError(
            f"{', '.join(str(t) for t in foreign)} already exists and was not written by gitqms; "
            "nothing was changed",
            hint="merge its work into another hook, or replace it with --force",
        )
    executable = sys.executable
    if not executable or not Path(executable).is_absolute():
        raise QmsError("cannot tell which Python runs gitqms (sys.executable is not absolute)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        held = _write_baseline(repo)
        for target in targets:
            _write_executable(target, hook_script(target.name, executable))
    except OSError as error:
        raise QmsError(f"cannot write the hooks in {folder}: {error.strerror}") from None
    return Installed(tuple(targets), tuple(foreign), held)


def _write_baseline(repo: Path) -> int:
    """Record the commits the server holds now: they were received before any receipt log."""
    tips = git.ref_tips(repo, ["refs/heads", "refs/tags"])
    known = sorted(set(baseline(repo)) | set(tips))
    path = git.git_dir(repo) / BASELINE_FILE
    _write(path, "".join(f"{tip}\n" for tip in known), 0o644)
    return len(known)


def _write_executable(path: Path, text: str) -> None:
    _write(path, text, 0o755)


def _write(path: Path, text: str, mode: int) -> None:
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(name, mode)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
