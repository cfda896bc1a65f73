"""`qms commit -m MSG --reason R [PATH…]`: an author's change committed with the Reason
`qms check` asks for, after the controlled files it stages validate, signed as the policy needs.

Everything is checked on a private copy of the index first (what `git add PATH…` would stage),
so a refused commit leaves the index, the work tree and the branch as they were; the commit
itself is `git commit`, so the user's hooks and signing set-up apply.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .. import clock, git
from ..errors import QmsError, Refused
from ..lifecycle.status import repository_status
from ..records.document import parse_document
from ..records.kinds import kind_of_id
from ..records.repository import Repository
from ..rules.reason import controlled, reasons, with_reason
from ..rules.record_rules import sop_rules, state_rules
from ..safeyaml import LoadError
from ..validation.run import require_config, validate

PRIVATE_INDEX = "qms-commit.index"


@dataclass(frozen=True)
class Committed:
    commit: str
    paths: tuple[str, ...]  # what it changed (from the top of the work tree)
    controlled: tuple[str, ...]  # of those, what needs the Reason
    signed: bool


def commit_message(message: str, reason: str) -> str:
    """The message with its Reason trailer; refused when either is empty or the message
    already gives another Reason."""
    reason = " ".join(reason.split())
    if not reason:
        raise Refused(
            "the reason is empty; it is what the audit trail shows as why the files changed",
            hint="qms commit -m 'Summary' --reason 'why this changed'",
        )
    if not message.strip():
        raise Refused("the message is empty", hint="give a summary: -m 'What changed'")
    given = [" ".join(r.split()) for r in reasons(message.strip())]
    if any(r != reason for r in given):
        raise Refused(
            f"the message already has the trailer 'Reason: {given[-1]}', which differs from "
            f"--reason '{reason}'",
            hint="drop the Reason line from the message, or give the same text to --reason",
        )
    return with_reason(message, reason)


def wants_signature(repo: Repository) -> bool:
    """Whether to sign: git is set to sign (commit.gpgsign, user.signingkey), or the committer
    is a registered person with a key, whose authorship only a signature proves."""
    root = repo.root
    if (git.config_value(root, "commit.gpgsign") or "").lower() in ("true", "yes", "on", "1"):
        return True
    if git.config_value(root, "user.signingkey"):
        return True
    email = git.config_value(root, "user.email")
    with contextlib.suppress(QmsError):
        person = require_config(repo).person_by_email(email or "")
        return person is not None and bool(person.keys)
    return False


def commit_changes(repo: Repository, message: str, reason: str, paths: list[str]) -> Committed:
    """Stage `paths` (from the QMS folder; none: what is staged already), check what the commit
    would hold, and make it with the trailer `Reason: reason`."""
    root = repo.root
    text = commit_message(message, reason)
    top = git.work_tree_top(root)
    staged, needing = _planned(repo, top, paths)
    sign = wants_signature(repo)
    index = git.git_dir(root) / "index"
    before = index.read_bytes() if index.exists() else None
    try:
        if paths:
            git.add_paths(root, paths)
        commit = git.commit_staged(top, text, sign=sign)
    except QmsError:
        _restore(index, before)
        raise
    return Committed(commit, tuple(staged), tuple(needing), sign)


def _planned(repo: Repository, top: Path, paths: list[str]) -> tuple[list[str], list[str]]:
    """(what the commit would change, what of it needs a Reason), on a private copy of the
    index; refused when nothing is staged, or a controlled file would not validate."""
    root = repo.root
    git_dir = git.git_dir(root)
    scratch = Path(tempfile.mkdtemp(dir=git_dir, prefix=".qms-commit-"))
    private = scratch / PRIVATE_INDEX
    try:
        index = git_dir / "index"
        if index.exists():
            shutil.copyfile(index, private)
        if paths:
            git.add_paths(root, paths, private)
        staged = git.staged_paths(top, private)
        if not staged:
            raise Refused(
                "nothing is staged to commit",
                hint="name the files: qms commit -m 'Summary' --reason 'why' PATH…, "
                "or stage them first with git add",
            )
        head = git.rev_parse(root, "HEAD^{commit}")
        needing = controlled(root, staged, git.show_prefix(root), head)
        _check_files(repo, top, needing, private)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return staged, needing


def _check_files(repo: Repository, top: Path, needing: list[str], private: Path) -> None:
    """The controlled files staged are what the work tree holds, and they validate."""
    unstaged = git.unstaged_paths(top, needing, private)
    if unstaged:
        raise Refused(
            f"{unstaged[0]} has changes that are not staged, so what would be committed is "
            "not what can be checked",
            hint=f"name it to stage it too (qms commit … {unstaged[0]}), or git stash them",
        )
    modes = git.index_modes(top, needing, private)
    odd = sorted(path for path, mode in modes.items() if mode != git.REGULAR_FILE)
    if odd:
        raise Refused(
            f"{odd[0]} is staged with mode {modes[odd[0]]}, not as a plain file; a record is a "
            "regular, non-executable file (`qms check` refuses anything else at its path)",
            hint=f"chmod 644 {odd[0]}, then commit again",
        )
    files = [top / path for path in needing if (top / path).is_file()]
    gone = [path for path in needing if not (top / path).exists()]
    if gone:
        raise Refused(
            f"{gone[0]} would be deleted; records and qms.yaml are never deleted (retention)",
            hint="restore it (git restore --staged --worktree PATH); retire or cancel a record "
            "through its lifecycle instead",
        )
    result = validate(repo, files) if files else None
    errors = [f for f in result.findings if f.severity == "error"] if result else []
    if not errors:
        _held_to_rules(repo, top, needing)
    if errors:
        shown = "\n  ".join(f"{f.location}: {f.message} [{f.code}]" for f in errors[:10])
        raise Refused(
            f"the files to commit do not validate; nothing was committed:\n  {shown}",
            hint="correct them (qms validate PATH shows every finding), then commit again",
        )


def _held_to_rules(repo: Repository, top: Path, needing: list[str]) -> None:
    """What the gate would refuse in a record's change, refused before the commit: an approved
    document version edited without raising its version, a record's state set by hand."""
    records = {}
    for path in needing:
        kind = kind_of_id(PurePosixPath(path).stem)
        if kind is not None and (top / path).is_file():
            records[PurePosixPath(path).stem] = (path, kind)
    if not records:
        return
    old = {name: content for name, kind, content in git.cat_objects(
        top, [f"HEAD:{path}" for path, _ in records.values()]) if kind == "blob"}  # fmt: skip
    config = require_config(repo)
    documents = [  # committed before: a new one has no approved version to keep
        record
        for record, (path, kind) in records.items()
        if kind.is_document and f"HEAD:{path}" in old
    ]
    status = repository_status(repo.root, clock.today(), documents) if documents else None
    released = {
        r.id: {v.version: v.content for v in r.document.versions}
        for r in (status.records if status else [])
        if r.document is not None
    }
    breaches = []
    for record, (path, kind) in records.items():
        content = (top / path).read_bytes()
        new = _data(path, content, kind.suffix == ".md")
        if new is None:
            continue  # validation has spoken
        if kind.is_document:
            breaches += list(sop_rules(record, new, content, released.get(record, {})))
        else:
            before = old.get(f"HEAD:{path}")
            was = _data(path, before, kind.suffix == ".md") if before is not None else None
            breaches += list(state_rules(record, was, new, config, []))
    if breaches:
        shown = "\n  ".join(f"{b.message} [{b.rule}]\n    fix: {b.fix}" for b in breaches[:10])
        raise Refused(
            f"`qms check` would refuse this change; nothing was committed:\n  {shown}",
            hint="a new version starts with `qms revise DOC`; a record moves with `qms advance`",
        )


def _data(path: str, content: bytes, markdown: bool) -> dict[str, Any] | None:
    try:
        data = parse_document(path, content.decode("utf-8"), markdown=markdown).data
    except (LoadError, UnicodeDecodeError):
        return None
    return dict(data) if isinstance(data, Mapping) else None


def _restore(index: Path, before: bytes | None) -> None:
    """Put the index back as it was before a commit that failed."""
    if before is None:
        index.unlink(missing_ok=True)
        return
    fd, name = tempfile.mkstemp(dir=index.parent, prefix=".qms-index.")
    with os.fdopen(fd, "wb") as handle:
        handle.write(before)
    os.replace(name, index)
