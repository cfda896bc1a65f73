"""The rows of `make bench` that judge what CI pays, and the floor of a verify walk.

Fresh clone: CI starts from `git clone` with no `.git/qms` and no index key. The bench
repository is cloned once per run with `git clone --no-local` (objects copied and packed as a
fetch packs them, not hard-linked); before each timed run that clone is copied afresh and the
command runs with an empty HOME (so no key in ~/.cache/gitqms), timing `qms check
HEAD~50..HEAD`, `qms verify` and `qms log RECORD` there.

Floor: what no verify walk can avoid, measured in this run on this machine: Ed25519
verification of every e-signature with `cryptography` on one core (floor_sigs.py, which times
only the checking), and on the other core git's own reading of the history: `git log --raw`
of every commit and `git cat-file --batch` of every commit object. The floor is the larger of
the two cores' work: max(signatures, log --raw + cat-file).

Warm status: `qms status` with the index of HEAD, against libyaml parsing every record file.

Targets judged by a figure other than the baseline ratio say which figure in their text.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from run import (
    CHECK_BASE,
    HERE,
    Bench,
    Command,
    Operation,
    Result,
    Target,
    Timing,
    check_output,
    count_files,
    environment,
    git_check_baseline,
    index_at,
    measure,
    qms,
)
from synth_repo import qms_command

FLOOR_TARGET = 2.5  # cold verify <= 2.5x the floor
CHECK_SECONDS = 2.5  # fresh-clone check of 50 commits at M
CHECK_L_OVER_M = 1.5  # at L, <= 1.5x its M time
LOG_SECONDS = 1.5
STATUS_SECONDS = 1.5


def clone_folder(bench: Bench) -> Path:
    return bench.folder / "fresh-clone"


def pristine(bench: Bench) -> Path:
    """`git clone --no-local` of the bench repository, made once per run of the harness."""
    made = bench.folder / "fresh-pristine"
    if not (made / ".git").is_dir():
        shutil.rmtree(made, ignore_errors=True)
        subprocess.run(
            ["git", "clone", "-q", "--no-local", str(bench.repo), str(made)],
            check=True,
            env=environment(),
        )
    return made


def fresh_clone(bench: Bench) -> Callable[[], None]:
    """Before each run: a copy of the pristine clone (nothing in .git/qms) and an empty HOME."""

    def prepare() -> None:
        source, target, home = pristine(bench), clone_folder(bench), bench.folder / "fresh-home"
        shutil.rmtree(target, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(source, target, symlinks=True)
        home.mkdir()
        if (target / ".git" / "qms").exists():
            raise SystemExit("the fresh clone holds .git/qms")

    return prepare


def clean(bench: Bench) -> None:
    """Remove the clones and HOME of this run."""
    for name in ("fresh-pristine", "fresh-clone", "fresh-home"):
        shutil.rmtree(bench.folder / name, ignore_errors=True)


def in_clone(
    bench: Bench, *args: str, scale: Callable[[bytes], tuple[float, str]] | None = None
) -> Command:
    home = bench.folder / "fresh-home"
    env = {"HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")}
    argv = [*qms_command(), "--repo", str(clone_folder(bench)), *args]
    command = Command(argv, env=env, prepare=fresh_clone(bench))
    return replace(command, scale=scale) if scale else command


def clone_baseline(command: Command, bench: Bench) -> Command:
    """A git baseline run in the clone (made before it, untimed)."""
    fresh_clone(bench)()
    return replace(command, cwd=clone_folder(bench))


def seconds_within(limit: float) -> Callable[[Result], float]:
    return lambda r: r.qms.median / limit


def l_over_m(result: Result) -> float:
    """The fresh-clone check at L over its M time (bench-M.json of the results folder)."""
    medium = json.loads((HERE / "results" / "bench-M.json").read_text())
    return result.qms.median / medium["operations"]["check (fresh clone)"]["qms"]["seconds"]


def fresh_operations() -> list[Operation]:
    check = Operation(
        "check (fresh clone)",
        qms=lambda b: in_clone(
            b, "check", f"{CHECK_BASE}..HEAD", "--format", "json", scale=check_output
        ),
        baseline=lambda b: clone_baseline(git_check_baseline(b), b),
        baseline_name="git log --raw %G? (50)",
        compare="ratio",
        targets=(
            Target(
                f"M <= {CHECK_SECONDS} s",
                lambda r: r.qms.median <= CHECK_SECONDS,
                sizes=("M",),
                figure=seconds_within(CHECK_SECONDS),
            ),
            Target(
                f"L <= {CHECK_L_OVER_M}x M",
                lambda r: l_over_m(r) <= CHECK_L_OVER_M,
                sizes=("L",),
                figure=l_over_m,
            ),
        ),
        index="fresh clone",
    )
    verify = Operation(
        "verify (fresh clone)",
        qms=lambda b: in_clone(b, "verify"),
        baseline=floor_command,
        baseline_name="floor",
        compare="ratio",
        targets=(Target(f"<= {FLOOR_TARGET}x floor", lambda r: r.ratio <= FLOOR_TARGET),),
        index="fresh clone",
    )
    log = Operation(
        "log (fresh clone)",
        qms=lambda b: in_clone(b, "log", b.manifest["log_record"]["id"]),
        baseline=lambda b: clone_baseline(
            Command(["git", "log", "--", b.manifest["log_record"]["path"]]), b
        ),
        baseline_name="git log -- PATH",
        compare="ratio",
        targets=(
            Target(
                f"<= {LOG_SECONDS} s",
                lambda r: r.qms.median <= LOG_SECONDS,
                figure=seconds_within(LOG_SECONDS),
            ),
        ),
        index="fresh clone",
    )
    status = Operation(
        "status (warm)",
        qms=lambda b: Command([*qms(b), "status"], prepare=index_at(b, "HEAD")),
        baseline=lambda b: Command(
            [sys.executable, str(HERE / "baseline_parse.py"), str(b.repo)], scale=count_files(b)
        ),
        baseline_name="libyaml parse",
        compare="ratio",
        targets=(
            Target(
                f"<= {STATUS_SECONDS} s",
                lambda r: r.qms.median <= STATUS_SECONDS,
                figure=seconds_within(STATUS_SECONDS),
            ),
        ),
        index="warm",
    )
    return [check, verify, log, status]


# --- the floor -------------------------------------------------------------------------------

FLOOR = "floor"  # the baseline command key of the fresh verify: timed by time_floor, not measure


def floor_command(bench: Bench) -> Command:
    return Command([FLOOR, str(bench.repo)])


def time_floor(bench: Bench, runs: int, scratch: Path) -> Timing:
    """The floor of each run: max(Ed25519 of every signed commit, git log --raw + cat-file of
    every commit), each part in a fresh process; the parts' medians go in the note, with the
    e-signatures' share of the checking (the floor as issue 24 first counted it)."""
    ids = scratch / "commit-ids"
    listed = subprocess.run(
        ["git", "rev-list", "HEAD"],
        cwd=bench.repo,
        capture_output=True,
        check=True,
        env=environment(),
    )
    ids.write_bytes(listed.stdout)
    signatures = Command([sys.executable, str(HERE / "floor_sigs.py"), str(bench.repo)])
    log = Command(  # the reading qms's walk asks git for (git/streams.py, log_changes)
        ["git", "log", "-z", "--topo-order", "--reverse", "--format=%x01%H %P", "--raw"]
        + ["--no-renames", "--no-abbrev", "--diff-merges=first-parent", "HEAD"],
        cwd=bench.repo,
    )
    cat = Command(["sh", "-c", f"git cat-file --batch < '{ids}'"], cwd=bench.repo)
    timing = Timing("max(Ed25519 of every signed commit, git log --raw + cat-file of every commit)")
    parts: dict[str, list[float]] = {"ed25519": [], "e-signatures": [], "log --raw": [], "cat-file": []}
    signed_commits = 0
    for _ in range(runs):
        signed = measure(signatures, scratch)
        found: dict[str, Any] = json.loads(signed.stdout)
        if found["signatures"] != bench.manifest["signatures"]:
            raise SystemExit(f"the floor checked {found['signatures']} signatures")
        logged, read = measure(log, scratch), measure(cat, scratch)
        signed_commits = found["signed_commits"]
        parts["ed25519"].append(found["seconds"])
        parts["e-signatures"].append(found["esignature_seconds"])
        parts["log --raw"].append(logged.seconds)
        parts["cat-file"].append(read.seconds)
        timing.runs.append(max(found["seconds"], logged.seconds + read.seconds))
        timing.cpu_runs.append(found["seconds"] + logged.cpu_seconds + read.cpu_seconds)
        timing.peaks_mb.append(max(signed.peak_mb, logged.peak_mb, read.peak_mb))
    medians = {name: statistics.median(values) for name, values in parts.items()}
    timing.note = (
        f"Ed25519 {medians['ed25519']:.2f} s ({signed_commits} signed commits, one core; the "
        f"{bench.manifest['signatures']} e-signatures among them {medians['e-signatures']:.2f} s), "
        f"git log --raw {medians['log --raw']:.2f} s + cat-file {medians['cat-file']:.2f} s"
    )
    return timing
