"""Two `git log` processes give what one gives (git/streams.py, `log_changes_on_two`).

The narrow walk of a fresh clone mostly waits on `git log --raw`, so it shares the history
between two processes: `git rev-list` gives the order, each process shows its part of it. The
commits, their order, parents and changes must be exactly those of one `git log`, wherever the
cut falls: across merges, side branches, a second root, mode changes and deletions. (Every
`qms check` of the suite also takes the two-process path and is compared with the full walk:
conftest.py, `gate_both_ways`.)
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from gitqms import git
from gitqms.errors import GitError
from gitqms.git import streams

TWO_FROM = streams._TWO_FROM  # as shipped (conftest.py lowers it for every test)


def run(repo: Path, *args: str) -> str:
    """git `args` in `repo`, with no configuration but a fixed identity (the fixture is built
    once per module, before the per-test isolation applies)."""
    env = {**os.environ, "HOME": str(repo.parent), "GIT_CONFIG_NOSYSTEM": "1"}
    env.update(GIT_AUTHOR_NAME="T", GIT_AUTHOR_EMAIL="t@example.org")
    env.update(GIT_COMMITTER_NAME="T", GIT_COMMITTER_EMAIL="t@example.org")
    done = subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env
    )
    return done.stdout.strip()


def commit(repo: Path, message: str, **files: str | None) -> str:
    """A commit writing (or, for None, removing) `files` (name -> text; '__' is '/')."""
    for name, text in files.items():
        path = repo / name.replace("__", "/")
        if text is None:
            run(repo, "rm", "-q", str(path.relative_to(repo)))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        run(repo, "add", str(path.relative_to(repo)))
    run(repo, "commit", "-q", "--allow-empty", "-m", message)
    return run(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def tangled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A history with side branches crossing each other, an octopus merge, a second root
    merged in, an empty commit, a mode change, a deletion and a file replaced by a folder."""
    repo = tmp_path_factory.mktemp("tangled") / "repo"
    repo.mkdir()
    run(repo, "init", "-q", "-b", "main")
    commit(repo, "root", sops__a="a\n", qms_yaml="v1\n")
    for n in range(6):
        commit(repo, f"main {n}", **{f"sops__m{n}": f"{n}\n"})
    run(repo, "switch", "-q", "-c", "one", "main~4")
    commit(repo, "one 1", sops__a="a1\n")
    run(repo, "switch", "-q", "-c", "two", "main~2")
    commit(repo, "two 1", devs__d="d\n")
    run(repo, "switch", "-q", "one")
    commit(repo, "one 2", sops__a="a2\n", sops__m0=None)
    run(repo, "switch", "-q", "main")
    commit(repo, "empty")
    (repo / "run.sh").write_text("#!/bin/sh\n")
    run(repo, "add", "run.sh")
    run(repo, "commit", "-q", "-m", "script")
    run(repo, "update-index", "--chmod=+x", "run.sh")
    run(repo, "commit", "-q", "-m", "executable")
    run(repo, "merge", "-q", "--no-ff", "-m", "octopus", "one", "two")
    run(repo, "checkout", "-q", "--orphan", "other")
    run(repo, "rm", "-rfq", ".")
    commit(repo, "second root", x="x\n")
    run(repo, "switch", "-q", "main")
    run(repo, "merge", "-q", "--allow-unrelated-histories", "-m", "roots", "other")
    commit(repo, "folder", sops__m1=None, **{"sops__m1__inner": "i\n"})
    for n in range(5):
        commit(repo, f"after {n}", qms_yaml=f"v{n + 2}\n")
    return repo


@pytest.mark.parametrize("share", [0.05, 0.3, 0.62, 0.9])
@pytest.mark.parametrize(
    "revisions",
    [["main"], ["main", "^main~3"], ["main~2", "one", "two"], ["main", "^one"]],
    ids=["whole", "range", "tips", "off-branch"],
)
def test_two_processes_give_one_log(
    tangled: Path, monkeypatch: pytest.MonkeyPatch, share: float, revisions: list[str]
) -> None:
    one = list(git.log_changes(tangled, revisions))
    monkeypatch.setattr(streams, "_TWO_FROM", 2)
    monkeypatch.setattr(streams, "_OLDER_SHARE", share)
    two = list(git.log_changes_on_two(tangled, revisions))
    assert two == one
    assert one and [entry.id for entry in one] == git.topo_order(tangled, revisions)


def test_the_history_is_tangled(tangled: Path) -> None:
    """What the comparisons above cross: an octopus merge, two roots, a file made executable,
    a file deleted and a file that became a folder."""
    log = list(git.log_changes(tangled, ["main"]))
    assert sorted(len(entry.parents) for entry in log)[:2] == [0, 0]
    assert max(len(entry.parents) for entry in log) == 3
    changes = [change for entry in log for change in entry.changes]
    assert any(change.mode_changed and change.path == "run.sh" for change in changes)
    assert any(change.status == "D" and change.path == "sops/m0" for change in changes)
    assert any(change.status == "D" and change.path == "sops/m1" for change in changes)
    assert any(change.path == "sops/m1/inner" for change in changes)


def test_a_short_history_takes_one_process(tangled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(streams, "_TWO_FROM", TWO_FROM)
    assert len(git.topo_order(tangled, ["main"])) < TWO_FROM
    assert list(git.log_changes_on_two(tangled, ["main"])) == list(
        git.log_changes(tangled, ["main"])
    )


def test_nothing_to_show_shows_nothing(tangled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No commit in the revisions: no process is given an empty list (git log would show HEAD)."""
    monkeypatch.setattr(streams, "_TWO_FROM", 2)
    assert list(git.log_changes_on_two(tangled, ["main~3", "^main~3"])) == []
    assert len(list(git.log_changes_on_two(tangled, ["main~1", "^main~2"]))) == 1


def test_a_revision_git_does_not_know_is_a_git_error(tangled: Path) -> None:
    with pytest.raises(GitError, match="rev-list"):
        list(git.log_changes_on_two(tangled, ["no-such-branch"]))


def _git_children() -> list[int]:
    """The git processes this test process started that still run."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        if parent == os.getpid() and name == "git":
            found.append(int(entry))
    return found


@pytest.mark.parametrize("reader", ["one", "two"])
def test_a_reader_that_stops_early_leaves_no_git_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader: str
) -> None:
    """Stopping after the first commit ends both processes, the one still writing included:
    its output is bigger than a pipe holds, so it would wait for a reader for ever."""
    repo = tmp_path / "big"
    repo.mkdir()
    run(repo, "init", "-q", "-b", "main")
    for n in range(40):
        (repo / f"f{n}").write_text("x\n" * 10)
    for n in range(60):
        for m in range(40):
            (repo / f"f{m}").write_text(f"{n}\n")
        run(repo, "add", "-A")
        run(repo, "commit", "-q", "-m", f"c{n} " + "long path " * 10)
    monkeypatch.setattr(streams, "_TWO_FROM", 2)
    assert not _git_children()
    log = (
        git.log_changes(repo, ["main"])
        if reader == "one"
        else git.log_changes_on_two(repo, ["main"])
    )
    first = next(log)
    assert not first.parents
    assert _git_children()
    log.close()
    assert not _git_children()
