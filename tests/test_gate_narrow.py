"""The narrow gate (issue 24, item 1) gives the full gate's verdicts: signatures.

`qms check BASE..HEAD` reads and judges only the commits that matter to the range; every
history here puts the violating commit inside the range and what it depends on before BASE,
behind many unrelated commits, so that only a correct narrow walk sees it. Each range is
checked with GITQMS_GATE=full and GITQMS_GATE=narrow (with the history index the commands
left, and cold): the violations and notes must be the same, and the narrow report must say it
was narrow (no passing by falling back to the full walk). Real keys, real signed history.
The records' rules (versions, change control, training, copies, deviations, merges) are in
test_gate_narrow_records.py, which uses the helpers here.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import datetime

import pytest

from gitqms.rules.check import CheckReport, check_range
from test_registry_binding import (
    add_receipt,
    fingerprint,
    review_on_a_branch,
    revoke_reviewer_key,
    withdraw_review_role,
)
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
    index) and warm; all must agree. Returns the full gate's report."""
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
        if narrow:
            assert report.scope == "narrow", "the narrow gate fell back to the full walk"
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


# -- 2. the registry in force ------------------------------------------------------------------------


def test_a_key_revoked_before_base_voids_a_signature_in_the_range(team: Team) -> None:
    write_v1(team)
    team.on("2026-02-10")
    team.qms(
        team.admin, "keys", "revoke", "m.okafor", fingerprint(team),
        "--on", "2026-02-10", "--reason", "laptop stolen",
    )  # fmt: skip
    base = busy(team)
    team.on("2026-03-01")
    review = sign_raw(team, team.officer, "reviewed")
    report = both(team, f"{base}..HEAD")
    assert said(report, review, "signature.invalid", "revoked"), describe(report)


def test_a_role_withdrawn_before_base_voids_a_signature_in_the_range(team: Team) -> None:
    write_v1(team)
    team.on("2026-02-10")
    withdraw_review_role(team)
    base = busy(team)
    team.on("2026-03-01")
    review = sign_raw(team, team.officer, "reviewed")
    report = both(team, f"{base}..HEAD")
    assert any(v.commit == review for v in report.errors), describe(report)


def test_a_key_added_by_an_unsigned_registry_change_before_base_counts_for_nothing(
    team: Team,
) -> None:
    world = team.world
    write_v1(team)
    stranger = world.person("x.x", "Xavier X")
    text = (world.repo / "qms.yaml").read_text()
    forged = text.replace(
        "  - id: m.okafor\n",
        f'  - id: x.x\n    name: "Xavier X"\n    email: "{stranger.email}"\n'
        "    roles: [qa-manager, sop-reviewer]\n"
        f'    keys:\n      - public_key: "{stranger.public_line()}"\n'
        '        valid_from: "2020-01-01"\n  - id: m.okafor\n',
        1,
    )
    assert forged != text
    team.on("2026-02-10")
    world.commit_file(team.admin, "qms.yaml", forged, "a new reviewer", sign=False)
    base = busy(team)
    team.on("2026-03-01")
    review = sign_raw(team, stranger, "reviewed")
    report = both(team, f"{base}..HEAD")
    assert any(v.commit == review and v.rule == "signature.invalid" for v in report.violations), (
        describe(report)
    )


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


def test_a_key_revoked_on_a_branch_merged_before_base_voids_a_signature_in_the_range(
    team: Team,
) -> None:
    world = team.world
    write_v1(team)
    world.git("switch", "-q", "-c", "registry")
    team.on("2026-02-10")
    team.qms(
        team.admin, "keys", "revoke", "m.okafor", fingerprint(team),
        "--on", "2026-02-10", "--reason", "laptop stolen",
    )  # fmt: skip
    world.git("switch", "-q", "main")
    other_records(team, 2, "2026-02-11")
    team.on("2026-02-12")
    with world.acting(team.admin):
        world.git("merge", "-q", "--no-ff", "--no-gpg-sign", "registry", "-m", "Merge registry")
    base = busy(team)
    team.on("2026-03-01")
    review = sign_raw(team, team.officer, "reviewed")
    report = both(team, f"{base}..HEAD")
    assert said(report, review, "signature.invalid", "revoked"), describe(report)


def test_a_range_that_changes_the_registry_or_has_no_base_falls_back_to_the_full_walk(
    team: Team,
) -> None:
    write_v1(team)
    base = busy(team)
    team.on("2026-03-01")
    withdraw_review_role(team)
    review = sign_raw(team, team.officer, "reviewed")
    for spec in (f"{base}..HEAD", "HEAD"):
        report = both(team, spec, narrow=False)
        assert run_gate(team, spec, "narrow").scope == "full"
        assert any(v.commit == review for v in report.errors), describe(report)


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


# -- the registry binding histories (tests/test_registry_binding.py) ----------------------------


@pytest.mark.parametrize("change", ["withdraw", "revoke", "add"])
def test_the_registry_binding_histories_give_the_same_verdicts(team: Team, change: str) -> None:
    write_v1(team)
    newcomer = team.world.person("r.dubois", "Raphael Dubois")
    changes = {
        "withdraw": lambda: withdraw_review_role(team),
        "revoke": lambda: revoke_reviewer_key(team),
        "add": lambda: team.world.add_person(team.admin, newcomer, "sop-reviewer"),
    }
    signed = review_on_a_branch(team, changes[change])
    report = both(team, "HEAD^1..HEAD")  # the branch and its merge; the change is before it
    assert any(v.commit == signed for v in report.errors) is (change != "add"), describe(report)


@pytest.mark.parametrize("receipt", ["2026-02-06T09:00:00Z", "2026-02-11T09:00:00Z"])
def test_a_receipt_decides_the_revocation_alike(team: Team, receipt: str) -> None:
    """The server's receipt time of a branch signature, before or after the revocation on
    main: the signature counts or not, in both walks."""
    write_v1(team)
    signed = review_on_a_branch(team, lambda: revoke_reviewer_key(team))
    add_receipt(team, signed, receipt)
    report = both(team, "HEAD^1..HEAD")
    voided = any(v.commit == signed for v in report.errors)
    assert voided is (receipt > "2026-02-10"), describe(report)


@pytest.mark.parametrize("change", ["revoke", "add"])
def test_a_branch_review_merged_before_base_binds_alike(team: Team, change: str) -> None:
    """The review and its merge before BASE, the registry change on main before the merge:
    the verdicts on v1's signatures follow from the registry in force at the merge."""
    write_v1(team)
    newcomer = team.world.person("r.dubois", "Raphael Dubois")
    changes = {
        "revoke": lambda: revoke_reviewer_key(team),
        "add": lambda: team.world.add_person(team.admin, newcomer, "sop-reviewer"),
    }
    review_on_a_branch(team, changes[change])
    team.on("2026-02-13")
    team.qms(team.admin, "approve", "SOP-0001", "--reason", "released", ok=change == "add")
    if change == "revoke":
        sign_raw(team, team.admin, "approved")
    base = busy(team, "2026-02-14")
    edit = edit_in_range(team)
    report = both(team, f"{base}..HEAD")
    if change == "add":  # (with the review void, the approval alone still releases v1)
        assert (edit, "sop.version-not-raised") in rules(report), describe(report)


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


def test_the_default_is_narrow_unless_a_stored_index_reaches_head(team: Team) -> None:
    write_v1(team)
    base = busy(team)
    team.release_sop("2026-03-01", "2026-03-02")
    spec = f"{base}..HEAD"
    shutil.rmtree(team.world.repo / ".git" / "qms", ignore_errors=True)
    assert run_gate(team, spec, "").scope == "narrow"
    assert run_gate(team, spec, "narrow").scope == "narrow"
    team.qms(team.admin, "verify")  # stores the walk of HEAD
    assert run_gate(team, spec, "").scope == "full"
    assert run_gate(team, spec, "narrow").scope == "narrow"
    team.on("2026-03-03")
    edit = edit_in_range(team)  # the index reaches an ancestor of the new HEAD
    report = run_gate(team, spec, "")
    assert report.scope == "full" and (edit, "sop.version-not-raised") in rules(report)
    assert both(team, spec).violations == report.violations
