"""The parts of the narrow walk (history/narrow.py, signatures/scope.py): what a skipped commit
is read as, which commits are read in full, and which walk GITQMS_GATE and the history index
choose. That the narrow gate gives the full gate's verdicts is held by every test that runs
`qms check` (conftest: GITQMS_GATE=compare) and by test_gate_narrow*.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitqms import git
from gitqms.errors import QmsError
from gitqms.history.commits import Commit, CommitFormatError, header_commit, parse_commit
from gitqms.history.narrow import Depends
from gitqms.rules.check import check_range
from toolkit.process import git as run_git
from toolkit.world import SOP, World


def _both(root: Path, commit: str) -> tuple[Commit, Commit]:
    [(_, _, raw)] = list(git.cat_objects(root, [commit]))
    full = parse_commit(commit, raw)
    return full, header_commit(commit, raw, full.parents)


def test_a_skipped_commit_keeps_its_tree_parents_and_dated_identities(world: World) -> None:
    for commit in world.git("rev-list", "HEAD").split():  # signed and unsigned commits
        full, light = _both(world.repo, commit)
        assert (light.tree, light.parents, light.author, light.committer) == (
            full.tree,
            full.parents,
            full.author,
            full.committer,
        )
        # and it claims and proves nothing: no message, trailers or signature
        assert (light.message, light.trailers, light.signature) == ("", (), None)


def _object(root: Path, text: str) -> str:
    return run_git(root, "hash-object", "-t", "commit", "-w", "--literally", "--stdin", input=text)


@pytest.mark.parametrize(
    "header",
    [
        "author A <a@x> 1700000000 +0100\ncommitter C <c@x> 1700000300 -0230\n",
        "author A <a@x> 1700000000 +0100\ncommitter C <c@x> 1700000300 +0000\nencoding latin1\n",
        # a header folded onto a continuation line: read as parse_commit reads it
        "author A <a@x>\n 1700000000 +0100\ncommitter C <c@x> 1700000300 +0000\n",
    ],
)
def test_odd_headers_read_as_the_full_parser_reads_them(world: World, header: str) -> None:
    tree = world.git("rev-parse", "HEAD^{tree}")
    commit = _object(world.repo, f"tree {tree}\n{header}\nmessage\n")
    [(_, _, raw)] = list(git.cat_objects(world.repo, [commit]))
    try:
        full = parse_commit(commit, raw)
    except CommitFormatError:
        with pytest.raises(CommitFormatError):
            header_commit(commit, raw, ())
        return
    light = header_commit(commit, raw, full.parents)
    assert (light.tree, light.author, light.committer) == (full.tree, full.author, full.committer)


@pytest.mark.parametrize(
    "header",
    [
        "committer C <c@x> 1700000300 +0000\n",  # no author
        "author A <a@x> 1700000000 +0100\ncommitter C <c@x> yesterday\n",  # no date
    ],
)
def test_a_malformed_skipped_commit_is_refused_as_the_full_parser_refuses_it(
    world: World, header: str
) -> None:
    tree = world.git("rev-parse", "HEAD^{tree}")
    commit = _object(world.repo, f"tree {tree}\n{header}\nmessage\n")
    [(_, _, raw)] = list(git.cat_objects(world.repo, [commit]))
    with pytest.raises(CommitFormatError):
        parse_commit(commit, raw)
    with pytest.raises(CommitFormatError):
        header_commit(commit, raw, ())


def _raw(message: str, header: str = "") -> bytes:
    return (
        f"tree {'0' * 40}\nauthor A <a@x> 1 +0000\ncommitter C <c@x> 1 +0000\n{header}\n{message}"
    ).encode()


def test_which_commits_are_read_in_full() -> None:
    depends = Depends("qms/", {"r" * 40}, {"SOP-0001"}, {"change-control"})
    keeps = depends.keeps
    plain = _raw("Edit something\n\nReason: why\n")
    assert keeps("r" * 40, [], plain)  # the range
    assert keeps("c", ["qms/qms.yaml"], plain)  # the registry
    assert keeps("c", ["qms/sops/SOP-0001.md"], plain)  # the record
    assert keeps("c", ["qms/sops/SOP-0001.md/inside"], plain)  # a folder at its path
    assert keeps("c", ["qms/change-controls/CC-2026-0001.yaml"], plain) == (
        "change-controls" in "".join(depends._paths)
    )
    assert not keeps("c", ["qms/sops/SOP-0002.md", "sops/SOP-0001.md"], plain)  # outside qms/
    # a message that names a record held, in any case, in trailers that claim signatures
    assert keeps("c", [], _raw("Approved\n\nqms-record: sop-0001\nQMS-Meaning: approved\n"))
    assert keeps("c", [], _raw("Config\n\nQMS-Record: QMS.YAML\nQMS-Meaning: changed\n"))
    # naming it with no claim at all, or only in a header, reads nothing
    assert not keeps("c", [], _raw("About SOP-0001\n\nReason: typo\n"))
    assert not keeps("c", [], _raw("x\n\nQMS-Record: SOP-0002\n", "mergetag QMS-Record SOP-0001\n"))


def test_a_whole_kind_is_read_by_its_folder_and_its_prefix() -> None:
    depends = Depends("", (), (), {"sop"})
    plain = _raw("x\n")
    assert depends.keeps("c", ["sops/SOP-0042.md"], plain)
    assert depends.keeps("c", [], _raw("x\n\nQMS-Record: SOP-0042\nQMS-Meaning: approved\n"))
    assert not depends.keeps("c", ["capa/CAPA-2026-0001.yaml"], plain)


def test_an_unknown_way_is_refused_clearly(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITQMS_GATE", "quick")
    with pytest.raises(QmsError, match="GITQMS_GATE='quick' is not a way"):
        check_range(world.repo, "HEAD~1..HEAD")
    result = world.qms(world.people["a.weber"], "check", "HEAD~1..HEAD", ok=False)
    assert "GITQMS_GATE" in result and "Traceback" not in result


def test_a_fresh_clone_is_judged_narrowly_and_a_stored_walk_fully(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("GITQMS_GATE")
    clone = tmp_path / "clone"
    run_git(tmp_path, "clone", "-q", "--no-local", str(world.repo), str(clone))
    assert not (clone / ".git" / "qms").exists()
    first = check_range(clone, "HEAD~1..HEAD")
    assert first.scope == "narrow"
    assert not (clone / ".git" / "qms").exists() or not list((clone / ".git/qms").glob("history-*"))
    monkeypatch.setenv("GITQMS_GATE", "full")
    full = check_range(clone, "HEAD~1..HEAD")  # walks all and stores the walk
    assert (full.scope, full.violations, full.notes) == ("full", first.violations, first.notes)
    monkeypatch.delenv("GITQMS_GATE")
    assert check_range(clone, "HEAD~1..HEAD").scope == "full"  # the stored walk is cheaper
    assert (clone / SOP).exists()
