"""Review of the warm `qms status` (branch s33): a walk read back from the history index
(.git/qms) dates the tip and works out when each commit entered the first-parent line from the
committer dates it stored (`Walk.commit_times`, walk_index.py "times"), and fetches a
document's signed versions in one batch (`Walk.read_ahead`). Whatever the index holds, every
answer must be the one a cold walk (no .git/qms) gives: `qms status` in text and JSON, on past
days, the training matrix, the due list, verification, a record's log and a controlled copy's
check, on a history with back-dated commits and merges, commits made far east and far west of
UTC (another day there than in UTC), registry changes merged after they were made, and two
issues of one copy number merged from two branches.

The history is made once for the module by the lifecycle team (tests/toolkit/team.py), with
real keys and the real commands; the clock is fixed (nothing depends on the day the tests
run).
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from gitqms import clock
from gitqms.history import index_store
from gitqms.lifecycle.memberships import registry_timeline
from gitqms.lifecycle.signed import signed_contents, walk_entry_times
from gitqms.lifecycle.status import snapshot
from gitqms.records.kinds import kind_of_id
from gitqms.rules.copies import entry_order, judge_copies
from gitqms.signatures import walk_index
from gitqms.signatures.verify import Walk, trusted_registry, walk_history
from gitqms.signatures.walk_index import StoredWalk
from test_acknowledge import released
from toolkit.cli import qms
from toolkit.team import Team, build_team
from toolkit.world import SOP

NOW = datetime(2026, 9, 1, 12, tzinfo=UTC)  # "now" for every command: after the whole history
DAYS = [
    "2026-01-05",  # the team's first day
    "2026-02-04",  # SOP-0001 v1 approved
    "2026-02-05",  # Michael Okafor a pharmacist late on the 5th at UTC-12 (the 6th in UTC)
    "2026-02-06",
    "2026-02-08",  # the back-dated merge of the acknowledgement
    "2026-02-09",  # the acknowledgement: the 10th at UTC+14, the 9th in UTC
    "2026-02-10",
    "2026-02-11",
    "2026-02-13",  # a registry change on a branch, merged on the 16th
    "2026-02-16",
    "2026-02-20",  # v1 effective
    "2026-02-27",  # a copy issued on a branch, merged on 2026-03-03
    "2026-03-01",  # copy 1 issued on main
    "2026-03-03",  # SOP-0002 written late on the 3rd at UTC-12, the tip (the 4th in UTC)
    "2026-03-04",
    "2026-08-31",
]
COPY = "controlled-copies/COPY-2026-0002.yaml"
SOP2 = "sops/SOP-0002.md"


def at(team: Team, stamp: str) -> None:
    """git's author and committer dates from now on, in the zone `stamp` names."""
    for variable in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
        team.world.monkeypatch.setenv(variable, stamp)


def merge(team: Team, branch: str) -> str:
    world = team.world
    world.git("switch", "-q", "main")
    with world.acting(team.admin):
        world.git("merge", "-q", "--no-ff", "--no-gpg-sign", branch, "-m", f"Merge {branch}")
    return world.head()


def copy_text(team: Team, number: int, issued_at: str) -> str:
    digest = hashlib.sha256((team.world.repo / SOP).read_bytes()).hexdigest()
    return (
        f'id: COPY-2026-0002\ntitle: "Controlled copy {number} of SOP-0001 v1"\n'
        f'state: issued\ndocument: SOP-0001\nversion: 1\ncontent_sha256: "sha256:{digest}"\n'
        f'copy: {number}\nlocation: "Ward 3"\nissued_by: m.okafor\nissued_at: "{issued_at}"\n'
    )


def history(team: Team) -> None:
    """SOP-0001 v1 released (test_acknowledge.released), then: a registry change at UTC-12
    (Michael Okafor joins the pharmacists);
    Johan Lindqvist's acknowledgement on a branch at UTC+14, merged by a merge back-dated behind
    main; a new audience for Lucia Santos on a branch, merged three days later; copy 1 of v1
    issued on main and, on a branch forked before it, another copy 1, issued (back-dated) and
    merged after; a new SOP-0002 at UTC-12, the tip."""
    world = team.world
    with clock.fixed(NOW):
        released(team)
        at(team, "2026-02-05T23:30:00-1200")
        team.qms(
            team.admin,
            *("people", "set", "m.okafor", "--audience", "pharmacists"),
            *("--reason", "covers the pharmacy"),
        )
        world.git("switch", "-q", "-c", "training")
        at(team, "2026-02-10T00:30:00+1400")
        team.qms(team.owner, "acknowledge", "SOP-0001")
        world.git("switch", "-q", "main")
        team.on("2026-02-11")
        team.qms(team.admin, "people", "set", "l.santos", "--title", "Author", "--reason", "title")
        at(team, "2026-02-08T10:00:00Z")  # back-dated behind the commit it extends
        merge(team, "training")
        world.git("switch", "-q", "-c", "audience")
        team.on("2026-02-13")
        team.qms(
            team.admin,
            *("people", "set", "l.santos", "--audience", "pharmacists"),
            *("--reason", "joins the pharmacy"),
        )
        team.on("2026-02-16")
        merge(team, "audience")
        fork = world.head()
        team.on("2026-03-01")
        out = world.base / "copy-1.pdf"
        pdf = ("pdf", "SOP-0001", "--copy-for", "Cleanroom B", "--date", "2026-03-01")
        team.qms(team.officer, *pdf, "-o", str(out))
        world.git("switch", "-q", "-c", "ward", fork)
        at(team, "2026-02-27T10:00:00Z")
        (world.repo / COPY).parent.mkdir(exist_ok=True)
        text = copy_text(team, 1, "2026-02-27T10:00:00Z")
        (world.repo / COPY).write_text(text)
        world.git("add", COPY)
        digest = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
        trailers = world.trailers("COPY-2026-0002", COPY, "issued", version="1", content=digest)
        world.raw_commit(team.officer, trailers)
        team.on("2026-03-03")
        merge(team, "ward")
        at(team, "2026-03-03T23:30:00-1200")  # the tip: the 4th in UTC
        team.qms(team.author, "new", "sop", "--title", "Cold chain")
        text = (world.repo / SOP2).read_text()
        world.commit_file(team.author, SOP2, text, "new procedure")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Team:
    return build_team(tmp_path_factory, history)


@pytest.fixture
def team(built: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Team]:
    """This test's copy of the history, no stored walk in it, this test's own index key, and
    the clock at NOW."""
    team = built.copy(tmp_path, monkeypatch)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    index_store._secret.cache_clear()
    cold(team)
    with clock.fixed(NOW):
        yield team
    index_store._secret.cache_clear()


def cold(team: Team) -> None:
    shutil.rmtree(team.world.repo / ".git" / "qms", ignore_errors=True)


def stored(team: Team) -> list[Path]:
    folder = team.world.repo / ".git" / "qms"
    return sorted(folder.glob("history-*")) if folder.exists() else []


def run(team: Team, *args: str) -> tuple[int, str, str]:
    with team.world.acting(team.admin):
        result = qms(*args, repo=team.world.repo)
    return result.exit_code, result.output, result.stderr


def commands(team: Team) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = [
        ("verify", "--format", "json"),
        ("log", "SOP-0001", "--format", "json"),
        ("log", "qms.yaml"),
        ("status",),
    ]
    for day in DAYS:
        found += [
            ("status", "--date", day, "--format", "json"),
            ("training", "--date", day, "--format", "json"),
        ]
    for day in ("2026-02-05", "2026-02-06", "2026-02-16", "2026-03-03", "2026-03-04"):
        found += [
            ("status", "--date", day),
            ("status", "SOP-0001", "COPY-2026-0001", "--date", day),
            ("training", "--date", day),
            ("due", "--date", day, "--format", "json"),
        ]
    sha = hashlib.sha256(team.world.content(SOP)).hexdigest()
    for copy in ("1", "2"):
        for day in ("2026-03-02", "2026-08-31"):
            check = ("verify-copy", "SOP-0001", "--version", "1", "--sha256", sha)
            found.append((*check, "--copy", copy, "--date", day))
    return found


def test_the_history_is_what_the_tests_say(team: Team) -> None:
    """The commits in odd zones, the back-dated merge and the two copies are there."""
    world = team.world
    log = world.git("log", "--format=%H %cI %P", "main")
    assert "2026-02-05T23:30:00-12:00" in log and "2026-02-10T00:30:00+14:00" in log
    assert world.git("log", "-1", "--format=%cI %s") == "2026-03-03T23:30:00-12:00 Edit " + SOP2
    merged = world.git("log", "-1", "--format=%cI", "--grep=Merge training", "main")
    assert merged == "2026-02-08T10:00:00Z".replace("Z", "+00:00")
    assert (world.repo / COPY).exists()
    assert (world.repo / "controlled-copies" / "COPY-2026-0001.yaml").exists()
    code, out, _ = run(team, "status", "--date", "2026-03-03", "--format", "json")
    assert code in (0, 1) and "COPY-2026-0002" in out


def test_every_answer_from_a_stored_walk_is_the_cold_answer(team: Team) -> None:
    """Each command run with no .git/qms, then run again reading the walk it stored."""
    for args in commands(team):
        cold(team)
        first = run(team, *args)
        assert stored(team), f"{args}: no walk stored, the second run would not be warm"
        assert isinstance(walk_history(team.world.repo), StoredWalk)
        again = run(team, *args)
        assert again == first, args


def test_every_answer_from_a_walk_carried_on_is_the_cold_answer(team: Team) -> None:
    """A walk stored at an older tip (before the merges) and carried on to main: its stored
    commits and its new ones together give the cold answers."""
    world = team.world
    older = world.git("rev-list", "-1", "--before=2026-02-07T00:00:00Z", "main")
    walk_history(world.repo, [older])
    carried = walk_history(world.repo)
    assert isinstance(carried, StoredWalk) and len(carried.new_steps) > 5
    expected = {}
    for args in commands(team):
        cold(team)
        world.git("config", "qms.historyIndex", "false")
        expected[args] = run(team, *args)
        world.git("config", "--unset", "qms.historyIndex")
    for args in commands(team):
        cold(team)
        walk_history(world.repo, [older])
        assert len(stored(team)) == 1
        assert run(team, *args) == expected[args], args


# -- what a stored walk answers in process ---------------------------------------------------


def full_walk(repo: Path) -> Walk:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(walk_index, "cached_walk", lambda *args: args[3]())
        walk = walk_history(repo)
    assert not isinstance(walk, StoredWalk)
    return walk


def restored(repo: Path) -> StoredWalk:
    walk_history(repo)
    walk = walk_history(repo)
    assert isinstance(walk, StoredWalk)
    return walk


def test_a_stored_walk_dates_and_orders_commits_as_the_full_walk(team: Team) -> None:
    repo = team.world.repo
    full = full_walk(repo)
    walk = restored(repo)
    times = walk.commit_times()
    assert not walk._lazy.built  # read from the stored dates, not the stored commits
    assert times == full.commit_times()
    assert {when.utcoffset() for when in times.values()} == {UTC.utcoffset(None)}
    assert walk.graph() == full.graph() and walk.tip == full.tip
    assert walk_entry_times(walk) == walk_entry_times(full)
    assert entry_order(walk.graph()) == entry_order(full.graph())
    assert registry_timeline(walk) == registry_timeline(full)
    tip = full.tip or ""
    config = trusted_registry(full, tip, "test").config
    assert judge_copies(walk, tip, signed_contents(walk), config) == judge_copies(
        full, tip, signed_contents(full), config
    )
    for day in DAYS:
        on = date.fromisoformat(day)
        assert snapshot(repo, restored(repo), tip, on) == snapshot(repo, full, tip, on), day


def test_a_stored_walk_carried_on_dates_its_new_commits_too(team: Team) -> None:
    repo = team.world.repo
    full = full_walk(repo)
    walk_history(repo, ["HEAD~3"])
    walk = walk_history(repo)
    assert isinstance(walk, StoredWalk) and walk.new_steps
    assert walk.commit_times() == full.commit_times()
    assert walk_history(repo).commit_times() == full.commit_times()  # stored again, read back


def test_read_ahead_fetches_nothing_a_full_walk_did_not_read(team: Team) -> None:
    """Asked to read ahead every record at every commit, a restored walk still answers
    `content_at` exactly as the full walk: None where the full walk read nothing (an ordinary
    edit, a commit that never held the record), the bytes it read elsewhere."""
    repo = team.world.repo
    full = full_walk(repo)
    commits = [commit for commit, _ in full.graph()]
    records = sorted({v.record for v in full.report.verdicts} | {"SOP-0001", "COPY-2026-0001"})
    pairs = [(commit, record) for commit in commits for record in records]
    expected = {pair: full.content_at(*pair) for pair in pairs}
    assert any(content is None for content in expected.values())
    assert any(content is not None for content in expected.values())
    ahead = restored(repo)
    ahead.read_ahead(pairs)
    assert {pair: ahead.content_at(*pair) for pair in pairs} == expected
    # read ahead only what a document's status reads, then asked for everything
    documents = [(c, r) for c, r in pairs if getattr(kind_of_id(r), "is_document", False)]
    assert documents
    walk = restored(repo)
    walk.read_ahead(documents)
    assert {pair: walk.content_at(*pair) for pair in pairs} == expected
    assert walk.contents == full.contents
