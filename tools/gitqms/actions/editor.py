"""The editor loop of `qms advance` (issue 22, item 1), as `git commit` has one: the form of
what a move still needs is written to QMS_ADVANCE_EDITMSG in the git folder and opened in
your editor; on save it is read and judged, and opened again with the errors at the top
until the move can be made or you leave every field empty. The file stays after the command,
so what you typed is not lost when you abandon."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from .. import git
from ..errors import QmsError, Refused
from .advance import Move, asks, shortfall
from .fill import Fields
from .form import FormError, header, read, render, with_errors

FORM = "QMS_ADVANCE_EDITMSG"
Edit = Callable[[Path], None]  # opens the file in the editor and returns when it is closed


def form_file(root: Path) -> Path:
    return git.git_dir(root) / FORM


def fill_in(move: Move, fields: Fields, now: datetime, edit: Edit) -> Fields:
    """The fields you gave in the editor, judged ready for the move; refused as abandoned
    when you gave none."""
    target = move.transition.target
    where = form_file(move.root)
    asked = asks(move, fields, now)
    head = header(
        move.command, f"{move.record}: {move.source} -> {target} ({move.transition.meaning})"
    )
    text = render(head, asked)
    while True:
        where.write_text(text, encoding="utf-8")
        edit(where)
        text = where.read_text(encoding="utf-8")
        try:
            given = read(text, [ask.path for ask in asked])
        except FormError as error:
            text = with_errors(text, error.problems, head)
            continue
        if given is None:
            raise Refused(
                f"moving {move.record} to '{target}' was abandoned: the form gave no values; "
                "nothing was changed",
                hint=f"what you typed is kept in {where}",
            )
        try:
            errors = shortfall(move, given, now)
        except QmsError as error:  # a field the record cannot hold where the form puts it
            errors = [error.message]
        if not errors:
            return given
        text = with_errors(text, errors, head)
