"""The index and the work tree: staging blobs (in the repository's index or a private index
file), what is uncommitted, an author's own commit, and the demo's branches and merges."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .runner import environment, nul_split, run


def _index_info(files: dict[str, str]) -> str:
    """`git update-index -z --index-info` input setting each path (from the top) to its blob."""
    return "".join(f"100644 blob {blob}\t{path}\0" for path, blob in sorted(files.items()))


def update_index_entry(cwd: Path, path: str, blob: str) -> None:
    """Point the index at `blob` for `path`, leaving every other staged change as it was."""
    run(cwd, ["update-index", "--add", "--cacheinfo", f"100644,{blob},{path}"])


def update_index_entries(cwd: Path, files: dict[str, str]) -> None:
    """`update_index_entry` for many paths (path -> blob) in one git call."""
    run(cwd, ["update-index", "--add", "-z", "--index-info"], feed=_index_info(files))


def stage_in_index_file(
    cwd: Path, index_file: Path, tree: str | None, files: dict[str, str]
) -> None:
    """Point the index file `index_file` (started from `tree` when given) at each path's blob
    in `files`, leaving the repository's own index alone."""
    env = environment() | {"GIT_INDEX_FILE": str(index_file)}
    if tree is not None:
        run(cwd, ["read-tree", tree], env=env)
    run(cwd, ["update-index", "--add", "-z", "--index-info"], feed=_index_info(files), env=env)


def index_blobs(cwd: Path, paths: Sequence[str]) -> dict[str, str]:
    """Path (from the top) -> the blob the index holds for it, for those of `paths` it holds."""
    output = run(cwd, ["ls-files", "-s", "-z", "--full-name", "--", *paths]).stdout
    entries = {}
    for item in nul_split(output):
        meta, _, path = item.partition("\t")
        entries[path] = meta.split(" ")[1]
    return entries


def status_porcelain(cwd: Path, paths: Sequence[str]) -> str:
    return run(cwd, ["status", "--porcelain", "-z", "--", *paths]).stdout


def tracked_changes(cwd: Path) -> list[str]:
    """Status lines of tracked files changed but not committed (untracked files ignored)."""
    output = run(cwd, ["status", "--porcelain", "-z", "--untracked-files=no"]).stdout
    return nul_split(output)


def unclean_paths(cwd: Path, paths: Sequence[str]) -> list[str]:
    """Status lines of `paths` whose index or work tree differs from HEAD, untracked or
    ignored files included (a path git would overwrite)."""
    args = ["status", "--porcelain", "-z", "--untracked-files=all", "--ignored", "--", *paths]
    return nul_split(run(cwd, args).stdout)


def stage_all_and_write_tree(cwd: Path) -> str:
    run(cwd, ["add", "--all"])
    return run(cwd, ["write-tree"]).stdout.strip()


def commit_paths(cwd: Path, paths: Sequence[str], message: str) -> str:
    """Stage `paths` and commit them as git is configured (identity, dates from the
    environment), signed with the user's key: an author's change, whose signature proves who
    made it (no QMS trailers: not an e-signature). Returns the new commit."""
    run(cwd, ["add", "--", *paths])
    run(cwd, ["commit", "-q", "--gpg-sign", "-m", message, "--", *paths])
    return run(cwd, ["rev-parse", "HEAD"]).stdout.strip()


def switch_branch(cwd: Path, branch: str, *, start: str | None = None) -> None:
    """Check out `branch`, first making it at `start` when given (a change branch of a pull
    request, in the demo)."""
    run(cwd, ["switch", "-q", *(["-c", branch, start] if start else [branch])])


def merge_branch(cwd: Path, branch: str, message: str) -> str:
    """Merge `branch` into the checked-out branch with a merge commit (never a fast-forward,
    which would hide that the change arrived through review), unsigned. Returns the commit."""
    run(cwd, ["merge", "-q", "--no-ff", "--no-gpg-sign", "-m", message, branch])
    return run(cwd, ["rev-parse", "HEAD"]).stdout.strip()


def delete_merged_branch(cwd: Path, branch: str) -> None:
    """Delete `branch`; git refuses when it is not merged into the checked-out branch."""
    run(cwd, ["branch", "-q", "-d", branch])


def _with_index(index_file: Path | None) -> dict[str, str] | None:
    """The environment of a call on `index_file` instead of the repository's index."""
    return environment() | {"GIT_INDEX_FILE": str(index_file)} if index_file else None


def staged_paths(
    cwd: Path, index_file: Path | None = None, against: str | None = None
) -> list[str]:
    """Paths (from the top) whose staged content differs from HEAD, or from the commit
    `against` (every staged path before the first commit), both sides of a rename;
    `index_file`: the index a hook is given (GIT_INDEX_FILE), else the repository's own."""
    args = [
        "diff",
        "--cached",
        "--name-only",
        "--no-renames",
        "-z",
        *([against] if against else []),
    ]
    return nul_split(run(cwd, args, env=_with_index(index_file)).stdout)


def index_modes(cwd: Path, paths: Sequence[str], index_file: Path | None = None) -> dict[str, str]:
    """Path (from the top) -> the mode the index holds it with (100644, 100755, 120000, …)."""
    args = ["ls-files", "-s", "-z", "--full-name", "--", *[f":/{p}" for p in paths]]
    output = run(cwd, args, env=_with_index(index_file)).stdout if paths else ""
    return {
        item.partition("\t")[2]: item.split(" ", 1)[0] for item in nul_split(output) if "\t" in item
    }


def unstaged_paths(cwd: Path, paths: Sequence[str], index_file: Path | None = None) -> list[str]:
    """Those of `paths` (from the top) whose work-tree copy differs from the index."""
    args = ["diff", "--name-only", "--no-renames", "-z", "--", *[f":/{p}" for p in paths]]
    return nul_split(run(cwd, args, env=_with_index(index_file)).stdout) if paths else []


def add_paths(cwd: Path, paths: Sequence[str], index_file: Path | None = None) -> None:
    """`git add` of `paths` (from `cwd`) into the index, or into `index_file`."""
    run(cwd, ["add", "-A", "--", *paths], env=_with_index(index_file))


def is_merging(cwd: Path) -> bool:
    """Whether a merge is being committed (MERGE_HEAD exists)."""
    return run(cwd, ["rev-parse", "-q", "--verify", "MERGE_HEAD"], check=False).returncode == 0


def commit_staged(cwd: Path, message: str, *, sign: bool) -> str:
    """`git commit` of what is staged, with `message` as given (git's hooks run), signed with
    the user's key when `sign`, else as git is configured. Returns the new commit."""
    args = ["commit", "-q", "--cleanup=whitespace", *(["--gpg-sign"] if sign else []), "-F", "-"]
    run(cwd, args, feed=message)
    return run(cwd, ["rev-parse", "HEAD"]).stdout.strip()
