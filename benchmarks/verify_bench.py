"""Benchmark: gitqms's in-process signature verifier against git's own signature check.

    .venv/bin/python benchmarks/verify_bench.py --signatures 2000
    .venv/bin/python benchmarks/verify_bench.py --signatures 10000 --profile

Builds a throwaway repository shaped like a real one, then times on it
  (a) `verify_history(repo, ["HEAD"])`, the verifier behind `qms verify`: one call in each of 3
      fresh Python processes (--runs), the median reported, as `qms verify` runs it once per
      process; a second call in the same process is timed for the record only;
  (b) `git -c gpg.ssh.allowedSignersFile=FILE log --format=%G? HEAD`, which starts ssh-keygen
      for every signed commit. With --baseline-limit K only the newest K commits are timed
      (`-n K`) and the time is extrapolated per signed commit; the output says so.

The repository: this project's qms.yaml with Ed25519 keys for a few people, introduced by a root
commit that a.weber (admin) signed with the meaning "changed" (the trust root); then, for each
SOP version, a signed edit by a sop-author (l.santos, p.rossi, s.murphy in turn) that bumps
the version, a "reviewed" signature by m.okafor and an "approved" signature by a.weber. Every
signature is a real SSHSIG made in-process with gitqms.signatures.sshsig.sign_ed25519. Objects
are written as loose objects from Python and then packed with `git gc`, as a real repository of
that size would be. Keys come from fixed seeds and dates are fixed, so the repository, down to
every commit id, is the same on every run.

Before anything is timed, the verifier must find every verdict valid and `git verify-commit`
must accept sample signature commits. Results go to the terminal as a table and to
benchmarks/results/verify-N.json.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import hashlib
import io
import json
import os
import platform
import pstats
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cryptography
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PROJECT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"

ADMIN = "a.weber"  # admin + qa-manager: signs qms.yaml and approves
REVIEWER = "m.okafor"  # qa-officer + sop-reviewer: reviews
EDITORS = ("l.santos", "p.rossi", "s.murphy")  # sop-authors: their edits are signed (authorship)
KEYED = (ADMIN, REVIEWER, *EDITORS, "j.lindqvist", "h.nakamura")  # registered; the last two unused
START = 1_704_096_000  # 2024-01-01 08:00 UTC; keys are valid from 2020-01-01
STEP_SECONDS = 600
ZONE = "+0100"


# --- writing git objects ---------------------------------------------------------------------


class Objects:
    """Writes loose objects straight into .git/objects: zlib("<type> <size>\\0" + body)."""

    def __init__(self, git_dir: Path) -> None:
        self.root = git_dir / "objects"
        self.written = 0
        for i in range(256):
            (self.root / f"{i:02x}").mkdir(exist_ok=True)

    def write(self, kind: bytes, body: bytes) -> str:
        data = b"%s %d\0" % (kind, len(body)) + body
        oid = hashlib.sha1(data).hexdigest()
        path = self.root / oid[:2] / oid[2:]
        if not path.exists():
            path.write_bytes(zlib.compress(data, 1))
            self.written += 1
        return oid

    def tree(self, entries: dict[str, tuple[bytes, str]]) -> str:
        """A tree from name -> (mode, object id); git orders a subtree as if named 'name/'."""

        def order(name: str) -> bytes:
            return name.encode() + (b"/" if entries[name][0] == b"40000" else b"")

        body = b"".join(
            entries[name][0] + b" " + name.encode() + b"\0" + bytes.fromhex(entries[name][1])
            for name in sorted(entries, key=order)
        )
        return self.write(b"tree", body)


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    email: str
    key: Ed25519PrivateKey | None = None

    def ident(self, when: int) -> str:
        return f"{self.name} <{self.email}> {when} {ZONE}"


def commit_object(
    objects: Objects,
    tree: str,
    parents: list[str],
    who: Person,
    when: int,
    message: str,
    sign: bool,
) -> str:
    """A commit authored and committed by `who`; signed as git does when `sign` is set.

    The signed payload is the object without its gpgsig header; git inserts that header after
    the committer line, its first line after "gpgsig ", every further line after one space.
    """
    head = f"tree {tree}\n" + "".join(f"parent {p}\n" for p in parents)
    head += f"author {who.ident(when)}\ncommitter {who.ident(when)}\n"
    body = message.encode()
    payload = head.encode() + b"\n" + body
    if not sign:
        return objects.write(b"commit", payload)
    assert who.key is not None
    from gitqms.crypto.sshsig import sign_ed25519

    armored = sign_ed25519(who.key, payload)
    gpgsig = "gpgsig " + armored.rstrip("\n").replace("\n", "\n ") + "\n"
    return objects.write(b"commit", (head + gpgsig).encode() + b"\n" + body)


# --- the repository --------------------------------------------------------------------------


def private_key(person_id: str) -> Ed25519PrivateKey:
    seed = hashlib.sha256(f"gitqms verify benchmark {person_id}".encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_line(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes_raw()
    blob = b"".join(len(part).to_bytes(4, "big") + part for part in (b"ssh-ed25519", raw))
    return "ssh-ed25519 " + base64.b64encode(blob).decode()


def registry_text(keys: dict[str, Ed25519PrivateKey]) -> str:
    """This project's qms.yaml with a `keys:` entry for each person in `keys`."""
    from gitqms.validation.run import parse_config

    text = (PROJECT / "qms.yaml").read_text()
    for person_id, key in keys.items():
        pattern = re.compile(
            rf"(^  - id: {re.escape(person_id)}\n(?:    .*\n)*?    roles: \[[^\]\n]*\]\n)", re.M
        )
        entry = f'    keys:\n      - public_key: "{public_line(key)}"\n        valid_from: "2020-01-01"\n'
        text, count = pattern.subn(r"\g<1>" + entry.replace("\\", r"\\"), text, count=1)
        if count != 1:
            raise SystemExit(f"cannot find the roles line of {person_id} in qms.yaml")
    config, findings = parse_config(text)
    if config is None:
        raise SystemExit("the generated qms.yaml does not validate: " + repr(findings))
    return text


def sop_text(template: str, record: str, version: int, cycle: int) -> str:
    """An SOP at `version`: the front matter's version, predecessor and change control set."""
    text = re.sub(r"^version: .*$", f"version: {version}", template, count=1, flags=re.M)
    supersedes = f'"{record} v{version - 1}"' if version > 1 else "null"
    text = re.sub(r"^supersedes: .*$", f"supersedes: {supersedes}", text, count=1, flags=re.M)
    control = f'change_control: "CC-{2024 + cycle // 1000}-{cycle % 1000:03d}"'
    return re.sub(r"^change_control: .*$", control, text, count=1, flags=re.M)


@dataclass
class Built:
    repo: Path
    allowed_signers: Path
    signatures: int
    commits: int
    records: int
    objects: int
    head: str
    samples: dict[str, str]  # label -> commit id, for git verify-commit
    seconds: dict[str, float]
    pack_bytes: int


def git(repo: Path, *args: str, check: bool = True, text: bool = True) -> Any:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=text, check=False)
    if check and result.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed: {result.stderr}")
    return result


def build(folder: Path, signatures: int) -> Built:
    # gitqms is imported here, not at the top, so the verify worker's import time is its own.
    from gitqms.signatures.claims import Claim, content_hash, trailer_lines
    from gitqms.history.commits import format_trailers
    from gitqms.actions.sign import config_claim, subject_for
    from gitqms.crypto.sshkeys import parse_openssh
    from gitqms.validation.run import parse_config

    t0 = time.perf_counter()
    repo = folder / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    objects = Objects(repo / ".git")

    keys = {person_id: private_key(person_id) for person_id in KEYED}
    config = registry_text(keys)
    parsed, _ = parse_config(config)
    assert parsed is not None
    people = {p.id: Person(p.id, p.name, p.email, keys.get(p.id)) for p in parsed.people}
    allowed = folder / "allowed_signers"
    allowed.write_text(
        "".join(f"{people[pid].email} {public_line(key)}\n" for pid, key in keys.items())
    )
    for pid in keys:  # the generated keys are what the registry and the signers file name
        assert parse_openssh(public_line(keys[pid])).fingerprint

    # The trust root: qms.yaml alone, signed by the admin with the meaning "changed".
    config_bytes = config.encode()
    config_blob = objects.write(b"blob", config_bytes)
    root_entries: dict[str, tuple[bytes, str]] = {"qms.yaml": (b"100644", config_blob)}
    tree = objects.tree(root_entries)
    reason = "Initialise the quality management system; the first admin and key are the trust root"
    message = f"Initialise the QMS\n\n{format_trailers(trailer_lines([config_claim(config_bytes)], reason))}\n"
    when = START
    tip = commit_object(objects, tree, [], people[ADMIN], when, message, sign=True)
    samples = {"trust root": tip}
    commits = 1

    templates = {
        path.stem: path.read_text() for path in sorted((PROJECT / "sops").glob("SOP-*.md"))
    }
    records = list(templates)
    versions = dict.fromkeys(records, 0)
    sop_entries: dict[str, tuple[bytes, str]] = {}
    content = b""
    t_sign = 0.0
    for index in range(signatures):
        cycle = index // 2
        record = records[cycle % len(records)]
        if index % 2 == 0:  # a signed edit opens a new version, then review, then approval
            versions[record] += 1
            version = versions[record]
            editor = people[EDITORS[cycle % len(EDITORS)]]
            content = sop_text(templates[record], record, version, cycle).encode()
            sop_entries[f"{record}.md"] = (b"100644", objects.write(b"blob", content))
            root_entries["sops"] = (b"40000", objects.tree(sop_entries))
            tree = objects.tree(root_entries)
            verb = "Draft" if version == 1 else "Revise"
            message = (
                f"{verb} {record} version {version}\n\n"
                f"Reason: change control CC-{2024 + cycle // 1000}-{cycle % 1000:03d}\n"
            )
            when += STEP_SECONDS
            tip = commit_object(objects, tree, [tip], editor, when, message, sign=True)
            commits += 1
            meaning, signer, why = "reviewed", people[REVIEWER], None
        else:
            meaning, signer = "approved", people[ADMIN]
            why = "Released for use" if cycle % 2 else None
        claims = [Claim(record, str(versions[record]), content_hash(content), meaning)]
        message = (
            f"{subject_for(meaning, claims)}\n\n{format_trailers(trailer_lines(claims, why))}\n"
        )
        when += STEP_SECONDS
        s = time.perf_counter()
        tip = commit_object(objects, tree, [tip], signer, when, message, sign=True)
        t_sign += time.perf_counter() - s
        commits += 1
        if index == 0:
            samples["first review"] = tip
        elif index == 1:
            samples["first approval"] = tip
    samples["last signature"] = tip
    t_write = time.perf_counter() - t0

    git(repo, "update-ref", "refs/heads/main", tip)
    written = objects.written
    s = time.perf_counter()
    git(repo, "gc", "--quiet", "--prune=now")
    t_gc = time.perf_counter() - s
    pack_bytes = sum(p.stat().st_size for p in (repo / ".git" / "objects" / "pack").glob("*.pack"))
    return Built(
        repo=repo,
        allowed_signers=allowed,
        signatures=signatures + 1,  # the trust root is a signature too
        commits=commits,
        records=len(records),
        objects=written,
        head=tip,
        samples=samples,
        seconds={
            "generate": round(t_write, 3),
            "of which signing commits": round(t_sign, 3),
            "git gc": round(t_gc, 3),
        },
        pack_bytes=pack_bytes,
    )


# --- checks and measurements -----------------------------------------------------------------


def check_with_git(built: Built) -> list[str]:
    """`git verify-commit` must accept the sample commits: the signatures are real."""
    lines = []
    for label, commit in built.samples.items():
        result = git(
            built.repo,
            "-c",
            f"gpg.ssh.allowedSignersFile={built.allowed_signers}",
            "verify-commit",
            commit,
            check=False,
        )
        said = (result.stderr.strip() or result.stdout.strip()).splitlines()
        if result.returncode != 0:
            raise SystemExit(f"git verify-commit rejected the {label} {commit}: {said}")
        lines.append(f"{label} {commit[:12]}: {said[0] if said else 'ok'}")
    return lines


def check_with_qms(built: Built) -> dict[str, int]:
    """Every verdict must be valid (superseded still counts: an older version's signature)."""
    from gitqms.signatures.verify import verify_history

    report = verify_history(built.repo, ["HEAD"])
    if report.failures:
        first = report.failures[0]
        raise SystemExit(
            f"{len(report.failures)} signature(s) do not verify, e.g. {first.commit[:12]} "
            f"{first.record}: {'; '.join(first.problems)}"
        )
    if len(report.verdicts) != built.signatures or report.commits != built.commits:
        raise SystemExit(
            f"expected {built.signatures} verdicts over {built.commits} commits, "
            f"got {len(report.verdicts)} over {report.commits}"
        )
    if report.trust_root != built.samples["trust root"]:
        raise SystemExit(f"the verifier took {report.trust_root} as the trust root")
    statuses: dict[str, int] = {}
    for verdict in report.verdicts:
        statuses[verdict.status] = statuses.get(verdict.status, 0) + 1
    return statuses


def worker(repo: Path, profile: Path | None) -> None:
    """Runs in a fresh process: one cold verify_history call, then a warm repeat; JSON on stdout.

    Only the cold call counts: `qms verify` makes one call per process, and the verifier may
    keep caches at module level that a repeat in the same process would profit from. With
    `profile`, one cold call runs under cProfile instead, and nothing is timed.
    """
    t = time.perf_counter()
    from gitqms.signatures.verify import verify_history

    imported = time.perf_counter() - t
    if profile is not None:
        profiler = cProfile.Profile()
        profiler.enable()
        verify_history(repo, ["HEAD"])
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(15)
        profile.write_text(out.getvalue().rstrip() + "\n")
        print(json.dumps({"profile": str(profile)}))
        return
    times, cpu_times, failures = [], [], 0
    for _ in range(2):
        t, cpu = time.perf_counter(), time.process_time()
        report = verify_history(repo, ["HEAD"])
        times.append(time.perf_counter() - t)
        cpu_times.append(time.process_time() - cpu)  # this process only; git runs beside it
        failures += len(report.failures)
        if len(times) == 1:
            peak_cold = _peak_mb()
        del report
    result: dict[str, Any] = {
        "import_seconds": imported,
        "cold_seconds": times[0],
        "cold_cpu_seconds": cpu_times[0],
        "warm_seconds": times[1],
        "failures": failures,
        "peak_mb_cold": peak_cold,
        "peak_mb": _peak_mb(),
    }
    print(json.dumps(result))


def _peak_mb() -> float:
    """This process's peak RSS. On Linux getrusage's ru_maxrss also counts the parent's RSS at
    the time of the fork (the kernel carries it over at exec), so a worker started by a large
    parent would report the parent's size; VmHWM belongs to this process's own memory alone."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def time_qms(built: Built, runs: int) -> dict[str, Any]:
    """`runs` fresh processes, each timing one cold call (and one warm repeat, for the record)."""
    found: list[dict[str, Any]] = [_run_worker(built, None) for _ in range(runs)]
    for data in found:
        if data["failures"]:
            raise SystemExit(f"the verify worker saw {data['failures']} failures")
    return {
        "times": [d["cold_seconds"] for d in found],
        "cpu_times": [d["cold_cpu_seconds"] for d in found],
        "warm_times": [d["warm_seconds"] for d in found],
        "import_seconds": statistics.median(d["import_seconds"] for d in found),
        "peak_mb_cold": max(d["peak_mb_cold"] for d in found),
        "peak_mb": max(d["peak_mb"] for d in found),
    }


def _run_worker(built: Built, profile: Path | None) -> dict[str, Any]:
    args = [sys.executable, __file__, "--worker", str(built.repo)]
    if profile is not None:
        args += ["--profile-to", str(profile)]
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"the verify worker failed:\n{result.stderr}")
    data: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


def time_git(built: Built, limit: int | None) -> dict[str, Any]:
    args = ["git", "-c", f"gpg.ssh.allowedSignersFile={built.allowed_signers}", "log"]
    args += ["--format=%G?"] + (["-n", str(limit)] if limit else []) + ["HEAD"]
    # No memory figure for git: a child's ru_maxrss includes this process's RSS at the fork,
    # which is the generator's, not git's.
    t = time.perf_counter()
    result = subprocess.run(args, cwd=built.repo, capture_output=True, check=False)
    seconds = time.perf_counter() - t
    if result.returncode != 0:
        raise SystemExit(f"git log failed: {result.stderr.decode(errors='replace')}")
    out = result.stdout
    marks = out.decode().split()
    counts = {mark: marks.count(mark) for mark in sorted(set(marks))}
    good = counts.get("G", 0)
    signed = len(marks) - counts.get("N", 0)
    if good != signed or not good:
        raise SystemExit(f"git did not find every signature good: {counts}")
    measured_all = len(marks) == built.commits
    per_signature = seconds / good
    return {
        "command": " ".join(args),
        "commits_timed": len(marks),
        "signatures_timed": good,
        "marks": counts,
        "seconds_measured": seconds,
        "seconds": seconds if measured_all else per_signature * built.commits,  # all signed
        "extrapolated": not measured_all,
        "per_signature_us": per_signature * 1e6,
    }


def versions() -> dict[str, str]:
    def first_line(args: list[str]) -> str:
        result = subprocess.run(args, capture_output=True, text=True, check=False)
        return (result.stdout.strip() or result.stderr.strip()).splitlines()[0]

    return {
        "python": platform.python_version(),
        "cryptography": cryptography.__version__,
        "git": first_line(["git", "--version"]),
        "ssh": first_line(["ssh", "-V"]),
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
        "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def package_state() -> dict[str, Any]:
    """Which gitqms was measured: the project's commit, files changed since, a digest of the code."""
    import gitqms

    code = Path(gitqms.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(code.rglob("*.py")):
        digest.update(path.relative_to(code).as_posix().encode() + b"\0" + path.read_bytes())

    def git_out(*args: str) -> str:
        result = subprocess.run(["git", *args], cwd=PROJECT, capture_output=True, text=True)
        return result.stdout.strip() if result.returncode == 0 else ""

    dirty = git_out("status", "--porcelain", "--", str(code)).splitlines()
    return {
        "commit": git_out("rev-parse", "HEAD"),
        "uncommitted": [line[3:] for line in dirty],
        "code_sha256": digest.hexdigest()[:16],
    }


# --- the report ------------------------------------------------------------------------------


def table(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--signatures", type=int, default=2000, help="signature commits to generate (default 2000)"
    )
    parser.add_argument(
        "--runs", type=int, default=3, help="verify runs; the median is reported (default 3)"
    )
    parser.add_argument(
        "--baseline-limit",
        type=int,
        metavar="K",
        help="time git on the newest K commits only and extrapolate per signed commit",
    )
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile one verify run (top 15 cumulative)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the generated repository and print its path"
    )
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()

    # Neither the user's nor the system's git config may change what is measured.
    os.environ.update({"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"})
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"):
        os.environ.pop(name, None)

    if options.worker is not None:
        worker(options.worker, options.profile_to)
        return
    if options.signatures < 2:
        parser.error("--signatures must be at least 2")

    n = options.signatures
    package = package_state()
    changes = f", uncommitted changes in {len(package['uncommitted'])} file(s)"
    print(
        f"gitqms at {package['commit'][:12]}{changes if package['uncommitted'] else ''}, "
        f"code digest {package['code_sha256']}"
    )
    folder = Path(tempfile.mkdtemp(prefix=f"qms-verify-bench-{n}-"))
    try:
        print(f"generating {n} signatures ...", flush=True)
        built = build(folder, n)
        print(
            f"  {built.commits} commits, {built.signatures} signatures (with the trust root), "
            f"{built.objects} objects in {built.seconds['generate']:.2f} s "
            f"(signing {built.seconds['of which signing commits']:.2f} s), "
            f"git gc {built.seconds['git gc']:.2f} s, pack {built.pack_bytes / 1e6:.1f} MB",
            flush=True,
        )
        for line in check_with_git(built):
            print(f"  git verify-commit: {line}", flush=True)
        statuses = check_with_qms(built)
        print(f"  qms verify: 0 failures; statuses {statuses}", flush=True)

        RESULTS.mkdir(exist_ok=True)
        profile = RESULTS / f"verify-{n}-profile.txt" if options.profile else None
        load = os.getloadavg()[0]
        print(
            f"timing verify_history: {options.runs} runs, each in a fresh process "
            f"(1-minute load average {load:.2f} on {os.cpu_count()} CPUs) ...",
            flush=True,
        )
        qms = time_qms(built, options.runs)
        what = (
            f"newest {options.baseline_limit} commits" if options.baseline_limit else "all commits"
        )
        print(f"timing git log --format=%G? on {what} ...", flush=True)
        baseline = time_git(built, options.baseline_limit)

        median = statistics.median(qms["times"])
        ratio = baseline["seconds"] / median
        git_cell = f"{baseline['seconds']:.2f}" + (" (extrap.)" if baseline["extrapolated"] else "")
        rows = [
            (
                "signatures",
                "commits",
                "qms verify s",
                "git %G? s",
                "ratio",
                "us/signature",
                "peak MB",
            ),
            (
                str(built.signatures),
                str(built.commits),
                f"{median:.3f}",
                git_cell,
                f"{ratio:.1f}x",
                f"{median / built.signatures * 1e6:.0f}",
                f"{qms['peak_mb_cold']:.0f}",
            ),
        ]
        print()
        print(table(rows))
        print()
        print(
            f"qms verify: cold runs {', '.join(f'{t:.3f}' for t in qms['times'])} s wall, "
            f"{', '.join(f'{t:.3f}' for t in qms['cpu_times'])} s CPU of the Python process "
            f"(one call per fresh process; import {qms['import_seconds']:.2f} s not included); "
            f"a second call in the same process took "
            f"{', '.join(f'{t:.3f}' for t in qms['warm_times'])} s; peak RSS "
            f"{qms['peak_mb_cold']:.0f} MB after the cold call ({qms['peak_mb']:.0f} MB after both)"
        )
        note = (
            f"extrapolated from {baseline['seconds_measured']:.2f} s for the newest "
            f"{baseline['commits_timed']} commits ({baseline['signatures_timed']} signed), "
            f"{baseline['per_signature_us']:.0f} us per signed commit x {built.signatures}"
            if baseline["extrapolated"]
            else f"measured over all {baseline['commits_timed']} commits"
        )
        print(f"git baseline: {baseline['command']}: {note}; marks {baseline['marks']}")
        targets = {"at least 30x faster than git": ratio >= 30}
        if n >= 10000:
            targets["10,000 signatures under 3 s"] = median * 10000 / n < 3.0
        for name, met in targets.items():
            print(f"target {name}: {'met' if met else 'NOT met'}")
        if profile is not None:
            _run_worker(built, profile)  # after the timing, in a fresh process of its own
            print(f"\ncProfile of one cold verify call (top 15, cumulative), also in {profile}:")
            print(profile.read_text())

        result = {
            "signatures": built.signatures,
            "signature_commits_generated": n,
            "commits": built.commits,
            "records": built.records,
            "qms_verify_seconds": median,
            "qms_verify_runs": qms["times"],
            "qms_verify_cpu_runs": qms["cpu_times"],
            "qms_verify_warm_repeat_runs": qms["warm_times"],
            "qms_import_seconds": qms["import_seconds"],
            "git_seconds": baseline["seconds"],
            "git_extrapolated": baseline["extrapolated"],
            "git": baseline,
            "ratio": ratio,
            "us_per_signature": median / built.signatures * 1e6,
            "peak_mb": qms["peak_mb_cold"],
            "peak_mb_after_warm_repeat": qms["peak_mb"],
            "statuses": statuses,
            "targets": targets,
            "generation": {
                **built.seconds,
                "objects": built.objects,
                "pack_bytes": built.pack_bytes,
            },
            "head": built.head,
            "load_average_before_timing": load,
            "package": package,
            "environment": versions(),
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
        }
        if package_state()["code_sha256"] != package["code_sha256"]:
            print("WARNING: the gitqms code changed during the run; the figures mix versions")
            result["package_changed_during_run"] = True
        out = RESULTS / f"verify-{n}.json"
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nwrote {out.relative_to(PROJECT)}")
    finally:
        if options.keep:
            print(
                f"kept the repository at {folder / 'repo'} (allowed signers: {folder / 'allowed_signers'})"
            )
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
