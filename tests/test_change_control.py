"""Change control (CC-YYYY-NNNN) from the outside, with real signed history: its lifecycle
under `qms advance`, and its hold on documents: a document version that names a change
control is released only under a signed, approved content of it that lists the version,
made no later than the release; a change control closes only once every version it lists is
effective. Judged by `qms status`, `qms check` and the server hook alike."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest

from test_lifecycle_capa import fill, read, trailers
from test_server_hook import REFUSED, connect
from toolkit.people import Person
from toolkit.server import GitServer, push
from toolkit.team import Team
from toolkit.world import SOP, refused

CC = "CC-2026-0001"
CC_FILE = f"changes/{CC}.yaml"

IMPACT = """impact:
  documents: "SOP-0001 v2 (receipt: read the logger before opening)."
  training: "Pharmacy staff read and understand v2 before it takes effect."
  equipment_validation: "No equipment or validation affected."
  regulatory_notification:
    required: false
    rationale: "No change to the marketing authorisation or the sponsor's manual."
  data_integrity: "The logger file stays the primary record."
  risk:
    severity: 3
    occurrence: 2
    detectability: 2
    rationale: "A warm shipper could be accepted if the logger is not read."
"""
EFFECTIVENESS = """effectiveness:
  criteria: "Every shipper in the next 20 receipts has its logger read before opening."
  due: "2026-12-31"
"""
VERIFIED = """effectiveness:
  criteria: "Every shipper in the next 20 receipts has its logger read before opening."
  due: "2026-12-31"
  result: "All 20 receipts since the change had the logger read first."
  verdict: effective
  checked_on: "{day}"
  checked_by: m.okafor
"""


def documents(*versions: tuple[str, int]) -> str:
    if not versions:
        return "documents: []\n"
    lines = "".join(
        f'  - {{record: {record}, version: {version}, change: "read the logger first"}}\n'
        for record, version in versions
    )
    return "documents:\n" + lines


def edit(team: Team, person: Person, reason: str, *, sign: bool = True, **fields: str) -> str:
    """A commit by `person` changing the CC's top-level fields (signed as `git commit -S`,
    which is authorship, not a signature of a meaning)."""
    text = fill(read(team, CC_FILE), **fields)
    return team.world.commit_file(person, CC_FILE, text, reason, sign=sign)


def advance(team: Team, person: Person, to: str, day: str) -> str:
    team.on(day)
    out = team.qms(person, "advance", CC, "--to", to)
    assert f"-> {to}, signed" in out, out
    return team.world.head()


def new_cc(team: Team, day: str) -> str:
    """`qms new change-control` by the officer, its text filled in by the author."""
    team.on(day)
    out = team.qms(team.officer, "new", "change-control", "--title", "Read the logger first")
    assert CC_FILE in out, out
    text = read(team, CC_FILE)
    text = text.replace("FILL IN: what changes, from what to what.", "Read the logger first.")
    text = text.replace("FILL IN: why the change is needed.", "Two warm shippers were opened.")
    return team.world.commit_file(team.author, CC_FILE, text, "change proposed")


def assess(team: Team, day: str) -> str:
    team.on(day)
    edit(
        team, team.officer, "impact assessed", classification="classification: major", impact=IMPACT
    )
    return advance(team, team.officer, "impact-assessed", day)


def approve_cc(team: Team, day: str, *listed: tuple[str, int]) -> str:
    """The CC approved by the QA manager, listing `listed`; returns the signing commit."""
    team.on(day)
    edit(
        team,
        team.officer,
        "documents listed",
        documents=documents(*listed),
        effectiveness=EFFECTIVENESS,
    )
    return advance(team, team.admin, "approved", day)


def sop_v1(team: Team) -> None:
    """SOP-0001 v1 released in January, effective from 2026-01-20."""
    team.on("2026-01-10")
    team.write_sop(1, "2026-01-20", "Receive every shipper at the pharmacy.")
    team.release_sop("2026-01-12", "2026-01-15")


def sop_v2(team: Team, day: str, effective: str, control: str = CC) -> str:
    """v2 of SOP-0001 drafted by the author, naming `control`."""
    team.on(day)
    text = team.sop_text(2, effective, "Read the logger before opening.", supersedes=1)
    text = re.sub(r"(?m)^change_control:.*$", f'change_control: "{control}"', text)
    return team.world.commit_file(team.author, SOP, text, "version 2")


def release_by_hand(team: Team, reviewed_on: str, approved_on: str) -> str:
    """v2 reviewed with qms, then released as only an insider can: `qms approve` refuses a
    release its change control does not allow and writes nothing, so the approver signs the
    trailers with plain git. Returns qms approve's refusal."""
    team.on(reviewed_on)
    team.qms(team.officer, "review", "SOP-0001", "--reason", "content checked")
    team.on(approved_on)
    out = refused(team.world, team.admin, "approve", "SOP-0001", "--reason", "released")
    assert "cannot sign:\n  SOP-0001: CC-" in out, out
    team.world.raw_commit(team.admin, team.world.trailers("SOP-0001", SOP, "approved", version="2"))
    return out


def sop(team: Team, day: str) -> dict[str, Any]:
    return dict(team.status(day, "SOP-0001")["SOP-0001"])


def v2(record: dict[str, Any]) -> dict[str, Any] | None:
    found = [v for v in record["versions"] if v["version"] == 2]
    if found:
        return dict(found[0])
    working = record.get("working")
    return dict(working) if working and working.get("version") == 2 else None


def rules(report: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    return [(v["commit"], v["record"], v["rule"]) for v in report["violations"]]


def cc_status(team: Team, day: str) -> dict[str, Any]:
    return dict(team.status(day, CC)[CC])


def not_counted(record: dict[str, Any]) -> list[str]:
    return [note for note in record["notes"] if "does not count" in note]


def assert_v2_held(team: Team, day: str, why: str) -> None:
    """On `day` v1 is still in force and v2 is not released, with a note saying `why`."""
    record = sop(team, day)
    assert (record["state"], record["version"]) == ("effective", "1"), record
    assert record["upcoming"] is None
    assert v2(record) is not None and v2(record)["status"] == "in review"  # type: ignore[index]
    notes = not_counted(record)
    assert len(notes) == 1 and notes[0].startswith("Dr. Anna Weber's 'approved' does not count")
    assert why in notes[0], notes


# -- 1. the lifecycle ----------------------------------------------------------------------------


def test_a_change_control_moves_through_its_states_signed_by_the_roles_the_policy_names(
    team: Team,
) -> None:
    start = team.world.head()
    new_cc(team, "2026-02-01")
    text = read(team, CC_FILE)
    assert f"id: {CC}" in text and "state: proposed" in text and "owner: m.okafor" in text
    assert 'proposed_on: "2026-02-01"' in text
    assert cc_status(team, "2026-02-01")["state"] == "proposed"
    # The impact assessment first, by a QA officer or manager, never by an SOP author.
    team.on("2026-02-02")
    out = refused(team.world, team.officer, "advance", CC, "--to", "impact-assessed")
    assert "classification" in out or "impact" in out, out
    edit(team, team.officer, "impact", classification="classification: major", impact=IMPACT)
    out = refused(team.world, team.author, "advance", CC, "--to", "impact-assessed")
    assert "needs one of the roles qa-manager, qa-officer" in out, out
    assert "does not allow" in refused(team.world, team.admin, "advance", CC, "--to", "closed")
    assessed = advance(team, team.officer, "impact-assessed", "2026-02-02")
    # Approval: the documents and the effectiveness criteria, and only a QA manager signs.
    team.on("2026-02-03")
    out = refused(team.world, team.admin, "advance", CC, "--to", "approved")
    assert "documents" in out or "effectiveness" in out, out
    edit(team, team.officer, "plan", documents=documents(), effectiveness=EFFECTIVENESS)
    out = refused(team.world, team.officer, "advance", CC, "--to", "approved")
    assert "'approved' needs one of the roles qa-manager" in out, out
    approved = advance(team, team.admin, "approved", "2026-02-03")
    assert ("QMS-Meaning", "approved") in trailers(team, approved)
    assert ("QMS-Version", "approved") in trailers(team, approved)
    assert ("QMS-Record", CC) in trailers(team, approved)
    assert ("QMS-Meaning", "impact-assessed") in trailers(team, assessed)
    # Implemented, verified effective, closed.
    # The day it was implemented is the day of the move unless given (the schema's x-default).
    advance(team, team.officer, "implemented", "2026-02-10")
    assert 'implemented_on: "2026-02-10"' in read(team, CC_FILE)
    team.on("2026-03-20")
    edit(team, team.officer, "checked", effectiveness=VERIFIED.format(day="2026-03-20"))
    advance(team, team.officer, "effectiveness-verified", "2026-03-20")
    out = refused(team.world, team.officer, "advance", CC, "--to", "closed")
    assert "'closed' needs one of the roles qa-manager" in out, out
    advance(team, team.admin, "closed", "2026-03-21")
    assert 'closed: "2026-03-21"' in read(team, CC_FILE)
    record = cc_status(team, "2026-03-21")
    assert (record["state"], record["signed_state"], record["notes"]) == ("closed", "closed", [])
    assert cc_status(team, "2026-02-05")["signed_state"] == "approved"
    assert team.world.git("status", "--porcelain") == ""
    report = team.check(f"{start}..HEAD")
    assert (report["ok"], report["violations"]) == (True, [])


# -- 2. to 6. the hold on releases -------------------------------------------------------------


@pytest.mark.parametrize("state", ["proposed", "impact-assessed"])
def test_a_release_under_a_change_control_not_yet_approved_does_not_count(
    team: Team, state: str
) -> None:
    sop_v1(team)
    base = team.world.head()
    new_cc(team, "2026-02-01")
    assessed = state == "impact-assessed"
    if assessed:
        assess(team, "2026-02-02")
    sop_v2(team, "2026-02-03", "2026-03-01")
    release_by_hand(team, "2026-02-04", "2026-02-05")
    release = team.world.head()
    assert_v2_held(team, "2026-03-02", f"{CC} was not approved when v2 was approved")
    # A proposed change control carries no signature yet; an assessed one is signed, not approved.
    where = "(state 'impact-assessed')" if assessed else "(its content there carries no signature)"
    assert where in not_counted(sop(team, "2026-03-02"))[0]
    report = team.check(f"{base}..HEAD", ok=False)
    assert rules(report) == [(release, "SOP-0001", "change-control.not-approved")]
    assert CC in report["violations"][0]["message"]


def test_a_held_release_stays_held_when_its_approver_tries_to_sign_it_again(team: Team) -> None:
    """Approving the change control afterwards does not release the version retroactively,
    and one person signs one meaning once per content, so the note names what does release
    it: another approver, or a changed version signed again."""
    sop_v1(team)
    base = team.world.head()
    new_cc(team, "2026-02-01")
    assess(team, "2026-02-02")
    sop_v2(team, "2026-02-03", "2026-03-01")
    release_by_hand(team, "2026-02-04", "2026-02-05")
    release = team.world.head()
    approve_cc(team, "2026-02-07", ("SOP-0001", 2))
    assert_v2_held(team, "2026-03-02", f"{CC} was not approved when v2 was approved")
    assert "then another approver signs v2 'approved', or v2 is changed" in str(
        sop(team, "2026-03-02")["notes"]
    )
    team.on("2026-02-08")
    out = team.qms(team.admin, "approve", "SOP-0001", "--reason", "again", ok=False)
    assert "already signed 'approved'" in out
    assert team.world.head() == team.world.git("rev-parse", "HEAD")
    record = sop(team, "2026-03-02")
    assert (record["state"], record["version"]) == ("effective", "1")
    assert rules(team.check(f"{base}..HEAD", ok=False)) == [
        (release, "SOP-0001", "change-control.not-approved")
    ]


def test_a_release_under_the_approved_change_control_that_lists_it_counts(team: Team) -> None:
    sop_v1(team)
    base = team.world.head()
    new_cc(team, "2026-02-01")
    assess(team, "2026-02-02")
    approve_cc(team, "2026-02-03", ("SOP-0001", 2))
    sop_v2(team, "2026-02-04", "2026-03-01")
    team.release_sop("2026-02-05", "2026-02-06")
    record = sop(team, "2026-02-10")
    assert (record["state"], record["version"]) == ("effective", "1")
    assert record["upcoming"]["version"] == 2 and record["upcoming"]["status"] == "approved"
    assert not_counted(record) == []
    record = sop(team, "2026-03-01")
    assert (record["state"], record["version"], not_counted(record)) == ("effective", "2", [])
    report = team.check(f"{base}..HEAD")
    assert (report["ok"], report["violations"]) == (True, [])
    # 8. The change control lists its documents with their status, in json and in text.
    listed = cc_status(team, "2026-02-10")["documents"]
    assert [(d["record"], d["version"], d["status"]) for d in listed] == [
        ("SOP-0001", 2, "approved")
    ]
    listed = cc_status(team, "2026-03-01")["documents"]
    assert listed == [
        {"record": "SOP-0001", "version": 2, "status": "effective", "effective_from": "2026-03-01"}
    ]
    text = team.qms(team.admin, "status", CC, "--date", "2026-03-01")
    assert "SOP-0001 v2" in text and "effective" in text


@pytest.mark.parametrize("listed", [[("SOP-0001", 3)], [("SOP-0001", 1)], []])
def test_an_approved_change_control_that_does_not_list_the_version_releases_nothing(
    team: Team, listed: list[tuple[str, int]]
) -> None:
    sop_v1(team)
    base = team.world.head()
    new_cc(team, "2026-02-01")
    assess(team, "2026-02-02")
    approve_cc(team, "2026-02-03", *listed)
    sop_v2(team, "2026-02-04", "2026-03-01")
    release_by_hand(team, "2026-02-05", "2026-02-06")
    assert_v2_held(team, "2026-03-02", f"{CC} does not list SOP-0001 v2 under 'documents'")
    assert rules(team.check(f"{base}..HEAD", ok=False)) == [
        (team.world.head(), "SOP-0001", "change-control.not-approved")
    ]


def test_an_unsigned_edit_that_adds_the_version_to_an_approved_change_control_releases_nothing(
    team: Team,
) -> None:
    sop_v1(team)
    base = team.world.head()
    new_cc(team, "2026-02-01")
    assess(team, "2026-02-02")
    approve_cc(team, "2026-02-03")  # approved with no documents
    team.on("2026-02-04")
    # An insider lists the SOP: a commit signed with their key, but no signature of a meaning.
    edit(team, team.author, "add SOP-0001", documents=documents(("SOP-0001", 2)))
    assert "state: approved" in read(team, CC_FILE)
    sop_v2(team, "2026-02-04", "2026-03-01")
    release_by_hand(team, "2026-02-05", "2026-02-06")
    release = team.world.head()
    assert_v2_held(team, "2026-03-02", "(its content there carries no signature)")
    assert (release, "SOP-0001", "change-control.not-approved") in rules(
        team.check(f"{base}..HEAD", ok=False)
    )


@pytest.mark.parametrize("sign", [True, False])
def test_a_change_control_set_to_approved_by_hand_releases_nothing(team: Team, sign: bool) -> None:
    sop_v1(team)
    base = team.world.head()
    new_cc(team, "2026-02-01")
    assess(team, "2026-02-02")
    team.on("2026-02-03")
    listed = documents(("SOP-0001", 2))
    edit(team, team.officer, "listed", documents=listed, effectiveness=EFFECTIVENESS)
    edit(team, team.author, "approved, says who", sign=sign, state="state: approved")
    assert cc_status(team, "2026-02-03")["signed_state"] == "impact-assessed"
    sop_v2(team, "2026-02-04", "2026-03-01")
    release_by_hand(team, "2026-02-05", "2026-02-06")
    release = team.world.head()
    assert_v2_held(team, "2026-03-02", "(its content there carries no signature)")
    assert (release, "SOP-0001", "change-control.not-approved") in rules(
        team.check(f"{base}..HEAD", ok=False)
    )


def test_a_change_control_signed_approved_after_the_release_does_not_count_back(
    team: Team,
) -> None:
    """The approved content is in the tree when the SOP is approved, but its signature comes
    a day later: the release made before it stays unreleased."""
    sop_v1(team)
    base = team.world.head()
    new_cc(team, "2026-02-01")
    assess(team, "2026-02-02")
    team.on("2026-02-03")
    listed = documents(("SOP-0001", 2))
    edit(team, team.officer, "listed", documents=listed, effectiveness=EFFECTIVENESS)
    edit(team, team.officer, "ready to approve", state="state: approved")
    sop_v2(team, "2026-02-04", "2026-03-01")
    release_by_hand(team, "2026-02-05", "2026-02-06")
    release = team.world.head()
    # The QA manager now signs exactly that content as approved, dated after the release.
    team.on("2026-02-07")
    world = team.world
    late = world.raw_commit(team.admin, world.trailers(CC, CC_FILE, "approved", version="approved"))
    assert cc_status(team, "2026-02-07")["signed_state"] == "approved"  # the signature counts
    assert cc_status(team, "2026-02-06")["signed_state"] == "impact-assessed"
    assert_v2_held(team, "2026-03-02", f"{CC} was not approved when v2 was approved")
    report = team.check(f"{base}..HEAD", ok=False)
    assert (release, "SOP-0001", "change-control.not-approved") in rules(report)
    assert all(commit != late for commit, _, _ in rules(report))


def close_by_hand(team: Team, day: str) -> str:
    """The QA manager's signature of 'closed' on the closed content, as `qms advance` would
    write it, committed with plain git."""
    world = team.world
    text = fill(read(team, CC_FILE), state="state: closed", closed=f'closed: "{day}"')
    (world.repo / CC_FILE).write_text(text)
    world.git("add", CC_FILE)
    digest = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    signed = world.trailers(CC, CC_FILE, "closed", version="closed", content=digest)
    return world.raw_commit(team.admin, signed)


# -- 7. closing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("closed", "late"), [("2026-04-10", True), ("2026-06-02", False)])
def test_a_change_control_closes_only_once_the_versions_it_lists_are_effective(
    team: Team, closed: str, late: bool
) -> None:
    sop_v1(team)
    new_cc(team, "2026-02-01")
    assess(team, "2026-02-02")
    approve_cc(team, "2026-02-03", ("SOP-0001", 2))
    sop_v2(team, "2026-02-04", "2026-06-01")
    team.release_sop("2026-02-05", "2026-02-06")
    base = team.world.head()
    team.on("2026-04-01")
    edit(team, team.officer, "done", implemented_on='implemented_on: "2026-04-01"')
    advance(team, team.officer, "implemented", "2026-04-01")
    team.on("2026-04-09")
    edit(team, team.officer, "checked", effectiveness=VERIFIED.format(day="2026-04-09"))
    advance(team, team.officer, "effectiveness-verified", "2026-04-09")
    if late:
        # `qms advance` refuses; the QA manager's signed commit made with plain git is judged.
        team.on(closed)
        out = refused(team.world, team.admin, "advance", CC, "--to", "closed")
        assert "change-control.documents-not-effective" in out, out
        closing = close_by_hand(team, closed)
    else:
        closing = advance(team, team.admin, "closed", closed)
    assert cc_status(team, closed)["signed_state"] == "closed"
    report = team.check(f"{base}..HEAD", ok=not late)
    if late:
        assert rules(report) == [(closing, CC, "change-control.documents-not-effective")]
        message = report["violations"][0]["message"]
        assert "SOP-0001 v2 (approved)" in message and closed in message, message
    else:
        assert rules(report) == []
    assert cc_status(team, closed)["documents"][0]["status"] == (
        "approved" if late else "effective"
    )


# -- 9. a paper reference ------------------------------------------------------------------------


def test_a_legacy_paper_change_control_number_is_a_reference_and_holds_nothing(
    team: Team,
) -> None:
    sop_v1(team)
    base = team.world.head()
    sop_v2(team, "2026-02-04", "2026-03-01", control="CC-2025-040")
    team.release_sop("2026-02-05", "2026-02-06")
    record = sop(team, "2026-03-01")
    assert (record["state"], record["version"], not_counted(record)) == ("effective", "2", [])
    assert team.check(f"{base}..HEAD")["violations"] == []


def test_a_change_control_that_does_not_exist_holds_the_release(team: Team) -> None:
    sop_v1(team)
    base = team.world.head()
    sop_v2(team, "2026-02-04", "2026-03-01", control="CC-2026-0009")
    release_by_hand(team, "2026-02-05", "2026-02-06")
    assert_v2_held(team, "2026-03-02", "CC-2026-0009, which v2 names, does not exist")
    assert rules(team.check(f"{base}..HEAD", ok=False)) == [
        (team.world.head(), "SOP-0001", "change-control.not-approved")
    ]


# -- 10. the server ------------------------------------------------------------------------------


def test_the_server_refuses_a_release_under_a_proposed_change_control(
    team: Team, server: GitServer
) -> None:
    sop_v1(team)
    new_cc(team, "2026-02-01")
    sop_v2(team, "2026-02-03", "2026-03-01")
    connect(team.world, server)
    assert push(team.world.repo, "origin", "main").ok
    accepted = server.tip()
    release_by_hand(team, "2026-02-04", "2026-02-05")
    pushed = push(team.world.repo, "origin", "main")
    assert pushed.status("refs/heads/main") == REFUSED
    said = "\n".join(pushed.remote)
    assert "change-control.not-approved" in said and f"{CC} was not approved" in said, said
    assert server.tip() == accepted
