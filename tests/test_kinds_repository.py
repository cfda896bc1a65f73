"""A hospital's own kind of record, declared in its qms.yaml (issue 20, step 3): a cleaning
record added with `qms kinds add` and no Python, then driven by the team through every face of
gitqms with real keys and real history: new, validate, advance, status, due, check, log,
audit-trail, a push through the server's gate, and the published site.

The helpers here (the declaration, its schema, adopting it, declaring it by hand in qms.yaml)
are shared with test_kinds_trust.py, which attacks the same kind.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from test_lifecycle_capa import due_items, fill, read, run
from toolkit.people import Person
from toolkit.server import GitServer, push
from toolkit.team import Team, build_team
from toolkit.world import refused, snapshot

CLN = "CLN-2026-0001"
CLN_FILE = f"cleaning/{CLN}.yaml"
SCHEMA_FILE = "schemas/cleaning.schema.json"
DATE = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Cleaning record",
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "title", "state"],
    "properties": {
        "id": {"type": "string", "pattern": "^CLN-[0-9]{4}-[0-9]{4}$"},
        "title": {"type": "string", "minLength": 3, "maxLength": 200},
        "state": {"enum": ["scheduled", "done", "verified"]},
        "cleaner": {"type": "string", "pattern": "^[a-z][a-z0-9.-]*$"},
        "room": {"type": "string", "minLength": 1, "maxLength": 80},
        "due": DATE,
        "performed_on": DATE,
    },
}
# The hospital's policy: a cleaner performs, QA verifies.
SIGNATURES = {"performed": {"roles": ["cleaner"]}, "verified": {"roles": ["qa-officer"]}}


def declaration(**changes: Any) -> dict[str, Any]:
    """The cleaning kind as a hospital writes it (no schema pin), with `changes` on top."""
    decl: dict[str, Any] = {
        "name": "cleaning",
        "label": "cleaning record",
        "family": "record",
        "folder": "cleaning",
        "file": "yaml",
        "id": {"prefix": "CLN", "yearly": True},
        "lifecycle": {
            "initial": "scheduled",
            "closed": ["verified"],
            "transitions": [
                {"from": "scheduled", "to": "done", "meaning": "performed"},
                {"from": "done", "to": "verified", "meaning": "verified"},
            ],
            "requires": {"done": ["performed_on"]},
        },
        "fields": {"owner": "cleaner"},
        "people": ["cleaner"],
        "due": [{"what": "cleaning", "date": "due", "owner": "cleaner", "done": "performed_on"}],
        "register": {"title": "Cleaning register", "columns": [{"label": "Room", "field": "room"}]},
    }
    decl.update(changes)
    return decl


def schema_text(schema: dict[str, Any] | None = None) -> str:
    return json.dumps(schema or SCHEMA, indent=2) + "\n"


def inputs(team: Team, decl: dict[str, Any], schema: str) -> tuple[Path, Path]:
    """DECL.yaml (with the signature policy) and SCHEMA.json, outside the repository."""
    folder = team.world.base / "inputs"
    folder.mkdir(exist_ok=True)
    decl_path, schema_path = folder / "cleaning.yaml", folder / "cleaning.schema.json"
    decl_path.write_text(yaml.safe_dump({**decl, "signatures": SIGNATURES}, sort_keys=False))
    schema_path.write_text(schema)
    return decl_path, schema_path


def kinds_add(team: Team, person: Person, decl: dict[str, Any], schema: str, ok: bool) -> str:
    """`qms kinds add` by `person`; when not `ok`, it must exit 1 and leave HEAD, the index
    and the working tree as they were."""
    decl_path, schema_path = inputs(team, decl, schema)
    args = ("kinds", "add", str(decl_path), "--schema", str(schema_path), "--reason", "cleaning")
    if ok:
        return team.qms(person, *args)
    before = snapshot(team.world)
    result = run(team, person, *args)
    assert snapshot(team.world) == before, "a refused `qms kinds add` changed the repository"
    output = result.output + result.stderr
    assert result.exit_code == 1 and "Traceback" not in output, output
    return output


def adopt(team: Team, day: str = "2026-02-02") -> str:
    """The admin adopts the cleaning kind with `qms kinds add`; returns its commit."""
    team.on(day)
    before = team.world.head()
    kinds_add(team, team.admin, declaration(), schema_text(), ok=True)
    assert team.world.head() != before
    return team.world.head()


def declared_by_hand(
    team: Team,
    decl: dict[str, Any],
    schema: str,
    *,
    pin: dict[str, str] | None = None,
    policy: bool = True,
    schema_file: str = SCHEMA_FILE,
) -> str:
    """qms.yaml's text with `decl` appended under `kinds:` (and, with `policy`, its signature
    policy under signatures), `schema` written to its file and staged: what an insider
    commits without qms."""
    world = team.world
    (world.repo / schema_file).write_text(schema)
    world.git("add", schema_file)
    data = schema.encode()
    pinned = {
        "file": schema_file,
        "blob": world.git("hash-object", schema_file),
        "sha256": hashlib.sha256(data).hexdigest(),
    } | (pin or {})
    config = yaml.safe_load((world.repo / "qms.yaml").read_text())
    config.setdefault("kinds", []).append({**decl, "schema": pinned})
    if policy:
        config["signatures"][decl["name"]] = SIGNATURES
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


def kinds_listed(team: Team) -> dict[str, dict[str, Any]]:
    """`qms kinds list --format json` as name -> entry (a list, or a list under 'kinds')."""
    out = team.qms(team.admin, "kinds", "list", "--format", "json")
    data = json.loads(out)
    entries = data["kinds"] if isinstance(data, dict) else data
    return {entry["name"]: entry for entry in entries}


def add_cleaner_role(team: Team) -> None:
    """A `cleaner` role in qms.yaml, held by Lucia Santos: an admin-signed registry change."""
    team.on("2026-01-06")
    text = (team.world.repo / "qms.yaml").read_text()
    text = text.replace("\nroles:\n", "\nroles:\n  cleaner: Cleans the clean rooms.\n", 1)
    changed = text.replace("roles: [sop-author]", "roles: [sop-author, cleaner]", 1)
    assert changed != text
    team.sign_config(changed)


@pytest.fixture(scope="module")
def built_team(tmp_path_factory: pytest.TempPathFactory) -> Team:
    """The lifecycle team with a cleaner (Lucia Santos); no kind declared yet."""
    return build_team(tmp_path_factory, add_cleaner_role)


@pytest.fixture
def team(built_team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Team]:
    team = built_team.copy(tmp_path, monkeypatch)
    yield team
    team.world.close()


def new_cleaning(team: Team, day: str = "2026-02-03") -> str:
    """`qms new cleaning` by the cleaner, its fields filled in and committed."""
    team.on(day)
    out = team.qms(team.author, "new", "cleaning", "--title", "Terminal clean of clean room B")
    assert CLN_FILE in out, out
    return filled_in(team)


def filled_in(team: Team) -> str:
    """The new record's cleaner, room and due date written in, and committed."""
    text = read(team, CLN_FILE)
    text = fill(text, cleaner="cleaner: l.santos", room='room: "Clean room B"')
    text = fill(text, due='due: "2026-02-10"')
    return team.world.commit_file(team.author, CLN_FILE, text, "cleaning scheduled")


def advance(team: Team, person: Person, to: str, day: str) -> str:
    team.on(day)
    out = team.qms(person, "advance", CLN, "--to", to)
    assert f"-> {to}, signed" in out, out
    return team.world.head()


def cleaned(team: Team) -> tuple[str, str]:
    """Performed by the cleaner on 2026-02-09, verified by QA on 2026-02-10: the two commits."""
    team.on("2026-02-09")
    out = refused(team.world, team.author, "advance", CLN, "--to", "done")
    assert "performed_on" in out, out  # the state requires it
    text = fill(read(team, CLN_FILE), performed_on='performed_on: "2026-02-09"')
    team.world.commit_file(team.author, CLN_FILE, text, "cleaning performed")
    out = refused(team.world, team.officer, "advance", CLN, "--to", "done")
    assert "cleaner" in out, out  # the policy's role, not QA's
    done = advance(team, team.author, "done", "2026-02-09")
    out = refused(team.world, team.author, "advance", CLN, "--to", "verified")
    assert "qa-officer" in out, out
    return done, advance(team, team.officer, "verified", "2026-02-10")


# -- adoption -------------------------------------------------------------------------------------


def test_kinds_add_writes_the_schema_and_its_pin_in_one_admin_signed_commit(team: Team) -> None:
    world = team.world
    before = world.head()
    commit = adopt(team)
    assert world.git("rev-parse", f"{commit}^") == before  # one commit
    changed = world.git("diff", "--name-only", before, commit).split()
    assert sorted(changed) == ["qms.yaml", SCHEMA_FILE]
    assert json.loads(world.content(SCHEMA_FILE)) == SCHEMA
    body = world.git("log", "-1", "--format=%B", commit)
    assert "Reason: cleaning" in body and "QMS-Record: qms.yaml" in body
    config = yaml.safe_load(world.content("qms.yaml"))
    (kind,) = [k for k in config["kinds"] if k["name"] == "cleaning"]
    assert kind["schema"] == {
        "file": SCHEMA_FILE,
        "blob": world.git("rev-parse", f"{commit}:{SCHEMA_FILE}"),
        "sha256": hashlib.sha256(world.content(SCHEMA_FILE)).hexdigest(),
    }
    assert "special" not in kind and kind["id"] == {"prefix": "CLN", "yearly": True}
    assert config["signatures"]["cleaning"]["performed"]["roles"] == ["cleaner"]
    report = json.loads(team.qms(team.admin, "verify", "--format", "json"))
    (signature,) = [s for s in report["signatures"] if s["commit"] == commit]
    assert signature["status"] == "valid", signature
    assert report["failures"] == 0


def test_kinds_list_shows_the_declared_kind_beside_the_built_in_ones(team: Team) -> None:
    assert "cleaning" not in kinds_listed(team)
    adopt(team)
    listed = kinds_listed(team)
    cleaning = listed["cleaning"]
    assert (cleaning["family"], cleaning["folder"], cleaning["prefix"]) == (
        "record",
        "cleaning",
        "CLN",
    )
    assert (listed["sop"]["folder"], listed["sop"]["prefix"]) == ("sops", "SOP")
    assert {"capa", "deviation", "change-control"} <= set(listed)
    text = team.qms(team.admin, "kinds", "list")
    assert re.search(r"cleaning.*record.*cleaning.*CLN", text), text


def test_kinds_add_by_someone_who_is_not_an_admin_is_refused_and_writes_nothing(
    team: Team,
) -> None:
    team.on("2026-02-02")
    out = kinds_add(team, team.officer, declaration(), schema_text(), ok=False)
    assert "admin" in out, out
    assert not (team.world.repo / SCHEMA_FILE).exists()
    assert "cleaning" not in kinds_listed(team)


# -- the kind at work -----------------------------------------------------------------------------


def test_new_writes_a_skeleton_from_the_schema_and_the_record_validates(team: Team) -> None:
    adopt(team)
    team.on("2026-02-03")
    out = team.qms(team.author, "new", "cleaning", "--title", "Terminal clean of clean room B")
    assert out.strip().splitlines()[-1] == CLN_FILE, out
    written = yaml.safe_load(read(team, CLN_FILE))
    assert written["id"] == CLN and written["state"] == "scheduled"
    assert written["title"] == "Terminal clean of clean room B"
    filled_in(team)
    report = json.loads(team.qms(team.admin, "validate", "--format", "json"))
    assert report["errors"] == 0 and report["ok"], report
    # The pinned schema judges it: a room that is too long is an error.
    text = fill(read(team, CLN_FILE), room=f'room: "{"B" * 90}"')
    (team.world.repo / CLN_FILE).write_text(text)
    found = team.qms(team.admin, "validate", "--format", "json", ok=False)
    assert [f for f in json.loads(found)["findings"] if CLN_FILE in json.dumps(f)], found


def test_advance_status_and_due_follow_the_declaration(team: Team) -> None:
    adopt(team)
    new_cleaning(team)
    status = team.status("2026-02-03", CLN)[CLN]
    assert (status["kind"], status["state"]) == ("cleaning", "scheduled")
    assert [(d["what"], d["due"], d["owner"]) for d in status["due"]] == [
        ("cleaning", "2026-02-10", "l.santos")
    ]
    code, items = due_items(team, "2026-02-12", 30)
    assert code == 1 and [(i["record"], i["overdue"]) for i in items] == [(CLN, True)]
    code, items = due_items(team, "2026-02-03", 30)
    assert code == 0 and [(i["record"], i["overdue"]) for i in items] == [(CLN, False)]
    cleaned(team)
    status = team.status("2026-02-11", CLN)[CLN]
    assert status["state"] == "verified" and status["due"] == []
    assert status["signed_state"] in (None, "verified"), status
    assert not [n for n in status["notes"] if "does not count" in n], status
    assert due_items(team, "2026-02-12", 30) == (0, [])
    text = team.qms(team.admin, "status", "--date", "2026-02-11")
    assert CLN in text and "verified" in text


def test_check_log_and_audit_trail_see_the_signed_transitions(team: Team) -> None:
    base = team.world.head()
    adopt(team)
    new_cleaning(team)
    done, verified = cleaned(team)
    report = team.check(f"{base}..HEAD")
    assert report["ok"], report
    assert not [v for v in report["violations"] if v["severity"] == "error"], report
    assert not [v for v in report["violations"] if v["rule"].startswith("kind.")], report
    log = json.loads(team.qms(team.admin, "log", CLN, "--format", "json"))
    by_commit = {e["commit"]: e for e in log["entries"]}
    assert by_commit[done]["name"] == "Lucia Santos"
    assert "performed" in by_commit[done]["action"]
    assert by_commit[verified]["name"] == "Michael Okafor"
    assert by_commit[done]["verdict"].startswith("valid"), by_commit[done]
    assert by_commit[verified]["verdict"].startswith("valid"), by_commit[verified]
    out = team.qms(
        team.admin, *("audit-trail", "--since", "2026-02-01", "--until", "2026-02-28"),
        *("--format", "json"), ok=False,
    )  # fmt: skip
    trail = json.loads(out)
    assert trail["summary"]["invalid_signatures"] == 0
    assert trail["by_record"][CLN] >= 3
    actions = {c["commit"]: c for c in trail["changes"] if c["record"] == CLN}
    assert actions[done]["verdict"].startswith("valid"), actions[done]  # its content moved on
    assert actions[verified]["verdict"] == "valid"
    assert not [a for a in trail["anomalies"] if a["code"] != "branch.direct-commit"], trail


def test_the_server_accepts_the_kind_and_its_records(team: Team, server: GitServer) -> None:
    adopt(team)
    new_cleaning(team)
    cleaned(team)
    team.world.git("remote", "add", "origin", server.url)
    pushed = push(team.world.repo, "origin", "main")
    assert pushed.ok, pushed.stderr
    assert server.tip() == team.world.head()
    assert any("0 violations" in line for line in pushed.remote), pushed.remote


def test_the_site_has_the_register_and_a_page_for_the_record(team: Team) -> None:
    adopt(team)
    new_cleaning(team)
    cleaned(team)
    site = team.world.base / "site"
    team.qms(team.admin, "build", "--site-dir", str(site), "--date", "2026-02-11")
    register = (site / "cleaning" / "index.html").read_text()
    assert "Cleaning register" in register
    assert CLN in register and "Clean room B" in register and "verified" in register
    page = (site / "cleaning" / f"{CLN}.html").read_text()
    assert "Terminal clean of clean room B" in page and "Lucia Santos" in page
