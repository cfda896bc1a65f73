"""The narrow gate (issue 24, item 1) gives the full gate's verdicts: a kind the hospital
declared. Its adoption (signed or not), its pinned schema and its records' history are before
BASE; a record of the kind changes or is signed in the range (test_gate_narrow.py has the
helpers, test_kinds_repository.py and test_kinds_trust.py the kind)."""

from __future__ import annotations

from test_gate_narrow import both, busy, describe
from test_kinds_repository import (
    CLN,
    CLN_FILE,
    SCHEMA,
    SCHEMA_FILE,
    add_cleaner_role,
    adopt,
    advance,
    declaration,
    declared_by_hand,
    new_cleaning,
    schema_text,
)
from test_kinds_trust import RECORD, plain_commit, signed_by_hand
from test_lifecycle_capa import read
from toolkit.team import Team


def test_a_record_of_a_declared_kind_moved_in_the_range_is_judged_alike(team: Team) -> None:
    add_cleaner_role(team)
    adopt(team)
    new_cleaning(team)
    base = busy(team, "2026-02-04")
    team.on("2026-02-09")
    text = read(team, CLN_FILE) + 'performed_on: "2026-02-09"\n'
    team.world.commit_file(team.author, CLN_FILE, text, "cleaning performed")
    advance(team, team.author, "done", "2026-02-09")
    assert both(team, f"{base}..HEAD").violations == []
    team.on("2026-02-10")
    moved = signed_by_hand(team, team.officer, read(team, CLN_FILE), "performed")
    report = both(team, f"{base}..HEAD")
    assert any(v.commit == moved for v in report.violations), describe(report)


def test_a_kind_declared_without_a_signature_before_base_gives_its_records_nothing(
    team: Team,
) -> None:
    add_cleaner_role(team)
    world = team.world
    team.on("2026-02-02")
    (world.repo / "qms.yaml").write_text(declared_by_hand(team, declaration(), schema_text()))
    world.git("add", "qms.yaml")
    plain_commit(team, team.admin, "Cleaning records")
    team.on("2026-02-03")
    (world.repo / "cleaning").mkdir()
    world.commit_file(team.author, CLN_FILE, RECORD, "cleaning scheduled")
    base = busy(team, "2026-02-04")
    team.on("2026-02-09")
    done_text = RECORD.replace("state: scheduled", "state: done") + 'performed_on: "2026-02-09"\n'
    done = signed_by_hand(team, team.author, done_text, "performed")
    report = both(team, f"{base}..HEAD")
    assert any(v.commit == done and v.rule == "kind.not-in-force" for v in report.violations), (
        describe(report)
    )
    assert CLN in {v.record for v in report.violations}


def test_a_schema_loosened_before_base_lets_nothing_through_in_the_range(team: Team) -> None:
    add_cleaner_role(team)
    adopt(team)
    new_cleaning(team)
    team.on("2026-02-04")
    loose = {**SCHEMA, "additionalProperties": True}
    team.world.commit_file(team.author, SCHEMA_FILE, schema_text(loose), "allow more fields")
    base = busy(team, "2026-02-05")
    team.on("2026-02-06")
    text = read(team, CLN_FILE) + 'shortcut: "floor skipped"\n'
    changed = team.world.commit_file(team.author, CLN_FILE, text, "a field the pin refuses")
    report = both(team, f"{base}..HEAD")
    assert any(v.commit == changed and v.record == CLN for v in report.errors), describe(report)
