"""The narrow gate (issue 24, item 1) gives the full gate's verdicts: signatures.

`qms check BASE..HEAD` reads and judges only the commits that matter to the range; every
history here puts the violating commit inside the range and what it depends on before BASE,
behind many unrelated commits, so that only a correct narrow walk sees it. Each range is
checked with GITQMS_GATE=full and GITQMS_GATE=narrow (with the history index the commands
left, and cold): the violations and notes must be the same, and the narrow report must say it
was narrow (no passing by falling back to the full walk). Real keys, real signed history.
The registry's histories are in test_gate_narrow_registry.py, the records' rules (versions,
change control, training, copies, deviations, merges) in test_gate_narrow_records.py; both use
the helpers here.
"""

from __future__ import annotations

import os
import re
from datetime import datetime

import pytest

from gitqms.rules.check import CheckReport, check_range
from toolkit.people import Person
from toolkit.team import Team
from toolkit.world import SOP

GATE = "GITQMS_GATE"
PAD_FILE = "notes/pad.txt"  # not a record: an unrelated file the padding commits change


# -- the two gates -------------------------------------------------------------------------------


def run_gate(team: Team, spec: str, mode: str) -> CheckReport:
    """`check_range` with GITQMS_GATE=`mode` (unset when empty); the variable as it was after."""
    before = os.environ.get(GATE)
    try:
        if mode:
            os.environ[GATE] = mode
        else:
            os.environ.pop(GATE, None)
        return check_range(team.world.repo, spec)
    finally:
        if before is None:
            os.environ.pop(GATE, None)
        else:
            os.environ[GATE] = before


def both(team: Team, spec: str, *, narrow: bool = True) -> CheckReport:
    """The range checked by the full and the narrow gate, the narrow one cold (no history
    index) and warm; all must agree. `narrow`: whether the narrow walk judges the range, else
    it falls back to the full walk (rules/depends.py). Returns the full gate's report."""
    world = team.world
    warm = run_gate(team, spec, "narrow")
    full = run_gate(team, spec, "full")
    world.git("config", "qms.historyIndex", "false")
    try:
        cold = run_gate(team, spec, "narrow")
    finally:
        world.git("config", "--unset", "qms.historyIndex")
    assert full.scope == "full"
    compared = run_gate(team, spec, "compare")  # raises when the two walks differ
    default = run_gate(team, spec, "")
    assert compared.violations == default.violations == full.violations, describe(compared)
    for report in (warm, cold):
        assert report.scope == ("narrow" if narrow else "full"), "the wrong walk judged"
        assert (report.base, report.head, report.commits) == (full.base, full.head, full.commits)
        assert report.violations == full.violations, (
            f"narrow ({report.scope}) and full disagree:\n"
            f"narrow: {describe(report)}\nfull: {describe(full)}"
        )
        assert report.notes == full.notes
    return full


def describe(report: CheckReport) -> list[tuple[str, str | None, str, str]]:
    return [(v.commit[:12], v.record, v.rule, v.message) for v in report.violations]


def rules(report: CheckReport) -> set[tuple[str, str]]:
    return {(v.commit, v.rule) for v in report.violations}


def said(report: CheckReport, commit: str, rule: str, words: str) -> bool:
    return any(
        v.commit == commit and v.rule == rule and words in v.message for v in report.violations
    )


# -- unrelated history ----------------------------------------------------------------------------


def pad(team: Team, count: int, day: str = "2026-02-20", *, start: int = 0) -> str:
    """`count` unsigned commits changing one file that is no record, dated a minute apart
    from `day` 08:00 UTC (made in one `git fast-import`); the work tree follows. Returns HEAD."""
    world = team.world
    head, branch = world.head(), world.git("symbolic-ref", "HEAD")
    start_at = int(datetime.fromisoformat(f"{day}T08:00:00+00:00").timestamp())
    person = team.owner
    lines = []
    for i in range(count):
        body = f"pad {start + i}\n"
        message = f"Note {start + i}\n\nReason: unrelated\n"
        lines.append(f"commit {branch}")
        lines.append(f"committer {person.name} <{person.email}> {start_at + 60 * i} +0000")
        lines.append(f"data {len(message.encode())}\n{message}")
        if i == 0:
            lines.append(f"from {head}")
        lines.append(f"M 100644 inline {PAD_FILE}")
        lines.append(f"data {len(body.encode())}\n{body}")
    world.git("fast-import", "--quiet", input="\n".join(lines) + "\n")
    world.git("reset", "-q", "--hard", branch)
    return world.head()


OTHER = "SOP-0002"
OTHER_FILE = f"sops/{OTHER}.md"  # when SOP-0001 exists before it
ISOLATOR = "Cleaning of the isolator"


def other_records(team: Team, edits: int, day: str = "2026-02-15") -> str:
    """Another SOP, written by the owner and edited `edits` times with signed commits: history
    of a record the range does not touch. Returns HEAD."""
    world = team.world
    team.on(day)
    found = [p for p in world.repo.glob("sops/*.md") if ISOLATOR in p.read_text()]
    if found:
        path = found[0].relative_to(world.repo).as_posix()
    else:
        out = team.qms(team.owner, "new", "sop", "--title", ISOLATOR)
        made = re.search(r"sops/SOP-\d{4}\.md", out)
        assert made is not None, out
        path = made[0]
        text = re.sub(r"FILL IN[^\n]*", "Wipe twice.", (world.repo / path).read_text())
        world.commit_file(team.owner, path, text, "isolator cleaning")
    for i in range(edits):
        team.on(day, f"11:{i // 60:02d}:{i % 60:02d}")
        text = (world.repo / path).read_text() + f"\nStep {i}.\n"
        world.commit_file(team.owner, path, text, f"step {i}")
    return world.head()


def busy(team: Team, day: str = "2026-02-15") -> str:
    """Unrelated history between what the range depends on and BASE. Returns BASE."""
    other_records(team, 8, day)
    return pad(team, 60, day)


def write_v1(team: Team, person: Person | None = None, day: str = "2026-02-01") -> str:
    team.on(day)
    text = team.sop_text(1, "2026-04-01", "Described.")
    return team.world.commit_file(person or team.author, SOP, text, "version 1")


def sign_raw(team: Team, person: Person, meaning: str, *, date: str | None = None) -> str:
    """`person` signs SOP-0001 v1 with plain git (what `qms sign` would refuse)."""
    world = team.world
    return world.raw_commit(
        person, world.trailers("SOP-0001", SOP, meaning, version="1"), date=date
    )


# -- 1. separation of duties -----------------------------------------------------------------------


def test_an_approver_who_authored_the_version_long_before_base_is_caught(team: Team) -> None:
    write_v1(team, team.admin)  # the QA manager writes v1 herself
    team.on("2026-02-02")
    team.qms(team.officer, "review", "SOP-0001", "--reason", "content checked")
    base = busy(team)
    team.on("2026-03-01")
    approval = sign_raw(team, team.admin, "approved")
    report = both(team, f"{base}..HEAD")
    assert said(report, approval, "signature.invalid", "separation of duties"), describe(report)


def test_an_edit_made_while_merging_before_base_makes_the_merger_the_author(team: Team) -> None:
    world = team.world
    write_v1(team)
    world.git("switch", "-q", "-c", "side")
    team.on("2026-02-02")
    world.commit_file(team.author, SOP, (world.repo / SOP).read_text() + "\nside\n", "side")
    world.git("switch", "-q", "main")
    other_records(team, 2, "2026-02-03")
    team.on("2026-02-04")
    with world.acting(team.admin):
        world.git("merge", "-q", "--no-commit", "--no-ff", "side")
        (world.repo / SOP).write_text((world.repo / SOP).read_text() + "\nDose doubled.\n")
        world.git("add", SOP)
        sign = world.sign_args(team.admin)
        world.git("commit", "-q", *sign, "-m", "Merge side", env=team.admin.signing_env())
    team.on("2026-02-05")
    team.qms(team.officer, "review", "SOP-0001", "--reason", "content checked")
    base = busy(team)
    team.on("2026-03-01")
    approval = sign_raw(team, team.admin, "approved")
    report = both(team, f"{base}..HEAD")
    assert said(report, approval, "signature.invalid", "separation of duties"), describe(report)


def test_an_approver_who_authored_on_a_branch_merged_before_base_is_caught(team: Team) -> None:
    world = team.world
    write_v1(team)
    world.git("switch", "-q", "-c", "side")
    team.on("2026-02-02")
    world.commit_file(team.admin, SOP, (world.repo / SOP).read_text() + "\nMine.\n", "side")
    world.git("switch", "-q", "main")
    other_records(team, 2, "2026-02-03")
    team.on("2026-02-04")
    with world.acting(team.admin):
        world.git("merge", "-q", "--no-ff", "--no-gpg-sign", "side", "-m", "Merge side")
    team.on("2026-02-05")
    team.qms(team.officer, "review", "SOP-0001", "--reason", "content checked")
    base = busy(team)
    team.on("2026-03-01")
    approval = sign_raw(team, team.admin, "approved")
    report = both(team, f"{base}..HEAD")
    assert said(report, approval, "signature.invalid", "separation of duties"), describe(report)


# -- 3. dates ---------------------------------------------------------------------------------------


def test_a_back_dated_signature_on_a_later_unrelated_parent_is_caught(team: Team) -> None:
    write_v1(team)
    other_records(team, 3, "2026-02-10")
    base = pad(team, 40, "2026-03-10")  # the parent of the signature: unrelated, 10 March
    team.on("2026-03-20")
    review = sign_raw(team, team.officer, "reviewed", date="2026-02-15T09:00:00Z")
    report = both(team, f"{base}..HEAD")
    assert said(report, review, "signature.invalid", "back-dated"), describe(report)


def test_a_back_dated_signature_behind_an_in_range_parent_is_caught(team: Team) -> None:
    """The signature's parent is in the range and unrelated; the later date is older."""
    write_v1(team)
    base = pad(team, 40, "2026-03-10")
    pad(team, 1, "2026-03-12", start=40)
    team.on("2026-03-20")
    review = sign_raw(team, team.officer, "reviewed", date="2026-02-15T09:00:00Z")
    report = both(team, f"{base}..HEAD")
    assert said(report, review, "signature.invalid", "back-dated"), describe(report)


# -- 4. one person, one signature --------------------------------------------------------------


def test_a_second_signature_of_the_same_meaning_after_base_is_judged_alike(team: Team) -> None:
    write_v1(team)
    team.on("2026-02-02")
    team.qms(team.officer, "review", "SOP-0001", "--reason", "content checked")
    base = busy(team)
    team.on("2026-03-01")
    again = sign_raw(team, team.officer, "reviewed")
    report = both(team, f"{base}..HEAD")
    assert any(v.commit == again for v in report.violations), describe(report)


# -- 10. and 11. how a signature names its record -------------------------------------------------


def released_v1(team: Team, trailer: str | None = None, with_other: bool = False) -> str:
    """SOP-0001 v1 written by the author, reviewed and approved with plain git, each signature
    naming it by the first line `trailer` (if given) and, `with_other`, signing SOP-0002's
    content too (named first). Returns the approval."""
    world = team.world
    write_v1(team)
    if with_other:
        other_records(team, 0, "2026-02-01")
    commit = ""
    for day, person, meaning in (
        ("2026-02-02", team.officer, "reviewed"),
        ("2026-02-03", team.admin, "approved"),
    ):
        team.on(day)
        lines = world.trailers("SOP-0001", SOP, meaning, version="1").split("\n")
        if trailer is not None:
            lines[0] = trailer
        if with_other:
            other = world.trailers(OTHER, OTHER_FILE, meaning, version="1").split("\n")
            lines = other[:3] + lines  # QMS-Record, QMS-Version, QMS-Content of SOP-0002 first
        commit = world.raw_commit(person, "\n".join(lines))
    return commit


def edit_in_range(team: Team) -> str:
    team.on("2026-03-01")
    text = (team.world.repo / SOP).read_text().replace("Described.", "Described again.", 1)
    return team.world.commit_file(team.author, SOP, text, "a quiet change")


def test_a_signature_of_two_records_before_base_still_binds_the_one_changed_in_range(
    team: Team,
) -> None:
    released_v1(team, with_other=True)
    assert team.status("2026-04-02", "SOP-0001")["SOP-0001"]["state"] == "effective"
    base = busy(team)
    edit = edit_in_range(team)
    report = both(team, f"{base}..HEAD")
    assert (edit, "sop.version-not-raised") in rules(report), describe(report)


@pytest.mark.parametrize(
    ("trailer", "counts"),
    [
        ("qms-record: SOP-0001", True),
        ("QMS-RECORD: SOP-0001", True),
        ("QMS-Record:    SOP-0001   ", True),
        ("QMS-Record:SOP-0001", True),
        ("QMS-Record: SOP-0001\t", True),
        ("QMS-Record:\n SOP-0001", None),  # a folded trailer: whatever the full gate says
        ("QMS-Record: sop-0001", False),  # another name: no approval, the edit is a draft
    ],
)
def test_an_oddly_written_record_trailer_before_base_is_read_alike(
    team: Team, trailer: str, counts: bool | None
) -> None:
    released_v1(team, trailer)
    base = busy(team)
    edit = edit_in_range(team)
    report = both(team, f"{base}..HEAD")
    if counts is not None:
        assert ((edit, "sop.version-not-raised") in rules(report)) is counts, describe(report)


# -- 12. a clean range over a long history -----------------------------------------------------


def test_a_clean_release_over_hundreds_of_unrelated_commits_has_no_violation(team: Team) -> None:
    write_v1(team)
    other_records(team, 20, "2026-02-05")
    base = pad(team, 400, "2026-02-10")
    team.release_sop("2026-03-01", "2026-03-02")
    report = both(team, f"{base}..HEAD")
    assert report.violations == [] and report.commits == 2


def test_an_empty_range_has_no_violation(team: Team) -> None:
    write_v1(team)
    base = busy(team)
    report = both(team, f"{base}..HEAD")
    assert (report.violations, report.commits) == ([], 0)


# -- a claim in the range ------------------------------------------------------------------------


def test_a_claim_in_the_range_naming_the_record_in_lower_case_is_judged_alike(
    team: Team,
) -> None:
    write_v1(team)
    team.on("2026-02-02")
    team.qms(team.officer, "review", "SOP-0001", "--reason", "content checked")
    base = busy(team)
    team.on("2026-03-01")
    world = team.world
    lines = world.trailers("SOP-0001", SOP, "approved", version="1").split("\n")
    lines[0] = "QMS-Record: sop-0001"
    world.raw_commit(team.admin, "\n".join(lines))
    both(team, f"{base}..HEAD")


# -- the command -----------------------------------------------------------------------------------


def test_qms_check_answers_alike_both_ways(team: Team) -> None:
    """`qms check BASE..HEAD --format json`, as CI runs it, with each walk."""
    write_v1(team, team.admin)
    team.on("2026-02-02")
    team.qms(team.officer, "review", "SOP-0001", "--reason", "content checked")
    base = busy(team)
    team.on("2026-03-01")
    approval = sign_raw(team, team.admin, "approved")
    answers = {}
    for mode in ("full", "narrow"):
        team.world.monkeypatch.setenv(GATE, mode)
        answers[mode] = team.check(f"{base}..HEAD", ok=False)
        answers[mode].pop("scope", None)
    assert answers["narrow"] == answers["full"]
    assert [v["commit"] for v in answers["full"]["violations"]] == [approval]


def test_a_range_based_on_the_branch_it_merges_still_sees_the_branch_author(team: Team) -> None:
    """`qms check side..main` after main merged `side`: the admin's edit on the branch is BASE
    itself, outside the range; her approval after the merge is inside it."""
    world = team.world
    write_v1(team)
    world.git("switch", "-q", "-c", "side")
    team.on("2026-02-02")
    text = (world.repo / SOP).read_text() + "\nMine.\n"
    base = world.commit_file(team.admin, SOP, text, "side")
    world.git("switch", "-q", "main")
    busy(team, "2026-02-03")
    team.on("2026-02-25")
    with world.acting(team.admin):
        world.git("merge", "-q", "--no-ff", "--no-gpg-sign", "side", "-m", "Merge side")
    team.on("2026-02-26")
    team.qms(team.officer, "review", "SOP-0001", "--reason", "content checked")
    team.on("2026-03-01")
    approval = sign_raw(team, team.admin, "approved")
    report = both(team, f"{base}..HEAD")
    assert said(report, approval, "signature.invalid", "separation of duties"), describe(report)
