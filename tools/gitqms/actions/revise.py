"""`qms revise DOC`: the next version of a controlled document, started from the version in
force (or the approved one about to be), with its version raised, `supersedes` naming the
version it replaces, the change control it is made under, the reason for the change, and the
effective date left to be set (issue 22, item 1).

Only the front matter's revision fields change; the body stays for the author to edit. The file
is written in the work tree, not committed: the author edits the text, commits it with a
Reason trailer, and it is reviewed and approved as every version is.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString as Quoted

from .. import git
from ..errors import QmsError, Refused
from ..files import replace_atomic
from ..lifecycle.status import repository_status
from ..records.document import split_front_matter
from ..records.kinds import kind_of_id
from ..records.lifecycles import DEFAULTS
from ..records.repository import Repository
from ..safeyaml import LoadError, load_fields
from .fill import round_trip
from .sign import require_committed
from .template import check_before_writing


@dataclass(frozen=True)
class Revision:
    path: Path
    record: str
    version: int  # the new version's number
    supersedes: int


def revise(
    root: Path,
    record_id: str,
    reason: str,
    change_control: str | None,
    effective: date | None,
    today: date,
) -> Revision:
    """Write the next version of `record_id` into the work tree; refuse before writing when the
    document has no approved version, or already has a draft of the next one."""
    repo = Repository.discover(root)
    kind = kind_of_id(record_id)
    if kind is None or not kind.is_document:
        raise QmsError(
            f"{record_id!r} is not the ID of a controlled document",
            hint="revise a document (SOP-0003, WI-0001, …); records with states move with "
            "`qms advance`",
        )
    if not reason.strip():
        raise QmsError("a revision needs its reason", hint="--reason 'what changes and why'")
    relative = f"{kind.folder}/{record_id}{kind.suffix}"
    require_committed(repo.root, [relative], record_id)
    [status] = repository_status(repo.root, today, [record_id]).records
    document = status.document
    live = (document.current or document.upcoming) if document else None
    if document is None or live is None:
        raise Refused(
            f"{record_id} has no approved version to revise",
            hint="a first version is drafted with `qms new`, edited, reviewed and approved",
        )
    if document.working is not None:
        working = document.working
        raise Refused(
            f"{record_id} v{working.version} is already being written ({working.status}); "
            "nothing was changed",
            hint=f"edit {relative} and have it reviewed and approved, or restore it",
        )
    text = _committed(repo.root, relative)
    revised = _revised(text, relative, live.version, reason, change_control, effective)
    check_before_writing(revised, kind.schema, markdown=kind.suffix == ".md", what=relative)
    path = repo.root / relative
    replace_atomic(path, revised)
    return Revision(path, record_id, live.version + 1, live.version)


_CHANGE_CONTROL = "change-control"


def open_change_controls(root: Path) -> list[tuple[str, str, str]]:
    """The change controls of the work tree that are not closed (ID, title, state), for the
    person choosing the one a revision is made under; a file that cannot be read is left out
    (`qms validate` names it)."""
    repo = Repository.discover(root)
    machine = DEFAULTS.get(_CHANGE_CONTROL)
    ended = set(machine.get("closed") or ()) if isinstance(machine, dict) else set()
    found = []
    for record in repo.layout().records:
        if record.kind.name != _CHANGE_CONTROL:
            continue
        try:
            fields = load_fields((repo.root / record.path).read_text("utf-8"), _SHOWN) or {}
        except (OSError, UnicodeDecodeError, LoadError):
            continue
        state = str(fields.get("state", ""))
        if state not in ended:
            found.append((record.id, str(fields.get("title", "")), state))
    return found


_SHOWN = frozenset({"title", "state"})


def _committed(root: Path, relative: str) -> str:
    prefix = git.show_prefix(root)
    found = [c for _, k, c in git.cat_objects(root, [f"HEAD:{prefix}{relative}"]) if k == "blob"]
    if not found:
        raise QmsError(f"{relative} is not committed", hint="commit it first")
    return found[0].decode("utf-8")


def _revised(
    text: str,
    relative: str,
    version: int,
    reason: str,
    change_control: str | None,
    effective: date | None,
) -> str:
    try:
        front, body, _ = split_front_matter(text)
        fields = round_trip().load(front)
    except (LoadError, YAMLError) as error:
        raise QmsError(
            f"{relative} does not parse: {error}", hint=f"qms validate {relative}"
        ) from None
    if not isinstance(fields, CommentedMap):
        raise QmsError(f"{relative} has no front matter of fields")
    record = str(fields.get("id"))
    fields["version"] = version + 1
    fields["supersedes"] = Quoted(f"{record} v{version}")
    fields["change_reason"] = Quoted(" ".join(reason.split()))
    fields["change_control"] = Quoted(change_control) if change_control else None
    fields["effective_date"] = Quoted(effective.isoformat()) if effective else None
    out = io.StringIO()
    round_trip().dump(fields, out)
    return f"---\n{out.getvalue()}---\n{body}"
