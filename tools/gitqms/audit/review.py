"""The periodic audit-trail review (EU GMP Annex 11 §9): every change of a period, by person and
by record, with the anomalies an inspector must see, read from one verified walk of the history.

A commit belongs to the period by its committer date in UTC (the date the signer's git wrote
into the commit: for a signature, the signature's date), both ends inclusive. Entries show the
date the audit trail shows (`qms log`): the committer date for signatures, the author date for
plain changes. The anomalies are found in anomalies.py.

The report is plain data; `canonical_json` is the exact form whose sha256 a signed review
(actions/review.py) records, so anyone can recompute it from the same revision and period.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from .. import git
from ..errors import QmsError
from ..history.read import Step
from ..history.receipts import DatedReceipt, dated_receipts
from ..records.config import QmsConfig
from ..signatures.claims import CONFIG_RECORD
from ..signatures.verify import Verdict, Walk, trusted_registry, walk_history
from .anomalies import Anomaly, AnomalyFinder
from .record_log import LogEntry, trail_entries

DATE_BASIS = "committer date, UTC"


@dataclass(frozen=True)
class Change:
    """One entry of the period's audit trail: a change to a record, or a signature on it."""

    record: str
    entry: LogEntry
    receipt: DatedReceipt | None = None

    @property
    def is_signature(self) -> bool:
        return self.entry.verdict != "not a signature"

    @property
    def person(self) -> str:
        return f"{self.entry.name} <{self.entry.email}>"


@dataclass(frozen=True, kw_only=True)
class AuditReview:
    since: date | None
    until: date | None
    revision: str  # the tip commit reviewed
    branch: str | None  # the branch reviewed, when the revision is one
    protected: bool  # whether that branch is protected (server.protected_branches)
    trust_root: str | None
    receipts: bool  # whether the server's receipts were fetched and compared
    commits: int  # commits in the period
    changes: list[Change]
    anomalies: list[Anomaly]
    notes: list[str] = field(default_factory=list)
    organisation: str = ""  # for the page header; not part of the report's data

    @property
    def signatures(self) -> list[Change]:
        return [change for change in self.changes if change.is_signature]

    @property
    def invalid_signatures(self) -> int:
        return sum(1 for c in self.signatures if c.entry.verdict.startswith("invalid"))

    def counts(self) -> dict[str, int]:
        return {
            "commits": self.commits,
            "changes": len(self.changes) - len(self.signatures),
            "signatures": len(self.signatures),
            "invalid_signatures": self.invalid_signatures,
            "anomalies": len(self.anomalies),
        }

    def by_person(self) -> dict[str, int]:
        return dict(sorted(Counter(change.person for change in self.changes).items()))

    def by_record(self) -> dict[str, int]:
        return dict(sorted(Counter(change.record for change in self.changes).items()))

    def by_anomaly(self) -> dict[str, int]:
        return dict(sorted(Counter(anomaly.code for anomaly in self.anomalies).items()))


def audit_review(
    root: Path,
    since: date | None,
    until: date | None,
    revision: str = "HEAD",
    branch: str | None = None,
) -> AuditReview:
    """The review of `revision`'s history over the period [since, until] (either end open).

    `branch` names the branch that history is (for the direct-commit search); by default the
    branch `revision` names, else the checked-out one. Naming it makes the report, and so its
    hash, the same from any checkout (a detached HEAD in CI, a restored archive)."""
    tip, walk, config = _reviewed_history(root, since, until, revision)
    steps = [
        step for step in walk.history.steps if _inside(step.commit.committer.utc, since, until)
    ]
    period = {step.commit.id for step in steps}
    verdicts: dict[str, list[Verdict]] = {}
    for verdict in walk.report.verdicts:
        if verdict.commit in period:
            verdicts.setdefault(verdict.commit, []).append(verdict)
    receipts = dated_receipts(root, period)
    changes = _changes(walk, steps, verdicts, receipts)
    branch = branch or _branch(root, revision, tip)
    protected = branch is not None and any(
        fnmatchcase(branch, pattern) for pattern in config.protected_branches
    )
    finder = AnomalyFinder(walk, tip, verdicts)
    for step in steps:
        finder.reasons(step)
        finder.signatures(step)
    finder.closed_edits(steps)
    if receipts is not None:
        finder.receipt_dates(steps, receipts)
    if protected:
        finder.direct_commits(period, walk.report.trust_root)
    return AuditReview(
        since=since,
        until=until,
        revision=tip,
        branch=branch,
        protected=protected,
        trust_root=walk.report.trust_root,
        receipts=receipts is not None,
        commits=len(steps),
        changes=changes,
        anomalies=sorted(finder.found, key=lambda a: (a.when, a.commit, a.record, a.code)),
        notes=_notes(walk, period, revision, branch, protected=protected, receipts=receipts),
        organisation=config.organisation,
    )


def _reviewed_history(
    root: Path, since: date | None, until: date | None, revision: str
) -> tuple[str, Walk, QmsConfig]:
    """The tip commit, the verified walk of its history and the trusted qms.yaml at the tip."""
    if since is not None and until is not None and since > until:
        raise QmsError(
            f"the period starts on {since}, after its end {until}",
            hint="give --since on or before --until",
        )
    tip = git.rev_parse(root, f"{revision}^{{commit}}")
    if tip is None:
        raise QmsError(f"{revision} is not a commit of {root}", hint="commit the records first")
    walk = walk_history(root, [tip])
    return tip, walk, trusted_registry(walk, tip, "no signature can be judged").config


def _inside(when: datetime, since: date | None, until: date | None) -> bool:
    day = when.date()
    return (since is None or day >= since) and (until is None or day <= until)


def _changes(
    walk: Walk,
    steps: list[Step],
    verdicts: Mapping[str, list[Verdict]],
    receipts: Mapping[str, DatedReceipt] | None,
) -> list[Change]:
    """The period's audit trail: each record a commit changed or signed, qms.yaml included."""
    touched: list[tuple[Step, str]] = []
    for step in steps:
        records = set(step.records) | {v.record for v in verdicts.get(step.commit.id, ())}
        if step.config is not None:
            records.add(CONFIG_RECORD)
        touched.extend((step, record) for record in sorted(records))
    return [
        Change(record, entry, (receipts or {}).get(step.commit.id))
        for step, record, entries in trail_entries(walk, touched)
        for entry in entries
    ]


def _notes(
    walk: Walk,
    period: set[str],
    revision: str,
    branch: str | None,
    *,
    protected: bool,
    receipts: Mapping[str, DatedReceipt] | None,
) -> list[str]:
    """What the reader must know of what was, and was not, looked at."""
    notes = list(walk.report.notes)
    root_commit = walk.report.trust_root
    if root_commit in period:
        notes.append(
            f"the period includes the trust root {root_commit[:12] if root_commit else ''}, the "
            "set-up commit that introduced qms.yaml; it is reported as such, not as an anomaly"
        )
    if branch is None:
        notes.append(
            f"{revision} is not a branch, so commits that bypassed a merge are not looked for "
            "(name the branch with --branch)"
        )
    elif not protected:
        notes.append(
            f"the branch {branch} is not protected (server.protected_branches in qms.yaml), so "
            "commits that bypassed a merge are not looked for"
        )
    if receipts is None:
        notes.append(
            "the server's receipts (refs/notes/qms-receipts) were not fetched, so commit dates "
            "were not compared with when the server received them"
        )
    return notes


def _branch(root: Path, revision: str, tip: str) -> str | None:
    """The branch reviewed: the one `revision` names (HEAD: its branch), else HEAD's branch
    when `revision` is a commit of it (an earlier tip, to repeat a review)."""
    name = revision.removeprefix("refs/heads/")
    if revision != "HEAD" and git.rev_parse(root, f"refs/heads/{name}^{{commit}}"):
        return name
    ref = git.symbolic_head(root)
    if not ref or not ref.startswith("refs/heads/"):
        return None
    branch_tip = git.rev_parse(root, f"{ref}^{{commit}}")
    if branch_tip is None or not git.is_ancestor(root, tip, branch_tip):
        return None
    return ref.removeprefix("refs/heads/")


# -- the report as data -------------------------------------------------------------------------


def change_json(change: Change) -> dict[str, Any]:
    entry = change.entry
    value: dict[str, Any] = {
        "commit": entry.commit,
        "date": entry.when.isoformat(),
        "record": change.record,
        "name": entry.name,
        "email": entry.email,
        "action": entry.action,
        "reason": entry.reason,
        "verdict": entry.verdict,
        "summary": entry.summary,
    }
    dated = change.receipt
    value["received"] = dated.receipt.received.isoformat() if dated else None
    value["date_flag"] = dated.flag if dated else None
    return value


def anomaly_json(anomaly: Anomaly) -> dict[str, Any]:
    return {
        "code": anomaly.code,
        "commit": anomaly.commit,
        "record": anomaly.record,
        "person": anomaly.person,
        "date": anomaly.when.isoformat(),
        "message": anomaly.message,
    }


def report_json(review: AuditReview) -> dict[str, Any]:
    """The whole report as data, without the time it was generated: the same revision and
    period always give the same report (as long as the receipts fetched are the same)."""
    return {
        "report": "qms audit-trail",
        "format": 1,
        "period": {
            "since": review.since.isoformat() if review.since else None,
            "until": review.until.isoformat() if review.until else None,
            "dates": DATE_BASIS,
        },
        "revision": review.revision,
        "branch": review.branch,
        "protected": review.protected,
        "trust_root": review.trust_root,
        "receipts": review.receipts,
        "summary": review.counts(),
        "by_person": review.by_person(),
        "by_record": review.by_record(),
        "by_anomaly": review.by_anomaly(),
        "anomalies": [anomaly_json(a) for a in review.anomalies],
        "changes": [change_json(c) for c in review.changes],
        "notes": review.notes,
    }


def canonical_json(review: AuditReview) -> bytes:
    """`report_json` as canonical bytes: sorted keys, no spaces, ASCII."""
    text = json.dumps(report_json(review), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return text.encode("ascii")


def report_sha256(review: AuditReview) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(review)).hexdigest()
