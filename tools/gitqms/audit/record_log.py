"""`qms log RECORD`: a record's audit trail, every commit that changed or signed it."""

from __future__ import annotations

import contextlib
import difflib
import marshal
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from .. import git
from ..errors import QmsError
from ..history.commits import Commit
from ..history.index_store import Store, code_digest
from ..history.narrow import Depends
from ..history.read import Step
from ..records.config import CONFIG_FILE, Person
from ..records.kinds import kind_of_id, record_id_from_path
from ..signatures import scope
from ..signatures.claims import CONFIG_RECORD, front_matter, record_data
from ..signatures.registry import Registry
from ..signatures.verify import AUTHORED, Verdict, Walk, walk_history, walk_narrow


@dataclass(frozen=True, kw_only=True)
class LogEntry:
    commit: str
    when: datetime  # UTC: the committer date for signatures, the author date for changes
    name: str  # printed name when the person is registered
    email: str
    action: str  # "changed", "created", "merged …", or the signature's meaning
    reason: str | None
    verdict: str  # valid, superseded, invalid: …; for plain changes "not a signature" and
    # who is proven to have made it, or "author not proven: …"
    summary: str
    role: str | None = None  # a signature's: the signer's role that the policy accepted

    @property
    def signed(self) -> bool:
        return not self.verdict.startswith("not a signature")

    @property
    def moved(self) -> tuple[str, str] | None:
        """The state change the commit made to the record (from, to), if it made one."""
        found = _MOVED.search(self.summary)
        return (found[1], found[2]) if found else None


_MOVED = re.compile(r"(?:^|; |brings in: )state: ([a-z0-9-]+) → ([a-z0-9-]+)(?:;|$)")


def record_named(root: Path, name: str, start: Path) -> str:
    """The record ID `name` means: the ID itself, or the path of the record's file from
    `start` (the current folder) or from the repository `root`."""
    if name == CONFIG_RECORD or kind_of_id(name) is not None:
        return name
    for base in (start.resolve(), root):
        try:
            relative = PurePosixPath(Path(os.path.normpath(base / name)).relative_to(root))
        except ValueError:  # outside the repository
            continue
        found = CONFIG_RECORD if str(relative) == CONFIG_FILE else record_id_from_path(relative)
        if found is not None:
            return found
    raise QmsError(
        f"{name} is not a record: neither a record ID nor the file of one in {root}",
        hint="name a record by its ID (SOP-0003, CAPA-2026-0001) or its file "
        f"(sops/SOP-0003.md, capa/CAPA-2026-0001.yaml), or {CONFIG_FILE}",
    )


def record_log(root: Path, record_id: str, revisions: Sequence[str] = ("HEAD",)) -> list[LogEntry]:
    if record_id != CONFIG_RECORD and kind_of_id(record_id) is None:
        raise QmsError(
            f"{record_id!r} is not a record ID",
            hint=f"name a record such as SOP-0003 or CAPA-2026-0001, or {CONFIG_FILE}",
        )
    tip = git.rev_parse(root, f"{revisions[0]}^{{commit}}") if len(revisions) == 1 else None
    if tip is None or not scope.narrow_wanted(root, tip):
        return _entries(walk_history(root, revisions), record_id)
    narrow = walk_narrow(root, tip, lambda: Depends(git.show_prefix(root), (), {record_id}, ()))
    if narrow is None:  # the tip changed which files are records
        return _entries(walk_history(root, revisions), record_id)
    entries = _entries(narrow, record_id)
    scope.confirm(
        f"qms log {record_id}", entries, lambda: _entries(walk_history(root, revisions), record_id)
    )
    return entries


def _entries(walk: Walk, record_id: str) -> list[LogEntry]:
    """The record's trail in `walk`: what it depends on is the record's own history and the
    registry's, so a narrow walk that reads those (history/narrow.py) gives the same."""
    touched = [(step, record_id) for step in walk.touching(record_id)]  # a stored walk builds
    if not touched:  # only these commits
        raise QmsError(f"no commit in this history changed or signed {record_id}")
    return [entry for _, _, entries in trail_entries(walk, touched) for entry in entries]


def trail_entries(
    walk: Walk, touched: Sequence[tuple[Step, str]]
) -> list[tuple[Step, str, list[LogEntry]]]:
    """The audit-trail entries of each (commit, record) in `touched`, in that order: one per
    signature the commit makes on the record, else one for the change itself.

    The one place that turns a commit into trail entries: `qms log`, the site's trails and the
    audit-trail review all read them from here. The blobs of every change are read in one batch.
    """
    wanted = {(step.commit.id, record) for step, record in touched}
    verdicts: dict[tuple[str, str], list[Verdict]] = {}
    for verdict in walk.report.verdicts:
        if (verdict.commit, verdict.record) in wanted:
            verdicts.setdefault((verdict.commit, verdict.record), []).append(verdict)
    changes = [(step, record, change_of(step, record)) for step, record in touched]
    summaries = StoredSummaries(walk.place.root)
    for _, record, change in changes:
        if change is not None and summary_key(record, change) not in summaries.known:
            summaries.wanted.update(blob for blob in (change.old_blob, change.new_blob) if blob)
    blobs = walk.place.blobs(sorted(summaries.wanted))
    registry = walk.registry_at(walk.tip or "")
    entries = [
        (
            step,
            record,
            step_entries(
                step,
                record,
                change,
                verdicts.get((step.commit.id, record), []),
                blobs,
                registry,
                summaries.known,
                walk.proven.get(step.commit.id),
                walk.proven_person(step.commit),
            ),
        )
        for step, record, change in changes
    ]
    summaries.save(walk)
    return entries


def summary_key(record: str, change: git.Change) -> str:
    """What a change summary depends on: both contents (by blob id), the kind of change and
    whether the record's file is Markdown (an SOP's, whose body is compared by lines)."""
    form = "s" if front_matter(record) else "r"  # the letters of stored summaries
    return f"{change.old_blob or '-'} {change.new_blob or '-'} {change.status} {form}"


class StoredSummaries:
    """Change summaries by `summary_key`, kept between runs in the repository's git folder.

    A summary depends only on the two contents it compares, so it never goes stale; the
    store is authenticated and keyed by the gitqms code like the history index (see
    history/index_store.py). Summarising means reading and parsing both versions, which on a large
    history is most of the time an audit trail takes; a site build or an audit-trail review
    of the same history reads them from here.
    """

    def __init__(self, root: Path) -> None:
        self._store = Store(root, "summaries")
        self._key = {"code": code_digest()}
        sections = self._store.read("all", self._key)
        self.known: dict[str, str] = {}
        if sections is not None:
            with contextlib.suppress(ValueError, EOFError, TypeError):
                loaded = marshal.loads(sections["summaries"])
                if isinstance(loaded, dict):
                    self.known = loaded
        self._stored = len(self.known)
        self.wanted: set[str] = set()  # blobs to read for summaries not stored

    def save(self, walk: Walk) -> None:
        """Store the summaries when new ones were made, only those of changes in `walk`'s
        history: a summary quotes field values, and what a rewritten history no longer holds
        (a purged identifier, say) must not stay here."""
        if len(self.known) == self._stored or os.environ.get("GIT_QUARANTINE_PATH"):
            return
        if self._stored and walk.partial:
            return  # a narrow walk cannot tell which stored summaries history still holds
        if not self._stored:  # all made in this run, from this history: nothing to drop
            self._store.write("all", self._key, {"summaries": marshal.dumps(self.known)})
            return
        current = set()
        for step in walk.history.steps:
            for record in step.records:
                current.add(summary_key(record, step.records[record]))
            if step.config is not None:
                current.add(summary_key(CONFIG_RECORD, step.config))
        kept = {key: text for key, text in self.known.items() if key in current}
        self._store.write("all", self._key, {"summaries": marshal.dumps(kept)})


def change_of(step: Step, record: str) -> git.Change | None:
    """What a commit did to a record's file (for qms.yaml: to the registry), if anything."""
    return step.config if record == CONFIG_RECORD else step.records.get(record)


def step_entries(
    step: Step,
    record: str,
    change: git.Change | None,
    signed: Sequence[Verdict],
    blobs: Mapping[str, bytes | None],
    registry: Registry | None,
    summaries: dict[str, str] | None = None,
    proven: str | None = None,
    proven_person: Person | None = None,
) -> list[LogEntry]:
    """One commit's entries for one record, from its change and its verdicts on the record.

    `summaries` holds change summaries already made (see StoredSummaries); new ones are added.
    `proven`: the registered person whose signature on the commit makes them its author. A
    change shows that person; else the identity the commit states, marked as not proven when
    the verifier says so (an 'authored' verdict). `proven_person`: that person as the registry
    that proved them has them (the name of their day).
    """
    commit = step.commit
    summary = ""
    if change is not None:
        key = summary_key(record, change)
        known = summaries.get(key) if summaries is not None else None
        if known is None:
            old = blobs.get(change.old_blob or "")
            new = blobs.get(change.new_blob or "")
            known = summarise(record_data(old, record), record_data(new, record), change.status)
            unread = (change.old_blob and old is None) or (change.new_blob and new is None)
            if summaries is not None and not unread:  # a missing object may turn up later
                summaries[key] = known
        summary = _mode_summary(change, known)
    merged = merged_from(commit) if len(commit.parents) > 1 else None
    if merged is not None and change is not None:  # what the merge brought onto this line
        summary = "brings in the new record" if change.status == "A" else f"brings in: {summary}"
    entries = [
        LogEntry(
            commit=commit.id,
            when=verdict.when,
            name=verdict.signer,
            email=verdict.email,
            action=verdict.meaning,
            reason=verdict.reason,
            verdict=_verdict_text(verdict),
            summary=summary or "signature only, no change",
            role=verdict.role,
        )
        for verdict in signed
        if verdict.meaning != AUTHORED
    ]
    if not entries:
        unproven = [p for v in signed if v.meaning == AUTHORED for p in v.problems]
        author = proven_person if proven else None
        person = author or (
            registry.config.person_by_email(commit.author.email) if registry else None
        )
        reasons = commit.trailer_values("Reason")
        if unproven:
            said = "not a signature; author not proven: " + "; ".join(unproven)
        elif proven is not None:
            said = f"not a signature; signed by the author ({proven})"
        else:
            said = "not a signature"
        entries.append(
            LogEntry(
                commit=commit.id,
                when=commit.author.utc,
                name=person.name if person else commit.author.name,
                email=author.email if author else commit.author.email,
                action=merged
                or ("created" if change is not None and change.status == "A" else "changed"),
                reason=reasons[-1] if reasons else None,
                verdict=said,
                summary=summary,
            )
        )
    return entries


# How git, forges and `qms demo` name the merged branch on a merge's first line.
_MERGE_MESSAGES = (
    re.compile(r"Merge (?:remote-tracking )?branch '([^']*)'"),
    re.compile(r"Merge pull request #\d+ from [^/\s]+/(\S+)"),
    re.compile(r"Merge ([^\s:']+)(?::.*)?$"),
)
_BRANCH_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/+-]{0,99}")


def merged_from(commit: Commit) -> str:
    """What a merge says it is: "merged from branch X" when its message names the branch,
    else "merged" and the merged commits. The message is the merger's own words: the name is
    shown only when it reads as a plain branch name, and nothing is judged by it."""
    for pattern in _MERGE_MESSAGES:
        found = pattern.match(commit.summary)
        if found is not None:
            if _BRANCH_NAME.fullmatch(found[1]):
                return f"merged from branch {found[1]}"
            break
    return "merged " + ", ".join(parent[:12] for parent in commit.parents[1:])


def _verdict_text(verdict: Verdict) -> str:
    if verdict.problems:
        return "invalid: " + "; ".join(verdict.problems)
    if verdict.superseded:
        return f"valid for earlier content ({verdict.superseded})"
    return "valid"


def _short(value: Any) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= 40 else text[:39] + "…"


def _mode_summary(change: git.Change, summary: str) -> str:
    """A change's summary, saying first when the path holds no regular file, or again one."""
    if change.new_mode not in (None, git.REGULAR_FILE):
        kind = git.entry_kind(change.new_mode)
        return f"the path holds {kind} (mode {change.new_mode}), not a regular file"
    if change.old_mode not in (None, git.REGULAR_FILE):
        return f"a regular file again (it held {git.entry_kind(change.old_mode)}); {summary}"
    return summary


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
