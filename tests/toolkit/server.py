"""A real Git server for tests: a bare repository with the gitqms hooks, behind `git daemon`.

`git daemon --enable=receive-pack` listens on 127.0.0.1 on a free port and runs the hooks the
way a server does: in the bare repository, with the daemon's own, minimal environment (a PATH
and an empty HOME), never the test's. Clients push and fetch over git://.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .cli import qms
from .process import environment, free_port, git, run


@dataclass(frozen=True)
class Pushed:
    code: int
    stderr: str  # what the pusher's terminal shows, with the server's 'remote:' lines
    stdout: str  # git push --porcelain: one line per ref, 'FLAG\tFROM:TO\tSUMMARY'

    @property
    def ok(self) -> bool:
        return self.code == 0

    def status(self, ref: str) -> str:
        """The summary git push gave for the remote `ref`, e.g. '[remote rejected] (…)'."""
        for line in self.stdout.splitlines():
            parts = line.split("\t")
            if len(parts) == 3 and parts[1].endswith(f":{ref}"):
                return f"{parts[0]} {parts[2]}"
        raise AssertionError(f"git push said nothing about {ref}: {self.stdout}{self.stderr}")

    @property
    def remote(self) -> list[str]:
        """What the server's hooks said, as the pusher's terminal shows it after 'remote: '."""
        return [
            line.removeprefix("remote: ").rstrip()
            for line in self.stderr.splitlines()
            if line.startswith("remote: ")
        ]


def push(clone: Path, *args: str) -> Pushed:
    result = run(["git", "push", "--porcelain", *args], cwd=clone, env=environment(), check=False)
    assert "Traceback" not in result.stderr, result.stderr
    return Pushed(result.returncode, result.stderr, result.stdout)


def push_at_once(clones: Sequence[Path], *args: str) -> list[Pushed]:
    """`push` from each of `clones` at the same time, each in its own thread: a race for the
    server, the results in the order of `clones`."""
    with ThreadPoolExecutor(max_workers=len(clones)) as pool:
        return list(pool.map(lambda clone: push(clone, *args), clones))


class GitServer:
    def __init__(self, base: Path) -> None:
        self.base = base / "server"
        self.base.mkdir()
        self.repo = self.base / "qms.git"
        self.home = base / "daemon-home"  # an empty HOME: no git configuration of the tests
        self.home.mkdir()
        self.log = base / "daemon.log"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"git://127.0.0.1:{self.port}/qms.git"

    def create(self, seed: Path | None = None) -> None:
        """An empty bare repository, or a bare copy of `seed` (history from before the hook)."""
        if seed is None:
            git(self.base, "init", "-q", "--bare", "--initial-branch=main", self.repo)
        else:
            git(self.base, "clone", "-q", "--bare", seed, self.repo)

    def install(self) -> str:
        result = qms("hook", "install", str(self.repo))
        assert result.exit_code == 0, result.output + result.stderr
        return result.output

    def start(self) -> None:
        for _ in range(5):  # a port found free can be taken before the daemon binds it
            port = free_port()
            with self.log.open("ab") as log:
                process = subprocess.Popen(
                    [
                        "git",
                        "daemon",
                        "--reuseaddr",
                        "--listen=127.0.0.1",
                        f"--port={port}",
                        f"--base-path={self.base}",
                        "--export-all",
                        "--enable=receive-pack",
                        "--informative-errors",
                        str(self.base),
                    ],
                    cwd=self.base,
                    env={"PATH": "/usr/bin:/bin", "HOME": str(self.home)},
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                )
            if self._listening(process, port):
                self.process, self.port = process, port
                return
            self._end(process)
        raise AssertionError(f"git daemon did not start: {self.log.read_text()}")

    @staticmethod
    def _listening(process: subprocess.Popen[bytes], port: int) -> bool:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    @staticmethod
    def _end(process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def stop(self) -> None:
        if self.process is not None:
            self._end(self.process)
            self.process = None

    def git(self, *args: str) -> str:
        return git(self.repo, *args)

    def tip(self, ref: str = "refs/heads/main") -> str | None:
        result = run(
            ["git", "rev-parse", "--verify", "--quiet", ref],
            cwd=self.repo,
            env=environment(),
            check=False,
        )
        return result.stdout.strip() or None
