"""The benchmark harness at its tiny size (20 records, 100 commits): it runs; nothing is timed.

The runner generates the repository once for the module; the tests then check what it built
and what it wrote, and that a second run reuses the cached repository.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import synth_repo  # noqa: E402

from toolkit.process import git  # noqa: E402


def run_bench(build: Path, results: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, str(BENCH / "run.py"), "--size", "T", "--runs", "1"]
    argv += ["--build", str(build), "--results", str(results), *extra]
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    root = tmp_path_factory.mktemp("bench")
    build, results = root / "build", root / "results"
    done = run_bench(build, results)
    assert done.returncode == 0, done.stdout + done.stderr
    return build, results, done.stdout


def test_the_generated_repository_verifies_and_validates(bench: tuple[Path, Path, str]) -> None:
    build, _, _ = bench
    manifest = json.loads((build / "T" / "manifest.json").read_text())
    assert manifest["records"] == 20
    assert manifest["commits"] == 100
    assert set(manifest["records_by_kind"]) == {"SOP", "CAPA", "DEV"}
    checked = synth_repo.check(build / "T", manifest)  # exits unless all valid, no errors
    assert sum(checked["signatures"].values()) == manifest["signatures"]
    assert set(checked["signatures"]) <= {"valid", "superseded"}
    repo = build / "T" / "repo"
    assert (repo / manifest["log_record"]["path"]).is_file()
    assert not git(repo, "status", "--porcelain")


def test_the_runner_reports_every_operation(bench: tuple[Path, Path, str]) -> None:
    _, results, stdout = bench
    data: dict[str, Any] = json.loads((results / "bench-T.json").read_text())
    indexed = [f"{op} ({state})" for op in ("verify", "log", "check") for state in ("cold", "warm")]
    sites = ["site build (cold)", "site build (warm)"]
    fresh = [f"{op} (fresh clone)" for op in ("check", "verify", "log")]
    expected = {"validate", *indexed, "check (incremental)", *fresh, "status (warm)", *sites}
    assert set(data["operations"]) == expected
    for name, operation in data["operations"].items():
        assert operation["qms"]["seconds"] > 0, name
        assert operation["baseline"]["seconds"] > 0, name
        assert operation["qms"]["peak_mb"] > 0, name
        assert operation["ratio"] > 0, name
    assert data["operations"]["verify (cold)"]["baseline"]["extrapolation_factor"] == 1.0
    assert data["operations"]["check (warm)"]["history_index"] == "warm"
    site = data["operations"]["site build (cold)"]
    assert site["pages"] > 20 and site["qms"]["note"] == f"{site['pages']} pages"
    assert "generating size T" in stdout
    for name in ("validate", "verify (cold)", "log (warm)", "check (incremental)"):
        assert name in stdout


def test_the_fresh_clone_rows_run_in_a_clone_with_nothing_kept(
    bench: tuple[Path, Path, str],
) -> None:
    """Each fresh-clone run starts from `git clone --no-local` with no .git/qms and an empty
    HOME (so no index key): its qms command names the clone, and the clone is gone afterwards."""
    build, results, stdout = bench
    data: dict[str, Any] = json.loads((results / "bench-T.json").read_text())
    manifest = json.loads((build / "T" / "manifest.json").read_text())
    for op in ("check", "verify", "log"):
        operation = data["operations"][f"{op} (fresh clone)"]
        assert operation["history_index"] == "fresh clone"
        assert str(build / "T" / "fresh-clone") in operation["qms"]["command"]
    assert "HEAD~50..HEAD" in data["operations"]["check (fresh clone)"]["qms"]["command"]
    log = data["operations"]["log (fresh clone)"]
    assert log["qms"]["command"].endswith(f"log {manifest['log_record']['id']}")
    assert log["targets"] == {"<= 1.5 s": log["qms"]["seconds"] <= 1.5}
    assert log["target_figures"]["<= 1.5 s"] == pytest.approx(log["qms"]["seconds"] / 1.5)
    check = data["operations"]["check (fresh clone)"]
    assert check["targets"] == {"M <= 2.5 s": None, "L <= 1.5x M": None}  # judged at M and L
    assert check["target_figures"] == {}
    for name in ("fresh-clone", "fresh-pristine", "fresh-home"):
        assert not (build / "T" / name).exists(), name
    assert "log (fresh clone)" in stdout and "<= 1.5 s (" in stdout


def test_the_floor_stands_beside_the_fresh_verify(bench: tuple[Path, Path, str]) -> None:
    """The floor is max(Ed25519 of every signed commit, git log --raw + cat-file), measured in
    the run; the fresh verify is judged by its ratio to it."""
    build, results, stdout = bench
    data: dict[str, Any] = json.loads((results / "bench-T.json").read_text())
    manifest = json.loads((build / "T" / "manifest.json").read_text())
    verify = data["operations"]["verify (fresh clone)"]
    floor = verify["baseline"]
    assert floor["name"] == "floor" and floor["seconds"] > 0
    signed = int(floor["note"].split("(", 1)[1].split(" signed commits, one core; the ")[0])
    assert signed >= manifest["signatures"] > 0
    assert f"the {manifest['signatures']} e-signatures among them" in floor["note"]
    assert "git log --raw" in floor["note"] and "cat-file" in floor["note"]
    assert verify["ratio"] == pytest.approx(verify["qms"]["seconds"] / floor["seconds"])
    assert verify["targets"] == {"<= 2.5x floor": verify["ratio"] <= 2.5}
    assert "verify (fresh clone): baseline Ed25519" in stdout
    status = data["operations"]["status (warm)"]
    assert status["history_index"] == "warm" and status["qms"]["command"].endswith("status")
    assert set(status["targets"]) == {"<= 1.5 s"}


def test_the_floor_counts_every_signed_commit(bench: tuple[Path, Path, str]) -> None:
    """A verify walk checks every signed commit (a signed change proves who wrote it), so the
    floor times them all; the e-signatures are counted apart, and are part of that time."""
    build, _, _ = bench
    manifest = json.loads((build / "T" / "manifest.json").read_text())
    done = subprocess.run(
        [sys.executable, str(BENCH / "floor_sigs.py"), str(build / "T" / "repo")],
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(done.stdout)
    assert found["signatures"] == manifest["signatures"]
    signers = f"gpg.ssh.allowedSignersFile={build / 'T' / 'allowed_signers'}"
    listed = subprocess.run(
        ["git", "-c", signers, "log", "--format=%G?", "HEAD"],
        cwd=build / "T" / "repo",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert found["signed_commits"] == sum(mark != "N" for mark in listed) > found["signatures"]
    assert found["seconds"] > found["esignature_seconds"] > 0


def test_a_second_run_reuses_the_repository(bench: tuple[Path, Path, str]) -> None:
    build, results, _ = bench
    again = run_bench(build, results, "--only", "validate")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "reusing" in again.stdout
    data = json.loads((results / "bench-T.json").read_text())
    assert set(data["operations"]) == {"validate"}
    assert data["generation"] == "reused from the cache"


def test_the_narrow_gate_judges_every_range_of_the_generated_history_as_the_full_walk(
    bench: tuple[Path, Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every range HEAD~k..HEAD of the generated history (reviews, approvals, revisions and
    state changes of SOPs, CAPAs and deviations, signed by many people): the narrow gate and
    the full walk give one report, and the narrow one is what judged."""
    from gitqms.records import kinds
    from gitqms.rules.check import check_range

    build, _, _ = bench
    manifest = json.loads((build / "T" / "manifest.json").read_text())
    repo = tmp_path / "repo"
    git(tmp_path, "clone", "-q", "--no-local", str(build / "T" / "repo"), str(repo))
    allowed = build / "T" / str(manifest["allowed_signers"])
    git(repo, "config", "gpg.ssh.allowedSignersFile", str(allowed))
    kinds.use_kinds(kinds.PACKAGE, work_tree=True)
    narrowly = 0
    for k in range(1, manifest["commits"] - 1, 7):
        monkeypatch.setenv("GITQMS_GATE", "narrow")
        narrow = check_range(repo, f"HEAD~{k}..HEAD")
        monkeypatch.setenv("GITQMS_GATE", "full")
        full = check_range(repo, f"HEAD~{k}..HEAD")
        assert (narrow.violations, narrow.notes) == (full.violations, full.notes), k
        registry = git(repo, "log", "--format=%H", f"HEAD~{k}..HEAD", "--", "qms.yaml")
        assert narrow.scope == ("full" if registry else "narrow"), k  # qms.yaml: the full walk
        narrowly += narrow.scope == "narrow"
    assert narrowly >= 3
