"""Derived SOP status on any day, from real signed history: draft, in review, approved,
effective, superseded exactly on the next version's effective date, obsolete when retired;
periodic review; and the version rules of `qms check`."""

from __future__ import annotations

from toolkit.team import SOP, Team


def _state(team: Team, day: str) -> tuple[str, str | None]:
    record = team.status(day, "SOP-0001")["SOP-0001"]
    return record["state"], record["version"]


def test_status_follows_signatures_and_dates(team: Team) -> None:
    team.on("2026-01-10")
    team.write_sop(1, "2026-02-01", "Receive every shipper at the pharmacy.")
    assert _state(team, "2026-01-10") == ("draft", "1")
    team.on("2026-01-12")
    team.qms(team.officer, "review", "SOP-0001", "--reason", "checked")
    assert _state(team, "2026-01-12") == ("in review", "1")
    assert _state(team, "2026-01-11") == ("draft", "1")  # the review had not happened yet
    team.on("2026-01-15")
    team.qms(team.admin, "approve", "SOP-0001", "--reason", "released")
    assert _state(team, "2026-01-15") == ("approved", "1")
    assert _state(team, "2026-01-31") == ("approved", "1")
    assert _state(team, "2026-02-01") == ("effective", "1")
    record = team.status("2026-02-01", "SOP-0001")["SOP-0001"]
    assert record["effective_date"] == "2026-02-01"
    assert record["next_review"] == "2028-02-01"  # review_period_months: 24 in the template
    signers = [(s["meaning"], s["person"]) for s in record["versions"][0]["signatures"]]
    assert signers == [("reviewed", "m.okafor"), ("approved", "a.weber")]


def test_the_old_version_is_superseded_exactly_when_the_new_one_becomes_effective(
    team: Team,
) -> None:
    team.on("2026-01-10")
    team.write_sop(1, "2026-02-01", "Receive every shipper at the pharmacy.")
    team.release_sop("2026-01-12", "2026-01-15")
    team.on("2026-03-01")
    team.write_sop(2, "2026-04-01", "Read the logger before opening the shipper.", supersedes=1)
    # A draft of v2 on the branch does not touch v1's effectivity.
    record = team.status("2026-03-01", "SOP-0001")["SOP-0001"]
    assert (record["state"], record["version"]) == ("effective", "1")
    assert record["working"]["status"] == "draft" and record["working"]["version"] == 2
    team.release_sop("2026-03-05", "2026-03-10")
    record = team.status("2026-03-31", "SOP-0001")["SOP-0001"]
    assert (record["state"], record["version"]) == ("effective", "1")
    assert record["upcoming"]["version"] == 2
    assert [d["what"] for d in record["due"]] == ["periodic review", "v2 becomes effective"]
    record = team.status("2026-04-01", "SOP-0001")["SOP-0001"]
    assert (record["state"], record["version"]) == ("effective", "2")
    versions = {v["version"]: v for v in record["versions"]}
    assert versions[1]["status"] == "superseded" and versions[1]["until"] == "2026-04-01"
    assert versions[2]["status"] == "effective" and versions[2]["effective_from"] == "2026-04-01"
    # Asked about a day in the past, the answer is the past's.
    past = team.status("2026-02-15", "SOP-0001")["SOP-0001"]
    assert {v["version"]: v["status"] for v in past["versions"]} == {1: "effective"}


def test_an_edit_after_approval_is_a_draft_again_and_the_approved_text_stays_in_force(
    team: Team,
) -> None:
    team.on("2026-01-10")
    team.write_sop(1, "2026-01-20", "Receive every shipper at the pharmacy.")
    team.release_sop("2026-01-12", "2026-01-15")
    approved = team.world.head()
    team.on("2026-02-01")
    text = (team.world.repo / SOP).read_text().replace("pharmacy.", "pharmacy door.")
    edit = team.world.commit_file(team.author, SOP, text, "typo")
    record = team.status("2026-02-01", "SOP-0001")["SOP-0001"]
    assert (record["state"], record["version"]) == ("effective", "1")
    assert record["working"]["status"] == "draft"
    assert "v1 is draft" in record["notes"]
    report = team.check(f"{approved}..HEAD", ok=False)
    rules = [(v["commit"], v["rule"]) for v in report["violations"]]
    assert rules == [(edit, "sop.version-not-raised")]
    assert "set 'version: 2'" in report["violations"][0]["fix"]


def test_retirement_makes_it_obsolete_from_that_day(team: Team) -> None:
    team.on("2026-01-10")
    team.write_sop(1, "2026-01-20", "Receive every shipper at the pharmacy.")
    team.release_sop("2026-01-12", "2026-01-15")
    team.on("2026-06-30")
    team.qms(team.admin, "sign", "SOP-0001", "--meaning", "retired", "--reason", "replaced")
    assert _state(team, "2026-06-29")[0] == "effective"
    record = team.status("2026-06-30", "SOP-0001")["SOP-0001"]
    assert record["state"] == "obsolete"
    assert record["versions"][0]["status"] == "obsolete"
    assert record["next_review"] is None and record["due"] == []


def test_a_signed_periodic_review_renews_without_a_new_version(team: Team) -> None:
    team.on("2026-01-10")
    team.write_sop(1, "2026-01-20", "Receive every shipper at the pharmacy.")
    team.release_sop("2026-01-12", "2026-01-15")
    record = team.status("2028-01-21", "SOP-0001")["SOP-0001"]
    assert record["next_review"] == "2028-01-20" and record["overdue"] is True
    out = team.qms(team.admin, "due", "--date", "2028-01-21", ok=False)
    assert "OVERDUE 2028-01-20  SOP-0001: periodic review" in out
    team.on("2026-09-01")
    team.qms(team.officer, "sign", "SOP-0001", "--meaning", "periodic-review", "--reason", "ok")
    record = team.status("2028-01-21", "SOP-0001")["SOP-0001"]
    assert (record["version"], record["next_review"]) == ("1", "2028-09-01")
    assert record["last_review"] == "2026-09-01" and record["overdue"] is False


def test_versions_only_increase_and_supersedes_names_the_approved_one(team: Team) -> None:
    team.on("2026-01-10")
    team.write_sop(1, "2026-01-20", "Receive every shipper at the pharmacy.")
    team.release_sop("2026-01-12", "2026-01-15")
    team.on("2026-02-01")
    team.write_sop(2, "2026-03-01", "Read the logger first.", supersedes=1)
    team.release_sop("2026-02-02", "2026-02-03")
    base = team.world.head()
    team.on("2026-04-01")
    stale = team.write_sop(3, "2026-05-01", "Read the logger and the label.", supersedes=1)
    back = team.write_sop(1, "2026-05-01", "Back to the start.")
    report = team.check(f"{base}..HEAD", ok=False)
    assert [(v["commit"], v["rule"]) for v in report["violations"]] == [
        (stale, "sop.supersedes"),
        (back, "sop.version-decreased"),
    ]
    assert 'supersedes: "SOP-0001 v2"' in report["violations"][0]["fix"]
    fixed = team.write_sop(3, "2026-05-01", "Read the logger and the label.", supersedes=2)
    assert team.check(f"{back}..{fixed}")["violations"] == []
