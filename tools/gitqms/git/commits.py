"""Writing history: blobs, trees and commits made in the object store without touching the
index or work tree, and refs moved only from the value the caller last saw."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from ..errors import GitError
from .runner import NULL_OID, environment, run
from .worktree import stage_in_index_file


def hash_blob(cwd: Path, content: bytes) -> str:
    result = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"],
        cwd=cwd,
        env=environment(),
        input=content,
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        raise GitError(f"git hash-object failed: {result.stderr.decode(errors='replace')}")
    return result.stdout.decode().strip()


def tree_with_file(cwd: Path, base_tree: str, path: str, blob: str) -> str:
    """The id of `base_tree` with `path` (from the top of the work tree) set to `blob`."""
    with tempfile.TemporaryDirectory(prefix="qms-index-") as folder:
        env = environment() | {"GIT_INDEX_FILE": str(Path(folder) / "index")}
        for args in (
            ["read-tree", base_tree],
            ["update-index", "--add", "--cacheinfo", f"100644,{blob},{path}"],
            ["write-tree"],
        ):
            result = subprocess.run(
                ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
            )
            if result.returncode != 0:
                raise GitError(f"git {args[0]} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def tree_with_files(cwd: Path, base_tree: str | None, files: dict[str, str]) -> str:
    """The id of `base_tree` (or an empty tree) with each path of `files` set to its blob."""
    with tempfile.TemporaryDirectory(prefix="qms-index-") as folder:
        index = Path(folder) / "index"
        stage_in_index_file(cwd, index, base_tree, files)
        env = environment() | {"GIT_INDEX_FILE": str(index)}
        return run(cwd, ["write-tree"], env=env).stdout.strip()


def commit_tree_signed(cwd: Path, tree: str, parents: Sequence[str], message: str) -> str:
    """A commit signed with the user's own git signing setup (gpg.format, user.signingkey)."""
    args = ["commit-tree", "-S", tree]
    for parent in parents:
        args += ["-p", parent]
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=environment(),
        input=message,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise GitError(
            f"git could not sign the commit: {result.stderr.strip()}",
            hint="check `git config gpg.format` and `git config user.signingkey`; "
            "a key with a passphrase needs ssh-agent (SSH) or gpg-agent (OpenPGP)",
        )
    return result.stdout.strip()


def commit_tree_as(
    cwd: Path,
    tree: str,
    parents: Sequence[str],
    message: str,
    identity: tuple[str, str],
    when: datetime,
) -> str:
    """An unsigned commit by `identity` (name, email), dated `when`, whatever git's config says."""
    name, email = identity
    stamp = f"{int(when.timestamp())} +0000"
    env = environment() | {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
        "GIT_COMMITTER_DATE": stamp,
    }
    args = ["commit-tree", "--no-gpg-sign", tree]
    for parent in parents:
        args += ["-p", parent]
    return run(cwd, args, feed=message, env=env).stdout.strip()


def update_ref(cwd: Path, ref: str, new: str, old: str, reason: str) -> None:
    """Move `ref` from `old` to `new`, failing if someone else moved it meanwhile."""
    result = run(cwd, ["update-ref", "-m", reason, ref, new, old], check=False)
    if result.returncode != 0:
        raise GitError(
            f"{ref} moved while signing; nothing was changed: {result.stderr.strip()}",
            hint="run the command again",
        )


def compare_and_swap_ref(cwd: Path, ref: str, new: str, old: str | None, reason: str) -> str | None:
    """Move `ref` to `new` only if it still points to `old` (None: only if it does not exist).

    None when it moved; else git's words (someone else moved it first, or it is locked).
    """
    result = run(cwd, ["update-ref", "-m", reason, ref, new, old or NULL_OID], check=False)
    return None if result.returncode == 0 else (result.stderr.strip() or "update-ref failed")
