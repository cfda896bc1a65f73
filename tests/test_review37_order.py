"""Review of open authorship questions (s37): a walk read back from the history index answers a
stored question from the blobs it fetched when it has them (`Contents._pair`: by name, as a
full walk reads them), else by the question's blob ids. Whichever way, and in whatever order a
command fetched blobs before asking, each answer must be the full walk's."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitqms.history import index_store
from gitqms.signatures import contents
from gitqms.signatures.authors import holds, settled
from gitqms.signatures.verdict import UNPROVEN
from gitqms.signatures.verify import walk_history
from test_history_index import full_walk
from test_open_questions import _stored
from toolkit.generated import generated_history


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_history(tmp_path_factory, "review37-order")


@pytest.fixture
def repo(generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    index_store._secret.cache_clear()
    shutil.rmtree(generated / ".git" / "qms", ignore_errors=True)
    yield generated
    index_store._secret.cache_clear()


def test_a_restored_walk_that_fetched_every_blob_first_answers_as_the_full_walk(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = full_walk(repo)
    tip = full.tip or ""
    pending = full.ledger.state.pending[tip]
    emails = sorted({e for a in pending.values() for e in settled(a)} | {UNPROVEN, "x@y"})
    walk_history(repo, ["HEAD"])  # kept, its questions open
    batches: list[str] = []
    fetch = contents.Contents._fetch_asked

    def counted(reader: contents.Contents, record: str, blobs: set[str]) -> None:
        batches.append(record)
        fetch(reader, record, blobs)

    monkeypatch.setattr(contents.Contents, "_fetch_asked", counted)
    for email in emails:
        stored = _stored(repo)
        assert stored.reader._stored_asks  # questions left open
        assert stored.reader.all  # what a page or a report reads first: every blob, by name
        for record, authors_set in pending.items():
            asked = holds(stored.open_authors_at(tip, record), email)
            assert asked == (email in settled(authors_set)), (record, email)
    assert batches == []  # every question answered from the blobs fetched by name
