"""Review of the two-ended read of history (git/streams.py, `log_changes_from_both_ends`).

Its claim: the same commits, parents, changes and order as one `git log`, and errors never
swallowed. A `git log` whose output ends early (killed: the out-of-memory killer picks the
process that holds the whole history, the parents-first one) ends its last commit wherever
its pipe was cut; one process reports its exit, so the walk fails. Two ends must not take
that cut commit as whole where they meet, nor the tips' process's cut last commit. And a
path is read as git wrote it, even one that starts with a newline.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from gitqms import git
from gitqms.errors import GitError
from gitqms.git import streams
from test_log_both_ends import commit, meeting_at, run

FILES = 3000  # raw lines of ~100 bytes: far more than a pipe holds


def _blocked_on_its_pipe(process: subprocess.Popen[bytes]) -> None:
    """Wait until `process` waits for a reader (its pipe full), then kill it: as the kernel's
    out-of-memory killer would, mid-way through a commit's raw lines."""
    wchan = Path(f"/proc/{process.pid}/wchan")
    deadline = time.monotonic() + 20
    while "pipe_write" not in wchan.read_text() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "pipe_write" in wchan.read_text(), "git never filled its pipe"
    os.kill(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def heavy_tip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root, then a tip that adds FILES files."""
    repo = tmp_path_factory.mktemp("heavy_tip") / "repo"
    repo.mkdir()
    run(repo, "init", "-q", "-b", "main")
    commit(repo, "root", a="a\n")
    for n in range(FILES):
        (repo / f"f{n:05}").write_text(f"{n}\n")
    run(repo, "add", "-A")
    run(repo, "commit", "-q", "-m", "heavy")
    return repo


def _recorded(monkeypatch: pytest.MonkeyPatch) -> list[subprocess.Popen[bytes]]:
    """The processes `streams` starts from now on."""
    seen: list[subprocess.Popen[bytes]] = []
    real = streams.popen

    def recording(cwd: Path, args: list[str], **kwargs: bool) -> subprocess.Popen[bytes]:
        seen.append(real(cwd, args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(streams, "popen", recording)
    return seen


def test_one_log_killed_mid_commit_is_an_error(
    heavy_tip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reference: one `git log` cut mid-way through the tip's lines fails the read."""
    started = _recorded(monkeypatch)
    log = git.log_changes(heavy_tip, ["main"])
    assert not next(log).parents
    _blocked_on_its_pipe(started[0])
    with pytest.raises(GitError, match="git log failed"):
        list(log)


def test_the_parents_first_log_killed_where_they_meet_is_an_error(
    heavy_tip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """They meet at the tip (the tips' process shows it first, so it is the latest they can
    meet); the parents-first process was killed mid-way through the tip's lines, so the tip
    it gives is cut. One process reports that (above); two must too, not give the cut tip."""
    monkeypatch.setattr(streams, "_TWO_FROM", 0)
    meeting_at(monkeypatch, 2)
    started = _recorded(monkeypatch)
    log = git.log_changes_from_both_ends(heavy_tip, ["main"])
    assert not next(log).parents
    older = next(p for p in started if "--reverse" in p.args and p.args[1] == "log")
    _blocked_on_its_pipe(older)
    with pytest.raises(GitError, match="git log failed"):
        tip = next(log)
        assert len(tip.changes) == FILES, f"the tip cut to {len(tip.changes)} of {FILES} files"


@pytest.fixture(scope="module")
def heavy_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root that adds FILES files, then a small tip."""
    repo = tmp_path_factory.mktemp("heavy_root") / "repo"
    repo.mkdir()
    run(repo, "init", "-q", "-b", "main")
    for n in range(FILES):
        (repo / f"f{n:05}").write_text(f"{n}\n")
    run(repo, "add", "-A")
    run(repo, "commit", "-q", "-m", "heavy root")
    commit(repo, "tip", a="a\n")
    return repo


def test_the_tips_log_killed_mid_commit_does_not_give_it(
    heavy_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tips' process killed mid-way through the root's lines (its reader slower than git
    for a while): the cut root is not a commit it has shown; taking it is an error."""
    held = threading.Event()
    real_read = streams._FromTheTips._read

    def late(self: streams._FromTheTips, cwd: Path, args: list[str]) -> None:
        held.wait()
        real_read(self, cwd, args)

    monkeypatch.setattr(streams._FromTheTips, "_read", late)
    tips = streams._FromTheTips(heavy_root, ["log", *streams._SHOW, "main", "--"])
    try:
        _blocked_on_its_pipe(tips._process)
        held.set()
        assert tips.take(run(heavy_root, "rev-parse", "main")).parents
        with pytest.raises(GitError, match="git log failed"):
            root = tips.take(run(heavy_root, "rev-parse", "main~1"))
            assert len(root.changes) == FILES, f"the root cut to {len(root.changes)} files"
    finally:
        held.set()
        tips.stop()


@pytest.mark.parametrize("both", [False, True], ids=["one", "both"])
def test_a_path_that_starts_with_a_newline_is_that_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, both: bool
) -> None:
    """git allows a newline in a name: a folder '\\nsops' holding 'SOP-0001.md' is not
    sops/SOP-0001.md, and must not be read as a change of that record (full and narrow walk
    alike read paths so)."""
    monkeypatch.setattr(streams, "_TWO_FROM", 0)
    repo = tmp_path / "repo"
    repo.mkdir()
    run(repo, "init", "-q", "-b", "main")
    commit(repo, "root", a="a\n")
    commit(repo, "shadow", **{"\nsops__SOP-0001.md": "not the record\n"})
    read = git.log_changes_from_both_ends if both else git.log_changes
    paths = [change.path for entry in read(repo, ["main"]) for change in entry.changes]
    assert paths == ["a", "\nsops/SOP-0001.md"]
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=repo, capture_output=True, check=True)
    assert tracked.stdout.split(b"\0") == [b"\nsops/SOP-0001.md", b"a", b""]  # no sops/ at all


def signing_repository(repo: Path, keys: Path) -> None:
    """A new repository at `repo` whose `git commit -S` signs with a new SSH key (in `keys`)
    that git's verification trusts."""
    run(repo, "init", "-q", "-b", "main")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(keys / "key")])
    public = (keys / "key.pub").read_text()
    (keys / "allowed").write_text(f"t@example.org {public}")
    run(repo, "config", "gpg.format", "ssh")
    run(repo, "config", "user.signingKey", str(keys / "key"))
    run(repo, "config", "gpg.ssh.allowedSignersFile", str(keys / "allowed"))


SETTINGS = [("log.showSignature", "true"), ("log.showRoot", "false"), ("diff.relative", "true")]


@pytest.mark.parametrize("setting", SETTINGS, ids=[name for name, _ in SETTINGS])
@pytest.mark.parametrize("both", [False, True], ids=["one", "both"])
def test_the_repositorys_log_settings_do_not_change_what_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, both: bool, setting: tuple[str, str]
) -> None:
    """git log obeys settings that change its output: log.showSignature writes each signed
    commit's verification before its line (the commit is lost, its changes given to the one
    before), log.showRoot=false hides what the root added, diff.relative drops and shortens
    paths when the QMS is a folder of the repository. What is read is history, not them."""
    monkeypatch.setattr(streams, "_TWO_FROM", 0)
    repo = tmp_path / "repo"
    (repo / "qms").mkdir(parents=True)
    signing_repository(repo, tmp_path)
    commit(repo, "root", qms__sops__a="a\n", outside="o\n")
    run(repo, "commit", "-q", "-S", "--allow-empty", "-m", "signed")
    commit(repo, "after", qms__sops__a="a2\n", outside="o2\n")
    run(repo, "commit", "-q", "-S", "--allow-empty", "-m", "signed again")
    read = git.log_changes_from_both_ends if both else git.log_changes
    plain = list(read(repo / "qms", ["main"]))
    assert [len(entry.changes) for entry in plain] == [2, 0, 2, 0]
    run(repo, "config", *setting)
    assert list(read(repo / "qms", ["main"])) == plain


@pytest.mark.parametrize("setting", SETTINGS[:2], ids=[name for name, _ in SETTINGS[:2]])
def test_the_settings_do_not_change_the_paths_ever_added(
    tmp_path: Path, setting: tuple[str, str]
) -> None:
    """`qms new` never gives a record the ID of one that ever existed (git.paths_ever_added):
    one added by the root commit and deleted since still counts, whatever log.showRoot says,
    and log.showSignature adds no 'paths' of its own."""
    repo = tmp_path / "repo"
    repo.mkdir()
    signing_repository(repo, tmp_path)
    commit(repo, "root", sops__SOP0001="a\n")
    run(repo, "rm", "-q", "sops/SOP0001")
    run(repo, "commit", "-q", "-S", "-m", "gone")
    commit(repo, "next", sops__SOP0002="b\n")
    run(repo, "commit", "-q", "-S", "--allow-empty", "-m", "signed")
    plain = git.paths_ever_added(repo, ["sops"])
    assert plain == {"sops/SOP0001", "sops/SOP0002"}
    run(repo, "config", *setting)
    assert git.paths_ever_added(repo, ["sops"]) == plain
