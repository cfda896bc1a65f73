"""`qms advance RECORD --to STATE`: the state change of a record with states (a CAPA, a
deviation, any kind of the record family with a state machine), as one signed commit.

Everything is checked before anything is written: the transition is allowed from the committed
state, the new state's fields are there, the signer holds a role the transition's meaning needs
and did not author the version. The file is edited line by line, so only the state (and the
closing date or the reason for reopening or cancelling) changes. The commit is built with
plumbing and put through the same gate as `qms check` before the branch moves; `land` then
moves the branch and brings the index and work tree along. A refusal leaves the repository as
it was; a kill leaves it as before or as after (landing.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .. import git
from ..errors import QmsError, Refused
from ..history.commits import format_trailers
from ..history.read import record_blobs
from ..landing import land
from ..lifecycle.session_rules import RECORDED
from ..lifecycle.session_rules import SPECIAL as SESSION
from ..lifecycle.sessions import recording_problems
from ..lifecycle.special import computed_fields
from ..records.config import QmsConfig
from ..records.kinds import KINDS, Kind, kind_of_id
from ..records.lifecycles import DEFAULTS, STATE_FIELDS, Machine, Transition
from ..records.repository import RecordFile, Repository
from ..rules.check import check_range
from ..safeyaml import LoadError, decode_record_bytes, load_yaml
from ..signatures.claims import trailer_lines
from ..signatures.registry import Registry
from ..signatures.verify import Walk, walk_to_sign
from ..validation.record_checks import Context
from ..validation.run import check_record_text
from ..validation.schemas import validator
from .fill import Fields, fill, wanted
from .form import Ask, default, describe, item_fields, missing, schema_of, templated
from .sign import Head, current_signer, head, plan_record_signatures, require_committed

_CONTINUATION = re.compile(r"^([ \t]+\S|-( |$))")


@dataclass(frozen=True)
class Advanced:
    commit: str
    record: str
    source: str
    target: str
    meaning: str
    filled: tuple[str, ...] = ()  # the fields written before the move, dotted


@dataclass(frozen=True, kw_only=True)
class Move:
    """A move of one record, checked as far as it can be before anything is written: the
    transition is allowed, a reason is given where it needs one, you may sign it."""

    root: Path
    start: Head
    walk: Walk
    registry: Registry
    kind: Kind
    record: str
    path: str  # the record's file, relative to the folder the command runs in
    text: str  # as committed
    source: str
    transition: Transition
    machine: Machine
    reason: str | None
    signer: str  # the person who signs it

    @property
    def config(self) -> QmsConfig:
        return self.registry.config

    @property
    def command(self) -> str:
        return f"qms advance {self.record} --to {self.transition.target}"

    @property
    def independent(self) -> bool:
        """Whether the move's signer must not have written the record's content (separation
        of duties): then the fields it needs are given by someone else, with `qms fill`."""
        rule = self.config.signatures.get(self.kind.name, {}).get(self.transition.meaning)
        return rule is not None and rule.independent

    @property
    def fill_command(self) -> str:
        return f"qms fill {self.record} --for {self.transition.target}"


def prepare(
    root: Path,
    record_id: str,
    target: str,
    reason: str | None,
    now: datetime,
    *,
    signing: bool = True,
) -> Move:
    """The move, refused now if it cannot be made whatever fields are given. `signing`: you
    are to sign it (else you only fill in what it needs: `qms fill`)."""
    repo = Repository.discover(root)
    start = head(repo.root)
    # the walk knows the kinds in force, which the work tree's qms.yaml may not say
    walk, registry = walk_to_sign(repo.root, start.commit)
    kind = kind_of_id(record_id)
    if kind is None or kind.is_document:
        raise _no_states(record_id, kind)
    relative = f"{kind.folder}/{record_id}{kind.suffix}"
    prefix = git.show_prefix(repo.root)
    require_committed(repo.root, [relative], record_id)
    found = [
        c for _, k, c in git.cat_objects(repo.root, [f"{start.commit}:{prefix}{relative}"]) if k
    ]
    if not found:
        raise QmsError(f"{record_id} is not committed", hint="commit it first, then advance it")
    text = _text(found[0], relative)
    source = str(_data(text, relative).get("state"))
    machine = registry.config.lifecycles.machines.get(kind.name)
    if machine is None:
        raise _no_states(record_id, kind)
    transition = _transition(machine, record_id, source, target)
    if signing and transition.reason and not (reason and reason.strip()):
        raise QmsError(
            f"moving {record_id} from '{source}' to '{target}' needs a reason",
            hint=f"qms advance {record_id} --to {target} --reason 'why'",
        )
    signer = current_signer(repo.root, registry, now)
    if signing:  # who may sign the move, before what the record lacks: no one fills in vain
        moved = _edit(text, transition, machine, reason, now).encode("utf-8")
        plan_record_signatures(
            walk, start, {record_id: moved}, transition.meaning, signer, registry,
            state_change=True,
        )  # fmt: skip
    return Move(
        root=repo.root, start=start, walk=walk, registry=registry, kind=kind, record=record_id,
        path=relative, text=text, source=source, transition=transition, machine=machine,
        reason=reason, signer=signer.person.id,
    )  # fmt: skip


def proposed(move: Move, given: Fields, now: datetime, *, shown: bool = False) -> Fields:
    """The fields to write: what the policy computes and the schema's defaults (you as the
    checker, today as the day) for what the move still lacks, then what you gave. A default
    inside a block (effectiveness.checked_by) is written only with something else you give in
    that block now (its result): else it would name you for what someone else recorded.
    `shown`: for the editor's form, where every default is written in for you to see."""
    fields = {**computed_fields(move.kind, _data(move.text, move.path), move.transition.target,
                                move.config.due), **given}  # fmt: skip
    schema = schema_of(validator(move.kind.schema))
    values = {"signer": move.signer, "today": now.date().isoformat()}
    for path in missing(validator(move.kind.schema), _moved_data(move, fields, now)):
        which = default(schema, path)
        if not which or path in fields:
            continue
        block = path[:-1]
        if shown or not block or any(p[: len(block)] == block and p != path for p in given):
            fields[path] = values[which]
    return fields


def shortfall(move: Move, fields: Fields, now: datetime) -> list[str]:
    """Why the move cannot be made with `fields` yet; [] when it can."""
    return _unready(move, fields, now)[0]


def asks(move: Move, fields: Fields, now: datetime) -> list[Ask]:
    """What the editor's form asks for: each field the move lacks without `fields`, and each
    of `fields`, with what it holds and takes, written in with the value of `fields` (or the
    record's own, for a list that must be completed)."""
    schema = schema_of(validator(move.kind.schema))
    data = _moved_data(move, {}, now)
    requires = (*move.transition.requires, *move.machine.requires.get(move.transition.target, ()))
    paths = missing(validator(move.kind.schema), data)
    paths += [_asked(r.path) for r in requires if not r.met(data)]
    paths += templated(data)
    return [
        Ask(path, describe(schema, path), _value(fields, data, path), item_fields(schema, path))
        for path in dict.fromkeys([*paths, *fields])
    ]


def _asked(path: tuple[str, ...]) -> tuple[str, ...]:
    """A requirement's path as the form asks it: a list as a whole ('actions[].evidence')."""
    steps = []
    for step in path:
        steps.append(step.removesuffix("[]"))
        if step.endswith("[]"):
            break
    return tuple(steps)


def _value(fields: Fields, data: dict[str, Any], path: tuple[str, ...]) -> Any:
    if path in fields:
        return fields[path]
    node: Any = data
    for step in path:
        node = node.get(step) if isinstance(node, dict) else None
    return node if isinstance(node, list) and node else None


def advance(
    root: Path,
    record_id: str,
    target: str,
    reason: str | None,
    now: datetime,
    given: Fields | None = None,
    move: Move | None = None,
) -> Advanced:
    """`given`: fields to set first (`--set`, `--from`, the editor's form), with those the
    policy computes, in a commit of their own signed by you as their author; the state change
    follows it. `move`: as `prepare` returned it, when the caller already has it."""
    move = move or prepare(root, record_id, target, reason, now)
    root, start, transition = move.root, move.start, move.transition
    base, walk, registry, old_text = start, move.walk, move.registry, move.text
    if given and move.independent:
        raise _not_yours(move, given)
    fields = {} if move.independent else proposed(move, given or {}, now)
    if fields:
        base, old_text = filled_commit(root, base, move.path, old_text, fields, target, reason)
        walk, registry = walk_to_sign(root, base.commit)
    relative = move.path
    new_text = _edit(old_text, transition, move.machine, reason, now)
    _check_only_state_changed(_data(old_text, relative), _data(new_text, relative), relative)
    signer = current_signer(root, registry, now)
    content = new_text.encode("utf-8")
    claims = plan_record_signatures(
        walk, base, {record_id: content}, transition.meaning, signer, registry, state_change=True
    )
    config = registry.config
    if move.kind.special == SESSION and transition.target == RECORDED:
        _refuse_session(walk, record_id, _data(new_text, relative), signer.person.id, config, now)
    refuse_unready(move, fields, now)

    said = (reason or "").strip() or f"{transition.meaning}: moved from {move.source} to {target}"
    subject = f"{transition.meaning.capitalize()}: {record_id} {move.source} -> {target}"
    message = f"{subject}\n\n{format_trailers(trailer_lines(claims, said))}\n"
    prefix = git.show_prefix(root)
    blob = git.hash_blob(root, content)
    tree = git.tree_with_file(root, base.tree, f"{prefix}{relative}", blob)
    new = git.commit_tree_signed(root, tree, [base.commit], message)
    report = check_range(root, f"{start.commit}..{new}")
    if report.errors:
        raise Refused(
            "the state change would not pass `qms check`, so it was not recorded:\n  "
            + "\n  ".join(f"[{v.rule}] {v.message}" for v in report.errors)
        )
    files = {f"{prefix}{relative}": content}
    land(root, start.ref, start.commit, new, files, f"qms: {subject}")
    filled = tuple(".".join(path) for path in fields)
    return Advanced(new, record_id, move.source, target, transition.meaning, filled)


def _not_yours(move: Move, given: Fields) -> Refused:
    names = ", ".join(".".join(path) for path in given)
    target, meaning = move.transition.target, move.transition.meaning
    return Refused(
        f"{move.record}: '{target}' is signed '{meaning}' by someone who did not write what it "
        f"signs (separation of duties), so its signer cannot also give {names}; nothing was "
        "changed",
        hint=f"the person doing the work gives them: {move.fill_command} --set FIELD=VALUE … "
        f"(or its form); then `{move.command}`",
    )


def _moved_data(move: Move, fields: Fields, now: datetime) -> dict[str, Any]:
    """The record as it would be after the move, with `fields` written."""
    text = fill(move.text, fields, move.path) if fields else move.text
    return _data(_edit(text, move.transition, move.machine, move.reason, now), move.path)


def _unready(move: Move, fields: Fields, now: datetime) -> tuple[list[str], list[tuple[str, ...]]]:
    """What keeps the record from the move's state with `fields` written (errors, no template
    text, the lifecycle's requirements), in words, and the fields that would give it."""
    text = fill(move.text, fields, move.path) if fields else move.text
    text = _edit(text, move.transition, move.machine, move.reason, now)
    record = RecordFile(move.kind, move.path, move.record)
    ids = record_blobs(move.root, move.start.commit, git.show_prefix(move.root))
    findings = check_record_text(record, text, Context(move.config, {i: i for i in ids}, now))[2]
    target = move.transition.target
    unmet = [r.text for r in move.transition.requires if not r.met(_data(text, move.path))]
    blocking = [f for f in findings if f.severity == "error" or f.code == "placeholder"]
    errors = [f"{f.message} (fix: {f.fix})" for f in blocking]
    errors += [f"'{target}' needs '{text}'" for text in unmet]
    names = wanted(blocking, unmet)
    return errors, [tuple(name.split(".")) for name in names]


def refuse_unready(move: Move, fields: Fields, now: datetime) -> None:
    """Refuse a move to a state whose fields are not all there (no errors, no template text),
    naming the --set options that would give them."""
    errors, paths = _unready(move, fields, now)
    if errors:
        record, target = move.record, move.transition.target
        sets = " ".join(f"--set {'.'.join(path)}=…" for path in paths)
        give = move.fill_command if move.independent else move.command
        hint = (
            f"give what '{target}' needs: {give} {sets}"
            if sets
            else (f"fill in what '{target}' needs, then advance")
        )
        if move.independent and sets:
            hint += f" (by the person doing the work), then `{move.command}`"
        raise Refused(
            f"{record} cannot move to '{target}' yet; nothing was changed:\n  "
            + "\n  ".join(f"{move.path}: {error}" for error in errors),
            hint=hint,
        )


def filled_commit(
    root: Path,
    base: Head,
    relative: str,
    text: str,
    fields: Fields,
    target: str,
    reason: str | None,
) -> tuple[Head, str]:
    """A commit on top of `base` (not yet on any branch) that sets `fields`, signed by you as
    their author, and the record's new text."""
    filled = fill(text, fields, relative)
    names = ", ".join(_named(fields))
    said = (reason or "").strip() or f"what '{target}' needs"
    message = f"{relative}: {names} for '{target}'\n\n{format_trailers([('Reason', said)])}\n"
    prefix = git.show_prefix(root)
    blob = git.hash_blob(root, filled.encode("utf-8"))
    tree = git.tree_with_file(root, base.tree, f"{prefix}{relative}", blob)
    commit = git.commit_tree_signed(root, tree, [base.commit], message)
    return Head(base.ref, commit, tree), filled


def _named(fields: Fields) -> list[str]:
    """The fields given, for a commit's subject: a block given whole by its name, a single
    field of one by its dotted path (classification; investigation.due)."""
    groups: dict[str, list[tuple[str, ...]]] = {}
    for path in fields:
        groups.setdefault(path[0], []).append(path)
    return [".".join(paths[0]) if len(paths) == 1 else top for top, paths in groups.items()]


# The labels of the kinds with states (CAPA, deviation, change control) and of the documents
# (SOP), for people: "a CAPA, deviation or change control".
_LABELS = [k.label for k in KINDS if not k.is_document and isinstance(DEFAULTS.get(k.name), dict)]
_WITH_STATES = (
    f"{', '.join(_LABELS[:-1])} or {_LABELS[-1]}" if len(_LABELS) > 1 else "".join(_LABELS)
)


def _plural(label: str) -> str:
    """'policy' -> 'policies', 'document of external origin' -> 'documents of external origin'."""
    word, of, rest = label.partition(" of ")
    word = word[:-1] + "ies" if word.endswith("y") else word + "s"
    return word + of + rest


_PLURALS = [_plural(k.label) for k in KINDS if k.is_document]
_DOCUMENTS = (
    f"{', '.join(_PLURALS[:-1])} and {_PLURALS[-1]}" if len(_PLURALS) > 1 else "".join(_PLURALS)
)


def _no_states(record_id: str, kind: Kind | None) -> QmsError:
    """The refusal for an ID that names no record with a state machine."""
    if kind is None or kind.is_document:
        why = (
            f"{_DOCUMENTS} have no states to advance: their status follows from signatures "
            "(qms review, qms approve, qms sign --meaning retired)"
        )
    else:
        why = f"the {kind.label} {record_id} has no states to advance"
    return QmsError(f"{record_id!r} is not a {_WITH_STATES} ID", hint=why)


def _refuse_session(
    walk: Walk, record_id: str, data: dict[str, Any], signer: str, config: QmsConfig, now: datetime
) -> None:
    """A training session is recorded only by its trainer, for people in the audiences of
    approved versions, once held: else it would train no one."""
    problems = recording_problems(walk, record_id, data, signer, config, now.date())
    if problems:
        raise Refused(
            f"{record_id} cannot be recorded: it would train no one; nothing was changed:\n  "
            + "\n  ".join(f"[{p.code}] {p.message} (fix: {p.fix})" for p in problems),
            hint="correct the draft, commit it with a Reason trailer, then record it",
        )


def _text(content: bytes, path: str) -> str:
    try:
        return decode_record_bytes(content)
    except LoadError as error:
        raise QmsError(f"{path}: {error.message}", hint=error.fix) from None


def _data(text: str, path: str) -> dict[str, Any]:
    try:
        data = load_yaml(text, lines=False).data
    except LoadError as error:
        raise QmsError(f"{path}:{error.line}: {error.message}", hint=error.fix) from None
    if not isinstance(data, dict):
        raise QmsError(f"{path} does not hold a record", hint=f"run `qms validate {path}`")
    return data


def _transition(machine: Machine, record_id: str, source: str, target: str) -> Transition:
    transition = machine.transition(source, target)
    if transition is None:
        allowed = ", ".join(machine.targets(source)) or "none (it is final)"
        raise QmsError(
            f"{record_id} is '{source}'; its lifecycle does not allow a move to '{target}'",
            hint=f"from '{source}' it may move to: {allowed}",
        )
    return transition


def _edit(
    text: str, transition: Transition, machine: Machine, reason: str | None, now: datetime
) -> str:
    """The record's text with its new state, and the fields that go with that state."""
    text = _set(text, "state", transition.target)
    if transition.target == "closed":
        text = _set(text, "closed", json.dumps(now.date().isoformat()))
    if transition.source in machine.closed:
        text = _set(text, "closed", None)
    for field in ("reopen_reason", "cancel_reason"):
        if any(r.path[0] == field for r in transition.requires) and reason:
            text = _set(text, field, json.dumps(reason.strip()))
    return text


def _set(text: str, key: str, value: str | None) -> str:
    """Replace (or append, or with None remove) one top-level field, keeping every other line;
    a field appended goes above the comment lines that end the record (the fields for later
    `qms new` wrote), not under them."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith(f"{key}:")), None)
    new = [] if value is None else [f"{key}: {value}\n"]
    if start is None:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        end = len(lines)
        while end > 0 and lines[end - 1].startswith("#"):
            end -= 1
        return "".join(lines[:end] + new + lines[end:])
    end = start + 1  # the value's own lines: indented, or a list's items; not blanks or comments
    while end < len(lines) and _CONTINUATION.match(lines[end]):
        end += 1
    return "".join(lines[:start] + new + lines[end:])


def _check_only_state_changed(old: dict[str, Any], new: dict[str, Any], path: str) -> None:
    changed = {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
    if changed - STATE_FIELDS:
        raise QmsError(
            f"editing {path} would change {', '.join(sorted(changed - STATE_FIELDS))}; "
            "nothing was written",
            hint="the file's layout is unusual; edit the state by hand, commit, and sign it",
        )
