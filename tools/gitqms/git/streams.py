"""Bulk reads of history, streamed: one `git log --raw` or `git cat-file --batch` process for
a whole walk, read while git writes it. These are the hot paths of verify, log and check."""

from __future__ import annotations

import contextlib
import queue
import subprocess
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..errors import GitError
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
    try:
        yield from _logged(_to_the_end(process, args, cwd))
    finally:
        _stop(process)


# How `git log` shows each commit: its id and parents, then its raw changes; whatever the
# repository's settings say (log.showSignature, log.showRoot, diff.relative).
_SHOW = (
    "-z",
    "--format=%x01%H %P",
    "--raw",
    "--no-renames",
    "--no-abbrev",
    "--diff-merges=first-parent",
    "--no-show-signature",
    "--root",
    "--no-relative",
)


# A history this long (in commits) is diffed from both ends: below it, the walk's own reading
# keeps pace with one git (at 20,000 commits a second process gained nothing, at 100,000 it
# took 12 % off a fresh-clone check). 0: always.
_TWO_FROM = 35_000


def log_changes_from_both_ends(cwd: Path, revisions: Sequence[str]) -> Iterator[LoggedCommit]:
    """`log_changes(cwd, revisions)`, the same commits in the same order with the same
    changes; on a long history (`_TWO_FROM`), diffed by two `git log` processes from its two
    ends.

    One walks as `log_changes` does, parents first, and is read as it comes; `git rev-list`
    orders the history beside it. If that order is long, a second `git log` starts at the
    tips, newest first, and what it shows is kept. Once the first reaches a commit the second
    has shown, it is stopped, and the rest of the order comes from what the second shows.
    Where they meet follows the cost of the diffs, whatever it is; at worst (dates that lie)
    the second shows the whole history, as one process would.
    """
    older_args = ["log", "--topo-order", "--reverse", *_SHOW, *revisions, "--"]
    order_args = ["rev-list", "--topo-order", "--reverse", *revisions, "--"]
    older = popen(cwd, older_args)
    order = popen(cwd, order_args)
    tips = None
    try:
        assert order.stdout is not None
        ids: list[str] = []
        shown = 0
        for entry in _logged(_to_the_end(older, older_args, cwd)):
            if not shown:  # git has ordered the history for the first: rev-list has too
                ids = order.stdout.read().decode("ascii").split()
                finish(order, order_args, cwd)
                if len(ids) >= _TWO_FROM:
                    tips = _FromTheTips(cwd, ["log", *_SHOW, *revisions, "--"])
            yield entry
            shown += 1
            if tips is not None and tips.has(entry.id):
                break
        else:
            return  # it showed them all, and ended well (_to_the_end)
        _stop(older)  # met: the rest is the tips' process's
        assert tips is not None
        if ids[shown - 1 : shown] != [entry.id]:
            raise GitError(f"git rev-list and git log disagree on the order of {entry.id}")
        for commit in ids[shown:]:
            yield tips.take(commit)
    finally:
        _stop(older)
        _stop(order)
        if tips is not None:
            tips.stop()


class _FromTheTips:
    """A `git log` of the history newest first, its commits kept by id as a thread reads them."""

    def __init__(self, cwd: Path, args: list[str]) -> None:
        self._process = popen(cwd, args)
        self._shown: dict[str, LoggedCommit] = {}
        self._changed = threading.Condition()
        self._ended = False
        self._failed: GitError | None = None
        self._thread = threading.Thread(target=self._read, args=(cwd, args), daemon=True)
        self._thread.start()

    def has(self, commit: str) -> bool:
        return commit in self._shown

    def take(self, commit: str) -> LoggedCommit:
        """`commit` as git shows it, once it has (an error if git ends without it)."""
        with self._changed:
            while commit not in self._shown and not self._ended:
                self._changed.wait()
            if commit in self._shown:
                return self._shown.pop(commit)
        raise self._failed or GitError(f"git log ended without showing commit {commit}")

    def stop(self) -> None:
        _stop(self._process)
        self._thread.join()

    def _read(self, cwd: Path, args: list[str]) -> None:
        try:
            for entry in _logged(_to_the_end(self._process, args, cwd)):
                with self._changed:
                    self._shown[entry.id] = entry
                    self._changed.notify_all()
        except GitError as error:
            self._failed = error
        except (OSError, ValueError):  # stopped: its pipe closed under the reader
            pass
        finally:
            with self._changed:
                self._ended = True
                self._changed.notify_all()


def _stop(process: subprocess.Popen[bytes]) -> None:
    """`process` ended, if its reader stopped early or failed (git would wait on the pipe)."""
    if process.poll() is None:
        process.kill()
        process.wait()


def _to_the_end(
    process: subprocess.Popen[bytes], args: Sequence[str], cwd: Path
) -> Iterator[bytes]:
    """The NUL-separated tokens of `process`'s output, then its exit checked: a git that
    died mid-commit (killed) cut that commit, which `_logged` gives only once the tokens end."""
    assert process.stdout is not None
    yield from nul_tokens(process.stdout)
    finish(process, args, cwd)


def _logged(tokens: Iterator[bytes]) -> Iterator[LoggedCommit]:
    """The commits of `git log -z --raw` output, as `_SHOW` asks for them."""
    current: tuple[str, tuple[str, ...]] | None = None
    changes: list[Change] = []
    header: str | None = None
    for token in tokens:
        text = token.decode("utf-8", "surrogateescape")
        if header is not None:  # the path of the raw line before it, as is (even "\nsops/…")
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
            continue
        text = text.lstrip("\n")  # git writes a newline before a commit's first raw line
        if text.startswith("\x01"):
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
