"""A person at a terminal: a command run with stdin, stdout and stderr on a pseudo-terminal that
is its controlling terminal (`on_terminal`), and a scripted `$EDITOR` that plays the rounds a
person would type into the file it is given (`ScriptedEditor`).

The editor is a real program that git's rules find (`GIT_EDITOR`, `core.editor`, `VISUAL`,
`EDITOR`): on its n-th run it keeps a copy of the file it was given (`forms[n-1]`), notes the
path and whether it had the terminal (`calls[n-1]`), and writes the n-th answer into the file;
with no answer left it empties the file, and past `LIMIT` runs it fails, so a command that
would open it for ever ends.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import shlex
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LIMIT = 6  # runs of the scripted editor before it fails, as an editor that crashed would

_EDITOR = """\
import json, os, shutil, sys
from pathlib import Path

desk, form = Path(sys.argv[1]), Path(sys.argv[2])
n = len(list(desk.glob("form-*.txt"))) + 1
if n > {limit}:
    sys.exit("scripted editor: opened too many times")
shutil.copyfile(form, desk / f"form-{{n}}.txt")
call = {{"path": os.path.abspath(form), "args": sys.argv[2:], "tty": os.isatty(0) and os.isatty(1)}}
(desk / f"call-{{n}}.json").write_text(json.dumps(call))
answer = desk / f"answer-{{n}}.yaml"
form.write_text(answer.read_text() if answer.exists() else "")
"""

_MARKER = """\
import sys
from pathlib import Path

Path(sys.argv[1]).write_text("run\\n")
sys.exit(1)
"""


class ScriptedEditor:
    """An editor that answers round by round; `command` is what GIT_EDITOR (or EDITOR, …) holds."""

    def __init__(self, desk: Path, *answers: str) -> None:
        self.desk = desk
        desk.mkdir(parents=True, exist_ok=True)
        script = desk / "editor.py"
        script.write_text(_EDITOR.format(limit=LIMIT))
        for n, answer in enumerate(answers, start=1):
            (desk / f"answer-{n}.yaml").write_text(answer)
        self.command = f"{shlex.quote(sys.executable)} {shlex.quote(str(script))} {desk}"

    @property
    def forms(self) -> list[str]:
        """The files it was given, in the order it was run."""
        return [self.desk.joinpath(f"form-{n}.txt").read_text() for n in range(1, self.runs + 1)]

    @property
    def calls(self) -> list[dict[str, Any]]:
        """Each run's file path (absolute), arguments and whether it had the terminal."""
        return [
            json.loads(self.desk.joinpath(f"call-{n}.json").read_text())
            for n in range(1, self.runs + 1)
        ]

    @property
    def runs(self) -> int:
        return len(list(self.desk.glob("form-*.txt")))


class MarkerEditor:
    """An editor that must not run: if it does, it leaves `marker` and fails."""

    def __init__(self, desk: Path, name: str = "never") -> None:
        desk.mkdir(parents=True, exist_ok=True)
        script = desk / f"{name}.py"
        script.write_text(_MARKER)
        self.marker = desk / f"{name}.ran"
        self.command = f"{shlex.quote(sys.executable)} {shlex.quote(str(script))} {shlex.quote(str(self.marker))}"

    @property
    def ran(self) -> bool:
        return self.marker.exists()


_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][A-Za-z0-9]")


@dataclass(frozen=True)
class Screen:
    """What a command showed on the terminal (stdout and stderr together) and its exit code."""

    code: int
    text: str  # escape sequences removed, line ends as "\n"

    @property
    def flat(self) -> str:
        """The text with every run of white space as one space: free of the terminal's wrapping."""
        return " ".join(self.text.split())


def on_terminal(
    args: Sequence[str | Path],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float = 180,
    columns: int = 200,
    typed: str = "",
) -> Screen:
    """`args` run as at a desk: stdin, stdout and stderr on a new pseudo-terminal of `columns`
    columns, its controlling terminal; `typed` is typed ahead (lines the terminal holds until
    the command reads them). An AssertionError with what it showed
    when it is still running after `timeout` seconds."""
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    process = subprocess.Popen(
        [str(a) for a in args],
        cwd=cwd,
        env=dict(env),
        stdin=follower,
        stdout=follower,
        stderr=follower,
        start_new_session=True,
        preexec_fn=_take_terminal,
        close_fds=True,
    )
    os.close(follower)
    if typed:
        os.write(leader, typed.encode("utf-8"))
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                process.kill()
                process.wait()
                shown = b"".join(chunks).decode(errors="replace")
                raise AssertionError(f"still running after {timeout}s: {args}\n{shown}")
            ready, _, _ = select.select([leader], [], [], min(left, 0.2))
            if ready:
                try:
                    data = os.read(leader, 65536)
                except OSError:  # EIO: no process holds the terminal any more
                    data = b""
                if not data:
                    break
                chunks.append(data)
            elif process.poll() is not None:
                break  # exited; something it started may still hold the terminal
        code = process.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        os.close(leader)
    text = b"".join(chunks).decode("utf-8", errors="replace")
    return Screen(code, _ESCAPES.sub("", text).replace("\r\n", "\n").replace("\r", "\n"))


def _take_terminal() -> None:
    """In the child, after setsid: stdin's terminal becomes the controlling terminal."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
