"""The receipt log: the server's own time of receipt for each commit, as git notes.

The server writes one note per commit under refs/notes/qms-receipts, the first time an accepted
push makes the commit reachable; nothing else may write there (the pre-receive gate refuses
client pushes to refs/notes/*), an existing note is never replaced, and each addition is one
commit on top of the last, so the notes ref is itself an append-only log that clones fetch.

A note is a few lines, versioned:

    qms-receipt 1
    received: 2026-11-21T09:14:03Z
    ref: refs/heads/review/SOP-0003
    pusher: a.weber
    pusher-source: GL_USERNAME
    address: 10.1.2.3

The committer date of a commit is whatever its signer's clock or environment said; the receipt
is what the server saw. A signature dated well before its receipt was back-dated (or held back
and pushed late); one dated after its receipt was dated in the future.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .. import git
from ..records.config import DEFAULT_RECEIPT_TOLERANCE_HOURS
from .commits import CommitFormatError, parse_commit
from .read import config_at

NOTES_REF = "refs/notes/qms-receipts"
FORMAT_LINE = "qms-receipt 1"
# A commit may be dated this much after its receipt: clocks of laptops and servers differ.
CLOCK_SKEW = timedelta(minutes=10)
MAX_NOTE_BYTES = 4096
_VALUE_LIMIT = 200
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Receipt:
    commit: str
    received: datetime  # UTC, by the server's clock
    ref: str | None = None  # the ref whose push first made the commit reachable
    pusher: str | None = None  # who pushed, where the server's environment says
    pusher_source: str | None = None  # the variable that said so, e.g. GL_USERNAME
    address: str | None = None  # where the push came from (REMOTE_ADDR, SSH_CONNECTION)

    def to_json(self) -> dict[str, str | None]:
        return {
            "received": self.received.isoformat(),
            "ref": self.ref,
            "pusher": self.pusher,
            "pusher_source": self.pusher_source,
            "address": self.address,
        }


def utc_text(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def clean(value: str) -> str:
    """One line of at most 200 characters: what a note may hold from the environment."""
    return _UNSAFE.sub("?", value).strip()[:_VALUE_LIMIT]


def format_receipt(receipt: Receipt) -> str:
    lines = [FORMAT_LINE, f"received: {utc_text(receipt.received)}"]
    for key, value in (
        ("ref", receipt.ref),
        ("pusher", receipt.pusher),
        ("pusher-source", receipt.pusher_source),
        ("address", receipt.address),
    ):
        if value and clean(value):
            lines.append(f"{key}: {clean(value)}")
    return "\n".join(lines) + "\n"


def parse_receipt(commit: str, content: bytes) -> Receipt | None:
    """A note's receipt; None for a note that is not a version-1 receipt (never a guess)."""
    if len(content) > MAX_NOTE_BYTES:
        return None
    text = content.decode("utf-8", "replace")
    lines = text.splitlines()
    if not lines or lines[0].strip() != FORMAT_LINE:
        return None
    fields: dict[str, str] = {}
    for line in lines[1:]:
        key, sep, value = line.partition(":")
        if sep and key.strip() not in fields:
            fields[key.strip()] = clean(value)
    try:
        received = datetime.strptime(fields.get("received", ""), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    return Receipt(
        commit,
        received.replace(tzinfo=UTC),
        fields.get("ref") or None,
        fields.get("pusher") or None,
        fields.get("pusher-source") or None,
        fields.get("address") or None,
    )


def has_receipts(root: Path) -> bool:
    return git.rev_parse(root, f"{NOTES_REF}^{{commit}}") is not None


def read_receipts(root: Path) -> dict[str, Receipt]:
    """Commit id -> its receipt, from the notes ref as this repository holds it (one ls-tree,
    one cat-file batch)."""
    tip = git.rev_parse(root, f"{NOTES_REF}^{{commit}}")
    if tip is None:
        return {}
    entries = git.note_entries(root, tip)
    by_blob: dict[str, list[str]] = {}
    for commit, blob in entries.items():
        by_blob.setdefault(blob, []).append(commit)
    receipts = {}
    for blob, kind, content in git.cat_objects(root, sorted(by_blob)):
        if kind != "blob":
            continue
        for commit in by_blob[blob]:
            receipt = parse_receipt(commit, content)
            if receipt is not None:
                receipts[commit] = receipt
    return receipts


def date_flag(committed: datetime, received: datetime, tolerance: timedelta) -> str | None:
    """Why a commit's date does not fit its receipt, or None when it does."""
    early = received - committed
    if early > tolerance:
        return (
            f"back-dated: dated {_span(early)} before the server received it "
            f"(tolerance {_span(tolerance)})"
        )
    if -early > CLOCK_SKEW:
        return f"future-dated: dated {_span(-early)} after the server received it"
    return None


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} days"
    if seconds >= 2 * 3600:
        return f"{seconds // 3600} hours"
    return f"{max(seconds // 60, 1)} minutes"


@dataclass(frozen=True)
class DatedReceipt:
    receipt: Receipt
    committed: datetime  # the commit's committer date, UTC
    flag: str | None  # back-dated or future-dated, per date_flag


def dated_receipts(root: Path, commits: Iterable[str]) -> dict[str, DatedReceipt] | None:
    """The receipts of `commits`, each judged against its committer date.

    None when this repository holds no receipts at all (refs/notes/qms-receipts not fetched, or
    a server without the hook); commits without a receipt are left out. The tolerance is the
    one in qms.yaml at HEAD.
    """
    if not has_receipts(root):
        return None
    receipts = read_receipts(root)
    wanted = sorted({c for c in commits if c in receipts})
    tolerance = tolerance_at(root, git.rev_parse(root, "HEAD^{commit}"))
    dated = {}
    for name, kind, raw in git.cat_objects(root, wanted):
        if kind != "commit":
            continue
        try:
            committed = parse_commit(name, raw).committer.utc
        except CommitFormatError:
            continue
        receipt = receipts[name]
        dated[name] = DatedReceipt(
            receipt, committed, date_flag(committed, receipt.received, tolerance)
        )
    return dated


def tolerance_at(root: Path, commit: str | None) -> timedelta:
    """The receipt tolerance of qms.yaml at `commit` (a clone's HEAD), else the default."""
    config = config_at(root, commit) if commit else None
    hours = config.receipt_tolerance_hours if config else DEFAULT_RECEIPT_TOLERANCE_HOURS
    return timedelta(hours=hours)
