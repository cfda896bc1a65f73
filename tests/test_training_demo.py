"""The demo's training matrix, checked independently of the matrix code (a second engineer's
tests).

What each row should say is worked out here from raw facts only: the read-and-understood and
`recorded` signatures as `qms verify --format json` judges them (with the content each one signed,
read from the signature commit's own trailers), the session records at HEAD, the versions of each
document as `qms status --date D --format json` gives them, and the change control's signed
content. Then `qms training --date D --format json` must agree, row by row, on several days of the
demo's year; the story's own claims are checked, and the site's training page in a real Chromium.

A note on `qms verify`: a signature whose record changed afterwards is reported `superseded`
("valid for earlier content", as `qms log` words it). It still proves that its signer read and
understood the content it signed, so it counts here; only `invalid` signatures count for nothing.
Counting only `valid` ones would contradict the demo's own story (see
`test_a_superseded_acknowledgement_is_valid_for_the_content_it_signed`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitqms.demo.story import STORY_DAY
from toolkit.browser import FITS_SCREEN, chromium, http_server, open_page
from toolkit.cli import qms_cli
from toolkit.demo import Demo, pristine_demo
from toolkit.process import git

DAYS = (
    date(2026, 1, 12),
    date(2026, 1, 14),
    date(2026, 2, 20),
    date(2026, 5, 10),
    date(2026, 10, 10),
    date(2026, 10, 20),
    STORY_DAY,
    date(2027, 1, 15),
)
COUNTS = ("valid", "superseded")  # a signature that counts for the content it signed


@dataclass(frozen=True)
class Done:
    """One way a person was trained on one exact content: from `day` (before any approval)."""

    person: str
    content: str
    day: date
    how: str  # "acknowledged" or "session"
    record: str  # the document acknowledged, or the session
    commit: str  # the signature


@dataclass(frozen=True)
class Facts:
    dones: list[Done]
    carried: set[tuple[str, int]]  # (document, version) released with training_required: false
    since_january: set[str]  # people in the registry in January
    verify: dict[str, Any]


# --- raw facts ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return pristine_demo(tmp_path_factory)


def json_of(demo: Demo, *args: str, exit_codes: tuple[int, ...] = (0, 1)) -> Any:
    result = qms_cli(demo.repo, *args, "--format", "json", check=False)
    assert result.returncode in exit_codes, (args, result.stdout, result.stderr)
    return json.loads(result.stdout)


def day_of(stamp: str) -> date:
    return datetime.fromisoformat(stamp).astimezone(UTC).date()


def signed_contents(repo: Path, commit: str) -> dict[tuple[str, str], str]:
    """(record, version) -> content, from the QMS-Record/-Version/-Content trailers of a
    signature commit, in the order they stand."""
    found: dict[tuple[str, str], str] = {}
    record = version = None
    for line in git(repo, "show", "-s", "--format=%B", commit).splitlines():
        key, _, value = line.partition(": ")
        if key == "QMS-Record":
            record, version = value.strip(), None
        elif key == "QMS-Version":
            version = value.strip()
        elif key == "QMS-Content" and record is not None:
            found[(record, version or "")] = value.strip()
    return found


def acknowledgements(demo: Demo, verify: Mapping[str, Any]) -> list[Done]:
    found = []
    for s in verify["signatures"]:
        if s["meaning"] != "read-and-understood" or s["status"] not in COUNTS:
            continue
        content = signed_contents(demo.repo, s["commit"])[(s["record"], s["version"])]
        found.append(
            Done(s["person"], content, day_of(s["date"]), "acknowledged", s["record"], s["commit"])
        )
    return found


def sessions(demo: Demo, verify: Mapping[str, Any]) -> list[Done]:
    """Every recorded session at HEAD whose `recorded` signature is valid: each attendee on
    each covered content, from the later of the day it was held and the signature's day."""
    recorded = {
        s["record"]: s
        for s in verify["signatures"]
        if s["meaning"] == "recorded" and s["status"] == "valid"
    }
    names = git(demo.repo, "ls-tree", "--name-only", "HEAD", "training/").splitlines()
    found = []
    for name in names:
        if not re.fullmatch(r"training/TRN-\d{4}-\d{4}\.yaml", name):
            continue
        data = yaml.safe_load(git(demo.repo, "show", f"HEAD:{name}"))
        signature = recorded.get(data["id"])
        if signature is None:
            continue
        held = date.fromisoformat(str(data["held_on"]))
        day = max(held, day_of(signature["date"]))
        for attendee in data["attendees"]:
            for covered in data["documents"]:
                found.append(
                    Done(
                        attendee["person"],
                        covered["content"],
                        day,
                        "session",
                        data["id"],
                        signature["commit"],
                    )
                )
    return found


def carried_over(demo: Demo) -> set[tuple[str, int]]:
    found = set()
    for name in git(demo.repo, "ls-tree", "--name-only", "HEAD", "changes/").splitlines():
        if not name.endswith(".yaml"):
            continue
        data = yaml.safe_load(git(demo.repo, "show", f"HEAD:{name}"))
        default = (data.get("impact") or {}).get("training_required", True)
        for item in data.get("documents") or []:
            if item.get("training_required", default) is False:
                found.add((item["record"], int(item["version"])))
    return found


def registry_on(demo: Demo, day: date) -> dict[str, Any]:
    commit = git(demo.repo, "rev-list", "-1", f"--before={day}T23:59:59Z", "HEAD")
    data = yaml.safe_load(git(demo.repo, "show", f"{commit}:qms.yaml"))
    return {p["id"]: p for p in data["people"]}


@pytest.fixture(scope="module")
def facts(demo: Demo) -> Facts:
    verify = json_of(demo, "verify", exit_codes=(0,))
    dones = acknowledgements(demo, verify) + sessions(demo, verify)
    assert {d.how for d in dones} == {"acknowledged", "session"}
    return Facts(dones, carried_over(demo), set(registry_on(demo, date(2026, 1, 31))), verify)


@pytest.fixture(scope="module")
def matrices(demo: Demo) -> dict[date, tuple[int, dict[str, Any]]]:
    found = {}
    for day in DAYS:
        result = qms_cli(demo.repo, "training", "--date", str(day), "--format", "json", check=False)
        assert result.returncode in (0, 1), result.stderr
        found[day] = (result.returncode, json.loads(result.stdout))
    return found


@pytest.fixture(scope="module")
def statuses(demo: Demo) -> dict[date, dict[str, Any]]:
    """Day -> document -> its record in `qms status --date D --format json`."""
    found = {}
    for day in DAYS:
        value = json_of(demo, "status", "--date", str(day))
        found[day] = {r["id"]: r for r in value["records"] if r.get("versions") is not None}
    return found


# --- the expectation ------------------------------------------------------------------------


def versions_of(record: Mapping[str, Any]) -> dict[int, dict[str, Any]]:
    found = {v["version"]: v for v in record["versions"]}
    if record.get("upcoming"):
        found.setdefault(record["upcoming"]["version"], record["upcoming"])
    return found


def expected(
    facts: Facts, record: Mapping[str, Any], version: int, person: str, day: date
) -> list[tuple[date, Done, int | None]]:
    """The earliest ways `person` was trained on `version` by `day`: (trained_on, how, the
    version carried over from, if any). Empty: not trained."""
    versions = versions_of(record)
    this = versions[version]
    approved = date.fromisoformat(this["approved_on"])
    direct = [
        (max(d.day, approved), d, None)
        for d in facts.dones
        if d.person == person and d.content == this["content"] and d.day <= day
    ]
    carried = []
    earlier = [v for v in versions if v < version]
    if not direct and (record["id"], version) in facts.carried and earlier:
        before = max(earlier)
        carried = [
            (max(on, approved), d, before)
            for on, d, _ in expected(facts, record, before, person, day)
        ]
    found = direct or carried
    first = min((on for on, _, _ in found), default=None)
    return [item for item in found if item[0] == first]


def check_row(facts: Facts, records: Mapping[str, Any], row: Mapping[str, Any], day: date) -> None:
    record = records[row["document"]]
    versions = versions_of(record)
    this = versions.get(row["version"])
    assert this is not None, f"{row['document']} v{row['version']} is not in qms status"
    assert row["content"] == this["content"]
    assert row["effective_from"] == this["effective_from"]
    assert row["in_force"] == (this["status"] == "effective")
    if not row["in_force"]:
        assert record["upcoming"]["version"] == row["version"]
    if row["person"] in facts.since_january:
        assert row["due"] == this["effective_from"]
    ways = expected(facts, record, row["version"], row["person"], day)
    if not ways:
        overdue = day > date.fromisoformat(row["due"])
        assert row["status"] == ("overdue" if overdue else "due")
        assert row["trained_on"] is None and row["by"] is None
        return
    assert row["status"] == "trained"
    on = ways[0][0].isoformat()
    assert row["trained_on"] == on and row["by"]["on"] == on
    by = row["by"]
    allowed = [
        ("carried-over" if was else done.how, done.record, done.commit, was)
        for _, done, was in ways
    ]
    assert (by["how"], by["record"], by["commit"], by["from_version"]) in allowed, allowed


# --- 1. the matrix agrees with the signatures ----------------------------------------------


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_every_row_agrees_with_the_signatures(
    facts: Facts,
    matrices: dict[date, tuple[int, dict[str, Any]]],
    statuses: dict[date, dict[str, Any]],
    day: date,
) -> None:
    code, matrix = matrices[day]
    assert matrix["date"] == day.isoformat()
    assert matrix["rows"], f"no training rows on {day}"
    wrong = {}
    for row in matrix["rows"]:
        try:
            check_row(facts, statuses[day], row, day)
        except AssertionError as error:
            wrong[f"{row['person']} {row['document']} v{row['version']}"] = (str(error), row)
    assert not wrong, json.dumps(wrong, indent=1, default=str)
    overdue = [r for r in matrix["rows"] if r["status"] == "overdue"]
    assert matrix["overdue"] == len(overdue)
    assert code == (1 if overdue else 0)


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_no_one_trained_on_a_version_in_the_matrix_is_left_out(
    facts: Facts,
    matrices: dict[date, tuple[int, dict[str, Any]]],
    statuses: dict[date, dict[str, Any]],
    day: date,
) -> None:
    """Whoever is in the matrix that day and signed (or attended a session on) the content of
    a version it lists has a row for that version."""
    rows = matrices[day][1]["rows"]
    present = {r["person"] for r in rows}
    listed = {(r["content"]): (r["document"], r["version"]) for r in rows}
    have = {(r["person"], r["content"]) for r in rows}
    missing = {
        (d.person, *listed[d.content])
        for d in facts.dones
        if d.day <= day and d.person in present and d.content in listed
        if (d.person, d.content) not in have
    }
    assert not missing


def test_carried_over_rows_are_sop_0006_v3_only(
    facts: Facts, matrices: dict[date, tuple[int, dict[str, Any]]]
) -> None:
    """CC-2026-0001 lists SOP-0006 v3 with training_required: false, and nothing else; the
    change control is approved by a signature that counts."""
    assert facts.carried == {("SOP-0006", 3)}
    approvals = [
        s
        for s in facts.verify["signatures"]
        if s["record"] == "CC-2026-0001" and s["meaning"] == "approved" and s["status"] in COUNTS
    ]
    assert approvals, "CC-2026-0001 has no approval that counts"
    seen = 0
    for _, matrix in matrices.values():
        for row in matrix["rows"]:
            if (row["by"] or {}).get("how") == "carried-over":
                assert (row["document"], row["version"], row["by"]["from_version"]) == (
                    "SOP-0006",
                    3,
                    2,
                )
                seen += 1
    assert seen, "no training carried over to SOP-0006 v3 on any day"


def test_a_superseded_acknowledgement_is_valid_for_the_content_it_signed(
    demo: Demo, facts: Facts
) -> None:
    """Why `superseded` counts: Rossi's acknowledgement of SOP-0005 v2 is reported superseded
    (SOP-0005 changed after it, to v3), `qms log` calls it valid for earlier content, and the
    story has her trained on v2."""
    rossi = [
        s
        for s in facts.verify["signatures"]
        if s["person"] == "p.rossi"
        and s["record"] == "SOP-0005"
        and s["version"] == "2"
        and s["meaning"] == "read-and-understood"
    ]
    assert [s["status"] for s in rossi] == ["superseded"]
    log = json_of(demo, "log", "SOP-0005", exit_codes=(0,))
    [entry] = [e for e in log["entries"] if e["commit"] == rossi[0]["commit"]]
    assert entry["verdict"].startswith("valid for earlier content")


# --- the story --------------------------------------------------------------------------------


def rows_of(matrix: Mapping[str, Any], person: str) -> list[dict[str, Any]]:
    return [r for r in matrix["rows"] if r["person"] == person]


def test_on_the_story_day_only_rossi_is_overdue_on_sop_0005_v3(
    demo: Demo, matrices: dict[date, tuple[int, dict[str, Any]]]
) -> None:
    assert demo.today == STORY_DAY
    code, matrix = matrices[STORY_DAY]
    overdue = [
        (r["person"], r["document"], r["version"])
        for r in matrix["rows"]
        if r["status"] == "overdue"
    ]
    assert overdue == [("p.rossi", "SOP-0005", 3)]
    assert code == 1 and matrix["overdue"] == 1


def test_the_new_starter_is_due_within_her_window(
    demo: Demo, matrices: dict[date, tuple[int, dict[str, Any]]]
) -> None:
    added = git(demo.repo, "log", "--reverse", "--format=%cs", "-G", "n.achebe", "--", "qms.yaml")
    joined = date.fromisoformat(added.splitlines()[0])
    assert joined == date(2026, 11, 2)
    config = yaml.safe_load(git(demo.repo, "show", "HEAD:qms.yaml"))
    window = config.get("training", {}).get("new_starter_days", 30)
    mine = rows_of(matrices[STORY_DAY][1], "n.achebe")
    assert mine, "the new starter has nothing to train on"
    for row in mine:
        assert row["status"] == "due", row
        due = max(date.fromisoformat(row["effective_from"]), joined + timedelta(days=window))
        assert row["due"] == due.isoformat() == "2026-12-02", row
    assert not any(rows_of(m, "n.achebe") for day, (_, m) in matrices.items() if day < joined)


def test_the_leaver_is_in_the_matrix_until_he_left(demo: Demo) -> None:
    before = json_of(demo, "training", "--date", "2026-09-29")
    after = json_of(demo, "training", "--date", "2026-10-01")
    assert rows_of(before, "d.moreau")
    assert not rows_of(after, "d.moreau")
    refused = qms_cli(
        demo.repo, "training", "--person", "d.moreau", "--date", "2026-10-01", check=False
    )
    assert refused.returncode not in (0, 1), refused.stdout
    assert "not a person in the training matrix on 2026-10-01" in refused.stderr


def test_an_acknowledgement_of_v2_does_not_count_for_v3(
    matrices: dict[date, tuple[int, dict[str, Any]]],
) -> None:
    def rossi(day: date, version: int) -> dict[str, Any]:
        [row] = [
            r
            for r in rows_of(matrices[day][1], "p.rossi")
            if r["document"] == "SOP-0005" and r["version"] == version
        ]
        return row

    v2 = rossi(date(2026, 5, 10), 2)
    assert v2["status"] == "trained" and v2["by"]["how"] == "acknowledged"
    v3 = rossi(date(2026, 10, 20), 3)
    assert v3["status"] == "overdue" and v3["by"] is None
    assert matrices[date(2026, 10, 20)][0] == 1


# --- 2. was P trained on the version in force that day -----------------------------------------


def test_the_pharmacy_technician_was_trained_in_a_session_the_day_after(
    demo: Demo, facts: Facts
) -> None:
    before = json_of(demo, "training", "--person", "e.fischer", "--date", "2026-01-13")
    in_force = [r for r in before["rows"] if r["in_force"]]
    assert in_force and {r["person"] for r in before["rows"]} == {"e.fischer"}
    assert all(r["status"] != "trained" for r in before["rows"]), before["rows"]
    after = json_of(demo, "training", "--person", "e.fischer", "--date", "2026-01-15")
    in_force = [r for r in after["rows"] if r["in_force"]]
    assert in_force
    for row in in_force:
        assert row["status"] == "trained", row
        assert row["by"]["how"] == "session"
        assert re.fullmatch(r"TRN-2026-000\d", row["by"]["record"]), row
        assert row["trained_on"] == "2026-01-14"
        assert any(
            d.record == row["by"]["record"]
            and d.person == "e.fischer"
            and d.content == row["content"]
            for d in facts.dones
        ), row
    text = qms_cli(demo.repo, "training", "--person", "e.fischer", "--date", "2026-01-15")
    assert "session TRN-2026-000" in text.stdout and "OVERDUE" not in text.stdout


# --- 3. the site's training page in a real browser --------------------------------------------

SECTION_ROWS = """
const [title] = arguments;
const h = [...document.querySelectorAll('article h2')].find(e => e.textContent.trim() === title);
if (!h) return null;
let e = h.nextElementSibling;
while (e && !e.querySelector('table') && e.tagName !== 'TABLE' && e.tagName !== 'H2') {
  e = e.nextElementSibling;
}
if (!e || e.tagName === 'H2') return [];
const table = e.tagName === 'TABLE' ? e : e.querySelector('table');
return [...table.querySelectorAll('tbody tr')].map(
  tr => [...tr.children].map(td => td.innerText.replace(/\\s+/g, ' ').trim()));
"""


@pytest.fixture(scope="module")
def browser(demo: Demo) -> Iterator[tuple[Any, str]]:
    with http_server(demo.site) as base:
        driver: Any = chromium()
        try:
            yield driver, base
        finally:
            driver.quit()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_training_page_fits_the_screen(browser: tuple[Any, str], width: int) -> None:
    driver, base = browser
    open_page(driver, base + "training.html", width)
    seen = driver.execute_script(FITS_SCREEN)
    assert seen["width"] == width
    assert seen["tables"] >= 3
    assert not seen["problems"], seen["problems"]


def test_the_training_page_and_sop_0005_say_what_the_matrix_says(
    browser: tuple[Any, str], matrices: dict[date, tuple[int, dict[str, Any]]]
) -> None:
    driver, base = browser
    matrix = matrices[STORY_DAY][1]
    open_page(driver, base + "training.html", 1280)
    page = " ".join(driver.execute_script("return document.body.innerText").split())
    assert f"Training on {STORY_DAY}" in page
    overdue = driver.execute_script(SECTION_ROWS, "Overdue")
    wanted = [r for r in matrix["rows"] if r["status"] == "overdue"]
    assert len(overdue) == len(wanted) == 1
    for cells, row in zip(overdue, wanted, strict=True):
        assert row["name"] in " ".join(cells) and row["person"] in " ".join(cells)
        assert f"{row['document']} v{row['version']}" in cells
    assert "Dr. Paola Rossi" in " ".join(overdue[0]) and "SOP-0005 v3" in overdue[0]
    by_document = driver.execute_script(SECTION_ROWS, "Compliance by document")
    assert sorted(by_document) == sorted(
        [t["name"], f"{t['trained']} of {t['required']}", str(t["due"]), str(t["overdue"])]
        for t in matrix["documents"]
    )
    [tally] = [t for t in matrix["documents"] if t["name"] == "SOP-0005 v3"]
    said = f"{tally['trained']} of {tally['required']} trained on version 3"
    said += f", {tally['overdue']} overdue" if tally["overdue"] else ""
    open_page(driver, base + "sops/SOP-0005.html", 1280)
    page = " ".join(driver.execute_script("return document.body.innerText").split())
    assert said in page
