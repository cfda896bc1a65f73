"""Two `git log` processes give what one gives (git/streams.py, `log_changes_from_both_ends`).

The narrow walk of a fresh clone mostly waits on `git log --raw`, so on a long history a second
process diffs it from the tips, newest first, while the first goes on parents first; where they
meet, the first stops and the rest comes from the second, in the order `git rev-list` gives.
The commits, their order, parents and changes must be exactly those of one `git log`, wherever
they meet: across merges, side branches, a second root, dates that lie, mode changes and
deletions. (Every `qms check` of the suite also takes the two-process path and is compared
with the full walk: conftest.py, `gate_both_ways`.)
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitqms import git
from gitqms.errors import GitError
from gitqms.git import streams


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
    for n in range(5):  # committer dates that run backwards: the tips' log is not the reverse
        os.environ["GIT_COMMITTER_DATE"] = f"{1_000_000_000 - n * 86_400} +0000"
        try:
            commit(repo, f"after {n}", qms_yaml=f"v{n + 2}\n")
        finally:
            del os.environ["GIT_COMMITTER_DATE"]
    commit(repo, "last", sops__a="a3\n")
    return repo


REVISIONS = [["main"], ["main", "^main~3"], ["main~2", "one", "two"], ["main", "^one"]]
IDS = ["whole", "range", "tips", "off-branch"]


def started(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The git commands `streams` starts from now on, by their first two words."""
    seen: list[str] = []
    real = streams.popen

    def recording(cwd: Path, args: list[str], **kwargs: bool) -> subprocess.Popen[bytes]:
        seen.append(" ".join(args[:2]))
        return real(cwd, args, **kwargs)

    monkeypatch.setattr(streams, "popen", recording)
    return seen


def meeting_at(monkeypatch: pytest.MonkeyPatch, at: int | None) -> None:
    """The two processes meet after the `at`-th commit the first shows (None: never), whatever
    the second has shown by then; it shows the rest when asked, as it would anyway."""
    asked = iter(range(1, 1_000_000))
    monkeypatch.setattr(streams._FromTheTips, "has", lambda self, commit: next(asked) == at)


@pytest.mark.parametrize("revisions", REVISIONS, ids=IDS)
def test_wherever_they_meet_two_processes_give_one_log(
    tangled: Path, monkeypatch: pytest.MonkeyPatch, revisions: list[str]
) -> None:
    one = list(git.log_changes(tangled, revisions))
    assert one and [entry.id for entry in one] == git.topo_order(tangled, revisions)
    monkeypatch.setattr(streams, "_TWO_FROM", 0)
    for at in [*range(1, len(one) + 1), None]:
        meeting_at(monkeypatch, at)
        assert list(git.log_changes_from_both_ends(tangled, revisions)) == one, at


@pytest.mark.parametrize("revisions", REVISIONS, ids=IDS)
def test_where_they_meet_by_themselves(
    tangled: Path, monkeypatch: pytest.MonkeyPatch, revisions: list[str]
) -> None:
    monkeypatch.setattr(streams, "_TWO_FROM", 0)
    commands = started(monkeypatch)
    both = list(git.log_changes_from_both_ends(tangled, revisions))
    assert both == list(git.log_changes(tangled, revisions))
    assert sorted(commands[:3]) == ["log --topo-order", "log -z", "rev-list --topo-order"]


def test_the_history_is_tangled(tangled: Path) -> None:
    """What the comparisons above cross: an octopus merge, two roots, a file made executable,
    a file deleted, a file that became a folder, and tips dated before their parents."""
    log = list(git.log_changes(tangled, ["main"]))
    assert sorted(len(entry.parents) for entry in log)[:2] == [0, 0]
    assert max(len(entry.parents) for entry in log) == 3
    changes = [change for entry in log for change in entry.changes]
    assert any(change.mode_changed and change.path == "run.sh" for change in changes)
    assert any(change.status == "D" and change.path == "sops/m0" for change in changes)
    assert any(change.status == "D" and change.path == "sops/m1" for change in changes)
    assert any(change.path == "sops/m1/inner" for change in changes)
    by_date = run(tangled, "log", "--format=%H", "main").split()
    assert by_date[: len(log) // 2] != [entry.id for entry in reversed(log)][: len(log) // 2]


@pytest.mark.parametrize("shorter", [False, True], ids=["as long", "shorter"])
def test_a_short_history_takes_one_process(
    tangled: Path, monkeypatch: pytest.MonkeyPatch, shorter: bool
) -> None:
    length = len(git.topo_order(tangled, ["main"]))
    monkeypatch.setattr(streams, "_TWO_FROM", length + shorter)
    commands = started(monkeypatch)
    both = list(git.log_changes_from_both_ends(tangled, ["main"]))
    assert both == list(git.log_changes(tangled, ["main"]))
    two = ["log --topo-order", "rev-list --topo-order", "log -z"]
    assert commands == (two[:2] if shorter else two) + ["log --topo-order"]  # last: log_changes


@pytest.mark.parametrize("two_from", [0, 10**6])
def test_nothing_to_show_shows_nothing(
    tangled: Path, monkeypatch: pytest.MonkeyPatch, two_from: int
) -> None:
    """No commit in the revisions: nothing, not HEAD's log (git log's default)."""
    monkeypatch.setattr(streams, "_TWO_FROM", two_from)
    assert list(git.log_changes_from_both_ends(tangled, ["main~3", "^main~3"])) == []
    assert len(list(git.log_changes_from_both_ends(tangled, ["main~1", "^main~2"]))) == 1


@pytest.mark.parametrize("two_from", [0, 10**6])
def test_a_revision_git_does_not_know_is_a_git_error(
    tangled: Path, monkeypatch: pytest.MonkeyPatch, two_from: int
) -> None:
    monkeypatch.setattr(streams, "_TWO_FROM", two_from)
    with pytest.raises(GitError, match="git log failed"):
        list(git.log_changes_from_both_ends(tangled, ["no-such-branch"]))


def test_a_commit_the_tips_log_never_shows_is_an_error(tangled: Path) -> None:
    args = ["log", *streams._SHOW, "main~3", "--"]
    tips = streams._FromTheTips(tangled, args)
    try:
        assert tips.take(run(tangled, "rev-parse", "main~3")).parents
        with pytest.raises(GitError, match="without showing commit"):
            tips.take(run(tangled, "rev-parse", "main"))
    finally:
        tips.stop()


def _git_children() -> list[str]:
    """The command lines of the git processes this test process started that still run (or
    wait to be reaped)."""
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
            found.append(Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode())
    return found


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A history whose log is bigger than a pipe holds: git waits for a reader."""
    repo = tmp_path_factory.mktemp("big") / "repo"
    repo.mkdir()
    run(repo, "init", "-q", "-b", "main")
    for n in range(60):
        for m in range(40):
            (repo / f"f{m}").write_text(f"{n}\n")
        run(repo, "add", "-A")
        run(repo, "commit", "-q", "-m", f"c{n}")
    return repo


@pytest.mark.parametrize("way", ["one", "both, before they meet", "both, after"])
def test_a_reader_that_stops_early_leaves_no_git_running(
    big: Path, monkeypatch: pytest.MonkeyPatch, way: str
) -> None:
    monkeypatch.setattr(streams, "_TWO_FROM", 0)
    log: Iterator[git.LoggedCommit]
    if way == "one":
        log = git.log_changes(big, ["main"])
    else:
        meeting_at(monkeypatch, None if way.endswith("meet") else 1)
        log = git.log_changes_from_both_ends(big, ["main"])
    assert not _git_children()
    first, second = next(log), next(log)
    assert not first.parents and second.parents == (first.id,)
    running = _git_children()
    if way == "both, after":  # the first process stopped where they met
        assert not [command for command in running if "--topo-order" in command]
    else:  # the first process waits for its reader
        assert [command for command in running if "--topo-order" in command]
    log.close()
    assert not _git_children()
