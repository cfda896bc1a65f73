"""Reading history with short answers: revisions and ranges, refs, trees, notes, and where a
shallow clone or a grafts file would cut the history short. (The long reads stream: streams.)"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import GitError
from .repository import is_repository
from .runner import is_object_id, nul_split, run


def rev_parse(cwd: Path, revision: str) -> str | None:
    result = run(
        cwd, ["rev-parse", "--verify", "--quiet", "--end-of-options", revision], check=False
    )
    return result.stdout.strip() or None


def expand_range(cwd: Path, revisions: Sequence[str]) -> list[str]:
    """Check that each revision or range parses, so a typo is a usage error, not git's noise."""
    result = run(cwd, ["rev-parse", *revisions, "--"], check=False)
    if result.returncode != 0:
        raise GitError(
            f"not a revision or range: {' '.join(revisions)}",
            hint="use a branch, a commit id or BASE..HEAD; see git help revisions",
        )
    return list(revisions)


def tips(cwd: Path, revisions: Sequence[str]) -> list[str]:
    """The commits whose history `revisions` name (for BASE..HEAD: HEAD's, not BASE's)."""
    output = run(cwd, ["rev-parse", *revisions, "--"]).stdout.split()
    return [name for name in output if is_object_id(name)]


def rev_list(cwd: Path, revisions: Sequence[str]) -> list[str]:
    """Commit ids of `revisions` (for example BASE..HEAD), newest first."""
    return run(cwd, ["rev-list", *revisions, "--"]).stdout.split()


def topo_order(cwd: Path, revisions: Sequence[str]) -> list[str]:
    """The commits of `revisions`, parents first, in the order `log_changes` gives them."""
    return run(cwd, ["rev-list", "--topo-order", "--reverse", *revisions, "--"]).stdout.split()


def commits_changing(cwd: Path, revisions: Sequence[str], paths: Sequence[str]) -> list[str]:
    """Ids of the non-merge commits of `revisions` that change `paths` (from the top), every
    branch's own (no history simplification), newest first."""
    args = ["rev-list", "--no-merges", "--full-history", *revisions, "--", *paths]
    return run(cwd, args).stdout.split()


def commits_off(cwd: Path, head: str) -> list[str]:
    """Commits on local or remote-tracking branches that `head` does not reach."""
    args = ["rev-list", "--branches", "--remotes", "--not", head, "--"]
    return run(cwd, args).stdout.split()


def new_commits(cwd: Path, tip: str, known: Iterable[str]) -> list[str]:
    """Commits reachable from `tip` and from none of `known`, oldest first.

    The revisions go to git on stdin, so thousands of them are one call; a `known` object
    that no longer exists is skipped.
    """
    names = "".join(f"^{name}\n" for name in known if is_object_id(name))
    return run(
        cwd, ["rev-list", "--reverse", "--ignore-missing", "--stdin", tip], feed=names
    ).stdout.split()


def merge_base(cwd: Path, first: str, second: str) -> str | None:
    result = run(cwd, ["merge-base", first, second], check=False)
    return result.stdout.strip() or None if result.returncode == 0 else None


def changed_paths(cwd: Path, base: str, tip: str) -> list[str]:
    """The paths (from the top of the work tree) that differ between two commits."""
    output = run(cwd, ["diff", "--name-only", "--no-renames", "--no-ext-diff", "-z", base, tip])
    return nul_split(output.stdout)


def is_ancestor(cwd: Path, ancestor: str, descendant: str) -> bool:
    result = run(cwd, ["merge-base", "--is-ancestor", ancestor, descendant], check=False)
    if result.returncode not in (0, 1):
        raise GitError(f"git merge-base failed in {cwd}: {result.stderr.strip()}")
    return result.returncode == 0


def on_first_parent_line(cwd: Path, old: str, new: str) -> bool:
    """Whether `old` is on `new`'s first-parent line: `new` extends the branch that was at
    `old` (a merge into it, or commits on it), not another line that merged the branch in."""
    if old == new:
        return True
    listed = run(cwd, ["rev-list", "--first-parent", "--parents", new, f"^{old}"]).stdout
    lines = listed.splitlines()
    if not lines:
        return False  # `new` is reachable from `old`: not a move forward
    oldest = lines[-1].split()
    return len(oldest) > 1 and oldest[1] == old


# --- refs ----------------------------------------------------------------------------------


def symbolic_head(cwd: Path) -> str | None:
    """'refs/heads/main' when HEAD is on a branch, None when detached."""
    result = run(cwd, ["symbolic-ref", "--quiet", "HEAD"], check=False)
    return result.stdout.strip() or None


def ref_tips(cwd: Path, patterns: Sequence[str]) -> list[str]:
    """The object ids the refs under `patterns` (such as refs/heads) point to."""
    output = run(cwd, ["for-each-ref", "--format=%(objectname)", *patterns]).stdout
    return sorted(set(output.split()))


def all_refs(cwd: Path) -> dict[str, str]:
    """Every ref (branches, tags, notes, ...) -> the object it names, and HEAD -> its commit."""
    output = run(cwd, ["for-each-ref", "--format=%(refname)%00%(objectname)"]).stdout
    refs = dict(line.split("\0", 1) for line in output.splitlines() if "\0" in line)
    head = rev_parse(cwd, "HEAD^{commit}")
    return refs | ({"HEAD": head} if head else {})


def commit_refs(cwd: Path, prefixes: Sequence[str]) -> dict[str, str]:
    """The refs under `prefixes` (refs/heads/, …) that name a commit -> that commit; a ref
    naming a tree, a blob or a tag is left out."""
    fields = "--format=%(refname)%00%(objectname)%00%(objecttype)"
    output = run(cwd, ["for-each-ref", fields, *prefixes]).stdout
    found = {}
    for line in output.splitlines():
        parts = line.split("\0")
        if len(parts) == 3 and parts[2] == "commit":
            found[parts[0]] = parts[1]
    return found


# --- trees and notes -------------------------------------------------------------------------


def list_tree(cwd: Path, commit: str, folders: Sequence[str]) -> list[tuple[str, str, str]]:
    """(path, mode, object id) of every file under `folders` (paths from the top) at `commit`."""
    output = run(cwd, ["ls-tree", "-r", "-z", "--full-tree", commit, "--", *folders]).stdout
    entries = []
    for item in nul_split(output):
        meta, _, path = item.partition("\t")
        mode, _, oid = meta.split(" ")
        entries.append((path, mode, oid))
    return entries


def note_entries(cwd: Path, notes_commit: str) -> dict[str, str]:
    """Annotated object id -> note blob id, from a notes commit (flat or fanned-out tree)."""
    output = run(cwd, ["ls-tree", "-r", "-z", notes_commit]).stdout
    entries = {}
    for item in nul_split(output):
        meta, _, path = item.partition("\t")
        _, kind, oid = meta.split(" ")
        name = path.replace("/", "")
        if kind == "blob" and is_object_id(name):
            entries[name] = oid
    return entries


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
            "--root",  # whatever the settings say (log.showRoot, log.showSignature)
            "--no-show-signature",
            "-z",
            "--",
            *folders,
        ],
    ).stdout
    index = run(cwd, ["ls-files", "-z", "--", *folders]).stdout
    return set(nul_split(history)) | set(nul_split(index))


# --- where history is cut short ---------------------------------------------------------------


@dataclass(frozen=True)
class Boundaries:
    """Where this repository's history is cut short: commits git reads without their parents."""

    shallow: tuple[str, ...]  # the commits where a shallow clone's history stops
    grafts: Path | None  # .git/info/grafts when it grafts anything (gitqms never honours it)


def history_boundaries(cwd: Path) -> Boundaries:
    """Where git, left to itself, would see this repository's history begin early."""
    args = ["rev-parse", "--is-shallow-repository", "--path-format=absolute"]
    output = run(cwd, [*args, "--git-path", "shallow", "--git-common-dir"]).stdout
    is_shallow, shallow_file, common = output.splitlines()
    shallow = _listed(Path(shallow_file)) if is_shallow == "true" else ()
    grafts = Path(common) / "info" / "grafts"  # where git looks unless GIT_GRAFT_FILE says
    return Boundaries(shallow, grafts if _listed(grafts) else None)


def _listed(path: Path) -> tuple[str, ...]:
    """The lines of one of git's lists of commits (# comments and blank lines aside)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ()
    return tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))
