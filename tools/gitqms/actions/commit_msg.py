"""The commit-msg hook: a commit that changes a controlled file must give a Reason before it is
made, not when `qms check` meets it in CI. `qms hook install-commit-msg` writes the hook; git
runs `qms hook commit-msg MSGFILE` for every commit.

The hook asks the same question as `qms check` (rules/reason.py) of what the commit stages:
the index git hands the hook (GIT_INDEX_FILE, so `git commit -a` and `git commit PATH` are
judged on what they commit). A merge passes: its branch's commits were asked on their own.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from .. import git
from ..errors import QmsError
from ..files import replace_atomic
from ..rules.reason import controlled, gives_reason, message_text, refusal

MARKER = "# gitqms commit-msg hook"
HOOK = "commit-msg"


@dataclass(frozen=True)
class Verdict:
    controlled: tuple[str, ...]  # staged paths whose change needs a Reason
    refusal: str | None  # what to print when the commit is refused


def judge_message(root: Path, message: str, index_file: Path | None) -> Verdict:
    """Whether a commit in the repository at `root` (the QMS folder) with `message`, of what
    `index_file` (else the index) stages, gives the Reason `qms check` will ask for."""
    if git.is_merging(root):
        return Verdict((), None)
    top = git.work_tree_top(root)
    staged = git.staged_paths(top, index_file)
    head = git.rev_parse(root, "HEAD^{commit}")
    parent = git.rev_parse(root, "HEAD~1^{commit}") if head else None
    if parent is not None and (not staged or _amending()):
        # an amend replaces HEAD: what it commits is judged against HEAD's parent (with nothing
        # staged, the commit can only be an amend or an empty one)
        staged = git.staged_paths(top, index_file, against=parent)
    found = tuple(controlled(root, staged, git.show_prefix(root), head))
    if not found or gives_reason(message_text(message)):
        return Verdict(found, None)
    return Verdict(found, refusal(found))


def _amending() -> bool:
    """Whether the `git commit` that runs this hook is an amend (read from its command line,
    where the system shows it; elsewhere only the nothing-staged case is known)."""
    try:
        with open(f"/proc/{os.getppid()}/cmdline", "rb") as handle:
            words = handle.read().split(b"\0")
    except OSError:
        return False
    return b"--amend" in words


def hook_script(prefix: str, python: str) -> str:
    """The commit-msg hook: git runs it at the top of the work tree; `prefix` is the QMS folder."""
    folder = shlex.quote(prefix.rstrip("/") or ".")
    return (
        "#!/bin/sh\n"
        f"{MARKER}, written by `qms hook install-commit-msg`; rewrite it with the same\n"
        "# command. A commit that changes a controlled file needs a 'Reason:' trailer.\n"
        f'exec {shlex.quote(python)} -I -X utf8 -m gitqms.cli --repo {folder} hook commit-msg "$1"\n'
    )


@dataclass(frozen=True)
class Installed:
    path: Path
    replaced: bool  # a hook gitqms did not write was overwritten (--force)


def install_commit_msg(root: Path, *, force: bool = False) -> Installed:
    """Write the commit-msg hook where git looks for hooks (core.hooksPath when set); a hook
    gitqms did not write is kept unless `force`."""
    if not git.is_repository(root) or git.is_bare(root):
        raise QmsError(
            f"{root} is not a git work tree; the commit-msg hook belongs where commits are made",
            hint="run it inside your clone of the QMS repository (for a server: qms hook install)",
        )
    target = git.hooks_dir(git.work_tree_top(root)) / HOOK
    foreign = (target.exists() or target.is_symlink()) and not _is_ours(target)
    if foreign and not force:
        raise QmsError(
            f"{target} already exists and was not written by gitqms; nothing was changed",
            hint='call `qms hook commit-msg "$1"` from it yourself, or replace it with --force',
        )
    python = sys.executable
    if not python or not Path(python).is_absolute():
        raise QmsError("cannot tell which Python runs gitqms (sys.executable is not absolute)")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()
        replace_atomic(target, hook_script(git.show_prefix(root), python), 0o755)
    except OSError as error:
        raise QmsError(f"cannot write {target}: {error.strerror}") from None
    return Installed(target, foreign)


def _is_ours(path: Path) -> bool:
    try:
        return MARKER in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
