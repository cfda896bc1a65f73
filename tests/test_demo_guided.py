"""The demo's year is made with the guided commands (issue 22), read back from its history.

A record's `state` changes only in the signed commit `qms advance` makes for the move, and a
field that a state needs (by the kind's schema: what an `if state …` clause requires, such as a
deviation's `classification` once classified) is given in the commit `qms advance --set/--from`
makes just before that move, by the person who signs it. Three kinds of hand-typed change to such
a field remain, each for a reason the commands cannot help:
- the move needs a signer independent of the record's authors (an approval): whoever gives the
  fields becomes an author, so the owner types them in before the move, and someone else signs;
- the field is already there and its state reached, and it is kept up to date as things happen
  (an action done, a notice sent): no command records those events;
- the record never reaches the state that needs the field by the story's end (a preliminary root
  cause written while the analysis goes on).
Worked out here from the demo repository's own history, schemas and policy, with PyYAML and git,
not from the demo's code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from toolkit.demo import Demo, pristine_demo
from toolkit.process import git

FOLDERS = {"deviations": "deviation", "capa": "capa", "changes": "change-control"}
MOVE = re.compile(r"^[A-Z][\w-]*: (?P<record>\S+) (?P<source>\S+) -> (?P<target>\S+)$")
WRITTEN_WITH_THE_STATE = {"state", "closed", "reopen_reason", "cancel_reason"}
INDEPENDENT = {"reviewed", "approved"}  # the policy's default, where a meaning does not say
_MISSING = object()

Field = tuple[str, ...]


@dataclass(frozen=True)
class Change:
    commit: str
    subject: str
    signer: str  # committer email
    meaning: str | None  # the QMS-Meaning trailer of an e-signature
    before: dict[str, Any] | None
    after: dict[str, Any]

    def moved(self) -> tuple[str, str] | None:
        found = MOVE.match(self.subject)
        return (found["source"], found["target"]) if found and self.meaning else None


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return pristine_demo(tmp_path_factory)


def needed_by_state(repo: Path, kind: str) -> dict[Field, set[str]]:
    """Field -> the states whose `if state …` clause (on the state alone) requires it."""
    schema = json.loads((repo / "schemas" / f"{kind}.schema.json").read_text())
    always = set(schema.get("required") or ()) | WRITTEN_WITH_THE_STATE
    found: dict[Field, set[str]] = {}
    for clause in schema.get("allOf") or ():
        condition = clause.get("if") or {}
        if set(condition.get("properties") or {}) != {"state"}:
            continue
        states = set(condition["properties"]["state"].get("enum") or ())
        then = clause.get("then") or {}
        fields: list[Field] = [(name,) for name in then.get("required") or ()]
        for name, inner in (then.get("properties") or {}).items():
            fields += [(name, sub) for sub in (inner or {}).get("required") or ()]
        for field in fields:
            if field[0] not in always:
                found.setdefault(field, set()).update(states)
    return found


def independent_meanings(repo: Path, kind: str) -> set[str]:
    policy = yaml.safe_load((repo / "qms.yaml").read_text())["signatures"][kind]
    return {
        meaning
        for meaning, rule in policy.items()
        if isinstance(rule, dict) and rule.get("independent", meaning in INDEPENDENT)
    }


def history(repo: Path, path: str) -> list[Change]:
    """Every commit that changed `path`, oldest first, each with the record before and after
    (merges left out: they bring what their branch made)."""
    commits = git(
        repo, "log", "--reverse", "--topo-order", "--no-merges", "--format=%H", "--", path
    )
    changes = []
    for commit in commits.split():
        subject, signer, meaning = git(
            repo,
            "show",
            "-s",
            "--format=%s%x00%ce%x00%(trailers:key=QMS-Meaning,valueonly,separator=%x2C)",
            commit,
        ).split("\0")
        before = (
            git(repo, "show", f"{commit}^:{path}") if _exists(repo, f"{commit}^", path) else None
        )
        changes.append(
            Change(
                commit,
                subject,
                signer,
                meaning or None,
                yaml.safe_load(before) if before is not None else None,
                yaml.safe_load(git(repo, "show", f"{commit}:{path}")),
            )
        )
    return changes


def _exists(repo: Path, commit: str, path: str) -> bool:
    return bool(git(repo, "ls-tree", "--name-only", commit, "--", path))


def value(data: Any, field: Field) -> Any:
    for step in field:
        if not isinstance(data, dict) or step not in data:
            return _MISSING
        data = data[step]
    return data


def records(repo: Path) -> list[tuple[str, str]]:
    """(path, kind) of every record with states at the demo's HEAD."""
    return [
        (path, kind)
        for folder, kind in FOLDERS.items()
        for path in git(repo, "ls-tree", "--name-only", "HEAD", f"{folder}/").split()
        if path.endswith(".yaml")
    ]


def test_states_change_only_in_signed_moves(demo: Demo) -> None:
    moves = 0
    for path, _ in records(demo.repo):
        for change in history(demo.repo, path):
            state = value(change.before, ("state",)), change.after.get("state")
            if change.before is None or state[0] == state[1]:
                continue
            assert change.moved() == state, (path, change.subject)
            others = {
                key
                for key in change.before.keys() | change.after.keys()
                if change.before.get(key) != change.after.get(key)
            }
            assert others <= WRITTEN_WITH_THE_STATE, (path, change.subject, others)
            moves += 1
    assert moves >= 30


def test_what_a_state_needs_is_given_with_its_move(demo: Demo) -> None:
    """Every change of a field a state needs is `qms advance`'s own, or one of the three
    hand-typed kinds the module's docstring names."""
    given = typed = 0
    for path, kind in records(demo.repo):
        needs = needed_by_state(demo.repo, kind)
        independent = independent_meanings(demo.repo, kind)
        changes = history(demo.repo, path)
        for n, change in enumerate(changes):
            later = changes[n + 1 :]
            fill = re.fullmatch(rf"{re.escape(path)}: .+ for '(?P<state>[a-z-]+)'", change.subject)
            for field, states in needs.items():
                old, new = value(change.before, field), value(change.after, field)
                if old == new:
                    continue
                where = (path, ".".join(field), change.subject)
                assert not change.moved(), where  # a move changes the state fields only
                if fill:
                    move = later[0].moved() if later else None
                    assert move and move[1] == fill["state"] in states, where
                    assert later[0].signer == change.signer, where  # given by who moves it
                    given += 1
                    continue
                state = value(change.before, ("state",))
                if old is not _MISSING and state in states:
                    continue  # kept up to date once its state is reached: an event
                into = next((c for c in later if (c.moved() or ("", ""))[1] in states), None)
                if into is None:
                    continue  # written ahead for a state the record never reaches
                assert into.meaning in independent, (*where, f"could be given with {into.subject}")
                assert into.signer != change.signer, where
                typed += 1
    assert given >= 20 and typed >= 5, (given, typed)


def test_records_raised_with_qms_new_keep_only_the_fields_still_to_come(demo: Demo) -> None:
    """`qms new` writes the record's whole shape, the fields for later commented out; once a
    field is given (by `qms advance --set` or typed in), its commented-out line goes (but for
    the closing date and reasons a move writes: a move changes no line but its own)."""
    raised = []
    for path, _ in records(demo.repo):
        first = git(demo.repo, "log", "--diff-filter=A", "--format=%H", "--", path).split()[-1]
        if "# Fields for later" not in git(demo.repo, "show", f"{first}:{path}"):
            continue  # its number is not the one `qms new` gives: keyed in whole
        raised.append(path)
        text = (demo.repo / path).read_text()
        held = set(re.findall(r"(?m)^([a-z_]+):", text)) - WRITTEN_WITH_THE_STATE
        block = text.partition("# Fields for later")[2]  # the last lines, if any are left
        commented = set(re.findall(r"(?m)^# ([a-z_]+):", block))
        assert not held & commented, (path, held & commented)  # a move changes no other line
        assert not re.search(r"(?m)[ \t]$", text), path
    assert {"deviations/DEV-2026-0001.yaml", "capa/CAPA-2026-0001.yaml"} <= set(raised), raised
    assert "changes/CC-2026-0001.yaml" in raised
