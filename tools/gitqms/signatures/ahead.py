"""SSH signature checks run ahead of the walk, in a worker process on another core.

Checking a signature needs only the commit's payload and signature, nothing the walk learns, so
on a machine with two cores one of them can check while the other walks. The worker takes the
signatures from the newest backwards while the walk, from the oldest, checks any it reaches
first itself: the two meet in the middle and neither waits for the other.

A process, not a thread: the walk holds the GIL almost all the time, and a thread that gives it
up for every verification then waits for it back, which made threads slower than none.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from .sshsig import SignatureError, parse_armored, verify

PARALLEL_FROM = 2000  # fewer signatures than this are checked in-process: a worker costs more
_BATCH = 250


@dataclass(frozen=True)
class Outcome:
    """One signature's check, small enough to pass between processes."""

    fingerprint: str | None = None  # of the key that made a good signature
    is_sk: bool = False
    user_present: bool = True
    user_verified: bool = False
    error: str | None = None  # why the signature does not verify


def check(armored: str, payload: bytes) -> Outcome:
    try:
        checked = verify(parse_armored(armored), payload)
    except SignatureError as error:
        return Outcome(error=str(error))
    key = checked.key
    return Outcome(key.fingerprint, key.is_sk, checked.user_present, checked.user_verified)


def _check_batch(batch: Sequence[tuple[str, bytes]]) -> list[Outcome]:
    return [check(armored, payload) for armored, payload in batch]


class SshChecks:
    """Outcomes by commit id; `outcome()` never waits for a worker that has not got there."""

    def __init__(self, signed: Sequence[tuple[str, str, bytes]]) -> None:
        """`signed`: (commit id, armored signature, payload), oldest first."""
        self._where: dict[str, tuple[Future[list[Outcome]], int]] = {}
        self._pool: ProcessPoolExecutor | None = None
        if len(signed) < PARALLEL_FROM or (os.cpu_count() or 1) < 2:
            return
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        try:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=context)
            for start in reversed(range(0, len(signed), _BATCH)):
                batch = signed[start : start + _BATCH]
                future = self._pool.submit(_check_batch, [(a, p) for _, a, p in batch])
                for position, (commit, _, _) in enumerate(batch):
                    self._where[commit] = (future, position)
        except (OSError, BrokenProcessPool):  # no processes here: check everything in-process
            self.close()
            self._where.clear()

    def outcome(self, commit: str, armored: str, payload: bytes) -> Outcome:
        found = self._where.get(commit)
        if found is not None:
            future, position = found
            if future.done() and not future.cancelled() and future.exception() is None:
                return future.result()[position]
            future.cancel()  # not started yet: the worker need not do it
        return check(armored, payload)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
