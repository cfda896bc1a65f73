"""The runner under every git call: the cleaned environment, the call itself, its errors.

Every call has an explicit working directory, never prompts, and runs with the variables that
would point git at another repository removed (only a pre-receive hook admits the two that show
it the pushed objects).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from ..errors import GitError

# Variables that would make git act on another repository than the `cwd` we pass.
LOCATION_VARIABLES = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_PREFIX",
    "GIT_NAMESPACE",
)

# Variables of LOCATION_VARIABLES that admit_pushed_objects() lets through to git.
_admitted: frozenset[str] = frozenset()

NULL_OID = "0" * 40


def environment() -> dict[str, str]:
    """The environment of every git call: ours, without the location variables."""
    env = {k: v for k, v in os.environ.items() if k not in LOCATION_VARIABLES or k in _admitted}
    env["GIT_GRAFT_FILE"] = os.devnull  # history as committed: no .git/info/grafts ...
    env["GIT_NO_REPLACE_OBJECTS"] = "1"  # ... and not as refs/replace/* says
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"
    return env


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


def _not_installed() -> GitError:
    return GitError("git is not installed", hint="install git (e.g. apt-get install git)")


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
            env=env if env is not None else environment(),
            **({"input": feed} if feed is not None else {"stdin": subprocess.DEVNULL}),
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="surrogateescape",
            check=False,
        )
    except FileNotFoundError:
        raise _not_installed() from None
    if check and result.returncode != 0:
        words = result.stderr.strip() or result.stdout.strip() or f"exit {result.returncode}"
        raise GitError(f"git {args[0]} failed in {cwd}: {words}")
    return result


def nul_split(output: str) -> list[str]:
    return [item for item in output.split("\0") if item]


def is_object_id(name: str) -> bool:
    return len(name) in (40, 64) and all(c in "0123456789abcdef" for c in name)


# --- streams: a git process read while it runs -------------------------------------------


def popen(cwd: Path, args: Sequence[str], *, stdin: bool = False) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            ["git", *args],
            cwd=cwd,
            env=environment(),
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except FileNotFoundError:
        raise _not_installed() from None


def finish(process: subprocess.Popen[bytes], args: Sequence[str], cwd: Path) -> None:
    assert process.stderr is not None
    error = process.stderr.read().decode("utf-8", "replace").strip()
    if process.wait() != 0:
        raise GitError(f"git {args[0]} failed in {cwd}: {error or f'exit {process.returncode}'}")


def nul_tokens(stream: IO[bytes], chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """The NUL-separated tokens of `stream`, each as soon as git has written it: `read1` takes
    what the pipe holds, where `read` would wait for a whole chunk (and the caller with it)."""
    read = getattr(stream, "read1", stream.read)
    pending: list[bytes] = []  # the pieces of a token not ended yet, joined once it ends
    while chunk := read(chunk_size):
        if b"\0" not in chunk:
            pending.append(chunk)  # a long token (a path can be megabytes) is copied once
            continue
        parts = chunk.split(b"\0")
        if pending:
            parts[0] = b"".join([*pending, parts[0]])
            pending = []
        if last := parts.pop():
            pending.append(last)
        yield from parts
    if pending:
        yield b"".join(pending)
