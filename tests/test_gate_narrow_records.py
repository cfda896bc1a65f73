"""The narrow gate (issue 24, item 1) gives the full gate's verdicts: the records' rules.

Versions of a document, change control, training sessions, controlled copies, deviation
extensions and merges: in each history the commit that breaks a rule is in the range and what
it depends on is before BASE, behind unrelated history (test_gate_narrow.py has the helpers
and the signature histories). A range that touches a change control, a training session or a
copy falls back to the full walk (rules/depends.py): those tests hold that it does, and that the
verdict is the one expected.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from test_acknowledge import MEANING as READ
from test_acknowledge import released as for_pharmacists
from test_change_control import (
    CC,
    CC_FILE,
    VERIFIED,
    approve_cc,
    assess,
    close_by_hand,
    new_cc,
    release_by_hand,
    sop_v1,
    sop_v2,
)
from test_change_control import advance as advance_cc
from test_change_control import edit as edit_cc
from test_gate_narrow import both, busy, describe, pad, rules
from test_lifecycle_capa import (
    CAPA,
    DEV,
    DEV_FILE,
    RISK,
    advance,
    commit_paths,
    deviation_in_investigation,
    edit,
    investigation,
    new_capa,
)
from test_training_sessions import (
    NURSES,
    PATH,
    draft,
    record_with_plain_git,
    recorded,
    session_text,
    story,
)
from toolkit.team import Team
from toolkit.world import SOP

# -- 5. versions of a document ---------------------------------------------------------------------


def two_versions(team: Team) -> str:
    """SOP-0001 v1 and v2 released before BASE, then unrelated history. Returns BASE."""
    team.on("2026-01-10")
    team.write_sop(1, "2026-01-20", "Receive every shipper at the pharmacy.")
    team.release_sop("2026-01-12", "2026-01-15")
    team.on("2026-02-01")
    team.write_sop(2, "2026-03-01", "Read the logger first.", supersedes=1)
    team.release_sop("2026-02-02", "2026-02-03")
    return busy(team, "2026-02-10")


def test_a_version_number_that_goes_back_in_the_range_is_caught(team: Team) -> None:
    base = two_versions(team)
    team.on("2026-04-01")
    stale = team.write_sop(3, "2026-05-01", "Read the logger and the label.", supersedes=1)
    back = team.write_sop(1, "2026-05-01", "Back to the start.")
    report = both(team, f"{base}..HEAD")
    assert {(stale, "sop.supersedes"), (back, "sop.version-decreased")} <= rules(report), describe(
        report
    )


def test_an_approved_version_changed_without_a_new_number_is_caught(team: Team) -> None:
    base = two_versions(team)
    team.on("2026-04-01")
    text = (team.world.repo / SOP).read_text().replace("Read the logger first.", "Skip it.")
    edited = team.world.commit_file(team.author, SOP, text, "quiet change")
    report = both(team, f"{base}..HEAD")
    assert (edited, "sop.version-not-raised") in rules(report), describe(report)


# -- 6. change control -------------------------------------------------------------------------


def test_a_release_in_the_range_held_by_a_change_control_proposed_before_base(
    team: Team,
) -> None:
    sop_v1(team)
    new_cc(team, "2026-02-01")
    assess(team, "2026-02-02")
    base = busy(team, "2026-02-03")
    sop_v2(team, "2026-03-03", "2026-04-01")
    release_by_hand(team, "2026-03-04", "2026-03-05")
    release = team.world.head()
    report = both(team, f"{base}..HEAD")
    assert (release, "change-control.not-approved") in rules(report), describe(report)


def test_only_the_release_in_the_range_its_draft_and_change_control_before_base(
    team: Team,
) -> None:
    sop_v1(team)
    new_cc(team, "2026-02-01")
    sop_v2(team, "2026-02-03", "2026-04-01")
    base = busy(team, "2026-02-04")
    release_by_hand(team, "2026-03-04", "2026-03-05")
    release = team.world.head()
    report = both(team, f"{base}..HEAD")
    assert (release, "change-control.not-approved") in rules(report), describe(report)


def test_a_release_under_a_change_control_approved_before_base_is_clean(team: Team) -> None:
    sop_v1(team)
    new_cc(team, "2026-02-01")
    assess(team, "2026-02-02")
    approve_cc(team, "2026-02-03", ("SOP-0001", 2))
    sop_v2(team, "2026-02-04", "2026-06-01")
    base = busy(team, "2026-02-05")
    team.release_sop("2026-03-05", "2026-03-06")
    report = both(team, f"{base}..HEAD")
    assert report.violations == [], describe(report)


def test_a_change_control_closed_in_the_range_over_a_version_not_effective(team: Team) -> None:
    sop_v1(team)
    new_cc(team, "2026-02-01")
    assess(team, "2026-02-02")
    approve_cc(team, "2026-02-03", ("SOP-0001", 2))
    sop_v2(team, "2026-02-04", "2026-06-01")
    team.release_sop("2026-02-05", "2026-02-06")
    team.on("2026-04-01")
    edit_cc(team, team.officer, "done", implemented_on='implemented_on: "2026-04-01"')
    advance_cc(team, team.officer, "implemented", "2026-04-01")
    team.on("2026-04-09")
    edit_cc(team, team.officer, "checked", effectiveness=VERIFIED.format(day="2026-04-09"))
    advance_cc(team, team.officer, "effectiveness-verified", "2026-04-09")
    base = busy(team, "2026-04-09")
    team.on("2026-04-20")
    closing = close_by_hand(team, "2026-04-20")
    report = both(team, f"{base}..HEAD", narrow=False)
    assert (closing, "change-control.documents-not-effective") in rules(report), describe(report)
    assert CC in {v.record for v in report.violations}


def test_a_change_control_edited_in_the_range_sees_the_documents_before_base(team: Team) -> None:
    """A range that only touches the change control: its rules read every document."""
    sop_v1(team)
    new_cc(team, "2026-02-01")
    assess(team, "2026-02-02")
    approve_cc(team, "2026-02-03", ("SOP-0001", 2))
    sop_v2(team, "2026-02-04", "2026-06-01")
    team.release_sop("2026-02-05", "2026-02-06")
    base = busy(team, "2026-02-07")
    team.on("2026-04-01")
    edit_cc(team, team.officer, "done", implemented_on='implemented_on: "2026-04-01"')
    advance_cc(team, team.officer, "implemented", "2026-04-01")
    both(team, f"{base}..HEAD", narrow=False)
    assert CC_FILE  # the record the range touched


# -- 7. training sessions and controlled copies ----------------------------------------------------


def test_a_training_session_in_the_range_on_a_version_approved_before_base(team: Team) -> None:
    story(team)  # SOP-0001 v1 for the nurses, approved 2026-02-04
    base = busy(team, "2026-02-05")
    team.on("2026-02-10")
    text = session_text(team, NURSES, held_on="2026-02-09")
    draft(team, text)
    record_with_plain_git(team, team.author, recorded(text))
    report = both(team, f"{base}..HEAD", narrow=False)
    assert report.violations == [], describe(report)


def test_a_training_session_in_the_range_breaking_its_rules_is_caught(team: Team) -> None:
    story(team)
    base = busy(team, "2026-02-05")
    team.on("2026-02-10")
    text = session_text(team, [{"person": "r.novak"}, {"person": "m.okafor"}], held_on="2026-02-09")
    draft(team, text)
    record_with_plain_git(team, team.author, recorded(text))
    report = both(team, f"{base}..HEAD", narrow=False)
    assert "training.not-in-audience" in {rule for _, rule in rules(report)}, describe(report)


def test_a_session_recorded_before_base_and_changed_in_the_range_is_caught(team: Team) -> None:
    story(team)
    team.on("2026-02-10")
    draft(team, session_text(team, [{"person": "r.novak"}], held_on="2026-02-09"))
    team.qms(team.author, "advance", "TRN-2026-0001", "--to", "recorded")
    base = busy(team, "2026-02-11")
    team.on("2026-03-01")
    text = (team.world.repo / PATH).read_text()
    edited = text.replace(
        '[{"person": "r.novak"}]', '[{"person": "r.novak"}, {"person": "t.berg"}]'
    )
    assert edited != text
    team.world.commit_file(team.author, PATH, edited, "Tomas Berg was there too")
    report = both(team, f"{base}..HEAD", narrow=False)
    assert "training.changed-after-recording" in {r for _, r in rules(report)}, describe(report)


def copy_text(team: Team, number: int, issuer: str) -> str:
    digest = hashlib.sha256((team.world.repo / SOP).read_bytes()).hexdigest()
    return (
        f'id: COPY-2026-{number:04d}\ntitle: "Controlled copy {number} of SOP-0001 v1"\n'
        f'state: issued\ndocument: SOP-0001\nversion: 1\ncontent_sha256: "sha256:{digest}"\n'
        f'copy: {number}\nlocation: "Ward 3"\nissued_by: {issuer}\n'
        'issued_at: "2026-03-01T10:00:00Z"\n'
    )


def released(team: Team) -> str:
    team.on("2026-02-02")
    team.world.commit_file(team.author, SOP, team.sop_text(1, "2026-02-20", "Described."), "v1")
    team.release_sop("2026-02-03", "2026-02-04")
    return busy(team, "2026-02-05")


def test_a_controlled_copy_issued_in_the_range_of_a_version_approved_before_base(
    team: Team, tmp_path: Path
) -> None:
    base = released(team)
    team.on("2026-03-01")
    out = team.qms(
        team.officer, "pdf", "SOP-0001", "--copy-for", "Cleanroom B", "-o", str(tmp_path / "1.pdf")
    )
    assert "controlled copy 1 of SOP-0001 v1" in out, out
    report = both(team, f"{base}..HEAD", narrow=False)
    assert report.violations == [], describe(report)


def test_a_copy_number_taken_before_base_is_caught_in_the_range(team: Team, tmp_path: Path) -> None:
    released(team)
    team.on("2026-03-01")
    team.qms(team.officer, "pdf", "SOP-0001", "--copy-for", "Ward 1", "-o", str(tmp_path / "1.pdf"))
    base = busy(team, "2026-03-02")
    team.on("2026-03-10")
    path = "controlled-copies/COPY-2026-0002.yaml"
    text = copy_text(team, 1, "m.okafor")  # copy number 1 again, in a new record
    (team.world.repo / path).write_text(text)
    team.world.git("add", path)
    digest = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    trailers = team.world.trailers(
        "COPY-2026-0002", path, "issued", version="issued", content=digest
    )
    forged = team.world.raw_commit(team.officer, trailers)
    report = both(team, f"{base}..HEAD", narrow=False)
    assert any(v.commit == forged and v.rule.startswith("copy.") for v in report.violations), (
        describe(report)
    )


def test_a_hand_written_copy_record_in_the_range_is_caught(team: Team) -> None:
    base = released(team)
    team.on("2026-03-01")
    (team.world.repo / "controlled-copies").mkdir(exist_ok=True)
    path = "controlled-copies/COPY-2026-0001.yaml"
    forged = team.world.commit_file(team.author, path, copy_text(team, 5, "l.santos"), "copy")
    report = both(team, f"{base}..HEAD", narrow=False)
    assert {(forged, "state.signature"), (forged, "copy.number-skipped")} <= rules(report), (
        describe(report)
    )


# -- 8. a deviation's investigation extension --------------------------------------------------


def extended(team: Team) -> str:
    """DEV-2026-0001 under investigation, its extension recorded and signed by the QA manager
    before BASE. Returns BASE."""
    deviation_in_investigation(team)
    team.on("2026-03-20")
    edit(team, team.author, DEV_FILE, "extension", investigation=investigation(extension="a.weber"))
    team.on("2026-03-21")
    team.qms(team.admin, "sign", DEV, "--meaning", "extended", "--reason", "justified")
    return busy(team, "2026-03-22")


def test_an_extension_signed_before_base_still_counts_for_an_edit_in_the_range(
    team: Team,
) -> None:
    base = extended(team)
    team.on("2026-03-25")
    done = investigation(extension="a.weber", done=True)
    edit(team, team.author, DEV_FILE, "investigation written up", investigation=done)
    both(team, f"{base}..HEAD")


def test_an_extension_signed_before_base_and_moved_in_the_range_is_caught(team: Team) -> None:
    base = extended(team)
    team.on("2026-03-25")
    moved = investigation(extension="a.weber").replace("2026-04-30", "2026-05-15")
    changed = edit(team, team.author, DEV_FILE, "longer", investigation=moved)
    report = both(team, f"{base}..HEAD")
    assert (changed, "deviation.extension") in rules(report), describe(report)


def test_an_extension_recorded_unsigned_before_base_is_judged_alike(team: Team) -> None:
    deviation_in_investigation(team)
    team.on("2026-03-20")
    edit(team, team.author, DEV_FILE, "extension", investigation=investigation(extension="a.weber"))
    base = busy(team, "2026-03-22")
    team.on("2026-03-25")
    done = investigation(extension="a.weber", done=True)
    edit(team, team.author, DEV_FILE, "investigation written up", investigation=done)
    both(team, f"{base}..HEAD")


# -- 9. merges ---------------------------------------------------------------------------------


def capa_branch(team: Team) -> tuple[str, str]:
    """CAPA-2026-0001 with its risk before BASE; its root-cause move signed on a branch.
    Returns (BASE, the signed move)."""
    world = team.world
    path = new_capa(team, "2026-02-02")
    team.on("2026-02-03")
    edit(team, team.author, path, "risk", risk=RISK)
    base = busy(team, "2026-02-03")
    world.git("checkout", "-q", "-b", "analysis")
    team.on("2026-02-24")
    signed = advance(team, team.officer, CAPA, "root-cause")
    world.git("checkout", "-q", "main")
    pad(team, 5, "2026-02-25", start=1000)
    return base, signed


def test_a_merge_commit_of_a_signed_branch_is_clean(team: Team) -> None:
    base, _ = capa_branch(team)
    world = team.world
    team.on("2026-02-26")
    with world.acting(team.admin):
        world.git("merge", "-q", "--no-ff", "--no-gpg-sign", "analysis", "-m", "Merge analysis")
    report = both(team, f"{base}..HEAD")
    assert report.violations == [], describe(report)


def test_a_squash_merge_that_drops_the_signature_is_caught(team: Team) -> None:
    base, signed = capa_branch(team)
    world = team.world
    team.on("2026-02-26")
    world.git("merge", "-q", "--squash", "analysis")
    squashed = commit_paths(team, team.admin, "squash of the analysis branch")
    report = both(team, f"{base}..HEAD")
    assert {(squashed, "state.signature"), (signed, "signature.not-merged")} <= rules(report), (
        describe(report)
    )


# -- signatures of other meanings in the range --------------------------------------------------


def test_a_read_and_understood_in_the_range_of_a_version_approved_before_base(
    team: Team,
) -> None:
    """Once with `qms acknowledge`, then again with plain git: one person, one signature."""
    for_pharmacists(team)
    base = busy(team, "2026-02-05")
    team.on("2026-03-01")
    team.qms(team.owner, "acknowledge", "SOP-0001")
    assert both(team, f"{base}..HEAD").violations == []
    world = team.world
    again = world.raw_commit(team.owner, world.trailers("SOP-0001", SOP, READ, version="1"))
    report = both(team, f"{base}..HEAD")
    assert any(v.commit == again for v in report.violations), describe(report)


def test_an_audit_trail_review_signed_in_the_range_is_judged_alike(team: Team) -> None:
    team.on("2026-01-10")
    team.write_sop(1, "2026-01-20", "Receive every shipper at the pharmacy.")
    team.release_sop("2026-01-12", "2026-01-15")
    base = busy(team, "2026-02-01")
    team.on("2026-03-01")
    period = ("--since", "2026-01-10", "--until", "2026-02-28")
    team.qms(team.officer, "audit-trail", *period, "--sign", "--conclusion", "Fine.")
    assert both(team, f"{base}..HEAD").violations == []
