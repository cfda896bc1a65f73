"""The editor loop of `qms advance` (issue 22, item 1), as `git commit` has one: the form of
what a move still needs is written to QMS_ADVANCE_EDITMSG in the git folder and opened in
your editor; on save it is read and judged, and opened again with the errors at the top
until the move can be made or you leave every field empty (or close it unchanged). A form
that is not UTF-8 text opens again with the error; a move that no field of the form could make
ready is refused before the editor opens, with its reasons. The file stays after the command,
so what you typed is not lost when you abandon."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from .. import git
from ..errors import QmsError, Refused
from .advance import Move, asks, refuse_unready, shortfall
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
    if not asked:  # nothing the form could give: say what is wrong, as --no-edit does
        refuse_unready(move, fields, now)
    text = render(head, asked)
    while True:
        where.write_text(text, encoding="utf-8")
        edit(where)
        saved = _saved(where, move, target)
        if saved == text:  # closed without saving, as `git commit` takes an untouched message
            raise _abandoned(move, "the form was closed unchanged", where)
        if isinstance(saved, UnicodeDecodeError):
            shown = saved.object.decode("utf-8", errors="replace")
            problem = f"the form is not UTF-8 text (byte {saved.start + 1}); save it as UTF-8"
            text = with_errors(shown, [problem], head)
            continue
        text = saved
        try:
            given = read(text, [ask.path for ask in asked])
        except FormError as error:
            text = with_errors(text, error.problems, head)
            continue
        if given is None:
            raise _abandoned(move, "the form gave no values", where)
        try:
            errors = shortfall(move, given, now)
        except QmsError as error:  # a field the record cannot hold where the form puts it
            errors = [error.message]
        if not errors:
            return given
        text = with_errors(text, errors, head)


def _saved(where: Path, move: Move, target: str) -> str | UnicodeDecodeError:
    """The form as the editor left it, or why its bytes are not UTF-8 text."""
    try:
        content = where.read_bytes()
    except OSError as error:
        raise Refused(
            f"moving {move.record} to '{target}' was abandoned: the form could not be read "
            f"({error.strerror}); nothing was changed",
            hint=f"the editor must save the form in place ({where})",
        ) from None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as error:
        return error


def _abandoned(move: Move, why: str, where: Path) -> Refused:
    return Refused(
        f"moving {move.record} to '{move.transition.target}' was abandoned: {why}; "
        "nothing was changed",
        hint=f"what you typed is kept in {where}",
    )
