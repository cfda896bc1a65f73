"""A `git` that kills its caller: the harness of the crash-consistency tests.

A small shell script named `git`, first on the PATH of a qms subprocess, counts the git calls
the process makes and, at call N, kills the qms process (its parent) with SIGKILL, either
before running the real git or just after it. Running a command once for every N, before and
after, interrupts it at every point where it reaches the repository.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .cli import qms_command

SHIM = """#!/bin/bash
# Counts calls under a lock (git calls may overlap); kills the caller at call $QMS_KILL_AT.
exec 9>>"$QMS_SHIM_STATE/lock"
flock 9
n=$(( $(cat "$QMS_SHIM_STATE/count" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$QMS_SHIM_STATE/count"
printf '%s %s\\n' "$n" "$*" >> "$QMS_SHIM_STATE/calls"
exec 9>&-
if [ "$n" = "$QMS_KILL_AT" ] && [ "$QMS_KILL_WHEN" = before ]; then
    kill -9 "$PPID"; exit 137
fi
"{real}" "$@"
code=$?
if [ "$n" = "$QMS_KILL_AT" ]; then kill -9 "$PPID"; fi
exit $code
"""


@dataclass(frozen=True)
class Run:
    killed: bool
    calls: list[str]  # the git calls made, "N args"
    output: str


class KillSwitch:
    def __init__(self, folder: Path) -> None:
        real = shutil.which("git")
        assert real is not None
        self.bin = folder / "bin"
        self.bin.mkdir(parents=True)
        shim = self.bin / "git"
        shim.write_text(SHIM.format(real=real))
        shim.chmod(0o755)
        self.state = folder / "state"

    def run(
        self, repo: Path, args: list[str], env: dict[str, str], at: int = 0, when: str = "after"
    ) -> Run:
        """`qms --repo REPO ARGS` as its own process; at git call `at` (0: never) it is killed."""
        shutil.rmtree(self.state, ignore_errors=True)
        self.state.mkdir()
        shim = {
            "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            "QMS_SHIM_STATE": str(self.state),
            "QMS_KILL_AT": str(at),
            "QMS_KILL_WHEN": when,
        }
        process = qms_command("--repo", repo, *args, env=os.environ | env | shim, check=False)
        calls_file = self.state / "calls"
        calls = calls_file.read_text().splitlines() if calls_file.exists() else []
        return Run(process.returncode == -9, calls, process.stdout + process.stderr)
