"""The one way the tests run a program, and git: an explicit working directory, a known
environment, and a failure that shows the command with its output."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from gitqms.git.runner import LOCATION_VARIABLES  # what the package drops, the tests drop

# Variables that would override a person's own identity, keys or repository, or the site's day.
_FOREIGN = (
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_AUTHOR_DATE",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "GIT_COMMITTER_DATE",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_CONFIG",
    "GIT_CONFIG_COUNT",
    "GNUPGHOME",
    "EMAIL",
    "QMS_SITE_DATE",
    "QMS_SITE_DRAFTS",
)


def environment(**extra: str) -> dict[str, str]:
    """The test's own environment (the person acting, the day set), with `extra` on top."""
    env = {k: v for k, v in os.environ.items() if k not in LOCATION_VARIABLES}
    env.update(extra)
    return env


# A shell starts a command with Ctrl-C and Ctrl-\\ at their defaults, whatever it ignores
# itself; a test's process may be ignoring them (a library that waited on a child with C's
# system() leaves SIGINT and SIGQUIT ignored meanwhile, and a child inherits that through exec).
_AS_A_SHELL = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "signal.signal(signal.SIGQUIT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])"
)


def from_a_shell(args: Sequence[str]) -> list[str]:
    """`args` as a shell would start them: SIGINT and SIGQUIT at their defaults (the same
    process: it execs, so its pid is the command's)."""
    return [sys.executable, "-c", _AS_A_SHELL, *args]


def clean_env(**extra: str) -> dict[str, str]:
    """A fresh terminal's environment: no identity, dates, keys or site day from the test."""
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["NO_MKDOCS_2_WARNING"] = "1"
    env.update(extra)
    return env


def run(
    args: Sequence[str | Path],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    timeout: float = 600,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """`args` as a process, in `env` (else `clean_env()`); AssertionError with its output on
    a non-zero exit when `check`."""
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=dict(env) if env is not None else clean_env(),
        input=input,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise _failed(args, result.returncode, result.stdout, result.stderr)
    return result


def run_bytes(
    args: Sequence[str | Path],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    input: bytes | None = None,
    timeout: float = 600,
    check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    """`run` with bytes in and out, as they are: a message to sign, a blob."""
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=dict(env) if env is not None else clean_env(),
        input=input,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        out, err = (stream.decode(errors="replace") for stream in (result.stdout, result.stderr))
        raise _failed(args, result.returncode, out, err)
    return result


def _failed(args: Sequence[str | Path], code: int, stdout: str, stderr: str) -> AssertionError:
    return AssertionError(
        f"`{' '.join(str(a) for a in args)}` exited {code}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    )


def git_bytes(cwd: Path, *args: str) -> bytes:
    """git `args` in `cwd` in the test's environment, its output as bytes (a blob, say)."""
    return run_bytes(["git", *args], cwd=cwd, env=environment()).stdout


def git(
    cwd: Path,
    *args: str | Path,
    env: Mapping[str, str] | None = None,
    base: Mapping[str, str] | None = None,
    input: str | None = None,
) -> str:
    """git `args` in `cwd`, its output stripped; `env` is added to `base` (else the test's own
    environment). A failure is an AssertionError naming the command and what git said."""
    full = dict(base if base is not None else environment()) | dict(env or {})
    return run(["git", *args], cwd=cwd, env=full, input=input).stdout.strip()


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (yet)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
