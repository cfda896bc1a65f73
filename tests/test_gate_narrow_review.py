"""Adversarial review of the narrow gate (issue 24, item 1): histories on which `qms check
BASE..HEAD` under GITQMS_GATE=narrow must give exactly the report of GITQMS_GATE=full.

Each test builds a real history (real keys, real signed commits, the real `qms` commands where
a person would use them, plain git where an insider would), then judges one range both ways.
The tests named `..._hole_...` failed on branch i24 when written; the others are attacks that
held, kept as guards."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitqms.audit.record_log import record_log
from gitqms.rules.check import CheckReport, check_range
from toolkit.world import SOP, World

Outcome = tuple[str, Any]  # ("report", (violations, notes)) or ("error", its message)


def _outcome(run: Callable[[], Any]) -> tuple[Outcome, Any]:
    """What `run` gives, or the error it raises (type and first line), comparable both ways."""
    try:
        found = run()
    except Exception as error:  # any difference between the ways counts
        return ("error", f"{type(error).__name__}: {str(error).splitlines()[0]}"), None
    if isinstance(found, CheckReport):
        return ("report", (found.violations, found.notes)), found
    return ("result", found), found


def judged_both_ways(
    monkeypatch: pytest.MonkeyPatch, repo: Path, spec: str
) -> tuple[CheckReport | None, CheckReport | None]:
    """`check_range` under GITQMS_GATE=narrow and =full: the same violations and notes (or the
    same error), and the narrow one judged by the narrow walk."""
    monkeypatch.setenv("GITQMS_GATE", "full")
    full, full_report = _outcome(lambda: check_range(repo, spec))
    monkeypatch.setenv("GITQMS_GATE", "narrow")
    narrow, narrow_report = _outcome(lambda: check_range(repo, spec))
    assert narrow == full
    if narrow_report is not None:
        assert narrow_report.scope == "narrow"
    return narrow_report, full_report


def logged_both_ways(monkeypatch: pytest.MonkeyPatch, repo: Path, record: str) -> None:
    """`qms log RECORD` (record_log) gives the same entries narrow and full."""
    monkeypatch.setenv("GITQMS_GATE", "full")
    full, _ = _outcome(lambda: record_log(repo, record))
    monkeypatch.setenv("GITQMS_GATE", "narrow")
    narrow, _ = _outcome(lambda: record_log(repo, record))
    assert narrow == full


def rules_of(report: CheckReport | None) -> list[str]:
    return [] if report is None else [v.rule for v in report.violations]


def forge_object(world: World, raw: str) -> str:
    """A commit object written as given (git would not make it), on main, work tree reset."""
    commit = world.git("hash-object", "-t", "commit", "-w", "--stdin", "--literally", input=raw)
    world.git("update-ref", "refs/heads/main", commit)
    world.git("reset", "-q", "--hard")
    return commit


def empty_commit(world: World) -> str:
    """The raw object of a new empty commit on HEAD (no changes, no trailers)."""
    made = world.git("commit-tree", "HEAD^{tree}", "-p", "HEAD", "-m", "Tidy up")
    return world.git("cat-file", "commit", made)


def edit_sop(world: World, line: str) -> str:
    """The author's signed edit of the draft SOP."""
    author = world.people["l.santos"]
    return world.commit_file(author, SOP, (world.repo / SOP).read_text() + f"\n{line}\n", line)


# -- commit objects the narrow walk reads by their headers only -----------------------------------


def test_attack_a_commit_the_full_walk_cannot_read_is_passed_by_the_narrow_walk(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The insider plants, outside the range, an empty commit with a second `parent` header
    after `committer` holding a non-ASCII byte (git reads only the parent lines right after
    `tree`, so git log and every git command are happy). parse_commit decodes every `parent`
    header as ASCII outside its try: the full walk stops with a UnicodeDecodeError (a crash,
    not even the "malformed commit" refusal), while header_commit never looks at it, and the
    narrow gate passes the range."""
    raw = empty_commit(world)
    odd = re.sub(r"(committer [^\n]*\n)", "\\1parent caf\u00e9\n", raw, count=1)
    forge_object(world, odd + "\n")
    base = world.head()
    edit_sop(world, "Checked on receipt.")
    judged_both_ways(monkeypatch, world.repo, f"{base}..HEAD")


def test_attack_a_commit_whose_first_author_line_is_empty_is_passed_by_the_narrow_walk(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two `author` headers, the first bare ('author' and no value): parse_commit takes the
    first and refuses the commit as malformed (the full gate stops); header_commit looks for
    'author ' with its space and reads the second, so the narrow gate passes."""
    raw = empty_commit(world)
    odd = re.sub(r"(?m)^author ", "author\nauthor ", raw, count=1)
    forge_object(world, odd + "\n")
    base = world.head()
    edit_sop(world, "Checked on receipt.")
    judged_both_ways(monkeypatch, world.repo, f"{base}..HEAD")


def test_guard_a_folded_committer_line_is_read_the_long_way(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A committer header continued on the next line: header_commit gives up on its short
    read and asks parse_commit, so both ways refuse the same commit."""
    raw = empty_commit(world)
    odd = re.sub(r"(committer [^\n]*\n)", "\\1 folded\n", raw, count=1)
    forge_object(world, odd + "\n")
    base = world.head()
    edit_sop(world, "Checked on receipt.")
    judged_both_ways(monkeypatch, world.repo, f"{base}..HEAD")


def test_attack_a_bare_committer_header_dates_a_skipped_commit_one_way_for_git_another_for_narrow(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The insider plants an empty commit (no record changed, no trailers: the narrow walk
    reads only its headers) whose first `committer` header is bare and continued on the next
    line with a date in 2100, followed by an ordinary `committer` line of today. parse_commit
    (and git's own commit date, parse_commit_date, which scans from 'committer' to '>') read
    2100; header_commit looks for 'committer ' with its space and reads today. Every signature made on top of it
    is back-dated for the full walk (and for git), so its approval does not count; the
    narrow gate in CI counts the reviewer's signature."""
    fork = world.head()
    planted = plant_bare_committer(world, "4102444800")
    # the planted commit itself passes the gate both ways (it signs and changes nothing)
    alone, _ = judged_both_ways(monkeypatch, world.repo, f"{fork}..{planted}")
    assert rules_of(alone) == []
    # git's own commit date (what it orders history by) is 2100 too; only its pretty format
    # (%ct) reads the second line, as header_commit does
    assert world.git("rev-list", "--timestamp", "-1", planted).split()[0] == "4102444800"
    base = world.head()
    reviewer = world.people["m.okafor"]
    world.raw_commit(reviewer, world.trailers("SOP-0001", SOP, "reviewed", version="1"))
    monkeypatch.setenv("GITQMS_GATE", "full")
    full = check_range(world.repo, f"{base}..HEAD")
    assert rules_of(full) == ["signature.invalid"]  # back-dated behind the planted commit
    assert "a back-dated signature" in full.violations[0].message
    judged_both_ways(monkeypatch, world.repo, f"{base}..HEAD")


def plant_bare_committer(world: World, when: str, *, real_line: bool = True) -> str:
    """An empty commit on HEAD whose first `committer` header is bare and continued on the
    next line with the date `when` (seconds); `real_line`: an ordinary committer line follows
    (else the object has no 'committer ' line at all)."""
    raw = empty_commit(world)
    line = re.search(r"(?m)^committer (.*<[^>]*>) \d+ [+-]\d{4}$", raw)
    assert line is not None
    folded = f"committer\n {line[1]} {when} +0000"
    return forge_object(
        world, raw.replace(line[0], folded + (f"\n{line[0]}" if real_line else ""), 1) + "\n"
    )


def test_attack_qms_log_shows_the_signature_on_the_planted_commit_valid_only_when_narrow(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same planted date (see the test above), seen by `qms log SOP-0001`: the full walk
    lists the reviewer's signature as back-dated, the narrow walk as valid."""
    plant_bare_committer(world, "4102444800")
    reviewer = world.people["m.okafor"]
    world.raw_commit(reviewer, world.trailers("SOP-0001", SOP, "reviewed", version="1"))
    logged_both_ways(monkeypatch, world.repo, "SOP-0001")


def test_attack_a_commit_with_no_committer_line_but_a_bare_folded_one_stops_only_the_narrow_gate(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other way round: a planted commit whose only committer header is bare and folded.
    parse_commit reads it (the full gate judges the range); header_commit finds no
    'committer ' line and refuses the history as malformed, so CI on a fresh clone stops every
    pull request from then on, while `qms verify` and the server's full walk accept it."""
    plant_bare_committer(world, "1767225600", real_line=False)
    base = world.head()
    edit_sop(world, "Checked on receipt.")
    judged_both_ways(monkeypatch, world.repo, f"{base}..HEAD")


# -- guards: attacks on what the narrow walk reads in full, which held ---------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        pytest.param(lambda t: t.lower().replace("sop-0001", "SOP-0001"), id="lower-case-keys"),
        pytest.param(lambda t: t.replace("QMS-", "QMs-"), id="mixed-case-keys"),
        pytest.param(lambda t: t.replace("SOP-0001", "\u00a0SOP-0001\u2003"), id="unicode-spaces"),
    ],
)
def test_guard_an_oddly_written_signature_outside_the_range_is_read_in_full(
    world: World, monkeypatch: pytest.MonkeyPatch, spelling: Callable[[str], str]
) -> None:
    """The reviewer's 'reviewed' on the draft, outside the range, with its trailers written
    as read_claims still reads them (keys in any case, the ID padded with Unicode spaces that
    str.strip drops); in the range the reviewer signs the same content again, which counts
    once. The narrow walk finds the first by its message (case-folded) and reads it in full."""
    reviewer = world.people["m.okafor"]
    trailers = world.trailers("SOP-0001", SOP, "reviewed", version="1")
    world.raw_commit(reviewer, spelling(trailers))
    base = world.head()
    world.raw_commit(reviewer, trailers)
    narrow, _ = judged_both_ways(monkeypatch, world.repo, f"{base}..HEAD")
    assert rules_of(narrow) == ["signature.invalid"]
    assert narrow is not None and "already signed" in narrow.violations[0].message
    logged_both_ways(monkeypatch, world.repo, "SOP-0001")


def test_guard_a_merge_hides_the_approvers_own_edit_from_its_first_parent_diff(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The admin (who approves) makes an edit to the SOP on a side branch; the author makes
    the identical edit on main, and the admin merges the side branch: the merge's first-parent
    diff does not show the SOP. The side commit changes the SOP's path, so the narrow walk
    reads it, and the admin's approval in the range is refused for separation of duties."""
    admin, author = world.people["a.weber"], world.people["l.santos"]
    text = (world.repo / SOP).read_text() + "\nStore at -150 °C.\n"
    fork = world.head()
    world.git("checkout", "-q", "-b", "side")
    world.commit_file(admin, SOP, text, "storage")
    world.git("checkout", "-q", "main")
    world.commit_file(author, SOP, text, "storage")
    world.commit_file(author, "docs/index.md", "x\n", "unrelated")
    with world.acting(admin):
        world.git(
            "merge",
            "-q",
            "--no-ff",
            "--no-edit",
            *world.sign_args(admin),
            "side",
            env=admin.signing_env(),
        )
    assert world.git("diff", "--name-only", "HEAD^1", "HEAD") == ""
    assert fork != world.head()
    base = world.head()
    world.raw_commit(admin, world.trailers("SOP-0001", SOP, "approved", version="1"))
    narrow, _ = judged_both_ways(monkeypatch, world.repo, f"{base}..HEAD")
    assert narrow is not None and any(
        "separation of duties" in v.message for v in narrow.violations
    ), narrow.violations


def test_guard_a_folder_at_the_records_path_outside_the_range_is_read_in_full(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside the range, unsigned commits turn the SOP's file into a folder and back: its
    history now holds changes no signature covers. The folder's files lie under the record's
    path, so the narrow walk reads them, and an approval in the range is refused."""
    admin = world.people["a.weber"]
    text = (world.repo / SOP).read_text()
    world.git("rm", "-q", SOP)
    (world.repo / SOP).mkdir()
    (world.repo / SOP / "x.md").write_text("other procedure\n")
    world.git("add", SOP)
    world.git("commit", "-q", "--no-gpg-sign", "-m", "x", "-m", "Reason: x")
    world.git("rm", "-q", "-r", SOP)
    (world.repo / SOP).write_text(text.replace("Described.", "Described, altered."))
    world.git("add", SOP)
    world.git("commit", "-q", "--no-gpg-sign", "-m", "y", "-m", "Reason: y")
    base = world.head()
    reviewer = world.people["m.okafor"]
    world.raw_commit(reviewer, world.trailers("SOP-0001", SOP, "reviewed", version="1"))
    world.raw_commit(admin, world.trailers("SOP-0001", SOP, "approved", version="1"))
    narrow, _ = judged_both_ways(monkeypatch, world.repo, f"{base}..HEAD")
    assert narrow is not None and any("not proven" in v.message for v in narrow.violations)
    logged_both_ways(monkeypatch, world.repo, "SOP-0001")


def test_guard_a_key_revoked_outside_the_range_voids_a_signature_in_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The registry's history is read in full: a revocation before the range holds."""
    admin, reviewer = world.people["a.weber"], world.people["m.okafor"]
    keys = world.qms(admin, "keys", "list", "--format", "json")
    fingerprint = next(
        k["fingerprint"] for k in json.loads(keys)["keys"] if k["person"] == reviewer.id
    )
    world.qms(admin, "keys", "revoke", reviewer.id, fingerprint, "--reason", "lost")
    edit_sop(world, "Unrelated edit after the revocation.")
    base = world.head()
    world.raw_commit(reviewer, world.trailers("SOP-0001", SOP, "reviewed", version="1"))
    narrow, _ = judged_both_ways(monkeypatch, world.repo, f"{base}..HEAD")
    assert rules_of(narrow) == ["signature.invalid"]


def test_attack_a_non_ascii_parent_header_on_another_branch_crashes_every_check(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not the narrow walk's own fault, found on the way: `_lost_signatures` parses every
    commit on any other branch (git.commits_off) with parse_commit, which decodes `parent`
    headers as ASCII outside its try and catches only CommitFormatError. One such commit on
    any branch of the remote, which CI's clone fetches, makes every `qms check` of every pull
    request stop with a UnicodeDecodeError (both ways), instead of judging the range."""
    main = world.head()
    world.git("checkout", "-q", "-b", "junk")
    raw = empty_commit(world)
    odd = re.sub(r"(committer [^\n]*\n)", "\\1parent caf\u00e9\n", raw, count=1)
    commit = world.git("hash-object", "-t", "commit", "-w", "--stdin", "--literally", input=odd)
    world.git("update-ref", "refs/heads/junk", commit)
    world.git("checkout", "-q", "main")
    world.git("reset", "-q", "--hard", main)
    base = world.head()
    edit_sop(world, "Checked on receipt.")
    for way in ("full", "narrow"):
        monkeypatch.setenv("GITQMS_GATE", way)
        outcome, _ = _outcome(lambda: check_range(world.repo, f"{base}..HEAD"))
        assert outcome[0] == "report", (way, outcome)
