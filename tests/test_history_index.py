"""The history index (.git/qms/): a stored walk must answer exactly as a full walk does, and a
stored file that was changed, made with another key or made for other inputs is not believed.

The history is the benchmark generator's tiny size (20 records, 100 commits: edits, reviews,
approvals and signed state changes), made once for the module.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from gitqms.history import index_store
from gitqms.history.read import Step
from gitqms.signatures import walk_index
from gitqms.signatures.verify import Walk, verify_history, walk_history
from gitqms.signatures.walk_index import StoredWalk
from toolkit.generated import generated_history
from toolkit.process import git


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_history(tmp_path_factory, "history")


@pytest.fixture(autouse=True)
def fresh(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No stored walk at the start of a test, and this test's own key."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    index_store._secret.cache_clear()
    shutil.rmtree(repo / ".git" / "qms", ignore_errors=True)
    yield
    index_store._secret.cache_clear()


def full_walk(repo: Path, revision: str = "HEAD") -> Walk:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(walk_index, "cached_walk", lambda *args: args[3]())
        walk = walk_history(repo, [revision])
    assert not isinstance(walk, StoredWalk)
    return walk


def stored_files(repo: Path) -> list[Path]:
    folder = repo / ".git" / "qms"
    return sorted(folder.iterdir()) if folder.exists() else []


def assert_same(walk: Walk, full: Walk) -> None:
    """Everything a caller reads from a walk."""
    assert walk.report == full.report
    assert walk.tip == full.tip
    tip = full.tip or ""
    assert walk.registry_at(tip) == full.registry_at(tip)
    assert walk.graph() == full.graph()
    records = {v.record for v in full.report.verdicts}
    for record in sorted(records):
        assert [s.commit.id for s in walk.touching(record)] == [
            s.commit.id for s in full.touching(record)
        ]
        assert walk.authors_at(tip, record) == full.authors_at(tip, record)
    for verdict in full.report.verdicts:
        assert walk.content_at(verdict.commit, verdict.record) == full.content_at(
            verdict.commit, verdict.record
        )
        assert walk.claimed_content(verdict) == full.claimed_content(verdict)
    assert walk.seen == full.seen
    assert walk.trusted == full.trusted

    def unsigned(walk: Walk) -> list[Step]:  # a stored walk keeps no signed payloads
        return [replace(s, commit=replace(s.commit, payload=b"")) for s in walk.history.steps]

    assert unsigned(walk) == unsigned(full)
    assert walk.contents == full.contents


def test_a_stored_walk_answers_as_the_full_walk(repo: Path) -> None:
    full = full_walk(repo)
    first = walk_history(repo)
    assert not isinstance(first, StoredWalk)
    assert len(stored_files(repo)) == 1
    again = walk_history(repo)
    assert isinstance(again, StoredWalk)
    assert_same(again, full)


def test_a_later_tip_is_reached_by_walking_only_the_new_commits(repo: Path) -> None:
    walk_history(repo, ["HEAD~30"])
    full = full_walk(repo)
    carried = walk_history(repo)
    assert isinstance(carried, StoredWalk)  # the older walk, walked on
    assert_same(carried, full)
    assert len(stored_files(repo)) == 2
    assert_same(walk_history(repo), full)


def test_a_changed_index_is_not_believed(repo: Path) -> None:
    full = full_walk(repo)
    walk_history(repo)
    (path,) = stored_files(repo)
    data = bytearray(path.read_bytes())
    at = data.index(b"valid") if b"valid" in data else len(data) // 2
    data[at] ^= 1
    path.write_bytes(bytes(data))
    walk = walk_history(repo)
    assert not isinstance(walk, StoredWalk)
    assert walk.report == full.report
    assert isinstance(walk_history(repo), StoredWalk)  # written again, and believed


def test_an_index_made_with_another_key_is_not_believed(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A repository copied in with its .git/qms/ (an archive, say) brings no trusted walk."""
    walk_history(repo)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "other"))
    index_store._secret.cache_clear()
    assert not isinstance(walk_history(repo), StoredWalk)


def test_an_index_for_another_trust_root_is_not_used(repo: Path) -> None:
    walk_history(repo)
    root = git(repo, "rev-list", "--max-parents=0", "HEAD")
    assert not isinstance(walk_history(repo, trust_root=root), StoredWalk)
    assert isinstance(walk_history(repo, trust_root=root), StoredWalk)
    assert not isinstance(walk_history(repo), StoredWalk)


def test_ranges_are_never_stored_and_the_index_can_be_turned_off(repo: Path) -> None:
    verify_history(repo, ["HEAD~5..HEAD"])
    assert stored_files(repo) == []
    git(repo, "config", "qms.historyIndex", "false")
    try:
        walk_history(repo)
        assert stored_files(repo) == []
    finally:
        git(repo, "config", "--unset", "qms.historyIndex")


def test_a_stored_file_keeps_only_the_latest_few(repo: Path) -> None:
    for back in range(index_store.KEEP + 2, 0, -1):
        walk_history(repo, [f"HEAD~{back}"])
    assert len(stored_files(repo)) == index_store.KEEP


def test_change_summaries_are_stored_and_a_changed_store_is_not_believed(repo: Path) -> None:
    """Audit trails read each change's summary from .git/qms/ once it has been made; a store
    edited by hand is ignored and the summaries are made again, the same."""
    from gitqms.audit import record_log
    from gitqms.audit.trail import record_trails

    walk = full_walk(repo)
    records = sorted({record for step in walk.history.steps for record in step.records})
    made = record_trails(walk, records)
    store = repo / ".git" / "qms" / "summaries-all"
    assert store.is_file()
    real, calls = record_log.summarise, []

    def counted(*args: object) -> str:
        calls.append(args)
        return real(*args)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(record_log, "summarise", counted)
        assert record_trails(full_walk(repo), records) == made
        assert calls == []  # every summary came from the store
        data = bytearray(store.read_bytes())
        data[len(data) // 2] ^= 1
        store.write_bytes(bytes(data))
        assert record_trails(full_walk(repo), records) == made
    assert len(calls) > len(records)  # made again, not read from the changed store


def test_a_forged_summary_store_is_not_believed(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A well-formed store whose summaries say something else, written with another key (a
    repository copied in with its .git/qms, or a file put there by hand), is never shown."""
    import marshal

    from gitqms.audit.trail import record_trails

    walk = full_walk(repo)
    records = sorted({record for step in walk.history.steps for record in step.records})
    made = record_trails(walk, records)
    store = index_store.Store(repo, "summaries")
    key = {"code": index_store.code_digest()}
    sections = store.read("all", key)
    assert sections is not None
    forged = {name: "FORGED" for name in marshal.loads(sections["summaries"])}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(index_store, "_secret", lambda: b"k" * 32)
        store.write("all", key, {"summaries": marshal.dumps(forged)})
    again = record_trails(full_walk(repo), records)
    assert again == made
    assert "FORGED" not in repr(again)


def test_stored_summaries_of_changes_no_longer_in_the_history_are_dropped(repo: Path) -> None:
    """A summary quotes field values: once a history no longer holds a change (a purge
    rewrote it), its summary leaves the store the next time summaries are stored."""
    import marshal

    from gitqms.audit.trail import record_trails

    walk = full_walk(repo)
    records = sorted({record for step in walk.history.steps for record in step.records})
    record_trails(walk, records[:1])
    store = index_store.Store(repo, "summaries")
    key = {"code": index_store.code_digest()}

    def stored() -> dict[str, str]:
        sections = store.read("all", key)
        assert sections is not None
        return dict(marshal.loads(sections["summaries"]))

    planted = {**stored(), f"{'1' * 40} {'2' * 40} M r": "status: patient 12345 → closed"}
    store.write("all", key, {"summaries": marshal.dumps(planted)})
    record_trails(full_walk(repo), records)  # makes the other records' summaries, and stores
    after = stored()
    assert f"{'1' * 40} {'2' * 40} M r" not in after
    assert len(after) > len(planted) - 1
