"""The SOP effective-date rule, from real signed histories.

An empty effective date means: effective on the day of the last required approval plus the
training window (the SOP's own `training.window_days`, else qms.yaml's default in force at that
approval). An explicit date counts as written, but never before the approval. `qms new`,
`qms approve`, `qms status`, `qms due` and the site all tell the same day and why.
"""

from __future__ import annotations

import re
from pathlib import Path

from toolkit.browser import article, visible_text
from toolkit.team import SOP, Team

BODY = "Receive every shipper at the pharmacy."


def _write(team: Team, effective: str | None, window: int | None) -> None:
    """Version 1 with this effective date (None: left empty) and training window (None: none)."""
    text = team.sop_text(1, "2000-01-01", BODY)
    date_line = "effective_date:" if effective is None else f'effective_date: "{effective}"'
    text = re.sub(r"(?m)^effective_date:.*$", date_line, text)
    window_line = "" if window is None else f"  window_days: {window}\n"
    text = re.sub(r"(?m)^  window_days: .*\n", window_line, text)
    team.world.commit_file(team.author, SOP, text, "version 1")


def _release(team: Team, approved_on: str) -> str:
    team.on("2026-01-12")
    team.qms(team.officer, "review", "SOP-0001", "--reason", "content checked")
    team.on(approved_on)
    return team.qms(team.admin, "approve", "SOP-0001", "--reason", "released")


def _default_window(team: Team, days: int) -> None:
    """qms.yaml's default training window, changed in a commit the admin signs."""
    text = (team.world.repo / "qms.yaml").read_text()
    changed = re.sub(r"(?m)^(  training_window_days: )\d+", rf"\g<1>{days}", text)
    assert changed != text
    team.sign_config(changed)


def test_a_new_sop_leaves_the_date_empty_and_says_what_empty_means(team: Team) -> None:
    team.on("2026-01-10")
    team.qms(team.author, "new", "sop", "--title", "Receipt of ATMPs")
    text = (team.world.repo / SOP).read_text()
    assert re.search(r"(?m)^effective_date:\s*$", text), "the date is left empty (null)"
    comment = " ".join(line for line in text.splitlines() if line.startswith("#"))
    assert "training.window_days" in comment and "last approval" in comment
    assert "qms.yaml" in comment  # where the default window comes from
    team.qms(team.author, "validate", SOP)
    # A date emptied by hand, as a quoted empty string, is accepted as empty too.
    (team.world.repo / SOP).write_text(text.replace("effective_date:", 'effective_date: ""', 1))
    team.qms(team.author, "validate", SOP)


def test_an_empty_date_means_approval_plus_the_sops_training_window(team: Team) -> None:
    team.on("2026-01-10")
    _write(team, None, 7)
    out = _release(team, "2026-01-15")
    assert (
        "SOP-0001 v1 becomes effective on 2026-01-22 "
        "(approved 2026-01-15 + 7-day training window)" in out
    )
    record = team.status("2026-01-21", "SOP-0001")["SOP-0001"]
    assert (record["state"], record["effective_date"]) == ("approved", None)
    assert record["effective_from"] == "2026-01-22"
    assert record["effective_basis"] == "approved 2026-01-15 + 7-day training window"
    upcoming = record["upcoming"]
    assert (upcoming["effective_from"], upcoming["effective_rule"]) == (
        "2026-01-22",
        "training-window",
    )
    assert [(d["what"], d["due"]) for d in record["due"]] == [
        ("v1 becomes effective", "2026-01-22")
    ]
    due = team.qms(team.admin, "due", "--date", "2026-01-20")
    assert "due     2026-01-22  SOP-0001: v1 becomes effective" in due
    assert "7-day training window" in due
    text = team.qms(team.admin, "status", "SOP-0001", "--date", "2026-01-20")
    assert "2026-01-22" in text and "training" in text

    record = team.status("2026-01-22", "SOP-0001")["SOP-0001"]
    assert (record["state"], record["effective_from"]) == ("effective", "2026-01-22")
    assert record["next_review"] == "2028-01-22"
    assert record["due"][0]["what"] == "periodic review"


def test_without_its_own_window_the_default_in_force_at_approval_counts(team: Team) -> None:
    team.on("2026-01-08")
    _default_window(team, 10)
    team.on("2026-01-10")
    _write(team, None, None)
    out = _release(team, "2026-01-15")
    assert "becomes effective on 2026-01-25 (approved 2026-01-15 + 10-day training window)" in out
    # A later change of the default does not move a date already derived from signed facts.
    team.on("2026-01-20")
    _default_window(team, 30)
    for day in ("2026-01-24", "2026-02-20"):
        record = team.status(day, "SOP-0001")["SOP-0001"]
        assert record["effective_from"] == "2026-01-25"
    assert team.status("2026-01-25", "SOP-0001")["SOP-0001"]["state"] == "effective"


def test_an_explicit_future_date_is_kept_and_named(team: Team) -> None:
    team.on("2026-01-10")
    _write(team, "2026-03-01", 7)
    out = _release(team, "2026-01-15")
    assert "SOP-0001 v1 becomes effective on its effective date 2026-03-01" in out
    record = team.status("2026-02-01", "SOP-0001")["SOP-0001"]
    assert (record["state"], record["effective_from"]) == ("approved", "2026-03-01")
    assert record["effective_basis"] == "effective date 2026-03-01"


def test_an_explicit_date_already_past_at_approval_warns_and_takes_effect_at_once(
    team: Team,
) -> None:
    team.on("2026-01-10")
    _write(team, "2026-01-11", 7)
    out = _release(team, "2026-01-15")
    assert (
        "warning: SOP-0001 v1 is effective immediately, from 2026-01-15: its effective date "
        "2026-01-11 had passed when it was approved, so there is no training window" in out
    )
    record = team.status("2026-01-15", "SOP-0001")["SOP-0001"]
    assert (record["state"], record["effective_from"]) == ("effective", "2026-01-15")
    assert record["versions"][0]["effective_rule"] == "approval"


def test_a_signature_that_leaves_the_approval_incomplete_says_what_is_missing(
    team: Team,
) -> None:
    team.on("2026-01-10")
    _write(team, None, 7)
    team.on("2026-01-12")
    out = team.qms(team.officer, "review", "SOP-0001", "--reason", "content checked")
    assert "SOP-0001 v1 is not approved yet: still needs 'approved' (0 of 1)" in out
    assert "becomes effective" not in out


def test_the_site_publishes_the_derived_date(team: Team, tmp_path: Path) -> None:
    team.on("2026-01-10")
    _write(team, None, 7)
    _release(team, "2026-01-15")
    before, after = tmp_path / "before", tmp_path / "after"
    team.qms(team.admin, "build", "--site-dir", str(before), "--date", "2026-01-20")
    team.qms(team.admin, "build", "--site-dir", str(after), "--date", "2026-01-22")

    def page(site: Path) -> str:
        found = [p for p in site.rglob("*.html") if "SOP-0001" in p.as_posix()]
        assert found, f"no page for SOP-0001 in {site}"
        return visible_text(article(found[0].read_text()))

    assert "becomes effective on 2026-01-22" in page(before)
    assert "Effective from 2026-01-22" in page(after)
    assert "Not yet effective" not in page(after)


def test_an_explicit_date_that_cuts_the_training_window_short_warns(team: Team) -> None:
    team.on("2026-01-10")
    _write(team, "2026-01-18", 7)
    out = _release(team, "2026-01-15")
    assert (
        "warning: SOP-0001 v1 becomes effective on its effective date 2026-01-18 "
        "(approved 2026-01-15): that leaves 3 of its 7-day training window" in out
    )


def test_an_approval_counts_on_main_from_the_merge_that_brought_it(team: Team) -> None:
    """The signer sets a signature's date. An approval made on a branch (or back-dated there)
    counts on main, and starts its training window, only from the merge that brought it."""
    world = team.world
    team.on("2026-01-10")
    _write(team, None, 7)
    world.git("switch", "-q", "-c", "release")
    _release(team, "2026-01-15")  # on the branch, dated 2026-01-15
    world.git("switch", "-q", "main")
    team.on("2026-02-01")
    with world.acting(team.admin):
        world.git("merge", "-q", "--no-ff", "--no-gpg-sign", "release", "-m", "Merge release")
    for day, state in (("2026-01-25", "draft"), ("2026-02-07", "approved")):
        record = team.status(day, "SOP-0001")["SOP-0001"]
        assert record["state"] == state, (day, record)
    record = team.status("2026-02-08", "SOP-0001")["SOP-0001"]
    assert (record["state"], record["effective_from"]) == ("effective", "2026-02-08")
    assert record["effective_basis"] == "approved 2026-02-01 + 7-day training window"
    # The signature block still shows the signer's own date.
    versions = record["versions"]
    assert [s["when"][:10] for s in versions[0]["signatures"]] == ["2026-01-12", "2026-01-15"]
