"""Writing receipts after an accepted push: one note per newly reachable commit, never replacing
one, added by compare-and-swap so that concurrent pushes lose nothing."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .. import git
from ..errors import QmsError
from ..history.receipts import NOTES_REF, Receipt, clean, format_receipt
from .updates import RefUpdate

BASELINE_FILE = "qms-receipts-baseline"  # in the git dir: tips the server held at installation
IDENTITY = ("gitqms receipts", "qms-receipts@localhost")
ATTEMPTS = 50

# Who pushed, as the servers that run hooks tell it: GitLab, Gitea, Gogs, gitolite, a web server
# in front of git-http-backend. Plain SSH names only the shared account, so it comes last.
_PUSHER_VARIABLES = (
    "GL_USERNAME",
    "GITEA_PUSHER_NAME",
    "GOGS_AUTH_USER_NAME",
    "GL_USER",
    "REMOTE_USER",
)


@dataclass(frozen=True)
class Pusher:
    name: str | None
    source: str | None  # the variable the name came from
    address: str | None


def pusher_from(environ: Mapping[str, str]) -> Pusher:
    """The pusher's identity and address, where the server's environment gives them."""
    address = environ.get("REMOTE_ADDR") or (environ.get("SSH_CONNECTION") or "").split(" ")[0]
    for variable in _PUSHER_VARIABLES:
        if value := clean(environ.get(variable, "")):
            return Pusher(value, variable, clean(address) or None)
    if environ.get("SSH_CONNECTION"):
        for variable in ("USER", "LOGNAME"):
            if value := clean(environ.get(variable, "")):
                return Pusher(value, f"{variable} (ssh)", clean(address) or None)
    return Pusher(None, None, clean(address) or None)


def baseline(root: Path) -> list[str]:
    """Commits the server held before the hook was installed: they get no late receipt."""
    path = git.git_dir(root) / BASELINE_FILE
    try:
        return path.read_text(encoding="ascii").split()
    except (FileNotFoundError, UnicodeDecodeError):
        return []


def newly_reachable(root: Path, updates: Sequence[RefUpdate]) -> dict[str, str]:
    """Commit -> the ref whose update made it reachable, for every accepted update.

    Everything a ref reaches now and did not reach before, less what the server held before
    the hook was installed; commits already receipted drop out when the notes are written. Other
    refs are not subtracted: a concurrent push could be moving them, and then neither push would
    write the receipt.
    """
    found: dict[str, str] = {}
    known = baseline(root)
    for update in updates:
        if update.new is None or update.ref.startswith("refs/notes/"):
            continue
        tip = git.rev_parse(root, f"{update.new}^{{commit}}")
        if tip is None:
            continue  # a tag of a tree or a blob: no commit to receipt
        for commit in git.new_commits(root, tip, [*known, *([update.old] if update.old else [])]):
            found.setdefault(commit, update.ref)
    return found


def record_receipts(
    root: Path, updates: Sequence[RefUpdate], received: datetime, pusher: Pusher
) -> list[Receipt]:
    """Write the receipts of this push; returns those written (not those already there)."""
    reached = newly_reachable(root, updates)
    if not reached:
        return []
    problem = None
    for attempt in range(ATTEMPTS):
        tip = git.rev_parse(root, f"{NOTES_REF}^{{commit}}")
        existing = git.note_entries(root, tip) if tip else {}
        receipts = [
            Receipt(commit, received, ref, pusher.name, pusher.source, pusher.address)
            for commit, ref in reached.items()
            if commit not in existing  # first receipt wins: a note is never replaced
        ]
        if not receipts:
            return []
        blobs: dict[str, str] = {}  # note text -> blob: one per ref in a push
        files = {}
        for receipt in receipts:
            text = format_receipt(receipt)
            if text not in blobs:
                blobs[text] = git.hash_blob(root, text.encode("utf-8"))
            files[receipt.commit] = blobs[text]
        tree = git.tree_with_files(root, f"{tip}^{{tree}}" if tip else None, files)
        refs = sorted({r.ref for r in receipts if r.ref})
        message = (
            f"Receipts for {len(receipts)} commit{'s' if len(receipts) != 1 else ''} "
            f"pushed to {', '.join(refs)}\n"
        )
        commit = git.commit_tree_as(root, tree, [tip] if tip else [], message, IDENTITY, received)
        problem = git.compare_and_swap_ref(root, NOTES_REF, commit, tip, "qms receipts")
        if problem is None:
            return receipts
        time.sleep(random.uniform(0.01, 0.05) * min(attempt + 1, 10))  # another push wrote first
    raise QmsError(
        f"the receipts of this push could not be written to {NOTES_REF}: {problem}",
        hint="the push itself was accepted; run `qms hook post-receive` in the server "
        "repository with the same input to write them",
    )
