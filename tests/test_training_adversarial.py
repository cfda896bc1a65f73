"""Adversarial review of the training matrix (issue 21, step 3): each test here is a finding,
an attack by an insider with push rights or an input that the matrix, `qms training`,
`qms due` or the site gets wrong. Real signed history and real keys (tests/toolkit), built on
the story of tests/test_training_matrix.py: SOP-0001 v1 for the pharmacists, effective
2026-02-20, approved 2026-02-04; Dr. Johan Lindqvist and Dr. Paola Rossi pharmacists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from test_change_control import IMPACT, advance, approve_cc, edit, new_cc
from test_training_matrix import (
    DOC,
    EFFECTIVE,
    NO_RETRAINING,
    acknowledge,
    change_control_v2,
    matrix,
    rossi,
    rows,
    set_training,
    statuses,
    story,
)
from toolkit.team import Team, build_team


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Team:
    return build_team(tmp_path_factory, story)


@pytest.fixture
def team(built: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Team:
    return built.copy(tmp_path, monkeypatch)


# -- carry-over: the flag the approver never signed ----------------------------------------------


def test_a_flag_added_while_implementing_the_change_control_carries_nothing(team: Team) -> None:
    """The QA manager approves CC-2026-0001 saying staff train again on v2. The QA officer
    (who owns the change control) then adds `training_required: false` to the same file and
    signs it 'implemented' alone, before v2 is released. The release counts under the
    implemented content (an approved state), and the carry-over reads the flag from that
    content: the approver never signed it (design §1: "the flag sits in signed content that an
    independent approver signed, so an author cannot skip retraining alone")."""
    acknowledge(team, rossi(team), "2026-02-10")
    change_control_v2(team, IMPACT)  # approved 2026-03-03: staff train again on v2
    team.on("2026-03-05")
    edit(
        team,
        team.officer,
        "implementing",
        impact=NO_RETRAINING,
        implemented_on='implemented_on: "2026-03-05"',
    )
    advance(team, team.officer, "implemented", "2026-03-05")
    team.release_sop("2026-03-06", "2026-03-07")
    upcoming = team.status("2026-03-10", DOC)[DOC]["upcoming"]
    assert upcoming and upcoming["version"] == 2, upcoming

    row = rows(matrix(team, "2026-03-10")[1])[("p.rossi", 2)]
    assert (row["status"], row["by"]) == ("due", None), row
    assert statuses(team, "2026-04-02")[("p.rossi", 2)] == "overdue"


# -- `joined`: a claim in the file that moves due days ------------------------------------------


@pytest.mark.parametrize("joined", ["2026-03-01", "2026-12-01"], ids=["today", "future"])
def test_a_joined_day_written_later_does_not_restart_an_overdue_persons_clock(
    team: Team, joined: str
) -> None:
    """Lindqvist has been a pharmacist (and a signer) since January and is overdue on v1 from
    2026-02-21. On 2026-03-01 the admin writes `joined:` for him, today or in December: the
    matrix then takes the file's word over the registry history (due_day, in_matrix) and his
    overdue item is gone from that day on: 'due' until 2026-03-31, or no row at all until
    December. Joining is dated by the admin-signed commits that record it, never by a claim
    in the file (design §1); a registry edit that leaves him in the audience is not a new
    start (test_touching_a_persons_registry_entry_does_not_restart_their_training_clock)."""
    assert statuses(team, "2026-02-28")[("j.lindqvist", 1)] == "overdue"
    team.on("2026-03-01")
    team.qms(
        team.admin,
        *("people", "set", "j.lindqvist", "--joined", joined, "--reason", "HR start date"),
    )
    found = rows(matrix(team, "2026-03-02")[1])
    assert ("j.lindqvist", 1) in found, "an overdue pharmacist dropped out of the matrix"
    row = found[("j.lindqvist", 1)]
    assert (row["status"], row["due"]) == ("overdue", EFFECTIVE), row


def test_a_new_starters_window_is_the_one_they_joined_under_when_joined_is_written(
    team: Team,
) -> None:
    """On 2026-02-25 the admin registers Okafor's move to the pharmacy from 2026-03-01
    (`--audience pharmacists --joined 2026-03-01`): due 2026-03-31, overdue on 2026-04-01.
    On 2026-04-02 `training.new_starter_days` is raised to 90. Without `joined` the window
    stays the one of the registry that began the membership (_member_since); with it,
    due_day takes the window of the registry of the day asked about, so raising the window
    clears the overdue item from that day on (README, Threat model: raising
    new_starter_days does not clear overdue training)."""
    team.on("2026-02-25")
    team.qms(
        team.admin,
        *("people", "set", "m.okafor", "--audience", "pharmacists", "--joined", "2026-03-01"),
        *("--reason", "moves to the pharmacy on 1 March"),
    )
    row = rows(matrix(team, "2026-03-01")[1])[("m.okafor", 1)]
    assert (row["status"], row["due"]) == ("due", "2026-03-31"), row
    assert statuses(team, "2026-04-01")[("m.okafor", 1)] == "overdue"
    set_training(team, "2026-04-02", "  new_starter_days: 90\n")
    row = rows(matrix(team, "2026-04-02")[1])[("m.okafor", 1)]
    assert (row["status"], row["due"]) == ("overdue", "2026-03-31"), row


# -- carry-over: when the carried training counts from ------------------------------------------


def test_training_carried_over_is_not_dated_before_the_version_existed(team: Team) -> None:
    """Rossi read v1 on 2026-02-10; v2 is approved on 2026-03-06 under a change control that
    says no retraining, so her training carries over. The row for v2 says she was trained on
    it on 2026-02-10, weeks before v2 was written (2026-03-04) or approved: an inspector reads
    'trained on SOP-0001 v2 on 2026-02-10'. An acknowledgement counts from the approval at the
    earliest (rule 2, README: neither counts before the version was approved); a carried-over
    training should not be dated earlier either."""
    acknowledge(team, rossi(team), "2026-02-10")
    change_control_v2(team, NO_RETRAINING)
    team.release_sop("2026-03-05", "2026-03-06")
    row = rows(matrix(team, "2026-03-10")[1])[("p.rossi", 2)]
    assert (row["status"], row["by"]["how"]) == ("trained", "carried-over"), row
    assert row["trained_on"] >= "2026-03-06", row


# -- carry-over across documents ------------------------------------------------------------------


def test_training_carries_over_to_a_document_that_supersedes_another(team: Team) -> None:
    """SOP-0002 v1 replaces SOP-0001 v1 (`supersedes: "SOP-0001 v1"`) under a change control
    approved with `impact.training_required: false`. Design §1: "V counts as trained for
    everyone trained on the version it supersedes". The join looks for the version before
    only among the same document's versions (_Fulfilments._before), so Rossi, trained on
    SOP-0001 v1, is due on SOP-0002 v1 (and overdue once it is in force)."""
    acknowledge(team, rossi(team), "2026-02-10")
    new_cc(team, "2026-03-01")
    team.on("2026-03-02")
    edit(
        team,
        team.officer,
        "impact",
        classification="classification: minor",
        impact=NO_RETRAINING.replace("SOP-0001 v2", "SOP-0002 v1"),
    )
    advance(team, team.officer, "impact-assessed", "2026-03-02")
    out = team.qms(team.author, "new", "sop", "--title", "Receipt of ATMPs (all sites)")
    assert "SOP-0002" in out, out
    path = "sops/SOP-0002.md"
    text = (team.world.repo / path).read_text()
    text = re.sub(r"FILL IN[^\n]*", "Read the logger before opening.", text)
    text = re.sub(r"(?m)^effective_date:.*$", 'effective_date: "2026-04-01"', text)
    text = re.sub(r"(?m)^supersedes:.*$", 'supersedes: "SOP-0001 v1"', text)
    text = re.sub(r"(?m)^change_control:.*$", 'change_control: "CC-2026-0001"', text)
    text = re.sub(r"(?m)^  audience: .*$", "  audience: [pharmacists]", text)
    team.world.commit_file(team.author, path, text, "SOP-0002 v1 replaces SOP-0001")
    approve_cc(team, "2026-03-03", ("SOP-0002", 1))
    team.on("2026-03-05")
    team.qms(team.officer, "review", "SOP-0002", "--reason", "content checked")
    team.on("2026-03-06")
    team.qms(team.admin, "approve", "SOP-0002", "--reason", "released")

    _, report = matrix(team, "2026-04-02")
    found = {(r["person"], r["document"], r["version"]): r for r in report["rows"]}
    assert ("p.rossi", DOC, 1) not in found, found  # SOP-0001 v1 superseded across documents
    row = found[("p.rossi", "SOP-0002", 1)]
    assert (row["status"], (row["by"] or {}).get("how")) == ("trained", "carried-over"), row
