"""The history index kept by a forked child while `qms` makes the marks and prints (aside.py,
walk_index._Keeper): the file must hold exactly what a walk kept in-process holds, for a
history walked whole and for one carried on from a stored ancestor, and a command stopped at
any moment leaves no half-written file and nothing changed in the repository.

The histories: the benchmark generator's tiny size (edits, reviews, approvals, signed state
changes) and the demo (revocations, superseded approvals, training, change control).
"""

from __future__ import annotations

import json
import marshal
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from gitqms.history import index_store
from gitqms.history.index_store import Store
from gitqms.signatures.index_codec import Items
from gitqms.signatures.verify import walk_history
from gitqms.signatures.walk_index import KIND, StoredWalk
from toolkit.cli import QMS, qms
from toolkit.demo import Demo, pristine_demo
from toolkit.generated import generated_history
from toolkit.process import environment, git, run


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_history(tmp_path_factory, "aside")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return pristine_demo(tmp_path_factory)


@pytest.fixture(autouse=True)
def own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    index_store._secret.cache_clear()


def copy_of(repo: Path, target: Path) -> Path:
    shutil.copytree(repo, target, symlinks=True)
    shutil.rmtree(target / ".git" / "qms", ignore_errors=True)
    return target


def kept(repo: Path) -> dict[str, dict[str, Any]]:
    """Each stored walk, by tip: its key and every section decoded (a file whose HMAC does not
    check out under this test's key fails here)."""
    found: dict[str, dict[str, Any]] = {}
    store = Store(repo, KIND)
    for name in store.names():
        data = store.path(name).read_bytes()
        start = len(b"gitqms-index\n") + 8
        header = json.loads(data[start : start + int.from_bytes(data[start - 8 : start], "big")])
        sections = store.read(name, header["key"])
        assert sections is not None, f"the index of {name[:12]} does not read back"
        decoded: dict[str, Any] = {"key": header["key"]}
        for section, value in sections.items():
            if section.endswith(".ends"):
                continue
            if f"{section}.ends" in sections:
                items = Items(sections, section)
                decoded[section] = [items[i] for i in range(len(items))]
            else:
                decoded[section] = marshal.loads(value)
        found[name] = decoded
    return found


def leftovers(repo: Path) -> list[str]:
    folder = repo / ".git" / "qms"
    return (
        sorted(p.name for p in folder.iterdir() if p.name.startswith(".tmp"))
        if folder.exists()
        else []
    )


def qms_verify(repo: Path) -> subprocess.CompletedProcess[str]:
    return run([QMS, "--repo", repo, "verify"], env=environment(), check=False, timeout=600)


@pytest.mark.parametrize("history", ["synthetic", "demo"])
def test_the_index_kept_aside_is_the_one_kept_in_process(
    history: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    source = request.getfixturevalue(history)
    repo = source.repo if isinstance(source, Demo) else source
    here, beside = copy_of(repo, tmp_path / "here"), copy_of(repo, tmp_path / "beside")
    walk_history(here)  # in-process: no command around it, so no child
    result = qms_verify(beside)
    assert result.returncode in (0, 1), result.stderr
    assert leftovers(beside) == []
    expected, got = kept(here), kept(beside)
    assert list(got) == list(expected) and len(got) == 1
    assert got == expected


def test_a_walk_carried_on_is_kept_aside_as_in_process(synthetic: Path, tmp_path: Path) -> None:
    here, beside = copy_of(synthetic, tmp_path / "here"), copy_of(synthetic, tmp_path / "beside")
    for repo in (here, beside):
        walk_history(repo, ["HEAD~30"])  # the stored ancestor, kept in-process in both
    assert kept(here) == kept(beside)
    carried = walk_history(here)
    assert isinstance(carried, StoredWalk)  # carried on in-process
    result = qms_verify(beside)  # carried on by the command, kept by its child
    assert result.returncode in (0, 1), result.stderr
    assert kept(beside) == kept(here)
    assert len(kept(beside)) == 2


def test_the_in_process_command_waits_for_its_child(synthetic: Path, tmp_path: Path) -> None:
    """Through click's runner (no new process): the child forked from the test's own process
    has written the file when the command returns, and a second run reads it back."""
    repo = copy_of(synthetic, tmp_path / "repo")
    first = qms("verify", repo=repo)
    assert first.exit_code in (0, 1), first.stderr
    (tip,) = kept(repo)
    assert tip == git(repo, "rev-parse", "HEAD")
    assert isinstance(walk_history(repo), StoredWalk)
    second = qms("verify", repo=repo)
    assert second.stdout == first.stdout


def _stop_at(repo: Path, delay: float, how: str) -> None:
    """`qms verify` in its own process group, stopped `delay` seconds in: Ctrl-C to the group,
    or the parent killed outright (its child, if any, goes on alone); returns once every
    process of the group has ended."""
    process = subprocess.Popen(
        [str(QMS), "--repo", str(repo), "verify"],
        env=environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    time.sleep(delay)
    if how == "ctrl-c":
        os.killpg(process.pid, signal.SIGINT)
    else:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=120)
    deadline = time.monotonic() + 120
    while True:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        assert time.monotonic() < deadline, "a child outlived its parent by two minutes"
        time.sleep(0.02)


@pytest.mark.parametrize("how", ["ctrl-c", "kill"])
def test_a_command_stopped_at_any_moment_leaves_a_whole_index_or_none(
    synthetic: Path, tmp_path: Path, how: str
) -> None:
    reference = copy_of(synthetic, tmp_path / "reference")
    started = time.monotonic()
    walk_history(reference)
    expected = kept(reference)
    span = time.monotonic() - started
    head = git(synthetic, "rev-parse", "HEAD")
    for step in range(8):
        repo = copy_of(synthetic, tmp_path / f"stopped-{step}")
        _stop_at(repo, 0.2 + span * step / 4, how)
        assert leftovers(repo) == []
        assert kept(repo) in ({}, expected)  # nothing, or the whole walk
        assert git(repo, "rev-parse", "HEAD") == head
        assert git(repo, "status", "--porcelain") == ""


def test_a_child_told_to_finish_early_leaves_the_walk_to_be_kept_here(
    synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anything that reads the index while the marks are made waits for the children first
    (aside.settle): one not yet sent what the marks decided ends without writing, and the walk
    is kept in-process instead, the same file."""
    from gitqms import aside
    from gitqms.signatures.walk import Walk

    here, beside = copy_of(synthetic, tmp_path / "here"), copy_of(synthetic, tmp_path / "beside")
    walk_history(here)
    marks = Walk._mark

    def settled_first(walk: Walk, *args: Any) -> None:
        assert aside._started[-1], "no child was forked"
        aside.settle()
        marks(walk, *args)

    monkeypatch.setattr(Walk, "_mark", settled_first)
    with aside.allowing():
        walk_history(beside)
    assert kept(beside) == kept(here)
