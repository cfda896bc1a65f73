"""Benchmark runner: qms operations against raw baselines on synthetic QMS repositories.

    make bench SIZE=M          # or: .venv/bin/python benchmarks/run.py --size M

For a size (S: 200 records, 2,000 commits; M: 2,000 and 20,000; L: 10,000 and 100,000; T: 20
and 100, for the smoke test) it
  1. generates the repository with synth_repo.py, or reuses .bench/SIZE/ when the manifest there
     was made by the same generator code and inputs (--regenerate forces a new one);
  2. checks it before timing anything: `qms verify` must find every signature valid and
     `qms validate` no error;
  3. times each operation of OPERATIONS and its raw baseline, alternating, each run in a fresh
     process started by peak.py (--runs, default 3; the median wall time is reported, and the
     largest peak resident set of any process of the run);
  4. prints a table and writes benchmarks/results/bench-SIZE.json.

`git log --format=%G?` starts ssh-keygen once per signed commit (about 15 ms each), so above
--baseline-limit commits (default 2,000) the baseline is timed on the newest K commits and
extrapolated per signed commit; the table marks it and the JSON says how.

`qms verify`, `log` and `check` read the history index (.git/qms/) when it holds their tip, so
each is timed in states of the index set up, untimed, before every run: "cold" (no index: the
whole history is walked, and the index written), "warm" (the index of HEAD, as any earlier
command leaves it) and, for `check HEAD~50..HEAD`, "incremental" (the index of HEAD~50, as CI
has it for the base of a pull request: only the 50 new commits are walked). Variants that
share a baseline command time it once.

fresh.py adds what CI pays and what a walk cannot avoid: `check HEAD~50..HEAD`, `verify` and
`log RECORD` in a `git clone --no-local` of the repository with an empty HOME (no .git/qms, no
index key); the floor of a verify walk (Ed25519 of every e-signature on one core, git's
`log --raw` and `cat-file` of every commit on the other), the fresh verify's baseline; and warm
`qms status`. A target judged by a figure other than the baseline ratio (seconds against a
limit, L against M) prints that figure beside it, and a missed target says MISSED without
failing the run.

Adding an operation (the site build): append an Operation to OPERATIONS with a function from
the Bench to the qms Command, one to the baseline Command, how to compare them ("ratio": qms ÷
baseline, or "speedup": baseline ÷ qms) and its Targets; `with_index(operation)` makes its
index variants. A Command's `scale` reads its stdout: it exits when the output is wrong and
returns the factor for its time (extrapolation). Those functions run before timing, so one may
prepare files in bench.folder first (the plain Markdown pages of the site build's baseline).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
sys.path.insert(0, str(HERE))

from synth_repo import SIZES, check, qms_command, source_digest  # noqa: E402
from verify_bench import package_state, versions  # noqa: E402


@dataclass(frozen=True)
class Bench:
    """The repository under test."""

    size: str
    folder: Path
    manifest: dict[str, Any]
    baseline_limit: int = 2000  # time git's signature check on the newest K commits (0: all)

    @property
    def repo(self) -> Path:
        return self.folder / str(self.manifest["repo"])

    @property
    def allowed_signers(self) -> Path:
        return self.folder / str(self.manifest["allowed_signers"])


@dataclass(frozen=True)
class Command:
    argv: list[str]
    cwd: Path | None = None
    # From the command's stdout: the factor its time is multiplied by (extrapolation), and a
    # note saying so. Raises SystemExit when the output is wrong.
    scale: Callable[[bytes], tuple[float, str]] = lambda out: (1.0, "")
    prepare: Callable[[], None] = lambda: None  # before each run, untimed (the history index)
    env: Mapping[str, str] = field(default_factory=dict)  # on top of environment()


@dataclass(frozen=True)
class Sample:
    seconds: float
    cpu_seconds: float
    peak_mb: float
    stdout: bytes


@dataclass
class Timing:
    command: str
    runs: list[float] = field(default_factory=list)
    cpu_runs: list[float] = field(default_factory=list)
    peaks_mb: list[float] = field(default_factory=list)
    scale: float = 1.0
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.runs) * self.scale

    @property
    def peak_mb(self) -> float:
        return max(self.peaks_mb)

    def to_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "seconds": self.median,
            "runs": self.runs,
            "cpu_runs": self.cpu_runs,
            "peak_mb": self.peak_mb,
            "peak_mb_runs": self.peaks_mb,
            "extrapolation_factor": self.scale,
            "note": self.note,
        }


@dataclass(frozen=True)
class Result:
    qms: Timing
    baseline: Timing

    @property
    def ratio(self) -> float:
        """qms time ÷ baseline time."""
        return self.qms.median / self.baseline.median


@dataclass(frozen=True)
class Target:
    text: str
    met: Callable[[Result], bool]
    sizes: Sequence[str] | None = None  # judged at these sizes only; None: at every size
    # The figure the target judges when it is not the baseline ratio (seconds over a limit).
    figure: Callable[[Result], float] | None = None


@dataclass(frozen=True)
class Operation:
    name: str
    qms: Callable[[Bench], Command]
    baseline: Callable[[Bench], Command]
    baseline_name: str
    compare: str  # "ratio" (qms ÷ baseline, lower is better) or "speedup" (baseline ÷ qms)
    targets: tuple[Target, ...]
    index: str = ""  # the history index before each run: "cold" (none), "warm" (at HEAD), …


# --- the operations --------------------------------------------------------------------------


def qms(bench: Bench) -> list[str]:
    return [*qms_command(), "--repo", str(bench.repo)]


def count_files(bench: Bench) -> Callable[[bytes], tuple[float, str]]:
    def scale(out: bytes) -> tuple[float, str]:
        if out.strip() != str(bench.manifest["records"] + 1).encode():
            raise SystemExit(f"the libyaml baseline parsed {out!r} files")
        return 1.0, ""

    return scale


def git_signatures(bench: Bench) -> Command:
    """`git log --format=%G?`, on the newest K commits when the history is longer."""
    commits: int = bench.manifest["commits"]
    limit = bench.baseline_limit if 0 < bench.baseline_limit < commits else None
    argv = ["git", "-c", f"gpg.ssh.allowedSignersFile={bench.allowed_signers}", "log"]
    argv += ["--format=%G?", *(["-n", str(limit)] if limit else []), "HEAD"]

    def scale(out: bytes) -> tuple[float, str]:
        marks = out.decode().split()
        good = marks.count("G")
        if good != len(marks) - marks.count("N") or not good:
            raise SystemExit(f"git did not find every signature good: {sorted(set(marks))}")
        if limit is None:
            return 1.0, ""
        total = bench.manifest["signatures"]
        note = f"timed on the newest {len(marks)} commits ({good} signed), x {total}/{good}"
        return total / good, note

    return Command(argv, cwd=bench.repo, scale=scale)


# --- the history index (.git/qms/): none, at HEAD, or at an older commit ----------------------

_SAVED: dict[tuple[Path, str], Path] = {}  # index folders made in this run, by commit


def index_folder(bench: Bench) -> Path:
    return bench.repo / ".git" / "qms"


def no_index(bench: Bench) -> Callable[[], None]:
    return lambda: shutil.rmtree(index_folder(bench), ignore_errors=True)


def index_at(
    bench: Bench, revision: str, made_by: Sequence[str] | None = None
) -> Callable[[], None]:
    """Before each run: the stored data (.git/qms/) as `qms verify REVISION` leaves it, or the
    qms command `made_by`, and nothing else. It is made once per run of this script (by the
    code under test), then copied back each time."""
    maker = list(made_by or ["verify", revision])

    def prepare() -> None:
        folder = index_folder(bench)
        saved = _SAVED.get((bench.repo, " ".join(maker)))
        if saved is None:
            shutil.rmtree(folder, ignore_errors=True)
            made = subprocess.run(
                [*qms(bench), *maker], capture_output=True, text=True, env=environment()
            )
            if maker[0] == "build" and made.returncode != 0:  # else "warm" would time a cold build
                raise SystemExit(f"qms {' '.join(maker)} failed: {made.stderr[-2000:]}")
            name = revision if made_by is None else f"{maker[0]}-{revision}"
            saved = bench.folder / f"index-{name.replace('~', '-')}"
            shutil.rmtree(saved, ignore_errors=True)
            folder.mkdir(parents=True, exist_ok=True)  # a gitqms without the index leaves none
            shutil.copytree(folder, saved)
            _SAVED[(bench.repo, " ".join(maker))] = saved
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(saved, folder)

    return prepare


INDEX_STATES: dict[str, Callable[[Bench], Callable[[], None]]] = {
    "cold": no_index,
    "warm": lambda b: index_at(b, "HEAD"),
    "incremental": lambda b: index_at(b, CHECK_BASE),
}
CHECK_BASE = "HEAD~50"  # `qms check` times the last 50 commits, as CI checks a pull request


def git_check_baseline(bench: Bench) -> Command:
    """What git itself reads to check the range: each commit's changes and signature."""
    argv = ["git", "-c", f"gpg.ssh.allowedSignersFile={bench.allowed_signers}", "log", "--raw"]
    return Command([*argv, "--format=%H %G?", f"{CHECK_BASE}..HEAD"], cwd=bench.repo)


def check_output(out: bytes) -> tuple[float, str]:
    report = json.loads(out or b"{}")
    if report.get("commits") != 50 or report.get("violations"):
        raise SystemExit(f"qms check did not pass the range cleanly: {out[:500]!r}")
    return 1.0, ""


def with_index(operation: Operation) -> list[Operation]:
    """The operation with no history index, then with one at HEAD (and, for `check`, with one
    at the base of the range, which the run brings up to HEAD)."""
    states = ["cold", "warm"] + (["incremental"] if operation.name == "check" else [])
    variants = []
    for state in states:
        make = INDEX_STATES[state]

        def command(
            b: Bench,
            make: Callable[[Bench], Callable[[], None]] = make,
            base: Callable[[Bench], Command] = operation.qms,
        ) -> Command:
            return replace(base(b), prepare=make(b))

        variants.append(
            replace(operation, name=f"{operation.name} ({state})", qms=command, index=state)
        )
    return variants


# --- the site build: `qms build` against `mkdocs build` of as many plain pages -----------------

TEMPLATES = PROJECT / "tools" / "gitqms" / "templates"
PAGES: dict[str, int] = {}  # pages of the qms site, by size (filled when its baseline is made)


def qms_site(bench: Bench) -> Command:
    out = bench.folder / "site-qms"

    def scale(_: bytes) -> tuple[float, str]:
        pages = sum(1 for _ in out.rglob("*.html"))
        if pages != PAGES.get(bench.size, pages) or not (out / "sops" / "index.html").exists():
            raise SystemExit(f"qms build wrote {pages} pages, {PAGES.get(bench.size)} before")
        return 1.0, f"{pages} pages"

    return Command([*qms(bench), "build", "--site-dir", str(out)], scale=scale)


def plain_page(record: Path) -> str:
    """A page of about the same weight as a record's: a heading, a table of its fields, text."""
    text = record.read_text(errors="replace")
    head, _, body = text.partition("\n---\n") if record.suffix == ".md" else (text, "", "")
    rows = [
        line.split(":", 1)
        for line in head.splitlines()
        if ":" in line and not line.startswith((" ", "-", "#"))
    ][:14]
    table = "| field | value |\n| --- | --- |\n" + "".join(
        f"| {k.strip()} | {v.strip().replace('|', '/')} |\n" for k, v in rows
    )
    return f"# {record.stem}\n\n{table}\n{body}\n"


def plain_site(bench: Bench) -> Command:
    """`mkdocs build` of as many plain Markdown pages as the qms site has, with the same theme
    and search, and the same navigation shape (a few entries; pages reached through links), so
    neither side pays for a navigation listing every page. The qms site is built once, untimed,
    to count its pages (and to check that it builds)."""
    plain, out = bench.folder / "site-plain", bench.folder / "site-plain-out"
    argv = [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(plain / "mkdocs.yml")]
    command = Command([*argv, "-d", str(out)])
    if bench.size in PAGES:  # made for the other index state
        return command
    probe = bench.folder / "site-qms"
    shutil.rmtree(probe, ignore_errors=True)
    built = subprocess.run(
        [*qms(bench), "build", "--site-dir", str(probe)],
        capture_output=True,
        text=True,
        check=False,
        env=environment(),
    )
    if built.returncode != 0:
        raise SystemExit(f"qms build failed on the bench repository: {built.stderr[-2000:]}")
    pages = sum(1 for _ in probe.rglob("*.html"))
    PAGES[bench.size] = pages
    shutil.rmtree(plain, ignore_errors=True)
    docs = plain / "docs"
    (docs / "pages").mkdir(parents=True)
    records = sorted(
        p for folder in ("sops", "capa", "deviations") for p in (bench.repo / folder).glob("*.*")
    )
    links = []
    for n in range(pages - 1):  # and index.md
        name = f"pages/p{n:05d}.md"
        (docs / name).write_text(plain_page(records[n % len(records)]))
        links.append(f"- [{n}]({name})")
    (docs / "index.md").write_text("# Plain pages\n\n" + "\n".join(links[:200]) + "\n")
    config = (TEMPLATES / "mkdocs.yml").read_text().replace("{{site_name}}", "Plain pages")
    config = config.replace("  - qms", "  # - qms").split("\nnav:")[0]
    (plain / "mkdocs.yml").write_text(config + "\nnav:\n  - Home: index.md\n")
    return command


def per_page_vs_s(result: Result, state: str) -> bool:
    """At L: the qms build's time per page within 1.3x of its time per page at S, in the same
    index state (bench-S.json of the results folder, from a run of `make bench SIZE=S`)."""
    small = json.loads((HERE / "results" / "bench-S.json").read_text())
    s_op = small["operations"][f"site build ({state})"]
    s_per_page = s_op["qms"]["seconds"] / s_op["pages"]
    return result.qms.median / PAGES["L"] <= 1.3 * s_per_page


def site_warm(bench: Bench) -> Callable[[], None]:
    """What an earlier `qms build` at HEAD leaves in .git/qms/: the history index and the
    audit trails' change summaries (a CI job that keeps .git/qms/, or `qms serve`)."""
    out = bench.folder / "site-index"
    return index_at(bench, "HEAD", ["build", "--site-dir", str(out)])


def site_build(state: str) -> Operation:
    """The site build with nothing stored (a fresh CI clone) or with what a build at HEAD
    stores."""
    prepare = no_index if state == "cold" else site_warm
    return Operation(
        f"site build ({state})",
        qms=lambda b: replace(qms_site(b), prepare=prepare(b)),
        baseline=plain_site,
        baseline_name="mkdocs build, plain pages",
        compare="ratio",
        targets=(
            Target("<= 1.5x mkdocs", lambda r: r.ratio <= 1.5),
            Target("per page L <= 1.3x S", lambda r: per_page_vs_s(r, state), sizes=("L",)),
            Target("peak < 2 GB", lambda r: r.qms.peak_mb < 2048, sizes=("L",)),
        ),
        index=state,
    )


OPERATIONS: list[Operation] = [
    Operation(
        "validate",
        qms=lambda b: Command([*qms(b), "validate"]),
        baseline=lambda b: Command(
            [sys.executable, str(HERE / "baseline_parse.py"), str(b.repo)], scale=count_files(b)
        ),
        baseline_name="libyaml parse",
        compare="ratio",
        targets=(
            Target("<= 2x libyaml", lambda r: r.ratio <= 2),
            Target("peak < 500 MB", lambda r: r.qms.peak_mb < 500),
            Target("L < 5 s", lambda r: r.qms.median < 5, sizes=("L",)),
        ),
    ),
    *with_index(
        Operation(
            "verify",
            qms=lambda b: Command([*qms(b), "verify"]),
            baseline=git_signatures,
            baseline_name="git log %G?",
            compare="speedup",
            targets=(Target(">= 30x faster than git", lambda r: r.ratio <= 1 / 30),),
        )
    ),
    *with_index(
        Operation(
            "log",
            qms=lambda b: Command([*qms(b), "log", b.manifest["log_record"]["id"]]),
            baseline=lambda b: Command(
                ["git", "log", "--", b.manifest["log_record"]["path"]], cwd=b.repo
            ),
            baseline_name="git log -- PATH",
            compare="ratio",
            targets=(Target("<= 1.5x git log", lambda r: r.ratio <= 1.5),),
        )
    ),
    *with_index(
        Operation(
            "check",
            qms=lambda b: Command(
                [*qms(b), "check", f"{CHECK_BASE}..HEAD", "--format", "json"], scale=check_output
            ),
            baseline=git_check_baseline,
            baseline_name="git log --raw %G? (50)",
            compare="ratio",
            targets=(Target("L < 3 s", lambda r: r.qms.median < 3, sizes=("L",)),),
        )
    ),
    site_build("cold"),
    site_build("warm"),
]


# --- measuring -------------------------------------------------------------------------------


def environment() -> dict[str, str]:
    """Neither the user's nor the system's git configuration may change what is measured, nor
    a choice of walk (GITQMS_GATE): what is timed is what `qms` does by default."""
    env = dict(os.environ, GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1", LC_ALL="C")
    for name in (
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GITQMS_GATE",
    ):
        env.pop(name, None)
    return env


def measure(command: Command, scratch: Path) -> Sample:
    """One run in a fresh process, through peak.py."""
    command.prepare()
    out, err = scratch / "stdout", scratch / "stderr"
    launcher = [sys.executable, "-S", "-I", str(HERE / "peak.py"), str(out), str(err), "--"]
    result = subprocess.run(
        [*launcher, *command.argv],
        cwd=command.cwd or PROJECT,
        env=environment() | dict(command.env),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"peak.py failed: {result.stderr}")
    data = json.loads(result.stdout)
    if data["exit"] != 0:
        detail = err.read_text(errors="replace")[-2000:]
        raise SystemExit(f"{' '.join(command.argv)} exited {data['exit']}: {detail}")
    return Sample(data["seconds"], data["cpu_seconds"], data["peak_kb"] / 1024, out.read_bytes())


def time_operation(
    operation: Operation, bench: Bench, runs: int, scratch: Path, baselines: dict[str, Timing]
) -> Result:
    """qms and its baseline, alternating, `runs` times each. A baseline already timed for an
    earlier operation (the same command) is not timed again."""
    qms_command, baseline = operation.qms(bench), operation.baseline(bench)
    key = " ".join(baseline.argv)
    if baseline.argv[0] == fresh.FLOOR and key not in baselines:
        print("  timing the floor ...", flush=True)
        baselines[key] = fresh.time_floor(bench, runs, scratch)
    commands = [qms_command] if key in baselines else [qms_command, baseline]
    timings = [Timing(" ".join(command.argv)) for command in commands]
    for _ in range(runs):
        for command, timing in zip(commands, timings, strict=True):
            sample = measure(command, scratch)
            timing.runs.append(sample.seconds)
            timing.cpu_runs.append(sample.cpu_seconds)
            timing.peaks_mb.append(sample.peak_mb)
            timing.scale, timing.note = command.scale(sample.stdout)
    baselines.setdefault(key, timings[-1])
    return Result(timings[0], baselines[key])


@dataclass(frozen=True)
class Context:
    """What every figure of a run shares."""

    floor_mb: float  # what peak.py reports for a command that uses nearly nothing
    startup: Timing  # `qms --version`: process start and imports, inside every qms figure
    load: float  # 1-minute load average before timing


def measure_context(runs: int, scratch: Path) -> Context:
    startup = Timing("qms --version")
    for _ in range(runs):
        sample = measure(Command([*qms_command(), "--version"]), scratch)
        startup.runs.append(sample.seconds)
        startup.cpu_runs.append(sample.cpu_seconds)
        startup.peaks_mb.append(sample.peak_mb)
    floor = measure(Command(["true"]), scratch).peak_mb
    return Context(floor, startup, os.getloadavg()[0])


# --- the repository --------------------------------------------------------------------------


def prepare(options: argparse.Namespace, scratch: Path) -> tuple[Bench, Any]:
    """The cached repository for the size, or a new one; with how long generating it took."""
    size = options.size
    folder = options.build / size
    manifest_path = folder / "manifest.json"
    if manifest_path.exists() and not options.regenerate:
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("digest") == source_digest():
            print(f"reusing {folder} ({manifest['commits']} commits)", flush=True)
            return Bench(size, folder, manifest, options.baseline_limit), None
    shutil.rmtree(folder, ignore_errors=True)
    print(f"generating size {size} in {folder} ...", flush=True)
    generator = [sys.executable, str(HERE / "synth_repo.py"), "--size", size, "--out", str(folder)]
    sample = measure(Command(generator), scratch)
    manifest = json.loads(manifest_path.read_text())
    generation = {"seconds": sample.seconds, "peak_mb": sample.peak_mb, **manifest["seconds"]}
    print(f"  {sample.seconds:.1f} s, peak {sample.peak_mb:.0f} MB: {manifest['seconds']}")
    return Bench(size, folder, manifest, options.baseline_limit), generation


# --- the report ------------------------------------------------------------------------------


def compared(operation: Operation, result: Result) -> str:
    if operation.compare == "speedup":
        speedup = 1 / result.ratio
        return f"{speedup:.1f}x faster" if speedup >= 1 else f"{result.ratio:.2f}x slower"
    return f"{result.ratio:.2f}x"


def judged(operation: Operation, result: Result, size: str) -> dict[str, bool | None]:
    """Each target: met, missed, or None when it is not judged at this size."""
    return {
        t.text: (t.met(result) if t.sizes is None or size in t.sizes else None)
        for t in operation.targets
    }


def report(
    bench: Bench, operations: list[Operation], results: dict[str, Result]
) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = [
        (
            "operation",
            "qms s",
            "cpu s",
            "baseline",
            "baseline s",
            "vs baseline",
            "peak MB",
            "targets",
        )
    ]
    for operation in operations:
        result = results[operation.name]
        marks = judged(operation, result, bench.size)
        figures = {
            t.text: f" ({t.figure(result):.2f})" if t.figure and marks[t.text] is not None else ""
            for t in operation.targets
        }
        targets = "; ".join(
            f"{text}{figures[text]}: {'met' if met else 'MISSED'}"
            for text, met in marks.items()
            if met is not None
        )
        extrapolated = " (extrap.)" if result.baseline.scale != 1.0 else ""
        rows.append(
            (
                operation.name,
                f"{result.qms.median:.2f}",
                f"{statistics.median(result.qms.cpu_runs):.2f}",
                operation.baseline_name,
                f"{result.baseline.median:.2f}{extrapolated}",
                compared(operation, result),
                f"{result.qms.peak_mb:.0f}",
                targets,
            )
        )
    return rows


def table(rows: Sequence[tuple[str, ...]]) -> str:
    """Columns of text, numbers aligned right and words left."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    numeric = [all(row[i][:1].isdigit() for row in rows[1:]) for i in range(len(widths))]
    lines = [
        "  ".join(
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(row, widths, numeric, strict=True)
        ).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=sorted(SIZES), default="S")
    parser.add_argument("--runs", type=int, default=3, help="runs of each command (median)")
    parser.add_argument(
        "--baseline-limit",
        type=int,
        default=2000,
        metavar="K",
        help="time git's signature check on the newest K commits and extrapolate (0: all)",
    )
    parser.add_argument("--build", type=Path, default=PROJECT / ".bench", help="repository cache")
    parser.add_argument("--results", type=Path, default=HERE / "results", help="JSON folder")
    parser.add_argument("--regenerate", action="store_true", help="ignore a cached repository")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted({o.name.split(" (")[0] for o in OPERATIONS}),
        help="these operations",
    )
    options = parser.parse_args()
    os.environ.update(environment())

    package = package_state()
    with tempfile.TemporaryDirectory(prefix="qms-bench-") as temporary:
        scratch = Path(temporary)
        bench, generation = prepare(options, scratch)
        checked = check(bench.folder, bench.manifest)
        print(f"checked: qms verify {checked['signatures']}, qms validate no errors", flush=True)
        context = measure_context(options.runs, scratch)
        results = {}
        baselines: dict[str, Timing] = {}
        for operation in OPERATIONS:
            if options.only and operation.name.split(" (")[0] not in options.only:
                continue
            print(f"timing {operation.name} ({options.runs} runs each) ...", flush=True)
            results[operation.name] = time_operation(
                operation, bench, options.runs, scratch, baselines
            )
        no_index(bench)()  # and the copies made for the warm and incremental runs
        for saved in _SAVED.values():
            shutil.rmtree(saved, ignore_errors=True)
        fresh.clean(bench)
    chosen = [o for o in OPERATIONS if o.name in results]
    print_results(options, bench, chosen, results, context)
    out = {
        "size": bench.size,
        "repository": {
            k: v for k, v in bench.manifest.items() if k not in ("repo", "allowed_signers")
        },
        "generation": generation or "reused from the cache",
        "checked": checked,
        "runs": options.runs,
        "peak_floor_mb": context.floor_mb,
        "qms_startup": context.startup.to_json(),
        "load_average_before_timing": context.load,
        "operations": {o.name: result_json(o, results[o.name], bench.size) for o in chosen},
        "package": package,
        "environment": versions(),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }
    if package_state()["code_sha256"] != package["code_sha256"]:
        print("WARNING: the gitqms code changed during the run; the figures mix versions")
        out["package_changed_during_run"] = True
    options.results.mkdir(parents=True, exist_ok=True)
    path = options.results / f"bench-{bench.size}.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"\nwrote {path}")


def print_results(
    options: argparse.Namespace,
    bench: Bench,
    chosen: list[Operation],
    results: dict[str, Result],
    context: Context,
) -> None:
    manifest = bench.manifest
    kinds = ", ".join(f"{n} {kind}" for kind, n in manifest["records_by_kind"].items())
    print(
        f"\nsize {bench.size}: {manifest['records']} records ({kinds}), {manifest['commits']} "
        f"commits, {manifest['signatures']} signatures; median of {options.runs} runs"
    )
    print(table(report(bench, chosen, results)))
    print(
        "cpu s: the qms command's processor time (its git processes included), which other "
        "work on the machine changes less than the wall time; "
        f"qms start-up (qms --version) {context.startup.median:.2f} s is inside every qms figure; "
        f"peak MB is the largest process of the run (launcher floor {context.floor_mb:.0f} MB); "
        f"load average {context.load:.2f} before timing"
    )
    for operation in chosen:
        note = results[operation.name].baseline.note
        if note:
            print(f"{operation.name}: baseline {note}")


def result_json(operation: Operation, result: Result, size: str) -> dict[str, Any]:
    return {
        "qms": result.qms.to_json(),
        "baseline": {"name": operation.baseline_name, **result.baseline.to_json()},
        "ratio": result.ratio,
        "speedup": 1 / result.ratio,
        "compare": operation.compare,
        "history_index": operation.index or None,
        "targets": judged(operation, result, size),
        "target_figures": {
            t.text: t.figure(result)
            for t in operation.targets
            if t.figure and (t.sizes is None or size in t.sizes)
        },
    } | ({"pages": PAGES[size]} if operation.name.startswith("site build") else {})


# The fresh-clone rows, the floor and warm status (fresh.py imports this module as `run`).
sys.modules.setdefault("run", sys.modules[__name__])
import fresh  # noqa: E402


def _with_fresh(operations: list[Operation]) -> list[Operation]:
    """Each fresh-clone row after the rows of its command; warm status before the site build."""
    added = {o.name.split(" (")[0]: o for o in fresh.fresh_operations()}
    ordered: list[Operation] = []
    for index, operation in enumerate(operations):
        ordered.append(operation)
        family = operation.name.split(" (")[0]
        following = operations[index + 1].name.split(" (")[0] if index + 1 < len(operations) else ""
        if family != following and family in added:
            ordered.append(added.pop(family))
        if following == "site build" and "status" in added:
            ordered.append(added.pop("status"))
    return ordered + list(added.values())


OPERATIONS[:] = _with_fresh(OPERATIONS)

if __name__ == "__main__":
    main()
