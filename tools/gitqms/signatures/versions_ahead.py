"""The versions that signatures name, read ahead of the walk in a worker on the other core.

Judging a signature reads the version its record's content states (claims.stated_version):
one YAML load per content, the largest share of a cold walk's own work. It depends on the
content alone, so a worker process reads the contents of the walk's signatures by blob id,
in the order the walk will ask, and sends back what it learnt; the walk finds it cached, or
reads it itself when the worker is not there yet. An answer is filed under the sha256 of the
bytes the worker read, so it can only ever stand for those bytes: a wrong blob id costs a
miss, never a wrong version.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from .. import git
from ..crypto.ahead import read_frame, start_worker, write_frame
from .claims import remember, version_facts

READ_AHEAD_FROM = 2000  # fewer contents than this are read in the walk: a worker costs more
_CHUNK = 64  # answers per frame
Facts = tuple[bool, bytes, str | None, bool]  # markdown?, sha256, version, loads as a mapping


class VersionsAhead:
    """A worker reading `items` (whether the record is Markdown, the blob id), in order."""

    def __init__(self, root: Path, items: Sequence[tuple[bool, str]]) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        if len(items) < READ_AHEAD_FROM or (os.cpu_count() or 1) < 2:
            return
        self._process = start_worker("gitqms.signatures.versions_ahead")
        if self._process is None:
            return
        assert self._process.stdin is not None and self._process.stdout is not None
        with contextlib.suppress(OSError):
            write_frame(self._process.stdin, (str(root), list(items)))
            self._process.stdin.close()
        self._thread = threading.Thread(target=_receive, args=(self._process.stdout,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the worker, done or not: what it has not read, the walk reads itself."""
        if self._process is None:
            return
        self._process.kill()
        self._process.wait()
        if self._thread is not None:
            self._thread.join()
        self._process = None


def _receive(stdout: IO[bytes]) -> None:
    with contextlib.suppress(Exception):  # a worker that fails leaves the walk to read
        while (answers := read_frame(stdout)) is not None:
            for markdown, digest, version, mapping in answers:
                remember((markdown, digest), version, mapping)
    stdout.close()


def _serve(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """The worker: (repository, items) in; frames of Facts out, in the items' order."""
    job = read_frame(stdin)
    if job is None:
        return
    root, items = job
    answers: list[Facts] = []
    read = git.cat_objects(Path(root), [blob for _, blob in items])  # in the order asked
    for (markdown, _), (_, kind, content) in zip(items, read, strict=True):
        if kind != "blob" or content is None:
            continue
        digest = hashlib.sha256(content).digest()
        answers.append((markdown, digest, *version_facts(content, markdown=markdown)))
        if len(answers) >= _CHUNK:
            write_frame(stdout, answers)
            answers = []
    if answers:
        write_frame(stdout, answers)


if __name__ == "__main__":
    _serve(sys.stdin.buffer, sys.stdout.buffer)
