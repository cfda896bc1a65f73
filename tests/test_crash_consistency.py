"""A command killed at any point leaves the repository as before or as after.

Every command that writes a commit or a record runs as its own process with a `git` on its
PATH that kills it with SIGKILL at its Nth git call, before or after running the real git, for
every N the command reaches (`kill_switch`). After each kill: HEAD holds the old or the new
content; an ordinary `git commit -a` cannot undo the signed change; the next qms command leaves
index and work tree equal to HEAD, with nothing untracked left behind.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from test_import import deviation_csv
from test_lifecycle_capa import RISK, edit, new_capa
from toolkit.cli import qms
from toolkit.kill_switch import KillSwitch
from toolkit.people import ssh_fingerprint
from toolkit.process import environment, git, run
from toolkit.team import Team
from toolkit.world import World, isolated

DAY = "2026-03-02"
DATES = {"GIT_AUTHOR_DATE": f"{DAY}T10:00:00Z", "GIT_COMMITTER_DATE": f"{DAY}T10:00:00Z"}


@dataclass
class Base:
    team: Team
    switch: KillSwitch
    folder: Path


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Base]:
    """A team with a CAPA ready to advance, a draft SOP to review and a person without a key."""
    folder = tmp_path_factory.mktemp("crash")
    with isolated(tmp_path_factory) as monkeypatch:
        world = World(folder, monkeypatch)
        team = Team(world)
        path = new_capa(team, "2026-02-02")
        team.on("2026-02-03")
        edit(team, team.author, path, "risk assessed", risk=RISK)
        team.write_sop(1, "2026-04-01", "Receive the shipper.")
        newcomer = world.person("n.keyless", "Nora Keyless")
        world.add_person(team.admin, newcomer, "qa-officer")
        deviation_csv(folder / "deviations.csv")
        yield Base(team, KillSwitch(folder / "switch"), folder)
        world.close()


def scenarios(base: Base) -> dict[str, tuple[str, list[str]]]:
    """Command name -> (who runs it, its arguments)."""
    team = base.team
    fingerprint = ssh_fingerprint(team.officer.pub)
    reason = ["--reason", "crash test"]
    newcomer = team.world.people["n.keyless"]
    return {
        "advance": ("officer", ["advance", "CAPA-2026-0001", "--to", "root-cause"]),
        "people-add": (
            "admin",
            [
                *("people", "add", "p.new", "--name", "Pia New", "--email", "p.new@x.example"),
                *("--role", "qa-officer", *reason),
            ],
        ),
        "keys-add": ("admin", ["keys", "add", "n.keyless", str(newcomer.pub), *reason]),
        "keys-revoke": ("admin", ["keys", "revoke", "m.okafor", fingerprint, *reason]),
        "sign": ("officer", ["review", "SOP-0001", *reason]),
        "new": ("author", ["new", "capa", "--title", "Freezer alarm at night"]),
        "import": (
            "admin",
            ["import", "deviations", str(base.folder / "deviations.csv"), "--commit", *reason],
        ),
        "audit-trail": (
            "officer",
            [
                *("audit-trail", "--since", "2026-01-01", "--until", "2026-02-28", "--sign"),
                *("--conclusion", "Nothing unusual."),
            ],
        ),
    }


def state(repo: Path) -> tuple[str, str]:
    return git(repo, "rev-parse", "HEAD"), git(repo, "rev-parse", "HEAD^{tree}")


# Git calls that write objects, the index or refs. Before the first of them a command has only
# read (a kill there is checked once); from it on it is killed at every call.
WRITING = (" hash-object ", " commit-tree ", " update-ref ", " update-index ", " read-tree ")


def kill_points(calls: list[str]) -> list[int]:
    numbers = [int(call.split()[0]) for call in calls]
    writing = [
        n for n, call in zip(numbers, calls, strict=True) if any(w in f" {call} " for w in WRITING)
    ]
    first = writing[0] if writing else 1
    return [1, *(n for n in numbers if n >= max(first, 2))]


def fingerprint(repo: Path) -> str:
    """What a kill left: HEAD, the index (and its lock), the names in the git folder and every
    work-tree file."""
    digest = hashlib.sha256(git(repo, "rev-parse", "HEAD").encode())
    folder = repo / ".git"
    for path in sorted(folder.iterdir()):
        digest.update(path.name.encode())
        if path.name.startswith("index"):
            digest.update(path.read_bytes())
    for path in sorted(repo.rglob("*")):
        if path.is_file() and ".git" not in path.relative_to(repo).parts:
            digest.update(str(path.relative_to(repo)).encode() + path.read_bytes())
    return digest.hexdigest()


def leftovers(repo: Path) -> list[str]:
    """Files a half-done command left: git's index lock, gitqms's own, temporary files."""
    inside = [
        p.name for p in (repo / ".git").iterdir() if p.name.startswith(("index.lock", "qms-"))
    ]
    temporary = [p.name for p in repo.rglob(".*.tmp")] + [p.name for p in repo.glob(".qms-*")]
    return inside + temporary


@pytest.mark.parametrize(
    "name",
    ["advance", "people-add", "keys-add", "keys-revoke", "sign", "new", "import", "audit-trail"],
)
def test_a_kill_at_any_git_call_leaves_the_repository_before_or_after(
    base: Base, name: str, tmp_path: Path
) -> None:
    team = base.team
    who, args = scenarios(base)[name]
    person = getattr(team, who)
    env = DATES | {"GIT_CONFIG_GLOBAL": str(person.config)}
    original = team.world.repo

    def copy(label: str) -> Path:
        target = tmp_path / label
        shutil.copytree(original, target, symlinks=True)
        return target

    old_head, old_tree = state(original)
    reference = copy("reference")
    done = base.switch.run(reference, args, env)
    assert not done.killed and done.calls, done.output
    assert "error" not in done.output.lower(), done.output
    new_head, new_tree = state(reference)
    untracked = git(reference, "status", "--porcelain", "--untracked-files=all")
    if name == "new":  # qms new writes a file and commits nothing
        assert new_tree == old_tree and untracked.startswith("?? ")
    else:
        assert new_tree != old_tree or name == "sign"
        assert new_head != old_head and untracked == ""
    expected_files = {
        line[3:]: (reference / line[3:]).read_bytes() for line in untracked.splitlines()
    }

    checked: set[str] = set()
    for at in kill_points(done.calls):
        for when in ("before", "after"):
            repo = copy(f"{at}-{when}")
            killed = base.switch.run(repo, args, env, at=at, when=when)
            where = (
                f"{name}: killed {when} git call {at} ({killed.calls[-1] if killed.calls else '-'})"
            )
            assert killed.killed, f"{where}: not killed\n{killed.output}"
            seen = fingerprint(repo)
            if seen in checked:  # the same state as an earlier kill left: checked already
                shutil.rmtree(repo)
                continue
            checked.add(seen)
            head, tree = state(repo)
            assert (head, tree) == (old_head, old_tree) or (
                tree == new_tree and git(repo, "rev-parse", "HEAD^") == old_head
            ), where
            # An ordinary commit of everything changed cannot undo the signed change.
            with team.world.acting(team.author):
                run(
                    ["git", "commit", "-a", "-q", "--no-gpg-sign", "-m", "ordinary"],
                    cwd=repo,
                    env=environment(**DATES),
                    check=False,
                )
            assert state(repo) == (head, tree), f"{where}: an ordinary commit changed the content"
            # The next qms command finds the repository whole: index and work tree as HEAD.
            with team.world.acting(team.author):
                result = qms("status", "--date", DAY, repo=repo)
            assert result.exit_code in (0, 1), f"{where}: {result.output}{result.stderr}"
            status = git(repo, "status", "--porcelain", "--untracked-files=all")
            for line in status.splitlines():
                assert line.startswith("?? ") and line[3:] in expected_files, f"{where}: {status}"
                assert (repo / line[3:]).read_bytes() == expected_files[line[3:]], where
            assert leftovers(repo) == [], where
            assert state(repo) == (head, tree), where
            shutil.rmtree(repo)


def test_a_lock_removed_by_hand_after_a_kill_still_cannot_undo_the_signed_change(
    base: Base, tmp_path: Path
) -> None:
    """git's own message says to remove a stale index.lock; the next qms command still brings
    the index and work tree to the signed change, so `git commit -a` does not undo it."""
    team = base.team
    _, args = scenarios(base)["advance"]
    env = DATES | {"GIT_CONFIG_GLOBAL": str(team.officer.config)}
    repo = tmp_path / "qms"
    shutil.copytree(team.world.repo, repo, symlinks=True)
    old_head = git(repo, "rev-parse", "HEAD")
    reference = tmp_path / "reference"
    shutil.copytree(repo, reference, symlinks=True)
    update_ref = next(
        int(call.split()[0])
        for call in base.switch.run(reference, args, env).calls
        if " update-ref " in f" {call} "
    )
    run = base.switch.run(repo, args, env, at=update_ref, when="after")
    assert run.killed and git(repo, "rev-parse", "HEAD^") == old_head
    assert (repo / ".git" / "index.lock").exists()
    (repo / ".git" / "index.lock").unlink()  # as git's message tells the user
    assert git(repo, "status", "--porcelain") != ""  # the index still holds the old state
    with team.world.acting(team.author):
        result = qms("status", "--date", DAY, repo=repo)
    assert result.exit_code in (0, 1), result.output + result.stderr
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(repo, "rev-parse", "HEAD^{tree}") == git(reference, "rev-parse", "HEAD^{tree}")
    assert leftovers(repo) == []


def test_a_command_refuses_while_git_holds_the_index_and_changes_nothing(
    base: Base, tmp_path: Path
) -> None:
    team = base.team
    _, args = scenarios(base)["advance"]
    env = DATES | {"GIT_CONFIG_GLOBAL": str(team.officer.config)}
    repo = tmp_path / "qms"
    shutil.copytree(team.world.repo, repo, symlinks=True)
    lock = repo / ".git" / "index.lock"
    lock.write_bytes(b"")  # another git command is writing the index
    before = (git(repo, "rev-parse", "HEAD"), (repo / ".git" / "index").read_bytes())
    run = base.switch.run(repo, args, env)
    assert not run.killed and "another git process is using the index" in run.output
    assert "Traceback" not in run.output and "nothing was changed" in run.output
    assert (git(repo, "rev-parse", "HEAD"), (repo / ".git" / "index").read_bytes()) == before
    assert lock.read_bytes() == b"" and [p for p in leftovers(repo) if p != "index.lock"] == []


# --- the journal is a note in the git folder, never trusted ------------------------------------


def _plant_journal(world: World, **fields: object) -> Path:
    journal = world.repo / ".git" / "qms-landing.json"
    data = {
        "pid": 999999,
        "ref": "refs/heads/main",
        "old": world.head(),
        "new": world.head(),
        "paths": ["sops/SOP-0001.md"],
    }
    journal.write_text(json.dumps(data | fields))
    return journal


def _set_aside(world: World) -> list[Path]:
    return sorted((world.repo / ".git").glob("qms-landing.json.invalid-*"))


@pytest.mark.parametrize(
    "fields",
    [
        {"old": "deadbeef" * 5},  # not an object of this repository
        {"new": "0" * 40},
        {"old": "HEAD"},  # a revision, not an object id
        {"ref": "HEAD"},
        {"ref": "refs/tags/v1"},
        {"ref": "refs/heads/../../config"},
        {"paths": ["../outside.txt"]},
        {"paths": [".git/config"]},
        {"pid": "1"},
    ],
)
def test_an_invalid_landing_journal_is_set_aside_and_blocks_nothing(
    world: World, fields: dict[str, object]
) -> None:
    journal = _plant_journal(world, **fields)
    before = world.git("status", "--porcelain"), world.head()
    output = world.qms(world.people["a.weber"], "status", ok=False)
    assert "Traceback" not in output and "not a valid landing journal" in output, output
    assert not journal.exists() and len(_set_aside(world)) == 1
    again = world.qms(world.people["a.weber"], "status", ok=False)
    assert "landing journal" not in again and "Traceback" not in again, again
    assert (world.git("status", "--porcelain"), world.head()) == before


def test_a_journal_naming_another_work_tree_never_touches_it(world: World, tmp_path: Path) -> None:
    """The work tree is the git folder's own; a `top` in the journal is never followed."""
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q", "-b", "main")
    ident = ("-c", "user.name=x", "-c", "user.email=x@example.org")
    (other / "notes.txt").write_text("mine\n")
    git(other, "add", ".")
    git(other, *ident, "commit", "-q", "--no-gpg-sign", "-m", "1")
    first = git(other, "rev-parse", "HEAD")
    (other / "notes.txt").write_text("second\n")
    git(other, *ident, "commit", "-q", "--no-gpg-sign", "-am", "2")
    git(other, "checkout", "-q", first)
    (other / "notes.txt").write_text("mine\n")
    _plant_journal(world, top=str(other), old=first, paths=["notes.txt"])
    output = world.qms(world.people["a.weber"], "status", ok=False)
    assert "Traceback" not in output and "not a valid landing journal" in output, output
    assert (other / "notes.txt").read_text() == "mine\n"
    assert git(other, "diff", "--cached", "--stat") == ""
