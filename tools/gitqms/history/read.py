"""One streaming pass over git history: commits in order, what each changed, their objects.

Two git processes read everything: `git log --raw` for the order and the files each commit
changed, and one `git cat-file --batch` for the commit objects. (A narrow walk of a long
history, which mostly waits on `git log`, has two of them diff it from its two ends.) Blobs
are fetched later, in one more batch, only for the commits that need them.

Nothing but a regular file (mode 100644) is a record: a record's path that holds a symbolic
link, a submodule, an executable file or a folder holds no content of the record (reads give
None), and the change says what the path holds instead (its modes), so that checks report it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from .. import git
from ..errors import QmsError
from ..records.config import CONFIG_FILE, QmsConfig
from ..records.kinds import active_kinds, kind_of_id, record_id_from_path
from ..safeyaml import LoadError, decode_record_bytes
from ..validation.run import parse_config
from .commits import Commit, CommitFormatError, header_commit, parse_commit
from .narrow import Depends


@dataclass(frozen=True)
class Step:
    """A commit in the walk, with the record files and the qms.yaml it changed."""

    commit: Commit
    records: dict[str, git.Change]  # record ID -> change against the first parent
    config: git.Change | None  # the change to qms.yaml, if any


@dataclass(frozen=True)
class History:
    root: Path
    prefix: str  # the QMS folder inside the git work tree: '' or 'some/folder/'
    steps: list[Step]  # parents before children

    def path_of(self, record_id: str) -> str:
        """The path of a record's file from the top of the work tree."""
        kind = kind_of_id(record_id)
        if kind is None:
            return f"{self.prefix}{CONFIG_FILE}"
        return f"{self.prefix}{kind.folder}/{record_id}{kind.suffix}"

    def blobs(self, names: Iterable[str]) -> dict[str, bytes | None]:
        """Object contents by name (`commit:path` or blob id), None for those that do not exist."""
        return {
            name: content if kind == "blob" else None
            for name, kind, content in git.cat_objects(self.root, names)
        }

    def blobs_by_id(
        self, names: Sequence[str], ids: Mapping[str, str | None]
    ) -> dict[str, bytes | None]:
        """`blobs(names)`, reading by blob id the names `ids` knows the blob of (None: the file
        does not exist there); the same bytes, without looking paths up in trees."""
        wanted = {ids.get(name) or name for name in names if ids.get(name, name)}
        found = self.blobs(sorted(wanted))
        return {
            name: found.get(ids[name] or "") if name in ids else found.get(name) for name in names
        }

    def files_at(self, commit: str, paths: Iterable[str]) -> dict[str, bytes | None]:
        """`blobs(f"{commit}:{path}")` for each path, by path: one listing of their folders,
        then their blobs by id."""
        ids = self.file_ids(commit, paths)
        return self.blobs_by_id(sorted(ids), ids)

    def file_ids(self, commit: str, paths: Iterable[str]) -> dict[str, str | None]:
        """The blob id of each path at `commit`, by path (None: no regular file there), from
        one listing of their folders."""
        wanted = sorted(set(paths))
        if not wanted:
            return {}
        folders = sorted({str(PurePosixPath(path).parent) for path in wanted} - {"."})
        files = [path for path in wanted if "/" not in path]
        listed = {
            p: (mode, oid) for p, mode, oid in git.list_tree(self.root, commit, folders + files)
        }
        return {  # nothing but a regular file holds a record (or qms.yaml)
            path: listed[path][1] if listed.get(path, ("",))[0] == git.REGULAR_FILE else None
            for path in wanted
        }

    def holds_files(self, commit: str, folder: str) -> bool:
        """Whether anything is at or below `folder` (from the QMS folder) at `commit`."""
        return bool(git.list_tree(self.root, commit, [f"{self.prefix}{folder}"]))


NOT_A_FILE_FIX = (
    "put it back as a regular file (mode 100644): revert the commit that replaced it "
    "(git revert COMMIT), or `git rm -r --cached PATH`, restore the file's text, "
    "`git update-index --chmod=-x PATH` for an executable bit, and commit with a Reason"
)


def not_a_file(path: str, mode: str | None) -> str:
    """Why the entry at `path` (a record, qms.yaml or a controlled file) is not one."""
    return f"{path} is {git.entry_kind(mode)}, not a regular file; only a regular file is a record"


def record_entries(root: Path, commit: str, prefix: str) -> tuple[dict[str, str], dict[str, str]]:
    """The record files at `commit` (`prefix`: the QMS folder): record ID -> blob id of each
    regular file, and record ID -> the mode of each record path holding anything else (a folder
    at a record's path: 040000). A caller reports the second, never skips it."""
    folders = [f"{prefix}{kind.folder}" for kind in active_kinds().kinds]
    entries = git.list_tree(root, commit, folders)
    files, others = {}, {}
    for path, mode, oid in entries:
        inside = PurePosixPath(path[len(prefix) :])
        if (record_id := record_id_from_path(inside)) is not None:
            if mode == git.REGULAR_FILE:
                files[record_id] = oid
            else:
                others[record_id] = mode
        elif (owner := record_above(inside)) is not None:
            others[owner[0]] = git.FOLDER
    return files, others


def record_blobs(root: Path, commit: str, prefix: str) -> dict[str, str]:
    """Record ID -> blob id of every record file at `commit` (`prefix`: the QMS folder); a
    record path holding no regular file is left out (see `record_entries`)."""
    return record_entries(root, commit, prefix)[0]


def record_above(path: PurePosixPath) -> tuple[str, str] | None:
    """(record ID, its path) when a folder above `path` sits at a record's path (or qms.yaml's:
    ID 'qms.yaml'), as `sops/SOP-0003.md/x` lies inside `sops/SOP-0003.md`."""
    for parent in path.parents:
        if parent.as_posix() == CONFIG_FILE:
            return CONFIG_FILE, CONFIG_FILE
        if (record_id := record_id_from_path(parent)) is not None:
            return record_id, parent.as_posix()
    return None


def _as_folders(changes: Sequence[git.Change], prefix: str) -> list[git.Change]:
    """`changes`, with the changes of files inside a folder at a record's path (or qms.yaml's)
    made one change of that path whose mode says 'folder': the file that became a folder."""
    own: dict[str, git.Change] = {}
    inner: dict[str, list[git.Change]] = {}
    kept = []
    for change in changes:
        above = None
        relative = change.path[len(prefix) :]
        if change.path.startswith(prefix) and "." in relative.rpartition("/")[0]:  # cheap first
            above = record_above(PurePosixPath(relative))
        if above is None:
            own[change.path] = change
            kept.append(change)
        else:
            inner.setdefault(prefix + above[1], []).append(change)
    for path, inside in inner.items():
        before = own.get(path)
        old_mode: str | None = git.FOLDER
        new_mode: str | None = git.FOLDER
        old_blob = new_blob = None
        if before is not None and before.old_blob is not None:  # a file became a folder
            old_mode, old_blob = before.old_mode, before.old_blob
        elif before is not None:  # a folder became a file
            new_mode, new_blob = before.new_mode, before.new_blob
        if before is None and all(c.old_blob is None for c in inside):
            old_mode = None  # a new folder
        if before is None and all(c.new_blob is None for c in inside):
            new_mode = None  # a folder removed
        status = "A" if old_mode is None else "D" if new_mode is None else "T"
        if old_mode == new_mode:
            status = "M"
        folded = git.Change(path, old_blob, new_blob, status, old_mode, new_mode)
        kept = [c for c in kept if c.path != path] + [folded]
    return kept


def load_history(
    root: Path,
    revisions: Sequence[str],
    on_commit: Callable[[Commit], None] | None = None,
    *,
    narrow: Depends | None = None,
) -> History:
    """The commits of `revisions`, parents first; `on_commit` sees each as soon as it is read.
    `narrow`: every commit it does not keep is a step with no changes, its commit read for
    its tree, parents and dates only (history/narrow.py)."""
    prefix = git.show_prefix(root)
    logged: dict[str, git.LoggedCommit] = {}

    # Narrow, the walk mostly waits on git log: on a long history, two share it.
    log = git.log_changes if narrow is None else git.log_changes_from_both_ends

    def ids() -> Iterator[str]:  # git log and git cat-file run side by side
        for entry in log(root, revisions):
            logged[entry.id] = entry
            yield entry.id

    steps = []
    for name, kind, raw in git.cat_objects(root, ids()):
        if kind != "commit":
            raise QmsError(f"commit {name} is missing from the repository")
        entry = logged[name]
        try:
            paths = (change.path for change in entry.changes)
            if narrow is not None and not narrow.keeps(name, paths, raw):
                steps.append(Step(header_commit(name, raw, entry.parents), {}, None))
                continue
            commit = parse_commit(name, raw)
        except CommitFormatError as error:
            raise QmsError(
                str(error), hint="run `git fsck`; such a commit must be removed by the server"
            ) from None
        if on_commit is not None:
            on_commit(commit)
        if commit.parents != entry.parents:  # git reads only the parent lines right after tree
            commit = replace(
                commit,
                parents=entry.parents,
                problem="the commit object holds parent lines that git does not read as parents",
            )
        steps.append(Step(commit, *_changes(entry.changes, prefix)))
    return History(root, prefix, steps)


def _changes(
    changes: Sequence[git.Change], prefix: str
) -> tuple[dict[str, git.Change], git.Change | None]:
    """The changes of record files (by record ID) and of qms.yaml among a commit's changes."""
    records: dict[str, git.Change] = {}
    config = None
    for change in _as_folders(changes, prefix):
        if not change.path.startswith(prefix):
            continue
        inside = change.path[len(prefix) :]
        if inside == CONFIG_FILE:
            config = change
        elif record_id := record_id_from_path(PurePosixPath(inside)):
            records[record_id] = change
    return records, config


class LazyHistory(History):
    """A history whose steps are built on first use: a walk read back from the history index
    often needs only where records live and a few of its commits."""

    _build: Callable[[], list[Step]]
    _steps: list[Step] | None

    def __init__(self, root: Path, prefix: str, build: Callable[[], list[Step]]) -> None:
        object.__setattr__(self, "root", root)
        object.__setattr__(self, "prefix", prefix)
        object.__setattr__(self, "_build", build)
        object.__setattr__(self, "_steps", None)

    @property
    def built(self) -> bool:
        return self._steps is not None

    @property
    def steps(self) -> list[Step]:
        if self._steps is None:
            object.__setattr__(self, "_steps", self._build())
        assert self._steps is not None
        return self._steps


def blob_ids(
    steps: Sequence[Step],
    names: Iterable[str],
    files_at: Callable[[str, Sequence[str]], dict[str, str | None]] | None = None,
) -> dict[str, str | None]:
    """Blob ids for names `commit:path` of record files and qms.yaml at commits of `steps`,
    as the steps' changes tell them (each commit against its first parent): the blob of the
    nearest change along the first parents, None where that change deleted the file or left
    no regular file. Along a line whose first parent is not among the steps (a walk carried
    on from a stored tip), `files_at(commit, paths)` tells the ids there, if given. Names
    nothing tells are left out; read them by name. Looking a path up in a large tree costs
    git about a millisecond; a blob id costs nothing, so a walk reads its blobs by these ids.
    """
    wanted: dict[str, list[str]] = {}
    for name in names:
        commit, _, path = name.partition(":")
        wanted.setdefault(commit, []).append(path)
    children: dict[str, int] = {}
    for step in steps:
        if step.commit.parents:
            first = step.commit.parents[0]
            children[first] = children.get(first, 0) + 1
    found: dict[str, str | None] = {}
    states: dict[str, dict[str, str | None]] = {}  # commit -> path -> blob, while a child needs it
    if files_at is not None:  # the lines that start outside the steps: their files there
        inside = {step.commit.id for step in steps}
        paths = sorted({path for each in wanted.values() for path in each})
        for outside in children.keys() - inside:
            states[outside] = files_at(outside, paths)
    for step in steps:
        parents = step.commit.parents
        state = states.get(parents[0]) if parents else {}
        if state is not None and parents:
            left = children[parents[0]] - 1
            children[parents[0]] = left
            state = states.pop(parents[0]) if not left else dict(state)  # the last child owns it
        if state is None:
            continue  # a first parent outside these steps: nothing is known along this line
        for change in (*step.records.values(), *([step.config] if step.config else [])):
            regular = change.new_mode == git.REGULAR_FILE
            state[change.path] = change.new_blob if regular else None
        for path in wanted.get(step.commit.id, ()):
            if path in state:
                found[f"{step.commit.id}:{path}"] = state[path]
        if children.get(step.commit.id):
            states[step.commit.id] = state
    return found


def config_at(root: Path, commit: str) -> QmsConfig | None:
    """qms.yaml at `commit` (top of the tree), or None when it is missing or not valid."""
    [(_, kind, content)] = list(git.cat_objects(root, [f"{commit}:{CONFIG_FILE}"]))
    if kind != "blob":
        return None
    try:
        return parse_config(decode_record_bytes(content))[0]
    except LoadError:
        return None
