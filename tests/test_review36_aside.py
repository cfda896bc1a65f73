"""Review of aside.py: a Ctrl-C (SIGINT to the whole process group) that reaches the forked
child before it ignores SIGINT must not unwind the child into the caller's code (its `except`
and `finally` blocks, up to the CLI's error handling), whatever the moment it lands.

The race runs in a small Python process of its own (this test's own process is larger, so its
fork takes longer): the parent sends SIGINT to each child a little later each time, over the
span in which the child starts up, and every child that reaches the caller's code leaves a
file saying so.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

RACE = r"""
import os, signal, sys, time
from pathlib import Path
from gitqms import aside

out, rounds = Path(sys.argv[1]), int(sys.argv[2])
main = os.getpid()


def work(receive):
    receive()


for each in range(rounds):
    delay = (each % 40) * 25e-6  # 0 to 1 ms after the fork
    try:
        with aside.allowing():
            child = aside.start(work)
            assert child is not None, "no fork: the race is not run"
            started = time.perf_counter()
            while time.perf_counter() - started < delay:
                pass
            os.kill(child.pid, signal.SIGINT)
            child.close()
    except BaseException:
        if os.getpid() != main:
            (out / f"unwound-{os.getpid()}").write_text("the child ran the caller's except")
            os._exit(0)
        raise
    finally:
        if os.getpid() != main:
            (out / f"finally-{os.getpid()}").write_text("the child ran the caller's finally")
            os._exit(0)
print("rounds", rounds)
"""


def test_ctrl_c_at_the_fork_never_runs_the_callers_code_in_the_child(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", RACE, str(out), "800"],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "rounds 800" in result.stdout
    escaped = sorted(p.name.split("-")[0] for p in out.iterdir())
    assert escaped == [], f"{len(escaped)} of 800 children ran the caller's code"
