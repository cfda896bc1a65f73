"""One streaming pass over git history: commits in order, what each changed, their objects.

Two git processes read everything: `git log --raw` for the order and the files each commit
changed, and one `git cat-file --batch` for the commit objects. Blobs are fetched later, in one
more batch, only for the commits that need them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from . import git
from .errors import QmsError
from .records.config import CONFIG_FILE
from .records.kinds import KINDS, kind_of_id, record_id_from_path
from .signatures.commits import Commit, CommitFormatError, parse_commit


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


def record_blobs(root: Path, commit: str, prefix: str) -> dict[str, str]:
    """Record ID -> blob id of every record file at `commit` (`prefix`: the QMS folder)."""
    entries = git.list_tree(root, commit, [f"{prefix}{kind.folder}" for kind in KINDS])
    found = {}
    for path, mode, oid in entries:
        record_id = record_id_from_path(PurePosixPath(path[len(prefix) :]))
        if record_id is not None and mode.startswith("100"):
            found[record_id] = oid
    return found


def load_history(
    root: Path, revisions: Sequence[str], on_commit: Callable[[Commit], None] | None = None
) -> History:
    """The commits of `revisions`, parents first; `on_commit` sees each as soon as it is read."""
    prefix = git.show_prefix(root)
    logged: list[git.LoggedCommit] = []

    def ids() -> Iterator[str]:  # git log and git cat-file run side by side
        for entry in git.log_changes(root, revisions):
            logged.append(entry)
            yield entry.id

    commits: dict[str, Commit] = {}
    for name, kind, raw in git.cat_objects(root, ids()):
        if kind != "commit":
            raise QmsError(f"commit {name} is missing from the repository")
        try:
            commits[name] = commit = parse_commit(name, raw)
        except CommitFormatError as error:
            raise QmsError(
                str(error), hint="run `git fsck`; such a commit must be removed by the server"
            ) from None
        if on_commit is not None:
            on_commit(commit)
    steps = []
    for entry in logged:
        records: dict[str, git.Change] = {}
        config = None
        for change in entry.changes:
            if not change.path.startswith(prefix):
                continue
            inside = change.path[len(prefix) :]
            if inside == CONFIG_FILE:
                config = change
            elif record_id := record_id_from_path(PurePosixPath(inside)):
                records[record_id] = change
        commit = commits[entry.id]
        if commit.parents != entry.parents:  # git reads only the parent lines right after tree
            commit = replace(
                commit,
                parents=entry.parents,
                problem="the commit object holds parent lines that git does not read as parents",
            )
        steps.append(Step(commit, records, config))
    return History(root, prefix, steps)
