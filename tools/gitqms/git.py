"""The one module that runs git.

Every call has an explicit working directory, never prompts, and runs with the variables that
would point git at another repository removed. Output that holds paths is read NUL-separated.
"""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from .errors import GitError

# Variables that would make git act on another repository than the `cwd` we pass.
_LOCATION_VARIABLES = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_PREFIX",
    "GIT_NAMESPACE",
)


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _LOCATION_VARIABLES or k in _admitted}
    env["GIT_GRAFT_FILE"] = os.devnull  # history as committed: no .git/info/grafts ...
    env["GIT_NO_REPLACE_OBJECTS"] = "1"  # ... and not as refs/replace/* says
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"
    return env


def run(
    cwd: Path,
    args: Sequence[str],
    *,
    check: bool = True,
    feed: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """git `args` in `cwd`, with `feed` on its standard input (else none) and `env` instead
    of the usual environment; GitError on failure when `check`."""
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=env if env is not None else _environment(),
            **({"input": feed} if feed is not None else {"stdin": subprocess.DEVNULL}),
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="surrogateescape",
            check=False,
        )
    except FileNotFoundError:
        raise GitError(
            "git is not installed", hint="install git (e.g. apt-get install git)"
        ) from None
    if check and result.returncode != 0:
        words = result.stderr.strip() or result.stdout.strip() or f"exit {result.returncode}"
        raise GitError(f"git {args[0]} failed in {cwd}: {words}")
    return result


def _nul_split(output: str) -> list[str]:
    return [item for item in output.split("\0") if item]


def init(path: Path, *, branch: str = "main") -> None:
    """A new repository at `path`, with `branch` as its first branch."""
    run(path, ["init", "--quiet", f"--initial-branch={branch}"])


def is_repository(path: Path) -> bool:
    return run(path, ["rev-parse", "--git-dir"], check=False).returncode == 0


def config_value(cwd: Path, key: str) -> str | None:
    result = run(cwd, ["config", "--get", key], check=False)
    return result.stdout.strip() or None if result.returncode == 0 else None


def committer_identity(cwd: Path) -> str:
    """'Name <email>', as git signs by when user.signingkey is not set."""
    ident = run(cwd, ["var", "GIT_COMMITTER_IDENT"]).stdout.strip()
    return ident[: ident.rfind(">") + 1] or ident


def commit_time(cwd: Path) -> datetime:
    """The date git will give the next commit: now, or GIT_COMMITTER_DATE when it is set.

    Signing commands judge key windows and write dates by this, so what they check is what
    the signature will say.
    """
    ident = run(cwd, ["var", "GIT_COMMITTER_IDENT"]).stdout.strip()
    seconds = ident[ident.rfind(">") + 1 :].split()[0]
    return datetime.fromtimestamp(int(seconds), UTC)


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
            "-z",
            "--",
            *folders,
        ],
    ).stdout
    index = run(cwd, ["ls-files", "-z", "--", *folders]).stdout
    return set(_nul_split(history)) | set(_nul_split(index))


# --- history: streaming reads ------------------------------------------------------------


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


_NULL_OID = "0" * 40


def _popen(cwd: Path, args: Sequence[str], *, stdin: bool = False) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            ["git", *args],
            cwd=cwd,
            env=_environment(),
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except FileNotFoundError:
        raise GitError(
            "git is not installed", hint="install git (e.g. apt-get install git)"
        ) from None


def _finish(process: subprocess.Popen[bytes], args: Sequence[str], cwd: Path) -> None:
    assert process.stderr is not None
    error = process.stderr.read().decode("utf-8", "replace").strip()
    if process.wait() != 0:
        raise GitError(f"git {args[0]} failed in {cwd}: {error or f'exit {process.returncode}'}")


def _nul_tokens(stream: IO[bytes], chunk_size: int = 1 << 20) -> Iterator[bytes]:
    rest = b""
    while chunk := stream.read(chunk_size):
        parts = (rest + chunk).split(b"\0")
        rest = parts.pop()
        yield from parts
    if rest:
        yield rest


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
        "-z",
        "--topo-order",
        "--reverse",
        "--format=%x01%H %P",
        "--raw",
        "--no-renames",
        "--no-abbrev",
        "--diff-merges=first-parent",
        *(["--full-history"] if paths else []),  # every commit that touched them, none skipped
        *revisions,
        "--",
        *paths,
    ]
    process = _popen(cwd, args)
    assert process.stdout is not None
    current: tuple[str, tuple[str, ...]] | None = None
    changes: list[Change] = []
    header: str | None = None
    for token in _nul_tokens(process.stdout):
        text = token.decode("utf-8", "surrogateescape").lstrip("\n")
        if header is not None:  # this token is the path of the raw line before it
            old_mode, new_mode, old, new, status = header[1:].split(" ")
            changes.append(
                Change(
                    text,
                    None if old == _NULL_OID else old,
                    None if new == _NULL_OID else new,
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
    _finish(process, args, cwd)


def cat_objects(cwd: Path, names: Iterable[str]) -> Iterator[tuple[str, str | None, bytes]]:
    """(name, type, content) for each object name, from one `git cat-file --batch` stream.

    Names may be object ids or `rev:path`; a missing object comes back with type None. A
    thread feeds the names so a long list never blocks against git's output.
    """
    args = ["cat-file", "--batch"]
    process = _popen(cwd, args, stdin=True)
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
    _finish(process, args, cwd)


def list_tree(cwd: Path, commit: str, folders: Sequence[str]) -> list[tuple[str, str, str]]:
    """(path, mode, object id) of every file under `folders` (paths from the top) at `commit`."""
    output = run(cwd, ["ls-tree", "-r", "-z", "--full-tree", commit, "--", *folders]).stdout
    entries = []
    for item in _nul_split(output):
        meta, _, path = item.partition("\t")
        mode, _, oid = meta.split(" ")
        entries.append((path, mode, oid))
    return entries


def rev_list(cwd: Path, revisions: Sequence[str]) -> list[str]:
    """Commit ids of `revisions` (for example BASE..HEAD), newest first."""
    return run(cwd, ["rev-list", *revisions, "--"]).stdout.split()


def commits_changing(cwd: Path, revisions: Sequence[str], paths: Sequence[str]) -> list[str]:
    """Ids of the non-merge commits of `revisions` that change `paths` (from the top), every
    branch's own (no history simplification), newest first."""
    args = ["rev-list", "--no-merges", "--full-history", *revisions, "--", *paths]
    return run(cwd, args).stdout.split()


def merge_base(cwd: Path, first: str, second: str) -> str | None:
    result = run(cwd, ["merge-base", first, second], check=False)
    return result.stdout.strip() or None if result.returncode == 0 else None


def commits_off(cwd: Path, head: str) -> list[str]:
    """Commits on local or remote-tracking branches that `head` does not reach."""
    args = ["rev-list", "--branches", "--remotes", "--not", head, "--"]
    return run(cwd, args).stdout.split()


def show_prefix(cwd: Path) -> str:
    """The path of `cwd` inside its repository's work tree, '' at the top, else ending in '/'."""
    return run(cwd, ["rev-parse", "--show-prefix"]).stdout.strip()


def common_dir(cwd: Path) -> Path:
    """The git folder that all work trees of the repository share (.git, or the bare repo)."""
    output = run(cwd, ["rev-parse", "--path-format=absolute", "--git-common-dir"]).stdout
    return Path(output.strip())


def topo_order(cwd: Path, tip: str) -> list[str]:
    """The commits of `tip`'s history, parents first, in the order `log_changes` gives them."""
    return run(cwd, ["rev-list", "--topo-order", "--reverse", tip, "--"]).stdout.split()


def rev_parse(cwd: Path, revision: str) -> str | None:
    result = run(
        cwd, ["rev-parse", "--verify", "--quiet", "--end-of-options", revision], check=False
    )
    return result.stdout.strip() or None


def tips(cwd: Path, revisions: Sequence[str]) -> list[str]:
    """The commits whose history `revisions` name (for BASE..HEAD: HEAD's, not BASE's)."""
    output = run(cwd, ["rev-parse", *revisions, "--"]).stdout.split()
    return [name for name in output if _is_object_id(name)]


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


def expand_range(cwd: Path, revisions: Sequence[str]) -> list[str]:
    """Check that each revision or range parses, so a typo is a usage error, not git's noise."""
    result = run(cwd, ["rev-parse", *revisions, "--"], check=False)
    if result.returncode != 0:
        raise GitError(
            f"not a revision or range: {' '.join(revisions)}",
            hint="use a branch, a commit id or BASE..HEAD; see git help revisions",
        )
    return list(revisions)


# --- writing: commits made without touching the index or work tree ----------------------


def hash_blob(cwd: Path, content: bytes) -> str:
    result = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"],
        cwd=cwd,
        env=_environment(),
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
        env = _environment() | {"GIT_INDEX_FILE": str(Path(folder) / "index")}
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


def commit_tree_signed(cwd: Path, tree: str, parents: Sequence[str], message: str) -> str:
    """A commit signed with the user's own git signing setup (gpg.format, user.signingkey)."""
    args = ["commit-tree", "-S", tree]
    for parent in parents:
        args += ["-p", parent]
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=_environment(),
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


def update_ref(cwd: Path, ref: str, new: str, old: str, reason: str) -> None:
    """Move `ref` from `old` to `new`, failing if someone else moved it meanwhile."""
    result = run(cwd, ["update-ref", "-m", reason, ref, new, old], check=False)
    if result.returncode != 0:
        raise GitError(
            f"{ref} moved while signing; nothing was changed: {result.stderr.strip()}",
            hint="run the command again",
        )


def symbolic_head(cwd: Path) -> str | None:
    """'refs/heads/main' when HEAD is on a branch, None when detached."""
    result = run(cwd, ["symbolic-ref", "--quiet", "HEAD"], check=False)
    return result.stdout.strip() or None


def update_index_entry(cwd: Path, path: str, blob: str) -> None:
    """Point the index at `blob` for `path`, leaving every other staged change as it was."""
    run(cwd, ["update-index", "--add", "--cacheinfo", f"100644,{blob},{path}"])


def update_index_entries(cwd: Path, files: dict[str, str]) -> None:
    """`update_index_entry` for many paths (path -> blob) in one git call."""
    listing = "".join(f"100644 blob {blob}\t{path}\0" for path, blob in sorted(files.items()))
    run(cwd, ["update-index", "--add", "-z", "--index-info"], feed=listing)


def status_porcelain(cwd: Path, paths: Sequence[str]) -> str:
    return run(cwd, ["status", "--porcelain", "-z", "--", *paths]).stdout


def set_config(cwd: Path, key: str, value: str) -> None:
    """Set a value in the repository's own config (.git/config), never the global one."""
    run(cwd, ["config", "--local", key, value])


def stage_all_and_write_tree(cwd: Path) -> str:
    run(cwd, ["add", "--all"])
    return run(cwd, ["write-tree"]).stdout.strip()


# --- the server side: pushed objects in quarantine, hooks, notes, refs moved from a known value --

# Variables of _LOCATION_VARIABLES that admit_pushed_objects() lets through to git.
_admitted: frozenset[str] = frozenset()


def admit_pushed_objects() -> bool:
    """Inside a pre-receive hook: let every later git call of this process see the pushed objects.

    Git holds a push's objects in a quarantine folder that only its GIT_OBJECT_DIRECTORY and
    GIT_ALTERNATE_OBJECT_DIRECTORIES point to, and those are otherwise removed. Does nothing,
    and says so, outside a quarantine (GIT_QUARANTINE_PATH unset).
    """
    global _admitted
    if not os.environ.get("GIT_QUARANTINE_PATH"):
        return False
    _admitted = frozenset({"GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES"})
    return True


def is_bare(cwd: Path) -> bool:
    result = run(cwd, ["rev-parse", "--is-bare-repository"], check=False)
    return result.returncode == 0 and result.stdout.strip() == "true"


def git_dir(cwd: Path) -> Path:
    return Path(run(cwd, ["rev-parse", "--absolute-git-dir"]).stdout.strip())


def hooks_dir(cwd: Path) -> Path:
    """Where git looks for this repository's hooks (core.hooksPath when it is set)."""
    return cwd / run(cwd, ["rev-parse", "--git-path", "hooks"]).stdout.strip()


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


def ref_tips(cwd: Path, patterns: Sequence[str]) -> list[str]:
    """The object ids the refs under `patterns` (such as refs/heads) point to."""
    output = run(cwd, ["for-each-ref", "--format=%(objectname)", *patterns]).stdout
    return sorted(set(output.split()))


# --- archives: bundles of every ref, restored elsewhere ---------------------------------------


def version(cwd: Path) -> str:
    """The installed git's version, such as '2.39.5'."""
    return run(cwd, ["--version"]).stdout.strip().removeprefix("git version ")


def all_refs(cwd: Path) -> dict[str, str]:
    """Every ref (branches, tags, notes, ...) -> the object it names, and HEAD -> its commit."""
    output = run(cwd, ["for-each-ref", "--format=%(refname)%00%(objectname)"]).stdout
    refs = dict(line.split("\0", 1) for line in output.splitlines() if "\0" in line)
    head = rev_parse(cwd, "HEAD^{commit}")
    return refs | ({"HEAD": head} if head else {})


def tracked_changes(cwd: Path) -> list[str]:
    """Status lines of tracked files changed but not committed (untracked files ignored)."""
    output = run(cwd, ["status", "--porcelain", "-z", "--untracked-files=no"]).stdout
    return _nul_split(output)


REPLACE_REFS = "refs/replace/"  # each makes plain git show another object for the one named


def bundle_create(cwd: Path, bundle: Path) -> None:
    """A bundle of every ref of the repository (notes and tags too) and HEAD, at `bundle`;
    never a replace ref, with which a restored copy would show objects other than committed."""
    args = ["bundle", "create", "--quiet", str(bundle), f"--exclude={REPLACE_REFS}*", "--all"]
    run(cwd, args)


def bundle_heads(cwd: Path, bundle: Path) -> dict[str, str]:
    """The refs a bundle holds -> their object ids, as its header lists them."""
    output = run(cwd, ["bundle", "list-heads", str(bundle)]).stdout
    return {ref: oid for oid, _, ref in (line.partition(" ") for line in output.splitlines())}


def bundle_problem(bundle: Path, empty_repository: Path) -> str | None:
    """git's words when `bundle verify` rejects it, else None. It needs a repository to run in
    (an empty one suits a complete bundle); it checks the header, not the pack."""
    result = run(empty_repository, ["bundle", "verify", "--quiet", str(bundle)], check=False)
    return None if result.returncode == 0 else result.stderr.strip() or "bundle verify failed"


# A restore runs no hook of the user's config or template folder (reference-transaction runs
# on every ref a clone writes): no program but git itself acts on an archive.
_NO_HOOKS = ("-c", "core.hooksPath=/dev/null")


def init_bare(path: Path) -> None:
    run(path.parent, [*_NO_HOOKS, "init", "--quiet", "--template=", "--bare", str(path)])


def clone_mirror_problem(source: Path, target: Path) -> str | None:
    """Clone every ref of `source` (a bundle or repository) into a new bare `target`; git's
    words if it fails. index-pack recomputes every object id from its content on the way."""
    args = [*_NO_HOOKS, "clone", "--quiet", "--template=", "--mirror", "--no-hardlinks"]
    result = run(target.parent, [*args, str(source), str(target)], check=False)
    return None if result.returncode == 0 else result.stderr.strip() or "clone failed"


def fsck_problem(cwd: Path) -> str | None:
    """git's words when `fsck --full` finds a broken or missing object, else None."""
    args = ["fsck", "--full", "--no-dangling", "--no-progress"]
    result = run(cwd, args, check=False)
    return None if result.returncode == 0 else result.stderr.strip() or "fsck failed"


def checkout_from_bundle(bundle: Path, tip: str, target: Path) -> None:
    """A new repository at `target` (an empty folder) holding every ref of `bundle`, with `tip`
    checked out detached and no hook run: exactly the committed files, nothing untracked."""
    run(target, [*_NO_HOOKS, "init", "--quiet", "--template="])
    fetch = ["fetch", "--quiet", "--update-head-ok", str(bundle), "refs/*:refs/*"]
    run(target, [*_NO_HOOKS, *fetch])
    run(target, [*_NO_HOOKS, "checkout", "--quiet", "--detach", tip])


def new_commits(cwd: Path, tip: str, known: Iterable[str]) -> list[str]:
    """Commits reachable from `tip` and from none of `known`, oldest first.

    The revisions go to git on stdin, so thousands of them are one call; a `known` object
    that no longer exists is skipped.
    """
    names = "".join(f"^{name}\n" for name in known if _is_object_id(name))
    return run(
        cwd, ["rev-list", "--reverse", "--ignore-missing", "--stdin", tip], feed=names
    ).stdout.split()


def _is_object_id(name: str) -> bool:
    return len(name) in (40, 64) and all(c in "0123456789abcdef" for c in name)


def note_entries(cwd: Path, notes_commit: str) -> dict[str, str]:
    """Annotated object id -> note blob id, from a notes commit (flat or fanned-out tree)."""
    output = run(cwd, ["ls-tree", "-r", "-z", notes_commit]).stdout
    entries = {}
    for item in _nul_split(output):
        meta, _, path = item.partition("\t")
        _, kind, oid = meta.split(" ")
        name = path.replace("/", "")
        if kind == "blob" and _is_object_id(name):
            entries[name] = oid
    return entries


def tree_with_files(cwd: Path, base_tree: str | None, files: dict[str, str]) -> str:
    """The id of `base_tree` (or an empty tree) with each path of `files` set to its blob."""
    listing = "".join(f"100644 blob {blob}\t{path}\0" for path, blob in sorted(files.items()))
    with tempfile.TemporaryDirectory(prefix="qms-index-") as folder:
        env = _environment() | {"GIT_INDEX_FILE": str(Path(folder) / "index")}
        steps: list[tuple[list[str], str | None]] = [
            (["read-tree", base_tree] if base_tree else ["read-tree", "--empty"], None),
            (["update-index", "-z", "--index-info"], listing),
            (["write-tree"], None),
        ]
        for args, feed in steps:
            result = run(cwd, args, feed=feed, env=env)
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
    env = _environment() | {
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


def compare_and_swap_ref(cwd: Path, ref: str, new: str, old: str | None, reason: str) -> str | None:
    """Move `ref` to `new` only if it still points to `old` (None: only if it does not exist).

    None when it moved; else git's words (someone else moved it first, or it is locked).
    """
    result = run(cwd, ["update-ref", "-m", reason, ref, new, old or _NULL_OID], check=False)
    return None if result.returncode == 0 else (result.stderr.strip() or "update-ref failed")


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


# --- landing a commit: the branch moved, index and work tree brought along (landing.py) --------


def find_git_dir(cwd: Path) -> Path | None:
    """The repository's (per-work-tree) git folder, or None outside a repository."""
    result = run(cwd, ["rev-parse", "--absolute-git-dir"], check=False)
    return Path(result.stdout.strip()) if result.returncode == 0 and result.stdout.strip() else None


def work_tree_top(cwd: Path) -> Path:
    return Path(run(cwd, ["rev-parse", "--show-toplevel"]).stdout.strip())


def index_blobs(cwd: Path, paths: Sequence[str]) -> dict[str, str]:
    """Path (from the top) -> the blob the index holds for it, for those of `paths` it holds."""
    output = run(cwd, ["ls-files", "-s", "-z", "--full-name", "--", *paths]).stdout
    entries = {}
    for item in _nul_split(output):
        meta, _, path = item.partition("\t")
        entries[path] = meta.split(" ")[1]
    return entries


def unclean_paths(cwd: Path, paths: Sequence[str]) -> list[str]:
    """Status lines of `paths` whose index or work tree differs from HEAD, untracked or
    ignored files included (a path git would overwrite)."""
    args = ["status", "--porcelain", "-z", "--untracked-files=all", "--ignored", "--", *paths]
    return _nul_split(run(cwd, args).stdout)


def stage_in_index_file(
    cwd: Path, index_file: Path, tree: str | None, files: dict[str, str]
) -> None:
    """Point the index file `index_file` (started from `tree` when given) at each path's blob
    in `files`, leaving the repository's own index alone."""
    env = _environment() | {"GIT_INDEX_FILE": str(index_file)}
    if tree is not None:
        run(cwd, ["read-tree", tree], env=env)
    listing = "".join(f"100644 blob {blob}\t{path}\0" for path, blob in sorted(files.items()))
    run(cwd, ["update-index", "--add", "-z", "--index-info"], feed=listing, env=env)
