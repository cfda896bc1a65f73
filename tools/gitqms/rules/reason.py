"""Which changes must say why: the one predicate behind `qms check`'s Reason rules
(`record.reason` for records and qms.yaml in gate.py, `site.reason` for the site's inputs in
site_inputs.py) and the commit-msg hook that asks for the Reason before the commit is made.

A change needs a `Reason:` trailer when it touches qms.yaml, a record's file (or anything at or
inside a record's path), mkdocs.yml or the site's docs folder. Paths are read from the QMS folder.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

from ..errors import QmsError
from ..history.commits import REASON, format_trailers, parse_trailers
from ..history.read import record_above
from ..records.config import CONFIG_FILE
from ..records.kinds import record_id_from_path
from ..records.site_inputs import CONFIG as SITE_CONFIG
from ..records.site_inputs import DOCS_DIR, docs_folder

_SCISSORS = re.compile(r"(?m)^# -+ >8 -+\n")


def site_inputs(root: Path, commit: str | None) -> list[str]:
    """The site's inputs at `commit` (paths from the QMS folder; a folder ends in '/'):
    mkdocs.yml, docs/ and the docs folder mkdocs.yml names."""
    folders = {DOCS_DIR}
    if commit is not None:
        with contextlib.suppress(QmsError):  # an unreadable configuration is the build's to refuse
            folders.add(docs_folder(root, commit))
    return [SITE_CONFIG, *(f"{folder}/" for folder in sorted(folders))]


def needs_reason(inside: str, site: Sequence[str]) -> bool:
    """Whether `qms check` asks a commit changing `inside` (a path from the QMS folder) for a
    Reason: qms.yaml, a record's path or what lies inside one, or a site input in `site`."""
    path = PurePosixPath(inside)
    if inside == CONFIG_FILE or record_id_from_path(path) is not None:
        return True
    if record_above(path) is not None:
        return True
    return any(inside == s or (s.endswith("/") and inside.startswith(s)) for s in site)


def controlled(root: Path, paths: Iterable[str], prefix: str, head: str | None) -> list[str]:
    """Those of `paths` (from the top of the work tree; `prefix`: the QMS folder) whose change
    needs a Reason, judged with the site's inputs as `head` names them."""
    site = site_inputs(root, head)
    return [
        path
        for path in paths
        if path.startswith(prefix) and needs_reason(path[len(prefix) :], site)
    ]


def message_text(message: str) -> str:
    """A commit message as git will record it: comment lines and what follows a scissors line
    dropped (what a commit-msg hook sees is not cleaned up yet)."""
    message = _SCISSORS.split(message, maxsplit=1)[0]
    return "\n".join(line for line in message.splitlines() if not line.startswith("#"))


def reasons(message: str) -> list[str]:
    """The values of the message's `Reason:` trailers, read as `qms check` reads them."""
    return [value for key, value in parse_trailers(message) if key.lower() == REASON.lower()]


def gives_reason(message: str) -> bool:
    """As `Commit.gives_reason`: the last `Reason:` trailer says something."""
    found = reasons(message)
    return bool(found) and bool(found[-1].strip())


def with_reason(message: str, reason: str) -> str:
    """`message` with the trailer `Reason: reason`, in its trailer paragraph when it has one."""
    body = message.strip()
    line = format_trailers([(REASON, reason)])
    if REASON.lower() in (k.lower() for k, _ in parse_trailers(body)):
        return f"{body}\n"  # the same reason, already there (the caller refuses another)
    glue = "\n" if parse_trailers(body) else "\n\n"
    return f"{body}{glue}{line}\n"


def refusal(paths: Sequence[str]) -> str:
    """What the commit-msg hook says when a commit changing `paths` gives no Reason."""
    shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
    return (
        f"qms: this commit changes controlled files ({shown}) and its message has no "
        "'Reason:' trailer; `qms check` would refuse it (record.reason).\n"
        "qms: nothing was committed. Fix: add a last paragraph 'Reason: why this changed' to "
        "the message, for example\n"
        "    git commit -m 'Summary' -m 'Reason: why this changed'\n"
        "or let gitqms write it (and sign as your policy needs):\n"
        "    qms commit -m 'Summary' --reason 'why this changed'"
    )
