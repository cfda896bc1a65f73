"""Review of collector.py: what a walk leaves is frozen (never collected) only for a command
that ends its process right after. Inside a CLI command, a site build (`qms build`, and
`qms serve`, which rebuilds on every change for as long as it runs) and the commands that
`qms demo` runs in its own process must leave nothing frozen: frozen, every walk's cycles stay
in memory until the command ends (measured: `qms serve` grew by 15 MB a rebuild at 2,000
commits; `qms demo` peaked at 379 MB, 81 MB before).
"""

from __future__ import annotations

import gc
import os
import sys
from datetime import date
from pathlib import Path

import pytest

from gitqms import collector
from gitqms.cli.demo import _qms_in_process
from gitqms.history import index_store
from gitqms.signatures.verify import walk_history
from gitqms.site.build import build_site
from toolkit.generated import generated_history
from toolkit.process import run


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_history(tmp_path_factory, "collector")


@pytest.fixture(autouse=True)
def own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    index_store._secret.cache_clear()
    assert gc.get_freeze_count() == 0


def test_a_walk_in_a_command_of_its_own_stays_frozen_until_the_command_ends(
    synthetic: Path,
) -> None:
    with collector.for_one_command():
        walk_history(synthetic)
        assert gc.get_freeze_count() > 0  # the design kept: a one-shot command
    assert gc.get_freeze_count() == 0


def test_a_site_build_inside_a_command_leaves_nothing_frozen(
    synthetic: Path, tmp_path: Path
) -> None:
    with collector.for_one_command():  # as the CLI runs `qms build` and `qms serve`
        for each in range(2):
            build_site(synthetic, tmp_path / f"site-{each}", on=date(2026, 7, 1))
            assert gc.get_freeze_count() == 0


def test_a_command_run_inside_a_command_leaves_nothing_frozen(synthetic: Path) -> None:
    with collector.for_one_command():  # as the CLI runs `qms demo`, which runs the others
        for _ in range(2):
            assert _qms_in_process(["-C", str(synthetic), "verify"]) in (0, 1)
            assert gc.get_freeze_count() == 0


NESTED = r"""
import contextlib, io, shutil, sys
from pathlib import Path
from gitqms import collector
from gitqms.cli.demo import _qms_in_process

repo, rounds = Path(sys.argv[1]), int(sys.argv[2])


def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024


seen = []
with collector.for_one_command():  # `qms demo`
    for _ in range(rounds):
        shutil.rmtree(repo / ".git" / "qms", ignore_errors=True)  # a whole walk each time
        with contextlib.redirect_stdout(io.StringIO()):
            _qms_in_process(["-C", str(repo), "verify"])
        seen.append(rss_mb())
print(*seen)
"""


def test_commands_run_inside_a_command_do_not_pile_up_their_walks(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Six whole walks of 2,000 commits, each by a command run inside another (as `qms demo`
    runs them): the process does not grow by a walk each time (it did by 14 MB: each walk's
    leftovers moved to the oldest generation, whose cycles no collection came to free)."""
    repo = generated_history(tmp_path_factory, "nested", "S")
    done = run([sys.executable, "-c", NESTED, repo, "6"], env=dict(os.environ))
    seen = [int(mb) for mb in done.stdout.split()]
    assert seen[-1] - seen[1] < 25, f"resident MB after each command: {seen}"
