"""A record's life as its people live it with the guided commands (issue 22): raised with
`qms new` and its text typed in, then moved state by state with `qms advance`, each move giving
the fields its new state needs (`--from`), while what happens between moves (an action done, a
report sent, a link to a record raised later) is typed in by the record's owner and committed
with `qms commit`.

Which fields a state needs is read from the kind's schema: those its `if state …` clauses require
(a deviation's `classification` once classified, `investigation.due` once investigated, …).
They are held back until the move into that state and given with it by the person who signs
the move, unless the move's signature must be independent of the record's authors (an
approval): a signer cannot approve what they wrote, so then the owner writes them before the
move. What the policy computes (a deviation's investigation due day) is left to
`qms advance`.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml

from ..lifecycle.special import computed_fields
from ..records.config import QmsConfig
from ..records.kinds import Kind, active_kinds
from ..records.lifecycles import STATE_FIELDS, Machine
from ..validation.schemas import packaged_schema_text
from .edits import Edit, written
from .steps import Step, qms, typed

Field = tuple[str, ...]  # a field's dotted path: ("investigation", "due")
_MISSING = object()
SIGNERS = ("m.okafor", "l.santos", "a.weber", "j.lindqvist")  # preferred, in this order


@dataclass(frozen=True)
class Life:
    """One record's life: its ID and file, its owner (who raises it and types in what happens
    to it), its kind and lifecycle, and the fields each state needs."""

    record_id: str
    path: str
    owner: str
    kind: Kind
    config: QmsConfig
    # who gave fields with a move so far: authors of the record, who never sign an independent
    # move of it (an approval merged from a branch does not clear them: signatures/ledger.py)
    givers: set[str] = dataclasses.field(default_factory=set, compare=False)

    @property
    def machine(self) -> Machine:
        return self.config.lifecycles.machines[self.kind.name]

    @functools.cached_property
    def fields(self) -> dict[Field, str]:
        return state_fields(self.kind, self.machine)

    def known(self, data: Mapping[str, Any], state: str) -> dict[str, Any]:
        """`data` without the fields of the states after `state` on the way to it."""
        machine = self.machine
        reached = {machine.initial, *_route(machine, machine.initial, state)}
        shown = copy.deepcopy(dict(data))
        for field, needed_in in self.fields.items():
            if needed_in not in reached:
                _remove(shown, field)
        return shown

    def raised(
        self,
        when: datetime,
        data: Mapping[str, Any],
        new: Sequence[str] | None,
        summary: str,
        reason: str = "new record",
    ) -> list[Step]:
        """Raised with what is known of it (`data`, with its state): `qms new` with `new` (its
        arguments after `new`), then the text typed in and committed; without `new` (its ID is
        not the one `qms new` would give), the whole file written and committed."""
        if new is None:
            return [typed(when, self.owner, {self.path: written(data)}, summary, reason)]
        edit = Edit(fields={k: v for k, v in data.items() if k != "state"}, only=True)
        return [
            qms(when, self.owner, "new", *new),
            typed(when, self.owner, {self.path: edit}, summary, reason),
        ]

    def moved(
        self,
        written: Mapping[str, Any],
        update: Mapping[str, Any],
        move: tuple[str, str],
        when: tuple[datetime, datetime],
        summary: str,
    ) -> tuple[list[Step], str, str]:
        """The move from `written` (what the file holds, its state aside) to `update`: (the
        steps, the signer, the meaning). `move`: from and to; `when`: the owner types in what
        happened, and the move is signed."""
        source, target = move
        transition = self.machine.transition(source, target)
        if transition is None:
            raise ValueError(f"{self.record_id}: no move from {source} to {target}")
        config = self.config
        rule = config.signatures[self.kind.name][transition.meaning]
        independent = rule.independent and config.separation_of_duties
        authors = {self.owner, *(self.givers if independent else ())}
        signer = _signer(config, self.kind.name, transition.meaning, authors)
        given: dict[str, Any] = {}
        first = copy.deepcopy(dict(update))  # what the owner types in before the move
        for field, needed_in in self.fields.items():
            value, before = _get(update, field), _get(written, field)
            if independent or needed_in != target or value is _MISSING or value == before:
                continue
            _put(given, field, value)
            if before is _MISSING:
                _remove(first, field)
            else:
                _put(first, field, before)
        state = {**first, "state": source}
        for field, value in computed_fields(self.kind, state, target, config.due).items():
            if _get(given, field) == value:
                _remove(given, field)  # `qms advance` computes it
        steps = self.typed_in(when[0], written, first, summary)
        fields = yaml.safe_dump(given, sort_keys=False, allow_unicode=True, width=96)
        advance = ("advance", self.record_id, "--to", target)
        steps.append(qms(when[1], signer, *advance, given=fields if given else ""))
        if given:
            self.givers.add(signer)
        return steps, signer, transition.meaning

    def typed_in(
        self, when: datetime, written: Mapping[str, Any], update: Mapping[str, Any], summary: str
    ) -> list[Step]:
        """What changed from `written` to `update`, typed in by the owner and committed
        (nothing changed: no step)."""
        changed = sorted(
            key
            for key in update.keys() | written.keys()
            if key != "state" and update.get(key, _MISSING) != written.get(key, _MISSING)
        )
        if not changed:
            return []
        edit = Edit(
            fields={key: update[key] for key in changed if key in update},
            removed=tuple(key for key in changed if key not in update),
        )
        return [typed(when, self.owner, {self.path: edit}, summary, "progress")]


def kind_named(name: str) -> Kind:
    found = next((kind for kind in active_kinds().kinds if kind.name == name), None)
    if found is None:
        raise ValueError(f"no kind {name!r}")
    return found


def state_fields(kind: Kind, machine: Machine) -> dict[Field, str]:
    """Each field a state of `kind` needs (by its schema's `if state …` clauses), with the first
    state on the way from the initial one that needs it; not the fields every state needs,
    nor those `qms advance` writes with the state (closed, the reasons)."""
    schema = json.loads(packaged_schema_text(kind.schema))
    steps = {machine.initial: 0}
    for state in {t.target for t in machine.transitions}:
        with contextlib.suppress(ValueError):  # reached only by reopening or cancelling
            steps[state] = len(_route(machine, machine.initial, state))
    always = set(schema.get("required") or ()) | STATE_FIELDS
    found: dict[Field, str] = {}
    for clause in schema.get("allOf") or ():
        condition = clause.get("if") or {}
        if set(condition.get("properties") or {}) != {"state"}:
            continue  # needed on another condition too (a critical deviation's CAPA): a fact
        states = [s for s in condition["properties"]["state"].get("enum") or () if s in steps]
        if not states:
            continue
        first = min(states, key=steps.__getitem__)
        then = clause.get("then") or {}
        fields: list[Field] = [(name,) for name in then.get("required") or ()]
        for name, inner in (then.get("properties") or {}).items():
            if isinstance(inner, Mapping):
                fields += [(name, sub) for sub in inner.get("required") or ()]
        for field in fields:
            if field[0] not in always:
                found[field] = min(first, found.get(field, first), key=steps.__getitem__)
    return found


def _get(data: Any, field: Field) -> Any:
    for step in field:
        if not isinstance(data, Mapping) or step not in data:
            return _MISSING
        data = data[step]
    return data


def _put(data: dict[str, Any], field: Field, value: Any) -> None:
    for step in field[:-1]:
        data = data.setdefault(step, {})
    data[field[-1]] = copy.deepcopy(value)


def _remove(data: dict[str, Any], field: Field) -> None:
    """Take out the field, and any block it leaves empty."""
    parents = [data]
    for step in field[:-1]:
        child = parents[-1].get(step)
        if not isinstance(child, dict):
            return
        parents.append(child)
    parents[-1].pop(field[-1], None)
    for parent, step in zip(reversed(parents[:-1]), reversed(field[:-1]), strict=True):
        if parent.get(step) == {}:
            del parent[step]


def _route(machine: Machine, source: str, target: str) -> list[str]:
    """The shortest path of transitions that need no reason (no reopening or cancelling)."""
    paths: dict[str, list[str]] = {source: []}
    frontier = [source]
    while frontier and target not in paths:
        state = frontier.pop(0)
        for transition in machine.transitions:
            if (
                transition.source == state
                and not transition.reason
                and transition.target not in paths
            ):
                paths[transition.target] = [*paths[state], transition.target]
                frontier.append(transition.target)
    if target not in paths:
        raise ValueError(f"no route from {source} to {target}")
    return paths[target]


def _signer(config: QmsConfig, kind: str, meaning: str, authors: set[str]) -> str:
    roles = set(config.signatures[kind][meaning].roles)
    candidates: list[str] = [
        *SIGNERS,
        *(p.id for p in config.people if p.id not in SIGNERS),
    ]
    for person_id in candidates:
        person = config.person(person_id)
        if person and person_id not in authors and roles & set(person.roles):
            return person_id
    raise ValueError(f"nobody but {', '.join(sorted(authors))} may sign {kind} {meaning}")
