"""`qms advance RECORD --to STATE [--set FIELD=VALUE…] [--from FILE]`: a record moved along
its lifecycle, signed, with the fields the new state needs."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from .. import git
from ..actions.advance import advance as advance_record
from ..actions.advance import prepare, proposed, shortfall
from ..actions.editor import Edit, fill_in
from ..actions.fill import Fields, parse_sets, read_from
from ..actions.give import fill_for
from . import completers
from .common import printable, signing_time, start_folder

F = TypeVar("F", bound=Callable[..., Any])


def _given_fields(command: F) -> F:
    """The options that give a record's fields, shared by `advance` and `fill`."""
    for option in reversed(
        (
            click.option(
                "--set",
                "sets",
                multiple=True,
                metavar="FIELD=VALUE",
                help="A field the state needs (dotted for nested ones: investigation.due=…; "
                "JSON for numbers, true/false and lists); repeat for more.",
            ),
            click.option(
                "--from",
                "from_file",
                type=click.Path(dir_okay=False, path_type=Path),
                help="The fields of this YAML file (a mapping of fields to values).",
            ),
            click.option(
                "--edit/--no-edit",
                default=None,
                help="Open your editor on what the state still needs (the default on a "
                "terminal); --no-edit refuses instead, naming the --set options.",
            ),
        )
    ):
        command = option(command)
    return command


@click.command()
@click.argument("record", metavar="RECORD", shell_complete=completers.stateful)
@click.option(
    "--to",
    "target",
    required=True,
    shell_complete=completers.states,
    help="The state to move to.",
)
@click.option(
    "--reason",
    help="Why; recorded in the Reason trailer (required to reopen or cancel, and written "
    "into reopen_reason or cancel_reason).",
)
@_given_fields
@click.pass_context
def advance(
    ctx: click.Context,
    record: str,
    target: str,
    reason: str | None,
    sets: tuple[str, ...],
    from_file: Path | None,
    edit: bool | None,
) -> None:
    """Move a record with states (CAPA, deviation, change control, training session, …) to
    another state, as a commit you sign.

    Checks that the lifecycle in qms.yaml allows the move, that the new state's fields are
    filled in, and that you hold a role its signature meaning needs; writes the state (and
    the closing date, or the reason for reopening or cancelling); makes the signed commit,
    which must pass `qms check` before the branch moves. Fields given with --set or --from,
    and those the policy computes (a deviation's investigation due day), are written first
    in a commit of their own that you sign as their author, with the Reason trailer.

    On a terminal (or with --edit) a move that still lacks fields opens your editor, as
    `git commit` does, on a form of exactly those fields, each described, with the values
    the policy computes written in; it reopens with the errors at the top until the move can
    be made, or is abandoned when you leave every field empty. Without a terminal (or with
    --no-edit) a refusal names the --set options that would give what is missing.
    """
    root, now = start_folder(ctx), signing_time(ctx)
    fields = _given(root, sets, from_file)
    move = prepare(root, record, target, reason, now)
    if (
        _at_desk(edit)
        and not move.independent
        and shortfall(move, proposed(move, fields, now), now)
    ):
        shown = proposed(move, fields, now, shown=True)
        fields = fill_in(move, shown, now, _editor(move.root))
    done = advance_record(root, record, target, reason, now, fields, move)
    if done.filled:
        click.echo(printable(f"{done.record}: wrote {', '.join(done.filled)}, as yours"))
    click.echo(
        printable(
            f"{done.record}: {done.source} -> {done.target}, signed '{done.meaning}' "
            f"in commit {done.commit[:12]}"
        )
    )


@click.command()
@click.argument("record", metavar="RECORD", shell_complete=completers.stateful)
@click.option(
    "--for",
    "target",
    required=True,
    shell_complete=completers.states,
    help="The state whose fields to give.",
)
@click.option("--reason", help="Why; recorded in the Reason trailer.")
@_given_fields
@click.pass_context
def fill(
    ctx: click.Context,
    record: str,
    target: str,
    reason: str | None,
    sets: tuple[str, ...],
    from_file: Path | None,
    edit: bool | None,
) -> None:
    """Give the fields a record needs for a state, without moving it: for a move that someone
    else signs (an approval, whose signer must not have written what it signs), the person
    doing the work gives them here, then the signer runs `qms advance`.

    The fields are written in one commit of their own that you sign as their author, with the
    Reason trailer, after `qms check` passes on it. On a terminal (or with --edit), without
    --set or --from, it opens the same form as `qms advance`.
    """
    root, now = start_folder(ctx), signing_time(ctx)
    fields = _given(root, sets, from_file)
    move = prepare(root, record, target, reason, now, signing=False)
    if not fields and _at_desk(edit):
        fields = fill_in(move, proposed(move, {}, now, shown=True), now, _editor(move.root))
    done = fill_for(move, fields, now)
    wrote = ", ".join(done.fields)
    click.echo(printable(f"{done.record}: wrote {wrote}, as yours, in commit {done.commit[:12]}"))
    if done.still:
        click.echo(printable(f"'{target}' still needs:\n  " + "\n  ".join(done.still)))
    else:
        click.echo(printable(f"next: {move.command} (by whoever signs it)"))


def _given(root: Path, sets: tuple[str, ...], from_file: Path | None) -> Fields:
    """The fields of --from FILE, then of each --set."""
    fields = read_from(root / from_file) if from_file else {}
    fields.update(parse_sets(sets))
    return fields


def _at_desk(edit: bool | None) -> bool:
    """--edit, or a terminal without --no-edit."""
    return bool(edit) or (edit is None and sys.stdin.isatty() and sys.stdout.isatty())


def _editor(root: Path) -> Edit:
    command = git.editor(root)

    def edit(path: Path) -> None:
        git.run_editor(command, path)

    return edit
