"""Adversarial review of declared kinds (issue 20, step 3): each test is an attack that the
current code lets through, or a crash; they fail until it is fixed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from test_kinds_repository import (
    CLN,
    CLN_FILE,
    SCHEMA,
    add_cleaner_role,
    adopt,
    declaration,
    declared_by_hand,
    schema_text,
)
from test_lifecycle_capa import run
from toolkit.team import Team, build_team

VERIFIED = f"""id: {CLN}
title: "Terminal clean of clean room B"
state: verified
cleaner: l.santos
room: "Clean room B"
due: "2026-02-10"
performed_on: "2026-02-09"
"""


@pytest.fixture(scope="module")
def built_team(tmp_path_factory: pytest.TempPathFactory) -> Team:
    return build_team(tmp_path_factory, add_cleaner_role)


@pytest.fixture
def team(built_team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Team]:
    team = built_team.copy(tmp_path, monkeypatch)
    yield team
    team.world.close()


# -- 1. a merge brings the adoption over files that were already there -----------------------------


def test_a_merged_adoption_does_not_turn_files_already_there_into_records(team: Team) -> None:
    world = team.world
    fork = world.head()
    # on main, the insider writes a "verified" cleaning record before any such kind exists:
    # nothing checks it, it is not a record
    team.on("2026-02-01")
    (world.repo / "cleaning").mkdir()
    planted = world.commit_file(team.author, CLN_FILE, VERIFIED, "cleaning notes")
    # the admin adopts the kind on a branch that forked before, where the folder is empty
    world.git("checkout", "-q", "-b", "kinds", fork)
    adopted = adopt(team, "2026-02-02")
    world.git("checkout", "-q", "main")
    team.on("2026-02-03")
    with world.acting(team.author):
        world.git(
            "merge",
            "-q",
            "--no-ff",
            "--no-gpg-sign",
            "kinds",
            "-m",
            "Merge kinds",
            "-m",
            "Reason: take the cleaning kind",
        )
    merge = world.head()
    assert world.git("rev-parse", f"{merge}^1") == planted
    assert world.git("rev-parse", f"{merge}^2") == adopted
    # A kind's records start in an empty folder (trust.py refuses a signed adoption over one);
    # the merge must not adopt around that rule, or the planted file must not count
    # what the server's gate sees when the merge is pushed on top of the planted commit
    report = team.check(f"{planted}..HEAD", ok=False)
    assert not report["ok"], "the merge made a never-checked 'verified' file a record: " + (
        json.dumps(team.status("2026-02-04")[CLN])
    )


# -- 2. a pinned schema that passes every check and crashes every command that uses it -----------

RECORD = f"""id: {CLN}
title: "Terminal clean of clean room B"
state: scheduled
cleaner: l.santos
room: "Clean room B"
due: "2026-02-10"
"""

BROKEN_REFS = {
    "pointer to nowhere": {"room": {"$ref": "#/$defs/room"}},
    "reference loop": {"room": {"$ref": "#/properties/room"}},
}


def with_room(room: dict[str, object], **more: object) -> str:
    return schema_text({**SCHEMA, **more, "properties": {**SCHEMA["properties"], **room}})


def outcome(team: Team, *args: str) -> str:
    """A qms command by the admin: its output, or the exception that escaped it."""
    try:
        result = run(team, team.admin, *args)
    except BaseException as error:
        return f"Traceback: {type(error).__name__}: {str(error)[:200]}"
    return result.output + result.stderr


@pytest.mark.parametrize("case", list(BROKEN_REFS))
def test_a_schema_whose_ref_cannot_be_resolved_crashes_nothing(team: Team, case: str) -> None:
    """An admin's mistake: a `$ref` inside the schema (`#/…`, so allowed) that points nowhere or
    at itself. records/pinned.py accepts it; what it must not do is crash validate, the gate
    (the server's hook) and status with a traceback once a record of the kind exists."""
    world = team.world
    team.on("2026-02-02")
    team.sign_config(declared_by_hand(team, declaration(), with_room(BROKEN_REFS[case])))
    team.on("2026-02-03")
    (world.repo / "cleaning").mkdir(exist_ok=True)
    base = world.head()
    world.commit_file(team.author, CLN_FILE, RECORD, "cleaning scheduled")
    crashed = [
        args
        for args in (("validate",), ("check", f"{base}..HEAD"), ("status", "--format", "json"))
        if "internal error" in (out := outcome(team, *args)) or "Traceback" in out
    ]
    assert not crashed, crashed


# -- 3. a pinned schema with a backtracking pattern stalls the gate --------------------------------

# A 22-character pattern an admin may well write for "words separated by single spaces"
WORDS = "^([A-Za-z0-9]+ ?)+$"


def test_a_backtracking_pattern_in_a_pinned_schema_cannot_stall_the_gate(team: Team) -> None:
    """An admin pins a schema whose `room` pattern backtracks exponentially (it is short, it
    compiles: records/pinned.py accepts it); an insider writes one record whose room is 26
    letters and a '!'. Every command that validates it (validate, check, the server's hook)
    spends seconds to minutes on one field; a few more letters and the hook never ends."""
    world = team.world
    team.on("2026-02-02")
    schema = with_room({"room": {"type": "string", "maxLength": 80, "pattern": WORDS}})
    team.sign_config(declared_by_hand(team, declaration(), schema))
    team.on("2026-02-03")
    (world.repo / "cleaning").mkdir(exist_ok=True)
    base = world.head()
    slow = RECORD.replace('"Clean room B"', '"' + "a" * 26 + '!"')
    world.commit_file(team.author, CLN_FILE, slow, "cleaning scheduled", sign=True)
    started = time.monotonic()
    outcome(team, "check", f"{base}..HEAD")
    spent = time.monotonic() - started
    assert spent < 3, f"qms check spent {spent:.0f} s on one record's field"


# -- 4. a registry written as JSON -----------------------------------------------


def test_a_registry_written_as_json_does_not_hide_the_kind_s_records_from_validate(
    team: Team,
) -> None:
    """qms.yaml is YAML, and JSON is YAML: an admin who signs the same registry written as JSON
    (`"kinds": [...]`, no comments) changes nothing that is in force. The registry (a full parse) holds the kind; records/kinds.declared_in looks for the
    text 'kinds:' first, finds none, and the files of the kind are no longer records for
    `qms validate`: a record that breaks the pinned schema passes."""
    world = team.world
    adopt(team)
    data = yaml.safe_load((world.repo / "qms.yaml").read_text())
    team.on("2026-02-03")
    as_json = json.dumps(data, indent=2, ensure_ascii=False) + "\n"  # JSON is YAML
    assert '"kinds": [' in as_json and "kinds:" not in as_json
    signed = team.sign_config(as_json)  # the same data, signed by the admin
    out = team.qms(team.admin, "verify", "--format", "json", ok=False)
    (verdict,) = [v for v in json.loads(out)["signatures"] if v["commit"] == signed]
    assert verdict["status"] == "valid", verdict  # adopted: the registry in force
    (world.repo / "cleaning").mkdir(exist_ok=True)
    bad = RECORD + 'shortcut: "floor skipped"\n'  # the pinned schema refuses extra fields
    world.commit_file(team.author, CLN_FILE, bad, "cleaning scheduled")
    assert "cleaning" in team.qms(team.admin, "kinds", "list")  # in force
    result = run(team, team.admin, "validate", "--format", "json")
    report = json.loads(result.output)
    assert not report["ok"] and "shortcut" in result.output, report


# -- 5. a schema whose `state` is the schema `true` -------------------------------------------------

STATE_TRUE = with_room({"state": True})


def test_a_schema_whose_state_is_true_is_refused_not_a_crash(team: Team) -> None:
    """`"state": true` is a valid JSON Schema and `state` is required, so records/pinned.py
    accepts it; records/pinned.states_of then calls `.get` on True. An insider's unsigned
    qms.yaml declaring such a kind crashes `qms validate` for everyone who checks it out (CI
    included); the gate happens to survive it."""
    world = team.world
    team.on("2026-02-02")
    base = world.head()
    (world.repo / "qms.yaml").write_text(declared_by_hand(team, declaration(), STATE_TRUE))
    world.git("add", "qms.yaml")
    with world.acting(team.author):
        world.git("commit", "-q", "--no-gpg-sign", "-m", "Cleaning records", "-m", "Reason: x")
    crashed = [
        args
        for args in (("validate",), ("check", f"{base}..HEAD"))
        if "internal error" in (out := outcome(team, *args)) or "Traceback" in out
    ]
    assert not crashed, crashed


def test_an_admin_signed_schema_whose_state_is_true_does_not_brick_the_history(
    team: Team,
) -> None:
    """The same schema, signed by an admin by hand (`qms kinds add` crashes on it too): the
    trust chain parses the registry, the parse raises AttributeError (trust.py catches only
    LoadError), and every command that walks the history fails from then on. An adopted kind
    cannot be removed, so no later signed qms.yaml could repair it."""
    team.on("2026-02-02")
    team.sign_config(declared_by_hand(team, declaration(), STATE_TRUE))
    crashed = [
        args
        for args in (("verify",), ("status",), ("kinds", "list"))
        if "internal error" in (out := outcome(team, *args)) or "Traceback" in out
    ]
    assert not crashed, crashed


# -- 6. one push, two protected branches: the first one's qms.yaml classifies the second's files ---


def test_one_branch_s_declared_kinds_do_not_leak_into_another_s_check_in_the_same_process(
    team: Team,
) -> None:
    """The pre-receive hook judges every ref of a push in one process (server/pre_receive.py
    judge_push -> check_range -> walk_history -> use_tip_kinds), in a bare repository where
    nothing resets the active kinds. use_tip_kinds only ever adds: the kinds an (unsigned)
    qms.yaml on one pushed branch declares stay 'records' for the next ref's check. A plain
    file in `notes/` on main becomes a record of a kind not in force, and main's push is refused
    when it travels with the other branch, accepted when pushed alone."""
    from gitqms.records.kinds import PACKAGE, active_kinds, use_kinds
    from gitqms.rules.check import check_range

    world = team.world
    team.on("2026-02-02")
    base = world.head()
    (world.repo / "notes").mkdir()
    world.commit_file(team.author, "notes/NTE-0001.yaml", "just: notes\n", "meeting notes")
    main = world.head()
    world.git("checkout", "-q", "-b", "release", base)
    notes = declaration(
        name="notes", label="note", folder="notes", id={"prefix": "NTE", "yearly": False}
    )
    (world.repo / "qms.yaml").write_text(declared_by_hand(team, notes, schema_text()))
    world.git("add", "qms.yaml")
    with world.acting(team.author):
        world.git("commit", "-q", "--no-gpg-sign", "-m", "Notes kind", "-m", "Reason: try")
    release = world.head()
    world.git("checkout", "-q", "main")

    saved = active_kinds()
    try:
        use_kinds(PACKAGE)  # a fresh hook process in a bare repository
        alone = [v.rule for v in check_range(world.repo, f"{base}..{main}").violations]
        use_kinds(PACKAGE)
        check_range(world.repo, f"{base}..{release}")  # the other ref of the same push, first
        together = [v.rule for v in check_range(world.repo, f"{base}..{main}").violations]
    finally:
        use_kinds(saved)
    assert "kind.not-in-force" not in alone, alone
    assert together == alone, together
