"""Training sessions (issue 21, step 4; docs/design/training.md §2 and §6, items 5 to 7): a
trainer's signed `training-session` record trains the people it names on the exact contents of
approved document versions, readers without keys included. Only a session that keeps the
kind's rules counts: recorded by the trainer it names, who holds the role `trainer`; every
attendee in an audience of each version; each version approved on the day it is recorded; held
no later than that day; and never changed once recorded. `qms advance` refuses a session that
breaks them before it signs; one recorded with plain git trains no one, and `qms check` reports
it. Real signed history, real keys (tests/toolkit); the attacks first.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from toolkit.people import ORG, Person
from toolkit.team import Team, build_team
from toolkit.world import SOP, refused

TRN = "TRN-2026-0001"
PATH = f"training/{TRN}.yaml"
READERS = ("r.novak", "t.berg")  # nurses without keys, trained in sessions


def story(team: Team) -> None:
    """Lucia Santos is the training coordinator (role trainer); two nurses without keys are
    registered; SOP-0001 v1 is for the nurses, approved on 2026-02-04, effective 2026-02-20."""
    team.on("2026-02-02")
    roles = ("--role", "sop-author", "--role", "trainer")
    team.qms(team.admin, "people", "set", "l.santos", *roles, "--reason", "training coordinator")
    for person_id, name in zip(READERS, ("Rita Novak, RN", "Tomas Berg, RN"), strict=True):
        team.qms(
            team.admin,
            *("people", "add", person_id, "--name", name, "--email", f"{person_id}@{ORG}"),
            *("--role", "nurse-lead", "--audience", "nurses", "--reason", "ward nurse"),
        )
    text = team.sop_text(1, "2026-02-20", "Check the shipper's logger first.")
    text = re.sub(r"(?m)^  audience: .*$", "  audience: [nurses]", text)
    team.world.commit_file(team.author, SOP, text, "version 1")
    team.release_sop("2026-02-03", "2026-02-04")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Team:
    return build_team(tmp_path_factory, story)


@pytest.fixture
def team(built: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Team:
    return built.copy(tmp_path, monkeypatch)


def sha256(content: bytes) -> str:
    return "sha256:" + hashlib.sha256(content).hexdigest()


def session_text(
    team: Team,
    attendees: list[dict[str, str]],
    *,
    held_on: str,
    version: int = 1,
    method: str = "classroom",
    trainer: str = "l.santos",
) -> str:
    """A draft session on the SOP's content as committed now, written from `qms new`'s
    template (made on the first call)."""
    if not (team.world.repo / PATH).exists():
        team.qms(team.author, "new", "training-session", "--title", "Receipt of ATMPs, ward")
    text = (team.world.repo / PATH).read_text()
    document = {
        "record": "SOP-0001",
        "version": version,
        "content": sha256(team.world.content(SOP)),
    }
    fields = {
        "trainer": trainer,
        "held_on": json.dumps(held_on),
        "method": method,
        "attendees": json.dumps(attendees),
        "documents": json.dumps([document]),
    }
    for field, value in fields.items():
        text = re.sub(rf"(?m)^{field}:.*$", f"{field}: {value}", text)
    return text


def draft(team: Team, text: str) -> str:
    """The draft committed by its trainer; returns the commit before it (a range's base)."""
    base = team.world.head()
    team.world.commit_file(team.author, PATH, text, "session held")
    return base


def record_with_plain_git(team: Team, person: Person, text: str, *, date: str | None = None) -> str:
    """The move to `recorded` made as only an insider can: the file edited and signed with
    git, with the trailers `qms advance` would write, bypassing its checks."""
    world = team.world
    (world.repo / PATH).write_text(text)
    world.git("add", PATH)
    trailers = world.trailers(
        TRN, PATH, "recorded", version="recorded", content=sha256(text.encode())
    )
    return world.raw_commit(person, trailers, date=date)


def recorded(text: str) -> str:
    return re.sub(r"(?m)^state: draft$", "state: recorded", text)


def matrix(team: Team, day: str) -> dict[str, dict[str, Any]]:
    """Each reader's row on SOP-0001 (the newest version shown) in `qms training` on `day`."""
    out = team.qms(team.admin, "training", "--format", "json", "--date", day, ok=False)
    rows = json.loads(out[: out.rindex("}") + 1])["rows"]
    return {r["person"]: r for r in rows if r["document"] == "SOP-0001" and r["person"] in READERS}


def trained_by_session(rows: dict[str, dict[str, Any]]) -> set[str]:
    return {
        person
        for person, row in rows.items()
        if row["status"] == "trained" and row["by"]["how"] == "session"
    }


def rules(report: dict[str, Any]) -> set[str]:
    return {v["rule"] for v in report["violations"]}


NURSES = [{"person": "r.novak"}, {"person": "t.berg"}]


# --- attacks (§6, items 5 to 7) ---------------------------------------------------------------


def test_a_session_recorded_by_someone_without_the_trainer_role_trains_no_one(
    team: Team,
) -> None:
    team.on("2026-02-10")
    text = session_text(team, NURSES, held_on="2026-02-09", trainer="m.okafor")
    base = draft(team, text)
    out = refused(team.world, team.officer, "advance", TRN, "--to", "recorded")
    assert "trainer" in out, out
    record_with_plain_git(team, team.officer, recorded(text))
    assert trained_by_session(matrix(team, "2026-02-21")) == set()
    found = rules(team.check(f"{base}..HEAD", ok=False))
    assert {"signature.invalid", "state.signature"} <= found, found


def test_a_trainer_cannot_record_a_session_that_names_another_trainer(team: Team) -> None:
    team.on("2026-02-09")
    roles = ("--role", "qa-officer", "--role", "sop-reviewer", "--role", "trainer")
    team.qms(team.admin, "people", "set", "m.okafor", *roles, "--reason", "second trainer")
    team.on("2026-02-10")
    text = session_text(team, NURSES, held_on="2026-02-09")  # Lucia Santos's session
    base = draft(team, text)
    out = refused(team.world, team.officer, "advance", TRN, "--to", "recorded")
    assert "[training.trainer]" in out and "names l.santos as its trainer" in out, out
    record_with_plain_git(team, team.officer, recorded(text))
    assert trained_by_session(matrix(team, "2026-02-21")) == set()
    assert "training.trainer" in rules(team.check(f"{base}..HEAD", ok=False))


def test_an_attendee_outside_the_audience_is_refused_and_counts_for_nothing(team: Team) -> None:
    team.on("2026-02-10")
    text = session_text(team, [{"person": "r.novak"}, {"person": "m.okafor"}], held_on="2026-02-09")
    base = draft(team, text)
    out = refused(team.world, team.author, "advance", TRN, "--to", "recorded")
    assert "[training.not-in-audience]" in out and "m.okafor is not in an audience" in out, out
    record_with_plain_git(team, team.author, recorded(text))
    # The trainer's signature itself verifies; the session breaks a rule, so it trains no one.
    verified = json.loads(team.qms(team.admin, "verify", "--format", "json"))
    [signature] = [s for s in verified["signatures"] if s["record"] == TRN]
    assert (signature["meaning"], signature["status"]) == ("recorded", "valid")
    assert trained_by_session(matrix(team, "2026-02-21")) == set()
    report = team.check(f"{base}..HEAD", ok=False)
    assert rules(report) == {"training.not-in-audience"}, report
    assert "m.okafor" in report["violations"][0]["message"]


def test_a_recorded_session_never_changes_and_only_what_was_signed_counts(team: Team) -> None:
    team.on("2026-02-10")
    text = session_text(team, [{"person": "r.novak"}], held_on="2026-02-09")
    draft(team, text)
    team.qms(team.author, "advance", TRN, "--to", "recorded")
    base = team.world.head()
    team.on("2026-02-11")
    edited = (
        (team.world.repo / PATH)
        .read_text()
        .replace('[{"person": "r.novak"}]', '[{"person": "r.novak"}, {"person": "t.berg"}]')
    )
    assert edited != (team.world.repo / PATH).read_text()
    team.world.commit_file(team.author, PATH, edited, "Tomas Berg was there too")
    # Even the trainer's signature on the edited content records nothing: a session is
    # recorded once, out of its draft.
    world = team.world
    world.raw_commit(team.author, world.trailers(TRN, PATH, "recorded", version="recorded"))
    verified = json.loads(team.qms(team.admin, "verify", "--format", "json", ok=False))
    statuses = [s["status"] for s in verified["signatures"] if s["meaning"] == "recorded"]
    assert statuses == ["superseded", "valid"], statuses  # both made by the trainer
    report = team.check(f"{base}..HEAD", ok=False)
    assert "training.changed-after-recording" in rules(report), report
    rows = matrix(team, "2026-02-21")
    assert trained_by_session(rows) == {"r.novak"}
    assert rows["r.novak"]["by"]["record"] == TRN
    assert rows["t.berg"]["status"] != "trained"


def test_a_session_held_after_its_recording_signature_is_refused(team: Team) -> None:
    """A signature cannot be dated before its parent commit (the judge refuses that), so a
    session dated after its recording is one recorded before it was held."""
    team.on("2026-02-08")
    text = session_text(team, NURSES, held_on="2026-02-09")
    base = draft(team, text)
    team.on("2026-02-08", "11:00:00")
    out = refused(team.world, team.author, "advance", TRN, "--to", "recorded")
    assert "[training.held-after-recording]" in out, out
    record_with_plain_git(team, team.author, recorded(text))
    assert trained_by_session(matrix(team, "2026-02-21")) == set()
    report = team.check(f"{base}..HEAD", ok=False)
    assert "training.held-after-recording" in rules(report), report


def test_a_session_counts_from_the_later_of_its_day_and_its_signature(team: Team) -> None:
    team.on("2026-02-12")
    draft(team, session_text(team, NURSES, held_on="2026-02-05"))
    team.qms(team.author, "advance", TRN, "--to", "recorded")
    assert trained_by_session(matrix(team, "2026-02-11")) == set()
    rows = matrix(team, "2026-02-12")
    assert trained_by_session(rows) == set(READERS)
    assert rows["r.novak"]["trained_on"] == "2026-02-12"


def test_a_session_on_a_draft_counts_for_nothing_even_once_the_draft_is_approved(
    team: Team,
) -> None:
    team.on("2026-03-01")
    text = team.sop_text(2, "2026-04-01", "Read the logger before opening.", supersedes=1)
    text = re.sub(r"(?m)^  audience: .*$", "  audience: [nurses]", text)
    team.world.commit_file(team.author, SOP, text, "version 2")
    team.on("2026-03-02")
    session = session_text(team, NURSES, held_on="2026-03-02", version=2)
    base = draft(team, session)
    out = refused(team.world, team.author, "advance", TRN, "--to", "recorded")
    assert "[training.not-approved]" in out and "SOP-0001 v2" in out, out
    record_with_plain_git(team, team.author, recorded(session))
    assert "training.not-approved" in rules(team.check(f"{base}..HEAD", ok=False))
    team.release_sop("2026-03-03", "2026-03-04")  # v2 approved unchanged, after the session
    rows = matrix(team, "2026-04-02")
    assert {row["version"] for row in rows.values()} == {2}
    assert trained_by_session(rows) == set()


# --- what works ---------------------------------------------------------------------------------


def test_a_trainer_records_a_classroom_session_for_two_readers_without_keys(team: Team) -> None:
    team.on("2026-02-10")
    base = draft(team, session_text(team, NURSES, held_on="2026-02-09"))
    out = team.qms(team.author, "advance", TRN, "--to", "recorded")
    assert f"{TRN}: draft -> recorded, signed 'recorded'" in out
    report = team.check(f"{base}..HEAD")
    assert (report["ok"], report["violations"]) == (True, [])
    rows = matrix(team, "2026-02-21")
    assert trained_by_session(rows) == set(READERS)
    for row in rows.values():
        assert (row["version"], row["by"]["record"], row["trained_on"]) == (
            1,
            TRN,
            "2026-02-10",
        )


def test_an_assessed_session_trains_only_those_who_passed(team: Team) -> None:
    team.on("2026-02-10")
    attendees = [{"person": "r.novak", "result": "pass"}, {"person": "t.berg", "result": "fail"}]
    draft(team, session_text(team, attendees, held_on="2026-02-09", method="assessed"))
    team.qms(team.author, "advance", TRN, "--to", "recorded")
    assert trained_by_session(matrix(team, "2026-02-21")) == {"r.novak"}
