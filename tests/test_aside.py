"""Work finished in a forked child (gitqms/aside.py): what the parent sends arrives whole, the
parent never waits on the child before it leaves the block, and the child never reaches the
caller's code, its terminal or its exit path.

Each child here leaves its trace in a file, since it shares nothing else with the test.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitqms import aside

WAIT = 30.0  # seconds a test waits for a child's file before it fails


def wait_for(path: Path) -> None:
    deadline = time.monotonic() + WAIT
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name} never appeared")
        time.sleep(0.01)


def writes(path: Path) -> Callable[[aside.Receive], None]:
    """Work that writes what it receives (repr) to `path`."""

    def work(receive: aside.Receive) -> None:
        value = receive()
        path.write_text(repr(value))

    return work


def test_outside_a_block_nothing_forks(tmp_path: Path) -> None:
    assert aside.start(writes(tmp_path / "out")) is None
    assert not (tmp_path / "out").exists()


def test_the_child_gets_what_is_sent_and_the_block_waits_for_it(tmp_path: Path) -> None:
    value = {"final": [(3, ("revoked",), None)], "read": {"abc:sops/SOP-1.md": None}}
    with aside.allowing():
        child = aside.start(writes(tmp_path / "out"))
        assert child is not None and child.pid != os.getpid()
        assert child.send(value) is True
    assert (tmp_path / "out").read_text() == repr(value)  # written before the block was left
    with pytest.raises(ChildProcessError):
        os.waitpid(child.pid, os.WNOHANG)  # and reaped


def test_a_child_sent_nothing_receives_none(tmp_path: Path) -> None:
    with aside.allowing():
        child = aside.start(writes(tmp_path / "out"))
        assert child is not None
        child.close()
    assert (tmp_path / "out").read_text() == "None"


def test_a_large_value_arrives_whole_and_sending_never_waits_for_the_child(
    tmp_path: Path,
) -> None:
    """The child reads only once the parent says it sent: were `send` to block on a full pipe
    until the child reads, neither would go on (the alarm ends the test)."""
    sent, out = tmp_path / "sent", tmp_path / "out"
    value = [bytes([n % 251]) * 1000 for n in range(8000)]  # 8 MB: far more than a pipe holds

    def work(receive: aside.Receive) -> None:
        wait_for(sent)
        got = receive()
        out.write_text(f"{len(got)} {got == value}")

    previous = signal.signal(signal.SIGALRM, signal.default_int_handler)
    signal.alarm(int(WAIT))
    try:
        with aside.allowing():
            child = aside.start(work)
            assert child is not None
            child.send(value)
            sent.touch()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert out.read_text() == "8000 True"


def test_a_child_never_returns_into_the_caller_even_when_its_work_fails(tmp_path: Path) -> None:
    def work(receive: aside.Receive) -> None:
        receive()
        raise RuntimeError("broken")

    with aside.allowing():
        child = aside.start(work)
        (tmp_path / f"after-start-{os.getpid()}").touch()  # a child come back would add one
        assert child is not None
        child.send(1)
    assert [p.name for p in tmp_path.iterdir()] == [f"after-start-{os.getpid()}"]


def test_the_child_writes_nothing_to_the_parents_terminal(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    def work(receive: aside.Receive) -> None:
        print("from the child", flush=True)
        os.write(1, b"raw from the child\n")
        os.write(2, b"raw error from the child\n")
        (tmp_path / "out").write_text(repr(receive()))

    with aside.allowing():
        child = aside.start(work)
        assert child is not None
        child.send("x")
    out, err = capfd.readouterr()
    assert "child" not in out and "child" not in err
    assert (tmp_path / "out").read_text() == "'x'"


def test_ctrl_c_stops_the_child_which_unwinds(tmp_path: Path) -> None:
    started, unwound = tmp_path / "started", tmp_path / "unwound"

    def work(receive: aside.Receive) -> None:
        started.touch()
        try:
            receive()  # never sent: the parent is interrupted first
        finally:
            unwound.touch()  # as Store.write removes its temporary file

    with pytest.raises(KeyboardInterrupt), aside.allowing():
        child = aside.start(work)
        assert child is not None
        wait_for(started)
        raise KeyboardInterrupt
    assert unwound.exists()
    with pytest.raises(ChildProcessError):
        os.waitpid(child.pid, os.WNOHANG)


def test_an_error_other_than_ctrl_c_still_lets_the_child_finish(tmp_path: Path) -> None:
    """A command that fails after its walk (or exits 1 with findings) keeps the walk's index."""
    with pytest.raises(ValueError), aside.allowing():
        child = aside.start(writes(tmp_path / "out"))
        assert child is not None
        child.send("kept")
        raise ValueError("a finding")
    assert (tmp_path / "out").read_text() == "'kept'"


def test_settle_waits_for_children_inside_the_block(tmp_path: Path) -> None:
    with aside.allowing():
        first = aside.start(writes(tmp_path / "first"))
        second = aside.start(writes(tmp_path / "second"))
        assert first is not None and second is not None
        first.send(1)
        aside.settle()  # `second` was sent nothing: it gets None rather than hang
        assert (tmp_path / "first").read_text() == "1"
        assert (tmp_path / "second").read_text() == "None"
        assert second.send(2) is False  # too late: it has ended; the caller does the work
    assert (tmp_path / "second").read_text() == "None"


def test_nested_blocks_each_wait_for_their_own_children(tmp_path: Path) -> None:
    with aside.allowing():
        outer = aside.start(writes(tmp_path / "outer"))
        assert outer is not None
        with aside.allowing():
            inner = aside.start(writes(tmp_path / "inner"))
            assert inner is not None
            inner.send("in")
        assert (tmp_path / "inner").read_text() == "'in'"
        assert not (tmp_path / "outer").exists()  # still waiting for its value
        outer.send("out")
    assert (tmp_path / "outer").read_text() == "'out'"


def test_a_later_child_does_not_hold_an_earlier_ones_pipe_open(tmp_path: Path) -> None:
    """A child forked later must not keep a copy of the pipe to an earlier one, or the earlier
    child would not see the end of what it is sent until the later one ends."""
    release = tmp_path / "release"

    def lingers(receive: aside.Receive) -> None:
        wait_for(release)
        (tmp_path / "later").write_text(repr(receive()))

    with aside.allowing():
        earlier = aside.start(writes(tmp_path / "earlier"))
        later = aside.start(lingers)
        assert earlier is not None and later is not None
        earlier.close()
        wait_for(tmp_path / "earlier")  # it saw the end while `later` still runs
        release.touch()
        later.send(None)
    assert (tmp_path / "earlier").read_text() == "None"


def test_with_a_thread_running_nothing_forks(tmp_path: Path) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        with aside.allowing():
            assert aside.start(writes(tmp_path / "out")) is None
    finally:
        stop.set()
        thread.join()


def test_values_are_plain_data(tmp_path: Path) -> None:
    class Opaque:
        pass

    value: Any = Opaque()
    with aside.allowing():
        child = aside.start(writes(tmp_path / "out"))
        assert child is not None
        with pytest.raises(ValueError):
            child.send(value)  # marshal refuses it: no pickled object crosses
        child.close()
    assert (tmp_path / "out").read_text() == "None"


MEMINFO = "MemTotal:       24000000 kB\nMemFree:         1000000 kB\nMemAvailable:    {} kB\n"


@pytest.mark.parametrize(
    ("available_kb", "limit", "used", "room"),
    [
        (8_000_000, None, None, True),  # 8 GB free for a 1 GB process
        (1_500_000, None, None, False),  # 1.5 GB: not twice the process
        (8_000_000, "max\n", "5000000000\n", True),  # a cgroup without a limit
        (8_000_000, "3000000000\n", "2000000000\n", False),  # its limit leaves 1 GB
        (8_000_000, "6000000000\n", "2000000000\n", True),
    ],
)
def test_a_child_is_forked_only_with_room_for_a_second_copy(
    available_kb: int, limit: str | None, used: str | None, room: bool
) -> None:
    page = os.sysconf("SC_PAGE_SIZE")
    statm = f"900000 {1_000_000_000 // page} 100 1 0 500 0\n"  # 1 GB resident
    meminfo = MEMINFO.format(available_kb)
    assert aside.room_for_a_copy(meminfo, statm, limit, used) is room


def test_this_machine_has_room_for_the_tests_children() -> None:
    """Else every test above that expects a child would be testing the in-process path."""
    assert aside._can_fork()
