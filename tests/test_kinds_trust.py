"""Insider attacks on a hospital's own kind (issue 20, step 3), each a real history: a kind
declared without an admin's signature, a pinned schema loosened in place, a declaration that
shadows a built-in kind, an adopted kind removed or moved, a kind over a folder that already
holds files, a pin or schema that must not be trusted. None of them may change what counts,
and the warm (indexed) and cold walks of history must agree on it."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from test_kinds_repository import (
    CLN,
    CLN_FILE,
    SCHEMA,
    SCHEMA_FILE,
    add_cleaner_role,
    adopt,
    cleaned,
    declaration,
    declared_by_hand,
    kinds_add,
    kinds_listed,
    new_cleaning,
    schema_text,
)
from test_lifecycle_capa import read
from test_server_hook import REFUSED
from toolkit.people import Person
from toolkit.server import GitServer, push
from toolkit.team import Team, build_team

RECORD = f"""id: {CLN}
title: "Terminal clean of clean room B"
state: scheduled
cleaner: l.santos
room: "Clean room B"
due: "2026-02-10"
"""


@pytest.fixture(scope="module")
def built_team(tmp_path_factory: pytest.TempPathFactory) -> Team:
    """The lifecycle team with a cleaner (Lucia Santos); no kind declared yet."""
    return build_team(tmp_path_factory, add_cleaner_role)


@pytest.fixture
def team(built_team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Team]:
    team = built_team.copy(tmp_path, monkeypatch)
    yield team
    team.world.close()


def signature(team: Team, commit: str) -> dict[str, Any]:
    """What `qms verify --format json` says of the signature commit `commit`."""
    out = team.qms(team.admin, "verify", "--format", "json", ok=False)
    found = [s for s in json.loads(out)["signatures"] if s["commit"] == commit]
    assert len(found) == 1, out
    return dict(found[0])


def not_adopted(team: Team, commit: str) -> str:
    """The admin-signed qms.yaml change `commit` is reported invalid; its problems as text."""
    verdict = signature(team, commit)
    assert verdict["record"] == "qms.yaml" and verdict["status"] == "invalid", verdict
    return " ".join(verdict["problems"])


def plain_commit(team: Team, person: Person, message: str) -> str:
    """What is staged, committed by `person` with plain git and no signature at all."""
    with team.world.acting(person):
        team.world.git("commit", "-q", "--no-gpg-sign", "-m", message, "-m", "Reason: test")
    return team.world.head()


def signed_by_hand(team: Team, person: Person, text: str, meaning: str) -> str:
    """The record changed to `text` and signed with `meaning` by `person` with plain git, the
    trailers as `qms advance` writes them."""
    world = team.world
    (world.repo / CLN_FILE).write_text(text)
    world.git("add", CLN_FILE)
    digest = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    return world.raw_commit(person, world.trailers(CLN, CLN_FILE, meaning, content=digest))


def rewritten(team: Team, change: Any) -> str:
    """qms.yaml as data, changed by `change(data)`, written back as YAML."""
    data = yaml.safe_load((team.world.repo / "qms.yaml").read_text())
    change(data)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def cleaning_kind(data: dict[str, Any]) -> dict[str, Any]:
    (kind,) = [k for k in data["kinds"] if k["name"] == "cleaning"]
    return dict(kind)


def published(site: Path) -> list[str]:
    """The site's files that are about the cleaning kind or its record."""
    if not site.exists():
        return []
    return [
        str(p.relative_to(site))
        for p in site.rglob("*")
        if p.is_file()
        and (p.relative_to(site).parts[0] == "cleaning" or CLN.encode() in p.read_bytes())
    ]


# -- (a) a kind declared without an admin's signature ---------------------------------------------


def test_an_unsigned_declaration_gives_its_records_nothing(team: Team, server: GitServer) -> None:
    world = team.world
    world.git("remote", "add", "origin", server.url)
    assert push(world.repo, "origin", "main").ok
    base = world.head()
    team.on("2026-02-02")
    (world.repo / "qms.yaml").write_text(declared_by_hand(team, declaration(), schema_text()))
    world.git("add", "qms.yaml")
    plain_commit(team, team.admin, "Cleaning records")
    team.on("2026-02-03")
    (world.repo / "cleaning").mkdir()
    created = world.commit_file(team.author, CLN_FILE, RECORD, "cleaning scheduled")
    team.on("2026-02-09")
    done_text = RECORD.replace("state: scheduled", "state: done") + 'performed_on: "2026-02-09"\n'
    done = signed_by_hand(team, team.author, done_text, "performed")
    assert "not in force" in " ".join(signature(team, done)["problems"])
    assert signature(team, done)["status"] != "valid"
    report = team.check(f"{base}..HEAD", ok=False)
    assert not report["ok"]
    kind_rules = [
        v
        for v in report["violations"]
        if v["rule"] == "kind.not-in-force" and v["commit"] in (created, done)
    ]
    assert kind_rules and all(CLN in (v["record"] or "") for v in kind_rules), report
    assert CLN not in team.status("2026-02-11")
    assert "cleaning" not in kinds_listed(team)
    pushed = push(world.repo, "origin", "main")
    assert pushed.status("refs/heads/main") == REFUSED, pushed.stderr
    assert server.tip() == base
    site = world.base / "site"
    team.qms(team.admin, "build", "--site-dir", str(site), "--date", "2026-02-11", ok=False)
    # only the verification page names it, among the signatures that do not count
    assert set(published(site)) <= {"verification.html", "search/search_index.json"}
    assert "not in force" in (site / "verification.html").read_text()


# -- (b) the pinned schema edited in place --------------------------------------------------------


def test_a_loosened_schema_file_changes_nothing_and_is_reported_as_drift(team: Team) -> None:
    adopt(team)
    new_cleaning(team)
    loose = {**SCHEMA, "additionalProperties": True}
    team.on("2026-02-04")
    team.world.commit_file(team.author, SCHEMA_FILE, schema_text(loose), "allow more fields")
    report = json.loads(team.qms(team.admin, "validate", "--format", "json"))  # a warning only
    drift = [f for f in report["findings"] if "kind.schema-drift" in json.dumps(f)]
    assert drift and report["warnings"] >= 1, report
    text = read(team, CLN_FILE) + 'shortcut: "floor skipped"\n'
    team.world.commit_file(team.author, CLN_FILE, text, "a field the pinned schema refuses")
    out = team.qms(team.admin, "validate", "--format", "json", ok=False)
    report = json.loads(out)
    assert report["errors"] >= 1 and not report["ok"], report
    errors = [f for f in report["findings"] if "shortcut" in json.dumps(f)]
    assert errors and CLN_FILE in json.dumps(errors), report
    assert [f for f in report["findings"] if "kind.schema-drift" in json.dumps(f)], report


# -- (c) a declaration that shadows a built-in kind -----------------------------------------------

SHADOWS = {
    "prefix SOP": (declaration(id={"prefix": "SOP", "yearly": True}), "SOP"),
    "folder capa": (declaration(folder="capa"), "capa"),
    "name deviation": (declaration(name="deviation"), "deviation"),
    "reserved folder docs": (declaration(folder="docs"), "docs"),
}


@pytest.mark.parametrize("case", list(SHADOWS))
def test_a_declaration_that_shadows_a_built_in_kind_is_not_adopted(team: Team, case: str) -> None:
    decl, shadowed = SHADOWS[case]
    team.on("2026-02-02")
    out = kinds_add(team, team.admin, decl, schema_text(), ok=False)
    assert shadowed in out, out
    text = declared_by_hand(team, decl, schema_text(), policy=decl["name"] != "deviation")
    commit = team.sign_config(text)
    assert shadowed in not_adopted(team, commit)
    listed = kinds_listed(team)
    assert "cleaning" not in listed
    assert (listed["sop"]["prefix"], listed["capa"]["folder"]) == ("SOP", "capa")
    assert (listed["deviation"]["folder"], listed["deviation"]["prefix"]) == ("deviations", "DEV")


def test_a_second_kind_cannot_take_the_prefix_of_a_declared_one(team: Team) -> None:
    adopt(team)
    team.on("2026-02-04")
    second = declaration(name="disinfection", label="disinfection", folder="disinfection")
    out = kinds_add(team, team.admin, second, schema_text(), ok=False)
    assert "CLN" in out, out
    text = declared_by_hand(
        team, second, schema_text(), schema_file="schemas/disinfection.schema.json"
    )
    assert "CLN" in not_adopted(team, team.sign_config(text))
    listed = kinds_listed(team)
    assert "disinfection" not in listed and listed["cleaning"]["prefix"] == "CLN"


# -- (d) an adopted kind removed or moved ---------------------------------------------------------


def removed(data: dict[str, Any]) -> None:
    data["kinds"] = [k for k in data["kinds"] if k["name"] != "cleaning"]
    if not data["kinds"]:
        del data["kinds"]
    del data["signatures"]["cleaning"]


def prefixed(data: dict[str, Any]) -> None:
    cleaning_kind(data)  # there is one
    next(k for k in data["kinds"] if k["name"] == "cleaning")["id"]["prefix"] = "CLR"


def moved(data: dict[str, Any]) -> None:
    next(k for k in data["kinds"] if k["name"] == "cleaning")["folder"] = "cleanings"


@pytest.mark.parametrize("change", [removed, prefixed, moved], ids=["removed", "prefix", "folder"])
def test_an_adopted_kind_cannot_be_removed_or_moved(team: Team, change: Any) -> None:
    adopt(team)
    new_cleaning(team)
    team.on("2026-02-05")
    same = team.sign_config(rewritten(team, lambda data: None))  # the control: no change
    assert signature(team, same)["status"] == "valid"
    commit = team.sign_config(rewritten(team, change))
    not_adopted(team, commit)
    cleaning = kinds_listed(team)["cleaning"]
    assert (cleaning["folder"], cleaning["prefix"]) == ("cleaning", "CLN")
    assert team.status("2026-02-06", CLN)[CLN]["state"] == "scheduled"
    cleaned(team)  # the kind is still in force: its records still move, signed
    assert team.status("2026-02-11", CLN)[CLN]["state"] == "verified"


# -- (e) a kind over a folder that already holds files --------------------------------------------


def test_a_kind_is_not_adopted_over_a_folder_that_already_holds_files(team: Team) -> None:
    team.on("2026-02-01")
    (team.world.repo / "cleaning").mkdir()
    team.world.commit_file(team.author, "cleaning/README.md", "Cleaning notes.\n", "notes")
    team.on("2026-02-02")
    out = kinds_add(team, team.admin, declaration(), schema_text(), ok=False)
    assert "cleaning" in out, out
    commit = team.sign_config(declared_by_hand(team, declaration(), schema_text()))
    assert "cleaning" in not_adopted(team, commit)
    assert "cleaning" not in kinds_listed(team)


# -- (f) a pin or a schema that must not be trusted -----------------------------------------------

ROOM_REF = {"properties": {**SCHEMA["properties"], "room": {"$ref": "https://x.example/r.json"}}}
LONG = "^(" + "|".join(["[A-Z][a-z]+ room [A-Z]"] * 14) + ")$"
ROOM_LONG = {"properties": {**SCHEMA["properties"], "room": {"type": "string", "pattern": LONG}}}
UNTRUSTED: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    "sha256 mismatch": ({}, {"sha256": "0" * 64}),
    "unknown blob": ({}, {"blob": "1" * 40}),
    "remote $ref": (ROOM_REF, {}),
    "300-character pattern": (ROOM_LONG, {}),
    "state not required": ({"required": ["id", "title"]}, {}),
}


@pytest.mark.parametrize("case", list(UNTRUSTED))
def test_an_untrusted_pin_or_schema_is_not_adopted(team: Team, case: str) -> None:
    schema_change, pin = UNTRUSTED[case]
    assert len(LONG) > 300
    schema = schema_text({**SCHEMA, **schema_change})
    team.on("2026-02-02")
    if not pin:  # qms kinds add pins what it writes; it refuses the schema itself
        kinds_add(team, team.admin, declaration(), schema, ok=False)
    commit = team.sign_config(declared_by_hand(team, declaration(), schema, pin=pin))
    not_adopted(team, commit)
    assert "cleaning" not in kinds_listed(team)
    (team.world.repo / "cleaning").mkdir(exist_ok=True)
    out = team.qms(team.author, "new", "cleaning", "--title", "Terminal clean", ok=False)
    assert not (team.world.repo / CLN_FILE).exists(), out


# -- (g) the warm and the cold walk agree ---------------------------------------------------------


def verdicts(team: Team) -> list[tuple[str, str, str, tuple[str, ...]]]:
    out = team.qms(team.admin, "verify", "--format", "json", ok=False)
    return [
        (s["commit"], s["record"], s["status"], tuple(s["problems"]))
        for s in json.loads(out)["signatures"]
    ]


def test_warm_and_cold_walks_agree_across_a_kind_adoption(team: Team) -> None:
    world = team.world
    verdicts(team)  # the index, warm up to before the kind
    assert (world.repo / ".git" / "qms").exists(), "qms verify kept no index"
    adopted = adopt(team)
    new_cleaning(team)
    done, verified = cleaned(team)
    team.on("2026-02-11")
    moved_away = team.sign_config(rewritten(team, prefixed))
    warm = verdicts(team)
    shutil.rmtree(world.repo / ".git" / "qms")
    cold = verdicts(team)
    assert warm == cold
    status = {commit: verdict for commit, _, verdict, _ in cold}
    assert status[adopted] == status[verified] == "valid", cold
    assert status[done] == "superseded", cold  # the later transition took over the record
    assert status[moved_away] == "invalid", cold
