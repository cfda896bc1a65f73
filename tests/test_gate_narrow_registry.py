"""The narrow gate (issue 24, item 1) gives the full gate's verdicts: the registry in force.

Keys revoked, roles withdrawn and people added before BASE (on main, on a branch merged before
BASE, by an unsigned change), the server's receipts, the walk's fallback when the range changes
the registry, and which walk the default chooses (test_gate_narrow.py has the helpers).
"""

from __future__ import annotations

import shutil

import pytest

from test_gate_narrow import (
    both,
    busy,
    describe,
    edit_in_range,
    other_records,
    rules,
    run_gate,
    said,
    sign_raw,
    write_v1,
)
from test_registry_binding import (
    add_receipt,
    review_on_a_branch,
    revoke_reviewer_key,
    withdraw_review_role,
)
from toolkit.team import Team


def test_a_key_revoked_before_base_voids_a_signature_in_the_range(team: Team) -> None:
    write_v1(team)
    team.on("2026-02-10")
    revoke_reviewer_key(team)
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


def test_a_key_revoked_on_a_branch_merged_before_base_voids_a_signature_in_the_range(
    team: Team,
) -> None:
    world = team.world
    write_v1(team)
    world.git("switch", "-q", "-c", "registry")
    team.on("2026-02-10")
    revoke_reviewer_key(team)
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
    # A signature of qms.yaml in the range, changing nothing, falls back as well.
    base = team.world.head()
    world = team.world
    world.raw_commit(team.admin, world.trailers("qms.yaml", "qms.yaml", "reviewed"))
    both(team, f"{base}..HEAD", narrow=False)
    assert run_gate(team, f"{base}..HEAD", "narrow").scope == "full"


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
