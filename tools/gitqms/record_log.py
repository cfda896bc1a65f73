"""`qms log RECORD`: a record's audit trail, every commit that changed or signed it."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .errors import QmsError
from .records.config import CONFIG_FILE
from .records.kinds import kind_of_id
from .signatures.claims import CONFIG_RECORD, record_data
from .signatures.verify import Verdict, walk_history


@dataclass(frozen=True)
class LogEntry:
    commit: str
    when: datetime  # UTC: the committer date for signatures, the author date for changes
    name: str  # printed name when the person is registered
    email: str
    action: str  # "changed", "created", or the signature's meaning
    reason: str | None
    verdict: str  # valid, superseded, invalid: …, or "not a signature" for plain changes
    summary: str


def record_log(root: Path, record_id: str, revisions: Sequence[str] = ("HEAD",)) -> list[LogEntry]:
    if record_id != CONFIG_RECORD and kind_of_id(record_id) is None:
        raise QmsError(
            f"{record_id!r} is not a record ID",
            hint=f"name a record such as SOP-0003 or CAPA-2026-0001, or {CONFIG_FILE}",
        )
    walk = walk_history(root, revisions)
    history = walk.history
    verdicts: dict[str, list[Verdict]] = {}
    for verdict in walk.report.verdicts:
        if verdict.record == record_id:
            verdicts.setdefault(verdict.commit, []).append(verdict)
    changes = []
    for step in history.steps:
        change = step.config if record_id == CONFIG_RECORD else step.records.get(record_id)
        if change is not None or step.commit.id in verdicts:
            changes.append((step, change))
    if not changes:
        raise QmsError(f"no commit in this history changed or signed {record_id}")
    blobs = history.blobs(
        blob
        for _, change in changes
        if change is not None
        for blob in (change.old_blob, change.new_blob)
        if blob
    )
    registry = walk.registry_at(history.steps[-1].commit.id)
    entries = []
    for step, change in changes:
        commit = step.commit
        summary = ""
        if change is not None:
            old = blobs.get(change.old_blob or "")
            new = blobs.get(change.new_blob or "")
            summary = summarise(
                record_data(old, record_id), record_data(new, record_id), change.status
            )
            if len(commit.parents) > 1:
                summary = f"merged: {summary}"
        signed = verdicts.get(commit.id, [])
        for verdict in signed:
            entries.append(
                LogEntry(
                    commit.id,
                    verdict.when,
                    verdict.signer,
                    verdict.email,
                    verdict.meaning,
                    verdict.reason,
                    _verdict_text(verdict),
                    summary or "signature only, no change",
                )
            )
        if not signed:
            person = registry.config.person_by_email(commit.author.email) if registry else None
            reasons = commit.trailer_values("Reason")
            entries.append(
                LogEntry(
                    commit.id,
                    commit.author.utc,
                    person.name if person else commit.author.name,
                    commit.author.email,
                    "created" if change is not None and change.status == "A" else "changed",
                    reasons[-1] if reasons else None,
                    "not a signature",
                    summary,
                )
            )
    return entries


def _verdict_text(verdict: Verdict) -> str:
    if verdict.problems:
        return "invalid: " + "; ".join(verdict.problems)
    if verdict.superseded:
        return f"valid for earlier content ({verdict.superseded})"
    return "valid"


def _short(value: Any) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= 40 else text[:39] + "…"


def summarise(old: object, new: object, status: str) -> str:
    """One line saying what changed between two versions of a record."""
    if status == "A":
        return "created"
    if status == "D":
        return "deleted"
    if not isinstance(old, dict) or not isinstance(new, dict):
        return "changed (the file does not parse)"
    parts = []
    for key in sorted(old.keys() | new.keys(), key=lambda k: (k == "(body)", str(k))):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if key == "(body)":
            diff = difflib.ndiff(str(before or "").splitlines(), str(after or "").splitlines())
            added = removed = 0
            for line in diff:
                added += line.startswith("+ ")
                removed += line.startswith("- ")
            parts.append(f"text +{added}/-{removed} lines")
        elif before is None:
            parts.append(f"{key} added")
        elif after is None:
            parts.append(f"{key} removed")
        elif isinstance(before, dict | list) or isinstance(after, dict | list):
            parts.append(f"{key} changed")
        else:
            parts.append(f"{key}: {_short(before)} → {_short(after)}")
    return "; ".join(parts) or "no change to the fields (formatting only)"
