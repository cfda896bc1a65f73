"""Bulk reads of history, streamed: one `git log --raw` or `git cat-file --batch` process for
a whole walk, read while git writes it. These are the hot paths of verify, log and check."""

from __future__ import annotations

import contextlib
import io
import queue
import subprocess
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..errors import GitError
from .revisions import topo_order
from .runner import NULL_OID, finish, nul_tokens, popen

REGULAR_FILE = "100644"  # the one mode a record, qms.yaml or a controlled file may have
FOLDER = "040000"
_ENTRY_KINDS = {
    REGULAR_FILE: "a regular file",
    "100755": "an executable file",
    "120000": "a symbolic link",
    "160000": "a submodule (gitlink)",
    FOLDER: "a folder",
}


def entry_kind(mode: str | None) -> str:
    """What a tree entry of `mode` is, in words: 'a symbolic link' for 120000."""
    return "missing" if mode is None else _ENTRY_KINDS.get(mode, f"an entry of mode {mode}")


@dataclass(frozen=True)
class Change:
    """One file changed by a commit, relative to its first parent."""

    path: str
    old_blob: str | None  # None when added
    new_blob: str | None  # None when deleted
    status: str  # A, M, D, T
    old_mode: str | None = REGULAR_FILE  # git's mode of the entry (see entry_kind); None: absent
    new_mode: str | None = REGULAR_FILE

    @property
    def mode_changed(self) -> bool:
        """Whether the entry changed its kind or mode (a file became a link, say)."""
        return None not in (self.old_mode, self.new_mode) and self.old_mode != self.new_mode


@dataclass(frozen=True)
class LoggedCommit:
    id: str
    parents: tuple[str, ...]
    changes: tuple[Change, ...]


def log_changes(
    cwd: Path, revisions: Sequence[str], paths: Sequence[str] = ()
) -> Iterator[LoggedCommit]:
    """Every commit in `revisions`, parents first, with the files it changed (under `paths`
    only, when given: then only the commits that changed them).

    One `git log` process streams it all. Merges are diffed against their first parent, so a
    change a merge brings in shows on the merge as well as on the side branch.
    """
    args = [
        "log",
        "--topo-order",
        "--reverse",
        *_SHOW,
        *(["--full-history"] if paths else []),  # every commit that touched them, none skipped
        *revisions,
        "--",
        *paths,
    ]
    process = popen(cwd, args)
    assert process.stdout is not None
    try:
        yield from _logged(nul_tokens(process.stdout))
        finish(process, args, cwd)
    finally:
        _stop(process)


# How `git log` shows each commit: its id and parents, then its raw changes.
_SHOW = (
    "-z",
    "--format=%x01%H %P",
    "--raw",
    "--no-renames",
    "--no-abbrev",
    "--diff-merges=first-parent",
)
_TWO_FROM = 4096  # commits: below, one process is quicker than two
# Later commits cost more to diff (their folders hold more records): at L, 62 % of the
# commits, the older ones, take git as long as the other 38 %.
_OLDER_SHARE = 0.62


def log_changes_on_two(cwd: Path, revisions: Sequence[str]) -> Iterator[LoggedCommit]:
    """`log_changes(cwd, revisions)`, the same commits in the same order with the same
    changes, from two `git log` processes diffing half the history each, side by side.

    `git rev-list` gives the order `git log` would walk; each process then shows its part of
    it in that order (--no-walk=unsorted), the older part read as it comes, the newer kept in
    memory meanwhile. For the second core when one `git log` would be the longest task.
    """
    order = topo_order(cwd, revisions)
    cut = round(len(order) * _OLDER_SHARE) if len(order) >= _TWO_FROM else len(order)
    parts = [part for part in (order[:cut], order[cut:]) if part]  # none: git log shows HEAD
    args = ["log", "--no-walk=unsorted", "--stdin", *_SHOW]
    processes = [popen(cwd, args, stdin=True) for _ in parts]
    kept: list[bytes] = []
    try:
        for process, part in zip(processes, parts, strict=True):
            assert process.stdin is not None
            with process.stdin as stdin:  # git reads all of it before it shows anything
                stdin.write("".join(f"{commit}\n" for commit in part).encode())
        later = None
        if len(processes) == 2:
            later = threading.Thread(target=_keep, args=(processes[1], kept), daemon=True)
            later.start()
        for index, process in enumerate(processes):
            assert process.stdout is not None
            if index == 0:
                yield from _logged(nul_tokens(process.stdout))
            else:
                assert later is not None
                later.join()
                yield from _logged(nul_tokens(io.BytesIO(b"".join(kept))))
            finish(process, args, cwd)
    finally:
        for process in processes:
            _stop(process)


def _keep(process: subprocess.Popen[bytes], into: list[bytes]) -> None:
    """Everything `process` writes, into `into` (in a thread: git never waits on a full pipe)."""
    assert process.stdout is not None
    while chunk := process.stdout.read(1 << 20):
        into.append(chunk)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """`process` ended, if its reader stopped early or failed (git would wait on the pipe)."""
    if process.poll() is None:
        process.kill()
        process.wait()


def _logged(tokens: Iterator[bytes]) -> Iterator[LoggedCommit]:
    """The commits of `git log -z --raw` output, as `_SHOW` asks for them."""
    current: tuple[str, tuple[str, ...]] | None = None
    changes: list[Change] = []
    header: str | None = None
    for token in tokens:
        text = token.decode("utf-8", "surrogateescape").lstrip("\n")
        if header is not None:  # this token is the path of the raw line before it
            old_mode, new_mode, old, new, status = header[1:].split(" ")
            changes.append(
                Change(
                    text,
                    None if old == NULL_OID else old,
                    None if new == NULL_OID else new,
                    status[:1],
                    None if old_mode == "000000" else old_mode,
                    None if new_mode == "000000" else new_mode,
                )
            )
            header = None
        elif text.startswith("\x01"):
            if current is not None:
                yield LoggedCommit(current[0], current[1], tuple(changes))
            commit_id, *parents = text[1:].split()
            current, changes = (commit_id, tuple(parents)), []
        elif text.startswith(":"):
            header = text
    if current is not None:
        yield LoggedCommit(current[0], current[1], tuple(changes))


def cat_objects(cwd: Path, names: Iterable[str]) -> Iterator[tuple[str, str | None, bytes]]:
    """(name, type, content) for each object name, from one `git cat-file --batch` stream.

    Names may be object ids or `rev:path`; a missing object comes back with type None. A
    thread feeds the names so a long list never blocks against git's output.
    """
    args = ["cat-file", "--batch"]
    process = popen(cwd, args, stdin=True)
    assert process.stdin is not None and process.stdout is not None
    pending: queue.SimpleQueue[str | None] = queue.SimpleQueue()
    failed: list[BaseException] = []  # what went wrong while producing the names

    def feed(stdin: IO[bytes]) -> None:
        try:
            for name in names:
                if "\n" in name:
                    raise ValueError("object names cannot contain newlines")
                pending.put(name)
                stdin.write(name.encode("utf-8", "surrogateescape") + b"\n")
        except BrokenPipeError:
            pass
        except BaseException as error:  # re-raised by the reader: a short stream is never silent
            failed.append(error)
        finally:
            pending.put(None)
            with contextlib.suppress(BrokenPipeError):
                stdin.close()

    writer = threading.Thread(target=feed, args=(process.stdin,), daemon=True)
    writer.start()
    stdout = process.stdout
    try:
        while (name := pending.get()) is not None:
            reply = stdout.readline().rstrip(b"\n")
            if reply.endswith((b" missing", b" ambiguous")):
                yield name, None, b""
                continue
            line = reply.split(b" ")
            if len(line) != 3:
                raise GitError(f"git cat-file: unexpected reply {b' '.join(line)[:80]!r}")
            size = int(line[2])
            content = stdout.read(size)
            stdout.read(1)  # the newline after each object
            yield name, line[1].decode(), content
    finally:
        stdout.close()  # first: if the caller stopped early, git cat-file and the feeder stop too
        writer.join()
    if failed:
        process.wait()
        raise failed[0]
    finish(process, args, cwd)


def read_blob(cwd: Path, blob: str) -> bytes | None:
    """One blob by id (a pinned schema), None when the repository does not hold it."""
    found = [content for _, kind, content in cat_objects(cwd, [blob]) if kind == "blob"]
    return found[0] if found else None
