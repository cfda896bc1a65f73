"""Lifecycles from qms.yaml: the state machine of each kind of the record family (CAPA,
deviation, …), and what approves a version of each kind of the document family (SOP, …).

A state machine names its initial state, its closed states (a closed record changes only by
reopening), the allowed transitions with the signature meaning each needs (the roles come from
the signature policy), and the fields each state or transition requires beyond the schema's
own, which always apply and cannot be loosened here.

    lifecycles:
      capa:
        initial: initiated
        closed: [closed, cancelled]
        transitions:
          - {from: action-plan, to: implementation, meaning: approved}
          - {from: closed, to: action-plan, meaning: reopened, requires: [reopen_reason]}
        requires:
          closed: [effectiveness.result]
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .kinds import KINDS, PLACEHOLDER, Kind, packaged


@dataclass(frozen=True)
class Requirement:
    """A field that must hold a value: 'root_cause', 'actions[].evidence' (in every item),
    or 'effectiveness.verdict=not-effective' (that exact value)."""

    text: str

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.text.split("=", 1)[0].split("."))

    @property
    def value(self) -> str | None:
        return self.text.split("=", 1)[1] if "=" in self.text else None

    def met(self, data: Any) -> bool:
        return all(self._ok(found) for found in _values(data, self.path))

    def _ok(self, found: Any) -> bool:
        if self.value is not None:
            return isinstance(found, str | bool | int) and _text(found) == self.value
        if isinstance(found, str) and PLACEHOLDER in found:
            return False  # template text is not an answer
        return found not in (None, "", [], {})


def _text(value: str | bool | int) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _values(data: Any, path: tuple[str, ...]) -> Iterator[Any]:
    """Every value at `path`; `name[]` steps into each item of a list (none: nothing to check)."""
    if not path:
        yield data
        return
    step, rest = path[0], path[1:]
    each = step.endswith("[]")
    value = data.get(step.removesuffix("[]")) if isinstance(data, dict) else None
    if not each:
        yield from _values(value, rest)
        return
    if not isinstance(value, list) or not value:
        yield None  # the list itself is required
        return
    for item in value:
        yield from _values(item, rest)


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    meaning: str  # the signature meaning the state change is made under
    requires: tuple[Requirement, ...] = ()
    reason: bool = False  # the signer must give a reason (reopening, cancelling)


@dataclass(frozen=True)
class Machine:
    kind: str  # "capa" or "deviation"
    initial: str
    closed: frozenset[str]
    transitions: tuple[Transition, ...]
    requires: Mapping[str, tuple[Requirement, ...]]  # state -> fields it needs

    def transition(self, source: str, target: str) -> Transition | None:
        return next(
            (t for t in self.transitions if t.source == source and t.target == target), None
        )

    def targets(self, source: str) -> list[str]:
        return [t.target for t in self.transitions if t.source == source]

    def meanings(self) -> frozenset[str]:
        return frozenset(t.meaning for t in self.transitions)


@dataclass(frozen=True)
class DocumentPolicy:
    approval: tuple[str, ...]  # meanings that together make a version approved
    release: str = "approved"  # once signed, the version's content is frozen
    retire: str = "retired"
    periodic_review: str = "periodic-review"

    @classmethod
    def of(cls, policy: Mapping[str, Any]) -> DocumentPolicy:
        """From a `document` section or `lifecycles.<kind>` (defaults merged in already)."""
        optional = ("release", "retire", "periodic_review")
        return cls(tuple(policy["approval"]), **{k: policy[k] for k in optional if k in policy})

    @property
    def meanings(self) -> frozenset[str]:
        """Every meaning the lifecycle uses: approval, release, retirement, periodic review."""
        return frozenset((*self.approval, self.release, self.retire, self.periodic_review))


@dataclass(frozen=True)
class Lifecycles:
    documents: Mapping[str, DocumentPolicy]  # every kind of the document family: "sop", …
    machines: Mapping[str, Machine]  # every kind of the record family with a state machine

    @property
    def sop(self) -> DocumentPolicy:
        return self.documents["sop"]


# Used for any kind that qms.yaml does not configure; `qms init` writes them out in full.
# They are the kinds' declarations (gitqms/kinds/*.yaml): `document` for the document family,
# `lifecycle` for the record family.
DEFAULTS: dict[str, Any] = dict(packaged().defaults)

# Fields `qms advance` writes along with the state; a signed change of only these is not
# authorship of the record (separation of duties).
STATE_FIELDS = frozenset({"state", "closed", "reopen_reason", "cancel_reason"})
EXTENSION_MEANING = "extended"  # a deviation's investigation extension, signed by QA
REASON_FIELDS = {"reopen_reason", "cancel_reason"}


def _machine(kind: str, data: Mapping[str, Any]) -> Machine:
    transitions: list[Transition] = []
    for item in data["transitions"]:
        sources = item["from"] if isinstance(item["from"], list) else [item["from"]]
        requires = tuple(Requirement(text) for text in item.get("requires") or ())
        reason = any(r.path[0] in REASON_FIELDS for r in requires)
        transitions.extend(
            Transition(source, item["to"], item["meaning"], requires, reason) for source in sources
        )
    return Machine(
        kind=kind,
        initial=data["initial"],
        closed=frozenset(data.get("closed") or ()),
        transitions=tuple(transitions),
        requires=MappingProxyType(
            {
                state: tuple(Requirement(text) for text in texts)
                for state, texts in (data.get("requires") or {}).items()
            }
        ),
    )


def build_lifecycles(data: Mapping[str, Any] | None, kinds: tuple[Kind, ...] = KINDS) -> Lifecycles:
    """The lifecycles of qms.yaml's `lifecycles` section; each kind's declared defaults for
    any kind it omits."""
    given = data or {}
    documents: dict[str, DocumentPolicy] = {}
    machines: dict[str, Machine] = {}
    for kind in kinds:
        default = DEFAULTS.get(kind.name, kind.policy)
        if default is None:
            continue  # no lifecycle of its own: an audit-trail review is closed when written
        policy = {**default, **(given.get(kind.name) or {})}
        if kind.is_document:
            documents[kind.name] = DocumentPolicy.of(policy)
        else:
            machines[kind.name] = _machine(kind.name, given.get(kind.name) or default)
    return Lifecycles(documents=MappingProxyType(documents), machines=MappingProxyType(machines))
