"""`qms fill RECORD --for STATE`: the fields a move needs, given by the person doing the work
when someone else signs the move (an approval, whose signer must not have written what it
signs), as one commit they sign as its author, without moving the record (issue 22)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .. import git
from ..errors import QmsError, Refused
from ..landing import land
from ..rules.check import check_range
from .advance import Move, filled_commit, proposed, shortfall
from .fill import Fields


@dataclass(frozen=True)
class Filled:
    commit: str
    record: str
    fields: tuple[str, ...]  # dotted
    still: tuple[str, ...]  # what the move still lacks, in words


def fill_for(move: Move, given: Fields, now: datetime) -> Filled:
    """`given` (with what the policy computes) written into the record as one commit of its
    own, signed by you as its author with the Reason trailer, without moving it: the fields a
    move signed by someone else needs. Refused if the commit would not pass `qms check`."""
    fields = proposed(move, given, now)
    if not fields:
        raise QmsError(
            f"nothing to fill in for '{move.transition.target}'",
            hint=f"give fields: {move.fill_command} --set FIELD=VALUE …",
        )
    root, start = move.root, move.start
    filled, text = filled_commit(
        root, start, move.path, move.text, fields, move.transition.target, move.reason
    )
    report = check_range(root, f"{start.commit}..{filled.commit}")
    if report.errors:
        raise Refused(
            "the fields would not pass `qms check`, so they were not written:\n  "
            + "\n  ".join(f"[{v.rule}] {v.message}" for v in report.errors)
        )
    prefix = git.show_prefix(root)
    record = move.record
    land(root, start.ref, start.commit, filled.commit, {f"{prefix}{move.path}": text.encode()},
         f"qms: fields of {record} for '{move.transition.target}'")  # fmt: skip
    names = tuple(".".join(path) for path in fields)
    return Filled(filled.commit, record, names, tuple(shortfall(move, fields, now)))
