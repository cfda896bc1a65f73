"""What the shells offer on TAB: record IDs, lifecycle states, signature meanings, people,
audiences, roles and areas of the repository a command acts in.

Completion runs on every keystroke that asks for it, so it reads the work tree's files only: the
record folders' file names and qms.yaml (no history, no git). Anything that goes wrong (no
repository, a broken qms.yaml) gives no suggestions, never an error the shell would print.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem

from ..records.config import CONFIG_FILE
from ..records.kinds import Kind, active_kinds, kind_of_id
from ..records.repository import Repository
from ..safeyaml import LoadError, load_fields

Completer = Callable[[click.Context, click.Parameter, str], list[CompletionItem]]
_Offer = Callable[[click.Context, click.Parameter], Iterable[tuple[str, str | None]]]


def _quiet(offer: _Offer) -> Completer:
    """A click completer from (value, help) pairs: those that start with what was typed
    (ignoring case), values already given left out; nothing at all if anything fails."""

    @functools.wraps(offer)
    def complete(
        ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        try:
            given = ctx.params.get(param.name or "")
            taken = set(given) if isinstance(given, tuple | list) else set()
            wanted = incomplete.lower()
            return [
                CompletionItem(value, help=help_text)
                for value, help_text in offer(ctx, param)
                if value.lower().startswith(wanted) and value not in taken
            ]
        except Exception:  # completion must never fail loudly
            return []

    return complete


def _repository(ctx: click.Context) -> Repository:
    """The repository of --repo (parsed, not yet run: completion runs no callbacks) or of
    the current folder; the kinds its qms.yaml declares become the active ones."""
    start = ctx.find_root().params.get("repo_path")
    folder = Path(start) if start is not None else Path.cwd()
    return Repository.discover(folder, needs_git=False)


_CONFIG_FIELDS = frozenset({"people", "audiences", "roles", "areas", "signatures", "lifecycles"})


def _words(ctx: click.Context, name: str) -> tuple[str, ...]:
    """The values given for the parameter `name` before the word being completed. When that
    word is an option's value, click stops parsing at the option and leaves the arguments
    before it unassigned, in `ctx.args`."""
    given = ctx.params.get(name)
    if isinstance(given, str):
        return (given,)
    if isinstance(given, tuple | list) and given:
        return tuple(str(value) for value in given)
    return tuple(word for word in ctx.args if not word.startswith("-"))


def _config(ctx: click.Context) -> dict[str, Any]:
    """The top-level sections of qms.yaml that completion needs, read leniently."""
    root = _repository(ctx).root
    text = (root / CONFIG_FILE).read_text("utf-8")
    fields = load_fields(text, _CONFIG_FIELDS)
    return fields if isinstance(fields, dict) else {}


def _section(ctx: click.Context, name: str) -> Mapping[str, Any]:
    """A section of qms.yaml; empty when it cannot be read (the kinds' own policies apply)."""
    try:
        value = _config(ctx).get(name)
    except (OSError, UnicodeDecodeError, LoadError):
        return {}
    return value if isinstance(value, dict) else {}


def _records(ctx: click.Context, wanted: Callable[[Kind], bool]) -> list[tuple[str, str | None]]:
    layout = _repository(ctx).layout()
    return [(r.id, r.kind.label) for r in layout.records if wanted(r.kind)]


def _has_states(kind: Kind) -> bool:
    return not kind.is_document and kind.policy is not None


@_quiet
def records(ctx: click.Context, param: click.Parameter) -> list[tuple[str, str | None]]:
    """Every record of the work tree."""
    return _records(ctx, lambda kind: True)


@_quiet
def logged(ctx: click.Context, param: click.Parameter) -> list[tuple[str, str | None]]:
    """What `qms log` takes: any record, and qms.yaml."""
    return [*_records(ctx, lambda kind: True), (CONFIG_FILE, "configuration")]


@_quiet
def documents(ctx: click.Context, param: click.Parameter) -> list[tuple[str, str | None]]:
    """Records of the document family (SOPs, work instructions, forms, …)."""
    return _records(ctx, lambda kind: kind.is_document)


@_quiet
def stateful(ctx: click.Context, param: click.Parameter) -> list[tuple[str, str | None]]:
    """Records with a state machine (CAPAs, deviations, change controls, …)."""
    return _records(ctx, _has_states)


@_quiet
def change_controls(ctx: click.Context, param: click.Parameter) -> list[tuple[str, str | None]]:
    """Change controls, for the one a revision is made under."""
    return _records(ctx, lambda kind: kind.name == "change-control")


@_quiet
def copies(ctx: click.Context, param: click.Parameter) -> list[tuple[str, str | None]]:
    """Issued controlled copies' records, for `qms pdf --reprint`."""
    return _records(ctx, lambda kind: kind.name == "controlled-copy")


def _machine(ctx: click.Context, kind: Kind) -> dict[str, Any]:
    """A kind's state machine: qms.yaml's `lifecycles` entry, else the kind's declaration."""
    given = _section(ctx, "lifecycles").get(kind.name)
    machine = given if isinstance(given, dict) and "transitions" in given else kind.policy
    return machine if isinstance(machine, dict) else {}


def _moves(machine: Mapping[str, Any]) -> list[tuple[list[str], str, str]]:
    """(from states, to state, meaning) of each transition."""
    found = []
    for item in machine.get("transitions") or ():
        sources = item["from"] if isinstance(item["from"], list) else [item["from"]]
        found.append(([str(s) for s in sources], str(item["to"]), str(item.get("meaning", ""))))
    return found


def _state_of(ctx: click.Context, record_id: str) -> str | None:
    root = _repository(ctx).root
    kind = kind_of_id(record_id)
    if kind is None:
        return None
    text = (root / kind.folder / f"{record_id}{kind.suffix}").read_text("utf-8")
    fields = load_fields(text, frozenset({"state"}))
    return str(fields["state"]) if fields and "state" in fields else None


@_quiet
def states(ctx: click.Context, param: click.Parameter) -> list[tuple[str, str | None]]:
    """For `advance --to`: the states the named record may move to from its state now, with
    the meaning each move is signed under; without a record, every state of every kind."""
    record = next(iter(_words(ctx, "record")), None)
    _repository(ctx)  # the kinds qms.yaml declares
    kind = kind_of_id(record) if record is not None else None
    if record is not None and kind is not None and _has_states(kind):
        now = _state_of(ctx, record)
        moves = _moves(_machine(ctx, kind))
        return [(to, f"signed '{meaning}'") for sources, to, meaning in moves if now in sources]
    found: dict[str, str | None] = {}
    for each in active_kinds().kinds:
        if _has_states(each):
            for sources, to, _ in _moves(_machine(ctx, each)):
                for state in (*sources, to):
                    found.setdefault(state, each.label)
    return sorted(found.items())


@_quiet
def meanings(ctx: click.Context, param: click.Parameter) -> list[tuple[str, str | None]]:
    """For `sign --meaning`: the meanings of the signature policy, of the named records' kinds
    when records are named before the option."""
    _repository(ctx)
    named = _words(ctx, "records")
    kinds = {kind.name for kind in map(kind_of_id, named) if kind is not None}
    found: dict[str, str | None] = {}
    for kind, policy in _section(ctx, "signatures").items():
        if isinstance(policy, dict) and (not kinds or kind in kinds):
            for meaning, rule in policy.items():
                about = rule.get("description") if isinstance(rule, dict) else None
                found.setdefault(str(meaning), about if isinstance(about, str) else None)
    return sorted(found.items())


@_quiet
def people(ctx: click.Context, param: click.Parameter) -> list[tuple[str, str | None]]:
    """Person IDs of qms.yaml, with their printed names."""
    listed = _config(ctx).get("people")
    return [
        (str(item["id"]), str(item.get("name", "")) or None)
        for item in (listed if isinstance(listed, list) else ())
        if isinstance(item, dict) and "id" in item
    ]


def _named(section: str) -> Completer:
    """The names of a qms.yaml section that maps names to descriptions."""

    def offer(ctx: click.Context, param: click.Parameter) -> list[tuple[str, str | None]]:
        return [
            (str(name), about if isinstance(about, str) else None)
            for name, about in _section(ctx, section).items()
        ]

    offer.__name__ = section
    return _quiet(offer)


audiences = _named("audiences")
roles = _named("roles")
areas = _named("areas")


def kinds(ctx: click.Context, offered: Callable[[Kind], bool], incomplete: str) -> list[str]:
    """Kind names (`qms new`, `qms list --kind`), the repository's own kinds included."""
    with contextlib.suppress(Exception):  # outside a repository: the packaged kinds
        _repository(ctx)
    try:
        return [
            kind.name
            for kind in active_kinds().kinds
            if offered(kind) and kind.name.startswith(incomplete.lower())
        ]
    except Exception:  # completion must never fail loudly
        return []
