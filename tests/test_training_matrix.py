"""The training matrix (issue 21, step 3), tested from its specification by a second engineer:
`qms training` joins each document version in force (or approved, effective later) with the
people in its training audiences on the day, judged by the registry in force that day, and
with their own read-and-understood signatures on the exact content (or training carried over
by an approved change control that said no retraining); `qms due` lists the untrained rows.

The story (built once, copied per test): SOP-0001 v1 for the pharmacists, effective
2026-02-20, reviewed 2026-02-03 and approved 2026-02-04; Dr. Johan Lindqvist and Dr. Paola
Rossi are pharmacists from 2026-02-02, before the approval. Real signed history, real keys
(tests/toolkit); insiders attack with plain git."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from test_acknowledge import MEANING, released
from test_change_control import CC_FILE, IMPACT, advance, approve_cc, edit, new_cc, sop_v2
from toolkit.cli import qms
from toolkit.people import Person
from toolkit.team import Team, build_team
from toolkit.world import SOP

DOC = "SOP-0001"
EFFECTIVE = "2026-02-20"  # v1's effective day
CSV_HEADER = (
    "person,name,document,version,in_force,effective_from,audiences,status,due,trained_on,by"
)
NO_RETRAINING = IMPACT.replace(
    '  training: "Pharmacy staff read and understand v2 before it takes effect."\n',
    '  training: "No retraining: v2 only renames a form field."\n  training_required: false\n',
)
assert "training_required: false" in NO_RETRAINING


def story(team: Team) -> None:
    """`released` (test_acknowledge) with a second pharmacist, Dr. Paola Rossi, who signs."""
    team.on("2026-02-02")
    rossi = team.world.person("p.rossi", "Dr. Paola Rossi")
    team.qms(
        team.admin,
        *("people", "add", "p.rossi", "--name", rossi.name, "--email", rossi.email),
        *("--role", "pharmacist", "--audience", "pharmacists", "--reason", "deputy pharmacist"),
    )
    team.qms(team.admin, "keys", "add", "p.rossi", str(rossi.pub), "--reason", "new signer")
    released(team)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Team:
    return build_team(tmp_path_factory, story)


@pytest.fixture
def team(built: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Team:
    return built.copy(tmp_path, monkeypatch)


# -- helpers -------------------------------------------------------------------------------------


def rossi(team: Team) -> Person:
    return team.world.people["p.rossi"]


def run(team: Team, *args: str) -> tuple[int, str, str]:
    """A qms command as the admin: its exit code, stdout and stderr (never a traceback)."""
    with team.world.acting(team.admin):
        result = qms(*args, repo=team.world.repo)
    assert "Traceback" not in result.output + result.stderr, result.output + result.stderr
    return result.exit_code, result.output, result.stderr


def matrix(team: Team, day: str, *args: str) -> tuple[int, dict[str, Any]]:
    """`qms training --date day --format json` with `args`: exit code and report."""
    code, out, err = run(team, "training", "--date", day, "--format", "json", *args)
    assert code in (0, 1), (code, out, err)
    return code, dict(json.loads(out))


def rows(report: dict[str, Any]) -> dict[tuple[str, int], dict[str, Any]]:
    """The report's rows by (person, version); one document in this story."""
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for row in report["rows"]:
        assert row["document"] == DOC, row
        key = (row["person"], row["version"])
        assert key not in found, f"two rows for {key}"
        found[key] = row
    return found


def statuses(team: Team, day: str, *args: str) -> dict[tuple[str, int], str]:
    """{(person, version): status} on `day`, checking the exit code against the rows."""
    code, report = matrix(team, day, *args)
    result = {key: row["status"] for key, row in rows(report).items()}
    overdue = sum(1 for status in result.values() if status == "overdue")
    assert report["overdue"] == overdue, report
    assert code == (1 if overdue else 0), (day, args, code, result)
    return result


def counts(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in items}


def due_items(team: Team, day: str) -> list[dict[str, Any]]:
    """`qms due --date day --format json`: the training items (what starts 'training of')."""
    code, out, err = run(team, "due", "--date", day, "--format", "json")
    assert code in (0, 1), (code, out, err)
    items = json.loads(out)["items"]
    return [dict(i) for i in items if str(i.get("what", "")).startswith("training of")]


def acknowledge(team: Team, person: Person, day: str) -> str:
    team.on(day)
    out = team.qms(person, "acknowledge", DOC)
    assert f"signed '{MEANING}' for {DOC}" in out, out
    return team.world.head()


def set_audience(team: Team, person: str, audience: str, day: str) -> None:
    team.on(day)
    team.qms(team.admin, "people", "set", person, "--audience", audience, "--reason", "rota")


def set_training(team: Team, day: str, training: str) -> None:
    """qms.yaml's `training:` section set to `training` (indented lines), admin-signed."""
    team.on(day)
    text = (team.world.repo / "qms.yaml").read_text()
    text = re.sub(r"(?ms)^training:\n(  .*?\n)+\n?", "", text)
    text = text.replace("\naudiences:\n", f"\ntraining:\n{training}\naudiences:\n", 1)
    team.sign_config(text)


def version_2(team: Team, drafted: str, effective: str) -> None:
    """v2 of SOP-0001 drafted by the author for the same audience (no change control of this
    repository: the toolkit's legacy reference)."""
    team.on(drafted)
    text = team.sop_text(2, effective, "Read the logger before opening.", supersedes=1)
    assert "audience: [pharmacists]" in text
    team.world.commit_file(team.author, SOP, text, "version 2")


def assert_unknown_person(team: Team, person: str, day: str) -> None:
    code, out, err = run(team, "training", "--person", person, "--date", day, "--format", "json")
    assert code in (1, 2), (code, out, err)
    assert person in out + err, (out, err)
    assert '"rows"' not in out, "an error, not an empty matrix"


# -- 1. the matrix, day by day -------------------------------------------------------------------


def test_rows_follow_the_signatures_on_past_and_future_days(team: Team) -> None:
    approving = team.world.git("log", "-1", "--format=%H", "--grep=QMS-Meaning: approved")
    content = hashlib.sha256(team.world.content(SOP, approving)).hexdigest()
    signed = acknowledge(team, rossi(team), "2026-02-10")
    late = acknowledge(team, team.owner, "2026-02-25")
    head = team.world.head()

    # In review on 2026-02-03: no rows at all; approved on 02-04, rows before it takes effect.
    code, report = matrix(team, "2026-02-03")
    assert (code, report["rows"], report["overdue"]) == (0, [], 0), report
    code, report = matrix(team, "2026-02-05")
    assert (report["date"], report["commit"], code) == ("2026-02-05", head, 0), report
    found = rows(report)
    assert set(found) == {("j.lindqvist", 1), ("p.rossi", 1)}, found
    row = found[("j.lindqvist", 1)]
    assert row["content"].removeprefix("sha256:") == content, row
    assert {k: row[k] for k in row if k != "content"} == {
        "person": "j.lindqvist",
        "name": "Dr. Johan Lindqvist",
        "document": DOC,
        "title": "Receipt of ATMPs",
        "version": 1,
        "in_force": False,
        "effective_from": EFFECTIVE,
        "audiences": ["pharmacists"],
        "due": EFFECTIVE,
        "status": "due",
        "trained_on": None,
        "by": None,
    }

    # Rossi trained from the day she signed; Lindqvist due on the due day, overdue after it.
    assert statuses(team, "2026-02-09") == {("j.lindqvist", 1): "due", ("p.rossi", 1): "due"}
    code, report = matrix(team, "2026-02-10")
    row = rows(report)[("p.rossi", 1)]
    assert (row["status"], row["trained_on"], row["in_force"]) == ("trained", "2026-02-10", False)
    assert row["by"]["how"] == "acknowledged" and row["by"]["on"] == "2026-02-10", row
    assert row["by"]["commit"] == signed and row["by"]["record"] == DOC, row
    code, report = matrix(team, EFFECTIVE)
    assert code == 0 and rows(report)[("j.lindqvist", 1)]["status"] == "due", report
    assert rows(report)[("j.lindqvist", 1)]["in_force"] is True
    code, report = matrix(team, "2026-02-21")
    assert code == 1 and report["overdue"] == 1, report
    assert rows(report)[("j.lindqvist", 1)]["status"] == "overdue"
    pharmacists = counts(report["audiences"])["pharmacists"]
    assert (pharmacists["required"], pharmacists["trained"], pharmacists["overdue"]) == (2, 1, 1)
    document = counts(report["documents"])[f"{DOC} v1"]
    assert (document["required"], document["trained"], document["overdue"]) == (2, 1, 1)
    assert statuses(team, "2026-02-24") == {
        ("j.lindqvist", 1): "overdue",
        ("p.rossi", 1): "trained",
    }
    code, report = matrix(team, "2026-02-25")
    row = rows(report)[("j.lindqvist", 1)]
    assert (code, row["status"], row["trained_on"]) == (0, "trained", "2026-02-25"), row
    assert row["by"]["commit"] == late
    assert statuses(team, "2026-06-30") == {
        ("j.lindqvist", 1): "trained",
        ("p.rossi", 1): "trained",
    }

    # The inspector's question, person by person: the exit code follows the shown rows only.
    code, report = matrix(team, "2026-02-21", "--person", "j.lindqvist")
    assert code == 1 and [r["status"] for r in report["rows"]] == ["overdue"], report
    code, report = matrix(team, "2026-02-21", "--person", "p.rossi")
    assert code == 0 and [r["status"] for r in report["rows"]] == ["trained"], report


def test_an_acknowledgement_made_before_the_approval_counts_from_the_approval(
    team: Team,
) -> None:
    version_2(team, "2026-03-01", "2026-04-01")
    team.on("2026-03-02")
    team.qms(team.officer, "review", DOC, "--reason", "content checked")
    team.on("2026-03-03")  # in review: qms acknowledge refuses it, plain git does not
    world = team.world
    world.raw_commit(rossi(team), world.trailers(DOC, SOP, MEANING, version="2"))
    # Not approved yet: v2 has no rows (rule 2), whatever was signed.
    found = rows(matrix(team, "2026-03-04")[1])
    assert set(found) == {("j.lindqvist", 1), ("p.rossi", 1)}, found
    team.on("2026-03-05")
    team.qms(team.admin, "approve", DOC, "--reason", "released")
    found = rows(matrix(team, "2026-03-05")[1])
    row = found[("p.rossi", 2)]
    assert (row["status"], row["trained_on"], row["in_force"]) == ("trained", "2026-03-05", False)
    assert found[("j.lindqvist", 2)]["status"] == "due"
    assert found[("j.lindqvist", 2)]["due"] == "2026-04-01"


def test_a_revision_needs_retraining_and_a_superseded_version_drops_out(team: Team) -> None:
    acknowledge(team, team.owner, "2026-02-10")
    acknowledge(team, rossi(team), "2026-02-11")
    version_2(team, "2026-03-01", "2026-04-01")
    assert statuses(team, "2026-03-01") == {
        ("j.lindqvist", 1): "trained",
        ("p.rossi", 1): "trained",
    }  # a draft of v2: no rows for it
    team.release_sop("2026-03-02", "2026-03-03")

    code, report = matrix(team, "2026-03-10")
    found = rows(report)
    assert code == 0 and set(found) == {
        ("j.lindqvist", 1),
        ("p.rossi", 1),
        ("j.lindqvist", 2),
        ("p.rossi", 2),
    }, found
    for person in ("j.lindqvist", "p.rossi"):
        assert found[(person, 1)]["in_force"] is True and found[(person, 1)]["status"] == "trained"
        upcoming = found[(person, 2)]
        assert (upcoming["in_force"], upcoming["status"]) == (False, "due"), upcoming
        assert (upcoming["due"], upcoming["effective_from"]) == ("2026-04-01", "2026-04-01")
        assert (upcoming["trained_on"], upcoming["by"]) == (None, None), upcoming
    pharmacists = counts(report["audiences"])["pharmacists"]  # versions in force only
    assert (pharmacists["required"], pharmacists["trained"], pharmacists["overdue"]) == (2, 2, 0)
    documents = counts(report["documents"])
    assert (documents[f"{DOC} v1"]["required"], documents[f"{DOC} v1"]["trained"]) == (2, 2)
    assert (documents[f"{DOC} v2"]["required"], documents[f"{DOC} v2"]["trained"]) == (2, 0)
    upcoming_items = {i["owner"]: i for i in due_items(team, "2026-03-10")}
    assert set(upcoming_items) == {"j.lindqvist", "p.rossi"}, upcoming_items
    item = upcoming_items["p.rossi"]
    assert item == {
        **item,
        "record": DOC,
        "what": "training of p.rossi on v2",
        "due": "2026-04-01",
        "overdue": False,
    }

    # v2 in force: v1 superseded, no rows for it; due on the effective day, overdue after it.
    assert statuses(team, "2026-04-01") == {("j.lindqvist", 2): "due", ("p.rossi", 2): "due"}
    assert statuses(team, "2026-04-02") == {
        ("j.lindqvist", 2): "overdue",
        ("p.rossi", 2): "overdue",
    }
    acknowledge(team, team.owner, "2026-04-03")
    assert statuses(team, "2026-04-03") == {
        ("j.lindqvist", 2): "trained",
        ("p.rossi", 2): "overdue",
    }
    assert statuses(team, "2026-04-02")[("j.lindqvist", 2)] == "overdue"  # the past stays
    items = due_items(team, "2026-04-03")
    assert [(i["owner"], i["what"], i["overdue"]) for i in items] == [
        ("p.rossi", "training of p.rossi on v2", True)
    ], items


# -- 2. who is required --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("joins", "due"),
    [
        ("2026-03-01", "2026-03-31"),  # after the effective day: 30 days from joining
        ("2026-02-10", "2026-03-12"),  # approved, not yet effective: 30 days still later
    ],
)
def test_a_new_starter_is_due_new_starter_days_after_joining(
    team: Team, joins: str, due: str
) -> None:
    set_audience(team, "m.okafor", "pharmacists", joins)
    day_before = {"2026-03-01": "2026-02-28", "2026-02-10": "2026-02-09"}[joins]
    assert ("m.okafor", 1) not in statuses(team, day_before)
    found = rows(matrix(team, joins)[1])
    row = found[("m.okafor", 1)]
    assert (row["status"], row["due"], row["audiences"]) == ("due", due, ["pharmacists"]), row
    assert found[("j.lindqvist", 1)]["due"] == EFFECTIVE  # in the audience before the approval
    assert statuses(team, due)[("m.okafor", 1)] == "due"
    after = {"2026-03-31": "2026-04-01", "2026-03-12": "2026-03-13"}[due]
    assert statuses(team, after)[("m.okafor", 1)] == "overdue"


def test_roles_imply_audiences_and_new_starter_days_come_from_qms_yaml(team: Team) -> None:
    set_training(
        team,
        "2026-03-01",
        "  new_starter_days: 10\n  role_audiences:\n    sop-reviewer: [pharmacists]\n",
    )
    found = rows(matrix(team, "2026-03-01")[1])
    row = found[("m.okafor", 1)]  # a sop-reviewer: a pharmacist by role from today
    assert (row["status"], row["due"], row["audiences"]) == ("due", "2026-03-11", ["pharmacists"])
    assert ("l.santos", 1) not in found and ("a.weber", 1) not in found
    assert ("m.okafor", 1) not in rows(matrix(team, "2026-02-28")[1])
    assert statuses(team, "2026-03-12")[("m.okafor", 1)] == "overdue"


def test_a_back_dated_joined_day_does_not_make_a_new_starter_due_earlier(team: Team) -> None:
    """Joining is dated by the registry commit that records it, never by a claim in the file."""
    team.on("2026-03-01")
    team.qms(
        team.admin,
        *("people", "set", "m.okafor", "--audience", "pharmacists", "--joined", "2026-01-05"),
        *("--reason", "was a pharmacist all along"),
    )
    assert ("m.okafor", 1) not in rows(matrix(team, "2026-02-21")[1])  # the past stays
    row = rows(matrix(team, "2026-03-01")[1])[("m.okafor", 1)]
    assert (row["status"], row["due"]) == ("due", "2026-03-31"), row


def test_an_audience_held_twice_is_named_once(team: Team) -> None:
    set_training(team, "2026-03-01", "  role_audiences:\n    pharmacist: [pharmacists]\n")
    found = rows(matrix(team, "2026-03-01")[1])
    assert set(found) == {("j.lindqvist", 1), ("p.rossi", 1)}, found
    assert [r["audiences"] for r in found.values()] == [["pharmacists"], ["pharmacists"]]
    assert found[("p.rossi", 1)]["due"] == EFFECTIVE  # holding it twice is not a new start


def test_a_retired_document_has_no_rows_from_its_retirement(team: Team) -> None:
    team.on("2026-03-01")
    team.qms(team.admin, "sign", DOC, "--meaning", "retired", "--reason", "replaced")
    assert statuses(team, "2026-02-28") == {
        ("j.lindqvist", 1): "overdue",
        ("p.rossi", 1): "overdue",
    }
    code, report = matrix(team, "2026-03-02")
    assert (code, report["rows"], report["overdue"]) == (0, [], 0), report
    assert due_items(team, "2026-03-02") == []


def test_a_person_who_has_not_joined_yet_is_not_in_the_matrix(team: Team) -> None:
    team.on("2026-03-01")
    team.qms(
        team.admin,
        *("people", "set", "m.okafor", "--audience", "pharmacists", "--joined", "2026-03-15"),
        *("--reason", "starts on the 15th"),
    )
    assert ("m.okafor", 1) not in rows(matrix(team, "2026-03-10")[1])
    assert ("m.okafor", 1) in rows(matrix(team, "2026-03-16")[1])


def test_filters_and_formats(team: Team) -> None:
    acknowledge(team, rossi(team), "2026-02-10")
    code, report = matrix(team, "2026-02-21", "--document", DOC)
    assert code == 1 and len(report["rows"]) == 2, report
    code, report = matrix(team, "2026-02-21", "--audience", "pharmacists")
    assert code == 1 and len(report["rows"]) == 2, report
    code, report = matrix(team, "2026-02-21", "--audience", "nurses")
    assert (code, report["rows"]) == (0, []), report

    code, out, _ = run(team, "training", "--date", "2026-02-21", "--format", "csv")
    assert code == 1
    assert out.splitlines()[0] == CSV_HEADER, out
    table = {r["person"]: r for r in csv.DictReader(io.StringIO(out))}
    assert set(table) == {"j.lindqvist", "p.rossi"}, out
    lindqvist, rossi_row = table["j.lindqvist"], table["p.rossi"]
    assert (lindqvist["status"], lindqvist["due"], lindqvist["trained_on"]) == (
        "overdue",
        EFFECTIVE,
        "",
    )
    assert (lindqvist["document"], lindqvist["version"], lindqvist["name"]) == (
        DOC,
        "1",
        "Dr. Johan Lindqvist",
    )
    assert (rossi_row["status"], rossi_row["trained_on"]) == ("trained", "2026-02-10")
    assert rossi_row["by"] and not lindqvist["by"], table  # its form is not specified

    code, out, _ = run(team, "training", "--date", "2026-02-21")
    assert code == 1 and "Dr. Johan Lindqvist" in out and "overdue" in out, out


def test_a_person_id_not_in_the_registry_is_an_error(team: Team) -> None:
    assert_unknown_person(team, "nobody.here", "2026-02-21")


def test_a_registered_person_in_no_audience_has_no_row_and_is_told_so(team: Team) -> None:
    """Rule 7, as decided after review: a registered person in no audience is in the matrix
    with nothing required (exit 0, said in words); only a person not registered, not yet
    joined or gone is an error."""
    assert "a.weber" not in {r["person"] for r in matrix(team, "2026-02-21")[1]["rows"]}
    out = team.qms(team.admin, "training", "--person", "a.weber", "--date", "2026-02-21")
    assert "a.weber is in no training audience on 2026-02-21" in out, out


# -- 3. carry-over by change control -------------------------------------------------------------


def change_control_v2(team: Team, impact: str) -> None:
    """CC-2026-0001 assessed with `impact` and approved on 2026-03-03 listing SOP-0001 v2; v2
    drafted on 2026-03-04, naming it, effective 2026-04-01 (not yet released)."""
    new_cc(team, "2026-03-01")
    team.on("2026-03-02")
    edit(team, team.officer, "impact", classification="classification: major", impact=impact)
    advance(team, team.officer, "impact-assessed", "2026-03-02")
    approve_cc(team, "2026-03-03", (DOC, 2))
    sop_v2(team, "2026-03-04", "2026-04-01")


def test_an_approved_change_control_without_retraining_carries_training_over(
    team: Team,
) -> None:
    acknowledge(team, rossi(team), "2026-02-10")
    change_control_v2(team, NO_RETRAINING)
    team.release_sop("2026-03-05", "2026-03-06")
    upcoming = team.status("2026-03-10", DOC)[DOC]["upcoming"]
    assert upcoming and upcoming["version"] == 2, upcoming

    found = rows(matrix(team, "2026-03-10")[1])
    row = found[("p.rossi", 2)]
    assert (row["status"], row["in_force"]) == ("trained", False), row
    assert (row["by"]["how"], row["by"]["from_version"]) == ("carried-over", 1), row
    assert found[("j.lindqvist", 2)]["status"] == "due"  # nothing to carry over
    assert statuses(team, "2026-04-02") == {
        ("j.lindqvist", 2): "overdue",
        ("p.rossi", 2): "trained",
    }


@pytest.mark.parametrize("sign", [False, True], ids=["unsigned", "authored-not-approved"])
def test_a_flag_edited_into_an_approved_change_control_carries_nothing(
    team: Team, sign: bool
) -> None:
    acknowledge(team, rossi(team), "2026-02-10")
    change_control_v2(team, IMPACT)  # approved as it stands: staff train again
    team.release_sop("2026-03-05", "2026-03-06")
    upcoming = team.status("2026-03-10", DOC)[DOC]["upcoming"]
    assert upcoming and upcoming["version"] == 2, upcoming
    # After the release, the officer edits the flag in: committed, never approved.
    team.on("2026-03-07")
    edit(team, team.officer, "no retraining after all", sign=sign, impact=NO_RETRAINING)
    assert "training_required: false" in (team.world.repo / CC_FILE).read_text()
    upcoming = team.status("2026-03-10", DOC)[DOC]["upcoming"]
    assert upcoming and upcoming["version"] == 2, upcoming

    found = rows(matrix(team, "2026-03-10")[1])
    row = found[("p.rossi", 2)]
    assert (row["status"], row["by"]) == ("due", None), row
    assert statuses(team, "2026-04-02") == {
        ("j.lindqvist", 2): "overdue",
        ("p.rossi", 2): "overdue",
    }


# -- 4. an insider with push rights --------------------------------------------------------------


def test_an_acknowledgement_of_other_content_does_not_count_for_a_version(team: Team) -> None:
    """Rule 4: the exact content of the version. Rossi signs v2's label over v1's bytes, and
    Lindqvist reads a draft of v2 that is changed before its approval."""
    world = team.world
    v1 = "sha256:" + hashlib.sha256(world.content(SOP)).hexdigest()
    version_2(team, "2026-03-01", "2026-04-01")
    team.on("2026-03-02")
    world.raw_commit(team.owner, world.trailers(DOC, SOP, MEANING, version="2"))  # the draft
    text = (
        (world.repo / SOP)
        .read_text()
        .replace("Check the shipper's logger first.", "Read the data logger first.", 1)
    )
    assert text != (world.repo / SOP).read_text()
    world.commit_file(team.author, SOP, text, "clearer wording")
    team.release_sop("2026-03-03", "2026-03-04")
    team.on("2026-03-05")
    world.raw_commit(rossi(team), world.trailers(DOC, SOP, MEANING, version="2", content=v1))
    found = rows(matrix(team, "2026-03-06")[1])
    for person in ("j.lindqvist", "p.rossi"):
        row = found[(person, 2)]
        assert (row["status"], row["by"], row["trained_on"]) == ("due", None, None), row
    assert statuses(team, "2026-04-02") == {
        ("j.lindqvist", 2): "overdue",
        ("p.rossi", 2): "overdue",
    }


def test_a_plain_git_acknowledgement_from_outside_the_audience_makes_no_row(team: Team) -> None:
    team.on("2026-02-10")
    world = team.world
    world.raw_commit(team.officer, world.trailers(DOC, SOP, MEANING, version="1"))
    for day in ("2026-02-10", "2026-02-21", "2026-06-30"):
        found = rows(matrix(team, day)[1])
        assert {person for person, _ in found} == {"j.lindqvist", "p.rossi"}, (day, found)
    # Joining the audience later: the forged signature still counts for nothing.
    set_audience(team, "m.okafor", "pharmacists", "2026-03-01")
    row = rows(matrix(team, "2026-03-02")[1])[("m.okafor", 1)]
    assert (row["status"], row["by"], row["trained_on"]) == ("due", None, None), row


def test_a_back_dated_acknowledgement_counts_from_when_it_reached_main(team: Team) -> None:
    """An acknowledgement made on a branch with a date before the due day, merged after it:
    a signature counts on main from the merge that brought it (README, Lifecycles)."""
    acknowledge(team, rossi(team), "2026-02-10")
    world = team.world
    team.on("2026-02-25")
    world.git("checkout", "-q", "-b", "ack/lindqvist")
    trailers = world.trailers(DOC, SOP, MEANING, version="1")
    world.raw_commit(team.owner, trailers, date="2026-02-15T10:00:00Z")
    world.git("checkout", "-q", "main")
    with world.acting(team.admin):
        world.git("merge", "-q", "--no-ff", "--no-gpg-sign", "--no-edit", "ack/lindqvist")
    assert statuses(team, "2026-02-21")[("j.lindqvist", 1)] == "overdue"
    assert statuses(team, "2026-02-24")[("j.lindqvist", 1)] == "overdue"
    row = rows(matrix(team, "2026-02-25")[1])[("j.lindqvist", 1)]
    assert (row["status"], row["trained_on"]) == ("trained", "2026-02-25"), row


def test_removing_an_audience_later_does_not_change_an_earlier_day(team: Team) -> None:
    acknowledge(team, rossi(team), "2026-02-10")
    before = matrix(team, "2026-02-21")
    assert before[0] == 1 and rows(before[1])[("j.lindqvist", 1)]["status"] == "overdue"
    set_audience(team, "j.lindqvist", "physicians", "2026-03-01")
    after = matrix(team, "2026-02-21")
    assert (after[0], after[1]["rows"], after[1]["overdue"]) == (
        before[0],
        before[1]["rows"],
        before[1]["overdue"],
    ), after
    code, report = matrix(team, "2026-03-02")
    assert code == 0 and set(rows(report)) == {("p.rossi", 1)}, report
    code, report = matrix(team, "2026-02-28", "--person", "j.lindqvist")
    assert code == 1 and [r["status"] for r in report["rows"]] == ["overdue"], report


def test_training_stays_when_a_person_leaves_the_audience_and_comes_back(team: Team) -> None:
    signed = acknowledge(team, rossi(team), "2026-02-10")
    set_audience(team, "p.rossi", "nurses", "2026-03-01")
    assert ("p.rossi", 1) not in rows(matrix(team, "2026-03-02")[1])
    team.on("2026-03-05")  # (qms.yaml not as it was on 2026-02-02: one signature per content)
    team.qms(
        team.admin,
        *("people", "set", "p.rossi", "--audience", "pharmacists", "--audience", "nurses"),
        *("--reason", "back in the pharmacy"),
    )
    row = rows(matrix(team, "2026-03-05")[1])[("p.rossi", 1)]
    assert (row["status"], row["trained_on"], row["by"]["commit"]) == (
        "trained",
        "2026-02-10",
        signed,
    ), row


@pytest.mark.parametrize(
    "change",
    [
        ("--title", "Responsible Pharmacist"),
        ("--role", "pharmacist", "--role", "sop-author", "--role", "sop-reviewer"),
        ("--audience", "pharmacists", "--audience", "nurses"),
    ],
    ids=["title", "roles", "another-audience"],
)
def test_touching_a_persons_registry_entry_does_not_restart_their_training_clock(
    team: Team, change: tuple[str, ...]
) -> None:
    """Lindqvist, overdue since 2026-02-21, stays in the pharmacists throughout: a registry
    change that leaves him in the audience does not make him a new starter."""
    team.on("2026-03-01")
    team.qms(team.admin, "people", "set", "j.lindqvist", *change, "--reason", "update")
    row = rows(matrix(team, "2026-03-02")[1])[("j.lindqvist", 1)]
    assert (row["status"], row["due"]) == ("overdue", EFFECTIVE), row


def test_a_longer_window_or_a_dropped_audience_today_does_not_clear_yesterdays_overdue(
    team: Team,
) -> None:
    acknowledge(team, rossi(team), "2026-02-10")
    acknowledge(team, team.owner, "2026-02-11")
    set_audience(team, "m.okafor", "pharmacists", "2026-03-01")  # due 2026-03-31

    def overdue_on_april_first() -> None:
        assert statuses(team, "2026-04-01") == {
            ("j.lindqvist", 1): "trained",
            ("p.rossi", 1): "trained",
            ("m.okafor", 1): "overdue",
        }
        items = due_items(team, "2026-04-01")
        assert [(i["owner"], i["record"], i["due"], i["overdue"]) for i in items] == [
            ("m.okafor", DOC, "2026-03-31", True)
        ], items
        assert run(team, "due", "--date", "2026-04-01")[0] == 1

    overdue_on_april_first()
    set_training(team, "2026-04-02", "  new_starter_days: 90\n")
    overdue_on_april_first()
    set_audience(team, "m.okafor", "qa-staff", "2026-04-04")
    overdue_on_april_first()
    assert ("m.okafor", 1) not in rows(matrix(team, "2026-04-04")[1])


def test_a_leaver_leaves_the_matrix_on_the_day_they_left_and_stays_in_it_before(
    team: Team,
) -> None:
    acknowledge(team, rossi(team), "2026-02-10")
    team.on("2026-02-27")
    team.qms(
        team.admin,
        *("people", "leave", "j.lindqvist", "--on", "2026-03-01", "--reason", "moved hospital"),
    )
    assert statuses(team, "2026-02-21") == {
        ("j.lindqvist", 1): "overdue",
        ("p.rossi", 1): "trained",
    }
    assert statuses(team, "2026-02-28") == {
        ("j.lindqvist", 1): "overdue",
        ("p.rossi", 1): "trained",
    }
    assert statuses(team, "2026-03-01") == {("p.rossi", 1): "trained"}
    assert statuses(team, "2026-05-01") == {("p.rossi", 1): "trained"}
    assert_unknown_person(team, "j.lindqvist", "2026-03-01")
    code, report = matrix(team, "2026-02-28", "--person", "j.lindqvist")
    assert code == 1 and [r["status"] for r in report["rows"]] == ["overdue"], report
    assert [i["owner"] for i in due_items(team, "2026-03-01")] == []
