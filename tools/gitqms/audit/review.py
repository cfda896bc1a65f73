"""The periodic audit-trail review (EU GMP Annex 11 §9): every change of a period, by person and
by record, with the anomalies an inspector must see, read from one verified walk of the history.

A commit belongs to the period by its committer date in UTC (the date the signer's git wrote
into the commit: for a signature, the signature's date), both ends inclusive. Entries show the
date the audit trail shows (`qms log`): the committer date for signatures, the author date for
plain changes. Every anomaly carries a stable code (ANOMALY_KINDS), the commit, the record, the
person and a sentence that says what is wrong.

The report is plain data; `canonical_json` is the exact form whose sha256 a signed review
(`review_record.py`) records, so anyone can recompute it from the same revision and period.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from .. import git
from ..errors import QmsError
from ..history.read import Step
from ..history.receipts import DatedReceipt, dated_receipts
from ..records.kinds import kind_of_id
from ..signatures.claims import CONFIG_RECORD, record_data
from ..signatures.registry import key_window_problem
from ..signatures.verify import Verdict, Walk, walk_history
from .record_log import LogEntry, change_of, trail_entries

# code -> what it means, for people; codes never change once published (reviews record them).
ANOMALY_KINDS: dict[str, str] = {
    "change.no-reason": "a change to a record without a 'Reason:' trailer",
    "signature.unsigned": "signature trailers on a commit that carries no signature",
    "signature.invalid": "a signature that does not count",
    "signature.role": "a signature by someone without a role the policy requires",
    "key.revoked": "a signature made with a key on or after its revocation",
    "key.validity": "a signature made with a key outside its validity window",
    "date.back-dated": "a commit dated long before the server received it",
    "date.future-dated": "a commit dated after the server received it",
    "record.closed-edited": "an edit of a closed or cancelled record that was not a signed reopening",
    "branch.direct-commit": "a change on the protected branch that did not arrive through a merge",
}
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


@dataclass(frozen=True)
class Anomaly:
    code: str
    commit: str
    record: str
    person: str  # printed name and email
    when: datetime  # the commit's committer date, UTC
    message: str


@dataclass(frozen=True)
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
    if since is not None and until is not None and since > until:
        raise QmsError(
            f"the period starts on {since}, after its end {until}",
            hint="give --since on or before --until",
        )
    tip = git.rev_parse(root, f"{revision}^{{commit}}")
    if tip is None:
        raise QmsError(f"{revision} is not a commit of {root}", hint="commit the records first")
    walk = walk_history(root, [tip])
    registry = walk.registry_at(tip)
    if registry is None:
        raise QmsError(
            "no trusted qms.yaml in this history, so no signature can be judged",
            hint="run `qms verify` to see why",
        )

    def inside(when: datetime) -> bool:
        day = when.date()
        return (since is None or day >= since) and (until is None or day <= until)

    steps = [step for step in walk.history.steps if inside(step.commit.committer.utc)]
    period = {step.commit.id for step in steps}
    verdicts: dict[str, list[Verdict]] = {}
    for verdict in walk.report.verdicts:
        if verdict.commit in period:
            verdicts.setdefault(verdict.commit, []).append(verdict)
    receipts = dated_receipts(root, period)
    touched: list[tuple[Step, str]] = []
    for step in steps:
        records = set(step.records) | {v.record for v in verdicts.get(step.commit.id, ())}
        if step.config is not None:
            records.add(CONFIG_RECORD)
        touched.extend((step, record) for record in sorted(records))
    changes = [
        Change(record, entry, (receipts or {}).get(step.commit.id))
        for step, record, entries in trail_entries(walk, touched)
        for entry in entries
    ]
    branch = branch or _branch(root, revision, tip)
    protected = branch is not None and any(
        fnmatchcase(branch, pattern) for pattern in registry.config.protected_branches
    )
    finder = _Anomalies(walk, tip, verdicts)
    for step in steps:
        finder.reasons(step)
        finder.signatures(step)
    finder.closed_edits(steps)
    if receipts is not None:
        finder.receipt_dates(steps, receipts)
    notes = list(walk.report.notes)
    root_commit = walk.report.trust_root
    if root_commit in period:
        notes.append(
            f"the period includes the trust root {root_commit[:12] if root_commit else ''}, the "
            "set-up commit that introduced qms.yaml; it is reported as such, not as an anomaly"
        )
    if protected:
        finder.direct_commits(period, root_commit)
    elif branch is None:
        notes.append(
            f"{revision} is not a branch, so commits that bypassed a merge are not looked for "
            "(name the branch with --branch)"
        )
    else:
        notes.append(
            f"the branch {branch} is not protected (server.protected_branches in qms.yaml), so "
            "commits that bypassed a merge are not looked for"
        )
    if receipts is None:
        notes.append(
            "the server's receipts (refs/notes/qms-receipts) were not fetched, so commit dates "
            "were not compared with when the server received them"
        )
    anomalies = sorted(finder.found, key=lambda a: (a.when, a.commit, a.record, a.code))
    return AuditReview(
        since,
        until,
        tip,
        branch,
        protected,
        root_commit,
        receipts is not None,
        len(steps),
        changes,
        anomalies,
        notes,
        registry.config.organisation,
    )


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


class _Anomalies:
    def __init__(self, walk: Walk, tip: str, verdicts: Mapping[str, list[Verdict]]) -> None:
        self.walk = walk
        self.verdicts = verdicts
        self.found: list[Anomaly] = []
        self.latest = walk.registry_at(tip)

    def add(self, code: str, step: Step, record: str, person: str, message: str) -> None:
        commit = step.commit
        self.found.append(Anomaly(code, commit.id, record, person, commit.committer.utc, message))

    def author(self, step: Step) -> str:
        """The printed name (from the registry, where registered) and email of the author."""
        who = step.commit.author
        person = self.latest.config.person_by_email(who.email) if self.latest else None
        return f"{person.name if person else who.name} <{who.email}>"

    def own_changes(self, step: Step) -> list[str]:
        """Records this commit changed itself (a merge: not the ones a branch brought in)."""
        merge = len(step.commit.parents) > 1
        return [r for r in sorted(step.records) if not (merge and self.walk.brought_in(step, r))]

    def reasons(self, step: Step) -> None:
        if step.commit.gives_reason:
            return
        for record in self.own_changes(step):
            self.add(
                "change.no-reason",
                step,
                record,
                self.author(step),
                f"{record} was changed in commit {step.commit.id[:12]} by {self.author(step)} "
                "without a 'Reason:' trailer, so the audit trail does not say why it changed.",
            )

    def signatures(self, step: Step) -> None:
        for verdict in self.verdicts.get(step.commit.id, ()):
            if verdict.ok:
                continue
            code = self._code(step, verdict)
            self.add(
                code,
                step,
                verdict.record,
                f"{verdict.signer} <{verdict.email}>",
                f"The signature '{verdict.meaning}' on {verdict.record} by {verdict.signer} "
                f"<{verdict.email}> in commit {verdict.commit[:12]}, dated "
                f"{verdict.when:%Y-%m-%d %H:%M}Z, does not count: "
                + "; ".join(verdict.problems)
                + ".",
            )

    def _code(self, step: Step, verdict: Verdict) -> str:
        """The most telling code for a signature that does not count."""
        claims = any(key.lower().startswith("qms-") for key, _ in step.commit.trailers)
        if step.commit.signature is None and claims:
            return "signature.unsigned"
        parent = step.commit.parents[0] if step.commit.parents else step.commit.id
        before = self.walk.registry_at(parent)
        if verdict.fingerprint is not None:
            then = before.key_by_fingerprint(verdict.fingerprint) if before else None
            now = self.latest.key_by_fingerprint(verdict.fingerprint) if self.latest else None
            day = verdict.when.date()
            known = now or then
            revoked = known.key.revoked_on if known else None
            if (then and then.key.revoked_on) or (revoked and day >= date.fromisoformat(revoked)):
                return "key.revoked"
            if then and key_window_problem(then.key, day):
                return "key.validity"
        if verdict.person is not None and before is not None:
            kind = kind_of_id(verdict.record)
            name = "qms" if verdict.record == CONFIG_RECORD else (kind.name if kind else "")
            rule = before.config.signatures.get(name, {}).get(verdict.meaning)
            person = before.config.person(verdict.person)
            if rule is not None and person is not None and not person.roles & rule.roles:
                return "signature.role"
        return "signature.invalid"

    def closed_edits(self, steps: Sequence[Step]) -> None:
        """Changes to a closed or cancelled CAPA or deviation, other than a signed move out,
        and any change to a signed audit-trail review (closed when written)."""
        candidates = [
            (step, record)
            for step in steps
            for record in self.own_changes(step)
            if record.startswith(("CAPA-", "DEV-", "ATR-"))
            and (change := step.records[record]).old_blob
            and change.new_blob
        ]
        for step, record in candidates:
            if record.startswith("ATR-"):
                self.add(
                    "record.closed-edited",
                    step,
                    record,
                    self.author(step),
                    f"{record} is an audit-trail review, closed when it was signed; commit "
                    f"{step.commit.id[:12]} by {self.author(step)} edited it. A review is never "
                    "edited: a new review is recorded instead.",
                )
        candidates = [(step, record) for step, record in candidates if record[:4] != "ATR-"]
        blobs = self.walk.place.blobs(
            blob
            for step, record in candidates
            for blob in (step.records[record].old_blob, step.records[record].new_blob)
            if blob
        )
        for step, record in candidates:
            change = step.records[record]
            old = record_data(blobs.get(change.old_blob or ""), record)
            new = record_data(blobs.get(change.new_blob or ""), record)
            kind = kind_of_id(record)
            registry = self.walk.registry_at(step.commit.parents[0]) or self.latest
            if not isinstance(old, dict) or kind is None or registry is None:
                continue
            machine = registry.config.lifecycles.machines.get(kind.name)
            source = str(old.get("state"))
            if machine is None or source not in machine.closed:
                continue
            target = str(new.get("state")) if isinstance(new, dict) else "?"
            move = machine.transition(source, target) if target != source else None
            if move is not None and any(
                v.ok and v.record == record and v.meaning == move.meaning and v.version == target
                for v in self.verdicts.get(step.commit.id, ())
            ):
                continue  # a signed reopening (or another allowed, signed move)
            what = (
                "edited it"
                if target == source
                else f"moved it to '{target}' without a valid signed transition"
            )
            self.add(
                "record.closed-edited",
                step,
                record,
                self.author(step),
                f"{record} was {source}; commit {step.commit.id[:12]} by {self.author(step)} "
                f"{what}. A {source} record changes only by a signed reopening.",
            )

    def receipt_dates(self, steps: Sequence[Step], receipts: Mapping[str, DatedReceipt]) -> None:
        for step in steps:
            dated = receipts.get(step.commit.id)
            if dated is None or not dated.flag:
                continue
            code = "date.back-dated" if dated.flag.startswith("back") else "date.future-dated"
            signers = {f"{v.signer} <{v.email}>" for v in self.verdicts.get(step.commit.id, ())}
            person = ", ".join(sorted(signers)) or self.author(step)
            for record in _records_of(step, self.verdicts.get(step.commit.id, ())):
                self.add(
                    code,
                    step,
                    record,
                    person,
                    f"Commit {step.commit.id[:12]} by {person} is dated "
                    f"{dated.committed:%Y-%m-%d %H:%M}Z, but the server received it at "
                    f"{dated.receipt.received:%Y-%m-%d %H:%M}Z ({dated.flag}).",
                )

    def direct_commits(self, period: set[str], root_commit: str | None) -> None:
        """Commits of the first-parent chain of the tip that are not merges and change records:
        they reached the protected branch without a merge (a reviewed pull request)."""
        steps = {step.commit.id: step for step in self.walk.steps_for(period)}
        parents = dict(self.walk.graph())
        commit: str | None = self.walk.tip
        while commit is not None:
            step = steps.get(commit)
            first = parents.get(commit, ())
            if step is not None and len(first) == 1 and commit != root_commit and step.records:
                for record in sorted(step.records):
                    self.add(
                        "branch.direct-commit",
                        step,
                        record,
                        self.author(step),
                        f"Commit {commit[:12]} by {self.author(step)} changed {record} directly "
                        "on the protected branch: it is not a merge, so it did not arrive "
                        "through a reviewed merge request.",
                    )
            commit = first[0] if first else None


def _records_of(step: Step, verdicts: Iterable[Verdict]) -> list[str]:
    records = set(step.records) | {v.record for v in verdicts}
    if change_of(step, CONFIG_RECORD) is not None:
        records.add(CONFIG_RECORD)
    return sorted(records) or ["-"]


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
