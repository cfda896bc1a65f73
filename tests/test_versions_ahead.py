"""The versions signatures name, read ahead by a worker, change nothing the walk decides.

The worker (signatures/versions_ahead.py) reads the contents of a walk's signatures by blob
id and files each answer under the sha256 of the bytes it read. These tests run it on a real
signed repository (it normally starts only for thousands of contents), against the walk
reading every version itself; feed it blob ids that name other contents; and break it.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import threading

import pytest

from gitqms.crypto.ahead import read_frame, write_frame
from gitqms.signatures import claims, versions_ahead
from gitqms.signatures.claims import stated_version, version_facts
from toolkit.process import git_bytes
from toolkit.world import SOP, World

RECORD = "SOP-0001"


def _signed_history(world: World) -> list[str]:
    """Reviews of two versions of the SOP, one naming a version its content does not state;
    the blob ids of the SOP's contents, newest last."""
    author, reviewer = world.people["l.santos"], world.people["m.okafor"]
    blobs = [world.git("rev-parse", f"HEAD:{SOP}")]
    version = stated_version(world.content(SOP), RECORD)
    assert version is not None
    world.raw_commit(reviewer, world.trailers(RECORD, SOP, "reviewed", version=version))
    text = (world.repo / SOP).read_text()
    world.commit_file(author, SOP, re.sub(r"Described\.", "Described again.", text), "wording")
    blobs.append(world.git("rev-parse", f"HEAD:{SOP}"))
    world.raw_commit(reviewer, world.trailers(RECORD, SOP, "reviewed", version="99"))
    return blobs


def _verify(world: World) -> dict[str, object]:
    """A cold `qms verify`: no stored walk, no version read before."""
    shutil.rmtree(world.repo / ".git" / "qms", ignore_errors=True)
    claims._VERSIONS.clear()
    claims._MAPPINGS.clear()
    return json.loads(world.qms(world.people["a.weber"], "verify", "--format", "json", ok=False))


def test_verify_judges_the_same_with_versions_read_ahead(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _signed_history(world)
    alone = _verify(world)
    answered = threading.Event()  # the worker's first answer is in
    remember, read_here = claims.remember, claims.version_facts

    def watched(key: tuple[bool, bytes], version: str | None, mapping: bool) -> None:
        remember(key, version, mapping)
        answered.set()

    def after_the_worker(content: bytes, *, markdown: bool) -> tuple[str | None, bool]:
        answered.wait(timeout=60)  # so the walk finds the worker's answers, however slow it is
        return read_here(content, markdown=markdown)

    monkeypatch.setattr(versions_ahead, "remember", watched)
    monkeypatch.setattr(claims, "version_facts", after_the_worker)
    monkeypatch.setattr(versions_ahead, "READ_AHEAD_FROM", 0)
    ahead = _verify(world)
    assert answered.is_set()
    assert ahead == alone
    problems = [p for v in ahead["signatures"] for p in v["problems"]]  # type: ignore[index]
    assert any("claims version 99" in p for p in problems)


def _served(
    world: World, items: list[tuple[bool, str]]
) -> list[tuple[bool, bytes, str | None, bool]]:
    stdin, stdout = io.BytesIO(), io.BytesIO()
    write_frame(stdin, (str(world.repo), items))
    stdin.seek(0)
    versions_ahead._serve(stdin, stdout)
    stdout.seek(0)
    answers = []
    while (frame := read_frame(stdout)) is not None:
        answers.extend(frame)
    return answers


def test_the_worker_files_each_answer_under_the_bytes_it_read(world: World) -> None:
    old, new = _signed_history(world)
    # Blob ids that name other contents than the walk will ask about, one twice, one missing,
    # and the Markdown SOP read as a YAML record: each answer stands only for the bytes read.
    items = [(True, new), (False, old), (True, old), (True, "0" * 40)]
    answers = _served(world, items)
    assert len(answers) == 3
    for (markdown, blob), (flag, digest, version, mapping) in zip(items, answers, strict=False):
        content = git_bytes(world.repo, "cat-file", "blob", blob)
        assert (flag, digest) == (markdown, hashlib.sha256(content).digest())
        assert (version, mapping) == version_facts(content, markdown=markdown)
    assert answers[1][2:] == (None, False)  # Markdown read as YAML: front matter and body
    assert answers[0][2] is not None and answers[0][3]


def test_a_worker_that_answers_garbage_or_not_at_all_leaves_the_walk_to_read(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _signed_history(world)
    alone = _verify(world)
    versions_ahead._receive(io.BytesIO(b"not a frame at all"))
    monkeypatch.setattr(versions_ahead, "READ_AHEAD_FROM", 0)
    monkeypatch.setattr(versions_ahead.sys, "executable", str(world.base / "no-such-python"))
    assert _verify(world) == alone
