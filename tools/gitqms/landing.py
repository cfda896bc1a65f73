"""Landing a commit: the branch moved to it, the index and work tree brought along, so that a
kill at any point leaves the repository as before or as after.

A command builds its commit in git's object store first (hash-object, a private index,
commit-tree), touching neither the index nor the work tree. `land` then, in this order:

1. writes a journal, <git-dir>/qms-landing.json: the branch, the old and new commit, the paths,
   this process;
2. builds the new index in a private file, <git-dir>/qms-landing.index: the current index with
   the paths at their new blobs;
3. links that file to <git-dir>/index.lock, taking git's own index lock atomically: until step 6
   no git command writes the index, so `git commit`, `git add` and `git stash` refuse, and
   no checkout switches branch; it then makes sure the branch is still the one checked out
   (a person may switch while an editor is open), else it stops with nothing changed;
4. moves the branch with a compare-and-swap `git update-ref`: the one step that decides between
   before and after;
5. writes the work-tree files;
6. renames index.lock over the index (git's own way of committing an index) and drops the journal.

The branch moves before the work tree because the commit is the signed, verified record: a kill
before step 4 changed nothing the user sees, and a kill after it leaves the change recorded.
In the window between steps 4 and 6 the index still holds the old content; the lock keeps an
ordinary commit from recording it over the signed change, and `finish_interrupted`, which every
qms command runs first (Repository.discover), completes steps 5 and 6, or releases the lock when
the branch never moved.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

import click

from . import clock, git
from .errors import QmsError
from .text import printable

JOURNAL = "qms-landing.json"
PRIVATE_INDEX = "qms-landing.index"
SCRATCH = "qms-landing-files"  # temporary files, renamed into the work tree
_STALE_AFTER = 600  # seconds: a journal this old is stale even if its process id lives again


def land(root: Path, ref: str, old: str, new: str, files: Mapping[str, bytes], reason: str) -> None:
    """Move `ref` from `old` to `new` (a commit whose tree holds `files`: paths from the top of
    the work tree, with their content) and bring the index and work tree along."""
    if not files:  # a signature that changes no file: the index and work tree already match
        git.update_ref(root, ref, new, old, reason)
        return
    paths = sorted(files)
    top = git.work_tree_top(root)
    unclean = git.unclean_paths(top, paths)
    if unclean:
        raise QmsError(
            f"{unclean[0][3:]} has changes that are not committed (or is an untracked file); "
            "nothing was changed",
            hint="commit or remove it, then run the command again",
        )
    git_dir = git.git_dir(root)
    journal = git_dir / JOURNAL
    private = git_dir / PRIVATE_INDEX
    index = git_dir / "index"
    lock = git_dir / "index.lock"
    _write(journal, _journal(ref, old, new, top, paths), git_dir)
    acquired = False
    try:
        before = index.read_bytes() if index.exists() else None
        private.unlink(missing_ok=True)
        if before is not None:
            _write(private, before, git_dir)
        blobs = {path: blob_id(content, old) for path, content in files.items()}
        git.stage_in_index_file(top, private, old if before is None else None, blobs)
        try:
            os.link(private, lock)
        except FileExistsError:
            raise QmsError(
                f"another git process is using the index ({lock} exists); nothing was changed",
                hint="wait for it to finish and run the command again; if no git command is "
                f"running, remove {lock}",
            ) from None
        acquired = True
        if (index.read_bytes() if index.exists() else None) != before:
            raise QmsError(
                "the index changed while this command ran; nothing was changed",
                hint="run the command again",
            )
        if (git.symbolic_head(top) or "HEAD") != ref:  # checked out elsewhere meanwhile
            raise QmsError(
                f"another branch was checked out while this command ran ({ref} is no longer "
                "the one checked out); nothing was changed",
                hint=f"check out {ref.removeprefix('refs/heads/')} and run the command again",
            )
        git.update_ref(root, ref, new, old, reason)
    except BaseException:
        if acquired:
            lock.unlink(missing_ok=True)
        _clean(git_dir)
        raise
    try:
        for path, content in files.items():
            _write(top / path, content, git_dir)
        os.replace(lock, index)
    except OSError as error:
        raise QmsError(
            f"the change is committed ({new[:12]}), but the work tree could not be updated: "
            f"{error.strerror}",
            hint="fix the cause, then run any qms command (such as qms status) to finish",
        ) from None
    _clean(git_dir)


def blob_id(content: bytes, like: str) -> str:
    """The object id git gives `content` as a blob, in the hash of the object id `like`."""
    algorithm = hashlib.sha256 if len(like) == 64 else hashlib.sha1
    return algorithm(b"blob %d\0" % len(content) + content).hexdigest()


def finish_interrupted(git_dir: Path) -> None:
    """Complete or undo a landing that a kill interrupted; nothing when there is none.

    The journal is only a note left in the git folder, so nothing in it is taken on trust: the
    work tree is the one this git folder belongs to, the branch must be under refs/heads/, both
    commits must exist here, and the paths must stay inside the work tree. A journal that fails
    any of this is moved aside, with one line saying so, and nothing else is touched."""
    journal = git_dir / JOURNAL
    if not journal.exists():
        return
    try:
        data = json.loads(journal.read_text(encoding="utf-8"))
        top, ref, old, new, paths, pid = _valid(_work_tree(git_dir), data)
    except (OSError, ValueError, KeyError, TypeError, QmsError) as error:
        _set_aside(journal, str(error) or type(error).__name__)
        return
    if _running(pid) and clock.now().timestamp() - journal.stat().st_mtime < _STALE_AFTER:
        return  # that command is still landing
    lock, private = git_dir / "index.lock", git_dir / PRIVATE_INDEX
    ours = lock.exists() and private.exists() and os.path.samefile(lock, private)
    current = git.rev_parse(top, ref)
    if ours and current == new:  # killed between steps 4 and 6
        _bring_along(top, git_dir, old, new, paths, index=False)
        os.replace(lock, git_dir / "index")
    elif ours:  # killed before the branch moved: nothing to keep
        lock.unlink()
    if current and current != old:  # and the index too, if someone removed the lock by hand
        _bring_along(top, git_dir, old, current, paths, index=True)
    _clean(git_dir)


def _work_tree(git_dir: Path) -> Path | None:
    """The work tree whose git folder is `git_dir` (None when git does not say it is)."""
    linked = git_dir / "gitdir"  # a linked work tree: <git-dir>/gitdir names its .git file
    if (git_dir / "commondir").is_file() and linked.is_file():
        top = Path(linked.read_text(encoding="utf-8").strip()).parent
    else:
        configured = git.run(
            git_dir, ["--git-dir", str(git_dir), "config", "core.worktree"], check=False
        ).stdout.strip()
        top = (git_dir / configured) if configured else git_dir.parent
    found = git.find_git_dir(top) if top.is_dir() else None
    if found is None or not os.path.samefile(found, git_dir):
        return None
    return top.resolve()


def _valid(top: Path | None, data: object) -> tuple[Path, str, str, str, list[str], int]:
    """The journal's ref, old and new commit, paths and process id, each checked."""
    if top is None:
        raise ValueError("the git folder's work tree could not be found")
    if not isinstance(data, dict):
        raise ValueError("it is not a mapping")
    ref, old, new, paths, pid = (data[k] for k in ("ref", "old", "new", "paths", "pid"))
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        raise ValueError("'pid' is not a process id")
    if not (isinstance(ref, str) and ref.startswith("refs/heads/")) or (
        git.run(top, ["check-ref-format", ref], check=False).returncode
    ):
        raise ValueError(f"'ref' {str(ref)[:60]!r} is not a branch (refs/heads/…)")
    length = (
        64
        if git.run(top, ["rev-parse", "--show-object-format"]).stdout.strip() == ("sha256")
        else 40
    )
    for key, name in (("old", old), ("new", new)):
        if not (isinstance(name, str) and re.fullmatch(f"[0-9a-f]{{{length}}}", name)):
            raise ValueError(f"'{key}' {str(name)[:70]!r} is not an object id")
        if git.rev_parse(top, f"{name}^{{commit}}") != name:
            raise ValueError(f"'{key}' {name[:12]} is not a commit of this repository")
    if not isinstance(paths, list) or not all(_inside(path) for path in paths):
        raise ValueError("'paths' holds a path outside the work tree")
    return top, ref, old, new, paths, pid


def _inside(path: object) -> bool:
    if not isinstance(path, str) or not path or "\0" in path or "\\" in path:
        return False
    parts = PurePosixPath(path).parts
    return not PurePosixPath(path).is_absolute() and all(
        part not in ("..", ".") and part.lower() != ".git" for part in parts
    )


def _set_aside(journal: Path, why: str) -> None:
    """Move an invalid journal out of the way (kept for a look), saying so in one line."""
    aside = journal.with_name(f"{JOURNAL}.invalid-{int(clock.now().timestamp())}")
    with contextlib.suppress(OSError):
        os.replace(journal, aside)
    click.echo(
        printable(
            f"warning: {journal} was not a valid landing journal ({why}); moved to {aside.name}, "
            "nothing was changed: check `git status` and that no qms command was interrupted"
        ),
        err=True,
    )


def _bring_along(
    top: Path, git_dir: Path, old: str, head: str, paths: list[str], *, index: bool
) -> None:
    """Paths whose work-tree file (and, with `index`, index entry) still hold their content at
    `old` get their content at `head`; anything else the user did to them is left alone."""
    before = {path: oid for path, _, oid in git.list_tree(top, old, paths)}
    after = {path: oid for path, _, oid in git.list_tree(top, head, paths)}
    moved = {path: oid for path, oid in after.items() if before.get(path) != oid}
    wanted = [*moved.values(), *(before[path] for path in moved if path in before)]
    content = {name: data for name, kind, data in git.cat_objects(top, wanted) if kind == "blob"}
    for path, oid in moved.items():
        target = top / path
        if not target.resolve().is_relative_to(top.resolve()):
            continue  # a folder on the way is a link out of the work tree: never followed
        present = target.read_bytes() if target.is_file() and not target.is_symlink() else None
        expected = content.get(before[path]) if path in before else None
        if present == expected != content[oid]:  # still the old content: the kill's doing
            _write(target, content[oid], git_dir)
    if index:
        entries = git.index_blobs(top, list(moved))
        stale = {path: oid for path, oid in moved.items() if entries.get(path) == before.get(path)}
        if stale:
            git.update_index_entries(top, stale)


def _write(target: Path, content: bytes, git_dir: Path) -> None:
    """Replace `target` in one step; the temporary file waits in the git folder, so a kill
    never leaves one among the records."""
    scratch = git_dir / SCRATCH
    scratch.mkdir(exist_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=scratch)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.chmod(name, 0o666 & ~_umask())
            os.replace(name, target)
        except OSError:  # another file system: write beside the target instead
            os.unlink(name)
            fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
            os.replace(name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _journal(ref: str, old: str, new: str, top: Path, paths: list[str]) -> bytes:
    data = {"pid": os.getpid(), "ref": ref, "old": old, "new": new, "top": str(top)}
    return json.dumps(data | {"paths": paths}, indent=1).encode("utf-8")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean(git_dir: Path) -> None:
    (git_dir / PRIVATE_INDEX).unlink(missing_ok=True)
    scratch = git_dir / SCRATCH
    if scratch.is_dir():
        for leftover in scratch.iterdir():
            leftover.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            scratch.rmdir()
    (git_dir / JOURNAL).unlink(missing_ok=True)
