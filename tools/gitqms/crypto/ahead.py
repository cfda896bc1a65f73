"""SSH signature checks run ahead of the walk, in a worker process on another core.

Checking a signature needs only the commit's payload and signature, nothing the walk learns, so
on a machine with two cores one of them checks while the other reads history and walks it. The
signatures go to the worker in batches while history is still being read, oldest first, so the
worker has a head start; when the walk reaches a batch not yet sent, it takes it back and checks
it itself, so the walk never waits long.

A process, not a thread: the walk holds the GIL almost all the time, and a thread that gives it
up for every verification then waits for it back, which made threads slower than none. The
worker is `python -m gitqms.crypto.ahead`, fed through pipes, rather than multiprocessing,
which would re-import the caller's main script in the worker.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import subprocess
import sys
import threading
from concurrent.futures import Future
from dataclasses import astuple, dataclass, field
from pathlib import Path
from typing import IO, Any

from .sshsig import SignatureError, parse_armored, verify

PARALLEL_FROM = 2000  # fewer signatures than this are checked in-process: a worker costs more
_BATCH = 250
_IN_FLIGHT = 2  # batches sent and not yet answered; the rest can still be taken back
_WAIT = 60.0  # seconds to wait for a batch the worker has begun before checking it here
_MAGIC = b"gitqms-ahead-1\n"
_MAX_FRAME = 256 * 1024 * 1024


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


@dataclass
class _Batch:
    items: list[tuple[str, bytes]]  # (armored signature, payload)
    future: Future[list[Outcome]] = field(default_factory=Future)


class SshChecks:
    """Outcomes by commit id. Offer signed commits as history is read; ask for each outcome."""

    def __init__(self) -> None:
        self._where: dict[str, tuple[_Batch, int]] = {}
        self._waiting: list[tuple[str, str, bytes]] = []  # offered, not yet batched
        self._offered = 0
        self._to_send: queue.SimpleQueue[_Batch | None] = queue.SimpleQueue()
        self._sent: queue.SimpleQueue[_Batch | None] = queue.SimpleQueue()
        self._slots = threading.Semaphore(_IN_FLIGHT)
        self._process: subprocess.Popen[bytes] | None = None
        self._threads: list[threading.Thread] = []
        self._off = (os.cpu_count() or 1) < 2  # one core: everything in-process

    def offer(self, commit: str, armored: str, payload: bytes) -> None:
        """A signature the walk will ask about; checked ahead once there are enough of them."""
        if self._off:
            return
        self._waiting.append((commit, armored, payload))
        self._offered += 1
        if self._offered >= PARALLEL_FROM and len(self._waiting) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        """Send what is waiting to the worker, if checking ahead is worth it."""
        if self._off or self._offered < PARALLEL_FROM or not self._waiting:
            return
        if self._process is None and not self._start():
            return
        for start in range(0, len(self._waiting), _BATCH):
            chunk = self._waiting[start : start + _BATCH]
            batch = _Batch([(armored, payload) for _, armored, payload in chunk])
            for position, (commit, _, _) in enumerate(chunk):
                self._where[commit] = (batch, position)
            self._to_send.put(batch)
        self._waiting.clear()

    def outcome(self, commit: str, armored: str, payload: bytes) -> Outcome:
        found = self._where.get(commit)
        if found is not None:
            batch, position = found
            if not batch.future.cancel():  # sent: the answer is on its way
                try:
                    return batch.future.result(timeout=_WAIT)[position]
                except Exception:  # the worker failed or stalled; check here instead
                    pass
        return check(armored, payload)

    def close(self) -> None:
        if self._process is None:
            return
        for batch, _ in self._where.values():
            batch.future.cancel()  # what was not sent need not be
        self._to_send.put(None)  # the sender stops, closes the worker's input, and it ends
        try:
            self._process.wait(timeout=_WAIT)
        except subprocess.TimeoutExpired:  # a worker that hangs is not waited for
            self._process.kill()
            self._process.wait()
        for thread in self._threads:
            thread.join()
        self._process = None

    # -- the worker -------------------------------------------------------------------------

    def _start(self) -> bool:
        self._process = start_worker("gitqms.crypto.ahead")
        if self._process is None:
            self._off = True
            return False
        assert self._process.stdin is not None and self._process.stdout is not None
        self._threads = [
            threading.Thread(target=self._send, args=(self._process.stdin,), daemon=True),
            threading.Thread(target=self._receive, args=(self._process.stdout,), daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return True

    def _send(self, stdin: IO[bytes]) -> None:
        try:
            while (batch := self._to_send.get()) is not None:
                if batch.future.cancelled():
                    continue
                self._slots.acquire()
                if not batch.future.set_running_or_notify_cancel():
                    self._slots.release()  # taken back by the walk
                    continue
                self._sent.put(batch)
                write_frame(stdin, batch.items)
        except OSError:
            pass  # the worker is gone; the receiver fails what was sent
        finally:
            self._sent.put(None)
            with contextlib.suppress(OSError):
                stdin.close()

    def _receive(self, stdout: IO[bytes]) -> None:
        failed: Exception | None = None
        while (batch := self._sent.get()) is not None:
            if failed is None:
                try:
                    answer = read_frame(stdout)
                    if answer is None:
                        raise EOFError("the signature worker stopped")
                    batch.future.set_result([Outcome(*values) for values in answer])
                except Exception as error:
                    failed = error
            if failed is not None:
                batch.future.set_exception(failed)
            self._slots.release()
        stdout.close()


def start_worker(module: str) -> subprocess.Popen[bytes] | None:
    """`python -m module`, fed and read through pipes; None when it cannot start. `python -m`
    puts its working directory first on sys.path: it runs where this gitqms is, never in the
    repository being read, whose files could shadow it."""
    try:
        return subprocess.Popen(
            [sys.executable, "-m", module],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=Path(__file__).resolve().parents[2],
        )
    except OSError:
        return None


def write_frame(stream: IO[bytes], value: object) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_MAGIC + len(data).to_bytes(8, "big") + data)
    stream.flush()


def read_frame(stream: IO[bytes]) -> Any:
    """The next value, or None at the end. Pickle, since both ends are gitqms; the magic
    catches anything else that writes to the pipe (a sitecustomize that prints, say)."""
    header = stream.read(len(_MAGIC) + 8)
    if not header:
        return None
    if len(header) < len(_MAGIC) + 8 or not header.startswith(_MAGIC):
        raise ValueError("the signature worker's answer is garbled")
    size = int.from_bytes(header[len(_MAGIC) :], "big")
    if size > _MAX_FRAME:
        raise ValueError("the signature worker's answer is too large")
    return pickle.loads(stream.read(size))


def _serve(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """The worker: batches of (signature, payload) in, one Outcome's fields per item out."""
    while (items := read_frame(stdin)) is not None:
        write_frame(stdout, [astuple(check(armored, payload)) for armored, payload in items])


if __name__ == "__main__":
    _serve(sys.stdin.buffer, sys.stdout.buffer)
