"""What a change to one record's content must satisfy: a document's (an SOP's) versions only
rise, a record with states (a CAPA, a deviation) moves only along its lifecycle with the
signature and fields each step needs, and a migration block is never changed. What is special
to one kind (an audit-trail review) is in special.py.

Each rule yields the breaches it finds; the gate (gate.py) adds the commit and the record.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..records.config import QmsConfig
from ..records.lifecycles import Machine, Transition
from ..records.migration import MIGRATED_MEANING, MIGRATION_FIELD
from ..signatures.claims import content_hash, record_kind
from ..signatures.verify import Verdict
from .violations import Breach


def version(data: object) -> int | None:
    """A document's (an SOP's) stated version, when it is a whole number."""
    value = data.get("version") if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def sop_rules(
    record: str, new: Mapping[str, Any], content: bytes, released: Mapping[int, str]
) -> Iterator[Breach]:
    """A document's versions only rise (any kind of the document family; the rule codes keep
    their published 'sop.' names). `content`: the document's new bytes; `released`: version ->
    content hash of each approved version before this commit."""
    number = version(new)
    if number is None or not released:
        return
    newest = max(released)
    if number < newest:
        yield Breach(
            "sop.version-decreased",
            f"{record} states version {number}, below its approved version {newest}; "
            "versions only increase",
            f"set 'version: {newest + 1}'",
        )
    elif number in released and released[number] != content_hash(content):
        yield Breach(
            "sop.version-not-raised",
            f"{record} v{number} is an approved version; this commit changes it without "
            "raising the version",
            f"set 'version: {newest + 1}' and 'supersedes: \"{record} v{newest}\"' with the "
            "reason for the change, then have the new version reviewed and approved",
        )
    elif number > newest and new.get("supersedes") != f"{record} v{newest}":
        yield Breach(
            "sop.supersedes",
            f"{record} v{number} follows approved version {newest}, but 'supersedes' says "
            f"{new.get('supersedes')!r}",
            f"write 'supersedes: \"{record} v{newest}\"'",
        )


def state_rules(
    record: str,
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any],
    config: QmsConfig,
    verdicts: Sequence[Verdict],
) -> Iterator[Breach]:
    """A record with states (a CAPA, a deviation, …) starts in its initial state, is not edited
    once closed, and moves only along its lifecycle, signed, with the fields the step requires.
    A record kind without a state machine has no state rules."""
    kind = record_kind(record)
    assert kind is not None
    machine = config.lifecycles.machines.get(kind.name)
    if machine is None:
        return
    label = kind.label
    target = new.get("state")
    if old is None:
        if target != machine.initial and not _signed_migration(record, new, verdicts):
            yield _not_initial(record, new, machine, label)
        return
    source = old.get("state")
    if source == target:
        if source in machine.closed:
            yield Breach(
                "record.closed",
                f"{record} is {source}; a {source} record is not edited",
                f"reopen it first: qms advance {record} --to "
                f"{'/'.join(machine.targets(str(source))) or 'STATE'} --reason '…'",
            )
        return
    transition = machine.transition(str(source), str(target))
    if transition is None:
        allowed = ", ".join(machine.targets(str(source))) or "none"
        yield Breach(
            "state.transition",
            f"{record} moved from '{source}' to '{target}', which its lifecycle does not allow",
            f"from '{source}' a {label} may move to: {allowed} (lifecycles in qms.yaml)",
        )
        return
    rule = config.signatures.get(kind.name, {}).get(transition.meaning)
    roles = ", ".join(sorted(rule.roles)) if rule else "(none defined)"
    yield from _transition_signed(record, source, target, transition, roles, verdicts)
    yield from _transition_requires(record, source, target, transition, new)


def _not_initial(record: str, new: Mapping[str, Any], machine: Machine, label: str) -> Breach:
    migrated = MIGRATION_FIELD in new
    fix = f"create it with state '{machine.initial}' and move it on with " + (
        f"`qms advance {record} --to STATE`"
        if not migrated
        else f"`qms import … --commit`, signed with the meaning '{MIGRATED_MEANING}' "
        "by a person holding the role the policy gives it"
    )
    return Breach(
        "state.initial",
        f"{record} was created in state '{new.get('state')}'; a new {label} starts as "
        f"'{machine.initial}'"
        + (
            f", unless it is migrated with a valid '{MIGRATED_MEANING}' signature "
            "in the same commit"
            if migrated
            else ""
        ),
        fix,
    )


def _signed_migration(record: str, new: Mapping[str, Any], verdicts: Sequence[Verdict]) -> bool:
    """A migrated record may start past its initial state when this very commit carries a
    valid 'migrated' signature for it, claiming the state it was created in."""
    return MIGRATION_FIELD in new and any(
        v.record == record
        and v.ok
        and v.meaning == MIGRATED_MEANING
        and v.version == str(new.get("state"))
        for v in verdicts
    )


def _transition_signed(
    record: str,
    source: object,
    target: object,
    transition: Transition,
    roles: str,
    verdicts: Sequence[Verdict],
) -> Iterator[Breach]:
    """A step of the lifecycle is signed with its meaning in the same commit."""
    if any(
        v.record == record and v.ok and v.meaning == transition.meaning and v.version == target
        for v in verdicts
    ):
        return
    yield Breach(
        "state.signature",
        f"{record} moved from '{source}' to '{target}' without a valid signature "
        f"'{transition.meaning}' in the same commit",
        f"make the change with `qms advance {record} --to {target}`, signed by a "
        f"person holding one of: {roles}",
    )


def _transition_requires(
    record: str, source: object, target: object, transition: Transition, new: Mapping[str, Any]
) -> Iterator[Breach]:
    for requirement in transition.requires:
        if not requirement.met(new):
            yield Breach(
                "state.requires",
                f"moving {record} from '{source}' to '{target}' needs '{requirement.text}'",
                f"fill in '{requirement.text}' (qms advance --reason writes a reopening or "
                "cancelling reason)",
            )


def migration_rules(
    record: str, old: Mapping[str, Any] | None, new: Mapping[str, Any]
) -> Iterator[Breach]:
    """The migration block is written when the record is created and never changed."""
    if old is None or old.get(MIGRATION_FIELD) == new.get(MIGRATION_FIELD):
        return
    what = "added to" if MIGRATION_FIELD not in old else "changed in"
    if MIGRATION_FIELD not in new:
        what = "removed from"
    yield Breach(
        "migration.changed",
        f"the '{MIGRATION_FIELD}' block was {what} {record}; it records where a migrated "
        "record came from and is written only when the record is created",
        "restore the block as it was (git revert this commit); a legacy record is migrated "
        "as a new record with `qms import`",
    )
