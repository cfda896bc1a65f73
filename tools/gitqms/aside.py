"""Work that only a later run reads, finished in a forked child while this process goes on.

After a walk of history two jobs remain, each on one core: this process makes the marks and
prints its report, and the walk's result is kept in the history index for the next run. With
two cores the second job runs beside the first: a forked child (it has the walk from the fork,
nothing is copied) prepares what it can at once and waits for the little the marks decide,
which this process sends it when they are made.

Only a command that will wait for its children forks (`allowing`, entered by the CLI around a
command): on leaving, it waits for each child it started, or stops it first when leaving on an
error such as Ctrl-C. Elsewhere, with one core, with a thread running (a fork would copy locks
other threads hold) or where fork cannot be used, `start` returns None and the caller does the
work itself: the result is the same either way. The child never writes to the terminal, never
returns into the caller's code, and ends with `os._exit`.
"""

from __future__ import annotations

import contextlib
import gc
import marshal
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from types import FrameType
from typing import Any

Receive = Callable[[], Any]  # in the child: what the parent sent (marshal data), None if nothing

_HELD = {signal.SIGINT, signal.SIGTERM}  # blocked over a fork
_started: list[list[Child]] = []  # the children of each `allowing` block entered, innermost last


class Child:
    """A forked child running some work; `send` gives it the value it waits for."""

    def __init__(self, pid: int, to_child: int, shared: int) -> None:
        self.pid = pid
        self._to_child: int | None = to_child  # a pipe: the value's size, then its end
        self._shared = shared  # an unlinked file both hold open: the value itself

    def send(self, value: Any) -> bool:
        """Send `value` (marshal data) to the child; it reads it as one whole. The value goes
        into a file, so sending never waits for the child to read. False when it could not be
        sent (the child was already told there is nothing, or is gone): do the work yourself."""
        if self._to_child is None:
            return False
        data, written = marshal.dumps(value), 0
        try:
            while written < len(data):
                written += os.pwrite(self._shared, data[written:], written)
            os.write(self._to_child, len(data).to_bytes(8, "big"))
            return True
        except OSError:
            return False  # a full disk, or the child is gone: it keeps nothing
        finally:
            self.close()

    def close(self) -> None:
        """Send nothing more: a child still waiting reads None."""
        if self._to_child is not None:
            os.close(self._to_child)
            os.close(self._shared)
            self._to_child = None

    def wait(self, stop: bool) -> None:
        """Wait for the child to end; `stop`: stop it first (it unwinds where it is)."""
        with contextlib.suppress(ChildProcessError, ProcessLookupError):
            if stop:
                os.kill(self.pid, signal.SIGTERM)
            else:
                self.close()  # first: one still waiting for its value reads None
            os.waitpid(self.pid, 0)
        self.close()


@contextlib.contextmanager
def allowing() -> Iterator[None]:
    """Let `start` fork within this block; on leaving it, wait for every child started in it
    (stopped first when leaving on Ctrl-C)."""
    children: list[Child] = []
    _started.append(children)
    stop = False
    try:
        yield
    except KeyboardInterrupt:
        stop = True
        raise
    finally:
        del _started[next(i for i, each in enumerate(_started) if each is children)]
        for child in children:
            child.wait(stop)


def settle() -> None:
    """Wait for every child started so far (one still waiting for its value gets none), so
    that what they write is there to read."""
    for children in _started:
        for child in children:
            child.wait(stop=False)
        children.clear()


def start(work: Callable[[Receive], None]) -> Child | None:
    """Run `work(receive)` in a forked child; None when not forked here (do the work yourself)."""
    if not _started or not _can_fork():
        return None
    try:
        shared = _unlinked_file()
    except OSError:
        return None
    readable, writable = os.pipe()
    # Ctrl-C or a stop held over the fork: a child would otherwise take one before it ignores
    # them and unwind into the caller's code; here, one taken before the child is known.
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        pid = os.fork()
    except OSError:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        for fd in (readable, writable, shared):
            os.close(fd)
        return None
    if pid == 0:  # the child: it never returns from here
        _in_child(work, readable, writable, shared, held)
    os.close(readable)
    child = Child(pid, writable, shared)
    _started[-1].append(child)
    signal.pthread_sigmask(signal.SIG_SETMASK, held)
    return child


def _unlinked_file() -> int:
    with tempfile.TemporaryFile() as handle:
        return os.dup(handle.fileno())


def _can_fork() -> bool:
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return False
    try:
        return len(os.sched_getaffinity(0)) > 1 and room_for_a_copy(*_memory_files())
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return False


def _memory_files() -> tuple[str, str, str | None, str | None]:
    def text(path: str) -> str | None:
        try:
            with open(path, encoding="ascii") as handle:
                return handle.read()
        except OSError:
            return None

    meminfo, statm = text("/proc/meminfo"), text("/proc/self/statm")
    if meminfo is None or statm is None:
        raise OSError("no /proc")
    cgroup = "/sys/fs/cgroup/memory"
    return meminfo, statm, text(f"{cgroup}.max"), text(f"{cgroup}.current")


def room_for_a_copy(meminfo: str, statm: str, limit: str | None, used: str | None) -> bool:
    """Whether the machine, and the cgroup this runs in (`limit` and `used`: its memory.max
    and memory.current), have room for a second copy of this process: the child's pages are
    copied as both processes touch them, close to a whole copy by the time it ends (190 MB
    beside a walk of 20,000 commits in 213 MB). Twice this process's resident size must be
    free, so that neither runs short."""
    resident = int(statm.split()[1]) * os.sysconf("SC_PAGE_SIZE")
    fields = dict(line.split(":", 1) for line in meminfo.splitlines() if ":" in line)
    available = int(fields["MemAvailable"].split()[0]) * 1024 if "MemAvailable" in fields else 0
    if limit is not None and used is not None and limit.strip().isdigit():
        available = min(available, int(limit) - int(used))
    return available >= 2 * resident


def _in_child(
    work: Callable[[Receive], None], readable: int, writable: int, shared: int, held: Iterable[int]
) -> None:
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        signal.signal(signal.SIGTERM, _stop)  # unwinds, so a half-written file is removed
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        os.close(writable)
        for children in _started:  # its copies of the pipes to earlier children
            for earlier in children:
                earlier.close()
        _started.clear()
        gc.disable()  # short-lived; a collection would copy every page the parent's objects fill
        quiet = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(quiet, fd)
        sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - ends with the child
        work(_receiver(readable, shared))
        code = 0
    except BaseException:  # best effort: no answer of the parent depends on it
        pass
    finally:
        os._exit(code)


def _stop(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: never again inside the unwinding
    sys.exit(1)


def _receiver(readable: int, shared: int) -> Receive:
    """`receive()`: waits for the parent's value (None if it sends none)."""

    def receive() -> Any:
        size = b""
        while len(size) < 8 and (more := os.read(readable, 8 - len(size))):
            size += more
        if len(size) < 8:
            return None
        length, data = int.from_bytes(size, "big"), bytearray()
        while len(data) < length and (more := os.pread(shared, length - len(data), len(data))):
            data += more
        return marshal.loads(data) if len(data) == length else None

    return receive
